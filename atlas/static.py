"""Static resources the app serves itself, so the atlas works without internet access.

- ``/vendor/bootstrap.min.css``: Bootstrap's stylesheet as shipped in the ``bootstrap-flask``
  package (a declared dependency); nothing is copied into this repository.
- ``/geo/<level>.json``: the boundary layers from the app database. Map figures refer to them by
  URL, so a callback's answer carries the rates, not 300 KB of geometry each time.
- ``/topojson/<name>.json``: Plotly's geo maps fetch base-layer TopoJSON (land, coastlines, …)
  from a CDN by default. The atlas draws its own DAGI boundaries and hides the base layers, so it
  serves an empty topology of its own instead (``GRAPH_CONFIG`` points Plotly at it).

Behind a reverse proxy the app may be served under a path prefix: ``ATLAS_PATH_PREFIX=/atlas/``
serves every page, callback and resource under ``/atlas/`` (the proxy passes the path on unchanged).
``PATH_PREFIX`` is that prefix ("/" without one); Dash gets it as ``url_base_pathname`` (app.py),
the routes here and Plotly's TopoJSON address carry it, and pages build their links with
:func:`href`.
"""
from __future__ import annotations

import json
import os
from importlib.resources import files

from flask import Response, abort, send_file


def path_prefix(raw: str | None = None) -> str:
    """The path prefix as Dash wants it: "/" or "/a/b/" (from ``ATLAS_PATH_PREFIX`` when not given)."""
    raw = os.environ.get("ATLAS_PATH_PREFIX", "") if raw is None else raw
    parts = [p for p in raw.strip().split("/") if p]
    if any(not p.replace("-", "").replace("_", "").replace(".", "").isalnum() for p in parts):
        raise ValueError(f"ATLAS_PATH_PREFIX={raw!r}: only letters, digits, '-', '_' and '.' between slashes")
    return "/" + "".join(p + "/" for p in parts)


PATH_PREFIX = path_prefix()


def href(path: str) -> str:
    """An address inside the app as the browser must ask for it: ``path`` ("/", "/area/101?lang=da",
    "/geo/region.json") under the prefix the app is served under (``href("/area/101")`` is
    "/atlas/area/101" behind ``ATLAS_PATH_PREFIX=/atlas/``). Every link, every address a callback
    returns and every address written into a download goes through it (``dash.get_relative_path``
    gives the same inside a request; this works outside one too)."""
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("//"):
        raise ValueError(f"{path!r}: an address inside the app starts with one '/'")
    return PATH_PREFIX + path[1:]


BASE_LAYERS = ("land", "ocean", "lakes", "rivers", "coastlines", "countries", "subunits")
EMPTY_TOPOLOGY = json.dumps({
    "type": "Topology",
    "objects": {name: {"type": "GeometryCollection", "geometries": []} for name in BASE_LAYERS},
    "arcs": [],
    "transform": {"scale": [1, 1], "translate": [0, 0]},
})

# No "Share chart" / "Edit in Chart Studio" button: either would upload the chart (and its numbers)
# to Plotly's cloud, an export nobody approved.
CLOUD_BUTTONS = ["sendDataToCloud", "editInChartStudio"]
# The toolbar keeps what readers use: download as PNG and reset the view. Everything else goes
# (names a chart type does not have are ignored by Plotly). It shows on hover only (assets/atlas.css)
# and is kept out of the tab order (assets/modebar.js): the cards' buttons download PNG, SVG and CSV.
TOOLBAR_REMOVED = CLOUD_BUTTONS + [
    "zoom2d", "pan2d", "select2d", "lasso2d", "zoomIn2d", "zoomOut2d", "autoScale2d", "hoverClosestCartesian",
    "hoverCompareCartesian", "toggleSpikelines", "zoomInGeo", "zoomOutGeo", "hoverClosestGeo", "toggleHover",
    "hoverClosestGl2d", "hoverClosestPie", "resetViews", "resetViewMapbox", "resetViewMap", "zoomInMap", "zoomOutMap",
    "zoom3d", "pan3d", "orbitRotation", "tableRotation", "resetCameraDefault3d", "resetCameraLastSave3d",
    "hoverClosest3d", "drawline", "drawopenpath", "drawclosedpath", "drawcircle", "drawrect", "eraseshape"]
GRAPH_CONFIG = {"displaylogo": False, "topojsonURL": PATH_PREFIX + "topojson/", "showSendToCloud": False,
                "showEditInChartStudio": False, "modeBarButtonsToRemove": TOOLBAR_REMOVED, "plotlyServerURL": "",
                "displayModeBar": "hover", "showTips": False,
                "toImageButtonOptions": {"format": "png", "scale": 2, "filename": "lumbar-imaging-atlas-chart"}}


def bootstrap_css_path():
    return files("flask_bootstrap") / "static" / "bootstrap5" / "css" / "bootstrap.min.css"


PRECOMPRESSED = ("br", "zstd")          # encodings of the plotly.js bundle written at build time, best first
_SUFFIX = {"br": ".br", "zstd": ".zst"}


def precompressed(path, accept_encoding: str) -> tuple[str, bytes] | None:
    """(encoding, bytes) of ``path`` compressed once at build time (``path.br``, ``path.zst``: see
    tools/plotly-bundle/precompress.py) in the best encoding the browser accepts; None otherwise."""
    accepted = {part.split(";")[0].strip().lower() for part in (accept_encoding or "").split(",")}
    for encoding in PRECOMPRESSED:
        file = f"{path}{_SUFFIX[encoding]}"
        if encoding in accepted and os.path.exists(file) and os.path.getmtime(file) >= os.path.getmtime(path):
            with open(file, "rb") as f:
                return encoding, f.read()
    return None


def register(server, prefix: str = PATH_PREFIX) -> None:
    from flask import request

    bundle = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "assets", "plotly-atlas.min.js")
    cache: dict = {}

    @server.before_request
    def plotly_bundle():
        """The plotly.js bundle (assets/plotly-atlas.min.js) as compressed at build time (brotli 11:
        0.45 MB, against 0.56 MB compressed per request), kept for a year (its address changes with it)."""
        if request.method != "GET" or request.path != prefix + "assets/plotly-atlas.min.js" or not os.path.exists(bundle):
            return None
        accept = request.headers.get("Accept-Encoding", "")
        key = (accept, os.path.getmtime(bundle))
        if key not in cache:
            cache.clear()
            cache[key] = precompressed(bundle, accept)
        found = cache[key]
        if found is None:
            return None                  # Dash's assets route answers (compressed per request if asked)
        encoding, body = found
        response = Response(body, mimetype="text/javascript")
        response.headers["Content-Encoding"] = encoding
        response.headers["Vary"] = "Accept-Encoding"
        if request.args.get("m"):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response

    @server.route(prefix + "geo/<level>.json")
    def boundaries(level: str):
        """A boundary layer for the maps; the browser fetches it once and caches it."""
        from atlas import db

        if level not in ("municipality", "region", "region2027"):
            abort(404)
        return Response(db.geojson_text(level), mimetype="application/json",
                        headers={"Cache-Control": "public, max-age=3600"})

    @server.route(prefix + "vendor/bootstrap.min.css")
    def bootstrap_css():
        response = send_file(str(bootstrap_css_path()), mimetype="text/css", max_age=86400)
        return response

    @server.route(prefix + "topojson/<name>.json")
    def topojson(name: str):
        if not name.replace("_", "").isalnum() or len(name) > 40:
            abort(404)
        return Response(EMPTY_TOPOLOGY, mimetype="application/json", headers={"Cache-Control": "public, max-age=86400"})
