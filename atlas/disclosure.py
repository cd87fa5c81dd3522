"""The one gate every count passes before it leaves the app (screen, hover, CSV, URL).

1. Cell-key perturbation (:func:`etl.stats.perturb`): a shown count is the true count plus a small
   noise (at most ±2) fixed by the records behind it, so the same cell always shows the same
   number, and differencing two overlapping views gives a noisy answer, not a small count.
2. Primary suppression: a true count from 1 to 4 is never shown.
3. Secondary suppression (:func:`etl.stats.suppress`): where a hidden cell could be recovered by
   subtracting shown cells from a shown total, more cells are hidden.

Estimates (rates, shares, intervals) are computed from the shown counts, or scaled to them, so a
count cannot be recovered from a rate either.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from etl import stats


def note(lang: str) -> str:
    """How the figures in front of the reader are protected: the served database's own rule (the
    release publishes exact counts and hides cells; the secure database perturbs as well)."""
    from atlas import db
    from atlas.i18n import t

    return t("suppression_note_release" if db.is_release() else "suppression_note", lang)


def settings():
    from atlas import db

    m = db.meta()
    return int(m.get("min_count", 5)), bool(m.get("perturb", True)), int(m.get("max_noise", 2))


def shown_counts(count, key) -> np.ndarray:
    """Counts as the app may show them: perturbed, with 1..min_count-1 as NaN."""
    min_count, perturb, max_noise = settings()
    count = np.asarray(count, dtype=float)
    if perturb:
        return np.asarray(stats.perturb(count, np.mod(np.asarray(key, dtype=float), 1.0),
                                        max_noise=max_noise, min_count=min_count), dtype=float)
    out = count.copy()
    out[(count >= 1) & (count < min_count)] = np.nan
    return out


def protect(table: pd.DataFrame, groups: list[list[str]] | None = None) -> pd.DataFrame:
    """Add ``num_shown``, ``den_shown`` and ``hidden`` to a table with ``num, num_k, den, den_k``.

    ``groups`` names the published totals the table's cells add up to (see ``stats.suppress``).
    """
    min_count, _, _ = settings()
    out = table.copy()
    out["num_shown"] = shown_counts(out["num"], out["num_k"])
    out["den_shown"] = shown_counts(out["den"], out["den_k"])
    hidden = out["num_shown"].isna() | out["den_shown"].isna() | (out["den"] <= 0)
    if groups is not None and len(out):
        secondary = stats.suppress(out.assign(_count=out["num"].astype(float)), min_count=min_count,
                                   count="_count", groups=groups)
        hidden = hidden | secondary.to_numpy(dtype=bool)
    out["hidden"] = hidden.to_numpy(dtype=bool)
    out.loc[out["hidden"], ["num_shown", "den_shown"]] = np.nan
    return out
