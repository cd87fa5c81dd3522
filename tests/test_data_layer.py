"""The app's one data layer (issue 24) and the secure app's exact figures (issue 25 item 3), on both
databases: the secure one (``atlas_db``) and the release (``release_db``).

Each defect of issue 24's "Why" that belongs to the app has a test here, run on both sources where
it applies to both: unpublished views moved to the nearest published one with a notice, measures
without estimates not offered, words true to the cell (Danish too), CSV headers that name only what
their rows apply, a missing comparison called "not tested", variation statistics over the areas
shown with one formula, the return-letter regression without imputed months, the year control.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dash_app():
    """The Dash app (its pages registered), for layouts and the page chrome."""
    import sys

    from etl.settings import REPO_ROOT

    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import app

    return app.app


@pytest.fixture(params=["secure", "release"])
def source(request, atlas_db, release_db, dash_app):
    """The app pointed at one database for one test (its caches forgotten before and after)."""
    from conftest import _forget_cached_queries

    old = os.environ.get("ATLAS_DB")
    os.environ["ATLAS_DB"] = str(atlas_db if request.param == "secure" else release_db)
    _forget_cached_queries()
    from atlas import data

    assert data.source().kind == request.param
    yield request.param
    _forget_cached_queries()
    if old is None:
        os.environ.pop("ATLAS_DB", None)
    else:
        os.environ["ATLAS_DB"] = old


def _csv(content: bytes, sep: str):
    from helpers import split_download

    text = content.decode("utf-8-sig")
    head, body = split_download(text)
    import csv
    import io

    header = list(csv.reader(io.StringIO(head), delimiter=sep))
    table = pd.read_csv(io.StringIO(body), sep=sep, dtype=str, keep_default_na=False)
    return {r[0]: r[1:] for r in header if r}, table


# ------------------------------------------------------------------ one data layer

def test_no_branching_on_the_database_outside_the_data_layer():
    """No ``is_release()`` outside atlas/data; the chart lists are written once."""
    offenders, defined = [], {"MIX_MEASURES": [], "BREAKDOWN_DIMS": []}
    for path in [*REPO.glob("atlas/**/*.py"), *REPO.glob("pages/*.py"), REPO / "app.py"]:
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(REPO).as_posix()
        if "is_release(" in text and not rel.startswith("atlas/data/"):
            offenders.append(rel)
        for name in defined:
            if re.search(rf"^{name}\s*=", text, re.M):
                defined[name].append(rel)
    assert offenders == []
    assert defined == {"MIX_MEASURES": ["atlas/data/domain.py"], "BREAKDOWN_DIMS": ["atlas/data/domain.py"]}


def test_both_sources_answer_with_the_same_columns_and_lists(source):
    from atlas import data, queries
    from atlas.filters import View

    v = View(y0=2022, y1=2024)
    tbl, national = queries.area_table(v)
    assert set(data.COLUMNS) <= set(tbl.columns) and set(data.COLUMNS) <= set(national.index)
    assert set(tbl["status"]) <= set(data.STATUSES)
    mix = queries.mix_table(v, None)
    assert list(dict.fromkeys(mix["measure"])) == list(data.MIX_MEASURES)        # 12 on both (was 11 on the release)
    bd = queries.breakdown_table(v, None)
    assert list(dict.fromkeys(bd["dimension"])) == list(data.BREAKDOWN_DIMS)


# ------------------------------------------------------------------ the secure app: exact, marked inside-only

def test_the_secure_app_is_exact_and_says_inside_only(source):
    from atlas import data, export, queries
    from atlas.chrome import page_chrome
    from atlas.filters import View

    v = View(y0=2024, y1=2024, dims=(("age", "85+"), ("sex", 2)))
    tbl, _ = queries.area_table(v)
    for lang, words in (("en", "Inside the secure environment only"), ("da", "Kun i det sikre miljø")):
        header, _ = _csv(export.chart_csv("map", View(y0=2024, y1=2024, lang=lang))[0], "," if lang == "en" else ";")
        text = " ".join(" ".join(v) for v in header.values())
        _, banner, footer, _ = page_chrome("/", lang, "")
        shown = str(banner) + str(footer)
        if source == "secure":
            assert words in text and words.split(":")[0] in shown
        else:
            assert words not in text and words.split(":")[0] not in shown
    if source == "secure":
        assert data.inside_only() and set(tbl["status"]) <= {"shown", "empty", "few_events"}
        n = tbl["num_shown"].to_numpy(dtype=float)
        assert ((n >= 1) & (n <= 4)).any()                     # small counts are shown, exactly
    else:
        assert not data.inside_only() and tbl["hidden"].any()


# ------------------------------------------------------------------ pages move to the nearest published view

def test_unpublished_pathways_move_to_a_published_view(source):
    """A municipality's pathways (never published) move to its region's, over a period the release
    publishes for regions, with a notice; on the secure database nothing moves."""
    from atlas import pathways as P
    from atlas.data import release
    from atlas.pathways.state import sync_pathways

    for address in ("#level=municipality&area=851&win=90", "#level=region&area=1084&y0=2013&y1=2024&sex=2"):
        out = sync_pathways(address, {}, [], None, None, None, "en")
        view, win, _ = P.parse_hash(out["hash"], "en")
        cells = P.pathways(view, win)["cells"]
        cells = cells[cells["outcome"] != P.HIDDEN]
        if source == "secure":
            assert out["notice"] is None and cells["count"].notna().all()
            continue
        # the release: a published region view, a notice naming what changed, and counts to draw
        assert out["notice"] is not None, address
        text = str(out["notice"].children[2])             # what changed
        assert ("geography" in text) == address.startswith("#level=municipality")
        assert ("filters" in text) == ("sex=2" in address)
        assert view.level == "region" and view.area in (1081, 1084) and not view.dims
        assert ("region", release.period_of(view)) in release._pathway_periods()
        assert cells["count"].notna().any(), out["hash"]     # published flows to draw (before: every cell "<5")


def test_a_measure_without_estimates_is_not_offered(source, monkeypatch):
    from atlas import data, db
    from atlas.measures import MEASURES, measures_with_estimates
    from atlas.state import sync_atlas
    from pages import atlas as page

    offered = data.source().measures()
    layout = str(page.layout("en"))
    for key in MEASURES:
        assert (f"'value': '{key}'" in layout) == (key in offered), key
    if source == "release":
        have = set(db.query("SELECT DISTINCT measure FROM estimates")["measure"])
        assert set(offered) == have
        # a measure the source holds no estimates of moves to one it does, and the notice says so
        from atlas.data import release

        release.clear_caches()
        monkeypatch.setattr(release, "measures", lambda: tuple(k for k in offered if k != "mri_share"))
        out = sync_atlas("#measure=mri_share", {}, [], None, {}, None, "en")
        assert "measure=mri_share" not in out["hash"] and out["measure"] != "mri_share"
        text = str(out["notice"].children)
        assert "measure" in text and "filters" not in text.split("Published")[0]
    else:
        assert offered == tuple(measures_with_estimates())
        assert sync_atlas("#measure=repeat_mri_share", {}, [], None, {}, None, "en")["measure"] == "repeat_mri_share"


def test_trends_move_to_a_level_with_published_single_years(source):
    from atlas import all_trends, db

    if source == "release":
        # a measure the release publishes for municipalities by 3-year periods only
        single = db.query("SELECT measure FROM estimates WHERE level = 'municipality' AND fs = '' "
                          "GROUP BY measure HAVING count(DISTINCT period) FILTER (WHERE period NOT LIKE '%-%') = 0")
        assert len(single), "every measure has single municipal years: nothing to move"
        measure = single["measure"].iloc[0]
        assert all_trends.nearest(measure, "municipality") == (measure, "region", ["level"])
    else:
        assert all_trends.nearest("surgery_short_share", "municipality")[2] == []


def test_the_year_control_offers_every_published_period(source):
    from dash import dcc

    from atlas import data
    from atlas.layout_parts import year_control
    from atlas.state import _years, sync_atlas

    control = year_control("years", "en", 2024, 2024)
    if source == "secure":
        assert isinstance(control, dcc.RangeSlider)
        return
    assert isinstance(control, dcc.Dropdown)
    values = [o["value"] for o in control.options]
    assert sorted(values) == sorted(data.source().periods())
    for value in values:                                    # every choice is served as chosen, without a notice
        y = _years(value, data.source().years())
        out = sync_atlas("", {"years": value}, [], "years", {}, "#y0=2024&y1=2024", "en")
        assert out["years"] == value and y[0] <= y[-1], value
        assert out["notice"] is None or type(out["notice"]).__name__ == "NoUpdate", value


# ------------------------------------------------------------------ words true to the cell

def test_hidden_cells_are_named_in_the_files_language(source):
    from atlas import export
    from atlas.data.domain import STATUS_WORDS
    from atlas.filters import View

    v = View(y0=2023, y1=2023, lang="da", sep=";", dims=(("age", "85+"), ("sex", 2)))
    _, table = _csv(export.chart_csv("map", v)[0], ";")
    flags, notes = table["Tragtdiagram"], table["Bemærkning"]
    assert not flags.isin(["hidden", "within", "not_tested"]).any()        # no English codes in a Danish file
    allowed = {da for _, da in STATUS_WORDS.values()}
    assert set(notes) <= allowed
    hidden = table["Antal"] == ""
    if source == "release":
        assert hidden.any() and (notes[hidden] == STATUS_WORDS["hidden"][1]).all()
        assert not notes.str.contains("færre end 5").any()
    else:
        assert not hidden.any()


def test_the_breakdown_csv_header_names_only_what_its_rows_apply(source):
    from atlas import export
    from atlas.filters import View

    v = View(y0=2022, y1=2024, lang="da", sep=";", dims=(("age", "65-74"),))
    header, table = _csv(export.chart_csv("breakdown", v)[0], ";")
    rates, filters = header["Rater"][0], header["Befolkningsgruppe og undersøgelse"][0]
    flags = set(table["Tragtdiagram"].str.strip())
    assert "Ikke testet" in flags and flags <= {"Ikke testet", "Skjult"}    # Denmark's groups against themselves
    if source == "release":       # published without filters, as crude rates
        assert rates == "Rå" and filters == "Alle"
    else:                         # each dimension keeps the other filters; sex and age groups are crude
        assert "rå rater" in rates and "65-74" in filters and "uden sit eget filter" in filters


def test_a_missing_comparison_is_not_tested_never_within(source):
    """Where Denmark's own count is hidden the release holds no test: its areas say "not tested",
    and the key findings count none of them as within the limits."""
    from atlas import db, findings_panel, queries
    from atlas.filters import View

    if source == "release":
        hit = db.query("SELECT measure, period, fs FROM estimates d WHERE level = 'denmark' AND num IS NULL "
                       "AND fs NOT LIKE '%&%' AND (SELECT count(*) FROM estimates e WHERE e.level = 'region' "
                       "AND e.measure = d.measure AND e.period = d.period AND e.fs = d.fs AND e.num IS NOT NULL) >= 2 "
                       "ORDER BY measure, period, fs LIMIT 1")
        assert len(hit), "the test release has no view with Denmark hidden"
        measure, period, fs = hit.iloc[0]
        y0, y1 = (int(x) for x in (period.split("-") if "-" in period else (period, period)))
        key, value = fs.split("=")
        from atlas.filters import dim_value

        v = View(measure=measure, level="region", y0=y0, y1=y1, rates="crude", dims=((key, dim_value(key, value)),))
    else:
        v = View(level="region", y0=2024, y1=2024, rates="crude")
    tbl, national = queries.area_table(v)
    shown = tbl[~tbl["hidden"]]
    words = " ".join(findings_panel.findings_for(v))
    if source == "release":
        assert bool(national["hidden"]) and len(shown) >= 2
        assert (shown["flag"] == "not_tested").all()
        assert "within the 95% limits" not in words and "not tested" in words
    else:
        assert national["flag"] == "not_tested"                     # Denmark against itself
        assert not (shown["flag"] == "not_tested").any() and "within the 95% limits" in words


def test_the_default_rate_mode_is_standardised_in_both_sources(source):
    """The default mode ("isr", formerly "dsr") gives the standardised rate, the crude mode the crude
    one: both sources once tested for the old name only and served crude rates as standardised."""
    from dataclasses import replace

    from atlas import queries
    from atlas.filters import STANDARDISED_MODES, View

    v = View(y0=2022, y1=2024)
    assert v.rates == "isr" and View(rates="dsr").rates == "isr" and v.rates in STANDARDISED_MODES
    t, _ = queries.area_table(v)
    shown = t[~t["hidden"].astype(bool)]
    assert len(shown) > 10 and (shown["method"] == "isr").all()
    crude = shown["num_shown"].to_numpy(float) / shown["den_shown"].to_numpy(float) * 1000
    assert not np.allclose(shown["value"].to_numpy(float), crude, rtol=1e-6)
    c, _ = queries.area_table(replace(v, rates="crude"))
    c = c[~c["hidden"].astype(bool)]
    assert np.allclose(c["value"].to_numpy(float), c["num_shown"].to_numpy(float) / c["den_shown"].to_numpy(float) * 1000)


def test_few_events_means_few_events(source):
    """A standardised rate called "too few events" has fewer events than the plan's minimum; one the
    release cannot standardise at all (no reference rate published for its filter set) is
    "unpublished", not "few events" (chiropractors' X-rays, 606 events, were "few events")."""
    from atlas import queries
    from atlas.data.secure import min_events_standardised
    from atlas.filters import View
    from atlas.measures import MEASURES

    least = min_events_standardised()
    for key in (k for k, m in MEASURES.items() if m.kind == "rate" and m.estimates):
        t, national = queries.area_table(View(measure=key, level="region", y0=2022, y1=2024))
        few = pd.concat([t, national.to_frame().T])
        few = few[few["status"] == "few_events"]
        assert (few["num_shown"].astype(float) < least).all(), (key, few[["num_shown"]].head())


def test_variation_is_computed_on_the_areas_shown_with_one_formula(source):
    """SCV of a filtered view: expected counts scaled to the shown areas' observed total (the
    release's expected counts of a referrer filter come from all-adult rates: 66 instead of 4 before)."""
    from atlas import queries
    from atlas.filters import View
    from etl import stats

    v = View(y0=2022, y1=2024, dims=(("referrer", "chiropractor"),))
    tbl, _ = queries.area_table(v)
    var = queries.variation(tbl)
    shown = tbl[~tbl["hidden"] & (tbl["expected"] > 0)]
    o, e = shown["num_shown"].to_numpy(float), shown["expected"].to_numpy(float)
    want = stats.variation_stats(o, e * o.sum() / e.sum())
    assert var["scv"] == pytest.approx(want.scv) and var["n_areas"] == len(shown)
    assert 0 < var["scv"] * 100 < 15
    # a drill-down: the statistics of the region's municipalities only
    inside, _ = queries.area_table(View(y0=2022, y1=2024, within=1084))
    assert queries.variation(inside)["n_areas"] == int((~inside["hidden"] & (inside["expected"] > 0)).sum()) < 98


def test_the_return_letter_regression_leaves_hidden_months_out(source):
    from atlas import returns as R
    from atlas.i18n import t
    from etl import stats

    view = R.ReturnsView()
    s, r = R.its(view)
    hidden = s["referrals"].notna() & s["count"].isna()
    assert r is not None and r["n_left_out"] == int(hidden.sum()) and r["n_filled"] == 0
    assert s.loc[hidden, "rate_in_fit"].isna().all()                    # never imputed
    k = int(np.argmax(s["month"].to_numpy() >= np.datetime64(pd.Timestamp(view.date))))
    alone = stats.segmented_regression(np.arange(len(s), dtype=float), s["rate"].to_numpy(float), k, hac_lags="auto")
    assert r["params"]["slope_change"] == pytest.approx(alone["params"]["slope_change"])
    assert r["n"] == int(s["rate"].notna().sum())
    if source == "release":
        assert hidden.any()
    assert "left out" in t("ret_method_text", "en") and "2.5" not in t("ret_method_text", "en")
