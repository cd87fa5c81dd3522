"""The atlas page's key finding on avoidable imaging (issue 27): the examinations a year avoided if
each area above Denmark's age- and sex-standardised rate imaged at it, from
:func:`atlas.policy.opportunity` (``etl.stats.opportunity`` on the published observed and expected
counts), for the view's measure, level and years; naming the selected area when it is above
Denmark. Only for the measures the opportunity view offers and for everyone (a population group's
expected counts are not Denmark's rates for the whole population)."""
from __future__ import annotations

from atlas import policy
from atlas.filters import View
from atlas.findings import number
from atlas.i18n import t
from atlas.measures import MEASURES


def _period(y0: int, y1: int) -> str:
    return str(y0) if y0 == y1 else f"{y0}–{y1}"


def sentences(view: View) -> list[str]:
    """The sentences (none when the measure or view has no opportunity figure): the national total
    with its 95 % interval and the area with the most, and the selected area's own figure."""
    if view.measure not in policy.OPPORTUNITY_MEASURES or view.dims or MEASURES[view.measure].kind != "rate":
        return []
    try:
        tab, s = policy.opportunity(view.measure, view.level, view.y0, view.y1, "denmark")
    except (KeyError, ValueError):
        return []
    near = s["view"]
    if s["total"] is None or near.level != view.level:
        return []
    lang = view.lang
    period = _period(near.y0, near.y1)
    area = t(f"kf_area_{view.level}", lang)
    out = []
    above = tab[tab["above"].astype(bool)]
    if not len(above):
        out.append(t("kf_avoidable_none", lang).format(area=t(f"kf_noarea_{view.level}", lang), period=period))
    else:
        top = above.iloc[0]                  # the table is sorted by avoidable examinations, most first
        total = s["total"]
        out.append(t("kf_avoidable", lang).format(
            area=area, n=number(total.value, lang, 0), lo=number(total.lower, lang, 0), hi=number(total.upper, lang, 0),
            period=period, name=top["name"], top=number(top["avoidable"], lang, 0)))
    if s["left_out"]:
        out[-1] += " " + t("kf_avoidable_left_out", lang).format(n=len(s["left_out"]))
    if view.area is not None:
        row = above[above["code"] == int(view.area)]
        if len(row):
            r = row.iloc[0]
            out.append(t("kf_avoidable_one", lang).format(
                name=r["name"], n=number(r["avoidable"], lang, 0), lo=number(r["avoidable_lower"], lang, 0),
                hi=number(r["avoidable_upper"], lang, 0), period=period))
    return out
