"""Issue 27: the recent-trend markers' counts of all years in one read.

The markers' first view read twelve single-year tables of areas one by one (0.9 s on the release,
2.7 s on the secure database at scale 0.1). The data layer now reads every year's numerator and
denominator at once (:meth:`atlas.data.source.Source.yearly_counts`: one query, kept in the cache),
and the markers test the same regression on them (:func:`atlas.policy.recent_directions`). On both
databases (the session's scale-0.05 secure build and the release written from it):

- the counts are exactly those of the single years' tables of areas, read here year by year;
- the markers are exactly those of :func:`atlas.policy.recent_trends` (/recent-trends' test), for
  several windows;
- the read is one query, and what the cache hands out cannot be changed by its receiver.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import app_on

pytestmark = pytest.mark.xdist_group("release")

# a rate and a share of the imaging cube, low-value imaging (its own denominator), and the rate of
# another cube (chiropractors' X-ray billings)
MEASURES = ("imaging_rate", "mri_share", "lowvalue_rate", "lowvalue_share", "chiro_xray_rate")
LEVELS = ("municipality", "region", "region2027")


@pytest.fixture(scope="module", params=["secure", "release"])
def database(request):
    """Each test runs on the secure database and on the release (the app pointed at each in turn)."""
    with app_on(request.getfixturevalue("release_secure_db" if request.param == "secure" else "release_db")):
        from atlas import data

        assert data.source().kind == request.param
        yield request.param


def _year_by_year(measure: str, level: str) -> pd.DataFrame:
    """What the markers read before: the data layer's year-by-year definition of the years' tables
    (each published single year's table of areas, ``atlas.data.source.yearly_table_by_year``), on
    the columns both give."""
    from helpers import year_by_year_table

    cols = ["code", "name", "year", "count", "population"]
    t = year_by_year_table(measure, level)
    if t.empty:
        return pd.DataFrame(columns=cols)
    return t[cols].sort_values(["year", "code"]).reset_index(drop=True)


def test_the_counts_of_all_years_are_those_of_each_years_table(database):
    from atlas import data

    src = data.source()
    compared = 0
    for measure in MEASURES:
        for level in LEVELS:
            before, now = _year_by_year(measure, level), src.yearly_counts(measure, level)
            assert list(now.columns) == ["code", "name", "year", "count", "population"]
            if before.empty:
                assert now.empty, (measure, level)
                continue
            pd.testing.assert_frame_equal(now, before, check_dtype=False)
            assert now["year"].nunique() > 1 and now["count"].notna().any(), (measure, level)
            compared += len(now)
    assert compared > 1000
    if database == "release":
        # hidden cells stay hidden: no number where the release publishes none
        counts = src.yearly_counts("lowvalue_rate", "municipality")
        assert counts["count"].isna().any() and (counts["count"].isna() == counts["population"].isna()).all()


def test_the_markers_are_those_of_the_year_by_year_path(database):
    """The markers before (the regression of :func:`atlas.policy.recent_trends`, which reads the years'
    tables one by one) and now: the same table, to the last digit, for the default window and others."""
    from atlas import policy, trend_markers

    for measure in MEASURES:
        for level in LEVELS:
            for n in (3, 5, 8):
                tab, years = trend_markers.markers(measure, level, n)
                before, _ = policy.recent_trends(measure, level, n)
                if not len(before):
                    assert not len(tab) and years is None, (measure, level, n)
                    continue
                pd.testing.assert_frame_equal(tab.reset_index(drop=True), before[trend_markers.COLUMNS].reset_index(drop=True))
                tested = before[before["direction"] != "not tested"]
                assert years == ((int(tested["first_year"].min()), int(tested["last_year"].max())) if len(tested) else None)
    tab, _ = trend_markers.markers("imaging_rate", "municipality", 5)
    assert (tab["direction"] != "not tested").sum() > 50          # the comparison compared tested trends


def test_one_query_for_all_years_and_a_copy_for_each_receiver(database, monkeypatch):
    from atlas import data, db
    from atlas.data import release, secure

    src = data.source()
    src.yearly_counts("imaging_rate", "region")             # names, areas, years: read and kept
    (secure if database == "secure" else release).yearly_counts.cache_clear()
    asked = []
    real = db.query
    monkeypatch.setattr(db, "query", lambda *a, **k: asked.append(a[0]) or real(*a, **k))
    first = src.yearly_counts("imaging_rate", "municipality")
    assert len(asked) == 1, asked                           # every year in one query
    assert len(src.years()) > 5 and first["year"].nunique() > 5
    kept = first.copy()
    first.loc[:, "count"] = np.nan                          # a receiver changes its copy...
    first["name"] = "changed"
    again = src.yearly_counts("imaging_rate", "municipality")
    assert len(asked) == 1                                   # ...kept, not read again...
    pd.testing.assert_frame_equal(again, kept)              # ...and the next receiver gets the kept answer
