"""The pathways page's figures: the Sankey of pathways, the trends and low-value imaging by referrer.
Drawn as the plain figure data Dash sends (:mod:`atlas.plot`), as the atlas page's charts are: the JSON
is that of the ``plotly.graph_objects`` figures they were drawn with before."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from atlas import coverage, data, db, numbers, plot, titles
from atlas.figures import FONT
from atlas.filters import View
from atlas.i18n import label, t
from atlas.i18n_pathways_returns import SANKEY_SHORT
from atlas.measures import MEASURES
from atlas.pathways.constants import COLUMNS, HIDDEN, MODALITIES, REFERRERS
from atlas.pathways.state import area_name

# Okabe-Ito colours: referrers, modalities, outcomes
REFERRER_COLOURS = {"gp": "#0072B2", "chiropractor": "#E69F00", "specialist": "#009E73", "hospital": "#CC79A7",
                    "other": "#999999"}
MODALITY_COLOURS = {"xray": "#56B4E9", "mri": "#332288"}
OUTCOME_COLOURS = {"surgery": "#D55E00", "rehabilitation": "#009E73", "diagnosis": "#F0E442", "none": "#BBBBBB",
                   HIDDEN: "#777777"}
AREA, NATIONAL = "#D55E00", "#444444"


# the height of a second line of a Sankey's column heading (12 px bold, 1.3 lines)
HEADING_LINE = 16


def sankey(p: dict[str, pd.DataFrame], view: View, window: int) -> tuple[plot.Figure, int]:
    """Referrer -> modality -> outcome. Only shown, non-zero flows are drawn; returns the figure
    and the number of flows left out because they are hidden."""
    lang = view.lang
    nodes = [("referrer", r) for r in REFERRERS] + [("modality", m) for m in MODALITIES] + [("outcome", o) for o in COLUMNS]
    index = {n: i for i, n in enumerate(nodes)}
    colours = ([REFERRER_COLOURS[r] for r in REFERRERS] + [MODALITY_COLOURS[m] for m in MODALITIES]
               + [OUTCOME_COLOURS[o] for o in COLUMNS])
    src, dst, val, col, hover = [], [], [], [], []
    hidden = 0
    # two stages of links: referrer -> modality, then modality -> what followed
    stages = ((p["rows"], "referrer", "modality", REFERRER_COLOURS, "referrer", 0.45),
              (p["outcomes"], "modality", "outcome", OUTCOME_COLOURS, "outcome", 0.55))
    for frame, source, target, palette, colour_by, alpha in stages:
        totals = frame.groupby(source)["count"].sum(min_count=1)
        for r in frame.itertuples():
            if pd.isna(r.count):
                hidden += 1
                continue
            if r.count <= 0:
                continue
            a, b = getattr(r, source), getattr(r, target)
            src.append(index[(source, a)])
            dst.append(index[(target, b)])
            val.append(float(r.count))
            col.append(_rgba(palette[getattr(r, colour_by)], alpha))
            share = r.count / totals[a] * 100 if totals.get(a, 0) else np.nan
            hover.append(f"{label(source, a, lang)} → {label(target, b, lang)}: {numbers.integer(r.count, lang)} "
                         f"({numbers.percent(share, 1, lang)})")
    names = [label(kind, value, lang) for kind, value in nodes]
    # the short names ride along; assets/chart-fit.js draws them where the chart is narrow
    short = [SANKEY_SHORT.get(n, (names[i],) * 2)[lang == "da"] for i, n in enumerate(nodes)]
    fig = plot.Figure([dict(
        type="sankey", arrangement="snap", valueformat=",.0f",
        node=dict(label=names, customdata=short, color=colours, pad=14, thickness=16, line=dict(color="white", width=0.5),
                  hovertemplate="%{label}: %{value:,.0f}<extra></extra>"),
        link=dict(source=src, target=dst, value=val, color=col, customdata=hover, hovertemplate="%{customdata}<extra></extra>"),
    )])
    # a new revision each time, so the browser redraws the flows rather than patching the last ones
    fig.update_layout(height=480, margin=dict(l=10, r=10, t=60, b=10), font=FONT, paper_bgcolor="white",
                      datarevision=f"{view.level}-{view.area}-{view.y0}-{view.y1}-{window}-{view.dims}-{len(val)}")
    for x, text in ((0.0, label("dimension", "referrer", lang)),
                    (0.5, label("dimension", "modality", lang)),
                    (1.0, t("pw_within", lang).format(days=window))):
        fig.add_annotation(dict(x=x, y=1.0, xref="paper", yref="paper", text=f"<b>{text}</b>", showarrow=False,
                                yanchor="bottom", xanchor={0.0: "left", 0.5: "center", 1.0: "right"}[x], font=dict(size=12)))
    where = area_name(view)
    titles.stamp(fig, f"{t('pw_sankey', lang)}, {titles.period(view)}, {where}",
                 [titles.filters_text(view, lang), t("pw_within", lang).format(days=window)], lang,
                 titles.file_stem(t("pw_sankey", lang), view, None, lang, where, t("pw_days", lang).format(days=window)))
    # room above the flows for a heading on two lines: where two headings would meet on a narrow
    # screen, assets/chart-fit.js sets the wider one on two lines, growing upwards
    fig.update_layout(margin=dict(t=fig.layout["margin"]["t"] + HEADING_LINE), height=fig.layout["height"] + HEADING_LINE)
    return fig, hidden


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"



def trend_figure(tr: pd.DataFrame, view: View, key: str) -> plot.Figure:
    from atlas import figures

    from atlas import notices

    reason = notices.empty_reason(tr[tr["code"] == 0] if len(tr) else tr)
    if reason:
        return notices.message_figure(t(reason, view.lang), 320)
    m = MEASURES[key]
    fig = figures.trend(tr, replace(view, measure=key), m, view.area, area_name(view) if view.area is not None else None,
                        incomplete=coverage.incomplete_years(key))
    years = data.years()
    where = t("denmark_total", view.lang) + (f" {t('and', view.lang)} {area_name(view)}" if view.area is not None else "")
    return titles.stamp(fig, f"{m.name(view.lang)}, {years[0]}–{years[-1]}, {where}",
                        titles.context_parts(replace(view, rates="isr"), m, view.lang, geo=False), view.lang,
                        titles.file_stem(t("trend", view.lang), view, m, view.lang, where))


def referrer_figure(tbl: pd.DataFrame, view: View) -> plot.Figure:
    lang = view.lang
    from atlas import notices

    reason = notices.empty_reason(tbl[tbl["code"] == 0] if len(tbl) else tbl)
    if reason:
        return notices.message_figure(t(reason, lang), 340)
    # two panels side by side, each with its own axes, as make_subplots(rows=1, cols=2, horizontal_spacing=0.18)
    fig, panels = plot.grid([t("pw_lv_share_short", lang), t("pw_lv_rate_short", lang)], cols=2, vspace=0.0, hspace=0.18,
                            shared_y=False, shared_x=False)
    series = [(0, t("denmark_total", lang), NATIONAL)]
    if view.area is not None:
        series.append((view.area, area_name(view), AREA))
    for col, key in ((1, "lowvalue_share"), (2, "lowvalue_rate")):
        for code, name, colour in series:
            d = tbl[(tbl["measure"] == key) & (tbl["code"] == code) & ~tbl["hidden"].astype(bool)]
            d = d.set_index("referrer").reindex([r for r in REFERRERS if r in set(d["referrer"])])
            xaxis, yaxis = panels[col - 1]
            fig.add_trace(dict(
                type="bar", y=[label("referrer", r, lang) for r in d.index], x=d["value"], orientation="h", name=name,
                marker=dict(color=colour), showlegend=(col == 1), legendgroup=str(code),
                error_x=dict(type="data", symmetric=False, array=d["upper"] - d["value"],
                             arrayminus=d["value"] - d["lower"], color="#555"),
                hovertemplate="%{y}: %{x:.1f}<extra>" + name + "</extra>", xaxis=xaxis, yaxis=yaxis))
    fig.update_layout(barmode="group", height=340, margin=dict(l=10, r=10, t=40, b=10), font=FONT,
                      paper_bgcolor="white", plot_bgcolor="white", legend=dict(orientation="h", y=-0.15))
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(gridcolor="#eee", rangemode="tozero")
    plot.merge(fig.layout["xaxis"], {"title": {"text": "%"}})
    plot.merge(fig.layout["xaxis2"], {"title": {"text": t("per_1000", lang)}})
    where = area_name(view)
    return titles.stamp(fig, f"{t('pw_by_referrer', lang)}, {titles.period(view)}, {where}",
                        [titles.filters_text(view, lang), f"{t('std_isr', lang)} (ESP 2013)"], lang,
                        titles.file_stem(t("pw_by_referrer", lang), view, None, lang, where))
