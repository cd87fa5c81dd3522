"""Helpers shared by the modules of ``etl.stats``: the ``Estimate`` tuple, input checks,
confidence-level handling and grouping of data frames. No statistics of their own."""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

__all__ = ["Estimate", "conf_label", "conf_fraction"]


class Estimate(NamedTuple):
    """A point estimate with the lower and upper limits of its confidence interval."""

    value: Any
    lower: Any
    upper: Any


def _out(x: np.ndarray) -> Any:
    """Return a 0-d array as a numpy scalar, anything else unchanged."""
    x = np.asarray(x)
    return x[()] if x.ndim == 0 else x


def conf_fraction(conf: float) -> float:
    """A confidence level as a fraction: 0.95 stays 0.95, a percentage 99.8 becomes 0.998.

    Every function of ``etl.stats`` that takes ``conf`` accepts either form:

    * a fraction strictly between 0 and 1 (0.95, 0.998);
    * a percentage from 50 up to (not including) 100 (95, 99.8).

    Anything else is refused with a ``ValueError`` that says so: 0, 1, 100 and above, negative
    numbers, NaN, and numbers between 1 and 50. The last are refused rather than read as a
    percentage because no interval or control limit of the atlas uses a level below 50 %, so
    ``conf=1.5`` or ``conf=9.5`` is a slip (for 0.985? 0.95?) and guessing would hide it.
    """
    try:
        c = float(conf)
    except (TypeError, ValueError):
        raise ValueError(f"conf must be a number, got {conf!r}") from None
    if 0.0 < c < 1.0:
        return c
    if 50.0 <= c < 100.0:
        return c / 100.0
    raise ValueError(
        f"conf must be a fraction strictly between 0 and 1 (e.g. 0.998) or a percentage from 50 "
        f"up to 100 (e.g. 99.8), got {conf!r}"
    )


def _check_conf(conf: float) -> float:
    """alpha = 1 - conf, for ``conf`` as a fraction or a percentage (see ``conf_fraction``)."""
    return 1.0 - conf_fraction(conf)


def _as_float(x: Any, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if np.any(a < 0):
        raise ValueError(f"{name} must not be negative")
    return a


def conf_label(conf: float) -> str:
    """Column label of a confidence level: 0.95 -> ``"95"``, 0.998 -> ``"99_8"``.

    The level is written as a percentage with up to 10 significant digits, trailing zeros
    dropped, and the decimal point replaced by an underscore. Percentages are accepted as in
    ``conf_fraction`` (99.8 -> ``"99_8"``).
    """
    pct = conf_fraction(conf) * 100.0
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
