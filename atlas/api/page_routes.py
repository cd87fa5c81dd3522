"""The endpoints of the pathways page's and the return-letters page's charts, on the API's blueprint:
``/api/v1/pathways/<endpoint>`` and ``/api/v1/returns/<endpoint>`` (GET only).

Each answers the figures of one chart of its page for the view the page's address describes, from
the same functions the page draws and downloads them with (:mod:`atlas.api.page_tables`), with what
every API answer carries (:func:`atlas.api.answers.envelope`: the release and, on the secure
database, the inside-only marking), each cell's status, and the marks of incomplete years and
register breaks. A view whose pathways the release does not publish is a 404 naming the nearest
published view (the page moves there by itself; the API does not).
"""
from __future__ import annotations

from dataclasses import replace

from flask import request

from atlas import coverage, data, db
from atlas.api import page_tables as tables
from atlas.api import page_views as pv
from atlas.api.answers import ROOT, _args_key, _csv_bytes, _json_bytes, _lang, _respond, envelope, error_response
from atlas.api.params import ApiError
from atlas.api.routes import blueprint
from atlas.cache import cached
from atlas.i18n import t

CHART_OF = {endpoint: chart for chart, endpoint in pv.PATHWAY_ENDPOINTS.items()}
RETURN_CHART_OF = {endpoint: chart for chart, endpoint in pv.RETURN_ENDPOINTS.items()}


def _pathway_query() -> pv.PageQuery:
    s = data.source()
    years = s.years()
    return pv.parse_pathways(request.args, years, db.level_codes(), coverage.default_year(years), s.periods())


def _returns_query() -> pv.PageQuery:
    from atlas import returns as R

    return pv.parse_returns(request.args, set(R.centres().producer_id), R.months())


def _period(y0: int, y1: int) -> str:
    return str(y0) if y0 == y1 else f"{y0}-{y1}"


@cached(maxsize=512)
def _pathway_answer(endpoint: str, key: tuple) -> tuple[bytes, str, str | None]:
    """The answer of a pathways endpoint for the request's arguments (``key``), computed once."""
    q = _pathway_query()
    chart = CHART_OF[endpoint]
    nearest, changed = data.source().nearest_pathways(q.view)
    if changed:
        raise ApiError(404, "not_published", f"the pathways page does not show this view ({', '.join(changed)}: the "
                       "release publishes pathways for Denmark and, for 3-year periods, for regions, without "
                       "filters); the nearest view it shows is at 'nearest'", None,
                       nearest=pv.pathways_url(chart, nearest, q.window, q.lang))
    view = replace(q.view, lang=q.lang)
    rows = tables.pathway_rows(endpoint, view, q.window, q.lang)
    columns = tables.PATHWAY_COLUMNS.get(endpoint) or tables.PATHWAY_COLUMNS["trend"]
    if q.fmt == "csv":
        return _csv_bytes(rows, columns), "text/csv", f"atlas-pathways-{endpoint}-{view.y0}-{view.y1}.csv"
    echo = {"level": view.level, "area": view.area, "y0": view.y0, "y1": view.y1, "period": _period(view.y0, view.y1),
            "filters": {k: str(v) for k, v in view.dims}}
    notes = {"protection": data.source().note(q.lang)}
    if chart in pv.WINDOW_CHARTS:
        echo["win"] = q.window
        marks = tables.window_marks(view, q.window, q.lang)
        if endpoint == "outcomes":
            notes["shares"] = t("pw_share_note", q.lang)
    else:
        marks = {"measures": tables.pathway_measures(endpoint, view, q.lang)}
    body = {**envelope(q.lang), "page": "pathways", "chart": chart, "view": echo, **marks, "notes": notes,
            "links": {"self": pv.pathways_url(chart, view, q.window, q.lang),
                      "csv": pv.pathways_url(chart, view, q.window, q.lang, "csv"),
                      "page": pv.pathways_page_url(view, q.window, q.lang)},
            "columns": columns, "rows": len(rows), "data": rows}
    return _json_bytes(body), "application/json", None


@cached(maxsize=256)
def _returns_answer(endpoint: str, key: tuple) -> tuple[bytes, str, str | None]:
    """The answer of a returns endpoint for the request's arguments (``key``), computed once."""
    q = _returns_query()
    chart = RETURN_CHART_OF[endpoint]
    view = replace(q.view, lang=q.lang)
    rows, more = tables.return_rows(endpoint, view, q.lang)
    columns = tables.RETURN_COLUMNS[endpoint]
    if q.fmt == "csv":
        return _csv_bytes(rows, columns), "text/csv", f"atlas-returns-{endpoint}-{view.measure}.csv"
    echo = {"measure": view.measure, "exam": view.exam or "all", "centre": view.centre or "all", "date": view.date}
    measure = {"key": view.measure, "name": t(f"ret_measure_{view.measure}", q.lang),
               "unit": t(f"ret_unit_{view.measure}", q.lang), "per": 1000}
    notes = {"protection": data.source().note(q.lang), "regression": t("ret_key_note", q.lang)}
    body = {**envelope(q.lang), "page": "returns", "chart": chart, "view": echo, "measure": measure, **more,
            "notes": notes,
            "links": {"self": pv.returns_url(chart, view, q.lang), "csv": pv.returns_url(chart, view, q.lang, "csv"),
                      "page": pv.returns_page_url(view, q.lang)},
            "columns": columns, "rows": len(rows), "data": rows}
    return _json_bytes(body), "application/json", None


def _answer(compute, endpoint: str):
    try:
        body, mimetype, filename = compute(endpoint, _args_key())
    except ApiError as exc:
        return error_response(exc, _lang())
    return _respond(body, mimetype, filename=filename)


def _register() -> None:
    for endpoint in pv.PATHWAY_ENDPOINTS.values():
        blueprint.add_url_rule(ROOT + "pathways/" + endpoint, f"pathways_{endpoint}",
                               lambda _e=endpoint: _answer(_pathway_answer, _e), methods=["GET"])
    for endpoint in pv.RETURN_ENDPOINTS.values():
        blueprint.add_url_rule(ROOT + "returns/" + endpoint, f"returns_{endpoint}",
                               lambda _e=endpoint: _answer(_returns_answer, _e), methods=["GET"])


_register()
