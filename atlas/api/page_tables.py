"""The pathways page's and the return-letters page's charts as rows a program reads: the same tables
the pages draw and download (:mod:`atlas.pathways`, :mod:`atlas.returns`: the one data layer), one
row per figure, with each cell's ``status`` (``atlas.data.domain``) and its words.

A hidden cell carries no number: on the pathways page a flow or cell of 1 to 4 episodes (or hidden
to protect one) has a null count and share; on the returns page a month whose count is hidden has a
null count and rate (its referrals are given where the page shows them). On the secure database
nothing is hidden.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from atlas import coverage
from atlas import pathways as P
from atlas import returns as R
from atlas.api.tables import _num, cell
from atlas.data.domain import EMPTY, HIDDEN, SHOWN, status_word
from atlas.filters import View
from atlas.i18n import label, t
from atlas.measures import MEASURES

PATHWAY_COLUMNS = {
    "flows": ["stage", "source", "source_name", "target", "target_name", "count", "status", "status_text", "complete"],
    "outcomes": ["referrer", "referrer_name", "modality", "modality_name", "outcome", "outcome_name", "count", "share",
                 "status", "status_text", "complete"],
    "trend": ["measure", "measure_name", "year", "level", "code", "count", "denominator", "value", "lower", "upper",
              "status", "status_text", "complete", "break"],
    "referrer": ["measure", "measure_name", "referrer", "referrer_name", "level", "code", "count", "denominator",
                 "value", "lower", "upper", "status", "status_text", "complete"],
    "areas": ["measure", "measure_name", "level", "code", "name", "count", "denominator", "value", "lower", "upper",
              "status", "status_text", "complete"],
}
RETURN_COLUMNS = {
    "exam": ["month", "exam_type", "exam_name", "referrals", "count", "rate", "status", "status_text"],
    "series": ["month", "period", "referrals", "count", "rate", "left_out_of_fit", "fitted", "counterfactual",
               "status", "status_text"],
    "centres": ["producer_id", "centre", "month", "period", "referrals", "count", "rate", "status", "status_text"],
    "summary": ["producer_id", "centre", "referrals_before", "count_before", "rate_before", "status_before",
                "referrals_after", "count_after", "rate_after", "status_after"],
}
TREND_CHARTS = {"repeat": P.REPEAT_MEASURES, "providers": P.PROVIDER_MEASURES, "lowvalue": P.LOWVALUE_MEASURES}
ITS_TERMS = ("intercept", "pre_slope", "level_change", "slope_change", "post_slope")   # its_table's rows, in order


def _figures(r, lang: str) -> dict:
    """A row's figures and status (:func:`atlas.api.tables.cell`) without the expected count and the
    funnel flag: the pathways page shows neither."""
    out = cell(r, lang)
    del out["expected"], out["funnel_flag"]
    return out


def _count_cell(n, lang: str) -> dict:
    """A published count, or nothing and the status ``hidden``."""
    hidden = n is None or pd.isna(n)
    status = HIDDEN if hidden else SHOWN
    return {"count": None if hidden else _num(n, True), "status": status, "status_text": status_word(status, lang) or None}


# ----------------------------------------------------------------------------- pathways

def pathway_rows(endpoint: str, view: View, window: int, lang: str) -> list[dict]:
    """The rows of one pathways endpoint (``flows``, ``outcomes``, ``repeat``, ``providers``,
    ``lowvalue``, ``referrer``, ``areas``) for the page's ``view`` and ``window``."""
    if endpoint in ("flows", "outcomes"):
        p = P.pathways(view, window)
        complete = coverage.complete(range(view.y0, view.y1 + 1), coverage.pathway_incomplete_years(window))
        return (_flows if endpoint == "flows" else _outcomes)(p, lang, complete)
    if endpoint in TREND_CHARTS:
        return _trends(view, TREND_CHARTS[endpoint], lang)
    if endpoint == "referrer":
        return _by_referrer(view, lang)
    if endpoint == "areas":
        return _areas(view, lang)
    raise ValueError(endpoint)


def _flows(p: dict, lang: str, complete: bool) -> list[dict]:
    """The Sankey's links: referrer -> modality (episodes), then modality -> what followed (the sum of
    the shown cells, the merged hidden cells as the outcome ``hidden``)."""
    rows = []
    for stage, frame, source, target in (("referrer_modality", p["rows"], "referrer", "modality"),
                                         ("modality_outcome", p["outcomes"], "modality", "outcome")):
        for r in frame.to_dict("records"):
            rows.append({"stage": stage, "source": r[source], "source_name": label(source, r[source], lang),
                         "target": r[target], "target_name": label(target, r[target], lang),
                         **_count_cell(r["count"], lang), "complete": complete})
    return rows


def _outcomes(p: dict, lang: str, complete: bool) -> list[dict]:
    """Per referrer x modality with episodes (and for all episodes: ``all``): its episodes (outcome
    ``episodes``), then each outcome's count and share of the row's shown cells."""
    cells, totals = p["cells"], p["rows"]
    rows = []

    def add(ref, mod, episodes, part):
        base = {"referrer": ref, "referrer_name": t("all", lang) if ref == "all" else label("referrer", ref, lang),
                "modality": mod, "modality_name": t("all", lang) if mod == "all" else label("modality", mod, lang)}
        rows.append({**base, "outcome": "episodes", "outcome_name": t("pw_episodes", lang),
                     **_count_cell(episodes, lang), "share": None, "complete": complete})
        for r in part.to_dict("records"):
            c = _count_cell(r["count"], lang)
            rows.append({**base, "outcome": r["outcome"], "outcome_name": label("outcome", r["outcome"], lang), **c,
                         "share": None if c["count"] is None else _num(r["share"]), "complete": complete})

    # as the page's table (atlas.pathways.export.pathway_table): rows without episodes are left out
    for (ref, mod), part in cells.groupby(["referrer", "modality"], sort=False):
        episodes = totals[(totals.referrer == ref) & (totals.modality == mod)]["count"].iloc[0]
        if episodes == 0:
            continue
        add(ref, mod, episodes, part)
    add("all", "all", p["total"]["count"].iloc[0], p["overall"])
    return rows


def _level(code: int, view: View) -> str:
    return "denmark" if int(code) == 0 else view.level


def _trends(view: View, keys: tuple[str, ...], lang: str) -> list[dict]:
    rows = []
    for key, tr in P.trends(view, keys).items():
        incomplete = coverage.incomplete_years(key)
        breaks = coverage.breaks(key, coverage.break_dimensions(view))
        for r in tr.to_dict("records"):
            year = int(r["year"])
            rows.append({"measure": key, "measure_name": MEASURES[key].name(lang), "year": year,
                         "level": _level(r["code"], view), "code": int(r["code"]), **_figures(r, lang),
                         "complete": year not in incomplete, "break": year in breaks})
    return rows


def _complete(key: str, view: View) -> bool:
    return coverage.complete(range(view.y0, view.y1 + 1), coverage.incomplete_years(key))


def _by_referrer(view: View, lang: str) -> list[dict]:
    return [{"measure": r["measure"], "measure_name": MEASURES[r["measure"]].name(lang), "referrer": r["referrer"],
             "referrer_name": label("referrer", r["referrer"], lang), "level": _level(r["code"], view),
             "code": int(r["code"]), **_figures(r, lang), "complete": _complete(r["measure"], view)}
            for r in P.by_referrer(view).to_dict("records")]


def _areas(view: View, lang: str) -> list[dict]:
    return [{"measure": r["measure"], "measure_name": MEASURES[r["measure"]].name(lang),
             "level": _level(r["code"], view), "code": int(r["code"]), "name": r["name"], **_figures(r, lang),
             "complete": _complete(r["measure"], view)}
            for r in P.area_table(view).to_dict("records")]


def pathway_measures(endpoint: str, view: View, lang: str) -> list[dict]:
    """The measures an endpoint's rows hold, with their incomplete years and register breaks."""
    keys = {**TREND_CHARTS, "referrer": P.LOWVALUE_MEASURES, "areas": P.AREA_MEASURES}.get(endpoint, ())
    from atlas.api.answers import ROOT

    out = []
    for key in keys:
        m = MEASURES[key]
        breaks = coverage.breaks(key, coverage.break_dimensions(view) if endpoint in TREND_CHARTS else ())
        out.append({"key": key, "name": m.name(lang), "kind": m.kind,
                    "incomplete_years": [{"year": y, "why": w} for y, w in coverage.incomplete_years(key).items()],
                    "breaks": _breaks(breaks, lang), "metadata": ROOT + "measures/" + key})
    return out


def _breaks(breaks: dict[int, str], lang: str) -> list[dict]:
    return [{"year": y, "what": w, "note": " ".join(coverage.break_text(k, lang) for k in w.split("+"))}
            for y, w in breaks.items()]


def window_marks(view: View, window: int, lang: str) -> dict:
    """The pathways' own marks for the flows and outcomes: the incomplete years of the follow-up
    window (all of them and those in the view) and the register breaks their years span."""
    incomplete = coverage.pathway_incomplete_years(window)
    breaks = coverage.pathway_breaks(window)
    return {"incomplete_years": [{"year": y, "why": w} for y, w in incomplete.items()],
            "incomplete_in_view": [{"year": y, "why": w}
                                   for y, w in coverage.in_view(incomplete, view.y0, view.y1).items()],
            "breaks": _breaks(breaks, lang),
            "breaks_in_view": _breaks(coverage.spans_break(view.y0, view.y1, breaks), lang)}


# ----------------------------------------------------------------------------- return letters

def _month(m) -> str:
    return f"{pd.Timestamp(m):%Y-%m}"


def _return_cells(r: dict, lang: str, suffix: str = "") -> dict:
    """Referrals, count and rate of one month (or of a period: ``suffix`` ``_before``, ``_after``) as
    the page shows them: each count null when hidden, the rate null when either is; the status of the
    count (``empty``: no referrals at all in a month of the series for this selection)."""
    refs, count = r.get("referrals" + suffix), r.get("count" + suffix)
    hidden = r.get("hidden", None) if not suffix else bool(pd.isna(count) or pd.isna(refs))
    if hidden is None or (not isinstance(hidden, (bool, np.bool_)) and pd.isna(hidden)):
        status = EMPTY
    else:
        status = HIDDEN if bool(hidden) else SHOWN
    out = {"referrals" + suffix: _num(refs, True), "count" + suffix: _num(count, True),
           "rate" + suffix: _num(r.get("rate" + suffix)), "status" + suffix: status}
    if not suffix:
        out["status_text"] = status_word(status, lang) or None
    return out


def return_rows(endpoint: str, view, lang: str) -> tuple[list[dict], dict]:
    """The rows of one returns endpoint (``exam``, ``series``, ``centres``, ``summary``) for the page's
    ``view``, and what else the answer says (the regression of ``series``)."""
    more: dict = {}
    if endpoint == "exam":
        d = R.by_exam(view)
        rows = [{"month": _month(r["month"]), "exam_type": r["exam_type"],
                 "exam_name": label("exam_type", r["exam_type"], lang), **_return_cells(r, lang)}
                for r in d.to_dict("records")]
    elif endpoint == "series":
        s, fit = R.its(view)
        rows = []
        for r in s.to_dict("records"):
            c = _return_cells(r, lang)
            rows.append({"month": _month(r["month"]), "period": r["period"], **c,
                         "left_out_of_fit": bool(r["fill"]), "fitted": _num(r["fitted"]),
                         "counterfactual": _num(r["counterfactual"])})
        more["regression"] = regression(s, fit, lang)
    elif endpoint == "centres":
        rows = [{"producer_id": r["producer_id"], "centre": r["centre"], "month": _month(r["month"]),
                 "period": r["period"], **_return_cells(r, lang)} for r in R.by_centre(view).to_dict("records")]
    elif endpoint == "summary":
        rows = [{"producer_id": r["producer_id"], "centre": r["centre"], **_return_cells(r, lang, "_before"),
                 **_return_cells(r, lang, "_after")} for r in R.centre_summary(view).to_dict("records")]
    else:
        raise ValueError(endpoint)
    return rows, more


def regression(s: pd.DataFrame, fit: dict | None, lang: str) -> dict:
    """The segmented regression the page shows under its chart (and its CSV in its header), or why there is none."""
    if fit is None:
        return {"fitted": False, "reason": s.attrs.get("no_fit") or "ret_reason_few", "text": R.no_fit_text(s, lang)}
    table = R.its_table(fit, lang)
    terms = [{"term": key, "name": row.term, "estimate": _num(row.estimate), "lower": _num(row.lower),
              "upper": _num(row.upper), "p": _num(row.p)}
             for key, row in zip(ITS_TERMS, table.itertuples(index=False))]
    return {"fitted": True, "intervention_month": _month(fit["intervention_month"]), "months": int(fit["n"]),
            "months_left_out": int(fit.get("n_left_out", 0)), "hac_lags": int(fit["lags"]),
            "durbin_watson": _num(fit["durbin_watson"]), "clamped_at_zero": bool(s.attrs.get("clamped")),
            "method": t("ret_method_text", lang).format(lags=fit["lags"], n=fit["n"], filled=fit["n_filled"]),
            "terms": terms}
