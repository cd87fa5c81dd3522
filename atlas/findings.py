"""Key findings in words, from the published figures a view shows (pure functions, no I/O).

``atlas_findings`` describes a table of areas (as ``atlas.queries.area_table`` returns it, with
Denmark's row and the variation statistics of ``atlas.queries.variation``); ``profile_findings``
describes an area's profile (``atlas.profile.spine``). Every number in a sentence is a shown figure
or a function of shown figures (hidden areas only counted), so the words obey the same disclosure
rules as the charts.
"""
from __future__ import annotations

import math

import pandas as pd

from atlas.i18n import t


def number(x, lang: str, digits: int = 1) -> str:
    """A number in the reader's language: 1,234.5 (en) or 1.234,5 (da); "–" when missing."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    text = f"{float(x):,.{digits}f}"
    return text.replace(",", "\u00a0").replace(".", ",").replace("\u00a0", ".") if lang == "da" else text


def _unit(kind: str, lang: str) -> str:
    return t("per_1000", lang) if kind == "rate" else "%"


def _areas_word(level: str, lang: str) -> str:
    return t(f"kf_areas_{level}", lang)


def atlas_findings(tbl: pd.DataFrame, national: pd.Series | dict, measure_name: str, kind: str, level: str,
                   variation: dict | None, lang: str) -> list[str]:
    """Sentences on a table of areas: the range of shown values (with the areas at each end),
    Denmark's figure, how many lie beyond the 99.8% funnel limits and within the 95% ones, the
    extremal quotient and SCV (when given), and how many areas are hidden."""
    hidden = tbl["hidden"].fillna(True).astype(bool) if len(tbl) else pd.Series(dtype=bool)
    shown = tbl[~hidden & tbl["value"].notna()] if len(tbl) else tbl
    unit, areas = _unit(kind, lang), _areas_word(level, lang)
    if len(shown) < 2:
        return [t("kf_none", lang)]
    lo, hi = shown.loc[shown["value"].idxmin()], shown.loc[shown["value"].idxmax()]
    out = [t("kf_range", lang).format(measure=measure_name, lo=number(lo["value"], lang), hi=number(hi["value"], lang),
                                      unit=unit, n=len(shown), areas=areas, hi_name=hi["name"], lo_name=lo["name"])]
    national = dict(national) if national is not None else {}
    if not national.get("hidden", False) and pd.notna(national.get("value", float("nan"))):
        out.append(t("kf_denmark", lang).format(value=number(national["value"], lang), unit=unit,
                                                lower=number(national.get("lower"), lang),
                                                upper=number(national.get("upper"), lang)))
    flags = shown["flag"].astype(str)
    tested = flags[flags != "not_tested"]
    if len(tested):
        out.append(t("kf_limits", lang).format(above=int((tested == "high_998").sum()), below=int((tested == "low_998").sum()),
                                               within=int((tested == "within").sum())))
    untested = int((flags == "not_tested").sum())
    if untested:                           # a comparison that was not made is never "within"
        out.append(t("kf_not_tested", lang).format(n=untested, areas=areas))
    if variation and variation.get("extremal_quotient") is not None and not math.isnan(variation["extremal_quotient"]):
        scv = variation.get("scv")
        out.append(t("kf_eq", lang).format(eq=number(variation["extremal_quotient"], lang),
                                           scv=number(scv * 100 if scv is not None else None, lang)))
    n_hidden = int(hidden.sum())
    if n_hidden:
        out.append(t("kf_hidden", lang).format(n=n_hidden, areas=areas))
    return out


def profile_findings(spine: pd.DataFrame, area_name: str, level: str, period: str, lang: str) -> list[str]:
    """Sentences on an area's profile: how many published measures are higher, lower or not
    different from Denmark beyond chance (95% funnel limits), which, and where the area is the
    highest or lowest of all shown areas of its level."""
    from atlas.profile import compared

    rows = spine[spine["published"].astype(bool) & spine["value"].notna()]
    verdict = rows["flag"].map(compared)
    higher, lower = rows[verdict == "higher"], rows[verdict == "lower"]
    out = [t("kf_profile_counts", lang).format(n=len(rows), name=area_name, period=period, higher=len(higher),
                                               lower=len(lower), similar=int((verdict == "similar").sum()))]
    if (verdict == "not_tested").any():
        out.append(t("kf_profile_not_tested", lang).format(n=int((verdict == "not_tested").sum())))
    if len(higher):
        out.append(t("kf_profile_higher", lang).format(list=", ".join(higher["name"])))
    if len(lower):
        out.append(t("kf_profile_lower", lang).format(list=", ".join(lower["name"])))
    areas = _areas_word(level, lang)
    several = rows["areas_shown"] > 1
    top = rows[several & (rows["value"] >= rows["highest"])]
    bottom = rows[several & (rows["value"] <= rows["lowest"])]
    if len(top):
        out.append(t("kf_profile_extreme", lang).format(areas=areas, list=", ".join(top["name"])))
    if len(bottom):
        out.append(t("kf_profile_lowest", lang).format(areas=areas, list=", ".join(bottom["name"])))
    return out
