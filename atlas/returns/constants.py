"""What the returns page shows: exam types, measures, counts and charts; the intervention's default date."""
from __future__ import annotations

from etl import vocabularies

EXAMS = vocabularies.codes("exam_type")
MEASURES = ("returned", "letters")
COUNTS = ("referrals", "returned", "letters")
DEFAULT_INTERVENTION = "2022-10-01"
PER = 1000
CHARTS = ("exam", "its", "centres", "summary")


RELEASE_ALL = "all"     # a release's published sum over centres
