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


def peer_column(code: int, period: tuple[int, int], measures=None) -> pd.DataFrame:
    """The comparable municipalities of ``code`` together, for each measure (the pooled figure of
    :func:`atlas.policy.peer_comparison`: their summed observed over summed expected counts times
    Denmark's rate, or their pooled share; a peer whose count is hidden is left out and counted):
    ``measure``, ``value``, ``lower``, ``upper``, ``status``, ``left_out`` and ``peers`` (codes).
    Empty when the municipality has no peers."""
    from atlas import data, policy
    from atlas.measures import MEASURES

    keys = tuple(measures) if measures is not None else tuple(k for k in data.source().measures()
                                                               if MEASURES[k].kind in ("rate", "share"))
    near = policy.peers_of(code, *period)
    cols = ["measure", "value", "lower", "upper", "status", "left_out", "peers"]
    if not near:
        return pd.DataFrame(columns=cols)
    rows = policy.peer_comparison(code, *period, measures=keys)
    if not len(rows):
        return pd.DataFrame(columns=cols)
    pooled = rows[rows["role"] == "peers"].copy()
    pooled["peers"] = [tuple(near)] * len(pooled)
    return pooled[cols].reset_index(drop=True)
