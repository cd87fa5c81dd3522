"""Staging: read the extracts, map their columns, type them and check them against the contract.

Each input table becomes ``stg_<table>`` in the work database: canonical column names, proper
types, only rows that meet the contract. Problems are collected, not raised one at a time, so an
analyst sees every broken column of every file in one run. In strict mode any problem stops the
build; in lenient mode the bad rows are dropped and written to a rejection report.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from etl.contract import ContractError, Problem, Table, contract  # the staging errors, importable from here as before
from etl.readers import READERS, UnreadableFile, compressed_files, file_relation, find_files, read_error, sql_str, suffix
from etl.settings import Settings
from etl.sql_types import INTEGER_TYPES, THOUSANDS, always_typed, quote, recode_sql, typed_sql

EXAMPLES = 5


@dataclass
class StagingReport:
    rows: dict[str, int] = field(default_factory=dict)
    ignored: dict[str, int] = field(default_factory=dict)
    ignored_by_reason: dict[str, dict[str, int]] = field(default_factory=dict)   # table -> scope reason -> rows
    source_types: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)  # table -> file -> column -> type
    rejected: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    files: dict[str, list[Path]] = field(default_factory=dict)       # table -> its files (read or not)
    recoded: dict[str, int] = field(default_factory=dict)   # "table.column a -> b" -> rows recoded (Christiansø)


def stage_table(con, table: Table, files: list[Path], mapping: dict, report: StagingReport,
                lenient: bool, reject_dir: Path | None) -> None:
    """Create ``stg_<table>``: typed, mapped, checked."""
    colmap = mapping.get("columns", {})
    recodes = mapping.get("values", {})
    selects = []
    report.files[table.name] = list(files)
    for path in files:
        try:
            rel = file_relation(con, path, [str(colmap.get(c.name, c.name)) for c in table.columns])
            described = con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()
        except UnreadableFile as exc:
            report.problems.append(Problem(path.name, table.name, "", 0, str(exc),
                                           hint=exc.hint or _unreadable_hint(path)))
            continue
        except duckdb.Error as exc:
            report.problems.append(Problem(path.name, table.name, "", 0, f"cannot be read: {read_error(exc)}",
                                           hint=_unreadable_hint(path)))
            continue
        present = {name.lower(): (name, typ) for name, typ, *_ in described}
        report.source_types.setdefault(table.name, {})[path.name] = {
            col.name: present[str(colmap.get(col.name, col.name)).lower()][1] for col in table.columns
            if str(colmap.get(col.name, col.name)).lower() in present}
        parts = ["_file"]
        missing = []
        for col in table.columns:
            source = str(colmap.get(col.name, col.name))
            if source.lower() not in present:
                missing.append((col, source))
                continue
            actual, typ = present[source.lower()]
            raw = recode_sql(quote(actual), recodes.get(col.name, {}))
            parts.append(f"{raw} AS {quote('raw_' + col.name)}")
            typed = typed_sql(raw, typ if not recodes.get(col.name) else 'VARCHAR', col.type)
            fixed = table.extra.get("recode", {}).get(col.name)
            if fixed:                       # codes that are not what the column holds (Christiansø 411)
                typed = f"CASE {typed} {' '.join(f'WHEN {a} THEN {b}' for a, b in fixed.items())} ELSE {typed} END"
            parts.append(f"{typed} AS {quote(col.name)}")
        for col, source in missing:
            have = ", ".join(sorted(n for n, _ in present.values() if n != "_file"))
            report.problems.append(Problem(
                path.name, table.name, source, 0,
                f"is missing (the file has: {have})",
                hint=f"rename the column in the extract, or map '{col.name}' to the right column in a copy of "
                     "etl/config/columns.toml passed with --columns"))
        if not missing:
            selects.append((path, f"SELECT {', '.join(parts)} FROM {rel}"))
    if not selects:
        # Nothing readable: the problems above say why. An empty typed table keeps later steps simple.
        _empty_stage(con, table)
        return
    raw_name = f"raw_{table.name}"
    body = " UNION ALL ".join(sql for _, sql in selects)
    try:
        con.execute(f"CREATE OR REPLACE {'VIEW' if table.large else 'TABLE'} {raw_name} AS {body}")
        if table.large:
            # a view is read lazily, and the checks below may skip a damaged page (Parquet statistics
            # can answer a predicate without reading it): decode every value once, here, so that a
            # damaged file is named now and not met later as DuckDB's error in the middle of a build
            con.execute(f"SELECT count(*), min(hash(COLUMNS(*))) FROM {raw_name}").fetchall()
        _check(con, table, raw_name, report, lenient, reject_dir)
        _count_recoded(con, table, raw_name, report)
    except duckdb.Error as exc:
        # A file whose header reads but whose data does not (a damaged Parquet page, a CSV line
        # that cannot be parsed, ...): find the file(s) and report them, never DuckDB's traceback.
        _report_unreadable(con, table, selects, exc, report)
        _empty_stage(con, table)


def _unreadable_hint(path: Path) -> str:
    if READERS[suffix(path)] == "csv":
        return ("the file may be truncated or damaged: export it again as CSV with a header line, one line per row, "
                "the same number of fields on every line and quotes around values holding the separator")
    kind = READERS[suffix(path)].upper()
    return f"the file may be truncated or corrupt, or not a valid {kind} file: export it again"


def _empty_stage(con, table: Table) -> None:
    cols = ", ".join(f"CAST(NULL AS {_sql_type(c.type)}) AS {quote(c.name)}" for c in table.columns)
    con.execute(f"CREATE OR REPLACE TABLE stg_{table.name} AS SELECT {cols} LIMIT 0")


def _report_unreadable(con, table: Table, selects: list[tuple[Path, str]], exc: Exception,
                       report: StagingReport) -> None:
    """Read each file of the table on its own to name the one(s) that cannot be read in full."""
    found = False
    for path, sql in selects:
        try:
            # hash over every column forces every value of the file to be decoded and typed
            con.execute(f"SELECT count(*), min(hash(COLUMNS(*))) FROM ({sql})").fetchall()
        except duckdb.Error as file_exc:
            found = True
            report.problems.append(Problem(path.name, table.name, "", 0, f"cannot be read: {read_error(file_exc)}",
                                           hint=_unreadable_hint(path)))
    if not found:
        report.problems.append(Problem(", ".join(p.name for p, _ in selects), table.name, "", 0,
                                       f"cannot be read together ({read_error(exc)})",
                                       hint="the files of one table must have the same columns and types: "
                                            "export them the same way"))


def _sql_type(type_: str) -> str:
    return {"id": "VARCHAR", "integer": "BIGINT", "text": "VARCHAR", "date": "DATE", "boolean": "BOOLEAN"}[type_]


DUPLICATE_BITMAP_BYTES = 256 << 20    # largest bitmap the exact duplicate test below may use


def _may_have_duplicates(con, table: Table, raw_name: str, raw_types: dict[str, str]) -> bool:
    """False only when no two rows share the table's ``unique`` key (rows with a NULL in the key
    left aside); True when they may.

    Grouping 69 million population rows by (person_id, year) to find the few duplicates is the
    build's most expensive step. When every key column is an integer, a bitmap does it exactly
    and about six times faster: one bit per value of the widest column (``bitstring_agg``) in a
    group for each combination of the others; a duplicate sets a bit twice, so a group holds fewer
    set bits than rows. Other keys, or ranges too wide for the bitmap, answer True (the caller
    then groups).
    """
    if any(raw_types.get(k) not in INTEGER_TYPES for k in table.unique):
        return True
    known = " AND ".join(f"{quote(k)} IS NOT NULL" for k in table.unique)
    bounds = con.execute("SELECT " + ", ".join(f"min({quote(k)}), max({quote(k)})" for k in table.unique)
                         + f" FROM {raw_name} WHERE {known}").fetchone()
    if bounds[0] is None:
        return False                                   # no row with a whole key
    spans = {k: bounds[2 * i + 1] - bounds[2 * i] + 1 for i, k in enumerate(table.unique)}
    wide = max(spans, key=spans.get)
    groups = 1
    for k in table.unique:
        groups *= spans[k] if k != wide else 1
    if spans[wide] * groups > 8 * DUPLICATE_BITMAP_BYTES:
        return True
    lo, hi = bounds[2 * table.unique.index(wide)], bounds[2 * table.unique.index(wide) + 1]
    others = [quote(k) for k in table.unique if k != wide]
    by = f"GROUP BY {', '.join(others)}" if others else ""
    return con.execute(
        f"SELECT coalesce(bool_or(n <> bits), false) FROM (SELECT count(*) AS n, "
        f"bit_count(bitstring_agg({quote(wide)}, {lo}, {hi})) AS bits FROM {raw_name} WHERE {known} {by})"
    ).fetchone()[0]


def _no_bad_rows(con, raw_name: str, conditions: list) -> bool:
    """True when no row breaks any rule. Each rule is counted on its own: a condition on one column
    is then pushed into the file scan (and often settled by the files' statistics without reading a
    value), where the rules joined by OR would be evaluated on every row (69 million for the
    population). False means "look row by row" (:func:`_check` then finds and reports the rows)."""
    counts = [f"SELECT count(*) AS n FROM {raw_name} WHERE {bad}" for _, bad, _, _ in conditions if bad != "false"]
    if not counts:
        return True
    return con.execute(f"SELECT coalesce(sum(n), 0) = 0 FROM ({' UNION ALL '.join(counts)})").fetchone()[0]


def _check(con, table: Table, raw_name: str, report: StagingReport, lenient: bool, reject_dir: Path | None) -> None:
    """Run every rule as one pass over the data, then build the clean ``stg_`` relation.

    Rows breaking a rule are dropped in lenient mode; of a set of duplicates (same ``unique`` key)
    the first good row (by file, then values) is kept and the others dropped. The rejection report
    lists exactly the dropped rows, each with the rule(s) it broke in words.
    """
    conditions: list[tuple[str, str, str, str]] = []   # (column, bad-row SQL, problem, hint)
    raw_types = {name: typ for name, typ, *_ in con.execute(f"DESCRIBE SELECT * FROM {raw_name}").fetchall()}
    for col in table.columns:
        c, raw = quote(col.name), quote("raw_" + col.name)
        if "CHAR" in raw_types.get("raw_" + col.name, "VARCHAR"):
            empty = f"{raw} IS NULL OR CAST({raw} AS VARCHAR) = ''"
            unreadable = f"{raw} IS NOT NULL AND CAST({raw} AS VARCHAR) <> '' AND {c} IS NULL"
        else:
            # typed in the file (integers, dates, ...): no text to be empty, and no cast to text
            # of every value (tens of millions in a population extract)
            empty = f"{raw} IS NULL"
            unreadable = f"{raw} IS NOT NULL AND {c} IS NULL"
        text = "CHAR" in raw_types.get("raw_" + col.name, "VARCHAR")
        conditions.append((col.name, empty, "are empty", "fill in the value or drop the rows"))
        if col.type == "integer" and text:
            thousands = f"regexp_full_match(trim(CAST({raw} AS VARCHAR)), '{THOUSANDS}')"
            conditions.append((col.name, f"{raw} IS NOT NULL AND {thousands}",
                               "are numbers written with a thousands separator ('1.000' would be read as 1)",
                               "export the numbers without thousands separators (1000, not 1.000 or 1,000)"))
            unreadable += f" AND NOT {thousands}"
        if always_typed(raw_types.get("raw_" + col.name, "VARCHAR"), col.type):
            unreadable = "false"            # e.g. an int16 column: every value reads as an integer
        conditions.append((col.name, unreadable, f"cannot be read as {col.type}",
                           "write dates as yyyy-mm-dd, or dd-mm-yyyy with a four-digit year (docs/data-contract.md)"
                           if col.type == "date" else "check the column's format in docs/data-contract.md"))
        for rule in col.rules:
            check = rule.predicate.replace("{c}", c)
            bad = f"{c} IS NOT NULL AND NOT ({check})"
            if rule.text_only and "CHAR" not in raw_types.get(col.name, "VARCHAR"):
                bad = "false"               # e.g. an integer person id is never empty text
            conditions.append((col.name, bad, rule.problem, rule.hint))
    typed = ", ".join(quote(c.name) for c in table.columns)
    scope = f"WHERE {table.row_filter}" if table.row_filter else ""
    kind = "VIEW" if table.large else "TABLE"
    may_dup = bool(table.unique) and _may_have_duplicates(con, table, raw_name, raw_types)
    if not may_dup and _no_bad_rows(con, raw_name, conditions):
        # nothing to report or drop: no table of bad rows to make
        report.rejected[table.name] = 0
        con.execute(f"CREATE OR REPLACE {kind} stg_{table.name} AS SELECT {typed} FROM {raw_name} {scope}")
        _count_rows(con, table, raw_name, report)
        return
    flags = ", ".join(f"coalesce({bad}, false) AS bad_{i}" for i, (_, bad, _, _) in enumerate(conditions))
    any_bad = " OR ".join(f"bad_{i}" for i in range(len(conditions)))
    raw_cols = ", ".join(quote("raw_" + c.name) for c in table.columns)
    key = ", ".join(quote(k) for k in table.unique)
    if key:
        key_cols = ", ".join(f"{quote(k)} AS {quote('key_' + k)}" for k in table.unique)
        key_ref = ", ".join(quote("key_" + k) for k in table.unique)
        key_known = " AND ".join(f"{quote('key_' + k)} IS NOT NULL" for k in table.unique)
        known = " AND ".join(f"{quote(k)} IS NOT NULL" for k in table.unique)
        suspects = (f" OR ({key}) IN (SELECT ({key}) FROM {raw_name} WHERE {known} GROUP BY ALL HAVING count(*) > 1)"
                    if may_dup else "")
        # every row of a duplicated key is a suspect, so the windows below see whole key groups
        dup = (f"{key_known} AND count(*) OVER (PARTITION BY {key_ref}) > 1 AS dup, "
               f"{key_known} AND NOT bad_any AND row_number() OVER "
               f"(PARTITION BY {key_ref}, bad_any ORDER BY _file, {raw_cols}) > 1 AS dup_dropped")
    else:
        key_cols, suspects, dup = "", "", "false AS dup, false AS dup_dropped"
    con.execute(f"CREATE OR REPLACE TEMP TABLE chk_{table.name} AS "
                f"SELECT *, {dup} FROM (SELECT *, ({any_bad}) AS bad_any FROM ("
                f"SELECT _file, {raw_cols}{', ' + key_cols if key_cols else ''}, {flags} FROM {raw_name} "
                f"WHERE " + " OR ".join(f"({b})" for _, b, _, _ in conditions) + suspects + "))")
    summary = []
    # one query for all rules (the check table holds only the bad rows, so this is small)
    per_rule = " UNION ALL ".join(
        f"SELECT {i} AS rule, _file, count(*) AS n, "
        f"list(DISTINCT CAST({quote('raw_' + column)} AS VARCHAR))[1:{EXAMPLES}] AS examples "
        f"FROM chk_{table.name} WHERE bad_{i} GROUP BY _file"
        for i, (column, _, _, _) in enumerate(conditions))
    for i, file, n, examples in con.execute(f"SELECT * FROM ({per_rule}) ORDER BY rule, _file").fetchall():
        column, _, problem, hint = conditions[i]
        summary.append(Problem(file, table.name, column, n, problem, [e if e is not None else "(empty)" for e in examples], hint))
    if key:
        ex_cols = " || ', ' || ".join(f"CAST({quote('raw_' + k)} AS VARCHAR)" for k in table.unique)
        for file, n, examples in con.execute(
                f"SELECT _file, count(*), list(DISTINCT '(' || {ex_cols} || ')')[1:3] FROM chk_{table.name} "
                f"WHERE dup GROUP BY _file ORDER BY _file").fetchall():
            summary.append(Problem(file, table.name, "+".join(table.unique), n,
                                   f"are duplicates of another row on ({', '.join(table.unique)})", examples, table.unique_hint))
    dropped = f"FROM chk_{table.name} WHERE bad_any OR dup_dropped"
    n_bad = con.execute(f"SELECT count(*) {dropped}").fetchone()[0]
    report.problems.extend(summary)
    if n_bad and lenient and reject_dir is not None:
        reasons = ", ".join(
            [f"CASE WHEN bad_{i} THEN '{sql_str(column)}: {sql_str(problem)}' END"
             for i, (column, _, problem, _) in enumerate(conditions)]
            + [f"CASE WHEN dup_dropped THEN 'duplicate of another row on ({', '.join(table.unique)}): "
               f"the first was kept' END"])
        reject_dir.mkdir(parents=True, exist_ok=True)
        out = sql_str(reject_dir / f"{table.name}.csv")
        values = ", ".join(f"{quote('raw_' + c.name)} AS {quote(c.name)}" for c in table.columns)
        con.execute(f"COPY (SELECT _file AS file, {values}, concat_ws('; ', {reasons}) AS problem {dropped} "
                    f"ORDER BY _file) TO '{out}' (HEADER, DELIMITER ',')")
    report.rejected[table.name] = n_bad
    if n_bad == 0:
        con.execute(f"CREATE OR REPLACE {kind} stg_{table.name} AS SELECT {typed} FROM {raw_name} {scope}")
        _count_rows(con, table, raw_name, report)
        return
    if not lenient:
        # strict mode stops after staging when there is a problem: no clean copy to make
        _empty_stage(con, table)
        return
    good = f"NOT ({' OR '.join(f'coalesce({b}, false)' for _, b, _, _ in conditions)})"
    if key:
        # lenient mode keeps the first good row of a set of duplicates (the same one the report keeps)
        good_sql = (f"SELECT {typed} FROM (SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY _file, {raw_cols}) AS _rn "
                    f"FROM {raw_name} WHERE {good}) WHERE _rn = 1")
    else:
        good_sql = f"SELECT {typed} FROM {raw_name} WHERE {good}"
    # lenient mode with bad rows: materialise the clean rows once
    con.execute(f"CREATE OR REPLACE TABLE stg_{table.name} AS SELECT * FROM ({good_sql}) {scope}")
    _count_rows(con, table, f"({good_sql})", report)


def _count_recoded(con, table: Table, raw_name: str, report: StagingReport) -> None:
    """Rows whose code was recoded by the contract (``Table.extra['recode']``), counted for the build report."""
    for column, fixed in table.extra.get("recode", {}).items():
        raw = quote("raw_" + column)
        for a, b in fixed.items():
            n = con.execute(f"SELECT count(*) FROM {raw_name} WHERE TRY_CAST(TRY_CAST({raw} AS DOUBLE) AS BIGINT) = {a}"
                            ).fetchone()[0]
            if n:
                report.recoded[f"{table.name}.{column} {a:04d} -> {b:04d}"] = int(n)


def _count_rows(con, table: Table, source: str, report: StagingReport) -> None:
    """Rows kept, and rows outside the contract's scope (ignored, not errors). Skipped for large views."""
    if table.large and con.execute(f"SELECT table_type FROM information_schema.tables WHERE table_name = 'stg_{table.name}'").fetchone()[0] == "VIEW":
        return
    kept = con.execute(f"SELECT count(*) FROM stg_{table.name}").fetchone()[0]
    report.rows[table.name] = kept
    if table.scope:
        # each ignored row counted once, under the first scope rule it fails
        counts, inside = [], []
        for _, sql in table.scope:
            counts.append(f"count(*) FILTER (WHERE {' AND '.join(inside + [f'NOT coalesce({sql}, false)'])})")
            inside.append(f"coalesce({sql}, false)")
        by_reason = con.execute(f"SELECT {', '.join(counts)} FROM {source}").fetchone()
        report.ignored_by_reason[table.name] = {r: int(n) for (r, _), n in zip(table.scope, by_reason)}
        report.ignored[table.name] = sum(report.ignored_by_reason[table.name].values())


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
        for packed in compressed_files(input_dir, spec.get("files", f"{name}*")):
            report.problems.append(Problem(
                packed.name, name, "", 0, f"is compressed ({packed.suffix.lower()}), and the build reads only "
                "Parquet, CSV, gzipped CSV (.csv.gz) and SAS files",
                hint="unpack it into the input folder (and move the compressed copy out), or export the table as "
                     ".parquet or .csv.gz"))
        if progress:
            progress(f"staging {name} ({len(files)} file{'s' if len(files) != 1 else ''})")
        if not files and table.optional:
            continue                                    # an optional extract not delivered: nothing counted from it
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
