"""Return-letter monitoring (atlas.returns, pages/returns.py) on the synthetic test database.

The planted campaign (etl/synthetic/effects.toml, [return_letters]) is recovered: no letters before
the campaign start, most in its first month, wearing off; the segmented regression gives a positive
level change and a negative slope change. Centres differ (some never send a letter). No shown count
is 1-4, and the CSV opens with the header rows.
"""
from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest
from helpers import dash_call as call
from helpers import split_download

from etl.synthetic import load_effects

EFF = load_effects()
RL = EFF["return_letters"]


@pytest.fixture(scope="module")
def R(app_db):
    from atlas import returns

    returns._monthly.cache_clear()
    return returns


def test_letters_start_with_the_campaign_and_wear_off(R):
    view = R.ReturnsView(measure="letters")
    s = R.series(view)
    start = pd.Timestamp(RL["campaign_start"])
    before, after = s[s.month < start], s[s.month >= start]
    assert (before["count"] == 0).all()                     # zeros are shown: nothing before the start
    assert after["count"].iloc[0] > 0                       # letters from the first campaign month on
    assert after["count"].iloc[:2].max() == after["count"].max()   # most letters in the first months
    first, later = after["rate"].iloc[0], after["rate"].iloc[6:].mean()
    assert first > 3 * later
    # the monthly decay of the planted campaign, on the shown counts of the first 8 months
    months = np.arange(8)
    c = after["count"].iloc[:8].to_numpy(dtype=float)
    ok = np.isfinite(c) & (c > 0)
    slope = np.polyfit(months[ok], np.log(c[ok]), 1, w=np.sqrt(c[ok]))[0]
    assert -slope == pytest.approx(RL["decay_per_month"], abs=0.12)


def test_no_regression_of_letters_that_did_not_exist_before_the_campaign(R):
    """Letters before the campaign are all 0: a segmented regression would fit that segment exactly
    (0.00 (0.00-0.00), no p-value), so none is shown and the page and CSV say why (issue 11)."""
    view = R.ReturnsView(measure="letters", date=RL["campaign_start"])
    s, r = R.its(view)
    assert r is None and s.attrs["no_fit"] == "ret_reason_flat"
    assert s["fitted"].isna().all()
    text = R.chart_csv("its", view)[0].decode("utf-8-sig")
    assert R.no_fit_text(s, "en") in text and "constant" in text


@pytest.mark.parametrize("measure", ["returned"])
def test_segmented_regression_finds_the_campaign(R, measure):
    view = R.ReturnsView(measure=measure, date=RL["campaign_start"])
    s, r = R.its(view)
    assert r is not None and r["se_type"] == "newey-west"
    assert r["intervention_month"] == pd.Timestamp(RL["campaign_start"])
    # a jump up at the start, then a falling rate: level change > 0 and slope change < 0, both clear of 0
    assert r["lower"]["level_change"] > 0
    assert r["upper"]["slope_change"] < 0
    if measure == "letters":
        # before the campaign: no letters at all, a flat zero line
        assert abs(r["params"]["intercept"]) < 1e-6 and abs(r["params"]["pre_slope"]) < 1e-6
        # the level change is near the first month's rate (peak letters / referrals)
        first = s.loc[s.month == pd.Timestamp(RL["campaign_start"]), "rate"].iloc[0]
        assert 0.4 * first < r["params"]["level_change"] < 1.6 * first
    else:
        # returns without the letter run at the planted baseline share before the campaign
        assert r["params"]["intercept"] == pytest.approx(RL["baseline_return_share"] * 1000, abs=6)
        assert abs(r["params"]["pre_slope"]) < 0.6
    tbl = R.its_table(r, "en")
    assert list(tbl.columns) == ["term", "estimate", "lower", "upper", "p"] and len(tbl) == 5


def test_a_later_intervention_date_moves_the_break(R):
    ms = R.months()
    view = R.ReturnsView(measure="letters", date="2023-03-15")
    s, r = R.its(view)
    assert r["intervention_month"] == pd.Timestamp("2023-04-01")
    assert (s.loc[s.month < pd.Timestamp("2023-04-01"), "period"] == "before").all()
    assert R.intervention_index(ms, "2023-04-01") == R.intervention_index(ms, "2023-03-02")
    # a date leaving fewer than two months on a side is refused
    assert R.valid_date(ms[0].date().isoformat(), ms) is None
    assert R.valid_date(ms[-1].date().isoformat(), ms) is None
    assert R.valid_date("2022-10-01", ms) == "2022-10-01"


def test_spread_between_centres(R):
    view = R.ReturnsView(measure="letters")
    summary = R.centre_summary(view)
    n_zero = sum(1 for p in RL["centre_propensity"] if p == 0)
    assert len(summary) == RL["n_centres"]
    assert (summary["count_before"] == 0).all()
    never = summary[summary["count_after"] == 0]
    assert len(never) == n_zero                              # some centres never use the letter
    assert (never["rate_after"] == 0).all()
    users = summary.loc[summary["rate_after"] > 0, "rate_after"]
    assert users.max() > 4 * users.min()                     # and the users differ a lot
    assert users.max() > 2 * summary["rate_after"].median()
    per_month = R.by_centre(view)
    assert set(per_month["period"]) == {"before", "after"}
    assert per_month.groupby("centre").size().nunique() == 1  # every centre has every month


def _views(R):
    centres = list(R.centres()["producer_id"])
    for measure in R.MEASURES:
        for exam in (None, *R.EXAMS):
            yield R.ReturnsView(measure=measure, exam=exam)
        for c in centres:
            yield R.ReturnsView(measure=measure, centre=c, exam="knee")


def test_the_secure_app_shows_exact_counts(R, app_db):
    """Issue 25 item 3: the secure database serves exact figures (no perturbation, nothing hidden,
    small counts shown), checked against the table read directly."""
    from atlas import db

    true = db.query("SELECT month, exam_type, sum(referrals) AS referrals, sum(returned) AS returned "
                    "FROM returns_monthly GROUP BY ALL")
    true["month"] = pd.to_datetime(true["month"])
    n_small = 0
    for view in _views(R):
        c = R.by_centre(view)
        assert not c["hidden"].any(), view
        n_small += int(((c["count"] >= 1) & (c["count"] <= 4)).sum())
    assert n_small > 0                                        # small counts exist and are shown as they are
    e = R.by_exam(R.ReturnsView(measure="returned"))
    both = e.merge(true, on=["month", "exam_type"])
    assert len(both) == len(true)
    assert (both["referrals_x"] == both["referrals_y"]).all() and (both["count"] == both["returned"]).all()


def _read_csv(content: bytes, sep=","):
    text = content.decode("utf-8")
    assert text.startswith("\ufeff")
    head, body = split_download(text[1:])        # either layout (flat by default)
    return (list(csv.reader(io.StringIO(head), delimiter=sep)), list(csv.reader(io.StringIO(body), delimiter=sep)))


@pytest.mark.parametrize("chart", ["exam", "its", "centres", "summary"])
def test_csv_has_header_rows_and_protected_table(R, chart):
    view = R.ReturnsView(measure="letters", exam="lumbar")
    content, name = R.chart_csv(chart, view)
    assert name.endswith(".csv") and "/" not in name
    header, table = _read_csv(content)
    keys = [r[0] for r in header]
    assert header[0] == ["Lumbar spine imaging atlas"]
    for k in ("Measure", "Exam type", "Centre", "Intervention", "Data", "Data built", "Suppression", "View"):
        assert k in keys, k
    view_row = header[keys.index("View")]
    assert view_row[1] == "/returns#measure=letters&exam=lumbar"
    assert "SYNTHETIC" in header[keys.index("Data")][1]
    assert "Inside the secure environment only" in header[keys.index("Suppression")][1]
    if chart == "its":
        # letters did not exist before the campaign: no regression, and the header says why
        assert "constant" in header[keys.index("Method")][1]
        fitted, _ = _read_csv(R.chart_csv("its", R.ReturnsView(measure="returned", exam="lumbar"))[0])
        fitted_keys = [r[0] for r in fitted]
        assert "Level change at intervention" in fitted_keys and "Slope change (per month)" in fitted_keys
        assert any("Newey" in r[1] for r in fitted if r[0] == "Method")
    cols = table[0]
    body = pd.DataFrame(table[1:], columns=cols)
    counted = [c for c in cols if c in ("count", "referrals") or c.startswith("count_") or c.startswith("referrals_")]
    assert counted
    for c in counted:                   # the secure app's file holds every count, exactly (none hidden)
        assert (body[c] != "").all(), c


def test_csv_in_danish_with_semicolons(R):
    view = R.ReturnsView(measure="returned", sep=";", lang="da")
    content, _ = R.chart_csv("its", view)
    header, table = _read_csv(content, ";")
    assert header[0] == ["Atlas over billeddiagnostik af lænderyggen"]
    assert any(r[0] == "Visning" and r[1] == "/returns?lang=da#sep=%3B" for r in header)
    # Danish column names and words ("Rate", "Periode": "Før"/"Efter"), decimal commas
    rates = [r[table[0].index("Rate")] for r in table[1:]]
    assert any("," in x for x in rates) and not any("." in x for x in rates)
    assert {r[table[0].index("Periode")] for r in table[1:]} == {"Før", "Efter"}


@pytest.mark.parametrize("hash_, ignored", [
    ("#measure=letters&exam=knee&date=2023-01-01&sep=%3B", []),
    ("#measure=1; DROP TABLE returns_monthly", ["measure"]),
    ("#exam=spine&centre=../../etc&date=1999-01-01", ["centre", "date", "exam"]),
    ("#date=2022-13-45&nonsense=1", ["date", "nonsense"]),
    ("#" + "&".join(f"k{i}=v" for i in range(100)), None),
    (12, []), (None, []), ("", []), ("#", []),
])
def test_address_is_checked_against_whitelists(R, hash_, ignored):
    view, bad = R.parse_hash(hash_, set(R.centres()["producer_id"]), R.months())
    assert view.measure in R.MEASURES and view.exam in (None, *R.EXAMS)
    assert view.centre is None or view.centre in set(R.centres()["producer_id"])
    if ignored is not None:
        assert sorted(bad) == sorted(ignored)
    again, bad2 = R.parse_hash(view.to_hash(), set(R.centres()["producer_id"]), R.months())
    assert again == view and bad2 == []


def test_figures_draw(R):
    s, r = R.its(R.ReturnsView(measure="returned"))
    fig = R.fig_its(s, r, R.ReturnsView(measure="returned"))
    names = [tr.get("name") for tr in fig.data]
    assert "Segmented regression" in names and "Trend before, continued" in names
    # the fitted and counterfactual lines are never below 0
    for tr in fig.data:
        if tr.get("mode") == "lines":
            y = np.asarray(tr["y"], dtype=float)
            assert not (y[np.isfinite(y)] < 0).any()
    view = R.ReturnsView(measure="letters")
    s, r = R.its(view)
    assert r is None and "Segmented regression" not in [tr.get("name") for tr in R.fig_its(s, r, view).data]
    exams = R.by_exam(view)
    bars = R.fig_by_exam(exams, view).data
    assert [tr["type"] for tr in bars].count("bar") == 3
    # hidden months are marked as hidden, not left out of the bars
    marked = [tr for tr in bars if tr["type"] == "scatter"]
    assert len(marked) == (1 if exams["hidden"].any() else 0)
    if marked:
        assert len(marked[0]["x"]) == int(exams["hidden"].sum()) and "hidden" in marked[0]["hovertext"][0]
    heat = R.fig_centres(R.by_centre(view), view)
    z = np.asarray(heat.data[0]["z"], dtype=float)
    assert z.shape == (RL["n_centres"], len(R.months()))
    assert np.isfinite(z).all()                  # the secure app hides nothing: every cell drawn as it is
    assert len(R.fig_spread(R.by_centre(view), view).data) == 2


@pytest.fixture(scope="module")
def client(app_db):
    import sys

    from etl.settings import REPO_ROOT

    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import app

    return app.server.test_client()


def test_page_state_figures_and_download(client):
    out = call(client, "ret-view.data", {"ret-url.hash": "#measure=letters&exam=head&bogus=1"}, "ret-url.hash",
               {"ret-url.search": "?lang=da"})
    assert out["ret-view"]["data"] == "#measure=letters&exam=head"
    assert out["ret-measure"]["value"] == "letters" and out["ret-exam"]["value"] == "head"
    assert "bogus" in str(out["ret-notice"]["children"])
    # a control change goes through the same whitelist
    out = call(client, "ret-view.data", {"ret-url.hash": "#measure=letters", "ret-measure.value": "evil",
                                         "ret-exam.value": "knee", "ret-centre.value": "all",
                                         "ret-date.date": "2023-02-01", "ret-sep.value": ";"},
               "ret-exam.value", {"ret-view.data": "#measure=letters"})
    assert out["ret-view"]["data"] == "#exam=knee&date=2023-02-01&sep=%3B"
    its = call(client, "ret-its.figure", {"ret-view.data": "#"}, "ret-view.data", {"ret-url.search": "?lang=da"})
    assert "Niveauændring ved intervention" in json_text(its["ret-its-table"]["children"])
    assert len(its["ret-its"]["figure"]["data"]) >= 4
    its = call(client, "ret-its.figure", {"ret-view.data": "#measure=letters"}, "ret-view.data", {"ret-url.search": "?lang=da"})
    assert "Ingen regression" in json_text(its["ret-its-table"]["children"])
    heat = call(client, "ret-centres.figure", {"ret-view.data": "#measure=letters"}, "ret-view.data")
    assert heat["ret-centres"]["figure"]["data"][0]["type"] == "heatmap"


def json_text(x) -> str:
    import json

    return json.dumps(x, ensure_ascii=False)


# ------------------------------------------------------------------ in a real headless Chromium

def _wait(predicate, timeout=40, what="condition"):
    from helpers import wait_until

    wait_until(predicate, timeout, what)


@pytest.mark.browser
def test_returns_page_in_a_browser(dash_duo, atlas_app):
    from urllib.parse import unquote

    dash_duo.start_server(atlas_app)
    dash_duo.driver.get(f"{dash_duo.server_url}/returns?lang=da#measure=letters")
    # letters did not exist before the campaign: no regression, and the page says why
    _wait(lambda: "Ingen regression" in dash_duo.find_element("#ret-no-fit").text, what="no-fit reason")
    _wait(lambda: len(dash_duo.find_elements("#ret-centres .heatmaplayer image, #ret-centres .hm")) >= 1
          or "heatmap" in dash_duo.driver.execute_script(
              "return JSON.stringify(document.querySelector('#ret-centres .js-plotly-plot').data.map(d => d.type))"),
          what="heatmap")
    _wait(lambda: len(dash_duo.find_elements("#ret-summary-table tbody tr")) == RL["n_centres"], what="centre table")
    # choosing the returned measure changes the address and the chart
    dash_duo.driver.find_element("xpath", "//label[normalize-space()='Returnerede henvisninger']").click()
    _wait(lambda: "measure=letters" not in unquote(dash_duo.driver.execute_script("return window.location.hash")),
          what="measure in the address")
    _wait(lambda: "Returnerede henvisninger" in dash_duo.find_element("#ret-its").text, what="returned in the chart's title")
    _wait(lambda: len(dash_duo.find_elements("#ret-its .scatterlayer .trace")) >= 4, what="ITS chart")
    _wait(lambda: "Niveauændring" in dash_duo.find_element("#ret-its-estimates").text, what="estimates table")
    assert not [l for l in (dash_duo.get_logs() or []) if l["level"] == "SEVERE"]


TAMPERED = ["#measure=1; DROP TABLE returns_monthly", "#centre=S1084P01' OR '1'='1&date=2022-10-01T00:00",
            "#date=9999-99-99&exam=../../x", "#" + "A" * 5000, "", 12, None, ["#measure=letters"], {"measure": "x"}]


@pytest.mark.parametrize("view", TAMPERED, ids=lambda v: repr(v)[:30])
@pytest.mark.parametrize("output", ["ret-its.figure", "ret-exam-chart.figure", "ret-centres.figure"])
def test_tampered_view_is_answered_cleanly(client, view, output):
    out = call(client, output, {"ret-view.data": view}, "ret-view.data", {"ret-url.search": "?lang=xx"})
    body = json_text(out)
    assert "DROP TABLE" not in body and "Traceback" not in body and "A" * 1000 not in body


def test_a_hidden_month_is_left_out_of_the_fit_only_in_the_regression_s_words():
    """The months-by-exam chart has no fit: its marker for a hidden month does not say "left out of the
    fit" (it did, in a legend line so long it ran past the chart), on either source's words."""
    from atlas.data.source import ReleaseSource, SecureSource
    from atlas.i18n import t

    for source in (SecureSource(), ReleaseSource()):
        for lang in ("en", "da"):
            bars, fit = t(source.hidden_month_key(False), lang), t(source.hidden_month_key(True), lang)
            assert "fit" not in bars and "model" not in bars and bars != fit
            assert ("fit" in fit) if lang == "en" else ("modellen" in fit)
            assert all(len(line) <= 40 for line in bars.split("<br>")), bars
            assert all(len(line) <= 60 for line in fit.split("<br>")), fit


def test_the_csv_note_of_a_hidden_month_has_no_chart_markup(client):
    from atlas import returns as R

    content, _ = R.chart_csv("its", R.ReturnsView(measure="returned"))
    assert "<br>" not in content.decode("utf-8-sig")
