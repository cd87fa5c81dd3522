"""Incomplete years in the app: which years of a measure have a window reaching past the data.

Read from ``meta.coverage`` (written by :mod:`etl.coverage`); a database without it (built before
coverage was recorded) counts every year as complete. A measure is incomplete in a year when its
numerator or its denominator is (see :mod:`atlas.measures`).
"""
from __future__ import annotations

from atlas import db
from atlas.i18n import t
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


def complete(years, incomplete: dict[int, str]) -> bool:
    return not any(int(y) in incomplete for y in years)


def default_year(years: list[int] | None = None) -> int:
    """The last year in which every measure of the atlas (and both pathway windows) is complete; the
    last year when no year is (or coverage is unknown)."""
    years = list(years or db.years())
    bad: set[int] = set()
    for key in MEASURES:
        bad |= set(incomplete_years(key))
    for window in (90, 365):
        bad |= set(pathway_incomplete_years(window))
    good = [y for y in years if y not in bad]
    return good[-1] if good else years[-1]


def describe(incomplete: dict[int, str], lang: str) -> str:
    """"2013 (look-back), 2024 (follow-up)" in the reader's language."""
    words = {"follow-up": ("follow-up", "opfølgning"), "look-back": ("look-back", "tilbageblik"),
             "part-year": ("data for part of the year only", "data for kun en del af året")}

    def why(w: str) -> str:
        return " + ".join(words.get(p, (p, p))[1 if lang == "da" else 0] for p in w.split("+"))

    return ", ".join(f"{y} ({why(w)})" for y, w in incomplete.items())


def note(incomplete: dict[int, str], lang: str) -> str:
    return t("incomplete_years", lang).format(years=describe(incomplete, lang)) if incomplete else ""


def in_view(incomplete: dict[int, str], y0: int, y1: int) -> dict[int, str]:
    return {y: w for y, w in incomplete.items() if y0 <= y <= y1}
