"""`python -m etl release` as an operator meets it: every bad secure database, output path and
environment fault gives one message (no traceback) and its documented exit code (README, "Exit codes
of the release"), the previous release stays byte-identical and nothing is left beside it; SIGTERM
and Ctrl-C clean up and exit 143 and 130; no connection the build or the release opens can reach the
network (a SQLite file must not make DuckDB download an extension).

Most cases stop before the publication plan is read; those that run a whole release use a tiny plan
(two counts, regions and Denmark) so they take seconds.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from etl.settings import REPO_ROOT

TINY_PLAN = """
[protection]
min_count = 5
min_events_standardised = 10
expected_decimals = 1

[periods]
multi_year = [[2013, 2024]]

[[tables]]
counts = ["persons", "imaging"]
patterns = [[]]
levels = ["region", "denmark"]
"""


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def out(tmp_path) -> Path:
    """An earlier release standing where the new one goes (any bytes: it must not change)."""
    folder = tmp_path / "published"
    folder.mkdir()
    previous = folder / "release.duckdb"
    previous.write_bytes(b"the previous release\n" * 100)
    return previous


@pytest.fixture
def tiny_plan(tmp_path) -> Path:
    p = tmp_path / "tiny-plan.toml"
    p.write_text(TINY_PLAN, encoding="utf-8")
    return p


def cli_release(capsys, db: Path, out: Path, *extra: str) -> tuple[int, str]:
    from etl.__main__ import main

    code = main(["release", "--db", str(db), "--out", str(out), "--quiet", *extra])
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return code, err


def assert_previous_release_untouched(out: Path, digest: str) -> None:
    assert _sha(out) == digest, "the previous release was changed by a failed release"
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name], "something was left beside the release"


def _copy_changed(atlas_db: Path, folder: Path, sql: str) -> Path:
    db = folder / "changed.duckdb"
    shutil.copy2(atlas_db, db)
    with duckdb.connect(str(db)) as con:
        con.execute(sql)
    return db


# ------------------------------------------------------------------ a bad secure database (--db)

def _folder(atlas_db, d):
    (d / "atlas.duckdb").mkdir()
    return d / "atlas.duckdb"


def _zero_bytes(atlas_db, d):
    (d / "atlas.duckdb").write_bytes(b"")
    return d / "atlas.duckdb"


def _truncated(atlas_db, d):
    (d / "atlas.duckdb").write_bytes(atlas_db.read_bytes()[: 300_000])
    return d / "atlas.duckdb"


def _parquet(atlas_db, d):
    import pandas as pd

    pd.DataFrame({"a": [1, 2]}).to_parquet(d / "atlas.duckdb")
    return d / "atlas.duckdb"


def _sqlite(atlas_db, d):
    with sqlite3.connect(d / "atlas.duckdb") as con:
        con.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    return d / "atlas.duckdb"


def _empty_duckdb(atlas_db, d):
    duckdb.connect(str(d / "atlas.duckdb")).close()
    return d / "atlas.duckdb"


def _older_schema(atlas_db, d):
    return _copy_changed(atlas_db, d, "ALTER TABLE imaging_cube DROP COLUMN n_private")


def _renamed_column(atlas_db, d):
    return _copy_changed(atlas_db, d, "ALTER TABLE areas RENAME COLUMN region_code TO region")


def _missing_table(atlas_db, d):
    return _copy_changed(atlas_db, d, "DROP TABLE returns_monthly")


@pytest.mark.parametrize("make,code,words", [
    (lambda a, d: d / "nothing-here.duckdb", 3, "does not exist: build it first"),
    (_folder, 2, "is a folder: give the secure database file"),
    (_zero_bytes, 2, "is an empty file (0 bytes)"),
    (_truncated, 2, "cannot be opened as a DuckDB database"),
    (_parquet, 2, "is not a DuckDB database"),
    (_sqlite, 2, "is a SQLite database, not a DuckDB secure database"),
    (_empty_duckdb, 2, "is an empty DuckDB database (no tables)"),
    (_older_schema, 2, "'imaging_cube' lacks n_private"),
    (_renamed_column, 2, "'areas' lacks region_code"),
    (_missing_table, 2, "the table 'returns_monthly' is missing"),
], ids=["missing", "folder", "0 bytes", "truncated", "parquet", "sqlite", "empty", "older schema",
        "renamed column", "missing table"])
def test_a_bad_secure_database(atlas_db, tmp_path, out, capsys, make, code, words):
    src = tmp_path / "secure"
    src.mkdir()
    db = make(atlas_db, src)
    digest = _sha(out)
    got, err = cli_release(capsys, db, out)
    assert got == code, err
    assert f"Release stopped (exit code {code}): " in err and words in err, err
    assert "previous release (if any) is unchanged" in err
    if code == 2 and "folder" not in words:
        assert "python -m etl build" in err or "data/atlas.duckdb" in err, err
    assert err.count("\n") == 2, "one message (and the line saying nothing was written)"
    assert_previous_release_untouched(out, digest)


def test_the_release_itself_as_the_secure_database(atlas_db, tmp_path, tiny_plan, capsys):
    """A real release given as --db: refused as what it is."""
    first = tmp_path / "first" / "release.duckdb"
    code, err = cli_release(capsys, atlas_db, first, "--plan", str(tiny_plan))
    assert code == 0, err
    out = tmp_path / "second" / "release.duckdb"
    code, err = cli_release(capsys, first, out)
    assert code == 2 and "is a release (published figures only), not the secure database" in err, err
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


def test_a_schema_error_met_later_names_what_is_missing(atlas_db, out, capsys, monkeypatch):
    """A table or column the up-front check does not know of, met while releasing: exit 2, not a traceback."""
    from etl.release import build as release_build

    def fail(*_a, **_k):
        raise duckdb.BinderException('Binder Error: Referenced column "n_newthing" not found in FROM clause!')
    monkeypatch.setattr(release_build, "write_cells", fail)
    digest = _sha(out)
    code, err = cli_release(capsys, atlas_db, out)
    assert code == 2 and "the secure database lacks 'n_newthing'" in err and "python -m etl build" in err, err
    assert_previous_release_untouched(out, digest)


# ------------------------------------------------------------------ the output path (--out) and the plan

def test_bad_output_paths_and_plan(atlas_db, tmp_path, out, capsys):
    digest = _sha(out)
    code, err = cli_release(capsys, atlas_db, out.parent)
    assert code == 6 and "is a folder: give the path of the release file" in err, err
    code, err = cli_release(capsys, atlas_db, atlas_db)
    assert code == 6 and "is the secure database itself" in err, err
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    code, err = cli_release(capsys, atlas_db, a_file / "release.duckdb")
    assert code == 6 and "is a file, not a folder" in err, err
    bad_plan = tmp_path / "plan.toml"
    bad_plan.write_text("[[tables]]\ncounts = ['no_such_count']\n", encoding="utf-8")
    code, err = cli_release(capsys, atlas_db, out, "--plan", str(bad_plan))
    assert code == 6 and "unknown count 'no_such_count'" in err, err
    code, err = cli_release(capsys, atlas_db, out, "--plan", str(tmp_path / "no-plan.toml"))
    assert code == 6 and "no-plan.toml" in err, err
    assert_previous_release_untouched(out, digest)


def test_a_missing_output_folder_is_made(atlas_db, tmp_path, tiny_plan, capsys):
    out = tmp_path / "new" / "folder" / "release.duckdb"
    code, err = cli_release(capsys, atlas_db, out, "--plan", str(tiny_plan))
    assert code == 0, err
    assert sorted(p.name for p in out.parent.iterdir()) == ["release-report.md", "release.duckdb"]


def test_a_stale_temporary_of_a_killed_release_is_removed(atlas_db, out, tiny_plan, capsys):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = out.parent / f"{out.name}.tmp-{dead.pid}"
    stale.write_bytes(b"half a release")
    Path(str(stale) + ".wal").write_bytes(b"wal")
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        running = out.parent / f"{out.name}.tmp-{live.pid}"
        running.write_bytes(b"a release being written")
        from etl.__main__ import main

        code = main(["release", "--db", str(atlas_db), "--out", str(out), "--quiet", "--plan", str(tiny_plan)])
        said = capsys.readouterr()
        assert code == 0 and "Traceback" not in said.err, said.err
        assert not stale.exists() and not Path(str(stale) + ".wal").exists()
        assert running.exists(), "the file of a running release was removed"
        # --quiet silences progress, not what the command changed beside --out: each removed leftover
        # is said on stderr (and nothing else is said), the running release's file is not named
        assert not said.out, said.out
        assert said.err.splitlines() == [f"removed {f}, left by a release that was stopped"
                                         for f in (stale, Path(str(stale) + ".wal"))], said.err
    finally:
        live.kill()
        live.wait()


def _unshare_ok() -> bool:
    """True where a private mount namespace with a tmpfs can be made (unshare, user namespaces)."""
    import tempfile

    if not shutil.which("unshare"):
        return False
    with tempfile.TemporaryDirectory() as d:
        return subprocess.run(["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=1m tmpfs '{d}'"],
                              capture_output=True).returncode == 0


def _release_on_a_small_disk(atlas_db: Path, folder: Path, options: str, plan: Path) -> tuple[int, str, list[str]]:
    """The release written to a tmpfs mounted (in a private mount namespace) on ``folder``."""
    script = (f"mount -t tmpfs -o {options} tmpfs '{folder}' || exit 99; "
              f"'{sys.executable}' -m etl release --db '{atlas_db}' --out '{folder}/release.duckdb' --plan '{plan}' "
              "--quiet; echo \"exit=$?\"; ls -A '" + str(folder) + "'")
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, cwd=REPO_ROOT,
                          timeout=300)
    assert proc.returncode != 99, proc.stderr
    lines = proc.stdout.strip().splitlines()
    code_line = next(ln for ln in lines if ln.startswith("exit="))
    return int(code_line[5:]), proc.stderr, lines[lines.index(code_line) + 1:]


@pytest.mark.skipif(not _unshare_ok(), reason="needs unshare and tmpfs mounts in a private namespace")
@pytest.mark.parametrize("options,words", [("size=256k", "the disk is full"), ("ro", "cannot write in")],
                         ids=["disk full", "read-only"])
def test_a_full_or_read_only_disk(atlas_db, tmp_path, tiny_plan, options, words):
    """A real full (256 kB) or read-only file system under --out: exit 7, one message, nothing left there."""
    folder = tmp_path / "mounted"
    folder.mkdir()
    code, err, left = _release_on_a_small_disk(atlas_db, folder, options, tiny_plan)
    assert code == 7, err
    assert words in err and "Traceback" not in err, err
    assert left == [], f"left behind on the full disk: {left}"


@pytest.mark.parametrize("failure", [
    OSError(28, "No space left on device"),
    duckdb.IOException('IO Error: Could not write file "x.tmp": No space left on device'),
    duckdb.FatalException("FATAL Error: database has been invalidated: No space left on device"),
    duckdb.InvalidInputException("Invalid Input Error: could not write the WAL: No space left on device"),
], ids=["OSError", "IOException", "FatalException", "InvalidInputException"])
def test_disk_full_in_any_form_is_exit_7(atlas_db, out, capsys, monkeypatch, failure):
    from etl.release import build as release_build

    def fail(*_a, **_k):
        raise failure
    monkeypatch.setattr(release_build, "write_cells", fail)
    digest = _sha(out)
    code, err = cli_release(capsys, atlas_db, out)
    assert code == 7 and "the disk is full" in err and "release again" in err, err
    assert_previous_release_untouched(out, digest)


# ------------------------------------------------------------------ signals

@pytest.mark.parametrize("sig,code,words,during", [
    (signal.SIGTERM, 143, "terminated (SIGTERM)", "cells"),
    (signal.SIGINT, 130, "interrupted (Ctrl-C)", "cells"),
    (signal.SIGTERM, 143, "terminated (SIGTERM)", "protection"),
], ids=["SIGTERM", "SIGINT", "SIGTERM in the protection step"])
def test_signals_clean_up(atlas_db, out, sig, code, words, during):
    """SIGTERM or Ctrl-C while the release works (reading the cells, or protecting them: the LP): its
    exit code within 30 s, one message, no release.duckdb.tmp-<pid>."""
    digest = _sha(out)
    proc = subprocess.Popen([sys.executable, "-m", "etl", "release", "--db", str(atlas_db), "--out", str(out)],
                            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    assert first.startswith("[release] checking the secure database"), first
    if during == "protection":
        line = first
        while line and "relations (geography" not in line:       # the step before protection is done
            line = proc.stdout.readline()
        assert line, "the release ended before protecting"
    deadline = time.time() + 60
    while not list(out.parent.glob(out.name + ".tmp-*")) and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"the release did not stop within 30 s of the signal ({during})")
    assert proc.returncode == code, err
    assert words in err and "Traceback" not in err, err
    assert_previous_release_untouched(out, digest)


# ------------------------------------------------------------------ no network

def test_every_connection_of_the_build_and_release_is_opened_without_network():
    """No duckdb.connect in etl/ outside etl/duck.py, and the app's connection has autoloading off."""
    offenders = [str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "etl").rglob("*.py")
                 if p.name != "duck.py" and re.search(r"duckdb\.connect\(", p.read_text(encoding="utf-8"))]
    assert offenders == [], f"connections opened without etl.duck.connect: {offenders}"
    app_db = (REPO_ROOT / "atlas" / "db.py").read_text(encoding="utf-8")
    assert '"autoload_known_extensions": False' in app_db and '"autoinstall_known_extensions": False' in app_db
    from etl import duck

    with duck.connect() as con:
        settings = dict(con.execute("SELECT name, value FROM duckdb_settings() WHERE name IN "
                                    "('autoload_known_extensions', 'autoinstall_known_extensions')").fetchall())
    assert settings == {"autoload_known_extensions": "false", "autoinstall_known_extensions": "false"}


def _listener():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(0.2)
    hits: list[int] = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
                hits.append(1)
                conn.close()
            except OSError:
                pass
    threading.Thread(target=accept, daemon=True).start()
    return srv, hits, stop


def test_a_sqlite_file_reaches_no_server(tmp_path):
    """Attaching a SQLite file through etl.duck fails at once and asks no extension repository for
    anything; the same statement with DuckDB's defaults does (so this test can fail)."""
    from etl import duck

    f = tmp_path / "x.db"
    with sqlite3.connect(f) as con:
        con.execute("CREATE TABLE t (a)")
    srv, hits, stop = _listener()
    repo = {"custom_extension_repository": f"http://127.0.0.1:{srv.getsockname()[1]}",
            "extension_directory": str(tmp_path / "extensions")}
    try:
        with duck.connect(**repo) as con, pytest.raises(duckdb.Error) as info:
            con.execute(f"ATTACH '{f}' AS s (READ_ONLY)")
        assert "INSTALL" in str(info.value) or "not found" in str(info.value), info.value
        time.sleep(0.3)
        assert hits == [], "a connection of etl.duck asked the network for an extension"
        with duckdb.connect(config={"autoinstall_known_extensions": True, "autoload_known_extensions": True,
                                    **repo}) as con, pytest.raises(duckdb.Error):
            con.execute(f"ATTACH '{f}' AS s (READ_ONLY)")
        time.sleep(0.3)
        assert hits, "the control (autoloading on) did not try the network: the test would prove nothing"
    finally:
        stop.set()
        srv.close()


def test_a_database_written_beside_its_place_is_moved_in_whole_or_leaves_nothing(tmp_path):
    from etl import duck

    out = tmp_path / "release.duckdb"
    out.write_bytes(b"the previous release")
    with pytest.raises(RuntimeError):
        with duck.written_beside(out) as (tmp, con):
            con.execute("CREATE TABLE t AS SELECT 1 AS x")
            raise RuntimeError("a failed check")
    assert out.read_bytes() == b"the previous release" and sorted(tmp_path.iterdir()) == [out]
    with duck.written_beside(out) as (tmp, con):
        con.execute("CREATE TABLE t AS SELECT 42 AS x")
        con.close()
        os.replace(tmp, out)
    assert sorted(tmp_path.iterdir()) == [out]
    assert duck.connect(out, read_only=True).execute("SELECT x FROM t").fetchone() == (42,)
