"""What policy needs to decide (issue 27): social gradients, recent trends, the imaging that could
be avoided, and comparable municipalities, computed from the figures the data layer serves.

Every input is read through :func:`atlas.data.source` (``area_table``, ``trend_table``,
``nearest``), so the same code answers on the secure database (exact figures, inside only) and on
a release (published figures only); each statistic is the pure function of :mod:`etl.stats` on
those figures. A figure the source hides or does not publish is never imputed: the statistic that
needs it is not computed, and the row says which input was missing and why (its status in words).

- :func:`gradient`: the slope and relative index of inequality (``stats.sii``, PHE method on log
  rates) of the ordered groups of education or income, for Denmark and each area of a level;
- :func:`gradient_trend`: Denmark's RII year by year and its recent trend (``stats.value_trend``);
- :func:`recent_trends`: each area's trend over its last N complete years (``stats.recent_trend``),
  with the funnel verdict of the last year ("higher and rising") and ``stats.chance_flags``;
- :func:`opportunity`: examinations a year avoided if each area above a level came down to it
  (``stats.opportunity``);
- :func:`peers`: each municipality's comparable municipalities (``stats.nearest_peers`` on features
  from published populations and the map's boundaries).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from atlas import coverage, data, db
from atlas.cache import cached
from atlas.data.domain import FEW, HIDDEN, SHOWN, UNPUBLISHED, row_status, status_word
from atlas.filters import DIMENSIONS, RECENT_YEARS, View
from atlas.measures import MEASURES
from etl import stats

# the ordered population groups and their order from the least to the most advantaged (their codes
# run that way; 9 "unknown" has no place on the scale and is left out, as in etl/stats/inequality.py)
GRADIENT_DIMS = ("edu", "inc")
UNORDERED_DIMS = ("origin", "labour")      # no social order: no SII (the breakdown shows them)
GRADIENT_LEVELS = ("region", "municipality")
# crude by default: each group's own rate as published; "isr" reads the groups' standardised rates
# as the data layer serves them (each group against its own national rates by sex and age band)
RATE_MODES = ("crude", "isr")
REPETITIONS = {"denmark": 100_000, "region": 100_000, "region2027": 100_000, "municipality": 10_000}
TREND_YEARS = RECENT_YEARS                 # also the atlas's markers' windows (View.recent)
OPPORTUNITY_MEASURES = ("imaging_rate", "lowvalue_rate", "persons_rate")
TARGETS = ("denmark", "best_quartile", "user")
HIGHER = ("high_998", "high_95")
LOWER = ("low_998", "low_95")
# funnel flags are one-sided 2.5 % (95 % limits); a one-direction trend marker 2.5 %
ALPHA_HIGH, ALPHA_RISING = 0.025, 0.025
AGE_65PLUS = ("65-74", "75-84", "85+")


def ordered_codes(dim: str) -> tuple:
    """The codes of an ordered dimension from the least to the most advantaged (unknown left out)."""
    if dim not in GRADIENT_DIMS:
        raise ValueError(f"{dim!r} has no social order (only {', '.join(GRADIENT_DIMS)})")
    return tuple(v for v in DIMENSIONS[dim][1] if v != 9)


def _value_kind(measure: str) -> str:
    return "rate" if MEASURES[measure].kind == "rate" else "proportion"


def _shown(row) -> bool:
    return row is not None and not bool(row.get("hidden", True)) and pd.notna(row.get("value"))


# ---------------------------------------------------------------- social gradient

def gradient_view(measure: str, level: str, y0: int, y1: int, rates: str = "crude") -> tuple[View, list[str]]:
    """The view the groups are read at: the source's nearest to the first group's view (every group
    of a dimension is published alike), and what changed."""
    first = View(measure=measure, level=level, y0=y0, y1=y1, rates=rates, dims=(("edu", 1),))
    near, changed = data.source().nearest(first)
    return replace(near, dims=()), changed


@cached(maxsize=64)
def group_rates(measure: str, dim: str, level: str, y0: int, y1: int, rates: str = "crude") -> pd.DataFrame:
    """One row per area (Denmark as code 0, then each area of ``level``) and group of ``dim``, as
    the data layer serves it: ``code``, ``name``, ``group`` (code), ``order`` (0 = least
    advantaged), ``value``, ``lower``, ``upper`` (the group's rate, standardised as ``rates`` says,
    or share), ``population`` (its denominator), ``count``, ``status`` (shown, hidden, few_events,
    unpublished, empty)."""
    src = data.source()
    rows = []
    for order, code in enumerate(ordered_codes(dim)):
        view = View(measure=measure, level=level, y0=y0, y1=y1, rates=rates, dims=((dim, code),))
        published = src.publishes(view)
        tbl, nat = src.area_table(view) if published else (None, None)
        parts = [(0, "Denmark", nat)]
        if tbl is not None:
            parts += [(int(r["code"]), str(r["name"]), r) for _, r in tbl.iterrows()]
        else:
            a = db.areas()
            parts += [(int(c), str(n), None) for c, n in zip(a[a.level == level].code, a[a.level == level].name)]
        for area, name, r in parts:
            if r is None:
                status = UNPUBLISHED
            else:
                status = row_status(r)
                if status == SHOWN and not _shown(r):
                    status = FEW if pd.notna(r.get("den_shown")) else HIDDEN
            ok = status == SHOWN
            rows.append({"code": area, "name": name, "group": code, "order": order,
                         "value": float(r["value"]) if ok else np.nan,
                         "lower": float(r["lower"]) if ok else np.nan,
                         "upper": float(r["upper"]) if ok else np.nan,
                         "population": float(r["den_shown"]) if r is not None and pd.notna(r.get("den_shown")) else np.nan,
                         "count": float(r["num_shown"]) if r is not None and pd.notna(r.get("num_shown")) else np.nan,
                         "status": status})
    return pd.DataFrame(rows).sort_values(["code", "order"], kind="stable").reset_index(drop=True)


def sii_of(groups: pd.DataFrame, measure: str, level: str) -> dict:
    """The SII and RII of one area's ordered groups (``stats.sii`` on their values, limits and
    populations; fitted on log rates or logit proportions, PHE's recommended form), or why not: the
    groups whose figure is missing are named with their status, never filled in."""
    g = groups.sort_values("order")
    missing = g[(g["status"] != SHOWN) | g["population"].isna() | ~(g["population"] > 0)]
    nan = float("nan")
    out = {"sii": nan, "sii_lower": nan, "sii_upper": nan, "rii": nan, "rii_lower": nan, "rii_upper": nan,
           "groups": int(len(g)), "missing": [(int(c), s) for c, s in zip(missing["group"], missing["status"])],
           "method": None}
    if len(missing):
        return out
    kind = _value_kind(measure)
    scale = 100.0 if kind == "proportion" else 1.0
    try:
        res = stats.sii(g["value"].to_numpy(float) / scale, g["population"].to_numpy(float),
                        lower=g["lower"].to_numpy(float) / scale, upper=g["upper"].to_numpy(float) / scale,
                        kind=kind, transform=True, multiplier=scale, repetitions=REPETITIONS.get(level, 10_000))
    except ValueError as exc:
        out["missing"] = [(-1, str(exc))]
        return out
    out.update(sii=res.sii.value, sii_lower=res.sii.lower, sii_upper=res.sii.upper, rii=res.rii.value,
               rii_lower=res.rii.lower, rii_upper=res.rii.upper, method=res.method)
    return out


@cached(maxsize=64)
def gradient(measure: str, dim: str, level: str, y0: int, y1: int, rates: str = "crude") -> pd.DataFrame:
    """One row per area (Denmark first, code 0): the SII (in the measure's units, per 1,000 or
    percentage points; most advantaged minus least advantaged end) and the RII (their ratio), each
    with its 95 % Monte Carlo interval, ``groups``, ``missing`` (the groups not shown: (code,
    status)) and ``method``."""
    g = group_rates(measure, dim, level, y0, y1, rates)
    rows = []
    for code, part in g.groupby("code", sort=False):
        lvl = "denmark" if code == 0 else level
        rows.append({"code": int(code), "name": str(part["name"].iloc[0]), **sii_of(part, measure, lvl)})
    return pd.DataFrame(rows)


def missing_text(missing: list, dim: str, lang: str) -> str:
    """The groups an SII could not use, in words ("not computed: Basic education: hidden: 1-4")."""
    from atlas.i18n import label, t

    if not missing:
        return ""
    parts = []
    for code, status in missing:
        if code == -1:
            parts.append(str(status))
        else:
            parts.append(f"{label(dim, code, lang)}: {status_word(status, lang) or status}")
    return t("pol_not_computed", lang) + " " + "; ".join(parts)


@cached(maxsize=32)
def gradient_trend(measure: str, dim: str, rates: str = "crude", n_years: int = 5) -> tuple[pd.DataFrame, dict]:
    """Denmark's SII and RII year by year (each year's groups from the source's trend table) and
    the recent trend of the RII over the last ``n_years`` complete years (``stats.value_trend`` on
    the log RII with its interval: Fingertips' form for values with intervals)."""
    src = data.source()
    parts = []
    for order, code in enumerate(ordered_codes(dim)):
        view = View(measure=measure, level="region", y0=data.years()[-1], y1=data.years()[-1], rates=rates,
                    dims=((dim, code),))
        if not src.publishes(view):
            continue
        tr = src.trend_table(view, None)
        tr = tr[tr["code"] == 0]
        for _, r in tr.iterrows():
            status = row_status(r)
            ok = status == SHOWN and pd.notna(r["value"])
            parts.append({"year": int(r["year"]), "code": 0, "name": "Denmark", "group": code, "order": order,
                          "value": float(r["value"]) if ok else np.nan, "lower": float(r["lower"]) if ok else np.nan,
                          "upper": float(r["upper"]) if ok else np.nan,
                          "population": float(r["den_shown"]) if pd.notna(r["den_shown"]) else np.nan,
                          "count": float(r["num_shown"]) if pd.notna(r["num_shown"]) else np.nan,
                          "status": status if ok or status != SHOWN else FEW})
    g = pd.DataFrame(parts)
    rows = []
    if len(g):
        for year, part in g.groupby("year"):
            if part["order"].nunique() < len(ordered_codes(dim)):
                continue
            rows.append({"year": int(year), **sii_of(part, measure, "denmark")})
    by_year = pd.DataFrame(rows, columns=["year", "sii", "sii_lower", "sii_upper", "rii", "rii_lower", "rii_upper",
                                          "groups", "missing", "method"])
    incomplete = coverage.incomplete_years(measure)
    by_year["complete"] = [int(y) not in incomplete for y in by_year["year"]]
    if len(by_year):
        tr = stats.value_trend(by_year["year"].to_numpy(), by_year["rii"].to_numpy(float),
                               by_year["rii_lower"].to_numpy(float), by_year["rii_upper"].to_numpy(float), log=True,
                               n_years=n_years, incomplete=list(incomplete), breaks=list(coverage.breaks(measure)))
        trend = {"change": tr.change.value, "change_lower": tr.change.lower, "change_upper": tr.change.upper,
                 "direction": tr.direction, "years": tr.years, "reason": tr.reason, "method": tr.method}
    else:
        trend = {"change": np.nan, "change_lower": np.nan, "change_upper": np.nan, "direction": "not tested",
                 "years": (), "reason": "no year with every group shown", "method": ""}
    return by_year, trend


# ---------------------------------------------------------------- recent trends

def trend_windows(measure: str, level: str) -> list[int]:
    """The last years a recent trend may end in: published single years that are complete."""
    frame = data.source().yearly_table(measure, level)
    incomplete = coverage.incomplete_years(measure)
    return sorted(int(y) for y in frame["year"].unique() if int(y) not in incomplete)


@cached(maxsize=64)
def recent_trends(measure: str, level: str, n_years: int = 5, end: int | None = None,
                  quasi: bool = False) -> tuple[pd.DataFrame, dict]:
    """Each area's recent trend (``stats.recent_trend``: Poisson log-linear regression of its
    published yearly counts on the year with its population as offset, over the last ``n_years``
    complete years up to ``end``; ``quasi`` for the quasi-Poisson form), its funnel flag in the last
    year, and ``higher_rising`` (above Denmark beyond chance in the last year and rising). Returns
    (table, chance) with chance the flags expected by chance alone (``stats.chance_flags``) among
    the areas tested: rising or falling (two-sided 5 %) and higher and rising (2.5 % x 2.5 %). Every
    year's counts and flags come from one read of the source (:meth:`atlas.data.source.Source.yearly_table`)."""
    frame = data.source().yearly_table(measure, level)
    rows = []
    for code, g, r in _area_trends(frame, measure, n_years, end, quasi):
        last = g[g["year"] == r.years[-1]] if r.years else g.iloc[0:0]
        flag = str(last["flag"].iloc[0]) if len(last) else "not_tested"
        rows.append({"code": int(code), "name": str(g["name"].iloc[0]),
                     "first_year": r.years[0] if r.years else None, "last_year": r.years[-1] if r.years else None,
                     "apc": r.apc.value, "apc_lower": r.apc.lower, "apc_upper": r.apc.upper,
                     "direction": r.direction, "p_value": r.p_value, "dispersion": r.dispersion,
                     "flag": flag, "higher_rising": flag in HIGHER and r.direction == "rising",
                     "reason": r.reason, "method": r.method})
    table = pd.DataFrame(rows)
    tested = int((table["direction"] != "not tested").sum()) if len(table) else 0
    chance = {"tested": tested, "any": stats.chance_flags(tested, 0.05),
              "higher_rising": stats.chance_flags(tested, ALPHA_HIGH * ALPHA_RISING)}
    return table, chance


def _area_trends(frame: pd.DataFrame, measure: str, n_years: int, end: int | None, quasi: bool):
    """Each area's recent trend from its yearly counts (``frame``: ``code``, ``year``, ``count``,
    ``population``, in year order within an area): (code, the area's rows, ``stats.recent_trend``'s
    result), areas in code order."""
    incomplete = set(coverage.incomplete_years(measure))
    if end is not None:
        incomplete |= {int(y) for y in frame["year"].unique() if int(y) > end}
    breaks = list(coverage.breaks(measure))
    for code, g in frame.groupby("code", sort=True):
        yield code, g, stats.recent_trend(g["year"].to_numpy(), g["count"].to_numpy(float),
                                          g["population"].to_numpy(float), n_years=n_years,
                                          incomplete=sorted(incomplete), breaks=breaks, quasi=quasi)


@cached(maxsize=64)
def recent_directions(measure: str, level: str, n_years: int = 5) -> pd.DataFrame:
    """Each area's recent trend over the last ``n_years`` complete years, as :func:`recent_trends`
    tests it (the same counts, the same regression), without the funnel flags: ``code``,
    ``first_year``, ``last_year``, ``apc`` with its interval and ``direction``. The counts of all
    years come from one query of the source (:meth:`atlas.data.source.Source.yearly_counts`), not
    from one table of areas per year: what the atlas page's recent-trend markers need on a first view."""
    frame = data.source().yearly_counts(measure, level)
    rows = [{"code": int(code), "first_year": r.years[0] if r.years else None,
             "last_year": r.years[-1] if r.years else None, "apc": r.apc.value, "apc_lower": r.apc.lower,
             "apc_upper": r.apc.upper, "direction": r.direction}
            for code, _, r in _area_trends(frame, measure, n_years, None, False)]
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- opportunity

@cached(maxsize=64)
def opportunity(measure: str, level: str, y0: int, y1: int, target: str = "denmark",
                value: float | None = None, only_significant: bool = False) -> tuple[pd.DataFrame, dict]:
    """Examinations a year avoided if each area above the target came down to it
    (``stats.opportunity`` on the areas' published counts O and expected counts E at Denmark's
    rates by sex and age band: a target ratio of 1 is Denmark's level). ``target``: "denmark", the
    "best_quartile" of the areas' O/E (``stats.target_level``), or a "user" rate per 1,000 (as a
    ratio to Denmark's standardised rate). Areas whose count or expected count is hidden are left
    out and named (``left_out``), never filled in. Returns (table by area, summary)."""
    src = data.source()
    view = View(measure=measure, level=level, y0=y0, y1=y1)
    near, changed = src.nearest(view)
    tbl, national = src.area_table(near)
    ok = (~tbl["hidden"].fillna(True).astype(bool) & tbl["num_shown"].notna() & tbl["expected"].notna()
          & (tbl["expected"].astype(float) > 0)).to_numpy()
    left_out = [(int(c), str(n), row_status(r)) for c, n, r, k in
                zip(tbl["code"], tbl["name"], tbl.to_dict("records"), ok) if not k]
    o, e = tbl.loc[ok, "num_shown"].to_numpy(float), tbl.loc[ok, "expected"].to_numpy(float)
    years = near.y1 - near.y0 + 1
    nat_rate = float(national["value"]) if _shown(national) else np.nan
    summary = {"view": near, "changed": changed, "left_out": left_out, "years": years, "national_rate": nat_rate,
               "target": target, "target_ratio": np.nan, "target_rate": np.nan, "total": None, "n_above": 0,
               "n_areas": int(ok.sum()), "reason": None, "method": ""}
    cols = ["code", "name", "observed", "expected", "ratio", "target_count", "avoidable", "avoidable_lower",
            "avoidable_upper", "above", "significant"]
    if not ok.any():
        summary["reason"] = "no_areas"
        return pd.DataFrame(columns=cols), summary
    if target == "denmark":
        ratio = 1.0
    elif target == "best_quartile":
        ratio = stats.target_level(o, e, "best_quartile")
    elif target == "user":
        if value is None or not np.isfinite(nat_rate) or not value > 0:
            summary["reason"] = "no_user_target" if value is None or not value > 0 else "no_national_rate"
            return pd.DataFrame(columns=cols), summary
        ratio = float(value) / nat_rate
    else:
        raise ValueError(f"target must be one of {TARGETS}")
    res = stats.opportunity(o, e, ratio, years=years, only_significant=only_significant)
    out = pd.DataFrame({"code": tbl.loc[ok, "code"].astype(int).to_numpy(), "name": tbl.loc[ok, "name"].to_numpy(),
                        "observed": o / years, "expected": e / years, "ratio": o / e,
                        "target_count": res.target_count, "avoidable": res.by_area.value,
                        "avoidable_lower": res.by_area.lower, "avoidable_upper": res.by_area.upper,
                        "above": res.above, "significant": res.significant})
    summary.update(target_ratio=ratio, target_rate=ratio * nat_rate, total=res.total, n_above=res.n_above,
                   method=res.method)
    return out.sort_values("avoidable", ascending=False, kind="stable").reset_index(drop=True), summary


# ---------------------------------------------------------------- comparable municipalities

@cached(maxsize=4)
def peer_features(y0: int, y1: int) -> pd.DataFrame:
    """Each municipality's public features over a period, from the data layer's published
    populations (``den_shown`` of the imaging rate: everyone, and each age band of 65 and over) and
    the land area of the map's boundaries: ``population`` (a year), ``share_65plus``, ``density``
    (per km²). A municipality whose population is not shown is left out (never filled in)."""
    src = data.source()
    base = View(measure="imaging_rate", level="municipality", y0=y0, y1=y1)
    tbl, _ = src.area_table(src.nearest(base)[0])
    pop = tbl.set_index("code")["den_shown"].astype(float)
    old = pd.Series(0.0, index=pop.index)
    for band in AGE_65PLUS:
        v = View(measure="imaging_rate", level="municipality", y0=y0, y1=y1, rates="crude", dims=(("age", band),))
        if not src.publishes(v):
            return pd.DataFrame(columns=["population", "share_65plus", "density"])
        t, _ = src.area_table(v)
        old = old + t.set_index("code")["den_shown"].astype(float).reindex(old.index)
    areas = land_area_km2("municipality")
    out = pd.DataFrame({"population": pop / (y1 - y0 + 1), "share_65plus": old / pop,
                        "density": pop / (y1 - y0 + 1) / pd.Series(areas).reindex(pop.index)})
    return out.dropna()


@cached(maxsize=4)
def land_area_km2(level: str) -> dict[int, float]:
    """Each area's land area (km²) from the map's boundaries (``atlas.db.geojson``: the DAGI
    polygons as the build simplified them; the area is within about 1 % of the full polygons')."""
    from shapely.geometry import shape

    from etl.geometry import area_km2

    return {int(f["properties"]["code"]): float(area_km2(shape(f["geometry"])))
            for f in db.geojson(level)["features"]}


@cached(maxsize=4)
def peers(y0: int, y1: int) -> pd.DataFrame:
    """Every municipality's comparable municipalities (``stats.nearest_peers`` with
    ``etl/config/peers.toml``): ``code``, ``peer``, ``rank``, ``distance``. As the build wrote them
    (``data.source().peers()``, the table ``peers``: one classification for every period) where the
    database has them; otherwise worked out here from the period's published populations."""
    from etl.peers import load_peer_config

    built = data.source().peers()
    if built is not None and len(built):
        return built[["code", "peer", "rank", "distance"]].astype({"code": int, "peer": int, "rank": int})
    cfg = load_peer_config()
    feats = peer_features(y0, y1)
    # a single year whose populations by age are not published: the shortest published period holding it
    for a, b in sorted(data.source().multi_year_periods(), key=lambda ab: (ab[1] - ab[0], -ab[1])):
        if len(feats) > int(cfg["k"]):
            break
        if a <= y1 <= b:
            feats = peer_features(a, b)
    if len(feats) <= int(cfg["k"]):
        return pd.DataFrame(columns=["code", "peer", "rank", "distance"])
    return stats.nearest_peers(feats, cfg["variables"], k=int(cfg["k"]), standardise=cfg.get("standardise", "z"))


def peers_of(code: int, y0: int, y1: int) -> list[int]:
    p = peers(y0, y1)
    return [int(c) for c in p[p["code"] == int(code)].sort_values("rank")["peer"]]


def peer_comparison(code: int, y0: int, y1: int, measures=("imaging_rate", "lowvalue_rate", "mri_share")) -> pd.DataFrame:
    """The area, each of its peers, and the peers together (their pooled O / E times Denmark's
    rate for rates; pooled shares) for each measure, as the data layer serves them."""
    src = data.source()
    codes = [int(code), *peers_of(code, y0, y1)]
    rows = []
    for key in measures:
        m = MEASURES[key]
        view = View(measure=key, level="municipality", y0=y0, y1=y1)
        if not src.publishes(view):
            continue
        tbl, national = src.area_table(view)
        sub = tbl.set_index("code").reindex(codes)
        for i, c in enumerate(codes):
            r = sub.loc[c]
            shown = not bool(r.get("hidden", True)) and pd.notna(r.get("value"))
            rows.append({"measure": key, "role": "area" if i == 0 else "peer", "code": c,
                         "name": str(r.get("name", c)), "value": float(r["value"]) if shown else np.nan,
                         "lower": float(r["lower"]) if shown else np.nan, "upper": float(r["upper"]) if shown else np.nan,
                         "flag": str(r.get("flag")) if shown else "hidden",
                         "status": row_status(r.to_dict()) if isinstance(r.get("status"), str) else UNPUBLISHED})
        peer_rows = sub.loc[codes[1:]]
        ok = ~peer_rows["hidden"].fillna(True).astype(bool) & peer_rows["num_shown"].notna()
        pooled = lo = hi = np.nan
        if ok.any():
            o = float(peer_rows.loc[ok, "num_shown"].sum())
            if m.kind == "rate" and peer_rows.loc[ok, "expected"].notna().all() and _shown(national):
                e = float(peer_rows.loc[ok, "expected"].sum())
                ci = stats.poisson_ci(np.array([o]), 0.95)
                rate = float(national["value"])
                pooled, lo, hi = o / e * rate, float(ci.lower[0]) / e * rate, float(ci.upper[0]) / e * rate
            elif m.kind == "share":
                d = float(peer_rows.loc[ok, "den_shown"].sum())
                p = stats.proportion_ci(np.array([o]), np.array([d]))
                pooled, lo, hi = float(p.value[0]) * 100, float(p.lower[0]) * 100, float(p.upper[0]) * 100
        rows.append({"measure": key, "role": "peers", "code": None, "name": "peers", "value": pooled, "lower": lo,
                     "upper": hi, "flag": "", "status": SHOWN if np.isfinite(pooled) else HIDDEN,
                     "left_out": [int(c) for c in peer_rows.index[~ok.to_numpy()]]})
        rows.append({"measure": key, "role": "denmark", "code": 0, "name": "Denmark",
                     "value": float(national["value"]) if _shown(national) else np.nan,
                     "lower": float(national["lower"]) if _shown(national) else np.nan,
                     "upper": float(national["upper"]) if _shown(national) else np.nan, "flag": "",
                     "status": SHOWN if _shown(national) else HIDDEN})
    return pd.DataFrame(rows)


def clear_caches() -> None:
    for f in (group_rates, gradient, gradient_trend, recent_trends, recent_directions, opportunity,
              peer_features, land_area_km2, peers):
        f.cache_clear()
