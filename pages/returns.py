"""Return-letter monitoring: returned referrals and standard return letters by month, exam type and
centre, with a segmented (interrupted time series) regression around an intervention date."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import MATCH, Input, Output, State, callback, ctx, dcc, html, no_update

from atlas import data, guard, numbers
from atlas import returns as R
from atlas.api import page_views
from atlas.i18n import label, t
from atlas.layout_parts import api_link_outputs, api_link_values, chart_card, control, dropdown, lang_of, page_frame, separator_control
from atlas.page_meta import title_of
from atlas.static import GRAPH_CONFIG

dash.register_page(__name__, path="/returns", name="Return letters", title=title_of("/returns"))


def card(chart: str, title: str, lang: str, body, extra: list | None = None):
    """The atlas's chart card with this page's ids and the API menu beside its CSV download, showing
    the default view's address until the page's view arrives (:func:`draw_api_links`)."""
    return chart_card(chart, title, lang, body, extra, prefix="ret-",
                      api=page_views.returns_url(chart, R.ReturnsView(lang=lang)))


def _centre_options(lang: str):
    c = R.centres()
    return [{"label": t("ret_all_centres", lang), "value": "all"}] + [
        {"label": f"{n} ({p})", "value": p} for p, n in zip(c.producer_id, c.centre)]


def layout(lang: str | None = None, **_):
    lang = lang_of(lang)
    months = R.months()
    view = R.ReturnsView(lang=lang)
    sidebar = html.Aside([
        control(t("ret_measure", lang), dbc.RadioItems(id="ret-measure", name="ret-measure", value=view.measure, options=[
            {"label": t(f"ret_measure_{m}", lang), "value": m} for m in R.MEASURES])),
        control(t("ret_exam", lang), dropdown(lang, id="ret-exam", value="all", clearable=False, searchable=False, options=[
            {"label": t("all", lang), "value": "all"}] + [{"label": label("exam_type", e, lang), "value": e} for e in R.EXAMS])),
        control(t("ret_centre", lang), dropdown(lang, id="ret-centre", value="all", clearable=False,
                                                    options=_centre_options(lang))),
        control(t("ret_intervention_date", lang), dcc.DatePickerSingle(
            id="ret-date", date=view.date, display_format="YYYY-MM-DD", first_day_of_week=1,
            min_date_allowed=(months[2] if len(months) > 2 else months[0]).date().isoformat() if months else None,
            max_date_allowed=(months[-2]).date().isoformat() if len(months) > 1 else None,
            initial_visible_month=view.date, clearable=False, placeholder=t("ret_pick_date", lang)),
            help_text=t("ret_date_help", lang)),
        separator_control("ret-sep", lang),
    ], className="atlas-sidebar", **{"aria-label": t("ret_title", lang)})

    main = html.Main([
        html.H1(t("ret_title", lang), className="h4"),
        html.P(t("ret_intro", lang), className="small text-muted mb-1"),
        html.P(t("ret_what", lang), className="small text-muted", id="ret-what"),
        html.Div(id="ret-notice", **{"aria-live": "polite"}),
        dbc.Row([
            dbc.Col(card("its", t("ret_chart_its", lang), lang, html.Div([
                dcc.Graph(id="ret-its", config=GRAPH_CONFIG),
                html.Div(id="ret-its-table", **{"aria-live": "polite"})])), lg=7),
            dbc.Col(card("exam", t("ret_chart_exam", lang), lang, dcc.Graph(id="ret-exam-chart", config=GRAPH_CONFIG)), lg=5),
        ], className="g-3"),
        dbc.Row([
            dbc.Col(card("centres", t("ret_chart_centres", lang), lang, dcc.Graph(id="ret-centres", config=GRAPH_CONFIG),
                         extra=[html.Small(t("ret_grey_note", lang), className="text-muted")]), lg=7),
            dbc.Col(card("summary", t("ret_chart_spread", lang), lang, html.Div([
                dcc.Graph(id="ret-spread", config=GRAPH_CONFIG), html.Div(id="ret-summary")])), lg=5),
        ], className="g-3 mt-1"),
        html.P([data.source().note(lang), " ", t("ret_key_note", lang)], className="small text-muted mt-3"),
    ], id="main-content", className="atlas-main")
    return page_frame("ret-url", "ret-view", sidebar, main)


# ---------------------------------------------------------------- state: controls <-> URL hash

def _parse(hash_, lang):
    return R.parse_hash(hash_, set(R.centres().producer_id), R.months(), lang)


@callback(
    output={"view": Output("ret-view", "data"), "hash": Output("ret-url", "hash"),
            **{k: Output(f"ret-{k}", "value") for k in ("measure", "exam", "centre")},
            "date": Output("ret-date", "date"), "sep": Output("ret-sep", "value"),
            "notice": Output("ret-notice", "children")},
    inputs=dict(address=Input("ret-url", "hash"),
                controls={**{k: Input(f"ret-{k}", "value") for k in ("measure", "exam", "centre")},
                          "date": Input("ret-date", "date"), "sep": Input("ret-sep", "value")}),
    state=dict(current=State("ret-view", "data"), search=State("ret-url", "search")),
)
def sync_state(address, controls, current, search):
    """The URL hash and the controls -> the view (see :func:`atlas.returns.state.sync_returns`)."""
    return R.sync_returns(address, controls, ctx.triggered_id, current, lang_of(search))


def current_view(data, search) -> R.ReturnsView:
    view, _ = _parse(data or "", lang_of(search))
    return view


# ---------------------------------------------------------------- figures

def _fmt(x, digits=2, lang="en"):
    return numbers.decimal(x, digits, lang)


def _p(p, lang="en"):
    if p is None or (isinstance(p, float) and np.isnan(p)):
        return "–"
    return "<" + numbers.decimal(0.001, 3, lang) if p < 0.001 else numbers.decimal(p, 3, lang)


@callback(Output("ret-its", "figure"), Output("ret-its-table", "children"),
          Input("ret-view", "data"), State("ret-url", "search"))
def draw_its(data, search):
    if data is None:
        return no_update, no_update
    view = current_view(data, search)
    s, r = R.its(view)
    return R.stamp(R.fig_its(s, r, view), "ret_chart_its", view), _its_estimates(s, r, view)


def _its_estimates(s: pd.DataFrame, r: dict | None, view: R.ReturnsView):
    """The regression's estimates as a table with its method, or why there is none."""
    lang = view.lang
    if r is None:
        return dbc.Alert(R.no_fit_text(s, lang), color="secondary", className="py-2 small", id="ret-no-fit")
    tbl = R.its_table(r, lang)
    table = dbc.Table([
        html.Caption(f"{t('ret_unit_' + view.measure, lang)} · {t('ret_intervention', lang)} {r['intervention_month']:%Y-%m}",
                     className="small"),
        html.Thead(html.Tr([html.Th(t("ret_term", lang), scope="col"), html.Th(t("ret_estimate", lang), scope="col"),
                            html.Th(t("ret_p", lang), scope="col")])),
        html.Tbody([html.Tr([html.Th(row.term, scope="row", className="fw-normal"),
                             html.Td(f"{_fmt(row.estimate, 2, lang)} ({_fmt(row.lower, 2, lang)} {t('to_word', lang)} "
                                     f"{_fmt(row.upper, 2, lang)})"),
                             html.Td(_p(row.p, lang))])
                    for row in tbl.itertuples(index=False)]),
    ], size="sm", className="small mb-1", id="ret-its-estimates")
    method = html.P(t("ret_method_text", lang).format(lags=r["lags"], n=r["n"], filled=r["n_filled"])
                    + f" Durbin–Watson {numbers.decimal(r['durbin_watson'], 2, lang)}."
                    + (" " + t("fitted_clamped", lang) if s.attrs.get("clamped") else ""), className="small text-muted mb-0")
    return html.Div([table, method])


@callback(Output("ret-exam-chart", "figure"), Input("ret-view", "data"), State("ret-url", "search"))
def draw_exam(data, search):
    if data is None:
        return no_update
    view = current_view(data, search)
    return R.stamp(R.fig_by_exam(R.by_exam(view), view), "ret_chart_exam", view, counts=True)


@callback(Output("ret-centres", "figure"), Output("ret-spread", "figure"), Output("ret-summary", "children"),
          Input("ret-view", "data"), State("ret-url", "search"))
def draw_centres(data, search):
    if data is None:
        return no_update, no_update, no_update
    view = current_view(data, search)
    tbl = R.by_centre(view)
    return (R.stamp(R.fig_centres(tbl, view), "ret_chart_centres", view, counts=True),
            R.stamp(R.fig_spread(tbl, view), "ret_chart_spread", view), _summary_table(R.centre_summary(view), view))


def _summary_table(summary: pd.DataFrame, view: R.ReturnsView):
    """Per centre, shown counts and rates before and after the intervention (the chosen centre in bold)."""
    lang = view.lang

    def num(v):
        return t("suppressed", lang) if pd.isna(v) else numbers.integer(v, lang)

    return dbc.Table([
        html.Caption(t("ret_summary", lang), className="small"),
        html.Thead(html.Tr([html.Th(t("ret_centre", lang), scope="col"), html.Th(t("ret_count_before", lang), scope="col"),
                            html.Th(t("ret_rate_before", lang), scope="col"), html.Th(t("ret_count_after", lang), scope="col"),
                            html.Th(t("ret_rate_after", lang), scope="col")])),
        html.Tbody([html.Tr([html.Th(r.centre, scope="row", className="fw-normal",
                                     style={"fontWeight": 700} if r.producer_id == view.centre else None),
                             html.Td(num(r.count_before)), html.Td(_fmt(r.rate_before, 1, lang)),
                             html.Td(num(r.count_after)), html.Td(_fmt(r.rate_after, 1, lang))])
                    for r in summary.itertuples(index=False)]),
    ], size="sm", className="small mb-0", id="ret-summary-table")


@callback(*api_link_outputs(R.CHARTS, "ret-"), Input("ret-view", "data"), State("ret-url", "search"))
def draw_api_links(data, search):
    """Each chart's API address in its download menu (:func:`atlas.layout_parts.api_link_values`, in
    :data:`atlas.returns.CHARTS`' order): the address its CSV download carries, for the view on screen."""
    return api_link_values(R.CHARTS, None if data is None else current_view(data, search), page_views.returns_url)


# ---------------------------------------------------------------- downloads

@callback(Output({"type": "ret-download", "chart": MATCH}, "data"),
          Input({"type": "ret-download-btn", "chart": MATCH}, "n_clicks"),
          State("ret-view", "data"), State("ret-url", "search"), prevent_initial_call=True)
def download(n_clicks, data, search):
    if not n_clicks or data is None:
        return no_update
    chart = ctx.triggered_id.get("chart") if isinstance(ctx.triggered_id, dict) else None
    if chart not in R.CHARTS:
        raise guard.BadInput("Unknown chart.")
    content, filename = R.chart_csv(chart, current_view(data, search))
    return dcc.send_bytes(content, filename)
