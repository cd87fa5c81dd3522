"""Small building blocks shared by the pages: labelled controls, chart cards with downloads."""
from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs

import dash_bootstrap_components as dbc
from dash import ALL, MATCH, Input, Output, clientside_callback, dcc, html, no_update

from atlas import numbers
from atlas.export import _words, csv_separator  # noqa: F401  (csv_separator: importable from here as before)
from atlas.i18n import LANGS, t
from atlas.state import period_value  # noqa: F401  (importable from here as before)


def lang_of(value) -> str:
    """The language from a ``lang`` value or a query string (``?lang=da``); English otherwise."""
    if isinstance(value, str) and value.startswith("?"):
        value = (parse_qs(value[1:]).get("lang") or ["en"])[-1]
    return value if value in LANGS else "en"


DROPDOWN_TEXTS = ("select_all", "deselect_all", "selected_count", "search", "clear_search", "clear_selection",
                  "no_options_found")


def dropdown(lang: str, **kw) -> dcc.Dropdown:
    """A ``dcc.Dropdown`` whose own texts (the clear button's tooltip, "No options found", ...) are
    in the page's language; Dash writes them in English unless told."""
    return dcc.Dropdown(labels={k: t("dd_" + k, lang) for k in DROPDOWN_TEXTS}, **kw)


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


def year_control(cid: str, lang: str, y0: int, y1: int):
    """The year control: a range slider where the source answers any range of years (the secure
    database); else a list of exactly the periods it publishes (every single year, then the
    longer periods), which the mouse and the keyboard reach one by one (a range slider between
    published periods cannot reach a single year from another single year in one move)."""
    from dash import dcc

    from atlas import data

    src = data.source()
    if src.any_range:
        years = src.years()
        return dcc.RangeSlider(id=cid, min=years[0], max=years[-1], step=1, value=[y0, y1], allowCross=True,
                               marks=year_marks(years), tooltip={"placement": "bottom", "always_visible": False})
    options = [{"label": f"{a}–{b}" if a != b else str(a), "value": period_value(a, b)} for a, b in src.year_choices()]
    return dcc.Dropdown(id=cid, options=options, value=period_value(y0, y1), clearable=False, searchable=True,
                        className="year-periods")


def year_marks(years: list[int]) -> dict:
    """Slider marks that never overlap: the first and last year and every fifth year between, no
    closer than three years to the ends (the slider still steps one year at a time)."""
    if not years:
        return {}
    first, last = years[0], years[-1]
    keep = {first, last} | {y for y in years if y % 5 == 0 and y - first >= 3 and last - y >= 3}
    return {y: {"label": str(y)} for y in sorted(keep)}


def separator_control(cid: str, lang: str):
    """The CSV separator choice. In Danish the CSV files are always Danish Excel's (semicolons,
    decimal comma): the choice is kept (hidden) so the page's state keeps its shape, and a note says so."""
    radio = dbc.RadioItems(id=cid, name=cid, value=",", inline=True, options=[
        {"label": t("comma", lang), "value": ","}, {"label": t("semicolon", lang), "value": ";"}])
    if lang == "da":
        return html.Div([html.Div(radio, className="d-none"),
                         html.Small(t("csv_format", lang), className="text-muted d-block mb-2")])
    return control(t("separator", lang), radio)


def page_frame(url_id: str, store_id: str, sidebar, main) -> html.Div:
    """A page with its own location (its state lives in the URL hash), its view store, and the
    sidebar of controls beside the main column."""
    return html.Div([
        dcc.Location(id=url_id, refresh=False),
        dcc.Store(id=store_id, data=None),
        # on a phone the charts come first (a link jumps to the settings below them)
        dbc.Row([dbc.Col(sidebar, lg=3, md=4, id=f"{store_id}-settings", className="order-2 order-md-1"),
                 dbc.Col(main, lg=9, md=8, className="order-1 order-md-2")], className="g-3"),
    ])


def chart_card(chart: str, title: str, lang: str, body, extra: list | None = None,
               prefix: str = "", images: bool = True, api: str | None = None) -> html.Section:
    """A titled card with a loading indicator, PNG and SVG downloads of its chart (``images``) and a
    CSV download of exactly what the chart shows.

    ``prefix`` keeps the ids of one page's cards apart from another's (``pw-download-btn``, ...).
    The images are the chart as drawn, with its own title and source (:mod:`atlas.titles`).
    ``api``: the open-data API's address of the chart's figures (for a chart the API serves): the
    CSV button gets a menu that shows it (:func:`api_menu`), kept up to date by the page.
    """
    csv_button = dbc.Button(t("download_csv", lang), id={"type": f"{prefix}download-btn", "chart": chart}, size="sm",
                            color="primary", outline=True, className="" if api is not None else "ms-2",
                            title=f"{t('download_csv', lang)}: {title}")
    if api is not None:
        csv_button = dbc.ButtonGroup([csv_button, api_menu(chart, title, lang, api, prefix)], size="sm",
                                     className="ms-2")
    buttons = [csv_button, dcc.Download(id={"type": f"{prefix}download", "chart": chart})]
    if images:
        buttons = [dbc.Button(t(f"download_{fmt}_short" if fmt == "png" else "download_svg", lang),
                              id={"type": "img-btn", "page": prefix, "chart": chart, "fmt": fmt}, size="sm",
                              color="secondary", outline=True, className="ms-2",
                              title=f"{t('download_image_of', lang)} ({fmt.upper()}): {title}")
                   for fmt in ("png", "svg")] + buttons + [
                       dcc.Store(id={"type": "img-done", "page": prefix, "chart": chart})]
    header = dbc.CardHeader(html.Div([html.H2(title, className="h6 mb-0 flex-grow-1"), *buttons],
                                     className="d-flex align-items-center flex-wrap gap-1"))
    card = dbc.Card([header, dbc.CardBody([dcc.Loading(body, type="circle", delay_show=150), *(extra or [])])],
                    className="h-100", id=f"{prefix}card-{chart}")
    # a named region, so screen-reader users can jump between the linked views
    return html.Section(card, className="h-100", role="region", **{"aria-label": title})


def api_link_id(chart: str, prefix: str = "") -> str:
    """The id of the link in ``chart``'s download menu that shows its API address (plain ids, so the
    page's callback that keeps them up to date is an ordinary one)."""
    return f"{prefix}api-link-{chart}"


def api_link_outputs(charts: tuple[str, ...], prefix: str = "") -> list[Output]:
    """The outputs of the page callback that keeps its charts' API addresses up to date: the href and
    the text of each chart's menu link (:func:`api_link_id`), in ``charts``' order; their values are
    :func:`api_link_values`. One shape for the atlas page, /pathways and /returns."""
    return [Output(api_link_id(chart, prefix), part) for chart in charts for part in ("href", "children")]


def api_link_values(charts: tuple[str, ...], view, address: Callable[[str, object], str]) -> list | tuple:
    """The values of :func:`api_link_outputs`: each chart's API address ``address(chart, view)`` (the
    address its CSV download carries) as the link's href and text; while the page's ``view`` has not
    arrived (None), nothing changes."""
    if view is None:
        return (no_update,) * (2 * len(charts))
    return [a for chart in charts for a in (address(chart, view),) * 2]


def api_menu(chart: str, title: str, lang: str, address: str, prefix: str = "") -> dbc.DropdownMenu:
    """The download menu's API part: the address of the same figures in the open-data API (the
    address the chart's CSV carries), as a link whose text is the address itself."""
    return dbc.DropdownMenu(
        # a plain line, not DropdownMenuItem(header=True): that one is a role="heading" without a level (axe)
        [html.Div(t("api_menu_head", lang), className="px-3 pt-1 pb-1 small fw-semibold"),
         html.Div(html.A(address, href=address, id=api_link_id(chart, prefix), className="api-address",
                         target="_blank", rel="noopener"), className="px-3 pb-1"),
         html.Small(t("api_menu_help", lang), className="px-3 text-muted d-block")],
        label=[html.Span("API"), html.Span(f": {t('api_menu_label', lang)} ({title})", className="visually-hidden")],
        id=f"{prefix}api-menu-{chart}", size="sm", color="primary", group=True, align_end=True,
        toggle_class_name="api-toggle", class_name="api-menu")


# The PNG and SVG buttons of every card: Plotly draws the image in the browser from the chart as
# shown (its title carries measure, period, place, filters and source), named by the figure's
# ``layout.meta.filename``.
clientside_callback(
    """
    function (clicks) {
        const dc = window.dash_clientside;
        const id = dc.callback_context.triggered_id;
        if (!id || !clicks || !clicks.some(Boolean) || !window.Plotly) { return dc.no_update; }
        const card = document.getElementById(id.page + 'card-' + id.chart);
        const gd = card && card.querySelector('.js-plotly-plot');
        if (!gd || !gd._fullLayout) { return dc.no_update; }
        const meta = gd.layout && gd.layout.meta;
        const name = (meta && meta.filename) || ('lumbar-imaging-atlas-' + id.chart);
        window.Plotly.downloadImage(gd, {format: id.fmt, filename: name, scale: id.fmt === 'png' ? 2 : 1,
                                         width: gd._fullLayout.width, height: gd._fullLayout.height});
        return Date.now();
    }
    """,
    Output({"type": "img-done", "page": MATCH, "chart": MATCH}, "data"),
    Input({"type": "img-btn", "page": MATCH, "chart": MATCH, "fmt": ALL}, "n_clicks"),
    prevent_initial_call=True,
)


_IDENTIFIER = __import__("re").compile(r"year|code|month|period|_id$|^id$|^y[01]$|^area$|^level$")


def html_table(frame, caption: str, lang: str, max_rows: int = 500) -> html.Div:
    """A data frame as an accessible table: a titled, focusable, scrollable region holding a real
    HTML table with column headers. Rendered from one Markdown component (a table of a thousand
    Dash cells stalls the browser; one component does not)."""
    import math

    import numpy as np

    def cell(v, grouped: bool = False) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "–"
        if isinstance(v, (float, np.floating)):
            text = numbers.decimal(v, 2, lang)
        elif grouped and isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
            text = numbers.integer(v, lang)          # counts as "4.961" in Danish, "4,961" in English
        else:
            text = str(v)
        return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ") or " "

    shown = frame.head(max_rows)
    # whole numbers are grouped in thousands, except identifiers (years, codes, months) which are not amounts
    grouped = [not _IDENTIFIER.search(str(c)) for c in shown.columns]
    rows = _words(shown, lang)
    header = "| " + " | ".join(cell(str(c)) for c in rows.columns) + " |"
    rule = "|" + "|".join(" --- " for _ in rows.columns) + "|"
    body = ["| " + " | ".join(cell(v, g) for v, g in zip(r, grouped)) + " |" for r in rows.itertuples(index=False)]
    return html.Div([html.H3(caption, className="h6 mb-1"),
                     dcc.Markdown("\n".join([header, rule, *body]), className="table-md")],
                    className="table-view mt-2", tabIndex=0, role="region", **{"aria-label": caption})
