"""Comparable municipalities (etl/stats/peers.py, etl/peers.py, etl/config/peers.toml): distances
worked by hand, invariances of the standardisation, and a sanity check on the real DAGI areas and
the rounded populations of ../shared/reference (small islands are each other's peers)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from etl.peers import load_peer_config, municipality_areas_km2, municipality_peers, peer_features
from etl.stats.peers import nearest_peers, standardised_features

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
needs_shared = pytest.mark.skipif(
    not (SHARED / "geo").is_dir() or not (SHARED / "reference" / "municipalities.csv").is_file(),
    reason=f"../shared (DAGI boundaries, municipalities.csv) not found at {SHARED}")

ONE = [{"name": "a", "transform": "none", "weight": 1.0}]


def test_one_variable_by_hand():
    # values 0, 1, 3, 10: mean 3.5, squared deviations 12.25 + 6.25 + 0.25 + 42.25 = 61,
    # sd = sqrt(61 / 3) = 4.5092; the distance of 0 and 1 is 1 / 4.5092 = 0.22177 sd.
    f = pd.DataFrame({"a": [0.0, 1.0, 3.0, 10.0]}, index=[11, 12, 13, 14])
    p = nearest_peers(f, ONE, k=1)
    assert dict(zip(p.code, p.peer)) == {11: 12, 12: 11, 13: 12, 14: 13}
    assert p.distance.iloc[0] == pytest.approx(1 / math.sqrt(61 / 3), rel=1e-12)
    p2 = nearest_peers(f, ONE, k=3)
    assert list(p2[p2.code == 14].peer) == [13, 12, 11] and list(p2[p2.code == 14]["rank"]) == [1, 2, 3]
    assert 11 not in set(p2[p2.code == 11].peer)                    # never its own peer


def test_two_variables_weights_and_ties():
    # a square: 1 (0,0), 2 (1,0), 3 (0,1), 4 (1,1): 1's two nearest are at equal distance, tie by code
    f = pd.DataFrame({"x": [0.0, 1, 0, 1], "y": [0.0, 0, 1, 1]}, index=[1, 2, 3, 4])
    v = [{"name": "x", "transform": "none", "weight": 1.0}, {"name": "y", "transform": "none", "weight": 1.0}]
    p = nearest_peers(f, v, k=2)
    assert list(p[p.code == 1].peer) == [2, 3]
    # weighting y three times makes x-neighbours nearer: 4's nearest becomes 3 (differs in x only)
    v[1]["weight"] = 3.0
    p = nearest_peers(f, v, k=1)
    assert dict(zip(p.code, p.peer)) == {1: 2, 2: 1, 3: 4, 4: 3}


def test_units_do_not_matter():
    rng = np.random.default_rng(1)
    f = pd.DataFrame({"share": rng.uniform(0.15, 0.30, 30), "pop": np.exp(rng.uniform(8, 13, 30)),
                      "dens": np.exp(rng.uniform(2, 9, 30))}, index=range(100, 130))
    v = [{"name": "share", "transform": "none", "weight": 1}, {"name": "pop", "transform": "log", "weight": 1},
         {"name": "dens", "transform": "log", "weight": 1}]
    before = f.copy()
    base = nearest_peers(f, v, k=5)
    assert f.equals(before)                                     # the input is not changed
    scaled = f.assign(share=f.share * 100, pop=f["pop"] * 1000, dens=f.dens / 2.59)   # percent, other units
    again = nearest_peers(scaled, v, k=5)
    assert base[["code", "peer", "rank"]].equals(again[["code", "peer", "rank"]])
    assert np.allclose(base.distance, again.distance)
    robust = nearest_peers(f, v, k=5, standardise="robust")
    assert len(robust) == 150 and (robust.code != robust.peer).all()


def test_bad_input_is_named():
    f = pd.DataFrame({"a": [1.0, 1.0, 1.0]}, index=[1, 2, 3])
    with pytest.raises(ValueError, match="does not vary"):
        nearest_peers(f, ONE, k=1)
    with pytest.raises(ValueError, match="not among the features"):
        nearest_peers(f, [{"name": "b"}], k=1)
    g = pd.DataFrame({"a": [1.0, 0.0, 2.0]}, index=[1, 2, 3])
    with pytest.raises(ValueError, match="not positive for areas 2"):
        standardised_features(g, [{"name": "a", "transform": "log"}])
    with pytest.raises(ValueError, match="k must be"):
        nearest_peers(g, ONE, k=3)


def test_configuration_loads():
    cfg = load_peer_config()
    assert cfg["k"] >= 1 and cfg["version"]
    assert {v["name"] for v in cfg["variables"]} == {"share_65plus", "population", "density"}


@needs_shared
def test_real_areas_give_sensible_peers():
    """On the DAGI land areas and the approximate populations: the small islands (Læsø, Samsø,
    Fanø, Ærø) have each other among their peers, and Copenhagen's peers are large or dense."""
    areas = municipality_areas_km2(SHARED / "geo")
    assert len(areas) == 98
    # Copenhagen municipality covers a little under 100 km² of land
    assert 70 < areas[101] < 100
    m = pd.read_csv(SHARED / "reference" / "municipalities.csv").set_index("kommune_code")
    # a made-up age split (not real figures): 20 % aged 65+ everywhere, so only size and density decide
    pop = pd.concat([
        pd.DataFrame({"municipality": m.index, "age": 40, "persons": m.approx_population_2024 * 0.8}),
        pd.DataFrame({"municipality": m.index, "age": 70, "persons": m.approx_population_2024 * 0.2})])
    feats = peer_features(pop, areas)
    assert feats.share_65plus.round(12).eq(0.2).all()
    cfg = load_peer_config()
    cfg["variables"] = [v for v in cfg["variables"] if v["name"] != "share_65plus"]
    peers = municipality_peers(pop, SHARED / "geo", cfg)
    assert len(peers) == 98 * cfg["k"]
    islands = {825, 741, 563, 492}                      # Læsø, Samsø, Fanø, Ærø
    for code in islands:
        mine = set(peers[peers.code == code].peer)
        assert len(mine & islands) >= 2, (code, mine)
    big = set(m.index[m.approx_population_2024 >= 100_000]) | set(feats.index[feats.density >= 1000])
    assert set(peers[peers.code == 101].peer) <= big
    with pytest.raises(ValueError, match="no DAGI area"):
        peer_features(pop, {k: v for k, v in areas.items() if k != 101})
