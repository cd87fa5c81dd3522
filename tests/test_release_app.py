"""The app served from the release database: same pages and downloads, published figures only.

An intruder here has only what a browser gets: the CSV downloads and the callback outputs. The
attacks (interval inversion, period differencing, municipalities against their region and
Denmark, a group value against everyone) are scored against the true counts of the secure
database the release was written from: no count from 1 to 4 may come out.
"""
from __future__ import annotations

import csv
import io
import itertools

import duckdb
import numpy as np
import pandas as pd
from helpers import split_download
import pytest

from atlas.filters import View

MIN = 5


def _csv(content: bytes, sep: str = ",") -> pd.DataFrame:
    text = content.decode("utf-8-sig")
    _, body = split_download(text)
    return pd.read_csv(io.StringIO(body), sep=sep, dtype={"count": "Int64", "denominator": "Int64"})


@pytest.fixture(scope="module")
def truth(release_secure_db):
    """True imaging counts by municipality, year and population group, from the secure database."""
    con = duckdb.connect(str(release_secure_db), read_only=True)
    yield con
    con.close()


def _true_imaging(truth, y0: int, y1: int, dims: dict) -> pd.Series:
    from atlas.filters import DIMENSIONS

    where = " AND ".join([f"year BETWEEN {y0} AND {y1}"] + [
        f"{DIMENSIONS[k][0]} = {v!r}" if isinstance(v, str) else f"{DIMENSIONS[k][0]} = {v}" for k, v in dims.items()])
    return truth.execute(f"SELECT municipality, sum(n_imaging) AS n FROM imaging_cube WHERE {where} GROUP BY 1") \
        .df().set_index("municipality")["n"]


def test_the_app_knows_it_serves_a_release_and_says_so(release_app):
    from atlas import data
    from atlas.i18n import t

    assert data.source().kind == "release" and not data.inside_only()
    assert data.years() == list(range(2013, 2025))
    assert "must not leave" not in t("db_release", "en") and "must not leave" in t("db_secure", "en")


def test_default_view_is_whole_and_answers_like_the_secure_app(release_app, truth):
    """Everyone, 2023, by municipality: at most 6 % hidden. On the demo data (scale 0.1) this view
    is whole; at this test's scale 0.05 a small island's count is below 5, and secondary
    suppression (its region, its 3-year period, the groups of that period) reaches a few more."""
    from atlas import queries

    t, national = queries.area_table(View(y0=2023, y1=2023, rates="crude"))
    true = _true_imaging(truth, 2023, 2023, {})
    assert len(t) == 98
    primary = int(true.reindex(t["code"]).fillna(0).between(1, MIN - 1).sum())
    assert primary >= 1                                      # the test meets a count to protect
    assert t["hidden"].mean() <= 0.06
    t, national = queries.area_table(View(y0=2023, y1=2023))
    t = t[~t["hidden"]]
    assert t["value"].between(t["lower"], t["upper"]).all()
    assert national["num_shown"] >= MIN and national["lower"] < national["value"] < national["upper"]
    for rates in ("crude", "eb"):
        t2, _ = queries.area_table(View(y0=2023, y1=2023, rates=rates))
        assert t2["value"].notna().sum() >= 90
        assert (t2["value"].dropna() > 0).all()


def test_every_chart_and_download_of_the_atlas_answers_without_a_count_from_1_to_4(release_app):
    from atlas import export

    checked = 0
    for level, (y0, y1), dims, measure in itertools.product(
            ("municipality", "region"), [(2023, 2023), (2022, 2024)], [(), (("edu", 1),), (("modality", "mri"),)],
            ("imaging_rate", "surgery_long_share")):
        v = View(measure=measure, level=level, y0=y0, y1=y1, dims=dims, area=101 if level == "municipality" else 1084)
        for chart in ("map", "trend", "breakdown", "mix"):
            content, _ = export.chart_csv(chart, v)
            table = _csv(content)
            for column in ("count", "denominator"):
                if column in table:
                    values = table[column].dropna().astype(int)
                    assert not ((values >= 1) & (values < MIN)).any(), (chart, v)
            checked += 1
    assert checked == 2 * 2 * 3 * 2 * 4


def test_a_view_outside_the_plan_moves_to_the_nearest_published_one(release_app):
    from atlas.data import release as rq

    v, changed = rq.nearest_published(View(y0=2021, y1=2023))
    assert (v.y0, v.y1) in {(2022, 2024), (2019, 2021), (2013, 2024)} and changed == ["period"]
    v, changed = rq.nearest_published(View(y0=2023, y1=2023, dims=(("edu", 1), ("sex", 2))))
    assert rq.is_published(v) and len(v.dims) <= 1 and "filters" in changed
    v, changed = rq.nearest_published(View(y0=2023, y1=2023, dims=(("edu", 1),)))
    assert rq.is_published(v) and changed and dict(v.dims) == {"edu": 1}
    same, changed = rq.nearest_published(View(y0=2023, y1=2023))
    assert same == View(y0=2023, y1=2023) and changed == []


def test_intervals_give_back_the_published_count(release_app):
    """Inverting the shape of every shown interval gives the published count: nothing more."""
    from atlas import queries
    from etl import stats

    o = np.arange(1, 20000, dtype=float)
    ci = stats.poisson_ci(o)
    shape = (o - ci.lower) / (ci.upper - o)
    n = 0
    for rates in ("dsr", "crude"):
        t, _ = queries.area_table(View(y0=2016, y1=2018, rates=rates, dims=(("age", "85+"),)))
        t = t[~t["hidden"] & (t["upper"] > t["value"]) & (t["num_shown"] > 0)]
        for val, lo, hi, shown in zip(t["value"], t["lower"], t["upper"], t["num_shown"]):
            guess = o[np.argmin(np.abs(shape - (val - lo) / (hi - val)))]
            assert guess == shown
            n += 1
    assert n > 50


def test_differencing_published_views_gives_no_small_count(release_app, truth):
    """Periods minus their other years; a region minus its other municipalities; everyone minus
    the other values of a group: wherever exactly one part is hidden, the derived value is the
    true count, and it is never from 1 to 4."""
    from atlas import db, queries

    derived: list[tuple[float, float]] = []
    # a 3-year period minus two of its years, per municipality (everyone)
    period, _ = queries.area_table(View(y0=2016, y1=2018, rates="crude"))
    years = {y: queries.area_table(View(y0=y, y1=y, rates="crude"))[0].set_index("code") for y in (2016, 2017, 2018)}
    p = period.set_index("code")
    for code in p.index:
        parts = [years[y].loc[code, "num_shown"] for y in years]
        if np.isnan(p.loc[code, "num_shown"]) or sum(np.isnan(parts)) != 1:
            continue
        value = p.loc[code, "num_shown"] - np.nansum(parts)
        missing = [y for y, x in zip(years, parts) if np.isnan(x)][0]
        derived.append((value, _true_imaging(truth, missing, missing, {}).get(code, 0)))
    # a region minus its shown municipalities
    a = db.areas()
    mun = a[a.level == "municipality"].set_index("code")
    for y in (2016, 2017):
        m, _ = queries.area_table(View(y0=y, y1=y, rates="crude"))
        r, _ = queries.area_table(View(y0=y, y1=y, level="region", rates="crude"))
        m["region"] = m["code"].map(mun["region_code"])
        for code, reg in r.set_index("code").iterrows():
            parts = m[m["region"] == code]
            if parts["hidden"].sum() == 1 and not reg["hidden"]:
                hid = parts[parts["hidden"]]["code"].iloc[0]
                derived.append((reg["num_shown"] - parts["num_shown"].sum(), _true_imaging(truth, y, y, {}).get(hid, 0)))
    # everyone minus the other education levels, per municipality, 3-year period
    from atlas.filters import DIMENSIONS

    everyone = queries.area_table(View(y0=2022, y1=2024, rates="crude"))[0].set_index("code")
    groups = {v: queries.area_table(View(y0=2022, y1=2024, rates="crude", dims=(("edu", v),)))[0].set_index("code")
              for v in DIMENSIONS["edu"][1]}
    for code in everyone.index:
        parts = {v: g.loc[code, "num_shown"] if code in g.index else np.nan for v, g in groups.items()}
        hid = [v for v, x in parts.items() if np.isnan(x)]
        if len(hid) == 1 and not np.isnan(everyone.loc[code, "num_shown"]):
            value = everyone.loc[code, "num_shown"] - np.nansum(list(parts.values()))
            derived.append((value, _true_imaging(truth, 2022, 2024, {"edu": hid[0]}).get(code, 0)))
    small = [(d, tr) for d, tr in derived if 1 <= tr < MIN]
    assert not small, f"{len(small)} small counts derived"
    assert all(abs(d - tr) < 1e-9 for d, tr in derived)       # the attack is exact where it works


def test_pathways_and_returns_pages_answer_from_published_counts(release_app):
    from atlas import pathways, returns

    p = pathways.pathways(pathways.View(y0=2022, y1=2024), 365)
    counts = p["cells"]["count"].dropna()
    assert len(counts) > 10 and not ((counts >= 1) & (counts < MIN)).any()
    muni = pathways.pathways(pathways.View(y0=2023, y1=2023, area=101), 365)
    assert muni["cells"]["count"].isna().all()             # not published for a municipality
    m = returns.monthly()
    assert "k_referrals" not in m and (m["producer_id"] == "all").any()
    for c in ("referrals", "returned", "letters"):
        v = m[c].dropna()
        assert not ((v >= 1) & (v < MIN)).any()


def test_clusters_and_table_view_answer_on_the_release(release_app):
    from atlas import clusters, export

    tbl, summary = clusters.cluster_table(View(measure="imaging_rate", y0=2023, y1=2023))
    assert len(tbl) >= 80 and "view" in summary
    title, body = export.chart_table("map", View(y0=2023, y1=2023))
    assert len(body) == 99 and title


def test_a_group_of_one_age_band_shows_its_own_standardised_rate(release_app, truth):
    """Standardised on sex and age, a group defined by an age band (or a sex) has a ratio of 1 against
    Denmark's rates by construction: the reference that turns the ratio into a rate must be that
    group's own. Denmark's figure for an age band is then the band's rate standardised over its two
    sexes (the ESP gives both the same weight: their mean), computed here from the true counts (the
    release's are perturbed by at most 2 in cells of thousands)."""
    from atlas import queries

    got = {}
    for band in ("25-34", "65-74"):
        _, national = queries.area_table(View(y0=2022, y1=2024, dims=(("age", band),)))
        ev = truth.execute("SELECT sex, sum(n_imaging) AS n FROM imaging_cube WHERE year BETWEEN 2022 AND 2024 "
                           "AND age_band = ? GROUP BY 1", [band]).df().set_index("sex")["n"]
        pop = truth.execute("SELECT sex, sum(persons) AS n FROM population_cube WHERE year BETWEEN 2022 AND 2024 "
                            "AND age_band = ? GROUP BY 1", [band]).df().set_index("sex")["n"]
        expected = float((ev / pop * 1000).mean())
        got[band] = national["value"]
        assert abs(national["value"] / expected - 1) < 0.03, (band, national["value"], expected)
    assert got["65-74"] > 1.3 * got["25-34"]            # the bands differ, as their rates do
