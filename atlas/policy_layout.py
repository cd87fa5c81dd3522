"""Layout and callbacks shared by the three policy pages (``pages/inequality.py``,
``pages/recent_trends.py``, ``pages/opportunity.py``).

Each page holds one location (``pol-url``; its state in the hash, :mod:`atlas.policy_view`), its
name (``pol-page``), controls with pattern-matching ids (``{"type": "pol-control", "key": ...}``),
its sentences, charts and tables, and a CSV button per table. Three thin callbacks serve every
page: ``sync`` (controls <-> hash), ``draw`` and ``download``.
"""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, MATCH, Input, Output, State, callback, ctx, dcc, html, no_update

from atlas import data, guard, notices, policy, policy_view
from atlas.i18n import label, t
from atlas.layout_parts import control, dropdown, html_table, lang_of
from atlas.measures import MEASURES
from atlas.static import GRAPH_CONFIG

CHARTS = {"inequality": (("groups", "pol_groups_title"), ("rii", "pol_rii_title")),
          "recent": (("apc", "pol_recent_chart"),),
          "opportunity": (("avoidable", "pol_opp_chart"),)}
TITLES = {"inequality": ("pol_ineq_title", "pol_ineq_intro"), "recent": ("pol_recent_title", "pol_recent_intro"),
          "opportunity": ("pol_opp_title", "pol_opp_intro")}
NAV = (("inequality", "nav_inequality"), ("recent", "nav_recent"), ("opportunity", "nav_opportunity"))


def _cid(key: str) -> dict:
    return {"type": "pol-control", "key": key}


def _labelled(title: str, component) -> html.Div:
    """A dropdown or input with a pattern-matching id, labelled by a real <label for=...>: Dash
    writes such an id into the page as its JSON text with sorted keys."""
    import json

    dom_id = json.dumps(component.id, sort_keys=True, separators=(",", ":"))
    return html.Div([html.Label(title, htmlFor=dom_id, className="form-label small fw-semibold mb-1"), component],
                    className="mb-2")


def _radio(key: str, value, options, lang: str):
    return dbc.RadioItems(id=_cid(key), name=f"pol-{key}", value=value, inline=True,
                          options=[{"label": lab, "value": v} for v, lab in options])


def _measure_options(page: str, lang: str) -> list[dict]:
    allowed = policy_view.rules(page)["measure"]
    return [{"label": MEASURES[k].name(lang), "value": k} for k in allowed]


def _period_options() -> list[dict]:
    return [{"label": p.replace("-", "–"), "value": p} for p in policy_view.rules("inequality")["period"]]


def controls(page: str, state: dict, lang: str) -> list:
    """The page's controls, each labelled, with the state's values."""
    def level_options(levels):
        return [(lv, label("level", lv, lang)) for lv in levels]

    items = [dbc.Col(_labelled(t("measure", lang), dropdown(lang, id=_cid("measure"), options=_measure_options(page, lang),
                                                           value=state["measure"], clearable=False)), md=4)]
    if page == "inequality":
        items += [
            dbc.Col(control(t("pol_dimension", lang), _radio("dim", state["dim"], [(d, label("dimension", d, lang))
                                                                                  for d in policy.GRADIENT_DIMS], lang)), md=4),
            dbc.Col(control(t("level", lang), _radio("level", state["level"], level_options(policy.GRADIENT_LEVELS), lang)), md=4),
            dbc.Col(_labelled(t("pol_period", lang), dropdown(lang, id=_cid("period"), options=_period_options(),
                                                              value=state["period"], clearable=False)), md=3),
            dbc.Col(control(t("pol_rates", lang), _radio("rates", state["rates"], [("crude", t("std_crude", lang)),
                                                                                  ("isr", t("std_isr", lang))], lang)), md=5),
            dbc.Col(_labelled(t("pol_area", lang), dropdown(lang, id=_cid("area"), options=_area_options(state, lang),
                                                              value=state["area"], clearable=True,
                                                              placeholder=t("pol_area_none", lang))), md=4)]
    elif page == "recent":
        ends = policy_view.rules("recent")["end"]
        items += [
            dbc.Col(control(t("level", lang), _radio("level", state["level"], level_options(("municipality", "region")), lang)), md=4),
            dbc.Col(_labelled(t("pol_years_n", lang), dropdown(lang, id=_cid("years"), options=[
                {"label": str(n), "value": n} for n in policy.TREND_YEARS], value=state["years"], clearable=False)), md=2),
            dbc.Col(_labelled(t("pol_end", lang), dropdown(lang, id=_cid("end"), options=[
                {"label": str(y), "value": y} for y in ends], value=state["end"], clearable=False)), md=2),
            dbc.Col(control(t("pol_test", lang), _radio("test", state["test"], [(k, t(f"pol_test_{k}", lang))
                                                                               for k in policy_view.TESTS], lang)), md=6),
            dbc.Col(control(t("pol_show", lang), _radio("show", state["show"], [(k, t(f"pol_show_{k}", lang))
                                                                               for k in policy_view.SHOW], lang)), md=6)]
    else:
        items += [
            dbc.Col(control(t("level", lang), _radio("level", state["level"], level_options(("municipality", "region")), lang)), md=4),
            dbc.Col(_labelled(t("pol_period", lang), dropdown(lang, id=_cid("period"), options=_period_options(),
                                                              value=state["period"], clearable=False)), md=4),
            dbc.Col(control(t("pol_target", lang), _radio("target", state["target"], [(k, t(f"pol_target_{k}", lang))
                                                                                     for k in policy.TARGETS], lang)), md=5),
            dbc.Col(_labelled(t("pol_user_rate", lang), dcc.Input(id=_cid("rate"), type="number", min=0, step="any",
                                                                value=state["rate"], debounce=True,
                                                                className="form-control form-control-sm")), md=3),
            dbc.Col(control(t("pol_sig", lang), _radio("sig", state["sig"], [(0, t("no", lang)), (1, t("yes", lang))], lang)),
                    md=4)]
    return items


def _area_options(state: dict, lang: str) -> list[dict]:
    from atlas import db

    a = db.areas()
    out = []
    for level in policy.GRADIENT_LEVELS:            # the regions first, then the municipalities
        part = a[a.level == level].sort_values("name")
        out += [{"label": str(n), "value": int(c)} for c, n in zip(part.code, part.name)]
    return out


def _download_button(key: str, title: str, lang: str):
    return html.Div([dbc.Button(t("download_csv", lang), id={"type": "pol-download-btn", "table": key}, size="sm",
                                color="primary", outline=True, title=f"{t('download_csv', lang)}: {title}"),
                     dcc.Download(id={"type": "pol-download", "table": key})], className="d-inline-block me-2 mb-2")


def layout(page: str, lang: str | None = None):
    lang = lang_of(lang)
    state = policy_view.defaults(page)
    title, intro = TITLES[page]
    sub = html.Nav(dbc.Nav([dbc.NavItem(dbc.NavLink(t(key, lang), active=(p == page),
                                                    href=dash.get_relative_path(policy_view.PATHS[p])
                                                    + ("" if lang == "en" else f"?lang={lang}")))
                            for p, key in NAV], pills=True, className="small"), className="mb-2 d-print-none",
                   **{"aria-label": t("nav_inequality", lang) + ", " + t("nav_recent", lang) + ", " + t("nav_opportunity", lang)})
    charts = [dbc.Col(html.Section(dbc.Card([dbc.CardHeader(html.H2(t(key, lang), className="h6 mb-0")),
                                             dbc.CardBody([dcc.Loading(dcc.Graph(
                                                 id={"type": "pol-graph", "chart": chart},
                                                 config={**GRAPH_CONFIG, "displayModeBar": False})),
                                                 html.Small(t("pol_opp_colours", lang), className="text-muted")
                                                 if chart == "avoidable" else None])]),
                                   role="region", **{"aria-label": t(key, lang)}),
                      lg=12 // len(CHARTS[page]) if page == "inequality" else 12, className="mb-3")
              for chart, key in CHARTS[page]]
    inside = data.inside_only()
    return html.Main([
        dcc.Location(id="pol-url", refresh=False),
        dcc.Store(id="pol-page", data=page),
        sub,
        html.H1(t(title, lang), className="h4", id="pol-title"),
        html.P(t(intro, lang), className="small text-muted mb-2"),
        html.P(t("pol_inside", lang), className="small fw-semibold text-danger mb-1", id="pol-inside") if inside else None,
        dbc.Row(controls(page, state, lang), className="g-2 d-print-none", id="pol-controls"),
        html.Div(id="pol-notice", **{"aria-live": "polite"}),
        html.Ul(id="pol-words", className="mb-2", **{"aria-live": "polite"}),
        html.P(t("pol_unordered", lang), className="small text-muted") if page == "inequality" else None,
        dbc.Row(charts, className="g-3"),
        html.Div(id="pol-downloads", className="d-print-none"),
        html.Div(id="pol-tables"),
        html.P(data.source().note(lang), className="small text-muted mt-2"),
    ], id="main-content", lang=lang, className="policy-page")


@callback(Output("pol-url", "hash"), Output({"type": "pol-control", "key": ALL}, "value"), Output("pol-notice", "children"),
          Input("pol-url", "hash"), Input({"type": "pol-control", "key": ALL}, "value"),
          State("pol-page", "data"), State("pol-url", "search"))
def sync(hash_, values, page, search):
    """The hash and the controls kept in step: the hash sets the controls on arrival; a control
    writes the hash (an unknown value is dropped). A view the source does not publish is moved to
    the nearest one, and a notice says what changed."""
    if page not in policy_view.PAGES:
        raise guard.BadInput("Unknown page.")
    keys = [item["id"]["key"] for item in ctx.inputs_list[1]]
    state, _ = policy_view.read_state(page, hash_ if isinstance(hash_, str) else "")
    if ctx.triggered_id not in (None, "pol-url"):
        proposed = {**state, **{k: v for k, v in zip(keys, values if isinstance(values, list) else [])}}
        state, _ = policy_view.read_state(page, policy_view.write_hash(page, proposed))
    lang = lang_of(search if isinstance(search, str) else "")
    notice = None
    if page == "inequality":
        a, b = policy_view._period(state["period"])
        near, changed = policy.gradient_view(state["measure"], state["level"], a, b, state["rates"])
        if changed:
            state.update(level=near.level, period=str(near.y0) if near.y0 == near.y1 else f"{near.y0}-{near.y1}",
                         measure=near.measure)
            notice = notices.not_published(changed, lang)
    return policy_view.write_hash(page, state), [state.get(k) for k in keys], notice


@callback(Output("pol-words", "children"), Output({"type": "pol-graph", "chart": ALL}, "figure"),
          Output("pol-tables", "children"), Output("pol-downloads", "children"),
          Input("pol-url", "hash"), State("pol-page", "data"), State("pol-url", "search"))
def draw(hash_, page, search):
    """The page's sentences, charts and tables for the state in the hash."""
    if page not in policy_view.PAGES:
        raise guard.BadInput("Unknown page.")
    lang = lang_of(search if isinstance(search, str) else "")
    state, _ = policy_view.read_state(page, hash_ if isinstance(hash_, str) else "")
    words = {"inequality": policy_view.inequality_words, "recent": policy_view.recent_words,
             "opportunity": policy_view.opportunity_words}[page](state, lang)
    figures = {"groups": policy_view.groups_figure, "rii": policy_view.rii_figure, "apc": policy_view.recent_figure,
               "avoidable": policy_view.opportunity_figure}
    asked = [item["id"].get("chart") if isinstance(item.get("id"), dict) else None for item in ctx.outputs_list[1]]
    if any(c not in {k for k, _ in CHARTS[page]} for c in asked):
        raise guard.BadInput("Unknown chart.")
    charts = [figures[c](state, lang) for c in asked]
    tables = policy_view.tables(page, state, lang)
    shown = [html.Div(html_table(tbl, title, lang), id=f"pol-table-{key}") for key, title, tbl in tables]
    buttons = [_download_button(key, title, lang) for key, title, _ in tables]
    return [html.Li(w) for w in words], charts, shown, buttons


@callback(Output({"type": "pol-download", "table": MATCH}, "data"),
          Input({"type": "pol-download-btn", "table": MATCH}, "n_clicks"),
          State("pol-url", "hash"), State("pol-page", "data"), State("pol-url", "search"), prevent_initial_call=True)
def download(n_clicks, hash_, page, search):
    """The CSV of one table of the page: exactly the table shown, with the atlas's header items."""
    if not n_clicks:
        return no_update
    if page not in policy_view.PAGES:
        raise guard.BadInput("Unknown page.")
    key = ctx.triggered_id["table"] if isinstance(ctx.triggered_id, dict) else None
    lang = lang_of(search if isinstance(search, str) else "")
    state, _ = policy_view.read_state(page, hash_ if isinstance(hash_, str) else "")
    try:
        content, name = policy_view.csv_bytes(page, state, str(key), lang)
    except ValueError as exc:
        raise guard.BadInput(str(exc)) from exc
    return dcc.send_bytes(content, name)
