"""The returns page's CSV files: one per chart, with the header every atlas CSV carries and, for the
time series, the regression's estimates."""
from __future__ import annotations

import math

from atlas import numbers
from atlas.export import csv_header, nullable_ints, write_csv
from atlas.i18n import label, t
from atlas.returns.figures import file_stem, measure_name, unit
from atlas.returns.queries import by_centre, by_exam, centre_summary, centres
from atlas.returns.state import ReturnsView
from atlas.returns.time_series import hidden_month_key, its, its_table, no_fit_text


def header_rows(view: ReturnsView, title: str, r: dict | None = None, no_fit: str | None = None) -> list[list[str]]:
    lang = view.lang
    c = centres().set_index("producer_id")["centre"]
    rows = csv_header(lang, title, [
        [t("ret_measure", lang), measure_name(view) + " · " + unit(view)],
        [t("ret_exam", lang), label("exam_type", view.exam, lang) if view.exam else t("all", lang)],
        [t("ret_centre", lang), f"{c.get(view.centre, view.centre)} ({view.centre})" if view.centre else t("all", lang)],
        [t("ret_intervention", lang), view.date],
    ], "/returns", view.to_hash(), t("ret_key_note", lang))
    if no_fit:
        rows.append([t("ret_method", lang), no_fit])
    if r is not None:
        rows.append([t("ret_method", lang), t("ret_method_text", lang).format(lags=r["lags"], n=r["n"], filled=r["n_filled"])])
        for row in its_table(r, lang).itertuples(index=False):
            rows.append([row.term, f"{numbers.decimal(row.estimate, 3, lang)} ({numbers.decimal(row.lower, 3, lang)} "
                         f"{t('to_word', lang)} {numbers.decimal(row.upper, 3, lang)})"
                         + ("" if row.p is None or (isinstance(row.p, float) and math.isnan(row.p))
                            else f"; p = {numbers.decimal(row.p, 3, lang, grouping=False)}")])
    return rows


def chart_csv(chart: str, view: ReturnsView) -> tuple[bytes, str]:
    """The CSV of one chart of the returns page and its file name."""
    lang = view.lang
    r, no_fit = None, None
    if chart == "exam":
        d = by_exam(view)
        body = d.assign(month=d["month"].dt.strftime("%Y-%m"),
                        exam_type=[label("exam_type", e, lang) for e in d["exam_type"]])
        title = t("ret_chart_exam", lang)
    elif chart == "its":
        s, r = its(view)
        no_fit = no_fit_text(s, lang) if r is None else (t("fitted_clamped", lang) if s.attrs.get("clamped") else None)
        body = s.assign(month=s["month"].dt.strftime("%Y-%m"))[
            ["month", "period", "referrals", "count", "rate", "fill", "fitted", "counterfactual"]]
        title = t("ret_chart_its", lang)
    elif chart == "centres":
        d = by_centre(view)
        body = d.assign(month=d["month"].dt.strftime("%Y-%m"))[
            ["producer_id", "centre", "month", "period", "referrals", "count", "rate", "hidden"]]
        title = t("ret_chart_centres", lang)
    elif chart == "summary":
        body = centre_summary(view)
        title = t("ret_chart_spread", lang)
    else:
        raise ValueError(chart)
    body = body.copy()
    for col in ("referrals", "count", "referrals_before", "count_before", "referrals_after", "count_after"):
        if col in body:
            body[col] = nullable_ints(body[col])
    for col in ("fitted", "counterfactual"):
        if col in body:
            body[col] = body[col].where(body[col].abs() > 1e-9, 0.0).where(body[col].notna())
    if "hidden" in body:
        body["note"] = body.pop("hidden").map(lambda h: t("suppressed", lang) if h else "")
    if "fill" in body:
        note = t(hidden_month_key(), lang).replace("<br>", " ")          # a chart's line break, not the CSV's
        body["note"] = body.pop("fill").map(lambda h: note if h else "")
    name = file_stem(title, view) + ".csv"
    return write_csv(header_rows(view, title, r, no_fit) + [api_row(chart, view)], body, view.sep, lang), name


def api_row(chart: str, view: ReturnsView) -> list[str]:
    """The header item with the open-data API's address of the chart's figures (the address the
    chart's API menu shows: :func:`atlas.api.page_views.returns_url`)."""
    from atlas.api.page_views import returns_url

    return [t("api_address", view.lang), returns_url(chart, view)]
