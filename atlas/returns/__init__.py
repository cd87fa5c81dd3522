"""Return-letter monitoring: queries, protected tables, the interrupted time series and the figures.

The app table ``returns_monthly`` has referrals received, referrals returned and returns with the
campaign's standard letter per month x exam type x producer (centre). It carries no cell keys, so
each of its cells gets one here (:func:`cell_key`): the first 8 bytes of a BLAKE2b digest of
(month, producer id, exam type, measure), salted with a digest of the table's true counts, read as a
number in [0, 1). The salt makes the key unknowable to a reader (it depends on counts that are never
shown) while the same data always give the same keys. A cell that adds up several cells (all centres,
all exam types) takes the sum of their keys mod 1, as the cubes' cells do; so every count shown here
goes through :func:`atlas.disclosure.shown_counts` (perturbation, 1-4 hidden) like every other count.

Rates (returned or letters per 1,000 referrals) and shares are computed from shown counts. The
segmented regression (:func:`etl.stats.segmented_regression`) runs on the monthly rates from shown
counts; a hidden month (1-4) enters with 2.5 (the middle of 1-4), which the page says.

The package keeps them apart as the atlas page does: ``constants``, ``state`` (the view and its URL
hash), ``queries`` (cell keys and protected tables), ``time_series`` (the regression), ``figures``
and ``export`` (CSV). The names the page and the tests use are importable from here.
"""
from atlas.returns.constants import CHARTS, COUNTS, DEFAULT_INTERVENTION, EXAMS, MEASURES
from atlas.returns.export import chart_csv, header_rows
from atlas.returns.figures import fig_by_exam, fig_centres, fig_its, fig_spread, file_stem, stamp
from atlas.returns.queries import (_monthly, by_centre, by_exam, cell_key, centre_summary, centres, monthly, months,
                                   protected, series, table_salt)
from atlas.returns.state import ReturnsView, intervention_index, parse_hash, sync_returns, valid_date
from atlas.returns.time_series import _no_fit_reason, its, its_table, no_fit_text
