"""CSV downloads of exactly what a chart shows, protected as on screen.

The file opens with header rows (the atlas, the chart, the measure and its definition, every
filter, the data and its date, the suppression note and the view's address), a blank row, then
the table. UTF-8 with a byte-order mark so Excel shows æ, ø and å; with the semicolon separator
decimals use a comma, as Danish Excel expects.
"""
from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd

from atlas import coverage, db, data, notices, numbers, queries, static, titles
from atlas.filters import View
from atlas.i18n import label, t
from atlas.layout_parts import csv_separator
from atlas.data.domain import status_words
from atlas.measures import MEASURES
from atlas.state import hash_of


def _cell(x, sep: str, digits: int = 2) -> str:
    return numbers.csv_cell(x, sep, digits)


# codes that appear as values in the tables, written as words in the file
VALUE_KEYS = ("high_998", "high_95", "within", "low_95", "low_998", "not_tested", "hidden", "incomplete")


def _word(v, lang: str):
    if isinstance(v, (bool, np.bool_)):
        return t("yes" if v else "no", lang)
    if isinstance(v, str) and v in VALUE_KEYS:
        return t(v, lang)
    return v


def _words(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Coded values (flags, true/false, before/after) as words of the file's language, and in
    Danish files Danish column names."""
    out = table.copy()
    for c in out.columns:
        if pd.api.types.is_bool_dtype(out[c]) or pd.api.types.is_object_dtype(out[c]) or pd.api.types.is_string_dtype(out[c]):
            out[c] = pd.Series([_word(v, lang) for v in out[c]], index=out.index, dtype=object)
    if "period" in out.columns:
        out["period"] = pd.Series([t(f"ret_{v}", lang) if v in ("before", "after") else v for v in out["period"]],
                                  index=out.index, dtype=object)
    if lang == "da":
        out.columns = [column_label(c, lang) for c in out.columns]
    return out


def column_label(column: str, lang: str) -> str:
    """A CSV column's header in the file's language (English files keep the plain column keys)."""
    if lang != "da":
        return column
    return label("column", column, lang)


def nullable_ints(s: pd.Series) -> pd.Series:
    """Counts as whole numbers for a CSV, a hidden (missing) one as an empty cell."""
    return pd.Series([None if pd.isna(v) else int(v) for v in s], index=s.index, dtype=object)


def filters_text(view: View) -> str:
    """The view's filters in words ("Sex: Women; Referrer: Chiropractor"), or "All"."""
    lang = view.lang
    filters = [f"{label('dimension', k, lang)}: {label(k, v, lang)}" for k, v in view.dims]
    return "; ".join(filters) if filters else t("all", lang)


def csv_header(lang: str, title: str, rows: list[list[str]], page: str, state: str,
               protection: str = "") -> list[list[str]]:
    """The header rows every download opens with: the atlas and the chart, the page's own ``rows``,
    the data and its date, how the figures are protected (with the page's ``protection`` note) and
    the address of the view (``page`` and its ``state`` after the language)."""
    meta = db.meta()
    kind = meta.get("data_kind", "synthetic")
    address = static.PATH_PREFIX + page.lstrip("/") + (f"?lang={lang}" if lang != "en" else "") + state
    return [
        [t("title", lang)],
        [title],
        *rows,
        [t("data_word", lang), t("synthetic_short", lang) if kind == "synthetic" else kind],
        [t("source", lang), titles.source_line(lang, prefix=False)],
        [t("data_date", lang), str(meta.get("built_at", ""))],
        [t("suppression_word", lang), " ".join(filter(None, (data.source().note(lang), protection)))],
        [t("view_word", lang), address],
    ]


def header_rows(view: View, title: str, chart: str | None = None) -> list[list[str]]:
    """The header rows of a download of ``chart`` (None: a table of areas): every item names only
    what the rows apply. The breakdown's rows are the view the source answers it with
    (:meth:`atlas.data.Source.breakdown_view`: on a release no filters and crude rates); groups by
    sex or age band are crude rates there too, and each dimension leaves its own filter out."""
    if chart == "breakdown":
        view = queries.breakdown_view(view)
    m = MEASURES[view.measure]
    lang = view.lang
    rates = {"dsr": t("std_dsr", lang) + f" ({t(view.standard, lang)})", "crude": t("std_crude", lang),
             "eb": t("std_eb", lang)}[view.rates] if m.kind == "rate" else t("share_pct", lang)
    if chart == "breakdown" and m.kind == "rate" and view.rates != "crude":
        rates += "; " + t("breakdown_crude_groups", lang)
    incomplete = coverage.incomplete_years(view.measure)
    rows = [
        [t("measure", lang), m.name(lang)],
        [t("definition", lang), m.definition(lang)],
        [t("years", lang), titles.period(view)],
        [t("complete_years_col", lang), coverage.note(incomplete, lang) if incomplete else t("all_years", lang)],
        [t("level", lang), titles.geography(view, lang)],
        [t("standardise", lang), rates],
        [t("filters", lang), filters_text(view) + ("; " + t("breakdown_own_filter", lang)
                                                    if chart == "breakdown" and view.dims else "")],
    ]
    if view.area is not None:
        rows.append([t("selected_area", lang), f"{titles.area_name(view.area)} ({view.area})"])
    return csv_header(lang, title, rows, "/", hash_of(view, coverage.default_year()))


def write_csv(header: list[list[str]], table: pd.DataFrame, sep: str, lang: str = "en") -> bytes:
    """Header rows, a blank row, the table. In Danish: semicolons and decimal commas whatever ``sep``
    says, Danish column names and words for coded values."""
    sep = csv_separator(sep, lang)
    table = _words(table, lang)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator="\r\n")
    for row in header:
        w.writerow(row)
    w.writerow([])
    w.writerow(list(table.columns))
    for row in table.itertuples(index=False):
        w.writerow([_cell(x, sep) for x in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _public(tbl: pd.DataFrame, lang: str, keys: list[str]) -> pd.DataFrame:
    """Only shown columns; hidden rows keep their name and say why."""
    out = tbl[keys].copy()
    hidden = tbl["hidden"].fillna(True).astype(bool)      # object dtype when an empty table meets Denmark's row
    out["count"] = nullable_ints(tbl["num_shown"])
    out["denominator"] = nullable_ints(tbl["den_shown"])
    for c in ("value", "lower", "upper"):
        out[c] = tbl[c].astype(float)
    if "expected" in tbl:
        out["expected"] = tbl["expected"].astype(float).where(~hidden)
    out["funnel_flag"] = tbl["flag"] if "flag" in tbl else ""
    out["note"] = status_words(tbl, lang)            # what a missing figure is: hidden 1-4, not published, ...
    return out


CHARTS = ("map", "rank", "funnel", "trend", "breakdown", "mix")


def cluster_body(view: View) -> pd.DataFrame:
    """The clusters panel as a table: one row per shown municipality (local Moran's I), then the
    global Moran's I rows (``code`` empty)."""
    from atlas import clusters

    lang = view.lang
    tbl, summary = clusters.cluster_table(view)
    body = tbl.rename(columns={"lag": "neighbours_mean", "I": "local_I"}).copy()
    body["cluster"] = [t("cl_" + c.replace(" ", "_").replace("-", "_"), lang) for c in body["cluster"]]
    rows = []
    for key, name in (("view", "moran_view"), ("standardised", "moran_std"), ("smoothed", "moran_smooth")):
        g = summary.get(key)
        if g:
            rows.append({"code": None, "name": f"{t('moran_global', lang)} ({t(name, lang)})", "value": None,
                         "local_I": g["I"], "p_value": g["p_value"]})
    if rows:
        body = pd.concat([body, pd.DataFrame(rows)], ignore_index=True)
    body["code"] = pd.Series([None if pd.isna(v) else int(v) for v in body["code"]], dtype=object)
    return body


def chart_table(chart: str, view: View) -> tuple[str, pd.DataFrame]:
    """The title and the table of one chart of the atlas page: exactly what it shows (the CSV's
    body, and the table view that is the accessible alternative to the chart)."""
    title, body, _ = _chart_table(chart, view)
    return title, body


def _chart_table(chart: str, view: View) -> tuple[str, pd.DataFrame, str | None]:
    """Title, table and, for an empty selection, the reason (a text key) of one chart."""
    lang = view.lang
    titles = {"map": t("map_kind", lang), "rank": t("ranking", lang), "funnel": t("funnel", lang),
              "trend": t("trend", lang), "breakdown": t("breakdown", lang), "mix": t("mix", lang),
              "clusters": t("clusters", lang)}
    if chart == "clusters":
        return titles[chart], cluster_body(view), None
    if chart in ("map", "rank", "funnel"):
        tbl, national = queries.area_table(view)
        nat = pd.DataFrame([{**national.to_dict(), "code": 0, "name": t("denmark_total", lang)}])
        body = _public(pd.concat([tbl, nat], ignore_index=True), lang, ["code", "name"])
        body["complete"] = coverage.complete(range(view.y0, view.y1 + 1), coverage.incomplete_years(view.measure))
        reason = notices.empty_reason(tbl, national)
    elif chart == "trend":
        tr = queries.trend_table(view, view.area)
        body = _public(tr, lang, ["year", "code"])
        incomplete = coverage.incomplete_years(view.measure)
        body["complete"] = [int(y) not in incomplete for y in tr["year"]]
        reason = notices.empty_reason(tr[tr["code"] == 0] if len(tr) else tr)
    elif chart == "breakdown":
        bd = queries.breakdown_table(view, view.area)
        if bd.empty:
            bd = pd.DataFrame(columns=["dimension", "value_key", "num_shown", "den_shown", "value", "lower", "upper",
                                       "hidden", "expected", "flag"])
        reason = notices.empty_reason(bd)
        bd["group"] = [label(d, v, lang) if d != "age" else v for d, v in zip(bd["dimension"], bd["value_key"])]
        bd["dimension"] = [label("dimension", d, lang) for d in bd["dimension"]]
        body = _public(bd, lang, ["dimension", "group"])
        body["complete"] = coverage.complete(range(view.y0, view.y1 + 1), coverage.incomplete_years(view.measure))
    elif chart == "mix":
        mx = queries.mix_table(view, view.area)
        mx["measure_name"] = [MEASURES[k].name(lang) for k in mx["measure"]]
        body = _public(mx, lang, ["code", "measure_name"])
        body["complete"] = [coverage.complete(range(view.y0, view.y1 + 1), coverage.incomplete_years(k))
                            for k in mx["measure"]]
        reason = notices.empty_reason(mx[mx["code"] == 0] if len(mx) else mx)
    else:
        raise ValueError(chart)
    if chart == "map" and view.colours != "own":
        from atlas import colours

        c = colours.colouring(view, queries.area_table(view)[0])
        if c is not None and c.colours:
            body["map_class"] = [c.label_of(code) for code in body["code"]]
    return titles.get(chart, chart), body, reason


def chart_csv(chart: str, view: View) -> tuple[bytes, str]:
    """The CSV for one chart of the atlas page and its file name."""
    view = queries.served_view(view)
    title, body, reason = _chart_table(chart, view)
    lang = view.lang
    where = titles.area_name(view.area) if view.area is not None and chart in ("trend", "breakdown", "mix") else None
    name = titles.file_stem(title, view, None if chart == "mix" else MEASURES[view.measure], lang, where) + ".csv"
    header = header_rows(view, title, chart)
    if reason:
        header.insert(2, [t("note_word", lang), t(reason, lang)])
    return write_csv(header, body, view.sep, lang), name
