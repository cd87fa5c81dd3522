"""An area's profile: every measure for one area against Denmark, its region and the range of all
areas, read only through :mod:`atlas.queries` (so from the release's published estimates when a
release is served, and from the protected tables on the secure database), never more.

``spine(...)`` is one row per measure (the Fingertips-style spine chart and its table);
``trends(...)``, ``groups(...)`` and ``pathway_mix(...)`` the other parts of the profile. Every
number is a published (protected) figure or a function of published figures only: the range,
quartiles and count of areas are taken over the shown values of the published table of areas.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from atlas import coverage, data, db, queries
from atlas.cache import cached
from atlas.data.domain import row_status
from atlas.filters import View
from atlas.measures import MEASURES

PROFILE_LEVELS = ("municipality", "region", "region2027")
HIGHER = ("high_998", "high_95")
LOWER = ("low_998", "low_95")


def level_of(code: int) -> str | None:
    """The level of an area code (municipality first: the codes do not overlap)."""
    codes = db.level_codes()
    for level in PROFILE_LEVELS:
        if int(code) in codes.get(level, set()):
            return level
    return None


def area_name(code: int, level: str | None = None) -> str:
    a = db.areas()
    hit = a[(a.code == int(code)) & ((a.level == level) if level else True)]
    return str(hit.name.iloc[0]) if len(hit) else str(code)


def region_of(code: int, level: str) -> int | None:
    """The (2007) region of a municipality; None for a region."""
    if level != "municipality":
        return None
    a = db.areas()
    hit = a[(a.level == "municipality") & (a.code == int(code))]
    return int(hit.region_code.iloc[0]) if len(hit) else None


def periods() -> list[tuple[int, int]]:
    """The periods a profile offers: the published multi-year periods (release), else the plan's
    multi-year periods that lie within the data; then the default single year."""
    years = data.years()
    multi = data.source().multi_year_periods()
    single = coverage.default_year(years)
    return sorted(set(multi), key=lambda ab: (ab[1] - ab[0] > 3, ab[0])) + [(single, single)]


def default_period() -> tuple[int, int]:
    """The latest 3-year period (every measure is published for municipalities by 3-year
    periods), else the default single year."""
    three = [p for p in periods() if p[1] - p[0] == 2]
    return max(three) if three else periods()[-1]


def _view(measure: str, level: str, y0: int, y1: int, lang: str) -> View:
    return View(measure=measure, level=level, y0=y0, y1=y1, lang=lang)


def published_as_asked(view: View) -> bool:
    """True when the figures of ``view`` are what the database serves for it (a release moves a
    view it does not hold to the nearest one: then this view has no figures of its own)."""
    return data.source().publishes(view)


def _row(tbl: pd.DataFrame, code: int | None) -> pd.Series | None:
    if code is None or tbl is None or tbl.empty:
        return None
    hit = tbl[tbl["code"] == code]
    return hit.iloc[0] if len(hit) else None


def _shown(value, hidden) -> float:
    return np.nan if bool(hidden) or value is None or pd.isna(value) else float(value)


@cached(maxsize=64)
def spine(code: int, y0: int, y1: int, lang: str = "en") -> pd.DataFrame:
    """One row per measure: the area's published figure with its interval, count, denominator and
    funnel flag (against Denmark), its region's figure, Denmark's, and the lowest, lower quartile,
    upper quartile and highest shown value over all areas of the level, with how many are shown."""
    level = level_of(code)
    if level is None:
        raise ValueError(f"unknown area {code}")
    region = region_of(code, level)
    rows = []
    for key, m in MEASURES.items():
        view = _view(key, level, y0, y1, lang)
        out = {"measure": key, "name": m.name(lang), "kind": m.kind, "published": published_as_asked(view)}
        if out["published"]:
            tbl, national = queries.area_table(view)
            r = _row(tbl, code)
            shown = tbl.loc[~tbl["hidden"].astype(bool) & tbl["value"].notna(), "value"].astype(float)
            hidden = True if r is None else bool(r["hidden"])
            out.update({
                "value": _shown(None if r is None else r["value"], hidden),
                "lower": _shown(None if r is None else r["lower"], hidden),
                "upper": _shown(None if r is None else r["upper"], hidden),
                "count": _shown(None if r is None else r["num_shown"], hidden),
                "denominator": _shown(None if r is None else r["den_shown"], hidden),
                "flag": "hidden" if hidden else str(r["flag"]),
                "status": "unpublished" if r is None else row_status(r),
                "denmark": _shown(national.get("value"), national.get("hidden", False)),
                "denmark_lower": _shown(national.get("lower"), national.get("hidden", False)),
                "denmark_upper": _shown(national.get("upper"), national.get("hidden", False)),
                "lowest": shown.min() if len(shown) else np.nan,
                "q1": shown.quantile(0.25) if len(shown) else np.nan,
                "q3": shown.quantile(0.75) if len(shown) else np.nan,
                "highest": shown.max() if len(shown) else np.nan,
                "areas_shown": int(len(shown)), "areas": int(len(tbl)),
            })
            if region is not None:
                rview = replace(view, level="region")
                rr = _row(queries.area_table(rview)[0], region) if published_as_asked(rview) else None
                rh = True if rr is None else bool(rr["hidden"])
                out.update({"region": _shown(None if rr is None else rr["value"], rh),
                            "region_flag": "hidden" if rh else str(rr["flag"])})
        out["incomplete"] = bool(coverage.in_view(coverage.incomplete_years(key), y0, y1))
        rows.append(out)
    cols = ["measure", "name", "kind", "published", "value", "lower", "upper", "count", "denominator", "flag", "status",
            "region", "region_flag", "denmark", "denmark_lower", "denmark_upper", "lowest", "q1", "q3", "highest",
            "areas_shown", "areas", "incomplete"]
    return pd.DataFrame(rows).reindex(columns=cols)


def compared(flag: str) -> str:
    """"higher", "lower" or "similar" than Denmark beyond chance (95 % funnel limits), "hidden", or
    "not_tested" (no comparison was made: never read as "similar")."""
    if flag in HIGHER:
        return "higher"
    if flag in LOWER:
        return "lower"
    if flag in ("hidden", "", None) or (isinstance(flag, float) and np.isnan(flag)):
        return "hidden"
    if flag == "within":
        return "similar"
    return "not_tested"


@cached(maxsize=64)
def trends(code: int, lang: str = "en") -> pd.DataFrame:
    """Every measure's published single-year figures for the area and Denmark (code 0)."""
    level = level_of(code)
    parts = []
    for key in MEASURES:
        tr = queries.trend_table(_view(key, level, data.years()[-1], data.years()[-1], lang), code)
        if len(tr):
            parts.append(tr.assign(measure=key))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def groups(code: int, y0: int, y1: int, measure: str = "imaging_rate", lang: str = "en") -> pd.DataFrame:
    """The measure by population group for the area (as the atlas's population-group chart)."""
    return queries.breakdown_table(_view(measure, level_of(code), y0, y1, lang), code)


def pathway_mix(code: int, y0: int, y1: int, lang: str = "en") -> pd.DataFrame:
    """Shares of modality, priority, referrer and what followed, for Denmark (code 0) and the area."""
    return queries.mix_table(_view("imaging_rate", level_of(code), y0, y1, lang), code)
