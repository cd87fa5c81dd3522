"""The release source: tables read from a release database, published figures only, nothing
computed from a count that is not published.

The release (``python -m etl release``) holds, for every measure, level, published period and
filter set of its plan, the published numerator and denominator, the expected count, the
standardised ratio with its interval and the funnel flags (``estimates``), and Denmark's reference
rates of each filter set (``reference_rates``). This module only selects rows and, for standardised
rates, multiplies the published ratio by the published reference rate of its filter set; the smoothed (empirical Bayes) map shrinks
the published O/E. A view the release does not hold is moved to the nearest published view
(``nearest_published``) and the reader is told.

The tables have the same columns as those of ``atlas.queries`` (``num_shown``, ``den_shown``,
``value``, ``lower``, ``upper``, ``hidden``, ``expected``, ``flag``), so the figures and the CSV
are the same code for both databases.
"""
from __future__ import annotations

from dataclasses import replace
from atlas.cache import cached

import numpy as np
import pandas as pd

from atlas import db
from atlas.data.domain import (BREAKDOWN_DIMS, COLUMNS, FEW, HIDDEN, MIX_MEASURES, MODALITIES, NOT_TESTED, OUTCOME_HIDDEN,
                               OUTCOMES, REFERRERS, SHOWN, UNPUBLISHED, WINDOW_COLUMN, yearly_rows)
from atlas.filters import DIMENSIONS, STANDARDISED_MODES, View
from atlas.measures import MEASURES
from etl import stats

DIM_ORDER = tuple(DIMENSIONS)


def fs_key(dims) -> str:
    d = dict(dims)
    return "&".join(f"{k}={d[k]}" for k in DIM_ORDER if k in d)


def period_of(view: View) -> str:
    return str(view.y0) if view.y0 == view.y1 else f"{view.y0}-{view.y1}"


@cached(maxsize=1)
def periods() -> tuple[str, ...]:
    return tuple(db.meta().get("periods", []))


@cached(maxsize=1)
def _published() -> frozenset:
    """(measure, level, period, filter set) of every estimate the release holds."""
    d = db.query("SELECT DISTINCT measure, level, period, fs FROM estimates WHERE level <> 'denmark'")
    return frozenset(d.itertuples(index=False, name=None))


@cached(maxsize=1)
def measures() -> tuple[str, ...]:
    """The measures the release holds estimates for, in the app's order (a measure whose counts are
    published but not its estimates is not offered)."""
    have = {m for m, *_ in _published()}
    return tuple(k for k in MEASURES if k in have)


def published_views(measure: str) -> tuple[tuple[str, str, str], ...]:
    """(level, period, filter set) of every published estimate of ``measure``, sorted (levels in the
    atlas's order, then periods, then filter sets)."""
    order = {lvl: i for i, lvl in enumerate(("municipality", "region", "region2027", "denmark"))}
    rows = {(lvl, p, fs) for m, lvl, p, fs in _published() if m == measure}
    return tuple(sorted(rows, key=lambda r: (order.get(r[0], 9), "-" in r[1], r[1], r[2].count("&"), r[2])))


def is_published(view: View) -> bool:
    return (view.measure, view.level, period_of(view), fs_key(view.dims)) in _published()


def _nearest_period(view: View) -> tuple[int, int]:
    """The published period nearest to the view's years: most overlap, then closest length."""
    if period_of(view) in periods():
        return view.y0, view.y1
    best, key = (view.y1, view.y1), None
    for p in periods():
        a, b = (int(x) for x in p.split("-")) if "-" in p else (int(p), int(p))
        overlap = max(0, min(b, view.y1) - max(a, view.y0) + 1)
        k = (-overlap, abs((b - a) - (view.y1 - view.y0)), -b)
        if key is None or k < key:
            best, key = (a, b), k
    return best


def _blocks_with(year: int) -> list[tuple[int, int]]:
    out = []
    for p in periods():
        if "-" in p:
            a, b = (int(x) for x in p.split("-"))
            if a <= year <= b:
                out.append((a, b))
    return sorted(out, key=lambda ab: ab[1] - ab[0])


def nearest_published(view: View) -> tuple[View, list[str]]:
    """The view itself when the release holds it, else the nearest one it holds, and what changed.

    Tried in order: the nearest declared period; the same filters over a multi-year period that
    contains the chosen year; the same filters by region; one filter only; everyone.
    """
    changes: list[str] = []
    offered = measures()
    if view.measure not in offered and offered:
        changes.append("measure")
        view = replace(view, measure=View.measure if View.measure in offered else offered[0])
    y0, y1 = _nearest_period(view)
    if (y0, y1) != (view.y0, view.y1):
        changes.append("period")
        view = replace(view, y0=y0, y1=y1)
    if is_published(view):
        return view, changes
    candidates: list[tuple[View, str]] = []
    for a, b in _blocks_with(view.y1):
        candidates.append((replace(view, y0=a, y1=b), "period"))
    if view.level == "municipality":
        candidates.append((replace(view, level="region", area=None, within=None), "level"))
    for key, value in view.dims:
        candidates.append((replace(view, dims=((key, value),)), "filters"))
        for a, b in _blocks_with(view.y1):
            candidates.append((replace(view, dims=((key, value),), y0=a, y1=b), "filters"))
    candidates.append((replace(view, dims=()), "filters"))
    for cand, what in candidates:
        if is_published(cand):
            changed = {what} | ({"period"} if (cand.y0, cand.y1) != (view.y0, view.y1) else set())
            return cand, changes + sorted(changed - set(changes))
    return replace(view, dims=()), changes + ["filters"]


@cached(maxsize=512)
def _group_references(measure: str, standard: str, keys: tuple) -> dict:
    """The published reference rates of filter sets (``reference_rates``, written by the estimate
    engine), by (period, filter set) of ``keys``, in one query: Denmark's rate within the filter set
    standardised to the chosen standard over the strata the group holds. A standardised ratio O / E
    against the filter set's own national rates times this rate reads as the group's standardised
    rate (for Denmark: its direct ESP 2013 rate). NaN when not published."""
    if not keys:
        return {}
    periods_ = sorted({p for p, _ in keys})
    sets = sorted({f for _, f in keys})
    r = db.query(f"SELECT period, fs, rate FROM reference_rates WHERE measure = ? AND standard = ? "
                 f"AND period IN ({', '.join('?' * len(periods_))}) AND fs IN ({', '.join('?' * len(sets))})",
                 [measure, standard, *periods_, *sets])
    got = {}
    for p, f, rate in zip(r["period"], r["fs"], r["rate"]):
        got.setdefault((p, f), float(rate) if pd.notna(rate) else np.nan)      # the first row, as before
    return {k: got.get(k, np.nan) for k in keys}


def _rows(measure: str | tuple, level: str | tuple, period: str | tuple, fs: str | tuple, codes=None) -> pd.DataFrame:
    """Published estimate rows; each argument one value or a tuple of values (one query)."""
    def many(column, value):
        values = value if isinstance(value, tuple) else (value,)
        return f"{column} IN ({', '.join('?' * len(values))})", list(values)

    parts = [many("measure", measure), many("level", level), many("period", period), many("fs", fs)]
    if codes is not None:
        parts.append(many("code", tuple(int(c) for c in codes)))
    where = " AND ".join(p for p, _ in parts)
    params = [x for _, ps in parts for x in ps]
    return db.query(f"SELECT * FROM estimates WHERE {where}", params)


def _finish(e: pd.DataFrame, view: View, smooth_groups=None) -> pd.DataFrame:
    """Published estimate rows -> the atlas's table columns for the view's rate mode."""
    m = MEASURES[e["measure"].iloc[0]] if len(e) else MEASURES[view.measure]
    t = e.copy()
    t["num_shown"], t["den_shown"] = t["num"].astype(float), t["den"].astype(float)
    t["hidden"] = t["num"].isna() | t["den"].isna()
    t["flag"] = t["flag_crude"]
    t["status"] = np.where(t["hidden"], HIDDEN, SHOWN).astype(object)
    if m.kind == "rate" and view.rates in STANDARDISED_MODES:
        refs = _group_references(m.key, view.standard, tuple(sorted(set(zip(t["period"], t["fs"])))))
        ref = np.array([refs[k] for k in zip(t["period"], t["fs"])], dtype=float) * m.per
        sr, lo, hi = t["sr"].to_numpy(float), t["sr_lower"].to_numpy(float), t["sr_upper"].to_numpy(float)
        if view.rates == "eb" and smooth_groups is not None:
            ok = ~t["hidden"].to_numpy() & (t["expected"].to_numpy(float) > 0)
            if ok.sum() >= 3:
                eb = stats.eb_ratio(t.loc[ok, "num"].to_numpy(float), t.loc[ok, "expected"].to_numpy(float),
                                    np.asarray(smooth_groups)[ok])
                sr, lo, hi = sr.copy(), lo.copy(), hi.copy()
                sr[ok], lo[ok], hi[ok] = eb.value, eb.lower, eb.upper
        t["value"], t["lower"], t["upper"] = sr * ref, lo * ref, hi * ref
        t["flag"] = t["flag_std"]
        # no reference rate published for the filter set (the plan holds no national strata of the
        # count): the release has no standardised figure of it at all, which is not "few events"
        no_ref = ~t["hidden"].to_numpy(bool) & np.isnan(ref)
        few = ~t["hidden"] & t["value"].isna() & ~no_ref
        t.loc[few | no_ref, "hidden"] = True
        t.loc[few, "status"] = FEW             # too few events for a standardised figure
        t.loc[no_ref, "status"] = UNPUBLISHED
    # a comparison the release does not hold (Denmark's own count hidden, or Denmark against itself)
    # was not tested: never "within"
    untested = t["flag"].isna() | (t["level"] == "denmark")
    t["flag"] = np.where(t["hidden"], "hidden", np.where(untested, NOT_TESTED, t["flag"].astype(object)))
    return t


def area_table(view: View) -> tuple[pd.DataFrame, pd.Series]:
    """The published table of areas of a view (moved to the nearest published one first)."""
    view, _ = nearest_published(view)
    t, national = _area_table(replace(view, area=None, within=None, lang="en", sep=",", map="geo"))
    if view.within is not None and view.level == "municipality":
        t = t[t["region_code"] == view.within].reset_index(drop=True)
    return t, national


@cached(maxsize=256)
def _area_table(view: View) -> tuple[pd.DataFrame, pd.Series]:
    period, fs = period_of(view), fs_key(view.dims)
    e = db.with_names(_rows(view.measure, view.level, period, fs), view.level)
    groups = e["region_code"].to_numpy() if view.level == "municipality" else None   # smoothing toward the region
    t = _finish(e, view, groups).sort_values("code").reset_index(drop=True)
    nat = _finish(_rows(view.measure, "denmark", period, fs), view)
    national = nat.iloc[0] if len(nat) else pd.Series({c: np.nan for c in COLUMNS} | {"hidden": True, "flag": "hidden",
                                                                                      "status": UNPUBLISHED})
    keep = ["code", "name", "region_code", *COLUMNS, "sr", "sr_lower", "sr_upper", "note",
            *(["method"] if "method" in t else [])]
    return t[keep], national


YEARLY_COLUMNS = ["code", "name", "year", "count", "population"]


@cached(maxsize=64)
def yearly_counts(measure: str, level: str) -> pd.DataFrame:
    """Every published single year's numerator (``count``) and denominator (``population``) of
    ``measure`` for everyone, by area of ``level`` (``code``, ``name``, ``year``; both NaN where
    either is hidden), sorted by year and code: the ``num_shown`` and ``den_shown`` of each
    published year's table of areas (:func:`area_table`), read in one query over all years instead
    of one table per year. A year the release does not publish at this level has no rows."""
    years = tuple(p for p in periods() if "-" not in p)
    e = _rows(measure, level, years, "") if years else pd.DataFrame(columns=["code", "period", "num", "den"])
    hidden = (e["num"].isna() | e["den"].isna()).to_numpy(bool)
    out = pd.DataFrame({"code": e["code"].astype(int), "year": e["period"].astype(int),
                        "count": e["num"].astype(float).where(~hidden), "population": e["den"].astype(float).where(~hidden)})
    out = db.with_names(out, level)
    out["name"] = out["name"].astype(str)
    return out.sort_values(["year", "code"]).reset_index(drop=True)[YEARLY_COLUMNS]


@cached(maxsize=64)
def yearly_table(measure: str, level: str) -> pd.DataFrame:
    """Every published single year's table of areas of ``measure`` for everyone at ``level``, in the
    columns of :meth:`atlas.data.source.Source.yearly_table`: the estimates of all single years in one
    query, finished as each year's :func:`area_table` finishes them (the view's default rate mode)."""
    years = tuple(p for p in periods() if "-" not in p)
    e = _rows(measure, level, years, "") if years else pd.DataFrame()
    if e.empty:
        return yearly_rows(e)
    t = _finish(db.with_names(e, level), View(measure=measure, level=level))
    t["year"] = t["period"].astype(int)
    return yearly_rows(t.sort_values(["year", "code"]))


def trend_table(view: View, area: int | None) -> pd.DataFrame:
    """Every single year for Denmark (code 0) and the selected area, as published."""
    view, _ = nearest_published(view)
    return _trend_table(replace(view, area=None, within=None, lang="en", sep=",", map="geo"), area)


@cached(maxsize=256)
def _trend_table(view: View, area: int | None) -> pd.DataFrame:
    years = tuple(p for p in periods() if "-" not in p)
    fs = fs_key(view.dims)
    parts = [_rows(view.measure, "denmark", years, fs)]
    if area is not None:
        parts.append(_rows(view.measure, view.level, years, fs, codes=(area,)))
    e = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else parts[0]
    t = _finish(e, view)
    t["year"] = t["period"].astype(int)
    return t[["year", "code", *COLUMNS]].sort_values(["code", "year"]).reset_index(drop=True)


def breakdown_table(view: View, area: int | None) -> pd.DataFrame:
    """The measure by each population group (one filter at a time), for the area or Denmark.

    Crude rates: a group defined by sex or age band, standardised indirectly on sex and age
    against Denmark, has a ratio of 1 by construction; its own rate is what the chart compares.
    """
    view, _ = nearest_published(view)
    return _breakdown_table(replace(view, area=None, within=None, lang="en", sep=",", map="geo", dims=()), area,
                            view.level)


@cached(maxsize=256)
def _breakdown_table(view: View, area: int | None, level: str) -> pd.DataFrame:
    keys = tuple(f"{k}={v}" for k in BREAKDOWN_DIMS for v in DIMENSIONS[k][1])
    if area is None:
        e = _rows(view.measure, "denmark", period_of(view), keys)
    else:
        e = _rows(view.measure, level, period_of(view), keys, codes=(area,))
    if e.empty:
        return pd.DataFrame(columns=["dimension", "value_key", *COLUMNS])
    # crude: a group defined by sex or age standardised indirectly on sex x age is always 1
    t = _finish(e, replace(view, rates="crude"))
    # Denmark's groups are published against themselves: no test of a group against everyone, and
    # no expected count of its own
    t.loc[t["level"] == "denmark", "expected"] = np.nan
    t["dimension"] = t["fs"].str.split("=").str[0]
    t["value_key"] = t["fs"].str.split("=").str[1]
    order = {k: i for i, k in enumerate(keys)}
    return t.assign(o=t["fs"].map(order)).sort_values("o")[["dimension", "value_key", *COLUMNS]].reset_index(drop=True)


def mix_table(view: View, area: int | None) -> pd.DataFrame:
    """Shares of modality, priority, referrer and what followed, for Denmark (code 0) and the area."""
    view, _ = nearest_published(view)
    period, fs = period_of(view), fs_key(view.dims)
    parts = [_rows(MIX_MEASURES, "denmark", period, fs)]
    if area is not None:
        parts.append(_rows(MIX_MEASURES, view.level, period, fs, codes=(area,)))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=["code", "measure", *COLUMNS])
    e = pd.concat(parts, ignore_index=True)
    order = {m: i for i, m in enumerate(MIX_MEASURES)}            # Denmark first, each in the mix's order
    e = e.assign(o=(e["level"] != "denmark") * len(order) + e["measure"].map(order)).sort_values("o", kind="stable")
    t = _finish(e.drop(columns="o").reset_index(drop=True), replace(view, rates="crude"))
    t["flag"] = np.where(t["hidden"], "hidden", "")
    return t[["code", "measure", *COLUMNS]]


def breakdown_view(view: View) -> View:
    """The view the breakdown shows: the release publishes the groups without other filters and as
    crude rates, so its title and CSV header must name neither filters nor a standardisation."""
    nearest, _ = nearest_published(view)
    return replace(nearest, dims=(), rates="crude")


def clear_caches() -> None:
    for f in (periods, _published, measures, _pathway_periods, _group_references, _area_table, _trend_table, _breakdown_table,
              yearly_counts, yearly_table):
        f.cache_clear()


# ---------------------------------------------------------------- pathways page

@cached(maxsize=1)
def _pathway_periods() -> frozenset:
    """(level, period) of every published pathway table (episodes by referrer x modality x outcome):
    both windows, as a release whose protection left one of them out publishes neither here."""
    d = db.query("SELECT level, period FROM counts WHERE count = 'episode' "
                 "AND pattern IN ('modality,referrer,outcome_short', 'modality,referrer,outcome_long') "
                 "GROUP BY level, period HAVING count(DISTINCT pattern) = 2")
    return frozenset(d.itertuples(index=False, name=None))


def _pathway_place(view: View) -> tuple[str, int, str] | None:
    """(level, code, period) of the published pathway tables for a view, or None when none are
    (as the release holds them: Denmark for every period, regions for the 3-year periods; no filters)."""
    if view.dims:
        return None
    period = period_of(view)
    if view.area is None:
        return ("denmark", 0, period) if ("denmark", period) in _pathway_periods() else None
    if view.level == "region" and ("region", period) in _pathway_periods():
        return ("region", int(view.area), period)
    return None


def nearest_pathway_view(view: View) -> tuple[View, list[str]]:
    """The view itself when the release publishes its pathways, else the nearest that it does, and
    what changed: no filters; a municipality moves to its region, a region of 2027 to Denmark; a
    region's years to the 3-year period nearest to them (most overlap, then the latest)."""
    changes: list[str] = []
    if view.dims:
        view = replace(view, dims=())
        changes.append("filters")
    if view.area is not None and view.level == "municipality":
        region = db.with_names(pd.DataFrame({"code": [int(view.area)]}), "municipality")["region_code"].iloc[0]
        view = replace(view, level="region", area=int(region) if pd.notna(region) else None, within=None)
        changes.append("level")
    elif view.area is not None and view.level != "region":
        view = replace(view, area=None, within=None)
        changes.append("level")
    if _pathway_place(view) is None:
        level = "region" if view.area is not None else "denmark"
        blocks = [tuple(int(x) for x in p.split("-")) if "-" in p else (int(p), int(p))
                  for lv, p in _pathway_periods() if lv == level]
        if blocks:
            a, b = min(blocks, key=lambda ab: (-max(0, min(ab[1], view.y1) - max(ab[0], view.y0) + 1),
                                              abs((ab[1] - ab[0]) - (view.y1 - view.y0)), -ab[1]))
            if (a, b) != (view.y0, view.y1):
                view = replace(view, y0=a, y1=b)
                changes.append("period")
    return view, changes


def pathway_counts(view: View, window_column: str) -> dict[str, pd.DataFrame] | None:
    """Published episode counts for the pathways: ``cells`` (referrer, modality, outcome, count),
    ``rows`` (referrer, modality, count) and ``total`` (count); None when not published."""
    place = _pathway_place(view)
    if place is None:
        return None
    level, code, period = place
    d = db.query("SELECT pattern, modality, referrer, outcome_short, outcome_long, n FROM counts "
                 "WHERE count = 'episode' AND level = ? AND code = ? AND period = ? AND pattern IN (?, ?, ?)",
                 [level, code, period, f"modality,referrer,{window_column}", "modality,referrer", ""])
    if d.empty:
        return None
    cells = d[d["pattern"] == f"modality,referrer,{window_column}"].rename(columns={window_column: "outcome"})
    return {"cells": cells[["referrer", "modality", "outcome", "n"]].rename(columns={"n": "count"}).reset_index(drop=True),
            "rows": d[d["pattern"] == "modality,referrer"][["referrer", "modality", "n"]]
            .rename(columns={"n": "count"}).reset_index(drop=True),
            "total": d[d["pattern"] == ""][["n"]].rename(columns={"n": "count"}).reset_index(drop=True)}


def pathways(view: View, window: int) -> dict[str, pd.DataFrame]:
    """The pathway tables from the release's published counts, hidden ones NaN (the tables are
    described in :func:`atlas.pathways.queries.pathways`).

    A row's hidden cells are shown merged as their sum (the published row total less its shown
    cells, which anyone can work out); a merged sum from 1 to 4 is hidden too. Where the release
    publishes no pathways for the view (a municipality, a filter, a region outside the 3-year
    periods), every count is hidden.
    """
    min_count = int(db.meta().get("min_count", 5))
    grid = pd.MultiIndex.from_product([REFERRERS, MODALITIES, OUTCOMES], names=["referrer", "modality", "outcome"])
    got = pathway_counts(view, WINDOW_COLUMN[window])
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
    merged["outcome"] = OUTCOME_HIDDEN
    cells = pd.concat([cells, merged[["referrer", "modality", "outcome", "count"]]], ignore_index=True)
    outcomes = cells.groupby(["modality", "outcome"], as_index=False)["count"].sum(min_count=1)
    overall = cells.groupby(["outcome"], as_index=False)["count"].sum(min_count=1)
    row_sum = cells.groupby(["referrer", "modality"])["count"].transform(lambda s: s.sum(min_count=1))
    cells["share"] = cells["count"] / row_sum * 100
    overall["share"] = overall["count"] / overall["count"].sum(min_count=1) * 100
    total = got["total"][["count"]].astype(float).reset_index(drop=True)
    return {"cells": cells, "rows": rows, "outcomes": outcomes, "overall": overall, "total": total}


def by_referrer(view: View, referrers: tuple[str, ...]) -> pd.DataFrame:
    """Low-value imaging by referrer for Denmark (code 0) and the area, as published."""
    view, _ = nearest_published(replace(view, dims=()))
    out = []
    chosen = dict(view.dims).get("referrer")
    keys = tuple(f"referrer={r}" for r in referrers if chosen is None or r == chosen)
    for measure in ("lowvalue_share", "lowvalue_rate"):
        parts = [_rows(measure, "denmark", period_of(view), keys)]
        if view.area is not None:
            parts.append(_rows(measure, view.level, period_of(view), keys, codes=(view.area,)))
        for p in parts:
            if len(p):
                t = _finish(p, replace(view, rates="crude"))
                out.append(t.assign(referrer=t["fs"].str.split("=").str[1]))
    cols = ["code", "referrer", "measure", "num_shown", "den_shown", "value", "lower", "upper", "hidden", "status"]
    return pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)


def all_published(measure: str) -> pd.DataFrame:
    """Every published area and Denmark row of a measure without filters, over every level and
    period, as the atlas's tables (standardised rates for rates, as the atlas's default view shows):
    one query, for the all-data download."""
    e = db.query("SELECT * FROM estimates WHERE measure = ? AND fs = '' ORDER BY period, level, code", [measure])
    if e.empty:
        return pd.DataFrame(columns=["period", "level", "code", "name", *COLUMNS])
    t = _finish(e, View(measure=measure))
    a = db.areas()
    names = {(lvl, int(c)): n for lvl, c, n in zip(a.level, a.code, a.name)}
    t["name"] = [names.get((lvl, int(c)), "Denmark" if lvl == "denmark" else str(c)) for lvl, c in zip(t["level"], t["code"])]
    return t[["period", "level", "code", "name", *COLUMNS]]
