"""The secure source: exact figures from the fine cubes of ``data/atlas.duckdb``, computed on demand.

The secure database never leaves the secure environment and its users are authorised for the
microdata behind it, so nothing here is perturbed, hidden or imputed: counts are the true counts,
rates and shares are computed from them, and every page says "inside the secure environment only:
not output-checked". Anything that leaves goes through the release (``python -m etl release``).

``estimate(...)`` turns strata (numerator and denominator by group x sex x age band, from
:mod:`atlas.strata`) into one row per group: the counts, the estimate with its 95% interval, the
expected count (indirect standardisation against Denmark's stratum rates) and the funnel flag.
Queries are cached per process by their arguments (the database is read-only).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from atlas import db
from atlas.cache import cached
from atlas.data.coverage import incomplete_years
from atlas.data.domain import (BREAKDOWN_DIMS, EMPTY, FEW, MIX_MEASURES, MODALITIES, NOT_TESTED, OUTCOME_HIDDEN, OUTCOMES,
                               REFERRERS, SHOWN, WINDOW_COLUMN, WINDOWS, yearly_rows)
from atlas.filters import DIMENSIONS, STANDARDISED_MODES, View, where_sql
from atlas.measures import MEASURES, Measure
from atlas.strata import (STRATA, _event_filters, _finish, _mask, _strata_sql_parts, area_codes, event_frame,
                          population_frame, strata)
from etl import stats
from etl.estimates.engine import estimate_from_strata


@cached(maxsize=1)
def years() -> list[int]:
    """The single years of the fine cubes (the meta's first to last year when the cube is empty)."""
    m = db.meta()
    present = db.query("SELECT DISTINCT year FROM population_cube ORDER BY year")["year"].tolist()
    return [int(y) for y in present] or list(range(m["first_year"], m["last_year"] + 1))


def min_events_standardised() -> int:
    """The fewest events a standardised rate is computed from (the publication plan's rule, so the
    secure and the release figures of a view agree)."""
    m = db.meta()
    if "min_events_standardised" in m:
        return int(m["min_events_standardised"])
    from etl.release.plan import load_plan

    return int(load_plan().min_events_standardised)


def _weights(standard: str) -> dict | None:
    """The standard's weights by (sex, age band) for the estimate engine; ``None`` for "denmark"
    (Denmark's own population by stratum in the period: its crude rate, as in the release)."""
    if standard == "denmark":
        return None
    w = db.standard_weights()
    w = w[w.standard == standard]
    return {(str(s), str(a)): float(x) for s, a, x in zip(w.sex, w.age_band, w.weight)}


def exact(table: pd.DataFrame) -> pd.DataFrame:
    """Add ``num_shown``, ``den_shown``, ``hidden`` and ``status`` to a table of exact counts: the
    counts themselves; a cell without anybody in it has no figure ("empty")."""
    out = table.copy()
    out["num_shown"] = out["num"].astype(float)
    out["den_shown"] = out["den"].astype(float)
    empty = ~(out["den"].astype(float) > 0)
    out["hidden"] = empty.to_numpy(dtype=bool)
    out["status"] = np.where(empty, EMPTY, SHOWN).astype(object)
    return out


def estimate(frame: pd.DataFrame, by: list[str], measure: Measure, view: View,
             group: list[str] | None = None) -> pd.DataFrame:
    """One row per group of ``by`` from exact counts, computed by the estimate engine
    (:func:`etl.estimates.engine.estimate_from_strata`), the code the release build uses too.

    ``frame`` holds numerator and denominator counts by ``by`` x sex x age band. ``group``: the
    columns of ``by`` whose national comparator is separate (default: ``["year"]`` when the rows
    are years, else none): a cell is compared with Denmark in the same group.

    - ``num_shown``, ``den_shown``: the exact counts (nothing hidden: inside the secure environment only);
    - the standardised rate (``view.rates`` "isr" or "eb"): indirect against the view's own national
      rates by sex and age band, times the group's standardised national rate; fewer than the
      plan's minimum of events: no standardised figure (status "few_events");
    - crude rates and shares; the expected count; the funnel flag ("not_tested" where no test was made).

    Nothing is suppressed here.
    """
    cols = [*by, "num_shown", "den_shown", "value", "lower", "upper", "hidden", "expected", "flag", "status", "method"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    if group is None:
        group = ["year"] if "year" in by else []
    agg = frame.groupby(by, as_index=False)[["num", "den"]].sum()
    t = exact(agg)
    keys = list(by) if any(k not in group for k in by) else [*by, "_cell"]
    strata_ = frame.assign(_cell=0) if "_cell" in keys else frame
    observed = t[by].assign(num=t["num"].to_numpy(float), den=t["den"].to_numpy(float))
    if "_cell" in keys:
        observed = observed.assign(_cell=0)
    standardised = measure.kind == "rate" and view.rates in STANDARDISED_MODES
    # min_count=1: no count is hidden or left out of the national rates (exact figures)
    e = estimate_from_strata(strata_[[*keys, "sex", "age_band", "num", "den"]], keys, group, measure.kind,
                             weights=_weights(view.standard), observed=observed, min_count=1,
                             min_events=min_events_standardised(), per=measure.per)
    area = [k for k in keys if k not in group][0]
    e = e[e[area].astype(str) != "denmark"].astype({area: t[area].dtype if area in t else int})
    if "_cell" in keys:
        e = e.drop(columns="_cell")
    t = t.merge(e.drop(columns=["num", "den"]), on=list(by), how="left")
    if standardised:
        t["flag"] = t["flag_std"]
        few = ~t["hidden"] & t["value"].isna()
        t.loc[few, "hidden"] = True            # too few events for a standardised figure (as the release)
        t.loc[few, "status"] = FEW
    elif measure.kind == "rate":
        t["value"], t["lower"], t["upper"] = t["crude"], t["crude_lower"], t["crude_upper"]
        t["flag"] = t["flag_crude"]
        t["method"] = np.where(t["method"].notna(), "crude", None)
    else:
        t["flag"] = t["flag_crude"]
    t.loc[t["hidden"], ["value", "lower", "upper", "expected"]] = np.nan
    flags = t["flag"].astype(object)
    t["flag"] = np.where(t["hidden"], "hidden", np.where(flags.isna(), NOT_TESTED, flags))
    drop = ["num", "den", "sr", "sr_lower", "sr_upper", "crude", "crude_lower", "crude_upper", "flag_std",
            "flag_crude", "note"]
    return t.drop(columns=[c for c in drop if c in t])


def _key(view: View, keep_area: bool = False) -> View:
    """The parts of a view that change a table (not language, map kind, colours, separator, drill-down)."""
    return replace(view, area=view.area if keep_area else None, within=None, map="geo", sep=",", lang="en",
                   colours="own", breaks="", tables=0)


def area_table(view: View) -> tuple[pd.DataFrame, pd.Series]:
    t, national = _area_table(_key(view))
    if view.within is not None and view.level == "municipality":
        inside = {m for m, regions in db.regions_of().items() if view.within in regions}
        t = t[t["code"].isin(inside)].reset_index(drop=True)
    return t, national


@cached(maxsize=512)
def _area_table(view: View) -> tuple[pd.DataFrame, pd.Series]:
    m = MEASURES[view.measure]
    f = strata(m.key, view.y0, view.y1, view.population_dims(), _event_filters(view, m)).copy()
    f["code"] = f["municipality"].map(area_codes(view.level))
    t = estimate(f, ["code"], m, view)
    if view.rates == "eb" and m.kind == "rate" and view.level == "municipality":
        t = _shrink(t, m)
    t = db.with_names(t, view.level)
    national = _first_row(estimate(f.assign(all=0), ["all"], m, view)).copy()
    if not bool(national["hidden"]):
        national["flag"] = NOT_TESTED          # Denmark against itself: no test
    return t.sort_values("code").reset_index(drop=True), national


def _first_row(t: pd.DataFrame) -> pd.Series:
    """The one row of a total; a selection with no records at all is an empty cell."""
    if len(t):
        return t.iloc[0]
    return pd.Series({"num_shown": 0.0, "den_shown": 0.0, "hidden": True, "value": np.nan, "lower": np.nan,
                      "upper": np.nan, "expected": np.nan, "flag": "hidden", "status": EMPTY})


def _shrink(t: pd.DataFrame, m: Measure) -> pd.DataFrame:
    """Empirical-Bayes standardised rates toward the region (``stats.eb_ratio`` on O and E), times the
    same reference rate as the standardised map, so both maps are on one scale."""
    a = db.areas()
    region = t["code"].map(a[a.level == "municipality"].set_index("code")["region_code"])
    ok = (~t["hidden"] & (t["expected"] > 0)).to_numpy()
    if ok.sum() < 3 or "reference" not in t:
        return t
    e = stats.eb_ratio(t.loc[ok, "num_shown"].to_numpy(), t.loc[ok, "expected"].to_numpy(), region[ok].to_numpy())
    t = t.copy()
    scale = t.loc[ok, "reference"].to_numpy() * m.per
    t.loc[ok, "value"], t.loc[ok, "lower"], t.loc[ok, "upper"] = e.value * scale, e.lower * scale, e.upper * scale
    return t


def trend_table(view: View, area: int | None) -> pd.DataFrame:
    return _trend_table(replace(_key(view), y0=0, y1=0), area)


YEARLY_COLUMNS = ["code", "name", "year", "count", "population"]


@cached(maxsize=64)
def yearly_counts(measure: str, level: str) -> pd.DataFrame:
    """Every single year's exact numerator (``count``) and denominator (``population``: the
    population for a rate, the imaging for a share) of ``measure`` for everyone, by area of ``level``
    (``code``, ``name``, ``year``), sorted by year and code: the ``num_shown`` and ``den_shown`` of
    each year's table of areas (:func:`area_table`), read in one SQL query over all years (the
    population joined to the events inside it) instead of one table per year."""
    m = MEASURES[measure]
    years_ = years()
    keys, events, population = _strata_sql_parts(m.key, years_[0], years_[-1], (), (), ("year", "municipality"))
    if population is not None:
        # as strata(): every population stratum, with the events of the same stratum (none: 0)
        sql = (f"WITH ev AS ({events[0]}), pop AS ({population[0]}) "
               f"SELECT year, municipality, sum(coalesce(ev.num, 0)) AS num, sum(pop.den) AS den "
               f"FROM pop LEFT JOIN ev USING ({', '.join(keys)}) GROUP BY year, municipality")
        params = events[1] + population[1]
    else:
        sql = (f"SELECT year, municipality, sum(coalesce(num, 0)) AS num, sum(coalesce(den, 0)) AS den "
               f"FROM ({events[0]}) GROUP BY year, municipality")
        params = events[1]
    f = db.query(sql, params)
    f["code"] = f["municipality"].map(area_codes(level))
    t = f.groupby(["year", "code"], as_index=False)[["num", "den"]].sum()
    out = pd.DataFrame({"code": t["code"].astype(int), "year": t["year"].astype(int),
                        "count": t["num"].astype(float), "population": t["den"].astype(float)})
    out = db.with_names(out, level)
    out["name"] = out["name"].astype(str)
    return out.sort_values(["year", "code"]).reset_index(drop=True)[YEARLY_COLUMNS]


@cached(maxsize=64)
def yearly_table(measure: str, level: str) -> pd.DataFrame:
    """Every single year's table of areas of ``measure`` for everyone at ``level``, in the columns of
    :meth:`atlas.data.source.Source.yearly_table`: the strata of all years in one query, estimated
    at once with each year compared with Denmark in the same year (the ``year`` group of
    :func:`estimate`), as each year's :func:`area_table` estimates it alone."""
    m = MEASURES[measure]
    view = View(measure=measure, level=level)
    years_ = years()
    f = strata(m.key, years_[0], years_[-1], (), _event_filters(view, m), ("year", "municipality")).copy()
    f["code"] = f["municipality"].map(area_codes(level))
    t = db.with_names(estimate(f, ["year", "code"], m, view), level)
    return yearly_rows(t.sort_values(["year", "code"]))


@cached(maxsize=256)
def _trend_table(view: View, area: int | None) -> pd.DataFrame:
    m = MEASURES[view.measure]
    years_ = years()
    f = strata(m.key, years_[0], years_[-1], view.population_dims(), _event_filters(view, m),
               ("year", "municipality")).copy()
    f["code"] = f["municipality"].map(area_codes(view.level))
    # years whose window is incomplete are estimated apart: no part in the complete years' flags
    off = f["year"].astype(int).isin(list(incomplete_years(m.key)))
    out = []
    for part, flag in ((f[~off], None), (f[off], "incomplete")):
        if part.empty and out:
            continue
        t = _trend_parts(part, m, view, area)
        if flag:
            t.loc[~t["hidden"].astype(bool), "flag"] = flag
        out.append(t)
    return pd.concat(out, ignore_index=True)


def _trend_parts(f: pd.DataFrame, m: Measure, view: View, area: int | None) -> pd.DataFrame:
    parts = [estimate(f.assign(code=0), ["year", "code"], m, view)]
    if area is not None and not f[f["code"] == area].empty:
        parts.append(estimate(f, ["year", "code"], m, view).query("code == @area"))
    return pd.concat(parts, ignore_index=True)


def breakdown_view(view: View) -> View:
    """The secure database answers the breakdown with the view's own filters and rate mode (each
    dimension without its own filter; groups by sex or age band as crude rates)."""
    return view


def breakdown_table(view: View, area: int | None) -> pd.DataFrame:
    return _breakdown_table(_key(view), area)


@cached(maxsize=256)
def _breakdown_table(view: View, area: int | None) -> pd.DataFrame:
    """One query per cube for all six dimensions (UNION ALL BY NAME); each dimension keeps the
    view's other filters but not its own."""
    m = MEASURES[view.measure]
    mapping = area_codes(view.level)
    restrict = ()
    if area is not None:
        restrict = (("municipality", tuple(int(c) for c in mapping.index[mapping == area])),)
    ev_parts, pop_parts = [], []
    for key in BREAKDOWN_DIMS:
        column = DIMENSIONS[key][0]
        dims = tuple((k, v) for k, v in view.population_dims() if k != key)
        _, events, population = _strata_sql_parts(m.key, view.y0, view.y1, dims, _event_filters(view, m),
                                                  (column,), restrict)
        for parts, part in ((ev_parts, events), (pop_parts, population)):
            if part is None:
                continue
            sql, params = part
            sql = sql.replace("SELECT ", f"SELECT '{key}' AS dimension, CAST({column} AS VARCHAR) AS value_key, ", 1)
            parts.append((sql, params))
    keys = ["dimension", "value_key", *STRATA]

    def union(parts):
        out = db.query(" UNION ALL BY NAME ".join(f"({sql})" for sql, _ in parts), [p for _, ps in parts for p in ps])
        return out[[c for c in out.columns if c in keys or c in ("num", "den")]]

    ev = union(ev_parts)
    f = union(pop_parts).merge(ev, on=keys, how="left") if pop_parts else ev
    for c in ("num", "den"):
        f[c] = f[c].fillna(0).astype(float)
    if f.empty:
        return pd.DataFrame()
    parts = []
    for key, part in f.groupby("dimension", sort=False):
        # a group defined by sex or age band, standardised on sex and age against Denmark, is 1 by construction
        v = replace(view, rates="crude") if key in ("sex", "age") and view.rates != "crude" else view
        # each group standardised with its own rates by sex and age band (its own reference)
        parts.append(estimate(part, ["dimension", "value_key"], m, v, group=["dimension", "value_key"]))
    t = pd.concat(parts, ignore_index=True)
    # each group is standardised against its own rates (its own comparator): no test of a group is
    # made, and it has no expected count of its own (as the release's Denmark groups)
    t.loc[~t["hidden"].astype(bool), "flag"] = NOT_TESTED
    t["expected"] = np.nan
    return t


def mix_table(view: View, area: int | None) -> pd.DataFrame:
    """Shares of modality, priority, referrer and of what followed, for Denmark (code 0) and the area:
    one cached scan of the imaging cube, each share a masked sum."""
    ev = event_frame(view.y0, view.y1, view.population_dims())
    codes = ev["municipality"].map(area_codes(view.level)).to_numpy()
    places = [(0, np.ones(len(ev), dtype=bool))]
    if area is not None:
        places.append((area, codes == area))
    rows = []
    for key in MIX_MEASURES:
        m = MEASURES[key]
        base = (_mask(ev, _event_filters(view, m)) & _mask(ev, m.denominator_where.items())).to_numpy()
        hit = base & _mask(ev, m.numerator_where.items()).to_numpy()
        for code, where in places:
            rows.append({"code": code, "measure": key,
                         "num": ev[f"n_{m.numerator}"].to_numpy()[hit & where].sum(),
                         "den": ev[f"n_{m.denominator}"].to_numpy()[base & where].sum()})
    t = exact(pd.DataFrame(rows))
    e = stats.proportion_ci(t["num"].to_numpy(dtype=float), t["den"].to_numpy(dtype=float))
    t["value"], t["lower"], t["upper"] = e.value * 100, e.lower * 100, e.upper * 100
    t.loc[t["hidden"], ["value", "lower", "upper"]] = np.nan
    t["flag"] = np.where(t["hidden"], "hidden", "")
    return t.drop(columns=["num", "den"])


# ---------------------------------------------------------------- pathways page

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
    """The pathway tables from the episode cube: exact counts, nothing hidden (the tables are
    described in :func:`atlas.pathways.queries.pathways`)."""
    f = episode_cells(view, window)
    if view.area is not None:
        mapping = area_codes(view.level)
        f = f[f["municipality"].map(mapping) == view.area]
    grid = pd.MultiIndex.from_product([REFERRERS, MODALITIES, OUTCOMES], names=["referrer", "modality", "outcome"])
    cells = f.groupby(["referrer", "modality", "outcome"])["n"].sum().reindex(grid).fillna(0.0).reset_index()
    cells = cells.rename(columns={"n": "count"})
    rows = cells.groupby(["referrer", "modality"], as_index=False)["count"].sum()
    total = pd.DataFrame({"count": [float(cells["count"].sum())]})
    merged = rows[["referrer", "modality"]].assign(outcome=OUTCOME_HIDDEN, count=0.0)     # nothing is hidden here
    cells = pd.concat([cells, merged], ignore_index=True)
    outcomes = cells.groupby(["modality", "outcome"], as_index=False)["count"].sum()
    overall = cells.groupby(["outcome"], as_index=False)["count"].sum()
    row_sum = cells.groupby(["referrer", "modality"])["count"].transform("sum")
    cells["share"] = cells["count"] / row_sum.where(row_sum > 0) * 100
    overall["share"] = overall["count"] / overall["count"].sum() * 100 if overall["count"].sum() > 0 else np.nan
    return {"cells": cells, "rows": rows, "outcomes": outcomes, "overall": overall, "total": total}


def by_referrer(view: View, referrers: tuple[str, ...] = REFERRERS) -> pd.DataFrame:
    """Low-value imaging by referrer for Denmark (code 0) and the area, from the cubes (exact figures;
    see :func:`atlas.pathways.queries.by_referrer`)."""
    key = replace(view, area=None, level="municipality", within=None, map="geo", sep=",", lang="en", colours="own",
                  breaks="", tables=0, measure=View.measure)
    path = str(db.db_path())
    referrers = tuple(referrers)
    parts = [_referrer_rows(path, key, None, None, referrers)]
    if view.area is not None:
        parts.append(_referrer_rows(path, key, view.level, view.area, referrers))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=["code", "referrer", "measure", "num_shown", "den_shown", "value", "lower", "upper", "hidden",
                                     "status"])
    out = pd.concat(parts, ignore_index=True)
    # by measure, then referrer, Denmark before the area (the CSV's order)
    order = (out["measure"].map({"lowvalue_share": 0, "lowvalue_rate": 1}) * 100
             + out["referrer"].map({r: i for i, r in enumerate(referrers)}) * 2 + (out["code"] != 0))
    return out.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)


@cached(maxsize=256)
def _referrer_rows(path: str, view: View, level: str | None, area: int | None, referrers: tuple[str, ...]) -> pd.DataFrame:
    """The rows of :func:`by_referrer` for Denmark (``area`` None: code 0) or one area at ``level``."""
    mapping = area_codes(level) if area is not None else None
    out = []
    chosen = view.dim("referrer")
    for key in ("lowvalue_share", "lowvalue_rate"):
        m = MEASURES[key]
        for ref in referrers:
            if chosen is not None and ref != chosen:
                continue
            ev = tuple(sorted({**dict(view.event_dims()), "referrer": ref}.items()))
            f = strata(key, view.y0, view.y1, view.population_dims(), ev)
            part = f[f["municipality"].map(mapping) == area] if area is not None else f
            if part.empty:
                continue
            e = estimate(part.assign(code=area if area is not None else 0), ["code"], m, view)
            out.append(e.assign(measure=key, referrer=ref))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def clear_caches() -> None:
    for f in (years, event_frame, population_frame, strata, _area_table, _trend_table, _breakdown_table, _episode_cells,
              _referrer_rows, yearly_counts, yearly_table):
        f.cache_clear()
