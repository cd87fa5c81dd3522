"""The pathways page's tables and CSV files: one per chart, with the header every atlas CSV carries."""
from __future__ import annotations

import pandas as pd

from atlas import coverage, titles
from atlas.export import csv_header, filters_text, nullable_ints, write_csv
from atlas.filters import View
from atlas.i18n import label, t
from atlas.measures import MEASURES
from atlas.pathways.constants import COLUMNS, LOWVALUE_MEASURES, PROVIDER_MEASURES, REPEAT_MEASURES
from atlas.pathways.queries import area_table, by_referrer, pathways, trends
from atlas.pathways.state import area_name, hash_of


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
    from atlas.data.domain import status_words

    out["note"] = status_words(tbl, lang)
    return out


def chart_csv(chart: str, view: View, window: int) -> tuple[bytes, str]:
    """The CSV of one chart of the pathways page and its file name."""
    title, body = chart_table(chart, view, window)
    extra = t("pw_days", view.lang).format(days=window) if chart in ("sankey", "pathways") else ""
    name = titles.file_stem(title, view, None, view.lang, area_name(view), extra) + ".csv"
    return write_csv(header_rows(view, window, title) + [api_row(chart, view, window)], body, view.sep, view.lang), name


def api_row(chart: str, view: View, window: int) -> list[str]:
    """The header item with the open-data API's address of the chart's figures (the address the
    chart's API menu shows: :func:`atlas.api.page_views.pathways_url`)."""
    from atlas.api.page_views import pathways_url

    return [t("api_address", view.lang), pathways_url(chart, view, window)]


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
