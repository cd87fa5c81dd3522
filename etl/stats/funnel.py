"""Funnel plots: control limits around a target, exact tail probabilities and flags.

Methods
-------
``funnel_p_values``, ``funnel_p_values_proportion``
    One-sided exact tail probabilities of each area's count under the target: Poisson for counts,
    rates and ratios (O/E with target 1), binomial for proportions.
``funnel_flags``, ``funnel_flags_proportion``
    "high at level c" when P(X >= O) < (1 - c)/2 under the target, "low" when
    P(X <= O) < (1 - c)/2; the widest level wins. An exact test, so the chance of a flag under
    the target is at most (1 - c)/2 on each side for every size of area. Equivalently: high at c
    exactly when the area's exact interval at level c (Garwood for O/E, Clopper-Pearson for a
    proportion) lies wholly above the target.
``funnel_limits``, ``funnel_limits_proportion``
    The limits drawn with those flags: for each size, the count at which the exact one-sided
    tail probability equals (1 - c)/2. The tail probabilities are written with the regularised
    incomplete gamma and beta functions, which are continuous in the count, so the limit is a
    smooth curve and an area lies outside it exactly when it is flagged (no step function, no
    interpolation). ``method="spiegelhalter"`` gives Spiegelhalter's interpolated quantiles
    instead (the atlas's earlier limits; up to one count lower, so flags from them exceed the
    nominal false-alarm rate).

References: Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance. Stat
Med 24:1185-1202 (exact limits for discrete data, Appendix A); Garwood F (1936), Biometrika
28:437-442; Clopper CJ, Pearson ES (1934). The use of confidence or fiducial limits illustrated
in the case of the binomial. Biometrika 26:404-413; Johnson NL, Kemp AW, Kotz S (2005).
Univariate Discrete Distributions, 3rd ed., Wiley: the Poisson and binomial distribution
functions as incomplete gamma and beta functions (sections 3.6 and 4.2).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy.special import betainc, gammainc, gammaincc
from scipy.stats import poisson

from ._common import _as_float, _check_conf, _out, conf_label
from .spiegelhalter import _binomial_limit, _limit_flags, _poisson_limit

__all__ = [
    "FunnelTails",
    "funnel_p_values",
    "funnel_p_values_proportion",
    "funnel_limits",
    "funnel_flags",
    "funnel_limits_proportion",
    "funnel_flags_proportion",
]

METHODS = ("exact", "spiegelhalter")


class FunnelTails(NamedTuple):
    """One-sided exact tail probabilities of observed counts under the target.

    ``p_high`` = P(X >= O) and ``p_low`` = P(X <= O); each is a valid one-sided p-value, and
    p_high + p_low >= 1 (both include P(X = O)). NaN where the area has no denominator or no count.
    """

    p_high: Any
    p_low: Any


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return method


# --------------------------------------------------------------------------------------------
# exact tail probabilities, continuous in the count


def _poisson_tails(o: np.ndarray, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P(X >= o) and P(X <= o) for X ~ Poisson(lam).

    For whole o these are the Poisson sums; written as P(X >= o) = P(o, lam) (regularised lower
    incomplete gamma function, 1 for o <= 0) and P(X <= o) = Q(o + 1, lam) (upper), they are
    continuous and monotone in o, which the limits below rely on. lam = 0: X is 0.
    """
    with np.errstate(invalid="ignore"):
        high = np.where(o <= 0, 1.0, gammainc(np.maximum(o, 1e-300), lam))
        low = np.where(o < 0, 0.0, gammaincc(np.maximum(o + 1.0, 1e-300), lam))
    return high, low


def _binomial_tails(x: np.ndarray, n: np.ndarray, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """P(X >= x) and P(X <= x) for X ~ Binomial(n, theta), x in [0, n].

    P(X >= x) = I_theta(x, n - x + 1) and P(X <= x) = I_{1-theta}(n - x, x + 1) (regularised
    incomplete beta function): the binomial sums for whole x and n, continuous and monotone in x
    (and defined for non-integer n, e.g. points along a plotted curve).
    """
    with np.errstate(invalid="ignore"):
        high = np.where(x <= 0, 1.0, betainc(np.maximum(x, 1e-300), np.maximum(n - x + 1.0, 1e-300), theta))
        low = np.where(x >= n, 1.0, betainc(np.maximum(n - x, 1e-300), x + 1.0, 1.0 - theta))
    return high, low


def funnel_p_values(observed: Any, denominators: Any, target: float, per: float = 1) -> FunnelTails:
    """Exact one-sided Poisson tail probabilities of each area's count under the target.

    With lam = ``target * n / per`` (for ratios ``denominators=expected, target=1``):
    ``p_high = P(X >= O)``, ``p_low = P(X <= O)``, X ~ Poisson(lam). Non-integer O (rescaled
    counts) are accepted through the continuous form (see ``_poisson_tails``). Denominator <= 0
    or a missing count gives NaN.

    Example: O = 18 with E = 10 gives p_high = 0.0143 (flagged high at 95 %, not at 99.8 %).
    """
    o = _as_float(observed, "observed")
    n = _as_float(denominators, "denominators")
    o, n = np.broadcast_arrays(o, n)
    lam = float(target) * n / per
    high, low = _poisson_tails(o, lam)
    bad = ~(n > 0) | np.isnan(o)
    return FunnelTails(_out(np.where(bad, np.nan, high)), _out(np.where(bad, np.nan, low)))


def funnel_p_values_proportion(observed: Any, denominators: Any, target: float) -> FunnelTails:
    """Exact one-sided binomial tail probabilities of each area's numerator under the target.

    ``p_high = P(X >= x)``, ``p_low = P(X <= x)``, X ~ Binomial(n, target). A numerator above
    its denominator (possible for perturbed counts) is treated as equal to it. Denominator <= 0
    or a missing numerator gives NaN.

    Example: 5 of 5 at a target of 50 % gives p_high = 0.5^5 = 0.031: not flagged even at 95 %.
    """
    theta = float(target)
    if not 0.0 <= theta <= 1.0:
        raise ValueError("target must be a proportion in [0, 1]")
    x = _as_float(observed, "observed")
    n = _as_float(denominators, "denominators")
    x, n = np.broadcast_arrays(x, n)
    ok = n > 0
    nn = np.where(ok, n, 1.0)
    high, low = _binomial_tails(np.minimum(np.where(np.isnan(x), 0.0, x), nn), nn, theta)
    bad = ~ok | np.isnan(x)
    return FunnelTails(_out(np.where(bad, np.nan, high)), _out(np.where(bad, np.nan, low)))


def _flags(tails: FunnelTails, conf: Sequence[float]) -> np.ndarray:
    """Categories from tail probabilities: the widest level whose (1 - c)/2 a tail falls below."""
    high = np.atleast_1d(np.asarray(tails.p_high, dtype=float))
    low = np.atleast_1d(np.asarray(tails.p_low, dtype=float))
    flags = np.full(high.shape, "within", dtype=object)
    done = np.zeros(high.shape, dtype=bool)
    for alpha, c in sorted((_check_conf(c), c) for c in conf):  # widest level (smallest alpha) first
        label = conf_label(c).replace("_", "")
        hi = high < alpha / 2.0
        lo = low < alpha / 2.0
        flags[hi & ~done] = f"high_{label}"
        flags[lo & ~done] = f"low_{label}"
        done |= hi | lo
    flags[np.isnan(high)] = None
    return flags


# --------------------------------------------------------------------------------------------
# limits that agree with the flags


def _bisect(f, lo: np.ndarray, hi: np.ndarray, increasing: bool, iterations: int = 40) -> np.ndarray:
    """Root of a monotone f between lo and hi (vectorised): the point where f crosses 0. The callers'
    brackets are one count wide, so 40 halvings leave an error below 1e-12 of a count."""
    lo, hi = lo.astype(float).copy(), hi.astype(float).copy()
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        above = f(mid) > 0
        if increasing:
            hi, lo = np.where(above, mid, hi), np.where(above, lo, mid)
        else:
            lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    return 0.5 * (lo + hi)


def _poisson_exact_limits(lam: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Counts (lower, upper) with P(X <= lower) = alpha/2 and P(X >= upper) = alpha/2.

    The upper root lies in (r, r + 1] with r the 1 - alpha/2 quantile, the lower in (r' - 1, r']
    with r' the alpha/2 quantile (both from the monotone continuous tails); the lower limit is
    truncated at 0 (no count can lie below it then). An area is high exactly when O > upper and
    low exactly when O < lower.
    """
    p = alpha / 2.0
    lam_s = np.where(lam > 0, lam, 1.0)
    r_hi = poisson.ppf(1.0 - p, lam_s)
    r_lo = poisson.ppf(p, lam_s)
    upper = _bisect(lambda u: _poisson_tails(u, lam_s)[0] - p, r_hi, r_hi + 1.0, increasing=False)
    lower = _bisect(lambda v: _poisson_tails(v, lam_s)[1] - p, r_lo - 1.0, r_lo, increasing=True)
    lower = np.maximum(lower, 0.0)
    upper = np.where(lam > 0, upper, 0.0)  # lam = 0: any count above 0 is high
    lower = np.where(lam > 0, lower, 0.0)
    nan = np.isnan(lam)
    return np.where(nan, np.nan, lower), np.where(nan, np.nan, upper)


def _binomial_exact_limits(n: np.ndarray, theta: float, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Numerators (lower, upper) with P(X <= lower) = alpha/2 and P(X >= upper) = alpha/2.

    Bisection of the continuous tails (n need not be whole: the funnel's curves are drawn over a
    grid of denominators) within [0, n], narrowed to the mean +- 8 standard deviations + 3, which
    holds both roots for any tail probability drawn (z = 3.1 at 99.8 %). When even x = n (x = 0)
    is not in the upper (lower) tail, the limit is n (0): no area of that size can be flagged on
    that side.
    """
    p = np.broadcast_to(np.asarray(alpha, dtype=float) / 2.0, n.shape)
    zero = np.zeros_like(n)
    if theta in (0.0, 1.0):  # X is 0 (or n) for sure: anything else is flagged
        return (zero, zero) if theta == 0.0 else (n.copy(), n.copy())
    half = 8.0 * np.sqrt(n * theta * (1.0 - theta)) + 3.0
    lo, hi = np.clip(n * theta - half, 0.0, n), np.clip(n * theta + half, 0.0, n)
    # both roots in one bisection (each step computes both tails anyway): the upper root of
    # P(X >= u) - p and the lower root of p - P(X <= v), both decreasing in the count
    k = len(n)
    nn, pp = np.concatenate([n, n]), np.concatenate([p, p])

    def gap(x):
        high, low = _binomial_tails(x, nn, theta)
        return np.concatenate([high[:k] - pp[:k], pp[k:] - low[k:]])

    roots = _bisect(gap, np.concatenate([lo, lo]), np.concatenate([hi, hi]), increasing=False, iterations=50)
    upper, lower = roots[:k], roots[k:]
    upper = np.where(_binomial_tails(n, n, theta)[0] >= p, n, upper)     # n of n is not extreme
    lower = np.where(_binomial_tails(zero, n, theta)[1] >= p, 0.0, lower)  # 0 of n is not extreme
    return np.clip(lower, 0.0, n), np.clip(upper, 0.0, n)




def funnel_limits(
    denominators: Any,
    target: float,
    conf: Sequence[float] = (0.95, 0.998),
    per: float = 1,
    *,
    method: str = "exact",
) -> pd.DataFrame:
    """Poisson control limits of a funnel plot (counts, rates, or ratios O/E).

    For each denominator n (population, or expected count for ratios) the expected count under
    the target is ``lam = target * n / per``. For each confidence level c (alpha = 1 - c):

    * ``method="exact"`` (default): the upper limit is the count u with P(X >= u) = alpha/2 and
      the lower limit the count l with P(X <= l) = alpha/2, X ~ Poisson(lam), the tails taken in
      their continuous form (``_poisson_tails``); l is truncated at 0. So an area is outside a
      limit exactly when ``funnel_flags`` flags it, and equivalently when its Garwood interval
      at level c excludes the target. The upper limit u is the count whose Garwood lower limit
      equals lam; it lies between r and r + 1 with r the 1 - alpha/2 quantile of Poisson(lam).
    * ``method="spiegelhalter"``: Spiegelhalter's interpolated quantiles (the earlier limits):
      with r_p the smallest r with P(X <= r) >= p, the limit is r_p - a with
      ``a = (P(X <= r_p) - p) / (P(X <= r_p) - P(X <= r_p - 1))``, between r_p - 1 and r_p. As
      a limit for whole counts it sits up to one count too low (too high for the lower limit):
      "count > limit" then flags the count r_p, whose exact tail probability exceeds alpha/2.

    On the rate scale the count limits are divided by n and multiplied by ``per``. For ratios
    pass ``denominators=expected, target=1``. Returns a DataFrame with ``denominator`` and, for
    each level, ``lower_<label>`` and ``upper_<label>`` with label = ``conf_label(c)``; with the
    default levels ``denominator, lower_95, upper_95, lower_99_8, upper_99_8``. A denominator of
    0 gives NaN limits. Levels may be given as fractions or percentages (``conf_fraction``).

    Example: E = 10 (target 1) gives exact 95 % count limits 3.62 .. 17.0 (ratio 0.36 .. 1.70),
    where Spiegelhalter's are 3.78 .. 16.16: an area with O = 17 has P(X >= 17) = 0.027 and is
    within the exact limit but above the interpolated one.

    Reference: Spiegelhalter DJ (2005). Stat Med 24:1185-1202; Garwood F (1936).
    """
    _check_method(method)
    n = _as_float(denominators, "denominators").ravel()
    lam = float(target) * n / per
    out = pd.DataFrame({"denominator": n})
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(n > 0, per / np.where(n > 0, n, 1.0), np.nan)
    for c in conf:
        alpha = _check_conf(c)
        label = conf_label(c)
        if method == "exact":
            lower, upper = _poisson_exact_limits(lam, alpha)
        else:
            lower, upper = _poisson_limit(lam, alpha / 2.0), _poisson_limit(lam, 1.0 - alpha / 2.0)
        out[f"lower_{label}"] = lower * scale
        out[f"upper_{label}"] = upper * scale
    return out


def funnel_flags(
    observed: Any,
    denominators: Any,
    target: float,
    per: float = 1,
    conf: Sequence[float] = (0.95, 0.998),
    *,
    method: str = "exact",
) -> np.ndarray:
    """Funnel-plot category of each area from an exact Poisson test against the target.

    ``observed`` are counts (events, or O for ratios with ``denominators=expected, target=1``);
    lam = target * n / per. With ``p_high = P(X >= O)`` and ``p_low = P(X <= O)``
    (``funnel_p_values``), an area is ``high_<c>`` if p_high < (1 - c)/2 and ``low_<c>`` if
    p_low < (1 - c)/2, the widest level winning. With the default levels the categories are
    ``'high_998', 'high_95', 'within', 'low_95', 'low_998'`` (label = ``conf_label(c)`` without
    the underscore). Because the test is exact, the chance of each flag when the area is truly at
    the target is at most (1 - c)/2, for any expected count. ``high_<c>`` is the same as "the
    Garwood interval at level c lies above the target"; the area lies above the exact limit of
    ``funnel_limits`` exactly then.

    ``method="spiegelhalter"`` compares the count with Spiegelhalter's interpolated limits
    instead (the earlier behaviour, flags one count early; kept for comparison).

    Areas with denominator <= 0 or a missing count get ``None``. Returns a 1-D object array.
    """
    _check_method(method)
    o = _as_float(observed, "observed").ravel()
    n = _as_float(denominators, "denominators").ravel()
    o, n = np.broadcast_arrays(o, n)
    if method == "exact":
        return _flags(funnel_p_values(o, n, target, per), conf)
    lam = float(target) * n / per
    return _limit_flags(o, n > 0, lambda p: _poisson_limit(lam, p), conf)


def funnel_limits_proportion(
    denominators: Any,
    target: float,
    conf: Sequence[float] = (0.95, 0.998),
    *,
    method: str = "exact",
) -> pd.DataFrame:
    """Binomial control limits of a funnel plot of proportions (shares).

    As ``funnel_limits`` with Binomial(n, target) in place of the Poisson: by default
    (``method="exact"``) the upper limit is the numerator u with P(X >= u) = (1 - c)/2 and the
    lower the numerator l with P(X <= l) = (1 - c)/2, in the continuous (incomplete beta) form,
    divided by n; where even n of n (0 of n) is not extreme enough the limit is 1 (0): no area of
    that size can be flagged on that side. ``method="spiegelhalter"`` gives the interpolated
    quantiles ``(r_p - a) / n`` (Spiegelhalter 2005, Appendix A). ``target`` is a proportion in
    [0, 1] and so are the limits. Columns: ``denominator``, ``lower_<label>``, ``upper_<label>``
    (``lower_95, upper_95, lower_99_8, upper_99_8`` by default). Denominators may be
    non-integer (points along a plotted curve). n = 0 gives NaN.

    Example: n = 5 at a target of 0.5: the exact upper 95 % limit is 1 (5 of 5 has
    P(X >= 5) = 0.031, not below 0.025), where Spiegelhalter's interpolated limit is 0.97 and
    flags 5 of 5 as high.

    Reference: Spiegelhalter DJ (2005). Stat Med 24:1185-1202; Clopper CJ, Pearson ES (1934).
    """
    _check_method(method)
    theta = float(target)
    if not 0.0 <= theta <= 1.0:
        raise ValueError("target must be a proportion in [0, 1]")
    n = _as_float(denominators, "denominators").ravel()
    out = pd.DataFrame({"denominator": n})
    ok = n > 0
    nn = np.where(ok, n, 1.0)
    alphas = [_check_conf(c) for c in conf]
    if method == "exact":        # every level in one bisection
        lows, ups = _binomial_exact_limits(np.tile(nn, len(alphas)), theta, np.repeat(alphas, len(nn)))
    for i, (c, alpha) in enumerate(zip(conf, alphas)):
        label = conf_label(c)
        if method == "exact":
            lower, upper = lows[i * len(nn):(i + 1) * len(nn)], ups[i * len(nn):(i + 1) * len(nn)]
        else:
            lower, upper = _binomial_limit(nn, theta, alpha / 2.0), _binomial_limit(nn, theta, 1.0 - alpha / 2.0)
        out[f"lower_{label}"] = np.where(ok, lower / nn, np.nan)
        out[f"upper_{label}"] = np.where(ok, upper / nn, np.nan)
    return out


def funnel_flags_proportion(
    observed: Any,
    denominators: Any,
    target: float,
    conf: Sequence[float] = (0.95, 0.998),
    *,
    method: str = "exact",
) -> np.ndarray:
    """Funnel-plot category of each area for a proportion (numerator ``observed`` out of
    ``denominators``) from an exact binomial test against ``target``: ``high_<c>`` when
    P(X >= x) < (1 - c)/2, ``low_<c>`` when P(X <= x) < (1 - c)/2, X ~ Binomial(n, target)
    (``funnel_p_values_proportion``); equivalently when the Clopper-Pearson interval at level c
    excludes the target. Categories as in ``funnel_flags`` (``'high_998', 'high_95', 'within',
    'low_95', 'low_998'``, ``None`` for denominator <= 0 or missing numerator). The chance of
    each flag under the target is at most (1 - c)/2 for every n. ``method="spiegelhalter"``
    compares with the interpolated limits instead (earlier behaviour).

    Note that the intervals the atlas shows for proportions are Wilson score intervals, which are
    narrower than Clopper-Pearson's: a share whose Wilson interval just excludes the target can
    be ``within``.
    """
    _check_method(method)
    o = _as_float(observed, "observed").ravel()
    n = _as_float(denominators, "denominators").ravel()
    o, n = np.broadcast_arrays(o, n)
    if method == "exact":
        return _flags(funnel_p_values_proportion(o, n, target), conf)
    nn = np.where(n > 0, n, 1.0)
    return _limit_flags(o, n > 0, lambda p: _binomial_limit(nn, float(target), p), conf)
