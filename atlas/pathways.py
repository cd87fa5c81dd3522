"""Pathways, repeat imaging and potentially low-value imaging: queries, protected tables, figures.

Pathways come from ``episode_cube``: each imaging episode (the first lumbar imaging of a person
after 365 days without one) by referrer, modality and the most intensive thing that followed within
90 or 365 days (spine surgery > rehabilitation plan > lumbar diagnosis > nothing recorded).

Protection, as everywhere in the atlas (:mod:`atlas.disclosure`):

- every count is perturbed with its cell key and counts 1-4 are hidden;
- the referrer x modality x outcome table is published with its row totals (episodes per referrer x
  modality, the Sankey's first links) and the grand total, so secondary suppression
  (:func:`etl.stats.suppress_with_totals`) runs over those margins and any total it marks is hidden
  too; the other margins (modality x outcome, the Sankey's second links, and the outcome totals of
  the "all" row) are sums of the shown cells, so they publish nothing the cells do not;
- the hidden cells of a row are merged into one "hidden" cell of that row (their true counts summed,
  their keys summed mod 1, then perturbed and hidden if 1-4 like any count), so a row's shown cells
  plus its hidden cell account for all its episodes; a flow that is still hidden is not drawn (the
  page says how many were left out);
- shares are computed from shown counts: in a row, each shown cell (the hidden cell included) over
  the sum of the row's shown cells, so the shares add up to 100 %.

Repeat imaging and low-value rates and shares use :mod:`atlas.queries` (``trend_table``,
``area_table``, ``estimate``), so they are protected and estimated exactly like the main atlas.
"""
from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qs, urlencode

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from atlas.cache import cached
from atlas import coverage, db, numbers, queries, release_queries, titles
from atlas.disclosure import settings as disclosure_settings
from atlas.disclosure import shown_counts
from atlas.export import csv_header, filters_text, nullable_ints, write_csv
from atlas.figures import FONT
from atlas.filters import DIMENSIONS, View, where_sql
from atlas.i18n import label, t
from atlas.measures import MEASURES
from atlas.state import consistent, view_from_hash
from etl import stats

OUTCOMES = ("surgery", "rehabilitation", "diagnosis", "none")
HIDDEN = "hidden"                       # the merged hidden cells of a row
COLUMNS = OUTCOMES + (HIDDEN,)          # the outcome columns as shown
MODALITIES = DIMENSIONS["modality"][1]
REFERRERS = DIMENSIONS["referrer"][1]
WINDOWS = (90, 365)
WINDOW_COLUMN = {90: "outcome_short", 365: "outcome_long"}
REPEAT_MEASURES = ("xray_then_mri_share", "repeat_mri_share")
LOWVALUE_MEASURES = ("lowvalue_rate", "lowvalue_share")
PROVIDER_MEASURES = ("private_mri_share", "private_xray_share")     # where the imaging was done
AREA_MEASURES = ("lowvalue_rate", "lowvalue_share", "xray_then_mri_share", "repeat_mri_share")
CHARTS = ("sankey", "pathways", "repeat", "lowvalue", "referrer", "areas", "providers")

# Okabe-Ito colours: referrers, modalities, outcomes
REFERRER_COLOURS = {"gp": "#0072B2", "chiropractor": "#E69F00", "specialist": "#009E73", "hospital": "#CC79A7",
                    "other": "#999999"}
MODALITY_COLOURS = {"xray": "#56B4E9", "mri": "#332288"}
OUTCOME_COLOURS = {"surgery": "#D55E00", "rehabilitation": "#009E73", "diagnosis": "#F0E442", "none": "#BBBBBB",
                   HIDDEN: "#777777"}
AREA, NATIONAL = "#D55E00", "#444444"


# ---------------------------------------------------------------- view state (URL hash)

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
    view, bad = view_from_hash(urlencode(rest), lang, db.years(), MEASURES, every, codes["region"] | codes["region2027"],
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


# ---------------------------------------------------------------- pathways

@cached(maxsize=256)
def _episode_cells(path: str, y0: int, y1: int, dims: tuple, window: int) -> pd.DataFrame:
    col = WINDOW_COLUMN[window]
    where, params = where_sql(dims, y0, y1)
    return db.query(
        f"SELECT municipality, referrer, modality, {col} AS outcome, sum(n_episodes)::DOUBLE AS n, "
        f"sum(k_episodes) AS k FROM episode_cube WHERE {where} GROUP BY ALL", params)


def episode_cells(view: View, window: int) -> pd.DataFrame:
    """True episode counts and key sums by municipality x referrer x modality x outcome (not for display)."""
    if window not in WINDOWS:
        raise ValueError(f"window must be one of {WINDOWS}")
    return _episode_cells(str(db.db_path()), int(view.y0), int(view.y1), tuple(view.dims), int(window))


def _sum_keys(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    if not by:
        out = pd.DataFrame({"n": [frame["n"].sum()], "k": [frame["k"].sum()]})
    else:
        out = frame.groupby(by, as_index=False)[["n", "k"]].sum()
    out["k"] = np.mod(out["k"], 1.0)
    return out


def pathways(view: View, window: int) -> dict[str, pd.DataFrame]:
    """Protected pathway tables for the view's area (or Denmark), years and filters.

    Returns a dict of DataFrames (only shown values; NaN = hidden):

    ``cells``    referrer, modality, outcome (the four outcomes and ``hidden``, the row's hidden cells
                 merged), ``count``, ``share`` (% of the row's shown cells)
    ``rows``     referrer, modality, ``count`` (episodes, perturbed: the Sankey's referrer -> modality links)
    ``outcomes`` modality, outcome, ``count`` (sum of the shown cells: the Sankey's modality -> outcome links)
    ``overall``  outcome, ``count`` (sum of the shown cells), ``share`` (% of their sum)
    ``total``    one row: ``count`` (all episodes, perturbed)

    On a release database the published counts are read instead (``_published_pathways``).
    """
    if db.is_release():
        return _published_pathways(view, window)
    f = episode_cells(view, window)
    if view.area is not None:
        mapping = queries.area_codes(view.level)
        f = f[f["municipality"].map(mapping) == view.area]
    grid = pd.MultiIndex.from_product([REFERRERS, MODALITIES, OUTCOMES], names=["referrer", "modality", "outcome"])
    cells = _sum_keys(f, ["referrer", "modality", "outcome"]).set_index(["referrer", "modality", "outcome"])
    cells = cells.reindex(grid).fillna({"n": 0.0, "k": 0.0}).reset_index()
    min_count, _, _ = disclosure_settings()
    # published beside the cells: the row totals (episodes per referrer x modality) and the grand total
    groups = [["referrer", "modality"], []]
    mask, hidden_totals = stats.suppress_with_totals(cells.assign(_c=cells["n"]), min_count=min_count, count="_c",
                                                     groups=groups)
    cells["count"] = shown_counts(cells["n"], cells["k"])
    cells.loc[mask.to_numpy(), "count"] = np.nan

    def margin(by: list[str]) -> pd.DataFrame:
        m = _sum_keys(cells, by)
        m["count"] = shown_counts(m["n"], m["k"])
        marked = hidden_totals.get(tuple(by))
        if marked is not None and len(marked):
            if by:
                key = m[by].apply(tuple, axis=1)
                bad = set(marked[by].apply(tuple, axis=1))
                m.loc[key.isin(bad), "count"] = np.nan
            else:
                m["count"] = np.nan
        return m.drop(columns=["n", "k"])

    rows, total = margin(["referrer", "modality"]), margin([])
    # the hidden cells of each row, merged into one cell and protected like any count
    hid = cells[cells["count"].isna() & (cells["n"] > 0)]
    merged = _sum_keys(hid, ["referrer", "modality"]) if len(hid) else pd.DataFrame(columns=["referrer", "modality", "n", "k"])
    merged = rows[["referrer", "modality", "count"]].rename(columns={"count": "row"}).merge(
        merged, on=["referrer", "modality"], how="left").fillna({"n": 0.0, "k": 0.0})
    merged["count"] = shown_counts(merged["n"].astype(float), merged["k"].astype(float))
    merged.loc[merged["row"].isna(), "count"] = np.nan       # a hidden row total hides its parts
    merged["outcome"] = HIDDEN
    cells = pd.concat([cells.drop(columns=["n", "k"]), merged[["referrer", "modality", "outcome", "count"]]],
                      ignore_index=True)

    def shown_sum(by: list[str]) -> pd.DataFrame:
        # sums of shown cells only: they publish nothing the cells do not
        return cells.groupby(by, as_index=False)["count"].sum(min_count=1)

    outcomes, overall = shown_sum(["modality", "outcome"]), shown_sum(["outcome"])
    # an outcome of the "all" row whose every cell is hidden (or zero beside hidden ones) is hidden
    # too: a sum of nothing shown is not a shown 0
    by_outcome = cells.groupby("outcome")["count"]
    nothing_shown = by_outcome.apply(lambda c: bool(c.isna().any() and not (c > 0).any()))
    overall.loc[overall["outcome"].map(nothing_shown).fillna(False).astype(bool), "count"] = np.nan
    row_sum = cells.groupby(["referrer", "modality"])["count"].transform(lambda s: s.sum(min_count=1))
    cells["share"] = cells["count"] / row_sum * 100
    overall["share"] = overall["count"] / overall["count"].sum(min_count=1) * 100
    return {"cells": cells, "rows": rows, "outcomes": outcomes, "overall": overall, "total": total}


def pathway_table(p: dict[str, pd.DataFrame], lang: str) -> pd.DataFrame:
    """One row per referrer x modality (and one for all episodes): episodes, then the count and
    share of each outcome. Rows with no episodes are left out."""
    cells, rows = p["cells"], p["rows"]
    out = []
    for (ref, mod), part in cells.groupby(["referrer", "modality"], sort=False):
        total = rows[(rows.referrer == ref) & (rows.modality == mod)]["count"].iloc[0]
        if total == 0:
            continue
        rec = {"referrer": label("referrer", ref, lang), "modality": label("modality", mod, lang), "episodes": total}
        for r in part.itertuples():
            rec[f"{r.outcome}_count"] = r.count
            rec[f"{r.outcome}_share"] = r.share
        out.append(rec)
    rec = {"referrer": t("all", lang), "modality": t("all", lang), "episodes": p["total"]["count"].iloc[0]}
    for r in p["overall"].itertuples():
        rec[f"{r.outcome}_count"] = r.count
        rec[f"{r.outcome}_share"] = r.share
    out.append(rec)
    cols = ["referrer", "modality", "episodes"] + [f"{o}_{k}" for o in COLUMNS for k in ("count", "share")]
    return pd.DataFrame(out).reindex(columns=cols)


def sankey(p: dict[str, pd.DataFrame], view: View, window: int) -> tuple[go.Figure, int]:
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
    names = []
    for kind, value in nodes:
        names.append(label(kind, value, lang))
    fig = go.Figure(go.Sankey(
        arrangement="snap", valueformat=",.0f",
        node=dict(label=names, color=colours, pad=14, thickness=16, line=dict(color="white", width=0.5),
                  hovertemplate="%{label}: %{value:,.0f}<extra></extra>"),
        link=dict(source=src, target=dst, value=val, color=col, customdata=hover, hovertemplate="%{customdata}<extra></extra>"),
    ))
    # a new revision each time, so the browser redraws the flows rather than patching the last ones
    fig.update_layout(height=480, margin=dict(l=10, r=10, t=60, b=10), font=FONT, paper_bgcolor="white",
                      datarevision=f"{view.level}-{view.area}-{view.y0}-{view.y1}-{window}-{view.dims}-{len(val)}")
    for x, text in ((0.0, label("dimension", "referrer", lang)),
                    (0.5, label("dimension", "modality", lang)),
                    (1.0, t("pw_within", lang).format(days=window))):
        fig.add_annotation(x=x, y=1.0, xref="paper", yref="paper", text=f"<b>{text}</b>", showarrow=False, yanchor="bottom",
                           xanchor={0.0: "left", 0.5: "center", 1.0: "right"}[x], font=dict(size=12))
    where = area_name(view)
    titles.stamp(fig, f"{t('pw_sankey', lang)}, {titles.period(view)}, {where}",
                 [titles.filters_text(view, lang), t("pw_within", lang).format(days=window)], lang,
                 titles.file_stem(t("pw_sankey", lang), view, None, lang, where, t("pw_days", lang).format(days=window)))
    return fig, hidden


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


# ---------------------------------------------------------------- repeat imaging and low value

def trends(view: View, keys: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    """Per measure: estimates per year for the selected area (code = its code) and Denmark (code 0)."""
    return {k: queries.trend_table(replace(view, measure=k), view.area) for k in keys}


def by_referrer(view: View) -> pd.DataFrame:
    """Low-value imaging by referrer for the area (code = its code) and Denmark (code 0): share of
    episodes (%) and rate per 1,000 adults, protected and estimated like the atlas's estimates."""
    if db.is_release():
        return release_queries.by_referrer(view, REFERRERS)
    mapping = queries.area_codes(view.level)
    out = []
    chosen = view.dim("referrer")
    for key in ("lowvalue_share", "lowvalue_rate"):
        m = MEASURES[key]
        for ref in REFERRERS:
            if chosen is not None and ref != chosen:
                continue
            ev = tuple(sorted({**dict(view.event_dims()), "referrer": ref}.items()))
            f = queries.strata(key, view.y0, view.y1, view.population_dims(), ev).copy()
            f["code"] = f["municipality"].map(mapping)
            places = [(0, f)]
            if view.area is not None:
                places.append((view.area, f[f["code"] == view.area]))
            for code, part in places:
                if part.empty:
                    continue
                e = queries.estimate(part.assign(code=code), ["code"], m, view)
                out.append(e.assign(measure=key, referrer=ref))
    if not out:
        return pd.DataFrame(columns=["code", "referrer", "measure", "num_shown", "den_shown", "value", "lower", "upper", "hidden"])
    return pd.concat(out, ignore_index=True)


def area_table(view: View) -> pd.DataFrame:
    """Every area at the view's level: low-value rate and share, X-ray then MRI and repeat MRI shares."""
    parts = []
    for k in AREA_MEASURES:
        tbl, national = queries.area_table(replace(view, measure=k, within=None))
        nat = pd.DataFrame([{**national.to_dict(), "code": 0, "name": t("denmark_total", view.lang)}])
        both = pd.concat([nat, tbl], ignore_index=True)
        parts.append(both[["code", "name", "num_shown", "den_shown", "value", "lower", "upper", "hidden"]].assign(measure=k))
    return pd.concat(parts, ignore_index=True)


def trend_figure(tr: pd.DataFrame, view: View, key: str) -> go.Figure:
    from atlas import figures

    from atlas import notices

    reason = notices.empty_reason(tr[tr["code"] == 0] if len(tr) else tr)
    if reason:
        return notices.message_figure(t(reason, view.lang), 320)
    m = MEASURES[key]
    fig = figures.trend(tr, replace(view, measure=key), m, view.area, area_name(view) if view.area is not None else None,
                        incomplete=coverage.incomplete_years(key))
    years = db.years()
    where = t("denmark_total", view.lang) + (f" {t('and', view.lang)} {area_name(view)}" if view.area is not None else "")
    return titles.stamp(fig, f"{m.name(view.lang)}, {years[0]}–{years[-1]}, {where}",
                        titles.context_parts(replace(view, rates="dsr"), m, view.lang, geo=False), view.lang,
                        titles.file_stem(t("trend", view.lang), view, m, view.lang, where))


def referrer_figure(tbl: pd.DataFrame, view: View) -> go.Figure:
    from plotly.subplots import make_subplots

    lang = view.lang
    from atlas import notices

    reason = notices.empty_reason(tbl[tbl["code"] == 0] if len(tbl) else tbl)
    if reason:
        return notices.message_figure(t(reason, lang), 340)
    fig = make_subplots(rows=1, cols=2, subplot_titles=[t("pw_lv_share_short", lang), t("pw_lv_rate_short", lang)],
                        horizontal_spacing=0.18)
    series = [(0, t("denmark_total", lang), NATIONAL)]
    if view.area is not None:
        series.append((view.area, area_name(view), AREA))
    for col, key in ((1, "lowvalue_share"), (2, "lowvalue_rate")):
        for code, name, colour in series:
            d = tbl[(tbl["measure"] == key) & (tbl["code"] == code) & ~tbl["hidden"].astype(bool)]
            d = d.set_index("referrer").reindex([r for r in REFERRERS if r in set(d["referrer"])])
            fig.add_trace(go.Bar(
                y=[label("referrer", r, lang) for r in d.index], x=d["value"], orientation="h", name=name,
                marker_color=colour, showlegend=(col == 1), legendgroup=str(code),
                error_x=dict(type="data", symmetric=False, array=d["upper"] - d["value"],
                             arrayminus=d["value"] - d["lower"], color="#555"),
                hovertemplate="%{y}: %{x:.1f}<extra>" + name + "</extra>"), row=1, col=col)
    fig.update_layout(barmode="group", height=340, margin=dict(l=10, r=10, t=40, b=10), font=FONT,
                      paper_bgcolor="white", plot_bgcolor="white", legend=dict(orientation="h", y=-0.15))
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(gridcolor="#eee", rangemode="tozero")
    fig.update_xaxes(title_text="%", row=1, col=1)
    fig.update_xaxes(title_text=t("per_1000", lang), row=1, col=2)
    where = area_name(view)
    return titles.stamp(fig, f"{t('pw_by_referrer', lang)}, {titles.period(view)}, {where}",
                        [titles.filters_text(view, lang), f"{t('std_dsr', lang)} (ESP 2013)"], lang,
                        titles.file_stem(t("pw_by_referrer", lang), view, None, lang, where))


# ---------------------------------------------------------------- CSV

def header_rows(view: View, window: int, title: str) -> list[list[str]]:
    lang = view.lang
    return csv_header(lang, title, [
        [t("years", lang), titles.period(view)],
        [t("level", lang), titles.geography(view, lang)],
        [t("selected_area", lang), area_name(view) + (f" ({view.area})" if view.area is not None else "")],
        [t("pw_window", lang), t("pw_days", lang).format(days=window)],
        [t("filters", lang), filters_text(view)],
        [t("pw_episode", lang), t("pw_episode_def", lang)],
        [t("complete_years_col", lang), coverage.note(coverage.pathway_incomplete_years(window), lang)
         or t("all_years", lang)],
    ], "/pathways", hash_of(view, window), t("pw_share_note", lang))


def _estimates(tbl: pd.DataFrame, lang: str, keys: list[str]) -> pd.DataFrame:
    out = tbl[keys].copy()
    out["count"] = nullable_ints(tbl["num_shown"])
    out["denominator"] = nullable_ints(tbl["den_shown"])
    for c in ("value", "lower", "upper"):
        out[c] = tbl[c].astype(float)
    out["note"] = tbl["hidden"].map(lambda h: t("suppressed", lang) if h else "")
    return out


def chart_csv(chart: str, view: View, window: int) -> tuple[bytes, str]:
    """The CSV of one chart of the pathways page and its file name."""
    title, body = chart_table(chart, view, window)
    extra = t("pw_days", view.lang).format(days=window) if chart in ("sankey", "pathways") else ""
    name = titles.file_stem(title, view, None, view.lang, area_name(view), extra) + ".csv"
    return write_csv(header_rows(view, window, title), body, view.sep, view.lang), name


def chart_table(chart: str, view: View, window: int) -> tuple[str, pd.DataFrame]:
    """The title and table of one chart of the pathways page: its CSV's body and its table view."""
    lang = view.lang
    if chart in ("sankey", "pathways"):
        p = pathways(view, window)
        if chart == "sankey":
            a = p["rows"].assign(source=[label("referrer", r, lang) for r in p["rows"]["referrer"]],
                                 target=[label("modality", m, lang) for m in p["rows"]["modality"]])
            b = p["outcomes"].assign(source=[label("modality", m, lang) for m in p["outcomes"]["modality"]],
                                     target=[label("outcome", o, lang) for o in p["outcomes"]["outcome"]])
            body = pd.concat([a, b], ignore_index=True)[["source", "target", "count"]]
            body["note"] = body["count"].isna().map(lambda h: t("suppressed", lang) if h else "")
            body["count"] = nullable_ints(body["count"])
        else:
            body = pathway_table(p, lang)
            for c in body.columns:
                if c == "episodes" or c.endswith("_count"):
                    body[c] = nullable_ints(body[c])
            body = body.rename(columns={f"{o}_{k}": f"{label('outcome', o, lang)} ({'n' if k == 'count' else '%'})"
                                        for o in COLUMNS for k in ("count", "share")})
        title = t("pw_sankey", lang) if chart == "sankey" else t("pw_table", lang)
    elif chart in ("repeat", "lowvalue", "providers"):
        keys = {"repeat": REPEAT_MEASURES, "lowvalue": LOWVALUE_MEASURES, "providers": PROVIDER_MEASURES}[chart]
        frames = []
        for k, tr in trends(view, keys).items():
            e = _estimates(tr, lang, ["year", "code"])
            e.insert(0, "measure", MEASURES[k].name(lang))
            e["complete"] = [int(y) not in coverage.incomplete_years(k) for y in tr["year"]]
            frames.append(e)
        body = pd.concat(frames, ignore_index=True)
        title = {"repeat": t("pw_repeat", lang), "lowvalue": t("pw_lowvalue", lang),
                 "providers": t("pw_providers", lang)}[chart]
    elif chart == "referrer":
        tbl = by_referrer(view)
        body = _estimates(tbl, lang, ["code", "referrer", "measure"])
        body["referrer"] = [label("referrer", r, lang) for r in body["referrer"]]
        body["measure"] = [MEASURES[k].name(lang) for k in body["measure"]]
        title = t("pw_by_referrer", lang)
    elif chart == "areas":
        tbl = area_table(view)
        body = _estimates(tbl, lang, ["code", "name", "measure"])
        body["measure"] = [MEASURES[k].name(lang) for k in body["measure"]]
        title = t("pw_areas", lang)
    else:
        raise ValueError(chart)
    if chart in ("sankey", "pathways"):
        body["complete"] = coverage.complete(range(view.y0, view.y1 + 1), coverage.pathway_incomplete_years(window))
    elif chart in ("referrer", "areas"):
        body["complete"] = [coverage.complete(range(view.y0, view.y1 + 1), coverage.incomplete_years(k))
                            for k in (tbl["measure"])]
    return title, body


def _published_pathways(view: View, window: int) -> dict[str, pd.DataFrame]:
    """The pathway tables from a release: its published counts, hidden ones NaN.

    A row's hidden cells are shown merged as their sum (the published row total less its shown
    cells, which anyone can work out); a merged sum from 1 to 4 is hidden too. Where the release
    publishes no pathways for the view (a municipality, a filter, a region outside the 3-year
    periods), every count is hidden.
    """
    min_count, _, _ = disclosure_settings()
    grid = pd.MultiIndex.from_product([REFERRERS, MODALITIES, OUTCOMES], names=["referrer", "modality", "outcome"])
    got = release_queries.pathway_counts(view, WINDOW_COLUMN[window])
    if got is None:
        got = {"cells": pd.DataFrame(columns=["referrer", "modality", "outcome", "count"]),
               "rows": pd.DataFrame(columns=["referrer", "modality", "count"]), "total": pd.DataFrame({"count": [np.nan]})}
    cells = got["cells"].set_index(["referrer", "modality", "outcome"])["count"].astype(float).reindex(grid).reset_index()
    rows = got["rows"].set_index(["referrer", "modality"])["count"].astype(float).reindex(
        pd.MultiIndex.from_product([REFERRERS, MODALITIES], names=["referrer", "modality"])).reset_index()
    shown = cells.groupby(["referrer", "modality"], as_index=False)["count"].sum(min_count=1).rename(columns={"count": "shown"})
    merged = rows.merge(shown, on=["referrer", "modality"], how="left")
    merged["count"] = merged["count"] - merged["shown"].fillna(0.0)
    merged.loc[(merged["count"] >= 1) & (merged["count"] < min_count), "count"] = np.nan
    merged["outcome"] = HIDDEN
    cells = pd.concat([cells, merged[["referrer", "modality", "outcome", "count"]]], ignore_index=True)
    outcomes = cells.groupby(["modality", "outcome"], as_index=False)["count"].sum(min_count=1)
    overall = cells.groupby(["outcome"], as_index=False)["count"].sum(min_count=1)
    row_sum = cells.groupby(["referrer", "modality"])["count"].transform(lambda s: s.sum(min_count=1))
    cells["share"] = cells["count"] / row_sum * 100
    overall["share"] = overall["count"] / overall["count"].sum(min_count=1) * 100
    total = got["total"][["count"]].astype(float).reset_index(drop=True)
    return {"cells": cells, "rows": rows, "outcomes": outcomes, "overall": overall, "total": total}
