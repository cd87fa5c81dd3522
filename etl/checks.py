"""Plausibility checks of the staged extracts, and the count of every row the build leaves out.

The contract (``etl/contract.py``) says what a row must look like; these checks say whether the
data *as a whole* are believable: no empty table, no study year far below its neighbours, dates
inside the study years, procedure codes that are not near-misses of the code list, person ids of
one type in every file, no timestamps with a time zone, and no large share of rows left out at
any step. A failed check stops the build (:class:`ImplausibleData`) with the file, column, rows,
examples and what to do, unless the analyst overrides it knowingly (``--allow-<check>``); an
override is kept in :class:`Checks` and ends up in the build summary and the database.

Thresholds live in ``etl/config/checks.toml``. Each step's rows left out, by reason, are collected
as :class:`Dropped` rows: the build report, printed at the end and stored as ``build_report``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from etl.contract import Table
from etl.intermediate import person_id_type
from etl.settings import Settings, load_checks_config, read_code_list
from etl.sql_types import INTEGER_TYPES, TIME_ZONE_SUFFIX
from etl.staging import EXAMPLES, Problem, StagingReport

EVENT_DATES = {"imaging": "procedure_date", "diagnoses": "diagnosis_date", "surgery": "surgery_date",
               "rehabilitation": "plan_date"}
PERSON_TABLES = ("population", "imaging", "diagnoses", "surgery", "rehabilitation")

STEPS = ("staging", "linking", "cubes")
# reason -> words for the build report and the messages
REASONS = {
    "rejected": "rows breaking the data contract (--lenient)",
    "outside_code_list": "procedure code not in the lumbar imaging code list",
    "outside_study_years": "outside the study years",
    "not_in_population": "person found in no year of the population",
    "before_birth": "imaging in a year before the person's birth year",
    "after_last_population_year": "imaging after the person's last year in the population (emigration, death)",
    "not_resident_that_year": "person in the population, but not on 1 January of the imaging's year",
    "children": "person under the adult age",
}


def flag(check: str) -> str:
    """The command-line flag that overrides a check."""
    return "--allow-" + check.replace("_", "-")


@dataclass
class Finding(Problem):
    check: str = ""

    def __str__(self) -> str:
        return f"{super().__str__()} If you know the data are right: {flag(self.check)}."


@dataclass
class Dropped:
    step: str
    table: str
    reason: str
    rows: int
    of: int                         # the step's rows the share is taken of

    @property
    def share(self) -> float:
        return self.rows / self.of if self.of else 0.0


class ImplausibleData(Exception):
    """A plausibility check failed; the message lists every failed check."""

    def __init__(self, findings: list[Finding]):
        self.findings = findings
        lines = [f"The extracts look implausible: {len(findings)} check(s) failed (etl/config/checks.toml)."]
        lines += [f"  - {f}" for f in findings]
        lines.append("Fix the extract, or override a check you know to be wrong with its --allow-... flag. "
                     "The previous database has not been changed.")
        super().__init__("\n".join(lines))


@dataclass
class Checks:
    """Thresholds, the overrides asked for, the findings so far and the rows dropped by reason."""
    allowed: frozenset[str] = frozenset()
    config: dict = field(default_factory=load_checks_config)
    findings: list[Finding] = field(default_factory=list)
    overridden: list[Finding] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    partial_years: dict[int, str] = field(default_factory=dict)   # year -> the months missing (overridden)

    def __post_init__(self):
        unknown = set(self.allowed) - set(self.config)
        if unknown:
            raise ValueError(f"unknown check(s) to allow: {', '.join(sorted(unknown))} (known: {', '.join(self.config)})")

    def fail(self, check: str, file: str, table: str, column: str, n_rows: int, problem: str,
             examples: list, hint: str) -> None:
        finding = Finding(file, table, column, n_rows, problem, list(examples)[:EXAMPLES], hint, check)
        (self.overridden if check in self.allowed else self.findings).append(finding)

    def drop(self, step: str, table: str, reason: str, rows: int, of: int) -> None:
        self.dropped.append(Dropped(step, table, reason, int(rows), int(of)))
        self.dropped.sort(key=lambda d: STEPS.index(d.step))      # stable: reasons stay in their order

    def stop_if_failed(self) -> None:
        if self.findings:
            raise ImplausibleData(self.findings)

    def overrides(self) -> list[dict]:
        return [{"check": f.check, "flag": flag(f.check), "what": str(f)} for f in self.overridden]


def _has(con, relation: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                            [relation]).fetchone()[0])


# ------------------------------------------------------------------ after staging

def after_staging(con, tables: dict[str, Table], staged: StagingReport, settings: Settings, checks: Checks) -> None:
    """Every staging check; rows left out by staging go to ``checks.dropped``."""
    for name in tables:
        if not _has(con, f"raw_{name}"):
            continue
        _empty_table(con, name, checks)
    _year_volume(con, settings, checks)
    _partial_year(con, settings, checks)
    _identical_files(staged, checks)
    _duplicate_rows(con, tables, checks)
    _dates_outside(con, settings, checks)
    _code_variants(con, checks)
    _id_types(con, staged, checks)
    _time_zones(con, tables, staged, checks)
    for name, n in staged.rejected.items():
        if n:
            checks.drop("staging", name, "rejected", n, n + staged.rows.get(name, 0))
    img = staged.ignored_by_reason.get("imaging", {})
    total = staged.rows.get("imaging", 0) + sum(img.values())
    limits = checks.config["dropped_share"]
    for reason, n in img.items():
        checks.drop("staging", "imaging", reason, n, total)
        if total and n / total > limits[reason]:
            examples = []
            if reason == "outside_code_list":
                codes = read_code_list("imaging_procedures")
                examples = [r[0] for r in con.execute(
                    "SELECT procedure_code FROM raw_imaging WHERE procedure_code NOT IN (SELECT unnest(?)) "
                    "GROUP BY ALL ORDER BY count(*) DESC LIMIT 5", [[c["code"] for c in codes]]).fetchall()]
            checks.fail("dropped_share", "imaging", "imaging", "", n,
                        f"are left out as '{REASONS[reason]}': {n / total:.1%} of the rows, more than the "
                        f"{limits[reason]:.0%} allowed", examples,
                        "check the codes against etl/config/codes/imaging_procedures.csv" if reason == "outside_code_list"
                        else f"check the dates and the study years ({settings.first_year}-{settings.last_year})")


def _empty_table(con, name: str, checks: Checks) -> None:
    if con.execute(f"SELECT count(*) FROM (SELECT 1 FROM raw_{name} LIMIT 1)").fetchone()[0] == 0:
        files = [r[0] for r in con.execute(f"SELECT DISTINCT _file FROM raw_{name}").fetchall()]
        checks.fail("empty_table", ", ".join(files) or name, name, "", 0, f"the table '{name}' has no rows", [],
                    "export the table again: an empty extract would make every figure from it zero")


def _year_volume(con, settings: Settings, checks: Checks) -> None:
    cfg = checks.config["year_volume"]
    for name in cfg["tables"]:
        if not _has(con, f"raw_{name}"):
            continue
        year = "year" if name == "population" else f"year({EVENT_DATES[name]})"
        child = f"year - birth_year - 1 < {settings.adult_min_age}" if name == "population" else "false"
        got = con.execute(f"SELECT {year} AS y, count(*), count(*) FILTER (WHERE {child}) FROM raw_{name} "
                          "GROUP BY y").fetchall()
        rows = {y: n for y, n, _ in got}
        if name == "population":
            inside = [(n, c) for y, n, c in got if y is not None and settings.first_year <= y <= settings.last_year]
            checks.drop("staging", "population", "outside_study_years", sum(rows.values()) - sum(n for n, _ in inside),
                        sum(rows.values()))
            checks.drop("cubes", "population", "children", sum(c for _, c in inside), sum(n for n, _ in inside))
        counts = [rows.get(y, 0) for y in settings.years]
        for i, y in enumerate(settings.years):
            near = sorted(counts[max(0, i - 2):i] + counts[i + 1:i + 3])
            median = near[len(near) // 2] if near else 0
            if counts[i] == 0 or counts[i] < cfg["min_ratio_to_neighbours"] * median:
                files = [r[0] for r in con.execute(f"SELECT DISTINCT _file FROM raw_{name}").fetchall()]
                checks.fail(
                    "year_volume", ", ".join(files[:4]) + (" ..." if len(files) > 4 else ""), name, "", counts[i],
                    f"in the year {y} (the years around it have about {median:,} each)",
                    [], f"check that the extract for {y} is complete and in a form the build reads "
                        f"(docs/data-contract.md); a missing year makes all its imaging look 'not resident'")


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def _month_list(months: list[int]) -> str:
    """"August-December" for a run of months, else the months named one by one."""
    if len(months) > 2 and months == list(range(months[0], months[-1] + 1)):
        return f"{MONTHS[months[0] - 1]}-{MONTHS[months[-1] - 1]}"
    return ", ".join(MONTHS[m - 1] for m in months)


def _partial_year(con, settings: Settings, checks: Checks) -> None:
    """The first and last study year, month by month, against the same months of the nearest other
    study years (their seasonal pattern), scaled by the year's own level: an extract cut at the end
    of July (or starting in March) leaves months far below what the other years had in them. With
    the override the year is kept in ``checks.partial_years`` and marked incomplete everywhere."""
    cfg = checks.config["partial_year"]
    years = settings.years
    if len(years) < 2:
        return
    edges = {years[0]: years[1:4], years[-1]: years[-4:-1][::-1]}
    for name in cfg["tables"]:
        if not _has(con, f"raw_{name}"):
            continue
        column = EVENT_DATES[name]
        got = con.execute(f"SELECT year({column}), month({column}), count(*) FROM raw_{name} "
                          f"WHERE {column} IS NOT NULL AND year({column}) BETWEEN ? AND ? GROUP BY ALL",
                          [years[0], years[-1]]).fetchall()
        n = {(y, m): c for y, m, c in got}
        for year, others in edges.items():
            expected = {}
            for m in range(1, 13):
                ref = sorted(n.get((y, m), 0) for y in others)
                expected[m] = ref[len(ref) // 2]
            judged = [m for m in range(1, 13) if expected[m] >= cfg["min_expected"]]
            if len(judged) < 6:
                continue                        # too few rows a month to say
            ratios = sorted(n.get((year, m), 0) / expected[m] for m in judged)
            level = ratios[len(ratios) // 2]
            scale = level if level >= cfg["min_ratio"] else 1.0
            low = [m for m in judged if n.get((year, m), 0) < cfg["min_ratio"] * scale * expected[m]]
            if not low:
                continue
            words = _month_list(low)
            shown = ", ".join(f"{MONTHS[m - 1][:3]} {n.get((year, m), 0):,} (expected about {scale * expected[m]:,.0f})"
                              for m in low[:4]) + (" ..." if len(low) > 4 else "")
            files = [r[0] for r in con.execute(f"SELECT DISTINCT _file FROM raw_{name} ORDER BY 1").fetchall()]
            checks.fail("partial_year", ", ".join(files[:4]) + (" ..." if len(files) > 4 else ""), name, column,
                        sum(n.get((year, m), 0) for m in low),
                        f"in {words} {year}, far fewer than the same months of {', '.join(map(str, sorted(others)))} "
                        f"lead to expect: the extract looks cut {'short at the end' if year == years[-1] else 'at the start'} "
                        f"of {year}", [shown],
                        f"export {name} for the whole of {year} (or end the study years earlier in "
                        "etl/config/settings.toml); with the override the year is built and marked incomplete "
                        "for every measure")
            if "partial_year" in checks.allowed:
                previous = checks.partial_years.get(year)
                checks.partial_years[year] = previous or f"{name}: {words}"


def _identical_files(staged: StagingReport, checks: Checks) -> None:
    """Two input files with the same bytes: a file delivered twice (under another name) would count
    every one of its rows twice. Only files of equal size are hashed."""
    import hashlib

    by_size: dict[int, list] = {}
    for table, paths in staged.files.items():
        for p in paths:
            by_size.setdefault(p.stat().st_size, []).append((table, p))
    for size, same in by_size.items():
        if len(same) < 2 or size == 0:
            continue
        by_hash: dict[str, list] = {}
        for table, p in same:
            digest = hashlib.sha256()
            with open(p, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    digest.update(chunk)
            by_hash.setdefault(digest.hexdigest(), []).append((table, p))
        for digest, twins in by_hash.items():
            if len(twins) > 1:
                names = [p.name for _, p in twins]
                checks.fail("identical_files", ", ".join(names), twins[0][0], "", 0,
                            f"are identical (the same {size:,} bytes, SHA-256 {digest[:12]}...): one file "
                            "delivered twice would count each of its rows twice", [],
                            f"remove the copies and keep one of {', '.join(names)}")


def _duplicate_rows(con, tables: dict[str, Table], checks: Checks) -> None:
    """Key-less tables (one row per event, identical rows allowed): a year whose rows were delivered
    twice has every distinct row an even number of times. Natural repeats (two returns of one centre
    on one day) give groups of every size; the share of rows in groups of even size stays far below
    ``max_even_share``."""
    cfg = checks.config["duplicate_rows"]
    for name, table in tables.items():
        if table.unique or not _has(con, f"raw_{name}"):
            continue
        date = next((c.name for c in table.columns if c.type == "date"), None)
        cols = ", ".join(f'"{c.name}"' for c in table.columns)
        year = f'year("{date}")' if date else "0"
        failed = []
        # identical rows grouped by a 64-bit hash of their values (grouping the values themselves took
        # ten times as long on 0.7 million diagnoses)
        for y, rows, dup, even in con.execute(f"""
                SELECT y, sum(k), sum(k - 1), sum(k) FILTER (WHERE k % 2 = 0)
                FROM (SELECT {year} AS y, hash({cols}) AS h, count(*) AS k FROM raw_{name} GROUP BY ALL)
                GROUP BY y ORDER BY y""").fetchall():
            if rows >= cfg["min_rows"] and even and even / rows >= cfg["max_even_share"]:
                failed.append((y, int(rows), int(dup), int(even)))
        if not failed:
            continue
        examples = [r[0] for r in con.execute(
            f"SELECT CAST(row({cols}) AS VARCHAR) AS ex FROM raw_{name} WHERE {year} = ? GROUP BY ALL "
            "HAVING count(*) > 1 ORDER BY count(*) DESC, ex LIMIT 3", [failed[0][0]]).fetchall()]
        rows, dup, even = (sum(f[i] for f in failed) for i in (1, 2, 3))
        years = [f[0] for f in failed]
        when = ""
        if date:
            when = (f"in {years[0]}-{years[-1]} " if len(years) > 2 and years == list(range(years[0], years[-1] + 1))
                    else f"in {', '.join(map(str, years))} ")
        files = [r[0] for r in con.execute(f"SELECT DISTINCT _file FROM raw_{name} ORDER BY 1").fetchall()]
        checks.fail("duplicate_rows", ", ".join(files[:4]) + (" ..." if len(files) > 4 else ""), name, "", dup,
                    f"{when}are copies of another row ({dup / rows:.0%} of the {rows:,} rows), and {even / rows:.0%} "
                    "of the rows come in pairs, fours, ... of identical rows: the rows look delivered twice",
                    examples,
                    "export the table again with each event once (a file appended to itself, or two "
                    "deliveries of the same period, double every count)")


def _dates_outside(con, settings: Settings, checks: Checks) -> None:
    cfg = checks.config["dates_outside_study_years"]
    lo, hi = settings.first_year - cfg["years_before"], settings.last_year + cfg["years_after"]
    for name, column in EVENT_DATES.items():
        if not _has(con, f"raw_{name}"):
            continue
        for file, total, n, examples in con.execute(
                f"SELECT _file, count(*), count(*) FILTER (WHERE year({column}) NOT BETWEEN {lo} AND {hi}), "
                f"list(DISTINCT CAST(raw_{column} AS VARCHAR)) FILTER (WHERE year({column}) NOT BETWEEN {lo} AND {hi})"
                f"[1:{EXAMPLES}] FROM raw_{name} GROUP BY _file ORDER BY _file").fetchall():
            if total and n / total > cfg["max_share"]:
                checks.fail("dates_outside_study_years", file, name, column, n,
                            f"are dated outside {lo}-{hi} ({n / total:.0%} of the file; the study years are "
                            f"{settings.first_year}-{settings.last_year})", examples or [],
                            "check how the dates were exported: day-first dates with a two-digit year "
                            "(05-03-17) or a wrong date format give wrong years; use yyyy-mm-dd")


def _code_variants(con, checks: Checks) -> None:
    if not _has(con, "raw_imaging"):
        return
    codes = [r["code"] for r in read_code_list("imaging_procedures")]
    norm = "upper(regexp_replace(procedure_code, '[^0-9A-Za-z]', '', 'g'))"
    near = (f"procedure_code NOT IN (SELECT unnest($codes)) AND ({norm} IN (SELECT unnest($codes)) "
            f"OR (regexp_matches({norm}, '[A-Z]$') AND {norm}[:-2] IN (SELECT unnest($codes))))")
    for file, n, examples in con.execute(
            f"SELECT _file, count(*), list(DISTINCT procedure_code)[1:{EXAMPLES}] FROM raw_imaging WHERE {near} "
            "GROUP BY _file ORDER BY _file", {"codes": codes}).fetchall():
        if n > checks.config["code_variants"]["max_rows"]:
            checks.fail("code_variants", file, "imaging", "procedure_code", n,
                        "have codes that match the code list only after changing case, removing spaces or "
                        "a suffix letter, so they would all be left out", examples,
                        "write the codes exactly as in etl/config/codes/imaging_procedures.csv (upper case, "
                        "no spaces), or add the variants there if they are the same procedures")


def _id_kind(con, table: str, file: str, source_type: str) -> tuple[str, list]:
    """'number' (integers, or digits without leading zeros), 'zero-padded' or 'text', with examples."""
    if source_type in INTEGER_TYPES or source_type.startswith(("FLOAT", "DOUBLE", "DECIMAL")):
        return "number", []
    padded, other, examples = con.execute(
        f"SELECT count(*) FILTER (WHERE regexp_full_match(person_id, '0[0-9]+')), "
        f"count(*) FILTER (WHERE NOT regexp_full_match(person_id, '[0-9]+')), list(person_id)[1:3] "
        f"FROM raw_{table} WHERE _file = ?", [file]).fetchone()
    return ("zero-padded" if padded else "text" if other else "number"), examples


def _id_types(con, staged: StagingReport, checks: Checks) -> None:
    kinds: dict[str, list[tuple[str, str, list]]] = {}
    for table in PERSON_TABLES:
        for file, types in staged.source_types.get(table, {}).items():
            if "person_id" in types and _has(con, f"raw_{table}"):
                kind, examples = _id_kind(con, table, file, types["person_id"])
                kinds.setdefault(kind, []).append((table, file, examples))
    if len(kinds) > 1:
        fewest = min(kinds, key=lambda k: len(kinds[k]))
        others = ", ".join(f"{k} in {', '.join(f for _, f, _ in v[:3])}{' ...' if len(v) > 3 else ''}"
                           for k, v in kinds.items() if k != fewest)
        for table, file, examples in kinds[fewest]:
            checks.fail("id_types", file, table, "person_id", 0,
                        f"holds person ids as {fewest}, where other files hold them as {others}: "
                        "the ids would not match across files", examples,
                        "export person_id with the same type in every file (all integers, or all text "
                        "with the same zero padding)")


def _time_zones(con, tables: dict[str, Table], staged: StagingReport, checks: Checks) -> None:
    zone = checks.config["time_zones"]["read_in"]
    for name, table in tables.items():
        for col in (c.name for c in table.columns if c.type == "date"):
            for file, types in staged.source_types.get(name, {}).items():
                typ = types.get(col, "")
                if "TIME ZONE" in typ or typ == "TIMESTAMPTZ":
                    n, examples = con.execute(f"SELECT count(*), list(CAST(raw_{col} AS VARCHAR))[1:3] "
                                              f"FROM raw_{name} WHERE _file = ?", [file]).fetchone()
                elif "CHAR" in typ:
                    n, examples = con.execute(
                        f"SELECT count(*), list(raw_{col})[1:3] FROM raw_{name} WHERE _file = ? "
                        f"AND regexp_matches(trim(raw_{col}), '{TIME_ZONE_SUFFIX}')", [file]).fetchone()
                else:
                    continue
                if n:
                    checks.fail("time_zones", file, name, col, n,
                                "are timestamps with a time zone: which day (and year) they fall on depends on "
                                "the zone they are read in", examples,
                                f"export dates (yyyy-mm-dd) or local timestamps without a zone; with "
                                f"{flag('time_zones')} they are read as dates in {zone}")


# ------------------------------------------------------------------ after linking

def after_linking(con, linkage: dict, checks: Checks) -> None:
    """Split the imagings left out at linking by reason; check each reason's share."""
    reasons = _unlinked_reasons(con, linkage["not_resident"])
    total = linkage["lumbar_imaging"]
    limits = checks.config["dropped_share"]
    for reason, n in {**reasons, "children": linkage["children"]}.items():
        checks.drop("linking", "imaging", reason, n, total)
        if total and n / total > limits[reason]:
            checks.fail("dropped_share", "imaging, population", "imaging", "person_id", n,
                        f"lumbar imagings are left out as '{REASONS[reason]}': {n / total:.1%}, more than the "
                        f"{limits[reason]:.1%} allowed", [],
                        "check that the population extract has every study year and that person ids are "
                        "written the same way in the population and the imaging extracts")


def _unlinked_reasons(con, not_resident: int) -> dict[str, int]:
    """The imagings with no population row in their year, by why (one pass over the population,
    only when there are any)."""
    out = dict.fromkeys(("not_in_population", "before_birth", "after_last_population_year",
                         "not_resident_that_year"), 0)
    if not not_resident:
        return out
    pid = person_id_type(con)
    row = con.execute(f"""
        WITH unlinked AS (
            SELECT q.person_id, q.year FROM int_lumbar q
            ANTI JOIN int_status p ON p.person_id = q.person_id AND p.year = q.year),
        persons AS (
            SELECT CAST(person_id AS {pid}) AS person_id, min(birth_year) AS born, max(year) AS last_year
            FROM stg_population WHERE CAST(person_id AS {pid}) IN (SELECT person_id FROM unlinked) GROUP BY 1)
        SELECT count(*) FILTER (WHERE p.person_id IS NULL),
               count(*) FILTER (WHERE u.year < p.born),
               count(*) FILTER (WHERE u.year >= p.born AND u.year > p.last_year),
               count(*) FILTER (WHERE u.year >= p.born AND u.year <= p.last_year)
        FROM unlinked u LEFT JOIN persons p ON p.person_id = u.person_id""").fetchone()
    return dict(zip(out, map(int, row)))
