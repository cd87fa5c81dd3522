"""Figures of the area profile, the comparisons and all trends (Plotly), from protected tables only.

``measure_trends``: one small panel per measure, the area against Denmark over the single years.
``small_multiples``: one small panel per area for one measure, its frame coloured where the change
over the period is beyond chance. ``measure_scatter``: one measure against another by area, the
selected areas highlighted. The colours are the atlas's (``atlas.figures``).

All are plain figure data (:mod:`atlas.plot`, the atlas page's way); ``measure_scatter`` and
``compare_dots`` (``/compare``) write the JSON of the ``plotly.graph_objects`` figures they were drawn
with before.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from atlas import numbers, plot
from atlas.figures import AREA, FONT, HIGHLIGHT, NATIONAL, unit
from atlas.i18n import t
from atlas.measures import MEASURES

CHANGE_COLOURS = {1: "#D55E00", -1: "#0072B2", 0: "#cccccc"}


def _grid(n: int, cols: int) -> tuple[int, int]:
    return max(1, math.ceil(n / cols)), cols


def _finish(fig: plot.Figure, height: int, lang: str, **kw) -> plot.Figure:
    """The common look of the profile's charts; axis ticks in the reader's number format ("0,5" and
    "1.000" in Danish)."""
    fig.update_layout(**{"height": height, "margin": dict(l=10, r=10, t=30, b=10), "font": FONT,
                         "separators": numbers.plotly_separators(lang),
                         "paper_bgcolor": "white", "plot_bgcolor": "white", "showlegend": False, **kw})
    for note in fig.layout.get("annotations", []):
        note.setdefault("font", {})["size"] = 11
    return fig


def measure_trends(tr: pd.DataFrame, code: int, area_name: str, lang: str, cols: int = 4) -> plot.Figure:
    """Each measure's single-year figures for the area (vermillion) and Denmark (grey), one panel
    per measure with its own axes (plain figure data, :mod:`atlas.plot`)."""
    from atlas import coverage

    keys = [k for k in MEASURES if len(tr) and (tr["measure"] == k).any()]
    rows, cols = _grid(len(keys), cols)
    fig, refs = plot.grid([MEASURES[k].name(lang) for k in keys], cols, vspace=0.5 / rows, hspace=0.05,
                          shared_x=False, shared_y=False)
    for key, (x, y) in zip(keys, refs):
        for place, name, colour in ((0, t("denmark_total", lang), NATIONAL), (code, area_name, HIGHLIGHT)):
            d = tr[(tr["measure"] == key) & (tr["code"] == place)].sort_values("year")
            rows_here = len(d)
            few = rows_here and "status" in d and (d["status"] == "few_events").all()
            d = d[~d["hidden"].astype(bool)]
            if d.empty:
                if place == code:
                    # say why the area's own line is missing instead of leaving the reader to guess
                    why = ("profile_line_few" if few else "profile_line_hidden") if rows_here else "profile_line_unpublished"
                    fig.add_annotation({"text": t(why, lang).format(name=area_name), "xref": f"{x} domain",
                                        "yref": f"{y} domain", "x": 0.5, "y": 0.95, "showarrow": False,
                                        "font": {"size": 9, "color": HIGHLIGHT}})
                continue
            fig.add_trace({"type": "scatter", "x": d["year"], "y": d["value"], "mode": "lines+markers", "name": name,
                           "xaxis": x, "yaxis": y, "line": {"color": colour, "width": 1.5}, "marker": {"size": 4},
                           "hovertemplate": f"{name} %{{x}}: %{{y:.1f}} {unit(MEASURES[key], lang)}<extra></extra>"})
        # an incomplete year (follow-up or look-back window beyond the data) as a grey band, on screen and in print
        shown_years = set(tr.loc[tr["measure"] == key, "year"].astype(int))
        for year in sorted(y for y in coverage.incomplete_years(key) if y in shown_years):
            fig.add_vrect(year - 0.5, year + 0.5, fillcolor="#bdbdbd", opacity=0.45, axes=(x, y))
        fig.update_layout({"yaxis" + y[1:]: {"rangemode": "tozero", "gridcolor": "#eee", "tickfont": {"size": 9}},
                           "xaxis" + x[1:]: {"tickfont": {"size": 9}, "dtick": 3}})
    return _finish(fig, 150 * rows + 40, lang)


def small_multiples(frame: pd.DataFrame, national: pd.DataFrame, order: list[int], names: dict[int, str],
                    change: dict[int, int], lang: str, selected: set[int] = frozenset(), cols: int = 7,
                    shared: bool = True, compared: tuple[int, int] | None = None) -> plot.Figure:
    """One panel per area in ``order``: its single-year values (shown years only) over Denmark's
    (grey); the panel's frame vermillion where it rose beyond chance, blue where it fell. Every
    panel is labelled with the two compared years (``compared``; the first and last year when not
    given), small enough not to run into its neighbour's (the grid keeps a readable width and
    scrolls sideways on a phone). ``shared``: one value scale for every panel (so panels compare by
    eye; the scale's labels on the first column); else each panel its own scale, labelled on the
    panel."""
    rows, cols = _grid(len(order), cols)
    titles = [("▲ " if change.get(c) == 1 else "▼ " if change.get(c) == -1 else "") + names.get(c, str(c)) for c in order]
    # plain figure data (atlas.plot): 98 panels through plotly's validated objects took 4-10 s a drawing
    fig, refs = plot.grid(titles, cols, vspace=min(0.45 / rows + 0.01, 0.1), hspace=0.015 if shared else 0.035,
                          shared_y=shared)
    nat = national.sort_values("year")
    years = sorted(set(frame["year"].astype(int)) | set(nat["year"].astype(int))) if len(frame) or len(nat) else []
    ends = list(compared) if compared else [years[0], years[-1]] if years else []
    shown = frame[~frame["hidden"].astype(bool)].sort_values("year")
    by_code = dict(tuple(shown.groupby("code")))
    empty = shown.iloc[:0]
    for i, (code, (x, y)) in enumerate(zip(order, refs)):
        c = i % cols + 1
        d = by_code.get(code, empty)
        colour = HIGHLIGHT if code in selected else AREA
        fig.add_trace({"type": "scatter", "x": nat["year"], "y": nat["value"], "mode": "lines", "xaxis": x, "yaxis": y,
                       "line": {"color": "#bbbbbb", "width": 1}, "hoverinfo": "skip"})
        fig.add_trace({"type": "scatter", "x": d["year"], "y": d["value"], "mode": "lines", "xaxis": x, "yaxis": y,
                       "line": {"color": colour, "width": 1.8}, "customdata": [code] * len(d),
                       "name": names.get(code, str(code)),
                       "hovertemplate": f"{names.get(code, code)} %{{x}}: %{{y:.1f}}<extra></extra>"})
        frame_colour = CHANGE_COLOURS.get(change.get(code, 0), "#cccccc")
        edge = {"showline": True, "mirror": True, "linecolor": frame_colour, "linewidth": 2 if change.get(code) else 1}
        fig.update_layout({"xaxis" + x[1:]: {**edge, "showticklabels": True, "tickvals": ends,
                                             "ticktext": [str(v) for v in ends], "tickfont": {"size": 7},
                                             "ticklabelstandoff": 1},
                           "yaxis" + y[1:]: {**edge, "showticklabels": c == 1 or not shared, "tickfont": {"size": 8},
                                             "gridcolor": "#f0f0f0", "rangemode": "tozero",
                                             **({} if shared else {"nticks": 3})}})
    return _finish(fig, 105 * rows + 40, lang)


def measure_scatter(both: pd.DataFrame, x_key: str, y_key: str, lang: str, selected: set[int]) -> plot.Figure:
    """Areas by two measures (``value_x``, ``value_y`` with intervals), the selected areas
    highlighted, with a least-squares line for the eye."""
    fig = plot.Figure()
    if both.empty:
        return _finish(fig, 460, lang)
    mx, my = MEASURES[x_key], MEASURES[y_key]
    colours = [HIGHLIGHT if c in selected else AREA for c in both["code"]]
    hover = [f"<b>{n}</b><br>{mx.name(lang)}: {x:.1f} {unit(mx, lang)}<br>{my.name(lang)}: {y:.1f} {unit(my, lang)}"
             for n, x, y in zip(both["name"], both["value_x"], both["value_y"])]
    fig.add_trace(dict(
        type="scatter", x=both["value_x"], y=both["value_y"], mode="markers", customdata=both["code"], hovertext=hover, hoverinfo="text",
        error_x=dict(type="data", symmetric=False, array=both["upper_x"] - both["value_x"],
                     arrayminus=both["value_x"] - both["lower_x"], color="#c6dbef", thickness=1, width=0),
        error_y=dict(type="data", symmetric=False, array=both["upper_y"] - both["value_y"],
                     arrayminus=both["value_y"] - both["lower_y"], color="#c6dbef", thickness=1, width=0),
        marker=dict(color=colours, size=[12 if c in selected else 7 for c in both["code"]],
                    line=dict(color="white", width=0.5))))
    sel = both[both["code"].isin(selected)]
    if len(sel):
        fig.add_trace(dict(type="scatter", x=sel["value_x"], y=sel["value_y"], mode="text", text=sel["name"],
                           textposition="top center", hoverinfo="skip", textfont=dict(color=HIGHLIGHT)))
    if len(both) >= 3 and both["value_x"].nunique() > 1:
        slope, intercept = np.polyfit(both["value_x"], both["value_y"], 1)
        xs = np.array([both["value_x"].min(), both["value_x"].max()])
        fig.add_trace(dict(type="scatter", x=xs, y=slope * xs + intercept, mode="lines", hoverinfo="skip",
                           line=dict(color=NATIONAL, dash="dot", width=1)))
    # the measure's name on one line and its unit on the next: one line ran off the chart on a phone
    fig.update_xaxes(title=dict(text=f"{mx.name(lang)}<br>({unit(mx, lang)})"), gridcolor="#eee")
    fig.update_yaxes(title=dict(text=f"{my.name(lang)} ({unit(my, lang)})"), gridcolor="#eee")
    return _finish(fig, 480, lang)


PEERS_COLOUR = "#000000"          # the comparable municipalities together: black stars (Okabe-Ito)


def _values(d: pd.DataFrame) -> dict:
    """The hover's published value and interval of each dot (``customdata``: one row per dot), none
    for a trace without dots."""
    if not len(d):
        return {}
    return {"customdata": list(np.stack([d["value"], d["lower"], d["upper"]], axis=1))}


def compare_dots(table: pd.DataFrame, codes: list[int], names: dict[int, str], lang: str,
                 peers: pd.DataFrame | None = None) -> plot.Figure:
    """Every measure (one row each) with the compared areas' values relative to Denmark (=100), so
    measures on different scales share one axis; hover shows the published values. ``peers`` (the
    first municipality's comparable municipalities together, :func:`atlas.comparisons.peer_column`)
    adds them as one more comparator, where their pooled figure is shown."""
    palette = ["#D55E00", "#0072B2", "#009E73", "#CC79A7"]
    fig = plot.Figure()
    for i, code in enumerate(codes):
        d = table[table["code"] == code]
        d = d[d["value"].notna() & d["denmark"].notna() & (d["denmark"] > 0)]
        fig.add_trace(dict(
            type="scatter", x=100 * d["value"] / d["denmark"], y=d["name"], mode="markers", name=names.get(code, str(code)),
            marker=dict(color=palette[i % 4], size=10, symbol=["circle", "square", "diamond", "triangle-up"][i % 4]),
            **_values(d),
            hovertemplate=f"{names.get(code, code)}<br>%{{y}}: %{{customdata[0]:.1f}} "
                          f"(%{{customdata[1]:.1f}}–%{{customdata[2]:.1f}})<extra></extra>"))
    if peers is not None and len(peers) and codes:
        first = table[table["code"] == codes[0]][["measure", "name", "denmark"]]
        d = peers.merge(first, on="measure", how="inner")
        d = d[d["value"].notna() & d["denmark"].notna() & (d["denmark"] > 0)]
        label = t("peers_comparator", lang).format(name=names.get(codes[0], str(codes[0])))
        fig.add_trace(dict(
            type="scatter", x=100 * d["value"] / d["denmark"], y=d["name"], mode="markers", name=label,
            marker=dict(color=PEERS_COLOUR, size=11, symbol="star"),
            **_values(d),
            hovertemplate=f"{label}<br>%{{y}}: %{{customdata[0]:.1f}} "
                          f"(%{{customdata[1]:.1f}}–%{{customdata[2]:.1f}})<extra></extra>"))
    fig.add_vline(100, {"color": NATIONAL, "dash": "dash"})
    fig.update_xaxes(title=dict(text=t("cmp_index", lang)), gridcolor="#eee")
    fig.update_yaxes(autorange="reversed", automargin=True)
    n = table["name"].nunique() if len(table) else 1
    return _finish(fig, 28 * n + 120, lang, legend=dict(orientation="h", y=-0.08), showlegend=True)
