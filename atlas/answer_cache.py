"""Answers of the pages' callbacks computed once per view and shared by the server's workers
(issue 31: a busy publication day).

A callback whose answer depends on nothing but what the browser sends (its inputs, its state and
which input changed) and on the database it reads is *kept*: the pages name them with
:func:`keep` (by one of their outputs, ``"map.figure"``). Its answer is stored as the bytes Dash
sent, gzip-compressed once, under a key made of the request's payload and the identity of the
database file; the next request with the same payload, from any reader, is answered with those
bytes before Dash reads it: no callback, no JSON encoding, no compression.

Two layers: each worker keeps answers in memory (a byte budget, least recently used first); on a
release the answers are also written to a folder shared by the workers (``ATLAS_ANSWERS_DIR``,
default ``<temp>/atlas-answers-<uid>``), one subfolder per database file, so a view one worker drew
is not drawn again by the other. The secure database's answers are never written to disk: they stay
in the memory of the worker that drew them (exact figures must not be left in a temporary folder).
A replaced database has another identity, so no answer is handed out for data it was not drawn from;
the app's code has one too (:data:`CODE`), so an upgraded app never hands out an older one's answers.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

from flask import Response, g, request

_KEPT: set[str] = set()                 # "id.property" of one output of each kept callback
# on under gunicorn (gunicorn.conf.py, as make serve runs it) or with ATLAS_ANSWER_CACHE=1; off in the
# development server and the tests' own servers, where a test may change what a callback answers
enabled = os.environ.get("ATLAS_ANSWER_CACHE", "") == "1"
MEMORY_BYTES = int(os.environ.get("ATLAS_ANSWERS_MEMORY", 64 * 1024 * 1024))
DISK_FILES = 50_000                     # a folder stops growing beyond this many answers


def keep(*outputs: str) -> None:
    """Keep the answers of the callbacks that have one of ``outputs`` (``"id.property"``)."""
    _KEPT.update(outputs)


class _Memory:
    """Answers by key, least recently used dropped first beyond ``budget`` bytes."""

    def __init__(self, budget: int):
        self.budget, self.used = budget, 0
        self.items: OrderedDict[str, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key: str, value: bytes) -> None:
        with self.lock:
            if key in self.items or len(value) > self.budget:
                return
            self.items[key] = value
            self.used += len(value)
            while self.used > self.budget:
                _, old = self.items.popitem(last=False)
                self.used -= len(old)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.used = 0


_memory = _Memory(MEMORY_BYTES)
_memory.cache_clear = _memory.clear      # atlas.cache.clear_all() (a replaced database, the tests) empties it too
__import__("atlas.cache", fromlist=["_MEMOS"])._MEMOS.append(_memory)
_written: dict[Path, int] = {}          # answers in each shared folder (about: other workers write too)
stats = {"memory": 0, "disk": 0, "drawn": 0}       # answers served from memory, from the shared folder, drawn


def _outputs(output: str) -> list[str]:
    return output[2:-2].split("...") if output.startswith("..") and output.endswith("..") else [output]


_CODE_ROOTS = ("app.py", "atlas", "pages", "etl", "assets")


def _code_identity() -> str:
    """A digest of the app's own code (its Python files and assets): an answer drawn by one version
    of the app is never handed out by another. Without it, the shared folder outlives an upgrade
    and readers get pages the new version no longer draws."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for top in _CODE_ROOTS:
        base = root / top
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file()
                                                    and p.suffix in (".py", ".js", ".css", ".toml", ".csv", ".md"))
        for f in files:
            digest.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


CODE = _code_identity()


def _database() -> tuple[str, bool] | None:
    """(identity of the served database file and of the app's code, is it a release), or None when
    none is open."""
    from atlas import data, db

    ident = db._con_file
    if ident is None:
        return None
    return f"{db.db_path().resolve()}|{ident}|{CODE}", data.source().__class__.__name__ == "ReleaseSource"


def _folder(database: str) -> Path:
    root = Path(os.environ.get("ATLAS_ANSWERS_DIR") or Path(tempfile.gettempdir()) / f"atlas-answers-{os.getuid()}")
    return root / hashlib.sha1(database.encode()).hexdigest()[:20]


def key_of(payload: dict, database: str) -> str | None:
    """The key of a callback request, or None when its callback is not kept. Every value the browser
    sent is part of it (inputs, state, the changed inputs), so equal keys mean equal answers."""
    output = payload.get("output")
    if not isinstance(output, str) or not _KEPT.intersection(_outputs(output)):
        return None
    wanted = {k: payload.get(k) for k in ("output", "outputs", "inputs", "state", "changedPropIds")}
    text = json.dumps([database, wanted], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _respond(zipped: bytes) -> Response:
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        resp = Response(zipped, mimetype="application/json")
        resp.headers["Content-Encoding"] = "gzip"        # flask-compress leaves an encoded answer alone
        resp.headers["Vary"] = "Accept-Encoding"
        return resp
    return Response(gzip.decompress(zipped), mimetype="application/json")


def before() -> Response | None:
    """Before Dash reads a callback request: its kept answer, if there is one."""
    if not enabled or request.method != "POST" or not request.path.endswith("_dash-update-component"):
        return None
    payload = request.get_json(silent=True)
    database = _database()
    if not isinstance(payload, dict) or database is None:
        return None
    key = key_of(payload, database[0])
    if key is None:
        return None
    zipped = _memory.get(key)
    if zipped is not None:
        stats["memory"] += 1
        return _respond(zipped)
    if database[1]:
        path = _folder(database[0]) / key
        try:
            zipped = path.read_bytes()
        except OSError:
            zipped = None
        if zipped:
            _memory.put(key, zipped)
            stats["disk"] += 1
            return _respond(zipped)
    g.answer_key = (key, database)
    return None


def after(response: Response) -> Response:
    """After Dash answered a kept callback: keep the answer (gzip, once) and send that."""
    kept = g.pop("answer_key", None)
    if kept is None or response.status_code != 200 or response.direct_passthrough or response.headers.get(
            "Content-Encoding"):
        return response
    key, (database, release) = kept
    from atlas import db

    if f"{db.db_path().resolve()}|{db._con_file}|{CODE}" != database:      # replaced while drawing: do not keep
        return response
    body = response.get_data()
    zipped = gzip.compress(body, compresslevel=6, mtime=0)
    _memory.put(key, zipped)
    stats["drawn"] += 1
    if release:
        folder = _folder(database)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if folder not in _written:          # counted once per worker, then as it writes
                _written[folder] = sum(1 for _ in zip(range(DISK_FILES), folder.iterdir()))
            if _written[folder] < DISK_FILES:
                _written[folder] += 1
                tmp = folder / f".{key}.{os.getpid()}.{threading.get_ident()}"
                tmp.write_bytes(zipped)
                os.replace(tmp, folder / key)
        except OSError:
            pass                     # a full or read-only temporary folder: the memory layer still serves
    return _respond(zipped) if "gzip" in request.headers.get("Accept-Encoding", "") else response


def clear() -> None:
    """Forget the answers kept in this worker's memory (a replaced database gets new keys anyway)."""
    _memory.clear()


def register(server) -> None:
    """Answer kept callbacks from the cache (after the app's own request checks) and keep new answers."""
    server.before_request(before)
    server.after_request(after)
