"""Compare (``/compare``): two to four areas side by side on every measure, and one measure against
another by area with Pearson's correlation and its Fisher z interval. The search box opens an
area's profile. The view (level, period, areas, the two measures) is in the URL hash; a click on a
point of the scatter adds or removes that area, highlighted in both views."""
from __future__ import annotations

from urllib.parse import parse_qs, urlencode

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, ctx, dcc, html

from atlas import db, profile
from atlas.comparisons import paired, side_by_side
from atlas.findings import number
from atlas.i18n import label, t
from atlas.layout_parts import control, lang_of
from atlas.measures import MEASURES
from atlas.profile_figures import compare_dots, measure_scatter
from atlas.state import click_code
from atlas.static import GRAPH_CONFIG
from etl import stats
from atlas.profile_parts import period_text, search_box

dash.register_page(__name__, path="/compare", name="Compare", title="Compare · Lumbar imaging atlas")

LEVELS = ("municipality", "region")
DEFAULT = {"level": "municipality", "x": "imaging_rate", "y": "surgery_long_share"}
MAX_AREAS = 4


def read_hash(hash_) -> dict:
    """level, period, areas (at most four of the level), x and y from the hash, each checked."""
    raw = {k: v[-1] for k, v in parse_qs((hash_ or "").lstrip("#")[:500]).items()}
    out = dict(DEFAULT, period=profile.default_period(), areas=[])
    if raw.get("level") in LEVELS:
        out["level"] = raw["level"]
    for key in ("x", "y"):
        if raw.get(key) in MEASURES:
            out[key] = raw[key]
    offered = {f"{a}-{b}": (a, b) for a, b in profile.periods()}
    if raw.get("period") in offered:
        out["period"] = offered[raw["period"]]
    codes = db.level_codes().get(out["level"], set())
    for part in str(raw.get("areas", "")).split(",")[:MAX_AREAS]:
        if part.isdigit() and int(part) in codes and int(part) not in out["areas"]:
            out["areas"].append(int(part))
    return out


def write_hash(state: dict) -> str:
    keep = {k: state[k] for k in ("level", "x", "y") if state[k] != DEFAULT[k]}
    if state["period"] != profile.default_period():
        keep["period"] = f"{state['period'][0]}-{state['period'][1]}"
    if state["areas"]:
        keep["areas"] = ",".join(str(c) for c in state["areas"][:MAX_AREAS])
    return "#" + urlencode(keep) if keep else ""


def _area_options(level: str) -> list[dict]:
    a = db.areas()
    part = a[a.level == level].sort_values("name")
    return [{"label": n, "value": int(c)} for c, n in zip(part.code, part.name)]


def layout(lang: str | None = None, **_):
    lang = lang_of(lang)
    measures = [{"label": m.name(lang), "value": k} for k, m in MEASURES.items()]
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
            dbc.Col(control(t("level", lang), dbc.RadioItems(id="compare-level", value=DEFAULT["level"], inline=True, options=[
                {"label": label("level", k, lang), "value": k} for k in LEVELS])), md=4),
            dbc.Col(control(t("profile_period", lang), dcc.Dropdown(id="compare-period", options=periods,
                                                                    value=periods[0]["value"], clearable=False)), md=3),
            dbc.Col(control(t("cmp_areas", lang), dcc.Dropdown(id="compare-areas", options=[], value=[], multi=True,
                                                                placeholder=t("cmp_areas_help", lang))), md=5),
        ], className="g-2 mt-2"),
        html.Section([html.H2(t("cmp_side", lang), className="h5 mt-3"),
                      dcc.Loading(html.Div(id="compare-side"))]),
        html.Section([
            html.H2(t("cmp_scatter", lang), className="h5 mt-3"),
            dbc.Row([dbc.Col(control(t("cmp_x", lang), dcc.Dropdown(id="compare-x", options=measures, value=DEFAULT["x"],
                                                                    clearable=False)), md=6),
                     dbc.Col(control(t("cmp_y", lang), dcc.Dropdown(id="compare-y", options=measures, value=DEFAULT["y"],
                                                                    clearable=False)), md=6)], className="g-2"),
            html.P(id="compare-corr", className="mb-1", **{"aria-live": "polite"}),
            html.P(t("cmp_corr_note", lang), className="small text-muted mb-1"),
            dcc.Loading(dcc.Graph(id="compare-scatter", config=GRAPH_CONFIG)),
        ]),
    ], id="main-content", lang=lang)


@callback(Output("compare-url", "hash"), Output("compare-level", "value"), Output("compare-period", "value"),
          Output("compare-areas", "options"), Output("compare-areas", "value"), Output("compare-x", "value"),
          Output("compare-y", "value"),
          Input("compare-url", "hash"), Input("compare-level", "value"), Input("compare-period", "value"),
          Input("compare-areas", "value"), Input("compare-x", "value"), Input("compare-y", "value"),
          Input("compare-scatter", "clickData"))
def sync(hash_, level, period, areas, x, y, click):
    """Controls and the URL hash kept in step; every value is checked by ``read_hash``."""
    state = read_hash(hash_ if isinstance(hash_, str) else "")
    trig = ctx.triggered_id
    if trig not in (None, "compare-url"):
        areas = [a for a in areas if isinstance(a, int)] if isinstance(areas, list) else []
        if trig == "compare-scatter":
            code = click_code(click)
            if code is not None:
                areas = [a for a in areas if a != code] if code in areas else areas + [code]
        if level != state["level"]:
            areas = []
        proposed = {"level": level if level in LEVELS else state["level"], "x": x if x in MEASURES else state["x"],
                    "y": y if y in MEASURES else state["y"], "areas": areas[:MAX_AREAS],
                    "period": tuple(int(p) for p in period.split("-")) if isinstance(period, str) and
                    period.replace("-", "").isdigit() else state["period"]}
        state = read_hash(write_hash(proposed))
    return (write_hash(state), state["level"], f"{state['period'][0]}-{state['period'][1]}",
            _area_options(state["level"]), state["areas"], state["x"], state["y"])


def _side_table(table: pd.DataFrame, codes: list[int], names: dict, lang: str) -> html.Table:
    head = html.Tr([html.Th(t("col_measure", lang))] + [html.Th(names[c]) for c in codes] + [html.Th(t("col_denmark", lang))])
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
                                  number(r["value"], lang) if verdict != "hidden" else t("suppressed", lang),
                                  html.Span(f" ({number(r['lower'], lang)}–{number(r['upper'], lang)})", className="small")
                                  if verdict != "hidden" else None],
                                 title=t(f"cmp_{verdict}", lang), className=f"cmp-{verdict}"))
        dk = rows["denmark"].dropna()
        cells.append(html.Td(number(dk.iloc[0], lang) if len(dk) else "–"))
        body.append(html.Tr(cells))
    return html.Table([html.Thead(head), html.Tbody(body)], className="table table-sm compare-table", id="compare-table")


@callback(Output("compare-side", "children"), Input("compare-url", "hash"), State("compare-url", "search"))
def draw_side(hash_, search):
    state = read_hash(hash_ if isinstance(hash_, str) else "")
    lang = lang_of(search if isinstance(search, str) else "")
    codes = state["areas"]
    if len(codes) < 2:
        return html.P(t("cmp_pick_two", lang), className="text-muted", id="compare-empty")
    names = {c: profile.area_name(c, state["level"]) for c in codes}
    table = side_by_side(codes, state["period"], lang)
    links = [dcc.Link(t("profile_open", lang).format(name=names[c]), href=dash.get_relative_path(f"/area/{c}" + ("?lang=da" if lang == "da" else "")),
                      className="me-3 small") for c in codes]
    return [html.Div(links, className="mb-2"), _side_table(table, codes, names, lang),
            dcc.Graph(id="compare-dots", figure=compare_dots(table, codes, names, lang),
                      config={**GRAPH_CONFIG, "displayModeBar": False})]


@callback(Output("compare-scatter", "figure"), Output("compare-corr", "children"),
          Input("compare-url", "hash"), State("compare-url", "search"))
def draw_scatter(hash_, search):
    state = read_hash(hash_ if isinstance(hash_, str) else "")
    lang = lang_of(search if isinstance(search, str) else "")
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

    from atlas import all_data

    if not n_clicks:
        return no_update
    lang = lang_of(search if isinstance(search, str) else "")
    return dcc.send_bytes(all_data.zip_bytes(lang, ","), "lumbar-atlas-all-data.zip")
