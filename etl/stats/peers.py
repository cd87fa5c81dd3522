"""Comparable areas ("peers"): each area's nearest neighbours in a space of standardised
characteristics (age structure, size, density).

Methods
-------
``nearest_peers``
    Each variable is transformed (log for sizes and densities, whose differences matter in ratio)
    and standardised across the areas, z_v = (x_v - mean_v) / sd_v (or, robustly, by the median
    and 1.4826 x the median absolute deviation), and multiplied by its weight; the distance between
    two areas is the Euclidean distance of their standardised vectors, and an area's peers are the
    k areas nearest to it (itself excluded; ties by area code). This is the nearest-neighbour
    comparator of England's CIPFA "nearest neighbours" model and the ONS area-classification
    approach, applied to the public characteristics named in the configuration.
    Chartered Institute of Public Finance and Accountancy (CIPFA), Nearest Neighbours Model
    (methodology documentation); Office for National Statistics, 2011 Area Classification for
    Local Authorities (methodology: standardised variables, Euclidean distance); Hastie T,
    Tibshirani R, Friedman J (2009), The Elements of Statistical Learning, 2nd ed., section 13.3.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

__all__ = ["nearest_peers", "standardised_features"]

TRANSFORMS = {"none": lambda x: x, "log": np.log}


def standardised_features(features: pd.DataFrame, variables: Iterable[Mapping[str, Any]],
                          standardise: str = "z") -> pd.DataFrame:
    """The matrix the distances are taken in: one row per area, one column per variable.

    ``features``: one row per area (index = area code), with a column per variable name.
    ``variables``: dicts with ``name``, ``transform`` ("none" or "log") and ``weight`` (> 0).
    Each column is transformed, centred and scaled across the areas (``standardise="z"``: mean
    and standard deviation with n - 1; ``"robust"``: median and 1.4826 x median absolute
    deviation), then multiplied by its weight. A variable that does not vary is refused (it
    cannot be standardised), as are missing values and non-positive values under a log.
    """
    if standardise not in ("z", "robust"):
        raise ValueError(f"standardise must be 'z' or 'robust', got {standardise!r}")
    cols = {}
    for v in variables:
        name, transform, weight = v["name"], v.get("transform", "none"), float(v.get("weight", 1.0))
        if name not in features.columns:
            raise ValueError(f"the peer variable {name!r} is not among the features ({', '.join(features.columns)})")
        if transform not in TRANSFORMS:
            raise ValueError(f"transform of {name!r} must be one of {sorted(TRANSFORMS)}, got {transform!r}")
        if not weight > 0:
            raise ValueError(f"the weight of {name!r} must be positive")
        x = features[name].to_numpy(dtype=float)
        bad = ~np.isfinite(x) | ((x <= 0) if transform == "log" else False)
        if bad.any():
            codes = ", ".join(map(str, features.index[bad][:5]))
            raise ValueError(f"{name!r} is missing{' or not positive' if transform == 'log' else ''} for areas {codes}")
        x = TRANSFORMS[transform](x)
        if standardise == "z":
            centre, spread = x.mean(), x.std(ddof=1)
        else:
            centre = np.median(x)
            spread = 1.4826 * np.median(np.abs(x - centre))
        if not spread > 0:
            raise ValueError(f"{name!r} does not vary across the areas and cannot be standardised")
        cols[name] = weight * (x - centre) / spread
    if not cols:
        raise ValueError("no peer variables given")
    return pd.DataFrame(cols, index=features.index)


def nearest_peers(features: pd.DataFrame, variables: Iterable[Mapping[str, Any]], k: int = 5,
                  standardise: str = "z") -> pd.DataFrame:
    """Each area's ``k`` nearest areas in the standardised feature space.

    ``features`` (index = area code) and ``variables`` as in ``standardised_features``. Returns
    one row per area and peer, sorted by area then rank: ``code``, ``peer``, ``rank`` (1 = the
    nearest) and ``distance`` (in standard deviations). Ties in distance are broken by the peer's
    code, so the result is the same on every run. The input is not changed.
    """
    k = int(k)
    z = standardised_features(features, variables, standardise)
    n = len(z)
    if not 1 <= k < n:
        raise ValueError(f"k must be between 1 and the number of areas - 1 ({n - 1}), got {k}")
    m = z.to_numpy()
    d = np.sqrt(((m[:, None, :] - m[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(d, np.inf)
    codes = z.index.to_numpy()
    rows = []
    for i in range(n):
        order = np.lexsort((codes, d[i]))[:k]        # by distance, then by code
        for rank, j in enumerate(order, start=1):
            rows.append((codes[i], codes[j], rank, float(d[i, j])))
    return pd.DataFrame(rows, columns=["code", "peer", "rank", "distance"])
