"""The SKS classification file and the check of the configured codes against it.

``python -m etl codes check --sks FILE`` reads the complete SKS file that the Danish Health Data
Authority (Sundhedsdatastyrelsen) publishes for download (``SKScomplete.txt``: one record a line, fixed
width) and says, for every code of ``etl/config/codes/``, whether SKS knows it and whether it is valid
through the study years; then it lists the candidate codes: every radiology code (``UX``) whose text
names the lumbar or lumbosacral spine, and every spine code (body region ``E``) by hierarchy, marked
in the list or not, so that an analyst with the file settles the imaging list in minutes.

Layout read (positions counted from 1; the fields as documented in the authority's "SKS
tabelstruktur" for the download files, as implemented by a public parser that cites it, see
``etl/config/codes/README.md``)::

    1-3      record type (recart, e.g. "pro", "dia")
    4-23     SKS code, left-aligned, padded with spaces
    24-31    valid from (yyyymmdd)
    32-39    date of last change (yyyymmdd, may be blank)
    40-47    valid to (yyyymmdd; blank = no end date)
    48-167   code text (Danish), padded with spaces
    168-     further fields, not read

The file is read as bytes and cut at byte positions (the published file is in a one-byte Windows/Latin-1
encoding); each text is then decoded as UTF-8 if it is valid UTF-8, else as Windows-1252.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

FIELDS = {"record_type": (0, 3), "code": (3, 23), "valid_from": (23, 31), "changed": (31, 39),
          "valid_to": (39, 47), "text": (47, 167)}
MIN_LENGTH = 48                 # a record reaches at least into its text
OPEN_END = date(9999, 12, 31)
# a text naming the lumbar or lumbosacral spine (Danish SKS texts; with or without æ/ø/å)
LUMBAR = re.compile(r"lumbal|lumbo|l(æ|ae)nd|columna\s+lumbalis", re.I)
RADIOLOGY = "UX"
SPINE_REGION = "E"              # the 4th character of a radiology code: body region; E is the columna

# exit codes of `python -m etl codes check` (README, "Exit codes")
EXIT_OK, EXIT_FINDINGS, EXIT_MISSING, EXIT_MALFORMED, EXIT_CONFIG = 0, 1, 3, 4, 6


class MalformedSKS(Exception):
    """The file is not an SKS file in the fixed-width layout; the message names file and lines."""


@dataclass(frozen=True)
class Record:
    record_type: str
    code: str
    valid_from: date
    valid_to: date              # OPEN_END when blank
    text: str
    line: int


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace").strip()


def _date(raw: bytes, blank: date | None) -> date | None:
    s = raw.decode("ascii", errors="replace").strip()
    if not s:
        return blank
    if not re.fullmatch(r"\d{8}", s):
        raise ValueError(s)
    return date(int(s[:4]), int(s[4:6]), int(s[6:8]))


def read(path: Path, max_problems: int = 5) -> list[Record]:
    """Every record of the SKS file; :class:`MalformedSKS` naming the lines that do not fit the layout."""
    path = Path(path)
    if path.is_dir():
        raise MalformedSKS(f"{path} is a folder: give the SKS file itself (SKScomplete.txt)")
    data = path.read_bytes()            # FileNotFoundError is the caller's "missing file"
    records: list[Record] = []
    problems: list[str] = []
    todo = ("download SKScomplete.txt again from the Danish Health Data Authority's SKS download page and "
            "give it unchanged (not opened and saved in Excel, not converted to CSV)")
    if data[:4] in (b"PK\x03\x04",) or data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise MalformedSKS(f"{path} is {'a zip file' if data[:2] == b'PK' else 'UTF-16 text'}, not the fixed-width "
                           f"SKS text file: {'unzip it first' if data[:2] == b'PK' else todo}")
    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        def problem(what: str, number: int = number) -> None:
            problems.append(f"line {number}: {what}")
        if b";" in raw[:30] or b"\t" in raw[:30]:
            problem("has a separator (; or tab) where the fixed-width layout has none: a CSV export?")
        elif len(raw) < MIN_LENGTH:
            problem(f"is {len(raw)} characters long; a record has at least {MIN_LENGTH} (type, code, three dates, text)")
        else:
            rtype = raw[0:3].decode("ascii", errors="replace").strip()
            code = raw[3:23].decode("ascii", errors="replace").strip()
            if not re.fullmatch(r"[A-Za-z]{1,3}", rtype):
                problem(f"record type '{rtype}' in columns 1-3 is not letters")
            elif not code or " " in code:
                problem(f"the code in columns 4-23 is {'empty' if not code else repr(code)}")
            else:
                try:
                    start = _date(raw[23:31], None)
                    _date(raw[31:39], None)
                    end = _date(raw[39:47], OPEN_END)
                except ValueError as exc:
                    problem(f"'{exc}' in a date column (24-31, 32-39 or 40-47) is not a date yyyymmdd")
                else:
                    if start is None:
                        problem("the valid-from date in columns 24-31 is blank")
                    else:
                        records.append(Record(rtype, code, start, end, _text(raw[47:167]), number))
        if len(problems) >= max_problems:
            break
    if problems:
        raise MalformedSKS(f"{path} does not have the SKS fixed-width layout (record type 1-3, code 4-23, dates "
                           f"24-31, 32-39, 40-47, text 48-167): " + "; ".join(problems)
                           + f". What to do: {todo}.")
    if not records:
        raise MalformedSKS(f"{path} holds no SKS records (it is empty). What to do: {todo}.")
    return records


@dataclass
class Finding:
    list: str
    code: str
    match: str
    verdict: str                # ok | unknown | not_valid_throughout | text_differs
    detail: str
    sks_text: str = ""


@dataclass
class Report:
    path: Path
    records: int
    first_day: date
    last_day: date
    findings: list[Finding] = field(default_factory=list)
    candidates: list[tuple[str, str, str, bool]] = field(default_factory=list)   # code, text, validity, in list
    spine: list[tuple[str, str, str, bool]] = field(default_factory=list)

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.verdict in ("unknown", "not_valid_throughout")]


def _validity(recs: list[Record]) -> str:
    return ", ".join(f"{r.valid_from:%Y-%m-%d} to {'open' if r.valid_to == OPEN_END else f'{r.valid_to:%Y-%m-%d}'}"
                     for r in sorted(recs, key=lambda r: r.valid_from))


def _covered(recs: list[Record], first: date, last: date) -> bool:
    """Whether the records' validity periods together cover first..last without a gap."""
    day = first
    for r in sorted(recs, key=lambda r: r.valid_from):
        if r.valid_from > day:
            return False
        if r.valid_to >= day:
            if r.valid_to >= last:
                return True
            day = date.fromordinal(r.valid_to.toordinal() + 1)
    return False


def _fold(text: str) -> str:
    """Texts compared without case, spacing or the Danish letters' spelling (æ/ae, ø/oe, å/aa)."""
    t = text.lower().translate(str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"}))
    return re.sub(r"\s+", " ", t).strip()


def check(path: Path, entries, first_year: int, last_year: int) -> Report:
    """Each configured code (:func:`etl.codes.configured_codes`) against the SKS file, and the candidates."""
    records = read(path)
    by_code: dict[str, list[Record]] = {}
    for r in records:
        by_code.setdefault(r.code, []).append(r)
    codes = sorted(by_code)
    first, last = date(first_year, 1, 1), date(last_year, 12, 31)
    report = Report(Path(path), len(records), first, last)
    listed_exact = {e.code for e in entries if e.match == "exact"}
    listed_prefix = [e.code for e in entries if e.match == "prefix"]
    for e in entries:
        own = by_code.get(e.code, [])
        under = [c for c in codes if c.startswith(e.code)] if e.match == "prefix" else [e.code] if own else []
        if not under:
            report.findings.append(Finding(e.list, e.code, e.match, "unknown",
                                           "not in the SKS file" + (" (no code starts with it)" if e.match == "prefix" else "")))
            continue
        if own and not _covered(own, first, last):
            report.findings.append(Finding(e.list, e.code, e.match, "not_valid_throughout",
                                           f"valid {_validity(own)}; the study years are {first_year}-{last_year}",
                                           own[-1].text))
            continue
        if own and _fold(own[-1].text) != _fold(e.text_da):
            report.findings.append(Finding(e.list, e.code, e.match, "text_differs",
                                           f"the list says '{e.text_da}'", own[-1].text))
            continue
        detail = f"valid {_validity(own)}" if own else f"{len(under)} codes start with it"
        if e.match == "exact":
            children = [c for c in codes if c.startswith(e.code) and c != e.code]
            if children:
                detail += "; sub-codes not in the list: " + ", ".join(
                    f"{c} ({by_code[c][-1].text})" for c in children)
        report.findings.append(Finding(e.list, e.code, e.match, "ok", detail, own[-1].text if own else ""))

    def listed(code: str) -> bool:
        return code in listed_exact or any(code.startswith(p) for p in listed_prefix)

    for code in codes:
        if not code.startswith(RADIOLOGY):
            continue
        recs = by_code[code]
        row = (code, recs[-1].text, _validity(recs), listed(code))
        if LUMBAR.search(recs[-1].text):
            report.candidates.append(row)
        if len(code) >= 4 and code[3] == SPINE_REGION:
            report.spine.append(row)
    return report


def render(report: Report) -> str:
    marks = {"ok": "ok     ", "unknown": "UNKNOWN", "not_valid_throughout": "EXPIRED", "text_differs": "TEXT   "}
    lines = [f"SKS file {report.path}: {report.records:,} records. Study years "
             f"{report.first_day.year}-{report.last_day.year}.", "",
             "Configured codes (etl/config/codes/):"]
    for f in report.findings:
        lines.append(f"  {marks[f.verdict]} {f.list:<20} {f.code:<8} {f.sks_text or '':<45} {f.detail}")
    lines += ["", "Candidates: radiology codes (UX) whose text names the lumbar or lumbosacral spine "
                  "([x] = counted by the imaging list):"]
    lines += [f"  [{'x' if inl else ' '}] {c:<9} {text:<55} {v}" for c, text, v, inl in report.candidates] or ["  (none)"]
    lines += ["", "By hierarchy: every radiology code of the spine (body region E, 4th character):"]
    lines += [f"  [{'x' if inl else ' '}] {c:<9} {text:<55} {v}" for c, text, v, inl in report.spine] or ["  (none)"]
    n = len(report.problems)
    lines += ["", (f"{n} configured code(s) unknown to this SKS file or not valid through the study years: "
                   "correct etl/config/codes/ (and each row's valid_from/valid_to, status and source)."
                   if n else "Every configured code is in this SKS file and valid through the study years.")]
    return "\n".join(lines)
