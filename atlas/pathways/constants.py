"""What the pathways page shows: outcomes, follow-up windows, the measures of each chart.

The outcomes, windows, modalities and referrers of the pathway tables are the data layer's
(:mod:`atlas.data.domain`, read by both sources); the page's own lists follow them.
"""
from __future__ import annotations

from atlas.data.domain import MODALITIES, OUTCOMES, REFERRERS, WINDOW_COLUMN, WINDOWS
from atlas.data.domain import OUTCOME_HIDDEN as HIDDEN      # the merged hidden cells of a row

__all__ = ["AREA_MEASURES", "CHARTS", "COLUMNS", "HIDDEN", "LOWVALUE_MEASURES", "MODALITIES", "OUTCOMES",
           "PROVIDER_MEASURES", "REFERRERS", "REPEAT_MEASURES", "WINDOWS", "WINDOW_COLUMN"]

COLUMNS = OUTCOMES + (HIDDEN,)          # the outcome columns as shown
REPEAT_MEASURES = ("xray_then_mri_share", "repeat_mri_share")
LOWVALUE_MEASURES = ("lowvalue_rate", "lowvalue_share")
PROVIDER_MEASURES = ("private_mri_share", "private_xray_share")     # where the imaging was done
AREA_MEASURES = ("lowvalue_rate", "lowvalue_share", "xray_then_mri_share", "repeat_mri_share")
CHARTS = ("sankey", "pathways", "repeat", "lowvalue", "referrer", "areas", "providers")
