"""Spatial clusters for the app: global Moran's I and local Moran's I (LISA) of what the map shows.

Everything is computed from the *published* municipality table (:func:`atlas.queries.area_table`:
the served source's counts and the estimates made from them); hidden municipalities are left out
of the neighbours. The statistics are in :mod:`etl.stats.spatial`, the settings (neighbours,
permutations, false discovery rate) in ``etl/config/spatial.toml``.

- :func:`cluster_table`: one row per shown municipality with its value, the mean of its
  neighbours, the local statistic, p- and q-value and cluster (high-high, low-low, high-low,
  low-high, not significant), and a summary: global Moran's I of the view's values, of the
  age- and sex-standardised rate and of the smoothed (empirical Bayes) rate, each with a
  permutation p-value.
"""
from __future__ import annotations

import tomllib
from dataclasses import replace

import pandas as pd

from atlas import db, queries
from atlas.cache import cached
from atlas.filters import View
from atlas.measures import MEASURES
from etl import stats
from etl.settings import CONFIG_DIR

MIN_AREAS = 10          # fewer shown municipalities than this: no spatial statistics


@cached(maxsize=1)
def config() -> dict:
    with open(CONFIG_DIR / "spatial.toml", "rb") as fh:
        c = tomllib.load(fh)
    if c["neighbours"]["method"] != "knn":
        raise ValueError("etl/config/spatial.toml: only k-nearest neighbours ('knn') are supported")
    return c


@cached(maxsize=1)
def points() -> pd.DataFrame:
    """Municipality code -> x, y in km (from the representative points of the boundaries)."""
    p = db.query("SELECT code, lon, lat FROM area_centroid WHERE level = 'municipality' ORDER BY code")
    xy = stats.to_km(p["lon"], p["lat"])
    return pd.DataFrame({"code": p["code"].astype(int), "x": xy[:, 0], "y": xy[:, 1]})


def _key(view: View) -> View:
    """Only what changes the values: municipality level, no selection or drill-down, no presentation."""
    return replace(view, level="municipality", area=None, within=None, map="geo", sep=",", lang="en",
                   colours="own", breaks="", tables=0)


def weights_for(codes) -> object:
    """kNN weights among the given municipality codes (in that order)."""
    c = config()
    pts = points().set_index("code").loc[list(codes)]
    return stats.knn_weights(pts[["x", "y"]].to_numpy(), ids=list(codes), k=int(c["neighbours"]["k"]))


def _shown(view: View) -> pd.DataFrame:
    tbl, _ = queries.area_table(view)
    have = set(points()["code"])
    ok = ~tbl["hidden"].astype(bool) & tbl["value"].notna() & tbl["code"].isin(have)
    return tbl[ok].sort_values("code").reset_index(drop=True)


def _global(view: View) -> dict | None:
    t = _shown(view)
    if len(t) < MIN_AREAS:
        return None
    c = config()
    w = weights_for(t["code"])
    g = stats.global_moran(t["value"].to_numpy(), w, permutations=int(c["permutations"]["n"]),
                           seed=int(c["permutations"]["seed"]))
    return g.as_dict()


def cluster_table(view: View) -> tuple[pd.DataFrame, dict]:
    """The LISA table of the view's values (municipalities) and the global summary; see the module."""
    return _cluster_table(_key(view))


@cached(maxsize=128)
def _cluster_table(view: View) -> tuple[pd.DataFrame, dict]:
    c = config()
    m = MEASURES[view.measure]
    t = _shown(view)
    summary = {"n": len(t), "k": int(c["neighbours"]["k"]), "permutations": int(c["permutations"]["n"]),
               "alpha": float(c["significance"]["alpha"]), "correction": c["significance"]["correction"],
               "view": _global(view) if len(t) >= MIN_AREAS else None, "standardised": None, "smoothed": None}
    if m.kind == "rate":
        summary["standardised"] = _global(replace(view, rates="isr"))
        summary["smoothed"] = _global(replace(view, rates="eb"))
    columns = ["code", "name", "value", "lag", "I", "quadrant", "p_value", "q_value", "cluster"]
    if len(t) < MIN_AREAS:
        return pd.DataFrame(columns=columns), summary
    w = weights_for(t["code"])
    lisa = stats.local_moran(t["value"].to_numpy(), w, permutations=summary["permutations"],
                             alpha=summary["alpha"], correction=summary["correction"],
                             seed=int(c["permutations"]["seed"]))
    out = t[["code", "name"]].reset_index(drop=True).join(lisa.drop(columns=["id", "significant"]))
    summary["counts"] = {k: int((out["cluster"] == k).sum()) for k in stats.spatial.CLUSTER_LABELS}
    return out[columns], summary


def clusters_of(view: View) -> pd.Series:
    """Municipality code -> cluster label ("not significant" where no test was possible)."""
    t, _ = cluster_table(view)
    return t.set_index("code")["cluster"] if len(t) else pd.Series(dtype=object)


def hot_and_cold(view: View) -> dict[str, list[str]]:
    """Names of the municipalities in each significant cluster type, for the panel."""
    t, _ = cluster_table(view)
    out = {}
    for label in ("high-high", "low-low", "high-low", "low-high"):
        names = t.loc[t["cluster"] == label, "name"].astype(str).tolist() if len(t) else []
        out[label] = sorted(names)
    return out


def clear_caches() -> None:
    _cluster_table.cache_clear()
    points.cache_clear()


__all__ = ["cluster_table", "clusters_of", "hot_and_cold", "config", "points", "weights_for", "clear_caches"]
