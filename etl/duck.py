"""DuckDB connections of the build and the release: never the network.

DuckDB loads a known extension by itself when a statement needs one (attaching a file that starts
with "SQLite format 3" loads ``sqlite_scanner``) and downloads it first when it is not installed.
Inside a secure research environment nothing may reach the network, and a half-read file must
never turn into a download: every connection the build and the release open comes from
:func:`connect`, with autoloading, autoinstalling and community extensions switched off
(``tests/test_release_faults.py`` checks that a SQLite file reaches no server).
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import duckdb

NO_NETWORK = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
}


def connect(database: str | Path = ":memory:", read_only: bool = False, **config) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect`` with :data:`NO_NETWORK` (and any other settings given)."""
    return duckdb.connect(str(database), read_only=read_only, config={**NO_NETWORK, **config})


@contextmanager
def written_beside(out: Path):
    """A new database written beside ``out`` (``<out>.tmp-<pid>``) and its connection, for a writer
    that moves it into place (``os.replace(tmp, out)``, after closing the connection) only when it is
    whole. On leaving, however it ends, the connection is closed and whatever is left of the temporary
    file and its WAL is removed: a failed or interrupted write leaves ``out`` as it was and nothing
    beside it."""
    out = Path(out)
    tmp = out.with_name(out.name + f".tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    con = connect(tmp)
    try:
        yield tmp, con
    finally:
        try:
            con.close()
        except duckdb.Error:
            pass
        tmp.unlink(missing_ok=True)
        Path(str(tmp) + ".wal").unlink(missing_ok=True)
