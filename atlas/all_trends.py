"""Every area's trend of one measure (the small multiples of ``/trends``), read year by year through
:func:`atlas.queries.area_table` (the published single-year tables of areas, nothing more), and
whether each area's change from the first to the last complete year is beyond chance
(:func:`etl.stats.difference_beyond_chance` on the two published estimates and intervals).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from atlas import coverage, data, queries
from atlas.cache import cached
from atlas.filters import View
from atlas.measures import MEASURES
from atlas.profile import published_as_asked
from etl import stats

ORDERS = ("level", "change", "name")


def nearest(measure: str, level: str) -> tuple[str, str, list[str]]:
    """The nearest (measure, level) whose single years the source publishes, and what changed: a
    measure without estimates gives way to the default one; a level with fewer than two published
    single years to the regions."""
    changes = []
    offered = data.source().measures()
    if measure not in offered and offered:
        measure, changes = ("imaging_rate" if "imaging_rate" in offered else offered[0]), ["measure"]
    if level == "municipality" and yearly(measure, level)[0]["year"].nunique() < 2:
        level = "region"
        changes.append("level")
    return measure, level, changes


@cached(maxsize=64)
def yearly(measure: str, level: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(areas, Denmark): one row per area (or Denmark) and published single year, with ``year``."""
    areas, national = [], []
    for year in data.years():
        view = View(measure=measure, level=level, y0=year, y1=year)
        if not published_as_asked(view):
            continue
        tbl, nat = queries.area_table(view)
        areas.append(tbl[["code", "name", "value", "lower", "upper", "hidden", "flag"]].assign(year=year))
        national.append({"year": year, "value": nat.get("value"), "hidden": bool(nat.get("hidden", False))})
    frame = pd.concat(areas, ignore_index=True) if areas else pd.DataFrame(
        columns=["code", "name", "value", "lower", "upper", "hidden", "flag", "year"])
    nat = pd.DataFrame(national, columns=["year", "value", "hidden"])
    return frame, nat[~nat["hidden"].astype(bool)]


def complete_years(measure: str, frame: pd.DataFrame) -> list[int]:
    """The complete years with published figures, in order."""
    incomplete = coverage.incomplete_years(measure)
    return sorted(int(y) for y in frame["year"].unique() if int(y) not in incomplete) if len(frame) else []


def change_years(measure: str, frame: pd.DataFrame, first: int | None = None,
                 last: int | None = None) -> tuple[int, int] | None:
    """The two compared years: ``first`` and ``last`` when both are complete published years and
    ``first`` is before ``last``; otherwise the first and last complete years (None when fewer than
    two). A year the reader left out (None) is the first or last complete one."""
    years = complete_years(measure, frame)
    if len(years) < 2:
        return None
    a = years[0] if first is None else int(first)
    b = years[-1] if last is None else int(last)
    if a in years and b in years and a < b:
        return a, b
    return years[0], years[-1]


def changes(frame: pd.DataFrame, first: int, last: int, kind: str) -> pd.DataFrame:
    """Per area shown in both years: the two values, the change and its verdict (+1 rose beyond
    chance, -1 fell, 0 not beyond chance) at 95%."""
    shown = frame[~frame["hidden"].astype(bool) & frame["value"].notna()]
    a = shown[shown["year"] == first].set_index("code")
    b = shown[shown["year"] == last].set_index("code")
    both = a.index.intersection(b.index)
    a, b = a.loc[both], b.loc[both]
    verdict = stats.difference_beyond_chance(a["value"], a["lower"], a["upper"], b["value"], b["lower"], b["upper"],
                                             log=(kind == "rate"))
    return pd.DataFrame({"code": both.astype(int), "first": a["value"].to_numpy(), "last": b["value"].to_numpy(),
                         "change": (b["value"] - a["value"]).to_numpy(), "verdict": np.asarray(verdict, dtype=int)})


def order_of(frame: pd.DataFrame, change: pd.DataFrame, order: str) -> list[int]:
    """Area codes in reading order: highest last value first ("level"), largest rise first
    ("change"), or by name; areas without a value in the compared years come last."""
    codes = sorted(set(int(c) for c in frame["code"])) if len(frame) else []
    names = frame.drop_duplicates("code").set_index("code")["name"] if len(frame) else pd.Series(dtype=object)
    if order == "name":
        return sorted(codes, key=lambda c: str(names.get(c, c)))
    column = "last" if order == "level" else "change"
    ranked = [int(c) for c in change.sort_values(column, ascending=False)["code"]]
    return ranked + sorted(set(codes) - set(ranked), key=lambda c: str(names.get(c, c)))


def small_multiples_data(measure: str, level: str, order: str, first: int | None = None, last: int | None = None):
    """Everything the small multiples draw: the yearly frame, Denmark, the order, names, verdicts
    and the two compared years (the reader's ``first`` and ``last`` where both can be compared, see
    :func:`change_years`; None when fewer than two complete years are published)."""
    frame, national = yearly(measure, level)
    years = change_years(measure, frame, first, last)
    change = changes(frame, *years, MEASURES[measure].kind) if years else pd.DataFrame(
        columns=["code", "first", "last", "change", "verdict"])
    names = {int(c): n for c, n in zip(frame["code"], frame["name"])}
    return frame, national, order_of(frame, change, order), names, change, years
