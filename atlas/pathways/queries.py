"""Protected pathway tables (from ``episode_cube``, or a release's published counts) and the
repeat-imaging and low-value estimates by referrer and by area (see :mod:`atlas.pathways`)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from atlas.cache import cached
from atlas import data, db, queries
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
        f"SELECT municipality, referrer, modality, {col} AS outcome, sum(n_episodes)::DOUBLE AS n "
        f"FROM episode_cube WHERE {where} GROUP BY ALL", params)


def episode_cells(view: View, window: int) -> pd.DataFrame:
    """True episode counts by municipality x referrer x modality x outcome (not for display)."""
    if window not in WINDOWS:
        raise ValueError(f"window must be one of {WINDOWS}")
    return _episode_cells(str(db.db_path()), int(view.y0), int(view.y1), tuple(view.dims), int(window))


def pathways(view: View, window: int) -> dict[str, pd.DataFrame]:
    """The pathway tables for the view's area (or Denmark), years and filters, from the served source
    (exact on the secure database, published on a release).

    Returns a dict of DataFrames (NaN = hidden):

    ``cells``    referrer, modality, outcome (the four outcomes and ``hidden``, the row's hidden cells
                 merged), ``count``, ``share`` (% of the row's shown cells)
    ``rows``     referrer, modality, ``count`` (episodes: the Sankey's referrer -> modality links)
    ``outcomes`` modality, outcome, ``count`` (sum of the shown cells: the Sankey's modality -> outcome links)
    ``overall``  outcome, ``count`` (sum of the shown cells), ``share`` (% of their sum)
    ``total``    one row: ``count`` (all episodes)
    """
    if window not in WINDOWS:
        raise ValueError(f"window must be one of {WINDOWS}")
    return data.source().pathways(view, window)


def exact_pathways(view: View, window: int) -> dict[str, pd.DataFrame]:
    """The pathway tables from the secure database's episode cube: exact counts, nothing hidden."""
    f = episode_cells(view, window)
    if view.area is not None:
        mapping = queries.area_codes(view.level)
        f = f[f["municipality"].map(mapping) == view.area]
    grid = pd.MultiIndex.from_product([REFERRERS, MODALITIES, OUTCOMES], names=["referrer", "modality", "outcome"])
    cells = f.groupby(["referrer", "modality", "outcome"])["n"].sum().reindex(grid).fillna(0.0).reset_index()
    cells = cells.rename(columns={"n": "count"})
    rows = cells.groupby(["referrer", "modality"], as_index=False)["count"].sum()
    total = pd.DataFrame({"count": [float(cells["count"].sum())]})
    merged = rows[["referrer", "modality"]].assign(outcome=HIDDEN, count=0.0)     # nothing is hidden here
    cells = pd.concat([cells, merged], ignore_index=True)
    outcomes = cells.groupby(["modality", "outcome"], as_index=False)["count"].sum()
    overall = cells.groupby(["outcome"], as_index=False)["count"].sum()
    row_sum = cells.groupby(["referrer", "modality"])["count"].transform("sum")
    cells["share"] = cells["count"] / row_sum.where(row_sum > 0) * 100
    overall["share"] = overall["count"] / overall["count"].sum() * 100 if overall["count"].sum() > 0 else np.nan
    return {"cells": cells, "rows": rows, "outcomes": outcomes, "overall": overall, "total": total}


def published_pathways(view: View, window: int) -> dict[str, pd.DataFrame]:
    """The pathway tables from a release: its published counts, hidden ones NaN.

    A row's hidden cells are shown merged as their sum (the published row total less its shown
    cells, which anyone can work out); a merged sum from 1 to 4 is hidden too. Where the release
    publishes no pathways for the view (a municipality, a filter, a region outside the 3-year
    periods), every count is hidden.
    """
    min_count = int(db.meta().get("min_count", 5))
    grid = pd.MultiIndex.from_product([REFERRERS, MODALITIES, OUTCOMES], names=["referrer", "modality", "outcome"])
    from atlas.data import release

    got = release.pathway_counts(view, WINDOW_COLUMN[window])
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
    offered = data.source().measures()
    return {k: queries.trend_table(replace(view, measure=k), view.area) for k in keys if k in offered}


def by_referrer(view: View) -> pd.DataFrame:
    """Low-value imaging by referrer for the area (code = its code) and Denmark (code 0): share of
    episodes (%) and rate per 1,000 adults, protected and estimated like the atlas's estimates.

    Denmark's rows do not depend on the area or level, so they are kept apart (cached) and choosing
    another area estimates only the area's rows."""
    return data.source().by_referrer(view, REFERRERS)


def exact_by_referrer(view: View) -> pd.DataFrame:
    """:func:`by_referrer` from the secure database's cubes (exact figures)."""
    key = replace(view, area=None, level="municipality", within=None, map="geo", sep=",", lang="en", colours="own",
                  breaks="", tables=0, measure=View.measure)
    path = str(db.db_path())
    parts = [_referrer_rows(path, key, None, None)]
    if view.area is not None:
        parts.append(_referrer_rows(path, key, view.level, view.area))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=["code", "referrer", "measure", "num_shown", "den_shown", "value", "lower", "upper", "hidden",
                                     "status"])
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
    for k in (k for k in AREA_MEASURES if k in data.source().measures()):
        tbl, national = queries.area_table(replace(view, measure=k, within=None))
        nat = pd.DataFrame([{**national.to_dict(), "code": 0, "name": t("denmark_total", view.lang)}])
        both = pd.concat([nat, tbl], ignore_index=True)
        parts.append(both[["code", "name", "num_shown", "den_shown", "value", "lower", "upper", "hidden", "status"]]
                     .assign(measure=k))
    return pd.concat(parts, ignore_index=True)
