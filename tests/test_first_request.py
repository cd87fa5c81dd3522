"""A freshly started server answers a browser's first, parallel requests (issue 11).

A browser opening the atlas sends the page and its scripts over several connections at once. Dash
used to set a worker up on its first request, behind a flag set before the work was done, so
concurrent first requests raced past it and some scripts were answered 500 ("dash is not a
registered library"): a blank first page. Here gunicorn is started fresh several times and, as soon
as it listens, the page, its scripts, the layout and the dependencies are requested all at once;
every answer must be a 200.
"""
from __future__ import annotations

import re
import socket
import sys

import pytest
from helpers import start_gunicorn, stop_process

from etl.settings import REPO_ROOT

STARTS = 2


@pytest.fixture(scope="module")
def page_resources(app_db):
    """The scripts the page loads, read from the app in this process (same packages, same paths)."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import app as app_module

    html = app_module.server.test_client().get("/").get_data(as_text=True)
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert any("_dash-component-suites" in s for s in scripts), html[:500]
    return ["/", "/_dash-layout", "/_dash-dependencies", *scripts]


def _burst(port: int, paths: list[str]) -> list[tuple[str, str]]:
    """Open one connection per request first, then send every request at once (as a browser opening
    a page does, only more so); return each path with its status line."""
    socks = [socket.create_connection(("127.0.0.1", port), timeout=60) for _ in paths]
    try:
        for s, p in zip(socks, paths):
            s.sendall(f"GET {p} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        out = []
        for s, p in zip(socks, paths):
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            out.append((p, data.split(b"\r\n", 1)[0].decode("latin-1")))
        return out
    finally:
        for s in socks:
            s.close()


@pytest.mark.slow        # starts gunicorn twice: in `make test`, not in `make test-fast`
def test_fresh_server_answers_parallel_first_requests(app_db, page_resources, tmp_path):
    failures = []
    for start in range(STARTS):
        proc, port = start_gunicorn(app_db, tmp_path / f"gunicorn-{start}.log")
        try:
            # each path three times, so both workers see many concurrent first requests
            answers = _burst(port, page_resources * 3)
        finally:
            stop_process(proc)
        failures += [(start, p, status) for p, status in answers if " 200 " not in status]
    assert not failures, failures


@pytest.mark.parametrize("path", ["/_dash-component-suites/no_such_lib/x.js", "/_dash-component-suites/dash/no/such/file.js",
                                  "/_dash-component-suites/dash/../../etc/passwd"])
def test_unknown_component_suite_path_is_404_not_500(app_db, page_resources, path):
    import app as app_module

    r = app_module.server.test_client().get(path)
    assert r.status_code == 404, (path, r.status_code)
