"""Direct and indirect standardisation of rates.

Methods
-------
``dsr``, ``dsr_table``
    Directly standardised rate, sum(w_i e_i / n_i) / sum(w_i), with the Dobson et al. interval
    (a weighted sum of Poisson counts scaled to the exact Garwood limits of the total count).
    Dobson AJ, Kuulasmaa K, Eberle E, Scherer J (1991), Stat Med 10:457-462; Public Health
    England (2018), Technical Guide: Confidence Intervals; PHEindicatormethods (R).
``expected_counts``, ``indirect_ratio``, ``indirect_table``
    Indirect standardisation: expected count E = sum(n_i R_i) under reference stratum rates,
    ratio O/E with the Garwood limits of O divided by E. Breslow NE, Day NE (1987), IARC Sci
    Publ 82, section 2.3; Ulm K (1990), Am J Epidemiol 131:373-375.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import gammaincinv

from ._common import Estimate, _as_float, _as_list, _check_conf, _group_ids, _out
from .rates import poisson_ci

__all__ = ["dsr", "dsr_table", "expected_counts", "indirect_ratio", "indirect_table"]


DSR_METHODS = ("auto", "dobson", "fay-feuer")
MISSING = ("raise", "nan")


def _check_options(method: str, missing: str) -> None:
    if method not in DSR_METHODS:
        raise ValueError(f"method must be one of {DSR_METHODS}, got {method!r}")
    if missing not in MISSING:
        raise ValueError(f"missing must be one of {MISSING}, got {missing!r}")


def _dsr_arrays(e: np.ndarray, n: np.ndarray, w: np.ndarray, per: float, conf: float, method: str = "auto"):
    """Core of ``dsr``: strata on the last axis, everything already broadcast to one shape."""
    if np.any(w < 0):
        raise ValueError("standard population weights must not be negative")
    if np.any(np.isnan(w)):
        raise ValueError("standard population weights must not be missing")
    alpha = _check_conf(conf)
    valid = n > 0
    safe_n = np.where(valid, n, 1.0)
    a = np.where(valid, w / safe_n, 0.0)  # weight per unit of population, 0 when n = 0
    e_used = np.where(valid, e, 0.0)
    wsum = w.sum(axis=-1)
    any_pop = valid.any(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_w = np.where((wsum > 0) & any_pop, 1.0 / np.where(wsum > 0, wsum, 1.0), np.nan)
        value = (a * e_used).sum(axis=-1) * inv_w
        observed = e_used.sum(axis=-1)
        var = (a * a * e_used).sum(axis=-1) * inv_w**2
        # count-to-rate scale factor of Dobson et al.: sqrt(var(DSR) / O)
        factor_pos = np.sqrt(var / np.where(observed > 0, observed, 1.0))
        # O = 0: the same factor evaluated as if events fell in proportion to the population
        # (e_i = c * n_i), which gives sqrt(sum(w_i^2 / n_i) / sum(n_i)) / sum(w)
        n_used = np.where(valid, n, 0.0)
        factor_zero = np.sqrt(
            (np.where(valid, w * w / safe_n, 0.0)).sum(axis=-1)
            / np.where(n_used.sum(axis=-1) > 0, n_used.sum(axis=-1), 1.0)
        ) * inv_w
    factor = np.where(observed > 0, factor_pos, factor_zero)
    ci = poisson_ci(observed, conf)
    lower_raw = value + factor * (np.asarray(ci.lower) - observed)
    lower = np.maximum(lower_raw, 0.0)
    upper = value + factor * (np.asarray(ci.upper) - observed)
    if method != "dobson":
        ff_lower, ff_upper = _fay_feuer(value, var, a.max(axis=-1) * inv_w, alpha)
        use = np.ones(value.shape, bool) if method == "fay-feuer" else (observed > 0) & (lower_raw <= 0)
        lower = np.where(use, ff_lower, lower)
        upper = np.where(use, ff_upper, upper)
    return value * per, lower * per, upper * per, observed


def _fay_feuer(y: np.ndarray, v: np.ndarray, w_max: np.ndarray, alpha: float):
    """Fay & Feuer's gamma interval of a weighted sum of Poisson counts (per unit, not per).

    y = sum(a_i e_i), v = sum(a_i^2 e_i), w_max = max a_i (a_i = w_i / (n_i W)):
    lower = the alpha/2 quantile of a gamma with mean y and variance v (0 when y = 0); upper = the
    1 - alpha/2 quantile of a gamma with mean y + w_max and variance v + w_max^2.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        pos = (y > 0) & (v > 0)
        shape_lo = np.where(pos, y * y / np.where(pos, v, 1.0), 1.0)
        lower = np.where(pos, gammaincinv(shape_lo, alpha / 2.0) * v / np.where(pos, y, 1.0), 0.0)
        m, s = y + w_max, v + w_max * w_max
        ok = s > 0
        upper = np.where(ok, gammaincinv(np.where(ok, m * m / np.where(ok, s, 1.0), 1.0), 1.0 - alpha / 2.0)
                         * s / np.where(ok, m, 1.0), 0.0)
    return np.where(np.isnan(y), np.nan, lower), np.where(np.isnan(y), np.nan, upper)


def _handle_missing(e: np.ndarray, n: np.ndarray, missing: str, where: str = "") -> np.ndarray:
    """Rows (all axes but the strata axis) with a missing count or population: raise, or warn and
    return their mask so that their DSR becomes NaN."""
    bad = (np.isnan(e) | np.isnan(n)).any(axis=-1)
    if bad.any():
        k = int(np.count_nonzero(bad))
        msg = (f"{k} DSR{'s' if k > 1 else ''} with a missing event count or population in a stratum"
               f"{where}: a DSR needs every stratum (enter a true zero as 0)")
        if missing == "raise":
            raise ValueError(msg + "; pass missing='nan' to get NaN for those and a warning instead")
        warnings.warn(msg + "; returned as NaN", RuntimeWarning, stacklevel=3)
    return bad


def dsr(
    events: Any,
    population: Any,
    standard: Any,
    per: float = 100_000,
    conf: float = 0.95,
    *,
    method: str = "auto",
    missing: str = "raise",
) -> Estimate:
    """Directly standardised rate with the Dobson et al. (1991) or Fay-Feuer (1997) interval.

    ``events``, ``population`` and ``standard`` hold one element per stratum (e.g. age band x
    sex) along their last axis; they broadcast against each other, so a 2-D ``events`` of shape
    (areas, strata) with a 1-D ``standard`` gives one DSR per area. ``standard`` holds the
    standard population's weights w_i; they need not sum to any particular number.

    Formulas, with e_i events, n_i population, W = sum(w_i), O = sum(e_i)::

        DSR      = sum(w_i * e_i / n_i) / W * per
        var(DSR) = sum((w_i / n_i)^2 * e_i) / W^2
        limits   = DSR + sqrt(var(DSR) / O) * (O_lower - O)   and   (O_upper - O)

    where (O_lower, O_upper) is the exact Garwood interval of O (``poisson_ci``). This is the
    method of the PHE/OHID technical guide "Confidence intervals" and of
    ``PHEindicatormethods::phe_dsr``, except that those use Byar's approximation to the exact
    Poisson limits; here the exact limits are used.

    Conventions:

    * A stratum with population 0 contributes nothing to the rate, to O or to the variance,
      but its weight stays in W (the weights are the full standard). Events recorded in a
      stratum with population 0 are therefore ignored.
    * If all strata have population 0 (or W = 0) the result is NaN.
    * O = 0: DSR = 0 and lower = 0. The Dobson factor sqrt(var/O) is 0/0 then; it is replaced
      by its value when events are spread in proportion to the population,
      sqrt(sum(w_i^2 / n_i) / sum(n_i)) / W, so upper = that factor * 3.689 (for 95 %) * per.
      With one stratum this is exactly the crude-rate upper limit 3.689 / n * per.
    * With very uneven weights and few events (one event in a stratum of great weight and
      small population) Dobson's lower limit falls to or below 0 although events were seen: the
      interval is degenerate. ``method="auto"`` (default) then uses the Fay-Feuer interval for
      that DSR (both limits); ``method="dobson"`` keeps Dobson's, truncated at 0 (the earlier
      behaviour); ``method="fay-feuer"`` uses Fay-Feuer everywhere.

    Fay-Feuer (gamma) interval, with y = DSR / per, v = var(DSR) and w_M the largest
    w_i / (n_i W) over strata with population::

        lower = gamma quantile (1 - c)/2 with mean y and variance v           (0 when O = 0)
        upper = gamma quantile 1 - (1 - c)/2 with mean y + w_M and variance v + w_M^2

    It reduces to the exact Garwood interval for one stratum, is never degenerate and is
    conservative (coverage at least nominal in Fay & Feuer's and Tiwari et al.'s simulations;
    it is wider than Dobson's, which is why it is not used everywhere by default).

    Missing values: a NaN event count or population in any stratum makes a DSR undefined. With
    ``missing="raise"`` (default) that is a ``ValueError`` saying how many DSRs are affected;
    ``missing="nan"`` returns NaN for those DSRs only, with a ``RuntimeWarning``. Never silent.

    PHE advise not to publish a DSR based on fewer than 10 events; that is left to the caller.

    Reference: Dobson AJ, Kuulasmaa K, Eberle E, Scherer J (1991). Confidence intervals for
    weighted sums of Poisson parameters. Stat Med 10:457-462. Public Health England (2018),
    Technical Guide: Confidence Intervals (Fingertips); Fox et al., PHEindicatormethods (R).
    Fay MP, Feuer EJ (1997). Confidence intervals for directly standardized rates: a method based
    on the gamma distribution. Stat Med 16:791-801; Tiwari RC, Clegg LX, Zou Z (2006). Efficient
    interval estimation for age-adjusted cancer rates. Stat Methods Med Res 15:547-569.
    """
    _check_options(method, missing)
    e = _as_float(events, "events")
    n = _as_float(population, "population")
    w = _as_float(standard, "standard")
    if min(e.ndim, n.ndim, w.ndim) < 1:
        raise ValueError("events, population and standard need a strata axis (at least 1-D)")
    e, n, w = np.broadcast_arrays(e, n, w)
    bad = _handle_missing(e, n, missing)
    value, lower, upper, _ = _dsr_arrays(e, n, w, per, conf, method)
    nan = np.nan
    return Estimate(_out(np.where(bad, nan, value)), _out(np.where(bad, nan, lower)),
                    _out(np.where(bad, nan, upper)))


def dsr_table(
    frame: pd.DataFrame,
    by: Any,
    events: str = "events",
    population: str = "population",
    stratum: str = "stratum",
    *,
    weights: Mapping,
    per: float = 1000,
    conf: float = 0.95,
    method: str = "auto",
    missing: str = "raise",
) -> pd.DataFrame:
    """Directly standardised rates for every group of ``frame`` (see ``dsr`` for the method).

    ``frame`` has one or more rows per (group, stratum) with event and population counts; rows
    of the same group and stratum are summed. ``weights`` maps every stratum of the standard to
    its weight. It is the full standard: a stratum of ``weights`` that a group lacks counts as
    population 0 in that group (contributes 0 to the rate, its weight stays in the
    denominator). A stratum in ``frame`` that is not in ``weights`` is an error.

    ``by`` is a column name or a list of names (empty list: one row for the whole frame).
    Returns a DataFrame with columns ``by..., events, population, value, lower, upper``,
    one row per group, sorted by the group keys. The computation is vectorised (no Python
    loop over groups). Note the default ``per`` is 1000 here (100 000 in ``dsr``).

    ``method`` chooses the interval as in ``dsr`` (default ``"auto"``: Dobson, Fay-Feuer where
    Dobson's lower limit is degenerate). A missing (NaN) event count or population in a row makes
    its group's DSR undefined: ``missing="raise"`` (default) raises a ``ValueError`` naming up to
    five such groups; ``missing="nan"`` gives those groups NaN with a ``RuntimeWarning``.
    """
    _check_options(method, missing)
    by = _as_list(by)
    w = pd.Series(weights, dtype=float)
    if w.index.has_duplicates:
        raise ValueError("weights has duplicate strata")
    sid = w.index.get_indexer(frame[stratum])
    if np.any(sid < 0):
        missing = sorted(map(str, pd.unique(frame[stratum][sid < 0])))[:5]
        raise ValueError(f"strata not in weights: {missing}")
    gid, keys = _group_ids(frame, by)
    n_groups, n_strata = len(keys), len(w)
    flat = gid * n_strata + sid
    size = n_groups * n_strata
    ev = np.bincount(flat, weights=frame[events].to_numpy(float), minlength=size)
    pop = np.bincount(flat, weights=frame[population].to_numpy(float), minlength=size)
    ev = ev.reshape(n_groups, n_strata)
    pop = pop.reshape(n_groups, n_strata)
    wv = np.broadcast_to(w.to_numpy(), ev.shape)
    rows = (np.isnan(ev) | np.isnan(pop)).any(axis=1)
    named = keys[rows].head(5).to_dict("records") if by else []
    bad = _handle_missing(ev, pop, missing, f" (groups {named})" if named else "")
    value, lower, upper, _ = _dsr_arrays(ev, pop, wv, per, conf, method)
    out = keys.copy()
    out["events"] = ev.sum(axis=1)
    out["population"] = pop.sum(axis=1)
    out["value"] = np.where(bad, np.nan, value)
    out["lower"] = np.where(bad, np.nan, lower)
    out["upper"] = np.where(bad, np.nan, upper)
    return out


def expected_counts(population: Any, reference_rate: Any) -> Any:
    """Expected count under reference (national) stratum rates: ``E = sum_i n_i * R_i``.

    Strata are on the last axis; ``population`` and ``reference_rate`` broadcast (e.g. a 2-D
    population of shape (areas, strata) with a 1-D vector of national rates per person).

    Reference: Breslow NE, Day NE (1987), Statistical Methods in Cancer Research Vol. II,
    IARC Sci Publ 82, section 2.3 (indirect standardisation, SMR).
    """
    n = _as_float(population, "population")
    r = _as_float(reference_rate, "reference_rate")
    return _out((n * r).sum(axis=-1))


def indirect_ratio(observed: Any, expected: Any, conf: float = 0.95) -> Estimate:
    """Indirectly standardised ratio O/E with exact limits.

    ``value = O / E``; limits are the Garwood limits of O (``poisson_ci``) divided by E, with E
    treated as fixed. Against national rates a ratio of 1.0 means the area is at the national
    level after adjusting for its age-sex structure. E = 0 gives NaN.

    Reference: Breslow NE, Day NE (1987), IARC Sci Publ 82, section 2.3; Ulm K (1990).
    A simple method to calculate the confidence interval of a standardized mortality ratio.
    Am J Epidemiol 131:373-375.
    """
    o = _as_float(observed, "observed")
    e = _as_float(expected, "expected")
    ci = poisson_ci(o, conf)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(e > 0, 1.0 / np.where(e > 0, e, 1.0), np.nan)
    return Estimate(
        _out(np.asarray(ci.value) * inv),
        _out(np.asarray(ci.lower) * inv),
        _out(np.asarray(ci.upper) * inv),
    )


def indirect_table(
    frame: pd.DataFrame,
    by: Any,
    events: str = "events",
    population: str = "population",
    stratum: str = "stratum",
    conf: float = 0.95,
) -> pd.DataFrame:
    """Indirectly standardised ratios of each group against the whole ``frame``.

    The reference rate of each stratum is computed from the frame itself,
    ``R_s = sum(events in s) / sum(population in s)`` (Denmark as a whole when the frame covers
    the country); a stratum with no population has R_s = 0. For each group,
    ``expected = sum(n_i * R_s(i))`` and ``observed = sum(e_i)``; value and limits are
    ``indirect_ratio(observed, expected)``. By construction the observed and expected totals
    over all groups are equal.

    Returns columns ``by..., observed, expected, value, lower, upper`` sorted by the keys.
    """
    by = _as_list(by)
    e = frame[events].to_numpy(float)
    n = frame[population].to_numpy(float)
    s_codes, _ = pd.factorize(frame[stratum], use_na_sentinel=False)
    e_s = np.bincount(s_codes, weights=e)
    n_s = np.bincount(s_codes, weights=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate_s = np.where(n_s > 0, e_s / np.where(n_s > 0, n_s, 1.0), 0.0)
    expected_row = n * rate_s[s_codes]
    gid, keys = _group_ids(frame, by)
    out = keys.copy()
    out["observed"] = np.bincount(gid, weights=e, minlength=len(keys))
    out["expected"] = np.bincount(gid, weights=expected_row, minlength=len(keys))
    est = indirect_ratio(out["observed"].to_numpy(), out["expected"].to_numpy(), conf)
    out["value"] = np.asarray(est.value)
    out["lower"] = np.asarray(est.lower)
    out["upper"] = np.asarray(est.upper)
    return out
