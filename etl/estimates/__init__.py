"""The one estimate engine of the atlas (``etl.estimates.engine``): standardised rates, shares,
intervals, expected counts and funnel flags, for the release build and the secure app alike."""
from __future__ import annotations

from .engine import (
                     RATE_COLUMNS,
                     SHARE_COLUMNS,
                     estimate_from_strata,
                     expected,
                     hide_small,
                     rate_estimates,
                     reference_rates,
                     share_estimates,
                     stratum_rates,
)

__all__ = ["RATE_COLUMNS", "SHARE_COLUMNS", "estimate_from_strata", "expected", "hide_small", "rate_estimates",
           "reference_rates", "share_estimates", "stratum_rates"]
