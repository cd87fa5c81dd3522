"""From a view to protected tables of estimates.

``strata(...)`` runs one parameterised SQL query on the cubes and returns numerator and
denominator counts by the requested groups x sex x age band (the standardisation strata).
``estimate(...)`` turns strata into one protected row per group: shown counts, the estimate with
its 95% interval, the expected count (indirect standardisation) and the funnel-plot flag.
Queries are cached per process by their arguments (the database is read-only).
"""
from __future__ import annotations

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


@lru_cache(maxsize=1024)
def strata(measure_key: str, y0: int, y1: int, pop_dims: tuple, event_dims: tuple,
           group_by: tuple = ("municipality",), restrict: tuple = ()) -> pd.DataFrame:
    """Numerator and denominator by ``group_by`` x sex x age band, with their cell keys.

    ``restrict`` is ((column, value), ...) applied to both, e.g. one municipality.
    """
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
    if m.denominator == "population":
        if any(g in EVENT_GROUPABLE for g in group_by):
            raise ValueError("a rate cannot be split by an imaging dimension")
        ev = db.query(
            f"SELECT {cols}, sum(n_{m.numerator}) FILTER (WHERE {num_cond}) AS num, "
            f"sum(k_{m.numerator}) FILTER (WHERE {num_cond}) AS num_k "
            f"FROM imaging_cube WHERE {where} AND {den_where} GROUP BY ALL",
            num_params * 2 + params + den_params)
        pw, pp = where_sql(pop_dims, y0, y1, dict(restrict))
        pop = db.query(f"SELECT {cols}, sum(persons) AS den, sum(k_persons) AS den_k FROM population_cube "
                       f"WHERE {pw} GROUP BY ALL", pp)
        out = pop.merge(ev, on=keys, how="left")
    else:
        out = db.query(
            f"SELECT {cols}, sum(n_{m.numerator}) FILTER (WHERE {num_cond}) AS num, "
            f"sum(k_{m.numerator}) FILTER (WHERE {num_cond}) AS num_k, "
            f"sum(n_{m.denominator}) AS den, sum(k_{m.denominator}) AS den_k "
            f"FROM imaging_cube WHERE {where} AND {den_where} GROUP BY ALL",
            num_params * 2 + params + den_params)
    for c in ("num", "num_k", "den", "den_k"):
        out[c] = out[c].fillna(0).astype(float)
    return out


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
    if measure.kind == "rate" and view.rates == "dsr":
        w = _weights(view, view.standard, f)
        d = stats.dsr_table(f, by, events="num", population="den", stratum="stratum", weights=w, per=measure.per)
        t = t.merge(d[[*by, "value", "lower", "upper"]], on=by, how="left")
        scale = (t["num_shown"] / t["num"]).where(t["num"] > 0, 1.0)
        t[["value", "lower", "upper"]] = t[["value", "lower", "upper"]].mul(scale, axis=0)
    elif measure.kind == "rate":
        e = stats.crude_rate(t["num_shown"].fillna(0).to_numpy(), t["den_shown"].to_numpy(), per=measure.per)
        t["value"], t["lower"], t["upper"] = e.value, e.lower, e.upper
    else:
        e = stats.proportion_ci(t["num_shown"].fillna(0).to_numpy(), t["den_shown"].to_numpy())
        t["value"], t["lower"], t["upper"] = e.value * 100, e.lower * 100, e.upper * 100
    t.loc[t["hidden"], ["value", "lower", "upper"]] = np.nan
    # funnel-plot flag: observed against expected (Poisson for rates, binomial for shares)
    obs = t["num_shown"].to_numpy()
    if measure.kind == "rate":
        flags = stats.funnel_flags(np.nan_to_num(obs), t["expected"].to_numpy(), 1.0)
    else:
        overall = agg["num"].sum() / agg["den"].sum() if agg["den"].sum() else 0.0
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


def area_table(view: View) -> tuple[pd.DataFrame, pd.Series]:
    """The protected table of areas for the map, ranking, funnel and CSV, and Denmark's row."""
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
    national = estimate(f.assign(all=0), ["all"], m, view).iloc[0]
    if view.within is not None and view.level == "municipality":
        t = t[t["region_code"] == view.within]
    return t.sort_values("code").reset_index(drop=True), national


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
    m = MEASURES[view.measure]
    rows = []
    mapping = area_codes(view.level)
    for key in BREAKDOWN_DIMS:
        column = DIMENSIONS[key][0]
        dims = tuple((k, v) for k, v in view.population_dims() if k != key)
        f = strata(m.key, view.y0, view.y1, dims, _event_filters(view, m), ("municipality", column)).copy()
        f["code"] = f["municipality"].map(mapping)
        if area is not None:
            f = f[f["code"] == area]
        if f.empty:
            continue
        f["value_key"] = f[column]
        t = estimate(f, ["value_key"], m, view, [[]])
        t["dimension"] = key
        rows.append(t)
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def mix_table(view: View, area: int | None) -> pd.DataFrame:
    """Shares of modality, priority, referrer and of what followed, for the area (or Denmark) and Denmark."""
    keys = ["mri_share", "acute_share", "gp_share", "chiropractor_share", "specialist_share", "hospital_share",
            "surgery_short_share", "surgery_long_share", "rehab_short_share", "rehab_long_share", "lowvalue_share"]
    rows = []
    mapping = area_codes(view.level)
    for key in keys:
        m = MEASURES[key]
        f = strata(key, view.y0, view.y1, view.population_dims(), _event_filters(view, m)).copy()
        f["code"] = f["municipality"].map(mapping)
        for code, part in ((0, f), (area, f[f["code"] == area] if area is not None else None)):
            if part is None or part.empty:
                continue
            t = estimate(part.assign(code=code), ["code"], m, view)
            t["measure"] = key
            rows.append(t)
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def variation(t: pd.DataFrame) -> dict:
    shown = t[~t["hidden"] & (t["expected"] > 0)]
    if len(shown) < 2:
        return {}
    v = stats.variation_stats(shown["num_shown"].to_numpy(), shown["expected"].to_numpy())
    return {k: (float(x) if x is not None else None) for k, x in v._asdict().items()}
