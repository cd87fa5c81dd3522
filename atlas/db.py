"""Read-only access to the app database (``data/atlas.duckdb`` or ``$ATLAS_DB``).

One connection per process, opened read-only on first use (so each gunicorn worker opens its own
after the fork); each query runs on its own cursor, so threads do not share one.
"""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import duckdb
import pandas as pd

from atlas.cache import cached, clear_all, frozen_json
from etl.settings import DEFAULT_DB

_lock = threading.Lock()
_con: duckdb.DuckDBPyConnection | None = None
_con_pid: int | None = None
_con_file: tuple | None = None          # identity of the file the connection was opened on

# the app needs these tables in any database it serves (the secure one or the release)
APP_TABLES = ("meta", "areas", "geometry", "standard_population")
NO_NETWORK = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


class DatabaseMissing(RuntimeError):
    pass


class DatabaseProblem(DatabaseMissing):
    """The database the app is to serve is missing, damaged or not an atlas database; the message says
    which and what to do (shown instead of a blank atlas; ``gunicorn.conf.py`` refuses to start on it)."""


def db_path() -> Path:
    return Path(os.environ.get("ATLAS_DB", DEFAULT_DB))


def _identity(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _open(path: Path) -> duckdb.DuckDBPyConnection:
    # read-only, and no access to files, URLs or extensions beyond the database itself
    return duckdb.connect(str(path), read_only=True,
                          config={"threads": 2, "enable_external_access": False, **NO_NETWORK})


def problem(path: Path | None = None) -> str | None:
    """Why ``path`` (default: the served database) cannot be served, in one sentence; None when it can."""
    path = Path(path or db_path())
    fix = "build it with 'make data' and 'make release' (or set ATLAS_DB to the database to serve)"
    if not path.exists():
        return f"The atlas database {path} does not exist: {fix}."
    if not path.is_file() or path.stat().st_size == 0:
        return f"The atlas database {path} is {'a folder' if path.is_dir() else 'an empty file'}, not a database: {fix}."
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head[8:12] != b"DUCK":
        kind = "a SQLite database" if head.startswith(b"SQLite format 3") else "not a DuckDB database"
        return f"The atlas database {path} is {kind}: {fix}."
    try:
        con = _open(path)
    except duckdb.Error as exc:
        return (f"The atlas database {path} cannot be opened ({str(exc).splitlines()[0][:160]}): it is damaged or "
                f"truncated; {fix}.")
    try:
        have = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        missing = [t for t in APP_TABLES if t not in have]
        if missing:
            return (f"The atlas database {path} is not an atlas database (no table {', '.join(missing)}): "
                    f"{fix}.")
        con.execute("SELECT count(*) FROM meta").fetchone()
    except duckdb.Error as exc:
        return f"The atlas database {path} cannot be read ({str(exc).splitlines()[0][:160]}): {fix}."
    finally:
        con.close()
    return None


def connection() -> duckdb.DuckDBPyConnection:
    global _con, _con_pid, _con_file
    with _lock:
        if _con is None or _con_pid != os.getpid():
            path = db_path()
            why = problem(path)
            if why:
                raise DatabaseProblem(why)
            _con_file = _identity(path)
            _con = _open(path)
            _con_pid = os.getpid()
        return _con


def request_problem() -> str | None:
    """Once per request: pick up a replaced database (:func:`replaced`), then None when the open
    connection serves, else why the database cannot be served (checked again on each request, so a
    database put right is served without a restart)."""
    replaced()
    if _con is not None and _con_pid == os.getpid():
        return None
    try:
        connection()                # checks the file and keeps the connection for the next requests
    except DatabaseMissing as exc:              # also DatabaseProblem
        return str(exc)
    return None


def replaced() -> bool:
    """True when the file at ``db_path()`` is no longer the one the open connection reads (a new build
    or release was moved into place). Then every cached answer is forgotten and the next query opens
    the new file, so no answer after the switch comes from the old data. Called once per request
    (``app.py``); a ``stat`` of the file, about a microsecond."""
    global _con, _con_file
    if _con is None or _con_pid != os.getpid() or _identity(db_path()) == _con_file:
        return False
    with _lock:
        if _con is None or _identity(db_path()) == _con_file:
            return False
        # closed, not merely dropped: DuckDB keeps one instance per path in a process, and an open old
        # instance would be handed out again for the new file at the same path
        try:
            _con.close()
        except duckdb.Error:
            pass
        _con = None
        _con_file = None
    clear_all()               # every memo, and the data layer's source is chosen again from the new file
    return True


def query(sql: str, params: list | tuple = ()) -> pd.DataFrame:
    """Run a parameterised query on a fresh cursor and return a DataFrame."""
    cur = connection().cursor()
    try:
        return cur.execute(sql, list(params)).df()
    finally:
        cur.close()


@cached(maxsize=1)
def meta() -> Mapping:
    """The database's meta table, key -> parsed JSON, read-only all the way down, so the cache hands
    out the one object without copying it (a copy of the release's plan per call cost a download a
    third of a second)."""
    return frozen_json({k: json.loads(v) for k, v in query("SELECT key, value FROM meta").itertuples(index=False)})


@cached(maxsize=1)
def areas() -> pd.DataFrame:
    return query("SELECT * FROM areas ORDER BY level, code")


@cached(maxsize=8)
def _names(level: str) -> Mapping:
    """Area code -> (name, region code) of one level, read-only (handed out without a copy)."""
    a = areas()
    a = a[a["level"] == level]
    return MappingProxyType({int(c): (n, r) for c, n, r in zip(a["code"], a["name"], a["region_code"])})


def with_names(t: pd.DataFrame, level: str) -> pd.DataFrame:
    """``t`` (with a ``code`` column of ``level``) with each area's name and region code."""
    names = _names(level)
    t = t.copy()
    found = [names.get(int(c)) if pd.notna(c) else None for c in t["code"]]
    t["name"] = pd.Series([f[0] if f else None for f in found], index=t.index, dtype=object)
    t["region_code"] = (pd.Series([f[1] if f else None for f in found], index=t.index) if level == "municipality"
                        else t["code"])
    return t


@cached(maxsize=1)
def level_codes() -> dict[str, set[int]]:
    """The area codes of each level (municipality, region, region2027)."""
    a = areas()
    return {lvl: set(a[a.level == lvl].code.astype(int)) for lvl in ("municipality", "region", "region2027")}


@cached(maxsize=1)
def regions_of() -> dict[int, set[int]]:
    """Municipality code -> the region codes (2007 and 2027) it belongs to."""
    a = areas()
    mun = a[a.level == "municipality"]
    return {int(c): {int(r), int(r27)} for c, r, r27 in zip(mun.code, mun.region_code, mun.region2027_code)}


@cached(maxsize=4)
def geojson_text(level: str) -> str:
    rows = query("SELECT geojson FROM geometry WHERE level = ?", [level])
    return rows.iloc[0, 0]


@cached(maxsize=4)
def geojson(level: str) -> dict:
    return json.loads(geojson_text(level))


@cached(maxsize=1)
def standard_weights() -> pd.DataFrame:
    return query("SELECT standard, age_band, sex, weight FROM standard_population")


def reset_caches() -> None:
    """Forget cached reference data (tests that swap the database)."""
    global _con
    with _lock:
        if _con is not None:
            _con.close()
        _con = None
    clear_all()               # its reference data, every answer made from it, the data layer's source
