"""Issue 27: /recent-trends and the area profile read every year's table of areas at once.

They need each single year's counts and funnel flag per area. They read them one table of areas per
year (twelve tables per measure and level); the data layer now reads them at once
(:meth:`atlas.data.source.Source.yearly_table`: on the secure database the strata of all years in
one read, estimated with each year against Denmark in the same year; on the release one query of the
estimates and one of the reference rates), kept in the cache. On both databases (the session's
scale-0.05 secure build and the release written from it):

- the tables are exactly those of the year-by-year definition
  (:func:`atlas.data.source.yearly_table_by_year`: each published year's table of areas in turn),
  funnel flags and statuses included;
- what /recent-trends shows (its table in both languages, its sentences, its chart, its CSV) and
  what the profile says and draws (its key findings with the recent trend, the whole page, whose
  trend panel marks the incomplete years and the register break) are identical whichever path is
  read, for several windows, end years, tests and filters;
- the read does not grow with the years, and what the cache hands out cannot be changed by its
  receiver.
"""
from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from conftest import app_on

pytestmark = pytest.mark.xdist_group("release")

MEASURES = ("imaging_rate", "mri_share", "lowvalue_rate", "lowvalue_share", "chiro_xray_rate", "persons_rate")
LEVELS = ("municipality", "region", "region2027")
PAGE_MEASURES = ("imaging_rate", "lowvalue_rate", "mri_share", "chiro_xray_rate")


@pytest.fixture(scope="module", params=["secure", "release"])
def database(request):
    """Each test runs on the secure database and on the release (the app pointed at each in turn)."""
    with app_on(request.getfixturevalue("release_secure_db" if request.param == "secure" else "release_db")):
        from atlas import data

        assert data.source().kind == request.param
        yield request.param


def test_the_years_tables_at_once_are_those_read_year_by_year(database):
    from helpers import year_by_year_table

    from atlas import data
    from atlas.data.domain import YEARLY_TABLE_COLUMNS

    src = data.source()
    compared, flags, statuses = 0, set(), set()
    for measure in MEASURES:
        for level in LEVELS:
            before, now = year_by_year_table(measure, level), src.yearly_table(measure, level)
            assert list(now.columns) == YEARLY_TABLE_COLUMNS, (measure, level)
            if before.empty:
                assert now.empty, (measure, level)
                continue
            pd.testing.assert_frame_equal(now, before, check_exact=True, obj=f"{measure} by {level}")
            assert now["year"].nunique() > 5, (measure, level)
            compared += len(now)
            flags |= set(now["flag"])
            statuses |= set(now["status"])
    assert compared > 3000
    # the flags compared are the funnel's verdicts, not a constant
    assert "within" in flags and flags & {"high_95", "high_998"} and flags & {"low_95", "low_998"}, flags
    assert "shown" in statuses
    if database == "release":
        # hidden cells stay hidden: no count and no flag where the release publishes none
        t = src.yearly_table("lowvalue_rate", "municipality")
        hidden = t["count"].isna()
        assert hidden.any() and (t.loc[hidden, "flag"] == "hidden").all() and (t.loc[hidden, "status"] != "shown").all()


def _states(end_years: list[int]) -> list[dict]:
    """Views of /recent-trends: each measure at both levels, with windows of 3 to 12 years, the last
    and an earlier end year, both tests and every filter of the page among them."""
    from atlas import policy_view

    base = policy_view.defaults("recent")
    windows = ((5, base["end"]), (3, end_years[-3]), (8, base["end"]), (12, base["end"]))
    out = []
    for i, measure in enumerate(PAGE_MEASURES):
        for j, level in enumerate(("municipality", "region")):
            years, end = windows[(i + j) % len(windows)]
            out.append({**base, "measure": measure, "level": level, "years": years, "end": end,
                        "test": policy_view.TESTS[j], "show": policy_view.SHOW[i]})
    # every area shown, over windows that reach the register break (2019) and the incomplete first
    # year of low-value imaging (its look-back): the areas not tested and why
    out += [{**base, "measure": "imaging_rate", "years": 8}, {**base, "measure": "lowvalue_rate", "level": "region",
                                                              "years": 12}]
    return out


def _what_the_pages_show(states: list[dict], areas: list[tuple[int, str]], pages: list[int]) -> dict:
    """Everything /recent-trends shows for ``states`` and the profile says for ``areas`` (and the
    whole profile page of the areas ``pages``), in English and Danish, as plain values."""
    import dash
    from plotly.utils import PlotlyJSONEncoder

    import app  # noqa: F401  (registers the pages)
    from atlas import policy, policy_view

    policy.clear_caches()
    out = {}
    for n, state in enumerate(states):
        for lang in ("en", "da"):
            key = (n, lang)
            out[("table",) + key] = [(k, title, tbl.to_json(orient="split", double_precision=15))
                                     for k, title, tbl in policy_view.tables("recent", state, lang)]
            out[("words",) + key] = policy_view.recent_words(state, lang)
            out[("figure",) + key] = json.dumps(policy_view.recent_figure(state, lang).to_plotly_json(), sort_keys=True)
        out[("csv", n)] = policy_view.csv_bytes("recent", state, "trends", "da", ";")[0]
    for code, level in areas:
        for lang in ("en", "da"):
            out[("profile", code, lang)] = policy_view.profile_recent(code, level, lang)
    page = next(p for p in dash.page_registry.values() if p["path_template"] == "/area/<code>")
    for code in pages:
        for lang in ("en", "da"):
            # the page as Dash sends it (its figures' data included)
            out[("page", code, lang)] = json.dumps(page["layout"](code=str(code), lang=lang), cls=PlotlyJSONEncoder,
                                                   sort_keys=True)
    return out


def test_what_recent_trends_and_the_profile_show_is_that_of_the_year_by_year_path(database, monkeypatch):
    from helpers import year_by_year_table

    from atlas import data, db, policy

    src = data.source()
    ends = policy.trend_windows("imaging_rate", "municipality")
    states = _states(ends)
    a = db.areas()
    regions = [(int(c), "region") for c in a[a.level == "region"].code]
    municipalities = [(int(c), "municipality") for c in sorted(a[a.level == "municipality"].code)[::8]]
    pages = [regions[0][0], municipalities[1][0]]
    now = _what_the_pages_show(states, regions + municipalities, pages)
    # the year-by-year path: every year's table of areas in turn (what the pages read before)
    monkeypatch.setattr(type(src), "yearly_table", lambda self, measure, level: year_by_year_table(measure, level))
    before = _what_the_pages_show(states, regions + municipalities, pages)
    assert now.keys() == before.keys()
    for key in now:
        assert now[key] == before[key], key
    # what was compared says something: tested trends, rising areas, verdicts in the profiles, areas not
    # tested over a window that reaches past a register break or into an incomplete year (their note)
    table = pd.read_json(io.StringIO(now[("table", 0, "en")][0][2]), orient="split")
    assert len(table) > 50 and table["apc"].notna().sum() > 50
    assert sum(len(now[("profile", c, "en")]) for c, _ in regions + municipalities) >= len(regions)
    notes = {n for key, v in now.items() if key[0] == "table" and key[2] == "en" for _, _, t in v
             for n in pd.read_json(io.StringIO(t), orient="split")["note"] if isinstance(n, str) and n}
    assert any("break in 2019" in n for n in notes) and any("complete years" in n for n in notes), notes
    policy.clear_caches()


def test_one_read_for_all_years_and_a_copy_for_each_receiver(database, monkeypatch):
    from atlas import data, db
    from atlas.data import release, secure

    src = data.source()
    src.yearly_table("imaging_rate", "region")              # names, areas, years, periods: read and kept
    (secure if database == "secure" else release).yearly_table.cache_clear()
    if database == "secure":
        secure.strata.cache_clear()
    asked = []
    real = db.query
    monkeypatch.setattr(db, "query", lambda *a, **k: asked.append(a[0]) or real(*a, **k))
    first = src.yearly_table("imaging_rate", "municipality")
    # the events and the population of all years on the secure database; the estimates and the
    # reference rates of all years on the release: never one read per year
    assert len(asked) <= 2, asked
    assert first["year"].nunique() > 5 and len(asked) < first["year"].nunique()
    kept = first.copy()
    first.loc[:, "count"] = np.nan                          # a receiver changes its copy...
    first["flag"] = "changed"
    again = src.yearly_table("imaging_rate", "municipality")
    assert len(asked) <= 2                                   # ...kept, not read again...
    pd.testing.assert_frame_equal(again, kept)              # ...and the next receiver gets the kept answer
