"""The interrupted time series of the returns page: the segmented regression of the monthly rate, why
there is none, and its estimates as a table."""
from __future__ import annotations

import numpy as np
import pandas as pd

from atlas import data
from atlas.i18n import t
from atlas.returns.queries import rate_of, series
from atlas.returns.state import ReturnsView, intervention_index
from etl import stats


def its(view: ReturnsView, hac_lags="auto") -> tuple[pd.DataFrame, dict | None]:
    """Monthly rate per 1,000 referrals with the segmented regression's fitted lines.

    Returns the series (with ``fitted``, ``counterfactual`` and ``period``) and the regression's
    result, or None when a fit would be meaningless; then ``s.attrs["no_fit"]`` names the reason (an
    i18n key): too few months with shown referrals before or after ("ret_reason_few"), more than half
    the months hidden ("ret_reason_hidden"), or a segment whose rates are all the same, as letters
    before the campaign that introduced them ("ret_reason_flat": an exact fit, intervals of width 0).
    The fitted and counterfactual lines are clamped at 0 (a rate cannot be negative);
    ``s.attrs["clamped"]`` says whether that changed anything.
    """
    s = series(view)
    ms = list(s["month"])
    k = intervention_index(ms, view.date)
    s["period"] = np.where(s["month"] >= pd.Timestamp(view.date), "after", "before")
    count = s["count"].to_numpy(dtype=float)
    hidden_count = s["referrals"].notna() & s["count"].isna()
    y = rate_of(count, s["referrals"])          # a hidden month has no rate: it is left out of the fit
    s["rate_in_fit"] = y
    s["fill"] = hidden_count.to_numpy()         # the months left out because their count is hidden
    s["fitted"], s["counterfactual"] = np.nan, np.nan
    s.attrs["clamped"] = False
    reason = _no_fit_reason(y, k, hidden_count.to_numpy())
    if reason:
        s.attrs["no_fit"] = reason
        return s, None
    try:
        # months without a rate (hidden) are left out of the fit by the regression itself
        r = stats.segmented_regression(np.arange(len(s), dtype=float), y, k, hac_lags=hac_lags)
    except (ValueError, np.linalg.LinAlgError):
        s.attrs["no_fit"] = "ret_reason_few"
        return s, None
    fitted = np.asarray(r["fitted"], dtype=float)
    counter = np.where(np.arange(len(s)) >= k, np.asarray(r["counterfactual"], dtype=float), np.nan)
    s.attrs["clamped"] = bool(np.nanmin(fitted) < 0 or (np.isfinite(counter).any() and np.nanmin(counter) < 0))
    s["fitted"] = np.maximum(fitted, 0.0)
    s["counterfactual"] = np.where(np.isnan(counter), np.nan, np.maximum(counter, 0.0))
    r["n_filled"] = 0                               # nothing is imputed
    r["n_left_out"] = int(hidden_count.sum())       # hidden months left out of the fit
    r["intervention_month"] = ms[k]
    return s, r


def hidden_month_key(filled_in_fit: bool = True) -> str:
    """How a hidden month is described (the served source's words: on a release a month may also be
    hidden to protect another cell): in the regression's chart, where it is left out of the fit
    (``filled_in_fit``), or in a chart without a fit."""
    return data.source().hidden_month_key(filled_in_fit)


def _no_fit_reason(y: np.ndarray, k: int | None, filled: np.ndarray) -> str | None:
    """Why a segmented regression of ``y`` around month ``k`` would be meaningless, or None."""
    y = np.asarray(y, dtype=float)
    if k is None:
        return "ret_reason_few"
    pre, post = y[:k][np.isfinite(y[:k])], y[k:][np.isfinite(y[k:])]
    if len(pre) < 2 or len(post) < 2:
        return "ret_reason_few"
    if filled.sum() * 2 > np.isfinite(y).sum():
        return "ret_reason_hidden"
    if np.ptp(pre) <= 1e-9 * max(1.0, np.abs(pre).max()) or np.ptp(post) <= 1e-9 * max(1.0, np.abs(post).max()):
        return "ret_reason_flat"
    return None


def no_fit_text(s: pd.DataFrame, lang: str) -> str:
    """The reason there is no regression, in words."""
    return t("ret_degenerate", lang).format(reason=t(s.attrs.get("no_fit") or "ret_reason_few", lang))


def its_table(r: dict | None, lang: str) -> pd.DataFrame:
    """The regression's estimates as a small table: term, estimate, lower, upper, p.

    Values within a millionth of the largest estimate (or standard error) of zero, as with an exactly
    flat segment (no letters before the campaign), are shown as 0 with no p-value, not as rounding noise."""
    if r is None:
        return pd.DataFrame(columns=["term", "estimate", "lower", "upper", "p"])
    r = {**r}
    tol_b = 1e-6 * max(1e-12, max(abs(v) for v in r["params"].values()))
    tol_se = 1e-6 * max(1e-12, max(abs(v) for v in r["se"].values()))
    r["se"] = {k: (0.0 if abs(v) < tol_se else v) for k, v in r["se"].items()}
    for part in ("params", "lower", "upper"):
        r[part] = {k: (r["params"][k] if r["se"][k] == 0.0 else v) for k, v in r[part].items()}
        r[part] = {k: (0.0 if abs(v) < tol_b else v) for k, v in r[part].items()}
    r["p"] = {k: (np.nan if r["se"][k] == 0.0 else v) for k, v in r["p"].items()}
    r["post_slope"] = {k: (0.0 if abs(v) < tol_b else v) for k, v in r["post_slope"].items()}
    rows = [(t(key, lang), r["params"][name], r["lower"][name], r["upper"][name], r["p"][name])
            for key, name in (("its_level_before", "intercept"), ("its_pre_slope", "pre_slope"),
                              ("its_level_change", "level_change"), ("its_slope_change", "slope_change"))]
    rows.append((t("its_post_slope", lang), r["post_slope"]["estimate"], r["post_slope"]["lower"], r["post_slope"]["upper"], None))
    return pd.DataFrame(rows, columns=["term", "estimate", "lower", "upper", "p"])
