"""What the release command checks before it reads anything: the secure database it is given and
the path it is to write, each refused with one sentence that says what to do.

    python -m etl release --db data/atlas.duckdb --out data/release.duckdb

``--db`` must be a secure database made by ``python -m etl build`` of this version: not a folder,
an empty or truncated file, a file of another kind (SQLite, CSV, ...), the release itself, or a
database with a table or column missing (an older schema). ``--out`` must be a file path other
than ``--db`` in a folder that is one (a missing folder is made, as the build does). The exit code
of each refusal is in :mod:`etl.__main__` and the README ("Exit codes of the release").
"""
from __future__ import annotations

import re
from pathlib import Path

import duckdb

from etl import duck
from etl.release.plan import SOURCES

DUCKDB_MAGIC = b"DUCK"             # bytes 8-11 of every DuckDB database file
SQLITE_MAGIC = b"SQLite format 3\x00"
# tables the release reads, beside the cubes of the publication plan's counts
TABLES = ("meta", "areas", "geometry", "area_centroid", "standard_population", "returns_monthly")


class SecureDbMissing(FileNotFoundError):
    """``--db`` does not exist."""


class NotASecureDb(ValueError):
    """``--db`` is not a secure database this release can read (wrong kind, damaged, older schema)."""


class BadOutput(ValueError):
    """``--out`` cannot be a release file (a folder, the secure database, a file as its folder), or the
    ``--plan`` cannot be read: bad paths or configuration (exit code 6)."""


REBUILD = "build the secure database again with 'python -m etl build' (make data) and release from it"


def _kind_of(path: Path) -> str:
    """What the file's first bytes say it is: 'duckdb', 'sqlite', 'empty' or 'other'."""
    with open(path, "rb") as fh:
        head = fh.read(64)
    if not head:
        return "empty"
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head[8:12] == DUCKDB_MAGIC:
        return "duckdb"
    return "other"


def required_columns() -> dict[str, set[str]]:
    """Table -> the columns the release reads that a build of another version may lack."""
    need: dict[str, set[str]] = {t: set() for t in TABLES}
    need["meta"] |= {"key", "value"}
    need["areas"] |= {"level", "code", "region_code", "region2027_code"}
    need["geometry"] |= {"level"}
    need["standard_population"] |= {"standard", "sex", "age_band", "weight"}
    for cube, column in SOURCES.values():
        need.setdefault(cube, set()).update({"year", "municipality", column})
    return need


def check_secure_db(db: Path) -> None:
    """Refuse a ``--db`` the release cannot use, before anything is written."""
    db = Path(db)
    if not db.exists():
        raise SecureDbMissing(f"the secure database {db} does not exist: build it first (python -m etl build, "
                              "or make data), or give its path with --db")
    if db.is_dir():
        raise NotASecureDb(f"--db {db} is a folder: give the secure database file, e.g. {db / 'atlas.duckdb'}")
    kind = _kind_of(db)
    if kind == "empty":
        raise NotASecureDb(f"--db {db} is an empty file (0 bytes), not a secure database: a build that was stopped "
                           f"or a copy that failed; {REBUILD}")
    if kind == "sqlite":
        raise NotASecureDb(f"--db {db} is a SQLite database, not a DuckDB secure database made by the build; "
                           f"give the secure database (data/atlas.duckdb), or {REBUILD}")
    if kind == "other":
        raise NotASecureDb(f"--db {db} is not a DuckDB database (its first bytes are not a DuckDB header); give the "
                           "secure database (data/atlas.duckdb)")
    try:
        con = duck.connect(db, read_only=True)
    except duckdb.Error as exc:
        raise NotASecureDb(f"--db {db} cannot be opened as a DuckDB database ({_first_line(exc)}): the file is "
                           f"truncated or damaged, or made by another DuckDB version; {REBUILD}") from None
    try:
        have: dict[str, set[str]] = {}
        for table, column in con.execute("SELECT table_name, column_name FROM information_schema.columns "
                                         "WHERE table_schema = 'main'").fetchall():
            have.setdefault(table, set()).add(column)
        if not have:
            raise NotASecureDb(f"--db {db} is an empty DuckDB database (no tables); {REBUILD}")
        if "meta" in have and {"key", "value"} <= have["meta"]:
            kind = dict(con.execute("SELECT key, value FROM meta").fetchall()).get("database_kind")
            if kind and "release" in str(kind):
                raise NotASecureDb(f"--db {db} is a release (published figures only), not the secure database it is "
                                   "made from: give the secure database (data/atlas.duckdb) with --db")
        problems = []
        for table, columns in sorted(required_columns().items()):
            if table not in have:
                problems.append(f"the table '{table}' is missing")
            elif columns - have[table]:
                problems.append(f"'{table}' lacks {', '.join(sorted(columns - have[table]))}")
        if problems:
            raise NotASecureDb(f"--db {db} is not a secure database of this version: {'; '.join(problems)} (made by an "
                               f"older version of the build, or changed since); {REBUILD}")
    except duckdb.Error as exc:
        raise NotASecureDb(f"--db {db} cannot be read ({_first_line(exc)}): the file is damaged; {REBUILD}") from None
    finally:
        con.close()


def check_output(out: Path, db: Path) -> None:
    """Refuse an ``--out`` that cannot be the release file; make its folder when it is missing."""
    out, db = Path(out), Path(db)
    if out.is_dir():
        raise BadOutput(f"--out {out} is a folder: give the path of the release file, e.g. {out / 'release.duckdb'}")
    if out.exists() and db.exists() and out.resolve() == db.resolve():
        raise BadOutput("--out is the secure database itself: the release must be written to another file "
                        "(e.g. data/release.duckdb)")
    for parent in (out.parent, *out.parent.parents):
        if parent.exists():
            if not parent.is_dir():
                raise BadOutput(f"--out {out}: {parent} is a file, not a folder")
            break
    out.parent.mkdir(parents=True, exist_ok=True)


def remove_stale_temporaries(out: Path) -> list[Path]:
    """Remove ``OUT.tmp-<pid>`` (and its WAL) that a killed release left: only those whose process no
    longer runs, so a release running beside this one keeps its file."""
    import os

    removed = []
    out = Path(out)
    if not out.parent.is_dir():
        return removed
    for f in sorted(out.parent.glob(out.name + ".tmp-*")):
        pid = f.name.removeprefix(out.name + ".tmp-").removesuffix(".wal").removesuffix(".tmp")
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue                            # that release still runs
        except ProcessLookupError:
            pass
        except PermissionError:
            continue                            # another user's running process
        if f.is_dir():                          # DuckDB's spill folder beside the file
            import shutil

            shutil.rmtree(f, ignore_errors=True)
        else:
            f.unlink(missing_ok=True)
        removed.append(f)
    return removed


def schema_message(exc: Exception) -> str | None:
    """A sentence for a DuckDB catalog or binder error met while reading the secure database (a table or
    column this version needs that the database lacks), or None for any other error."""
    text = str(exc)
    if not isinstance(exc, (duckdb.CatalogException, duckdb.BinderException)):
        return None
    name = re.search(r'(?:name|column) "?([\w.]+)"? (?:does not exist|not found)', text) or \
        re.search(r'"([\w.]+)"', text)
    what = f"'{name.group(1)}'" if name else "a table or column"
    return (f"the secure database lacks {what}, which the release reads: it was made by an older version of the "
            f"build, or changed since; {REBUILD}")


def _first_line(exc: Exception) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    text = lines[0] if lines else type(exc).__name__
    return re.sub(r"(/[^\s:\"']+)+", lambda m: Path(m.group(0)).name, text)[:200]
