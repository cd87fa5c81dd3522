"""Plotly figures of the atlas. Each takes protected tables (see ``atlas.queries``) and the view,
and shows the selected area highlighted. Hidden cells are drawn grey and say so in the hover.
"""
from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd

from atlas import numbers
from atlas.filters import View
from atlas.i18n import label, t
from atlas.measures import Measure
from atlas.plot import Figure, stacked
from etl import stats

SCALE = "YlGnBu"          # ColorBrewer sequential, safe for colour-blind readers
HIGHLIGHT = "#D55E00"     # Okabe-Ito vermillion
NATIONAL = "#444444"
AREA = "#0072B2"          # Okabe-Ito blue
SELECTED = "#000000"      # the selection in the funnel plot: not one of the flag colours
GREY = "#d9d9d9"
FLAG_COLOURS = {"high_998": "#D55E00", "high_95": "#E69F00", "within": "#7f7f7f",
                "low_95": "#56B4E9", "low_998": "#0072B2", "hidden": GREY}
CURVE_POINTS = 32         # points along each funnel limit (smooth on the log axis; each costs exact tail sums)
FONT = dict(family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size=13)   # every chart's font


def _fig(*traces: dict) -> Figure:
    """A figure as plain data (:mod:`atlas.plot`: Plotly's object layer cost more than the statistics)."""
    fig = Figure()
    for trace in traces:
        fig.add_trace(trace)
    return fig


def _fmt(x, digits=1, lang: str = "en") -> str:
    return numbers.decimal(x, digits, lang)


def _num(x, lang: str = "en") -> str:
    return numbers.integer(x, lang)


def unit(measure: Measure, lang: str) -> str:
    return t("per_1000", lang) if measure.kind == "rate" else "%"


def hover_text(tbl: pd.DataFrame, measure: Measure, lang: str) -> list[str]:
    """Each area's hover: name, value, interval, count and denominator (or that it is hidden). A
    table that carries a ``hover`` column (:func:`with_hover`) has them written already."""
    if "hover" in tbl.columns:
        return tbl["hover"].tolist()
    from atlas.data.domain import status_words

    out = []
    words = status_words(tbl, lang)
    for r, word in zip(tbl.itertuples(), words):
        if r.hidden:
            out.append(f"<b>{r.name}</b><br>{word or t('suppressed', lang)}")
            continue
        den_label = t("population", lang) if measure.denominator == "population" else t("share_of_imaging", lang)
        out.append(
            f"<b>{r.name}</b><br>{measure.name(lang)}: {_fmt(r.value, 1, lang)} {unit(measure, lang)}"
            f"<br>{t('interval', lang)}: {_fmt(r.lower, 1, lang)}–{_fmt(r.upper, 1, lang)}"
            f"<br>{t('count', lang)}: {_num(r.num_shown, lang)} · {den_label}: {_num(r.den_shown, lang)}")
    return out


def with_hover(tbl: pd.DataFrame, measure: Measure, lang: str) -> pd.DataFrame:
    """``tbl`` with its hover texts written once, for the map, ranking and funnel plot to share."""
    return tbl.assign(hover=hover_text(tbl, measure, lang))


def _layout(fig: Figure, height: int, title: str = "", **kw) -> Figure:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40 if title else 10, b=10), font=dict(FONT),
                      paper_bgcolor="white", plot_bgcolor="white", **kw)
    if title:
        fig.update_layout(title=dict(text=title, x=0, font=dict(size=15)))
    return fig


def _colour_args(shown: pd.DataFrame, view: View, measure: Measure, colouring) -> tuple[dict, list[str]]:
    """Trace arguments for the colours of the shown areas and their hover texts: the continuous
    scale over the map's own values, or the classes of ``colouring`` (atlas.colours)."""
    hover = hover_text(shown, measure, view.lang)
    title = unit(measure, view.lang)
    if colouring is None or not colouring.colours:
        return dict(z=shown["value"], colorscale=SCALE,
                    colorbar=dict(title=dict(text=title, side="right"), thickness=12, len=0.8)), hover
    hover = [f"{h}<br>{colouring.label_of(c)}" if colouring.label_of(c) else h for h, c in zip(hover, shown["code"])]
    return dict(z=colouring.z(shown["code"]), colorscale=colouring.colorscale, zmin=colouring.zmin,
                zmax=colouring.zmax, colorbar=colouring.colorbar(title if colouring.bins else "")), hover


def choropleth(tbl: pd.DataFrame, geojson: dict | str, view: View, measure: Measure, selected: int | None,
               colouring=None) -> Figure:
    shown = tbl[~tbl["hidden"]]
    hidden = tbl[tbl["hidden"]]
    fig = _fig()
    if len(hidden):
        fig.add_trace(dict(
            type="choropleth", geojson=geojson, locations=hidden["code"], z=np.zeros(len(hidden)),
            featureidkey="properties.code", colorscale=[[0, GREY], [1, GREY]], showscale=False,
            marker=dict(line=dict(color="white", width=0.5)),
            hovertext=hover_text(hidden, measure, view.lang), hoverinfo="text", customdata=hidden["code"],
            name=t("hidden", view.lang)))
    colour, hover = _colour_args(shown, view, measure, colouring)
    fig.add_trace(dict(
        type="choropleth", geojson=geojson, locations=shown["code"], featureidkey="properties.code",
        marker=dict(line=dict(color="white", width=0.5)), customdata=shown["code"],
        hovertext=hover, hoverinfo="text", name=measure.name(view.lang), **colour))
    if selected is not None and (tbl["code"] == selected).any():
        fig.add_trace(dict(
            type="choropleth", geojson=geojson, locations=[selected], z=[0], featureidkey="properties.code",
            colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]], showscale=False,
            marker=dict(line=dict(color=HIGHLIGHT, width=3)), hoverinfo="skip"))
    fig.update_geos(fitbounds="locations", visible=False, projection=dict(type="mercator"))
    return _layout(fig, 470, dragmode=False, clickmode="event")


def tile_map(tbl: pd.DataFrame, tiles: pd.DataFrame, view: View, measure: Measure, selected: int | None,
             colouring=None) -> Figure:
    """Equal-area tiles: one square per municipality on a hand-laid grid (etl/config/tilemap.csv)."""
    m = tiles.merge(tbl, left_on="kommune_code", right_on="code", how="inner")
    colour, hovers = _colour_args(m, view, measure, colouring)
    rows, cols = int(tiles["row"].max()) + 1, int(tiles["col"].max()) + 1
    z = np.full((rows, cols), np.nan)
    text = np.full((rows, cols), "", dtype=object)
    hover = np.full((rows, cols), "", dtype=object)
    codes = np.full((rows, cols), None, dtype=object)
    shown = pd.Series(np.asarray(colour["z"], dtype=float), index=m.index).where(~m["hidden"])
    for r, c, v, name, code, h in zip(m["row"], m["col"], shown, m["name"], m["code"], hovers):
        z[r, c] = v
        text[r, c] = str(name)[:4]
        hover[r, c] = h
        codes[r, c] = int(code)
    fig = _fig(dict(
        type="heatmap", z=z, text=text, texttemplate="%{text}", textfont=dict(size=9), hovertext=hover, hoverinfo="text",
        customdata=codes, xgap=2, ygap=2, hoverongaps=False,
        **{k: v for k, v in colour.items() if k != "z"}))
    hid = m[m["hidden"]]
    for r, c in zip(hid["row"], hid["col"]):
        fig.add_shape(dict(type="rect", x0=c - 0.5, x1=c + 0.5, y0=r - 0.5, y1=r + 0.5, fillcolor=GREY, line=dict(width=0),
                           layer="below"))
    if selected is not None and (m["code"] == selected).any():
        r, c = m.loc[m["code"] == selected, ["row", "col"]].iloc[0]
        fig.add_shape(dict(type="rect", x0=c - 0.5, x1=c + 0.5, y0=r - 0.5, y1=r + 0.5, line=dict(color=HIGHLIGHT, width=3)))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    return _layout(fig, 520)


def ranking(tbl: pd.DataFrame, national, view: View, measure: Measure, selected: int | None) -> Figure:
    d = tbl[~tbl["hidden"]].sort_values("value")
    colours = [HIGHLIGHT if c == selected else AREA for c in d["code"]]
    fig = _fig(dict(
        type="scatter", x=d["value"], y=d["name"], mode="markers", customdata=d["code"],
        error_x=dict(type="data", symmetric=False, array=d["upper"] - d["value"], arrayminus=d["value"] - d["lower"],
                     color="#9ecae1", thickness=1.5, width=0),
        marker=dict(color=colours, size=[11 if c == selected else 7 for c in d["code"]]),
        hovertext=hover_text(d, measure, view.lang), hoverinfo="text", showlegend=False))
    if not pd.isna(national.get("value", np.nan)):
        fig.add_vline(national["value"], dict(dash="dash", color=NATIONAL), t("denmark_total", view.lang))
    fig.update_yaxes(tickfont=dict(size=10), automargin=True)
    fig.update_xaxes(title=dict(text=unit(measure, view.lang)), gridcolor="#eee")
    return _layout(fig, max(320, 16 * len(d) + 80))


def funnel(tbl: pd.DataFrame, national, view: View, measure: Measure, selected: int | None) -> Figure:
    d = tbl[~tbl["hidden"] & (tbl["expected"] > 0)].copy()
    fig = _fig()
    if d.empty:
        return _layout(fig, 420)
    if measure.kind == "rate":
        d["x"], d["y"] = d["expected"], d["num_shown"] / d["expected"]
        xs = np.geomspace(max(d["x"].min() * 0.8, 1), d["x"].max() * 1.2, CURVE_POINTS)
        lim = stats.funnel_limits(xs, 1.0)
        target, xt, yt = 1.0, t("expected_axis", view.lang), t("ratio_axis", view.lang)
    else:
        p = float(national["num_shown"] / national["den_shown"]) if national["den_shown"] else 0.0
        d["x"], d["y"] = d["den_shown"], d["value"] / 100
        xs = np.geomspace(max(d["x"].min() * 0.8, 1), d["x"].max() * 1.2, CURVE_POINTS)
        lim = stats.funnel_limits_proportion(xs, p)
        target, xt, yt = p, t("share_of_imaging", view.lang), measure.name(view.lang)
    for level, dash in (("95", "dot"), ("99_8", "dash")):
        for side in ("lower", "upper"):
            # one legend entry per pair of lines: "95% limits", "99.8% limits"
            fig.add_trace(dict(type="scatter", x=xs, y=lim[f"{side}_{level}"], mode="lines", hoverinfo="skip",
                                     line=dict(color="#777", dash=dash, width=1.2), legendgroup=f"lim{level}",
                                     name=t(f"limits_{level}", view.lang), showlegend=side == "upper"))
    fig.add_trace(dict(type="scatter", x=[xs[0], xs[-1]], y=[target, target], mode="lines", hoverinfo="skip",
                             line=dict(color=NATIONAL, width=1), name=t("denmark_total", view.lang)))
    for flag, colour in FLAG_COLOURS.items():
        part = d[d["flag"] == flag]
        if part.empty:
            continue
        fig.add_trace(dict(
            type="scatter", x=part["x"], y=part["y"],
            mode="markers", name=t(flag, view.lang), customdata=part["code"],
            marker=dict(color=colour, size=8, line=dict(width=0.5, color="white")),
            hovertext=hover_text(part, measure, view.lang), hoverinfo="text"))
    chosen = d[d["code"] == selected] if selected is not None else d.iloc[0:0]
    if len(chosen):
        # the selection is a black ring around its point: no flag uses black, so it never reads as a flag
        fig.add_trace(dict(
            type="scatter", x=chosen["x"], y=chosen["y"], mode="markers", name=str(chosen["name"].iloc[0]), customdata=chosen["code"],
            marker=dict(symbol="circle-open", size=17, color=SELECTED, line=dict(width=2.5, color=SELECTED)),
            hovertext=hover_text(chosen, measure, view.lang), hoverinfo="text"))
    tickvals, ticktext = log_ticks(float(xs[0]), float(xs[-1]), view.lang)
    fig.update_xaxes(title=dict(text=xt), type="log", gridcolor="#eee", tickvals=tickvals, ticktext=ticktext)
    fig.update_yaxes(title=dict(text=yt), gridcolor="#eee", **({"tickformat": ".0%"} if measure.kind == "share" else {}))
    return _layout(fig, 440, legend=dict(orientation="h", y=-0.22, font=dict(size=11)))


def log_ticks(lo: float, hi: float, lang: str = "en") -> tuple[list[float], list[str]]:
    """Ticks 1, 2, 5, 10, 20, 50, ... between ``lo`` and ``hi`` written out in full (no "10 2 5 100"),
    thinned to the powers of ten when the range spans many decades."""
    if not (lo > 0 and hi > lo):
        return [], []
    vals = [m * 10.0 ** e for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
            for m in (1, 2, 5) if lo <= m * 10.0 ** e <= hi]
    if len(vals) > 9:
        vals = [v for v in vals if str(v).lstrip("0.").startswith("1")]
    text = [numbers.integer(v, lang) if v >= 1 else numbers.decimal(v, 1, lang) for v in vals]
    return vals, text


def trend(tr: pd.DataFrame, view: View, measure: Measure, selected: int | None, area_name: str | None,
          incomplete: dict | None = None, breaks: dict | None = None) -> Figure:
    """Estimates by year. Years in ``incomplete`` (year -> why) are drawn apart: hollow markers off the
    line, in a band labelled "incomplete", so they do not read as change (see atlas.coverage). A register
    break (``breaks``: the first year counted the new way -> why) is a dashed line before that year,
    labelled "break"."""
    incomplete = incomplete or {}
    fig = _fig()
    series = [(0, t("denmark_total", view.lang), NATIONAL)]
    if selected is not None:
        series.append((selected, area_name or str(selected), HIGHLIGHT))
    for code, name, colour in series:
        everything = tr[(tr["code"] == code)].sort_values("year")
        off = everything["year"].astype(int).isin(list(incomplete))
        d = everything[~off]
        if everything.empty:
            continue
        fig.add_trace(dict(type="scatter", x=pd.concat([d["year"], d["year"][::-1]]), y=pd.concat([d["upper"], d["lower"][::-1]]),
                                 fill="toself", fillcolor=colour, opacity=0.15, line=dict(width=0), hoverinfo="skip",
                                 showlegend=False))
        fig.add_trace(dict(type="scatter", x=d["year"], y=d["value"], mode="lines+markers", name=name, line=dict(color=colour),
                                 hovertemplate=f"{name} %{{x}}: %{{y:.1f}}<extra></extra>"))
        part = everything[off]
        if len(part):
            word = t("incomplete", view.lang)
            fig.add_trace(dict(
                type="scatter", x=part["year"], y=part["value"], mode="markers", name=f"{name} ({word})", legendgroup=f"inc{code}",
                marker=dict(color="white", size=9, line=dict(color=colour, width=2)),
                error_y=dict(type="data", symmetric=False, array=part["upper"] - part["value"],
                             arrayminus=part["value"] - part["lower"], color=colour, thickness=1),
                hovertemplate=f"{name} %{{x}}: %{{y:.1f}} ({word})<extra></extra>"))
    for year in incomplete:
        fig.add_vrect(year - 0.5, year + 0.5, "#bbbbbb", 0.25, t("incomplete", view.lang), dict(size=10, color="#555"))
    for year in breaks or {}:
        fig.add_vline(year - 0.5, dict(color="#555", width=1, dash="dash"), t("break", view.lang))
    fig.add_vrect(view.y0 - 0.5, view.y1 + 0.5, "#fdd0a2", 0.25)
    fig.update_xaxes(dtick=1, gridcolor="#eee")
    fig.update_yaxes(title=dict(text=unit(measure, view.lang)), gridcolor="#eee", rangemode="tozero")
    return _layout(fig, 320, legend=dict(orientation="h", y=-0.25))


def breakdown(bd: pd.DataFrame, view: View, measure: Measure) -> Figure:
    """One panel per population dimension, stacked, groups on the vertical axis: every group is
    labelled and the labels stay readable on a phone; the panels share the value axis."""
    dims = [d for d in ("sex", "age", "edu", "inc", "origin", "labour") if (bd.get("dimension") == d).any()] if len(bd) else []
    if not dims:
        return _layout(_fig(), 300)
    sizes = [int((bd["dimension"] == d).sum()) for d in dims]
    fig = stacked([label("dimension", d, view.lang) for d in dims], sizes, spacing=0.045, title_font=dict(size=12))
    for i, dim in enumerate(dims, start=1):
        d = bd[bd["dimension"] == dim]
        names = [v if dim == "age" else label(dim, v, view.lang) for v in d["value_key"]]
        shown = ~d["hidden"].astype(bool)
        from atlas.data.domain import status_words

        words = status_words(d, view.lang, short=True)
        values = d["value"].where(shown)
        fig.add_trace(dict(
            type="scatter", y=names, x=values, mode="markers", marker=dict(color=AREA, size=8),
            error_x=dict(type="data", symmetric=False, array=(d["upper"] - d["value"]).where(shown),
                         arrayminus=(d["value"] - d["lower"]).where(shown), color="#9ecae1"),
            hovertemplate="%{y}: %{x:.1f}<extra></extra>", showlegend=False), row=i, col=1)
        fig.update_yaxes(type="category", categoryorder="array", categoryarray=names, autorange="reversed",
                         tickvals=names, ticktext=[n + ("" if s else f"<br>({w or t('hidden', view.lang).lower()})")
                                                   for n, s, w in zip(names, shown, words)],
                         tickfont=dict(size=11), automargin=True, row=i, col=1)
    fig.update_xaxes(rangemode="tozero", gridcolor="#eee", showticklabels=True)
    fig.update_xaxes(title=dict(text=unit(measure, view.lang)), row=len(dims), col=1)
    _layout(fig, 80 + 21 * sum(sizes) + 34 * len(dims))
    # room above the first panel for its title ("Sex") where no chart title is stamped (the profile)
    fig.update_layout(margin=dict(l=10, r=10, t=30, b=10))
    return fig


def mix(mx: pd.DataFrame, view: View, selected: int | None, area_name: str | None,
        incomplete: dict | None = None) -> Figure:
    """Shares of the imaging mix; a measure in ``incomplete`` (key -> {year: why}) is labelled
    "incomplete" with the years and its bars hatched."""
    from atlas.measures import MEASURES

    incomplete = incomplete or {}
    word = t("incomplete", view.lang)

    def name_of(k):
        years = incomplete.get(k)
        return MEASURES[k].name(view.lang) + (f" ({word}: {', '.join(str(y) for y in years)})" if years else "")

    fig = _fig()
    if mx.empty:
        return _layout(fig, 360)
    for code, name, colour in ((0, t("denmark_total", view.lang), NATIONAL), (selected, area_name, HIGHLIGHT)):
        if code is None:
            continue
        d = mx[(mx["code"] == code)]
        if d.empty:
            continue
        fig.add_trace(dict(
            type="bar", y=[name_of(k) for k in d["measure"]], x=d["value"], orientation="h", name=name or str(code),
            marker=dict(color=colour, pattern=dict(shape=["/" if k in incomplete else "" for k in d["measure"]])),
            error_x=dict(type="data", symmetric=False, array=d["upper"] - d["value"], arrayminus=d["value"] - d["lower"]),
            hovertemplate="%{y}: %{x:.1f}%<extra>" + (name or "") + "</extra>"))
    fig.update_layout(barmode="group")
    fig.update_xaxes(title=dict(text="%"), gridcolor="#eee")
    # long measure names on two lines (the bars keep the whole name): on a phone one line ran off the chart
    names = list(dict.fromkeys(name_of(k) for k in mx["measure"]))
    fig.update_yaxes(autorange="reversed", automargin=True, tickvals=names,
                     ticktext=["<br>".join(textwrap.wrap(n, 26)) or n for n in names])
    return _layout(fig, 440, legend=dict(orientation="h", y=-0.15))
