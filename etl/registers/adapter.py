"""Read the register tables of a delivery and derive the contract tables with staged SQL models.

1. Sources: each register table of the mapping (``etl/config/registers/dst.toml``) becomes a view
   ``src_<table>`` with the mapping's logical column names, only the columns the models need, typed
   and normalised as codes (a SAS number ``111.0`` is the code ``111``). Yearly registers take their
   year from the file name; of BEF only the December snapshots (and the yearly files before 2008)
   are read. SAS files (``.sas7bdat``, ``.xpt``) are read in chunks, only the needed columns.
2. Lookups: ``etl/config/registers/*.csv`` (HFAUDD -> level, SOCIO13 -> group, LPR2 referral
   codes, priorities, SSSY's X-ray services) and the delivery's ``units`` table (SOR units and LPR2
   departments).
3. Models: ``etl/registers/models/*.sql``, in order; each ``-- model:`` block creates one table, its
   ``-- grain:`` the columns no two rows share (tests/test_registers.py checks them). Consecutive
   ``-- each: year`` models run together one study year at a time, each table holding that year
   only; a contract table among them (the population) is written for each year as it is made
   (``population_<year>.parquet``), never gathered into one table of every year, and is then a view
   of its years' files.
4. A code missing from a lookup stops with a message naming the file, column, rows and codes.
5. The contract tables (population, imaging, diagnoses, surgery, and chiro_billing when SSSY was
   delivered) are written as Parquet into the output folder, with the tables the registers do not
   hold (rehabilitation, referrals) as they are. Nothing is left in the output folder when the
   adapter stops.
"""
from __future__ import annotations

import csv
import re
import shutil
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from etl import duck, readers
from etl.readers import READERS, file_relation, find_files, sql_str
from etl.settings import CONFIG_DIR, ConfigError, Settings, load_settings
from etl.sql_types import code_text_sql, quote, typed_sql

REGISTERS_DIR = CONFIG_DIR / "registers"
DEFAULT_MAPPING = REGISTERS_DIR / "dst.toml"
MODELS_DIR = Path(__file__).resolve().parent / "models"
CONTRACT_TABLES = ("population", "imaging", "diagnoses", "surgery")
# contract tables written only when their register was delivered: table -> register table
OPTIONAL_CONTRACT_TABLES = {"chiro_billing": "sssy"}
SAS_SUFFIXES = (".sas7bdat", ".xpt")

# how each logical column is typed (see etl/sql_types.py); anything else is a code
KINDS = {
    "pnr": "id", "birth_date": "date", "admission_date": "date", "procedure_date": "date", "start": "date",
    "sex": "integer", "municipality": "integer", "disposable_income": "number",
    "producer_id": "text", "producer_type": "text", "referrer_type": "text",
}


class RegisterError(ConfigError):
    """A register lookup or file the adapters cannot use (a configuration problem: exit code 6)."""


@dataclass(frozen=True)
class Model:
    name: str
    sql: str
    grain: tuple[str, ...] = ()
    doc: str = ""
    each: str = ""          # "year": the SQL is a SELECT run for each study year ({year}) into table ``name``


@dataclass
class AdaptReport:
    files: dict[str, list[str]] = field(default_factory=dict)     # table -> files read
    rows: dict[str, int] = field(default_factory=dict)            # contract table -> rows written


def load_mapping(path: Path | None = None) -> dict:
    with open(path or DEFAULT_MAPPING, "rb") as fh:
        return tomllib.load(fh)


def models() -> list[Model]:
    """The SQL models in the order they run (file order, then order in the file)."""
    out = []
    for path in sorted(MODELS_DIR.glob("*.sql")):
        for block in re.split(r"^-- model: ", path.read_text(encoding="utf-8"), flags=re.M)[1:]:
            name, _, rest = block.partition("\n")
            grain = re.search(r"^-- grain: (.*)$", rest, flags=re.M)
            each = re.search(r"^-- each: (.*)$", rest, flags=re.M)
            doc = " ".join(ln[3:] for ln in rest.splitlines()
                           if ln.startswith("-- ") and not ln.startswith(("-- grain:", "-- each:")))
            out.append(Model(name.strip(), rest, tuple(c.strip() for c in grain.group(1).split(",")) if grain else (), doc,
                             each.group(1).strip() if each else ""))
    return out


def _problem(file, table, column, n, what, examples=(), hint=""):
    from etl.staging import Problem

    return Problem(str(file), table, column, n, what, list(examples), hint)


NUMERIC_PREFIXES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "U", "DOUBLE", "FLOAT", "DECIMAL")


def _column_sql(actual: str, src_type: str, kind: str, pnr_as_integer: bool = True) -> str:
    col = quote(actual)
    if kind == "id":
        # DST's pseudonymised person numbers are ten digits: joined as integers (faster, and the same
        # record keys as an extract with integer ids); text for a delivery with other characters
        if pnr_as_integer:
            if src_type.startswith(NUMERIC_PREFIXES):
                return f"TRY_CAST({col} AS BIGINT)"
            # a PNR with other characters stops the build here, named (no second pass to look for it)
            return (f"coalesce(TRY_CAST({col} AS BIGINT), CASE WHEN {col} IS NOT NULL THEN "
                    f"error('{{file}}, column {actual}: person numbers that are not digits only (for example ' "
                    f"|| {col} || '). What to do: set pnr_as_integer = false under [settings] in a copy of the register "
                    f"mapping (etl/config/registers/dst.toml) passed with --registers.') END)")
        if src_type.startswith(NUMERIC_PREFIXES):
            return f"lpad(CAST(CAST({col} AS HUGEINT) AS VARCHAR), 10, '0')"
        return f"CAST({col} AS VARCHAR)"
    if kind in ("date", "integer"):
        return typed_sql(col, src_type, kind)
    if kind == "number":
        return f"TRY_CAST({col} AS DOUBLE)"
    if kind == "text":
        return f"NULLIF(trim(CAST({col} AS VARCHAR)), '')"
    return code_text_sql(col, src_type)


def _file_year(spec: dict, path: Path) -> tuple[int | None, bool]:
    """(register year from the file name, whether the file is read). Of snapshot files (a month in
    the name) only December's is read: the status on 1 January of the next year."""
    rx = spec.get("year_from_name")
    if not rx:
        return None, True
    m = re.search(rx, path.stem.lower())
    if not m:
        return None, False
    month = m.group(2) if m.re.groups >= 2 else None
    return int(m.group(1)), month in (None, "12")


def sas_to_parquet(path: Path, out_dir: Path, columns: list[str] | None = None,
                   chunk_rows: int | None = None) -> Path:
    """Convert a SAS file (``.sas7bdat`` or ``.xpt``) to ``out_dir/<name>.parquet`` chunk by chunk
    (never the whole file in memory), all columns or only ``columns``. Returns the Parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import pyreadstat

    path, out_dir = Path(path), Path(out_dir)
    reader = pyreadstat.read_sas7bdat if path.suffix.lower() == ".sas7bdat" else pyreadstat.read_xport
    _, meta = reader(str(path), metadataonly=True)
    by_lower = {c.lower(): c for c in meta.column_names}
    missing = [c for c in columns or [] if c.lower() not in by_lower]
    if missing:
        raise RegisterError(f"{path.name}: no column {', '.join(missing)} (the file has: {', '.join(meta.column_names)})")
    cols = [by_lower[c.lower()] for c in columns] if columns else None
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{path.stem}.parquet"
    tmp = target.with_name(target.name + ".tmp")
    writer = None
    try:
        for frame, _ in pyreadstat.read_file_in_chunks(reader, str(path), chunksize=chunk_rows or readers.SAS_CHUNK_ROWS,
                                                       usecols=cols):
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
            writer.write_table(table.cast(writer.schema))
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        raise RegisterError(f"{path.name}: the file has no rows")
    tmp.replace(target)
    return target


def _sources(con, input_dir: Path, mapping: dict, settings: Settings, report: AdaptReport) -> list:
    problems = []
    first, last = settings.first_year, settings.last_year
    for table, spec in mapping["tables"].items():
        patterns = spec["files"] if isinstance(spec["files"], list) else [spec["files"]]
        files = sorted({p for pat in patterns for p in find_files(input_dir, pat)})
        columns: dict = spec["columns"]
        selects = []
        for path in files:
            year, wanted = _file_year(spec, path)
            if not wanted or (year is not None and not first - 1 <= year <= last - 1):
                continue
            if path.suffix.lower() in SAS_SUFFIXES:
                rel = file_relation(con, path, list(columns.values()))
            elif READERS.get(path.suffix.lower()) == "parquet":
                rel = f"read_parquet('{sql_str(path)}')"
            else:
                rel = file_relation(con, path)
            described = con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()
            present = {n.lower(): (n, t) for n, t, *_ in described}
            missing = [src for src in columns.values() if src.lower() not in present]
            if missing:
                problems.append(_problem(path.name, table, ", ".join(missing), 0,
                                         f"is missing (the file has: {', '.join(sorted(n for n, _ in present.values()))})",
                                         hint="rename the column, or map it in a copy of etl/config/registers/dst.toml "
                                              "passed with --registers"))
                continue
            as_int = bool(mapping.get("settings", {}).get("pnr_as_integer", True))
            parts = [_column_sql(*present[src.lower()], KINDS.get(logical, "code"), as_int).replace("{file}", sql_str(path.name))
                     + f" AS {quote(logical)}" for logical, src in columns.items()]
            if year is not None:
                parts.append(f"{year} AS file_year")
            parts.append(f"'{sql_str(path.name)}' AS _file")
            selects.append(f"SELECT {', '.join(parts)} FROM {rel}")
            report.files.setdefault(table, []).append(path.name)
        if not selects:
            if not spec.get("optional"):
                problems.append(_problem(input_dir, table, "", 0,
                                         f"has no file for the register table '{table}' (looked for {', '.join(patterns)})",
                                         hint="add the table, or correct its 'files' pattern in the register mapping"))
            types = {"date": "DATE", "integer": "BIGINT", "number": "DOUBLE", "id": "BIGINT"}
            empty = ", ".join(f"CAST(NULL AS {types.get(KINDS.get(c), 'VARCHAR')}) AS {quote(c)}" for c in columns)
            selects = [f"SELECT {empty}{', CAST(NULL AS INTEGER) AS file_year' if spec.get('year_from_name') else ''}, "
                       "CAST(NULL AS VARCHAR) AS _file LIMIT 0"]
        con.execute(f"CREATE OR REPLACE VIEW src_{table} AS {' UNION ALL BY NAME '.join(selects)}")
    return problems


def _lookups(con, mapping: dict) -> int:
    """The lookups of etl/config/registers as tables; returns the length of the HFAUDD prefixes."""
    def load(name: str, file: str, select: str) -> None:
        path = REGISTERS_DIR / file
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT {select} FROM read_csv('{sql_str(path)}', header=true, "
                    f"all_varchar=true)")

    with open(REGISTERS_DIR / "hfaudd_levels.csv", newline="", encoding="utf-8") as fh:
        levels = list(csv.DictReader(fh))
    lengths = {len(r["prefix"]) for r in levels}
    if len(lengths) != 1:
        raise RegisterError(f"{REGISTERS_DIR / 'hfaudd_levels.csv'}: every prefix must have the same length")
    load("lk_hfaudd", "hfaudd_levels.csv", "prefix, CAST(level AS INTEGER) AS level")
    load("lk_socio13", "socio13_groups.csv", "socio13, CAST(\"group\" AS INTEGER) AS grp")
    load("lk_lpr2_referral", "lpr2_referral.csv", "code, referrer_type")
    load("lk_priority", "priority.csv", "era, code, priority")
    load("lk_sssy_xray", "sssy_xray_services.csv", "speciality, service")
    return lengths.pop()


# codes every row must find in a lookup: (source, column, SQL true for a row whose code is missing, lookup)
def _unmapped_checks(prefix: int) -> list[tuple[str, str, str, str]]:
    return [
        ("udda", "hfaudd", f"hfaudd IS NOT NULL AND left(hfaudd, {prefix}) NOT IN (SELECT prefix FROM lk_hfaudd)",
         "etl/config/registers/hfaudd_levels.csv"),
        ("akm", "socio13", "socio13 IS NOT NULL AND socio13 NOT IN (SELECT socio13 FROM lk_socio13)",
         "etl/config/registers/socio13_groups.csv"),
        ("lpr2_adm", "referral", "referral IS NOT NULL AND referral NOT IN (SELECT code FROM lk_lpr2_referral)",
         "etl/config/registers/lpr2_referral.csv"),
        ("lpr2_private_adm", "referral", "referral IS NOT NULL AND referral NOT IN (SELECT code FROM lk_lpr2_referral)",
         "etl/config/registers/lpr2_referral.csv"),
        ("lpr2_adm", "priority", "priority IS NOT NULL AND priority NOT IN (SELECT code FROM lk_priority WHERE era = 'LPR2')",
         "etl/config/registers/priority.csv"),
        ("lpr2_private_adm", "priority",
         "priority IS NOT NULL AND priority NOT IN (SELECT code FROM lk_priority WHERE era = 'LPR2')",
         "etl/config/registers/priority.csv"),
        ("lpr3_contacts", "priority", "priority IS NOT NULL AND priority NOT IN (SELECT code FROM lk_priority WHERE era = 'LPR3')",
         "etl/config/registers/priority.csv"),
        ("lpr3_contacts", "referring_unit",
         "referring_unit IS NOT NULL AND referring_unit NOT IN (SELECT unit FROM src_units WHERE system = 'SOR')",
         "the units table (SOR units)"),
        ("lpr3_procedures", "unit", "code_type = 'P' AND code LIKE 'UX%' AND (unit IS NULL OR unit NOT IN "
         "(SELECT unit FROM src_units WHERE system = 'SOR' AND producer_id IS NOT NULL))", "the units table (SOR units)"),
    ]


def _check_codes(con, mapping: dict, prefix: int) -> list:
    problems = []
    # education and labour codes missing from their lookups are -1 in the population (one look at
    # the finished table; the register files are read again only to name them)
    unmapped = con.execute("SELECT count(*) FILTER (WHERE education = -1), count(*) FILTER (WHERE labour_status = -1) "
                           "FROM population").fetchone()
    skip = {t for t, n in zip(("udda", "akm"), unmapped) if not n}
    for table, column, bad, lookup in _unmapped_checks(prefix):
        if table in skip:
            continue
        if table not in mapping["tables"]:
            continue
        src_col = mapping["tables"][table]["columns"].get(column, column)
        for file, n, examples in con.execute(
                f"SELECT _file, count(*), list(DISTINCT {quote(column)})[1:5] FROM src_{table} WHERE {bad} "
                f"GROUP BY _file ORDER BY _file").fetchall():
            problems.append(_problem(file, table, src_col, n, f"have codes not in {lookup}",
                                     [e if e is not None else "(empty)" for e in examples],
                                     f"add the codes to {lookup} (with their source), or correct the extract"))
    # imaging in LPR2 whose department is not in the units table
    n = con.execute("SELECT count(*), list(DISTINCT unit)[1:5] FROM reg_procedures WHERE code LIKE 'UX%' AND system = 'SHAK' "
                    "AND unit NOT IN (SELECT unit FROM src_units WHERE system = 'SHAK' AND producer_id IS NOT NULL)").fetchone()
    if n[0]:
        problems.append(_problem("LPR2", "lpr2_examinations", "C_OPRSGH+C_OPRAFD", n[0],
                                 "are imaging procedures at departments not in the units table", n[1],
                                 "add the departments (system SHAK) with their producer to the units table"))
    return problems


def run_models(con, settings: Settings, mapping: dict, prefix: int, parts_dir: Path) -> None:
    """Run the models in order (``models()``). A run of consecutive ``each: year`` models is run one
    study year at a time; a contract table among them is written for the year into ``parts_dir``
    (``<name>_<year>.parquet``) and afterwards is a view of those files."""
    # one join key of person and year (an integer when person numbers are: a faster hash join)
    if mapping.get("settings", {}).get("pnr_as_integer", True):
        con.execute("CREATE OR REPLACE MACRO pkey(p, y) AS p * 64 + y % 64")
    else:
        con.execute("CREATE OR REPLACE MACRO pkey(p, y) AS p || '/' || CAST(y AS VARCHAR)")
    s = mapping.get("settings", {})
    values = {"first_year": settings.first_year, "last_year": settings.last_year, "adult": settings.adult_min_age,
              "hfaudd_prefix": prefix, "er_type": s.get("emergency_room_patient_type", "3"),
              "er_until": int(s.get("emergency_room_until", 2013))}
    blocks: list[list[Model]] = []          # consecutive yearly models together, every other model alone
    for model in models():
        if model.each == "year" and blocks and blocks[-1][0].each == "year":
            blocks[-1].append(model)
        else:
            blocks.append([model])
    for block in blocks:
        if block[0].each != "year":
            con.execute(block[0].sql.format(**values))
            continue
        for y in range(settings.first_year, settings.last_year + 1):
            for model in block:
                sql = model.sql.strip().rstrip(";").format(**values, year=y)
                if model.name in CONTRACT_TABLES:
                    con.execute(f"COPY ({sql}) TO '{sql_str(parts_dir / f'{model.name}_{y}.parquet')}' (FORMAT parquet)")
                else:
                    con.execute(f"CREATE OR REPLACE TABLE {model.name} AS {sql}")
        for model in block:
            if model.name in CONTRACT_TABLES:
                _view_of_parts(con, model.name, parts_dir)


def _view_of_parts(con, name: str, folder: Path) -> None:
    con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet('{sql_str(folder / name)}_*.parquet')")


def adapt(input_dir: Path, out_dir: Path, mapping_path: Path | None = None, settings: Settings | None = None,
          con: duckdb.DuckDBPyConnection | None = None) -> AdaptReport:
    """Derive the contract tables from the register tables in ``input_dir``; write them to ``out_dir``."""
    from etl.staging import ContractError

    settings = settings or load_settings()
    input_dir, out_dir = Path(input_dir), Path(out_dir)
    mapping = load_mapping(mapping_path)
    own = con is None
    con = con or duck.connect()
    report = AdaptReport()
    made_out = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    # the yearly contract tables' files, moved into out_dir only when every check has passed
    parts = Path(tempfile.mkdtemp(prefix=".registers-parts-", dir=out_dir))
    done = False
    try:
        problems = _sources(con, input_dir, mapping, settings, report)
        if problems:
            raise ContractError(problems, lenient_possible=False)
        prefix = _lookups(con, mapping)
        try:
            run_models(con, settings, mapping, prefix, parts)
        except duckdb.InvalidInputException as exc:
            text = str(exc)
            if "What to do:" not in text:
                raise
            m = re.search(r"(\S+), column (\S+): (.*?)\. What to do: (.*?)\.?$", text, flags=re.S)
            if not m:
                raise
            raise ContractError([_problem(m.group(1), "", m.group(2), 0, m.group(3), hint=m.group(4))],
                                lenient_possible=False) from exc
        problems = _check_codes(con, mapping, prefix)
        if problems:
            raise ContractError(problems, lenient_possible=False)
        yearly = {f.name.rsplit("_", 1)[0] for f in parts.glob("*.parquet")}
        for f in sorted(parts.glob("*.parquet")):
            f.replace(out_dir / f.name)
        written = [*CONTRACT_TABLES, *(t for t, reg in OPTIONAL_CONTRACT_TABLES.items() if report.files.get(reg))]
        for name in written:
            if name in yearly:
                _view_of_parts(con, name, out_dir)
                report.rows[name] = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
                continue
            path = out_dir / f"{name}.parquet"
            con.execute(f"COPY {name} TO '{sql_str(path)}' (FORMAT parquet)")
            report.rows[name] = con.execute(f"SELECT count(*) FROM read_parquet('{sql_str(path)}')").fetchone()[0]
        as_int = bool(mapping.get("settings", {}).get("pnr_as_integer", True))
        for pattern in mapping.get("passthrough", {}).values():
            for path in find_files(input_dir, pattern):
                rel = file_relation(con, path)
                cols = [c for c, *_ in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()]
                if as_int and "person_id" in cols:
                    # the person numbers as the register tables' (the contract's checks compare their types)
                    con.execute(f"COPY (SELECT * EXCLUDE (_file) REPLACE (TRY_CAST(trim(CAST(person_id AS VARCHAR)) AS BIGINT) "
                                f"AS person_id) FROM {rel}) TO '{sql_str(out_dir / (path.stem + '.parquet'))}' (FORMAT parquet)")
                else:
                    shutil.copyfile(path, out_dir / path.name)
        if (input_dir / "SYNTHETIC").exists():
            shutil.copyfile(input_dir / "SYNTHETIC", out_dir / "SYNTHETIC")
        done = True
        return report
    finally:
        shutil.rmtree(parts, ignore_errors=True)
        if not done:
            shutil.rmtree(out_dir if made_out else parts, ignore_errors=True)
        if own:
            con.close()
