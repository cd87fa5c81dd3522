"""The funnel plot against a municipality's comparable municipalities (issue 27): with ``funnel=peers``
in the view and a municipality selected, the funnel shows that municipality and its peers
(:func:`atlas.policy.peers_of`), with the limits around the peers' pooled level instead of Denmark's:
for a rate their summed observed over summed expected counts (a ratio to Denmark's age- and
sex-specific rates, the same axis as the usual funnel), for a share their pooled share. Each point is
flagged against that level with the exact test of the usual funnel (``etl.stats.funnel_flags``,
``funnel_flags_proportion``). A peer whose figure is hidden is left out of the level and the plot.
Drawn from the view's own table of areas, so it applies on both databases alike."""
from __future__ import annotations

import numpy as np
import pandas as pd

from atlas import figures, policy
from atlas.filters import View
from atlas.i18n import t
from atlas.measures import Measure
from etl import stats


def peer_points(tbl: pd.DataFrame, view: View, measure: Measure) -> tuple[pd.DataFrame, float, list[int]] | None:
    """(points, level, peers used): the selected municipality and its shown peers with ``x``, ``y``
    and ``peer_flag`` against the peers' pooled level; None when the peer funnel does not apply (no
    municipality selected, no peers, none of them shown)."""
    if view.funnel != "peers" or view.level != "municipality" or view.area is None:
        return None
    near = policy.peers_of(int(view.area), view.y0, view.y1)
    if not near:
        return None
    hidden = tbl["hidden"].fillna(True).astype(bool)
    ok = ~hidden & tbl["num_shown"].notna()
    if measure.kind == "rate":
        ok &= tbl["expected"].astype(float) > 0
    else:
        ok &= tbl["den_shown"].astype(float) > 0
    d = tbl[ok & tbl["code"].astype(int).isin([int(view.area), *near])].copy()
    peers = d[d["code"].astype(int).isin(near)]
    if peers.empty:
        return None
    o = d["num_shown"].astype(float).to_numpy()
    if measure.kind == "rate":
        level = float(peers["num_shown"].astype(float).sum() / peers["expected"].astype(float).sum())
        d["x"], d["y"] = d["expected"].astype(float), o / d["expected"].astype(float)
        d["peer_flag"] = stats.funnel_flags(o, d["x"].to_numpy(), level)
    else:
        level = float(peers["num_shown"].astype(float).sum() / peers["den_shown"].astype(float).sum())
        d["x"], d["y"] = d["den_shown"].astype(float), o / d["den_shown"].astype(float)
        d["peer_flag"] = stats.funnel_flags_proportion(o, d["x"].to_numpy(), level)
    d["peer_flag"] = d["peer_flag"].fillna("not_tested")
    return d, level, [int(c) for c in peers["code"]]


def figure(tbl: pd.DataFrame, view: View, measure: Measure, area_name: str):
    """The funnel plot of the selected municipality among its comparable municipalities, or None
    when it does not apply (the page then draws the funnel against Denmark and says why)."""
    got = peer_points(tbl, view, measure)
    if got is None:
        return None
    d, level, _ = got
    lang = view.lang
    xs = np.geomspace(max(d["x"].min() * 0.8, 1), d["x"].max() * 1.2, figures.CURVE_POINTS)
    if measure.kind == "rate":
        lim = stats.funnel_limits(xs, level)
        xt, yt = t("expected_axis", lang), t("ratio_axis", lang)
    else:
        lim = stats.funnel_limits_proportion(xs, level)
        xt, yt = t("share_of_imaging", lang), measure.name(lang)
    fig = figures._fig()
    for conf, dash in (("95", "dot"), ("99_8", "dash")):
        for side in ("lower", "upper"):
            fig.add_trace(dict(type="scatter", x=xs, y=lim[f"{side}_{conf}"], mode="lines", hoverinfo="skip",
                               line=dict(color="#777", dash=dash, width=1.2), legendgroup=f"lim{conf}",
                               name=t(f"limits_{conf}", lang), showlegend=side == "upper"))
    fig.add_trace(dict(type="scatter", x=[xs[0], xs[-1]], y=[level, level], mode="lines", hoverinfo="skip",
                       line=dict(color=figures.NATIONAL, width=1),
                       name=t("funnel_peers_line", lang).format(name=area_name)))
    for flag, colour in figures.FLAG_COLOURS.items():
        part = d[d["peer_flag"] == flag]
        if part.empty:
            continue
        fig.add_trace(dict(type="scatter", x=part["x"], y=part["y"], mode="markers+text", name=t(flag, lang),
                           customdata=part["code"], text=part["name"], textposition="top center",
                           textfont=dict(size=10), marker=dict(color=colour, size=9, line=dict(width=0.5, color="white")),
                           hovertext=figures.hover_text(part, measure, lang), hoverinfo="text"))
    chosen = d[d["code"].astype(int) == int(view.area)]
    if len(chosen):
        fig.add_trace(dict(type="scatter", x=chosen["x"], y=chosen["y"], mode="markers", name=area_name,
                           customdata=chosen["code"], hoverinfo="skip",
                           marker=dict(symbol="circle-open", size=17, color=figures.SELECTED,
                                       line=dict(width=2.5, color=figures.SELECTED))))
    tickvals, ticktext = figures.log_ticks(float(xs[0]), float(xs[-1]), lang)
    fig.update_xaxes(title=dict(text=xt), type="log", gridcolor="#eee", tickvals=tickvals, ticktext=ticktext)
    fig.update_yaxes(title=dict(text=yt), gridcolor="#eee", **({"tickformat": ".0%"} if measure.kind == "share" else {}))
    return figures._layout(fig, 440, legend=dict(orientation="h", y=-0.22, font=dict(size=11)))


def note(view: View, used: bool, area_name: str | None) -> str | None:
    """What the funnel compares with, when the reader asked for the peers: the peers' level when it
    was drawn, or why the funnel compares with Denmark instead."""
    if view.funnel != "peers":
        return None
    if used:
        return t("funnel_peers_note", view.lang).format(name=area_name)
    return t("funnel_peers_none", view.lang)


def verdicts(tbl: pd.DataFrame, view: View, measure: Measure) -> tuple[float, dict[int, str]] | None:
    """(target, flags): the peers' pooled level as the CSV and the API give it (a ratio to Denmark's
    rates for a rate, a share in per cent for a share) and each plotted point's flag against it, by
    code; None when the peer funnel does not apply. The one answer of the page's CSV
    (:func:`csv_columns`) and of the API's ``funnel=peers`` (``atlas.api.tables.peer_rows``)."""
    got = peer_points(tbl, view, measure)
    if got is None:
        return None
    d, level, _ = got
    return (level if measure.kind == "rate" else level * 100), dict(zip(d["code"].astype(int), d["peer_flag"].astype(str)))


def csv_columns(body: pd.DataFrame, tbl: pd.DataFrame, view: View, measure: Measure) -> dict[str, list]:
    """The funnel CSV's columns when it is drawn against the comparable municipalities:
    ``peer_target`` (their pooled level, on every row the plot shows) and ``peer_funnel_flag``
    (each shown point's verdict against it, in words); empty otherwise."""
    got = verdicts(tbl, view, measure)
    if got is None:
        return {}
    value, flags = got
    shown = [c is not None and not pd.isna(c) and int(c) in flags for c in body["code"]]
    return {"peer_target": [value if s else None for s in shown],
            "peer_funnel_flag": [t(flags[int(c)], view.lang) if s else None for c, s in zip(body["code"], shown)]}
