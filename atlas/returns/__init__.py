"""Return-letter monitoring: queries, protected tables, the interrupted time series and the figures.

The app table ``returns_monthly`` has referrals received, referrals returned and returns with the
campaign's standard letter per month x exam type x producer (centre), as the served source holds it
(:mod:`atlas.data`): exact counts on the secure database (inside the secure environment only), the
published counts on a release (NaN = hidden, with the published sums over centres). A sum is shown
only when all its parts are.

Rates (returned or letters per 1,000 referrals) are computed from shown counts. The segmented
regression (:func:`etl.stats.segmented_regression`) runs on the months whose rate is shown; a hidden
month is left out of the fit (never imputed), and the page says how many were left out.

The package keeps them apart as the atlas page does: ``constants``, ``state`` (the view and its URL
hash), ``queries`` (cell keys and protected tables), ``time_series`` (the regression), ``figures``
and ``export`` (CSV). The names the page and the tests use are importable from here.
"""
from atlas.returns.constants import CHARTS, COUNTS, DEFAULT_INTERVENTION, EXAMS, MEASURES
from atlas.returns.export import chart_csv, header_rows
from atlas.returns.figures import fig_by_exam, fig_centres, fig_its, fig_spread, file_stem, stamp
from atlas.returns.queries import _monthly, by_centre, by_exam, centre_summary, centres, monthly, months, protected, series
from atlas.returns.state import ReturnsView, intervention_index, parse_hash, sync_returns, valid_date
from atlas.returns.time_series import _no_fit_reason, its, its_table, no_fit_text

__all__ = [
    "CHARTS", "COUNTS", "DEFAULT_INTERVENTION", "EXAMS", "MEASURES", "chart_csv", "header_rows",
    "fig_by_exam", "fig_centres", "fig_its", "fig_spread", "file_stem", "stamp", "_monthly", "by_centre",
    "by_exam", "centre_summary", "centres", "monthly", "months", "protected", "series", "ReturnsView",
    "intervention_index", "parse_hash", "sync_returns", "valid_date", "_no_fit_reason", "its", "its_table",
    "no_fit_text",
]
