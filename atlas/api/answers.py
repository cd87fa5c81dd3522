"""What every API answer is made of: the envelope (API version, release identity, the secure
marking), JSON and CSV bodies, the HTTP response with its ETag, gzip form and cache headers, errors
as JSON, and the addresses of a view (in the API and on the page)."""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from functools import lru_cache
from urllib.parse import urlencode

from flask import Response, request

from atlas import coverage, db, static
from atlas.api import catalogue
from atlas.api.params import ApiError
from atlas.filters import View
from atlas.measures import MEASURES

VERSION = "v1"
BASE = static.PATH_PREFIX + "api/"
ROOT = BASE + VERSION + "/"
MAX_PARAMS = 30


def is_api_path(path: str) -> bool:
    return path == BASE.rstrip("/") or path.startswith(BASE)


# ----------------------------------------------------------------------------- envelope and responses

def envelope(lang: str = "en") -> dict:
    return {"api_version": VERSION, "release": catalogue.release(), "marking": catalogue.marking(lang)}


def _json_bytes(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _csv_bytes(rows: list[dict], columns: list[str]) -> bytes:
    """A plain CSV (UTF-8, comma, decimal point, header line first): the rows' columns, then the
    release's identity and, on the secure database, the marking, on every row."""
    rel = catalogue.release()
    mark = catalogue.marking()
    extra = ["release_id", "release"] + (["marking"] if mark else [])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns + extra)
    tail = [rel["id"] or "", rel["identity"]] + ([mark] if mark else [])
    for r in rows:
        w.writerow([_csv_value(r.get(c)) for c in columns] + tail)
    if not rows:
        w.writerow([""] * len(columns) + tail)
    return buf.getvalue().encode("utf-8")


def _csv_value(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


@lru_cache(maxsize=1024)
def _encoded(body: bytes) -> tuple[str, bytes]:
    """An answer's SHA-1 (its ETag) and its gzip form, made once per answer (a kept answer is the same
    bytes object each time, whose hash Python keeps): compressing 30 kB of JSON on every request
    would cost more than the rest of the answer."""
    return hashlib.sha1(body).hexdigest(), gzip.compress(body, compresslevel=6, mtime=0)


def _respond(body: bytes, mimetype: str, status: int = 200, filename: str | None = None) -> Response:
    digest, zipped = _encoded(body)
    use_gzip = len(body) >= 1024 and "gzip" in request.headers.get("Accept-Encoding", "")
    tag = f"{digest}-gzip" if use_gzip else digest
    etag = f'"{tag}"'
    headers = {"ETag": etag, "Vary": "Accept-Encoding"}
    headers["Cache-Control"] = "private, no-cache" if catalogue.inside_only() else "public, max-age=300"
    rel = catalogue.release()
    headers["X-Atlas-Release"] = rel["id"] or "none"
    if catalogue.inside_only():
        headers["X-Atlas-Marking"] = catalogue.marking("en")
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    if status == 200 and request.if_none_match.contains(tag):
        return Response(status=304, headers=headers)
    if use_gzip:
        headers["Content-Encoding"] = "gzip"         # flask-compress leaves an encoded answer alone
        body = zipped
    return Response(body, status=status, mimetype=mimetype, headers=headers)


def error_response(exc: ApiError, lang: str = "en") -> Response:
    body = {**envelope(lang), "error": exc.body()}
    resp = Response(_json_bytes(body), status=exc.status, mimetype="application/json")
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Atlas-Release"] = body["release"]["id"] or "none"
    if catalogue.inside_only():
        resp.headers["X-Atlas-Marking"] = catalogue.marking("en")
    return resp


def _lang() -> str:
    value = request.args.get("lang")
    return value if value in ("en", "da") else "en"


def _args_key() -> tuple:
    if len(request.args) > MAX_PARAMS:
        raise ApiError(400, "too_many_parameters", f"at most {MAX_PARAMS} parameters", None)
    # the served file is part of the key: answers are never handed out for another database
    return (str(db.db_path()),) + tuple(sorted((k, tuple(request.args.getlist(k))) for k in request.args.keys()))


# ----------------------------------------------------------------------------- addresses

def api_url(endpoint: str, view: View, level: str | None = None, lang: str = "en", fmt: str = "json",
            area: int | None = None) -> str:
    """The API address of a view (the keys of the page addresses); ``funnel=peers`` only at ``data``
    for a selected area (the funnel plot against that municipality's comparable municipalities)."""
    q = {"measure": view.measure, "level": level or view.level, "y0": view.y0, "y1": view.y1}
    if MEASURES[view.measure].kind == "rate":
        q["rates"] = view.rates
        q["standard"] = view.standard
    if view.within is not None:
        q["within"] = view.within
    if area is not None:
        q["area"] = area
        if endpoint == "data" and view.funnel == "peers":
            q["funnel"] = "peers"
    q.update({k: v for k, v in view.dims})
    if lang != "en":
        q["lang"] = lang
    if fmt != "json":
        q["format"] = fmt
    return ROOT + endpoint + "?" + urlencode(q)


def page_url(view: View, lang: str) -> str:
    """The page address showing the same view."""
    from atlas.state import hash_of

    return static.PATH_PREFIX + ("?lang=da" if lang == "da" else "") + hash_of(view, coverage.default_year())


def _view_echo(view: View, level: str) -> dict:
    out = {"measure": view.measure, "level": level, "y0": view.y0, "y1": view.y1,
           "period": str(view.y0) if view.y0 == view.y1 else f"{view.y0}-{view.y1}",
           "filters": {k: str(v) for k, v in view.dims}}
    if MEASURES[view.measure].kind == "rate":
        out.update(rates=view.rates, standard=view.standard)
    if view.within is not None:
        out["within"] = view.within
    if view.area is not None:
        out["area"] = view.area
    if view.funnel != "denmark":
        out["funnel"] = view.funnel
    return out
