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
from atlas.data.domain import BREAKDOWN_DIMS, EMPTY, FEW, MIX_MEASURES, NOT_TESTED, SHOWN
from atlas.filters import DIMENSIONS, View
from atlas.measures import MEASURES, Measure
from atlas.strata import (STRATA, _event_filters, _finish, _mask, _strata_sql_parts, area_codes, event_frame,
                          population_frame, strata)
from etl import stats


def min_events_standardised() -> int:
    """The fewest events a standardised rate is computed from (the publication plan's rule, so the
    secure and the release figures of a view agree)."""
    m = db.meta()
    if "min_events_standardised" in m:
        return int(m["min_events_standardised"])
    from etl.release.plan import load_plan

    return int(load_plan().min_events_standardised)


def _weights(standard: str, frame: pd.DataFrame) -> dict:
    w = db.standard_weights()
    w = w[w.standard == standard]
    keep = (w.sex.isin(frame.sex.unique())) & (w.age_band.isin(frame.age_band.unique()))
    w = w[keep]
    return {f"{s}|{a}": float(x) for s, a, x in zip(w.sex, w.age_band, w.weight)}


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


def estimate(frame: pd.DataFrame, by: list[str], measure: Measure, view: View, secondary_groups=None) -> pd.DataFrame:
    """One row per group of ``by`` from exact counts.

    - crude rates and shares: from the counts (Garwood / Wilson-type intervals of ``etl.stats``);
    - the standardised rate (indirect): SR = O / E, E = the group's population by sex and age band
      times Denmark's rates by stratum (of the view's filters); the rate shown is SR times Denmark's
      rate standardised to the chosen standard population over the strata present; its interval is
      Garwood's on O, divided by E, times that rate; not computed below the plan's minimum number
      of events (status "few_events");
    - the expected count: E for rates, denominator times Denmark's share for shares;
    - the funnel flag: exact tests of the count against E (rates) or Denmark's share.

    ``secondary_groups`` is accepted for the callers' sake and ignored: nothing is suppressed here.
    Reference: Breslow NE, Day NE (1987), IARC Sci Publ 82, section 2.3 (indirect standardisation).
    """
    if frame.empty:
        return pd.DataFrame(columns=[*by, "num_shown", "den_shown", "value", "lower", "upper", "hidden", "expected",
                                     "flag", "status"])
    f = frame.copy()
    f["stratum"] = f["sex"].astype(str) + "|" + f["age_band"].astype(str)
    cell = f.groupby([*by, "stratum"], as_index=False)[["num", "den"]].sum()
    nat = cell.groupby("stratum")[["num", "den"]].sum()
    nat_rate = (nat["num"] / nat["den"]).where(nat["den"] > 0, 0.0).fillna(0.0)
    cell["expected"] = cell["den"] * cell["stratum"].map(nat_rate).fillna(0.0)
    t = cell.groupby(by, as_index=False).agg(num=("num", "sum"), den=("den", "sum"), expected=("expected", "sum"))
    t = exact(t)
    obs = t["num"].to_numpy(dtype=float)
    total_num, total_den = float(cell["num"].sum()), float(cell["den"].sum())
    if measure.kind == "rate" and view.rates in ("dsr", "eb"):
        ws = pd.Series(_weights(view.standard, f)).reindex(nat_rate.index).fillna(0.0)
        reference = float((ws * nat_rate).sum() / ws.sum()) if ws.sum() > 0 else np.nan
        sr = stats.indirect_ratio(obs, t["expected"].to_numpy(dtype=float))
        t["value"], t["lower"], t["upper"] = (np.asarray(x, dtype=float) * reference * measure.per
                                              for x in (sr.value, sr.lower, sr.upper))
        t["reference"] = reference
        few = ~t["hidden"] & (obs < min_events_standardised())
        t.loc[few, ["value", "lower", "upper"]] = np.nan
        t.loc[few, "status"] = FEW
        t.loc[few, "hidden"] = True
    elif measure.kind == "rate":
        e = stats.crude_rate(obs, t["den"].to_numpy(dtype=float), per=measure.per)
        t["value"], t["lower"], t["upper"] = e.value, e.lower, e.upper
    else:
        e = stats.proportion_ci(obs, t["den"].to_numpy(dtype=float))
        t["value"], t["lower"], t["upper"] = e.value * 100, e.lower * 100, e.upper * 100
    t.loc[t["status"] == EMPTY, ["value", "lower", "upper"]] = np.nan
    overall = total_num / total_den if total_den > 0 else np.nan
    if measure.kind != "rate":
        t["expected"] = t["den"] * overall
    t.loc[t["status"] == EMPTY, "expected"] = np.nan
    if measure.kind == "rate":
        flags = stats.funnel_flags(obs, np.nan_to_num(t["expected"].to_numpy(dtype=float)), 1.0)
    elif np.isfinite(overall):
        flags = stats.funnel_flags_proportion(obs, t["den"].to_numpy(dtype=float), overall)
    else:
        flags = [None] * len(t)
    flags = np.asarray(flags, dtype=object)
    flags = np.where(pd.isna(flags), NOT_TESTED, flags)
    t["flag"] = np.where(t["hidden"], "hidden", flags)
    return t.drop(columns=["num", "den"])


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


@cached(maxsize=256)
def _trend_table(view: View, area: int | None) -> pd.DataFrame:
    from atlas.coverage import incomplete_years

    m = MEASURES[view.measure]
    years = db.years()
    f = strata(m.key, years[0], years[-1], view.population_dims(), _event_filters(view, m),
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
        parts.append(estimate(part, ["dimension", "value_key"], m, v))
    return pd.concat(parts, ignore_index=True)


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


def clear_caches() -> None:
    for f in (event_frame, population_frame, strata, _area_table, _trend_table, _breakdown_table):
        f.cache_clear()
