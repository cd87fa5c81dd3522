"""Statistics shared by the ETL and the app.

Every function here is pure: no I/O, no global state, inputs are never modified. Numeric
functions accept scalars or array-likes and broadcast like numpy; a scalar input gives a
numpy scalar back, an array input an array of the broadcast shape.

Contents
--------
Rates and intervals
    ``poisson_ci``, ``crude_rate``, ``dsr``, ``dsr_table``, ``proportion_ci``
Indirect standardisation against Denmark as a whole
    ``expected_counts``, ``indirect_ratio``, ``indirect_table``
Geographic variation
    ``variation_stats`` (extremal quotient, CV, SCV), ``funnel_limits``, ``funnel_flags``,
    ``funnel_limits_proportion``, ``funnel_flags_proportion``, ``eb_shrink``
Disclosure control
    ``suppress``, ``suppress_with_totals``, ``suppression_audit``, ``perturb``

The methods are described for readers of the atlas in ``docs/methods-statistics.md``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import optimize, sparse
from scipy.sparse import csgraph
from scipy.special import betainc
from scipy.stats import chi2, poisson

__all__ = [
    "Estimate",
    "VariationStats",
    "poisson_ci",
    "crude_rate",
    "dsr",
    "dsr_table",
    "expected_counts",
    "indirect_ratio",
    "indirect_table",
    "variation_stats",
    "funnel_limits",
    "funnel_flags",
    "proportion_ci",
    "funnel_limits_proportion",
    "funnel_flags_proportion",
    "eb_shrink",
    "suppress",
    "suppress_with_totals",
    "suppression_audit",
    "perturb",
    "conf_label",
]


class Estimate(NamedTuple):
    """A point estimate with the lower and upper limits of its confidence interval."""

    value: Any
    lower: Any
    upper: Any


class VariationStats(NamedTuple):
    """Summary of between-area variation of indirectly standardised ratios (see ``variation_stats``)."""

    extremal_quotient: float
    extremal_quotient_min_count: float
    coefficient_of_variation: float
    scv: float
    n_areas: int


# --------------------------------------------------------------------------------------------
# helpers


def _out(x: np.ndarray) -> Any:
    """Return a 0-d array as a numpy scalar, anything else unchanged."""
    x = np.asarray(x)
    return x[()] if x.ndim == 0 else x


def _check_conf(conf: float) -> float:
    conf = float(conf)
    if not 0.0 < conf < 1.0:
        raise ValueError(f"conf must be strictly between 0 and 1, got {conf!r}")
    return 1.0 - conf


def _as_float(x: Any, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if np.any(a < 0):
        raise ValueError(f"{name} must not be negative")
    return a


def conf_label(conf: float) -> str:
    """Column label of a confidence level: 0.95 -> ``"95"``, 0.998 -> ``"99_8"``.

    The level is written as a percentage with up to 10 significant digits, trailing zeros
    dropped, and the decimal point replaced by an underscore.
    """
    pct = float(conf) * 100.0
    return f"{pct:.10g}".replace(".", "_")


# --------------------------------------------------------------------------------------------
# rates and intervals


def poisson_ci(count: Any, conf: float = 0.95) -> Estimate:
    """Exact (Garwood) confidence interval for a Poisson count.

    For an observed count k and alpha = 1 - conf::

        lower = chi2.ppf(alpha/2, 2k) / 2          (0 when k = 0)
        upper = chi2.ppf(1 - alpha/2, 2k + 2) / 2

    This is the interval obtained by inverting two one-sided exact Poisson tests; it is
    conservative (coverage at least ``conf``). Non-integer k is accepted (the chi-square
    formula is continuous in k), which is useful for perturbed or weighted counts.

    Reference: Garwood F (1936). Fiducial limits for the Poisson distribution.
    Biometrika 28:437-442. Also Ulm K (1990), Am J Epidemiol 131:373-375.

    Returns ``Estimate(value=k, lower, upper)``; NaN counts give NaN limits.
    """
    alpha = _check_conf(conf)
    k = _as_float(count, "count")
    with np.errstate(invalid="ignore"):
        lower = np.where(k > 0, chi2.ppf(alpha / 2.0, 2.0 * np.where(k > 0, k, 1.0)) / 2.0, 0.0)
        upper = chi2.ppf(1.0 - alpha / 2.0, 2.0 * k + 2.0) / 2.0
    lower = np.where(np.isnan(k), np.nan, lower)
    return Estimate(_out(k), _out(lower), _out(upper))


def crude_rate(events: Any, population: Any, per: float = 1000, conf: float = 0.95) -> Estimate:
    """Crude rate with an exact Poisson confidence interval.

    ``rate = events / population * per``; the limits are the Garwood limits of ``events``
    (see ``poisson_ci``) divided by ``population`` and multiplied by ``per``. The population is
    treated as fixed (person-years at risk). A population of 0 gives NaN for all three.

    Reference: Breslow NE, Day NE (1987). Statistical Methods in Cancer Research, Vol. II:
    The Design and Analysis of Cohort Studies. IARC Sci Publ 82, chapter 2.
    """
    e = _as_float(events, "events")
    n = _as_float(population, "population")
    ci = poisson_ci(e, conf)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(n > 0, per / np.where(n > 0, n, 1.0), np.nan)
    return Estimate(
        _out(np.asarray(ci.value) * scale),
        _out(np.asarray(ci.lower) * scale),
        _out(np.asarray(ci.upper) * scale),
    )


def _dsr_arrays(e: np.ndarray, n: np.ndarray, w: np.ndarray, per: float, conf: float):
    """Core of ``dsr``: strata on the last axis, everything already broadcast to one shape."""
    if np.any(w < 0):
        raise ValueError("standard population weights must not be negative")
    valid = n > 0
    safe_n = np.where(valid, n, 1.0)
    a = np.where(valid, w / safe_n, 0.0)  # weight per unit of population, 0 when n = 0
    e_used = np.where(valid, e, 0.0)
    wsum = w.sum(axis=-1)
    any_pop = valid.any(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_w = np.where((wsum > 0) & any_pop, 1.0 / np.where(wsum > 0, wsum, 1.0), np.nan)
        value = (a * e_used).sum(axis=-1) * inv_w
        observed = e_used.sum(axis=-1)
        var = (a * a * e_used).sum(axis=-1) * inv_w**2
        # count-to-rate scale factor of Dobson et al.: sqrt(var(DSR) / O)
        factor_pos = np.sqrt(var / np.where(observed > 0, observed, 1.0))
        # O = 0: the same factor evaluated as if events fell in proportion to the population
        # (e_i = c * n_i), which gives sqrt(sum(w_i^2 / n_i) / sum(n_i)) / sum(w)
        n_used = np.where(valid, n, 0.0)
        factor_zero = np.sqrt(
            (np.where(valid, w * w / safe_n, 0.0)).sum(axis=-1)
            / np.where(n_used.sum(axis=-1) > 0, n_used.sum(axis=-1), 1.0)
        ) * inv_w
    factor = np.where(observed > 0, factor_pos, factor_zero)
    ci = poisson_ci(observed, conf)
    lower = np.maximum(value + factor * (np.asarray(ci.lower) - observed), 0.0)
    upper = value + factor * (np.asarray(ci.upper) - observed)
    return value * per, lower * per, upper * per, observed


def dsr(
    events: Any,
    population: Any,
    standard: Any,
    per: float = 100_000,
    conf: float = 0.95,
) -> Estimate:
    """Directly standardised rate with the Dobson et al. (1991) confidence interval.

    ``events``, ``population`` and ``standard`` hold one element per stratum (e.g. age band x
    sex) along their last axis; they broadcast against each other, so a 2-D ``events`` of shape
    (areas, strata) with a 1-D ``standard`` gives one DSR per area. ``standard`` holds the
    standard population's weights w_i; they need not sum to any particular number.

    Formulas, with e_i events, n_i population, W = sum(w_i), O = sum(e_i)::

        DSR      = sum(w_i * e_i / n_i) / W * per
        var(DSR) = sum((w_i / n_i)^2 * e_i) / W^2
        limits   = DSR + sqrt(var(DSR) / O) * (O_lower - O)   and   (O_upper - O)

    where (O_lower, O_upper) is the exact Garwood interval of O (``poisson_ci``). This is the
    method of the PHE/OHID technical guide "Confidence intervals" and of
    ``PHEindicatormethods::phe_dsr``, except that those use Byar's approximation to the exact
    Poisson limits; here the exact limits are used.

    Conventions:

    * A stratum with population 0 contributes nothing to the rate, to O or to the variance,
      but its weight stays in W (the weights are the full standard). Events recorded in a
      stratum with population 0 are therefore ignored.
    * If all strata have population 0 (or W = 0) the result is NaN.
    * O = 0: DSR = 0 and lower = 0. The Dobson factor sqrt(var/O) is 0/0 then; it is replaced
      by its value when events are spread in proportion to the population,
      sqrt(sum(w_i^2 / n_i) / sum(n_i)) / W, so upper = that factor * 3.689 (for 95 %) * per.
      With one stratum this is exactly the crude-rate upper limit 3.689 / n * per.
    * The lower limit is truncated at 0 (it can fall below 0 only for very uneven weights and
      few events).

    PHE advise not to publish a DSR based on fewer than 10 events; that is left to the caller.

    Reference: Dobson AJ, Kuulasmaa K, Eberle E, Scherer J (1991). Confidence intervals for
    weighted sums of Poisson parameters. Stat Med 10:457-462. Public Health England (2018),
    Technical Guide: Confidence Intervals (Fingertips); Fox et al., PHEindicatormethods (R).
    """
    e = _as_float(events, "events")
    n = _as_float(population, "population")
    w = _as_float(standard, "standard")
    if min(e.ndim, n.ndim, w.ndim) < 1:
        raise ValueError("events, population and standard need a strata axis (at least 1-D)")
    e, n, w = np.broadcast_arrays(e, n, w)
    value, lower, upper, _ = _dsr_arrays(e, n, w, per, conf)
    return Estimate(_out(value), _out(lower), _out(upper))


def _as_list(by: Any) -> list:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def _group_ids(frame: pd.DataFrame, by: list) -> tuple[np.ndarray, pd.DataFrame]:
    """Group number of each row (sorted by key, NaN keys kept) and one row of keys per group."""
    if not by:
        return np.zeros(len(frame), dtype=np.int64), pd.DataFrame(index=pd.RangeIndex(1))
    gid = frame.groupby(by, sort=True, dropna=False, observed=True).ngroup().to_numpy()
    keys = (
        frame[by]
        .assign(_gid=gid)
        .drop_duplicates("_gid")
        .sort_values("_gid")
        .drop(columns="_gid")
        .reset_index(drop=True)
    )
    return gid.astype(np.int64), keys


def dsr_table(
    frame: pd.DataFrame,
    by: Any,
    events: str = "events",
    population: str = "population",
    stratum: str = "stratum",
    *,
    weights: Mapping,
    per: float = 1000,
    conf: float = 0.95,
) -> pd.DataFrame:
    """Directly standardised rates for every group of ``frame`` (see ``dsr`` for the method).

    ``frame`` has one or more rows per (group, stratum) with event and population counts; rows
    of the same group and stratum are summed. ``weights`` maps every stratum of the standard to
    its weight. It is the full standard: a stratum of ``weights`` that a group lacks counts as
    population 0 in that group (contributes 0 to the rate, its weight stays in the
    denominator). A stratum in ``frame`` that is not in ``weights`` is an error.

    ``by`` is a column name or a list of names (empty list: one row for the whole frame).
    Returns a DataFrame with columns ``by..., events, population, value, lower, upper``,
    one row per group, sorted by the group keys. The computation is vectorised (no Python
    loop over groups). Note the default ``per`` is 1000 here (100 000 in ``dsr``).
    """
    by = _as_list(by)
    w = pd.Series(weights, dtype=float)
    if w.index.has_duplicates:
        raise ValueError("weights has duplicate strata")
    sid = w.index.get_indexer(frame[stratum])
    if np.any(sid < 0):
        missing = sorted(map(str, pd.unique(frame[stratum][sid < 0])))[:5]
        raise ValueError(f"strata not in weights: {missing}")
    gid, keys = _group_ids(frame, by)
    n_groups, n_strata = len(keys), len(w)
    flat = gid * n_strata + sid
    size = n_groups * n_strata
    ev = np.bincount(flat, weights=frame[events].to_numpy(float), minlength=size)
    pop = np.bincount(flat, weights=frame[population].to_numpy(float), minlength=size)
    ev = ev.reshape(n_groups, n_strata)
    pop = pop.reshape(n_groups, n_strata)
    wv = np.broadcast_to(w.to_numpy(), ev.shape)
    value, lower, upper, _ = _dsr_arrays(ev, pop, wv, per, conf)
    out = keys.copy()
    out["events"] = ev.sum(axis=1)
    out["population"] = pop.sum(axis=1)
    out["value"] = value
    out["lower"] = lower
    out["upper"] = upper
    return out


# --------------------------------------------------------------------------------------------
# indirect standardisation


def expected_counts(population: Any, reference_rate: Any) -> Any:
    """Expected count under reference (national) stratum rates: ``E = sum_i n_i * R_i``.

    Strata are on the last axis; ``population`` and ``reference_rate`` broadcast (e.g. a 2-D
    population of shape (areas, strata) with a 1-D vector of national rates per person).

    Reference: Breslow NE, Day NE (1987), Statistical Methods in Cancer Research Vol. II,
    IARC Sci Publ 82, section 2.3 (indirect standardisation, SMR).
    """
    n = _as_float(population, "population")
    r = _as_float(reference_rate, "reference_rate")
    return _out((n * r).sum(axis=-1))


def indirect_ratio(observed: Any, expected: Any, conf: float = 0.95) -> Estimate:
    """Indirectly standardised ratio O/E with exact limits.

    ``value = O / E``; limits are the Garwood limits of O (``poisson_ci``) divided by E, with E
    treated as fixed. Against national rates a ratio of 1.0 means the area is at the national
    level after adjusting for its age-sex structure. E = 0 gives NaN.

    Reference: Breslow NE, Day NE (1987), IARC Sci Publ 82, section 2.3; Ulm K (1990).
    A simple method to calculate the confidence interval of a standardized mortality ratio.
    Am J Epidemiol 131:373-375.
    """
    o = _as_float(observed, "observed")
    e = _as_float(expected, "expected")
    ci = poisson_ci(o, conf)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(e > 0, 1.0 / np.where(e > 0, e, 1.0), np.nan)
    return Estimate(
        _out(np.asarray(ci.value) * inv),
        _out(np.asarray(ci.lower) * inv),
        _out(np.asarray(ci.upper) * inv),
    )


def indirect_table(
    frame: pd.DataFrame,
    by: Any,
    events: str = "events",
    population: str = "population",
    stratum: str = "stratum",
    conf: float = 0.95,
) -> pd.DataFrame:
    """Indirectly standardised ratios of each group against the whole ``frame``.

    The reference rate of each stratum is computed from the frame itself,
    ``R_s = sum(events in s) / sum(population in s)`` (Denmark as a whole when the frame covers
    the country); a stratum with no population has R_s = 0. For each group,
    ``expected = sum(n_i * R_s(i))`` and ``observed = sum(e_i)``; value and limits are
    ``indirect_ratio(observed, expected)``. By construction the observed and expected totals
    over all groups are equal.

    Returns columns ``by..., observed, expected, value, lower, upper`` sorted by the keys.
    """
    by = _as_list(by)
    e = frame[events].to_numpy(float)
    n = frame[population].to_numpy(float)
    s_codes, _ = pd.factorize(frame[stratum], use_na_sentinel=False)
    e_s = np.bincount(s_codes, weights=e)
    n_s = np.bincount(s_codes, weights=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate_s = np.where(n_s > 0, e_s / np.where(n_s > 0, n_s, 1.0), 0.0)
    expected_row = n * rate_s[s_codes]
    gid, keys = _group_ids(frame, by)
    out = keys.copy()
    out["observed"] = np.bincount(gid, weights=e, minlength=len(keys))
    out["expected"] = np.bincount(gid, weights=expected_row, minlength=len(keys))
    est = indirect_ratio(out["observed"].to_numpy(), out["expected"].to_numpy(), conf)
    out["value"] = np.asarray(est.value)
    out["lower"] = np.asarray(est.lower)
    out["upper"] = np.asarray(est.upper)
    return out


# --------------------------------------------------------------------------------------------
# variation between areas


def variation_stats(observed: Any, expected: Any, min_count: int = 10) -> VariationStats:
    """Summary statistics of variation between areas (small-area variation analysis).

    Inputs are 1-D arrays over areas of observed counts O_i and expected counts E_i from
    indirect standardisation; areas with E_i <= 0 or missing values are left out. The area
    rate index is the ratio O_i/E_i.

    * ``extremal_quotient``: max/min of O/E over areas with O > 0 (NaN if none).
    * ``extremal_quotient_min_count``: the same over areas with O >= ``min_count``; the plain EQ
      is dominated by the smallest areas, this one is more stable.
    * ``coefficient_of_variation``: sample standard deviation (ddof = 1) / mean of O/E over all
      areas (NaN with fewer than 2 areas).
    * ``scv``: systematic component of variation of McPherson et al. (1982)::

          SCV = (1/k) * sum_i [ (O_i - E_i)^2 / E_i^2  -  1 / E_i ]

      (O-E)^2/E^2 is the squared relative deviation of an area; 1/E is what Poisson chance
      alone contributes to it on average. SCV therefore estimates the variance of the true
      area ratios after removing the chance part: about 0 means the variation is compatible
      with chance, and it can be slightly negative by sampling error. The value returned is
      the raw SCV; it is usually reported multiplied by 100 (SCV x 100 > 5 "high",
      > 10 "very high" variation, a convention from McPherson et al. and Appleton et al. 1996).
      The formula assumes E comes from rates of the same population (sum O = sum E).
    * ``n_areas``: number of areas used (E > 0).

    Reference: McPherson K, Wennberg JE, Hovind OB, Clifford P (1982). Small-area variations
    in the use of common surgical procedures: an international comparison of New England,
    England, and Norway. N Engl J Med 307:1310-1314.
    """
    o = _as_float(observed, "observed").ravel()
    e = _as_float(expected, "expected").ravel()
    if o.shape != e.shape:
        raise ValueError("observed and expected must have the same length")
    keep = np.isfinite(o) & np.isfinite(e) & (e > 0)
    o, e = o[keep], e[keep]
    k = int(o.size)
    ratio = o / e

    def eq(mask: np.ndarray) -> float:
        r = ratio[mask]
        return float(r.max() / r.min()) if r.size else float("nan")

    eq_all = eq(o > 0)
    eq_min = eq(o >= min_count)
    if k >= 2 and ratio.mean() > 0:
        cv = float(ratio.std(ddof=1) / ratio.mean())
    else:
        cv = float("nan")
    scv = float(np.mean((o - e) ** 2 / e**2 - 1.0 / e)) if k else float("nan")
    return VariationStats(eq_all, eq_min, cv, scv, k)


def _poisson_limit(lam: np.ndarray, p: float) -> np.ndarray:
    """Spiegelhalter's interpolated exact Poisson quantile (a count, >= 0) for probability p."""
    lam = np.asarray(lam, dtype=float)
    pos = lam > 0
    lam_s = np.where(pos, lam, 1.0)
    r = poisson.ppf(p, lam_s)  # smallest r with P(X <= r) >= p
    f_r = poisson.cdf(r, lam_s)
    f_rm1 = poisson.cdf(r - 1, lam_s)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = (f_r - p) / (f_r - f_rm1)
    limit = np.maximum(r - a, 0.0)
    return np.where(pos, limit, np.where(lam == 0, 0.0, np.nan))


def funnel_limits(
    denominators: Any,
    target: float,
    conf: Sequence[float] = (0.95, 0.998),
    per: float = 1,
) -> pd.DataFrame:
    """Poisson control limits of a funnel plot.

    For each denominator n (population, or expected count for ratios) the expected count under
    the target is ``lam = target * n / per``. For each confidence level c the limits are the
    p = (1-c)/2 and 1-(1-c)/2 quantiles of Poisson(lam), made continuous with Spiegelhalter's
    interpolation: with r_p the smallest r such that P(X <= r) >= p,
    ``alpha = (P(X <= r_p) - p) / (P(X <= r_p) - P(X <= r_p - 1))`` and the limit on the count
    scale is ``r_p - alpha`` (truncated at 0). On the rate scale it is divided by n and
    multiplied by ``per``. For ratios (O/E) pass ``denominators=expected, target=1``.

    Returns a DataFrame with ``denominator`` and, for each level,
    ``lower_<label>`` and ``upper_<label>`` where label = ``conf_label(c)``; with the default
    levels the columns are ``denominator, lower_95, upper_95, lower_99_8, upper_99_8``.
    A denominator of 0 gives NaN limits.

    Reference: Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance.
    Stat Med 24:1185-1202 (Appendix A, interpolated exact limits for discrete data).
    """
    n = _as_float(denominators, "denominators").ravel()
    lam = float(target) * n / per
    out = pd.DataFrame({"denominator": n})
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(n > 0, per / np.where(n > 0, n, 1.0), np.nan)
    for c in conf:
        alpha = _check_conf(c)
        label = conf_label(c)
        out[f"lower_{label}"] = _poisson_limit(lam, alpha / 2.0) * scale
        out[f"upper_{label}"] = _poisson_limit(lam, 1.0 - alpha / 2.0) * scale
    return out


def funnel_flags(
    observed: Any,
    denominators: Any,
    target: float,
    per: float = 1,
    conf: Sequence[float] = (0.95, 0.998),
) -> np.ndarray:
    """Position of each area relative to the funnel limits of ``funnel_limits``.

    ``observed`` are counts (events, or O for ratios with ``denominators=expected, target=1``).
    An area is ``high_<c>`` if its count is strictly above the upper limit of level c (on the
    count scale, ``lam`` = target * n / per) and ``low_<c>`` if strictly below the lower limit;
    the widest level exceeded wins. With the default levels the categories are
    ``'high_998', 'high_95', 'within', 'low_95', 'low_998'`` (label = ``conf_label(c)``
    without the underscore). Areas with denominator <= 0 or a missing count get ``None``.
    Returns a 1-D object array.
    """
    o = _as_float(observed, "observed").ravel()
    n = _as_float(denominators, "denominators").ravel()
    o, n = np.broadcast_arrays(o, n)
    lam = float(target) * n / per
    flags = np.full(o.shape, "within", dtype=object)
    done = np.zeros(o.shape, dtype=bool)
    for c in sorted(conf, reverse=True):
        alpha = _check_conf(c)
        label = conf_label(c).replace("_", "")
        hi = o > _poisson_limit(lam, 1.0 - alpha / 2.0)
        lo = o < _poisson_limit(lam, alpha / 2.0)
        flags[hi & ~done] = f"high_{label}"
        flags[lo & ~done] = f"low_{label}"
        done |= hi | lo
    flags[~(n > 0) | np.isnan(o)] = None
    return flags


def proportion_ci(numerator: Any, denominator: Any, conf: float = 0.95) -> Estimate:
    """Proportion with the Wilson score interval.

    With p = x / n and z the standard normal quantile for ``conf``::

        centre = (p + z^2 / (2n)) / (1 + z^2 / n)
        half   = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / (4 n^2))
        limits = centre -/+ half

    The interval stays inside [0, 1] and behaves well for small n and p near 0 or 1 (it is the
    method of the PHE/OHID technical guide for proportions). Returns proportions (not percent);
    n = 0 gives NaN. A numerator above the denominator (possible when both are perturbed
    counts) is treated as equal to it.

    Reference: Wilson EB (1927). Probable inference, the law of succession, and statistical
    inference. J Am Stat Assoc 22:209-212; Newcombe RG (1998). Two-sided confidence intervals
    for the single proportion: comparison of seven methods. Stat Med 17:857-872.
    """
    alpha = _check_conf(conf)
    x = _as_float(numerator, "numerator")
    n = _as_float(denominator, "denominator")
    x = np.minimum(x, n)  # perturbed counts can put x above n: treat as x = n
    z = float(np.sqrt(chi2.ppf(1.0 - alpha, 1)))  # = normal quantile 1 - alpha/2
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = n > 0
        nn = np.where(ok, n, 1.0)
        p = x / nn
        denom = 1.0 + z * z / nn
        centre = (p + z * z / (2.0 * nn)) / denom
        half = z / denom * np.sqrt(p * (1.0 - p) / nn + z * z / (4.0 * nn * nn))
    value = np.where(ok, p, np.nan)
    lower = np.where(ok, np.where(x <= 0, 0.0, np.clip(centre - half, 0.0, 1.0)), np.nan)
    upper = np.where(ok, np.where(x >= n, 1.0, np.clip(centre + half, 0.0, 1.0)), np.nan)
    return Estimate(_out(value), _out(lower), _out(upper))


def _binomial_cdf(r: np.ndarray, n: np.ndarray, theta: float) -> np.ndarray:
    """P(X <= r) for X ~ Binomial(n, theta), written with the regularised incomplete beta
    function so that it is defined for non-integer n as well: I_{1-theta}(n - r, r + 1)."""
    r = np.asarray(r, dtype=float)
    with np.errstate(invalid="ignore"):
        inside = betainc(np.maximum(n - r, 1e-300), r + 1.0, 1.0 - theta)
    return np.where(r < 0, 0.0, np.where(r >= n, 1.0, inside))


def _binomial_limit(n: np.ndarray, theta: float, p: float) -> np.ndarray:
    """Spiegelhalter's interpolated exact binomial quantile (a count) for probability p."""
    n = np.asarray(n, dtype=float)
    if theta <= 0.0:
        return np.zeros_like(n)
    if theta >= 1.0:
        return n.copy()
    lo = np.full(n.shape, -1.0)  # F(lo) < p
    hi = np.ceil(n)  # F(hi) = 1 >= p
    while np.any(hi - lo > 1):  # bisection on whole numbers: smallest r with F(r) >= p
        mid = np.floor((lo + hi) / 2.0)
        ge = _binomial_cdf(mid, n, theta) >= p
        hi = np.where(ge, mid, hi)
        lo = np.where(ge, lo, mid)
    r = hi
    f_r = _binomial_cdf(r, n, theta)
    f_before = _binomial_cdf(r - 1.0, n, theta)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(f_r > f_before, (f_r - p) / (f_r - f_before), 0.0)
    return np.clip(r - a, 0.0, n)


def funnel_limits_proportion(
    denominators: Any,
    target: float,
    conf: Sequence[float] = (0.95, 0.998),
) -> pd.DataFrame:
    """Binomial control limits of a funnel plot of proportions (shares).

    As ``funnel_limits`` but with Binomial(n, target) in place of the Poisson: with r_p the
    smallest count whose cumulative probability reaches p, the limit is
    ``(r_p - alpha) / n`` with ``alpha = (F(r_p) - p) / (F(r_p) - F(r_p - 1))``
    (Spiegelhalter 2005, Appendix A). ``target`` is a proportion in [0, 1] and the limits are
    proportions. Columns: ``denominator``, ``lower_<label>``, ``upper_<label>`` (label =
    ``conf_label(c)``: ``lower_95, upper_95, lower_99_8, upper_99_8`` by default). Denominators
    may be non-integer (points along a plotted curve): the binomial distribution function is
    evaluated through the incomplete beta function. n = 0 gives NaN.

    Reference: Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance.
    Stat Med 24:1185-1202.
    """
    theta = float(target)
    if not 0.0 <= theta <= 1.0:
        raise ValueError("target must be a proportion in [0, 1]")
    n = _as_float(denominators, "denominators").ravel()
    out = pd.DataFrame({"denominator": n})
    ok = n > 0
    nn = np.where(ok, n, 1.0)
    for c in conf:
        alpha = _check_conf(c)
        label = conf_label(c)
        out[f"lower_{label}"] = np.where(ok, _binomial_limit(nn, theta, alpha / 2.0) / nn, np.nan)
        out[f"upper_{label}"] = np.where(ok, _binomial_limit(nn, theta, 1.0 - alpha / 2.0) / nn, np.nan)
    return out


def funnel_flags_proportion(
    observed: Any,
    denominators: Any,
    target: float,
    conf: Sequence[float] = (0.95, 0.998),
) -> np.ndarray:
    """Funnel-plot category of each area for a proportion (numerator ``observed`` out of
    ``denominators``) against the binomial limits of ``funnel_limits_proportion``; categories
    as in ``funnel_flags`` (``'high_998', 'high_95', 'within', 'low_95', 'low_998'``, ``None``
    for denominator <= 0 or missing numerator)."""
    o = _as_float(observed, "observed").ravel()
    n = _as_float(denominators, "denominators").ravel()
    o, n = np.broadcast_arrays(o, n)
    theta = float(target)
    ok = n > 0
    nn = np.where(ok, n, 1.0)
    flags = np.full(o.shape, "within", dtype=object)
    done = np.zeros(o.shape, dtype=bool)
    for c in sorted(conf, reverse=True):
        alpha = _check_conf(c)
        label = conf_label(c).replace("_", "")
        hi = o > _binomial_limit(nn, theta, 1.0 - alpha / 2.0)
        lo = o < _binomial_limit(nn, theta, alpha / 2.0)
        flags[hi & ~done] = f"high_{label}"
        flags[lo & ~done] = f"low_{label}"
        done |= hi | lo
    flags[~ok | np.isnan(o)] = None
    return flags


def eb_shrink(events: Any, population: Any, group: Any = None, per: float = 1) -> np.ndarray:
    """Empirical-Bayes (Poisson-gamma) shrinkage of area rates toward their group's rate.

    Marshall's method-of-moments estimator, applied within each group (e.g. region); with
    ``group=None`` all areas form one group. For the areas of a group, r_i = e_i / n_i::

        m   = sum(e_i) / sum(n_i)                    (group rate)
        s2  = sum(n_i * (r_i - m)^2) / sum(n_i)      (population-weighted variance)
        A   = max(s2 - m / n_bar, 0),  n_bar = sum(n_i) / k   (between-area variance)
        C_i = A / (A + m / n_i)                      (0 when A = 0)
        rate_i = m + C_i * (r_i - m)

    Small areas (small n_i, noisy r_i) are pulled most toward m; if the observed spread is no
    larger than Poisson noise (A = 0) all areas get m. Returns rates multiplied by ``per``;
    areas with population 0 get NaN and do not enter the group's estimates.

    Reference: Marshall RJ (1991). Mapping disease and mortality rates using empirical Bayes
    estimators. Appl Stat 40:283-294.
    """
    e = _as_float(events, "events").ravel()
    n = _as_float(population, "population").ravel()
    e, n = np.broadcast_arrays(e, n)
    g = np.zeros(e.shape, dtype=np.int64) if group is None else pd.factorize(
        np.asarray(group).ravel(), use_na_sentinel=False
    )[0]
    valid = n > 0
    ev = np.where(valid, e, 0.0)
    nv = np.where(valid, n, 0.0)
    ng = int(g.max()) + 1 if g.size else 0
    e_g = np.bincount(g, weights=ev, minlength=ng)
    n_g = np.bincount(g, weights=nv, minlength=ng)
    k_g = np.bincount(g, weights=valid.astype(float), minlength=ng)
    with np.errstate(divide="ignore", invalid="ignore"):
        m_g = np.where(n_g > 0, e_g / np.where(n_g > 0, n_g, 1.0), np.nan)
        r = np.where(valid, ev / np.where(valid, nv, 1.0), np.nan)
        dev = np.where(valid, nv * (r - m_g[g]) ** 2, 0.0)
        s2_g = np.bincount(g, weights=dev, minlength=ng) / np.where(n_g > 0, n_g, 1.0)
        nbar_g = n_g / np.where(k_g > 0, k_g, 1.0)
        a_g = np.maximum(s2_g - m_g / np.where(nbar_g > 0, nbar_g, 1.0), 0.0)
        a = a_g[g]
        m = m_g[g]
        c = np.where(a > 0, a / (a + m / np.where(valid, nv, 1.0)), 0.0)
    rate = m + c * (r - m)
    return np.where(valid, rate, np.nan) * per


# --------------------------------------------------------------------------------------------
# disclosure control


def _build_blocks(table: pd.DataFrame, groups: Sequence[Sequence[str]]):
    """Incidence matrix of published totals.

    Returns (B, group_of_block, offsets, codes): B is a CSR matrix (blocks x rows) with 1 where a
    row belongs to a block; a block is the set of rows sharing the values of one group's columns
    (the empty group is one block of all rows). ``codes[gi]`` is the block number of each row
    within group gi, ``offsets[gi]`` the index of group gi's first block in B.
    """
    n_rows = len(table)
    rows_idx, cols_idx, group_of_block, offsets, codes = [], [], [], [], []
    start = 0
    for gi, cols in enumerate(groups):
        cols = list(cols)
        if cols:
            code = table.groupby(cols, sort=False, dropna=False, observed=True).ngroup().to_numpy()
            nb = int(code.max()) + 1 if n_rows else 0
        else:
            code = np.zeros(n_rows, dtype=np.int64)
            nb = 1 if n_rows else 0
        code = code.astype(np.int64)
        offsets.append(start)
        codes.append(code)
        rows_idx.append(code + start)
        cols_idx.append(np.arange(n_rows))
        group_of_block.extend([gi] * nb)
        start += nb
    if rows_idx:
        r = np.concatenate(rows_idx)
        c = np.concatenate(cols_idx)
    else:
        r = c = np.zeros(0, dtype=np.int64)
    B = sparse.csr_matrix((np.ones(r.size), (r, c)), shape=(start, n_rows))
    return B, np.asarray(group_of_block, dtype=np.int64), offsets, codes


def _counts(table: pd.DataFrame, count: str) -> np.ndarray:
    c = table[count].to_numpy(dtype=float)
    if np.any(~np.isfinite(c)) or np.any(c < 0) or np.any(c != np.round(c)):
        raise ValueError(f"column {count!r} must hold non-negative whole numbers")
    return c


def _components(c, hidden, B, published):
    """Hidden cells, equations of the published blocks touching them, and their components.

    Returns (H, A, b, label, row_comp): H the positions of hidden cells, A (CSR, equations x
    hidden cells) and b the equations "sum of hidden cells of a published block = its total
    minus its shown cells", label the connected component of each hidden cell (cells linked
    through shared equations) and row_comp the component of each equation.
    """
    H = np.flatnonzero(hidden)
    A = B[np.flatnonzero(published)][:, H].tocsr()
    A = A[np.flatnonzero(A.getnnz(axis=1) > 0)]
    b = A @ c[H]
    if A.shape[0]:
        _, label = csgraph.connected_components((A.T @ A).tocsr(), directed=False)
        row_comp = label[A.indices[A.indptr[:-1]]]  # any cell of the equation gives its component
    else:
        label = np.arange(H.size)
        row_comp = np.zeros(0, dtype=np.int64)
    return H, A, b, label, row_comp


def _lp_range(A_c, b_c, lower, j_local):
    """Exact min and max of variable j_local subject to A_c x = b_c, x >= lower."""
    obj = np.zeros(A_c.shape[1])
    obj[j_local] = 1.0
    bounds = np.column_stack([lower, np.full(lower.size, np.inf)])
    res_min = optimize.linprog(obj, A_eq=A_c, b_eq=b_c, bounds=bounds, method="highs")
    res_max = optimize.linprog(-obj, A_eq=A_c, b_eq=b_c, bounds=bounds, method="highs")
    if res_min.status != 0 or res_max.status not in (0, 3):
        return None
    return res_min.fun, (np.inf if res_max.status == 3 else -res_max.fun)


def _cell_ranges(c, hidden, lower_bound, B, published):
    """Range an intruder can derive for every hidden cell.

    Variables are the hidden cells, bounded below by ``lower_bound`` (no upper bound); every
    published block containing a hidden cell gives an equation (see ``_components``). The min
    and max of each hidden cell are found by linear programming (two LPs per cell), one
    connected component at a time. Returns (positions, lo, hi).
    """
    H, A, b, label, row_comp = _components(c, hidden, B, published)
    lo = np.asarray(lower_bound, dtype=float)[H].copy()
    hi = np.full(H.size, np.inf)
    for comp in np.unique(row_comp):
        vars_ = np.flatnonzero(label == comp)
        eqs = np.flatnonzero(row_comp == comp)
        A_c, b_c = A[eqs][:, vars_], b[eqs]
        lower = np.asarray(lower_bound, dtype=float)[H[vars_]]
        for j_local, j in enumerate(vars_):
            rng = _lp_range(A_c, b_c, lower, j_local)
            if rng is None:  # should not happen (the true table is feasible): report as pinned
                lo[j] = hi[j] = c[H[j]]
            else:
                lo[j], hi[j] = rng
    return H, lo, hi


def _integer_range(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest whole number inside the real range [lo, hi] (counts are integers)."""
    with np.errstate(invalid="ignore"):
        return np.ceil(np.asarray(lo) - 1e-6), np.floor(np.asarray(hi) + 1e-6)


def _range_fails(lo: np.ndarray, hi: np.ndarray, min_count: int) -> np.ndarray:
    """A hidden cell is exposed if its range holds a single whole number, or only whole numbers
    in [1, min_count-1]. LP bounds can be fractional (tables of 3 or more dimensions); an intruder
    knows counts are whole numbers, so the range is first rounded inwards."""
    lo_i, hi_i = _integer_range(lo, hi)
    pinned = hi_i <= lo_i
    small = (lo_i >= 1) & (hi_i <= min_count - 1)
    return pinned | small


def _exposed_cells(c, hidden, lower_bound, B, published, min_count):
    """Positions of hidden cells that fail ``_range_fails`` (same answer as ``_cell_ranges``).

    Faster than two LPs per cell: a cell is cleared as soon as some feasible table shows it
    safe, i.e. with a value >= its "up" target (min_count for a small cell, value + 1 for a
    larger one) or <= its "down" target (0 for a small cell the intruder cannot bound away
    from 0, value - 1 for a larger one). Such tables are found in batches by maximising
    (minimising) the sum of the pending cells with each capped at (floored at) its target; the
    true table satisfies the caps, so every LP is feasible. Cells left over get the exact
    two-LP check.
    """
    H, A, b, label, row_comp = _components(c, hidden, B, published)
    lower_all = np.asarray(lower_bound, dtype=float)
    failing: list[int] = []
    tol = 1e-7
    for comp in np.unique(row_comp):
        vars_ = np.flatnonzero(label == comp)
        eqs = np.flatnonzero(row_comp == comp)
        A_c, b_c = A[eqs][:, vars_], b[eqs]
        lower = lower_all[H[vars_]]
        val = c[H[vars_]]
        small = (val >= 1) & (val < min_count)
        up = np.where(small, float(min_count), val + 1.0)
        down_ok = ~small | (lower < 0.5)
        down = np.where(small, 0.0, val - 1.0)
        down_ok &= down >= lower - tol
        pending = np.ones(vars_.size, dtype=bool)
        for direction in (1.0, -1.0):
            while True:
                active = pending if direction > 0 else pending & down_ok
                if not active.any():
                    break
                if direction > 0:
                    bounds = np.column_stack([lower, np.where(active, up, np.inf)])
                else:
                    bounds = np.column_stack([np.where(active, down, lower), np.full(lower.size, np.inf)])
                res = optimize.linprog(
                    -direction * active.astype(float), A_eq=A_c, b_eq=b_c, bounds=bounds, method="highs"
                )
                if res.status != 0:
                    break
                hit = active & (
                    (res.x >= up - tol) if direction > 0 else (res.x <= down + tol)
                )
                if not hit.any():
                    break
                pending &= ~hit
        for j_local in np.flatnonzero(pending):
            rng = _lp_range(A_c, b_c, lower, j_local)
            if rng is None or _range_fails(np.array([rng[0]]), np.array([rng[1]]), min_count)[0]:
                failing.append(int(H[vars_[j_local]]))
    return np.asarray(sorted(failing), dtype=np.int64)


def _secondary_pass(c, hidden, lower_bound, B, published, offsets, codes, min_count, lb):
    """Apply the block rules of ``suppress_with_totals`` until nothing changes. In place."""
    changed_any = False
    n_groups = len(codes)
    while True:
        changed = False
        for gi in range(n_groups):
            code = codes[gi]
            off = offsets[gi]
            nb = (offsets[gi + 1] if gi + 1 < n_groups else B.shape[0]) - off
            if nb == 0:
                continue
            h = hidden.astype(float)
            k = np.bincount(code, weights=h, minlength=nb)
            s = np.bincount(code, weights=c * h, minlength=nb)
            lsum = np.bincount(code, weights=lower_bound * h, minlength=nb)
            slack = s - np.maximum(lsum - lb, 0.0)
            need = published[off:off + nb] & (k > 0) & ((k < 2) | (slack < min_count))
            if not need.any():
                continue
            cand = (~hidden) & (c > 0)
            n_cand = np.bincount(code, weights=cand.astype(float), minlength=nb)
            # blocks that can be helped: hide their smallest unhidden nonzero cell
            eligible = np.flatnonzero(cand & need[code])
            if eligible.size:
                order = np.lexsort((eligible, c[eligible], code[eligible]))
                srt = eligible[order]
                _, first = np.unique(code[srt], return_index=True)
                hidden[srt[first]] = True
                changed = True
            # blocks that cannot: hide every cell, drop the published total
            hopeless = need & (n_cand == 0)
            if hopeless.any():
                members = hopeless[code]
                hidden[members] = True
                lower_bound[members] = 0.0
                published[off + np.flatnonzero(hopeless)] = False
                changed = True
        if not changed:
            return changed_any
        changed_any = True


def _repair(c, hidden, lower_bound, B, published, failing):
    """Hide one more cell next to each exposed cell (or drop totals when none is left)."""
    Bc = B.tocsc()
    cand = (~hidden) & (c > 0)
    touched = np.zeros(B.shape[0], dtype=bool)
    for j in failing:
        blocks = Bc.indices[Bc.indptr[j]:Bc.indptr[j + 1]]
        blocks = blocks[published[blocks]]
        if blocks.size == 0 or touched[blocks].any():
            continue
        touched[blocks] = True
        members = np.unique(B[blocks].indices)
        options = members[cand[members]]
        if options.size:
            best = options[np.lexsort((options, c[options]))[0]]
            hidden[best] = True
            cand[best] = False
        else:
            rows = np.unique(B[blocks].indices)
            hidden[rows] = True
            lower_bound[rows] = 0.0
            published[blocks] = False


def _exposed_totals(c, hidden, lower_bound, B, published, min_count):
    """Hidden (unpublished) block totals between 1 and min_count-1 that can still be derived.

    The range of a block's total is its shown cells plus the min/max of the sum of its hidden
    cells under the published equations (two LPs per block). Returns block indices whose range
    holds only whole numbers in [1, min_count-1].
    """
    totals = B @ c
    small = np.flatnonzero(~published & (totals >= 1) & (totals < min_count))
    if small.size == 0:
        return small
    H, A, b, label, row_comp = _components(c, hidden, B, published)
    pos = np.full(c.size, -1)
    pos[H] = np.arange(H.size)
    lower_all = np.asarray(lower_bound, dtype=float)
    failing = []
    for blk in small:
        members = B.indices[B.indptr[blk]:B.indptr[blk + 1]]
        hid = members[hidden[members]]
        shown = c[members[~hidden[members]]].sum()
        if hid.size == 0:
            failing.append(blk)  # all cells shown: the total is their sum
            continue
        comps = np.unique(label[pos[hid]])
        vars_ = np.flatnonzero(np.isin(label, comps))
        eqs = np.flatnonzero(np.isin(row_comp, comps))
        obj = np.isin(H[vars_], hid).astype(float)
        bounds = np.column_stack([lower_all[H[vars_]], np.full(vars_.size, np.inf)])
        if eqs.size == 0:
            continue  # nothing links these cells to a published total: unbounded above
        A_c, b_c = A[eqs][:, vars_], b[eqs]
        res_min = optimize.linprog(obj, A_eq=A_c, b_eq=b_c, bounds=bounds, method="highs")
        res_max = optimize.linprog(-obj, A_eq=A_c, b_eq=b_c, bounds=bounds, method="highs")
        if res_min.status != 0 or res_max.status not in (0, 3):
            failing.append(blk)
            continue
        hi = np.inf if res_max.status == 3 else -res_max.fun
        if _range_fails(np.array([shown + res_min.fun]), np.array([shown + hi]), min_count)[0]:
            failing.append(blk)
    return np.asarray(failing, dtype=np.int64)


def _repair_totals(c, hidden, B, published, group_of_block, failing):
    """Give each derivable hidden total a partner: hide a sibling total (same group, preferably
    under a common published parent total and with hidden cells of its own); if no sibling has
    hidden cells, hide the smallest nonzero shown cell of the siblings; if there are no
    siblings, hide the smallest published total overlapping the block."""
    totals = B @ c
    n_hidden = B @ hidden.astype(float)
    overlap = (B @ B.T).tocsr()
    size = np.asarray(B.sum(axis=1)).ravel()
    for blk in failing:
        ov = overlap[blk].toarray().ravel()
        parents = np.flatnonzero(published & (ov == size[blk]))  # published blocks containing blk
        sibs = np.flatnonzero((group_of_block == group_of_block[blk]) & published)
        sibs = sibs[sibs != blk]
        if parents.size and sibs.size:
            inside = (overlap[parents][:, sibs].toarray() == size[sibs]).any(axis=0)
            if inside.any():
                sibs = sibs[inside]
        with_hidden = sibs[n_hidden[sibs] > 0]
        if with_hidden.size:
            pick = with_hidden[np.lexsort((with_hidden, totals[with_hidden]))[0]]
            published[pick] = False
            return
        if sibs.size:
            members = np.unique(B[sibs].indices)
            options = members[(~hidden[members]) & (c[members] > 0)]
            if options.size:
                hidden[options[np.lexsort((options, c[options]))[0]]] = True
                return
        others = np.flatnonzero(published & (ov > 0))
        if others.size:
            pick = others[np.lexsort((others, totals[others]))[0]]
            published[pick] = False
            return


def suppress_with_totals(
    table: pd.DataFrame,
    min_count: int = 5,
    count: str = "count",
    groups: Sequence[Sequence[str]] = (),
    *,
    assume_hidden_nonzero: bool = True,
    audit: bool = True,
) -> tuple[pd.Series, dict[tuple, pd.DataFrame]]:
    """Primary and secondary cell suppression of a count table.

    ``table`` has one row per cell and a column ``count`` of non-negative whole numbers.
    ``groups`` lists the published totals: each entry is a list of column names, and the rows
    sharing the values of those columns add up to a published total (a "block"); ``[]`` means
    the grand total is published. Example for area x stratum with margins and grand total:
    ``groups=[["area"], ["stratum"], []]``.

    Rules, applied until nothing changes:

    1. Primary: a cell with 1 <= count < ``min_count`` is hidden. A zero is shown (a true zero
       discloses nothing about a person under this policy) and never chosen as a secondary.
    2. Secondary: a published block containing a hidden cell needs at least 2 hidden cells and
       enough hidden mass: sum(hidden) - (k - 1) >= min_count with k hidden cells when
       ``assume_hidden_nonzero`` (default), or sum(hidden) >= min_count otherwise. If not, its
       smallest not-yet-hidden nonzero cell is hidden (ties: first row). Groups are processed
       in the order given.
    3. Unprotectable: a block that needs protection but has no nonzero cell left (e.g. only one
       nonzero cell, or a total between 1 and min_count - 1) has all its cells hidden, zeros
       included, and its total is reported in ``hidden_group_totals``: the caller must hide
       that total. Totals between 1 and min_count - 1 are always reported this way.
    4. Audit (``audit=True``): for each hidden cell the range an intruder can derive from the
       shown cells, the published totals and non-negativity is computed by linear programming
       (``suppression_audit``). A cell whose range is a single value, or lies inside
       [1, min_count - 1], gets one more neighbour hidden (the smallest nonzero shown cell of a
       block containing it; if none is left its blocks become unprotectable as in 3), then rules
       2-4 run again.
    5. Hidden small totals (``audit=True``): a hidden total between 1 and min_count - 1 that can
       still be derived (e.g. the national total minus all other municipalities' totals) gets a
       partner: another total of the same group is hidden (preferably one under the same
       published parent total that has hidden cells; otherwise a cell of a sibling is hidden
       first), and rules 2-5 run again.

    ``assume_hidden_nonzero``: zeros are always shown, so an intruder who knows the policy knows
    that a hidden cell is at least 1 (unless its block was hidden whole under rule 3). With
    True (default) the secondary rule and the audit use that lower bound, so two hidden cells
    of 2 and 3 in a block are not enough (each would be known to lie in 1..4). False gives the
    plainer rule "sum of hidden >= min_count" with a lower bound of 0.

    Guarantee (``audit=True``): with the reported totals hidden, no hidden cell can be pinned to
    one whole number, nor narrowed to whole numbers inside [1, min_count - 1], and no hidden
    total between 1 and min_count - 1 can be derived, from this table and its published totals
    (LP bounds rounded inwards; exact integer programming could occasionally be tighter). Not
    covered: other tables published beside this one; the caller must make them consistent.

    Returns ``(cell_mask, hidden_group_totals)``: a boolean Series aligned with ``table``
    (True = hide) and a dict mapping each group (a tuple of its columns) to a DataFrame of the
    key values of the blocks whose total must be hidden plus a ``total`` column (groups with
    none are absent).

    Reference: Hundepool A et al. (2012). Statistical Disclosure Control. Wiley, chapter 4
    (frequency tables: threshold rule, secondary suppression, audit by linear programming).
    """
    groups = [list(g) for g in groups]
    c = _counts(table, count)
    n_rows = c.size
    hidden = (c >= 1) & (c < min_count)
    lb = 1.0 if assume_hidden_nonzero else 0.0
    lower_bound = np.full(n_rows, lb)
    B, group_of_block, offsets, codes = _build_blocks(table, groups)
    published = np.ones(B.shape[0], dtype=bool)

    while True:
        _secondary_pass(c, hidden, lower_bound, B, published, offsets, codes, min_count, lb)
        if not audit:
            break
        failing = _exposed_cells(c, hidden, lower_bound, B, published, min_count)
        if failing.size:
            _repair(c, hidden, lower_bound, B, published, failing)
            continue
        bad_totals = _exposed_totals(c, hidden, lower_bound, B, published, min_count)
        if bad_totals.size == 0:
            break
        before = (hidden.sum(), published.sum())
        _repair_totals(c, hidden, B, published, group_of_block, bad_totals)
        if (hidden.sum(), published.sum()) == before:
            break  # nothing left to hide (cannot happen with consistent totals)

    mask = pd.Series(hidden, index=table.index, name="suppressed")
    totals: dict[tuple, pd.DataFrame] = {}
    block_total = B @ c
    for gi, cols in enumerate(groups):
        off = offsets[gi]
        nb = int((group_of_block == gi).sum())
        marked = np.flatnonzero(~published[off:off + nb])
        if marked.size == 0:
            continue
        _, first_row = np.unique(codes[gi], return_index=True)  # first row of each block
        keys = table.iloc[first_row[marked]][cols].reset_index(drop=True)
        keys["total"] = block_total[off + marked]
        totals[tuple(cols)] = keys
    return mask, totals


def suppress(
    table: pd.DataFrame,
    min_count: int = 5,
    count: str = "count",
    groups: Sequence[Sequence[str]] = (),
    *,
    assume_hidden_nonzero: bool = True,
    audit: bool = True,
) -> pd.Series:
    """Cell mask of ``suppress_with_totals`` (True = hide); see there for the rules.

    The totals that must also be hidden are dropped here: use ``suppress_with_totals`` when the
    table is published with its totals.
    """
    mask, _ = suppress_with_totals(
        table, min_count, count, groups, assume_hidden_nonzero=assume_hidden_nonzero, audit=audit
    )
    return mask


def suppression_audit(
    table: pd.DataFrame,
    hidden: Any,
    min_count: int = 5,
    count: str = "count",
    groups: Sequence[Sequence[str]] = (),
    hidden_totals: Mapping[tuple, pd.DataFrame] | None = None,
    *,
    assume_hidden_nonzero: bool = True,
) -> pd.DataFrame:
    """What an intruder can derive about each hidden cell of a suppressed table.

    The intruder knows the shown cells, the published totals (all blocks of ``groups`` except
    those listed in ``hidden_totals``, in the format returned by ``suppress_with_totals``) and
    that counts are >= 0 (>= 1 for hidden cells outside hidden-total blocks when
    ``assume_hidden_nonzero``). For each hidden cell the minimum and maximum value consistent
    with that knowledge are found by linear programming.

    Returns a DataFrame indexed like the hidden rows of ``table`` with columns ``value``,
    ``lower``, ``upper`` (inf when unbounded), ``pinned`` (range is one value) and ``exposed``
    (pinned, or range inside [1, min_count - 1]).
    """
    groups = [list(g) for g in groups]
    c = _counts(table, count)
    hidden = np.asarray(hidden, dtype=bool).copy()
    B, group_of_block, offsets, codes = _build_blocks(table, groups)
    published = np.ones(B.shape[0], dtype=bool)
    if hidden_totals:
        for gi, cols in enumerate(groups):
            frame = hidden_totals.get(tuple(cols))
            if frame is None or len(frame) == 0:
                continue
            if not cols:
                published[offsets[gi]] = False
                continue
            keyed = table[cols].assign(_block=codes[gi])
            hit = keyed.merge(frame[cols].drop_duplicates(), on=cols, how="inner")["_block"]
            published[offsets[gi] + np.unique(hit.to_numpy())] = False
    lower_bound = np.full(c.size, 1.0 if assume_hidden_nonzero else 0.0)
    in_dropped = np.asarray(B[np.flatnonzero(~published)].sum(axis=0)).ravel() > 0
    lower_bound[in_dropped | (c == 0)] = 0.0
    H, lo, hi = _cell_ranges(c, hidden, lower_bound, B, published)
    lo_i, hi_i = _integer_range(lo, hi)
    pinned = hi_i <= lo_i
    return pd.DataFrame(
        {
            "value": c[H],
            "lower": lo,
            "upper": hi,
            "pinned": pinned,
            "exposed": _range_fails(lo, hi, min_count),
        },
        index=table.index[H],
    )


def _noise_table(max_noise: int) -> tuple[np.ndarray, np.ndarray]:
    """Noise values -D..D and integer weights 2^(D - |d|) (for D = 2: 1, 2, 4, 2, 1)."""
    d = np.arange(-max_noise, max_noise + 1)
    weights = 2 ** (max_noise - np.abs(d))
    return d, weights


def perturb(count: Any, cell_key: Any, max_noise: int = 2, min_count: int = 5) -> Any:
    """Cell-key perturbation of counts (protection against differencing between views).

    ``cell_key`` is a number in [0, 1) computed by the caller from the records of the cell
    (sum of the records' random keys, mod 1), so the same set of records always has the same
    key, whatever query produced the cell. The key is mapped to noise d in -D..D
    (D = ``max_noise``) with probability proportional to 2^(D - |d|): for D = 2 the
    probabilities of -2, -1, 0, +1, +2 are 0.1, 0.2, 0.4, 0.2, 0.1 (mean 0, variance 1.2),
    i.e. key < 0.1 -> -2, < 0.3 -> -1, < 0.7 -> 0, < 0.9 -> +1, otherwise +2.

    Output: 0 stays 0; 1 .. min_count-1 become NaN (hidden); counts >= min_count become
    ``max(min_count, count + d)``, so a published count is never 1 .. min_count-1.
    The same count and key always give the same result (no random state).

    Reference: Fraser B, Wooton J (2005). A proposed method for confidentialising tabular
    output to protect against differencing. UNECE/Eurostat Work Session on Statistical Data
    Confidentiality; Marley JK, Leaver VL (2011). A method for confidentialising user-defined
    tables: statistical properties and a risk-utility analysis. ISI 58th World Statistics
    Congress (ABS TableBuilder); ONS (2018), cell key method for Census 2021 outputs.
    """
    if max_noise < 0 or int(max_noise) != max_noise:
        raise ValueError("max_noise must be a non-negative integer")
    n = _as_float(count, "count")
    key = np.asarray(cell_key, dtype=float)
    if np.any(~np.isfinite(key)) or np.any(key < 0) or np.any(key >= 1):
        raise ValueError("cell_key must lie in [0, 1)")
    n, key = np.broadcast_arrays(n, key)
    d, weights = _noise_table(int(max_noise))
    cum = np.cumsum(weights)
    idx = np.searchsorted(cum, key * cum[-1], side="right")
    noise = d[np.minimum(idx, d.size - 1)]
    out = np.where(n >= min_count, np.maximum(min_count, n + noise), np.nan)
    out = np.where(n == 0, 0.0, out)
    return _out(out)


# --------------------------------------------------------------------------------------------
# interrupted time series


ITS_TERMS = ("intercept", "pre_slope", "level_change", "slope_change")


def newey_west_lags(n: int) -> int:
    """Default truncation lag of the Newey-West estimator: floor(4 (n / 100)^(2/9)).

    Reference: Newey WK, West KD (1994). Automatic lag selection in covariance matrix
    estimation. Rev Econ Stud 61:631-653 (the rule of thumb of their section 3).
    """
    return int(np.floor(4.0 * (max(int(n), 1) / 100.0) ** (2.0 / 9.0)))


def segmented_regression(t: Any, y: Any, intervention_index: int, weights: Any = None, conf: float = 0.95,
                         hac_lags: int | str | None = None) -> dict:
    """Segmented regression of an interrupted time series (level and slope change).

    Model (Wagner et al. 2002), fitted by ordinary (or, with ``weights``, weighted) least squares::

        y_t = b0 + b1 * t + b2 * D_t + b3 * (t - t0) * D_t + e_t

    where ``t0 = t[intervention_index]`` is the time of the first observation after the
    intervention and ``D_t = 1`` from it on (``t >= t0``), else 0. So ``b0`` is the level at
    t = 0, ``b1`` the slope before the intervention (``pre_slope``), ``b2`` the change in level at
    ``t0`` against the extrapolated pre-intervention line (``level_change``) and ``b3`` the change
    in slope (``slope_change``); the slope after is ``b1 + b3`` (``post_slope``).

    Standard errors:

    - ``hac_lags=None`` (default): the classical OLS covariance s^2 (X'WX)^-1 with
      s^2 = sum w e^2 / (n - 4); assumes independent errors.
    - ``hac_lags=L`` (an int) or ``"auto"`` (L = ``newey_west_lags(n)``): Newey-West
      heteroscedasticity- and autocorrelation-consistent (HAC) covariance with the Bartlett kernel
      (weights 1 - l/(L+1), l = 1..L) over the observations in time order, multiplied by the
      small-sample factor n / (n - 4). Reference: Newey WK, West KD (1987). Econometrica
      55:703-708.

    Intervals and p-values use Student's t with n - 4 degrees of freedom in both cases. The
    Durbin-Watson statistic of the (weighted) residuals is reported so the reader can judge
    first-order autocorrelation (about 2: none; well below 2: positive autocorrelation).

    ``t`` and ``y`` are 1-d and of equal length; pairs with a missing (NaN) ``y`` or weight are
    left out of the fit (``intervention_index`` still refers to the input positions). At least
    two observations are needed on each side and five in all. ``weights`` (e.g. the denominator
    of a rate) must be positive where given.

    Returns a dict: ``params``, ``se``, ``lower``, ``upper``, ``p`` (dicts by term name
    ``intercept``, ``pre_slope``, ``level_change``, ``slope_change``), ``post_slope`` (dict of
    ``estimate``, ``se``, ``lower``, ``upper``), ``fitted`` and ``counterfactual`` (the
    pre-intervention line b0 + b1 t) at every input ``t``, ``residuals`` (NaN where left out),
    ``t0``, ``n``, ``df``, ``conf``, ``se_type`` (``"ols"`` or ``"newey-west"``), ``lags``,
    ``durbin_watson``, ``r_squared``.

    Reference: Wagner AK, Soumerai SB, Zhang F, Ross-Degnan D (2002). Segmented regression
    analysis of interrupted time series studies in medication use research. J Clin Pharm Ther
    27:299-309. See also Bernal JL, Cummins S, Gasparrini A (2017). Interrupted time series
    regression for the evaluation of public health interventions: a tutorial. Int J Epidemiol
    46:348-355.
    """
    from scipy.stats import t as student_t

    alpha = _check_conf(conf)
    t_all = np.asarray(t, dtype=float).ravel()
    y_all = np.asarray(y, dtype=float).ravel()
    if t_all.shape != y_all.shape:
        raise ValueError("t and y must have the same length")
    n_all = t_all.size
    k = int(intervention_index)
    if not 0 < k < n_all:
        raise ValueError("intervention_index must leave observations before and after the intervention")
    if np.any(~np.isfinite(t_all)):
        raise ValueError("t must be finite")
    w_all = np.ones(n_all) if weights is None else np.asarray(weights, dtype=float).ravel()
    if w_all.shape != t_all.shape:
        raise ValueError("weights must have the same length as t")
    ok = np.isfinite(y_all) & np.isfinite(w_all)
    if np.any(w_all[ok] <= 0):
        raise ValueError("weights must be positive")
    t0 = t_all[k]
    post_all = (np.arange(n_all) >= k).astype(float)
    X_all = np.column_stack([np.ones(n_all), t_all, post_all, (t_all - t0) * post_all])
    order = np.argsort(t_all[ok], kind="stable")
    X, yy, w = X_all[ok][order], y_all[ok][order], w_all[ok][order]
    n, p = yy.size, X.shape[1]
    n_pre, n_post = int((X[:, 2] == 0).sum()), int((X[:, 2] == 1).sum())
    if n_pre < 2 or n_post < 2 or n < p + 1:
        raise ValueError("need at least two observations before and after the intervention and five in all")
    sw = np.sqrt(w)
    Xw, yw = X * sw[:, None], yy * sw
    beta, _, rank, _ = np.linalg.lstsq(Xw, yw, rcond=None)
    if rank < p:
        raise ValueError("the design is singular (too few distinct time points on one side)")
    bread = np.linalg.inv(Xw.T @ Xw)
    u = yw - Xw @ beta
    df = n - p
    if hac_lags is None:
        s2 = float(u @ u) / df
        cov = s2 * bread
        se_type, lags = "ols", 0
    else:
        lags = newey_west_lags(n) if hac_lags == "auto" else int(hac_lags)
        if lags < 0:
            raise ValueError("hac_lags must be non-negative")
        xu = Xw * u[:, None]
        meat = xu.T @ xu
        for lag in range(1, min(lags, n - 1) + 1):
            gamma = xu[lag:].T @ xu[:-lag]
            meat += (1.0 - lag / (lags + 1.0)) * (gamma + gamma.T)
        cov = bread @ meat @ bread * (n / df)
        se_type = "newey-west"
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    q = student_t.ppf(1.0 - alpha / 2.0, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        tstat = np.where(se > 0, beta / np.where(se > 0, se, 1.0), np.where(beta == 0, 0.0, np.inf))
    pval = 2.0 * student_t.sf(np.abs(tstat), df)
    c = np.array([0.0, 1.0, 0.0, 1.0])
    post_slope = float(c @ beta)
    post_se = float(np.sqrt(max(c @ cov @ c, 0.0)))
    resid_all = np.full(n_all, np.nan)
    resid_all[ok] = y_all[ok] - X_all[ok] @ beta
    dw = float(np.sum(np.diff(u) ** 2) / np.sum(u ** 2)) if np.sum(u ** 2) > 0 else float("nan")
    ybar = np.sum(w * yy) / np.sum(w)
    sst = float(np.sum(w * (yy - ybar) ** 2))
    r2 = 1.0 - float(u @ u) / sst if sst > 0 else float("nan")

    def by_name(a):
        return {name: float(v) for name, v in zip(ITS_TERMS, a)}

    return {
        "params": by_name(beta),
        "se": by_name(se),
        "lower": by_name(beta - q * se),
        "upper": by_name(beta + q * se),
        "p": by_name(pval),
        "post_slope": {"estimate": post_slope, "se": post_se, "lower": post_slope - q * post_se,
                       "upper": post_slope + q * post_se},
        "fitted": X_all @ beta,
        "counterfactual": beta[0] + beta[1] * t_all,
        "residuals": resid_all,
        "t0": float(t0),
        "n": int(n),
        "df": int(df),
        "conf": float(conf),
        "se_type": se_type,
        "lags": int(lags),
        "durbin_watson": dw,
        "r_squared": r2,
    }


__all__ += ["ITS_TERMS", "newey_west_lags", "segmented_regression"]
