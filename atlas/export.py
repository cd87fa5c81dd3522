"""CSV downloads of exactly what a chart shows, protected as on screen.

Every file says what it holds: the atlas, the chart, the measure and its definition, every
filter, the data and its date, the suppression note and the view's address (the *header items*,
made once per file by :func:`csv_header`). Two layouts of the same items (:func:`write_csv`):

- **flat** (the default): one table whose first line is the header line, so it opens in one step
  (``pandas.read_csv(f)``, Danish files ``pandas.read_csv(f, sep=";", decimal=",")``, Excel): the
  chart's columns, then one column per header item holding the same value on every row (as
  Fingertips' data view does). An empty table still gets one row, so its header items are kept.
- **descriptive** (``header=1`` in the page's address): the header items as rows, a blank row, then
  the table (the layout of earlier versions, for readers who want the description on top).

UTF-8 with a byte-order mark so Excel shows æ, ø and å; with the semicolon separator decimals use a
comma, as Danish Excel expects.
"""
from __future__ import annotations

import csv
import io
from dataclasses import replace

import numpy as np
import pandas as pd

from atlas import coverage, data, db, edition, notices, numbers, queries, static, titles
from atlas.data.domain import status_words
from atlas.filters import View
from atlas.i18n import label, t
from atlas.measures import MEASURES
from atlas.state import hash_of


def csv_separator(sep: str, lang: str) -> str:
    """The separator a CSV file is written with: Danish files always use semicolons."""
    return ";" if lang == "da" else (sep if sep in (",", ";") else ",")


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
    address = static.href("/" + page.lstrip("/")) + (f"?lang={lang}" if lang != "en" else "") + state
    return [
        [t("title", lang)],
        [title],
        *rows,
        [t("data_word", lang), t("synthetic_short", lang) if kind == "synthetic" else kind],
        [t("source", lang), titles.source_line(lang, prefix=False)],
        [t("data_date", lang), str(meta.get("built_at", ""))],
        [t("release_word", lang), edition.identity(lang)],
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
    rates = {"isr": t("std_isr", lang) + f" ({t(view.standard, lang)})", "crude": t("std_crude", lang),
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
    if chart in ("map", "rank"):                 # the recent-trend markers' window (issue 27)
        from atlas import trend_markers

        item = trend_markers.header_item(view)
        if item:
            rows.append(item)
    header = csv_header(lang, title, rows, "/", hash_of(view, coverage.default_year()))
    address = api_address(view, chart)
    return header + ([[t("api_address", lang), address]] if address else [])


def api_address(view: View, chart: str | None) -> str | None:
    """The open-data API's address of the same figures as a chart's download (docs/api.md), or None
    for a chart the API does not serve (the clusters) and for a table that is not one chart's (the
    all-data zip, the area profile: ``chart`` None)."""
    from atlas.api.answers import api_url

    endpoint = {"map": "data", "rank": "data", "funnel": "data", "trend": "trend",
                "breakdown": "breakdown", "mix": "mix"}.get(chart)
    if endpoint is None:
        return None
    area = view.area if endpoint != "data" else None
    peers = chart == "funnel" and view.funnel == "peers" and view.level == "municipality" and view.area is not None
    if peers:                  # the funnel plot against the selected municipality's comparable municipalities
        area = view.area
    view = replace(view, funnel="peers" if peers else "denmark")
    return api_url(endpoint, view, view.level, view.lang, area=area)


API_CHARTS = ("map", "rank", "funnel", "trend", "breakdown", "mix")      # the atlas's charts the API serves


def chart_api_address(chart: str, view: View) -> str | None:
    """The API address of the figures ``chart`` shows for the page's ``view``: the address its CSV
    download carries (:func:`chart_csv`: the view the source answers, the breakdown's own view) and
    its download menu shows (``pages/atlas.py``). None for a chart the API does not serve."""
    view = queries.served_view(view)
    if chart == "breakdown":
        view = queries.breakdown_view(view)
    return api_address(view, chart)


def descriptive_header_asked() -> bool:
    """True when the page a download is asked from has ``header=1`` in its address (the download
    callbacks carry the page's query string): the reader wants the descriptive layout."""
    from urllib.parse import parse_qs

    try:
        import dash

        values = {**dash.callback_context.states, **dash.callback_context.inputs}
    except Exception:               # not inside a callback
        return False
    return any(key.endswith(".search") and isinstance(v, str) and parse_qs(v.lstrip("?")).get("header", [""])[-1] == "1"
               for key, v in values.items())


def header_columns(header: list[list[str]], lang: str, taken=()) -> list[tuple[str, str]]:
    """The header items as (column name, value) pairs for the flat layout: a row's first cell names
    it and the rest is its value; the first two rows (the atlas's and the chart's titles) are named
    "Atlas" and "Chart". A name that a data column already has gets "(file)" after it."""
    used, out = set(taken), []
    for i, row in enumerate(header):
        if not row:
            continue
        if len(row) == 1:
            name, value = (t("csv_atlas_col", lang) if i == 0 else t("csv_chart_col", lang)), row[0]
        else:
            name, value = row[0], " ".join(str(v) for v in row[1:])
        while name in used:
            name = f"{name} ({t('csv_file_word', lang)})"
        used.add(name)
        out.append((name, value))
    return out


def write_csv(header: list[list[str]], table: pd.DataFrame, sep: str, lang: str = "en",
              descriptive: bool | None = None, about: bool = True) -> bytes:
    """The table with its header items, flat (default) or ``descriptive`` (header rows, a blank row,
    the table; by default when the page's address asks for it, :func:`descriptive_header_asked`).
    A flat file without ``about`` leaves the header items out (a zip says them in its own file).
    In Danish: semicolons and decimal commas whatever ``sep`` says, Danish column names and words
    for coded values."""
    sep = csv_separator(sep, lang)
    table = _words(table, lang)
    if descriptive is None:
        descriptive = descriptive_header_asked()
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator="\r\n")
    if descriptive:
        for row in header:
            w.writerow(row)
        w.writerow([])
        w.writerow(list(table.columns))
        for row in table.itertuples(index=False):
            w.writerow([_cell(x, sep) for x in row])
    else:
        items = header_columns(header, lang, taken=[str(c) for c in table.columns]) if about else []
        w.writerow(list(table.columns) + [name for name, _ in items])
        values = [value for _, value in items]
        rows = list(table.itertuples(index=False)) or ([[None] * len(table.columns)] if items else [])
        for row in rows:
            w.writerow([_cell(x, sep) for x in row] + values)
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
        if chart in ("map", "rank"):         # the recent-trend markers the two charts show (issue 27)
            from atlas import trend_markers

            for key, values in trend_markers.csv_columns(body["code"], view).items():
                body[key] = values
        if chart == "funnel" and view.funnel == "peers":      # drawn against the comparable municipalities
            from atlas import peer_funnel

            for key, values in peer_funnel.csv_columns(body, tbl, view, MEASURES[view.measure]).items():
                body[key] = values
        reason = notices.empty_reason(tbl, national)
    elif chart == "trend":
        tr = queries.trend_table(view, view.area)
        body = _public(tr, lang, ["year", "code"])
        incomplete = coverage.incomplete_years(view.measure)
        body["complete"] = [int(y) not in incomplete for y in tr["year"]]
        br = coverage.breaks(view.measure, coverage.break_dimensions(view))
        body["break"] = [int(y) in br for y in tr["year"]]      # first year counted anew (register break)
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
