"""The OpenAPI description of the pathways and return-letters endpoints (:mod:`atlas.api.page_routes`),
merged into the API's document (:func:`atlas.api.openapi.document`)."""
from __future__ import annotations

from atlas import data
from atlas.api import page_tables
from atlas.api import page_views as pv
from atlas.api.params import FORMATS
from atlas.filters import DIMENSIONS, LANGS
from atlas.returns.constants import EXAMS
from atlas.returns.constants import MEASURES as RETURN_MEASURES

SUMMARIES = {
    "pathways/flows": "The pathways' flows (the Sankey): referrer -> modality, then modality -> what followed.",
    "pathways/outcomes": "What followed, by referrer and modality: episodes, and each outcome's count and share.",
    "pathways/repeat": "Repeat imaging by year (X-ray then MRI, repeat MRI) for Denmark and the area.",
    "pathways/providers": "Where the imaging was done (private MRI and X-ray shares) by year, Denmark and the area.",
    "pathways/lowvalue": "Potentially low-value imaging (rate and share) by year, Denmark and the area.",
    "pathways/referrer": "Potentially low-value imaging by referrer, Denmark and the area.",
    "pathways/areas": "Every area of the level (and Denmark): low-value rate and share, repeat imaging shares.",
    "returns/exam": "Returned referrals or standard letters by month and exam type.",
    "returns/series": "The monthly rate per 1,000 referrals with the segmented regression around the date.",
    "returns/centres": "Count and rate by centre and month.",
    "returns/summary": "Per centre, before and after the date: referrals, count, rate.",
}


def _param(name: str, description: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def _common() -> list[dict]:
    return [_param("lang", "Language of names and status words.", {"type": "string", "enum": list(LANGS),
                                                                 "default": "en"}),
            _param("format", "json or csv.", {"type": "string", "enum": list(FORMATS), "default": "json"}),
            *[_param(k, "Accepted from a page address; changes no figure.", {"type": "string"}) for k in pv.PAGE_ONLY]]


def _pathway_params() -> list[dict]:
    s = data.source()
    years = s.years()
    return [
        _param("level", "Area type of `area` (and of the areas endpoint's rows).",
               {"type": "string", "enum": list(pv.PATHWAY_LEVELS), "default": "municipality"}),
        _param("area", "An area code of the level (GET /areas); none: Denmark.", {"type": "integer"}),
        _param("y0", "First year (default: the last year complete for every measure).", {"type": "integer",
                                                                                         "enum": years}),
        _param("y1", "Last year.", {"type": "integer", "enum": years}),
        _param("period", "A period instead of y0 and y1 (GET /periods).", {"type": "string", "enum": list(s.periods())}),
        _param("win", "Days of follow-up of flows and outcomes.", {"type": "integer", "enum": [90, 365],
                                                                   "default": 365}),
        *[_param(k, f"Filter on {column} (GET /filters).", {"type": "string",
                                                             "enum": ["all", *(str(v) for v in allowed)]})
          for k, (column, allowed, _) in DIMENSIONS.items()],
        *_common(),
    ]


def _return_params() -> list[dict]:
    return [
        _param("measure", "Returned referrals or standard return letters.",
               {"type": "string", "enum": list(RETURN_MEASURES), "default": "returned"}),
        _param("exam", "Exam type.", {"type": "string", "enum": ["all", *EXAMS], "default": "all"}),
        _param("centre", "A centre's producer id (as the page lists them).", {"type": "string", "default": "all"}),
        _param("date", "The intervention date (YYYY-MM-DD; two months of data on each side).",
               {"type": "string", "format": "date", "default": "2022-10-01"}),
        *_common(),
    ]


def paths(responses) -> dict:
    """The endpoints' paths; ``responses(schema)``: the API's common responses for a row schema."""
    out = {}
    for name in pv.ENDPOINTS:
        page, endpoint = name.split("/")
        params = _pathway_params() if page == "pathways" else _return_params()
        schema = f"{page.capitalize()}{endpoint.capitalize()}Rows"
        out["/" + name] = {"get": {"summary": SUMMARIES[name], "parameters": params, "responses": responses(schema)}}
    return out


def schemas() -> dict:
    """The row schemas: the API's envelope with rows of the endpoint's columns (a hidden cell's
    figures are null)."""
    nullable = {"type": ["number", "integer", "string", "boolean", "null"]}
    out = {}
    for name in pv.ENDPOINTS:
        page, endpoint = name.split("/")
        columns = (page_tables.PATHWAY_COLUMNS.get(endpoint, page_tables.PATHWAY_COLUMNS["trend"])
                   if page == "pathways" else page_tables.RETURN_COLUMNS[endpoint])
        out[f"{page.capitalize()}{endpoint.capitalize()}Rows"] = {"allOf": [
            {"$ref": "#/components/schemas/Envelope"}, {"type": "object", "properties": {
                "view": {"type": "object"}, "links": {"type": "object"}, "notes": {"type": "object"},
                "columns": {"type": "array"}, "rows": {"type": "integer"},
                "data": {"type": "array", "items": {"type": "object", "properties": {c: nullable for c in columns}}}}}]}
    return out
