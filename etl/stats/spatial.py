"""Spatial autocorrelation: global Moran's I and local Moran's I (LISA) with esda and libpysal.

Neighbours
    :func:`knn_weights`: the ``k`` nearest areas by the distance between their representative
    points (projected to kilometres), row-standardised (each row sums to 1, so the spatial lag of
    an area is the mean of its neighbours' values). k-nearest neighbours give every area the same
    number of neighbours and handle islands (Bornholm, Læsø, Samsø, Ærø, Fanø have no land
    neighbour, so contiguity weights would make them isolates that no test can use). The weights
    are not symmetric (A may be among B's nearest without B among A's); Moran's I does not need them
    to be.

Global Moran's I
    :func:`global_moran`: ``esda.Moran`` with random permutations of the values over the areas. The
    permutation p-value is two-sided: esda's ``p_sim`` counts the permutations at least as extreme
    on the observed side, (b + 1) / (n + 1); it is doubled (at most 1).

Local Moran's I
    :func:`local_moran`: ``esda.Moran_Local`` with conditional permutations (each area's value kept,
    the others permuted among its neighbours). esda's ``p_sim`` is folded (one-sided, on whichever
    side the observed statistic lies), so under the null it is uniform on (0, 0.5]; it is doubled
    to a two-sided p-value (otherwise a nominal 5 % test rejects about 10 % of true nulls). With one
    test per area, the p-values are corrected for multiple testing with the Benjamini-Hochberg
    false discovery rate (``scipy.stats.false_discovery_control``): an area is a hot or cold spot
    when its q-value is at most ``alpha``. With no clustering at all, the chance of any spot is then
    at most about ``alpha`` (BH controls the family-wise error under the complete null).

Quadrants: ``high-high`` (a high value among high neighbours, a hot spot), ``low-low`` (cold spot),
``high-low`` and ``low-high`` (spatial outliers); ``not significant`` otherwise.

References: Anselin L. Local indicators of spatial association - LISA. Geographical Analysis
1995;27:93-115. Benjamini Y, Hochberg Y. Controlling the false discovery rate. JRSS B 1995;57:289-300.
"""
from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

QUADRANTS = {1: "high-high", 2: "low-high", 3: "low-low", 4: "high-low"}
NOT_SIGNIFICANT = "not significant"
CLUSTER_LABELS = ("high-high", "low-low", "high-low", "low-high", NOT_SIGNIFICANT)
_KM_PER_DEGREE_LAT = 110.57
_global_rng_lock = threading.Lock()


@dataclass(frozen=True)
class GlobalMoran:
    I: float              # noqa: E741  Moran's I
    expected: float       # its expectation under no autocorrelation, -1 / (n - 1)
    z: float              # (I - mean of the permutations) / their sd
    p_value: float        # two-sided permutation p-value
    permutations: int
    n: int

    def as_dict(self) -> dict:
        return {"I": self.I, "expected": self.expected, "z": self.z, "p_value": self.p_value,
                "permutations": self.permutations, "n": self.n}


def to_km(lon, lat) -> np.ndarray:
    """Longitude and latitude (degrees) as x, y in kilometres (equirectangular at the mean latitude;
    across Denmark the distortion is well under 1 %)."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    lat0 = np.deg2rad(np.nanmean(lat)) if len(lat) else 0.0
    return np.column_stack([lon * _KM_PER_DEGREE_LAT * np.cos(lat0), lat * _KM_PER_DEGREE_LAT])


def knn_weights(points, ids=None, k: int = 5):
    """Row-standardised k-nearest-neighbour weights (``libpysal.weights.KNN``) on projected points."""
    from libpysal.weights import KNN

    pts = np.asarray(points, float)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError("points must be an (n, 2) array of projected coordinates")
    n = len(pts)
    if n <= k:
        raise ValueError(f"k-nearest neighbours need more than k = {k} areas, got {n}")
    ids = list(range(n)) if ids is None else [int(i) for i in ids]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = KNN.from_array(pts, k=k, ids=ids)
    w.transform = "r"
    return w


def global_moran(values, w, permutations: int = 9999, seed: int | None = 0) -> GlobalMoran:
    """Global Moran's I of ``values`` (in the order of ``w.id_order``) with a permutation test."""
    from esda.moran import Moran

    y = np.asarray(values, float)
    if len(y) != w.n:
        raise ValueError(f"{len(y)} values for {w.n} areas")
    if not np.isfinite(y).all():
        raise ValueError("values must be finite (leave hidden areas out of the weights)")
    # esda draws its permutations from numpy's global generator: seed it, and put it back after
    with _global_rng_lock:
        state = np.random.get_state()
        try:
            if seed is not None:
                np.random.seed(seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m = Moran(y, w, transformation="r", permutations=permutations)
        finally:
            np.random.set_state(state)
    p = min(1.0, 2.0 * float(m.p_sim)) if permutations else float(m.p_norm)
    z = float(m.z_sim) if permutations else float(m.z_norm)
    return GlobalMoran(float(m.I), float(m.EI), z, p, int(permutations), int(w.n))


def benjamini_hochberg(p) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values), via ``scipy.stats.false_discovery_control``."""
    from scipy.stats import false_discovery_control

    p = np.asarray(p, float)
    if p.size == 0:
        return p.copy()
    return false_discovery_control(np.clip(p, 0.0, 1.0), method="bh")


def local_moran(values, w, permutations: int = 9999, alpha: float = 0.05, correction: str = "fdr_bh",
                seed: int | None = 0) -> pd.DataFrame:
    """Local Moran's I per area: one row per id of ``w`` (in ``w.id_order``).

    Columns: ``id``, ``value``, ``lag`` (mean of the neighbours' values), ``I`` (local statistic),
    ``quadrant`` (high-high, low-high, low-low, high-low), ``p_value`` (two-sided conditional
    permutation p-value), ``q_value`` (Benjamini-Hochberg; equal to ``p_value`` when
    ``correction="none"``), ``significant`` (``q_value <= alpha``) and ``cluster`` (the quadrant
    when significant, else "not significant").
    """
    from esda.moran import Moran_Local

    if correction not in ("fdr_bh", "none"):
        raise ValueError("correction must be 'fdr_bh' or 'none'")
    if not 0 < alpha < 1:
        raise ValueError("alpha must lie between 0 and 1")
    if permutations < 1:
        raise ValueError("local Moran's I needs permutations")
    y = np.asarray(values, float)
    if len(y) != w.n:
        raise ValueError(f"{len(y)} values for {w.n} areas")
    if not np.isfinite(y).all():
        raise ValueError("values must be finite (leave hidden areas out of the weights)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # esda's notice about its future default alternative
        lm = Moran_Local(y, w, transformation="r", permutations=permutations, seed=seed, keep_simulations=True)
    p = np.minimum(1.0, 2.0 * np.asarray(lm.p_sim, float))
    if np.ptp(y) == 0:                           # no variation: nothing to test
        p = np.ones_like(y)
    q = benjamini_hochberg(p) if correction == "fdr_bh" else p
    quadrant = np.array([QUADRANTS.get(int(v), NOT_SIGNIFICANT) for v in lm.q], dtype=object)
    significant = q <= alpha
    w_r = w.sparse.toarray() if hasattr(w, "sparse") else None
    lag = w_r @ y if w_r is not None else np.full_like(y, np.nan)
    return pd.DataFrame({
        "id": list(w.id_order), "value": y, "lag": lag, "I": np.asarray(lm.Is, float), "quadrant": quadrant,
        "p_value": p, "q_value": q, "significant": significant,
        "cluster": np.where(significant, quadrant, NOT_SIGNIFICANT),
    })
