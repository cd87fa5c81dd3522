"""The pathways page's state: the URL hash (the atlas view and the follow-up window) and the area's name."""
from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qs, urlencode

from atlas import coverage, data, db
from atlas.filters import DIMENSIONS, View, dim_value
from atlas.i18n import t
from atlas.measures import MEASURES
from atlas.pathways.constants import WINDOWS
from atlas.state import consistent, view_from_hash


def parse_hash(hash_, lang: str = "en") -> tuple[View, int, list[str]]:
    """The page's state from the URL hash: the atlas :class:`View` (level, area, years, filters,
    separator) and the follow-up window (``win``: 90 or 365 days); unknown or bad keys are ignored."""
    if not isinstance(hash_, str):
        hash_ = ""
    hash_ = hash_[:4000]
    window, ignored = 365, []
    try:
        params = parse_qs(hash_.lstrip("#"), keep_blank_values=False, max_num_fields=50)
    except ValueError:
        params = {}
    rest = []
    for key, values in params.items():
        if key == "win":
            raw = values[-1]
            if raw in ("90", "365"):
                window = int(raw)
            else:
                ignored.append("win")
        elif key in ("measure", "rates", "standard", "map", "within", "colours", "breaks"):
            ignored.append(key)                # atlas-only settings have no meaning here
        else:
            rest.append((key, values[-1]))
    codes = db.level_codes()
    every = codes["municipality"] | codes["region"] | codes["region2027"]
    view, bad = view_from_hash(urlencode(rest), lang, data.years(), MEASURES, every, codes["region"] | codes["region2027"],
                               coverage.default_year())
    view = consistent(view, codes, db.regions_of())
    return view, window, ignored + bad


def hash_of(view: View, window: int) -> str:
    base = replace(view, lang="en", measure=View.measure, rates=View.rates, standard=View.standard, map=View.map,
                   within=None)
    q = base.to_query(coverage.default_year())
    if window != 365:
        q = (q + "&" if q else "") + f"win={window}"
    return f"#{q}" if q else ""


def area_name(view: View, lang: str | None = None) -> str:
    lang = lang or view.lang
    if view.area is None:
        return t("denmark_total", lang)
    a = db.areas()
    hit = a[(a.level == view.level) & (a.code == view.area)]
    return str(hit.name.iloc[0]) if len(hit) else str(view.area)


def area_options(level: str, lang: str) -> list[dict]:
    """The area dropdown's options at ``level``: Denmark first, then the areas by name."""
    a = db.areas()
    part = a[a.level == level].sort_values("name")
    return [{"label": t("pw_denmark_default", lang), "value": "dk"}] + [
        {"label": str(n), "value": str(int(c))} for c, n in zip(part.code, part.name)]


def _from_controls(prev: View, controls: dict, dims: list[tuple], level_changed: bool) -> View:
    """``prev`` with the controls' values (the area is dropped when the level changed)."""
    years = controls.get("years")
    if isinstance(years, str):                       # a published period chosen from the list: "2021", "2022-2024"
        years = years.split("-")[:2]
    try:
        y = sorted(int(v) for v in years) if isinstance(years, list) and years else [prev.y0, prev.y1]
    except (TypeError, ValueError):
        y = [prev.y0, prev.y1]
    level, area, sep = controls.get("level"), controls.get("area"), controls.get("sep")
    code = int(area) if not level_changed and isinstance(area, str) and area.isdigit() else None
    view = replace(prev, level=level if level in ("municipality", "region", "region2027") else prev.level,
                   y0=y[0], y1=y[-1], area=code, sep=sep if sep in (",", ";") else prev.sep,
                   tables=1 if controls.get("tables") is True else 0)
    for key, value in dims:
        if key in DIMENSIONS:
            view = view.with_dim(key, dim_value(key, value))
    return view


def sync_pathways(address, controls: dict, dims: list[tuple], trigger, current, base, lang: str) -> dict:
    """The pathways page's state after an event: the view's hash and what every control shows.

    The address (on load or when it changes) is read against the page's whitelists; a change of a
    control makes a candidate view that goes through the same whitelists as an address. ``base`` is
    the stored hash with the default window (the tables that do not depend on it redraw only when it
    changes: ``no_update`` otherwise). ``notice`` is None, a notice, or ``no_update`` (leave it)."""
    from dash import no_update

    from atlas import notices

    notice = no_update
    if current is None or trigger in (None, "pw-url"):
        view, win, ignored = parse_hash(address, lang)
        notice = notices.bad_address(ignored, lang)
    else:
        prev, win, _ = parse_hash(current, lang)
        candidate = _from_controls(prev, controls, dims, trigger == "pw-level")
        win = controls.get("window") if controls.get("window") in WINDOWS else win
        view, win, _ = parse_hash(hash_of(candidate, win), lang)
    from atlas.layout_parts import period_value

    view, changed = data.source().nearest_pathways(view)
    if changed:
        notice = notices.not_published(changed, lang, "pw_moved", "pw_published_what")
    dvals = dict(view.dims)
    h, b = hash_of(view, win), hash_of(view, 365)
    # the area list changes only with the level (a hundred options redrawn at every change cost the browser time)
    options = (area_options(view.level, lang) if current is None or trigger in (None, "pw-url", "pw-level")
               or "level" in changed else no_update)
    return {"view": h, "hash": h, "level": view.level, "area-options": options,
            "area": str(view.area) if view.area is not None else "dk",
            "years": [view.y0, view.y1] if data.source().any_range else period_value(view.y0, view.y1), "window": win,
            "dims": [str(dvals[k]) if k in dvals else "all" for k, _ in dims], "sep": view.sep, "notice": notice,
            "tables": bool(view.tables), "base": no_update if b == base else b}
