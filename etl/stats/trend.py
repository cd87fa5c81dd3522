"""Recent trends: is an area's rate rising or falling over its last complete years, and how many
areas would be flagged by chance.

Methods
-------
``recent_trend``
    Poisson log-linear regression of the yearly counts on the year with the log population as
    offset, log E[d_t] = log n_t + a + b t, fitted by maximum likelihood (iteratively reweighted
    least squares) over the last N complete years (5 by default, as Fingertips' recent-trend
    markers). The annual percentage change is APC = 100 (e^b - 1) with the Wald interval
    100 (e^(b -/+ z se) - 1); the direction is "rising" or "falling" when the Wald test of b = 0
    rejects at the chosen level (the interval excludes 0), else "no significant change".
    Optionally quasi-Poisson: standard errors scaled by the square root of the Pearson dispersion
    and Student t with N - 2 degrees of freedom (McCullagh P, Nelder JA (1989), Generalized Linear
    Models, 2nd ed., ch. 4.5), which keeps the nominal level when rates vary between years more
    than Poisson noise, at the cost of power. Breslow NE, Day NE (1987), Statistical Methods in
    Cancer Research Vol. II, IARC Sci Publ 82, ch. 4 (Poisson regression of rates); Kim HJ, Fay MP,
    Feuer EJ, Midthune DN (2000), Permutation tests for joinpoint regression with applications to
    cancer rates, Stat Med 19:335-351 (the APC of a log-linear model); Fingertips, Public health
    technical guidance: trend markers (the five most recent independent yearly values, no break
    in the series; Fingertips itself uses the chi-squared test for trend for proportions and a
    weighted regression on the values and their intervals for rates).
``value_trend``
    The same question for published values that have confidence intervals but no counts (the SII
    or RII of a series of years): inverse-variance weighted least squares of the values (or their
    logs) on the year, standard errors from the intervals, the slope's normal (chi-square, 1 df)
    test. Fingertips' trend markers use this form for indicators other than proportions.
``chance_flags``
    How many of K independent areas a test at level alpha flags when nothing changes: the
    expected number K alpha, the central interval of the Binomial(K, alpha) distribution, and the
    probability of at least one flag, 1 - (1 - alpha)^K.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy.stats import binom, norm
from scipy.stats import t as student_t

from ._common import Estimate, conf_fraction

__all__ = ["RecentTrend", "ChanceFlags", "ValueTrend", "recent_trend", "recent_trends_table", "value_trend",
           "value_trends_table", "chance_flags", "select_recent_years"]

RISING, FALLING, NO_CHANGE, NOT_TESTED = "rising", "falling", "no significant change", "not tested"


class RecentTrend(NamedTuple):
    """The recent trend of one area.

    ``apc``: annual percentage change (``Estimate`` with its interval); ``direction``: "rising",
    "falling", "no significant change" or "not tested"; ``p_value`` of no trend; ``years`` the
    years used (first, last); ``n_years``; ``slope`` and ``se`` of the log rate per year;
    ``dispersion`` (Pearson chi-square / (N - 2), reported always, used only when ``quasi``: a
    value well above 1 says the rate varies between years more than Poisson noise);
    ``method`` a label; ``reason`` why the trend is not tested (None otherwise).
    """

    apc: Estimate
    direction: str
    p_value: float
    years: tuple
    n_years: int
    slope: float
    se: float
    dispersion: float
    method: str
    reason: str | None


class ChanceFlags(NamedTuple):
    """Flags expected by chance alone among ``k`` areas tested at level ``alpha``."""

    k: int
    alpha: float
    expected: float
    lower: int
    upper: int
    p_any: float


def select_recent_years(years: Any, n_years: int = 5, incomplete: Any = (), breaks: Any = ()) -> tuple[np.ndarray, str | None]:
    """The last ``n_years`` complete years of a series, or the reason there are none.

    ``years``: the years of the series (any order, no duplicates); ``incomplete``: years not to be
    used (an extract that ends mid-year, a look-back or follow-up window that is not complete);
    ``breaks``: first years of a register break (e.g. 2019, LPR2 -> LPR3). The window is the last
    ``n_years`` complete years; it must be consecutive (no gap, no incomplete year inside) and may
    not cross a break (a break year may be its first year). Returns (boolean mask over ``years``,
    None) or (all-False mask, reason).
    """
    y = np.asarray(years).astype(int).ravel()
    if len(np.unique(y)) != y.size:
        raise ValueError("years must not repeat")
    n_years = int(n_years)
    if n_years < 3:
        raise ValueError("a trend needs at least 3 years")
    bad = set(int(v) for v in np.asarray(incomplete).ravel())
    complete = sorted(v for v in y if v not in bad)
    none = np.zeros(y.size, bool)
    if len(complete) < n_years:
        return none, f"fewer than {n_years} complete years"
    window = complete[-n_years:]
    if window[-1] - window[0] != n_years - 1:
        return none, f"the last {n_years} complete years are not consecutive ({window[0]}-{window[-1]})"
    crossing = [b for b in np.asarray(breaks).astype(int).ravel() if window[0] < b <= window[-1]]
    if crossing:
        return none, f"a register break in {crossing[0]} lies inside {window[0]}-{window[-1]}"
    return np.isin(y, window), None


def _poisson_fit(t: np.ndarray, d: np.ndarray, n: np.ndarray, max_iter: int = 50) -> tuple[float, float, float] | None:
    """ML fit of log E[d] = log n + a + b t by Newton-Raphson (IRLS); t centred. Returns (a, b, se of b)
    or None when no finite maximum exists (all counts zero, or only at one end of the years)."""
    if d.sum() <= 0:
        return None
    a, b = np.log(d.sum() / n.sum()), 0.0
    X = np.column_stack([np.ones_like(t), t])
    for _ in range(max_iter):
        mu = n * np.exp(a + b * t)
        info = X.T @ (X * mu[:, None])
        step = np.linalg.solve(info, X.T @ (d - mu))
        a, b = a + step[0], b + step[1]
        if abs(b) > 20:                                   # diverging: the maximum is at infinity
            return None
        if np.max(np.abs(step)) < 1e-10:
            break
    else:
        return None
    mu = n * np.exp(a + b * t)
    cov = np.linalg.inv(X.T @ (X * mu[:, None]))
    return float(a), float(b), float(np.sqrt(cov[1, 1]))


def recent_trend(years: Any, counts: Any, population: Any, *, n_years: int = 5, incomplete: Any = (),
                 breaks: Any = (), conf: float = 0.95, quasi: bool = False) -> RecentTrend:
    """Recent trend of one area's rate: annual percentage change with interval and a direction.

    ``years``, ``counts`` (events per year) and ``population`` (person-years at risk per year, or
    the expected count for an age-standardised comparison: the model is the same) are aligned 1-d
    sequences. The last ``n_years`` complete years are used (``select_recent_years``: not an
    ``incomplete`` year, no gap, no register ``break`` inside); otherwise the trend is "not
    tested" with the reason.

    Model (Poisson log-linear regression with offset, fitted by maximum likelihood)::

        log E[d_t] = log n_t + a + b (t - mean t)

        APC = 100 (exp(b) - 1)             interval 100 (exp(b -/+ q se(b)) - 1)

    with se(b) from the inverse Fisher information and q the normal quantile of ``conf``. The
    direction is "rising" when the whole interval lies above 0, "falling" when it lies below,
    otherwise "no significant change" (equivalently the two-sided Wald test of b = 0 at level
    1 - conf). With ``quasi=True`` the variance is scaled by the Pearson dispersion
    phi = sum (d - mu)^2 / mu / (N - 2) and q is Student's t with N - 2 degrees of freedom.

    Which to use: the plain Poisson test (the default, as Fingertips' markers) has the nominal
    false-alarm rate only when the yearly counts vary by Poisson noise alone. Where an area's rate
    also moves from year to year for other reasons (practice, capacity), it flags too many large
    areas: in simulations of 5 years with a constant underlying rate and year-to-year noise of sd
    3 % (log scale), 18 % of areas of 20,000 adults and 55 % of areas of 200,000 were flagged at
    95 %; the quasi-Poisson test flagged 4.6-6.3 % at every size and noise level tried (0-10 %),
    but finds a real trend less often (a 4 % yearly rise in an area of 20,000 adults: 80 % against
    99.5 %). Check the dispersion of the areas before choosing (tests/test_trend.py).

    Not tested (direction "not tested", NaN estimates): too few complete years, a break inside the
    window, a missing count or population in it, or no finite estimate (no events at all, or events
    only in the first or last year: the slope is infinite).

    Reference: Breslow NE, Day NE (1987). Statistical Methods in Cancer Research, Vol. II, IARC
    Sci Publ 82, chapter 4; Kim HJ et al. (2000), Stat Med 19:335-351 (annual percentage change);
    Fingertips public health technical guidance, "Trend markers" (recent trend over the five most
    recent points).
    """
    conf = conf_fraction(conf)
    y = np.asarray(years).astype(int).ravel()
    d_all = np.asarray(counts, dtype=float).ravel()
    n_all = np.asarray(population, dtype=float).ravel()
    if not (y.size == d_all.size == n_all.size):
        raise ValueError("years, counts and population must have the same length")
    mask, reason = select_recent_years(y, n_years, incomplete, breaks)
    label = (f"Poisson log-linear regression over the last {int(n_years)} complete years, "
             f"{'quasi-Poisson ' if quasi else ''}{conf * 100:g} % interval")

    def not_tested(why: str, window=()) -> RecentTrend:
        nan = float("nan")
        return RecentTrend(Estimate(nan, nan, nan), NOT_TESTED, nan, tuple(window), int(n_years), nan, nan, nan,
                           label, why)

    if reason is not None:
        return not_tested(reason)
    t, d, n = y[mask].astype(float), d_all[mask], n_all[mask]
    order = np.argsort(t)
    t, d, n = t[order], d[order], n[order]
    window = (int(t[0]), int(t[-1]))
    if not (np.all(np.isfinite(d)) and np.all(np.isfinite(n))):
        return not_tested("a count or population is missing in the window", window)
    if np.any(d < 0) or np.any(n <= 0):
        raise ValueError("counts must be non-negative and populations positive")
    fit = _poisson_fit(t - t.mean(), d, n)
    if fit is None:
        return not_tested("no finite trend (no events, or events only at one end of the years)", window)
    a, b, se = fit
    mu = n * np.exp(a + b * (t - t.mean()))
    df = t.size - 2
    dispersion = float(np.sum((d - mu) ** 2 / mu) / df)
    alpha = 1.0 - conf
    if quasi:
        se = se * np.sqrt(dispersion)
        q = float(student_t.ppf(1.0 - alpha / 2.0, df))
        p = float(2.0 * student_t.sf(abs(b) / se, df)) if se > 0 else float("nan")
    else:
        q = float(norm.ppf(1.0 - alpha / 2.0))
        p = float(2.0 * norm.sf(abs(b) / se)) if se > 0 else float("nan")
    lo, hi = b - q * se, b + q * se
    apc = Estimate(100.0 * np.expm1(b), 100.0 * np.expm1(lo), 100.0 * np.expm1(hi))
    direction = RISING if lo > 0 else FALLING if hi < 0 else NO_CHANGE
    return RecentTrend(Estimate(*(float(v) for v in apc)), direction, p, window, int(t.size), b, float(se),
                       dispersion, label, None)


def chance_flags(k: int, alpha: float = 0.05, conf: float = 0.95) -> ChanceFlags:
    """How many of ``k`` areas a test at level ``alpha`` flags by chance alone when nothing changes.

    Expected number k alpha; the central ``conf`` interval of the Binomial(k, alpha) distribution
    (its alpha'/2 and 1 - alpha'/2 quantiles, alpha' = 1 - conf); the probability that at least
    one area is flagged, 1 - (1 - alpha)^k. For two-sided trend markers (rising or falling) at 95 %
    alpha is 0.05; for one direction only (e.g. "rising") it is 0.025; for a combined filter such
    as "higher and rising" it is the product of the two levels where the two tests are independent
    (e.g. 0.001 x 0.025 for above the 99.8 % funnel limit and rising at 95 %). Areas are taken as
    independent; flags of neighbouring areas that share a common cause are not.
    For 98 municipalities at alpha 0.05: 4.9 expected, 1 to 9 in 95 % of cases, and at least one
    in 99.3 %.
    """
    k = int(k)
    if k < 0:
        raise ValueError("k must be a non-negative number of areas")
    if not 0.0 < alpha < 1.0:
        raise ValueError("alpha must lie strictly between 0 and 1")
    conf = conf_fraction(conf)
    tail = (1.0 - conf) / 2.0
    return ChanceFlags(k, float(alpha), k * float(alpha), int(binom.ppf(tail, k, alpha)),
                       int(binom.ppf(1.0 - tail, k, alpha)), float(1.0 - (1.0 - alpha) ** k))


def recent_trends_table(frame: Any, by: Any, year: str, count: str, population: str, **kwargs: Any):
    """``recent_trend`` for every combination of the ``by`` columns (e.g. area, measure) of a long
    table with one row per year. Other keyword arguments go to ``recent_trend`` (n_years,
    incomplete, breaks, conf, quasi).

    Returns one row per combination: the ``by`` columns, ``first_year``, ``last_year``, ``apc``,
    ``apc_lower``, ``apc_upper``, ``direction``, ``p_value``, ``reason`` and ``method``. The input
    is not changed.
    """
    import pandas as pd

    from ._common import _as_list

    by = _as_list(by)
    rows = []
    groups = frame.groupby(by, sort=True, dropna=False) if by else [((), frame)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        r = recent_trend(g[year].to_numpy(), g[count].to_numpy(float), g[population].to_numpy(float), **kwargs)
        first, last = (r.years + (None, None))[:2] if r.years else (None, None)
        rows.append({**dict(zip(by, key)), "first_year": first, "last_year": last, "apc": r.apc.value,
                     "apc_lower": r.apc.lower, "apc_upper": r.apc.upper, "direction": r.direction,
                     "p_value": r.p_value, "reason": r.reason, "method": r.method})
    return pd.DataFrame(rows)


class ValueTrend(NamedTuple):
    """Trend of published values with intervals (e.g. an SII or RII over the years).

    ``change``: the change per year (``Estimate``; in the value's units, or in per cent a year when
    ``log``); ``direction``, ``p_value``, ``years``, ``n_years``, ``slope``, ``se``, ``method`` and
    ``reason`` as in ``RecentTrend``.
    """

    change: Estimate
    direction: str
    p_value: float
    years: tuple
    n_years: int
    slope: float
    se: float
    method: str
    reason: str | None


def value_trend(years: Any, value: Any, lower: Any, upper: Any, *, log: bool = False, n_years: int = 5,
                incomplete: Any = (), breaks: Any = (), conf: float = 0.95, input_conf: float = 0.95) -> ValueTrend:
    """Recent trend of values that come with confidence intervals but no counts (an SII, an RII,
    a standardised ratio), by inverse-variance weighted least squares over the last ``n_years``
    complete years.

    Each value's standard error is (upper - lower) / (2 z) at ``input_conf`` (on the log scale
    when ``log``, for ratios such as the RII, whose intervals are near symmetric there). With
    weights w_t = 1 / se_t^2 and the weighted mean year t_w::

        b = sum w_t (t - t_w) y_t / sum w_t (t - t_w)^2        Var(b) = 1 / sum w_t (t - t_w)^2

    and the test statistic b^2 / Var(b) is compared with chi-square on 1 degree of freedom (the
    two-sided normal test of b = 0). The change per year is b (or 100 (e^b - 1) % when ``log``)
    with the interval b -/+ q sqrt(Var(b)); "rising", "falling" or "no significant change" as in
    ``recent_trend``. The values' standard errors are taken as known (no residual scale), so extra
    year-to-year variation beyond them also counts as trend: a marker, not a full analysis.
    This is the form of Fingertips' recent-trend test for indicators other than proportions (a
    weighted regression on the values and their confidence intervals over the most recent five
    points; Fingertips public health technical guidance, "Trend markers"); see also Altman DG,
    Bland JM (2003), BMJ 326:219 (standard errors from confidence intervals).
    """
    conf = conf_fraction(conf)
    input_conf = conf_fraction(input_conf)
    y_years = np.asarray(years).astype(int).ravel()
    v = np.asarray(value, dtype=float).ravel()
    lo = np.asarray(lower, dtype=float).ravel()
    hi = np.asarray(upper, dtype=float).ravel()
    if not (y_years.size == v.size == lo.size == hi.size):
        raise ValueError("years, value, lower and upper must have the same length")
    label = (f"inverse-variance weighted regression over the last {int(n_years)} complete years"
             f"{' (log scale)' if log else ''}, {conf * 100:g} % interval")
    mask, reason = select_recent_years(y_years, n_years, incomplete, breaks)
    nan = float("nan")

    def not_tested(why: str, window=()) -> ValueTrend:
        return ValueTrend(Estimate(nan, nan, nan), NOT_TESTED, nan, tuple(window), int(n_years), nan, nan, label, why)

    if reason is not None:
        return not_tested(reason)
    order = np.argsort(y_years[mask])
    t, yv, l, u = (a[mask][order] for a in (y_years.astype(float), v, lo, hi))
    window = (int(t[0]), int(t[-1]))
    if not (np.all(np.isfinite(yv)) and np.all(np.isfinite(l)) and np.all(np.isfinite(u))):
        return not_tested("a value or its interval is missing in the window", window)
    if log:
        if np.any(yv <= 0) or np.any(l <= 0):
            return not_tested("values and limits must be positive on the log scale", window)
        yv, l, u = np.log(yv), np.log(l), np.log(u)
    z_in = float(norm.ppf(1.0 - (1.0 - input_conf) / 2.0))
    se_t = (u - l) / (2.0 * z_in)
    if np.any(se_t <= 0):
        return not_tested("an interval of zero width gives no standard error", window)
    w = 1.0 / se_t ** 2
    tw = np.sum(w * t) / np.sum(w)
    sxx = np.sum(w * (t - tw) ** 2)
    b = float(np.sum(w * (t - tw) * yv) / sxx)
    se = float(np.sqrt(1.0 / sxx))
    q = float(norm.ppf(1.0 - (1.0 - conf) / 2.0))
    p = float(2.0 * norm.sf(abs(b) / se))
    lo_b, hi_b = b - q * se, b + q * se
    f = (lambda x: 100.0 * np.expm1(x)) if log else (lambda x: x)
    direction = RISING if lo_b > 0 else FALLING if hi_b < 0 else NO_CHANGE
    return ValueTrend(Estimate(float(f(b)), float(f(lo_b)), float(f(hi_b))), direction, p, window, int(t.size),
                      b, se, label, None)


def value_trends_table(frame: Any, by: Any, year: str, value: str, lower: str, upper: str, **kwargs: Any):
    """``value_trend`` for every combination of the ``by`` columns (e.g. area, measure, dimension)
    of a long table with one row per year, such as the output of ``sii_table`` by year (value
    ``rii``, limits ``rii_lower`` and ``rii_upper``, with ``log=True``). Other keyword arguments go
    to ``value_trend``. Returns one row per combination: the ``by`` columns, ``first_year``,
    ``last_year``, ``change``, ``change_lower``, ``change_upper``, ``direction``, ``p_value``,
    ``reason`` and ``method``. The input is not changed.
    """
    import pandas as pd

    from ._common import _as_list

    by = _as_list(by)
    rows = []
    groups = frame.groupby(by, sort=True, dropna=False) if by else [((), frame)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        r = value_trend(g[year].to_numpy(), g[value].to_numpy(float), g[lower].to_numpy(float),
                        g[upper].to_numpy(float), **kwargs)
        first, last = (r.years + (None, None))[:2] if r.years else (None, None)
        rows.append({**dict(zip(by, key)), "first_year": first, "last_year": last, "change": r.change.value,
                     "change_lower": r.change.lower, "change_upper": r.change.upper, "direction": r.direction,
                     "p_value": r.p_value, "reason": r.reason, "method": r.method})
    return pd.DataFrame(rows)
