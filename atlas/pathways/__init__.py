"""Pathways, repeat imaging and potentially low-value imaging: queries, protected tables, figures.

Pathways come from ``episode_cube``: each imaging episode (the first lumbar imaging of a person
after 365 days without one) by referrer, modality and the most intensive thing that followed within
90 or 365 days (spine surgery > rehabilitation plan > lumbar diagnosis > nothing recorded).

Protection, as everywhere in the atlas (:mod:`atlas.disclosure`):

- every count is perturbed with its cell key and counts 1-4 are hidden;
- the referrer x modality x outcome table is published with its row totals (episodes per referrer x
  modality, the Sankey's first links) and the grand total, so secondary suppression
  (:func:`etl.stats.suppress_with_totals`) runs over those margins and any total it marks is hidden
  too; the other margins (modality x outcome, the Sankey's second links, and the outcome totals of
  the "all" row) are sums of the shown cells, so they publish nothing the cells do not;
- the hidden cells of a row are merged into one "hidden" cell of that row (their true counts summed,
  their keys summed mod 1, then perturbed and hidden if 1-4 like any count), so a row's shown cells
  plus its hidden cell account for all its episodes; a flow that is still hidden is not drawn (the
  page says how many were left out);
- shares are computed from shown counts: in a row, each shown cell (the hidden cell included) over
  the sum of the row's shown cells, so the shares add up to 100 %.

Repeat imaging and low-value rates and shares use :mod:`atlas.queries` (``trend_table``,
``area_table``, ``estimate``), so they are protected and estimated exactly like the main atlas.

The package keeps them apart as the atlas page does: ``constants`` (outcomes, windows, measures),
``state`` (the URL hash), ``queries`` (protected and published counts, estimates), ``figures`` and
``export`` (tables and CSV). The names the page and the tests use are importable from here.
"""
from atlas import db
from atlas.filters import View
from atlas.pathways.constants import (AREA_MEASURES, CHARTS, COLUMNS, HIDDEN, LOWVALUE_MEASURES, MODALITIES, OUTCOMES,
                                      PROVIDER_MEASURES, REFERRERS, REPEAT_MEASURES, WINDOW_COLUMN, WINDOWS)
from atlas.pathways.export import chart_csv, chart_table, header_rows, pathway_table
from atlas.pathways.figures import referrer_figure, sankey, trend_figure
from atlas.pathways.queries import _episode_cells, area_table, by_referrer, episode_cells, pathways, trends
from atlas.pathways.state import area_name, area_options, hash_of, parse_hash, sync_pathways
