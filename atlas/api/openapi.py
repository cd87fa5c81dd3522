"""The OpenAPI 3.1 description of the API, made from the same lists the API checks its parameters
against (measures the source publishes, levels, years, filters), served at ``/api/v1/openapi.json``."""
from __future__ import annotations

from atlas import data
from atlas.api import page_openapi
from atlas.api.params import ALL_LEVELS, FORMATS, PRESENTATION
from atlas.data.domain import FLAGS, STATUSES
from atlas.filters import DIMENSIONS, FUNNEL_TARGETS, LANGS, LEVELS, RATE_MODES, STANDARDS


def _param(name: str, description: str, schema: dict, required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


def _view_params(levels: tuple[str, ...], area: bool, funnel: bool = False) -> list[dict]:
    s = data.source()
    years = s.years()
    out = [
        _param("measure", "The measure (GET /measures).", {"type": "string", "enum": list(s.measures()),
                                                           "default": "imaging_rate"}),
        _param("level", "Area type; `all`: every map level at once, then Denmark.",
               {"type": "string", "enum": list(levels), "default": "municipality"}),
        _param("y0", "First year (default: the last year complete for every measure).",
               {"type": "integer", "enum": years}),
        _param("y1", "Last year (y0 alone: that year).", {"type": "integer", "enum": years}),
        _param("period", "A published period instead of y0 and y1 (GET /periods).",
               {"type": "string", "enum": list(s.periods())}),
        _param("rates", "Rates: indirectly standardised, crude, or empirical-Bayes smoothed.",
               {"type": "string", "enum": list(RATE_MODES), "default": "isr"}),
        _param("standard", "Standard population of standardised rates.",
               {"type": "string", "enum": list(STANDARDS), "default": "esp2013"}),
        _param("within", "Only the municipalities of this region (level=municipality).", {"type": "integer"}),
        _param("lang", "Language of names and status words.", {"type": "string", "enum": list(LANGS),
                                                              "default": "en"}),
        _param("format", "json or csv.", {"type": "string", "enum": list(FORMATS), "default": "json"}),
    ]
    if area:
        out.append(_param("area", "An area code of the level (GET /areas).", {"type": "integer"}))
    for key, (column, allowed, _) in DIMENSIONS.items():
        out.append(_param(key, f"Filter on {column} (GET /filters).",
                          {"type": "string", "enum": ["all", *(str(v) for v in allowed)], "default": "all"}))
    if funnel:
        out.append(_param("funnel", "`peers` (with level=municipality and area): that municipality and its comparable "
                          "municipalities, with `peer_target` (their pooled level) and `peer_funnel_flag` (each "
                          "point against it), as the atlas's funnel plot with funnel=peers.",
                          {"type": "string", "enum": list(FUNNEL_TARGETS), "default": "denmark"}))
    for key in PRESENTATION:
        if funnel and key == "funnel":
            continue
        out.append(_param(key, "Accepted from a page address; changes no figure.", {"type": "string"}))
    return out


def _responses(rows: str) -> dict:
    return {
        "200": {"description": "The rows (JSON envelope or CSV).", "headers": {
            "ETag": {"schema": {"type": "string"}}, "X-Atlas-Release": {"schema": {"type": "string"}},
            "X-Atlas-Marking": {"description": "On the secure database only.", "schema": {"type": "string"}}},
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/" + rows}},
                        "text/csv": {"schema": {"type": "string"}}}},
        "304": {"description": "Not modified (If-None-Match)."},
        "400": {"description": "A bad parameter.", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Error"}}}},
        "404": {"description": "Not published (with the nearest published view) or not found.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    }


def _meta_path(summary: str, extra=()) -> dict:
    return {"get": {"summary": summary, "parameters": [
        _param("lang", "Language of names.", {"type": "string", "enum": list(LANGS)}), *extra],
        "responses": {"200": {"description": summary, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Envelope"}}}},
            "400": {"description": "A bad parameter.", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}}}}}


def document(root: str) -> dict:
    num = {"type": ["number", "null"]}
    cell = {"count": {"type": ["integer", "null"]}, "denominator": {"type": ["integer", "null"]}, "value": num,
            "lower": num, "upper": num, "expected": num,
            "funnel_flag": {"type": ["string", "null"], "enum": [*(f for f in FLAGS), None]},
            "status": {"type": "string", "enum": list(STATUSES),
                       "description": "shown; hidden (1-4, or to protect such a count: no number at all); small; "
                                      "protect; few_events (counts, no rate); unpublished; empty"},
            "status_text": {"type": ["string", "null"]}, "complete": {"type": "boolean"}}
    envelope = {"type": "object", "required": ["api_version", "release", "marking"], "properties": {
        "api_version": {"type": "string"},
        "release": {"type": "object", "description": "The release identity (id YYYY.N, vintage, source hash)."},
        "marking": {"type": ["string", "null"],
                    "description": "On the secure database: 'Inside the secure environment only: not "
                                   "output-checked'; null on a release."}}}

    def rows(props: dict) -> dict:
        return {"allOf": [{"$ref": "#/components/schemas/Envelope"}, {"type": "object", "properties": {
            "view": {"type": "object"}, "links": {"type": "object"}, "columns": {"type": "array"},
            "rows": {"type": "integer"},
            "data": {"type": "array", "items": {"type": "object", "properties": {**props, **cell}}}}}]}

    area = {"level": {"type": "string"}, "code": {"type": "integer"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Lumbar spine imaging atlas for Denmark: open-data API", "version": "1",
                 "description": "Read-only figures of the atlas, the same as its pages and CSV downloads. A hidden "
                                "cell carries its status and no number. See docs/api.md."},
        "servers": [{"url": root.rstrip("/")}],
        "paths": {
            "/release": _meta_path("The release served: edition, vintage, source database's hash."),
            "/measures": _meta_path("Every published measure with its metadata."),
            "/measures/{key}": {"get": {**_meta_path("One measure's metadata.")["get"], "parameters": [
                {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}]}},
            "/measures/{key}/published": {"get": {**_meta_path("Every level, period and filter set published.")["get"],
                                                  "parameters": [{"name": "key", "in": "path", "required": True,
                                                                  "schema": {"type": "string"}}]}},
            "/areas": _meta_path("Areas with codes, names and regions.", [
                _param("level", "Only this level.", {"type": "string", "enum": list(ALL_LEVELS[:-1])})]),
            "/levels": _meta_path("Area types."),
            "/periods": _meta_path("Single years and multi-year periods with figures."),
            "/filters": _meta_path("Population groups and imaging filters with their values."),
            "/data": {"get": {"summary": "The table of areas of a view (map, ranking, funnel), with Denmark.",
                              "parameters": _view_params((*ALL_LEVELS, "all"), True, funnel=True),
                              "responses": _responses("AreaRows")}},
            "/trend": {"get": {"summary": "Every single year for Denmark and an area.",
                               "parameters": _view_params(LEVELS, True), "responses": _responses("TrendRows")}},
            "/breakdown": {"get": {"summary": "The measure by population group (one group at a time).",
                                   "parameters": _view_params(LEVELS, True), "responses": _responses("GroupRows")}},
            "/mix": {"get": {"summary": "Modality, priority, referrer and what followed, for Denmark and an area.",
                             "parameters": _view_params(LEVELS, True), "responses": _responses("MixRows")}},
            **page_openapi.paths(_responses),
        },
        "components": {"schemas": {
            "Envelope": envelope,
            "Error": {"allOf": [{"$ref": "#/components/schemas/Envelope"}, {"type": "object", "properties": {
                "error": {"type": "object", "required": ["status", "code", "message"], "properties": {
                    "status": {"type": "integer"}, "code": {"type": "string"}, "message": {"type": "string"},
                    "parameter": {"type": "string"}, "value": {"type": "string"},
                    "allowed": {"type": "array", "items": {"type": "string"}},
                    "nearest": {"type": "string", "description": "API address of the nearest published view"}}}}}]},
            "AreaRows": rows({**area, "name": {"type": "string"}, "peer_target": {
                **num, "description": "funnel=peers: the comparable municipalities' pooled level (a ratio to "
                                      "Denmark's rates, or a share in per cent)"},
                "peer_funnel_flag": {"type": ["string", "null"], "enum": [*(f for f in FLAGS), None],
                                     "description": "funnel=peers: the point against peer_target"}}),
            "TrendRows": rows({"year": {"type": "integer"}, **area, "break": {"type": "boolean"}}),
            "GroupRows": rows({"dimension": {"type": "string"}, "group": {"type": "string"},
                               "group_name": {"type": "string"}}),
            "MixRows": rows({**area, "measure": {"type": "string"}, "measure_name": {"type": "string"}}),
            **page_openapi.schemas(),
        }},
    }
