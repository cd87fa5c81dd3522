"""Helpers shared by the modules of ``etl.stats``: the ``Estimate`` tuple, input checks,
confidence-level handling and grouping of data frames. No statistics of their own."""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

__all__ = ["Estimate", "conf_label"]


class Estimate(NamedTuple):
    """A point estimate with the lower and upper limits of its confidence interval."""

    value: Any
    lower: Any
    upper: Any


def _out(x: np.ndarray) -> Any:
    """Return a 0-d array as a numpy scalar, anything else unchanged."""
    x = np.asarray(x)
    return x[()] if x.ndim == 0 else x


def _check_conf(conf: float) -> float:
    conf = float(conf)
    if not 0.0 < conf < 1.0:
        raise ValueError(f"conf must be strictly between 0 and 1, got {conf!r}")
    return 1.0 - conf


def _as_float(x: Any, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if np.any(a < 0):
        raise ValueError(f"{name} must not be negative")
    return a


def conf_label(conf: float) -> str:
    """Column label of a confidence level: 0.95 -> ``"95"``, 0.998 -> ``"99_8"``.

    The level is written as a percentage with up to 10 significant digits, trailing zeros
    dropped, and the decimal point replaced by an underscore.
    """
    pct = float(conf) * 100.0
    return f"{pct:.10g}".replace(".", "_")


def _as_list(by: Any) -> list:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def _group_ids(frame: pd.DataFrame, by: list) -> tuple[np.ndarray, pd.DataFrame]:
    """Group number of each row (sorted by key, NaN keys kept) and one row of keys per group."""
    if not by:
        return np.zeros(len(frame), dtype=np.int64), pd.DataFrame(index=pd.RangeIndex(1))
    gid = frame.groupby(by, sort=True, dropna=False, observed=True).ngroup().to_numpy()
    keys = (
        frame[by]
        .assign(_gid=gid)
        .drop_duplicates("_gid")
        .sort_values("_gid")
        .drop(columns="_gid")
        .reset_index(drop=True)
    )
    return gid.astype(np.int64), keys
