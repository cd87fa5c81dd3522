"""The data of the compare page: areas side by side on every measure (their profile rows) and
two measures paired by area, read through :mod:`atlas.profile` and :mod:`atlas.queries` only."""
from __future__ import annotations

import pandas as pd

from atlas import profile, queries
from atlas.filters import View


def side_by_side(codes: list[int], period: tuple[int, int], lang: str) -> pd.DataFrame:
    """Every measure for each area (profile spine rows), long: code, measure, name, value, interval, flag."""
    parts = [profile.spine(c, *period, lang).assign(code=c) for c in codes]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def paired(x_key: str, y_key: str, level: str, period: tuple[int, int]) -> pd.DataFrame:
    """Areas shown on both measures: code, name, value_x/lower_x/upper_x and the same for y."""
    out = []
    for key, suffix in ((x_key, "_x"), (y_key, "_y")):
        view = View(measure=key, level=level, y0=period[0], y1=period[1])
        if not profile.published_as_asked(view):
            return pd.DataFrame(columns=["code", "name", "value_x", "lower_x", "upper_x", "value_y", "lower_y", "upper_y"])
        tbl = queries.area_table(view)[0]
        tbl = tbl[~tbl["hidden"].astype(bool) & tbl["value"].notna()]
        out.append(tbl[["code", "name", "value", "lower", "upper"]].rename(
            columns={c: c + suffix for c in ("value", "lower", "upper")}))
    return out[0].merge(out[1].drop(columns="name"), on="code")
