"""Pathways (referrer -> modality -> what followed), repeat imaging and potentially low-value imaging,
per area and population group, with the same filters as the atlas; state in the URL hash."""
from __future__ import annotations

from dataclasses import replace

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import ALL, MATCH, Input, Output, State, callback, ctx, dcc, html, no_update

from atlas import coverage, db, data, guard, notices
from atlas.cache import cached
from atlas import pathways as P
from atlas.api import page_views
from atlas.filters import DIMENSIONS, View
from atlas.i18n import label, t
from atlas.layout_parts import year_control
from atlas.layout_parts import (api_link_outputs, api_link_values, dropdown, chart_card, control, dim_options, html_table,
                                lang_of, page_frame, separator_control, year_marks)
from atlas.measures import MEASURES
from atlas.pathways import tables
from atlas.raw_html import block
from atlas.state import filter_pairs
from atlas.static import GRAPH_CONFIG
from atlas.page_meta import title_of

dash.register_page(__name__, path="/pathways", name="Pathways", title=title_of("/pathways"))

DIM_KEYS = list(DIMENSIONS)


def card(chart: str, title: str, lang: str, body, extra: list | None = None, images: bool = True):
    """The atlas's chart card with this page's ids (PNG and SVG buttons for a card with one chart) and
    the API menu beside its CSV download, showing the default view's address until the page's view
    arrives (:func:`draw_api_links`)."""
    year = coverage.default_year()
    address = page_views.pathways_url(chart, View(y0=year, y1=year), 365, lang)
    return chart_card(chart, title, lang, body, extra, prefix="pw-", images=images, api=address)


def layout(lang: str | None = None, **_):
    lang = lang_of(lang)
    years = data.years()
    sidebar = html.Aside([
        control(t("level", lang), dbc.RadioItems(id="pw-level", name="pw-level", value="municipality", options=[
            {"label": label("level", k, lang), "value": k} for k in ("municipality", "region", "region2027")])),
        control(t("pw_area", lang), dropdown(lang, id="pw-area", value="dk", clearable=False,
                                                 options=P.area_options("municipality", lang))),
        control(t("years", lang), year_control("pw-years", lang, coverage.default_year(years), coverage.default_year(years))),
        control(t("pw_window", lang), dbc.RadioItems(id="pw-window", name="pw-window", value=365, inline=True, options=[
            {"label": t("pw_days", lang).format(days=d), "value": d} for d in P.WINDOWS])),
        html.H2(t("filters", lang), className="h6 mt-3"),
        *[control(label("dimension", key, lang), dropdown(lang,
            id={"type": "pw-dim", "key": key}, options=dim_options(key, lang), value="all", clearable=False,
            searchable=False)) for key in DIM_KEYS],
        dbc.Switch(id="pw-tables", label=t("show_tables", lang), value=False, className="mb-2"),
        separator_control("pw-sep", lang),
    ], className="atlas-sidebar", **{"aria-label": t("filters", lang)})

    main = html.Main([
        html.H1(t("pw_title", lang), className="h4"),
        html.P(t("pw_intro", lang), className="small text-muted"),
        html.Div(id="pw-notice", **{"aria-live": "polite"}),
        # the view without the 90/365-day window: the charts that do not depend on it listen here,
        # so switching the window redraws only the pathways (and a filter change draws each chart once)
        dcc.Store(id="pw-base", data=None),
        html.Div(id="pw-heading", className="fw-semibold mb-2", **{"aria-live": "polite"}),
        dbc.Row([dbc.Col(card("sankey", t("pw_sankey", lang), lang, dcc.Graph(id="pw-sankey", config=GRAPH_CONFIG),
                              extra=[html.Small(id="pw-hidden-note", className="text-muted d-block")]), lg=12)],
                className="g-3"),
        dbc.Row([dbc.Col(card("pathways", t("pw_table", lang), lang, html.Div(id="pw-table", className="table-responsive"),
                              extra=[html.Small(t("pw_share_note", lang), className="text-muted d-block")], images=False), lg=12)],
                className="g-3 mt-1"),
        html.H2(t("pw_repeat", lang), className="h5 mt-4"),
        html.P(t("pw_repeat_def", lang), className="small text-muted"),
        dbc.Row([dbc.Col(card("repeat", t("pw_repeat", lang), lang, dbc.Row([
            dbc.Col([html.H3(MEASURES["xray_then_mri_share"].name(lang), className="h6"),
                     dcc.Graph(id="pw-xray-mri", config=GRAPH_CONFIG)], md=6),
            dbc.Col([html.H3(MEASURES["repeat_mri_share"].name(lang), className="h6"),
                     dcc.Graph(id="pw-repeat-mri", config=GRAPH_CONFIG)], md=6)]), images=False), lg=12)], className="g-3"),
        html.H2(t("pw_providers", lang), className="h5 mt-4"),
        html.P(t("provider_help", lang), className="small text-muted"),
        dbc.Row([dbc.Col(card("providers", t("pw_providers", lang), lang, dbc.Row([
            dbc.Col([html.H3(MEASURES["private_mri_share"].name(lang), className="h6"),
                     dcc.Graph(id="pw-private-mri", config=GRAPH_CONFIG)], md=6),
            dbc.Col([html.H3(MEASURES["private_xray_share"].name(lang), className="h6"),
                     dcc.Graph(id="pw-private-xray", config=GRAPH_CONFIG)], md=6)]), images=False), lg=12)], className="g-3"),
        html.H2(t("pw_lowvalue", lang), className="h5 mt-4"),
        html.P(t("pw_lowvalue_def", lang), className="small", id="pw-lowvalue-definition"),
        dbc.Row([dbc.Col(card("lowvalue", t("pw_lowvalue", lang), lang, dbc.Row([
            dbc.Col([html.H3(MEASURES["lowvalue_rate"].name(lang), className="h6"),
                     dcc.Graph(id="pw-lv-rate", config=GRAPH_CONFIG)], md=6),
            dbc.Col([html.H3(MEASURES["lowvalue_share"].name(lang), className="h6"),
                     dcc.Graph(id="pw-lv-share", config=GRAPH_CONFIG)], md=6)]), images=False), lg=12)], className="g-3"),
        dbc.Row([dbc.Col(card("referrer", t("pw_by_referrer", lang), lang, dcc.Graph(id="pw-referrer", config=GRAPH_CONFIG)),
                         lg=12)], className="g-3 mt-1"),
        dbc.Row([dbc.Col(card("areas", t("pw_areas", lang), lang, html.Div(id="pw-areas", className="scroll-box", tabIndex=0,
                                                                          role="region", **{"aria-label": t("pw_areas", lang)}),
                                 images=False),
                         lg=12)], className="g-3 mt-1"),
        html.Section(id="pw-table-views", className="mt-3", **{"aria-live": "polite"}),
        html.P(data.source().note(lang), className="small text-muted mt-3"),
    ], id="main-content", className="atlas-main")
    return page_frame("pw-url", "pw-view", sidebar, main)


# ---------------------------------------------------------------- state: controls <-> URL hash

@callback(
    output={"view": Output("pw-view", "data"), "hash": Output("pw-url", "hash"), "level": Output("pw-level", "value"),
            "area-options": Output("pw-area", "options"), "area": Output("pw-area", "value"),
            "years": Output("pw-years", "value"), "window": Output("pw-window", "value"),
            "dims": Output({"type": "pw-dim", "key": ALL}, "value"), "sep": Output("pw-sep", "value"),
            "notice": Output("pw-notice", "children"), "tables": Output("pw-tables", "value"),
            "base": Output("pw-base", "data")},
    inputs=dict(address=Input("pw-url", "hash"),
                controls=dict(level=Input("pw-level", "value"), area=Input("pw-area", "value"),
                              years=Input("pw-years", "value"), window=Input("pw-window", "value")),
                dims=Input({"type": "pw-dim", "key": ALL}, "value"),
                more=dict(sep=Input("pw-sep", "value"), tables=Input("pw-tables", "value"))),
    state=dict(current=State("pw-view", "data"), search=State("pw-url", "search"), base=State("pw-base", "data")),
)
def sync_state(address, controls, dims, more, current, search, base=None):
    """The URL hash, the controls and the filters -> the view (see :func:`atlas.pathways.state.sync_pathways`)."""
    return P.sync_pathways(address, {**controls, **more}, filter_pairs(ctx.args_grouping["dims"]), ctx.triggered_id,
                           current, base, lang_of(search))


def current(data, search):
    view, win, _ = P.parse_hash(data or "", lang_of(search))
    return view, win


# ---------------------------------------------------------------- figures and tables

@callback(Output("pw-sankey", "figure"), Output("pw-table", "children"), Output("pw-hidden-note", "children"),
          Output("pw-heading", "children"),
          Input("pw-view", "data"), State("pw-url", "search"))
def draw_pathways(data, search):
    if data is None:
        return (no_update,) * 4
    return _pathways_outputs(*_key(data, search))


@cached(maxsize=64)
def _pathways_outputs(path: str, data: str, lang: str) -> tuple:
    """The Sankey, the pathway table, the note under the Sankey and the heading of a view (cached:
    switching the window back and forth redraws from memory)."""
    view, win = current(data, f"?lang={lang}")
    p = P.pathways(view, win)
    fig, note, heading = _sankey_panel(p, view, win)
    return fig, block(tables.pathway_table(P.pathway_table(p, view.lang), view.lang)), note, heading


def _sankey_panel(p: dict, view, win: int):
    """The Sankey (or a message when there is no flow to draw), the note under it and its heading."""
    lang = view.lang
    fig, hidden = P.sankey(p, view, win)
    note = t("pw_hidden_flows", lang).format(n=hidden) if hidden else t("pw_no_hidden", lang)
    heading = f"{P.area_name(view)} · {view.y0}–{view.y1}" if view.y0 != view.y1 else f"{P.area_name(view)} · {view.y0}"
    if not len(fig.data[0]["link"]["value"]):
        # nothing to draw (every flow hidden, or no episodes): say so, never leave the last flows up
        total = p["total"]["count"].iloc[0] if len(p["total"]) else 0
        text = (t("empty_selection", lang) if not pd.isna(total) and total == 0
                else t("pw_empty_flows", lang).format(where=heading))
        fig = notices.message_figure(text, 480)
    incomplete = coverage.in_view(coverage.pathway_incomplete_years(win), view.y0, view.y1)
    if incomplete:
        note = [note, html.Br(), html.Span(t("incomplete_in_view", lang).format(
            years=coverage.describe(incomplete, lang)), id="pw-incomplete-note")]
    return fig, note, heading


@callback(Output("pw-xray-mri", "figure"), Output("pw-repeat-mri", "figure"),
          Input("pw-base", "data"), State("pw-url", "search"))
def draw_repeat(data, search):
    if data is None:
        return no_update, no_update
    return _trend_figures(*_key(data, search), P.REPEAT_MEASURES)


def _key(data, search) -> tuple[str, str, str]:
    """The cache key of a window-independent chart: the database, the view (a string, else the
    default) and the language."""
    return str(db.db_path()), data if isinstance(data, str) else "", lang_of(search)


@cached(maxsize=64)
def _trend_figures(path: str, data: str, lang: str, keys: tuple) -> tuple:
    view, _ = current(data, f"?lang={lang}")
    tr = P.trends(view, keys)
    return tuple(P.trend_figure(tr[k], view, k) for k in keys)


@callback(Output("pw-table-views", "children"), Input("pw-view", "data"), State("pw-url", "search"))
def draw_tables(data, search):
    return no_update if data is None else tables_section(*current(data, search))


def tables_section(view, win):
    """Every chart of the page as a table (tables=1): exactly what it shows, as in its CSV."""
    if not view.tables:
        return None
    out = [html.H2(t("show_tables", view.lang), className="h6")]
    for chart in P.CHARTS:
        title, body = P.chart_table(chart, replace(view, sep=","), win)
        out.append(html.Div(html_table(body, f"{t('table_of', view.lang)}: {title}", view.lang),
                            id=f"pw-table-{chart}", className="mb-3"))
    return out


@callback(Output("pw-private-mri", "figure"), Output("pw-private-xray", "figure"),
          Input("pw-base", "data"), State("pw-url", "search"))
def draw_providers(data, search):
    if data is None:
        return no_update, no_update
    return _trend_figures(*_key(data, search), P.PROVIDER_MEASURES)


@callback(Output("pw-lv-rate", "figure"), Output("pw-lv-share", "figure"),
          Input("pw-base", "data"), State("pw-url", "search"))
def draw_lowvalue(data, search):
    if data is None:
        return no_update, no_update
    return _trend_figures(*_key(data, search), P.LOWVALUE_MEASURES)


@callback(Output("pw-referrer", "figure"), Input("pw-base", "data"), State("pw-url", "search"))
def draw_referrer(data, search):
    """Low-value imaging by referrer: its own callback, so it is computed beside the trends, not after them."""
    if data is None:
        return no_update
    return _referrer_figure(*_key(data, search))


@cached(maxsize=64)
def _referrer_figure(path: str, data: str, lang: str):
    view, _ = current(data, f"?lang={lang}")
    return P.referrer_figure(P.by_referrer(view), view)


@callback(Output("pw-areas", "children"), Input("pw-base", "data"), State("pw-url", "search"))
def draw_areas(data, search):
    if data is None:
        return no_update
    return _area_table(*_key(data, search))


@cached(maxsize=64)
def _area_table(path: str, data: str, lang: str):
    view, _ = current(data, f"?lang={lang}")
    return block(tables.area_table(P.area_table(view), view))


@callback(*api_link_outputs(P.CHARTS, "pw-"), Input("pw-view", "data"), State("pw-url", "search"))
def draw_api_links(data, search):
    """Each chart's API address in its download menu (:func:`atlas.layout_parts.api_link_values`, in
    :data:`atlas.pathways.CHARTS`' order): the address its CSV download carries, for the view on screen."""
    return api_link_values(P.CHARTS, None if data is None else current(data, search),
                           lambda chart, shown: page_views.pathways_url(chart, *shown))


# ---------------------------------------------------------------- downloads

@callback(Output({"type": "pw-download", "chart": MATCH}, "data"),
          Input({"type": "pw-download-btn", "chart": MATCH}, "n_clicks"),
          State("pw-view", "data"), State("pw-url", "search"), prevent_initial_call=True)
def download(n_clicks, data, search):
    if not n_clicks or data is None:
        return no_update
    chart = ctx.triggered_id.get("chart") if isinstance(ctx.triggered_id, dict) else None
    if chart not in P.CHARTS:
        raise guard.BadInput("Unknown chart.")
    view, win = current(data, search)
    content, filename = P.chart_csv(chart, view, win)
    return dcc.send_bytes(content, filename)
