"""The pathways page's two HTML tables (the pathways by referrer and modality, and every area's
measures), each written as one string (:mod:`atlas.raw_html`): hundreds of cells, one component."""
from __future__ import annotations

import pandas as pd

from atlas import coverage, numbers
from atlas.filters import View
from atlas.i18n import label, t
from atlas.measures import MEASURES
from atlas.pathways.constants import AREA_MEASURES, COLUMNS
from atlas.raw_html import Markup, el


def pathway_table(tbl: pd.DataFrame, lang: str) -> Markup:
    """Referrer x modality rows (and all episodes): episodes, then each outcome's count and share."""
    head = el("thead",
              el("tr", el("th", label("dimension", "referrer", lang), scope="col", rowspan=2),
                 el("th", label("dimension", "modality", lang), scope="col", rowspan=2),
                 el("th", t("pw_episodes", lang), scope="col", rowspan=2),
                 *[el("th", label("outcome", o, lang), scope="colgroup", colspan=2, cls="text-center") for o in COLUMNS]),
              el("tr", *[el("th", x, scope="col", cls="text-end") for _ in COLUMNS for x in ("n", "%")]))
    rows = []
    for i, r in enumerate(tbl.itertuples(index=False)):
        cells = [el("th", r.referrer, scope="row", cls="fw-normal"), el("td", r.modality),
                 el("td", numbers.integer(r.episodes, lang), cls="text-end")]
        for o in COLUMNS:
            n, s = getattr(r, f"{o}_count"), getattr(r, f"{o}_share")
            count = (numbers.integer(n, lang) if not pd.isna(n)
                     else el("span", t("hidden", lang).lower(), title=t("suppressed", lang)))
            cells += [el("td", count, cls="text-end"), el("td", numbers.percent(s, 1, lang), cls="text-end")]
        rows.append(el("tr", *cells, cls="fw-semibold border-top" if i == len(tbl) - 1 else None))
    return el("table", head, el("tbody", *rows), id="pw-pathway-table",
              cls="table table-sm table-striped small mb-0")


def area_table(tbl: pd.DataFrame, view: View) -> Markup:
    """Every area at the view's level (Denmark first): each measure's value and interval, or hidden."""
    lang = view.lang
    lookup = {(c, k): (h, v, lo, hi) for c, k, h, v, lo, hi in
              zip(tbl["code"], tbl["measure"], tbl["hidden"], tbl["value"], tbl["lower"], tbl["upper"])}

    def cell(code, key) -> Markup:
        hit = lookup.get((code, key))
        if hit is None or bool(hit[0]) or pd.isna(hit[1]):
            return el("td", t("hidden", lang), cls="text-muted text-end")
        _, v, lo, hi = hit
        return el("td", f"{numbers.decimal(v, 1, lang)} ({numbers.decimal(lo, 1, lang)}–{numbers.decimal(hi, 1, lang)})",
                  cls="text-end")

    def incomplete(k) -> str:
        years = coverage.in_view(coverage.incomplete_years(k), view.y0, view.y1)
        return f" · {t('incomplete', lang)}: {', '.join(str(y) for y in years)}" if years else ""

    codes = list(dict.fromkeys(tbl["code"]))
    names = dict(zip(tbl["code"], tbl["name"]))
    head = el("thead", el("tr", el("th", t("pw_area_col", lang), scope="col"), *[
        el("th", MEASURES[k].name(lang) + (f" ({t('per_1000', lang)})" if MEASURES[k].kind == "rate" else " (%)")
           + incomplete(k), scope="col", cls="text-end") for k in AREA_MEASURES]))
    rows = [el("tr", el("th", names[c], scope="row", cls="fw-normal"), *[cell(c, k) for k in AREA_MEASURES],
               cls="table-warning" if c == view.area else ("fw-semibold" if c == 0 else None))
            for c in codes]
    return el("table", head, el("tbody", *rows), id="pw-area-table", cls="table table-sm table-striped small mb-0")
