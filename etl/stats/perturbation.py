"""Cell-key perturbation of shown counts (protection against differencing between views), with a
perturbation table that is zero-mean for every count.

Method
------
Each cell carries a key in [0, 1) fixed by its records (sum of the records' random keys, mod 1).
The key picks a noise d from a perturbation table, one noise distribution per true count n, by
inverting the distribution's cumulative probabilities, so the same cell always shows the same
number (the cell key method of the ABS TableBuilder, Fraser & Wooton 2005; Marley & Leaver 2011).

The base distribution on -D..D (D = ``max_noise``) has probabilities proportional to
2^(D - |d|) (D = 2: 0.1, 0.2, 0.4, 0.2, 0.1; mean 0, variance 1.2). A shown count must not fall
below ``min_count`` (counts 1 .. min_count-1 are never shown), so for a true count n near the
threshold the noise is restricted to d >= min_count - n. Restricting alone (or clamping the shown
count at min_count, the atlas's earlier rule) makes the noise positive on average (+0.40 at n = 5,
+0.10 at n = 6 for D = 2). The table instead re-weights the restricted distribution to mean 0 by
exponential tilting, q_n(d) proportional to p(d) exp(t_n d) with t_n solving sum d q_n(d) = 0: of
all distributions on the allowed noises with mean 0, it is the one closest to the base
distribution in Kullback-Leibler divergence (Csiszar 1975). The zero-mean constraint is the one
the standard perturbation tables impose for every count (Marley & Leaver 2011; the ``ptable``
package of sdcTools, Enderle, Giessing & Tent 2018, which also fixes the variance; here the
variance follows from the tilting and is reported instead). At n = min_count no negative noise is
allowed, so a zero mean forces d = 0: a true count at the threshold is shown unchanged (an
intruder does not know that it is: a shown min_count can also come from min_count + 1 or + 2).

``perturbation_table`` reports each count's noise probabilities, bias (0) and variance.

References: Fraser B, Wooton J (2005). A proposed method for confidentialising tabular output to
protect against differencing. UNECE/Eurostat Work Session on Statistical Data Confidentiality;
Marley JK, Leaver VL (2011). A method for confidentialising user-defined tables: statistical
properties and a risk-utility analysis. ISI 58th World Statistics Congress; Csiszar I (1975).
I-divergence geometry of probability distributions and minimization problems. Ann Probab
3:146-158; Enderle T, Giessing S, Tent R (2018). Designing confidentiality on the fly tables for
census data (the ptable approach). Privacy in Statistical Databases, LNCS 11126:3-18.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from ._common import _as_float, _out

__all__ = ["perturb", "perturbation_table"]


def _base_noise(max_noise: int) -> tuple[np.ndarray, np.ndarray]:
    """Noise values -D..D and base probabilities proportional to 2^(D - |d|)."""
    d = np.arange(-max_noise, max_noise + 1)
    weights = 2.0 ** (max_noise - np.abs(d))
    return d, weights / weights.sum()


def _tilted(d: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The mean-zero exponential tilt of p on the noises d (which must include 0)."""
    if d.min() >= 0 or d.max() <= 0:  # only one sign allowed: mean 0 means no noise
        return (d == 0).astype(float)

    def mean(t: float) -> float:
        w = p * np.exp(t * d - t * d.max())
        return float((w * d).sum() / w.sum())

    t = optimize.brentq(mean, -60.0, 60.0, xtol=1e-15, rtol=4 * np.finfo(float).eps)
    w = p * np.exp(t * d - t * d.max())
    return w / w.sum()


def _check(max_noise: Any, min_count: Any) -> tuple[int, int]:
    if max_noise < 0 or int(max_noise) != max_noise:
        raise ValueError("max_noise must be a non-negative integer")
    if min_count < 1 or int(min_count) != min_count:
        raise ValueError("min_count must be a positive integer")
    return int(max_noise), int(min_count)


@lru_cache(maxsize=32)
def _table(max_noise: int, min_count: int) -> tuple[np.ndarray, np.ndarray]:
    """Noise values -D..D and a (D + 1) x (2D + 1) matrix: row j holds the noise probabilities for
    a true count of min_count + j (the last row for every larger count)."""
    d, p = _base_noise(max_noise)
    rows = []
    for j in range(max_noise + 1):
        allowed = d >= -j  # n + d >= min_count with n = min_count + j
        q = np.zeros(d.size)
        q[allowed] = _tilted(d[allowed], p[allowed])
        rows.append(q)
    return d, np.array(rows)


def perturbation_table(max_noise: int = 2, min_count: int = 5) -> pd.DataFrame:
    """The perturbation table of ``perturb``: noise probabilities, bias and variance per count.

    One row per true count n = min_count .. min_count + max_noise; the last row holds for every
    count at or above it (no restriction applies there, the base distribution is used). Columns:
    ``count``, ``and_above`` (True on the last row), ``noise_<d>`` for d = -D..D (probability of
    showing n + d), ``bias`` (mean noise, 0 up to rounding) and ``variance`` (noise variance).

    For the atlas's D = 2, min_count = 5: n = 5 is shown unchanged (variance 0); n = 6 gets
    -1, 0, +1, +2 with probabilities 0.3035, 0.4582, 0.1730, 0.0653 (variance 0.74); n >= 7 gets
    -2 .. +2 with 0.1, 0.2, 0.4, 0.2, 0.1 (variance 1.2). The bias is 0 for every count. Counts 1 .. min_count-1 are hidden and 0 is shown as
    0; neither is in the table.
    """
    max_noise, min_count = _check(max_noise, min_count)
    d, q = _table(max_noise, min_count)
    out = pd.DataFrame({"count": min_count + np.arange(max_noise + 1)})
    out["and_above"] = out["count"] == min_count + max_noise
    for i, di in enumerate(d):
        out[f"noise_{di}"] = q[:, i]
    out["bias"] = q @ d
    out["variance"] = q @ (d * d) - out["bias"] ** 2
    return out


def perturb(count: Any, cell_key: Any, max_noise: int = 2, min_count: int = 5) -> Any:
    """Cell-key perturbation of counts (protection against differencing between views).

    ``cell_key`` is a number in [0, 1) computed by the caller from the records of the cell
    (sum of the records' random keys, mod 1), so the same set of records always has the same
    key, whatever query produced the cell. The key picks the noise d by inverting the
    cumulative probabilities of the count's row of ``perturbation_table``: with probabilities
    q(-D), ..., q(D), keys below q(-D) give -D, the next q(-D+1) of the unit interval -D+1, and so
    on. For counts >= min_count + D the row is the base table: for D = 2 the probabilities of
    -2, -1, 0, +1, +2 are 0.1, 0.2, 0.4, 0.2, 0.1, i.e. key < 0.1 -> -2, < 0.3 -> -1,
    < 0.7 -> 0, < 0.9 -> +1, otherwise +2. Nearer the threshold only noises with
    count + d >= min_count are possible and the row is re-weighted to mean 0.

    Output: 0 stays 0; 1 .. min_count-1 become NaN (hidden); counts >= min_count become
    ``count + d`` >= min_count, so a published count is never 1 .. min_count-1. For every true
    count >= min_count the noise has mean 0 over the keys (no bias) and the variance given in
    ``perturbation_table``. The same count and key always give the same result (no random state).

    References: Fraser & Wooton (2005); Marley & Leaver (2011); see the module docstring.
    """
    max_noise, min_count = _check(max_noise, min_count)
    n = _as_float(count, "count")
    key = np.asarray(cell_key, dtype=float)
    if np.any(~np.isfinite(key)) or np.any(key < 0) or np.any(key >= 1):
        raise ValueError("cell_key must lie in [0, 1)")
    n, key = np.broadcast_arrays(n, key)
    d, q = _table(max_noise, min_count)
    # cumulative thresholds, rounded so that the base table's are exactly 0.1, 0.3, ... as written
    cum = np.round(np.cumsum(q, axis=1), 12)
    row = np.clip(np.floor(np.nan_to_num(n)) - min_count, 0, max_noise).astype(np.int64)
    idx = np.zeros(n.shape, dtype=np.int64)
    for j in range(max_noise + 1):
        sel = row == j
        idx[sel] = np.searchsorted(cum[j], key[sel], side="right")
    noise = d[np.minimum(idx, d.size - 1)]
    out = np.where(n >= min_count, n + noise, np.nan)
    out = np.where(n == 0, 0.0, out)
    return _out(out)
