"""Empirical-Bayes (Poisson-gamma) smoothing of area rates and standardised ratios.

Model
-----
Area i has an observed count O_i and a size: its population n_i (for crude rates) or its expected
count E_i under reference rates (for indirectly standardised ratios, so that age and sex are
adjusted for). Given its true relative risk theta_i, O_i ~ Poisson(E_i theta_i); the theta_i of the
areas of one group (e.g. the municipalities of a region) are drawn from a gamma prior with mean mu
and variance sigma2 (shape a = mu^2 / sigma2, rate b = mu / sigma2). The posterior of theta_i is
then Gamma(a + O_i, b + E_i), with mean

    (a + O_i) / (b + E_i) = mu + C_i (O_i / E_i - mu),   C_i = sigma2 / (sigma2 + mu / E_i),

a weighted average of the area's own ratio and its group's: small areas (small E_i, noisy
ratio) are pulled most toward the group.

The prior's mean and variance are estimated from the areas of each group by the method of moments
(Marshall 1991, the "global" estimator; the moment estimator of Clayton & Kaldor 1987):

    mu_hat     = sum O_i / sum E_i
    s2         = sum E_i (O_i/E_i - mu_hat)^2 / sum E_i
    sigma2_hat = max(s2 - mu_hat / E_bar, 0),   E_bar = sum E_i / k

(s2 is the size-weighted spread of the ratios; mu_hat / E_bar the part Poisson noise alone gives.)

Methods
-------
``eb_ratio``
    Posterior mean of O/E with equal-tailed posterior (gamma) intervals, per group; the smoothed
    map is then standardised like the ratios it smooths. ``eb_ratio_prior`` reports the prior.
``eb_shrink``
    The same shrinkage of crude rates e/n (no intervals; kept for compatibility).

References: Clayton D, Kaldor J (1987). Empirical Bayes estimates of age-standardized relative
risks for use in disease mapping. Biometrics 43:671-681; Marshall RJ (1991). Mapping disease and
mortality rates using empirical Bayes estimators. Appl Stat 40:283-294; Carlin BP, Louis TA
(2000). Bayes and Empirical Bayes Methods for Data Analysis, 2nd ed., Chapman & Hall, ch. 3
(naive EB intervals treat the estimated prior as known).
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import gammaincinv

from ._common import Estimate, _as_float, _check_conf, _out
from .rates import poisson_ci

__all__ = ["eb_shrink", "eb_ratio", "eb_ratio_prior"]


def _groups(group: Any, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Group number of each area (0 .. G-1) and the group labels in order of first appearance."""
    if group is None:
        return np.zeros(size, dtype=np.int64), np.array([None], dtype=object)
    g = np.asarray(group).ravel()
    if g.size != size:
        raise ValueError("group must have one entry per area")
    codes, labels = pd.factorize(g, use_na_sentinel=False)
    return codes.astype(np.int64), np.asarray(labels, dtype=object)


def _moments(o: np.ndarray, e: np.ndarray, valid: np.ndarray, g: np.ndarray, ng: int):
    """Marshall's moment estimates per group: (mu, sigma2, k, sum O, sum E), each of length ng."""
    ov = np.where(valid, o, 0.0)
    ev = np.where(valid, e, 0.0)
    o_g = np.bincount(g, weights=ov, minlength=ng)
    e_g = np.bincount(g, weights=ev, minlength=ng)
    k_g = np.bincount(g, weights=valid.astype(float), minlength=ng)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu = np.where(e_g > 0, o_g / np.where(e_g > 0, e_g, 1.0), np.nan)
        r = np.where(valid, ov / np.where(valid, ev, 1.0), 0.0)
        dev = np.where(valid, ev * (r - np.nan_to_num(mu[g])) ** 2, 0.0)
        s2 = np.bincount(g, weights=dev, minlength=ng) / np.where(e_g > 0, e_g, 1.0)
        ebar = e_g / np.where(k_g > 0, k_g, 1.0)
        sigma2 = np.maximum(s2 - mu / np.where(ebar > 0, ebar, 1.0), 0.0)
    return mu, sigma2, k_g, o_g, e_g


def eb_shrink(events: Any, population: Any, group: Any = None, per: float = 1) -> np.ndarray:
    """Empirical-Bayes (Poisson-gamma) shrinkage of crude area rates toward their group's rate.

    Marshall's method-of-moments estimator (see the module docstring, with n_i in place of E_i),
    applied within each group (e.g. region); with ``group=None`` all areas form one group. For the
    areas of a group, r_i = e_i / n_i::

        m   = sum(e_i) / sum(n_i)                    (group rate)
        s2  = sum(n_i * (r_i - m)^2) / sum(n_i)      (population-weighted variance)
        A   = max(s2 - m / n_bar, 0),  n_bar = sum(n_i) / k   (between-area variance)
        C_i = A / (A + m / n_i)                      (0 when A = 0)
        rate_i = m + C_i * (r_i - m)

    Small areas are pulled most toward m; if the observed spread is no larger than Poisson noise
    (A = 0) all areas get m. Returns rates multiplied by ``per``; areas with population 0 get NaN
    and do not enter the group's estimates.

    Crude rates are not standardised: where areas' age structures differ, use ``eb_ratio`` on
    observed and expected counts instead (it also gives intervals).

    Reference: Marshall RJ (1991). Appl Stat 40:283-294.
    """
    e = _as_float(events, "events").ravel()
    n = _as_float(population, "population").ravel()
    e, n = np.broadcast_arrays(e, n)
    g, labels = _groups(group, e.size)
    valid = n > 0
    mu, sigma2, *_ = _moments(e, n, valid, g, labels.size)
    m, a = mu[g], sigma2[g]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(valid, e / np.where(valid, n, 1.0), np.nan)
        c = np.where(a > 0, a / (a + m / np.where(valid, n, 1.0)), 0.0)
    rate = m + c * (r - m)
    return np.where(valid, rate, np.nan) * per


def eb_ratio_prior(observed: Any, expected: Any, group: Any = None) -> pd.DataFrame:
    """The gamma prior of ``eb_ratio`` for each group, estimated by the method of moments.

    Returns one row per group (in order of first appearance; one row with group ``None`` when
    ``group`` is None) with ``group``, ``n_areas`` (areas with E > 0 and a count), ``observed``
    and ``expected`` (sums), ``mean`` (mu_hat = sum O / sum E), ``variance`` (sigma2_hat, the
    between-area variance of the true ratios beyond Poisson noise, 0 when there is none),
    ``shape`` (mu^2 / sigma2) and ``rate`` (mu / sigma2); shape and rate are inf when the
    variance is 0 (the prior is a point mass at the mean).
    """
    o, e, g, labels, valid = _ratio_inputs(observed, expected, group)
    mu, sigma2, k, o_g, e_g = _moments(o, e, valid, g, labels.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        shape = np.where(sigma2 > 0, mu * mu / np.where(sigma2 > 0, sigma2, 1.0), np.inf)
        rate = np.where(sigma2 > 0, mu / np.where(sigma2 > 0, sigma2, 1.0), np.inf)
    return pd.DataFrame({"group": labels, "n_areas": k.astype(int), "observed": o_g, "expected": e_g,
                         "mean": mu, "variance": sigma2, "shape": shape, "rate": rate})


def _ratio_inputs(observed: Any, expected: Any, group: Any):
    o = _as_float(observed, "observed").ravel()
    e = _as_float(expected, "expected").ravel()
    o, e = np.broadcast_arrays(o, e)
    g, labels = _groups(group, o.size)
    valid = (e > 0) & np.isfinite(o) & np.isfinite(e)
    return o, e, g, labels, valid


@functools.lru_cache(maxsize=16)
def _min_shape(alpha: float) -> float:
    """The gamma shape a with P(a, a) = 1 - alpha/2 (regularised lower incomplete gamma): below it
    the mean of Gamma(a) lies above its 1 - alpha/2 quantile."""
    from scipy.optimize import brentq
    from scipy.special import gammainc

    return float(brentq(lambda a: gammainc(a, a) - (1.0 - alpha / 2.0), 1e-12, 1.0))


def eb_ratio(observed: Any, expected: Any, group: Any = None, conf: float = 0.95) -> Estimate:
    """Empirical-Bayes smoothed standardised ratios O/E with posterior (gamma) intervals.

    ``observed`` and ``expected`` are the areas' observed counts O_i and expected counts E_i from
    indirect standardisation (e.g. the ``observed`` and ``expected`` columns of
    ``indirect_table``), so the smoothed ratios are adjusted for age and sex exactly like O/E.
    ``group`` (optional, one label per area, e.g. the region) gives the groups within which the
    prior is estimated and toward whose mean the areas shrink; None: one group.

    For each group the gamma prior's mean mu and variance sigma2 are estimated by the method of
    moments (module docstring; ``eb_ratio_prior``). With a = mu^2 / sigma2 and b = mu / sigma2
    the posterior of area i's ratio is Gamma(a + O_i, rate b + E_i), and:

    * ``value`` = posterior mean (a + O_i) / (b + E_i) = mu + C_i (O_i/E_i - mu), with
      C_i = sigma2 / (sigma2 + mu / E_i);
    * ``lower``, ``upper`` = its (1 - conf)/2 and 1 - (1 - conf)/2 quantiles (equal-tailed
      credible interval).

    sigma2 is capped at mu^2 / a_min, a_min the shape at which a gamma's mean equals its
    1 - (1 - conf)/2 quantile (P(a, a) = 1 - (1 - conf)/2; about 0.005 at 95 %): with a prior of
    smaller shape an area without events would get a figure above its own upper limit. The cap
    only binds for a spread far beyond Poisson noise (a few areas with extreme ratios).

    The interval treats the estimated prior as known ("naive" empirical Bayes): it does not carry
    the uncertainty of mu and sigma2 and can be somewhat too narrow for groups of few areas
    (Carlin & Louis 2000, section 3.5). When the group's spread is no more than Poisson noise
    (sigma2_hat = 0) the prior is a point at mu: every area of the group gets mu, and as interval
    the exact (Garwood) interval of the group's ratio sum O / sum E, the uncertainty that remains.
    The same holds when the group has no events (mu = 0).

    Areas with E <= 0 or a missing count get NaN and do not enter their group's estimates. A group
    with a single area keeps that area's ratio (nothing to shrink toward), with the Garwood
    interval. Returns ``Estimate(value, lower, upper)`` of 1-D arrays, one entry per area.

    Example: two areas of one group, O = (2, 30), E = (5, 20): mu = 32/25 = 1.28,
    s2 = (5 (0.4 - 1.28)^2 + 20 (1.5 - 1.28)^2) / 25 = 0.1936, E_bar = 12.5,
    sigma2 = 0.1936 - 1.28/12.5 = 0.0912; the small area's ratio 0.40 becomes
    mu + 0.0912/(0.0912 + 1.28/5) (0.40 - 1.28) = 1.05.

    References: Clayton & Kaldor (1987), Biometrics 43:671-681; Marshall (1991), Appl Stat
    40:283-294.
    """
    alpha = _check_conf(conf)
    o, e, g, labels, valid = _ratio_inputs(observed, expected, group)
    mu, sigma2, k, o_g, e_g = _moments(o, e, valid, g, labels.size)
    m, s2 = mu[g], sigma2[g]
    # the prior's spread is capped so that its shape a = mu^2 / sigma2 is at least the smallest shape
    # whose mean lies inside its own equal-tailed interval: a gamma of smaller shape is so skewed
    # that an area without events would get a figure above its upper limit
    s2 = np.minimum(s2, m * m / _min_shape(alpha))
    smooth = valid & (s2 > 0) & (m > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(smooth, m * m / np.where(smooth, s2, 1.0), 1.0)
        b = np.where(smooth, m / np.where(smooth, s2, 1.0), 1.0)
        shape = a + np.where(valid, o, 0.0)
        rate = b + np.where(valid, e, 0.0)
        post_mean = shape / rate
        post_lo = gammaincinv(shape, alpha / 2.0) / rate
        post_hi = gammaincinv(shape, 1.0 - alpha / 2.0) / rate
    # no extra-Poisson spread (or no events): the group's ratio with its exact interval
    group_ci = poisson_ci(o_g, conf)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(e_g > 0, 1.0 / np.where(e_g > 0, e_g, 1.0), np.nan)
    g_lo, g_hi = (np.asarray(group_ci.lower) * inv)[g], (np.asarray(group_ci.upper) * inv)[g]
    value = np.where(smooth, post_mean, m)
    lower = np.where(smooth, post_lo, g_lo)
    upper = np.where(smooth, post_hi, g_hi)
    nan = np.full(o.shape, np.nan)
    return Estimate(_out(np.where(valid, value, nan)), _out(np.where(valid, lower, nan)),
                    _out(np.where(valid, upper, nan)))
