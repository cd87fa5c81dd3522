"""Funnel plots: control limits around a target and the position of each area.

Methods
-------
``funnel_limits``, ``funnel_flags``
    Poisson limits for counts, rates and ratios (O/E with target 1): quantiles of
    Poisson(target x n / per), made continuous by Spiegelhalter's interpolation.
``funnel_limits_proportion``, ``funnel_flags_proportion``
    The same with Binomial(n, target) for proportions.

Reference: Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance.
Stat Med 24:1185-1202 (Appendix A).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import betainc
from scipy.stats import poisson

from ._common import _as_float, _check_conf, conf_label

__all__ = [
    "funnel_limits",
    "funnel_flags",
    "funnel_limits_proportion",
    "funnel_flags_proportion",
]


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
