"""How much areas vary: extremal quotient, coefficient of variation and the systematic
component of variation (SCV) of indirectly standardised ratios.

Reference: McPherson K, Wennberg JE, Hovind OB, Clifford P (1982). Small-area variations in the
use of common surgical procedures: an international comparison of New England, England, and
Norway. N Engl J Med 307:1310-1314. Reading SCV x 100 above 5 as high and above 10 as very high
variation is a convention of the small-area variation literature (McPherson et al.; Appleton et
al. 1996).
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ._common import _as_float

__all__ = ["VariationStats", "variation_stats"]


class VariationStats(NamedTuple):
    """Summary of between-area variation of indirectly standardised ratios (see ``variation_stats``)."""

    extremal_quotient: float
    extremal_quotient_min_count: float
    coefficient_of_variation: float
    scv: float
    n_areas: int


def variation_stats(observed: Any, expected: Any, min_count: int = 10) -> VariationStats:
    """Summary statistics of variation between areas (small-area variation analysis).

    Inputs are 1-D arrays over areas of observed counts O_i and expected counts E_i from
    indirect standardisation; areas with E_i <= 0 or missing values are left out. The area
    rate index is the ratio O_i/E_i.

    * ``extremal_quotient``: max/min of O/E over areas with O > 0 (NaN if none).
    * ``extremal_quotient_min_count``: the same over areas with O >= ``min_count``; the plain EQ
      is dominated by the smallest areas, this one is more stable.
    * ``coefficient_of_variation``: sample standard deviation (ddof = 1) / mean of O/E over all
      areas (NaN with fewer than 2 areas).
    * ``scv``: systematic component of variation of McPherson et al. (1982)::

          SCV = (1/k) * sum_i [ (O_i - E_i)^2 / E_i^2  -  1 / E_i ]

      (O-E)^2/E^2 is the squared relative deviation of an area; 1/E is what Poisson chance
      alone contributes to it on average. SCV therefore estimates the variance of the true
      area ratios after removing the chance part: about 0 means the variation is compatible
      with chance, and it can be slightly negative by sampling error. The value returned is
      the raw SCV; it is usually reported multiplied by 100 (SCV x 100 > 5 "high",
      > 10 "very high" variation, a convention from McPherson et al. and Appleton et al. 1996).
      The formula assumes E comes from rates of the same population (sum O = sum E).
    * ``n_areas``: number of areas used (E > 0).

    Reference: McPherson K, Wennberg JE, Hovind OB, Clifford P (1982). Small-area variations
    in the use of common surgical procedures: an international comparison of New England,
    England, and Norway. N Engl J Med 307:1310-1314.
    """
    o = _as_float(observed, "observed").ravel()
    e = _as_float(expected, "expected").ravel()
    if o.shape != e.shape:
        raise ValueError("observed and expected must have the same length")
    keep = np.isfinite(o) & np.isfinite(e) & (e > 0)
    o, e = o[keep], e[keep]
    k = int(o.size)
    ratio = o / e

    def eq(mask: np.ndarray) -> float:
        r = ratio[mask]
        return float(r.max() / r.min()) if r.size else float("nan")

    eq_all = eq(o > 0)
    eq_min = eq(o >= min_count)
    if k >= 2 and ratio.mean() > 0:
        cv = float(ratio.std(ddof=1) / ratio.mean())
    else:
        cv = float("nan")
    scv = float(np.mean((o - e) ** 2 / e**2 - 1.0 / e)) if k else float("nan")
    return VariationStats(eq_all, eq_min, cv, scv, k)
