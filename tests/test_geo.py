"""Boundaries (etl/geo.py) and the tile map (etl/config/tilemap.csv)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import shapely
from shapely.geometry import shape

from etl import geo

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
GEO_DIR = SHARED / "geo"
MUNI_CSV = SHARED / "reference" / "municipalities.csv"
TILEMAP = REPO / "etl" / "config" / "tilemap.csv"

needs_geo = pytest.mark.skipif(
    not (GEO_DIR / geo.MUNICIPALITIES_FILE).is_file() or not MUNI_CSV.is_file(),
    reason=f"DAGI boundaries or municipalities.csv not found in {SHARED} (../shared beside the repo)",
)
needs_ref = pytest.mark.skipif(not MUNI_CSV.is_file(), reason=f"{MUNI_CSV} not found")


@pytest.fixture(scope="module")
def ref() -> pd.DataFrame:
    return pd.read_csv(MUNI_CSV)


@pytest.fixture(scope="module")
def collections():
    return geo.build_boundaries(GEO_DIR, MUNI_CSV)


@pytest.fixture(scope="module")
def raw():
    return geo.load_municipality_geometries(GEO_DIR)


def _geoms(fc) -> dict[int, object]:
    return {f["properties"]["code"]: shape(f["geometry"]) for f in fc["features"]}


# ----------------------------------------------------------------------------- boundaries


@needs_geo
def test_levels_codes_and_names(collections, ref):
    assert set(collections) == {"municipality", "region", "region2027"}

    muni = collections["municipality"]["features"]
    assert len(muni) == 98
    assert {f["properties"]["code"] for f in muni} == set(ref["kommune_code"])
    names = dict(zip(ref["kommune_code"], ref["kommune_name"]))
    for f in muni:
        assert f["id"] == f["properties"]["code"]
        assert f["properties"]["name"] == names[f["properties"]["code"]]
    assert geo.CHRISTIANSO_CODE not in {f["id"] for f in muni}

    regions = {f["id"]: f["properties"]["name"] for f in collections["region"]["features"]}
    assert regions == dict(zip(ref["region_code"], ref["region_name"]))
    assert set(regions) == {1081, 1082, 1083, 1084, 1085}

    r27 = {f["id"]: f["properties"]["name"] for f in collections["region2027"]["features"]}
    assert r27 == {
        1081: "Region Nordjylland",
        1082: "Region Midtjylland",
        1083: "Region Syddanmark",
        geo.REGION_OSTDANMARK_CODE: "Region Østdanmark",
    }
    for fc in collections.values():
        for f in fc["features"]:
            assert f["id"] == f["properties"]["code"] and isinstance(f["id"], int)


@needs_geo
def test_ostdanmark_is_hovedstaden_plus_sjaelland(collections, ref):
    muni = _geoms(collections["municipality"])
    ost = _geoms(collections["region2027"])[geo.REGION_OSTDANMARK_CODE]
    east = set(ref.loc[ref["region_code"].isin([1084, 1085]), "kommune_code"])
    assert len(east) == 46
    inside = {c for c, g in muni.items() if ost.intersection(g).area > 0.5 * g.area}
    assert inside == east
    # the union of exactly those municipalities
    union = shapely.union_all([muni[c] for c in east])
    assert union.symmetric_difference(ost).area < 1e-6 * ost.area


@needs_geo
def test_regions_are_dissolved_municipalities_and_match_dagi_regions(collections, ref):
    muni = _geoms(collections["municipality"])
    regions = _geoms(collections["region"])
    with open(GEO_DIR / geo.REGIONS_FILE, encoding="utf-8") as f:
        dagi = json.load(f)
    dagi_by_code: dict[int, list] = {}
    for feat in dagi["features"]:
        dagi_by_code.setdefault(int(feat["properties"]["REGIONKODE"]), []).append(
            shapely.force_2d(shape(feat["geometry"]))
        )
    for code, g in regions.items():
        members = ref.loc[ref["region_code"] == code, "kommune_code"]
        union = shapely.union_all([muni[c] for c in members])
        assert union.symmetric_difference(g).area < 1e-6 * g.area
        reference = geo.area_km2(shapely.union_all(dagi_by_code[code]))
        assert abs(geo.area_km2(g) / reference - 1) < 0.02, code


@needs_geo
def test_geometries_valid_and_islands_kept(collections):
    for level, fc in collections.items():
        for f in fc["features"]:
            g = shape(f["geometry"])
            assert g.is_valid, (level, f["id"], shapely.is_valid_reason(g))
            assert not g.is_empty and g.area > 0
            assert g.geom_type in ("Polygon", "MultiPolygon")
    muni = _geoms(collections["municipality"])
    # island municipalities: Læsø, Fanø, Samsø, Ærø, Bornholm (km², roughly)
    for code, km2 in {825: 118, 563: 56, 741: 114, 492: 88, 400: 588}.items():
        assert abs(geo.area_km2(muni[code]) / km2 - 1) < 0.1, code


@needs_geo
def test_shared_borders_stay_shared(collections, raw):
    muni = _geoms(collections["municipality"])
    # the whole layer is still a coverage: no overlaps, shared edges identical
    assert shapely.coverage_is_valid(list(muni.values()))

    # neighbours before simplification (sharing a border of positive length)...
    codes = sorted(raw)
    tree = shapely.STRtree([raw[c] for c in codes])
    left, right = tree.query([raw[c] for c in codes], predicate="intersects")
    pairs = {
        (codes[i], codes[j])
        for i, j in zip(left, right)
        if codes[i] < codes[j]
        and raw[codes[i]].boundary.intersection(raw[codes[j]].boundary).length > 0
    }
    assert (101, 147) in pairs                      # København / Frederiksberg
    assert len(pairs) > 150
    # ...still share a border of positive length, and do not overlap
    for a, b in sorted(pairs):
        ga, gb = muni[a], muni[b]
        shared = ga.boundary.intersection(gb.boundary).length
        assert shared > 0, (a, b)
        assert ga.intersection(gb).area < 1e-9, (a, b)
    # Frederiksberg is an enclave in København, and stays one
    assert muni[101].touches(muni[147])
    assert muni[147].boundary.difference(muni[101].boundary).length < 1e-9


@needs_geo
def test_size_budget_and_bounds(collections):
    size = len(geo.to_json(collections["municipality"]).encode("utf-8"))
    assert size <= 400_000, size
    for fc in collections.values():
        text = geo.to_json(fc)
        # coordinates carry at most 4 decimals
        for f in fc["features"][:5]:
            for x, y in geo._iter_lonlat(f["geometry"]["coordinates"]):
                assert round(x, 4) == x and round(y, 4) == y
        assert "-999" not in text
    lon0, lat0, lon1, lat1 = geo.area_bounds(collections["municipality"])
    assert 7.9 < lon0 < 8.3 and 15.0 < lon1 < 15.3
    assert 54.5 < lat0 < 54.7 and 57.6 < lat1 < 57.8
    # bounds of one area
    b = geo.area_bounds(collections["municipality"], [400])
    assert b[0] > 14.5 and b[2] < 15.3


@needs_geo
def test_write_boundaries_to_duckdb(collections):
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    con.execute("CREATE TABLE geometry (x INTEGER)")      # replaced
    geo.write_boundaries(collections, con)
    geo.write_boundaries(collections, con)                # idempotent
    rows = dict(con.execute("SELECT level, geojson FROM geometry").fetchall())
    assert set(rows) == {"municipality", "region", "region2027"}
    assert json.loads(rows["region"]) == json.loads(geo.to_json(collections["region"]))
    assert geo.read_boundaries(con)["region2027"]["features"][0]["id"] == 1081
    counts = dict(con.execute("SELECT level, count(*) FROM area_centroid GROUP BY level").fetchall())
    assert counts == {"municipality": 98, "region": 5, "region2027": 4}
    types = con.execute("DESCRIBE area_centroid").fetchall()
    assert [(t[0], t[1]) for t in types] == [
        ("level", "VARCHAR"), ("code", "INTEGER"), ("lon", "DOUBLE"), ("lat", "DOUBLE")
    ]
    # each point lies inside its own area
    muni = _geoms(collections["municipality"])
    pts = con.execute(
        "SELECT code, lon, lat FROM area_centroid WHERE level = 'municipality'"
    ).fetchall()
    for code, lon, lat in pts:
        assert muni[code].buffer(1e-4).contains(shapely.Point(lon, lat)), code
    # Hovedstaden's label sits on Zealand, not on Bornholm
    lon, = con.execute(
        "SELECT lon FROM area_centroid WHERE level = 'region' AND code = 1084"
    ).fetchone()
    assert lon < 13


def test_missing_geo_dir_raises(tmp_path):
    missing = tmp_path / "shared" / "geo"
    with pytest.raises(geo.BoundariesMissing) as err:
        geo.build_boundaries(missing, tmp_path / "municipalities.csv")
    msg = str(err.value)
    assert geo.MUNICIPALITIES_FILE in msg
    assert "municipalities.csv" in msg
    assert "../shared/geo/" in msg


@needs_ref
def test_missing_geo_file_only(tmp_path):
    with pytest.raises(geo.BoundariesMissing, match="dagi_kommuner_2014.geojson"):
        geo.build_boundaries(tmp_path, MUNI_CSV)


# ----------------------------------------------------------------------------- tile map


def test_tilemap_valid():
    csv = MUNI_CSV if MUNI_CSV.is_file() else None
    t = geo.load_tilemap(TILEMAP, csv)
    assert len(t) == 98 and t["kommune_code"].is_unique
    assert not t.duplicated(["row", "col"]).any()
    assert (t[["row", "col"]] >= 0).all().all()
    assert geo.load_tilemap()["kommune_code"].tolist() == t["kommune_code"].tolist()


def test_tilemap_is_geographic():
    t = geo.load_tilemap(TILEMAP).set_index("kommune_code")
    north = max(t.loc[860, "row"], t.loc[813, "row"])       # Hjørring, Frederikshavn
    south = min(t.loc[550, "row"], t.loc[540, "row"])       # Tønder, Sønderborg
    assert north < south
    assert t.loc[400, "col"] == t["col"].max()              # Bornholm far right
    assert (t["col"] == t["col"].max()).sum() == 1
    assert t.loc[561, "col"] < t.loc[101, "col"]            # Esbjerg west of København
    assert t.loc[101, "col"] > t.loc[461, "col"] > t.loc[561, "col"]   # Odense between
    assert t.loc[217, "row"] < t.loc[101, "row"]            # Helsingør north of København
    assert t.loc[360, "row"] > t.loc[265, "row"]            # Lolland south of Roskilde


@needs_ref
def test_tilemap_regions_contiguous(ref):
    """Each region's tiles form one edge-connected block, apart from true islands."""
    t = geo.load_tilemap(TILEMAP).merge(ref, on="kommune_code")
    islands = {825, 400}                                     # Læsø, Bornholm
    for code, sub in t.groupby("region_code"):
        cells = {(r, c) for r, c, k in zip(sub["row"], sub["col"], sub["kommune_code"])
                 if k not in islands}
        start = next(iter(cells))
        seen, todo = {start}, [start]
        while todo:
            r, c = todo.pop()
            for n in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
                if n in cells and n not in seen:
                    seen.add(n)
                    todo.append(n)
        assert seen == cells, code


@needs_ref
def test_tilemap_capital_cluster(ref):
    """The Capital region (without Bornholm) is a compact block at the right."""
    t = geo.load_tilemap(TILEMAP).merge(ref, on="kommune_code")
    cap = t[(t["region_code"] == 1084) & (t["kommune_code"] != 400)]
    assert len(cap) == 28
    height = cap["row"].max() - cap["row"].min() + 1
    width = cap["col"].max() - cap["col"].min() + 1
    assert height * width <= 40
    rest = t[t["region_code"] != 1084]
    assert cap["col"].min() > rest[rest["region_code"].isin([1081, 1082, 1083])]["col"].max()


def test_load_tilemap_rejects_bad_files(tmp_path):
    good = pd.read_csv(TILEMAP)
    clash = good.copy()
    clash.loc[1, ["row", "col"]] = clash.loc[0, ["row", "col"]].values
    p = tmp_path / "clash.csv"
    clash.to_csv(p, index=False)
    with pytest.raises(ValueError, match="share a cell"):
        geo.load_tilemap(p)
    dup = good.copy()
    dup.loc[1, "kommune_code"] = dup.loc[0, "kommune_code"]
    dup.to_csv(p, index=False)
    with pytest.raises(ValueError, match="twice"):
        geo.load_tilemap(p)
    neg = good.copy()
    neg.loc[0, "row"] = -1
    neg.to_csv(p, index=False)
    with pytest.raises(ValueError, match="negative"):
        geo.load_tilemap(p)
    good.iloc[:-1].to_csv(p, index=False)
    with pytest.raises(ValueError, match="98"):
        geo.load_tilemap(p)
