"""The one estimate engine: from counts by cell (and by sex x age band) to the figures the atlas shows.

The release build calls it on every cell of its publication plan (``etl.release.estimates``); the
secure app calls the same functions on demand with the strata it queried (``atlas.queries``). Both
give it the same kinds of input, so the same view gives the same figures from both databases
wherever no count is hidden.

Vocabulary
----------
*cell*
    one row of output: an area (or Denmark) x period x filter set, named by the caller's ``keys``.
*group*
    the columns of ``keys`` that define the cell's national comparator: the same period and filter
    set for Denmark as a whole (for the release ``["period", "fs"]``; for the secure app's map
    ``[]``, its trend ``["year"]``). Denmark's own row is a cell of its group too.
*strata*
    sex x age band (columns ``sex``, ``age``).

The method of a standardised rate (``method = "isr"``)
------------------------------------------------------
Indirect standardisation against the group's *own* national stratum rates (Breslow & Day 1987,
section 2.3), scaled to the group's directly standardised national rate:

    R_i    = Denmark's events / persons in stratum i, *within the cell's group* (its filters applied)
    E      = sum_i n_i R_i              (n_i: the cell's persons in stratum i)
    SR     = O / E                       (``indirect_ratio``: Garwood limits of O divided by E)
    ref    = sum_i w_i R_i / sum_i w_i   (over the strata the group holds: Denmark's persons > 0;
                                          w_i the ESP 2013 weights, or Denmark's own persons)
    rate   = SR x ref x per

For Denmark itself E = O (when no stratum is hidden), so its rate is exactly its direct ESP 2013
rate within the group; for an area the rate is the area's indirectly standardised rate on the same
scale. A group (education, sex, imaging type...) is thus compared with the same group nationally,
never with all adults' rates. Why indirect rather than direct for every area: a direct rate needs
every area's events by stratum, which in small areas are mostly counts of 1 to 4 (never published,
and a rate with its interval would give them back); the indirect rate needs only the area's
published total, its population by stratum and Denmark's published stratum counts.

A national stratum whose count is hidden takes, in order, the rate of the first ``fallback`` frame
that knows it (for the release: the group's age band, then the group's crude rate).

Shares (``method = "proportion"``) are not standardised: num / den with the Wilson interval.
A rate with fewer than ``min_events`` events is shown crude only (``method = "crude"``).

Functions
---------
``stratum_rates(national, group, fallbacks)``  -> group..., sex, age, persons, rate
``reference_rates(rates, group, weights)``     -> group..., reference  (the group's standardised rate)
``expected(strata, rates, keys, group)``       -> keys..., expected
``rate_estimates(cells, keys, group, per, ...)`` and ``share_estimates(cells, keys, group)``
``estimate_from_strata(strata, keys, group, kind, weights, ...)`` the whole path from stratum counts.

All are pure (no I/O; inputs are never changed).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from etl import stats

STRATA = ["sex", "age"]
RATE_COLUMNS = ["num", "den", "expected", "sr", "sr_lower", "sr_upper", "reference", "value", "lower", "upper",
                "crude", "crude_lower", "crude_upper", "flag_std", "flag_crude", "note", "method"]
SHARE_COLUMNS = ["num", "den", "expected", "value", "lower", "upper", "flag_std", "flag_crude", "note", "method"]


def _merge_keys(left: pd.DataFrame, right: pd.DataFrame, on: list[str], how: str = "left") -> pd.DataFrame:
    if not on:
        return left.merge(right, how="cross")
    return left.merge(right, on=on, how=how)


def hide_small(counts, min_count: int) -> np.ndarray:
    """Counts from 1 to ``min_count - 1`` as NaN (the primary rule: never shown, never used)."""
    x = np.asarray(counts, dtype=float).copy()
    x[(x >= 1) & (x < min_count)] = np.nan
    return x


def stratum_rates(national: pd.DataFrame, group: Sequence[str],
                  fallbacks: Sequence[pd.DataFrame] = ()) -> pd.DataFrame:
    """Denmark's rate per stratum (per person) within each group.

    ``national``: group..., sex, age, num, den (Denmark's stratum counts; NaN where hidden).
    ``fallbacks``: frames with group... and a subset of sex/age, num, den; a stratum whose count
    is hidden takes the rate of the first fallback that has one for it.
    Returns group..., sex, age, persons (Denmark's stratum population, NaN if hidden), rate.
    """
    group = list(group)
    out = national[[*group, *STRATA]].copy()
    num, den = national["num"].to_numpy(float), national["den"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.where(den == 0, 0.0, np.nan))
    out["persons"] = den
    out["rate"] = rate
    for fb in fallbacks:
        if not np.isnan(out["rate"].to_numpy()).any():
            break
        on = [c for c in (*group, *STRATA) if c in fb.columns]
        f = fb[on].copy()
        fden = fb["den"].to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            f["_fb"] = np.where(fden > 0, fb["num"].to_numpy(float) / np.where(fden > 0, fden, 1.0), np.nan)
        merged = _merge_keys(out[on], f, on)["_fb"].to_numpy(float)
        out["rate"] = np.where(np.isnan(out["rate"].to_numpy(float)), merged, out["rate"].to_numpy(float))
    return out.reset_index(drop=True)


def reference_rates(rates: pd.DataFrame, group: Sequence[str], weights: Mapping | None) -> pd.DataFrame:
    """The group's directly standardised national rate (per person): sum w_i R_i / sum w_i.

    Computed by :func:`etl.stats.dsr` (direct standardisation) over the strata the group holds
    (Denmark's persons in the stratum > 0, or hidden, which means 1 to 4): with every stratum shown
    it is Denmark's DSR of the group from its counts; a hidden stratum enters with its fallback rate.
    ``weights`` maps (sex, age) to the standard's weight (ESP 2013); ``None`` uses Denmark's own
    persons by stratum (the group's crude rate when no stratum is hidden; a hidden stratum, 1 to 4
    persons, weighs nothing then).
    NaN where a stratum the group holds has no rate.
    """
    group = list(group)
    r = rates.reset_index(drop=True)
    persons = r["persons"].to_numpy(float)
    held = ~(persons == 0)
    if weights is None:       # Denmark's own persons; a hidden stratum (1 to 4 persons) weighs nothing
        w = np.nan_to_num(persons, nan=0.0)
    else:
        w = np.array([float(weights.get((str(s), str(a)), np.nan)) for s, a in zip(r["sex"], r["age"])])
    rate = r["rate"].to_numpy(float)
    known = np.isfinite(persons) & (persons > 0)
    # events and population of each stratum for the DSR: the counts where shown; where hidden (1 to 4
    # persons) one person at the fallback rate, which gives the stratum its rate and nothing else
    pop = np.where(known, persons, 1.0)
    ev = rate * pop
    gid, keys = (pd.factorize(pd.MultiIndex.from_frame(r[group])) if group else (np.zeros(len(r), dtype=int), None))
    n_groups = int(gid.max()) + 1 if len(r) else 0
    sid, strata = pd.factorize(pd.MultiIndex.from_frame(r[STRATA].astype(str)))
    shape = (n_groups, len(strata))
    E, N, W = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    bad = np.zeros(n_groups, dtype=bool)
    use = held & np.isfinite(w) & (w > 0)
    E[gid[use], sid[use]] = ev[use]
    N[gid[use], sid[use]] = pop[use]
    W[gid[use], sid[use]] = w[use]
    np.logical_or.at(bad, gid, held & (w > 0) & ~np.isfinite(ev))
    np.logical_or.at(bad, gid, held & ~np.isfinite(w))
    if n_groups:
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.asarray(stats.dsr(np.nan_to_num(E), N, W, per=1.0, missing="nan").value, dtype=float).reshape(-1)
    else:
        value = np.zeros(0)
    value = np.where(bad, np.nan, value)
    if group:
        out = keys.to_frame(index=False)
        out.columns = group
    else:
        out = pd.DataFrame(index=range(n_groups))
    out["reference"] = value
    return out


def expected(strata: pd.DataFrame, rates: pd.DataFrame, keys: Sequence[str], group: Sequence[str],
             decimals: int | None = None) -> pd.DataFrame:
    """E = sum_i n_i R_i per cell; ``strata``: keys..., sex, age, persons. NaN where a stratum with
    persons has no national rate. Rounded to ``decimals`` when given (as the release publishes it)."""
    keys, group = list(keys), list(group)
    s = _merge_keys(strata[[*keys, *STRATA, "persons"]], rates[[*group, *STRATA, "rate"]], [*group, *STRATA])
    n = s["persons"].to_numpy(float)
    s["_e"] = np.where(n > 0, n * s["rate"].to_numpy(float), 0.0)
    out = s.groupby(keys, as_index=False, dropna=False)["_e"].sum(min_count=1)
    bad = s.assign(_bad=np.isnan(s["_e"].to_numpy(float))).groupby(keys, dropna=False)["_bad"].any().to_numpy()
    e = out["_e"].to_numpy(float)
    e = np.where(bad, np.nan, e)
    out["expected"] = np.round(e, decimals) if decimals is not None else e
    return out.drop(columns="_e")


def _national(cells: pd.DataFrame, group: list[str], national_key) -> pd.DataFrame:
    """Denmark's row of each group: the cells whose keys match ``national_key`` (a dict)."""
    mask = np.ones(len(cells), dtype=bool)
    for k, v in national_key.items():
        mask &= (cells[k] == v).to_numpy()
    return cells[mask]


def _flags_poisson(o: np.ndarray, e: np.ndarray) -> np.ndarray:
    ok = np.isfinite(o) & np.isfinite(e) & (e > 0)
    out = np.full(o.size, None, dtype=object)
    if ok.any():
        out[ok] = stats.funnel_flags(o[ok], e[ok], 1.0)
    return out


def _flags_binomial(num: np.ndarray, den: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Exact binomial funnel flags, each row against its own target (Denmark's share in its group)."""
    out = np.full(num.size, None, dtype=object)
    ok = np.isfinite(num) & np.isfinite(den) & (den > 0) & np.isfinite(target) & (target >= 0) & (target <= 1)
    for value in np.unique(target[ok]):
        rows = ok & (target == value)
        out[rows] = stats.funnel_flags_proportion(num[rows], den[rows], float(value))
    return out


def _group_values(cells: pd.DataFrame, nat: pd.DataFrame, group: list[str], columns: list[str]) -> pd.DataFrame:
    """Denmark's values of ``columns`` on every cell's row (by group)."""
    if not group:
        row = nat[columns].iloc[0] if len(nat) else pd.Series({c: np.nan for c in columns})
        return pd.DataFrame({c: np.full(len(cells), float(row[c])) for c in columns}, index=cells.index)
    g = nat[[*group, *columns]].drop_duplicates(group)
    return cells[group].merge(g, on=group, how="left")[columns].set_axis(cells.index)


def rate_estimates(cells: pd.DataFrame, keys: Sequence[str], group: Sequence[str], national_key: Mapping,
                   reference: pd.DataFrame | None, *, per: float = 1000, min_events: int = 10,
                   conf: float = 0.95) -> pd.DataFrame:
    """Rates of every cell: crude, and standardised (``method="isr"``, see the module docstring).

    ``cells``: keys..., num (O, NaN where hidden), den (persons, NaN where hidden), expected (E).
    ``national_key``: the key values of Denmark's row in each group (e.g. ``{"level": "denmark"}``).
    ``reference``: group..., reference (per person), from :func:`reference_rates`; ``None`` for
    crude rates only. Returns keys... and ``RATE_COLUMNS``.
    """
    keys, group = list(keys), list(group)
    t = cells[[*keys, "num", "den", "expected"]].copy().reset_index(drop=True)
    num, den, e = (t[c].to_numpy(float) for c in ("num", "den", "expected"))
    shown = np.isfinite(num) & np.isfinite(den) & (den > 0)
    nat = _national(t, group, national_key)
    dk = _group_values(t, nat.assign(_crude=nat["num"] / nat["den"], _target=nat["num"] / nat["expected"]),
                       group, ["_crude", "_target"])
    c = stats.crude_rate(np.where(shown, num, np.nan), np.where(shown, den, np.nan), per=per, conf=conf)
    t["crude"], t["crude_lower"], t["crude_upper"] = (np.asarray(x, dtype=float) for x in (c.value, c.lower, c.upper))
    t["flag_crude"] = _flags_poisson(np.where(shown, num, np.nan), np.where(shown, den * dk["_crude"].to_numpy(), np.nan))
    if reference is not None:
        ref = _group_values(t, reference, group, ["reference"])["reference"].to_numpy(float)
    else:
        ref = np.full(len(t), np.nan)
    enough = shown & (num >= min_events) & np.isfinite(e) & (e > 0) & np.isfinite(ref)
    sr = stats.indirect_ratio(np.where(enough, num, np.nan), np.where(enough, e, np.nan), conf)
    t["sr"], t["sr_lower"], t["sr_upper"] = (np.where(enough, np.asarray(x, dtype=float), np.nan)
                                             for x in (sr.value, sr.lower, sr.upper))
    t["reference"] = ref
    for col, src in (("value", "sr"), ("lower", "sr_lower"), ("upper", "sr_upper")):
        t[col] = t[src].to_numpy(float) * ref * per
    target = dk["_target"].to_numpy(float)
    t["flag_std"] = _flags_poisson(np.where(enough, num, np.nan), np.where(enough, e * target, np.nan))
    t["note"] = np.where(~shown, "hidden", np.where(~enough & (reference is not None), "few_events", None))
    t["method"] = np.where(~shown, None, np.where(enough, "isr", "crude"))
    t.loc[~shown, "expected"] = np.nan
    return t[[*keys, *RATE_COLUMNS]]


def share_estimates(cells: pd.DataFrame, keys: Sequence[str], group: Sequence[str], national_key: Mapping,
                    *, conf: float = 0.95) -> pd.DataFrame:
    """Shares (per cent, Wilson interval) of every cell, flagged against Denmark's share in its group.

    ``cells``: keys..., num, den (NaN where hidden). Returns keys... and ``SHARE_COLUMNS``."""
    keys, group = list(keys), list(group)
    t = cells[[*keys, "num", "den"]].copy().reset_index(drop=True)
    num, den = t["num"].to_numpy(float), t["den"].to_numpy(float)
    shown = np.isfinite(num) & np.isfinite(den) & (den > 0)
    nat = _national(t, group, national_key)
    target = _group_values(t, nat.assign(_share=nat["num"] / nat["den"]), group, ["_share"])["_share"].to_numpy(float)
    p = stats.proportion_ci(np.where(shown, num, np.nan), np.where(shown, den, np.nan), conf=conf)
    t["value"], t["lower"], t["upper"] = (np.where(shown, np.asarray(x, dtype=float) * 100, np.nan)
                                          for x in (p.value, p.lower, p.upper))
    t["expected"] = np.where(shown, den * target, np.nan)
    t["flag_crude"] = _flags_binomial(np.where(shown, num, np.nan), np.where(shown, den, np.nan), target)
    t["flag_std"] = t["flag_crude"]
    t["note"] = np.where(shown, None, "hidden")
    t["method"] = np.where(shown, "proportion", None)
    return t[[*keys, *SHARE_COLUMNS]]


def estimate_from_strata(strata: pd.DataFrame, keys: Sequence[str], group: Sequence[str], kind: str, *,
                         weights: Mapping | None, national: pd.DataFrame | None = None,
                         observed: pd.DataFrame | None = None, min_count: int = 5, min_events: int = 10,
                         per: float = 1000, expected_decimals: int | None = 1, conf: float = 0.95) -> pd.DataFrame:
    """The whole path from stratum counts, for the secure database (and any caller with true strata).

    ``strata``: keys..., sex, age, num, den: events and denominator (persons for rates) by cell and
    stratum. ``national``: group..., sex, age, num, den, Denmark's stratum counts of each group;
    default: the sum of ``strata`` over the cells of each group (right when the cells cover Denmark).
    ``observed``: keys..., num, den as shown (hidden NaN); default: the strata summed with counts
    from 1 to ``min_count - 1`` hidden. As in the release, national stratum counts from 1 to
    ``min_count - 1`` are not used (the stratum falls back to its age band, then the group's crude
    rate), E is rounded to ``expected_decimals`` and a standardised rate needs ``min_events``.
    Denmark's row of each group is added with the key value ``"denmark"`` in the first key that is
    not in ``group`` (so ``keys`` need at least one column outside ``group``).

    Returns keys... and ``RATE_COLUMNS`` (kind ``"rate"``) or ``SHARE_COLUMNS`` (kind ``"share"``);
    the Denmark rows are returned too (last).
    """
    keys, group = list(keys), list(group)
    area = [k for k in keys if k not in group]
    if not area:
        raise ValueError("keys need a column outside group (the cell's area)")
    s = strata.rename(columns={"age_band": "age"})
    s = s.assign(sex=s["sex"].astype(str), age=s["age"].astype(str))
    if national is None:
        national = s.groupby([*group, *STRATA], as_index=False, dropna=False)[["num", "den"]].sum()
    nat = national.rename(columns={"age_band": "age"})
    nat = nat.assign(sex=nat["sex"].astype(str), age=nat["age"].astype(str))
    if observed is None:
        observed = s.groupby(keys, as_index=False, dropna=False)[["num", "den"]].sum()
        observed = observed.assign(num=hide_small(observed["num"], min_count), den=hide_small(observed["den"], min_count))
    dk_key = {area[0]: "denmark"}
    dk_obs = nat.groupby(group, as_index=False, dropna=False)[["num", "den"]].sum() if group else \
        pd.DataFrame({"num": [nat["num"].sum()], "den": [nat["den"].sum()]})
    for k in area:
        dk_obs[k] = "denmark" if k == area[0] else None
    dk_obs = dk_obs.assign(num=hide_small(dk_obs["num"], min_count), den=hide_small(dk_obs["den"], min_count))
    cells = pd.concat([observed.astype({area[0]: object}), dk_obs[[*keys, "num", "den"]]], ignore_index=True)
    if kind != "rate":
        return share_estimates(cells, keys, group, dk_key, conf=conf)
    nat_shown = nat.assign(num=hide_small(nat["num"], min_count), den=hide_small(nat["den"], min_count))
    band = nat.groupby([*group, "age"], as_index=False, dropna=False)[["num", "den"]].sum()
    band = band.assign(num=hide_small(band["num"], min_count), den=hide_small(band["den"], min_count))
    rates = stratum_rates(nat_shown, group, [band, dk_obs[[*group, "num", "den"]]])
    ref = reference_rates(rates, group, weights)
    pop = pd.concat([s[[*keys, *STRATA]].assign(persons=s["den"].to_numpy(float)).astype({area[0]: object}),
                     nat[[*group, *STRATA]].assign(persons=nat["den"].to_numpy(float),
                                                   **{k: dk_obs[k].iloc[0] if len(dk_obs) else None for k in area})],
                    ignore_index=True)
    e = expected(pop, rates, keys, group, expected_decimals)
    cells = cells.merge(e, on=keys, how="left")
    return rate_estimates(cells, keys, group, dk_key, ref, per=per, min_events=min_events, conf=conf)
