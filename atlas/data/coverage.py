"""What the served database says of its own coverage (``meta.coverage``, written by
:mod:`etl.coverage`): the years of a measure, or of a pathway window, that are incomplete, and the
last year complete for all of them.

A database without it (built before coverage was recorded) counts every year as complete. A measure
is incomplete in a year when its numerator or its denominator is (see :mod:`atlas.measures`). The
words for them, the register breaks and the default year of the served source are
:mod:`atlas.coverage`'s.
"""
from __future__ import annotations

from atlas import db
from atlas.measures import MEASURES


def _incomplete() -> dict[str, dict[str, str]]:
    try:
        return (db.meta().get("coverage") or {}).get("incomplete") or {}
    except Exception:
        return {}


def incomplete_years(measure_key: str) -> dict[int, str]:
    """Year -> why it is incomplete ("follow-up", "look-back") for an atlas measure."""
    m = MEASURES.get(measure_key)
    if m is None:
        return {}
    table = _incomplete()
    out: dict[int, str] = {}
    for part in (m.numerator, m.denominator):
        for year, why in (table.get(part) or {}).items():
            parts = set(why.split("+")) | set(out.get(int(year), "").split("+")) - {""}
            out[int(year)] = "+".join(p for p in ("look-back", "follow-up", "part-year") if p in parts)
    return dict(sorted(out.items()))


def pathway_incomplete_years(window: int) -> dict[int, str]:
    """Year -> why, for the pathways of episodes followed up ``window`` days (90: short, else long)."""
    key = "outcome_short" if int(window) == 90 else "outcome_long"
    return {int(y): why for y, why in sorted((_incomplete().get(key) or {}).items())}


def last_complete_year(years: list[int]) -> int:
    """The last of ``years`` in which every measure of the atlas (and both pathway windows) is
    complete; the last year when no year is (or coverage is unknown)."""
    years = list(years)
    bad: set[int] = set()
    for key in MEASURES:
        bad |= set(incomplete_years(key))
    for window in (90, 365):
        bad |= set(pathway_incomplete_years(window))
    good = [y for y in years if y not in bad]
    return good[-1] if good else years[-1]
