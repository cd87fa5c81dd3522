"""Estimates of the release, computed from published counts and public information only.

For every measure, filter set, area and period of the plan:

- ``num`` and ``den``: the published counts (NULL where hidden);
- the crude rate per 1,000 (Garwood interval) or the share in per cent (Wilson interval), from
  ``num`` and ``den``;
- for rates, the **indirectly standardised ratio** SR = O / E with O = ``num`` and E the expected
  count: the area's population by sex and age band (public population statistics, never
  published here) times Denmark's published rates by sex and age band for the same period. SR's
  interval is Garwood's on O divided by E. E is published rounded (``expected_decimals``) and SR
  is computed from the rounded E. The standardised *rate* the app shows is SR times a reference
  rate of Denmark (its rate standardised to the ESP 2013, or its crude rate); both reference rates
  are functions of published national counts (``reference_rates``);
- the funnel flag from an exact test (Poisson for rates against E times Denmark's SR for the same
  filter set, binomial for shares against Denmark's share) on the published counts.

No estimate rests on a hidden count; a standardised ratio needs ``min_events_standardised`` events.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from etl.domain import MEASURES
from etl import stats
from etl.release.cells import fs_sql, register
from etl.release.plan import POPULATION_DIMS, Plan, canonical

EVENT_DIMS = ("modality", "priority", "referrer")
FILTER_PATTERNS = ([[]] + [[d] for d in (*POPULATION_DIMS, *EVENT_DIMS)]
                   + [[g, "modality"] for g in POPULATION_DIMS])
ESTIMATE_COLUMNS = ["measure", "level", "code", "period", "fs", "num", "den", "expected", "sr", "sr_lower",
                    "sr_upper", "value", "lower", "upper", "flag_std", "flag_crude", "note"]


def _pairs(con, plan: Plan, measure) -> pd.DataFrame:
    """Published numerator and denominator of ``measure`` for every filter set where both exist."""
    num_extra = {**measure.denominator_where, **measure.numerator_where}
    frames = []
    for pattern in FILTER_PATTERNS:
        if any(d in measure.ignores for d in pattern):
            continue
        f_dims = canonical(pattern)
        num_dims = canonical([*pattern, *num_extra])
        if measure.denominator == "population":
            den_count, den_dims = "persons", canonical([d for d in pattern if d in POPULATION_DIMS])
        else:
            den_count, den_dims = measure.denominator, canonical([*pattern, *measure.denominator_where])
        if not (any(p.count == measure.numerator and p.dims == num_dims for p in plan.patterns)
                and any(p.count == den_count and p.dims == den_dims for p in plan.patterns)):
            continue
        where = "".join(f" AND n.{k} = '{v}'" for k, v in num_extra.items())
        frames.append(con.execute(f"""
            SELECT n.level, n.code, n.period, {fs_sql(f_dims, 'n')} AS fs,
                   n.shown AS num, d.shown AS den
            FROM published n JOIN published d
              ON d.count = '{den_count}' AND d.pattern = '{','.join(den_dims)}' AND d.level = n.level
             AND d.code = n.code AND d.period = n.period AND d.fs = {fs_sql(den_dims, 'n')}
            WHERE n.count = '{measure.numerator}' AND n.pattern = '{','.join(num_dims)}' {where}
        """).df())
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return out.assign(measure=measure.key)


def reference_rates(con, plan: Plan) -> pd.DataFrame:
    """Denmark's rates by sex and age band per count and period, from published counts.

    A hidden stratum falls back to its age band (both sexes), then to the crude national rate.
    """
    return con.execute("""
        WITH ev AS (SELECT count, period, sex, age, shown FROM published
                    WHERE level = 'denmark' AND pattern = 'sex,age' AND count <> 'persons'),
             pop AS (SELECT period, sex, age, shown AS persons FROM published
                     WHERE level = 'denmark' AND pattern = 'sex,age' AND count = 'persons'),
             band AS (SELECT e.count, e.period, e.age, e.shown / p.shown AS rate FROM published e
                      JOIN published p ON p.count = 'persons' AND p.level = 'denmark' AND p.pattern = 'age'
                                      AND p.period = e.period AND p.age = e.age
                      WHERE e.level = 'denmark' AND e.pattern = 'age'),
             crude AS (SELECT e.count, e.period, e.shown / p.shown AS rate FROM published e
                       JOIN published p ON p.count = 'persons' AND p.level = 'denmark' AND p.pattern = ''
                                       AND p.period = e.period
                       WHERE e.level = 'denmark' AND e.pattern = '')
        SELECT ev.count, ev.period, ev.sex, ev.age, pop.persons,
               coalesce(ev.shown / pop.persons, band.rate, crude.rate) AS rate, crude.rate AS crude_rate
        FROM ev JOIN pop USING (period, sex, age)
        LEFT JOIN band USING (count, period, age) LEFT JOIN crude USING (count, period)
    """).df()


def _expected(con, plan: Plan, count: str) -> pd.DataFrame:
    """E per area, period and population filter set for one count (rounded as published)."""
    return con.execute(f"""
        SELECT s.level, s.code, s.period, s.fs, round(sum(s.persons * r.rate), {plan.expected_decimals}) AS expected
        FROM plan_strata s JOIN ref r ON r.count = '{count}' AND r.period = s.period
             AND r.sex = CAST(s.sex AS VARCHAR) AND r.age = s.age_band
        GROUP BY ALL
    """).df()


def standard_rates(ref: pd.DataFrame, weights: dict[tuple[str, str], float]) -> pd.DataFrame:
    """Reference rates per count and period: ESP 2013-standardised and crude, per person."""
    r = ref.assign(w=[weights.get((s, a), 0.0) for s, a in zip(ref["sex"], ref["age"])])
    esp = (r.assign(wr=r["w"] * r["rate"]).groupby(["count", "period"], as_index=False)
           .agg(wr=("wr", "sum"), w=("w", "sum")))
    esp["esp2013"] = esp["wr"] / esp["w"]
    crude = r.groupby(["count", "period"], as_index=False)["crude_rate"].first().rename(columns={"crude_rate": "denmark"})
    return esp[["count", "period", "esp2013"]].merge(crude, on=["count", "period"])


def _pop_fs(fs: pd.Series) -> pd.Series:
    """The population part of a filter-set key (the filter the population strata know)."""
    def part(key: str) -> str:
        return "&".join(p for p in key.split("&") if p and p.split("=")[0] in POPULATION_DIMS)
    uniq = {k: part(k) for k in fs.unique()}
    return fs.map(uniq)


def _proportion_flags(num: np.ndarray, den: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Exact binomial funnel flags, each row against its own target (Denmark's share for its period and filter)."""
    out = np.full(num.size, None, dtype=object)
    ok = np.isfinite(target) & (target >= 0) & (target <= 1)
    for value in np.unique(target[ok]):
        rows = ok & (target == value)
        out[rows] = stats.funnel_flags_proportion(num[rows], den[rows], float(value))
    return out


def estimate_measure(con, plan: Plan, measure) -> pd.DataFrame:
    t = _pairs(con, plan, measure)
    if t.empty:
        return pd.DataFrame(columns=ESTIMATE_COLUMNS)
    num, den = t["num"].to_numpy(dtype=float), t["den"].to_numpy(dtype=float)
    shown = ~np.isnan(num) & ~np.isnan(den) & (den > 0)
    dk = t[t["level"] == "denmark"].set_index(["period", "fs"])
    key = pd.MultiIndex.from_frame(t[["period", "fs"]])
    dk_num = dk["num"].reindex(key).to_numpy(dtype=float)
    dk_den = dk["den"].reindex(key).to_numpy(dtype=float)
    t["note"] = np.where(shown, None, "hidden")
    if measure.kind == "rate":
        e = stats.crude_rate(np.where(shown, num, np.nan), den, per=1000)
        t["value"], t["lower"], t["upper"] = e.value, e.lower, e.upper
        t["flag_crude"] = stats.funnel_flags(np.where(shown, num, np.nan), np.where(shown, den * dk_num / dk_den, 0), 1.0)
        exp = _expected(con, plan, measure.numerator)
        t["pop_fs"] = _pop_fs(t["fs"])
        t = t.merge(exp.rename(columns={"fs": "pop_fs"}), on=["level", "code", "period", "pop_fs"], how="left")
        t = t.drop(columns="pop_fs")
        expected = t["expected"].to_numpy(dtype=float)
        enough = shown & (num >= plan.min_events_standardised) & (expected > 0)
        sr = stats.indirect_ratio(np.where(enough, num, np.nan), expected)
        t["sr"], t["sr_lower"], t["sr_upper"] = sr.value, sr.lower, sr.upper
        dk_e = t[t["level"] == "denmark"].set_index(["period", "fs"])["expected"].reindex(key).to_numpy(dtype=float)
        target = dk_num / dk_e
        t["flag_std"] = stats.funnel_flags(np.where(enough, num, np.nan), np.where(enough, expected * target, 0), 1.0)
        t["note"] = np.where(shown & ~enough, "few_events", t["note"])
        t.loc[~enough, ["sr", "sr_lower", "sr_upper", "flag_std"]] = np.nan
        t.loc[~shown, "expected"] = np.nan
    else:
        e = stats.proportion_ci(np.where(shown, num, np.nan), np.where(shown, den, np.nan))
        t["value"], t["lower"], t["upper"] = e.value * 100, e.lower * 100, e.upper * 100
        t["flag_crude"] = _proportion_flags(np.where(shown, num, np.nan), np.where(shown, den, 0), dk_num / dk_den)
        t["flag_std"] = t["flag_crude"]
        t["expected"] = np.where(shown, den * dk_num / dk_den, np.nan)
        for c in ("sr", "sr_lower", "sr_upper"):
            t[c] = np.nan
    t.loc[~shown, ["value", "lower", "upper", "flag_crude", "flag_std"]] = np.nan
    return t[ESTIMATE_COLUMNS]


def write_estimates(con, plan: Plan, weights: dict) -> dict:
    ref = reference_rates(con, plan)
    register(con, "ref_df", ref)
    con.execute("CREATE OR REPLACE TEMP TABLE ref AS SELECT * FROM ref_df")
    con.unregister("ref_df")
    frames = [estimate_measure(con, plan, m) for m in MEASURES.values()]
    est = pd.concat([f for f in frames if len(f)], ignore_index=True)
    for c in ("flag_std", "flag_crude", "note"):
        est[c] = est[c].astype(object).where(est[c].notna(), None)
    std = standard_rates(ref, weights)
    rates = []
    for m in MEASURES.values():
        if m.kind == "rate":
            rates.append(std[std["count"] == m.numerator].assign(measure=m.key))
    reference = (pd.concat(rates, ignore_index=True)
                 .melt(id_vars=["measure", "count", "period"], value_vars=["esp2013", "denmark"],
                       var_name="standard", value_name="rate")[["measure", "period", "standard", "rate"]])
    return {"estimates": est, "reference_rates": reference}
