"""Protected pathway tables (from ``episode_cube``, or a release's published counts) and the
repeat-imaging and low-value estimates by referrer and by area (see :mod:`atlas.pathways`)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from atlas.cache import cached
from atlas import db, queries, release_queries
from atlas.disclosure import settings as disclosure_settings
from atlas.disclosure import shown_counts
from atlas.filters import View, where_sql
from atlas.i18n import t
from atlas.measures import MEASURES
from atlas.pathways.constants import AREA_MEASURES, HIDDEN, MODALITIES, OUTCOMES, REFERRERS, WINDOW_COLUMN, WINDOWS
from etl import stats


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


def trends(view: View, keys: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    """Per measure: estimates per year for the selected area (code = its code) and Denmark (code 0)."""
    return {k: queries.trend_table(replace(view, measure=k), view.area) for k in keys}


def by_referrer(view: View) -> pd.DataFrame:
    """Low-value imaging by referrer for the area (code = its code) and Denmark (code 0): share of
    episodes (%) and rate per 1,000 adults, protected and estimated like the atlas's estimates.

    Denmark's rows do not depend on the area or level, so they are kept apart (cached) and choosing
    another area estimates only the area's rows."""
    if db.is_release():
        return release_queries.by_referrer(view, REFERRERS)
    key = replace(view, area=None, level="municipality", within=None, map="geo", sep=",", lang="en", colours="own",
                  breaks="", tables=0, measure=View.measure)
    path = str(db.db_path())
    parts = [_referrer_rows(path, key, None, None)]
    if view.area is not None:
        parts.append(_referrer_rows(path, key, view.level, view.area))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=["code", "referrer", "measure", "num_shown", "den_shown", "value", "lower", "upper", "hidden"])
    out = pd.concat(parts, ignore_index=True)
    # by measure, then referrer, Denmark before the area (the CSV's order)
    order = (out["measure"].map({"lowvalue_share": 0, "lowvalue_rate": 1}) * 100
             + out["referrer"].map({r: i for i, r in enumerate(REFERRERS)}) * 2 + (out["code"] != 0))
    return out.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)


@cached(maxsize=256)
def _referrer_rows(path: str, view: View, level: str | None, area: int | None) -> pd.DataFrame:
    """The rows of :func:`by_referrer` for Denmark (``area`` None: code 0) or one area at ``level``."""
    mapping = queries.area_codes(level) if area is not None else None
    out = []
    chosen = view.dim("referrer")
    for key in ("lowvalue_share", "lowvalue_rate"):
        m = MEASURES[key]
        for ref in REFERRERS:
            if chosen is not None and ref != chosen:
                continue
            ev = tuple(sorted({**dict(view.event_dims()), "referrer": ref}.items()))
            f = queries.strata(key, view.y0, view.y1, view.population_dims(), ev)
            part = f[f["municipality"].map(mapping) == area] if area is not None else f
            if part.empty:
                continue
            e = queries.estimate(part.assign(code=area if area is not None else 0), ["code"], m, view)
            out.append(e.assign(measure=key, referrer=ref))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def area_table(view: View) -> pd.DataFrame:
    """Every area at the view's level: low-value rate and share, X-ray then MRI and repeat MRI shares."""
    parts = []
    for k in AREA_MEASURES:
        tbl, national = queries.area_table(replace(view, measure=k, within=None))
        nat = pd.DataFrame([{**national.to_dict(), "code": 0, "name": t("denmark_total", view.lang)}])
        both = pd.concat([nat, tbl], ignore_index=True)
        parts.append(both[["code", "name", "num_shown", "den_shown", "value", "lower", "upper", "hidden"]].assign(measure=k))
    return pd.concat(parts, ignore_index=True)
