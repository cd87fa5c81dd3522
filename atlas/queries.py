"""From a view to protected tables of estimates.

The strata (numerator and denominator counts by group x sex x age band) come from
:mod:`atlas.strata`, whose names are importable from here too. ``estimate(...)`` turns strata into one protected row per group: shown counts, the estimate with
its 95% interval, the expected count (indirect standardisation) and the funnel-plot flag.
Queries are cached per process by their arguments (the database is read-only).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from atlas.cache import cached
from atlas import db, release_queries
from atlas.disclosure import protect, settings, shown_counts
from atlas.filters import DIMENSIONS, View
from atlas.measures import MEASURES, Measure
from atlas.strata import (STRATA, _event_filters, _finish, _mask, _strata_sql_parts, area_codes, event_frame,
                          population_frame, strata)
from etl import stats
from etl.estimates.engine import estimate_from_strata


def clear_caches() -> None:
    release_queries.clear_caches()
    for f in (event_frame, population_frame, strata, _area_table, _trend_table, _breakdown_table):
        f.cache_clear()
    from atlas import all_trends, findings_panel, profile     # the profile pages' caches of these tables

    for f in (profile.spine, profile.trends, all_trends.yearly, findings_panel.findings_for):
        f.cache_clear()




def _weights(standard: str) -> dict | None:
    """The standard's weights by (sex, age band) for the estimate engine; ``None`` for "denmark"
    (Denmark's own population by stratum in the period: its crude rate, as in the release)."""
    if standard == "denmark":
        return None
    w = db.standard_weights()
    w = w[w.standard == standard]
    return {(str(s), str(a)): float(x) for s, a, x in zip(w.sex, w.age_band, w.weight)}


def estimate(frame: pd.DataFrame, by: list[str], measure: Measure, view: View,
             secondary_groups: list[list[str]] | None = None, group: list[str] | None = None) -> pd.DataFrame:
    """One protected row per group of ``by``, computed by the estimate engine
    (:func:`etl.estimates.engine.estimate_from_strata`), the same code the release build uses.

    ``frame`` holds numerator and denominator counts by ``by`` x sex x age band. ``group``: the
    columns of ``by`` whose national comparator is separate (default: ``["year"]`` when the rows
    are years, else none): a cell is compared with Denmark in the same group, i.e. the sum of the
    frame's cells of that group (the frame covers Denmark, filtered as the view is).

    - ``num_shown``, ``den_shown``: the counts as shown (:func:`atlas.disclosure.protect`: counts
      from 1 to 4 and the secondary cells hidden);
    - the standardised rate (``view.rates`` "isr" or "eb"): indirect against the view's *own*
      national rates by sex and age band, times the group's ESP 2013 rate (see the engine: for
      Denmark this is its direct ESP 2013 rate); fewer than 10 events: no standardised figure;
    - crude rates and shares: from the shown pair;
    - the expected count: E for rates, shown denominator times Denmark's share for shares;
    - the funnel flag: exact tests of the shown count against E (rates) or Denmark's share.
    """
    cols = [*by, "num_shown", "den_shown", "value", "lower", "upper", "hidden", "expected", "flag", "method"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    if group is None:
        group = ["year"] if "year" in by else []
    min_count, perturb, _ = settings()
    f = frame
    agg = f.groupby(by, as_index=False)[["num", "num_k", "den", "den_k"]].sum()
    agg[["num_k", "den_k"]] = np.mod(agg[["num_k", "den_k"]], 1.0)
    extra = [c for c in (secondary_groups and sum(secondary_groups, []) or []) if c not in agg]
    if extra:
        agg = agg.merge(f[[*by, *extra]].drop_duplicates(by), on=by, how="left")
    t = protect(agg, secondary_groups)
    keys = list(by) if any(k not in group for k in by) else [*by, "_cell"]
    strata_ = f.assign(_cell=0) if "_cell" in keys else f
    national = None
    if perturb:
        # while the secure app perturbs its shown counts, the strata enter as shown: each cell's
        # population by stratum perturbed (1 to 4 counted as 2.5) and Denmark's stratum counts
        # perturbed, so that E and the national rates carry no true count
        sk = [*keys, "sex", "age_band"]
        cs = strata_.groupby(sk, as_index=False)[["num", "num_k", "den", "den_k"]].sum()
        nat = cs.groupby([*group, "sex", "age_band"], as_index=False)[["num", "num_k", "den", "den_k"]].sum()
        national = nat.assign(num=shown_counts(nat["num"], np.mod(nat["num_k"], 1.0)),
                              den=shown_counts(nat["den"], np.mod(nat["den_k"], 1.0)))
        pop = pd.Series(shown_counts(cs["den"], np.mod(cs["den_k"], 1.0)), index=cs.index)
        strata_ = cs.assign(den=pop.where(cs["den"] > 0, 0.0).fillna(HIDDEN_STRATUM))
    observed = t[by].assign(num=t["num_shown"].to_numpy(float), den=t["den_shown"].to_numpy(float))
    if "_cell" in keys:
        observed = observed.assign(_cell=0)
    standardised = measure.kind == "rate" and view.rates in ("isr", "eb")
    e = estimate_from_strata(strata_[[*keys, "sex", "age_band", "num", "den"]], keys, group, measure.kind,
                             weights=_weights(view.standard), observed=observed, national=national, min_count=min_count,
                             min_events=0 if perturb else MIN_EVENTS_STANDARDISED, per=measure.per,
                             expected_decimals=None if perturb else 1)
    area = [k for k in keys if k not in group][0]
    if perturb and measure.kind == "rate":
        # perturbed strata: scale E so that Denmark's E is its shown count (the ratio is then 1 for
        # Denmark, and E carries nothing beyond shown counts and one common rate per stratum)
        dk = e[e[area].astype(str) == "denmark"]
        src = f.groupby(group, as_index=False) if group else f.assign(_g=0).groupby("_g", as_index=False)
        tot = src[["num", "num_k", "den", "den_k"]].sum()
        tot[["num_k", "den_k"]] = np.mod(tot[["num_k", "den_k"]], 1.0)
        tot = protect(tot)
        dk = dk.merge(tot[[*group, "num_shown"]], on=group, how="left") if group else \
            dk.assign(num_shown=float(tot["num_shown"].iloc[0]))
        f_dk = (dk["num_shown"] / dk["expected"]).where(dk["expected"] > 0)
        if group:
            f_all = e[group].merge(dk[group].assign(_f=f_dk.to_numpy()), on=group, how="left")["_f"].to_numpy(float)
        else:
            f_all = np.full(len(e), float(f_dk.iloc[0]) if len(f_dk) else np.nan)
        f_all = np.where(np.isfinite(f_all) & (f_all > 0), f_all, 1.0)
        if not group and len(dk) and not (float(dk["expected"].iloc[0]) > 0) and float(dk["num_shown"].iloc[0]) > 0:
            # no national stratum shown: one common rate, Denmark's shown count over its population
            cp = strata_.groupby(keys, as_index=False)["den"].sum()
            pop_cell = e[keys].merge(cp, on=keys, how="left")["den"].to_numpy(float)
            pop_dk = float(strata_["den"].sum())
            e = e.assign(expected=np.where(e[area].astype(str) == "denmark", float(dk["num_shown"].iloc[0]),
                                           pop_cell * float(dk["num_shown"].iloc[0]) / pop_dk))
        e = e.assign(expected=e["expected"].to_numpy(float) * f_all,
                     **{c: e[c].to_numpy(float) / f_all for c in ("sr", "sr_lower", "sr_upper", "value", "lower", "upper")})
    e = e[e[area].astype(str) != "denmark"].astype({area: t[area].dtype if area in t else int})
    if "_cell" in keys:
        e = e.drop(columns="_cell")
    t = t.merge(e.drop(columns=["num", "den"]), on=list(by), how="left")
    if standardised:
        t["flag"] = t["flag_std"]
        few = ~t["hidden"] & t["value"].isna()
        t.loc[few, "hidden"] = True            # too few events for a standardised figure (as the release);
        t.loc[few, ["num_shown", "den_shown"]] = np.nan   # a hidden row shows no count (note says why)
    elif measure.kind == "rate":
        t["value"], t["lower"], t["upper"] = t["crude"], t["crude_lower"], t["crude_upper"]
        t["flag"] = t["flag_crude"]
        t["method"] = np.where(t["method"].notna(), "crude", None)
    else:
        t["flag"] = t["flag_crude"]
    t.loc[t["hidden"], ["value", "lower", "upper", "expected"]] = np.nan
    t["flag"] = np.where(t["hidden"], "hidden", t["flag"].astype(object).where(t["flag"].notna(), "within"))
    drop = ["num", "num_k", "den", "den_k", "sr", "sr_lower", "sr_upper", "crude", "crude_lower", "crude_upper",
            "flag_std", "flag_crude"]
    return t.drop(columns=[c for c in drop if c in t])


HIDDEN_STRATUM = 2.5     # a stratum count from 1 to 4 is hidden; while perturbing, it counts as the middle of 1..4
MIN_EVENTS_STANDARDISED = 10   # as the release's plan (etl/config/release.toml): PHE's rule for DSRs


def _key(view: View, keep_area: bool = False) -> View:
    """The parts of a view that change a table (not language, map kind, colours, separator, drill-down)."""
    return replace(view, area=view.area if keep_area else None, within=None, map="geo", sep=",", lang="en",
                   colours="own", breaks="", tables=0)


def served_view(view: View) -> View:
    """The view the served database answers: itself on the secure database, the nearest published
    view on the release (so a download's header rows name what its table holds, even when the
    address asked for more)."""
    return release_queries.nearest_published(view)[0] if db.is_release() else view


def area_table(view: View) -> tuple[pd.DataFrame, pd.Series]:
    """The protected table of areas for the map, ranking, funnel and CSV, and Denmark's row."""
    if db.is_release():
        return release_queries.area_table(view)
    t, national = _area_table(_key(view))
    if view.within is not None and view.level == "municipality":
        # a drill-down into a region of 2007 or of 2027: the municipalities that belong to it
        inside = {m for m, regions in db.regions_of().items() if view.within in regions}
        t = t[t["code"].isin(inside)].reset_index(drop=True)
    return t, national


@cached(maxsize=512)
def _area_table(view: View) -> tuple[pd.DataFrame, pd.Series]:
    m = MEASURES[view.measure]
    f = strata(m.key, view.y0, view.y1, view.population_dims(), _event_filters(view, m)).copy()
    f["code"] = f["municipality"].map(area_codes(view.level))
    a = db.areas()
    mun = a[a.level == "municipality"].set_index("code")
    f["region_code"] = f["municipality"].map(mun["region_code"])
    groups = [["region_code"], []] if view.level == "municipality" else [[]]
    t = estimate(f, ["code"], m, view, groups)
    if view.rates == "eb" and m.kind == "rate" and view.level == "municipality":
        t = _shrink(t, m)
    t = db.with_names(t, view.level)
    national = _first_row(estimate(f.assign(all=0), ["all"], m, view))
    return t.sort_values("code").reset_index(drop=True), national


def _first_row(t: pd.DataFrame) -> pd.Series:
    """The one row of a total; a selection with no records at all is a shown zero."""
    if len(t):
        return t.iloc[0]
    return pd.Series({"num_shown": 0.0, "den_shown": 0.0, "hidden": False, "value": np.nan, "lower": np.nan,
                      "upper": np.nan, "expected": 0.0, "flag": "within"})


def _shrink(t: pd.DataFrame, m: Measure) -> pd.DataFrame:
    """Empirical-Bayes standardised rates toward the region: ``stats.eb_ratio`` on the shown O and
    E (Poisson-gamma posterior mean of O/E with its credible interval), times the same reference
    rate as the standardised map, so both maps are on one scale."""
    a = db.areas()
    region = t["code"].map(a[a.level == "municipality"].set_index("code")["region_code"])
    ok = (~t["hidden"] & (t["expected"] > 0)).to_numpy()
    if ok.sum() < 3 or "reference" not in t:
        return t
    e = stats.eb_ratio(t.loc[ok, "num_shown"].to_numpy(), t.loc[ok, "expected"].to_numpy(), region[ok].to_numpy())
    t = t.copy()
    scale = t.loc[ok, "reference"].to_numpy() * m.per
    t.loc[ok, "value"], t.loc[ok, "lower"], t.loc[ok, "upper"] = e.value * scale, e.lower * scale, e.upper * scale
    return t


def trend_table(view: View, area: int | None) -> pd.DataFrame:
    """Estimates per year for the selected area (if any) and for Denmark, over all years."""
    if db.is_release():
        return release_queries.trend_table(view, area)
    return _trend_table(replace(_key(view), y0=0, y1=0), area)


@cached(maxsize=256)
def _trend_table(view: View, area: int | None) -> pd.DataFrame:
    m = MEASURES[view.measure]
    years = db.years()
    f = strata(m.key, years[0], years[-1], view.population_dims(), _event_filters(view, m),
               ("year", "municipality")).copy()
    f["code"] = f["municipality"].map(area_codes(view.level))
    # years whose window is incomplete (atlas.coverage) are estimated apart, so they take no part in
    # the complete years' expected counts and funnel flags; their flag says "incomplete"
    from atlas.coverage import incomplete_years

    off = f["year"].astype(int).isin(list(incomplete_years(m.key)))
    out = []
    for part, flag in ((f[~off], None), (f[off], "incomplete")):
        if part.empty and out:
            continue
        t = _trend_parts(part, m, view, area)
        if flag:
            t.loc[~t["hidden"].astype(bool), "flag"] = flag
        out.append(t)
    return pd.concat(out, ignore_index=True)


def _trend_parts(f: pd.DataFrame, m: Measure, view: View, area: int | None) -> pd.DataFrame:
    parts = [estimate(f.assign(code=0), ["year", "code"], m, view)]
    if area is not None:
        sel = f[f["code"] == area]
        if not sel.empty:
            # expected counts must come from the national rates, so estimate on the whole then keep the area
            parts.append(estimate(f, ["year", "code"], m, view).query("code == @area"))
    return pd.concat(parts, ignore_index=True)


BREAKDOWN_DIMS = ("sex", "age", "edu", "inc", "origin", "labour")


def breakdown_view(view: View) -> View:
    """The view the breakdown shows, for its title: on a release the groups are published without
    other filters and as crude rates (a group defined by sex or age, standardised on sex and age,
    would be 1 by construction), so the title must not name filters or a standardisation."""
    return replace(view, dims=(), rates="crude") if db.is_release() else view


def breakdown_table(view: View, area: int | None) -> pd.DataFrame:
    """Estimates by each population-group dimension for the selected area (or Denmark)."""
    if db.is_release():
        return release_queries.breakdown_table(view, area)
    return _breakdown_table(_key(view), area)


@cached(maxsize=256)
def _breakdown_table(view: View, area: int | None) -> pd.DataFrame:
    """One query per cube for all six dimensions (UNION ALL), one protected estimate for all.

    Each dimension keeps the view's other filters but not its own; secondary suppression treats
    each dimension's groups as one table with a published total.
    """
    m = MEASURES[view.measure]
    mapping = area_codes(view.level)
    restrict = ()
    if area is not None:
        restrict = (("municipality", tuple(int(c) for c in mapping.index[mapping == area])),)
    ev_parts, pop_parts = [], []
    for key in BREAKDOWN_DIMS:
        column = DIMENSIONS[key][0]
        dims = tuple((k, v) for k, v in view.population_dims() if k != key)
        _, events, population = _strata_sql_parts(m.key, view.y0, view.y1, dims, _event_filters(view, m),
                                                  (column,), restrict)
        for parts, part in ((ev_parts, events), (pop_parts, population)):
            if part is None:
                continue
            sql, params = part
            # the group's value as text under one name; UNION BY NAME lines the selects up
            sql = sql.replace("SELECT ", f"SELECT '{key}' AS dimension, CAST({column} AS VARCHAR) AS value_key, ", 1)
            parts.append((sql, params))
    keys = ["dimension", "value_key", *STRATA]

    def union(parts):
        out = db.query(" UNION ALL BY NAME ".join(f"({sql})" for sql, _ in parts), [p for _, ps in parts for p in ps])
        return out[[c for c in out.columns if c in keys or c in ("num", "num_k", "den", "den_k")]]

    ev = union(ev_parts)
    f = union(pop_parts).merge(ev, on=keys, how="left") if pop_parts else ev
    f = _finish(f)
    if f.empty:
        return pd.DataFrame()
    # one dimension at a time; each group is standardised with its own rates by sex and age band
    # (group=...: its own reference, so its standardised rate is its direct ESP 2013 rate over the
    # strata it holds); a group defined by sex or age band is shown with its own crude rate
    parts = []
    for key, part in f.groupby("dimension", sort=False):
        v = replace(view, rates="crude") if key in ("sex", "age") and view.rates != "crude" else view
        parts.append(estimate(part, ["dimension", "value_key"], m, v, [["dimension"]], group=["dimension", "value_key"]))
    return pd.concat(parts, ignore_index=True)


MIX_MEASURES = ("mri_share", "acute_share", "gp_share", "chiropractor_share", "specialist_share", "hospital_share",
                "private_share", "surgery_short_share", "surgery_long_share", "rehab_short_share", "rehab_long_share",
                "lowvalue_share")


def mix_table(view: View, area: int | None) -> pd.DataFrame:
    """Shares of modality, priority, referrer and of what followed, for Denmark (code 0) and the area.

    One cached scan of the imaging cube; each share is a masked sum, all protected in one pass.
    """
    if db.is_release():
        return release_queries.mix_table(view, area)
    ev = event_frame(view.y0, view.y1, view.population_dims())
    codes = ev["municipality"].map(area_codes(view.level)).to_numpy()
    places = [(0, np.ones(len(ev), dtype=bool))]
    if area is not None:
        places.append((area, codes == area))
    rows = []
    for key in MIX_MEASURES:
        m = MEASURES[key]
        base = (_mask(ev, _event_filters(view, m)) & _mask(ev, m.denominator_where.items())).to_numpy()
        hit = base & _mask(ev, m.numerator_where.items()).to_numpy()
        for code, where in places:
            rows.append({"code": code, "measure": key,
                         "num": ev[f"n_{m.numerator}"].to_numpy()[hit & where].sum(),
                         "num_k": ev[f"k_{m.numerator}"].to_numpy()[hit & where].sum() % 1.0,
                         "den": ev[f"n_{m.denominator}"].to_numpy()[base & where].sum(),
                         "den_k": ev[f"k_{m.denominator}"].to_numpy()[base & where].sum() % 1.0})
    t = protect(pd.DataFrame(rows))
    e = stats.proportion_ci(t["num_shown"].fillna(0).to_numpy(), t["den_shown"].to_numpy())
    t["value"], t["lower"], t["upper"] = e.value * 100, e.lower * 100, e.upper * 100
    t.loc[t["hidden"], ["value", "lower", "upper"]] = np.nan
    t["flag"] = np.where(t["hidden"], "hidden", "")
    return t.drop(columns=["num", "num_k", "den", "den_k"])


def variation(t: pd.DataFrame) -> dict:
    shown = t[~t["hidden"] & (t["expected"] > 0)]
    if len(shown) < 2:
        return {}
    v = stats.variation_stats(shown["num_shown"].to_numpy(), shown["expected"].to_numpy())
    return {k: (float(x) if x is not None else None) for k, x in v._asdict().items()}
