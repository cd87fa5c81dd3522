"""Social gradients: the slope and relative index of inequality (SII, RII) across ordered groups.

Methods
-------
``relative_rank``
    Each group's relative rank: the midpoint of its share of the population in the cumulative
    distribution of the groups ordered from the least to the most advantaged,
    x_i = sum_{j<i} a_j + a_i / 2 with a_i = n_i / sum n.
``sii``
    The regression-based SII of Low & Low (2004) as Public Health England computes it
    (PHEindicatormethods ``phe_sii``; Fingertips): the group values y_i are regressed on x_i by
    least squares weighted by the population shares a_i (the sqrt(a) transformation of the
    regression, y sqrt(a) = b0 sqrt(a) + b1 x sqrt(a)); SII = b1, the fitted difference between
    the most advantaged end (x = 1) and the least advantaged end (x = 0); RII = (b0 + b1) / b0,
    their ratio. Optionally the regression is fitted to log rates or logit proportions and
    transformed back (PHE's ``transform``). Confidence limits by Monte Carlo simulation: each
    group's value is drawn from a normal distribution with its standard error (derived from its
    95 % limits on the log scale for rates and the logit scale for proportions), the regression is
    refitted per draw, and the limits are order statistics of the simulated SIIs and RIIs.
    Low A, Low A (2004), Measuring the gap: quantifying and comparing local health inequalities,
    J Public Health 26:388-395; Office for Health Improvement and Disparities, PHEindicatormethods
    (R package, ``phe_sii``, version 2.x) and Fingertips technical guidance on the slope index of
    inequality; Mackenbach JP, Kunst AE (1997), Measuring the magnitude of socio-economic
    inequalities in health, Soc Sci Med 44:757-771.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy.stats import norm

from ._common import Estimate, conf_fraction

__all__ = ["Inequality", "relative_rank", "sii", "sii_from_counts", "sii_table"]

VALUE_TYPES = ("rate", "proportion", "other")
DEFAULT_SEED = 2004   # Low & Low's year: any fixed seed makes the intervals reproducible


class Inequality(NamedTuple):
    """The SII and RII of one set of ordered groups, with Monte Carlo confidence limits.

    ``sii`` and ``rii`` are ``Estimate`` (value, lower, upper); ``intercept`` is the fitted value
    at the least advantaged end (x = 0, in the units of the input times |multiplier|); ``rank``
    the relative ranks x_i of the groups in input order; ``conf``, ``repetitions``, ``seed`` and
    ``method`` (a label naming what was done, for the page and the CSV) describe the computation.
    """

    sii: Estimate
    rii: Estimate
    intercept: float
    rank: np.ndarray
    conf: float
    repetitions: int
    seed: int | None
    method: str


def relative_rank(population: Any) -> np.ndarray:
    """Relative rank of each group: the midpoint of its range in the cumulative population share.

    ``population`` lists the groups' populations ordered from the least to the most advantaged.
    x_i = (n_1 + ... + n_{i-1}) / N + n_i / (2 N). For example populations 12, 10, 78 give
    0.06, 0.17, 0.61. Every population must be positive.
    """
    n = np.asarray(population, dtype=float).ravel()
    if n.size == 0 or not np.all(np.isfinite(n)) or np.any(n <= 0):
        raise ValueError("every group needs a positive, finite population")
    a = n / n.sum()
    return np.cumsum(a) - a / 2.0


def _link(kind: str):
    if kind == "rate":
        return np.log, np.exp
    if kind == "proportion":
        return (lambda p: np.log(p / (1.0 - p))), (lambda z: 1.0 / (1.0 + np.exp(-z)))
    return (lambda v: v), (lambda v: v)


def _order_stat_positions(repetitions: int, conf: float) -> tuple[int, int]:
    """0-based positions of the lower and upper limits among the sorted simulated values: the
    round(R alpha/2)-th and round(R (1 - alpha/2))-th smallest (as ``phe_sii``)."""
    upper_q = conf + (1.0 - conf) / 2.0
    lo = max(int(round(repetitions * (1.0 - upper_q))), 1)
    hi = min(int(round(repetitions * upper_q)), repetitions)
    return lo - 1, hi - 1


def sii(value: Any, population: Any, *, lower: Any = None, upper: Any = None, se: Any = None,
        kind: str = "rate", transform: bool = False, multiplier: float = 1.0, conf: float = 0.95,
        input_conf: float = 0.95, repetitions: int = 100_000, seed: int | None = DEFAULT_SEED) -> Inequality:
    """Slope and relative index of inequality of ordered groups, with Monte Carlo intervals.

    Inputs, one entry per group, ordered from the least advantaged (basic education, lowest
    income quintile) to the most advantaged:

    - ``value``: the groups' indicator values (rates, e.g. age-standardised per 1,000; proportions
      as fractions; or any other value with a symmetric interval, ``kind="other"``);
    - ``population``: the groups' populations (weights and relative ranks);
    - either ``lower`` and ``upper`` (the value's limits at ``input_conf``, 95 % by default) or
      ``se``, its standard error (on the log scale for rates, the logit scale for proportions, the
      value's own scale otherwise).

    Method (Low & Low 2004; PHEindicatormethods ``phe_sii``). With a_i = n_i / N and the relative
    ranks x_i (``relative_rank``), fit y_i = b0 + b1 x_i by least squares weighted by a_i. Then::

        SII = multiplier * b1             (fitted value at x = 1 minus that at x = 0)
        RII = (b0 + b1) / b0              (their ratio; 1 / RII when multiplier < 0)

    so with groups ordered from least to most advantaged, a value that falls with advantage gives
    SII < 0 and RII < 1. With ``transform=True`` (rates and proportions only; PHE's recommended
    option, which makes the relation more nearly linear) y_i is log(rate) or logit(proportion),
    and the results are transformed back: SII = g^-1(b0 + b1) - g^-1(b0), RII = g^-1(b0 + b1) /
    g^-1(b0) (for rates RII = exp(b1)).

    Standard errors: se_i = (g(upper_i) - g(lower_i)) / (2 z), z the normal quantile of
    ``input_conf``, g = log for rates, logit for proportions, the identity otherwise.

    Confidence limits (``conf``, 95 % by default): ``repetitions`` draws g(y_i) + se_i * Z_i with
    independent standard normal Z_i from numpy's PCG64 generator seeded by ``seed`` (the same
    inputs and seed give the same limits; ``seed=None`` draws fresh entropy); each draw is
    refitted (back-transformed first unless ``transform``), and the limits are the
    round(R alpha/2)-th and round(R (1 - alpha/2))-th smallest simulated SIIs and RIIs. With
    ``transform=True`` the simulated limits of b1 are placed symmetrically about the fitted
    transformed value at x = 1/2 and transformed back, as ``phe_sii`` does. The Monte Carlo error
    of a 95 % limit with 100,000 draws is about 0.2 % of the interval's width.

    At least 3 groups are needed (``phe_sii`` asks for 5 to 100 quantiles; Danish education has 4
    levels, so 3 or more are accepted here: with few groups the line rests on few points, and the
    page should say so). Rates must be positive and proportions strictly between 0 and 1 where
    transformed. Missing values are refused: the SII of an incomplete set of groups is undefined.

    References: Low A, Low A (2004). Measuring the gap: quantifying and comparing local health
    inequalities. J Public Health 26:388-395. PHEindicatormethods ``phe_sii`` (Office for Health
    Improvement and Disparities / UKHSA), its test data (tests/testthat/testdata_SII.xlsx) being the
    worked examples of tests/test_inequality.py.
    """
    if kind not in VALUE_TYPES:
        raise ValueError(f"kind must be one of {VALUE_TYPES}, got {kind!r}")
    if transform and kind == "other":
        raise ValueError("transform=True needs kind='rate' or 'proportion'")
    conf = conf_fraction(conf)
    input_conf = conf_fraction(input_conf)
    repetitions = int(repetitions)
    if repetitions < 1000:
        raise ValueError("repetitions must be at least 1,000 (100,000 by default)")
    if not np.isfinite(multiplier) or multiplier == 0:
        raise ValueError("multiplier must be a non-zero number")
    y = np.asarray(value, dtype=float).ravel()
    n = np.asarray(population, dtype=float).ravel()
    k = y.size
    if n.size != k:
        raise ValueError(f"value has {k} groups but population has {n.size}")
    if k < 3:
        raise ValueError(f"the SII needs at least 3 ordered groups, got {k}")
    if not np.all(np.isfinite(y)):
        raise ValueError("every group needs a value (the SII of incomplete groups is undefined)")
    x = relative_rank(n)
    a = n / n.sum()
    g, ginv = _link(kind)
    if kind == "rate" and np.any(y <= 0):
        raise ValueError("rates must be positive (a zero rate has no log-scale standard error)")
    if kind == "proportion" and np.any((y <= 0) | (y >= 1)):
        raise ValueError("proportions must lie strictly between 0 and 1")
    if se is not None:
        s = np.asarray(se, dtype=float).ravel()
        if s.size != k:
            raise ValueError(f"se has {s.size} entries for {k} groups")
    else:
        if lower is None or upper is None:
            raise ValueError("give lower and upper limits, or se")
        lo = np.asarray(lower, dtype=float).ravel()
        hi = np.asarray(upper, dtype=float).ravel()
        if lo.size != k or hi.size != k:
            raise ValueError("lower and upper must have one entry per group")
        with np.errstate(divide="ignore", invalid="ignore"):
            s = (g(hi) - g(lo)) / (2.0 * norm.ppf(1.0 - (1.0 - input_conf) / 2.0))
    if not np.all(np.isfinite(s)) or np.any(s < 0):
        raise ValueError("every group needs a finite, non-negative standard error (check its limits)")

    # Weighted least squares by the normal equations of the sqrt(a)-transformed regression.
    X = np.column_stack([np.sqrt(a), x * np.sqrt(a)])
    H = np.linalg.solve(X.T @ X, X.T)                       # (2, k): coefficients = H @ (y sqrt(a))
    yt = g(y)                                               # simulated on this scale
    rng = np.random.default_rng(seed)
    draws = yt[:, None] + s[:, None] * rng.standard_normal((k, repetitions))
    i_lo, i_hi = _order_stat_positions(repetitions, conf)

    if not transform:
        b0, b1 = H @ (y * np.sqrt(a))
        sim = H @ (ginv(draws) * np.sqrt(a)[:, None])
        sii_sim = np.sort(sim[1] * multiplier)
        rii_sim = (sim[0] + sim[1]) / sim[0]
        if multiplier < 0:
            rii_sim = 1.0 / rii_sim
        rii_sim = np.sort(rii_sim)
        rii_value = (b0 + b1) / b0
        sii_est = Estimate(float(multiplier * b1), float(sii_sim[i_lo]), float(sii_sim[i_hi]))
        rii_est = Estimate(float(1.0 / rii_value if multiplier < 0 else rii_value),
                           float(rii_sim[i_lo]), float(rii_sim[i_hi]))
        intercept = float(b0 * abs(multiplier))
    else:
        c0, c1 = H @ (yt * np.sqrt(a))
        slope_sim = np.sort((H @ (draws * np.sqrt(a)[:, None]))[1])
        mid = c0 + c1 / 2.0

        def back(slope):
            top, bottom = ginv(mid + slope / 2.0), ginv(mid - slope / 2.0)
            return (top - bottom) * multiplier, top / bottom

        s_val, r_val = (ginv(c0 + c1) - ginv(c0)) * multiplier, ginv(c0 + c1) / ginv(c0)
        s_lo, r_lo = back(slope_sim[i_lo])
        s_hi, r_hi = back(slope_sim[i_hi])
        if multiplier < 0:
            s_lo, s_hi = s_hi, s_lo
            r_val, r_lo, r_hi = 1.0 / r_val, 1.0 / r_hi, 1.0 / r_lo
        sii_est = Estimate(float(s_val), float(s_lo), float(s_hi))
        rii_est = Estimate(float(r_val), float(r_lo), float(r_hi))
        intercept = float(ginv(c0) * abs(multiplier))
    scale = {"rate": "log", "proportion": "logit"}.get(kind, "")
    method = ("slope index of inequality, weighted regression on relative rank (Low & Low 2004, "
              f"PHE method){', fitted on the ' + scale + ' scale' if transform else ''}; "
              f"{conf * 100:g} % Monte Carlo interval, {repetitions:,} draws")
    return Inequality(sii_est, rii_est, intercept, x, conf, repetitions, seed, method)


def sii_from_counts(events: Any, population: Any, *, per: float = 1000.0, transform: bool = True,
                    **kwargs: Any) -> Inequality:
    """SII and RII of crude rates of ordered groups from their counts and populations.

    The groups' rates are events / population * ``per`` with exact (Garwood) 95 % limits
    (``rates.crude_rate``), passed to ``sii`` as ``kind="rate"`` (log-scale standard errors).
    Groups with no events have no log-scale standard error and are refused. ``transform`` defaults
    to True (the fit on log rates recommended by PHE for rates); other keyword arguments go to
    ``sii``. For age-standardised rates pass the rates and their limits to ``sii`` directly.
    """
    from .rates import crude_rate

    e = np.asarray(events, dtype=float).ravel()
    if np.any(e <= 0):
        raise ValueError("every group needs at least one event for a log-scale interval")
    r = crude_rate(e, population, per=per, conf=0.95)
    return sii(r.value, population, lower=r.lower, upper=r.upper, kind="rate", transform=transform,
               input_conf=0.95, **kwargs)


def sii_table(frame: Any, by: Any, group: str, value: str, population: str, *, lower: str | None = None,
              upper: str | None = None, se: str | None = None, **kwargs: Any):
    """``sii`` for every combination of the ``by`` columns of a long table (one row per group).

    ``frame``: a pandas DataFrame with the ``by`` columns (e.g. area, period, measure), ``group``
    (the ordered group code: rows are sorted by it, so its codes must run from the least to the
    most advantaged, e.g. education 1-4), ``value``, ``population`` and either ``lower`` and
    ``upper`` or ``se``. Other keyword arguments go to ``sii`` (kind, transform, conf, repetitions,
    seed: the same seed for every row, so each result is reproducible on its own).

    Returns one row per combination: the ``by`` columns, ``groups`` (number of groups), ``sii``,
    ``sii_lower``, ``sii_upper``, ``rii``, ``rii_lower``, ``rii_upper``, ``intercept``, ``method``
    and ``note`` (None, or why the SII was not computed there, e.g. a hidden group value or too
    few groups; then the figures are NaN). The input is not changed.
    """
    import pandas as pd

    from ._common import _as_list

    by = _as_list(by)
    rows = []
    groups = frame.sort_values(group).groupby(by, sort=True, dropna=False) if by else [((), frame.sort_values(group))]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by, key))
        row["groups"] = len(g)
        try:
            res = sii(g[value].to_numpy(float), g[population].to_numpy(float),
                      lower=None if lower is None else g[lower].to_numpy(float),
                      upper=None if upper is None else g[upper].to_numpy(float),
                      se=None if se is None else g[se].to_numpy(float), **kwargs)
        except ValueError as exc:
            nan = float("nan")
            row.update(sii=nan, sii_lower=nan, sii_upper=nan, rii=nan, rii_lower=nan, rii_upper=nan,
                       intercept=nan, method=None, note=str(exc))
        else:
            row.update(sii=res.sii.value, sii_lower=res.sii.lower, sii_upper=res.sii.upper, rii=res.rii.value,
                       rii_lower=res.rii.lower, rii_upper=res.rii.upper, intercept=res.intercept,
                       method=res.method, note=None)
        rows.append(row)
    return pd.DataFrame(rows)
