"""The code lists with their provenance (``etl/config/codes/``), read and checked as one.

Each code list is a CSV with, beside the code and what the atlas does with it, where the code comes
from: ``classification``, ``valid_from`` / ``valid_to`` (yyyy-mm-dd, empty when not known),
``status`` and ``source`` (a section of ``sources.toml``), and its text in English and Danish
(``description_en``, ``description_da``). ``status`` is

``verified``
    the code, with this Danish text, is in the source named (for SKS codes: a copy of SKS; whether
    the code is valid in every study year is for ``python -m etl codes check --sks FILE`` to say);
``unverified``
    no source consulted confirmed it: the build says so in its summary and the methods page shows it;
``definition``
    a choice of the atlas itself (low-value criteria), not taken from a source.

The build and the methods page read :func:`provenance`; the codes check reads :func:`configured_codes`.
"""
from __future__ import annotations

import csv
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from etl.settings import CONFIG_DIR, ConfigError

CODES_DIR = CONFIG_DIR / "codes"

# list name -> (the column holding the code, how it matches: "exact" or "prefix", what it is for)
LISTS = {
    "imaging_procedures": ("code", "exact", "lumbar imaging (X-ray, MRI)"),
    "diagnoses": ("code_prefix", "prefix", "lumbar and red-flag diagnoses"),
    "surgery": ("code_prefix", "prefix", "spine surgery"),
    "rehabilitation_plans": ("code_prefix", "prefix", "rehabilitation plans"),
    "low_value_criteria": ("criterion", "criterion", "potentially low-value imaging: the criteria"),
}
PROVENANCE = ("description_en", "description_da", "status", "source")
CODE_PROVENANCE = ("classification", "valid_from", "valid_to")
STATUSES = ("verified", "unverified", "definition")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Entry:
    """One row of a code list, with where it comes from."""
    list: str
    code: str
    match: str              # exact | prefix | criterion
    status: str
    source: str
    text_en: str
    text_da: str
    classification: str = ""
    valid_from: str = ""
    valid_to: str = ""
    line: int = 0


def sources(directory: Path = CODES_DIR) -> dict[str, dict]:
    path = directory / "sources.toml"
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path} is missing: it names the sources of the code lists") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix the line named") from None


def read_list(name: str, directory: Path = CODES_DIR, known_sources: dict | None = None) -> list[Entry]:
    """The rows of one code list; a :class:`ConfigError` naming the file, line and column for a row
    without its provenance."""
    column, match, _ = LISTS[name]
    path = directory / f"{name}.csv"
    known = sources(directory) if known_sources is None else known_sources
    need = (column, *PROVENANCE, *(CODE_PROVENANCE if match != "criterion" else ()))
    try:
        fh = open(path, newline="", encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"the code list {path} is missing") from None
    with fh:
        reader = csv.DictReader(fh)
        missing = [c for c in need if c not in (reader.fieldnames or [])]
        if missing:
            raise ConfigError(f"{path}: the header lacks the column(s) {', '.join(missing)}; every code list "
                              f"says where each code comes from (see {directory / 'README.md'})")
        out = []
        for line, row in enumerate(reader, start=2):
            def bad(col: str, what: str, line: int = line) -> ConfigError:
                return ConfigError(f"{path}, line {line}, column {col}: {what}")
            code = (row[column] or "").strip()
            if not code:
                raise bad(column, "is empty")
            for col in PROVENANCE:
                if not (row[col] or "").strip():
                    raise bad(col, f"is empty for {code}: give it (see {directory / 'README.md'})")
            if row["status"] not in STATUSES:
                raise bad("status", f"'{row['status']}' is not one of {', '.join(STATUSES)}")
            if row["source"] not in known:
                raise bad("source", f"'{row['source']}' is not a section of {directory / 'sources.toml'}")
            for col in ("valid_from", "valid_to"):
                value = (row.get(col) or "").strip()
                if value and not DATE.fullmatch(value):
                    raise bad(col, f"'{value}' is not a date yyyy-mm-dd (leave it empty when not known)")
            out.append(Entry(name, code, match, row["status"], row["source"], row["description_en"],
                             row["description_da"], (row.get("classification") or "").strip(),
                             (row.get("valid_from") or "").strip(), (row.get("valid_to") or "").strip(), line))
    return out


def read_list_rows(name: str, directory: Path = CODES_DIR) -> list[dict[str, str]]:
    """The raw rows of a code list (every column, e.g. ``modality`` and ``group``)."""
    with open(directory / f"{name}.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def provenance(directory: Path = CODES_DIR) -> dict[str, list[Entry]]:
    """Every code list's rows, checked (a :class:`ConfigError` for the first row that lacks provenance)."""
    known = sources(directory)
    return {name: read_list(name, directory, known) for name in LISTS}


def configured_codes(directory: Path = CODES_DIR) -> list[Entry]:
    """The SKS codes of every list (the low-value criteria are not codes)."""
    return [e for rows in provenance(directory).values() for e in rows if e.match != "criterion"]


def unverified(lists: dict[str, list[Entry]]) -> list[Entry]:
    return [e for rows in lists.values() for e in rows if e.status == "unverified"]


def validity_breaks(lists: dict[str, list[Entry]], first_year: int, last_year: int) -> dict[int, list[str]]:
    """Years inside the study years in which counting changes because a configured code starts or stops
    being valid (the lists' ``valid_from`` / ``valid_to``): year -> the codes. A code valid from the
    first study year or before, or to the last day of the last one or after, makes no break."""
    out: dict[int, list[str]] = {}
    for e in (e for rows in lists.values() for e in rows):
        if e.valid_from and first_year < int(e.valid_from[:4]) <= last_year:
            out.setdefault(int(e.valid_from[:4]), []).append(e.code)
        if e.valid_to:
            # the year counting changes: the next one when the code ends on 31 December, else its own
            year = int(e.valid_to[:4]) + (e.valid_to[5:] == "12-31")
            if first_year < year <= last_year:
                out.setdefault(year, []).append(e.code)
    return {y: sorted(set(c)) for y, c in sorted(out.items())}


def summary(lists: dict[str, list[Entry]]) -> dict:
    """For the build's summary and ``meta``: counts by status and the unverified codes by list."""
    entries = [e for rows in lists.values() for e in rows]
    return {
        "entries": len(entries),
        "verified": sum(e.status == "verified" for e in entries),
        "definition": sum(e.status == "definition" for e in entries),
        "unverified": {name: [e.code for e in rows if e.status == "unverified"]
                       for name, rows in lists.items() if any(e.status == "unverified" for e in rows)},
        "sources": sorted({e.source for e in entries}),
    }


def summary_line(s: dict) -> str:
    """One line for the build's output."""
    n_unverified = sum(len(v) for v in s["unverified"].values())
    text = (f"Code lists: {s['entries']} entries, {s['verified']} verified against their sources, "
            f"{s['definition']} the atlas's own definitions, {n_unverified} UNVERIFIED")
    if n_unverified:
        text += " (" + "; ".join(f"{k}: {', '.join(v)}" for k, v in s["unverified"].items()) + ")"
    return text + ". Check every code against the current SKS file: python -m etl codes check --sks FILE"
