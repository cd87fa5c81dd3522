"""Pathways, repeat imaging and potentially low-value imaging: queries, protected tables, figures.

Pathways come from ``episode_cube``: each imaging episode (the first lumbar imaging of a person
after 365 days without one) by referrer, modality and the most intensive thing that followed within
90 or 365 days (spine surgery > rehabilitation plan > lumbar diagnosis > nothing recorded).

What is shown comes from the served source (:mod:`atlas.data`): on the secure database the exact
counts (inside the secure environment only); on a release its published counts, a row's hidden
cells shown merged as their sum (the published row total less its shown cells) and hidden too when
that sum is 1-4. Shares are computed from shown counts: in a row, each shown cell (the hidden cell
included) over the sum of the row's shown cells. A view the release publishes no pathways for moves
to the nearest one it does (:meth:`atlas.data.Source.nearest_pathways`), and the page says so.

Repeat imaging and low-value rates and shares use :mod:`atlas.queries` (``trend_table``,
``area_table``, ``estimate``), so they are protected and estimated exactly like the main atlas.

The package keeps them apart as the atlas page does: ``constants`` (the charts' measures; the
outcomes and windows are the data layer's, :mod:`atlas.data.domain`), ``state`` (the URL hash),
``queries`` (the tables, read through the served source: its readers are
:func:`atlas.data.secure.pathways` and :func:`atlas.data.release.pathways`), ``figures`` and
``export`` (tables and CSV). The names the page and the tests use are importable from here.
"""
from atlas import db
from atlas.filters import View
from atlas.pathways.constants import (AREA_MEASURES, CHARTS, COLUMNS, HIDDEN, LOWVALUE_MEASURES, MODALITIES, OUTCOMES,
                                      PROVIDER_MEASURES, REFERRERS, REPEAT_MEASURES, WINDOW_COLUMN, WINDOWS)
from atlas.pathways.export import chart_csv, chart_table, header_rows, pathway_table
from atlas.pathways.figures import referrer_figure, sankey, trend_figure
from atlas.pathways.queries import area_table, by_referrer, pathways, trends
from atlas.pathways.state import area_name, area_options, hash_of, parse_hash, sync_pathways
