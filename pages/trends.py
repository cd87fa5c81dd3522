"""All trends at once (``/trends``): small multiples of every area's single-year trend for one
measure, ordered by level or by change, each panel framed where the change over the period is
beyond chance between the two years the reader compares (``from`` and ``to``; by default the first
and last complete years). The view (measure, level, order, scale, years, selected area) is in the URL
hash."""
from __future__ import annotations

from urllib.parse import parse_qs, urlencode

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html

from atlas import all_trends, data, db
from atlas.findings import number
from atlas.i18n import label, t
from atlas.layout_parts import control, dropdown, lang_of
from atlas.measures import MEASURES
from atlas.page_meta import title_of
from atlas.profile_figures import small_multiples
from atlas.state import click_code
from atlas.static import GRAPH_CONFIG

dash.register_page(__name__, path="/trends", name="All trends", title=title_of("/trends"))

LEVELS = ("municipality", "region")
DEFAULT = {"measure": "imaging_rate", "level": "municipality", "order": "level", "scale": "shared"}
SCALES = ("shared", "own")       # one value scale for every panel, or each panel its own


def read_hash(hash_) -> dict:
    """measure, level, order and area from the URL hash, each checked against what the page offers."""
    raw = {k: v[-1] for k, v in parse_qs((hash_ or "").lstrip("#")[:500]).items()}
    out = dict(DEFAULT, area=None, **{"from": None, "to": None})
    if raw.get("measure") in MEASURES:
        out["measure"] = raw["measure"]
    if raw.get("level") in LEVELS:
        out["level"] = raw["level"]
    if raw.get("order") in all_trends.ORDERS:
        out["order"] = raw["order"]
    if raw.get("scale") in SCALES:
        out["scale"] = raw["scale"]
    for key in ("from", "to"):           # the compared years (checked against the data when drawn)
        if str(raw.get(key, "")).isdigit() and int(raw[key]) in data.years():
            out[key] = int(raw[key])
    if str(raw.get("area", "")).isdigit() and int(raw["area"]) in db.level_codes().get(out["level"], set()):
        out["area"] = int(raw["area"])
    return out


def write_hash(state: dict) -> str:
    keep = {k: v for k, v in state.items() if v is not None and DEFAULT.get(k) != v}
    return "#" + urlencode(keep) if keep else ""


def layout(lang: str | None = None, **_):
    lang = lang_of(lang)
    years = [{"label": str(y), "value": y} for y in data.years()]
    return html.Main([
        dcc.Location(id="trends-url", refresh=False),
        html.H1(t("tr_title", lang), className="h4"),
        dbc.Row([
            dbc.Col(control(t("measure", lang), dropdown(lang,
                id="trends-measure", options=[{"label": MEASURES[k].name(lang), "value": k} for k in data.source().measures()],
                value=DEFAULT["measure"], clearable=False)), md=5),
            dbc.Col(control(t("level", lang), dbc.RadioItems(id="trends-level", name="trends-level", value=DEFAULT["level"], inline=True,
                                                          options=[{"label": label("level", k, lang), "value": k} for k in LEVELS])), md=4),
            dbc.Col(control(t("tr_order", lang), dbc.RadioItems(id="trends-order", name="trends-order", value=DEFAULT["order"], inline=True, options=[
                {"label": t(f"tr_by_{k}", lang), "value": k} for k in all_trends.ORDERS])), md=3),
            dbc.Col(control(t("tr_scale", lang), dbc.RadioItems(id="trends-scale", name="trends-scale", value=DEFAULT["scale"],
                                                             inline=True, options=[{"label": t(f"tr_scale_{k}", lang), "value": k}
                                                                                   for k in SCALES])), md=6),
            dbc.Col(control(t("tr_from", lang), dropdown(lang, id="trends-from", options=years, value=None,
                                                         clearable=True, searchable=False,
                                                         placeholder=t("tr_first_complete", lang))), xs=12, sm=6, md=3),
            dbc.Col(control(t("tr_to", lang), dropdown(lang, id="trends-to", options=years, value=None,
                                                       clearable=True, searchable=False,
                                                       placeholder=t("tr_last_complete", lang))), xs=12, sm=6, md=3),
        ], className="g-2 d-print-none"),
        html.Div(id="trends-notice", **{"aria-live": "polite"}),
        html.P(id="trends-summary", className="mb-1", **{"aria-live": "polite"}),
        html.P(id="trends-note", className="small text-muted"),
        # on a phone the grid keeps a readable width and scrolls sideways in its own (keyboard-reachable) box
        html.Small(t("tr_scroll_hint", lang), className="text-muted d-md-none"),
        html.Div(dcc.Loading(dcc.Graph(id="trends-grid", config={**GRAPH_CONFIG, "displayModeBar": False})),
                 className="wide-chart", tabIndex=0, role="region", **{"aria-label": t("tr_title", lang)}),
    ], id="main-content", lang=lang)


@callback(Output("trends-url", "hash"), Output("trends-measure", "value"), Output("trends-level", "value"),
          Output("trends-order", "value"), Output("trends-scale", "value"), Output("trends-from", "value"),
          Output("trends-to", "value"), Output("trends-notice", "children"),
          Input("trends-url", "hash"), Input("trends-measure", "value"), Input("trends-level", "value"),
          Input("trends-order", "value"), Input("trends-scale", "value"), Input("trends-from", "value"),
          Input("trends-to", "value"), Input("trends-grid", "clickData"),
          State("trends-url", "search"))
def sync(hash_, measure, level, order, scale, first, last, click, search=None):
    """The URL hash and the controls kept in step; a click on a panel selects (or clears) its area.
    A measure or level whose single years the source does not publish moves to the nearest that it
    does (:func:`atlas.all_trends.nearest`), and a notice says what changed."""
    state = read_hash(hash_ if isinstance(hash_, str) else "")
    if ctx.triggered_id not in (None, "trends-url"):
        proposed = write_hash({**state, "measure": measure, "level": level, "order": order, "scale": scale,
                               "from": first, "to": last})
        state = read_hash(proposed) | ({"area": state["area"]} if level == state["level"] else {})
        if ctx.triggered_id == "trends-grid":
            code = click_code(click)
            state["area"] = None if code == state["area"] else code
    m, lvl, changed = all_trends.nearest(state["measure"], state["level"])
    if lvl != state["level"]:
        state["area"] = None
    state.update(measure=m, level=lvl)
    from atlas import notices

    lang = lang_of(search if isinstance(search, str) else "")
    notice = notices.not_published(changed, lang) if changed else None
    return (write_hash(state), state["measure"], state["level"], state["order"], state["scale"], state["from"],
            state["to"], notice)


@callback(Output("trends-grid", "figure"), Output("trends-summary", "children"), Output("trends-note", "children"),
          Input("trends-url", "hash"), State("trends-url", "search"))
def draw(hash_, search):
    state = read_hash(hash_ if isinstance(hash_, str) else "")
    lang = lang_of(search if isinstance(search, str) else "")
    frame, national, order, names, change, years = all_trends.small_multiples_data(
        state["measure"], state["level"], state["order"], state["from"], state["to"])
    verdicts = dict(zip(change["code"].astype(int), change["verdict"].astype(int)))
    fig = small_multiples(frame, national, order, names, verdicts, lang,
                          selected={state["area"]} if state["area"] else set(),
                          cols=7 if state["level"] == "municipality" else 5, shared=state["scale"] == "shared",
                          compared=years)
    summary, note = _summary(change, national, years, lang, state["measure"])
    asked = (state["from"], state["to"])
    if years is not None and any(a is not None and a != b for a, b in zip(asked, years)):
        note = t("tr_period_fixed", lang).format(y0=years[0], y1=years[1]) + " " + note
    return fig, summary, note


def _summary(change, national, years: tuple[int, int] | None, lang: str, measure: str = "") -> tuple[str, str]:
    """How many areas rose and fell beyond chance, and Denmark's first and last value; the note on the
    period. Empty when there is no period to compare."""
    if years is None:
        return "", ""
    y0, y1 = years
    summary = t("tr_summary", lang).format(rose=int((change["verdict"] == 1).sum()), fell=int((change["verdict"] == -1).sum()),
                                           y0=y0, y1=y1, n=len(change))
    dk = national.set_index("year")["value"]
    if y0 in dk and y1 in dk:
        summary += f" {t('denmark_total', lang)}: {number(dk[y0], lang)} → {number(dk[y1], lang)}."
    return summary, t("tr_note", lang).format(y0=y0, y1=y1) + _break_note(measure, y0, y1, lang)


def _break_note(measure: str, y0: int, y1: int, lang: str) -> str:
    from atlas import coverage

    return coverage.comparison_note(measure, y0, y1, lang)

