"""Pathways, repeat imaging and potentially low-value imaging (atlas.pathways, pages/pathways.py).

Shares add up to 100 % per episode cohort (each referrer x modality row and the whole); no shown
flow or count is 1-4; the planted pathways of etl/synthetic/effects.toml are recovered within
stated tolerances; the CSV opens with the header rows; the page's callbacks answer in both languages.
"""
from __future__ import annotations

import csv
import io
import json

import numpy as np
import pandas as pd
import pytest
from helpers import dash_call as call
from helpers import split_download

from atlas import db
from etl.synthetic import load_effects

EFF = load_effects()


@pytest.fixture(scope="module")
def P(app_db):
    from atlas import pathways

    return pathways


@pytest.fixture(scope="module")
def years(app_db):
    from atlas import data

    return data.years()


@pytest.fixture(scope="module")
def all_years(P, years):
    from atlas.filters import View

    return View(y0=years[0], y1=years[-1])


def _views(P, years):
    """Denmark, a region, a small municipality, and narrow population groups (so that cells get hidden)."""
    from atlas.filters import View

    last = years[-1]
    yield View(y0=last, y1=last)
    yield View(y0=years[0], y1=last, level="region", area=1081)
    yield View(y0=last, y1=last, level="municipality", area=101)
    yield View(y0=last, y1=last, level="municipality", area=825)            # Læsø, the smallest
    yield View(y0=last - 2, y1=last, level="region2027", area=1090).with_dim("sex", 2).with_dim("age", "85+")
    yield View(y0=last, y1=last).with_dim("origin", 3).with_dim("edu", 4)
    yield View(y0=last, y1=last).with_dim("modality", "mri").with_dim("priority", "acute")


@pytest.mark.parametrize("window", [90, 365])
def test_shares_add_up_to_100_per_cohort(P, years, window):
    for view in _views(P, years):
        p = P.pathways(view, window)
        cells = p["cells"]
        for (ref, mod), row in cells.groupby(["referrer", "modality"]):
            shown = row["count"].dropna()
            if shown.sum() > 0:
                assert row["share"].sum() == pytest.approx(100.0), (view, ref, mod)
                assert row["share"].notna().sum() == len(shown)
            else:
                assert row["share"].isna().all() or (row["share"].fillna(0) == 0).all()
        if p["overall"]["count"].sum() > 0:
            assert p["overall"]["share"].sum() == pytest.approx(100.0)
        tbl = P.pathway_table(p, "en")
        share_cols = [c for c in tbl.columns if c.endswith("_share")]
        sums = tbl[share_cols].sum(axis=1, min_count=1).dropna()
        assert np.allclose(sums, 100.0), (view, sums)


def test_secure_pathways_are_exact(P, years):
    """Issue 25 item 3: on the secure database every flow is its exact count (nothing hidden or
    perturbed), small counts included."""
    from atlas.data import secure

    small = 0
    for window in (90, 365):
        for view in _views(P, years):
            p = P.pathways(view, window)
            f = secure.episode_cells(view, window)         # the true counts (the data layer's secure reader)
            if view.area is not None:
                from atlas.strata import area_codes

                f = f[f["municipality"].map(area_codes(view.level)) == view.area]
            assert p["cells"]["count"].notna().all(), view
            assert p["total"]["count"].iloc[0] == f["n"].sum(), view
            got = p["cells"][p["cells"]["outcome"] != P.HIDDEN].groupby(["referrer", "modality", "outcome"])["count"].sum()
            want = f.groupby(["referrer", "modality", "outcome"])["n"].sum()
            assert (got.reindex(want.index) == want).all(), view
            small += int(((want >= 1) & (want <= 4)).sum())
            fig, hidden = P.sankey(p, view, window)
            assert hidden == 0 and (np.asarray(fig.data[0]["link"]["value"], dtype=float) > 0).all()
    assert small > 0                       # the narrow views hold small counts, shown as they are


def test_hidden_cells_are_merged_not_lost(P, years):
    """Shown cells plus the merged hidden cell account for the row's (perturbed) episodes, within the noise."""
    for view in _views(P, years):
        p = P.pathways(view, 365)
        rows = p["rows"].set_index(["referrer", "modality"])["count"]
        sums = p["cells"].groupby(["referrer", "modality"])["count"].sum(min_count=1)
        both = pd.concat([rows.rename("row"), sums.rename("cells")], axis=1).dropna()
        n_cells = 6                        # 4 outcomes + merged hidden cell + the row total, each ±2 at most
        assert ((both["row"] - both["cells"]).abs() <= 2 * n_cells).all(), view
        # a hidden cell is never shown on its own, and a row with one hidden cell has a second (secondary)
        for _, row in p["cells"][p["cells"].outcome != "hidden"].groupby(["referrer", "modality"]):
            assert row["count"].isna().sum() != 1 or row["count"].isna().all()


def test_surgery_follows_mri_more_often_than_xray(P, all_years):
    """effects.toml [outcomes]: surgery within 365 days after 5 % of MRIs, 1 % of X-rays not followed by
    an MRI; an X-ray episode followed by an MRI (12 %) inherits the MRI's 5 %."""
    out = EFF["outcomes"]
    seq = EFF["imaging"]["sequence"]
    o = P.pathways(all_years, 365)["outcomes"].pivot(index="modality", columns="outcome", values="count")
    share = o["surgery"] / o.sum(axis=1)
    expected_xray = (1 - seq["xray_then_mri_share"]) * out["surgery_after_xray_only"] + seq["xray_then_mri_share"] * out["surgery_after_mri"]
    assert share["mri"] == pytest.approx(out["surgery_after_mri"], abs=0.012)
    assert share["xray"] == pytest.approx(expected_xray, abs=0.006)
    assert share["mri"] > 2.5 * share["xray"]
    # within 90 days about half of it (surgery_short_fraction)
    o90 = P.pathways(all_years, 90)["outcomes"].pivot(index="modality", columns="outcome", values="count")
    share90 = o90["surgery"] / o90.sum(axis=1)
    assert share90["mri"] == pytest.approx(out["surgery_after_mri"] * out["surgery_short_fraction"], abs=0.01)
    # rehabilitation plans: 12 % within a year, half of them within 90 days
    rehab = o["rehabilitation"] / o.sum(axis=1)
    assert rehab.mean() == pytest.approx(out["rehabilitation_share"], abs=0.03)


def test_lumbar_diagnosis_is_the_commonest_next_step(P, all_years):
    p = P.pathways(all_years, 90)
    overall = p["overall"].set_index("outcome")["share"]
    assert overall.idxmax() == "diagnosis"
    # a lumbar diagnosis within 90 days after 60 % of imagings; surgery and rehabilitation rank above it
    assert overall["diagnosis"] + overall["surgery"] + overall["rehabilitation"] == pytest.approx(
        EFF["outcomes"]["lumbar_diagnosis_share"] * 100 + 3, abs=6)


def test_xray_then_mri_share_is_recovered(P, years, all_years):
    sq = EFF["imaging"]["sequence"]
    t = P.area_table(all_years)
    dk = t[(t.code == 0) & (t.measure == "xray_then_mri_share")].iloc[0]
    assert dk["value"] / 100 == pytest.approx(sq["xray_then_mri_share"], abs=0.025)
    assert dk["lower"] < dk["value"] < dk["upper"]
    rep = t[(t.code == 0) & (t.measure == "repeat_mri_share")].iloc[0]
    assert 0 < rep["value"] < 15
    tr = P.trends(all_years, P.REPEAT_MEASURES)["xray_then_mri_share"]
    dk_years = tr[tr.code == 0]
    assert len(dk_years) == len(years)
    assert (dk_years["value"].dropna() / 100 - sq["xray_then_mri_share"]).abs().max() < 0.06


def test_chiropractor_referrals_are_more_often_low_value(P, all_years):
    """effects.toml [history]: low value = no red flag and no back pain recorded 42+ days before."""
    h = EFF["history"]
    b = P.by_referrer(all_years)
    share = b[(b.measure == "lowvalue_share") & (b.code == 0)].set_index("referrer")
    assert share.loc["chiropractor", "lower"] > share.loc["gp", "upper"]
    assert share.loc["gp", "value"] > share.loc["hospital", "value"]
    for ref in ("gp", "chiropractor"):
        expected = (1 - h["red_flag"][ref]) * (1 - h["back_pain"][ref]) * 100
        assert share.loc[ref, "value"] == pytest.approx(expected, abs=5), ref
    rate = b[(b.measure == "lowvalue_rate") & (b.code == 0)].set_index("referrer")
    assert set(rate.index) == set(P.REFERRERS)
    assert (rate["value"] > 0).all()
    # a referrer filter keeps only that referrer
    only = P.by_referrer(all_years.with_dim("referrer", "chiropractor"))
    assert set(only["referrer"]) == {"chiropractor"}


def test_area_and_trend_tables_are_exact(P, years):
    from atlas.filters import View

    view = View(y0=years[-1], y1=years[-1], area=825).with_dim("age", "85+")
    t = P.area_table(view)
    assert set(t["status"]) <= {"shown", "few_events", "empty"}       # nothing hidden to protect on the secure database
    assert t.loc[t["hidden"], "value"].isna().all()
    n = t[["num_shown", "den_shown"]].to_numpy(dtype=float).ravel()
    assert ((n >= 1) & (n <= 4)).any()                                  # small counts are shown
    for k, tr in P.trends(view, P.LOWVALUE_MEASURES).items():
        assert set(tr["status"]) <= {"shown", "few_events", "empty"}, k


def _read_csv(content: bytes, sep=","):
    text = content.decode("utf-8")
    assert text.startswith("\ufeff")
    head, body = split_download(text[1:])        # either layout (flat by default)
    return (list(csv.reader(io.StringIO(head), delimiter=sep)), list(csv.reader(io.StringIO(body), delimiter=sep)))


@pytest.mark.parametrize("chart", ["sankey", "pathways", "repeat", "lowvalue", "referrer", "areas"])
def test_csv_has_header_rows(P, years, chart):
    from atlas.filters import View

    view = View(y0=years[-1], y1=years[-1], level="region", area=1081).with_dim("sex", 2)
    content, name = P.chart_csv(chart, view, 90)
    assert name.endswith(".csv") and "/" not in name
    header, table = _read_csv(content)
    keys = [r[0] for r in header]
    assert header[0] == ["Lumbar spine imaging atlas"]
    for k in ("Years", "Areas", "Selected area", "What followed within", "Population group and imaging",
              "Data", "Data built", "Suppression", "View"):
        assert k in keys, k
    assert header[keys.index("View")][1] == "/pathways" + P.hash_of(view, 90)
    assert "area=1081" in header[keys.index("View")][1] and "win=90" in header[keys.index("View")][1]
    assert "Region Nordjylland" in header[keys.index("Selected area")][1]
    cols = table[0]
    body = pd.DataFrame(table[1:], columns=cols)
    numeric = [c for c in cols if c in ("count", "denominator", "episodes") or c.endswith("(n)")]
    assert numeric and len(body)
    assert "Inside the secure environment only" in header[keys.index("Suppression")][1]


def test_hash_round_trip_and_tampering(P, years):
    from atlas.filters import View

    view = View(y0=years[0], y1=years[-1], level="region", area=1084).with_dim("referrer", "gp")
    h = P.hash_of(view, 90)
    again, win, bad = P.parse_hash(h)
    assert (again, win, bad) == (view, 90, [])
    for tampered in ("#win=30&area=1; DROP TABLE episode_cube", "#level=planet&sex=9&measure=mri_share",
                     "#area=101&level=region", 7, None, "#" + "x=1&" * 500):
        v, w, bad = P.parse_hash(tampered)
        assert w in P.WINDOWS and v.level in ("municipality", "region", "region2027")
        assert v.area is None or v.area in db.level_codes()[v.level]
    v, w, bad = P.parse_hash("#win=30&measure=mri_share")
    assert w == 365 and set(bad) == {"win", "measure"}


@pytest.fixture(scope="module")
def client(app_db):
    import sys

    from etl.settings import REPO_ROOT

    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import app

    return app.server.test_client()


def test_page_callbacks(client, years):
    out = call(client, "pw-view.data", {"pw-url.hash": "#level=region&area=1081&win=90&age=85%2B&oops=1"},
               "pw-url.hash", {"pw-url.search": "?lang=da"})
    assert out["pw-view"]["data"] == "#level=region&area=1081&age=85%2B&win=90"
    assert out["pw-level"]["value"] == "region" and out["pw-area"]["value"] == "1081" and out["pw-window"]["value"] == 90
    assert "oops" in json.dumps(out["pw-notice"]["children"])
    drawn = call(client, "pw-sankey.figure", {"pw-view.data": "#level=region&area=1081&win=90"}, "pw-view.data",
                 {"pw-url.search": "?lang=da"})
    fig = drawn["pw-sankey"]["figure"]
    assert fig["data"][0]["type"] == "sankey"
    assert "Rygkirurgi" in fig["data"][0]["node"]["label"]
    assert "Region Nordjylland" in json.dumps(drawn["pw-heading"]["children"], ensure_ascii=False)
    assert "Skjulte celler" in json.dumps(drawn["pw-table"]["children"], ensure_ascii=False)
    # the charts that do not depend on the 90/365-day window listen to the view without it
    assert out["pw-base"]["data"] == "#level=region&area=1081&age=85%2B"
    lv = call(client, "pw-lv-rate.figure", {"pw-base.data": "#area=101"}, "pw-base.data")
    assert lv["pw-lv-share"]["figure"]["data"]
    ref = call(client, "pw-referrer.figure", {"pw-base.data": "#area=101"}, "pw-base.data")
    assert len(ref["pw-referrer"]["figure"]["data"]) == 4          # share and rate, Denmark and the area


# ------------------------------------------------------------------ in a real headless Chromium

def _wait(predicate, timeout=40, what="condition"):
    from helpers import wait_until

    wait_until(predicate, timeout, what)


@pytest.mark.browser
def test_pathways_page_in_a_browser(dash_duo, atlas_app, tmp_path):
    from urllib.parse import unquote

    dash_duo.start_server(atlas_app)
    dash_duo.driver.get(f"{dash_duo.server_url}/pathways#level=region&area=1081&win=90")
    # the Sankey draws its nodes and links
    _wait(lambda: len(dash_duo.find_elements("#pw-sankey .sankey-node")) >= 7, what="Sankey nodes")
    assert len(dash_duo.find_elements("#pw-sankey .sankey-link")) >= 6
    _wait(lambda: "Region Nordjylland" in dash_duo.find_element("#pw-heading").text, what="area heading")
    _wait(lambda: len(dash_duo.find_elements("#pw-pathway-table tbody tr")) >= 9, what="pathway table")
    _wait(lambda: "Region Nordjylland" in dash_duo.find_element("#pw-lv-rate").text, what="trend legend")
    # a control changes the address: the 365-day window (keyboard-reachable radio with a label)
    dash_duo.driver.find_element("xpath", "//label[normalize-space()='365 days']").click()
    _wait(lambda: "win=90" not in unquote(dash_duo.driver.execute_script("return window.location.hash")),
          what="window in the address")
    _wait(lambda: "Within 365 days" in dash_duo.find_element("#pw-sankey").text, what="365-day Sankey")
    # the CSV download of the table
    dash_duo.driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    button = dash_duo.find_element("#pw-card-pathways button")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    _wait(lambda: button.is_displayed() and button.is_enabled(), what="download button")
    dash_duo.driver.execute_script("arguments[0].click();", button)
    _wait(lambda: any(tmp_path.glob("*.csv")), what="a downloaded CSV")
    text = next(tmp_path.glob("*.csv")).read_bytes().decode("utf-8-sig")
    # one step to open: the first line is the header line; the header items are columns
    assert text.startswith("referrer,") and "Lumbar spine imaging atlas" in text and "/pathways#" in text
    assert len(pd.read_csv(io.StringIO(text))) >= 9
    assert not [l for l in (dash_duo.get_logs() or []) if l["level"] == "SEVERE"]


TAMPERED = ["#win=1; DROP TABLE episode_cube", "#level=region'; --&area=1081 OR 1=1", "#sex=1 OR 1=1&age=200-300",
            "#y0=-1&y1=99999999999999999999", "#" + "A" * 5000, "#%00%ff&win=%F0%9F%92%A5", "", 12, None,
            ["#win=90"], {"win": 90}]


@pytest.mark.parametrize("view", TAMPERED, ids=lambda v: repr(v)[:30])
@pytest.mark.parametrize("output", ["pw-sankey.figure", "pw-areas.children"])
def test_tampered_view_is_answered_cleanly(client, view, output):
    store = "pw-base" if output == "pw-areas.children" else "pw-view"
    out = call(client, output, {f"{store}.data": view}, f"{store}.data", {"pw-url.search": "?lang=xx"})
    body = json.dumps(out)
    assert "DROP TABLE" not in body and "Traceback" not in body and "A" * 1000 not in body
