"""The atlas's open-data API: read-only JSON and CSV at ``/api/v1/`` on the Dash app's server.

It reads only through the app's one data layer (``atlas.queries`` over ``atlas.data.source``) and
its estimate engine, so an API figure is the figure the page and its CSV download show, on the
release and on the secure database alike (where every answer is marked "Inside the secure
environment only: not output-checked"). Users' documentation: docs/api.md, docs/api.da.md.

- ``params``: the query parameters (the page addresses' keys), read strictly: a 400 names the bad
  parameter and the values allowed;
- ``tables``: the pages' tables as rows, each cell with its status, nothing numeric in a hidden cell;
- ``catalogue``: the release and its vintage, measures with metadata, areas, levels, periods, filters,
  what is published;
- ``answers``: what every answer is made of (envelope, JSON and CSV, ETag, gzip, cache headers,
  errors, the addresses of a view);
- ``routes``: the blueprint and its endpoints (GET only);
- ``openapi``: the OpenAPI description it serves at ``/api/v1/openapi.json``;
- ``page_views``, ``page_tables``, ``page_routes``: the same for the charts of the pathways page and
  the return-letters page (``/api/v1/pathways/...``, ``/api/v1/returns/...``): their addresses (one
  builder for the API menu and the CSV download), parameters, rows and endpoints.
"""
from __future__ import annotations

from atlas.api import page_routes  # noqa: F401  (the pathways and returns endpoints, on the same blueprint)
from atlas.api.answers import BASE, ROOT, VERSION, is_api_path
from atlas.api.routes import blueprint, method_not_allowed, server_error

__all__ = ["BASE", "ROOT", "VERSION", "is_api_path", "register"]


def register(server) -> None:
    """Put the API on the Flask ``server`` (app.py)."""
    blueprint.register_error_handler(500, server_error)
    server.register_blueprint(blueprint)
    server.register_error_handler(405, method_not_allowed)
