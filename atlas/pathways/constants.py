"""What the pathways page shows: outcomes, follow-up windows, the measures of each chart."""
from __future__ import annotations

from atlas.filters import DIMENSIONS

OUTCOMES = ("surgery", "rehabilitation", "diagnosis", "none")
HIDDEN = "hidden"                       # the merged hidden cells of a row
COLUMNS = OUTCOMES + (HIDDEN,)          # the outcome columns as shown
MODALITIES = DIMENSIONS["modality"][1]
REFERRERS = DIMENSIONS["referrer"][1]
WINDOWS = (90, 365)
WINDOW_COLUMN = {90: "outcome_short", 365: "outcome_long"}
REPEAT_MEASURES = ("xray_then_mri_share", "repeat_mri_share")
LOWVALUE_MEASURES = ("lowvalue_rate", "lowvalue_share")
PROVIDER_MEASURES = ("private_mri_share", "private_xray_share")     # where the imaging was done
AREA_MEASURES = ("lowvalue_rate", "lowvalue_share", "xray_then_mri_share", "repeat_mri_share")
CHARTS = ("sankey", "pathways", "repeat", "lowvalue", "referrer", "areas", "providers")
