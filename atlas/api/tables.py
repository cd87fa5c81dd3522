"""The API's tables: the pages' own tables (``atlas.queries``, the one data layer and estimate
engine), as rows a program reads.

Every row carries its cell ``status`` (``atlas.data.domain``: shown, hidden, small, protect,
few_events, unpublished, empty) and the status in words (``status_text``). A cell that is hidden
(a count of 1 to 4, hidden to protect one, or not published at this detail) carries **no number
at all**: count, denominator, value, interval and expected count are null. A cell with too few
events for a standardised rate keeps its published counts and has no rate; an empty selection
has its zero counts and no rate.
"""
from __future__ import annotations

import math
from dataclasses import replace

import pandas as pd

from atlas import coverage, queries
from atlas.data.domain import EMPTY, FEW, HIDDEN, PROTECT, SHOWN, SMALL, UNPUBLISHED, row_status, status_word
from atlas.filters import LEVELS, View
from atlas.i18n import t
from atlas.measures import MEASURES

HIDDEN_STATUSES = (HIDDEN, SMALL, PROTECT, UNPUBLISHED)
FIGURES = ("count", "denominator", "value", "lower", "upper", "expected")
DIGITS = 6


def _num(x, whole: bool = False):
    """A JSON number (None for missing), whole counts as integers, others to ``DIGITS`` decimals."""
    if x is None or isinstance(x, str):
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(f):
        return None
    return int(round(f)) if whole else round(f, DIGITS)


def cell(row, lang: str) -> dict:
    """One row's figures and status, with nothing numeric for a hidden cell."""
    status = row_status(row)
    get = row.get if hasattr(row, "get") else (lambda k, d=None: getattr(row, k, d))
    hidden = bool(get("hidden", False)) if get("hidden", False) is not None else True
    if hidden and status == SHOWN:
        status = HIDDEN                      # a row hidden without a reason of its own
    out = {"count": _num(get("num_shown"), True), "denominator": _num(get("den_shown"), True),
           "value": _num(get("value")), "lower": _num(get("lower")), "upper": _num(get("upper")),
           "expected": _num(get("expected"))}
    if status in HIDDEN_STATUSES:
        out = dict.fromkeys(FIGURES)
    elif status in (FEW, EMPTY) or hidden:
        out.update(value=None, lower=None, upper=None, expected=None)
    flag = get("flag")
    out["funnel_flag"] = None if status in HIDDEN_STATUSES or not isinstance(flag, str) or not flag else flag
    if out["funnel_flag"] == "hidden":
        out["funnel_flag"] = None
    out["status"] = status
    out["status_text"] = status_word(status, lang) or None
    return out


def _complete(measure: str, y0: int, y1: int) -> bool:
    return coverage.complete(range(y0, y1 + 1), coverage.incomplete_years(measure))


def area_rows(view: View, level: str, lang: str, area: int | None = None) -> list[dict]:
    """The table of areas of one level (``denmark``: Denmark's row only) and Denmark's row, as the
    map, ranking, funnel and their CSV show it."""
    tbl, national = queries.area_table(replace(view, level=level if level in LEVELS else "municipality"))
    complete = _complete(view.measure, view.y0, view.y1)
    rows = []
    if level in LEVELS:
        for r in tbl.to_dict("records"):
            if area is not None and int(r["code"]) != area:
                continue
            rows.append({"level": level, "code": int(r["code"]), "name": r.get("name"),
                         **cell(r, lang), "complete": complete})
    if area is None:
        rows.append({"level": "denmark", "code": 0, "name": t("denmark_total", lang),
                     **cell(national, lang), "complete": complete})
    return rows


PEER_COLUMNS = ("peer_target", "peer_funnel_flag")


def peer_rows(view: View, lang: str) -> tuple[list[dict], dict]:
    """``funnel=peers``: the selected municipality and its comparable municipalities (in the order of
    their nearness), each as :func:`area_rows` gives it, with ``peer_target`` (the peers' pooled level:
    a ratio to Denmark's rates, or a share in per cent) and ``peer_funnel_flag`` (the point's verdict
    against it) on each row the funnel plot shows, null on a hidden peer. Computed by the page's own
    ``atlas.peer_funnel.verdicts`` on the page's table of areas. Returns (rows, about) with ``about``
    the peers, the target and whether the plot is drawn against the peers at all."""
    from atlas import peer_funnel, policy

    near = policy.peers_of(int(view.area), view.y0, view.y1)
    by_code = {r["code"]: r for r in area_rows(view, "municipality", lang)}
    tbl, _ = queries.area_table(view)
    got = peer_funnel.verdicts(tbl, view, MEASURES[view.measure])
    target, flags = got if got is not None else (None, {})
    rows = []
    for code in (int(view.area), *near):
        if code not in by_code:
            continue
        flag = flags.get(code)
        rows.append({**by_code[code], "peer_target": _num(target) if flag else None, "peer_funnel_flag": flag})
    about = {"target": "peers", "area": int(view.area), "peers": near, "drawn": got is not None,
             "peer_target": _num(target), "peers_used": sorted(c for c in flags if c != int(view.area))}
    return rows, about


def trend_rows(view: View, lang: str) -> list[dict]:
    """Every single year for Denmark (code 0) and the chosen area, as the trend chart shows them."""
    tr = queries.trend_table(view, view.area)
    incomplete = coverage.incomplete_years(view.measure)
    breaks = coverage.breaks(view.measure, coverage.break_dimensions(view))
    rows = []
    for r in tr.to_dict("records"):
        code = int(r["code"])
        rows.append({"year": int(r["year"]), "level": "denmark" if code == 0 else view.level, "code": code,
                     **cell(r, lang), "complete": int(r["year"]) not in incomplete,
                     "break": int(r["year"]) in breaks})
    return rows


def breakdown_rows(view: View, lang: str) -> list[dict]:
    """The measure by each population group, one group at a time (as the breakdown chart)."""
    from atlas.i18n import label

    bd = queries.breakdown_table(view, view.area)
    complete = _complete(view.measure, view.y0, view.y1)
    rows = []
    for r in bd.to_dict("records"):
        d, v = r["dimension"], r["value_key"]
        rows.append({"dimension": d, "group": str(v), "group_name": v if d == "age" else label(d, v, lang),
                     **cell(r, lang), "complete": complete})
    return rows


def mix_rows(view: View, lang: str) -> list[dict]:
    """Shares of modality, priority, referrer and of what followed, for Denmark and the area."""
    mx = queries.mix_table(view, view.area)
    rows = []
    for r in mx.to_dict("records"):
        code = int(r["code"])
        rows.append({"level": "denmark" if code == 0 else view.level, "code": code, "measure": r["measure"],
                     "measure_name": MEASURES[r["measure"]].name(lang), **cell(r, lang),
                     "complete": _complete(r["measure"], view.y0, view.y1)})
    return rows


def to_frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)
