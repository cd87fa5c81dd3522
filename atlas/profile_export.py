"""The CSV of a whole area profile: the same header rows as the atlas's chart downloads
(:func:`atlas.export.header_rows`), then one long table with a ``section`` column: every measure
(spine), every measure's single years (trend), the population groups and the pathway mix, each row
with the area's code and the published count, denominator, value and interval.
"""
from __future__ import annotations

import pandas as pd

from atlas import export, profile
from atlas.filters import View
from atlas.i18n import label, t
from atlas.measures import MEASURES

COLUMNS = ["section", "measure", "group", "year", "code", "name", "count", "denominator", "value", "lower", "upper",
           "compared_with_denmark", "region_value", "denmark_value", "lowest", "highest", "note"]


def _count(v):
    return None if pd.isna(v) else int(v)


def profile_table(code: int, period: tuple[int, int], lang: str) -> pd.DataFrame:
    level = profile.level_of(code)
    from atlas.data.domain import status_word

    name = profile.area_name(code, level)
    denmark = t("denmark_total", lang)
    rows = []
    for _, r in profile.spine(code, *period, lang).iterrows():
        note = "" if r["published"] else t("not_published_here", lang)
        if r["published"] and r["flag"] == "hidden":
            note = status_word(r.get("status"), lang) or t("suppressed", lang)
        rows.append({"section": "spine", "measure": r["name"], "code": code, "name": name,
                     "count": _count(r["count"]), "denominator": _count(r["denominator"]),
                     "value": r["value"], "lower": r["lower"], "upper": r["upper"],
                     "compared_with_denmark": t(f"cmp_{profile.compared(r['flag'])}", lang) if r["published"] else "",
                     "region_value": r["region"], "denmark_value": r["denmark"], "lowest": r["lowest"],
                     "highest": r["highest"], "note": note})
    for _, r in profile.trends(code, lang).iterrows():
        rows.append({"section": "trend", "measure": MEASURES[r["measure"]].name(lang), "year": int(r["year"]),
                     "code": int(r["code"]), "name": name if r["code"] == code else denmark,
                     "count": _count(r["num_shown"]), "denominator": _count(r["den_shown"]), "value": r["value"],
                     "lower": r["lower"], "upper": r["upper"], "note": t("suppressed", lang) if r["hidden"] else ""})
    for _, r in profile.groups(code, *period, lang=lang).iterrows():
        group = r["value_key"] if r["dimension"] == "age" else label(r["dimension"], r["value_key"], lang)
        rows.append({"section": "population_group", "measure": MEASURES["imaging_rate"].name(lang),
                     "group": f"{label('dimension', r['dimension'], lang)}: {group}", "code": code, "name": name,
                     "count": _count(r["num_shown"]), "denominator": _count(r["den_shown"]), "value": r["value"],
                     "lower": r["lower"], "upper": r["upper"], "note": t("suppressed", lang) if r["hidden"] else ""})
    for _, r in profile.pathway_mix(code, *period, lang=lang).iterrows():
        rows.append({"section": "pathway_mix", "measure": MEASURES[r["measure"]].name(lang), "code": int(r["code"]),
                     "name": name if r["code"] == code else denmark, "count": _count(r["num_shown"]),
                     "denominator": _count(r["den_shown"]), "value": r["value"], "lower": r["lower"],
                     "upper": r["upper"], "note": t("suppressed", lang) if r["hidden"] else ""})
    if level == "municipality":                  # comparable municipalities (issue 27), as the profile shows them
        from atlas import policy_view

        for _, r in policy_view.peer_table(code, *period, lang).iterrows():
            rows.append({"section": "peers", "measure": r["measure"], "group": r["role"],
                         "code": None if pd.isna(r["code"]) else int(r["code"]),
                         "name": r["name"], "value": r["value"], "lower": r["lower"], "upper": r["upper"],
                         "note": r["note"]})
    out = pd.DataFrame(rows).reindex(columns=COLUMNS)
    for c in ("count", "denominator", "year", "code"):
        out[c] = out[c].astype(object).where(out[c].notna(), None)
    for c in ("year", "code"):                   # whole numbers, not 2013.00 (a column with gaps is float)
        out[c] = pd.Series([None if v is None else int(v) for v in out[c]], index=out.index, dtype=object)
    return out


def profile_csv(code: int, period: tuple[int, int], lang: str, sep: str = ",",
                descriptive: bool | None = None) -> tuple[bytes, str]:
    """The profile's CSV and its file name (flat, or ``descriptive``: see :func:`atlas.export.write_csv`)."""
    level = profile.level_of(code)
    view = View(measure="imaging_rate", level=level, y0=period[0], y1=period[1], lang=lang, area=code, sep=sep)
    title = t("profile_title", lang).format(name=profile.area_name(code, level))
    header = export.header_rows(view, title)
    all_measures = "All measures (one row each)" if lang == "en" else "Alle mål (én række hver)"
    for row in header:
        if row[:1] == [t("measure", lang)]:
            row[1:] = [all_measures]
        elif row[:1] == ["Definition"]:
            row[1:] = ["See Methods" if lang == "en" else "Se Metode"]
        elif row[:1] in (["View"], ["Visning"]):
            row[1:] = [f"/area/{code}?period={period[0]}-{period[1]}" + ("&lang=da" if lang == "da" else "")]
    name = f"lumbar-atlas-profile-{code}-{period[0]}-{period[1]}.csv"
    return export.write_csv(header, profile_table(code, period, lang), sep, descriptive=descriptive), name
