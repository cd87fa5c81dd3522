"""The ``peers`` table: each municipality's comparable municipalities, written once at build time
(issue 27), so the app reads them instead of working them out from published figures on every start.

``peers(code SMALLINT, peer SMALLINT, rank TINYINT, distance DOUBLE, year INTEGER, config_version
VARCHAR)``: one row per municipality and peer, the ``k`` nearest by ``etl/config/peers.toml``
(:func:`etl.stats.peers.nearest_peers` on share 65+, log population and log density), from the
adult residents of ``year`` (the last year of the population cube: residents on 1 January, as
Statistics Denmark publishes them in FOLK1A) and each municipality's land area from the stored DAGI
boundaries (the ``geometry`` table). Only codes, ranks and distances are written: no count.

Hooks (one line each, in the builds):

- the secure build (``etl/build.py``, after ``geo.write_boundaries(collections, app)``):
  ``peers_table.write_peers(app)``
- the release (``etl/release/build.py``, beside ``CREATE TABLE area_centroid AS SELECT * FROM
  sec.area_centroid``): ``peers_table.write_peers(con, source="sec")``

The app (``atlas.data`` ``Source.peers``) reads the table where it exists and otherwise works the
peers out from the published populations as before.
"""
from __future__ import annotations

import json
import re
from typing import Any, Mapping

import pandas as pd

from .peers import load_peer_config, peer_features
from .stats.peers import nearest_peers

__all__ = ["COLUMNS", "band_lower_age", "land_areas_km2", "municipality_population", "peers_frame", "write_peers"]

COLUMNS = ["code", "peer", "rank", "distance", "year", "config_version"]


def band_lower_age(band: str) -> int:
    """The first age of an age band ("65-74" -> 65, "85+" -> 85)."""
    m = re.match(r"\s*(\d+)", str(band))
    if not m:
        raise ValueError(f"age band {band!r} does not start with an age")
    return int(m.group(1))


def _table(source: str | None, name: str) -> str:
    if source is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", source):
        raise ValueError(f"not a database name: {source!r}")
    return f"{source}.{name}" if source else name


def municipality_population(con, source: str | None = None, year: int | None = None) -> tuple[pd.DataFrame, int]:
    """(``municipality``, ``age``, ``persons``) of one year from the population cube, and the year
    (the last one unless given)."""
    cube = _table(source, "population_cube")
    if year is None:
        year = con.execute(f"SELECT max(year) FROM {cube}").fetchall()[0][0]
        if year is None:
            raise ValueError(f"{cube} is empty: no population to find comparable municipalities from")
    pop = con.execute(f"SELECT municipality, age_band, sum(persons)::BIGINT AS persons FROM {cube} "
                      f"WHERE year = ? GROUP BY ALL", [int(year)]).df()
    pop["age"] = [band_lower_age(b) for b in pop["age_band"]]
    return pop[["municipality", "age", "persons"]], int(year)


def land_areas_km2(con, source: str | None = None) -> dict[int, float]:
    """Each municipality's land area (km²) from the stored boundaries (``geometry``)."""
    from shapely.geometry import shape

    from .geometry import area_km2

    rows = con.execute(f"SELECT geojson FROM {_table(source, 'geometry')} WHERE level = 'municipality'").fetchall()
    row = rows[0] if rows else None
    if row is None:
        raise ValueError("no municipality boundaries in the geometry table: write the boundaries first")
    return {int(f["properties"]["code"]): float(area_km2(shape(f["geometry"]))) for f in json.loads(row[0])["features"]}


def peers_frame(population: pd.DataFrame, areas: Mapping[int, float], year: int,
                config: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """The table's rows from one year's population and the land areas (pure: no database)."""
    cfg = dict(config) if config is not None else load_peer_config()
    feats = peer_features(population, areas)
    peers = nearest_peers(feats, cfg["variables"], k=int(cfg["k"]), standardise=cfg.get("standardise", "z"))
    return peers.assign(code=peers["code"].astype(int), peer=peers["peer"].astype(int), rank=peers["rank"].astype(int),
                        distance=peers["distance"].round(4), year=int(year),
                        config_version=str(cfg.get("version") or ""))[COLUMNS]


def write_peers(con, source: str | None = None, config: Mapping[str, Any] | None = None) -> int:
    """Write (or replace) ``peers`` in ``con``'s database from the population cube and boundaries of
    ``source`` (an attached database's name, e.g. "sec" in the release build; None: ``con``'s own).
    Returns the number of rows."""
    population, year = municipality_population(con, source)
    frame = peers_frame(population, land_areas_km2(con, source), year, config)
    con.register("peers_frame_df", frame)
    try:
        con.execute("CREATE OR REPLACE TABLE peers AS SELECT code::SMALLINT AS code, peer::SMALLINT AS peer, "
                    "rank::TINYINT AS rank, distance::DOUBLE AS distance, year::INTEGER AS year, "
                    "config_version::VARCHAR AS config_version FROM peers_frame_df ORDER BY code, rank")
    finally:
        con.unregister("peers_frame_df")
    return len(frame)
