"""The spine chart of an area profile as an HTML table (Fingertips style): per measure the area's
count and value with its interval, its region, Denmark, and a bar of the range of all areas with the
middle half darker, Denmark's line at the centre, the region as a diamond and the area as a dot
coloured by the comparison with Denmark. Plain HTML and CSS, so it prints exactly as it shows.
"""
from __future__ import annotations

import math

import pandas as pd
from dash import html

from atlas.data.domain import status_word
from atlas.findings import number
from atlas.i18n import t
from atlas.profile import compared

MARKER_CLASS = {"higher": "spine-higher", "lower": "spine-lower", "similar": "spine-similar", "hidden": "spine-hidden",
                "not_tested": "spine-hidden"}


def spine_positions(row: pd.Series | dict) -> dict[str, float]:
    """Left positions (0-100 %) on a row's spine: Denmark at 50, the scale set by the farthest of
    the lowest, highest, area and region values from Denmark (as in Fingertips' spine charts)."""
    centre = row.get("denmark")
    if centre is None or math.isnan(centre):
        lo, hi = row.get("lowest"), row.get("highest")
        centre = (lo + hi) / 2 if lo is not None and hi is not None and not math.isnan(lo + hi) else math.nan
    values = {k: row.get(k) for k in ("lowest", "q1", "q3", "highest", "value", "region")}
    reach = max([abs(v - centre) for v in values.values() if v is not None and not math.isnan(v)] + [0.0])
    if math.isnan(centre) or reach == 0:
        return {k: 50.0 for k in values} | {"denmark": 50.0}
    half = reach * 1.04
    return {k: (50 + 50 * (v - centre) / half) if v is not None and not math.isnan(v) else math.nan
            for k, v in values.items()} | {"denmark": 50.0}


def _bar(left: float, right: float, cls: str) -> html.Div | None:
    if math.isnan(left) or math.isnan(right):
        return None
    return html.Div(className=cls, style={"left": f"{left:.2f}%", "width": f"{max(right - left, 0.4):.2f}%"})


def _dot(pos: float, cls: str, title: str) -> html.Div | None:
    if math.isnan(pos):
        return None
    return html.Div(className=cls, style={"left": f"{pos:.2f}%"}, title=title)


def spine_cell(row: pd.Series, lang: str, area_name: str, region_name: str | None) -> html.Div:
    p = spine_positions(row)
    verdict = compared(row["flag"])
    parts = [_bar(p["lowest"], p["highest"], "spine-range"), _bar(p["q1"], p["q3"], "spine-iqr"),
             html.Div(className="spine-centre", style={"left": "50%"}),
             _dot(p["region"], "spine-region", f"{region_name}: {number(row.get('region'), lang)}") if region_name else None,
             _dot(p["value"], f"spine-area {MARKER_CLASS[verdict]}" + (" spine-strong" if row["flag"] in ("high_998", "low_998") else ""),
                  f"{area_name}: {number(row['value'], lang)} · {t('cmp_' + verdict, lang)}")]
    return html.Div([x for x in parts if x is not None], className="spine", role="img",
                    **{"aria-label": f"{row['name']}: {t('cmp_' + verdict, lang)}"})


def spine_table(spine: pd.DataFrame, lang: str, area_name: str, region_name: str | None) -> html.Table:
    heads = ["col_measure", "col_count", "col_value"] + (["col_region"] if region_name else []) + \
            ["col_denmark", "col_lowest", "col_spine", "col_highest"]
    rows = []
    for _, r in spine.iterrows():
        name = [r["name"]] + ([html.Span(" *", title=t("incomplete_mark", lang), className="text-muted")]
                              if r["incomplete"] else [])
        if not r["published"]:
            cells = [html.Th(name, scope="row", className="fw-normal"),
                     html.Td(t("not_published_here", lang), colSpan=len(heads) - 1, className="text-muted small")]
            rows.append(html.Tr(cells, className="spine-row spine-unpublished"))
            continue
        digits = 1
        value = (html.Span(status_word(r.get("status"), lang) or t("suppressed", lang), className="text-muted")
                 if r["flag"] == "hidden" else
                 [html.B(number(r["value"], lang, digits)),
                  html.Span(f" ({number(r['lower'], lang, digits)}–{number(r['upper'], lang, digits)})", className="small")])
        cells = [html.Th(name, scope="row", className="fw-normal"),
                 html.Td(number(r["count"], lang, 0), className="text-end"),
                 html.Td(value, className="text-nowrap")]
        if region_name:
            cells.append(html.Td(number(r["region"], lang, digits), className="text-end"))
        cells += [html.Td(number(r["denmark"], lang, digits), className="text-end"),
                  html.Td(number(r["lowest"], lang, digits), className="text-end"),
                  html.Td(spine_cell(r, lang, area_name, region_name), className="spine-cell"),
                  html.Td(number(r["highest"], lang, digits))]
        rows.append(html.Tr(cells, className=f"spine-row spine-row-{compared(r['flag'])}", **{"data-measure": r["measure"]}))
    return html.Table([html.Thead(html.Tr([html.Th(t(h, lang), scope="col") for h in heads])), html.Tbody(rows)],
                      className="table table-sm spine-table", id="spine-table")


def spine_legend(lang: str, area_name: str, region_name: str | None) -> html.Div:
    items = [(f"spine-area {MARKER_CLASS[k]}", t(f"cmp_{k}", lang)) for k in ("higher", "similar", "lower")]
    if region_name:
        items.append(("spine-region", region_name))
    items.append(("spine-centre", t("col_denmark", lang)))
    return html.Div([html.Span([html.Span(className=f"legend-swatch {cls}"), text], className="me-3 text-nowrap")
                     for cls, text in items], className="small spine-legend mb-2")
