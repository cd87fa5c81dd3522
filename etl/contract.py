"""The data contract of the input extracts, as data.

Each table lists its canonical columns with a type and the rules a value must meet. The rules are
SQL predicates over the typed column (``{c}`` stands for it) that are true for a good value; the
staging layer turns them into validation queries and error messages. ``docs/data-contract.md`` is
the readable version of this file: keep them in step. The coded values (sex, education, referrer,
exam type, ...) are the vocabularies of ``etl/config/vocabularies.toml``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from etl.settings import Settings, read_code_list
from etl.vocabularies import codes


@dataclass
class Problem:
    file: str
    table: str
    column: str
    n_rows: int
    problem: str
    examples: list = field(default_factory=list)
    hint: str = ""

    def __str__(self) -> str:
        col = f", column '{self.column}'" if self.column else ""
        ex = f" (for example: {', '.join(map(str, self.examples))})" if self.examples else ""
        rows = f"{self.n_rows:,} row{'s' if self.n_rows != 1 else ''} " if self.n_rows else ""
        what = f"{rows}{self.problem}{ex}."
        return f"{self.file}{col}: {what}" + (f" What to do: {self.hint}." if self.hint else "")


class ContractError(Exception):
    """The extracts break the data contract; the message lists every problem found."""

    def __init__(self, problems: list[Problem], lenient_possible: bool = True):
        self.problems = problems
        lines = [f"The input does not meet the data contract (docs/data-contract.md): {len(problems)} problem(s)."]
        lines += [f"  - {p}" for p in problems]
        if lenient_possible:
            lines.append("Fix the extract, or run the build with --lenient to drop the bad rows and get a "
                         "rejection report. The previous database has not been changed.")
        else:
            lines.append("The previous database has not been changed.")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Rule:
    predicate: str          # SQL, true for a good value; {c} is the typed column
    problem: str            # what is wrong with a row that fails, in words
    hint: str = ""          # what to do about it
    text_only: bool = False # only a text value can break it: not evaluated on a column typed as a number


@dataclass(frozen=True)
class Column:
    name: str
    type: str               # id | integer | text | date | boolean
    rules: tuple[Rule, ...] = ()
    required: bool = True


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    unique: tuple[str, ...] = ()          # a key no two rows may share
    unique_hint: str = ""
    scope: tuple[tuple[str, str], ...] = ()   # (reason, SQL true for a row in scope): rows outside are ignored and counted by reason
    large: bool = False                   # kept as a view over the files, not copied
    optional: bool = False                # an extract that may be absent (the build then counts nothing from it)
    extra: dict = field(default_factory=dict)

    @property
    def row_filter(self) -> str:
        """SQL true for a row inside the contract's scope ("" when every row is)."""
        return " AND ".join(f"({sql})" for _, sql in self.scope)


def _in(values) -> str:
    return ", ".join(f"'{v}'" if isinstance(v, str) else str(v) for v in values)


def _member(values) -> str:
    """SQL true when {c} is one of ``values``. A long list is matched through a subquery (a hash
    join): DuckDB compares a long constant IN list value by value, 20x slower on 69 million rows."""
    if len(values) > 16:
        return f"{{c}} IN (SELECT unnest([{_in(values)}]))"
    return f"{{c}} IN ({_in(values)})"


def _set_rule(values, what: str) -> Rule:
    return Rule(_member(values), f"are not one of {what} ({', '.join(map(str, values))})",
                "recode them in the extract, or map the codes in the [tables.X.values] section of the column mapping")


NOT_FUTURE = Rule("{c} <= current_date", "are dates in the future",
                  "check the extract's date column and its format (ISO yyyy-mm-dd, or dd-mm-yyyy)")


def contract(settings: Settings) -> dict[str, Table]:
    """The tables of the contract, with code lists and study years from the configuration."""
    kommuner = municipality_codes(settings)
    imaging_codes = [r["code"] for r in read_code_list("imaging_procedures")]
    pid = Column("person_id", "id", (Rule("length(CAST({c} AS VARCHAR)) > 0", "have an empty person id", text_only=True),))
    return {
        "population": Table(
            "population",
            (
                pid,
                Column("year", "integer"),
                Column("birth_year", "integer", (Rule(
                    f"{{c}} BETWEEN {settings.min_birth_year} AND year",
                    f"have a birth year before {settings.min_birth_year} or after the year of the row",
                    f"check the birth year (the contract accepts {settings.min_birth_year} to the row's year; "
                    "[contract] min_birth_year in etl/config/settings.toml)"),)),
                Column("sex", "integer", (_set_rule(codes("sex"), "the sex codes"),)),
                Column("municipality", "integer", (Rule(
                    _member(kommuner),
                    "are not one of the 98 municipality codes",
                    "codes from before the 2007 municipal reform must be mapped to today's municipalities first",
                ),)),
                Column("education", "integer", (_set_rule(codes("education"), "the education levels"),)),
                Column("income_quintile", "integer", (_set_rule(codes("income"), "the income quintiles"),)),
                Column("origin", "integer", (_set_rule(codes("origin"), "the origin codes"),)),
                Column("labour_status", "integer", (_set_rule(codes("labour"), "the labour-market status codes"),)),
            ),
            unique=("person_id", "year"),
            unique_hint="the population extract must have one row per person and year (status on 1 January)",
            extra={"recode": {"municipality": settings.municipality_recode}},
            scope=(("outside_study_years", f"year BETWEEN {settings.first_year} AND {settings.last_year}"),),
            large=True,
        ),
        "imaging": Table(
            "imaging",
            (
                pid,
                Column("procedure_date", "date", (NOT_FUTURE,)),
                Column("procedure_code", "text"),
                Column("priority", "text", (_set_rule(codes("priority"), "the priorities"),)),
                Column("referrer_type", "text", (_set_rule(codes("referrer"), "the referrer types"),)),
                Column("producer_type", "text", (_set_rule(codes("producer_type"), "the producer types"),)),
                Column("producer_id", "text", (Rule("length({c}) > 0", "have an empty producer id"),)),
            ),
            unique=("person_id", "procedure_date", "procedure_code", "producer_id"),
            unique_hint="the same procedure appears twice; remove duplicate rows from the extract",
            scope=(("outside_code_list", f"procedure_code IN ({_in(imaging_codes)})"),
                   ("outside_study_years",
                    f"year(procedure_date) BETWEEN {settings.first_year} AND {settings.last_year}")),
        ),
        "diagnoses": Table(
            "diagnoses",
            (
                pid,
                Column("diagnosis_date", "date", (NOT_FUTURE,)),
                Column("icd10", "text", (Rule("regexp_full_match({c}, 'D[A-Z][0-9A-Z]*')",
                                              "are not SKS ICD-10 codes (D + letter + digits, e.g. DM545)",
                                              "SKS diagnosis codes start with D; add it if the extract dropped it"),)),
            ),
        ),
        "surgery": Table(
            "surgery",
            (
                pid,
                Column("surgery_date", "date", (NOT_FUTURE,)),
                Column("procedure_code", "text", (Rule("regexp_full_match({c}, 'K[A-Z]{2,}[0-9A-Z]*')",
                                                       "are not NOMESCO operation codes (K + letters + digits, e.g. KABC16)"),)),
            ),
        ),
        "rehabilitation": Table(
            "rehabilitation",
            (pid, Column("plan_date", "date", (NOT_FUTURE,))),
        ),
        # Chiropractors' own X-rays, from the health-insurance register (SSSY: speciale 53, the X-ray
        # service codes): billing records by fee week, with no date, body region or SKS code. Counted as
        # their own measure (billing-based, not lumbar-specific), never as lumbar imaging.
        "chiro_billing": Table(
            "chiro_billing",
            (
                pid,
                Column("fee_week", "integer", (Rule(
                    "{c} // 100 BETWEEN 1990 AND 2100 AND {c} % 100 BETWEEN 1 AND 53",
                    "are not fee weeks written yyyyww (e.g. 201905 for week 5 of 2019)",
                    "SSSY's HONUGE is yyww: write it as yyyyww (20yy for yy below 90, else 19yy)"),)),
                Column("service_code", "text", (Rule("length({c}) > 0", "have an empty service code"),)),
            ),
            scope=(("outside_study_years",
                    f"fee_week // 100 BETWEEN {settings.first_year} AND {settings.last_year}"),),
            optional=True,
        ),
        "referrals_received": Table(
            "referrals_received",
            (
                Column("month", "date", (Rule("day({c}) = 1", "are not the first day of a month"), NOT_FUTURE)),
                Column("exam_type", "text", (_set_rule(codes("exam_type"), "the exam types"),)),
                Column("producer_id", "text"),
                Column("centre", "text"),
                Column("referrals", "integer", (Rule("{c} >= 0", "are negative"),)),
            ),
            unique=("month", "exam_type", "producer_id", "centre"),
            unique_hint="one row per month, exam type and producer",
        ),
        "returned_referrals": Table(
            "returned_referrals",
            (
                Column("return_date", "date", (NOT_FUTURE,)),
                Column("exam_type", "text", (_set_rule(codes("exam_type"), "the exam types"),)),
                Column("producer_id", "text"),
                Column("centre", "text"),
                Column("return_letter", "boolean"),
            ),
        ),
    }


def municipality_codes(settings: Settings) -> list[int]:
    import csv

    path = settings.reference_dir / "municipalities.csv"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: the shared reference folder must stand beside the repository (../shared/reference)."
        )
    with open(path, newline="", encoding="utf-8") as fh:
        return sorted(int(r["kommune_code"]) for r in csv.DictReader(fh))
