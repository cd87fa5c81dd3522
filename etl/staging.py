"""Staging: read the extracts, map their columns, type them and check them against the contract.

Each input table becomes ``stg_<table>`` in the work database: canonical column names, proper
types, only rows that meet the contract. Problems are collected, not raised one at a time, so an
analyst sees every broken column of every file in one run. In strict mode any problem stops the
build; in lenient mode the bad rows are dropped and written to a rejection report.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from etl.contract import Table, contract
from etl.settings import Settings

READERS = {".parquet": "parquet", ".csv": "csv", ".txt": "csv", ".sas7bdat": "sas"}
EXAMPLES = 5


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


@dataclass
class StagingReport:
    rows: dict[str, int] = field(default_factory=dict)
    ignored: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def find_files(input_dir: Path, pattern: str) -> list[Path]:
    """Files of a table: names matching the pattern with a readable extension, sorted."""
    return sorted(
        p for p in Path(input_dir).iterdir()
        if p.is_file() and fnmatch.fnmatch(p.stem.lower(), pattern.lower()) and p.suffix.lower() in READERS
    )


def _detect_encoding(path: Path) -> str:
    """UTF-8 when the whole file decodes as UTF-8, otherwise Latin-1 (common in SAS/Windows exports)."""
    decoder_ok = True
    with open(path, "rb") as fh:
        import codecs

        dec = codecs.getincrementaldecoder("utf-8")()
        while chunk := fh.read(1 << 20):
            try:
                dec.decode(chunk)
            except UnicodeDecodeError:
                decoder_ok = False
                break
    return "utf-8" if decoder_ok else "latin-1"


def _csv_delimiter(path: Path, encoding: str) -> str:
    with open(path, encoding=encoding, errors="replace") as fh:
        head = fh.readline()
    return ";" if head.count(";") > head.count(",") else ","


def file_relation(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    """SQL that reads one file as it is, with its file name in a ``_file`` column."""
    kind = READERS[path.suffix.lower()]
    p = str(path).replace("'", "''")
    if kind == "parquet":
        return f"(SELECT *, '{path.name}' AS _file FROM read_parquet('{p}'))"
    if kind == "csv":
        enc = _detect_encoding(path)
        if enc == "latin-1":
            # DuckDB reads UTF-8; re-encode a Latin-1 file once into a temporary UTF-8 copy.
            import tempfile

            tmp = Path(tempfile.mkdtemp(prefix="atlas-csv-")) / path.name
            tmp.write_text(path.read_text(encoding="latin-1"), encoding="utf-8")
            p = str(tmp).replace("'", "''")
        delim = _csv_delimiter(path, enc)
        return (f"(SELECT *, '{path.name}' AS _file FROM read_csv('{p}', header=true, all_varchar=true, "
                f"delim='{delim}', quote='\"'))")
    # SAS
    try:
        import pyreadstat  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on an optional package
        raise ContractError([Problem(path.name, "", "", 0, "is a SAS file, and the optional package pyreadstat is not installed",
                                     hint="pip install pyreadstat, or export the table as Parquet or CSV")], False) from exc
    import pyreadstat

    frame, _ = pyreadstat.read_sas7bdat(str(path))
    frame["_file"] = path.name
    name = f"sas_{abs(hash(str(path)))}"
    con.register(name, frame)
    return f"(SELECT * FROM {name})"


INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "HUGEINT")


def _typed(col_sql: str, src_type: str, type_: str) -> str:
    if type_ == "id":
        # person ids stay integers when the extract stores them so (fast joins); text otherwise
        return f"CAST({col_sql} AS BIGINT)" if src_type in INTEGER_TYPES else f"NULLIF(trim(CAST({col_sql} AS VARCHAR)), '')"
    if type_ == "integer":
        return f"TRY_CAST(trim(CAST({col_sql} AS VARCHAR)) AS BIGINT)" if "CHAR" in src_type else f"TRY_CAST({col_sql} AS BIGINT)"
    if type_ == "text":
        return f"NULLIF(trim(CAST({col_sql} AS VARCHAR)), '')"
    if type_ == "boolean":
        return f"TRY_CAST(lower(trim(CAST({col_sql} AS VARCHAR))) AS BOOLEAN)"
    if type_ == "date":
        if src_type.startswith(("DATE", "TIMESTAMP")):
            return f"CAST({col_sql} AS DATE)"
        s = f"trim(CAST({col_sql} AS VARCHAR))"
        return (f"COALESCE(TRY_CAST({s} AS DATE), "
                f"CAST(TRY_STRPTIME({s}, ['%d-%m-%Y', '%d.%m.%Y', '%d/%m/%Y', '%d%b%Y']) AS DATE))")
    raise ValueError(type_)


def _recode(col_sql: str, values: dict) -> str:
    if not values:
        return col_sql
    whens = " ".join(f"WHEN '{str(k).replace(chr(39), '')}' THEN '{str(v).replace(chr(39), '')}'" for k, v in values.items())
    return f"(CASE CAST({col_sql} AS VARCHAR) {whens} ELSE CAST({col_sql} AS VARCHAR) END)"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def stage_table(con, table: Table, files: list[Path], mapping: dict, report: StagingReport,
                lenient: bool, reject_dir: Path | None) -> None:
    """Create ``stg_<table>``: typed, mapped, checked."""
    colmap = mapping.get("columns", {})
    recodes = mapping.get("values", {})
    selects = []
    for path in files:
        try:
            rel = file_relation(con, path)
            described = con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()
        except duckdb.Error as exc:
            report.problems.append(Problem(path.name, table.name, "", 0,
                                           f"cannot be read ({str(exc).splitlines()[0]})",
                                           hint="the file may be truncated or corrupt: export it again"))
            continue
        present = {name.lower(): (name, typ) for name, typ, *_ in described}
        parts = ["_file"]
        missing = []
        for col in table.columns:
            source = str(colmap.get(col.name, col.name))
            if source.lower() not in present:
                missing.append((col, source))
                continue
            actual, typ = present[source.lower()]
            raw = _recode(_quote(actual), recodes.get(col.name, {}))
            parts.append(f"{raw} AS {_quote('raw_' + col.name)}")
            parts.append(f"{_typed(raw, typ if not recodes.get(col.name) else 'VARCHAR', col.type)} AS {_quote(col.name)}")
        for col, source in missing:
            have = ", ".join(sorted(n for n, _ in present.values() if n != "_file"))
            report.problems.append(Problem(
                path.name, table.name, source, 0,
                f"is missing (the file has: {have})",
                hint=f"rename the column in the extract, or map '{col.name}' to the right column in a copy of "
                     "etl/config/columns.toml passed with --columns"))
        if not missing:
            selects.append(f"SELECT {', '.join(parts)} FROM {rel}")
    if not selects:
        # Nothing readable: the problems above say why. An empty typed table keeps later steps simple.
        cols = ", ".join(f"CAST(NULL AS {_sql_type(c.type)}) AS {c.name}" for c in table.columns)
        con.execute(f"CREATE OR REPLACE TABLE stg_{table.name} AS SELECT {cols} LIMIT 0")
        return
    raw_name = f"raw_{table.name}"
    body = " UNION ALL ".join(selects)
    con.execute(f"CREATE OR REPLACE {'VIEW' if table.large else 'TABLE'} {raw_name} AS {body}")
    _check(con, table, raw_name, report, lenient, reject_dir)


def _sql_type(type_: str) -> str:
    return {"id": "VARCHAR", "integer": "BIGINT", "text": "VARCHAR", "date": "DATE", "boolean": "BOOLEAN"}[type_]


def _check(con, table: Table, raw_name: str, report: StagingReport, lenient: bool, reject_dir: Path | None) -> None:
    """Run every rule as one pass over the data, then build the clean ``stg_`` relation."""
    conditions: list[tuple[str, str, str, str]] = []   # (column, bad-row SQL, problem, hint)
    for col in table.columns:
        c, raw = _quote(col.name), _quote("raw_" + col.name)
        conditions.append((col.name, f"{raw} IS NULL OR CAST({raw} AS VARCHAR) = ''", "are empty", "fill in the value or drop the rows"))
        conditions.append((col.name, f"{raw} IS NOT NULL AND CAST({raw} AS VARCHAR) <> '' AND {c} IS NULL",
                           f"cannot be read as {col.type}", "check the column's format in docs/data-contract.md"))
        for rule in col.rules:
            check = rule.predicate.replace("{c}", c)
            conditions.append((col.name, f"{c} IS NOT NULL AND NOT ({check})", rule.problem, rule.hint))
    flags = ", ".join(f"({bad}) AS bad_{i}" for i, (_, bad, _, _) in enumerate(conditions))
    key = ", ".join(_quote(k) for k in table.unique)
    dup = (f", count(*) OVER (PARTITION BY {key}) > 1 AS dup" if key else ", false AS dup")
    con.execute(f"CREATE OR REPLACE TEMP TABLE chk_{table.name} AS "
                f"SELECT _file, {', '.join(_quote('raw_' + c.name) for c in table.columns)}, {flags} {dup} "
                f"FROM {raw_name} WHERE " + " OR ".join(f"({b})" for _, b, _, _ in conditions)
                + (f" OR ({key}) IN (SELECT ({key}) FROM {raw_name} GROUP BY ALL HAVING count(*) > 1)" if key else ""))
    summary = []
    for i, (column, _, problem, hint) in enumerate(conditions):
        for file, n, examples in con.execute(
                f"SELECT _file, count(*), list(DISTINCT CAST({_quote('raw_' + column)} AS VARCHAR))[1:{EXAMPLES}] "
                f"FROM chk_{table.name} WHERE bad_{i} GROUP BY _file ORDER BY _file").fetchall():
            summary.append(Problem(file, table.name, column, n, problem, [e if e is not None else "(empty)" for e in examples], hint))
    if key:
        ex_cols = " || ', ' || ".join(f"CAST({_quote('raw_' + k)} AS VARCHAR)" for k in table.unique)
        for file, n, examples in con.execute(
                f"SELECT _file, count(*), list(DISTINCT {ex_cols})[1:3] FROM chk_{table.name} WHERE dup GROUP BY _file").fetchall():
            summary.append(Problem(file, table.name, "+".join(table.unique), n,
                                   f"are duplicates of another row on ({', '.join(table.unique)})", examples, table.unique_hint))
    n_bad = con.execute(f"SELECT count(*) FROM chk_{table.name}").fetchone()[0]
    report.problems.extend(summary)
    if n_bad and lenient and reject_dir is not None:
        reject_dir.mkdir(parents=True, exist_ok=True)
        out = str(reject_dir / f"{table.name}.csv").replace("'", "''")
        con.execute(f"COPY (SELECT * FROM chk_{table.name}) TO '{out}' (HEADER, DELIMITER ',')")
    report.rejected[table.name] = n_bad
    typed = ", ".join(_quote(c.name) for c in table.columns)
    scope = f"WHERE {table.row_filter}" if table.row_filter else ""
    kind = "VIEW" if table.large else "TABLE"
    if n_bad == 0:
        con.execute(f"CREATE OR REPLACE {kind} stg_{table.name} AS SELECT {typed} FROM {raw_name} {scope}")
        _count_rows(con, table, raw_name, report)
        return
    good = f"NOT ({' OR '.join(f'({b})' for _, b, _, _ in conditions)})"
    if key:
        # lenient mode keeps the first of a set of duplicates
        good_sql = (f"SELECT {typed} FROM (SELECT *, row_number() OVER (PARTITION BY {key}) AS _rn "
                    f"FROM {raw_name} WHERE {good}) WHERE _rn = 1")
    else:
        good_sql = f"SELECT {typed} FROM {raw_name} WHERE {good}"
    # lenient mode with bad rows: materialise the clean rows once
    con.execute(f"CREATE OR REPLACE TABLE stg_{table.name} AS SELECT * FROM ({good_sql}) {scope}")
    _count_rows(con, table, f"({good_sql})", report)


def _count_rows(con, table: Table, source: str, report: StagingReport) -> None:
    """Rows kept, and rows outside the contract's scope (ignored, not errors). Skipped for large views."""
    if table.large and con.execute(f"SELECT table_type FROM information_schema.tables WHERE table_name = 'stg_{table.name}'").fetchone()[0] == "VIEW":
        return
    kept = con.execute(f"SELECT count(*) FROM stg_{table.name}").fetchone()[0]
    report.rows[table.name] = kept
    if table.row_filter:
        report.ignored[table.name] = con.execute(f"SELECT count(*) FROM {source}").fetchone()[0] - kept


def stage_all(con, input_dir: Path, mapping: dict, settings: Settings, lenient: bool = False,
              reject_dir: Path | None = None, progress=None) -> StagingReport:
    """Stage every table of the contract; raise :class:`ContractError` in strict mode on any problem."""
    input_dir = Path(input_dir)
    if not input_dir.is_dir():
        raise ContractError([Problem(str(input_dir), "", "", 0, "is not a folder",
                                     hint="pass the folder holding the extracts with --input")], False)
    report = StagingReport()
    tables = contract(settings)
    for name, table in tables.items():
        spec = mapping.get(name, {})
        files = find_files(input_dir, spec.get("files", f"{name}*"))
        if progress:
            progress(f"staging {name} ({len(files)} file{'s' if len(files) != 1 else ''})")
        if not files:
            report.problems.append(Problem(str(input_dir), name, "", 0,
                                           f"has no file for the table '{name}' (looked for '{spec.get('files', name + '*')}' "
                                           f"with extension {', '.join(READERS)})",
                                           hint="add the extract, or correct the 'files' pattern in the column mapping"))
            continue
        stage_table(con, table, files, spec, report, lenient, reject_dir)
    unreadable = [p for p in report.problems if p.n_rows == 0]
    if unreadable or (report.problems and not lenient):
        raise ContractError(report.problems, lenient_possible=not unreadable)
    return report
