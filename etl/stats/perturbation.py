"""Cell-key perturbation of shown counts (protection against differencing between views).

Reference: Fraser B, Wooton J (2005). A proposed method for confidentialising tabular output to
protect against differencing. UNECE/Eurostat Work Session on Statistical Data Confidentiality;
Marley JK, Leaver VL (2011). A method for confidentialising user-defined tables: statistical
properties and a risk-utility analysis. ISI 58th World Statistics Congress.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ._common import _as_float, _out

__all__ = ["perturb"]


def _noise_table(max_noise: int) -> tuple[np.ndarray, np.ndarray]:
    """Noise values -D..D and integer weights 2^(D - |d|) (for D = 2: 1, 2, 4, 2, 1)."""
    d = np.arange(-max_noise, max_noise + 1)
    weights = 2 ** (max_noise - np.abs(d))
    return d, weights


def perturb(count: Any, cell_key: Any, max_noise: int = 2, min_count: int = 5) -> Any:
    """Cell-key perturbation of counts (protection against differencing between views).

    ``cell_key`` is a number in [0, 1) computed by the caller from the records of the cell
    (sum of the records' random keys, mod 1), so the same set of records always has the same
    key, whatever query produced the cell. The key is mapped to noise d in -D..D
    (D = ``max_noise``) with probability proportional to 2^(D - |d|): for D = 2 the
    probabilities of -2, -1, 0, +1, +2 are 0.1, 0.2, 0.4, 0.2, 0.1 (mean 0, variance 1.2),
    i.e. key < 0.1 -> -2, < 0.3 -> -1, < 0.7 -> 0, < 0.9 -> +1, otherwise +2.

    Output: 0 stays 0; 1 .. min_count-1 become NaN (hidden); counts >= min_count become
    ``max(min_count, count + d)``, so a published count is never 1 .. min_count-1.
    The same count and key always give the same result (no random state).

    Reference: Fraser B, Wooton J (2005). A proposed method for confidentialising tabular
    output to protect against differencing. UNECE/Eurostat Work Session on Statistical Data
    Confidentiality; Marley JK, Leaver VL (2011). A method for confidentialising user-defined
    tables: statistical properties and a risk-utility analysis. ISI 58th World Statistics
    Congress (ABS TableBuilder); ONS (2018), cell key method for Census 2021 outputs.
    """
    if max_noise < 0 or int(max_noise) != max_noise:
        raise ValueError("max_noise must be a non-negative integer")
    n = _as_float(count, "count")
    key = np.asarray(cell_key, dtype=float)
    if np.any(~np.isfinite(key)) or np.any(key < 0) or np.any(key >= 1):
        raise ValueError("cell_key must lie in [0, 1)")
    n, key = np.broadcast_arrays(n, key)
    d, weights = _noise_table(int(max_noise))
    cum = np.cumsum(weights)
    idx = np.searchsorted(cum, key * cum[-1], side="right")
    noise = d[np.minimum(idx, d.size - 1)]
    out = np.where(n >= min_count, np.maximum(min_count, n + noise), np.nan)
    out = np.where(n == 0, 0.0, out)
    return _out(out)
