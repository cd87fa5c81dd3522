"""The lumbar spine imaging atlas (Dash).

Development:  python app.py            (http://127.0.0.1:8050)
Production:   gunicorn app:server      (see `make serve`)

The app only reads the aggregate database built by `python -m etl build` (``$ATLAS_DB`` or
``data/atlas.duckdb``), opened read-only.
"""
from __future__ import annotations

import os

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html
from dash.exceptions import DependencyException
from flask import request
from markupsafe import escape as html_escape

from atlas import answer_cache, api, guard, static
from atlas.chrome import page_chrome
from atlas.layout_parts import lang_of
from atlas.page_meta import page_title

PLOTLY_BUNDLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets", "plotly-atlas.min.js")


class AtlasDash(dash.Dash):
    """Dash whose first HTML already says the page's language (``<html lang>``, so a screen reader
    reads Danish with a Danish voice from the start) and its title in that language, and which
    serves plotly.js with only the trace types the atlas draws when that bundle has been built."""

    def _setup_plotlyjs(self):
        # `make plotly-bundle` writes assets/plotly-atlas.min.js (tools/plotly-bundle/): Dash serves
        # every script in assets/ with the page, so window.Plotly is there before any chart draws and
        # dcc.Graph never asks for Dash's own plotly.min.js (4.8 MB), which is then left out
        if not os.path.exists(PLOTLY_BUNDLE):
            return super()._setup_plotlyjs()
        self._plotlyjs_url = static.PATH_PREFIX + "assets/plotly-atlas.min.js"
        return None

    def interpolate_index(self, **kwargs):
        lang = lang_of(request.args.get("lang")) if request else "en"
        path = page_path(request.path) if request else "/"
        kwargs["title"] = page_title("/area" if guard.is_profile_path(path) else path, lang)
        index = super().interpolate_index(**kwargs)
        # Dash's template wraps its scripts in a <footer>: a second "contentinfo" landmark beside the
        # page's own footer, for screen readers a footer with nothing in it
        index = index.replace("<footer>", '<div class="dash-scripts">', 1).replace("</footer>", "</div>", 1)
        return index.replace("<html>", f'<html lang="{lang}">', 1)


app = AtlasDash(
    __name__,
    use_pages=True,
    url_base_pathname=static.PATH_PREFIX,  # "/" or a reverse proxy's prefix (ATLAS_PATH_PREFIX, atlas/static.py)
    external_stylesheets=[static.PATH_PREFIX + "vendor/bootstrap.min.css"],
    suppress_callback_exceptions=True,
    title="Lumbar imaging atlas",
    compress=True,                       # gzip: the plotly.js bundle is 1.6 MB raw, 0.55 MB compressed (full: 4.8 / 1.5)
    update_title=None,
    meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"},
               {"name": "description", "content": "Geographic variation in lumbar spine imaging in Denmark"}],
)
server = app.server
static.register(server)
api.register(server)           # the open-data API, /api/v1/ (atlas/api, docs/api.md)
server.config["MAX_CONTENT_LENGTH"] = 256 * 1024     # callback payloads are small; refuse floods
server.config["COMPRESS_STREAMS"] = True   # assets are sent as file streams: compress them too
# a little more compression than flask-compress's defaults (zstd 3, brotli 4): Dash's scripts shrink by
# 28 kB on a first visit for under 0.1 s of CPU in all; callback answers by a few per cent
server.config["COMPRESS_ZSTD_LEVEL"] = 9
server.config["COMPRESS_BR_LEVEL"] = 6


@server.after_request
def cache_assets(response):
    """Assets are addressed with their modification time (``/assets/x.js?m=...``): a changed file
    gets a new address, so the browser may keep each one for a year."""
    if (response.status_code == 200 and request.path.startswith(static.PATH_PREFIX + "assets/")
            and request.args.get("m")):
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@server.after_request
def security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=()")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'")
    return response


@server.errorhandler(DependencyException)
def unknown_resource(_):
    # an unknown script or path under /_dash-component-suites/: not found, not a server error
    return {"error": "No such resource."}, 404


@server.errorhandler(guard.BadInput)
def bad_input(exc):
    return {"error": str(exc) or "This request is not offered by the atlas."}, 400


@server.before_request
def check_callback_request():
    """Refuse a malformed callback request with a 400 before Dash reads it (see :func:`atlas.guard.callback_problem`)."""
    problem = guard.callback_problem(request, app)
    if problem:
        return {"error": problem}, 400
    return None


@server.before_request
def database_ready():
    """A replaced database is picked up (no stale answer); a missing or damaged one gets a page (or a
    callback answer) that says what is wrong, never a blank atlas (see atlas.db.request_problem)."""
    from atlas import db

    if any(part in request.path for part in ("/_dash-component-suites/", "/assets/", "/vendor/", "_favicon")):
        return None
    why = db.request_problem()
    if why is None:
        return None
    server.logger.error(why)
    why = why.replace(str(db.db_path()), db.db_path().name)       # no server paths to the reader
    if api.is_api_path(request.path):
        return {"api_version": api.VERSION, "error": {"status": 503, "code": "database_unavailable", "message": why}}, 503
    if request.method == "POST" or request.path.endswith("_dash-layout"):
        return {"error": why}, 503
    return (f"<!doctype html><html lang='en'><title>Lumbar imaging atlas: unavailable</title><main><h1>The atlas "
            f"cannot be shown</h1><p>{html_escape(why)}</p><p lang='da'>Atlasset kan ikke vises: databasen mangler, er "
            "beskadiget eller er ikke en atlas-database. Kontakt den ansvarlige for atlasset.</p></main></html>",
            503, {"Content-Type": "text/html; charset=utf-8"})


# callbacks whose answers depend only on what the browser sends: kept once per view, shared by the
# workers (atlas/answer_cache.py; registered after the request checks above, so those run first)
answer_cache.register(server)
answer_cache.keep("_pages_content.children", "navbar.children")


@server.errorhandler(500)
def server_error(_):
    # never a stack trace or a database error to the browser
    return {"error": "The atlas could not answer this request. Try another selection."}, 500


# the pages' own paths as each registers them (dash.register_page in pages/); the area profiles' template apart
PAGE_PATHS = tuple(page["path"] for page in dash.page_registry.values() if not page.get("path_template"))


def page_path(pathname) -> str:
    """The page an address shows, without the app's path prefix: one of ``PAGE_PATHS``, else "/"."""
    try:
        path = "/" + dash.strip_relative_path(pathname or "/")
    except Exception:                      # outside the prefix
        return "/"
    return path if path in PAGE_PATHS or guard.is_profile_path(path) else "/"


def _navbar():
    return html.Header(id="navbar")


app.layout = html.Div([
    dcc.Location(id="url", refresh="callback-nav"),
    html.A(id="skip-link", href="#main-content", className="visually-hidden-focusable"),
    _navbar(),
    html.Div(id="banner"),
    dbc.Container(dash.page_container, fluid=True, className="pt-3"),
    html.Footer(id="footer", className="container-fluid small text-muted py-3"),
])


@app.callback(Output("navbar", "children"), Output("banner", "children"), Output("footer", "children"),
              Output("skip-link", "children"),
              Input("url", "pathname"), Input("url", "search"), State("url", "hash"))
def chrome(pathname, search, hash_):
    return page_chrome(page_path(pathname), lang_of(search), guard.safe_hash(hash_))


@app.callback(Output("navbar-collapse", "is_open"), Input("navbar-toggler", "n_clicks"),
              State("navbar-collapse", "is_open"), prevent_initial_call=True)
def toggle_navbar(n_clicks, is_open):
    return not is_open if n_clicks else is_open


def warm_up() -> None:
    """Compute the default view once (a gunicorn worker calls this when it starts), so the first
    reader of each worker gets cached answers. Failing here must never stop a worker."""
    try:
        from atlas.coverage import default_year
        from atlas.filters import View
        from atlas.state import hash_of
        from pages import atlas as atlas_page

        year = default_year()
        data = hash_of(View(y0=year, y1=year), year)
        for draw in (atlas_page.draw_areas, atlas_page.draw_trend, atlas_page.draw_breakdown, atlas_page.draw_mix):
            draw(data, "")
    except Exception as exc:  # pragma: no cover - only logs
        server.logger.warning("warm-up skipped: %s", exc)


def prepare_dash() -> None:
    """Do now, once, what Dash would do on a worker's first request.

    Dash sets a worker up (registers the pages' router and collects the component libraries'
    script paths) in a ``before_request`` hook guarded by a flag that it sets *before* the work is
    done; a browser opens several connections at once, so concurrent first requests could race past
    the flag and be answered 500 ("dash is not a registered library"). Running the hooks here, at
    import time (before gunicorn forks its workers or serves anything), leaves nothing to race.
    """
    with server.test_request_context(static.PATH_PREFIX):
        for hook in server.before_request_funcs.get(None, []):
            if hook not in (check_callback_request, database_ready):
                hook()


prepare_dash()


if __name__ == "__main__":
    from atlas import db as _db

    if _db.problem():
        raise SystemExit(f"The atlas was not started: {_db.problem()}")
    app.run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "8050")),
            debug=os.environ.get("DASH_DEBUG") == "1")
