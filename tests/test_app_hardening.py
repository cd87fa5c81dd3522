"""Hardening of the web app: headers, a read-only database, and tampered requests handled cleanly.

The Flask test client of ``app.server`` talks to the app as a browser would, over a database
built from the synthetic extracts (``conftest.app_db``). Callback payloads are made from the
app's own ``/_dash-dependencies`` (so they follow the callbacks' real ids) and then tampered with:
wrong types, SQL in the view hash, huge strings, unknown measures and dimensions, unknown charts.
No response may carry a Python traceback or a database error; bad values are ignored (the view
falls back to its default) or answered with a clean JSON message.
"""
from __future__ import annotations

import hashlib
import json
import sys

import duckdb
import pytest
from helpers import dash_outputs as _outputs

from etl.settings import REPO_ROOT

LEAK_MARKERS = ("Traceback", 'File "', "duckdb", "DuckDB", "Binder Error", "Catalog Error", "Parser Error",
                "Conversion Error", "Invalid Input Error", "KeyError", "ValueError", "TypeError", "AttributeError",
                "site-packages", "/work/", "SELECT ")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


@pytest.fixture(scope="module")
def dash_app(app_db):
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import app as app_module

    return app_module


@pytest.fixture(scope="module")
def client(dash_app):
    dash_app.server.config["TESTING"] = False       # errors go through the app's handlers, as in production
    return dash_app.server.test_client()


@pytest.fixture(scope="module")
def deps(client):
    r = client.get("/_dash-dependencies")
    assert r.status_code == 200
    return r.get_json()




def _dep(deps, output_part: str) -> dict:
    return next(d for d in deps if output_part in d["output"])


def draw_payload(deps, view, search="") -> dict:
    """The ``draw_areas`` callback (map, ranking, funnel) for a view hash."""
    d = _dep(deps, "map.figure")
    (inp,) = d["inputs"]
    return {"output": d["output"], "outputs": _outputs(d["output"]),
            "inputs": [{"id": inp["id"], "property": inp["property"], "value": view}],
            "changedPropIds": [f"{inp['id']}.{inp['property']}"],
            "state": [{"id": s["id"], "property": s["property"], "value": search} for s in d["state"]]}


def download_payload(deps, chart, view, search="") -> dict:
    """The ``download`` callback (pattern-matching ids) for one chart."""
    d = _dep(deps, '"type":"download"')
    btn = {"chart": chart, "type": "download-btn"}
    return {"output": d["output"], "outputs": {"id": {"chart": chart, "type": "download"}, "property": "data"},
            "inputs": [{"id": btn, "property": "n_clicks", "value": 1}],
            "changedPropIds": [json.dumps(btn, separators=(",", ":"), sort_keys=True) + ".n_clicks"],
            "state": [{"id": s["id"], "property": s["property"], "value": v}
                      for s, v in zip(d["state"], (view, search))]}


def assert_clean(response) -> None:
    """No traceback or database error in the body; errors are clean JSON."""
    body = response.get_data(as_text=True)
    for marker in LEAK_MARKERS:
        assert marker not in body, f"{marker!r} in a {response.status_code} response: {body[:300]}"
    # bad input is the client's error: a clean 4xx with a short message, never a 500 (issue 11)
    assert response.status_code in (200, 204) or 400 <= response.status_code < 500, (response.status_code, body[:300])
    if response.status_code >= 400 and response.is_json:
        assert set(response.get_json()) == {"error"}, body[:300]
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value


def post(client, payload):
    return client.post("/_dash-update-component", json=payload)


# ------------------------------------------------------------------ headers and database

@pytest.mark.parametrize("path", ["/", "/methods", "/?lang=da", "/_dash-layout", "/_dash-dependencies",
                                  "/no-such-page"])
def test_security_headers(client, path):
    r = client.get(path)
    assert r.status_code in (200, 404)
    for name, value in SECURITY_HEADERS.items():
        assert r.headers.get(name) == value, (path, name)
    csp = r.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "geolocation=()" in r.headers.get("Permissions-Policy", "")
    assert "Traceback" not in r.get_data(as_text=True)


def test_database_is_opened_read_only(app_db):
    from atlas import db

    con = db.connection()
    before = con.execute("SELECT count(*) FROM imaging_cube").fetchone()[0]
    for sql in ("CREATE TABLE evil AS SELECT 1", "DELETE FROM imaging_cube", "DROP TABLE imaging_cube",
                "UPDATE meta SET value = 'x'", "INSERT INTO meta VALUES ('k', 'v')",
                "ALTER TABLE meta ADD COLUMN evil INTEGER", "CREATE VIEW v AS SELECT 1"):
        with pytest.raises(duckdb.Error):
            con.execute(sql)
    assert con.execute("SELECT count(*) FROM imaging_cube").fetchone()[0] == before


def test_database_connection_cannot_touch_other_files(app_db, tmp_path):
    """Defence in depth: even the read-only connection cannot read or write other files."""
    from atlas import db

    with pytest.raises(duckdb.Error):
        db.connection().execute(f"COPY (SELECT 1) TO '{tmp_path / 'out.csv'}'")
    assert not (tmp_path / "out.csv").exists()
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    with pytest.raises(duckdb.Error):
        db.connection().execute(f"SELECT * FROM read_csv('{secret}')").fetchall()


# ------------------------------------------------------------------ tampered callbacks

GOOD = "#measure=mri_share&level=region&y0=2019&y1=2024&sex=2"
HUGE = "#measure=" + "A" * 150_000                # inside the 256 kB request limit
TAMPERED_VIEWS = [
    "#measure=1; DROP TABLE imaging_cube",
    "#level=region'; DROP TABLE meta; --&y0=2019",
    "#sex=1 OR 1=1&age=18-24' --&edu=1); DELETE FROM meta; --",
    "#y0=2019; SELECT * FROM population_cube&y1=9999999999999999999999",
    "#y0=-1&y1=0x7E8&area=101 UNION SELECT 1&within=../../etc/passwd",
    "#measure=no_such_measure&level=planet&rates=magic&standard=mars&map=3d&sep=|",
    "#nonsense=1&sex=3&age=200-300&modality=ct&referrer=self&priority=urgent",
    "#" + "&".join(f"k{i}=v" for i in range(500)),
    "#measure=imaging_rate&measure=evil",
    "#%00%ff%fe&sex=%F0%9F%92%A5&lang=xx",
    "#<script>alert(1)</script>=1",
    HUGE,
    "",
    "#",
    12, 3.5, True, [], ["#measure=mri_share"], {"measure": "mri_share"}, {"$where": "1"},
]


@pytest.mark.parametrize("view", TAMPERED_VIEWS, ids=lambda v: repr(v)[:40])
def test_tampered_view_in_draw_callback(client, deps, view):
    r = post(client, draw_payload(deps, view))
    assert_clean(r)
    if r.status_code == 200 and isinstance(view, str):
        body = r.get_data(as_text=True)
        assert "DROP TABLE" not in body and "<script>" not in body and "A" * 1000 not in body


def test_sql_in_the_hash_is_ignored_not_run(client, deps):
    """A hash whose every value is rejected draws exactly the default view."""
    default = post(client, draw_payload(deps, "#")).get_json()
    assert post(client, draw_payload(deps, "#measure=1; DROP TABLE imaging_cube")).get_json() == default
    assert post(client, draw_payload(deps, "#sex=1 OR 1=1&edu=1); DELETE FROM meta; --")).get_json() == default
    # the good part of a half-bad hash is kept
    assert (post(client, draw_payload(deps, "#level=region'; DROP TABLE meta; --&y0=2019")).get_json()
            == post(client, draw_payload(deps, "#y0=2019")).get_json())


@pytest.mark.parametrize("search", ["?lang=xx", "?lang=da' OR '1'='1", 42, {"lang": "da"}, "?" + "l" * 100_000])
def test_tampered_query_string_state(client, deps, search):
    assert_clean(post(client, draw_payload(deps, GOOD, search)))


@pytest.mark.parametrize("chart", ["map", "trend", "breakdown", "mix", "no-such-chart", "../../etc/passwd",
                                   "map'; DROP TABLE meta; --", 7, None])
def test_download_callback_with_tampered_chart(client, deps, chart):
    r = post(client, download_payload(deps, chart, GOOD))
    assert_clean(r)
    if chart in ("map", "trend", "breakdown", "mix"):
        assert r.status_code == 200
        content = r.get_json()["response"]
        (data,) = [v["data"] for v in content.values()]
        assert data["filename"].endswith(".csv") and "/" not in data["filename"]


@pytest.mark.parametrize("view", ["#measure=1; DROP TABLE x", 5, {"a": 1}, HUGE])
def test_download_callback_with_tampered_view(client, deps, view):
    assert_clean(post(client, download_payload(deps, "map", view)))


@pytest.mark.parametrize("mangle", [
    lambda p: {**p, "outputs": [{"id": "imaging_cube", "property": "data"}]},
    lambda p: {**p, "output": "no.such..output"},
    lambda p: {**p, "inputs": []},
    lambda p: {**p, "inputs": [{"id": "view", "property": "data"}]},          # no value
    lambda p: {**p, "state": []},
    lambda p: {k: v for k, v in p.items() if k != "outputs"},
    lambda p: {"output": p["output"]},
    lambda p: {},
    lambda p: [p],
    lambda p: {**p, "changedPropIds": ["'; DROP TABLE x; --"]},
], ids=["unknown-output-id", "unknown-output", "no-inputs", "input-without-value", "no-state", "no-outputs",
        "output-only", "empty", "list", "sql-in-changed-prop"])
def test_malformed_callback_requests(client, deps, mangle):
    assert_clean(post(client, mangle(draw_payload(deps, GOOD))))


@pytest.mark.parametrize("body,ctype", [
    (b"not json at all", "application/json"),
    (b'{"output": ', "application/json"),
    (b"\xff\xfe\x00garbage", "application/json"),
    (b"output=map.figure", "application/x-www-form-urlencoded"),
    (b"{}" + b" " * 300_000, "application/json"),            # over the 256 kB limit
])
def test_non_json_and_oversized_bodies(client, body, ctype):
    r = client.post("/_dash-update-component", data=body, content_type=ctype)
    assert_clean(r)
    assert r.status_code >= 400


def test_database_unchanged_after_tampering(client, deps, app_db):
    digest = hashlib.sha256(app_db.read_bytes()).hexdigest()
    for view in TAMPERED_VIEWS[:5]:
        post(client, draw_payload(deps, view))
    from atlas import db

    assert db.query("SELECT count(*) AS n FROM meta")["n"].iloc[0] > 0
    assert hashlib.sha256(app_db.read_bytes()).hexdigest() == digest


# ------------------------------------------------------------------ URL parsing and SQL building

def _parse(query):
    from atlas import data, db
    from atlas.filters import parse_query
    from atlas.measures import MEASURES

    a = db.areas()
    codes = set(a.code.astype(int))
    regions = set(a[a.level != "municipality"].code.astype(int))
    return parse_query(query, data.years(), tuple(MEASURES), codes, regions)


def test_parse_query_ignores_and_reports_malformed_values(app_db):
    from atlas import data
    from atlas.filters import View

    last = data.years()[-1]
    view, ignored = _parse("measure=evil;DROP&level=planet&y0=1900&y1=abc&sex=3&age=18-24'--&area=99999"
                           "&within=101&rates=x&standard=y&map=z&lang=xx&sep=|&foo=bar")
    assert view == View(y0=last, y1=last)
    assert set(ignored) == {"measure", "level", "y0", "y1", "sex", "age", "area", "within", "rates", "standard",
                            "map", "lang", "sep", "foo"}


def test_parse_query_keeps_good_values_beside_bad_ones(app_db):
    view, ignored = _parse("measure=mri_share&level=region&y0=2024&y1=2019&sex=2&edu=7&zzz=1")
    assert (view.measure, view.level, view.y0, view.y1, view.dim("sex")) == ("mri_share", "region", 2019, 2024, 2)
    assert view.dim("edu") is None and sorted(ignored) == ["edu", "zzz"]


def test_parse_query_limits(app_db):
    view, ignored = _parse("&".join(f"k{i}=1" for i in range(60)))
    assert ignored == ["(the whole address)"]
    long_value = "mri_share" + "x" * 100                     # values are cut to 40 characters first
    view, ignored = _parse(f"measure={long_value}")
    assert view.measure == "imaging_rate" and ignored == ["measure"]


@pytest.mark.parametrize("dims", [
    (("sex", 3),), (("sex", "1"),), (("sex", "1 OR 1=1"),), (("age", "18-24' --"),), (("modality", "ct"),),
    (("no_such_dim", 1),), (("sex; DROP TABLE x", 1),),
])
def test_where_sql_rejects_values_outside_the_whitelist(dims):
    from atlas.filters import where_sql

    with pytest.raises((ValueError, KeyError)):
        where_sql(dims, 2019, 2024)


@pytest.mark.parametrize("extra", [{"person_id": 1}, {"1=1; --": 1}, {"year) OR (1": 1}])
def test_where_sql_rejects_unknown_columns(extra):
    from atlas.filters import where_sql

    with pytest.raises(ValueError):
        where_sql((), 2019, 2024, extra)


def test_where_sql_passes_values_as_parameters():
    from atlas.filters import where_sql

    sql, params = where_sql((("sex", 2), ("age", "85+"), ("referrer", "gp")), 2019, 2024, {"municipality": 101})
    assert sql.count("?") == len(params) == 6
    for value in ("85+", "gp", "2019", "101"):
        assert value not in sql
    with pytest.raises(ValueError):
        where_sql((), "2019; DROP TABLE x", 2024)


def test_queries_refuse_unknown_group_columns(app_db):
    from atlas import queries

    with pytest.raises(ValueError):
        queries.strata("imaging_rate", 2019, 2024, (), (), ("municipality; DROP TABLE meta",))


@pytest.mark.parametrize("kind,view", [("pw-download", "#"), ("ret-download", "#")])
@pytest.mark.parametrize("chart", ["no-such-chart", "../../etc/passwd", 7])
def test_unknown_chart_downloads_on_the_other_pages_are_refused(client, deps, kind, view, chart):
    """/pathways and /returns refuse a download of a chart they do not have with a 4xx."""
    d = _dep(deps, f'"type":"{kind}"')
    btn = {"chart": chart, "type": f"{kind}-btn"}
    payload = {"output": d["output"], "outputs": {"id": {"chart": chart, "type": kind}, "property": "data"},
               "inputs": [{"id": btn, "property": "n_clicks", "value": 1}],
               "changedPropIds": [json.dumps(btn, separators=(",", ":"), sort_keys=True) + ".n_clicks"],
               "state": [{"id": s["id"], "property": s["property"], "value": v} for s, v in zip(d["state"], (view, ""))]}
    r = post(client, payload)
    assert_clean(r)
    assert 400 <= r.status_code < 500
