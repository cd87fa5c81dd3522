"""View state transitions, as pure functions (tested without a browser).

The atlas page has one state callback; it gathers what changed (the URL, a control, a click on a
chart, the search box, a button) and asks :func:`next_view` for the new view. The view is written
to the URL hash, so every view has an address, the back button works and a copied link restores it.
"""
from __future__ import annotations

from dataclasses import replace

from atlas.filters import View, parse_query


def click_code(click_data) -> int | None:
    """The area code behind a Plotly click (customdata or location), or None."""
    try:
        point = click_data["points"][0]
    except (TypeError, KeyError, IndexError):
        return None
    for key in ("customdata", "location"):
        value = point.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        try:
            return int(value)
        except (TypeError, ValueError):
            continue
    return None


def next_view(view: View, trigger: str, payload=None, region_codes: set[int] = frozenset(),
              municipality_codes: set[int] = frozenset()) -> View:
    """The view after ``trigger`` ("map", "rank", "funnel", "search", "clear", "back", or a control)."""
    if trigger in ("map", "rank", "funnel", "trend"):
        code = click_code(payload)
        if code is None:
            return view
        if trigger == "map" and view.level in ("region", "region2027") and code in region_codes:
            # drill down: a region's municipalities
            return replace(view, level="municipality", within=code, area=None)
        if view.area == code:
            return replace(view, area=None)
        return replace(view, area=code)
    if trigger == "search":
        try:
            code = int(payload)
        except (TypeError, ValueError):
            return view
        if code not in municipality_codes:
            return view
        return replace(view, level="municipality", area=code)
    if trigger == "clear":
        return replace(view, area=None)
    if trigger == "back":
        return replace(view, within=None)
    return view


def consistent(view: View, level_codes: dict[str, set[int]], regions_of: dict[int, set[int]]) -> View:
    """Drop parts of a view that no longer fit together.

    A selected area must exist at the view's level; a drill-down (``within``) only applies to
    municipalities and is left when the selected municipality lies outside that region.
    ``regions_of`` maps a municipality to the region codes (2007 and 2027) it belongs to.
    """
    if view.area is not None and view.area not in level_codes.get(view.level, set()):
        view = replace(view, area=None)
    if view.level != "municipality" and view.within is not None:
        view = replace(view, within=None)
    if view.within is not None and view.area is not None and view.within not in regions_of.get(view.area, set()):
        view = replace(view, within=None)
    return view


def view_from_hash(hash_: str, lang: str, years: list[int], measures, area_codes, region_codes,
                   default_year: int | None = None) -> tuple[View, list[str]]:
    view, ignored = parse_query((hash_ or "").lstrip("#"), years, tuple(measures), set(area_codes), set(region_codes),
                                default_year)
    return replace(view, lang=lang), ignored


def hash_of(view: View, default_year: int | None = None) -> str:
    """The URL hash for a view (language lives in the query string, not here); the years are left
    out when they are the ``default_year`` a view without years shows."""
    q = replace(view, lang="en").to_query(default_year)
    return f"#{q}" if q else ""
