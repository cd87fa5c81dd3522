"""Estimates of the release, computed by the estimate engine (``etl.estimates.engine``) from
published counts and public information only.

For every measure with estimates, filter set, area and period of the plan:

- ``num`` and ``den``: the published counts (NULL where hidden);
- ``value``, ``lower``, ``upper``: the crude rate per 1,000 (Garwood interval) or the share in per
  cent (Wilson interval), from ``num`` and ``den``;
- for rates, the **indirectly standardised ratio against the view's own national rates**
  SR = O / E (``method = 'isr'``): E is the area's population by sex and age band (public
  population statistics, never published here) times Denmark's published rates by sex and age
  band *within the same filter set* (a group is compared with the same group nationally) for the
  same period. SR's interval is Garwood's on O divided by E. E is published rounded
  (``expected_decimals``) and SR is computed from the rounded E. The standardised rate the app
  shows is SR times the filter set's reference rate (``reference_rates``: Denmark's rate in the
  filter set standardised to the ESP 2013 over the strata the group holds, or its crude rate),
  a function of published national counts; for Denmark itself that is its direct ESP 2013 rate;
- the funnel flags from exact tests (Poisson for rates against E times Denmark's O/E in the same
  filter set, binomial for shares against Denmark's share) on the published counts;
- ``method``: ``isr``, ``crude`` (fewer than ``min_events_standardised`` events: no standardised
  figure) or ``proportion`` (shares); NULL where hidden.

No estimate rests on a hidden count. A hidden national stratum takes the filter set's published
rate in its age band, else the filter set's crude national rate.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from etl.domain import MEASURES
from etl.estimates import engine
from etl.release.cells import fs_sql, register
from etl.release.plan import POPULATION_DIMS, Plan, canonical

EVENT_DIMS = ("modality", "priority", "referrer")
# filter patterns published for shares only: a rate by population group and imaging type would need
# Denmark's counts by group x imaging type x sex x age band as its reference, which are not published
SHARE_ONLY = [[g, "modality"] for g in POPULATION_DIMS if g not in ("sex", "age")]
FILTER_PATTERNS = ([[]] + [[d] for d in (*POPULATION_DIMS, *EVENT_DIMS)]
                   + [[g, "modality"] for g in POPULATION_DIMS]
                   + [[g, d] for g in POPULATION_DIMS if g not in ("sex", "age") for d in ("sex", "age")])
ESTIMATE_COLUMNS = ["measure", "level", "code", "period", "fs", "num", "den", "expected", "sr", "sr_lower",
                    "sr_upper", "value", "lower", "upper", "flag_std", "flag_crude", "note", "method"]


def _pairs(con, plan: Plan, measure) -> pd.DataFrame:
    """Published numerator and denominator of ``measure`` for every filter set where both exist."""
    num_extra = {**measure.denominator_where, **measure.numerator_where}
    frames = []
    for pattern in FILTER_PATTERNS:
        if any(d in measure.ignores for d in pattern) or (measure.kind == "rate" and pattern in SHARE_ONLY):
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


def _national_strata(con, count: str, pattern: list[str]) -> pd.DataFrame:
    """Denmark's published stratum counts (sex x age band) of ``count`` and of persons within each
    filter set of ``pattern``: group (period, fs), sex, age, num, den (NaN where hidden)."""
    f_dims = canonical(pattern)
    s_dims = canonical([*pattern, "sex", "age"])
    p_dims = canonical([d for d in s_dims if d in POPULATION_DIMS])
    group_fs = fs_sql(f_dims, "e")
    return con.execute(f"""
        SELECT e.period, {group_fs} AS fs, e.sex, e.age, e.shown AS num, p.shown AS den
        FROM published e JOIN published p
          ON p.count = 'persons' AND p.level = 'denmark' AND p.pattern = '{','.join(p_dims)}'
         AND p.period = e.period AND p.fs = {fs_sql(p_dims, 'e')}
        WHERE e.count = '{count}' AND e.level = 'denmark' AND e.pattern = '{','.join(s_dims)}'
    """).df()


def _national_band(con, count: str, pattern: list[str]) -> pd.DataFrame:
    """Denmark's published counts by age band (both sexes) within each filter set (the first fallback
    of a hidden stratum); empty where the plan does not publish them."""
    if "sex" in pattern or "age" in pattern:
        return pd.DataFrame(columns=["period", "fs", "age", "num", "den"])
    b_dims = canonical([*pattern, "age"])
    p_dims = canonical([d for d in b_dims if d in POPULATION_DIMS])
    return con.execute(f"""
        SELECT e.period, {fs_sql(canonical(pattern), 'e')} AS fs, e.age, e.shown AS num, p.shown AS den
        FROM published e JOIN published p
          ON p.count = 'persons' AND p.level = 'denmark' AND p.pattern = '{','.join(p_dims)}'
         AND p.period = e.period AND p.fs = {fs_sql(p_dims, 'e')}
        WHERE e.count = '{count}' AND e.level = 'denmark' AND e.pattern = '{','.join(b_dims)}'
    """).df()


def _cell_strata(con, cells: pd.DataFrame) -> pd.DataFrame:
    """Each cell's population by sex and age band (public population statistics, never published):
    level, code, period, fs, sex, age, persons."""
    keys = cells[["level", "code", "period", "fs"]].drop_duplicates()
    keys = keys.assign(pop_fs=_pop_fs(keys["fs"]))
    register(con, "cell_keys_df", keys)
    out = con.execute("""
        SELECT k.level, k.code, k.period, k.fs, CAST(s.sex AS VARCHAR) AS sex, s.age_band AS age, s.persons
        FROM cell_keys_df k JOIN plan_strata s
          ON s.level = k.level AND s.code = k.code AND s.period = k.period AND s.fs = k.pop_fs
    """).df()
    con.unregister("cell_keys_df")
    return out


def _rate_reference(con, plan: Plan, measure, patterns: list[list[str]], weights: dict):
    """Denmark's stratum rates and the reference rates (ESP 2013 and Denmark's own population) of
    ``measure`` for every period and filter set of ``patterns`` (engine.stratum_rates, reference_rates)."""
    rates, refs = [], []
    for pattern in patterns:
        nat = _national_strata(con, measure.numerator, pattern)
        if nat.empty:
            continue
        band = _national_band(con, measure.numerator, pattern)
        total = con.execute(f"""
            SELECT e.period, e.fs, e.shown AS num, p.shown AS den FROM published e JOIN published p
              ON p.count = 'persons' AND p.level = 'denmark' AND p.pattern = '{','.join(canonical([d for d in pattern if d in POPULATION_DIMS]))}'
             AND p.period = e.period AND p.fs = {fs_sql(canonical([d for d in pattern if d in POPULATION_DIMS]), 'e')}
            WHERE e.count = '{measure.numerator}' AND e.level = 'denmark' AND e.pattern = '{','.join(canonical(pattern))}'
        """).df()
        r = engine.stratum_rates(nat, ["period", "fs"], [b for b in (band, total) if len(b)])
        rates.append(r)
        esp = engine.reference_rates(r, ["period", "fs"], weights).assign(standard="esp2013")
        own = engine.reference_rates(r, ["period", "fs"], None).assign(standard="denmark")
        refs.append(pd.concat([esp, own], ignore_index=True))
    if not rates:
        return pd.DataFrame(columns=["period", "fs", "sex", "age", "persons", "rate"]), \
            pd.DataFrame(columns=["period", "fs", "reference", "standard"])
    return pd.concat(rates, ignore_index=True), pd.concat(refs, ignore_index=True)


def _pop_fs(fs: pd.Series) -> pd.Series:
    """The population part of a filter-set key (the filter the population strata know)."""
    def part(key: str) -> str:
        return "&".join(p for p in key.split("&") if p and p.split("=")[0] in POPULATION_DIMS)
    uniq = {k: part(k) for k in fs.unique()}
    return fs.map(uniq)


KEYS = ["level", "code", "period", "fs"]
GROUP = ["period", "fs"]
DENMARK = {"level": "denmark"}


def estimate_measure(con, plan: Plan, measure, weights: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The estimates of one measure over the plan (etl.estimates.engine) and its reference rates."""
    t = _pairs(con, plan, measure)
    if t.empty:
        return pd.DataFrame(columns=ESTIMATE_COLUMNS), pd.DataFrame(columns=["measure", "period", "fs", "standard", "rate"])
    if measure.kind == "rate":
        patterns = [p for p in FILTER_PATTERNS if not any(d in measure.ignores for d in p) and p not in SHARE_ONLY]
        rates, refs = _rate_reference(con, plan, measure, patterns, weights or {})
        e = engine.expected(_cell_strata(con, t), rates, KEYS, GROUP, plan.expected_decimals)
        cells = t.merge(e, on=KEYS, how="left")
        esp = refs[refs["standard"] == "esp2013"][[*GROUP, "reference"]]
        out = engine.rate_estimates(cells, KEYS, GROUP, DENMARK, esp, per=measure.per,
                                    min_events=plan.min_events_standardised)
        # the table's value is the crude rate; the app reads the standardised one as sr x reference
        out = out.drop(columns=["value", "lower", "upper"]).rename(
            columns={"crude": "value", "crude_lower": "lower", "crude_upper": "upper"})
        reference = refs.rename(columns={"reference": "rate"}).assign(measure=measure.key)
    else:
        out = engine.share_estimates(t, KEYS, GROUP, DENMARK)
        for c in ("sr", "sr_lower", "sr_upper"):
            out[c] = np.nan
        reference = pd.DataFrame(columns=["measure", "period", "fs", "standard", "rate"])
    out = out.assign(measure=measure.key)
    return out[ESTIMATE_COLUMNS], reference[["measure", "period", "fs", "standard", "rate"]]


def write_estimates(con, plan: Plan, weights: dict) -> dict:
    frames, refs = [], []
    for m in MEASURES.values():
        if not m.estimates:
            continue
        est, ref = estimate_measure(con, plan, m, weights)
        frames.append(est)
        refs.append(ref)
    ref_columns = ["measure", "period", "fs", "standard", "rate"]
    est = pd.concat([f for f in frames if len(f)] or [pd.DataFrame(columns=ESTIMATE_COLUMNS)], ignore_index=True)
    for c in ("flag_std", "flag_crude", "note", "method"):
        est[c] = est[c].astype(object).where(est[c].notna(), None)
    # a plan without the reference strata (a small plan) publishes no standardised rates
    reference = pd.concat([r for r in refs if len(r)] or [pd.DataFrame(columns=ref_columns)], ignore_index=True)
    return {"estimates": est, "reference_rates": reference}
