"""An area's profile (``/area/<code>``): every measure against Denmark and the region in a spine
chart, key findings, good-practice notes, the trend of every measure, the population-group profile
and the pathway mix; printable (assets/print.css) and downloadable as one CSV.

The period is in the query string (``?period=2022-2024``), so every profile has an address; the
page is drawn when it is requested, from the same published figures as the atlas.
"""
from __future__ import annotations

import datetime as dt

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, clientside_callback, dcc, html, no_update

from atlas import data, db, edition, figures, good_practice, guard, policy_view, profile, static
from atlas.findings import profile_findings
from atlas.i18n import label, t
from atlas.layout_parts import lang_of
from atlas.page_meta import title_of
from atlas.profile_figures import measure_trends
from atlas.profile_parts import area_code, parse_period, period_text, search_box
from atlas.profile_view import spine_legend, spine_table
from atlas.static import GRAPH_CONFIG

dash.register_page(__name__, path_template="/area/<code>", name="Area profile", title=title_of("/area"))


def _suffix(lang: str, period: tuple[int, int] | None = None) -> str:
    q = [f"period={period[0]}-{period[1]}" if period and period[0] != period[1] else f"period={period[0]}" if period else "",
         f"lang={lang}" if lang != "en" else ""]
    q = [x for x in q if x]
    return ("?" + "&".join(q)) if q else ""


def _period_links(code: int, chosen: tuple[int, int], lang: str) -> html.Div:
    links = [dcc.Link(period_text(p), href=static.href(f"/area/{code}{_suffix(lang, p)}"),
                      className="btn btn-sm " + ("btn-secondary" if p == chosen else "btn-outline-secondary"))
             for p in profile.periods()]
    return html.Div([html.Span(t("profile_period", lang) + ": ", className="small me-1"), *links],
                    className="d-flex flex-wrap gap-1 align-items-center d-print-none", id="profile-periods")


def _notes(code: int, lang: str) -> html.Section | None:
    notes = good_practice.notes_for(code, lang)
    if not notes:
        return None
    items = []
    for n in notes:
        items.append(html.Div([
            html.H3(n.title, className="h6 mb-1"),
            dbc.Badge(t("gp_example", lang), color="warning", text_color="dark", className="mb-1 text-wrap") if n.example else None,
            dcc.Markdown(n.body, className="small mb-1"),
            html.P(f"{t('gp_source', lang)}: {n.source} · {t('gp_date', lang)}: {n.date}", className="small text-muted mb-2"),
        ], className="good-practice mb-2"))
    return html.Section([html.H2(t("gp_title", lang), className="h5"), *items], className="profile-section mb-3",
                        id="good-practice")


def profile_href(code, search) -> str | None:
    """The address of the chosen area's profile (in the reader's language, under the app's path
    prefix), or None for anything that is not an area of the atlas."""
    if not isinstance(code, int) or isinstance(code, bool) or profile.level_of(code) is None:
        return None
    lang = lang_of(search if isinstance(search, str) else "")
    return static.href(f"/area/{code}" + ("?lang=da" if lang == "da" else ""))


@callback(Output("profile-nav", "href"), Input("profile-search", "value"), State("profile-nav", "search"),
          prevent_initial_call=True)
def go_to_area(code, search):
    """The search box (atlas/profile_parts.py, on this page and /compare) opens the chosen area's profile."""
    return profile_href(code, search) or no_update


def _graph(gid: str, fig) -> dcc.Graph:
    return dcc.Graph(id=gid, figure=fig, config={**GRAPH_CONFIG, "displayModeBar": False}, className="profile-graph")


def layout(code: str | None = None, lang: str | None = None, period: str | None = None, **_):
    lang = lang_of(lang)
    area = area_code(code)
    if area is None:
        return html.Main([html.H1(t("profile_find", lang), className="h4"),
                          dbc.Alert(t("profile_unknown", lang).format(code=str(code)[:12]), color="warning"),
                          search_box(lang)], id="main-content", className="profile-page")
    level = profile.level_of(area)
    chosen = parse_period(period, profile.periods()) or profile.default_period()
    name = profile.area_name(area, level)
    region = profile.region_of(area, level)
    region_name = profile.area_name(region, "region") if region else None
    spine = profile.spine(area, *chosen, lang)
    ptext = period_text(chosen)
    meta = db.meta()
    kind = ("synthetic demonstration data" if lang == "en" else "syntetiske demonstrationsdata") \
        if meta.get("data_kind", "synthetic") == "synthetic" else str(meta.get("data_kind"))
    findings = (profile_findings(spine, name, level, ptext, lang) + policy_view.profile_opportunity(area, level, *chosen, lang)
                + policy_view.profile_recent(area, level, lang))
    level_word = label("level", level, lang).split(" (")[0]
    head = html.Header([
        html.H1(t("profile_title", lang).format(name=name), className="h3 mb-1", id="profile-title"),
        html.P(t("profile_sub", lang).format(level=level_word, period=ptext, region=t("profile_and_region", lang).format(
            region=region_name) if region_name else ""), className="mb-1"),
        html.P([f"{t('profile_source', lang)}: ", t("profile_source_text", lang).format(kind=kind, built=meta.get("built_at", "")),
                " · ", t("db_secure" if data.inside_only() else "db_release", lang)], className="small text-muted mb-1"),
        html.P(edition.identity(lang), className="small text-muted mb-1", id="profile-release"),
        html.P(f"{t('profile_printed', lang)}: {dt.date.today().isoformat()}", className="small text-muted print-only"),
    ], className="mb-2")
    tools = html.Div([
        search_box(lang, area),
        _period_links(area, chosen, lang),
        html.Div([dbc.Button(t("profile_print", lang), id="profile-print", color="primary", outline=True, size="sm",
                             className="me-2"),
                  dbc.Button(t("profile_csv", lang), id="profile-csv-btn", color="primary", size="sm"),
                  dcc.Download(id="profile-csv")]),
        dcc.Store(id="profile-key", data={"code": area, "y0": chosen[0], "y1": chosen[1], "lang": lang}),
    ], className="d-flex flex-wrap gap-3 align-items-end mb-3 d-print-none")
    trend_fig = measure_trends(profile.trends(area, lang), area, name, lang)
    groups = profile.groups(area, *chosen, lang=lang)
    mix = profile.pathway_mix(area, *chosen, lang=lang)
    from atlas.filters import View
    from atlas.measures import MEASURES

    view = View(measure="imaging_rate", level=level, y0=chosen[0], y1=chosen[1], lang=lang, area=area)
    sections = [
        html.Section([html.H2(t("key_findings", lang), className="h5"),
                      html.Ul([html.Li(s) for s in findings], id="profile-findings")], className="profile-section mb-3 key-findings"),
        _notes(area, lang),
        policy_view.peers_section(area, level, *chosen, lang),
        html.Section([html.H2(t("profile_spine", lang) + f" ({ptext})", className="h5"),
                      spine_legend(lang, name, region_name), spine_table(spine, lang, name, region_name)],
                     className="profile-section mb-3"),
        html.Section([html.H2(t("profile_trends", lang), className="h5"), _graph("profile-trends", trend_fig),
                      html.P(t("profile_incomplete_band", lang), className="small text-muted mb-0")],
                     className="profile-section mb-3 profile-break"),
        html.Section([html.H2(f"{t('profile_groups', lang)} ({MEASURES['imaging_rate'].name(lang)}, {ptext})", className="h5"),
                      _graph("profile-groups", figures.breakdown(groups, view, MEASURES["imaging_rate"]))],
                     className="profile-section mb-3"),
        html.Section([html.H2(f"{t('profile_mix', lang)} ({ptext})", className="h5"),
                      _graph("profile-mix", figures.mix(mix, view, area, name))], className="profile-section mb-3"),
        html.Section([html.H2(t("profile_methods", lang), className="h6"),
                      html.P(t("profile_methods_text", lang), className="small mb-1"),
                      html.P(data.source().note(lang), className="small text-muted")], className="profile-section",
                     id="profile-methods"),
    ]
    return html.Main([head, tools, *[s for s in sections if s is not None]], id="main-content", className="profile-page",
                     lang=lang)


clientside_callback("function(n) { if (n) { window.print(); } return ''; }",
                    Output("profile-print", "title"), Input("profile-print", "n_clicks"), prevent_initial_call=True)


@callback(Output("profile-csv", "data"), Input("profile-csv-btn", "n_clicks"), State("profile-key", "data"),
          prevent_initial_call=True)
def download_profile(n_clicks, key):
    return profile_download(key) if n_clicks and isinstance(key, dict) else no_update


def profile_download(key: dict):
    """The area profile's CSV for the page's key (area, period, language), each part checked."""
    from atlas import profile_export

    code = key.get("code")
    lang = lang_of(key.get("lang"))
    if not isinstance(code, int) or profile.level_of(code) is None:
        raise guard.BadInput("Unknown area.")
    period = (key.get("y0"), key.get("y1"))
    if period not in profile.periods():
        raise guard.BadInput("Unknown period.")
    content, filename = profile_export.profile_csv(code, period, lang)
    return dcc.send_bytes(content, filename)
