"""From a view to protected tables of estimates.

``strata(...)`` runs one parameterised SQL query on the cubes and returns numerator and
denominator counts by the requested groups x sex x age band (the standardisation strata).
``estimate(...)`` turns strata into one protected row per group: shown counts, the estimate with
its 95% interval, the expected count (indirect standardisation) and the funnel-plot flag.
Queries are cached per process by their arguments (the database is read-only).
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import numpy as np
import pandas as pd

from atlas import db
from atlas.disclosure import protect
from atlas.filters import DIMENSIONS, View, where_sql
from atlas.measures import MEASURES, Measure
from etl import stats

STRATA = ["sex", "age_band"]
GROUPABLE = {"year", "municipality"} | {c for c, _, pop in DIMENSIONS.values() if pop}
EVENT_GROUPABLE = {c for c, _, pop in DIMENSIONS.values() if not pop}


def _event_filters(view: View, measure: Measure) -> tuple:
    return tuple((k, v) for k, v in view.event_dims() if DIMENSIONS[k][0] not in measure.ignores)


MEASURE_COLUMNS = None   # filled lazily from the cube's columns


@lru_cache(maxsize=32)
def event_frame(y0: int, y1: int, pop_dims: tuple, group_by: tuple = ("municipality",)) -> pd.DataFrame:
    """All imaging measures by ``group_by`` x sex x age band x modality x priority x referrer.

    One query serves every share measure of a view (they differ only in which imaging
    dimensions they filter), so the imaging mix needs one scan of the cube, not one per measure.
    """
    bad = [g for g in group_by if g not in GROUPABLE]
    if bad:
        raise ValueError(f"cannot group by {bad}")
    keys = list(dict.fromkeys([*group_by, *STRATA, "modality", "priority", "referrer"]))
    where, params = where_sql(pop_dims, y0, y1)
    from etl.marts import IMAGING_MEASURES

    sums = ", ".join(f"sum(n_{m}) AS n_{m}, sum(k_{m}) AS k_{m}" for m in IMAGING_MEASURES)
    return db.query(f"SELECT {', '.join(keys)}, {sums} FROM imaging_cube WHERE {where} GROUP BY ALL", params)


@lru_cache(maxsize=64)
def population_frame(y0: int, y1: int, pop_dims: tuple, group_by: tuple = ("municipality",)) -> pd.DataFrame:
    keys = list(dict.fromkeys([*group_by, *STRATA]))
    where, params = where_sql(pop_dims, y0, y1)
    return db.query(f"SELECT {', '.join(keys)}, sum(persons) AS den, sum(k_persons) AS den_k "
                    f"FROM population_cube WHERE {where} GROUP BY ALL", params)


def _mask(frame: pd.DataFrame, conditions) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for key, value in conditions:
        column = DIMENSIONS[key][0] if key in DIMENSIONS else key
        mask &= frame[column] == value
    return mask


def _strata_sql_parts(measure_key: str, y0: int, y1: int, pop_dims: tuple, event_dims: tuple,
                      group_by: tuple, restrict: tuple = ()) -> tuple[list[str], tuple[str, list], tuple[str, list] | None]:
    """The SQL (and parameters) of :func:`_strata_sql`: the imaging query, and the population query for rates."""
    m = MEASURES[measure_key]
    bad = [g for g in group_by if g not in GROUPABLE | EVENT_GROUPABLE]
    if bad:
        raise ValueError(f"cannot group by {bad}")
    keys = list(dict.fromkeys([*group_by, *STRATA]))
    where, params = where_sql(pop_dims + event_dims, y0, y1, dict(restrict))
    den_where, den_params = where_sql(tuple(m.denominator_where.items()), y0, y1)
    num_cond, num_params = ("true", [])
    if m.numerator_where:
        num_cond, num_params = where_sql(tuple(m.numerator_where.items()), y0, y1)
    cols = ", ".join(keys)
    num = (f"sum(n_{m.numerator}) FILTER (WHERE {num_cond}) AS num, "
           f"sum(k_{m.numerator}) FILTER (WHERE {num_cond}) AS num_k")
    if m.denominator == "population":
        if any(g in EVENT_GROUPABLE for g in group_by):
            raise ValueError("a rate cannot be split by an imaging dimension")
        events = (f"SELECT {cols}, {num} FROM imaging_cube WHERE {where} AND {den_where} GROUP BY ALL",
                  num_params * 2 + params + den_params)
        pw, pp = where_sql(pop_dims, y0, y1, dict(restrict))
        population = (f"SELECT {cols}, sum(persons) AS den, sum(k_persons) AS den_k FROM population_cube "
                      f"WHERE {pw} GROUP BY ALL", pp)
        return keys, events, population
    events = (f"SELECT {cols}, {num}, sum(n_{m.denominator}) AS den, sum(k_{m.denominator}) AS den_k "
              f"FROM imaging_cube WHERE {where} AND {den_where} GROUP BY ALL", num_params * 2 + params + den_params)
    return keys, events, None


def _finish(out: pd.DataFrame) -> pd.DataFrame:
    for c in ("num", "num_k", "den", "den_k"):
        out[c] = out[c].fillna(0).astype(float)
    return out


def _strata_sql(measure_key: str, y0: int, y1: int, pop_dims: tuple, event_dims: tuple,
                group_by: tuple, restrict: tuple = ()) -> pd.DataFrame:
    """Like :func:`strata`, with every filter pushed into the SQL (for long or narrow groupings)."""
    keys, events, population = _strata_sql_parts(measure_key, y0, y1, pop_dims, event_dims, group_by, restrict)
    ev = db.query(*events)
    out = db.query(*population).merge(ev, on=keys, how="left") if population else ev
    return _finish(out)


@lru_cache(maxsize=256)
def strata(measure_key: str, y0: int, y1: int, pop_dims: tuple, event_dims: tuple,
           group_by: tuple = ("municipality",), restrict: tuple = ()) -> pd.DataFrame:
    """Numerator and denominator by ``group_by`` x sex x age band, with their cell keys."""
    m = MEASURES[measure_key]
    if any(g in EVENT_GROUPABLE for g in group_by):
        raise ValueError("strata are split by population dimensions only")
    if group_by != ("municipality",) or restrict:
        # long or narrow groupings: push every filter into the SQL rather than share a wide frame
        return _strata_sql(measure_key, y0, y1, pop_dims, event_dims, group_by, restrict)
    keys = list(dict.fromkeys([*group_by, *STRATA]))
    ev = event_frame(y0, y1, pop_dims, group_by)
    base = ev[_mask(ev, event_dims) & _mask(ev, m.denominator_where.items())]
    num_rows = base[_mask(base, m.numerator_where.items())]
    num = num_rows.groupby(keys, as_index=False).agg(num=(f"n_{m.numerator}", "sum"), num_k=(f"k_{m.numerator}", "sum"))
    if m.denominator == "population":
        out = population_frame(y0, y1, pop_dims, group_by).merge(num, on=keys, how="left")
    else:
        den = base.groupby(keys, as_index=False).agg(den=(f"n_{m.denominator}", "sum"), den_k=(f"k_{m.denominator}", "sum"))
        out = den.merge(num, on=keys, how="left")
    out = out.copy()
    for c in ("num", "num_k", "den", "den_k"):
        out[c] = out[c].fillna(0).astype(float)
    return out


def clear_caches() -> None:
    for f in (event_frame, population_frame, strata, _area_table, _trend_table, _breakdown_table):
        f.cache_clear()


def area_codes(level: str) -> pd.Series:
    """Municipality code -> code of the area at ``level``."""
    a = db.areas()
    mun = a[a.level == "municipality"].set_index("code")
    column = {"municipality": None, "region": "region_code", "region2027": "region2027_code"}[level]
    return pd.Series(mun.index if column is None else mun[column].to_numpy(), index=mun.index)


def _weights(view: View, standard: str, frame: pd.DataFrame) -> dict:
    w = db.standard_weights()
    w = w[w.standard == standard]
    keep = (w.sex.isin(frame.sex.unique())) & (w.age_band.isin(frame.age_band.unique()))
    w = w[keep]
    return {f"{s}|{a}": float(x) for s, a, x in zip(w.sex, w.age_band, w.weight)}


def estimate(frame: pd.DataFrame, by: list[str], measure: Measure, view: View,
             secondary_groups: list[list[str]] | None = None) -> pd.DataFrame:
    """One protected row per group of ``by``; see the module docstring."""
    if frame.empty:
        return pd.DataFrame(columns=[*by, "num_shown", "den_shown", "value", "lower", "upper", "hidden", "expected", "flag"])
    f = frame.copy()
    f["stratum"] = f["sex"].astype(str) + "|" + f["age_band"].astype(str)
    # national stratum rates -> expected counts (indirect standardisation against Denmark)
    nat = f.groupby("stratum")[["num", "den"]].sum()
    nat_rate = (nat["num"] / nat["den"].where(nat["den"] > 0)).fillna(0.0)
    f["expected"] = f["den"] * f["stratum"].map(nat_rate).fillna(0.0)
    agg = f.groupby(by, as_index=False).agg(num=("num", "sum"), num_k=("num_k", "sum"), den=("den", "sum"),
                                             den_k=("den_k", "sum"), expected=("expected", "sum"))
    agg[["num_k", "den_k"]] = np.mod(agg[["num_k", "den_k"]], 1.0)
    extra = [c for c in (secondary_groups and sum(secondary_groups, []) or []) if c not in agg]
    if extra:
        agg = agg.merge(f[[*by, *extra]].drop_duplicates(by), on=by, how="left")
    t = protect(agg, secondary_groups)
    # Whatever is computed on the true strata (the standardised rate, the expected count) is
    # rescaled to the cell's shown numerator and denominator, so that no true count can be worked
    # back from it: with one stratum the standardised rate is then exactly shown/shown (not
    # shown/true, which gave the true denominator away), and the expected count of the whole
    # table is its shown count (not its true count).
    num_scale = (t["num_shown"] / t["num"]).where(t["num"] > 0, 1.0)
    den_scale = (t["den"] / t["den_shown"]).where(t["den_shown"] > 0, 1.0)
    if measure.kind == "rate" and view.rates == "dsr":
        w = _weights(view, view.standard, f)
        d = stats.dsr_table(f, by, events="num", population="den", stratum="stratum", weights=w, per=measure.per)
        # A group holding only some strata (one sex, one age band, or an area without anyone in a
        # stratum) is standardised over the strata it has: the DSR is rescaled from the full
        # standard's weight total to the weight total of the strata present (den > 0).
        present = f[f["den"] > 0].drop_duplicates([*by, "stratum"])
        present = present.assign(w=present["stratum"].map(w).fillna(0.0)).groupby(by, as_index=False)["w"].sum()
        d = d.merge(present, on=by, how="left")
        factor = (sum(w.values()) / d["w"]).where(d["w"] > 0, np.nan)
        d[["value", "lower", "upper"]] = d[["value", "lower", "upper"]].mul(factor, axis=0)
        t = t.merge(d[[*by, "value", "lower", "upper"]], on=by, how="left")
        t[["value", "lower", "upper"]] = t[["value", "lower", "upper"]].mul(num_scale * den_scale, axis=0)
    elif measure.kind == "rate":
        e = stats.crude_rate(t["num_shown"].fillna(0).to_numpy(), t["den_shown"].to_numpy(), per=measure.per)
        t["value"], t["lower"], t["upper"] = e.value, e.lower, e.upper
    else:
        e = stats.proportion_ci(t["num_shown"].fillna(0).to_numpy(), t["den_shown"].to_numpy())
        t["value"], t["lower"], t["upper"] = e.value * 100, e.lower * 100, e.upper * 100
    t.loc[t["hidden"], ["value", "lower", "upper"]] = np.nan
    # expected counts: the national stratum rates are scaled to the table's shown total and each
    # cell's expected count to its shown denominator (see above); the whole table's is its shown count
    total = protect(pd.DataFrame({"num": [agg["num"].sum()], "num_k": [np.mod(agg["num_k"].sum(), 1.0)],
                                  "den": [agg["den"].sum()], "den_k": [np.mod(agg["den_k"].sum(), 1.0)]})).iloc[0]
    total_scale = ((total["num_shown"] / total["num"] if total["num"] > 0 else 1.0)
                   * (total["den"] / total["den_shown"] if total["den_shown"] > 0 else 1.0))
    t["expected"] = t["expected"] / den_scale * total_scale
    t.loc[t["hidden"], "expected"] = np.nan
    # funnel-plot flag: shown against expected (Poisson for rates, binomial for shares)
    obs = t["num_shown"].to_numpy()
    if measure.kind == "rate":
        flags = stats.funnel_flags(np.nan_to_num(obs), np.nan_to_num(t["expected"].to_numpy()), 1.0)
    else:
        overall = (total["num_shown"] / total["den_shown"]
                   if total["den_shown"] and not np.isnan(total["den_shown"]) else 0.0)
        flags = stats.funnel_flags_proportion(np.nan_to_num(obs), t["den_shown"].fillna(0).to_numpy(), overall)
    t["flag"] = np.where(t["hidden"], "hidden", np.asarray(flags, dtype=object))
    return t.drop(columns=["num", "num_k", "den", "den_k"])


def with_names(t: pd.DataFrame, level: str, lang: str) -> pd.DataFrame:
    a = db.areas()
    names = a[a.level == level].set_index("code")
    t = t.copy()
    t["name"] = t["code"].map(names["name"])
    t["region_code"] = t["code"].map(names["region_code"]) if level == "municipality" else t["code"]
    return t


def _key(view: View, keep_area: bool = False) -> View:
    """The parts of a view that change a table (not language, map kind, colours, separator, drill-down)."""
    return replace(view, area=view.area if keep_area else None, within=None, map="geo", sep=",", lang="en",
                   colours="own", breaks="", tables=0)


def area_table(view: View) -> tuple[pd.DataFrame, pd.Series]:
    """The protected table of areas for the map, ranking, funnel and CSV, and Denmark's row."""
    t, national = _area_table(_key(view))
    if view.within is not None and view.level == "municipality":
        t = t[t["region_code"] == view.within].reset_index(drop=True)
    return t, national


@lru_cache(maxsize=512)
def _area_table(view: View) -> tuple[pd.DataFrame, pd.Series]:
    m = MEASURES[view.measure]
    f = strata(m.key, view.y0, view.y1, view.population_dims(), _event_filters(view, m)).copy()
    f["code"] = f["municipality"].map(area_codes(view.level))
    a = db.areas()
    mun = a[a.level == "municipality"].set_index("code")
    f["region_code"] = f["municipality"].map(mun["region_code"])
    groups = [["region_code"], []] if view.level == "municipality" else [[]]
    t = estimate(f, ["code"], m, view, groups)
    if view.rates == "eb" and m.kind == "rate" and view.level == "municipality":
        t = _shrink(t, m)
    t = with_names(t, view.level, view.lang)
    national = _first_row(estimate(f.assign(all=0), ["all"], m, view))
    return t.sort_values("code").reset_index(drop=True), national


def _first_row(t: pd.DataFrame) -> pd.Series:
    """The one row of a total; a selection with no records at all is a shown zero."""
    if len(t):
        return t.iloc[0]
    return pd.Series({"num_shown": 0.0, "den_shown": 0.0, "hidden": False, "value": np.nan, "lower": np.nan,
                      "upper": np.nan, "expected": 0.0, "flag": "within"})


def _shrink(t: pd.DataFrame, m: Measure) -> pd.DataFrame:
    """Empirical-Bayes rates toward the region (shown counts only); intervals are the posterior's."""
    a = db.areas()
    region = t["code"].map(a[a.level == "municipality"].set_index("code")["region_code"])
    ok = ~t["hidden"]
    if ok.sum() < 3:
        return t
    e = stats.eb_shrink(t.loc[ok, "num_shown"].to_numpy(), t.loc[ok, "den_shown"].to_numpy(), region[ok].to_numpy())
    t = t.copy()
    if hasattr(e, "value"):
        t.loc[ok, "value"], t.loc[ok, "lower"], t.loc[ok, "upper"] = e.value * m.per, e.lower * m.per, e.upper * m.per
    else:
        t.loc[ok, "value"] = np.asarray(e) * m.per
        t.loc[ok, ["lower", "upper"]] = np.nan
    return t


def trend_table(view: View, area: int | None) -> pd.DataFrame:
    """Estimates per year for the selected area (if any) and for Denmark, over all years."""
    return _trend_table(replace(_key(view), y0=0, y1=0), area)


@lru_cache(maxsize=256)
def _trend_table(view: View, area: int | None) -> pd.DataFrame:
    m = MEASURES[view.measure]
    years = db.years()
    f = strata(m.key, years[0], years[-1], view.population_dims(), _event_filters(view, m),
               ("year", "municipality")).copy()
    f["code"] = f["municipality"].map(area_codes(view.level))
    parts = [estimate(f.assign(code=0), ["year", "code"], m, view)]
    if area is not None:
        sel = f[f["code"] == area]
        if not sel.empty:
            # expected counts must come from the national rates, so estimate on the whole then keep the area
            parts.append(estimate(f, ["year", "code"], m, view).query("code == @area"))
    return pd.concat(parts, ignore_index=True)


BREAKDOWN_DIMS = ("sex", "age", "edu", "inc", "origin", "labour")


def breakdown_table(view: View, area: int | None) -> pd.DataFrame:
    """Estimates by each population-group dimension for the selected area (or Denmark)."""
    return _breakdown_table(_key(view), area)


@lru_cache(maxsize=256)
def _breakdown_table(view: View, area: int | None) -> pd.DataFrame:
    """One query per cube for all six dimensions (UNION ALL), one protected estimate for all.

    Each dimension keeps the view's other filters but not its own; secondary suppression treats
    each dimension's groups as one table with a published total.
    """
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
            # the group's value as text under one name; UNION BY NAME lines the selects up
            sql = sql.replace("SELECT ", f"SELECT '{key}' AS dimension, CAST({column} AS VARCHAR) AS value_key, ", 1)
            parts.append((sql, params))
    keys = ["dimension", "value_key", *STRATA]

    def union(parts):
        out = db.query(" UNION ALL BY NAME ".join(f"({sql})" for sql, _ in parts), [p for _, ps in parts for p in ps])
        return out[[c for c in out.columns if c in keys or c in ("num", "num_k", "den", "den_k")]]

    ev = union(ev_parts)
    f = union(pop_parts).merge(ev, on=keys, how="left") if pop_parts else ev
    f = _finish(f)
    if f.empty:
        return pd.DataFrame()
    return estimate(f, ["dimension", "value_key"], m, view, [["dimension"]])


MIX_MEASURES = ("mri_share", "acute_share", "gp_share", "chiropractor_share", "specialist_share", "hospital_share",
                "private_share", "surgery_short_share", "surgery_long_share", "rehab_short_share", "rehab_long_share",
                "lowvalue_share")


def mix_table(view: View, area: int | None) -> pd.DataFrame:
    """Shares of modality, priority, referrer and of what followed, for Denmark (code 0) and the area.

    One cached scan of the imaging cube; each share is a masked sum, all protected in one pass.
    """
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
                         "num_k": ev[f"k_{m.numerator}"].to_numpy()[hit & where].sum() % 1.0,
                         "den": ev[f"n_{m.denominator}"].to_numpy()[base & where].sum(),
                         "den_k": ev[f"k_{m.denominator}"].to_numpy()[base & where].sum() % 1.0})
    t = protect(pd.DataFrame(rows))
    e = stats.proportion_ci(t["num_shown"].fillna(0).to_numpy(), t["den_shown"].to_numpy())
    t["value"], t["lower"], t["upper"] = e.value * 100, e.lower * 100, e.upper * 100
    t.loc[t["hidden"], ["value", "lower", "upper"]] = np.nan
    t["flag"] = np.where(t["hidden"], "hidden", "")
    return t.drop(columns=["num", "num_k", "den", "den_k"])


def variation(t: pd.DataFrame) -> dict:
    shown = t[~t["hidden"] & (t["expected"] > 0)]
    if len(shown) < 2:
        return {}
    v = stats.variation_stats(shown["num_shown"].to_numpy(), shown["expected"].to_numpy())
    return {k: (float(x) if x is not None else None) for k, x in v._asdict().items()}
