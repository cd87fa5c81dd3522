"""Opportunity: how many examinations a year would be avoided if every area above a chosen level
came down to it.

Methods
-------
``opportunity``
    For area i with O_i observed examinations and base b_i (person-years at risk for a crude
    rate, or the expected count E_i at Denmark's age- and sex-specific rates for an indirectly
    standardised ratio), the target count is T_i = t b_i for a target level t in the same units
    (a rate per person-year, or a ratio such as 1 = Denmark's level). The area's avoidable count
    is max(0, O_i - T_i); the total is their sum over the areas, both divided by the number of
    years the counts cover. Per area the interval is exact: the Garwood limits (L_i, U_i) of the
    area's true count give max(0, L_i - T_i) to max(0, U_i - T_i) (a monotone function of the true
    count keeps the coverage). For the total the interval is by Monte Carlo: each area's true
    count is drawn from the Gamma(O_i + 1/2, 1) distribution (the Jeffreys posterior of a Poisson
    mean), the avoidable total is summed per draw, and the limits are its percentiles. The
    target is treated as fixed (a policy choice, or Denmark's rate, whose own noise is small next
    to an area's). England's Atlas of Variation states its "opportunity" the same way (the
    activity if every area above a benchmark were at it). Garwood F (1936), Biometrika
    28:437-442; Jeffreys H (1961), Theory of Probability, 3rd ed.; NHS RightCare / Public Health
    England, The NHS Atlas of Variation in Healthcare (2015, 2018 editions), "potential
    opportunity" figures.
``target_level``
    The level to come down to: Denmark's (sum O / sum b), the best quartile (the 25th percentile
    of the areas' levels, each area counting once, numpy's linear interpolation; for a measure
    where lower is better), or a user-set value.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ._common import Estimate, conf_fraction
from .rates import poisson_ci

__all__ = ["Opportunity", "opportunity", "target_level"]


class Opportunity(NamedTuple):
    """Examinations avoided per year if every area above ``target`` came down to it.

    ``total``: ``Estimate`` of the sum over the areas (value, lower, upper), per year;
    ``by_area``: ``Estimate`` of arrays, one entry per area (0 for an area at or below the target),
    per year; ``target_count``: T_i per year; ``above``: boolean array, the area's observed level
    is above the target; ``significant``: its lower limit is above the target (the area is above
    the target beyond chance at ``conf``); ``n_above``; ``target``; ``conf``; ``method``.
    """

    total: Estimate
    by_area: Estimate
    target_count: np.ndarray
    above: np.ndarray
    significant: np.ndarray
    n_above: int
    target: float
    conf: float
    method: str


def target_level(observed: Any, base: Any, kind: str = "denmark", value: float | None = None,
                 quantile: float = 0.25) -> float:
    """The target level in units of observed / base.

    ``kind="denmark"``: sum(observed) / sum(base) over all areas (Denmark's level when the areas
    cover the country; 1.0 for indirectly standardised ratios whose expected counts come from
    Denmark's rates). ``kind="best_quartile"``: the ``quantile`` (0.25) of the areas' levels
    observed_i / base_i, each area counting once (numpy's linear interpolation); for measures where
    lower is better. ``kind="user"``: ``value`` as given (must be positive).
    """
    o = np.asarray(observed, dtype=float).ravel()
    b = np.asarray(base, dtype=float).ravel()
    if o.size != b.size or o.size == 0:
        raise ValueError("observed and base must be non-empty and of the same length")
    if kind == "denmark":
        return float(o.sum() / b.sum())
    if kind == "best_quartile":
        if not 0.0 < quantile < 1.0:
            raise ValueError("quantile must lie strictly between 0 and 1")
        ok = b > 0
        return float(np.quantile(o[ok] / b[ok], quantile))
    if kind == "user":
        if value is None or not np.isfinite(value) or value <= 0:
            raise ValueError("a user-set target must be a positive number")
        return float(value)
    raise ValueError(f"kind must be 'denmark', 'best_quartile' or 'user', got {kind!r}")


def opportunity(observed: Any, base: Any, target: float, *, years: float = 1.0, conf: float = 0.95,
                only_significant: bool = False, repetitions: int = 20_000, seed: int | None = 27) -> Opportunity:
    """Examinations avoided per year if each area above ``target`` came down to it.

    ``observed``: the areas' examination counts over the period; ``base``: their person-years at
    risk (``target`` a rate per person-year, e.g. 0.055 for 55 per 1,000) or their expected counts
    at Denmark's rates (``target`` a ratio, e.g. 1.0 for Denmark's level, or a best-quartile ratio
    from ``target_level``); ``years``: how many years the counts cover (results are per year).

    Per area: avoidable_i = max(0, O_i - T_i) with T_i = target * base_i, and the exact interval
    max(0, L_i - T_i) to max(0, U_i - T_i) from the Garwood limits (L_i, U_i) of O_i at ``conf``.
    Total: the sum of the areas' avoidable counts; its interval the ``conf`` percentiles of
    sum_i max(0, M_i - T_i) over ``repetitions`` draws of M_i ~ Gamma(O_i + 1/2, 1), seeded by
    ``seed`` (reproducible).

    Noise makes some areas near the target look above it, so the total counts a little that is
    chance rather than practice; ``only_significant=True`` counts only the areas whose lower limit
    is above the target (a conservative figure; the Monte Carlo draws then use the same areas).
    Areas with a base of 0 contribute nothing.

    References: Garwood F (1936), Biometrika 28:437-442 (exact Poisson limits); NHS RightCare /
    Public Health England, The NHS Atlas of Variation in Healthcare (2015, 2018), "opportunity".
    """
    conf = conf_fraction(conf)
    o = np.asarray(observed, dtype=float).ravel()
    b = np.asarray(base, dtype=float).ravel()
    if o.size != b.size or o.size == 0:
        raise ValueError("observed and base must be non-empty and of the same length")
    if np.any(~np.isfinite(o)) or np.any(~np.isfinite(b)) or np.any(o < 0) or np.any(b < 0):
        raise ValueError("observed and base must be finite and non-negative")
    if not np.isfinite(target) or target < 0:
        raise ValueError("target must be a non-negative number")
    if not years > 0:
        raise ValueError("years must be positive")
    t_count = target * b
    ci = poisson_ci(o, conf)
    lo_i, hi_i = np.asarray(ci.lower, float), np.asarray(ci.upper, float)
    above = (o > t_count) & (b > 0)
    significant = (lo_i > t_count) & (b > 0)
    use = significant if only_significant else above
    value_i = np.where(use, np.maximum(o - t_count, 0.0), 0.0)
    lower_i = np.where(use, np.maximum(lo_i - t_count, 0.0), 0.0)
    upper_i = np.where(use, np.maximum(hi_i - t_count, 0.0), 0.0)
    # Monte Carlo for the total; with only_significant the areas counted are fixed, otherwise every
    # area may exceed its target in a draw (an area just below the target contributes sometimes).
    pool = use if only_significant else (b > 0)
    rng = np.random.default_rng(seed)
    idx = np.flatnonzero(pool)
    total_sim = np.zeros(int(repetitions))
    chunk = max(1, 2_000_000 // max(idx.size, 1))
    for start in range(0, int(repetitions), chunk):
        n = min(chunk, int(repetitions) - start)
        m = rng.gamma(o[idx] + 0.5, 1.0, size=(n, idx.size))
        total_sim[start:start + n] = np.maximum(m - t_count[idx], 0.0).sum(axis=1)
    alpha = 1.0 - conf
    t_lo, t_hi = np.quantile(total_sim, [alpha / 2.0, 1.0 - alpha / 2.0])
    total = Estimate(float(value_i.sum() / years), float(t_lo / years), float(t_hi / years))
    method = (f"observed minus target among areas {'significantly ' if only_significant else ''}above the target; "
              f"exact Poisson limits per area, {conf * 100:g} % Monte Carlo interval for the total "
              f"({int(repetitions):,} draws)")
    return Opportunity(total, Estimate(value_i / years, lower_i / years, upper_i / years), t_count / years,
                       above, significant, int(use.sum()), float(target), conf, method)
