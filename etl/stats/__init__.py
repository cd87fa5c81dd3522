"""Statistics shared by the ETL and the app.

Every function here is pure: no I/O, no global state, inputs are never modified. Numeric
functions accept scalars or array-likes and broadcast like numpy; a scalar input gives a
numpy scalar back, an array input an array of the broadcast shape.

``from etl import stats`` gives every public name below; each family lives in its own module,
whose docstring states the methods and their references:

``rates``            ``poisson_ci``, ``crude_rate``, ``proportion_ci``
``standardisation``  ``dsr``, ``dsr_table`` (direct); ``expected_counts``, ``indirect_ratio``,
                     ``indirect_table`` (indirect, against Denmark as a whole)
``funnel``           ``funnel_limits``, ``funnel_flags``, ``funnel_limits_proportion``,
                     ``funnel_flags_proportion``, ``funnel_p_values``,
                     ``funnel_p_values_proportion``, ``FunnelTails`` (exact tests; the earlier
                     interpolated limits in ``spiegelhalter``)
``variation``        ``variation_stats`` (extremal quotient, CV, SCV), ``VariationStats``
``shrinkage``        ``eb_ratio``, ``eb_ratio_prior`` (empirical Bayes on O/E, with intervals),
                     ``eb_shrink`` (on crude rates)
``suppression``      ``suppress``, ``suppress_with_totals``, ``suppression_audit``
                     (with the linear-programming audit in ``lp_audit``)
``timeseries``       ``segmented_regression``, ``newey_west_lags``, ``ITS_TERMS``
``spatial``          ``knn_weights``, ``global_moran``, ``local_moran`` (LISA with FDR),
                     ``benjamini_hochberg``, ``to_km`` (esda and libpysal)
``comparison``       ``correlation_ci`` (Pearson with Fisher z interval),
                     ``difference_beyond_chance`` (two estimates from their intervals)
``inequality``       ``sii`` (slope and relative index of inequality, PHE method with Monte Carlo
                     limits), ``sii_from_counts``, ``sii_table`` (per area/period), ``relative_rank``,
                     ``Inequality``
``trend``            ``recent_trend`` (Poisson log-linear trend over the last complete years: annual
                     percentage change, direction), ``recent_trends_table``, ``select_recent_years``,
                     ``value_trend``, ``value_trends_table`` (the same for values with intervals,
                     e.g. an SII over the years), ``chance_flags`` (flags expected by chance among K areas),
                     ``RecentTrend``, ``ValueTrend``, ``ChanceFlags``
``opportunity``      ``opportunity`` (examinations avoided per year if areas above a target came
                     down to it, with intervals), ``target_level``, ``Opportunity``
``peers``            ``nearest_peers`` (comparable areas: k nearest in standardised features),
                     ``standardised_features`` (configuration in etl/config/peers.toml)
``_common``          ``Estimate``, ``conf_label``, ``conf_fraction`` and the input checks

The methods are described for readers of the atlas in ``docs/methods-statistics.md``.
"""
from __future__ import annotations

from ._common import Estimate, conf_fraction, conf_label
from .comparison import Correlation, correlation_ci, difference_beyond_chance
from .funnel import (
    FunnelTails,
    funnel_flags,
    funnel_flags_proportion,
    funnel_limits,
    funnel_limits_proportion,
    funnel_p_values,
    funnel_p_values_proportion,
)
from .inequality import Inequality, relative_rank, sii, sii_from_counts, sii_table
from .opportunity import Opportunity, opportunity, target_level
from .peers import nearest_peers, standardised_features
from .rates import crude_rate, poisson_ci, proportion_ci
from .shrinkage import eb_ratio, eb_ratio_prior, eb_shrink
from .spatial import GlobalMoran, benjamini_hochberg, global_moran, knn_weights, local_moran, to_km
from .standardisation import dsr, dsr_table, expected_counts, indirect_ratio, indirect_table
from .suppression import suppress, suppress_with_totals, suppression_audit
from .timeseries import ITS_TERMS, newey_west_lags, segmented_regression
from .trend import (
    ChanceFlags,
    RecentTrend,
    ValueTrend,
    chance_flags,
    recent_trend,
    recent_trends_table,
    select_recent_years,
    value_trend,
    value_trends_table,
)
from .variation import VariationStats, variation_stats

__all__ = [
    "GlobalMoran",
    "benjamini_hochberg",
    "global_moran",
    "knn_weights",
    "local_moran",
    "to_km",
    "Estimate",
    "VariationStats",
    "poisson_ci",
    "crude_rate",
    "dsr",
    "dsr_table",
    "expected_counts",
    "indirect_ratio",
    "indirect_table",
    "variation_stats",
    "funnel_limits",
    "funnel_flags",
    "proportion_ci",
    "funnel_limits_proportion",
    "funnel_flags_proportion",
    "FunnelTails",
    "funnel_p_values",
    "funnel_p_values_proportion",
    "eb_shrink",
    "eb_ratio",
    "eb_ratio_prior",
    "suppress",
    "suppress_with_totals",
    "suppression_audit",
    "conf_label",
    "conf_fraction",
    "ITS_TERMS",
    "newey_west_lags",
    "segmented_regression",
    "Correlation",
    "correlation_ci",
    "difference_beyond_chance",
    "Inequality",
    "relative_rank",
    "sii",
    "sii_from_counts",
    "sii_table",
    "ChanceFlags",
    "RecentTrend",
    "chance_flags",
    "recent_trend",
    "recent_trends_table",
    "ValueTrend",
    "value_trend",
    "value_trends_table",
    "select_recent_years",
    "Opportunity",
    "opportunity",
    "target_level",
    "nearest_peers",
    "standardised_features",
]
