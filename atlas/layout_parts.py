"""Small building blocks shared by the pages: labelled controls, chart cards with downloads."""
from __future__ import annotations

from urllib.parse import parse_qs

import dash_bootstrap_components as dbc
from dash import dcc, html

from atlas.i18n import LANGS, t


def lang_of(value) -> str:
    """The language from a ``lang`` value or a query string (``?lang=da``); English otherwise."""
    if isinstance(value, str) and value.startswith("?"):
        value = (parse_qs(value[1:]).get("lang") or ["en"])[-1]
    return value if value in LANGS else "en"


def control(title: str, component, help_text: str | None = None) -> html.Div:
    """A control with a visible label tied to it (for screen readers too)."""
    cid = component.id if isinstance(component.id, str) else None
    lab = (html.Label(title, htmlFor=cid, className="form-label small fw-semibold mb-1") if cid
           else html.Div(title, className="form-label small fw-semibold mb-1"))
    if not cid:
        # pattern-matching ids cannot be referenced by htmlFor; name the group instead
        return html.Div([lab, component] + ([html.Small(help_text, className="text-muted")] if help_text else []),
                        className="mb-2", role="group", **{"aria-label": title})
    return html.Div([lab, component] + ([html.Small(help_text, className="text-muted")] if help_text else []),
                    className="mb-2")


def dim_options(key: str, lang: str) -> list[dict]:
    """Options of a population-group or imaging filter: "All", then each code with its name."""
    from atlas.filters import DIMENSIONS
    from atlas.i18n import label

    return [{"label": t("all", lang), "value": "all"}] + [
        {"label": v if key == "age" else label(key, v, lang), "value": str(v)} for v in DIMENSIONS[key][1]]


def page_frame(url_id: str, store_id: str, sidebar, main) -> html.Div:
    """A page with its own location (its state lives in the URL hash), its view store, and the
    sidebar of controls beside the main column."""
    return html.Div([
        dcc.Location(id=url_id, refresh=False),
        dcc.Store(id=store_id, data=None),
        dbc.Row([dbc.Col(sidebar, lg=3, md=4), dbc.Col(main, lg=9, md=8)], className="g-3"),
    ])


def chart_card(chart: str, title: str, lang: str, body, extra: list | None = None, png: bool = False,
               prefix: str = "") -> html.Section:
    """A titled card with a loading indicator and a CSV download of exactly what the chart shows.

    ``prefix`` keeps the ids of one page's cards apart from another's (``pw-download-btn``, ...).
    """
    buttons = [dbc.Button(t("download_csv", lang), id={"type": f"{prefix}download-btn", "chart": chart}, size="sm",
                          color="primary", outline=True, className="ms-2",
                          title=f"{t('download_csv', lang)}: {title}"),
               dcc.Download(id={"type": f"{prefix}download", "chart": chart})]
    header = dbc.CardHeader(html.Div([html.H2(title, className="h6 mb-0 flex-grow-1"), *buttons],
                                     className="d-flex align-items-center"))
    hint = [html.Small("PNG: " + t("download_png", lang) + " (camera icon above the map)", className="text-muted d-block")] if png else []
    card = dbc.Card([header, dbc.CardBody([dcc.Loading(body, type="circle", delay_show=150), *(extra or []), *hint])],
                    className="h-100", id=f"{prefix}card-{chart}")
    # a named region, so screen-reader users can jump between the linked views
    return html.Section(card, className="h-100", role="region", **{"aria-label": title})


def html_table(frame, caption: str, lang: str, max_rows: int = 500) -> html.Div:
    """A data frame as an accessible table: a titled, focusable, scrollable region holding a real
    HTML table with column headers. Rendered from one Markdown component (a table of a thousand
    Dash cells stalls the browser; one component does not)."""
    import math

    def cell(v) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "–"
        if isinstance(v, float):
            text = f"{v:,.2f}"
            if lang == "da":
                text = text.replace(",", "\u00a0").replace(".", ",")
        else:
            text = str(v)
        return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ") or " "

    rows = frame.head(max_rows)
    header = "| " + " | ".join(cell(str(c)) for c in rows.columns) + " |"
    rule = "|" + "|".join(" --- " for _ in rows.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows.itertuples(index=False)]
    return html.Div([html.H3(caption, className="h6 mb-1"),
                     dcc.Markdown("\n".join([header, rule, *body]), className="table-md")],
                    className="table-view mt-2", tabIndex=0, role="region", **{"aria-label": caption})
