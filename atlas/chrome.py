"""What every page shows around its content: the navigation bar (with the language switch), the
synthetic-data banner, the footer (which database is served) and the skip link."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from atlas import db, edition, static
from atlas.i18n import t

# the navigation bar's order and labels; its paths are the pages' registered ones (tests/test_path_prefix.py)
LINKS = [("nav_atlas", "/"), ("nav_pathways", "/pathways"), ("nav_returns", "/returns"), ("nav_areas", "/compare"),
         ("nav_trends", "/trends"), ("nav_inequality", "/inequality"), ("nav_recent", "/recent-trends"),
         ("nav_opportunity", "/opportunity"), ("nav_methods", "/methods")]


def page_chrome(pathname: str, lang: str, hash_: str | None) -> tuple:
    """(navigation bar, banner, footer, skip-link text) for the page at ``pathname``.

    ``pathname`` is the page's own path (one of the app's pages, checked by the caller: a path like
    //evil.example/x must never become a link) and ``hash_`` a checked URL hash; links carry the
    prefix the app is served under."""
    other = "da" if lang == "en" else "en"
    suffix = "" if lang == "en" else f"?lang={lang}"
    nav = dbc.Navbar(dbc.Container([
        dbc.NavbarBrand([html.Span(t("title", lang), className="fw-semibold"),
                         html.Small(" · " + t("subtitle", lang), className="d-none d-xxl-inline text-white-50")],
                        href=static.href("/") + suffix, className="text-wrap"),
        html.Div([
            html.A(t("language", lang), href=f"{static.href(pathname or '/')}?lang={other}{hash_ or ''}", id="lang-switch",
                   className="btn btn-outline-light btn-sm", lang=other,
                   **{"aria-label": f"Language: {t('language', lang)}"}),
            # on a phone the page links fold into a menu button
            dbc.NavbarToggler(id="navbar-toggler", className="ms-2"),
        ], className="d-flex align-items-center order-lg-last ms-auto"),
        dbc.Collapse(dbc.Nav([dbc.NavItem(dbc.NavLink(t(key, lang), href=static.href(href) + suffix, active=(pathname == href)))
                              for key, href in LINKS], navbar=True, className="me-auto"),
                     id="navbar-collapse", is_open=False, navbar=True),
    ], fluid=True), color="dark", dark=True, expand="lg", className="py-1")
    try:
        kind = db.meta().get("data_kind", "synthetic")
        built = db.meta().get("built_at", "")
        from atlas import data

        inside = data.inside_only()
    except Exception:
        kind, built, inside = "synthetic", "", True
    banner = (dbc.Alert(t("synthetic_banner", lang), color="warning", className="rounded-0 mb-0 py-1 small text-center",
                        id="synthetic-banner") if kind == "synthetic" else None)
    footer = [t("credit", lang), " · ", f"{t('data_date', lang)}: {built}", " · ",
              html.Span(t("db_secure" if inside else "db_release", lang), id="database-kind",
                        className="fw-semibold" + (" text-danger" if inside else "")),
              " · ", html.Span(edition.identity(lang), id="release-identity")]
    if inside:
        # every page of the secure app says so, above its content too
        banner = [banner, dbc.Alert(t("inside_only", lang), color="danger", id="inside-only-banner",
                                    className="rounded-0 mb-0 py-1 small text-center fw-semibold")]
    return nav, banner, footer, t("skip_to_content", lang)
