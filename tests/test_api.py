"""The open-data API (/api/v1/, atlas/api) on both databases, through the app's own Flask server.

Every test runs on the secure database (``atlas_db``, scale 0.01) and on the release
(``release_db``, scale 0.05): the API's figures are the CSV downloads' figures of the same view, a
hidden cell never carries a number, every answer names its release (and on the secure database
carries the inside-only marking), and every bad request is a JSON 4xx naming what is wrong.
"""
from __future__ import annotations

import io
import json
import math
import os
from dataclasses import replace
from urllib.parse import urlencode

import pandas as pd
import pytest
from conftest import _forget_cached_queries, app_on

from atlas.filters import View

HIDDEN = ("hidden", "small", "protect", "unpublished")
FIGURES = ("count", "denominator", "value", "lower", "upper", "expected")
MARK = "Inside the secure environment only: not output-checked"


@pytest.fixture(scope="module", params=["secure", "release"])
def api(request, atlas_db, release_db):
    """A test client of the app's server on one database; ``api.kind`` says which."""
    with app_on(atlas_db if request.param == "secure" else release_db):
        import app

        client = app.server.test_client()
        client.kind = request.param
        yield client


def _json(api, url, status=200):
    r = api.get(url)
    assert r.status_code == status, (url, r.status_code, r.get_data(as_text=True)[:400])
    assert r.mimetype == "application/json"
    return r, r.get_json()


def _year(api) -> int:
    return _json(api, "/api/v1/periods")[1]["default_year"]


# ----------------------------------------------------------------------------- metadata endpoints

def test_index_lists_the_endpoints_and_every_one_answers(api):
    _, versions = _json(api, "/api/")
    assert versions["versions"] == {"v1": "/api/v1/"}
    _, body = _json(api, "/api/v1/")
    from atlas.api.page_views import ENDPOINTS

    assert set(body["endpoints"]) == {"release", "measures", "areas", "levels", "periods", "filters", "data",
                                      "trend", "breakdown", "mix", *ENDPOINTS}
    for name, url in body["endpoints"].items():
        r = api.get(url)
        assert r.status_code == 200, (name, r.get_data(as_text=True)[:300])


def test_measures_carry_machine_readable_metadata(api):
    from atlas import data
    from atlas.measures import MEASURES

    _, body = _json(api, "/api/v1/measures")
    got = {m["key"]: m for m in body["measures"]}
    assert list(got) == [k for k in MEASURES if k in data.source().measures()] and got
    for key, m in got.items():
        assert m["definition"] == MEASURES[key].definition_en and m["name_da"] == MEASURES[key].da
        assert m["kind"] in ("rate", "share") and m["unit"] and m["per"] in (100, 1000)
        assert m["polarity"] in ("lower_is_better", "none")
        assert m["numerator"]["count"] == MEASURES[key].numerator
        assert m["denominator"]["count"] == MEASURES[key].denominator
        assert m["standardisation"]["default"] == ("isr" if m["kind"] == "rate" else "crude")
        assert m["code_lists"] and all(c["file"].endswith(".csv") for c in m["code_lists"])
        assert m["last_updated"] and m["published"] is True
        for y in m["incomplete_years"]:
            assert isinstance(y["year"], int) and y["why"]
    assert got["lowvalue_rate"]["polarity"] == "lower_is_better" and got["imaging_rate"]["polarity"] == "none"
    # versions of the code lists by content, as the database recorded them
    assert any(c["sha256"] and len(c["sha256"]) == 64 for c in got["imaging_rate"]["code_lists"])
    # the look-back year of low-value imaging is marked incomplete
    assert got["lowvalue_rate"]["incomplete_years"]
    _, one = _json(api, "/api/v1/measures/mri_share?lang=da")
    assert one["measure"]["name"] == MEASURES["mri_share"].da and one["measure"]["unit"] == "procent"


def test_every_measure_has_its_metadata_configured():
    from atlas.api import catalogue
    from atlas.measures import measures_with_estimates
    from etl.settings import CONFIG_DIR

    configured = catalogue._metadata()["measures"]
    assert set(configured) <= set(measures_with_estimates()), "metadata for a measure that does not exist"
    for key in measures_with_estimates():
        for name in catalogue.code_list_names(key):
            assert (CONFIG_DIR / "codes" / name).exists() or (CONFIG_DIR / "registers" / name).exists(), (key, name)


def test_areas_levels_periods_filters(api):
    from atlas import data
    from atlas.filters import DIMENSIONS

    _, body = _json(api, "/api/v1/areas?level=municipality")
    assert len(body["areas"]) == 98 and all(isinstance(a["code"], int) and a["name"] for a in body["areas"])
    _, body = _json(api, "/api/v1/areas")
    assert {a["level"] for a in body["areas"]} >= {"municipality", "region", "region2027"}
    _, body = _json(api, "/api/v1/levels")
    assert [(lv["level"], lv["areas"]) for lv in body["levels"]] == [
        ("municipality", 98), ("region", 5), ("region2027", 4), ("denmark", 1)]
    _, body = _json(api, "/api/v1/periods")
    assert body["years"] == data.years() and "2022-2024" in body["periods"]
    assert body["any_range"] is (api.kind == "secure")
    _, body = _json(api, "/api/v1/filters")
    assert [f["parameter"] for f in body["filters"]] == list(DIMENSIONS)
    assert body["options"]["rates"] == ["isr", "crude", "eb"]


def test_published_views_are_listed_and_each_answers(api):
    _, body = _json(api, "/api/v1/measures/imaging_rate/published")
    if api.kind == "secure":
        assert body["any"] is True
        return
    views = body["views"]
    assert not body["any"] and views
    assert {"level": "municipality", "period": "2023", "filters": {}} in views
    # a few of the listed views, each answered with 200 (the catalogue and the data agree)
    for v in views[:: max(1, len(views) // 6)]:
        a, _, b = v["period"].partition("-")
        q = urlencode({"level": v["level"], "y0": a, "y1": b or a, **v["filters"]})
        r = api.get("/api/v1/data?measure=imaging_rate&" + q)
        assert r.status_code == 200, (v, r.get_data(as_text=True)[:300])


def test_openapi_describes_every_endpoint(api):
    from atlas import data

    _, doc = _json(api, "/api/v1/openapi.json")
    assert doc["openapi"].startswith("3.")
    assert {"/release", "/measures", "/areas", "/levels", "/periods", "/filters", "/data", "/trend", "/breakdown",
            "/mix"} <= set(doc["paths"])
    params = {p["name"]: p for p in doc["paths"]["/data"]["get"]["parameters"]}
    assert params["measure"]["schema"]["enum"] == list(data.source().measures())
    assert "all" in params["level"]["schema"]["enum"] and "sex" in params


# ----------------------------------------------------------------------------- release identity and marking

def test_every_answer_names_its_release_and_the_secure_one_is_marked(api):
    from atlas import db

    rid = db.meta().get("release_id")
    assert (rid is not None) == (api.kind == "release")
    urls = ["/api/", "/api/v1/", "/api/v1/release", "/api/v1/measures", "/api/v1/areas", "/api/v1/periods",
            "/api/v1/data", "/api/v1/trend?area=101", "/api/v1/breakdown", "/api/v1/mix",
            "/api/v1/data?level=moon", "/api/v1/nowhere", "/api/v1/measures/nothing"]
    for url in urls:
        r = api.get(url)
        body = r.get_json()
        assert body["release"]["id"] == rid, url
        assert body["release"]["database"] == api.kind
        if api.kind == "secure":
            assert body["marking"] == MARK and r.headers["X-Atlas-Marking"] == MARK, url
        else:
            assert body["marking"] is None and "X-Atlas-Marking" not in r.headers, url
    r = api.get("/api/v1/data?format=csv")
    assert r.headers["X-Atlas-Release"] == (rid or "none")
    table = pd.read_csv(io.StringIO(r.get_data(as_text=True)), dtype=str, keep_default_na=False)
    assert set(table["release_id"]) == {rid or ""}
    assert ("marking" in table) == (api.kind == "secure")
    if api.kind == "secure":
        assert set(table["marking"]) == {MARK}
    _, rel = _json(api, "/api/v1/release")
    if api.kind == "release":
        assert rel["release"]["vintage"]["release_id"] == rid
        assert len(rel["release"]["source_sha256"]) == 64


# ----------------------------------------------------------------------------- figures: the CSV download's

def _download(chart: str, view: View) -> pd.DataFrame:
    from atlas import export

    content, _ = export.chart_csv(chart, view)
    return pd.read_csv(io.BytesIO(content), encoding="utf-8-sig", dtype=str, keep_default_na=False)


def _same_figures(api_rows: list[dict], csv_rows: pd.DataFrame, keys) -> int:
    """Each API row against the CSV row of the same key; returns how many shown cells were compared."""
    from atlas.i18n import t

    assert len(api_rows) == len(csv_rows), (len(api_rows), len(csv_rows))
    by_key = {keys(r): r for r in api_rows}
    assert len(by_key) == len(api_rows)
    compared = 0
    for _, c in csv_rows.iterrows():
        a = by_key[keys(c)]
        assert (a["status_text"] or "") == c["note"], (a, dict(c))
        if a["status"] in HIDDEN:
            assert all(a[f] is None for f in FIGURES) and a["funnel_flag"] is None, a
            assert c["value"] == "" and c["lower"] == "" and c["upper"] == "", dict(c)
            continue
        for f in ("count", "denominator"):
            assert (a[f] is None and c[f] == "") or a[f] == int(c[f]), (f, a, dict(c))
        for f in ("value", "lower", "upper", "expected"):
            if f not in c:                               # the mix has no expected counts
                assert a[f] is None, (f, a)
            elif a[f] is None:
                assert c[f] == "", (f, a, dict(c))
            else:
                assert abs(a[f] - float(c[f])) <= 0.005 + 1e-9, (f, a[f], c[f])
        if a["funnel_flag"]:
            assert t(a["funnel_flag"], "en") == c["funnel_flag"], (a, dict(c))
        assert t("yes" if a["complete"] else "no", "en") == c["complete"]
        compared += a["value"] is not None
    return compared


def _views(api) -> list[tuple[str, View]]:
    """(API query, the page's view) pairs: the default view, a share by region, crude rates by the
    regions of 2027, a filtered 3-year period, a filtered low-value rate."""
    y = _year(api)
    return [(f"y0={y}&y1={y}", View(y0=y, y1=y)),
            (f"measure=mri_share&level=region&y0={y}&y1={y}", View(measure="mri_share", level="region", y0=y, y1=y)),
            (f"rates=crude&level=region2027&y0={y}&y1={y}", View(rates="crude", level="region2027", y0=y, y1=y)),
            ("y0=2022&y1=2024&sex=2", View(y0=2022, y1=2024).with_dim("sex", 2)),
            ("measure=lowvalue_rate&y0=2022&y1=2024&edu=1",
             View(measure="lowvalue_rate", y0=2022, y1=2024).with_dim("edu", 1))]


def test_area_figures_equal_the_csv_download_of_the_same_view(api):
    from atlas import data

    compared = 0
    for query, view in _views(api):
        assert data.source().publishes(view), query
        _, body = _json(api, "/api/v1/data?" + query)
        csv_rows = _download("map", view)
        rows = body["data"]
        assert [r["level"] for r in rows[:-1]] == [view.level] * (len(rows) - 1) and rows[-1]["level"] == "denmark"
        assert [r["name"] for r in rows] == list(csv_rows["name"])
        compared += _same_figures(rows, csv_rows, lambda r: int(r["code"]))
    assert compared >= 50


def test_trend_breakdown_and_mix_equal_their_csv_downloads(api):
    y = _year(api)
    view = View(y0=y, y1=y, area=101)
    _, body = _json(api, f"/api/v1/trend?area=101&y0={y}&y1={y}")
    assert _same_figures(body["data"], _download("trend", view), lambda r: (int(r["year"]), int(r["code"]))) >= 5
    _, body = _json(api, f"/api/v1/breakdown?y0={y}&y1={y}")
    from atlas.i18n import label

    groups = _download("breakdown", View(y0=y, y1=y))
    assert _same_figures(body["data"], groups, lambda r: (label("dimension", r["dimension"], "en"), str(r["group_name"]))
                         if isinstance(r, dict) else (r["dimension"], r["group"])) >= 5
    _, body = _json(api, f"/api/v1/mix?level=region&area=1084&y0={y}&y1={y}")
    mix = _download("mix", View(level="region", y0=y, y1=y, area=1084))
    assert _same_figures(body["data"], mix, lambda r: (int(r["code"]), r["measure_name"])) >= 5


def test_csv_format_holds_the_json_figures(api):
    y = _year(api)
    url = f"/api/v1/data?level=all&y0={y}&y1={y}&measure=mri_share"
    _, body = _json(api, url)
    r = api.get(url + "&format=csv")
    assert r.status_code == 200 and r.mimetype == "text/csv" and "attachment" in r.headers["Content-Disposition"]
    table = pd.read_csv(io.StringIO(r.get_data(as_text=True)), keep_default_na=False, dtype=str)
    assert list(table.columns[:len(body["columns"])]) == body["columns"] and len(table) == len(body["data"])
    for a, (_, c) in zip(body["data"], table.iterrows()):
        assert (a["level"], str(a["code"]), a["status"]) == (c["level"], c["code"], c["status"])
        for f in FIGURES:
            assert (a[f] is None and c[f] == "") or math.isclose(a[f], float(c[f])), (f, a, dict(c))


def test_all_levels_at_once_and_one_area(api):
    y = _year(api)
    _, body = _json(api, f"/api/v1/data?level=all&y0={y}&y1={y}")
    levels = [r["level"] for r in body["data"]]
    assert levels.count("municipality") == 98 and levels.count("region") == 5 and levels.count("region2027") == 4
    assert levels.count("denmark") == 1 and body["levels"] == ["municipality", "region", "region2027"]
    _, one = _json(api, f"/api/v1/data?area=101&y0={y}&y1={y}")
    assert [r["code"] for r in one["data"]] == [101]
    assert one["data"][0] == next(r for r in body["data"] if r["code"] == 101 and r["level"] == "municipality")
    _, dk = _json(api, f"/api/v1/data?level=denmark&y0={y}&y1={y}")
    assert dk["data"] == [r for r in body["data"] if r["level"] == "denmark"]


def test_links_give_the_same_view_on_the_page_and_in_csv(api):
    from atlas import coverage, data, db
    from atlas.filters import parse_query
    from atlas.measures import MEASURES

    _, body = _json(api, "/api/v1/data?measure=mri_share&level=region&y0=2022&y1=2024&sex=2&lang=da")
    links = body["links"]
    assert links["csv"].endswith("format=csv") and api.get(links["csv"]).status_code == 200
    assert api.get(links["self"]).get_json()["data"] == body["data"]
    page = links["page"]
    assert page.startswith("/?lang=da#")
    codes = db.level_codes()
    view, ignored = parse_query(page.split("#", 1)[1], data.years(), tuple(MEASURES), codes["municipality"],
                                codes["region"] | codes["region2027"], coverage.default_year())
    assert not ignored
    assert (view.measure, view.level, view.y0, view.y1, view.dims) == ("mri_share", "region", 2022, 2024, (("sex", 2),))


# ----------------------------------------------------------------------------- hidden cells

def test_a_hidden_cell_never_carries_a_number(api):
    """On the release, views with many hidden cells: every hidden cell is null in every figure, in
    JSON and in CSV; on the secure database nothing is hidden but empty or few-event cells have no rate."""
    views = ["level=all&y0=2022&y1=2024&sex=2&measure=surgery_short_share",
             "level=all&y0=2022&y1=2024&edu=1&measure=lowvalue_rate",
             "level=municipality&measure=repeat_mri_share",
             "level=municipality&rates=crude&origin=3&y0=2022&y1=2024"]
    seen = {}
    for q in views:
        r = api.get("/api/v1/data?" + q)
        if r.status_code == 404:                       # not published at this detail: nothing to check
            continue
        body = r.get_json()
        csv_ = pd.read_csv(io.StringIO(api.get("/api/v1/data?format=csv&" + q).get_data(as_text=True)),
                           keep_default_na=False, dtype=str)
        for a, (_, c) in zip(body["data"], csv_.iterrows()):
            seen[a["status"]] = seen.get(a["status"], 0) + 1
            if a["status"] in HIDDEN:
                assert all(a[f] is None for f in FIGURES) and a["funnel_flag"] is None, a
                assert all(c[f] == "" for f in FIGURES), dict(c)
                assert a["status_text"]
            if a["status"] in ("few_events", "empty"):
                assert a["value"] is None and a["lower"] is None and a["upper"] is None
    if api.kind == "release":
        assert sum(seen.get(s, 0) for s in HIDDEN) >= 10, seen       # the test met hidden cells
    else:
        assert not any(seen.get(s) for s in HIDDEN), seen          # exact figures: nothing hidden
    assert seen.get("shown", 0) >= 20, seen


# ----------------------------------------------------------------------------- errors

@pytest.mark.parametrize("query, parameter", [
    ("level=moon", "level"), ("measure=nothing", "measure"), ("y0=1999", "y0"), ("y1=abc", "y1"),
    ("rates=fancy", "rates"), ("standard=who", "standard"), ("sex=3", "sex"), ("referrer=dentist", "referrer"),
    ("format=xml", "format"), ("lang=de", "lang"), ("within=99999", "within"), ("level=region&within=1084", "within"),
    ("area=1", "area"), ("period=1999-2000", "period"), ("period=2023&y0=2023", "period"), ("colour=red", "colour"),
    ("y0=2024&y1=2013", "y0"), ("measure=" + "x" * 60, "measure"),
])
def test_a_bad_parameter_is_a_400_naming_it_and_what_is_allowed(api, query, parameter):
    for endpoint in ("data", "trend"):
        r, body = _json(api, f"/api/v1/{endpoint}?{query}", 400)
        err = body["error"]
        assert err["status"] == 400 and err["parameter"] == parameter, err
        assert parameter in err["message"]
        text = r.get_data(as_text=True)
        assert "Traceback" not in text and "File \"" not in text
        assert r.headers["Cache-Control"] == "no-store"
    if parameter in ("level", "rates", "sex", "format", "lang", "measure", "colour"):
        assert err["allowed"], err
    if parameter == "level":
        assert "municipality" in err["allowed"]
    if parameter == "sex":
        assert set(err["allowed"]) == {"all", "1", "2"}


def test_not_published_unknown_and_wrong_method(api):
    r, body = _json(api, "/api/v1/nowhere", 404)
    assert body["error"]["code"] == "not_found" and "/api/v1/data" in body["error"]["endpoints"]
    _, body = _json(api, "/api/v1/measures/nothing", 404)
    assert body["error"]["parameter"] == "measure" and "imaging_rate" in body["error"]["allowed"]
    r = api.post("/api/v1/data")
    assert r.status_code == 405 and r.get_json()["error"]["code"] == "method_not_allowed"
    r = api.delete("/api/v1/measures")
    assert r.status_code == 405 and r.mimetype == "application/json"
    _, body = _json(api, "/api/v1/measures?level=region", 400)
    assert body["error"]["parameter"] == "level"
    if api.kind == "release":
        # two filters at once and a range of years the release does not publish: 404 with the nearest view
        for q in ("sex=2&edu=1", "y0=2014&y1=2016"):
            _, body = _json(api, "/api/v1/data?" + q, 404)
            err = body["error"]
            assert err["code"] == "not_published" and err["nearest"].startswith("/api/v1/data?")
            assert api.get(err["nearest"]).status_code == 200
        # every nearest view answers, whichever level the unpublished view asked for
        for level in ("municipality", "region", "region2027", "all", "denmark"):
            for q in ("sex=2&edu=1", "inc=1&origin=2&y0=2014&y1=2016"):
                _, body = _json(api, f"/api/v1/data?level={level}&{q}", 404)
                assert api.get(body["error"]["nearest"]).status_code == 200, (level, q, body["error"]["nearest"])
        # groups are published without other filters
        _, body = _json(api, "/api/v1/breakdown?level=region&y0=2022&y1=2024&sex=2", 404)
        assert api.get(body["error"]["nearest"]).status_code == 200
        # a municipality's groups in a single year are not published: Denmark's are the nearest
        _, body = _json(api, f"/api/v1/breakdown?area=101&y0={_year(api)}&y1={_year(api)}", 404)
        assert "area=" not in body["error"]["nearest"] and api.get(body["error"]["nearest"]).status_code == 200
    else:
        # the secure database answers any range of years and any filters
        _json(api, "/api/v1/data?sex=2&edu=1&y0=2014&y1=2016")


def test_a_failure_inside_is_a_json_500_without_a_traceback(api, monkeypatch):
    from atlas.api import tables

    def broken(*a, **k):
        raise RuntimeError("secret detail /srv/data/atlas.duckdb")

    monkeypatch.setattr(tables, "area_rows", broken)
    r = api.get("/api/v1/data?measure=persons_rate&y0=2016&y1=2018")
    assert r.status_code == 500 and r.mimetype == "application/json"
    text = r.get_data(as_text=True)
    assert "secret detail" not in text and "Traceback" not in text and r.get_json()["error"]["code"] == "server_error"


# ----------------------------------------------------------------------------- caching

def test_etag_and_cache_control(api):
    r = api.get("/api/v1/data?measure=mri_share")
    etag = r.headers["ETag"]
    assert etag.startswith('"') and len(etag) > 10
    assert r.headers["Cache-Control"] == ("private, no-cache" if api.kind == "secure" else "public, max-age=300")
    again = api.get("/api/v1/data?measure=mri_share", headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.data
    other = api.get("/api/v1/data?measure=mri_share&level=region")
    assert other.headers["ETag"] != etag
    # an answer handed out is never changed by what a receiver does with it
    body = r.get_json()
    body["data"][0]["value"] = -1
    assert api.get("/api/v1/data?measure=mri_share").get_json()["data"][0]["value"] != -1


def test_every_chart_download_names_its_api_address(api):
    """Each chart's CSV carries the API address of the same figures; that address answers them."""
    y = _year(api)
    view = View(y0=y, y1=y, area=101)
    for chart in ("map", "rank", "funnel", "trend", "breakdown", "mix"):
        # the release publishes a municipality's groups for the 3-year periods only: Denmark's here
        table = _download(chart, replace(view, area=None) if chart == "breakdown" else view)
        address = table["API"].iloc[0]
        assert address.startswith("/api/v1/") and (address.split("?")[0].rsplit("/", 1)[1] ==
                                                   {"trend": "trend", "breakdown": "breakdown", "mix": "mix"}.get(chart, "data"))
        _, body = _json(api, address)
        assert body["rows"] == len(table), (chart, body["rows"], len(table))


def test_status_words_in_danish(api):
    from atlas.data.domain import STATUS_WORDS

    r, body = _json(api, "/api/v1/data?level=all&y0=2022&y1=2024&sex=2&measure=surgery_short_share&lang=da")
    for row in body["data"]:
        assert (row["status_text"] or "") == STATUS_WORDS[row["status"]][1], row
    assert body["data"][-1]["name"] == "Danmark"


def test_a_missing_database_is_a_json_503(api, monkeypatch, tmp_path):
    monkeypatch.setenv("ATLAS_DB", str(tmp_path / "gone.duckdb"))
    _forget_cached_queries()
    try:
        r = api.get("/api/v1/data")
        assert r.status_code == 503 and r.mimetype == "application/json"
        err = r.get_json()["error"]
        assert err["code"] == "database_unavailable" and "gone.duckdb" in err["message"]
        assert str(tmp_path) not in err["message"]                # no server paths
    finally:
        monkeypatch.undo()
        _forget_cached_queries()
    assert api.get("/api/v1/data").status_code == 200


def test_the_api_answers_under_a_path_prefix(atlas_db):
    """Behind a reverse proxy (ATLAS_PATH_PREFIX=/atlas/) the API and its links carry the prefix
    (the prefix is read when the app is imported: a fresh interpreter)."""
    import subprocess
    import sys

    from etl.settings import REPO_ROOT

    script = ("import json, app\nc = app.server.test_client()\n"
              "print(json.dumps([c.get(u).status_code for u in ('/atlas/api/v1/', '/api/v1/')] + "
              "[c.get('/atlas/api/v1/data?level=region').get_json()['links']]))")
    env = {**os.environ, "ATLAS_PATH_PREFIX": "/atlas/", "ATLAS_DB": str(atlas_db)}
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    ok, outside, links = json.loads(out.stdout.strip().splitlines()[-1])
    assert ok == 200 and outside != 200
    assert links["self"].startswith("/atlas/api/v1/data?") and links["page"].startswith("/atlas/#")
