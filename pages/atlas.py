"""The atlas: map, ranking, funnel plot, trend, population groups and imaging mix, all linked."""
from __future__ import annotations

from dataclasses import replace

import dash
import dash_bootstrap_components as dbc
from dash import ALL, MATCH, Input, Output, State, callback, ctx, dcc, html, no_update

from atlas import (  # noqa: F401  (notes on the map)
    answer_cache,
    atlas_panels,
    colours,
    coverage,
    data,
    db,
    export,
    figures,
    findings_panel,
    good_practice,
    guard,
    notices,
    numbers,
    peer_funnel,
    queries,
    titles,
    trend_markers,
)
from atlas.cache import cached
from atlas.filters import COLOUR_MODES, DIMENSIONS, FUNNEL_TARGETS, RECENT_YEARS, View
from atlas.i18n import label, t
from atlas.layout_parts import (
    api_link_outputs,
    api_link_values,
    chart_card,
    control,
    dim_options,
    dropdown,
    html_table,
    lang_of,
    page_frame,
    separator_control,
    year_control,
)
from atlas.measures import MEASURES
from atlas.page_meta import title_of
from atlas.state import PANEL_IGNORES, filter_pairs, sync_atlas, view_from_hash
from atlas.static import GRAPH_CONFIG, href

dash.register_page(__name__, path="/", name="Atlas", title=title_of("/"))
# every callback of the page that draws from the view alone: answered once per view (atlas/answer_cache.py)
answer_cache.keep("view.data", "map.figure", "trend.figure", "breakdown.figure", "mix.figure",
                  "measure-definition.children")

CONTROLS = ["measure", "level", "years", "rates", "standard", "mapkind", "sep"]
DISPLAY = ["colours", "breaks", "tables", "recent"]     # how the map draws (and its trend markers' window), the tables
DIM_KEYS = list(DIMENSIONS)


def layout(lang: str | None = None, **_):
    lang = lang_of(lang)
    years = data.years()
    default = coverage.default_year(years)
    view = View(y0=default, y1=default, lang=lang)
    api = {c: export.chart_api_address(c, view) for c in export.API_CHARTS}     # kept up to date by draw_notes
    measures = [{"label": MEASURES[k].name(lang), "value": k} for k in data.source().measures()]     # only those with estimates
    filters = [
        control(label("dimension", key, lang), dropdown(lang,
            id={"type": "dim", "key": key}, options=dim_options(key, lang), value="all", clearable=False,
            searchable=False))
        for key in DIM_KEYS]
    sidebar = html.Aside([
        control(t("measure", lang), dropdown(lang, id="measure", options=measures, value=view.measure, clearable=False,
                                                 optionHeight=50)),
        html.Div(id="measure-definition", className="measure-definition mb-2", **{"aria-live": "polite"}),
        control(t("level", lang), dbc.RadioItems(id="level", name="level", value=view.level, options=[
            {"label": label("level", k, lang), "value": k} for k in ("municipality", "region", "region2027")])),
        control(t("years", lang), year_control("years", lang, view.y0, view.y1)),
        control(t("standardise", lang), dbc.RadioItems(id="rates", name="rates", value=view.rates, options=[
            {"label": t("std_isr", lang), "value": "isr"}, {"label": t("std_crude", lang), "value": "crude"},
            {"label": t("std_eb", lang), "value": "eb"}])),
        control(t("standard_pop", lang), dbc.RadioItems(id="standard", name="standard", value=view.standard, options=[
            {"label": t("esp2013", lang), "value": "esp2013"}, {"label": t("denmark", lang), "value": "denmark"}])),
        control(t("map_kind", lang), dbc.RadioItems(id="mapkind", name="mapkind", value=view.map, inline=True, options=[
            {"label": t("geo_map", lang), "value": "geo"}, {"label": t("tile_map", lang), "value": "tile"}])),
        html.H2(t("filters", lang), className="h6 mt-3"),
        *filters,
        control(t("map_colours", lang), dbc.RadioItems(id="colours", name="colours", value=view.colours, options=[
            {"label": t(f"col_{k}", lang), "value": k} for k in COLOUR_MODES])),
        control(t("breaks", lang), dcc.Input(id="breaks", type="text", value=view.breaks, debounce=True,
                                            inputMode="decimal", className="form-control form-control-sm",
                                            placeholder="40, 60, 80")),
        control(t("tm_control", lang), dropdown(lang, id="recent", value=view.recent, clearable=False, searchable=False,
                                                options=[{"label": str(n), "value": n} for n in RECENT_YEARS])),
        dbc.Switch(id="tables", label=t("show_tables", lang), value=bool(view.tables), className="mb-2"),
        separator_control("sep", lang),
    ], className="atlas-sidebar", **{"aria-label": t("filters", lang)})

    selection = dbc.Card(dbc.CardBody([
        html.Div([
            html.Label(t("area_search", lang), htmlFor="area-search", className="form-label small mb-1"),
            dropdown(lang, id="area-search", options=atlas_panels.search_options(lang),
                         placeholder=t("area_search", lang), clearable=True),
        ], className="area-search"),
        html.Div(id="selection-text", className="selection-text", **{"aria-live": "polite"}),
        html.Div(id="profile-link"),
        dbc.Button(t("clear_selection", lang), id="clear-area", size="sm", color="secondary", outline=True, className="me-2"),
        dbc.Button(t("back_to_regions", lang), id="back-all", size="sm", color="secondary", outline=True),
    ], className="d-flex flex-wrap gap-2 align-items-end py-2"), className="mb-2 selection-card")

    main = html.Main([
        html.H1(t("title", lang), className="visually-hidden"),     # the page's heading for screen readers
        html.Div(id="url-notice", **{"aria-live": "polite"}),
        html.Div(id="coverage-note", **{"aria-live": "polite"}),
        selection,
        dbc.Row([
            dbc.Col(chart_card("map", t("map_card", lang), lang, dcc.Graph(
                id="map", config={**GRAPH_CONFIG, "scrollZoom": False}), api=api["map"],
                extra=[html.Div(id="colour-note", className="small text-muted", **{"aria-live": "polite"}),
                       html.Small(t("credit", lang), className="text-muted d-block mt-1"),
                       html.Small(t("drill_hint", lang), className="text-muted d-block")]), lg=7),
            dbc.Col(chart_card("rank", t("ranking", lang), lang,
                               html.Div(dcc.Graph(id="rank", config=GRAPH_CONFIG), className="scroll-box",
                                        # a scroll box keyboard users can reach and scroll (WCAG 2.1.1)
                                        tabIndex=0, role="region", **{"aria-label": t("rank_scroll", lang)}),
                               api=api["rank"]), lg=5),
        ], className="g-3"),
        html.Section(id="key-findings", className="key-findings mt-3", **{"aria-live": "polite"}),
        dbc.Row([
            dbc.Col(chart_card("funnel", t("funnel", lang), lang, dcc.Graph(id="funnel", config=GRAPH_CONFIG), api=api["funnel"],
                               extra=[html.P(t("funnel_help", lang), className="stat-help mb-0 mt-1"),
                                      control(t("funnel_target", lang), dbc.RadioItems(
                                          id="funnel-target", name="funnel-target", value=view.funnel, inline=True,
                                          options=[{"label": t(f"funnel_target_{k}", lang), "value": k}
                                                   for k in FUNNEL_TARGETS])),
                                      html.Div(id="funnel-note", className="small text-muted",
                                               **{"aria-live": "polite"})]), lg=7),
            dbc.Col(dbc.Card([dbc.CardHeader(html.H2(t("variation", lang), className="h6 mb-0")),
                              dbc.CardBody(dcc.Loading(html.Div(id="variation")))]), lg=5),
        ], className="g-3 mt-1"),
        dbc.Row([
            dbc.Col(chart_card("trend", t("trend", lang), lang, dcc.Graph(id="trend", config=GRAPH_CONFIG),
                               api=api["trend"]), lg=6),
            dbc.Col(chart_card("mix", t("mix", lang) + " · " + t("followed", lang), lang,
                               dcc.Graph(id="mix", config=GRAPH_CONFIG), api=api["mix"]), lg=6),
        ], className="g-3 mt-1"),
        dbc.Row([dbc.Col(chart_card("breakdown", t("breakdown", lang), lang,
                                    dcc.Graph(id="breakdown", config=GRAPH_CONFIG), api=api["breakdown"]))],
                className="g-3 mt-1"),
        dbc.Row([dbc.Col(chart_card("clusters", t("clusters", lang), lang,
                                    html.Div(id="cluster-panel", **{"aria-live": "polite"}), images=False,
                                    extra=[atlas_panels.find_clusters_button(lang)]))],
                className="g-3 mt-1"),
        html.Section(id="table-views", className="mt-3", **{"aria-live": "polite"}),
        *[dcc.Store(id=s) for s in PANEL_IGNORES],
        html.P(data.source().note(lang), className="small text-muted mt-3"),
    ], id="main-content", className="atlas-main")
    return page_frame("atlas-url", "view", sidebar, main)


# ---------------------------------------------------------------- state: controls <-> URL hash

@callback(
    output=dict(view=Output("view", "data"), **{s: Output(s, "data") for s in PANEL_IGNORES}, hash=Output("atlas-url", "hash"),
                **{k: Output(k, "value") for k in CONTROLS},
                dims=Output({"type": "dim", "key": ALL}, "value"), **{"area-search": Output("area-search", "value")},
                notice=Output("url-notice", "children"), **{k: Output(k, "value") for k in DISPLAY},
                funnel=Output("funnel-target", "value")),
    inputs=dict(address=Input("atlas-url", "hash"),
                controls={k: Input(k, "value") for k in CONTROLS},
                dims=Input({"type": "dim", "key": ALL}, "value"),
                clicks={"map": Input("map", "clickData"), "rank": Input("rank", "clickData"),
                        "funnel": Input("funnel", "clickData"), "area-search": Input("area-search", "value"),
                        "clear-area": Input("clear-area", "n_clicks"), "back-all": Input("back-all", "n_clicks")},
                display={**{k: Input(k, "value") for k in DISPLAY}, "funnel": Input("funnel-target", "value")}),
    state=dict(current=State("view", "data"), search=State("atlas-url", "search")),
)
def sync_state(address, controls, dims, clicks, display, current, search):
    """The URL hash, the controls, the filters, the charts' clicks and the buttons -> the view (see
    :func:`atlas.state.sync_atlas`)."""
    return sync_atlas(address, {**controls, **display}, filter_pairs(ctx.args_grouping["dims"]), ctx.triggered_id,
                      clicks, current, lang_of(search if isinstance(search, str) else ""))


def current_view(stored, search_qs) -> View:
    """The view in the ``view`` store; anything that is not a string (a tampered payload) is the default."""
    stored = stored if isinstance(stored, str) else ""
    search_qs = search_qs if isinstance(search_qs, str) else ""
    codes = db.level_codes()
    view, _ = view_from_hash(stored, lang_of(search_qs), data.years(), MEASURES,
                             codes["municipality"] | codes["region"] | codes["region2027"], codes["region"] | codes["region2027"],
                             coverage.default_year())
    return view


# ---------------------------------------------------------------- figures

@callback(Output("map", "figure"), Output("rank", "figure"), Output("funnel", "figure"), Output("variation", "children"),
          Output("selection-text", "children"), Output("key-findings", "children"), Output("colour-note", "children"),
          Input("view", "data"), State("atlas-url", "search"))
def draw_areas(data, search_qs):
    """Everything drawn from the view's table of areas, in one answer (one request, one table)."""
    if data is None:
        return (no_update,) * 7
    view = replace(current_view(data, search_qs), sep=",")
    return (*_area_outputs(view), findings_panel.findings_block(view), colour_note(view))


def funnel_note(view: View):
    """What the funnel plot compares with when the reader asked for the comparable municipalities."""
    if view.funnel != "peers":
        return None
    used = peer_funnel.peer_points(queries.area_table(view)[0], view, MEASURES[view.measure]) is not None
    return peer_funnel.note(view, used, _area_name(view))


@cached(maxsize=128)
def _area_outputs(view: View):
    """Map, ranking, funnel, variation panel and selection text of a view (cached: the data are read-only)."""
    m = MEASURES[view.measure]
    tbl, national = queries.area_table(view)
    lang = view.lang
    reason = notices.empty_reason(tbl, national)
    if reason:
        text = t(reason, lang)
        return (notices.message_figure(text, 520), notices.message_figure(text, 320), notices.message_figure(text, 360),
                html.P(text, className="small text-muted mb-0", id="variation-empty"),
                html.Span(text, className="text-muted"))
    colouring = colours.colouring(view, tbl)
    tbl = figures.with_hover(tbl, m, lang)
    tbl, trend_years = trend_markers.with_markers(tbl, view)     # ▲/▼ recent trend in the hover and on the charts
    if view.map == "tile" and view.level == "municipality":
        fig_map = figures.tile_map(tbl, _tiles(), view, m, view.area, colouring)
    else:
        fig_map = figures.choropleth(tbl, href(f"/geo/{view.level}.json"), view, m, view.area, colouring)
    good_practice.mark_map(fig_map, view, tbl)
    fig_rank = figures.ranking(tbl, national, view, m, view.area)
    peer_fig = peer_funnel.figure(tbl, view, m, _area_name(view)) if view.funnel == "peers" else None
    fig_funnel = peer_fig or figures.funnel(tbl, national, view, m, view.area)
    trend_markers.mark(fig_map, fig_rank, tbl, view, trend_years, _tiles())
    head, context = titles.headline(m, view, lang), titles.context_parts(view, m, lang)
    markers = ([trend_markers.title_line(trend_years, lang, view.recent)] if trend_years and "trend_direction" in tbl
               else [line] if trend_years is None and (line := trend_markers.none_line(view, lang)) else [])
    titles.stamp(fig_map, head, context + markers, lang, titles.file_stem(t("map_kind", lang), view, m, lang))
    titles.stamp(fig_rank, head, [t("ranking", lang)] + context + markers, lang,
                 titles.file_stem(t("ranking", lang), view, m, lang))
    funnel_context = [t("funnel", lang)] + ([t("funnel_peers_line", lang).format(name=_area_name(view))] if peer_fig else [])
    titles.stamp(fig_funnel, head, funnel_context + context, lang, titles.file_stem(t("funnel", lang), view, m, lang))
    variation = atlas_panels.variation_panel(tbl, national, m, lang)
    sel = atlas_panels.selection_text(view, tbl, m)
    return fig_map, fig_rank, fig_funnel, variation, sel


@callback(Output("measure-definition", "children"), Output("coverage-note", "children"), Output("profile-link", "children"),
          Output("cluster-panel", "children"), Output("find-clusters", "className"), Output("table-views", "children"),
          Output("funnel-note", "children"),
          *api_link_outputs(export.API_CHARTS),
          Input("view", "data"), Input("find-clusters", "n_clicks"), State("atlas-url", "search"))
def draw_notes(data, clusters_asked, search_qs):
    """Everything around the charts that is not drawn from a chart's table: the measure's definition,
    incomplete years, the profile link, the spatial clusters (once asked for), the charts as tables
    (when chosen), what the funnel plot compares with when the comparable municipalities were asked
    for, and each chart's API address in its download menu. One request per change of view."""
    if data is None:
        return (no_update,) * (7 + 2 * len(export.API_CHARTS))
    view = current_view(data, search_qs)
    return (definition(view), coverage_note(view), findings_panel.profile_link(view),
            *atlas_panels.clusters_or_offer(replace(view, sep=",", map="geo", tables=0), bool(clusters_asked)),
            tables_section(view), funnel_note(view),
            # each chart's API address in its download menu: the address its CSV download carries
            *api_link_values(export.API_CHARTS, view, export.chart_api_address))


def definition(view: View):
    """The chosen measure's definition, under the measure's name."""
    return [html.B(t("definition", view.lang) + ": "), MEASURES[view.measure].definition(view.lang)]


def colour_note(view: View):
    """What the map's colour classes are (fixed over which years), or why a mode could not be used."""
    tbl = queries.area_table(view)[0]
    note, hidden = _classes_note(view, tbl), _hidden_areas_note(tbl, view.lang)
    return [note, hidden] if hidden is not None else note


def _hidden_areas_note(tbl, lang: str):
    """How many areas the map leaves grey because their value is hidden (None when none or all are)."""
    n_hidden = int(tbl["hidden"].fillna(True).astype(bool).sum()) if len(tbl) else 0
    return (html.Div(t("hidden_areas", lang).format(n=numbers.integer(n_hidden, lang), total=numbers.integer(len(tbl), lang)),
                     id="hidden-areas-note") if 0 < n_hidden < len(tbl) else None)


def _classes_note(view: View, tbl) -> str:
    """What the colour classes are (fixed over which years), or why the chosen mode could not be used."""
    note = ""
    if view.colours != "own":
        colouring = colours.colouring(view, tbl)
        if colouring is not None and colouring.note:
            note = t(colouring.note, view.lang)
        elif colouring is not None and colouring.mode in ("equal", "quantile"):
            note = f"{t('classes_note', view.lang)} ({data.years()[0]}–{data.years()[-1]})"
    return note


@cached(maxsize=1)
def _tiles():
    """The hand-laid tile grid (etl/config/tilemap.csv), read once."""
    from etl.geo import load_tilemap

    return load_tilemap()


def _area_name(view: View):
    if view.area is None:
        return None
    a = db.areas()
    hit = a[a.code == view.area]
    return hit.name.iloc[0] if len(hit) else str(view.area)


@callback(Output("trend", "figure"), Input("view-trend", "data"), State("atlas-url", "search"))
def draw_trend(data, search_qs):
    if data is None:
        return no_update
    return _trend_figure(replace(current_view(data, search_qs), sep=","))


@cached(maxsize=128)
def _trend_figure(view: View):
    tr = queries.trend_table(view, view.area)
    reason = notices.empty_reason(tr[tr["code"] == 0] if len(tr) else tr)
    if reason:
        return notices.message_figure(t(reason, view.lang), 320)
    m = MEASURES[view.measure]
    fig = figures.trend(tr, view, m, view.area, _area_name(view), incomplete=coverage.incomplete_years(view.measure),
                        breaks=coverage.breaks(view.measure, coverage.break_dimensions(view)))
    years = data.years()
    where = t("denmark_total", view.lang) + _and_area(view, tr)
    return titles.stamp(fig, f"{m.name(view.lang)}, {years[0]}–{years[-1]}, {where}",
                        titles.context_parts(view, m, view.lang, geo=False), view.lang,
                        titles.file_stem(t("trend", view.lang), view, m, view.lang, where))


@callback(Output("breakdown", "figure"), Input("view-breakdown", "data"), State("atlas-url", "search"))
def draw_breakdown(data, search_qs):
    if data is None:
        return no_update
    return _breakdown_figure(queries.breakdown_view(replace(current_view(data, search_qs), sep=",", map="geo")))


def _and_area(view: View, tbl) -> str:
    """" and København" when the table holds the selected area; on a release that does not publish
    the area's figures, " (København: not published)" instead, so no title names a missing line."""
    if view.area is None:
        return ""
    if len(tbl) and (tbl["code"] == view.area).any():
        return f" {t('and', view.lang)} {_area_name(view)}"
    return f" ({t('not_published_for', view.lang).format(name=_area_name(view))})"


@cached(maxsize=128)
def _breakdown_figure(view: View):
    bd = queries.breakdown_table(view, view.area)
    where = _area_name(view) or t("denmark_total", view.lang)
    if view.area is not None and notices.empty_reason(bd) == "empty_selection":
        # the release publishes an area's groups for fewer measures and periods than Denmark's: show Denmark's
        bd = queries.breakdown_table(view, None)
        where = f"{t('denmark_total', view.lang)} ({t('not_published_for', view.lang).format(name=_area_name(view))})"
    reason = notices.empty_reason(bd)
    if reason:
        return notices.message_figure(t(reason, view.lang), 380)
    m = MEASURES[view.measure]
    return titles.stamp(figures.breakdown(bd, view, m), titles.headline(m, view, view.lang, where),
                        [t("breakdown", view.lang)] + titles.context_parts(view, m, view.lang, geo=False), view.lang,
                        titles.file_stem(t("breakdown", view.lang), view, m, view.lang, where))


@callback(Output("mix", "figure"), Input("view-mix", "data"), State("atlas-url", "search"))
def draw_mix(data, search_qs):
    if data is None:
        return no_update
    return _mix_figure(replace(current_view(data, search_qs), sep=",", map="geo"))


@cached(maxsize=128)
def _mix_figure(view: View):
    mx = queries.mix_table(view, view.area)
    reason = notices.empty_reason(mx[mx["code"] == 0] if len(mx) else mx)
    if reason:
        return notices.message_figure(t(reason, view.lang), 440)
    incomplete = {k: coverage.in_view(coverage.incomplete_years(k), view.y0, view.y1) for k in data.MIX_MEASURES}
    fig = figures.mix(mx, view, view.area, _area_name(view), incomplete={k: v for k, v in incomplete.items() if v})
    where = t("denmark_total", view.lang) + (f" {t('and', view.lang)} {_area_name(view)}" if view.area is not None else "")
    return titles.stamp(fig, f"{t('mix', view.lang)}, {titles.period(view)}, {where}",
                        [t("followed", view.lang), titles.filters_text(view, view.lang), t("share_pct_of", view.lang)],
                        view.lang, titles.file_stem(t("mix", view.lang), view, None, view.lang, where))


def coverage_note(view: View):
    """A warning when the chosen years include years whose window is incomplete for the measure, and one
    when they lie on both sides of a register break."""
    hit = coverage.in_view(coverage.incomplete_years(view.measure), view.y0, view.y1)
    notes = [dbc.Alert(t("incomplete_in_view", view.lang).format(years=coverage.describe(hit, view.lang)),
                       color="info", className="py-2 small", id="incomplete-alert")] if hit else []
    # chosen years on both sides of a register break (etl/config/breaks.toml)
    across = coverage.spans_break(view.y0, view.y1, coverage.breaks(view.measure, coverage.break_dimensions(view)))
    if across:
        notes.append(dbc.Alert(coverage.break_note(across, view.lang), color="info", className="py-2 small",
                               id="break-alert"))
    return (notes[0] if len(notes) == 1 else notes) or None


# ---------------------------------------------------------------- charts as tables

TABLE_CHARTS = ("map", "rank", "funnel", "trend", "mix", "breakdown", "clusters")


def tables_section(view: View):
    """Every chart as a table (tables=1): exactly what it shows, as in its CSV; None otherwise."""
    if not view.tables:
        return None
    out = [html.H2(t("show_tables", view.lang), className="h6")]
    for chart in TABLE_CHARTS:
        title, body = _chart_table(replace(view, sep=","), chart)
        out.append(html.Div(html_table(body, f"{t('table_of', view.lang)}: {title}", view.lang),
                            id=f"table-{chart}", className="mb-3"))
    return out


@cached(maxsize=256)
def _chart_table(view: View, chart: str):
    return export.chart_table(chart, view)


# ---------------------------------------------------------------- downloads

@callback(Output({"type": "download", "chart": MATCH}, "data"),
          Input({"type": "download-btn", "chart": MATCH}, "n_clicks"),
          State("view", "data"), State("atlas-url", "search"), prevent_initial_call=True)
def download(n_clicks, data, search_qs):
    if not n_clicks or data is None:
        return no_update
    chart = ctx.triggered_id.get("chart") if isinstance(ctx.triggered_id, dict) else None
    if chart not in export.CHARTS:
        raise guard.BadInput("Unknown chart.")
    view = current_view(data, search_qs)
    content, filename = export.chart_csv(chart, view)
    return dcc.send_bytes(content, filename)
