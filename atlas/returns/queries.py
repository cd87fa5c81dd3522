"""``returns_monthly`` with its cell keys, and its protected tables by month, exam type and centre
(see :mod:`atlas.returns`)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from atlas import data, db
from atlas.cache import cached
from atlas.returns.constants import COUNTS, PER, RELEASE_ALL

if TYPE_CHECKING:                       # annotations only: returns.state reads this module at run time
    from atlas.returns.state import ReturnsView


@cached(maxsize=4)
def _monthly(path: str) -> pd.DataFrame:
    d = data.source().returns_monthly()
    d["month"] = pd.to_datetime(d["month"])
    for c in COUNTS:
        d[c] = d[c].astype(float)
    return d.sort_values(["month", "producer_id", "exam_type"]).reset_index(drop=True)


def monthly() -> pd.DataFrame:
    """The monthly table as the source serves it: exact counts (secure) or published ones, NaN = hidden,
    with the published sums over centres (producer ``all``) (release)."""
    return _monthly(str(db.db_path()))


def months() -> list[pd.Timestamp]:
    return sorted(monthly()["month"].unique())


def centres() -> pd.DataFrame:
    """Producer id and name of each centre, by name."""
    d = monthly()
    d = d[d["producer_id"] != RELEASE_ALL]
    return d[["producer_id", "centre"]].drop_duplicates().sort_values("centre").reset_index(drop=True)



def _select(view: ReturnsView, by_exam=True, by_centre=True) -> pd.DataFrame:
    d = monthly()
    if by_exam and view.exam is not None:
        d = d[d["exam_type"] == view.exam]
    has_sums = (d["producer_id"] == RELEASE_ALL).any()
    if by_centre and view.centre is not None:
        return d[d["producer_id"] == view.centre]
    if by_centre and has_sums:
        return d[d["producer_id"] == RELEASE_ALL]          # all centres: the published sums
    return d[d["producer_id"] != RELEASE_ALL]


def protected(d: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sum counts by ``by``; ``*_shown`` is the sum, shown only when all its parts are (NaN = hidden:
    a published count the release hides; the secure database's counts are exact, none hidden).

    ``rate`` is the view's count per 1,000 shown referrals, computed by the caller."""
    g = d.groupby(by, as_index=False)
    agg = g[list(COUNTS)].sum()
    missing = d[list(COUNTS)].isna().groupby([d[b] for b in by]).sum().reset_index(drop=True)
    for c in COUNTS:
        agg[c] = agg[f"{c}_shown"] = agg[c].where(missing[c].to_numpy() == 0)
    return agg


def rate_of(num, den):
    num, den = np.asarray(num, float), np.asarray(den, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den * PER, np.nan)


def _public(agg: pd.DataFrame, measure: str, keys: list[str]) -> pd.DataFrame:
    """Only shown columns: keys, shown referrals and shown count of the measure, and the rate."""
    out = agg[keys].copy()
    out["referrals"] = agg["referrals_shown"].to_numpy()
    out["count"] = agg[f"{measure}_shown"].to_numpy()
    out["rate"] = rate_of(out["count"], out["referrals"])
    out["hidden"] = out["count"].isna() | out["referrals"].isna()
    return out


def by_exam(view: ReturnsView) -> pd.DataFrame:
    """Month x exam type: shown referrals, shown count of the measure, rate per 1,000 referrals."""
    return _public(protected(_select(view), ["month", "exam_type"]), view.measure, ["month", "exam_type"])


def by_centre(view: ReturnsView) -> pd.DataFrame:
    """Centre x month (the view's exam type, every centre): shown counts and rate, before/after."""
    agg = protected(_select(view, by_centre=False), ["producer_id", "centre", "month"])
    out = _public(agg, view.measure, ["producer_id", "centre", "month"])
    out["period"] = np.where(out["month"] >= pd.Timestamp(view.date), "after", "before")
    return out


def centre_summary(view: ReturnsView) -> pd.DataFrame:
    """Per centre, before and after the intervention: shown totals and the rate per 1,000 referrals."""
    d = _select(view, by_centre=False).copy()
    d["period"] = np.where(d["month"] >= pd.Timestamp(view.date), "after", "before")
    agg = protected(d, ["producer_id", "centre", "period"])
    out = _public(agg, view.measure, ["producer_id", "centre", "period"])
    wide = out.pivot(index=["producer_id", "centre"], columns="period", values=["referrals", "count", "rate"])
    wide.columns = [f"{a}_{b}" for a, b in wide.columns]
    for c in ("referrals_before", "count_before", "rate_before", "referrals_after", "count_after", "rate_after"):
        if c not in wide:
            wide[c] = np.nan
    return wide.reset_index()[["producer_id", "centre", "referrals_before", "count_before", "rate_before",
                               "referrals_after", "count_after", "rate_after"]].sort_values("centre").reset_index(drop=True)


def series(view: ReturnsView) -> pd.DataFrame:
    """The monthly series of the selection: shown referrals, shown count, rate (NaN when hidden)."""
    agg = protected(_select(view), ["month"])
    out = _public(agg, view.measure, ["month"])
    all_months = pd.DataFrame({"month": months()})
    return all_months.merge(out, on="month", how="left")
