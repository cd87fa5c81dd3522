"""View state transitions (tested without a browser).

The atlas page has one state callback; it gathers what changed (the URL, a control, a click on a
chart, the search box, a button) and calls :func:`sync_atlas`, which reads the served database's
areas and years (and, on the release, moves the view to the nearest published one) and asks the
pure function :func:`next_view` for the new view. The view is written
to the URL hash, so every view has an address, the back button works and a copied link restores it.
"""
from __future__ import annotations

from dataclasses import fields, replace

from atlas.filters import View, parse_breaks, parse_query

# The charts below the map each depend on part of the view only. Each reads its own copy of the
# view's address (a store of the page), and the state callback leaves that copy alone when the part
# the chart depends on did not change: the browser then does not ask for a chart that would come
# back the same (a change of measure leaves the imaging mix, a change of level without a selected
# area leaves trend, breakdown and mix).
# how the map is drawn, not what (``recent``: the markers' window, on the map and ranking only)
PRESENTATION = ("map", "sep", "colours", "breaks", "tables", "within", "funnel", "recent")
PANEL_IGNORES = {"view-trend": (), "view-breakdown": (), "view-mix": ("measure", "rates", "standard")}


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
        if code in region_codes:
            # a region chosen in the search box (by keyboard): its municipalities, as a click on the map
            return replace(view, level="municipality", within=code, area=None)
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


def panel_key(store: str, view: View, release: bool = False) -> tuple:
    """The parts of ``view`` that the chart reading ``store`` depends on. The level matters only with
    a selected area (without one these charts show Denmark); ``release``: the source answers the
    breakdown without the view's filters and rate mode (:meth:`atlas.data.Source.breakdown_view`)."""
    ignore = set(PRESENTATION) | set(PANEL_IGNORES[store])
    if view.area is None:
        ignore.add("level")
    if store == "view-breakdown" and release:
        ignore |= {"dims", "rates", "standard"}
    return tuple((f.name, getattr(view, f.name)) for f in fields(view) if f.name not in ignore)


def panel_addresses(view: View, before: View | None, address: str, release: bool = False) -> dict:
    """Each chart store's new content: ``address`` when its part of the view changed (or on the first
    view), else ``no_update``."""
    from dash import no_update

    return {store: address if before is None or panel_key(store, view, release) != panel_key(store, before, release)
            else no_update for store in PANEL_IGNORES}


def hash_of(view: View, default_year: int | None = None) -> str:
    """The URL hash for a view (language lives in the query string, not here); the years are left
    out when they are the ``default_year`` a view without years shows."""
    q = replace(view, lang="en").to_query(default_year)
    return f"#{q}" if q else ""


def period_value(y0: int, y1: int) -> str:
    """A period as the year control's value: "2021" or "2022-2024"."""
    return str(y0) if y0 == y1 else f"{y0}-{y1}"


def filter_pairs(items) -> list[tuple]:
    """(dimension, value) of each filter dropdown (pattern-matching ids), in the page's order, from the
    callback's ``ctx.args_grouping``; anything that is not such an item (a tampered payload) is left out."""
    if not isinstance(items, list):
        return []
    return [(i["id"].get("key"), i.get("value")) for i in items if isinstance(i, dict) and isinstance(i.get("id"), dict)]


def _pick(value, allowed: tuple, fallback):
    """``value`` when the page offers it, else ``fallback`` (never an unchecked value into the address)."""
    return value if isinstance(value, str) and value in allowed else fallback


def _pick_number(value, allowed: tuple, fallback):
    """A whole-number control's value when the page offers it (a number, or its text), else ``fallback``."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return fallback
    return next((a for a in allowed if str(a) == str(value)), fallback)


def _years(value, offered: list[int]) -> list[int] | None:
    """The year control's two years, sorted, when both are years the page offers; else None. The
    control is a range slider ([y0, y1]) or a list of periods ("2021", "2022-2024")."""
    if isinstance(value, str) and 4 <= len(value) <= 9:
        value = value.split("-")
    if not isinstance(value, list) or not 1 <= len(value) <= 2:
        return None
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            return None
        try:
            y = int(v)
        except (TypeError, ValueError, OverflowError):
            return None
        if y not in offered:
            return None
        out.append(y)
    return sorted(out)


def _from_controls(prev: View, controls: dict, dims: list[tuple], offered_years: list[int]) -> View:
    """``prev`` with the controls' values, each checked against what the page offers before it is used."""
    from atlas.filters import (
        COLOUR_MODES,
        DIMENSIONS,
        FUNNEL_TARGETS,
        LEVELS,
        MAP_KINDS,
        RATE_MODES,
        RECENT_YEARS,
        STANDARDS,
        dim_value,
    )
    from atlas.measures import MEASURES

    y = _years(controls.get("years"), offered_years) or [prev.y0, prev.y1]
    view = replace(prev, measure=_pick(controls.get("measure"), tuple(MEASURES), prev.measure),
                   level=_pick(controls.get("level"), LEVELS, prev.level), y0=y[0], y1=y[-1],
                   rates=_pick(controls.get("rates"), RATE_MODES, prev.rates),
                   standard=_pick(controls.get("standard"), STANDARDS, prev.standard),
                   map=_pick(controls.get("mapkind"), MAP_KINDS, prev.map),
                   sep=_pick(controls.get("sep"), (",", ";"), prev.sep),
                   colours=controls.get("colours") if controls.get("colours") in COLOUR_MODES else prev.colours,
                   tables=1 if controls.get("tables") is True else 0,
                   funnel=_pick(controls.get("funnel"), FUNNEL_TARGETS, prev.funnel),
                   recent=_pick_number(controls.get("recent"), RECENT_YEARS, prev.recent))
    typed = parse_breaks(controls.get("breaks") if isinstance(controls.get("breaks"), str) else "")
    if typed is not None:
        view = replace(view, breaks=typed)
    for key, value in dims:
        if key in DIMENSIONS:
            view = view.with_dim(key, dim_value(key, value))
    return view


def sync_atlas(address, controls: dict, dims: list[tuple], trigger, clicks: dict, current, lang: str) -> dict:
    """The atlas page's state after an event: the new view, its hash and what every control shows.

    ``address`` is the URL hash, ``controls`` the controls' values by name, ``dims`` the filters'
    (dimension, value) pairs in the page's order (:func:`filter_pairs`), ``trigger`` the id of what
    changed, ``clicks`` the payloads of the charts' clicks and the search box by id, ``current`` the
    stored view's hash. The address (on load or when
    it changes) is read against the page's whitelists; any other event changes the stored view. On a
    release the view snaps to the nearest published one. ``notice`` is None (no notice), a notice, or
    ``no_update`` (leave it). The chart stores (:data:`PANEL_IGNORES`) get the new hash only when
    their part of the view changed."""
    from dash import no_update

    from atlas import coverage, data, db, notices
    from atlas.measures import MEASURES

    address = address if isinstance(address, str) else ""
    current = current if isinstance(current, str) else None
    codes = db.level_codes()
    all_years = data.years()
    default = coverage.default_year(all_years)
    regions = codes["region"] | codes["region2027"]
    notice = no_update
    areas = codes["municipality"] | regions
    before = view_from_hash(current, lang, all_years, MEASURES, areas, regions, default)[0] if current is not None else None
    if before is None or trigger == "atlas-url" or trigger is None:
        view, ignored = view_from_hash(address, lang, all_years, MEASURES, areas, regions, default)
        notice = notices.bad_address(ignored, lang)
    else:
        view = _from_controls(before, controls, dims, all_years)
        name = trigger if isinstance(trigger, str) else "control"      # pattern-matching ids are dicts
        action = {"clear-area": "clear", "back-all": "back", "area-search": "search"}.get(name, name)
        view = next_view(view, action, clicks.get(name), regions, codes["municipality"])
        view = consistent(view, codes, db.regions_of())
    view, changed = data.source().nearest(view)
    if changed:
        notice = notices.not_published(changed, lang)
    dvals = dict(view.dims)
    h = hash_of(view, default)
    breakdown_fixed = data.source().breakdown_view(view) != view
    years_value = [view.y0, view.y1] if data.source().any_range else period_value(view.y0, view.y1)
    return {"view": h, **panel_addresses(view, before, h, breakdown_fixed), "hash": h, "measure": view.measure, "level": view.level,
            "years": years_value,
            "rates": view.rates, "standard": view.standard, "mapkind": view.map, "sep": view.sep,
            "dims": [str(dvals[k]) if k in dvals else "all" for k, _ in dims],
            "area-search": view.area if view.level == "municipality" else None, "notice": notice,
            "colours": view.colours, "breaks": view.breaks, "tables": bool(view.tables), "funnel": view.funnel,
            "recent": view.recent}


# ---------------------------------------------------------------- pages with a flat state (issue 27)

def page_state(hash_, allowed: dict, defaults: dict) -> tuple[dict, list[str]]:
    """A page's state from its URL hash: each key in ``allowed`` is kept when its value is one of
    the allowed values (a tuple of values, compared as text) or passes the check (a function
    returning the value or None); anything else is dropped and named. Missing keys take
    ``defaults``. The hash is read up to 500 characters."""
    from urllib.parse import parse_qs

    try:
        raw = {k: v[-1][:40] for k, v in parse_qs(str(hash_ or "").lstrip("#")[:500], max_num_fields=30).items() if v}
    except ValueError:
        return dict(defaults), ["(the whole address)"]
    out, ignored = dict(defaults), []
    for key, value in raw.items():
        rule = allowed.get(key)
        if rule is None:
            ignored.append(key)
            continue
        if callable(rule):
            checked = rule(value)
        else:
            checked = next((a for a in rule if str(a) == value), None)
        if checked is None:
            ignored.append(key)
        else:
            out[key] = checked
    return out, ignored


def page_hash(state: dict, defaults: dict) -> str:
    """The URL hash of a page's state: the values that differ from ``defaults``, in the order of
    ``defaults`` ("" when every value is the default). ``page_state`` reads it back."""
    from urllib.parse import urlencode

    keep = {k: state[k] for k in defaults if state.get(k) is not None and state.get(k) != defaults[k]}
    return "#" + urlencode(keep) if keep else ""
