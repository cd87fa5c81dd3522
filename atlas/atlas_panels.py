"""The atlas page's text panels: the variation statistics, the selected area's value, the clusters.

Components only; the page's callbacks (:mod:`pages.atlas`) decide when to draw them."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from atlas import clusters, colours, db, figures, numbers, queries
from atlas.cache import cached
from atlas.filters import View
from atlas.i18n import t


def search_options(lang: str) -> list[dict]:
    """The search box's options: every municipality (choosing one selects it), then every region
    (choosing one shows its municipalities, as a click on the region map does), so the keyboard can
    do what a click can."""
    a = db.areas()
    mun = a[a.level == "municipality"].sort_values("name")
    regions = a[a.level != "municipality"].drop_duplicates("code").sort_values("name")
    return ([{"label": str(n), "value": int(c)} for c, n in zip(mun.code, mun.name)]
            + [{"label": t("region_option", lang).format(name=n), "value": int(c)} for c, n in zip(regions.code, regions.name)])


def variation_panel(tbl, national, m, lang: str):
    """The variation statistics with a line on what each means; rows that cannot be computed say so."""
    var = queries.variation(tbl)
    fmt = lambda v: numbers.decimal(v, 2, lang)            # noqa: E731
    scv = var.get("scv")
    rows = [(t("eq", lang), var.get("extremal_quotient")), (t("eq_min", lang), var.get("extremal_quotient_min_count")),
            (t("cv", lang), var.get("coefficient_of_variation")),
            (t("scv", lang), scv * 100 if scv is not None else None)]
    n_out = int(tbl["flag"].isin(["high_998", "low_998"]).sum())
    notes = [html.P(t("eq_help", lang), className="small text-muted mb-1"),
             html.P(t("scv_help", lang), className="small text-muted mb-1")]
    if not var:
        notes.insert(0, html.P(t("variation_few", lang), className="small mb-1", id="variation-few"))
    if scv is not None and scv < 0:
        notes.append(html.P(t("scv_negative", lang), className="small mb-1", id="scv-negative"))
    return html.Div([
        html.Table([html.Tbody([html.Tr([html.Th(k, scope="row", className="fw-normal"), html.Td(fmt(v))])
                                for k, v in rows] + [html.Tr([html.Th(t("outliers", lang), scope="row", className="fw-normal"),
                                                             html.Td(numbers.integer(n_out, lang))])])],
                   className="table table-sm"),
        *notes,
        html.P(f"{t('national', lang)}: {numbers.decimal(national['value'], 1, lang)} "
               f"({numbers.decimal(national['lower'], 1, lang)}–{numbers.decimal(national['upper'], 1, lang)}) "
               f"{figures.unit(m, lang)}", className="small mb-0"),
    ])


def selection_text(view: View, tbl, m):
    lang = view.lang
    if view.area is None:
        return html.Span(t("none_selected", lang), className="text-muted")
    row = tbl[tbl["code"] == view.area]
    if row.empty:
        a = db.areas()
        name = a[(a.code == view.area)].name.iloc[0] if (a.code == view.area).any() else str(view.area)
        return html.Span([html.B(name)])
    r = row.iloc[0]
    if r["hidden"]:
        return html.Span([html.B(r["name"]), f": {t('suppressed', lang)}"])
    return html.Span([html.B(r["name"]), f": {numbers.decimal(r['value'], 1, lang)} {figures.unit(m, lang)} "
                      f"({numbers.decimal(r['lower'], 1, lang)}–{numbers.decimal(r['upper'], 1, lang)}) · {t(r['flag'], lang)}"])


def find_clusters_button(lang: str):
    """The button that asks for the spatial clusters (hidden once they are shown)."""
    return dbc.Button(t("cluster_find", lang), id="find-clusters", n_clicks=0, size="sm", color="primary", outline=True,
                      className="mt-2")


def clusters_or_offer(view: View, asked: bool):
    """(panel, button class): the clusters when asked for or when the map is coloured by them; else what
    they are. Permutation tests take a moment, so a change of view does not compute them unasked."""
    if asked or view.colours == "cluster":
        return cluster_panel(view), "d-none"
    perm = numbers.integer(int(clusters.config()["permutations"]["n"]), view.lang)
    return html.P(t("cluster_offer", view.lang).format(perm=perm), className="small text-muted mb-0",
                  id="cluster-offer"), "mt-2"


@cached(maxsize=128)
def cluster_panel(view: View):
    """Global Moran's I (values shown, standardised and smoothed rates) and the significant local clusters."""
    lang = view.lang
    tbl, summary = clusters.cluster_table(view)
    rows = []
    for key, name in (("view", "moran_view"), ("standardised", "moran_std"), ("smoothed", "moran_smooth")):
        g = summary.get(key)
        if g:
            p = g["p_value"]
            rows.append(html.Tr([html.Th(f"{t('moran_global', lang)}, {t(name, lang)}", scope="row", className="fw-normal"),
                                 html.Td(f"I = {numbers.decimal(g['I'], 2, lang)}"),
                                 html.Td(f"p {'≤' if p <= 2 / (g['permutations'] + 1) else '='} {numbers.decimal(p, 4, lang)}")]))
    groups = clusters.hot_and_cold(view)
    items = [html.Li([html.Span("■ ", style={"color": colours.config()["clusters"][k]}, **{"aria-hidden": "true"}),
                      html.B(t("cl_" + k.replace("-", "_"), lang) + ": "), ", ".join(v)], className=f"cluster-{k}")
             for k, v in groups.items() if v]
    parts = [html.Table(html.Tbody(rows), className="table table-sm mb-2")] if rows else []
    parts.append(html.Ul(items, className="list-unstyled mb-1", id="cluster-list") if items
                 else html.P(t("cluster_none", lang), className="mb-1", id="cluster-list"))
    if view.level != "municipality":
        parts.insert(0, html.P(t("cluster_level", lang), className="small text-muted mb-1"))
    parts.append(html.P(t("cluster_help", lang).format(perm=numbers.integer(summary["permutations"], lang),
                                                        alpha=numbers.percent(100 * summary["alpha"], 0, lang)),
                        className="small text-muted mb-0"))
    return html.Div(parts)
