"""The measures a reader can map: a thin re-export of the domain registry (:mod:`etl.domain`),
where every measure is defined once for the ETL, the release and the app."""
from __future__ import annotations

from etl.domain import MEASURES, Measure, measures_with_estimates

__all__ = ["MEASURES", "Measure", "measures_with_estimates"]
