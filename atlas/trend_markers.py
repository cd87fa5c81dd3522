"""Recent-trend markers on the atlas page's map, ranking and their CSVs (issue 27): each area's
trend over its last N complete years (the reader's choice, ``View.recent``: ``recent=`` in the
address, 5 by default as on ``/recent-trends``), as :func:`atlas.policy.recent_trends` tests it for
``/recent-trends`` and the area profile (``etl.stats.recent_trend``: Poisson log-linear regression
of the published yearly counts with the population as offset, the crude rate of everyone). The
counts of all years are read at once (:func:`atlas.policy.recent_directions`, issue 27: a first view
read twelve years' tables of areas one by one).

The marker belongs to the area and the measure, not to the view's year or filters: it is shown only
where it describes what the view shows (everyone, no population group or imaging filter), and the
legend and the CSV (a column and a header item) name its years and N. ▲ rising, ▼ falling beyond chance (95 %); no marker when there
is no significant change or the trend could not be tested.
"""
from __future__ import annotations

import pandas as pd

from atlas import policy
from atlas.cache import cached as _cached
from atlas.filters import View
from atlas.i18n import t

N_YEARS = View.recent                         # the default, as on /recent-trends
SYMBOLS = {"rising": "▲", "falling": "▼"}
COLOURS = {"rising": "#B2182B", "falling": "#2166AC"}     # red up, blue down (readable for colour-blind readers by shape)
COLUMNS = ["code", "direction", "apc", "apc_lower", "apc_upper", "first_year", "last_year"]


def applies(view: View) -> bool:
    """True when the markers describe the view: everyone (no population group, no imaging filter)."""
    return not view.dims


def markers(measure: str, level: str, n_years: int = N_YEARS) -> tuple[pd.DataFrame, tuple[int, int] | None]:
    """(table, years): one row per area with ``code``, ``direction`` (rising, falling, no
    significant change, not tested), ``apc`` with its interval and the first and last year tested;
    ``years`` the (first, last) year of the tested areas, None when no area could be tested."""
    try:
        # the same test as /recent-trends (policy.recent_trends), from one read of all years' counts
        tab = policy.recent_directions(measure, level, n_years)
    except (KeyError, ValueError):
        tab = pd.DataFrame()
    if not len(tab):
        return pd.DataFrame(columns=COLUMNS), None
    tab = tab[COLUMNS].copy()
    tested = tab[tab["direction"] != "not tested"]
    years = (int(tested["first_year"].min()), int(tested["last_year"].max())) if len(tested) else None
    return tab, years


def direction_of(view: View) -> dict[int, str]:
    """Each area's direction for the view (empty when the markers do not apply)."""
    if not applies(view):
        return {}
    tab, _ = markers(view.measure, view.level, view.recent)
    return dict(zip(tab["code"].astype(int), tab["direction"].astype(str)))


def legend_line(direction: str, years: tuple[int, int] | None, lang: str, n: int = N_YEARS) -> str:
    """"▲ rising over 2020–2024 (last 5 complete years)" in the reader's language."""
    span = f"{years[0]}–{years[1]}" if years else "–"
    return t(f"tm_legend_{direction}", lang).format(years=span, n=n)


def title_line(years: tuple[int, int] | None, lang: str, n: int = N_YEARS) -> str | None:
    """The markers' legend as a line of the map's and ranking's titles ("▲ rising / ▼ falling over
    2020–2024 (last 5 complete years)"), None when no marker is drawn."""
    if years is None:
        return None
    return t("tm_title", lang).format(years=f"{years[0]}–{years[1]}", n=n)


def none_line(view: View, lang: str) -> str | None:
    """The titles' line when the markers apply but no area could be tested over the chosen window
    (longer than the complete years since a register break, or years hidden), None otherwise."""
    if not applies(view):
        return None
    return t("tm_none", lang).format(n=view.recent)


def header_item(view: View) -> list[str] | None:
    """The CSV header item of the map's and ranking's downloads: the markers' window in words
    ("last 7 complete years, 2018–2024"), None when the markers do not apply to the view."""
    if not applies(view):
        return None
    _, years = markers(view.measure, view.level, view.recent)
    span = f", {years[0]}–{years[1]}" if years else ""
    return [t("tm_header", view.lang), t("tm_window", view.lang).format(n=view.recent) + span]


def hover_line(direction: str | None, apc: float | None, years: tuple[int, int] | None, lang: str) -> str:
    """The hover's line on an area's recent trend ('' when there is none to tell)."""
    if direction is None or years is None:
        return ""
    word = t("pol_dir_" + direction.replace(" ", "_"), lang)
    mark = SYMBOLS.get(direction, "")
    change = "" if apc is None or pd.isna(apc) else f" ({policy_number(apc, lang)} % {t('tm_a_year', lang)})"
    return f"{t('tm_recent', lang)} {years[0]}–{years[1]}: {mark + ' ' if mark else ''}{word}{change}"


def policy_number(x: float, lang: str) -> str:
    from atlas.findings import number

    return ("+" if x > 0 else "") + number(x, lang)


def with_markers(tbl: pd.DataFrame, view: View) -> tuple[pd.DataFrame, tuple[int, int] | None]:
    """``tbl`` (a table of areas with ``hover``) with ``trend_direction`` and its line added to the
    hover of every area that has a tested trend; unchanged (and years None) when the markers do not
    apply to the view."""
    if not applies(view) or not len(tbl):
        return tbl, None
    tab, years = markers(view.measure, view.level, view.recent)
    if years is None:
        return tbl, None
    by = tab.set_index("code")
    out = tbl.copy()
    directions = [str(by.at[int(c), "direction"]) if int(c) in by.index else None for c in out["code"]]
    out["trend_direction"] = directions
    if "hover" in out:
        lines = [hover_line(d, by.at[int(c), "apc"] if d else None, years, view.lang) if d and d != "not tested" else ""
                 for c, d in zip(out["code"], directions)]
        out["hover"] = [h + (f"<br>{line}" if line else "") for h, line in zip(out["hover"], lines)]
    return out, years


def csv_columns(codes, view: View) -> dict[str, list]:
    """The CSV's recent-trend columns for the rows ``codes`` (Denmark's row, code 0, left empty):
    ``recent_trend`` (a word), ``recent_trend_apc`` and ``recent_trend_years``. Empty when the
    markers do not apply to the view."""
    if not applies(view):
        return {}
    tab, _ = markers(view.measure, view.level, view.recent)
    if not len(tab):
        return {}
    by = tab.set_index("code")
    words, apc, span = [], [], []
    for c in codes:
        if c is None or pd.isna(c) or int(c) not in by.index:
            words.append(None)
            apc.append(None)
            span.append(None)
            continue
        r = by.loc[int(c)]
        words.append(t("pol_dir_" + str(r["direction"]).replace(" ", "_"), view.lang))
        apc.append(None if pd.isna(r["apc"]) else float(r["apc"]))
        span.append(f"{int(r['first_year'])}-{int(r['last_year'])}" if pd.notna(r["first_year"]) else None)
    return {"recent_trend": words, "recent_trend_apc": apc, "recent_trend_years": span}


def traces_on_points(x, y, directions, years, lang: str, n: int = N_YEARS, **extra) -> list[dict]:
    """One scatter trace per direction (▲ rising, ▼ falling) at the given points, each with its
    legend line; ``extra`` goes into every trace (e.g. ``type="scattergeo"`` with lon/lat)."""
    out = []
    xs, ys, ds = list(x), list(y), list(directions)
    for direction, symbol in (("rising", "triangle-up"), ("falling", "triangle-down")):
        keep = [i for i, d in enumerate(ds) if d == direction]
        if not keep:
            continue
        pts = {"x": [xs[i] for i in keep], "y": [ys[i] for i in keep]}
        if extra.get("type") == "scattergeo":
            pts = {"lon": pts["x"], "lat": pts["y"]}
        # the legend is a line of the chart's title (:func:`title_line`), visible above the long ranking
        out.append({"type": "scatter", "mode": "markers", **pts, "hoverinfo": "skip", "showlegend": False,
                    "name": legend_line(direction, years, lang, n),
                    "marker": {"symbol": symbol, "size": 9, "color": COLOURS[direction],
                               "line": {"width": 1, "color": "white"}}, **extra})
    return out


def centroids(level: str) -> dict[int, tuple[float, float]]:
    """A point inside each area (lon, lat; the build's ``area_centroid``), where its marker is drawn."""
    return dict(_centroids(level))


@_cached(maxsize=4)
def _centroids(level: str) -> tuple:
    from atlas import db

    pts = db.query("SELECT code, lon, lat FROM area_centroid WHERE level = ?", [level])
    return tuple((int(c), (float(x), float(y))) for c, x, y in zip(pts["code"], pts["lon"], pts["lat"]))


def mark(fig_map, fig_rank, tbl: pd.DataFrame, view: View, years: tuple[int, int] | None, tiles=None) -> None:
    """Draw the markers of ``tbl`` (with ``trend_direction``, :func:`with_markers`) on the map (at
    each area's inside point, or its tile) and the ranking (just right of the interval), each with
    its legend line. Nothing when the markers do not apply (``years`` None)."""
    if years is None or "trend_direction" not in tbl:
        return
    shown = tbl[~tbl["hidden"].fillna(True).astype(bool) & tbl["trend_direction"].isin(list(SYMBOLS))]
    if not len(shown):
        return
    lang = view.lang
    if view.map == "tile" and view.level == "municipality" and tiles is not None:
        m = tiles.merge(shown, left_on="kommune_code", right_on="code", how="inner")
        # the tile's top-right corner (its name is written in the middle)
        for tr in traces_on_points(m["col"] + 0.3, m["row"] - 0.28, m["trend_direction"], years, lang, view.recent):
            fig_map.add_trace(tr)
    else:
        pts = centroids(view.level)
        keep = shown[shown["code"].astype(int).isin(list(pts))]
        lon = [pts[int(c)][0] for c in keep["code"]]
        lat = [pts[int(c)][1] for c in keep["code"]]
        for tr in traces_on_points(lon, lat, keep["trend_direction"], years, lang, view.recent, type="scattergeo"):
            fig_map.add_trace(tr)

    d = shown[shown["value"].notna()]
    span = float((d["upper"].max() - d["lower"].min())) if len(d) else 0.0
    for tr in traces_on_points(d["upper"] + 0.03 * span, d["name"], d["trend_direction"], years, lang, view.recent):
        fig_rank.add_trace(tr)

