"""The returns page's figures (by exam type, the time series, centres by month, spread per centre), their
titles and file names. Drawn as the plain figure data Dash sends (:mod:`atlas.plot`), as the atlas page's
charts are: the JSON is that of the ``plotly.graph_objects`` figures they were drawn with before."""
from __future__ import annotations

import numpy as np
import pandas as pd
from plotly.colors import get_colorscale

from atlas import numbers
from atlas.figures import FONT
from atlas.i18n import label, t
from atlas.plot import Figure
from atlas.returns.constants import EXAMS
from atlas.returns.queries import centres
from atlas.returns.state import ReturnsView
from atlas.returns.time_series import hidden_month_key

EXAM_COLOURS = {"lumbar": "#0072B2", "head": "#E69F00", "knee": "#009E73"}   # Okabe-Ito
BEFORE, AFTER, FIT, COUNTER = "#7f7f7f", "#D55E00", "#0072B2", "#444444"
# the centres' heatmap: ColorBrewer's YlGnBu as Plotly's Python package writes it (a named scale written out)
HEAT = get_colorscale("YlGnBu")


def _months(months: pd.Series) -> list[pd.Timestamp]:
    """Months as timestamps (which the figure's JSON writes as dates, as Plotly writes a column of dates)."""
    return [pd.Timestamp(m) for m in months]


def _layout(fig: Figure, height: int, **kw) -> Figure:
    fig.update_layout(**{"height": height, "margin": dict(l=10, r=10, t=36, b=10), "font": FONT,
                         "paper_bgcolor": "white", "plot_bgcolor": "white", **kw})
    return fig


def _intervention_line(fig: Figure, view: ReturnsView):
    x = pd.Timestamp(view.date) - pd.Timedelta(days=15)     # between the last month before and the first after
    fig.add_vline(x, {"color": "#333", "dash": "dot"})
    fig.add_annotation(dict(x=x, y=1, yref="paper", text=t("ret_intervention", view.lang) + f" {view.date}",
                            showarrow=False, xanchor="left", yanchor="bottom", font=dict(size=11)))


def measure_name(view: ReturnsView) -> str:
    return t(f"ret_measure_{view.measure}", view.lang)


def unit(view: ReturnsView) -> str:
    return t(f"ret_unit_{view.measure}", view.lang)


def count_title(view: ReturnsView) -> str:
    """The axis title of a chart of counts (not rates): "Number per month" (the chart's title names
    the measure; a longer axis title would run into it)."""
    unit = t("ret_count_unit", view.lang)
    return unit[:1].upper() + unit[1:]


def fig_by_exam(tbl: pd.DataFrame, view: ReturnsView) -> Figure:
    fig = Figure()
    for exam in EXAMS:
        d = tbl[tbl["exam_type"] == exam].sort_values("month")
        if d.empty:
            continue
        name = label("exam_type", exam, view.lang)
        hover = [f"{name} {m:%Y-%m}: " + (t("suppressed", view.lang) if h else numbers.integer(c, view.lang)) for m, c, h in
                 zip(d["month"], d["count"], d["hidden"])]
        fig.add_trace(dict(type="bar", x=_months(d["month"]), y=d["count"].fillna(0), name=name,
                           marker=dict(color=EXAM_COLOURS[exam]), hovertext=hover, hoverinfo="text"))
    hid = tbl[tbl["hidden"].astype(bool)].sort_values("month")
    if len(hid):
        # a hidden month is marked as hidden, not left out (it is not a month without any)
        fig.add_trace(dict(
            type="scatter", x=_months(hid["month"]), y=np.zeros(len(hid)), mode="markers",
            name=t(hidden_month_key(filled_in_fit=False), view.lang),
            marker=dict(symbol="x", color="#555", size=8),
            hovertext=[f"{label('exam_type', e, view.lang)} {m:%Y-%m}: {t('suppressed', view.lang)}"
                       for e, m in zip(hid["exam_type"], hid["month"])], hoverinfo="text"))
    _intervention_line(fig, view)
    fig.update_layout(barmode="stack", bargap=0.15)
    fig.update_xaxes(gridcolor="#eee", dtick="M6", tickformat="%Y-%m")
    fig.update_yaxes(title=dict(text=count_title(view)), gridcolor="#eee", rangemode="tozero")
    return _layout(fig, 320, legend=dict(orientation="h", y=-0.2))


def fig_its(s: pd.DataFrame, r: dict | None, view: ReturnsView) -> Figure:
    fig = Figure()
    lang = view.lang
    for period, colour in (("before", BEFORE), ("after", AFTER)):
        d = s[(s["period"] == period) & ~s["hidden"].fillna(True).astype(bool)]
        fig.add_trace(dict(type="scatter", x=_months(d["month"]), y=d["rate"], mode="markers",
                           marker=dict(color=colour, size=8), name=t(f"ret_{period}", lang),
                           hovertemplate="%{x|%Y-%m}: %{y:.1f} " + unit(view) + "<extra></extra>"))
    filled = s[s["fill"]]
    if len(filled):
        # a hidden month has no rate and is left out of the fit: marked on the axis, never at a made-up rate
        fig.add_trace(dict(type="scatter", x=_months(filled["month"]), y=np.zeros(len(filled)), mode="markers",
                           marker=dict(color="white", size=8, line=dict(color="#999", width=1.5)),
                           name=t(hidden_month_key(filled_in_fit=r is not None), lang),
                           hovertemplate="%{x|%Y-%m}: " + t("suppressed", lang) + "<extra></extra>"))
    if r is not None:
        k = int(np.argmax(s["month"].to_numpy() >= np.datetime64(pd.Timestamp(view.date))))
        pre, post = s.iloc[:k], s.iloc[k:]
        fig.add_trace(dict(type="scatter", x=_months(pre["month"]), y=pre["fitted"], mode="lines",
                           line=dict(color=FIT, width=2.5), name=t("ret_fitted", lang), hoverinfo="skip"))
        fig.add_trace(dict(type="scatter", x=_months(post["month"]), y=post["fitted"], mode="lines",
                           line=dict(color=FIT, width=2.5), showlegend=False, hoverinfo="skip"))
        fig.add_trace(dict(type="scatter", x=_months(post["month"]), y=post["counterfactual"], mode="lines",
                           line=dict(color=COUNTER, width=1.5, dash="dash"), name=t("ret_counterfactual", lang),
                           hoverinfo="skip"))
    _intervention_line(fig, view)
    fig.update_xaxes(gridcolor="#eee", dtick="M6", tickformat="%Y-%m")
    fig.update_yaxes(title=dict(text=t("ret_axis_rate", view.lang)), gridcolor="#eee", rangemode="tozero")
    return _layout(fig, 360, legend=dict(orientation="h", y=-0.2))


def fig_centres(tbl: pd.DataFrame, view: ReturnsView) -> Figure:
    """Heatmap of the shown count per centre and month; hidden cells (1-4) grey."""
    lang = view.lang
    wide = tbl.pivot(index="centre", columns="month", values="count").sort_index(ascending=False)
    hidden = tbl.pivot(index="centre", columns="month", values="hidden").reindex_like(wide).fillna(True).astype(bool)
    z = wide.to_numpy(dtype=float)
    hover = [[f"{c} {m:%Y-%m}: " + (t("suppressed", lang) if hidden.iat[i, j] else numbers.integer(z[i, j], lang))
              for j, m in enumerate(wide.columns)] for i, c in enumerate(wide.index)]
    fig = Figure([dict(type="heatmap", z=list(z), x=_months(wide.columns), y=list(wide.index), colorscale=HEAT, xgap=1,
                       ygap=1, hovertext=hover, hoverinfo="text", hoverongaps=True,
                       colorbar=dict(title=dict(text=count_title(view), side="right"), thickness=12))])
    _intervention_line(fig, view)
    fig.update_xaxes(dtick="M6", tickformat="%Y-%m")
    chosen = set(tbl.loc[tbl["producer_id"] == view.centre, "centre"]) if view.centre else set()
    fig.update_yaxes(automargin=True, tickmode="array", tickvals=list(wide.index),
                     ticktext=[f"<b>▶ {c}</b>" if c in chosen else c for c in wide.index])
    return _layout(fig, 100 + 34 * len(wide.index), plot_bgcolor="#d9d9d9")


def fig_spread(tbl: pd.DataFrame, view: ReturnsView) -> Figure:
    """Monthly rate per 1,000 referrals by centre, before and after: boxes with every month as a point."""
    fig = Figure()
    lang = view.lang
    order = sorted(tbl["centre"].unique())
    for period, colour in (("before", BEFORE), ("after", AFTER)):
        d = tbl[(tbl["period"] == period) & ~tbl["hidden"]]
        fig.add_trace(dict(type="box", y=d["centre"], x=d["rate"], name=t(f"ret_{period}", lang), orientation="h",
                           marker=dict(color=colour, size=4), line=dict(color=colour), boxpoints="all", jitter=0.4,
                           pointpos=0, hovertemplate="%{y}: %{x:.1f}<extra></extra>"))
    fig.update_layout(boxmode="group")
    fig.update_xaxes(title=dict(text=unit(view)), gridcolor="#eee", rangemode="tozero")
    fig.update_yaxes(categoryorder="array", categoryarray=order[::-1], automargin=True)
    return _layout(fig, 120 + 42 * len(order), legend=dict(orientation="h", y=-0.12))


def stamp(fig: Figure, chart_key: str, view: ReturnsView, counts: bool = False) -> Figure:
    """The figure's standalone title: chart and measure; exam type, centre and intervention date; the unit
    (a rate per 1,000 referrals, or a number per month for a chart of ``counts``); source."""
    from atlas import titles

    lang = view.lang
    c = centres().set_index("producer_id")["centre"]
    context = [label("exam_type", view.exam, lang) if view.exam else t("ret_all_exams", lang),
               str(c.get(view.centre, view.centre)) if view.centre else t("ret_all_centres", lang),
               f"{t('ret_intervention_date', lang)} {view.date}",
               t("ret_count_unit", lang) if counts else unit(view)]
    return titles.stamp(fig, f"{t(chart_key, lang)}: {measure_name(view)}", context, lang, file_stem(t(chart_key, lang), view))


def file_stem(title: str, view: ReturnsView) -> str:
    """A file name that says what the file holds: chart, measure, exam type, centre, intervention, language."""
    from atlas.titles import slug

    lang = view.lang
    c = centres().set_index("producer_id")["centre"]
    parts = [t("file_prefix", lang), title, measure_name(view),
             label("exam_type", view.exam, lang) if view.exam else t("ret_all_exams", lang),
             str(c.get(view.centre, view.centre)) if view.centre else t("ret_all_centres", lang),
             f"{t('ret_intervention', lang)} {view.date}", lang]
    return "_".join(slug(p) for p in parts)[:180]
