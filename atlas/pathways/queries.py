"""The pathways page's tables, read through the served source (:mod:`atlas.data`): the pathway
tables and the low-value estimates by referrer (each source's own reader: exact ones in
:mod:`atlas.data.secure`, published ones in :mod:`atlas.data.release`), and the repeat-imaging and
low-value estimates by year and by area (see :mod:`atlas.pathways`)."""
from __future__ import annotations

from dataclasses import replace

import pandas as pd

from atlas import data, queries
from atlas.filters import View
from atlas.i18n import t
from atlas.pathways.constants import AREA_MEASURES, REFERRERS, WINDOWS


def pathways(view: View, window: int) -> dict[str, pd.DataFrame]:
    """The pathway tables for the view's area (or Denmark), years and filters, from the served source
    (exact on the secure database, published on a release).

    Returns a dict of DataFrames (NaN = hidden):

    ``cells``    referrer, modality, outcome (the four outcomes and ``hidden``, the row's hidden cells
                 merged), ``count``, ``share`` (% of the row's shown cells)
    ``rows``     referrer, modality, ``count`` (episodes: the Sankey's referrer -> modality links)
    ``outcomes`` modality, outcome, ``count`` (sum of the shown cells: the Sankey's modality -> outcome links)
    ``overall``  outcome, ``count`` (sum of the shown cells), ``share`` (% of their sum)
    ``total``    one row: ``count`` (all episodes)
    """
    if window not in WINDOWS:
        raise ValueError(f"window must be one of {WINDOWS}")
    return data.source().pathways(view, window)


def trends(view: View, keys: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    """Per measure: estimates per year for the selected area (code = its code) and Denmark (code 0)."""
    offered = data.source().measures()
    return {k: queries.trend_table(replace(view, measure=k), view.area) for k in keys if k in offered}


def by_referrer(view: View) -> pd.DataFrame:
    """Low-value imaging by referrer for the area (code = its code) and Denmark (code 0): share of
    episodes (%) and rate per 1,000 adults, protected and estimated like the atlas's estimates.

    Denmark's rows do not depend on the area or level, so they are kept apart (cached) and choosing
    another area estimates only the area's rows."""
    return data.source().by_referrer(view, REFERRERS)


def area_table(view: View) -> pd.DataFrame:
    """Every area at the view's level: low-value rate and share, X-ray then MRI and repeat MRI shares."""
    parts = []
    for k in (k for k in AREA_MEASURES if k in data.source().measures()):
        tbl, national = queries.area_table(replace(view, measure=k, within=None))
        nat = pd.DataFrame([{**national.to_dict(), "code": 0, "name": t("denmark_total", view.lang)}])
        both = pd.concat([nat, tbl], ignore_index=True)
        parts.append(both[["code", "name", "num_shown", "den_shown", "value", "lower", "upper", "hidden", "status"]]
                     .assign(measure=k))
    return pd.concat(parts, ignore_index=True)
