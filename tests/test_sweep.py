"""A sweep of every view through the app's HTTP interface (issue 11).

Every page x geography level x measure x {nobody in the selection, one tiny area, a normal view} goes
through the callbacks as the browser sends them (Flask test client, payloads from the app's own
``/_dash-dependencies``), figures and CSV downloads alike. Every answer must be a 200 without a
traceback or a database error, and a chart with nothing drawn must say so in words ("... Try ...").

The quick sweep (every measure once, every level once, every page and download) runs with the fast
tests; the full cross product is marked ``slow`` (it runs in ``make test``).
"""
from __future__ import annotations

import itertools
import json
import sys
from urllib.parse import quote

import pytest
from helpers import dash_outputs, split_download

from etl.settings import REPO_ROOT

LEAKS = ("Traceback", 'File "', "duckdb", "DuckDB", "Binder Error", "Catalog Error", "KeyError", "ValueError",
         "TypeError", "IndexError", "AttributeError", "site-packages", "SELECT ")
LEVELS = ("municipality", "region", "region2027")
ATLAS_CHARTS = ("map", "trend", "breakdown", "mix")


# ------------------------------------------------------------------ the selections

def empty_selection() -> str:
    """Population filters (as an address fragment) that nobody matches in any year: the trend shows
    every year, so a selection empty only in the default year (one person in 2020-2022 at the
    tests' scale, since origin has its "unknown" value) is not empty there."""
    from atlas import db
    from atlas.filters import DIMENSIONS

    have = db.query("SELECT DISTINCT age_band, labour, origin FROM population_cube")
    present = set(zip(have.age_band, have.labour, have.origin))
    for age, labour, origin in itertools.product(DIMENSIONS["age"][1], DIMENSIONS["labour"][1], DIMENSIONS["origin"][1]):
        if (age, labour, origin) not in present:
            return f"age={quote(age)}&labour={labour}&origin={origin}"
    pytest.skip("every combination of age, labour and origin has someone in it")


def tiny_area() -> int:
    """The municipality with the fewest adults in the default year."""
    from atlas import db
    from atlas.coverage import default_year

    d = db.query("SELECT municipality, sum(persons) AS n FROM population_cube WHERE year = ? GROUP BY ALL ORDER BY n, "
                 "municipality LIMIT 1", [default_year()])
    return int(d.municipality.iloc[0])


def selections() -> dict[str, str]:
    return {"empty": empty_selection(), "tiny": f"area={tiny_area()}", "normal": ""}


# ------------------------------------------------------------------ calling the app

@pytest.fixture(scope="module")
def client(app_db):
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import app as app_module

    app_module.server.config["TESTING"] = False
    return app_module.server.test_client()


@pytest.fixture(scope="module")
def deps(client):
    return client.get("/_dash-dependencies").get_json()


def _dep(deps, part: str) -> dict:
    return next(d for d in deps if part in d["output"])


def view_call(client, deps, output: str, view: str, search: str = "") -> dict:
    """A callback whose first input is a page's view store (any other input as nobody touched it)."""
    d = _dep(deps, output)
    inp, *others = d["inputs"]
    outs = dash_outputs(d["output"])
    payload = {"output": d["output"], "outputs": outs if len(outs) > 1 else outs[0],
               "inputs": [{"id": inp["id"], "property": inp["property"], "value": view}]
                         + [{"id": o["id"], "property": o["property"], "value": None} for o in others],
               "changedPropIds": [f"{inp['id']}.{inp['property']}"],
               "state": [{"id": s["id"], "property": s["property"], "value": search} for s in d["state"]]}
    return _answer(client.post("/_dash-update-component", json=payload), output, view)


def download_call(client, deps, kind: str, chart: str, view: str, search: str = "") -> dict:
    d = _dep(deps, f'"type":"{kind}"')
    btn = {"chart": chart, "type": f"{kind}-btn"}
    payload = {"output": d["output"], "outputs": {"id": {"chart": chart, "type": kind}, "property": "data"},
               "inputs": [{"id": btn, "property": "n_clicks", "value": 1}],
               "changedPropIds": [json.dumps(btn, separators=(",", ":"), sort_keys=True) + ".n_clicks"],
               "state": [{"id": s["id"], "property": s["property"], "value": v} for s, v in zip(d["state"], (view, search))]}
    return _answer(client.post("/_dash-update-component", json=payload), f"{kind}:{chart}", view)


def _answer(r, what: str, view: str) -> dict:
    body = r.get_data(as_text=True)
    assert r.status_code == 200, (what, view, r.status_code, body[:300])
    for leak in LEAKS:
        assert leak not in body, (what, view, leak, body[:300])
    return r.get_json()["response"]


def _drawn(trace: dict) -> bool:
    for key in ("x", "y", "z", "locations", "values"):
        v = trace.get(key)
        if v is not None and len(v if not isinstance(v, dict) else v.get("bdata", "")) > 0:
            return True
    link = trace.get("link") or {}
    return bool(len(link.get("value", []) or []))


def check_figures(response: dict, what: str) -> None:
    """Every figure either draws something or says in words why not and what to try."""
    for component in response.values():
        for prop, value in component.items():
            if prop != "figure":
                continue
            drawn = any(_drawn(tr) for tr in value.get("data", []))
            notes = " ".join(a.get("text", "") for a in value.get("layout", {}).get("annotations", []))
            assert drawn or "Try" in notes or "Prøv" in notes, (what, notes[:200])


def _csv_ok(response: dict, what: str) -> None:
    (data,) = [v["data"] for v in response.values()]
    assert data["filename"].endswith(".csv")


# ------------------------------------------------------------------ the sweeps

def atlas_views(full: bool) -> list[str]:
    from atlas.measures import MEASURES

    sel = selections()
    if full:
        combos = itertools.product(LEVELS, MEASURES, sel.items())
    else:         # a measure of each kind (rate, look-back, share, follow-up) on each level, each selection
        keys = ["imaging_rate", "lowvalue_rate", "mri_share", "surgery_long_share", "lowvalue_share", "xray_then_mri_share"]
        combos = [(LEVELS[i % 3], m, s) for i, m in enumerate(keys) for s in sel.items()]
    out = []
    for level, measure, (_, extra) in combos:
        if extra.startswith("area=") and level != "municipality":
            extra = ""        # a municipality is not an area of the region levels (the normal view instead)
        parts = [f"measure={measure}", f"level={level}"] + ([extra] if extra else [])
        out.append("#" + "&".join(parts))
    return sorted(set(out))


def sweep_atlas(client, deps, full: bool) -> int:
    n = 0
    for view in atlas_views(full):
        for output in ("map.figure", "trend.figure", "breakdown.figure", "mix.figure", "coverage-note.children"):
            check_figures(view_call(client, deps, output, view), f"{output} {view}")
            n += 1
        for chart in ATLAS_CHARTS:
            _csv_ok(download_call(client, deps, "download", chart, view), f"{chart} {view}")
            n += 1
    return n


def pathways_views(full: bool) -> list[str]:
    sel = selections()
    out = []
    for level, window, (_, extra) in itertools.product(LEVELS, (90, 365) if full else (365,), sel.items()):
        if extra.startswith("area=") and level != "municipality":
            extra = "area=1084"     # a region
        parts = [f"level={level}"] + ([extra] if extra else []) + ([] if window == 365 else ["win=90"])
        out.append("#" + "&".join(parts))
    return sorted(set(out))


def sweep_pathways(client, deps, full: bool) -> int:
    from atlas import pathways as P

    n = 0
    for view in pathways_views(full):
        for output in ("pw-sankey.figure", "pw-xray-mri.figure", "pw-lv-rate.figure", "pw-referrer.figure",
                       "pw-areas.children"):
            check_figures(view_call(client, deps, output, view), f"{output} {view}")
            n += 1
        for chart in P.CHARTS:
            _csv_ok(download_call(client, deps, "pw-download", chart, view), f"{chart} {view}")
            n += 1
    return n


def sweep_returns(client, deps, full: bool) -> int:
    from atlas import returns as R

    centre = R.centres().producer_id.iloc[0]
    views = ["#", "#measure=letters", f"#measure=letters&exam=knee&centre={centre}", f"#exam=head&centre={centre}"]
    if full:
        views += [f"#measure={m}&exam={e}" for m in R.MEASURES for e in R.EXAMS]
    n = 0
    for view in views:
        for output in ("ret-its.figure", "ret-exam-chart.figure", "ret-centres.figure"):
            check_figures(view_call(client, deps, output, view), f"{output} {view}")
            n += 1
        for chart in R.CHARTS:
            _csv_ok(download_call(client, deps, "ret-download", chart, view), f"{chart} {view}")
            n += 1
    return n


def sweep_pages(client, deps) -> int:
    """Every page (and a missing one, and an off-site looking path) in both languages."""
    n = 0
    router = _dep(deps, "_pages_content.children")
    chrome = _dep(deps, "navbar.children")
    for path, lang in itertools.product(("/", "/pathways", "/returns", "/methods", "/no-such-page", "//evil.example/x"),
                                        ("", "?lang=da")):
        payload = {"output": router["output"], "outputs": dash_outputs(router["output"]),
                   "inputs": [{"id": i["id"], "property": i["property"],
                               "value": path if i["property"] == "pathname" else lang} for i in router["inputs"]],
                   "changedPropIds": ["_pages_location.pathname"], "state": []}
        _answer(client.post("/_dash-update-component", json=payload), "page", path)
        payload = {"output": chrome["output"], "outputs": dash_outputs(chrome["output"]),
                   "inputs": [{"id": i["id"], "property": i["property"],
                               "value": path if i["property"] == "pathname" else lang} for i in chrome["inputs"]],
                   "changedPropIds": ["url.pathname"],
                   "state": [{"id": s["id"], "property": s["property"], "value": "#level=region"} for s in chrome["state"]]}
        nav = json.dumps(_answer(client.post("/_dash-update-component", json=payload), "chrome", path))
        assert "//evil" not in nav and '"href": "//' not in nav.replace(" ", " ")
        n += 2
    return n


def test_quick_sweep_of_every_page_and_view(client, deps, request):
    """The quick sweep is for `make test-fast`; where the slow tests run, the full sweep covers it."""
    if "not slow" not in (request.config.getoption("-m") or ""):
        pytest.skip("the full sweep (test_full_sweep_of_every_view) runs in this session and covers this one")
    n = sweep_pages(client, deps) + sweep_atlas(client, deps, False) + sweep_pathways(client, deps, False) \
        + sweep_returns(client, deps, False)
    assert n > 150


@pytest.mark.slow
def test_full_sweep_of_every_view(client, deps):
    n = sweep_atlas(client, deps, True) + sweep_pathways(client, deps, True) + sweep_returns(client, deps, True)
    assert n > 1000


def test_empty_selection_answers_with_a_message(client, deps):
    view = "#" + empty_selection()
    for output in ("map.figure", "rank.figure", "funnel.figure", "trend.figure", "mix.figure"):
        response = view_call(client, deps, output, view)
        text = json.dumps(response, ensure_ascii=False)
        assert "Nobody in this selection" in text, (output, text[:300])
    content = download_call(client, deps, "download", "map", view)
    (data,) = [v["data"] for v in content.values()]
    import base64

    raw = base64.b64decode(data["content"]).decode("utf-8-sig") if data.get("base64") else data["content"]
    assert "Nobody in this selection" in split_download(raw)[0]
