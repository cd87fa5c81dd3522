"""The app on a bad or a new database, under gunicorn as `make serve` runs it.

- A missing, empty, damaged or wrong-kind database: gunicorn refuses to start (exit code 3, one
  message), never a blank atlas whose callbacks answer 500.
- A database that goes bad under a running server: pages say what is wrong (503, English and
  Danish), callbacks answer 503 with the reason; put right, it is served again without a restart.
- A new database moved into place (``make data`` / ``make release`` replace the file): the next
  request of every worker answers from it (the file's identity is checked per request), never from
  the old data.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
import requests
from helpers import free_port, start_gunicorn, stop_process

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


def _bad(kind: str, folder: Path, atlas_db: Path) -> Path:
    p = folder / "atlas.duckdb"
    if kind == "missing":
        return folder / "nothing-here.duckdb"
    if kind == "folder":
        p.mkdir()
    elif kind == "0 bytes":
        p.write_bytes(b"")
    elif kind == "truncated":
        p.write_bytes(atlas_db.read_bytes()[:300_000])
    elif kind == "sqlite":
        with sqlite3.connect(p) as con:
            con.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    elif kind == "no atlas tables":
        with duckdb.connect(str(p)) as con:
            con.execute("CREATE TABLE something (x INTEGER)")
    return p


WORDS = {"missing": "does not exist", "folder": "is a folder", "0 bytes": "is an empty file",
         "truncated": "cannot be opened", "sqlite": "is a SQLite database",
         "no atlas tables": "is not an atlas database (no table meta, areas, geometry, standard_population)"}


@pytest.mark.parametrize("kind", list(WORDS))
def test_gunicorn_refuses_to_start_on_a_bad_database(atlas_db, tmp_path, kind):
    db = _bad(kind, tmp_path, atlas_db)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.exists():
        pytest.skip("gunicorn is not installed")
    proc = subprocess.run([str(gunicorn), "--bind", f"127.0.0.1:{free_port()}", "--workers", "1", "app:server"],
                          cwd=REPO_ROOT, env={**os.environ, "ATLAS_DB": str(db)}, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert f"The atlas was not started: The atlas database {db} {WORDS[kind]}" in proc.stderr, proc.stderr
    assert "make data" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


class _Client:
    """requests, shaped like the Flask test client that ``helpers.dash_call`` expects."""

    def __init__(self, url: str):
        self.url, self.http = url, requests.Session()

    class _Answer:
        def __init__(self, r):
            self.r, self.status_code = r, r.status_code

        def get_json(self):
            return self.r.json()

        def get_data(self, as_text=False):
            return self.r.text

    def get(self, path):
        return self._Answer(self.http.get(self.url + path, timeout=60))

    def post(self, path, json=None):
        return self._Answer(self.http.post(self.url + path, json=json, timeout=60))


def _footer(client: _Client) -> str:
    from helpers import dash_call

    answer = dash_call(client, "footer.children", {"url.pathname": "/", "url.search": ""}, "url.pathname")
    return json.dumps(answer)


def _release(atlas_db: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    plan = folder / "plan.toml"
    plan.write_text(TINY_PLAN, encoding="utf-8")
    out = folder / "release.duckdb"
    subprocess.run([sys.executable, "-m", "etl", "release", "--db", str(atlas_db), "--out", str(out), "--plan",
                    str(plan), "--quiet"], cwd=REPO_ROOT, check=True, timeout=300)
    return out


def test_a_new_or_broken_database_under_a_running_server(atlas_db, tmp_path):
    """2 workers of 1 thread (make serve): the secure database, then the release moved into place,
    then a damaged file, then the secure database again; no restart in between."""
    release = _release(atlas_db, tmp_path / "made")
    served = tmp_path / "serve" / "atlas.duckdb"
    served.parent.mkdir()
    shutil.copy2(atlas_db, served)
    proc, port = start_gunicorn(served, tmp_path / "gunicorn.log", workers=2, threads=1)
    client = _Client(f"http://127.0.0.1:{port}")
    try:
        for _ in range(4):                                   # both workers answer from the secure database
            assert "Secure database" in _footer(client)

        staged = served.with_name("incoming.duckdb")
        shutil.copy2(release, staged)
        os.replace(staged, served)                           # as the release command moves its file into place
        answers = [_footer(client) for _ in range(6)]
        assert all("Published release" in a and "Secure database" not in a for a in answers), \
            "an answer after the switch came from the old database"

        damaged = served.with_name("incoming.duckdb")
        damaged.write_bytes(atlas_db.read_bytes()[:300_000])
        os.replace(damaged, served)
        page = client.http.get(client.url + "/", timeout=60)
        assert page.status_code == 503, page.text[:500]
        assert "The atlas cannot be shown" in page.text and "cannot be opened" in page.text, page.text
        assert "Atlasset kan ikke vises" in page.text and str(served.parent) not in page.text, page.text
        from helpers import dash_call

        with pytest.raises(AssertionError) as info:
            dash_call(client, "footer.children", {"url.pathname": "/", "url.search": ""}, "url.pathname")
        assert "cannot be opened" in str(info.value), info.value

        shutil.copy2(atlas_db, staged)
        os.replace(staged, served)                           # put right: served again, no restart
        assert all("Secure database" in _footer(client) for _ in range(4))
    finally:
        stop_process(proc)
    log = (tmp_path / "gunicorn.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]


def test_gunicorn_graceful_reload_serves_the_new_database(atlas_db, tmp_path):
    """The documented alternative: `kill -HUP <master>` after `make release` starts new workers on the
    new file (and warms them) before the old ones stop."""
    import signal

    release = _release(atlas_db, tmp_path / "made")
    served = tmp_path / "serve" / "atlas.duckdb"
    served.parent.mkdir()
    shutil.copy2(atlas_db, served)
    proc, port = start_gunicorn(served, tmp_path / "gunicorn.log", workers=2, threads=1)
    client = _Client(f"http://127.0.0.1:{port}")
    try:
        assert "Secure database" in _footer(client)
        staged = served.with_name("incoming.duckdb")
        shutil.copy2(release, staged)
        os.replace(staged, served)
        proc.send_signal(signal.SIGHUP)
        time.sleep(1)
        deadline = time.time() + 60
        while time.time() < deadline:                        # every answer comes from the release
            answers = [_footer(client) for _ in range(4)]
            if all("Published release" in a for a in answers):
                break
        assert all("Published release" in a for a in answers), answers
    finally:
        stop_process(proc)
