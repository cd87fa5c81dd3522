"""Compare (``/compare``): two to four areas side by side on every measure, and one measure against
another by area with Pearson's correlation and its Fisher z interval. The search box opens an
area's profile. The view (level, period, areas, the two measures) is in the URL hash; a click on a
point of the scatter adds or removes that area, highlighted in both views."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, ctx, dcc, html

from atlas import data, profile
from atlas.compare_state import DEFAULT, LEVELS, read_hash, sync_compare
from atlas.comparisons import paired, peer_column, side_by_side
from atlas.data.domain import status_word
from atlas.findings import number
from atlas.i18n import label, t
from atlas.layout_parts import control, dropdown, lang_of
from atlas.measures import MEASURES
from atlas.page_meta import title_of
from atlas.profile_figures import compare_dots, measure_scatter
from atlas.profile_parts import period_text, search_box
from atlas.static import GRAPH_CONFIG
from etl import stats

dash.register_page(__name__, path="/compare", name="Compare", title=title_of("/compare"))

def layout(lang: str | None = None, **_):
    lang = lang_of(lang)
    measures = [{"label": MEASURES[k].name(lang), "value": k} for k in data.source().measures()]
    periods = [{"label": period_text(p), "value": f"{p[0]}-{p[1]}"} for p in profile.periods()]
    return html.Main([
        dcc.Location(id="compare-url", refresh=False),
        html.H1(t("cmp_title", lang), className="h4"),
        html.P(t("profile_choose", lang), className="small text-muted"),
        html.Div([search_box(lang),
                  html.Div([dbc.Button(t("all_data", lang), id="all-data-btn", color="primary", outline=True, size="sm"),
                            dcc.Download(id="all-data"),
                            html.Small(t("all_data_help", lang), className="d-block text-muted", style={"maxWidth": "32rem"})])],
                 className="d-flex flex-wrap gap-3 align-items-end"),
        dbc.Row([
            dbc.Col(control(t("level", lang), dbc.RadioItems(id="compare-level", name="compare-level", value=DEFAULT["level"], inline=True, options=[
                {"label": label("level", k, lang), "value": k} for k in LEVELS])), md=4),
            dbc.Col(control(t("profile_period", lang), dropdown(lang, id="compare-period", options=periods,
                                                                    value=periods[0]["value"], clearable=False)), md=3),
            dbc.Col(control(t("cmp_areas", lang), dropdown(lang, id="compare-areas", options=[], value=[], multi=True,
                                                                placeholder=t("cmp_areas_help", lang))), md=5),
            dbc.Col(dbc.Switch(id="compare-peers", label=t("peers_add", lang), value=False), md=12),
        ], className="g-2 mt-2"),
        html.Section([html.H2(t("cmp_side", lang), className="h5 mt-3"),
                      dcc.Loading(html.Div(id="compare-side"))]),
        html.Section([
            html.H2(t("cmp_scatter", lang), className="h5 mt-3"),
            dbc.Row([dbc.Col(control(t("cmp_x", lang), dropdown(lang, id="compare-x", options=measures, value=DEFAULT["x"],
                                                                    clearable=False)), md=6),
                     dbc.Col(control(t("cmp_y", lang), dropdown(lang, id="compare-y", options=measures, value=DEFAULT["y"],
                                                                    clearable=False)), md=6)], className="g-2"),
            html.P(id="compare-corr", className="mb-1", **{"aria-live": "polite"}),
            html.P(t("cmp_corr_note", lang), className="small text-muted mb-1"),
            dcc.Loading(dcc.Graph(id="compare-scatter", config=GRAPH_CONFIG)),
        ]),
    ], id="main-content", lang=lang)


@callback(output={"hash": Output("compare-url", "hash"), "level": Output("compare-level", "value"),
                  "period": Output("compare-period", "value"), "area-options": Output("compare-areas", "options"),
                  "areas": Output("compare-areas", "value"), "x": Output("compare-x", "value"),
                  "y": Output("compare-y", "value"), "peers": Output("compare-peers", "value")},
          inputs=dict(address=Input("compare-url", "hash"),
                      controls=dict(level=Input("compare-level", "value"), period=Input("compare-period", "value"),
                                    areas=Input("compare-areas", "value"), x=Input("compare-x", "value"),
                                    y=Input("compare-y", "value"), peers=Input("compare-peers", "value")),
                      click=Input("compare-scatter", "clickData")))
def sync(address, controls, click):
    """Controls and the URL hash kept in step (see :func:`atlas.compare_state.sync_compare`)."""
    return sync_compare(address, controls, ctx.triggered_id, click)


def _side_table(table: pd.DataFrame, codes: list[int], names: dict, lang: str,
                peers: pd.DataFrame | None = None) -> html.Table:
    """The areas side by side on every measure, then (when given) the first municipality's
    comparable municipalities together, then Denmark."""
    peer_head = ([html.Th(t("peers_comparator", lang).format(name=names[codes[0]]), id="compare-peers-head")]
                 if peers is not None else [])
    head = html.Tr([html.Th(t("col_measure", lang))] + [html.Th(names[c]) for c in codes] + peer_head
                   + [html.Th(t("col_denmark", lang))])
    pooled = peers.set_index("measure") if peers is not None and len(peers) else None
    body = []
    for key in MEASURES:
        rows = table[table["measure"] == key].set_index("code")
        cells = [html.Th(MEASURES[key].name(lang), scope="row", className="fw-normal")]
        for c in codes:
            r = rows.loc[c]
            if not r["published"]:
                cells.append(html.Td("–", className="text-muted", title=t("not_published_here", lang)))
                continue
            verdict = profile.compared(r["flag"])
            cells.append(html.Td([html.Span(className=f"legend-swatch spine-area spine-{verdict}"),
                                  number(r["value"], lang) if verdict != "hidden" else
                                  (status_word(r.get("status"), lang) or t("suppressed", lang)),
                                  html.Span(f" ({number(r['lower'], lang)}–{number(r['upper'], lang)})", className="small")
                                  if verdict != "hidden" else None],
                                 title=t(f"cmp_{verdict}", lang), className=f"cmp-{verdict}"))
        if peers is not None:
            p = pooled.loc[key] if pooled is not None and key in pooled.index else None
            if p is None or pd.isna(p["value"]):
                cells.append(html.Td("–", className="text-muted cmp-peers", title=t("not_published_here", lang)))
            else:
                cells.append(html.Td([number(p["value"], lang), html.Span(
                    f" ({number(p['lower'], lang)}–{number(p['upper'], lang)})", className="small")], className="cmp-peers"))
        dk = rows["denmark"].dropna()
        cells.append(html.Td(number(dk.iloc[0], lang) if len(dk) else "–"))
        body.append(html.Tr(cells))
    return html.Table([html.Thead(head), html.Tbody(body)], className="table table-sm compare-table", id="compare-table")


@callback(Output("compare-side", "children"), Input("compare-url", "hash"), State("compare-url", "search"))
def draw_side(hash_, search):
    return side_section(read_hash(hash_ if isinstance(hash_, str) else ""), lang_of(search if isinstance(search, str) else ""))


def side_section(state: dict, lang: str):
    """The chosen areas side by side: links to their profiles, the table and the dot chart."""
    codes = state["areas"]
    with_peers = bool(state.get("peers")) and state["level"] == "municipality" and len(codes) >= 1
    if len(codes) < (1 if with_peers else 2):
        return html.P(t("cmp_pick_peers" if state.get("peers") else "cmp_pick_two", lang), className="text-muted",
                      id="compare-empty")
    names = {c: profile.area_name(c, state["level"]) for c in codes}
    table = side_by_side(codes, state["period"], lang)
    peers = None
    if with_peers:
        peers = peer_column(codes[0], state["period"])
        names_of = ", ".join(profile.area_name(c, "municipality") for c in (peers["peers"].iloc[0] if len(peers) else ()))
        note = (t("peers_cmp_none", lang) if not len(peers) else
                t("peers_cmp_note", lang).format(name=names[codes[0]], list=names_of))
    links = [dcc.Link(t("profile_open", lang).format(name=names[c]), href=dash.get_relative_path(f"/area/{c}" + ("?lang=da" if lang == "da" else "")),
                      className="me-3 small") for c in codes]
    return [html.Div(links, className="mb-2"),
            *([html.P(note, className="small text-muted mb-1", id="compare-peers-note")] if with_peers else []),
            _side_table(table, codes, names, lang, peers),
            dcc.Graph(id="compare-dots", figure=compare_dots(table, codes, names, lang, peers),
                      config={**GRAPH_CONFIG, "displayModeBar": False})]


@callback(Output("compare-scatter", "figure"), Output("compare-corr", "children"),
          Input("compare-url", "hash"), State("compare-url", "search"))
def draw_scatter(hash_, search):
    return scatter_section(read_hash(hash_ if isinstance(hash_, str) else ""), lang_of(search if isinstance(search, str) else ""))


def scatter_section(state: dict, lang: str) -> tuple:
    """One measure against another over the areas, and their correlation with its interval."""
    both = paired(state["x"], state["y"], state["level"], state["period"])
    fig = measure_scatter(both, state["x"], state["y"], lang, set(state["areas"]))
    c = stats.correlation_ci(both["value_x"], both["value_y"]) if len(both) else None
    if c is None or pd.isna(c.lower):
        return fig, t("cmp_corr_none", lang)
    p = "< 0.001" if c.p_value < 0.001 else number(c.p_value, lang, 3)
    return fig, t("cmp_corr", lang).format(r=number(c.r, lang, 2), lower=number(c.lower, lang, 2),
                                           upper=number(c.upper, lang, 2), n=c.n, p=p)


@callback(Output("all-data", "data"), Input("all-data-btn", "n_clicks"), State("compare-url", "search"),
          prevent_initial_call=True)
def download_all(n_clicks, search):
    """Every published figure: a zip of CSVs (one per measure) with a codebook."""
    from dash import no_update

    from atlas import all_data, export

    if not n_clicks:
        return no_update
    lang = lang_of(search if isinstance(search, str) else "")
    return dcc.send_bytes(all_data.zip_bytes(lang, ",", export.descriptive_header_asked()), "lumbar-atlas-all-data.zip")
