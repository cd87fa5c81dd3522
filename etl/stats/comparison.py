"""Comparing published estimates: the correlation of two measures across areas, and whether two
estimates of one area (two years) differ by more than chance.

Methods
-------
``correlation_ci``
    Pearson's r of paired values with the Fisher z interval: z = atanh(r), SE = 1 / sqrt(n - 3),
    interval tanh(z -/+ q * SE) with q the normal quantile of the confidence level; the two-sided
    p-value of r = 0 from the same z. Fisher RA (1921), Metron 1:3-32; Altman DG, Machin D,
    Bryant TN, Gardner MJ (2000), Statistics with Confidence, 2nd ed., ch. 8.
``difference_beyond_chance``
    Two independent estimates given only with their confidence intervals: each standard error
    is recovered from its interval, SE = (upper - lower) / (2 q), on the log scale for ratios
    and rates (where such intervals are near symmetric), and the difference d = e2 - e1 is
    tested with z = d / sqrt(SE1^2 + SE2^2). Altman DG, Bland JM (2003), Interaction revisited:
    the difference between two estimates, BMJ 326:219; Altman DG, Bland JM (2011), How to
    obtain the P value from a confidence interval, BMJ 343:d2304.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy.stats import norm

from ._common import conf_fraction

__all__ = ["Correlation", "correlation_ci", "difference_beyond_chance"]


def _floats(x: Any) -> np.ndarray:
    """Values as floats (negative values allowed: correlations and differences take any sign)."""
    return np.asarray(x, dtype=float)


class Correlation(NamedTuple):
    r: float
    lower: float
    upper: float
    p_value: float
    n: int


def correlation_ci(x: Any, y: Any, conf: float = 0.95) -> Correlation:
    """Pearson's correlation of ``x`` and ``y`` (pairs with a missing value are left out) with its
    Fisher z interval at ``conf`` and the p-value of no correlation.

    NaN for r with fewer than 3 pairs or a constant variable, and NaN interval with fewer than 4
    pairs (SE = 1/sqrt(n - 3)).
    """
    conf = conf_fraction(conf)
    a, b = _floats(x).ravel(), _floats(y).ravel()
    if a.shape != b.shape:
        raise ValueError("x and y must have the same length")
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    n = int(len(a))
    if n < 3 or np.std(a) == 0 or np.std(b) == 0:
        return Correlation(np.nan, np.nan, np.nan, np.nan, n)
    r = float(np.clip(np.corrcoef(a, b)[0, 1], -1.0, 1.0))
    if n < 4 or abs(r) == 1.0:
        return Correlation(r, np.nan if n < 4 else r, np.nan if n < 4 else r, np.nan if n < 4 else 0.0, n)
    z, se = np.arctanh(r), 1.0 / np.sqrt(n - 3)
    q = norm.ppf(0.5 + conf / 2)
    p = float(2 * norm.sf(abs(z) / se))
    return Correlation(r, float(np.tanh(z - q * se)), float(np.tanh(z + q * se)), p, n)


def difference_beyond_chance(first: Any, first_lower: Any, first_upper: Any, second: Any, second_lower: Any,
                             second_upper: Any, conf: float = 0.95, log: bool = False) -> np.ndarray:
    """+1 where ``second`` is above ``first`` by more than chance at ``conf``, -1 where below, 0
    where not (or where an input is missing or, with ``log``, not positive).

    The intervals are the estimates' own intervals at the same ``conf``; ``log`` tests on the log
    scale (rates and ratios)."""
    conf = conf_fraction(conf)
    q = norm.ppf(0.5 + conf / 2)
    arrays = [_floats(v) for v in (first, first_lower, first_upper, second, second_lower, second_upper)]
    e1, l1, u1, e2, l2, u2 = np.broadcast_arrays(*arrays)
    with np.errstate(divide="ignore", invalid="ignore"):
        if log:
            ok = (e1 > 0) & (l1 > 0) & (u1 > 0) & (e2 > 0) & (l2 > 0) & (u2 > 0)
            e1, l1, u1, e2, l2, u2 = (np.log(np.where(ok, v, 1.0)) for v in (e1, l1, u1, e2, l2, u2))
        else:
            ok = np.ones(e1.shape, dtype=bool)
        ok &= np.isfinite(e1) & np.isfinite(l1) & np.isfinite(u1) & np.isfinite(e2) & np.isfinite(l2) & np.isfinite(u2)
        se = np.sqrt(((u1 - l1) / (2 * q)) ** 2 + ((u2 - l2) / (2 * q)) ** 2)
        z = np.where(ok & (se > 0), (e2 - e1) / np.where(se > 0, se, 1.0), 0.0)
    return np.where(z > q, 1, np.where(z < -q, -1, 0)).astype(int)
