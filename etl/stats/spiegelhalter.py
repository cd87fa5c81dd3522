"""Spiegelhalter's interpolated exact quantiles: the funnel limits the atlas drew before the
exact limits of ``funnel`` (``method="spiegelhalter"`` there). Kept for comparison and for the
tests that show why they were replaced.

With r_p the smallest count whose distribution function reaches p, the limit is r_p - a with
a = (F(r_p) - p) / (F(r_p) - F(r_p - 1)): a point between r_p - 1 and r_p, which makes the
limit a continuous curve but, compared with whole counts, flags one count early.

Reference: Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance. Stat
Med 24:1185-1202, Appendix A.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.special import betainc
from scipy.stats import poisson

from ._common import _check_conf, conf_label

__all__: list[str] = []


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


def _limit_flags(o: np.ndarray, ok: np.ndarray, limit: Callable[[float], np.ndarray],
                 conf: Sequence[float]) -> np.ndarray:
    """Categories from comparing counts with limits ``limit(p)`` (count scale): high when above
    the upper limit, low when below the lower one, widest level first; None where not ``ok``."""
    flags = np.full(o.shape, "within", dtype=object)
    done = np.zeros(o.shape, dtype=bool)
    for c in sorted(conf, key=_check_conf):
        alpha = _check_conf(c)
        label = conf_label(c).replace("_", "")
        hi = o > limit(1.0 - alpha / 2.0)
        lo = o < limit(alpha / 2.0)
        flags[hi & ~done] = f"high_{label}"
        flags[lo & ~done] = f"low_{label}"
        done |= hi | lo
    flags[~ok | np.isnan(o)] = None
    return flags
