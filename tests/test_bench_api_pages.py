"""Issue 28: the API load bench (``bench/api_load.py``) asks for the pathways and return-letters
endpoints too, found as a program finds them, and follows a 404's nearest published view.

These tests ask the app through its Flask test client on both databases (the ``page`` fixture); the
load itself (gunicorn, client processes) is run by ``tests/test_bench.py`` and ``make bench``.
Nothing here checks a speed.
"""
from __future__ import annotations

import random
from urllib.parse import parse_qsl, urlsplit

from bench import api_load, report


class _Answer:
    def __init__(self, response):
        self.status_code = response.status_code
        self.text = response.get_data(as_text=True)
        self._response = response

    def json(self):
        got = self._response.get_json(silent=True)
        if got is None:
            raise ValueError("not JSON")
        return got


class _Session:
    """The bench's ``requests.Session`` over the app's test client (``url`` is "")."""

    def __init__(self, client):
        self.client = client

    def get(self, address, timeout=None):
        return _Answer(self.client.get(address))


def test_page_views_are_the_pathways_and_returns_endpoints_with_the_apis_own_values(page):
    s = _Session(page)
    drawn = api_load.page_views(s, "", 40, random.Random(5))
    assert len(drawn) == len(set(drawn)) == 40
    families = {api_load.family(a) for a in drawn}
    assert families == {"pathways", "returns"}, drawn
    endpoints = set(page.get("/api/v1/").get_json()["endpoints"])
    periods = set(page.get("/api/v1/periods").get_json()["periods"])
    for address in drawn:
        path, query = address.split("?", 1)
        assert path[len(api_load.ROOT):] in endpoints
        q = dict(parse_qsl(query))
        if api_load.family(address) == "pathways":
            assert q["period"] in periods
            assert ("win" in q) == (path.endswith(("flows", "outcomes")))
        else:
            assert q["measure"] in ("returned", "letters")
    # the same seed draws the same addresses
    assert api_load.page_views(s, "", 40, random.Random(5)) == drawn


def test_the_cold_pass_answers_every_drawn_address_or_moves_to_the_nearest_published(page):
    s = _Session(page)
    drawn = api_load.api_views_with(s, "", 30, seed=11, page_share=0.5)
    assert {api_load.family(a) for a in drawn} == {"atlas", "pathways", "returns"}
    got = api_load.cold_pass(s, "", drawn)
    assert not got["errors"], got["errors"][:3]
    assert len(got["views"]) == len(got["cold"]) and len(got["views"]) + len(got["unpublished"]) <= len(drawn)
    for path in got["views"]:
        assert page.get(path).status_code == 200, path
    for old, new in got["moved"]:
        assert page.get(old).status_code == 404 and new in got["views"]
        assert urlsplit(new).path == urlsplit(old).path          # the same chart, the nearest view
    if page.kind == "secure":
        # the secure database answers any view: nothing moves, and every page endpoint is answered
        assert not got["moved"]
        assert {api_load.family(v) for v in got["views"]} == {"atlas", "pathways", "returns"}
    else:
        # the release publishes pathways only for Denmark and regions' 3-year periods: most drawn move
        assert got["moved"] and all(api_load.family(old) == "pathways" for old, _ in got["moved"])
        assert {api_load.family(v) for v in got["views"]} >= {"pathways", "returns"}


def test_the_report_gives_each_familys_latency():
    cold = {"atlas": {"n": 3, "p95_ms": 12.0}, "pathways": {"n": 2, "p95_ms": 48.0}}
    a = {"cold_by_family": cold, "paced": {"by_family": {"atlas": {"p95_ms": 4.0}, "pathways": {"p95_ms": 7.5}}}}
    rows = report._family_rows(a)
    assert len(rows) == 2
    assert "pathways (2): cold p95 48 ms, paced p95" in rows[1] and rows[1].rstrip().endswith("8 ms")


def test_latencies_are_summarised_per_family_of_endpoints():
    paths = ["/api/v1/data?measure=imaging_rate", "/api/v1/pathways/flows?level=region", "/api/v1/returns/exam",
             "/api/v1/trend?measure=mri_share", "/api/v1/pathways/areas"]
    assert [api_load.family(p) for p in paths] == ["atlas", "pathways", "returns", "atlas", "pathways"]
    got = api_load.by_family(paths, [1.0, 10.0, 5.0, 3.0, 30.0])
    assert sorted(got) == ["atlas", "pathways", "returns"]
    assert (got["atlas"]["n"], got["pathways"]["n"], got["returns"]["n"]) == (2, 2, 1)
    assert got["pathways"]["max_ms"] == 30.0 and got["atlas"]["mean_ms"] == 2.0
