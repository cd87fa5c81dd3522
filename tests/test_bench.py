"""The benchmark (``python -m bench``, ``python -m etl bench``) runs end to end at a small scale and
writes every field.

Timings belong in the benchmark, not here: nothing below checks a speed. One small run (scale 0.01,
5 views, one callback, a journey of 2 readers for 1 s on the release) is shared by the module.
"""
from __future__ import annotations

import json
import re
from numbers import Number

import pytest

from bench import callbacks, options, payloads, report
from bench.run import run as bench_run

SCALE = 0.01
VIEWS = 5
READERS = 2
BUSY = 3                 # the busy day's readers, over two client processes


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("bench")
    out = d / "results.json"
    plan = d / "plan.toml"       # a small publication plan: at this scale the default one is nearly all hidden
    plan.write_text('[protection]\nmin_count = 5\n[periods]\nmulti_year = [[2013, 2015]]\n[[tables]]\n'
                    'counts = ["persons", "imaging"]\npatterns = [[]]\n', encoding="utf-8")
    res = bench_run(scale=SCALE, seed=7, out=out, requests_n=VIEWS, work=d / "work", workers=1, threads=2,
                    callbacks=("draw_areas",), echo=False, release_plan=plan, journey_users=READERS,
                    journey_seconds=1, journey_downloads=1.0, journey_think=(0.1, 0.3),
                    journey_on=("release",),       # the secure database's cold cluster panel takes seconds
                    busy_users=BUSY, busy_processes=2,
                    api={"seconds": 1, "views_n": 6, "clients": 1, "client_threads": 2, "seed": 7, "warm_rounds": 1,
                         "rate": 20, "on": ("release",)},
                    policy_measures=("imaging_rate", "mri_share"), policy_profiles=2,
                    layouts=False)         # the register layout's step: tests/test_bench_layouts.py
    return res, out, d


def _num(x) -> bool:
    return isinstance(x, Number) and not isinstance(x, bool)


def test_results_file_is_the_returned_json(run):
    res, out, _ = run
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(json.dumps(res, default=str))


def test_machine_is_recorded(run):
    m = run[0]["machine"]
    for key in ("cpu_count", "memory_total_bytes", "platform", "python", "duckdb_version", "dash_version", "date"):
        assert m[key], key
    assert _num(m["cpu_count"]) and _num(m["memory_total_bytes"])


def test_generation_and_build_fields(run):
    res = run[0]
    g, b = res["generation"], res["build"]
    assert _num(g["seconds"]) and g["seconds"] > 0 and g["reused"] is False
    assert g["rows"]["population"] > 0 and g["rows"]["imaging"] > 0
    assert _num(b["seconds"]) and b["seconds"] > 0
    assert _num(b["peak_rss_bytes"]) and b["peak_rss_bytes"] > 10e6          # a Python process with DuckDB
    assert _num(b["db_bytes"]) and b["db_bytes"] > 0
    # the build's own steps, as its report returns them, add up to about its time
    assert [s["step"] for s in b["steps"]] == list(range(1, len(b["steps"]) + 1)) and len(b["steps"]) >= 5
    assert sum(s["seconds"] for s in b["steps"]) == pytest.approx(b["seconds"], abs=1.0)
    assert b["tables"]["population_cube"] > 0


def test_pandas_fields_and_agreement(run):
    p = run[0]["pandas"]
    assert _num(p["seconds"]) and p["seconds"] > 0 and _num(p["peak_rss_bytes"])
    assert p["ratio_etl_over_pandas"] == pytest.approx(run[0]["build"]["seconds"] / p["seconds"], rel=0.01)
    assert p["speedup"] == pytest.approx(1 / p["ratio_etl_over_pandas"], rel=0.01)
    assert p["mode"] in ("all_at_once", "by_year") and "population_cube" in p["covers"]
    # the pandas version computes the same cubes as the ETL
    assert p["agrees_with_etl"], {k: v for k, v in p["check"].items() if not v["equal"]}
    assert p["check"]["imaging_cube.n_imaging"]["pandas"] > 0


def test_callback_fields(run):
    cb = run[0]["callbacks"]
    assert cb["n_views"] == VIEWS and len(set(cb["views"])) == VIEWS
    assert cb["requests_sent"] == 2 * VIEWS
    a = cb["per_callback"]["draw_areas"]
    for phase in ("cold", "warm"):
        s = a[phase]
        assert set(s) >= {"p50_ms", "p95_ms", "n"}
        assert s["n"] + sum(e["phase"] == phase for e in cb["error_examples"]) <= VIEWS
        if s["n"]:
            assert _num(s["p50_ms"]) and s["p50_ms"] <= s["p95_ms"]
    assert set(cb["all"]) == {"cold", "warm"}
    assert run[0]["app"]["payload_mismatch"] == []     # the bench sends what the app's callbacks expect


def test_page_fields(run):
    pg = run[0]["page"]
    for key in ("html_bytes", "scripts_bytes", "layout_bytes", "figure_json_bytes", "figure_json_all_bytes"):
        assert _num(pg[key]) and pg[key] > 0, key
    assert pg["parts"]["html"]["status"] == 200
    assert pg["parts"]["figure:draw_areas"]["status"] == 200          # the default view carries the map
    assert pg["scripts_bytes"] > 100_000                               # react, the renderer, dcc ...
    assert set(pg["gzip"]) >= {"html_bytes", "scripts_bytes", "layout_bytes", "figure_json_bytes"}
    # geometry the map refers to by URL is fetched and counted with the figure (0 if embedded in it)
    assert _num(pg["geometry_bytes"]) and pg["figure_and_geometry_bytes"] == pg["figure_json_bytes"] + pg["geometry_bytes"]
    assert all(v["status"] == 200 for k, v in pg["parts"].items() if k.startswith("geometry:"))


def test_targets_and_table(run):
    res = run[0]
    names = {t["name"] for t in res["targets"]}
    assert {"build (ETL) seconds", "build peak memory", "speed-up over pandas (pandas s / ETL s)",
            "draw_areas warm p95", "draw_areas cold p95", "figure JSON, draw_areas default view"} <= names
    assert all(t["applies"] is False for t in res["targets"] if t["name"] != "callback errors")   # not scale 1.0
    text = report.table(res)
    for word in ("build (ETL) time", "build peak memory", "database size", "pandas baseline", "ratio ETL / pandas",
                 "draw_areas cold", "draw_areas warm", "html", "scripts", "layout", "figure_json"):
        assert word in text, word
    assert re.search(r"PASS|FAIL|n/a", text)
    assert {"release journey: errors", "release journey: callback p95"} <= names
    assert "journey on the release" in text and "journey" not in res
    md = run[1].with_suffix(".md").read_text(encoding="utf-8")        # the markdown report beside the JSON
    assert text in md


def test_the_busy_day(run):
    """The busy day's journey (issue 31): its readers spread over client processes, every request
    counted once, with targets of its own in the table."""
    res = run[0]
    j = res["release_busy_journey"]
    assert j["users"] == BUSY and j["client_processes"] == 2 and j["errors"] == 0, j["error_examples"]
    kinds = j["per_kind"]
    assert kinds["page_layout"]["n"] == BUSY and kinds["page"]["n"] == 3 * BUSY
    assert kinds["state"]["n"] == BUSY + j["control_changes"] == kinds["view_update"]["n"]
    assert j["requests_sent"] == sum(v["n"] for k, v in kinds.items() if k != "view_update")
    assert j["seed"] != res["release_journey"]["seed"]          # not the first journey's views again
    names = {t["name"] for t in res["targets"]}
    assert {"release busy day: errors", "release busy day: callback p95"} <= names
    assert f"busy day on the release: {BUSY} readers" in report.table(res)


def test_the_journey(run):
    j = run[0]["release_journey"]
    assert j["users"] == READERS and j["errors"] == 0, j["error_examples"]
    assert j["control_changes"] >= READERS and j["downloads"] == j["control_changes"]   # the test downloads each time
    assert j["distinct_views"] > 1                     # the controls changed the view the callbacks drew
    kinds = j["per_kind"]
    assert {"page", "page_layout", "state", "draw_areas", "draw_trend", "draw_breakdown", "draw_mix", "download",
            "view_update"} <= set(kinds)
    assert kinds["page"]["n"] == 3 * READERS and kinds["page_layout"]["n"] == READERS
    # the page's first state callback, then one per change; each followed by every callback of the view
    assert kinds["state"]["n"] == READERS + j["control_changes"] == kinds["draw_areas"]["n"] == kinds["view_update"]["n"]
    assert kinds["download"]["n"] == j["downloads"]
    assert j["callbacks"]["n"] == sum(v["n"] for k, v in kinds.items() if k not in ("page", "view_update"))
    assert j["requests_sent"] == sum(v["n"] for k, v in kinds.items() if k != "view_update")
    assert j["callbacks"]["p50_ms"] <= j["callbacks"]["p95_ms"] <= j["callbacks"]["p99_ms"]


def test_the_api_load(run):
    """The open-data API under load (bench/api_load.py) on the release: every answer 200, its figures
    and targets in the results and the table."""
    res = run[0]
    a = res["release_api"]
    assert "api" not in res                                  # the secure database was not asked (api on: release)
    assert 1 <= a["views"] <= 6 and sum(a["views_by_endpoint"].values()) == a["views"]
    assert a["views"] + a["not_published"] <= 6
    assert all(e.startswith("/api/v1/") for e in a["examples"])
    assert a["cold_errors"] == 0 and a["errors"] == 0, (a["cold_error_examples"], a["error_examples"])
    assert a["cold"]["n"] == a["views"] and a["requests"] == a["load"]["n"] > 0
    assert _num(a["requests_per_second"]) and a["requests_per_second"] > 0
    assert a["load"]["p50_ms"] <= a["load"]["p95_ms"] <= a["load"]["p99_ms"]
    names = {t["name"]: t for t in res["targets"]}
    assert {"release API: data requests p95", "release API: requests a second", "release API: errors"} <= set(names)
    assert names["release API: errors"]["pass"] is True and names["release API: errors"]["applies"] is False
    # paced: the clients together ask 20 a second, each request timed from when it was due
    paced = a["paced"]
    assert paced["rate_asked"] == 20 and paced["errors"] == 0 and paced["load"]["n"] == paced["requests"] > 0
    assert paced["requests_per_second"] <= 1.5 * 20                 # paced, not as fast as can be
    assert names["release API: data requests p95"]["measured"] == paced["load"]["p95_ms"]
    text = report.table(res)
    assert "open-data API on the release" in text and "requests a second" in text and "paced at 20/s" in text


def test_state_body_follows_the_apps_declaration():
    dep = {"output": '..view.data...{"key":["ALL"],"type":"dim"}.value..',
           "inputs": [{"id": "measure", "property": "value"}, {"id": '{"key":["ALL"],"type":"dim"}', "property": "value"}],
           "state": [{"id": "view", "property": "data"}, {"id": "atlas-url", "property": "search"}]}
    controls = {"measure.value": "mri_share", '{"key":"sex","type":"dim"}.value': "2"}
    body = payloads.state_body(dep, controls, "#measure=imaging_rate", "measure.value", ["sex", "age"], "?lang=da")
    assert body["inputs"][0] == {"id": "measure", "property": "value", "value": "mri_share"}
    assert body["inputs"][1] == [{"id": {"key": "sex", "type": "dim"}, "property": "value", "value": "2"},
                                 {"id": {"key": "age", "type": "dim"}, "property": "value", "value": None}]
    assert body["state"] == [{"id": "view", "property": "data", "value": "#measure=imaging_rate"},
                             {"id": "atlas-url", "property": "search", "value": "?lang=da"}]
    assert body["outputs"][0] == {"id": "view", "property": "data"} and len(body["outputs"][1]) == 2
    assert body["changedPropIds"] == ["measure.value"]
    assert payloads.wildcard_controls(dep, ["sex"]) == ['{"key":"sex","type":"dim"}.value']
    answer = {"multi": True, "response": {"view": {"data": "#measure=mri_share"},
                                          '{"key":"age","type":"dim"}': {"value": "85+"}}}
    assert payloads.read_state_answer(answer, controls) == "#measure=mri_share"
    assert controls['{"key":"age","type":"dim"}.value'] == "85+"


def test_gunicorn_was_stopped(run):
    import socket

    port = int(run[0]["app"]["url"].rsplit(":", 1)[1])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))          # fails if gunicorn still listens there


def test_app_only_keeps_the_earlier_build(run, tmp_path):
    """--app-only times the app again on the bench database and keeps the earlier run's build figures."""
    res, out, d = run
    copy = tmp_path / "results.json"
    copy.write_text(out.read_text(encoding="utf-8"), encoding="utf-8")
    # the policy figures over the module run's two measures, as there (unset, every measure: a minute more)
    again = bench_run(scale=SCALE, seed=7, out=copy, requests_n=2, work=d / "work", workers=1, threads=1,
                      callbacks=("draw_trend",), echo=False, app_only=True, journey_users=0,
                      policy_measures=("imaging_rate", "mri_share"), policy_profiles=2)
    assert again["build"]["seconds"] == res["build"]["seconds"] and again["build"]["from_previous_run"]
    assert again["callbacks"]["requests_sent"] == 4
    assert list(again["callbacks"]["per_callback"]) == ["draw_trend"]
    assert "journey" not in again and again["release"] == {**res["release"], "from_previous_run": res["machine"]["date"]}


def test_views_are_fixed_distinct_and_valid():
    years = list(range(2013, 2025))
    a = payloads.view_combinations(60, 42, years)
    assert a == payloads.view_combinations(60, 42, years) and len(set(a)) == 60 and "" not in a
    assert a != payloads.view_combinations(60, 43, years)
    from atlas.filters import parse_query
    from atlas.measures import MEASURES

    for h in a:
        view, ignored = parse_query(h.lstrip("#"), years, tuple(MEASURES), set(), set())
        assert not ignored, h


def test_callback_body_shape():
    one = payloads.callback_body("draw_trend", "#measure=mri_share", "?lang=da")
    assert one["output"] == "trend.figure" and one["outputs"] == {"id": "trend", "property": "figure"}
    assert one["inputs"] == [{"id": "view", "property": "data", "value": "#measure=mri_share"}]
    assert one["state"] == [{"id": "url", "property": "search", "value": "?lang=da"}]
    assert one["changedPropIds"] == ["view.data"]
    multi = payloads.callback_body("draw_areas", "")
    assert multi["output"].startswith("..map.figure...rank.figure") and len(multi["outputs"]) == 7


def test_bodies_follow_the_apps_declaration():
    deps = [{"output": "trend.figure", "inputs": [{"id": "view", "property": "data"}],
             "state": [{"id": "atlas-url", "property": "search"}]},
            {"output": "..map.figure...rank.figure...funnel.figure...variation.children...selection-text.children"
                       "...key-findings.children...colour-note.children..",
             "inputs": [{"id": "view", "property": "data"}], "state": [{"id": "atlas-url", "property": "search"}]}]
    found = payloads.find_callbacks(deps)
    assert set(found) == {"draw_trend", "draw_areas"}
    body = payloads.callback_body("draw_trend", "#y0=2020", "?lang=da", dep=found["draw_trend"])
    assert body["state"] == [{"id": "atlas-url", "property": "search", "value": "?lang=da"}]
    assert payloads.check_dependencies(deps) == ["draw_breakdown", "draw_mix"]


def test_the_journey_asks_only_for_the_charts_whose_view_store_changed():
    deps = [{"output": "trend.figure", "inputs": [{"id": "view-trend", "property": "data"}], "state": []},
            {"output": "mix.figure", "inputs": [{"id": "view-mix", "property": "data"}], "state": []},
            {"output": "..cluster-panel.children...find-clusters.className..", "state": [],
             "inputs": [{"id": "view", "property": "data"}, {"id": "find-clusters", "property": "n_clicks"}]},
            {"output": "x.children", "inputs": [{"id": "viewer", "property": "data"}], "state": []}]
    views = payloads.view_callbacks(deps)
    assert set(views) == {"draw_trend", "draw_mix", "cluster-panel.children"}      # "viewer" is no view store
    body = payloads.callback_body("draw_mix", "#y0=2020", dep=views["draw_mix"])
    assert body["inputs"][0]["value"] == "#y0=2020" and body["changedPropIds"] == ["view-mix.data"]
    clusters = payloads.callback_body("c", "#y0=2020", dep=views["cluster-panel.children"])
    assert [i["value"] for i in clusters["inputs"]] == ["#y0=2020", None]       # the button as nobody pressed it
    answer = {"response": {"view": {"data": "#a"}, "view-trend": {"data": "#a"}, "measure": {"value": "x"}}}
    assert payloads.updated_stores(answer) == {"view", "view-trend"}
    assert [n for n, d in views.items() if payloads.view_store_of(d) in payloads.updated_stores(answer)] == [
        "draw_trend", "cluster-panel.children"]


def test_geojson_urls_are_found_however_escaped():
    answer = json.loads('{"response": {"map": {"figure": {"data": [{"geojson": "\\u002fgeo\\u002fregion.json"}, '
                        '{"geojson": {"type": "FeatureCollection"}}]}}}}')
    assert callbacks.geojson_urls(answer) == ["/geo/region.json"]


def test_the_release_is_written_audited_and_served(run):
    res, _, _ = run
    rel = res["release"]
    assert rel["passed"] and rel["seconds"] > 0 and rel["peak_rss_bytes"] > 0 and rel["db_bytes"] > 0
    assert rel["smallest_published"] >= 5
    rc = res["release_callbacks"]
    assert rc["errors"] == 0 and "draw_areas" in rc["per_callback"]
    names = {t["name"] for t in res["targets"]}
    assert {"release seconds", "release peak memory", "release: draw_areas warm p95"} <= names


def test_one_command_line_for_both_entries(monkeypatch):
    """``python -m etl bench`` passes on exactly what ``python -m bench`` parses (one option list)."""
    import argparse

    from etl.__main__ import main as etl_main

    seen = []
    monkeypatch.setattr("bench.run.main", lambda args: seen.append(args) or 0)
    argv = ["--scale", "0.5", "--journey-users", "3", "--journey-seconds", "4", "--callbacks", "draw_mix", "--reuse",
            "--journey-on", "release"]
    assert etl_main(["bench", *argv]) == 0
    own = options.add_options(argparse.ArgumentParser()).parse_args(argv)
    assert options.run_arguments(seen[0]) == options.run_arguments(own)
    assert options.run_arguments(own)["callbacks"] == ("draw_mix",) and own.journey_users == 3
    assert options.run_arguments(own)["journey_on"] == ("release",)


def test_build_only_option():
    """--build-only reaches bench.run.run (generation, build, pandas and release only)."""
    import argparse

    from bench.options import add_options, run_arguments

    assert run_arguments(add_options(argparse.ArgumentParser()).parse_args(["--build-only"]))["build_only"] is True
    assert run_arguments(add_options(argparse.ArgumentParser()).parse_args([]))["build_only"] is False


def test_first_visit_option_runs_only_the_first_visit(monkeypatch, tmp_path):
    """--first-visit goes to bench.first_visit (and nothing else), with its database and runs."""
    import argparse

    from bench import first_visit
    from bench import run as bench_run

    seen = {}

    def fake(db, out, runs, **kw):
        seen.update(db=db, out=out, runs=runs)
        cold = [{"painted_ms": 1500, "bytes_at_paint": 900_000, "bytes": 950_000, "requests": 30,
                 "largest": [["/assets/plotly-atlas.min.js?m=1", 450_000]]}]
        return {"summary": {"cold_map_painted_ms": 1500, "cold_bytes_at_paint": 900_000, "cold_bytes": 950_000,
                            "cold_requests": 30, "warm_map_painted_ms": 800, "warm_bytes": 30_000,
                            "trends_drawn_ms": 1400, "trends_bytes": 800_000,
                            "bytes_target_met": True, "map_target_met": True}, "cold": cold, "warm": [], "trends": []}

    monkeypatch.setattr(first_visit, "run_first_visit", fake)
    monkeypatch.setattr(bench_run, "run", lambda **kw: (_ for _ in ()).throw(AssertionError("the full run started")))
    args = options.add_options(argparse.ArgumentParser()).parse_args(
        ["--first-visit", "--first-visit-db", str(tmp_path / "r.duckdb"), "--first-visit-runs", "2",
         "--out", str(tmp_path / "results.json")])
    assert bench_run.main(args) == 0
    assert seen == {"db": tmp_path / "r.duckdb", "out": tmp_path / "first-visit.json", "runs": 2}
    text = first_visit.table(fake(None, None, 1))
    assert "950 kB" in text and "1,500 ms" in text and "plotly-atlas.min.js 450 kB" in text


def test_policy_figures_of_first_views_are_measured_on_both_databases(run):
    """Issue 27: the markers and avoidable examinations of first views, timed in a fresh process on each
    database, for the measures asked (every level), and shown in the table."""
    res, _, _ = run
    for key, kind in (("policy_cost", "secure"), ("release_policy_cost", "release")):
        p = res[key]
        assert p["database"] == kind and p["default_window"] == 5 and p["other_window"] == 8
        assert {(r["measure"], r["level"]) for r in p["rows"]} <= {(m, lv) for m in ("imaging_rate", "mri_share")
                                                                    for lv in ("municipality", "region", "region2027")}
        # only the measures asked, each at the levels the database publishes it (the release's small plan: imaging)
        assert "imaging_rate" in {r["measure"] for r in p["rows"]} and p["views"] == len(p["rows"])
        for r in p["rows"]:
            assert all(_num(r[k]) and r[k] >= 0 for k in ("table_ms", "markers_cold_ms", "markers_again_ms"))
            assert ("avoidable_cold_ms" in r) == (r["measure"] == "imaging_rate")      # a share has no avoidable figure
        s = p["summary"]
        assert s["markers_cold_ms"]["n"] == len(p["rows"]) and s["avoidable_cold_ms"]["n"] >= 1
        assert _num(p["wall_seconds"]) and _num(p["cpu_seconds"])
    text = report.table(res)
    assert "policy figures (issue 27) on the release" in text and "markers, cold (5 years)" in text
    # /recent-trends and the area profile, cold, through the app's callbacks (bench/policy_pages.py)
    for key, kind in (("policy_pages", "secure"), ("release_policy_pages", "release")):
        p = res[key]
        assert p["database"] == kind and len(p["profiles"]) == 2
        assert {(r["measure"], r["level"]) for r in p["recent"]} <= {(m, lv) for m in ("imaging_rate", "mri_share")
                                                                      for lv in ("municipality", "region")}
        assert "imaging_rate" in {r["measure"] for r in p["recent"]}
        for r in p["recent"]:
            assert all(_num(r[k]) and r[k] > 0 for k in ("layout_ms", "sync_ms", "draw_ms", "danish_again_ms"))
            assert r["first_view_ms"] == pytest.approx(r["layout_ms"] + r["sync_ms"] + r["draw_ms"], abs=0.05)
        assert all(_num(r["cold_ms"]) and r["cold_ms"] > 0 for r in p["profiles"])
        assert p["summary"]["recent_first_view_ms"]["n"] == len(p["recent"])
    assert "/recent-trends and the area profile (issue 27) on the release" in text and "area profile: layout, cold" in text
