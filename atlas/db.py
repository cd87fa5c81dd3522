"""Read-only access to the app database (``data/atlas.duckdb`` or ``$ATLAS_DB``).

One connection per process, opened read-only on first use (so each gunicorn worker opens its own
after the fork); each query runs on its own cursor, so threads do not share one.
"""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from types import MappingProxyType
from pathlib import Path

import duckdb
import pandas as pd

from atlas.cache import cached, frozen_json
from etl.settings import DEFAULT_DB

_lock = threading.Lock()
_con: duckdb.DuckDBPyConnection | None = None
_con_pid: int | None = None


class DatabaseMissing(RuntimeError):
    pass


def db_path() -> Path:
    return Path(os.environ.get("ATLAS_DB", DEFAULT_DB))


def connection() -> duckdb.DuckDBPyConnection:
    global _con, _con_pid
    with _lock:
        if _con is None or _con_pid != os.getpid():
            path = db_path()
            if not path.exists():
                raise DatabaseMissing(f"The atlas database {path} does not exist: run 'make data' first.")
            # read-only, and no access to files or URLs beyond the database itself
            _con = duckdb.connect(str(path), read_only=True,
                                  config={"threads": 2, "enable_external_access": False})
            _con_pid = os.getpid()
        return _con


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
def years() -> list[int]:
    """The single years the served source has figures for (:meth:`atlas.data.Source.years`)."""
    from atlas import data

    return data.source().years()


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
    for f in (meta, areas, level_codes, regions_of, geojson, geojson_text, years, standard_weights):
        f.cache_clear()
    from atlas import data

    data.reset()
