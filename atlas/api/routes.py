"""The API's endpoints: a Flask blueprint on the Dash app's server (``atlas.api.register``).

GET only. Each answer is computed once per worker and kept (the database is read-only; a replaced
database empties every cache, ``atlas.db.replaced``), with a strong ETag (``If-None-Match`` answers
304) and ``Cache-Control``: public for a release, private for the secure database. Every answer,
errors included, carries the release identity (``release``; header ``X-Atlas-Release``) and, on the
secure database, the marking "Inside the secure environment only: not output-checked" (``marking``;
header ``X-Atlas-Marking``; a ``marking`` column in CSV).
"""
from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, current_app, request

from atlas import coverage, data, db, queries
from atlas.api import catalogue, page_views, tables
from atlas.api.answers import (  # noqa: F401
    BASE,
    ROOT,
    VERSION,
    _args_key,
    _csv_bytes,
    _json_bytes,
    _lang,
    _respond,
    _view_echo,
    api_url,
    envelope,
    error_response,
    is_api_path,
    page_url,
)
from atlas.api.params import ALL_LEVELS, ApiError, Query, parse
from atlas.cache import cached
from atlas.filters import LEVELS, View
from atlas.measures import MEASURES

blueprint = Blueprint("atlas_api", __name__)

DATA_COLUMNS = {
    "data": ["level", "code", "name", "count", "denominator", "value", "lower", "upper", "expected", "funnel_flag",
             "status", "status_text", "complete"],
    "trend": ["year", "level", "code", "count", "denominator", "value", "lower", "upper", "expected", "funnel_flag",
              "status", "status_text", "complete", "break"],
    "breakdown": ["dimension", "group", "group_name", "count", "denominator", "value", "lower", "upper", "expected",
                  "funnel_flag", "status", "status_text", "complete"],
    "mix": ["level", "code", "measure", "measure_name", "count", "denominator", "value", "lower", "upper",
            "expected", "funnel_flag", "status", "status_text", "complete"],
}


# ----------------------------------------------------------------------------- checking a request

def _query(extra: tuple[str, ...] = (), levels: tuple[str, ...] = ALL_LEVELS) -> Query:
    s = data.source()
    years = s.years()
    return parse(request.args, extra, years, tuple(MEASURES), db.level_codes(), coverage.default_year(years),
                 s.periods(), levels)


def _not_published(q: Query, endpoint: str, nearest: View | None, what: str) -> ApiError:
    more = {}
    if nearest is not None:
        # the nearest view may be at another level (a region for a municipality's filters)
        level = q.level if q.level in ("all", "denmark") else nearest.level
        more["nearest"] = api_url(endpoint, nearest, level, q.lang, area=nearest.area)
    return ApiError(404, "not_published", f"this view is not published ({what}); the nearest published view is at "
                    "'nearest'" if nearest is not None else f"this view is not published ({what})", None, **more)


def _published_or_404(q: Query, endpoint: str, view: View) -> View:
    s = data.source()
    if view.measure not in s.measures():
        raise ApiError(404, "not_published", f"measure {view.measure!r} has no published estimates", "measure",
                       view.measure, list(s.measures()))
    nearest, changed = s.nearest(view)
    if changed:
        raise _not_published(q, endpoint, nearest, ", ".join(changed))
    return view


# ----------------------------------------------------------------------------- endpoints

@cached(maxsize=1024)
def _data_answer(endpoint: str, key: tuple) -> tuple[bytes, str, str | None]:
    """The answer of a data endpoint for the request's arguments (``key``), computed once."""
    columns = DATA_COLUMNS[endpoint]
    if endpoint == "data":
        q = _query(levels=(*ALL_LEVELS, "all"), extra=("area", "funnel"))
        rows, body = _data(q)
        if q.view.funnel == "peers":
            columns = DATA_COLUMNS["data"] + list(tables.PEER_COLUMNS)
    elif endpoint == "trend":
        q = _query(extra=("area",), levels=LEVELS)
        view = _published_or_404(q, endpoint, q.view)
        rows = tables.trend_rows(view, q.lang)
        body = {"view": _view_echo(view, q.level)}
    elif endpoint == "breakdown":
        q = _query(extra=("area",), levels=LEVELS)
        view = _published_or_404(q, endpoint, q.view)
        answered = queries.breakdown_view(view)
        if answered.dims != view.dims:
            raise _not_published(q, endpoint, answered, "groups are published without other filters")
        rows = tables.breakdown_rows(view, q.lang)
        if not rows:
            whole = replace(view, area=None)
            nearest = whole if view.area is not None and tables.breakdown_rows(whole, q.lang) else None
            raise _not_published(q, endpoint, nearest, "no population groups are published for this area and period")
        body = {"view": _view_echo(replace(answered, area=view.area), q.level)}
        if answered.rates != view.rates and MEASURES[view.measure].kind == "rate":
            body["note"] = "groups are published as crude rates (rates=crude)"
    elif endpoint == "mix":
        q = _query(extra=("area",), levels=LEVELS)
        view = _published_or_404(q, endpoint, q.view)
        rows = tables.mix_rows(view, q.lang)
        body = {"view": _view_echo(view, q.level)}
    else:                                   # pragma: no cover - routes name only these
        raise ValueError(endpoint)
    view = q.view
    name = f"atlas-{endpoint}-{view.measure}-{view.y0}-{view.y1}.csv"
    if q.fmt == "csv":
        return _csv_bytes(rows, columns), "text/csv", name
    body = {**envelope(q.lang), **body,
            "links": {"self": api_url(endpoint, view, q.level, q.lang, area=q.area),
                      "csv": api_url(endpoint, view, q.level, q.lang, "csv", area=q.area),
                      "page": page_url(replace(view, level=q.level if q.level in LEVELS else "municipality"), q.lang),
                      "measure": ROOT + "measures/" + view.measure},
            "columns": columns, "rows": len(rows), "data": rows}
    return _json_bytes(body), "application/json", None


def _data(q: Query) -> tuple[list[dict], dict]:
    """Rows of one level, or of every map level (``level=all``), then Denmark's row (``level=denmark``:
    Denmark's row only; ``area``: that area's row only; ``funnel=peers`` with ``area``: that
    municipality and its comparable municipalities, flagged against their pooled level as the page's
    funnel plot and its CSV)."""
    if q.view.measure not in data.source().measures():
        _published_or_404(q, "data", q.view)
    if q.view.funnel == "peers":
        view = _published_or_404(q, "data", q.view)
        rows, about = tables.peer_rows(view, q.lang)
        return rows, {"view": _view_echo(view, q.level), "funnel": about}
    wanted = LEVELS if q.level == "all" else (q.level,)
    rows, shown, missing = [], [], []
    for level in wanted:
        # Denmark is published wherever the regions are (the release's plan)
        check = replace(q.view, level=level if level in LEVELS else "region")
        if not data.source().publishes(check):
            missing.append(level)
            continue
        shown.append(level)
        if level in LEVELS:
            rows.extend(r for r in tables.area_rows(check, level, q.lang, q.area) if r["level"] == level)
    if not shown:
        nearest = data.source().nearest(replace(q.view, level=q.level if q.level in LEVELS else "region"))[0]
        raise _not_published(q, "data", nearest, "level, period or filters")
    if q.area is None:
        first = shown[0] if shown[0] in LEVELS else "region"
        rows.extend(tables.area_rows(replace(q.view, level=first), "denmark", q.lang))
    body = {"view": _view_echo(q.view, q.level)}
    if q.level == "all":
        body["levels"] = shown
        body["levels_not_published"] = missing
    return rows, body


def _answer(endpoint: str):
    try:
        body, mimetype, filename = _data_answer(endpoint, _args_key())
    except ApiError as exc:
        return error_response(exc, _lang())
    return _respond(body, mimetype, filename=filename)


@blueprint.get(ROOT + "data")
def data_endpoint():
    return _answer("data")


@blueprint.get(ROOT + "trend")
def trend_endpoint():
    return _answer("trend")


@blueprint.get(ROOT + "breakdown")
def breakdown_endpoint():
    return _answer("breakdown")


@blueprint.get(ROOT + "mix")
def mix_endpoint():
    return _answer("mix")


def _meta_answer(build, allowed: tuple[str, ...] = ("lang",)):
    """A metadata endpoint: only ``allowed`` parameters, then ``build(lang)`` -> a JSON body."""
    try:
        _args_key()
        unknown = sorted(k for k in request.args.keys() if k not in allowed)
        if unknown:
            raise ApiError(400, "unknown_parameter", f"unknown parameter {unknown[0]!r}; this endpoint takes: "
                           + (", ".join(allowed) or "no parameters"), unknown[0], None, list(allowed))
        lang = request.args.get("lang", "en")
        if lang not in ("en", "da"):
            raise ApiError(400, "bad_parameter", f"lang={lang!r} is not allowed; allowed: en, da", "lang", lang,
                           ["en", "da"])
        body = _meta_cached(build.__name__, _args_key(), lang)
    except ApiError as exc:
        return error_response(exc, _lang())
    return _respond(body, "application/json")


_BUILDERS: dict = {}


def _builder(fn):
    _BUILDERS[fn.__name__] = fn
    return fn


@cached(maxsize=512)
def _meta_cached(name: str, key: tuple, lang: str) -> bytes:
    return _json_bytes({**envelope(lang), **_BUILDERS[name](lang)})


@_builder
def index_body(lang):
    return {"title": "Lumbar spine imaging atlas for Denmark: open-data API",
            "documentation": "docs/api.md (English), docs/api.da.md (dansk)",
            "openapi": ROOT + "openapi.json",
            "endpoints": {name: ROOT + name for name in ("release", "measures", "areas", "levels", "periods",
                                                          "filters", "data", "trend", "breakdown", "mix",
                                                          *page_views.ENDPOINTS)}}


@_builder
def release_body(lang):
    return {"release": catalogue.release(full=True)}


@_builder
def measures_body(lang):
    return {"measures": catalogue.measures(lang)}


@_builder
def levels_body(lang):
    return {"levels": catalogue.levels(lang)}


@_builder
def periods_body(lang):
    return catalogue.periods()


@_builder
def filters_body(lang):
    return {"filters": catalogue.filters(lang), "options": catalogue.options()}


@blueprint.get(ROOT)
def index():
    return _meta_answer(index_body)


@blueprint.get(BASE)
def versions():
    try:
        if request.args:
            raise ApiError(400, "unknown_parameter", "this address takes no parameters", sorted(request.args)[0])
    except ApiError as exc:
        return error_response(exc)
    return _respond(_json_bytes({**envelope(), "versions": {VERSION: ROOT}}), "application/json")


@blueprint.get(ROOT + "release")
def release_endpoint():
    return _meta_answer(release_body)


@blueprint.get(ROOT + "measures")
def measures_endpoint():
    return _meta_answer(measures_body)


@blueprint.get(ROOT + "levels")
def levels_endpoint():
    return _meta_answer(levels_body)


@blueprint.get(ROOT + "periods")
def periods_endpoint():
    return _meta_answer(periods_body)


@blueprint.get(ROOT + "filters")
def filters_endpoint():
    return _meta_answer(filters_body)


@blueprint.get(ROOT + "areas")
def areas_endpoint():
    level = request.args.get("level")
    if level is not None and level not in ALL_LEVELS[:-1]:
        return error_response(ApiError(400, "bad_parameter", f"level={level!r} is not allowed; allowed: "
                                       + ", ".join(ALL_LEVELS[:-1]), "level", level, list(ALL_LEVELS[:-1])), _lang())
    return _meta_answer(_areas_builder(level), ("lang", "level"))


def _areas_builder(level):
    name = f"areas_body_{level or 'all'}"
    if name not in _BUILDERS:
        def build(lang, _level=level):
            return {"level": _level, "areas": catalogue.areas(_level, lang)}
        build.__name__ = name
        _BUILDERS[name] = build
    return _BUILDERS[name]


def _measure_or_404(key: str) -> None:
    if key not in MEASURES:
        raise ApiError(404, "unknown_measure", f"no measure {key!r}", "measure", key, list(data.source().measures()))
    if key not in data.source().measures():
        raise ApiError(404, "not_published", f"measure {key!r} has no published estimates", "measure", key,
                       list(data.source().measures()))


@blueprint.get(ROOT + "measures/<key>")
def measure_endpoint(key):
    try:
        _measure_or_404(key)
    except ApiError as exc:
        return error_response(exc, _lang())
    name = f"measure_body_{key}"
    if name not in _BUILDERS:
        def build(lang, _key=key):
            return {"measure": catalogue.measure(_key, lang),
                    "links": {"published": ROOT + f"measures/{_key}/published",
                              "data": ROOT + f"data?measure={_key}"}}
        build.__name__ = name
        _BUILDERS[name] = build
    return _meta_answer(_BUILDERS[name])


@blueprint.get(ROOT + "measures/<key>/published")
def published_endpoint(key):
    try:
        _measure_or_404(key)
    except ApiError as exc:
        return error_response(exc, _lang())
    name = f"published_body_{key}"
    if name not in _BUILDERS:
        def build(lang, _key=key):
            return {"measure": _key, **catalogue.published(_key)}
        build.__name__ = name
        _BUILDERS[name] = build
    return _meta_answer(_BUILDERS[name])


@blueprint.get(ROOT + "openapi.json")
def openapi_endpoint():
    try:
        if request.args:
            raise ApiError(400, "unknown_parameter", "this address takes no parameters", sorted(request.args)[0])
    except ApiError as exc:
        return error_response(exc)
    return _respond(_openapi_bytes(str(db.db_path())), "application/json")


@cached(maxsize=4)
def _openapi_bytes(served: str) -> bytes:
    from atlas.api.openapi import document

    return _json_bytes(document(ROOT))


@blueprint.route(BASE + "<path:rest>", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def unknown(rest):
    if request.method not in ("GET", "HEAD"):
        return error_response(ApiError(405, "method_not_allowed", "the API answers GET only", None))
    return error_response(ApiError(404, "not_found", f"no endpoint {request.path!r}; see {ROOT}", None,
                                   endpoints=[ROOT + e for e in ("release", "measures", "areas", "levels", "periods",
                                                                 "filters", "data", "trend", "breakdown", "mix",
                                                                 *page_views.ENDPOINTS, "openapi.json")]))


def method_not_allowed(exc):
    """A POST (or other method) to an API address: a JSON 405; other addresses keep Flask's answer."""
    if is_api_path(request.path):
        resp = error_response(ApiError(405, "method_not_allowed", "the API answers GET only", None))
        resp.headers["Allow"] = "GET, HEAD"
        return resp
    return exc


def server_error(exc):
    """Never a traceback: a JSON 500 that says the API could not answer (logged in full)."""
    current_app.logger.exception("API request failed: %s", request.full_path)
    return error_response(ApiError(500, "server_error", "the atlas could not answer this request", None))
