"""Spatial clustering: neighbours, global and local Moran's I, the false discovery rate, the planted
cluster of the synthetic data, and the null (no cluster: no more hot spots than the error rate allows).

The statistics tests use the municipalities' real representative points (from the test database's
boundaries) and Poisson counts with the real municipality sizes, so they test what the atlas does.
"""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from etl import stats
from etl.synthetic import load_effects

CLUSTER = [int(c) for c in load_effects()["imaging"]["mri_cluster"]["kommune_codes"]]
ISLANDS = {400: "Bornholm", 825: "Læsø", 741: "Samsø", 492: "Ærø", 563: "Fanø"}
PERMUTATIONS = 9999       # as the app: with 999 the smallest p (0.002) cannot pass BH at rank 1 of 98


@pytest.fixture(scope="module")
def munis(atlas_db) -> pd.DataFrame:
    con = duckdb.connect(str(atlas_db), read_only=True)
    try:
        d = con.execute("""
            SELECT c.code, c.lon, c.lat, sum(p.persons) / count(DISTINCT p.year) AS adults
            FROM area_centroid c JOIN population_cube p ON p.municipality = c.code
            WHERE c.level = 'municipality' GROUP BY ALL ORDER BY c.code""").df()
    finally:
        con.close()
    xy = stats.to_km(d["lon"], d["lat"])
    # sizes at scale 0.1 (the test database is at 0.01): the demo atlas's sizes
    return d.assign(x=xy[:, 0], y=xy[:, 1], adults=d["adults"] * 10)


@pytest.fixture(scope="module")
def w(munis):
    return stats.knn_weights(munis[["x", "y"]].to_numpy(), ids=munis["code"], k=5)


def test_knn_weights_give_islands_neighbours(munis, w):
    assert len(munis) == 98 and w.n == 98
    assert not w.islands
    assert all(len(w.neighbors[c]) == 5 for c in munis["code"])
    for code in ISLANDS:
        assert len(w.neighbors[code]) == 5 and code not in w.neighbors[code]
    # row-standardised: each row sums to one
    assert np.allclose(np.asarray(w.sparse.sum(axis=1)).ravel(), 1.0)
    # Bornholm's neighbours are in the Copenhagen area, not on Jutland
    assert all(munis.set_index("code").loc[n, "x"] > munis["x"].median() for n in w.neighbors[400])


def test_knn_weights_refuse_bad_input():
    with pytest.raises(ValueError):
        stats.knn_weights(np.zeros((4, 2)), k=5)
    with pytest.raises(ValueError):
        stats.knn_weights(np.zeros(10), k=2)


def test_to_km_scales_degrees():
    xy = stats.to_km([10.0, 11.0], [56.0, 56.0])
    assert xy[1, 0] - xy[0, 0] == pytest.approx(110.57 * np.cos(np.deg2rad(56.0)), rel=1e-6)
    xy = stats.to_km([10.0, 10.0], [55.0, 56.0])
    assert xy[1, 1] - xy[0, 1] == pytest.approx(110.57)


def test_global_moran_finds_a_gradient_and_not_noise(munis, w):
    gradient = munis["y"].to_numpy()                       # north-south: strongly autocorrelated
    g = stats.global_moran(gradient, w, permutations=999, seed=1)
    assert g.I > 0.5 and g.p_value <= 0.01 and g.expected == pytest.approx(-1 / 97)
    noise = np.random.default_rng(3).normal(size=len(munis))
    g0 = stats.global_moran(noise, w, permutations=999, seed=1)
    assert abs(g0.I) < 0.2 and g0.p_value > 0.01
    # reproducible with a seed, and numpy's global generator is left as it was
    np.random.seed(5)
    before = np.random.random()
    np.random.seed(5)
    again = stats.global_moran(noise, w, permutations=999, seed=1)
    assert again == g0 and np.random.random() == before


def test_benjamini_hochberg():
    p = np.array([0.01, 0.04, 0.03, 0.20])
    # sorted 0.01, 0.03, 0.04, 0.20: p x 4 / rank = 0.04, 0.06, 0.0533, 0.20, then the running
    # minimum from the largest down: 0.04, 0.0533, 0.0533, 0.20
    assert np.allclose(stats.benjamini_hochberg(p), [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.20])
    assert stats.benjamini_hochberg([]).size == 0


def _poisson_rates(munis, rng, cluster_mult=1.0, sd=0.10, rate=0.025):
    """Per-municipality rates from Poisson counts over 12 years, iid random effects (no spatial
    structure), times ``cluster_mult`` in the planted cluster."""
    n = munis["adults"].to_numpy() * 12
    mult = np.exp(rng.normal(0, sd, len(n))) * np.where(munis["code"].isin(CLUSTER), cluster_mult, 1.0)
    return rng.poisson(n * rate * mult) / n


def test_lisa_recovers_a_planted_cluster(munis, w):
    """Six neighbours with twice the MRI rate: most are found as high-high hot spots (FDR 5 %), and
    hardly any municipality outside the cluster and its neighbours is."""
    rng = np.random.default_rng(11)
    is_cluster = munis["code"].isin(CLUSTER).to_numpy()
    near = set(CLUSTER) | {n for c in CLUSTER for n in w.neighbors[c]}
    is_near = munis["code"].isin(near).to_numpy()
    found, far = [], 0
    for rep in range(5):
        r = stats.local_moran(_poisson_rates(munis, rng, 2.0), w, permutations=PERMUTATIONS, seed=rep)
        hh = (r["cluster"] == "high-high").to_numpy()
        found.append(int((hh & is_cluster).sum()))
        far += int((r["significant"].to_numpy() & ~is_near).sum())
        assert (r.loc[is_cluster, "quadrant"] == "high-high").sum() >= 5
    assert np.mean(found) >= 3.5, found
    assert far <= 2


def test_lisa_on_data_without_a_cluster_keeps_the_error_rate(munis, w):
    """No spatial structure: (a) the doubled (two-sided) p-values are calibrated, about alpha of
    the tests are significant without correction (esda's folded p-values alone would give about
    2 alpha); (b) with the false discovery rate, data sets with any hot or cold spot are at most
    about alpha of all (here 60 data sets: at most 8 with a spot, P(>= 9) < 0.01 at 5 %)."""
    rng = np.random.default_rng(2026)
    alpha, reps = 0.05, 60
    raw, any_spot, spots = [], 0, 0
    for rep in range(reps):
        y = _poisson_rates(munis, rng)
        fdr = stats.local_moran(y, w, permutations=PERMUTATIONS, alpha=alpha, seed=rep)
        raw.append(float((fdr["p_value"] <= alpha).mean()))
        n = int(fdr["significant"].sum())
        spots += n
        any_spot += n > 0
    assert 0.03 < np.mean(raw) < 0.07, np.mean(raw)
    assert any_spot <= 8, any_spot
    assert spots / reps <= 0.5


def test_local_moran_checks_and_labels(w):
    y = np.arange(98, dtype=float)
    with pytest.raises(ValueError):
        stats.local_moran(y[:-1], w)
    with pytest.raises(ValueError):
        stats.local_moran(np.where(y == 3, np.nan, y), w)
    with pytest.raises(ValueError):
        stats.local_moran(y, w, correction="bonferroni")
    flat = stats.local_moran(np.ones(98), w, permutations=99)
    assert not flat["significant"].any()
    r = stats.local_moran(y, w, permutations=99, correction="none")
    assert set(r["cluster"]) <= set(stats.spatial.CLUSTER_LABELS)
    assert (r["q_value"] == r["p_value"]).all()
    assert list(r["id"]) == list(w.id_order)


# ------------------------------------------------------------------ the app, on published figures

def test_app_finds_the_planted_mri_cluster(app_db):
    """The atlas's clusters of the MRI rate over the whole period, computed from the published
    (perturbed) table only, find the planted cluster. The test data are small (scale 0.01: about
    30 MRIs a year in Sorø), so the bar is lower than in test_lisa_recovers_a_planted_cluster
    (scale 0.1 sizes, where four or more of the six are hot spots after the FDR correction, as in
    the demo atlas): all six lie in the high-high quadrant, most have an uncorrected p below 5 %
    (under no clustering about 0.3 of six would), the strongest hot spot is one of them and at
    least one survives the false discovery rate."""
    from atlas import clusters, data
    from atlas.filters import View

    years = data.years()
    view = View(y0=years[0], y1=years[-1], dims=(("modality", "mri"),))
    t, summary = clusters.cluster_table(view)
    assert summary["k"] == 5 and summary["permutations"] == 9999 and summary["correction"] == "fdr_bh"
    assert summary["standardised"]["I"] > 0.1 and summary["standardised"]["p_value"] < 0.05
    assert summary["smoothed"] is not None
    cl = t[t["code"].isin(CLUSTER)]
    assert len(cl) == len(CLUSTER) and (cl["quadrant"] == "high-high").all(), cl
    assert (cl["p_value"] < 0.05).sum() >= 4, cl
    hh = t[t["quadrant"] == "high-high"]
    assert hh.sort_values("p_value")["code"].iloc[0] in CLUSTER
    assert set(t.loc[t["cluster"] == "high-high", "code"]) & set(CLUSTER)
    # computed from the shown table: the values are the published estimates
    from atlas import queries

    tbl, _ = queries.area_table(view)
    merged = t.merge(tbl[["code", "value"]], on="code", suffixes=("", "_shown"))
    assert np.allclose(merged["value"], merged["value_shown"])
