"""Comparable municipalities at build time: the public features of each municipality (share aged
65+, population, density from the DAGI land area) and their nearest peers by
``etl/config/peers.toml`` (the statistic itself is ``etl.stats.peers.nearest_peers``).

The boundaries are read from ``../shared/geo`` (never copied into the repository). The population
by age is what the build already has (residents on 1 January of a year, as Statistics Denmark
publishes it in StatBank FOLK1A); no person-level data leave this module, only 98 rows of
features and the peer list.
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from .settings import CONFIG_DIR
from .stats.peers import nearest_peers

__all__ = ["load_peer_config", "municipality_areas_km2", "peer_features", "municipality_peers"]

PEERS_FILE = CONFIG_DIR / "peers.toml"


def load_peer_config(path: Path | None = None) -> dict[str, Any]:
    """``peers.toml`` as a dict: ``k``, ``standardise``, ``variables`` (name, transform, weight)
    and ``version``."""
    path = Path(path) if path else PEERS_FILE
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    cfg = dict(raw.get("peers", {}))
    if "variables" not in cfg or "k" not in cfg:
        raise ValueError(f"{path}: [peers] needs k and at least one [[peers.variables]]")
    cfg["version"] = raw.get("version")
    return cfg


def municipality_areas_km2(geo_dir: Path) -> dict[int, float]:
    """Land area (km²) of each municipality from the DAGI polygons in ``geo_dir``."""
    from .geo import load_municipality_geometries
    from .geometry import area_km2

    return {code: float(area_km2(g)) for code, g in load_municipality_geometries(Path(geo_dir)).items()}


def peer_features(population: pd.DataFrame, areas_km2: Mapping[int, float], old_age: int = 65) -> pd.DataFrame:
    """One row per municipality (index ``municipality``): ``population``, ``share_65plus`` and
    ``density`` (residents per km²).

    ``population``: residents of one year, columns ``municipality``, ``age`` and ``persons``
    (counts by single year or band of age; ages at or above ``old_age`` count as 65+).
    A municipality without an area is refused, naming it.
    """
    need = {"municipality", "age", "persons"}
    if not need <= set(population.columns):
        raise ValueError(f"population needs the columns {sorted(need)}, got {list(population.columns)}")
    g = population.assign(old=lambda x: x.persons.where(x.age >= old_age, 0)).groupby("municipality")
    out = pd.DataFrame({"population": g.persons.sum(), "old": g.old.sum()})
    missing = [int(c) for c in out.index if int(c) not in areas_km2]
    if missing:
        raise ValueError(f"no DAGI area for municipalities {missing[:10]}: check ../shared/geo")
    out["share_65plus"] = out.old / out.population
    out["density"] = out.population / [areas_km2[int(c)] for c in out.index]
    return out.drop(columns="old")


def municipality_peers(population: pd.DataFrame, geo_dir: Path, config: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Peers of every municipality: ``code``, ``peer``, ``rank``, ``distance`` (see
    ``etl.stats.peers.nearest_peers``), plus ``config_version``."""
    cfg = dict(config) if config is not None else load_peer_config()
    feats = peer_features(population, municipality_areas_km2(geo_dir))
    peers = nearest_peers(feats, cfg["variables"], k=int(cfg["k"]), standardise=cfg.get("standardise", "z"))
    return peers.assign(config_version=cfg.get("version"))
