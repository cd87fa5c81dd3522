"""Incomplete years and register breaks in the app: which years of a measure have a window reaching
past the data, where a series changes how it counts, and the words for both.

The incomplete years are read by the data layer (:mod:`atlas.data.coverage`, from ``meta.coverage``
written by :mod:`etl.coverage`) and named here too; :func:`default_year` is the last year of the
served source that is complete for every measure.
"""
from __future__ import annotations

from atlas import data, db
from atlas.data.coverage import incomplete_years, last_complete_year, pathway_incomplete_years
from atlas.i18n import t
from atlas.measures import MEASURES

__all__ = ["break_dimensions", "break_note", "break_text", "breaks", "comparison_note", "complete", "default_year",
           "describe", "in_view", "incomplete_years", "note", "pathway_incomplete_years", "spans_break"]


def complete(years, incomplete: dict[int, str]) -> bool:
    return not any(int(y) in incomplete for y in years)


def default_year(years: list[int] | None = None) -> int:
    """The last year in which every measure of the atlas (and both pathway windows) is complete; the
    last year when no year is (or coverage is unknown). ``years``: default the served source's."""
    return last_complete_year(list(years or data.years()))


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


# Register breaks (meta.coverage.breaks, written by etl.coverage from etl/config/breaks.toml and the
# code lists' validity): marked like incomplete years, but as a line between two years.

def _coverage_part(key: str) -> dict:
    try:
        return (db.meta().get("coverage") or {}).get(key) or {}
    except Exception:
        return {}


def breaks(measure_key: str, dimensions=()) -> dict[int, str]:
    """Year -> the break's key(s) ("lpr3", "referrer_coding", ...) for an atlas measure: the first
    year counted the new way. ``dimensions``: the breakdowns the reader looks at (e.g. "referrer")."""
    m = MEASURES.get(measure_key)
    table = _coverage_part("breaks")
    out: dict[int, set[str]] = {}
    for part in ((m.numerator, m.denominator) if m is not None else ()):
        for year, why in (table.get(part) or {}).items():
            out.setdefault(int(year), set()).update(why.split("+"))
    dim_table = _coverage_part("dimension_breaks")
    for dim in dimensions:
        for year, why in (dim_table.get(dim) or {}).items():
            out.setdefault(int(year), set()).update(why.split("+"))
    return {y: "+".join(sorted(w)) for y, w in sorted(out.items())}


def pathway_breaks(window: int) -> dict[int, str]:
    """Year -> the break's key(s) for the pathways of episodes followed up ``window`` days: the breaks
    of their outcomes and of the referrer's coding (the pathways go by referrer)."""
    key = "outcome_short" if int(window) == 90 else "outcome_long"
    out: dict[int, set[str]] = {}
    for table, part in ((_coverage_part("breaks"), key), (_coverage_part("dimension_breaks"), "referrer")):
        for year, why in (table.get(part) or {}).items():
            out.setdefault(int(year), set()).update(why.split("+"))
    return {y: "+".join(sorted(w)) for y, w in sorted(out.items())}


def break_dimensions(view) -> tuple[str, ...]:
    """The breakdowns of a view that have breaks of their own: the referrer when one is chosen."""
    return ("referrer",) if view.dim("referrer") not in (None, "all") else ()


def break_text(key: str, lang: str) -> str:
    """What changed at a break, in the reader's language ("" for an unknown key)."""
    note = _coverage_part("break_notes").get(key) or {}
    return note.get("da" if lang == "da" else "en", "")


def spans_break(y0: int, y1: int, br: dict[int, str]) -> dict[int, str]:
    """The breaks between two years compared: a break year b with y0 < b <= y1."""
    return {y: w for y, w in br.items() if int(y0) < int(y) <= int(y1)}


def break_note(br: dict[int, str], lang: str) -> str:
    """"Break in the series: 2019: ... " for the breaks given, or ""."""
    if not br:
        return ""
    parts = [f"{y}: " + " ".join(break_text(k, lang) for k in w.split("+")) for y, w in br.items()]
    return t("break_note", lang).format(breaks=" ".join(parts))


def comparison_note(measure_key: str, y0: int, y1: int, lang: str) -> str:
    """" Break in the series ..." when a comparison of y0 with y1 spans a register break, else ""."""
    across = spans_break(y0, y1, breaks(measure_key))
    return " " + break_note(across, lang) if across else ""
