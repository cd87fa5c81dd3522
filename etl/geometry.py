"""Geometry helpers for the boundaries: a local equirectangular projection (metres) centred on
Denmark, rounding, polygon parts, islets, cleaning and areas (see :mod:`etl.geo` for why shapely alone)."""
from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

COORD_DECIMALS = 4

# Local equirectangular projection (metres) used for simplification and areas.
_EARTH_RADIUS_M = 6_371_008.8
_M_PER_DEG_LAT = _EARTH_RADIUS_M * math.pi / 180.0
_REF_LAT = 56.0
_M_PER_DEG_LON = _M_PER_DEG_LAT * math.cos(math.radians(_REF_LAT))




def _to_metres(geoms):
    return shapely.transform(
        geoms, lambda c: np.column_stack((c[:, 0] * _M_PER_DEG_LON, c[:, 1] * _M_PER_DEG_LAT))
    )


def _to_degrees(geoms):
    return shapely.transform(
        geoms, lambda c: np.column_stack((c[:, 0] / _M_PER_DEG_LON, c[:, 1] / _M_PER_DEG_LAT))
    )


def _round(geoms, decimals: int = COORD_DECIMALS):
    return shapely.transform(geoms, lambda c: np.round(c, decimals))


def _polygon_parts(g) -> list[Polygon]:
    if g is None or g.is_empty:
        return []
    if isinstance(g, Polygon):
        return [g]
    if isinstance(g, MultiPolygon):
        return list(g.geoms)
    if hasattr(g, "geoms"):   # GeometryCollection from make_valid
        out: list[Polygon] = []
        for sub in g.geoms:
            out.extend(_polygon_parts(sub))
        return out
    return []                 # points / lines: degenerate


def _polygonal(g):
    """Keep only non-empty polygon parts with positive area; Polygon or MultiPolygon."""
    parts = [p for p in _polygon_parts(g) if not p.is_empty and p.area > 0]
    if not parts:
        return Polygon()
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def _drop_islets(g_m, min_area_m2: float):
    """Drop polygon parts under ``min_area_m2`` (in metres), always keeping the largest."""
    parts = _polygon_parts(g_m)
    if len(parts) <= 1 or min_area_m2 <= 0:
        return g_m
    biggest = max(parts, key=lambda p: p.area)
    kept = [p for p in parts if p is biggest or p.area >= min_area_m2]
    return kept[0] if len(kept) == 1 else MultiPolygon(kept)


def _clean(g):
    """Valid, polygonal, no repeated points, exterior rings clockwise.

    Clockwise exteriors are d3-geo's convention (spherical polygons: the inside is on the right),
    which Plotly's geo maps use; RFC 7946's counter-clockwise rings make d3 fill the whole globe
    outside each shape.
    """
    g = shapely.remove_repeated_points(g)
    if not g.is_valid:
        g = shapely.make_valid(g)
    g = _polygonal(g)
    return shapely.orient_polygons(g, exterior_cw=True)


def _largest_part(g) -> Polygon:
    parts = _polygon_parts(g)
    return max(parts, key=lambda p: _to_metres(p).area)


def area_km2(g) -> float:
    """Area of a lon/lat geometry in km² (local equirectangular projection, ~0.5% accurate)."""
    # correct the fixed reference latitude for the geometry's own latitude
    lat = g.centroid.y
    scale = math.cos(math.radians(lat)) / math.cos(math.radians(_REF_LAT))
    return _to_metres(g).area * scale / 1e6
