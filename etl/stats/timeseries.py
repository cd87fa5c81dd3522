"""Interrupted time series: segmented regression with OLS or Newey-West (HAC) errors.

Methods
-------
``segmented_regression``
    y_t = b0 + b1 t + b2 D_t + b3 (t - t0) D_t + e_t by (weighted) least squares; classical or
    Newey-West standard errors (Bartlett kernel, small-sample factor n / (n - 4)); Student t
    intervals and p-values with n - 4 degrees of freedom. Wagner AK, Soumerai SB, Zhang F,
    Ross-Degnan D (2002), J Clin Pharm Ther 27:299-309; Bernal JL, Cummins S, Gasparrini A
    (2017), Int J Epidemiol 46:348-355; Newey WK, West KD (1987), Econometrica 55:703-708.
``newey_west_lags``
    Rule-of-thumb truncation lag floor(4 (n/100)^(2/9)). Newey WK, West KD (1994), Rev Econ
    Stud 61:631-653.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import t as student_t

from ._common import _check_conf, conf_fraction

__all__ = ["ITS_TERMS", "newey_west_lags", "segmented_regression"]


ITS_TERMS = ("intercept", "pre_slope", "level_change", "slope_change")
PERFECT_FIT_TOL = 1e-9  # residual norm / outcome norm at or below which the fit is taken as exact


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
    ``durbin_watson``, ``r_squared`` and ``note`` (None, or the reason some values are NaN).

    Perfect fit: when the residuals are zero up to rounding (their norm at most 1e-9 times that of
    the (weighted) outcome, e.g. a noise-free series), the coefficients are exact, standard errors
    and interval widths are 0, and the p-values are NaN (a t statistic of rounding error over
    rounding error means nothing; such fits used to give p-values like 1e-121); ``note`` says so.
    The Durbin-Watson statistic is NaN then too.

    Reference: Wagner AK, Soumerai SB, Zhang F, Ross-Degnan D (2002). Segmented regression
    analysis of interrupted time series studies in medication use research. J Clin Pharm Ther
    27:299-309. See also Bernal JL, Cummins S, Gasparrini A (2017). Interrupted time series
    regression for the evaluation of public health interventions: a tutorial. Int J Epidemiol
    46:348-355.
    """
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
    # A perfect fit (residuals zero up to rounding, |u| <= 1e-9 |y|): the standard errors are 0 and
    # a t statistic is rounding error divided by rounding error, so no p-value is given.
    perfect = bool(np.sqrt(u @ u) <= PERFECT_FIT_TOL * np.sqrt(yw @ yw))
    if perfect:
        cov = np.zeros_like(cov)
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    q = student_t.ppf(1.0 - alpha / 2.0, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        tstat = np.where(se > 0, beta / np.where(se > 0, se, 1.0), np.nan)
    pval = 2.0 * student_t.sf(np.abs(tstat), df)
    note = ("the residuals are zero (a perfect fit): standard errors are 0 and p-values are undefined (NaN)"
            if perfect else None)
    c = np.array([0.0, 1.0, 0.0, 1.0])
    post_slope = float(c @ beta)
    post_se = float(np.sqrt(max(c @ cov @ c, 0.0)))
    resid_all = np.full(n_all, np.nan)
    resid_all[ok] = y_all[ok] - X_all[ok] @ beta
    dw = float(np.sum(np.diff(u) ** 2) / np.sum(u ** 2)) if not perfect else float("nan")
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
        "conf": conf_fraction(conf),
        "se_type": se_type,
        "lags": int(lags),
        "durbin_watson": dw,
        "r_squared": r2,
        "note": note,
    }
