"""``returns_monthly`` with its cell keys, and its protected tables by month, exam type and centre
(see :mod:`atlas.returns`)."""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from atlas.cache import cached
from atlas import db
from atlas.disclosure import shown_counts
from atlas.returns.constants import COUNTS, PER, RELEASE_ALL
from atlas.returns.state import ReturnsView


def cell_key(salt: bytes, month: str, producer_id: str, exam_type: str, measure: str) -> float:
    """Deterministic cell key in [0, 1) of one cell of ``returns_monthly`` (see the module docstring)."""
    h = hashlib.blake2b(f"{month}|{producer_id}|{exam_type}|{measure}".encode("utf-8"), digest_size=8, key=salt)
    return int.from_bytes(h.digest(), "big") / 2.0 ** 64


def table_salt(d: pd.DataFrame) -> bytes:
    """A digest of the true counts of the whole table (in a fixed order): the keys' secret."""
    h = hashlib.blake2b(digest_size=32)
    for row in d.sort_values(["month", "producer_id", "exam_type"])[["month", "producer_id", "exam_type", *COUNTS]].itertuples(index=False):
        h.update(f"{row[0]:%Y-%m}|{row[1]}|{row[2]}|{row[3]}|{row[4]}|{row[5]};".encode("utf-8"))
    return h.digest()


@cached(maxsize=4)
def _monthly(path: str) -> pd.DataFrame:
    d = db.query("SELECT month, exam_type, producer_id, centre, referrals, returned, letters FROM returns_monthly")
    d["month"] = pd.to_datetime(d["month"])
    for c in COUNTS:
        d[c] = d[c].astype(float)
    if db.is_release():
        # published counts (NaN = hidden) and, per month and exam type, their published sum over
        # centres (producer 'all'): nothing to perturb or key
        return d.sort_values(["month", "producer_id", "exam_type"]).reset_index(drop=True)
    salt = table_salt(d)
    ym = d["month"].dt.strftime("%Y-%m")
    for c in COUNTS:
        d[f"k_{c}"] = [cell_key(salt, m, p, e, c) for m, p, e in zip(ym, d["producer_id"], d["exam_type"])]
    return d.sort_values(["month", "producer_id", "exam_type"]).reset_index(drop=True)


def monthly() -> pd.DataFrame:
    """The table with true counts and cell keys (never shown as such)."""
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
    if db.is_release():
        # all centres: the published sums; one centre, or per centre: the centres' own rows
        if by_centre and view.centre is not None:
            return d[d["producer_id"] == view.centre]
        return d[d["producer_id"] == RELEASE_ALL] if by_centre else d[d["producer_id"] != RELEASE_ALL]
    if by_centre and view.centre is not None:
        d = d[d["producer_id"] == view.centre]
    return d


def protected(d: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sum counts and keys by ``by``; add ``*_shown`` (perturbed, 1-4 hidden) and the keys' sums.

    ``rate`` is the view's count per 1,000 shown referrals, computed by the caller. On a release
    the counts are already published (NaN = hidden): a sum is shown only when all its parts are.
    """
    if db.is_release():
        g = d.groupby(by, as_index=False)
        agg = g[list(COUNTS)].sum()
        missing = d[list(COUNTS)].isna().groupby([d[b] for b in by]).sum().reset_index(drop=True)
        for c in COUNTS:
            agg[c] = agg[f"{c}_shown"] = agg[c].where(missing[c].to_numpy() == 0)
        return agg
    agg = d.groupby(by, as_index=False)[[*COUNTS, *(f"k_{c}" for c in COUNTS)]].sum()
    for c in COUNTS:
        agg[f"k_{c}"] = np.mod(agg[f"k_{c}"], 1.0)
        agg[f"{c}_shown"] = shown_counts(agg[c].to_numpy(), agg[f"k_{c}"].to_numpy())
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
