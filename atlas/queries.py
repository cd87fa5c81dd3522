"""The atlas page's tables, read through the app's one data layer (:mod:`atlas.data`).

A facade: each function asks the served source (secure: exact figures; release: published
figures) and returns the same columns from both (:data:`atlas.data.COLUMNS`, every row with its
``status``). The secure source's estimate and strata helpers are importable from here too.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from atlas.cache import clear_all
from atlas.data import BREAKDOWN_DIMS, MIX_MEASURES, source  # noqa: F401  (one list each, for every page)
from atlas.data.secure import _event_filters, estimate  # noqa: F401
from atlas.filters import View
from atlas.strata import STRATA, area_codes, event_frame, population_frame, strata  # noqa: F401
from etl import stats


def clear_caches() -> None:
    """Forget every table read from the database and every answer made from them: the pages' memos and
    the data layer's source register themselves with :mod:`atlas.cache`, so this module imports none of them."""
    clear_all()


def served_view(view: View) -> View:
    """The view the served source answers (the nearest published one on a release), so a download's
    header rows name what its table holds, even when the address asked for more."""
    return source().nearest(view)[0]


def area_table(view: View) -> tuple[pd.DataFrame, pd.Series]:
    """The table of areas for the map, ranking, funnel and CSV, and Denmark's row."""
    return source().area_table(view)


def trend_table(view: View, area: int | None) -> pd.DataFrame:
    """Estimates per year for the selected area (if any) and for Denmark, over all years."""
    return source().trend_table(view, area)


def breakdown_view(view: View) -> View:
    """The view the breakdown shows (its title and CSV header name only what its rows apply)."""
    return source().breakdown_view(view)


def breakdown_table(view: View, area: int | None) -> pd.DataFrame:
    """Estimates by each population-group dimension for the selected area (or Denmark)."""
    return source().breakdown_table(view, area)


def mix_table(view: View, area: int | None) -> pd.DataFrame:
    """Shares of modality, priority, referrer and of what followed, for Denmark (code 0) and the area."""
    return source().mix_table(view, area)


def variation(t: pd.DataFrame) -> dict:
    """Variation statistics (``etl.stats.variation_stats``) over the areas actually shown.

    The expected counts are rescaled so that they add up to the observed counts of the shown areas
    (the formula assumes sum O = sum E over the areas it is computed on): a filtered view's expected
    counts from all-adult rates, a drill-down into one region or areas left out as hidden would
    otherwise count their level against Denmark's as variation. The same formula for both sources."""
    if t is None or not len(t):
        return {}
    hidden = t["hidden"].fillna(True).astype(bool)
    expected = t["expected"].astype(float)
    if not (expected > 0).any() and "den_shown" in t:
        # no expected counts published (Denmark's own count hidden): each area's denominator, which
        # the scaling below turns into the shown areas' common rate or share
        expected = t["den_shown"].astype(float)
    shown = t[~hidden & (expected > 0) & t["num_shown"].notna()]
    if len(shown) < 2:
        return {}
    o = shown["num_shown"].to_numpy(dtype=float)
    e = expected[shown.index].to_numpy(dtype=float)
    if e.sum() > 0 and o.sum() > 0:
        e = e * (o.sum() / e.sum())
    v = stats.variation_stats(o, e)
    return {k: (float(x) if x is not None and np.isfinite(x) else None) for k, x in v._asdict().items()}
