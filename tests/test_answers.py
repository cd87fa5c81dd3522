"""Every view answers, and answers right (issue 11): caches, empty selections, incomplete years,
drill-down of the 2027 regions, the pathway table's totals, the return letters' regression and
malformed requests. Called through the app's own functions and its Flask test client."""
from __future__ import annotations

import importlib
import json
import pkgutil
import sys

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from etl.settings import REPO_ROOT


@pytest.fixture(scope="module")
def app_module(app_db):
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import app as module

    return module


@pytest.fixture(scope="module")
def client(app_module):
    app_module.server.config["TESTING"] = False
    return app_module.server.test_client()


# ------------------------------------------------------------------ caches hand out copies

def test_cached_answers_cannot_be_changed_by_their_receiver():
    from atlas.cache import cached

    calls = []

    @cached(maxsize=4)
    def answer(n):
        calls.append(n)
        fig = go.Figure(go.Bar(x=[1, 2], y=[3, 4]))
        return pd.DataFrame({"a": [1, 2]}), pd.Series({"x": 1.0}), {"k": [1, 2]}, fig, [1, {2}]

    frame, row, d, fig, lst = answer(1)
    frame["a"] = 0
    frame["b"] = 1
    row["x"] = 99
    d["k"].append(3)
    fig["data"][0]["y"] = [0, 0]
    lst[1].add(5)
    again = answer(1)
    assert calls == [1]                                  # served from the cache ...
    assert list(again[0].columns) == ["a"] and again[0]["a"].tolist() == [1, 2]   # ... unchanged
    assert again[1]["x"] == 1.0 and again[2] == {"k": [1, 2]} and again[4] == [1, {2}]
    assert list(again[3]["data"][0]["y"]) == [3, 4]


def test_no_lru_cache_hands_out_shared_objects_in_the_app(app_module):
    """Every memo in atlas/ and pages/ is an atlas.cache one (a plain lru_cache returns shared objects)."""
    import atlas
    import pages

    found = []
    for package in (atlas, pages):
        for info in pkgutil.iter_modules(package.__path__):
            # atlas/ and pages/ are namespace packages: only this checkout's modules
            if not str(getattr(info.module_finder, "path", "")).startswith(str(REPO_ROOT)):
                continue
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for name, obj in vars(module).items():
                try:
                    memo = callable(obj) and hasattr(obj, "cache_info") and not hasattr(obj, "uncached")
                except RuntimeError:        # flask's request and the like: a proxy, outside a request
                    continue
                if memo and getattr(obj, "__module__", "") == module.__name__:
                    found.append(f"{module.__name__}.{name}")
    assert not found, found


def test_danish_breakdown_download_does_not_blank_the_chart(app_module):
    from atlas import export
    from atlas.filters import View
    from pages import atlas as page

    years = __import__("atlas.data", fromlist=["years"]).years()
    view = View(y0=years[-2], y1=years[-2], lang="da").with_dim("sex", 2)
    export.chart_csv("breakdown", view)                          # relabels the dimensions in Danish
    from atlas.state import hash_of

    fig = page.draw_breakdown(hash_of(view), "")                 # English, drawn after the download
    data = fig["data"] if isinstance(fig, dict) else fig.data
    assert len(data) == 6, "the breakdown chart lost its groups after a Danish download"


# ------------------------------------------------------------------ malformed or unoffered requests

@pytest.fixture(scope="module")
def deps(client):
    return client.get("/_dash-dependencies").get_json()


def _state_payload(deps, values: dict) -> dict:
    """The atlas's state callback with the given control values (the rest as a browser sends them)."""
    from helpers import dash_outputs

    from atlas.filters import DIMENSIONS

    d = next(x for x in deps if "view.data" in x["output"] and "atlas-url.hash" in x["output"])

    def value(i):
        if i["id"].startswith("{"):
            return [{"id": {"type": "dim", "key": k}, "property": "value", "value": values.get(k, "all")} for k in DIMENSIONS]
        return {"id": i["id"], "property": i["property"], "value": values.get(f"{i['id']}.{i['property']}")}

    return {"output": d["output"], "outputs": dash_outputs(d["output"]), "inputs": [value(i) for i in d["inputs"]],
            "changedPropIds": [values.get("changed", "years.value")],
            "state": [{"id": s["id"], "property": s["property"], "value": values.get(f"{s['id']}.{s['property']}")}
                      for s in d["state"]]}


@pytest.mark.parametrize("body", [b"null", b'"a string"', b"1e999", b"[1, 2]", b'{"output": 1e999}',
                                  b'{"output": "map.figure", "inputs": [NaN]}',
                                  b"[" * 5000 + b"]" * 5000, b'{"a":' * 200 + b"1" + b"}" * 200,
                                  b'{"output": "no.such", "outputs": {}, "inputs": []}'])
def test_malformed_callback_bodies_are_400(client, body):
    r = client.post("/_dash-update-component", data=body, content_type="application/json")
    assert r.status_code == 400, (body[:40], r.status_code)
    assert set(r.get_json()) == {"error"}


def test_unoffered_control_values_are_not_used_or_echoed(client, deps):
    current = "#level=region"
    huge = "x" * 100_000
    for values in ({"years.value": ["abc"]}, {"years.value": [1e308, 2]}, {"years.value": "2020"},
                   {"years.value": [2017, 99999]}, {"level.value": huge, "changed": "level.value"},
                   {"rates.value": huge, "changed": "rates.value"}, {"standard.value": huge, "changed": "standard.value"},
                   {"mapkind.value": huge, "changed": "mapkind.value"}, {"sep.value": huge, "changed": "sep.value"},
                   {"measure.value": huge, "changed": "measure.value"}, {"sex": "3; DROP", "changed": "sex"}):
        payload = _state_payload(deps, {**values, "view.data": current, "atlas-url.hash": current})
        r = client.post("/_dash-update-component", json=payload)
        assert r.status_code == 200, (values, r.status_code, r.get_data(as_text=True)[:200])
        body = r.get_data(as_text=True)
        assert "x" * 1000 not in body and "DROP" not in body and "abc" not in body
        h = r.get_json()["response"]["atlas-url"]["hash"]
        assert len(h) < 200 and ("level=region" in h)


def test_language_link_never_leaves_the_site(client, deps):
    from helpers import dash_outputs

    d = next(x for x in deps if "navbar.children" in x["output"])
    for path in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        payload = {"output": d["output"], "outputs": dash_outputs(d["output"]),
                   "inputs": [{"id": i["id"], "property": i["property"], "value": path if i["property"] == "pathname" else ""}
                              for i in d["inputs"]],
                   "changedPropIds": ["url.pathname"],
                   "state": [{"id": s["id"], "property": s["property"], "value": '#"><script>'} for s in d["state"]]}
        r = client.post("/_dash-update-component", json=payload)
        assert r.status_code == 200
        text = json.dumps(r.get_json())
        hrefs = [m for m in __import__("re").findall(r'"href": "([^"]*)"', text)]
        assert hrefs and all(h.startswith("/") and not h.startswith("//") for h in hrefs), hrefs
        assert "<script>" not in text


# ------------------------------------------------------------------ incomplete years

def _values(v):
    """A figure array as a list (Plotly sends numeric arrays as base64 'bdata')."""
    import base64

    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"]).tolist()
    return list(v)


def test_coverage_marks_years_whose_window_reaches_past_the_data():
    from datetime import date

    from etl.coverage import incomplete_years

    data = {"imaging": (date(2013, 1, 1), date(2024, 6, 30)), "surgery": (date(2012, 1, 1), date(2024, 5, 2))}
    years = list(range(2013, 2025))
    follow = {"follow_up_days": 365, "follow_up_sources": ["surgery"]}
    # the data end on 2024-06-30 (the last date in any source): a year's follow-up needs 365 days past its end
    assert incomplete_years(follow, years, data) == {"2023": "follow-up", "2024": "follow-up"}
    assert incomplete_years({"look_back_days": 365, "look_back_sources": ["surgery"]}, years, data) == {}
    assert incomplete_years({"follow_up_days": 90, "follow_up_sources": ["imaging"]}, years, data) == {"2024": "follow-up"}
    back = {"look_back_days": 365, "look_back_sources": ["imaging"]}
    assert incomplete_years(back, years, data) == {"2013": "look-back"}
    assert incomplete_years({}, years, data) == {}


def test_the_database_records_coverage_and_the_default_year_is_complete(app_module):
    from atlas import coverage, data, db
    from atlas.measures import MEASURES

    cov = db.meta()["coverage"]
    last = data.years()[-1]
    assert str(last) in cov["incomplete"]["surgery_long"]          # the data end with the last year
    assert str(data.years()[0]) in cov["incomplete"]["episode"]       # and begin with the first
    assert cov["incomplete"]["imaging"] == {}
    year = coverage.default_year()
    assert year < last
    assert all(year not in coverage.incomplete_years(k) for k in MEASURES)
    assert coverage.incomplete_years("surgery_long_share") == {last: "follow-up"}
    assert coverage.incomplete_years("lowvalue_share") == {data.years()[0]: "look-back"}


def test_default_view_is_the_last_complete_year(client, deps):
    from atlas import coverage

    payload = _state_payload(deps, {"changed": "atlas-url.hash", "atlas-url.hash": ""})
    out = client.post("/_dash-update-component", json=payload).get_json()["response"]
    assert out["years"]["value"] == [coverage.default_year()] * 2


def test_incomplete_years_are_marked_in_trend_mix_notice_and_csv(app_module):
    from atlas import coverage, data, export
    from atlas.filters import View
    from atlas.state import hash_of
    from pages import atlas as page

    last = data.years()[-1]
    view = View(measure="surgery_long_share", y0=last, y1=last)
    h = hash_of(view, coverage.default_year())
    trend = page.draw_trend(h, "")["data"]
    names = [tr.get("name") or "" for tr in trend]
    assert any("incomplete" in n for n in names)
    off = [tr for tr in trend if "incomplete" in (tr.get("name") or "")]
    assert [int(x) for x in _values(off[0]["x"])] == [last]
    line = next(tr for tr in trend if tr.get("mode") == "lines+markers")
    assert last not in [int(x) for x in _values(line["x"])]        # not part of the line
    labels = [y for tr in page.draw_mix(h, "")["data"] for y in _values(tr["y"])]
    assert any("Spine surgery within 365 days (incomplete" in y for y in labels)
    assert not any("Lumbar" in y and "incomplete" in y for y in labels)
    assert "incomplete" in str(page.draw_notes(h, 0, "")[1].children)
    assert page.draw_notes("#measure=surgery_long_share", 0, "")[1] is None      # the default year is complete
    text = export.chart_csv("trend", view)[0].decode("utf-8-sig")
    from helpers import split_download

    head, body = split_download(text)
    assert f"{last} (follow-up)" in head
    rows = [r.split(",") for r in body.strip().split("\r\n")]
    col = rows[0].index("complete")
    flags = {r[0]: r[col] for r in rows[1:]}
    assert flags[str(last)] == "no" and flags[str(last - 1)] == "yes"
    assert rows[0][rows[0].index("funnel_flag")] and any("incomplete" in r for r in rows[1:])


# ------------------------------------------------------------------ drill-down, pathways, returns

def test_a_2027_region_drills_down_to_its_municipalities(app_module):
    from atlas import data, db, queries
    from atlas.filters import View

    a = db.areas()
    for region in sorted(set(a[a.level == "region2027"].code)):
        inside = set(a[(a.level == "municipality") & (a.region2027_code == region)].code)
        tbl, _ = queries.area_table(View(level="municipality", within=int(region), y0=data.years()[-2], y1=data.years()[-2]))
        assert set(tbl.code) == inside and len(inside) > 0


def test_pathway_all_row_is_exact_on_the_secure_database(app_module):
    """The secure database hides no flow (issue 25 item 3): the "all" row of every small area is the
    sum of its cells, zeros included, and no cell is missing."""
    from atlas import db
    from atlas import pathways as P
    from atlas.coverage import default_year
    from atlas.filters import View

    a = db.areas()
    year = default_year()
    for code in list(a[a.level == "municipality"].code)[:10]:
        p = P.pathways(View(y0=year, y1=year, area=int(code)), 365)
        cells = p["cells"]
        assert cells["count"].notna().all(), code
        tbl = P.pathway_table(p, "en")
        for outcome in P.OUTCOMES:
            assert tbl.iloc[-1][f"{outcome}_count"] == cells.loc[cells["outcome"] == outcome, "count"].sum(), (code, outcome)


def test_its_line_is_clamped_and_hidden_months_are_marked(app_module):
    from atlas import returns as R

    for view in (R.ReturnsView(), R.ReturnsView(exam="knee"), R.ReturnsView(centre=R.centres().producer_id.iloc[0])):
        s, r = R.its(view)
        if r is not None:
            assert (s["fitted"].dropna() >= 0).all() and (s["counterfactual"].dropna() >= 0).all()
        else:
            assert s.attrs["no_fit"] in ("ret_reason_flat", "ret_reason_few", "ret_reason_hidden")
    # a series whose fitted line would fall below 0 is clamped and says so
    y = np.array([5.0, 4, 3, 2, 1, 9, 6, 3, 0.5, 0.2])
    assert R._no_fit_reason(y, 5, np.zeros(10, dtype=bool)) is None
    assert R._no_fit_reason(np.array([0.0, 0, 0, 0, 0, 9, 6, 3, 1, 0]), 5, np.zeros(10, dtype=bool)) == "ret_reason_flat"
    assert R._no_fit_reason(y, 1, np.zeros(10, dtype=bool)) == "ret_reason_few"
    assert R._no_fit_reason(y, 5, np.arange(10) < 6) == "ret_reason_hidden"


def test_clusters_are_computed_when_asked_for_or_when_the_map_shows_them(app_module):
    from atlas.filters import View
    from atlas.state import hash_of
    from pages import atlas as page

    plain = hash_of(View(y0=2019, y1=2024))
    offer, button = page.draw_notes(plain, 0, "")[3:5]
    assert "permutations" in str(offer) and "cluster-offer" in str(offer) and button == "mt-2"
    panel, button = page.draw_notes(plain, 1, "")[3:5]
    assert "Moran" in str(panel) and "cluster-list" in str(panel) and button == "d-none"
    on_map, button = page.draw_notes(hash_of(View(y0=2019, y1=2024, colours="cluster")), 0, "")[3:5]
    assert "cluster-list" in str(on_map) and button == "d-none"
