"""Counts, crude rates and proportions with exact or score intervals.

Methods
-------
``poisson_ci``
    Exact (Garwood) interval of a Poisson count, from chi-square quantiles; inverts two
    one-sided exact Poisson tests, so coverage is at least the nominal level.
    Garwood F (1936), Biometrika 28:437-442; Ulm K (1990), Am J Epidemiol 131:373-375.
``crude_rate``
    events / population x per with the Garwood limits of the events (population fixed).
    Breslow NE, Day NE (1987), Statistical Methods in Cancer Research Vol. II, IARC 82, ch. 2.
``proportion_ci``
    Wilson score interval of a proportion. Wilson EB (1927), JASA 22:209-212; Newcombe RG
    (1998), Stat Med 17:857-872.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import chi2

from ._common import Estimate, _as_float, _check_conf, _out

__all__ = ["poisson_ci", "crude_rate", "proportion_ci"]


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
