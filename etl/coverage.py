"""Which years of each measure have complete windows, stored in the app database's ``meta``.

A measure that looks forward from an imaging (spine surgery within 365 days, X-ray then MRI within 90
days, what followed an episode) is incomplete in a year whose last imaging's window reaches past the
last date of the data it follows up in; a measure that looks back (an episode needs 365 clean days
before it; low-value imaging looks for red flags and back pain in the year before; repeat MRI looks
for an MRI in the year before) is incomplete in a year whose first imaging's window starts before the
first date of the data it looks back in (each source's own first date: look-back data may begin before
the study years). The data end on one date for all sources: the last date in any of them. Such a year would show an artificial change (fewer
outcomes, more "new" episodes), so the app marks it, leaves it out of its default view and explains
it on the methods page.

``meta.coverage`` is::

    {"data": {"imaging": ["2013-01-01", "2024-12-31"], ...},   # first and last date of each source
     "windows": {"surgery_long": {"follow_up_days": 365, "sources": [...]}, ...},
     "incomplete": {"surgery_long": {"2024": "follow-up"}, "episode": {"2013": "look-back"}, ...},
     "breaks": {"imaging": {"2019": "lpr3"}, ...},                  # year the series is counted anew
     "dimension_breaks": {"referrer": {"2019": "referrer_coding"}},  # breaks of one breakdown only
     "break_notes": {"lpr3": {"en": "...", "da": "..."}, ...}}

keyed by the imaging cube's measures (``n_<name>``) and the episode cube's outcomes. Breaks (a change
of register, of coding, or of a configured code's validity) come from ``etl/config/breaks.toml`` and
the code lists' validity dates: a year is marked as the first year counted the new way.
"""
from __future__ import annotations

from datetime import date, timedelta

from etl.settings import CONFIG_DIR, ConfigError, Settings

# source -> (staging table, date column)
SOURCES = {
    "imaging": ("stg_imaging", "procedure_date"),
    "diagnoses": ("stg_diagnoses", "diagnosis_date"),
    "surgery": ("stg_surgery", "surgery_date"),
    "rehabilitation": ("stg_rehabilitation", "plan_date"),
}


def windows(settings: Settings) -> dict[str, dict]:
    """Each cube measure's look-back and follow-up (days) and the sources they read."""
    w = settings.windows
    short, long_ = w["follow_up_short_days"], w["follow_up_long_days"]
    episode = {"look_back_days": w["episode_clean_days"], "look_back_sources": ["imaging"]}
    outcome = ["diagnoses", "surgery", "rehabilitation"]
    return {
        "imaging": {},
        "first": {},
        "episode": episode,
        "low_value": {"look_back_days": max(w["episode_clean_days"], w["red_flag_lookback_days"],
                                            w["back_pain_lookback_days"]),
                      "look_back_sources": ["imaging", "diagnoses"]},
        "diag_short": {"follow_up_days": short, "follow_up_sources": ["diagnoses"]},
        "surgery_short": {"follow_up_days": short, "follow_up_sources": ["surgery"]},
        "surgery_long": {"follow_up_days": long_, "follow_up_sources": ["surgery"]},
        "rehab_short": {"follow_up_days": short, "follow_up_sources": ["rehabilitation"]},
        "rehab_long": {"follow_up_days": long_, "follow_up_sources": ["rehabilitation"]},
        "xray_then_mri": {"follow_up_days": w["xray_then_mri_days"], "follow_up_sources": ["imaging"]},
        "repeat_mri": {"look_back_days": w["repeat_mri_days"], "look_back_sources": ["imaging"]},
        # the pathways page: episodes and what followed them within the short or long window
        "outcome_short": {**episode, "follow_up_days": short, "follow_up_sources": outcome},
        "outcome_long": {**episode, "follow_up_days": long_, "follow_up_sources": outcome},
    }


def incomplete_years(spec: dict, years: list[int], data: dict[str, tuple[date | None, date | None]]) -> dict[str, str]:
    """Year (as text) -> "follow-up" or "look-back" (or both, joined by "+") for one measure."""
    out: dict[str, str] = {}
    starts = [data[s][0] for s in spec.get("look_back_sources", []) if data.get(s, (None, None))[0] is not None]
    # the data end where the extraction period ends: the last date in any source (a sparse source's
    # last event, days before that, is not the end of its data)
    last = [v[1] for v in data.values() if v[1] is not None]
    ends = [max(last)] if last and spec.get("follow_up_sources") else []
    for y in years:
        why = []
        if spec.get("look_back_days") and starts and date(y, 1, 1) - timedelta(days=spec["look_back_days"]) < max(starts):
            why.append("look-back")
        if spec.get("follow_up_days") and ends and date(y, 12, 31) + timedelta(days=spec["follow_up_days"]) > min(ends):
            why.append("follow-up")
        if why:
            out[str(y)] = "+".join(why)
    return out


def load_breaks(path=None) -> list[dict]:
    """The configured breaks (``etl/config/breaks.toml``), checked."""
    import tomllib

    path = path or CONFIG_DIR / "breaks.toml"
    try:
        with open(path, "rb") as fh:
            rows = tomllib.load(fh).get("breaks", [])
    except FileNotFoundError:
        return []
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc})") from None
    for i, b in enumerate(rows, start=1):
        missing = [k for k in ("key", "year", "measures", "en", "da") if k not in b]
        if missing:
            raise ConfigError(f"{path}, break {i}: lacks {', '.join(missing)} (see the comment at the top of the file)")
    return rows


def breaks(settings: Settings, measures, code_lists: dict | None = None, path=None) -> dict:
    """``breaks``, ``dimension_breaks`` and ``break_notes`` of ``meta.coverage`` (see the module docstring):
    the configured breaks inside the study years and the years a configured code starts or stops being valid."""
    from etl.codes import validity_breaks

    rows = [b for b in load_breaks(path) if settings.first_year < int(b["year"]) <= settings.last_year]
    for year, changed in validity_breaks(code_lists or {}, settings.first_year, settings.last_year).items():
        rows.append({"key": f"code_list_{year}", "year": year, "measures": "all",
                     "en": f"Codes of the code lists start or stop being valid in {year}: {', '.join(changed)}.",
                     "da": f"Koder i kodelisterne bliver gyldige eller udgår i {year}: {', '.join(changed)}."})
    by_measure: dict[str, dict[str, str]] = {}
    by_dimension: dict[str, dict[str, str]] = {}

    def add(table: dict, key: str, year: int, why: str) -> None:
        cell = table.setdefault(key, {})
        cell[str(year)] = why if str(year) not in cell else cell[str(year)] + "+" + why

    for b in rows:
        if b.get("dimension"):
            add(by_dimension, b["dimension"], int(b["year"]), b["key"])
            continue
        for m in (measures if b["measures"] == "all" else b["measures"]):
            add(by_measure, m, int(b["year"]), b["key"])
    return {"breaks": by_measure, "dimension_breaks": by_dimension,
            "break_notes": {b["key"]: {"en": b["en"], "da": b["da"], "year": int(b["year"])} for b in rows}}


def compute(con, settings: Settings, years: list[int] | None = None, code_lists: dict | None = None,
            partial_years: dict | None = None) -> dict:
    """The ``coverage`` entry of ``meta`` from the staged extracts (see the module docstring).

    ``partial_years`` (year -> which months are missing) are the first or last years that the
    ``partial_year`` check found cut short and the analyst let through (``--allow-partial-year``):
    such a year is incomplete for every measure ("part-year"), whatever its windows."""
    data: dict[str, tuple[date | None, date | None]] = {}
    for name, (table, column) in SOURCES.items():
        try:
            lo, hi = con.execute(f"SELECT min({column})::DATE, max({column})::DATE FROM {table}").fetchone()
        except Exception:           # a source a build does not have: nothing known about it
            lo, hi = None, None
        data[name] = (lo, hi)
    years = years or settings.years
    spec = windows(settings)
    incomplete = {k: incomplete_years(s, years, data) for k, s in spec.items()}
    for year in partial_years or {}:
        for marks in incomplete.values():
            why = marks.get(str(year))
            marks[str(year)] = f"{why}+part-year" if why else "part-year"
    out = {
        "data": {k: [v[0].isoformat() if v[0] else None, v[1].isoformat() if v[1] else None] for k, v in data.items()},
        "windows": spec,
        "incomplete": incomplete,
        **breaks(settings, list(spec), code_lists),
    }
    if partial_years:
        out["partial_years"] = {str(y): why for y, why in partial_years.items()}
    return out
