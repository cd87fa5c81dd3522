"""Empirical-Bayes (Poisson-gamma) smoothing of area rates.

Methods
-------
``eb_shrink``
    Marshall's method-of-moments estimator of the gamma prior within each group (e.g. region),
    shrinking crude rates toward the group's rate. Marshall RJ (1991). Mapping disease and
    mortality rates using empirical Bayes estimators. Appl Stat 40:283-294.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._common import _as_float

__all__ = ["eb_shrink"]


def eb_shrink(events: Any, population: Any, group: Any = None, per: float = 1) -> np.ndarray:
    """Empirical-Bayes (Poisson-gamma) shrinkage of area rates toward their group's rate.

    Marshall's method-of-moments estimator, applied within each group (e.g. region); with
    ``group=None`` all areas form one group. For the areas of a group, r_i = e_i / n_i::

        m   = sum(e_i) / sum(n_i)                    (group rate)
        s2  = sum(n_i * (r_i - m)^2) / sum(n_i)      (population-weighted variance)
        A   = max(s2 - m / n_bar, 0),  n_bar = sum(n_i) / k   (between-area variance)
        C_i = A / (A + m / n_i)                      (0 when A = 0)
        rate_i = m + C_i * (r_i - m)

    Small areas (small n_i, noisy r_i) are pulled most toward m; if the observed spread is no
    larger than Poisson noise (A = 0) all areas get m. Returns rates multiplied by ``per``;
    areas with population 0 get NaN and do not enter the group's estimates.

    Reference: Marshall RJ (1991). Mapping disease and mortality rates using empirical Bayes
    estimators. Appl Stat 40:283-294.
    """
    e = _as_float(events, "events").ravel()
    n = _as_float(population, "population").ravel()
    e, n = np.broadcast_arrays(e, n)
    g = np.zeros(e.shape, dtype=np.int64) if group is None else pd.factorize(
        np.asarray(group).ravel(), use_na_sentinel=False
    )[0]
    valid = n > 0
    ev = np.where(valid, e, 0.0)
    nv = np.where(valid, n, 0.0)
    ng = int(g.max()) + 1 if g.size else 0
    e_g = np.bincount(g, weights=ev, minlength=ng)
    n_g = np.bincount(g, weights=nv, minlength=ng)
    k_g = np.bincount(g, weights=valid.astype(float), minlength=ng)
    with np.errstate(divide="ignore", invalid="ignore"):
        m_g = np.where(n_g > 0, e_g / np.where(n_g > 0, n_g, 1.0), np.nan)
        r = np.where(valid, ev / np.where(valid, nv, 1.0), np.nan)
        dev = np.where(valid, nv * (r - m_g[g]) ** 2, 0.0)
        s2_g = np.bincount(g, weights=dev, minlength=ng) / np.where(n_g > 0, n_g, 1.0)
        nbar_g = n_g / np.where(k_g > 0, k_g, 1.0)
        a_g = np.maximum(s2_g - m_g / np.where(nbar_g > 0, nbar_g, 1.0), 0.0)
        a = a_g[g]
        m = m_g[g]
        c = np.where(a > 0, a / (a + m / np.where(valid, nv, 1.0)), 0.0)
    rate = m + c * (r - m)
    return np.where(valid, rate, np.nan) * per
