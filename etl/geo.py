"""Boundaries for the atlas maps: municipalities, regions and the 2027 regions.

The boundaries are read at build time from the DAGI files in ``../shared/geo/`` beside the
repository (third-party data, never copied into the repository) and reduced to three small
GeoJSON FeatureCollections for the browser:

``municipality``
    The 98 municipalities. ``code`` is the municipality code as an integer (101 for
    København ... 860 for Hjørring), ``name`` its name from ``municipalities.csv``.
    Christiansø (DAGI code 0411) belongs to no municipality and is dropped.
``region``
    The 5 regions, ``code`` 1081 Nordjylland, 1082 Midtjylland, 1083 Syddanmark,
    1084 Hovedstaden, 1085 Sjælland (the official region codes).
``region2027``
    The 4 regions from 1 January 2027. Nordjylland, Midtjylland and Syddanmark keep their
    codes (1081, 1082, 1083). Region Østdanmark (Hovedstaden + Sjælland) gets
    ``REGION_OSTDANMARK_CODE`` = 1090: a code of this project, not an official one.

Every feature has ``id`` equal to ``properties.code``, so a plotly choropleth can use
``featureidkey="id"`` or ``featureidkey="properties.code"``. Exterior rings are
clockwise (d3-geo's convention, which plotly's ``go.Choropleth`` on a geo subplot needs).

How the geometry is made (``build_boundaries``):

1. The DAGI polygons are dissolved by municipality code.
2. Islets smaller than ``min_islet_km2`` are dropped (never a municipality's largest part,
   so Læsø, Fanø, Samsø, Ærø and Bornholm stay).
3. The municipality *coverage* is simplified with ``shapely.coverage_simplify``
   (topology-preserving Visvalingam-Whyatt on shared edges: each border between two
   municipalities is simplified once, so neighbours still share it exactly and no gaps
   or overlaps appear). The tolerance is in metres, in a local equirectangular projection
   centred on Denmark.
4. Coordinates are rounded to 4 decimals (about 11 m north-south, 6 m east-west).
5. Regions are the union of the simplified municipalities, so region borders coincide
   exactly with municipal borders.

Maps must credit the source: ``ATTRIBUTION``.

Why shapely alone, without geopandas and pyproj: metres are needed only to size two things, the
islets to drop and the simplification tolerance, and for those a local equirectangular projection
(two scale factors at Denmark's latitude, ``etl.geometry``) is within a few per cent
over the country. The geometry itself (dissolve, make_valid, coverage simplification) is shapely's.
A GeoDataFrame and a PROJ transformation (EPSG:4326 to 25832) would add two heavy dependencies and
change nothing the maps show, so the project does not depend on geopandas.
"""
from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping, shape

from etl.geometry import (
    _clean,
    _drop_islets,
    _largest_part,
    _polygonal,
    _round,
    _to_degrees,
    _to_metres,
)
from etl.geometry import area_km2 as area_km2  # used by the tests as geo.area_km2

MUNICIPALITIES_FILE = "dagi_kommuner_2014.geojson"
REGIONS_FILE = "dagi_regioner_2014.geojson"   # only used to check the dissolved regions
ATTRIBUTION = "Contains data from the Danish Agency for Climate Data (DAGI)"

LEVELS = ("municipality", "region", "region2027")
CHRISTIANSO_CODE = 411
REGION_OSTDANMARK_CODE = 1090      # project code for Region Østdanmark (from 2027)

DEFAULT_TOLERANCE_M = 150.0        # coverage simplification tolerance, metres
DEFAULT_MIN_ISLET_KM2 = 0.5        # islets smaller than this are dropped

_CSV_COLUMNS = ("kommune_code", "kommune_name", "region_code", "region_name", "region_2027_name")


class BoundariesMissing(Exception):
    """The boundary or reference files the build needs are not where they are expected."""


def _check_inputs(geo_dir: Path, municipalities_csv: Path | None) -> None:
    wanted = [Path(geo_dir) / MUNICIPALITIES_FILE]
    if municipalities_csv is not None:
        wanted.append(Path(municipalities_csv))
    missing = [p for p in wanted if not p.is_file()]
    if missing:
        names = ", ".join(str(p) for p in missing)
        raise BoundariesMissing(
            f"Boundary/reference file(s) not found: {names}. "
            f"The atlas reads the DAGI boundaries ({MUNICIPALITIES_FILE}) from the folder "
            "'shared/geo/' and municipalities.csv from 'shared/reference/', where 'shared' "
            "sits beside the repository (../shared/geo/ and ../shared/reference/ seen from "
            "the repository root). Put the files there (or point [paths] geo_dir and "
            "reference_dir in etl/config/settings.toml at them) and run the build again. "
            "They are third-party data and are never copied into the repository."
        )


# --------------------------------------------------------------------------- reading


def read_municipalities_csv(path: Path) -> pd.DataFrame:
    """The reference table of the 98 municipalities, with integer codes."""
    df = pd.read_csv(path)
    absent = [c for c in _CSV_COLUMNS if c not in df.columns]
    if absent:
        raise ValueError(f"{path}: missing column(s) {absent}")
    df = df.loc[:, list(_CSV_COLUMNS)].copy()
    df["kommune_code"] = df["kommune_code"].astype(int)
    df["region_code"] = df["region_code"].astype(int)
    if df["kommune_code"].duplicated().any():
        dups = sorted(df.loc[df["kommune_code"].duplicated(), "kommune_code"].tolist())
        raise ValueError(f"{path}: duplicated kommune_code {dups}")
    return df


def _force_2d(geom):
    return shapely.force_2d(geom)


def load_municipality_geometries(geo_dir: Path) -> dict[int, Any]:
    """Unsimplified municipality geometries (lon/lat), dissolved by code, Christiansø dropped.

    Returns ``{code: Polygon | MultiPolygon}``. Used by the build and by the tests.
    """
    _check_inputs(geo_dir, None)
    with open(Path(geo_dir) / MUNICIPALITIES_FILE, encoding="utf-8") as f:
        fc = json.load(f)
    parts: dict[int, list] = defaultdict(list)
    for feat in fc["features"]:
        code = int(str(feat["properties"]["KOMKODE"]).strip())
        if code == CHRISTIANSO_CODE:
            continue
        g = _force_2d(shape(feat["geometry"]))
        if not g.is_valid:
            g = shapely.make_valid(g)
        parts[code].append(g)
    out = {}
    for code, geoms in parts.items():
        g = geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)
        out[code] = _polygonal(g)
    return out


# --------------------------------------------------------------------------- building


def _coverage_simplify(geoms_m: list, tolerance: float) -> list:
    if tolerance <= 0:
        return list(geoms_m)
    if not hasattr(shapely, "coverage_simplify"):
        raise RuntimeError(
            f"shapely {shapely.__version__} has no coverage_simplify: the boundaries need "
            "shapely >= 2.1 (GEOS >= 3.12) to simplify while keeping shared borders shared."
        )
    return list(shapely.coverage_simplify(np.asarray(geoms_m, dtype=object), tolerance))


def _to_list(coords):
    if isinstance(coords, (tuple, list)):
        if coords and isinstance(coords[0], (int, float)):
            return [float(c) for c in coords]
        return [_to_list(c) for c in coords]
    return coords


def _feature(code: int, name: str, geom) -> dict:
    gj = mapping(geom)
    return {
        "type": "Feature",
        "id": int(code),
        "properties": {"code": int(code), "name": str(name)},
        "geometry": {"type": gj["type"], "coordinates": _to_list(gj["coordinates"])},
    }


def _collection(items: Iterable[tuple[int, str, Any]]) -> dict:
    feats = [_feature(c, n, g) for c, n, g in sorted(items, key=lambda t: t[0])]
    return {"type": "FeatureCollection", "features": feats}


def _dissolve(geoms: dict[int, Any], groups: dict[int, list[int]]) -> dict[int, Any]:
    out = {}
    for key, codes in groups.items():
        u = shapely.union_all([geoms[c] for c in codes])
        out[key] = _clean(_round(u))
    return out


def build_boundaries(
    geo_dir: Path,
    municipalities_csv: Path,
    tolerance: float = DEFAULT_TOLERANCE_M,
    min_islet_km2: float = DEFAULT_MIN_ISLET_KM2,
) -> dict[str, dict]:
    """Read, dissolve and simplify the DAGI boundaries into three FeatureCollections.

    ``geo_dir`` is the folder holding ``dagi_kommuner_2014.geojson`` (``../shared/geo``
    beside the repository); ``municipalities_csv`` the reference table
    (``../shared/reference/municipalities.csv``). ``tolerance`` is the coverage
    simplification tolerance in metres (roughly the square root of the area of the
    triangles removed); 0 disables simplification. ``min_islet_km2``: islets below this
    area are dropped, but never a municipality's largest part.

    Returns ``{"municipality": fc, "region": fc, "region2027": fc}`` (GeoJSON dicts,
    coordinates rounded to 4 decimals, features sorted by code). Raises
    ``BoundariesMissing`` when an input file is absent and ``ValueError`` when the
    boundary file and the reference table disagree on the municipalities.
    """
    geo_dir = Path(geo_dir)
    _check_inputs(geo_dir, Path(municipalities_csv))
    ref = read_municipalities_csv(Path(municipalities_csv))
    raw = load_municipality_geometries(geo_dir)

    ref_codes = set(ref["kommune_code"])
    geo_codes = set(raw)
    if ref_codes != geo_codes:
        raise ValueError(
            "The boundary file and municipalities.csv disagree: codes only in the boundary "
            f"file {sorted(geo_codes - ref_codes)}, only in the CSV {sorted(ref_codes - geo_codes)}"
        )

    codes = sorted(ref_codes)
    min_area_m2 = float(min_islet_km2) * 1e6
    metres = [_drop_islets(_to_metres(raw[c]), min_area_m2) for c in codes]
    simplified = _coverage_simplify(metres, float(tolerance))
    muni = {c: _clean(_round(_to_degrees(g))) for c, g in zip(codes, simplified)}
    empty = [c for c, g in muni.items() if g.is_empty]
    if empty:
        raise ValueError(f"Simplification left municipalities {empty} empty; lower the tolerance")

    names = dict(zip(ref["kommune_code"], ref["kommune_name"]))

    # regions (2007-2026)
    region_groups: dict[int, list[int]] = defaultdict(list)
    region_names: dict[int, str] = {}
    for row in ref.itertuples(index=False):
        region_groups[int(row.region_code)].append(int(row.kommune_code))
        region_names[int(row.region_code)] = str(row.region_name)

    # regions from 2027: a region that keeps its name keeps its code; a merged one gets
    # REGION_OSTDANMARK_CODE
    r27_groups: dict[int, list[int]] = defaultdict(list)
    r27_names: dict[int, str] = {}
    for name27, sub in ref.groupby("region_2027_name", sort=True):
        old = sorted(set(sub["region_code"]))
        if len(old) == 1 and str(sub["region_name"].iloc[0]) == str(name27):
            code27 = int(old[0])
        else:
            code27 = REGION_OSTDANMARK_CODE
        if code27 in r27_groups:
            raise ValueError(f"More than one merged 2027 region; cannot give them one code ({name27})")
        r27_groups[code27] = sorted(int(c) for c in sub["kommune_code"])
        r27_names[code27] = str(name27)

    regions = _dissolve(muni, region_groups)
    regions27 = _dissolve(muni, r27_groups)

    return {
        "municipality": _collection((c, names[c], muni[c]) for c in codes),
        "region": _collection((c, region_names[c], g) for c, g in regions.items()),
        "region2027": _collection((c, r27_names[c], g) for c, g in regions27.items()),
    }


# --------------------------------------------------------------------------- output


def to_json(collection: dict) -> str:
    """Compact JSON (coordinates are already rounded by ``build_boundaries``)."""
    return json.dumps(collection, separators=(",", ":"), ensure_ascii=False)


def representative_points(collection: dict) -> list[tuple[int, float, float]]:
    """``(code, lon, lat)`` per feature: a point inside the feature's largest part.

    Inside the area (unlike a centroid), and on the main land mass of a region with islands
    (Hovedstaden's point is on Zealand, not Bornholm): good for labels and zooming.
    """
    out = []
    for feat in collection["features"]:
        g = shape(feat["geometry"])
        p = _largest_part(g).point_on_surface()
        out.append((int(feat["properties"]["code"]), round(p.x, 5), round(p.y, 5)))
    return out


def write_boundaries(collections: dict[str, dict], con) -> None:
    """Store the collections in an open DuckDB connection (existing tables are replaced).

    ``geometry(level VARCHAR, geojson VARCHAR)``: one row per level, compact GeoJSON.
    ``area_centroid(level VARCHAR, code INTEGER, lon DOUBLE, lat DOUBLE)``: a representative
    point (inside the area) per feature, for labels and zooming.
    """
    con.execute("CREATE OR REPLACE TABLE geometry (level VARCHAR, geojson VARCHAR)")
    con.execute(
        "CREATE OR REPLACE TABLE area_centroid (level VARCHAR, code INTEGER, lon DOUBLE, lat DOUBLE)"
    )
    geo_rows = [(level, to_json(fc)) for level, fc in collections.items()]
    pt_rows = [
        (level, code, lon, lat)
        for level, fc in collections.items()
        for code, lon, lat in representative_points(fc)
    ]
    if geo_rows:
        con.executemany("INSERT INTO geometry VALUES (?, ?)", geo_rows)
    if pt_rows:
        con.executemany("INSERT INTO area_centroid VALUES (?, ?, ?, ?)", pt_rows)


def read_boundaries(con) -> dict[str, dict]:
    """The collections written by ``write_boundaries``, ``{level: FeatureCollection}``."""
    rows = con.execute("SELECT level, geojson FROM geometry").fetchall()
    return {level: json.loads(text) for level, text in rows}


def _iter_lonlat(coords):
    if coords and isinstance(coords[0], (int, float)):
        yield coords[0], coords[1]
        return
    for c in coords:
        yield from _iter_lonlat(c)


def area_bounds(collection: dict, codes: Iterable[int] | None = None) -> tuple[float, float, float, float]:
    """``(min_lon, min_lat, max_lon, max_lat)`` of the collection or of the features in ``codes``.

    Pure Python over the GeoJSON dict (no shapely), so the app can call it cheaply; with
    the municipality layer and no codes it is the extent of Denmark.
    """
    wanted = None if codes is None else {int(c) for c in codes}
    lo_x = lo_y = math.inf
    hi_x = hi_y = -math.inf
    for feat in collection["features"]:
        if wanted is not None and int(feat["properties"]["code"]) not in wanted:
            continue
        for x, y in _iter_lonlat(feat["geometry"]["coordinates"]):
            lo_x, hi_x = min(lo_x, x), max(hi_x, x)
            lo_y, hi_y = min(lo_y, y), max(hi_y, y)
    if lo_x == math.inf:
        raise ValueError("area_bounds: no matching features")
    return lo_x, lo_y, hi_x, hi_y


# --------------------------------------------------------------------------- tile map


def load_tilemap(path: Path | None = None, municipalities_csv: Path | None = None) -> pd.DataFrame:
    """Load and validate the equal-area tile map ``etl/config/tilemap.csv``.

    The file has the columns ``kommune_code,row,col``: one square tile per municipality,
    98 rows. ``row`` 0 is the top (north) and ``col`` 0 the left (west). The grid was laid
    out by hand from general knowledge of where each municipality lies relative to its
    neighbours (not computed from the DAGI boundaries): North Jutland at the top left,
    Jutland down the left-hand columns, Funen in the middle, Zealand and the islands south
    of it to the right, the 28 Capital-region municipalities of North Zealand and
    Copenhagen as a dense block at the right (København at its east edge with Tårnby and
    Dragør below it), Bornholm alone at the far right. Empty cells are sea. Each tile has
    equal area, so small municipalities are as visible as large ones.

    Checks: the three columns, non-negative integers, 98 unique codes, no two tiles on the
    same cell and, when ``municipalities_csv`` is given, exactly its codes. Raises
    ``ValueError`` naming the problem. Returns the frame sorted by ``kommune_code``.
    """
    path = Path(path) if path is not None else Path(__file__).resolve().parent / "config" / "tilemap.csv"
    df = pd.read_csv(path)
    cols = ["kommune_code", "row", "col"]
    if list(df.columns) != cols:
        raise ValueError(f"{path}: columns must be {cols}, found {list(df.columns)}")
    for c in cols:
        if df[c].isna().any() or not pd.api.types.is_integer_dtype(df[c]):
            raise ValueError(f"{path}: column {c} must hold integers only")
        if (df[c] < 0).any():
            raise ValueError(f"{path}: column {c} has negative values")
    df = df.astype(int)
    if df["kommune_code"].duplicated().any():
        dups = sorted(set(df.loc[df["kommune_code"].duplicated(), "kommune_code"]))
        raise ValueError(f"{path}: municipality codes listed twice: {dups}")
    if len(df) != 98:
        raise ValueError(f"{path}: expected 98 municipalities, found {len(df)}")
    cell = df.duplicated(["row", "col"], keep=False)
    if cell.any():
        clash = df.loc[cell].sort_values(["row", "col"]).values.tolist()
        raise ValueError(f"{path}: tiles share a cell (kommune_code, row, col): {clash}")
    if municipalities_csv is not None:
        ref = set(read_municipalities_csv(Path(municipalities_csv))["kommune_code"])
        have = set(df["kommune_code"])
        if have != ref:
            raise ValueError(
                f"{path}: codes differ from {municipalities_csv}: missing {sorted(ref - have)}, "
                f"unknown {sorted(have - ref)}"
            )
    return df.sort_values("kommune_code").reset_index(drop=True)
