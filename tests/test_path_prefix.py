"""The app under a path prefix behind a reverse proxy (ATLAS_PATH_PREFIX=/atlas/): pages, layout,
callbacks and the app's own resources answer under the prefix, and links carry it.

The app reads the prefix when it is imported, so it runs in a fresh interpreter here: the script
below serves requests through Flask's test client and prints what came back.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from atlas.static import path_prefix

REPO = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import json, re
import app

client = app.server.test_client()
out = {}
for path in ("/atlas/", "/atlas/pathways", "/atlas/returns", "/atlas/methods", "/atlas/_dash-layout",
             "/atlas/_dash-dependencies", "/atlas/geo/municipality.json", "/atlas/vendor/bootstrap.min.css",
             "/atlas/topojson/land.json", "/geo/municipality.json", "/vendor/bootstrap.min.css", "/_dash-layout"):
    r = client.get(path)
    out[path] = {"status": r.status_code, "body": r.get_data(as_text=True)[:200000]}
chrome = {"output": "..navbar.children...banner.children...footer.children...skip-link.children..",
          "outputs": [{"id": i, "property": "children"} for i in ("navbar", "banner", "footer", "skip-link")],
          "inputs": [{"id": "url", "property": "pathname", "value": "/atlas/pathways"},
                     {"id": "url", "property": "search", "value": "?lang=da"}],
          "state": [{"id": "url", "property": "hash", "value": "#y0=2020"}],
          "changedPropIds": ["url.pathname"]}
r = client.post("/atlas/_dash-update-component", json=chrome)
out["callback"] = {"status": r.status_code, "body": r.get_data(as_text=True)}
from atlas.coverage import default_year
from atlas.filters import View
from atlas.state import hash_of

year = default_year()
dep = next(d for d in client.get("/atlas/_dash-dependencies").get_json() if "map.figure" in d["output"])
areas = {"output": dep["output"],
         "outputs": [dict(zip(("id", "property"), o.rsplit(".", 1))) for o in dep["output"].strip(".").split("...")],
         "inputs": [{"id": "view", "property": "data", "value": hash_of(View(y0=year, y1=year), year)}],
         "state": [{"id": "atlas-url", "property": "search", "value": ""}],
         "changedPropIds": ["view.data"]}
r = client.post("/atlas/_dash-update-component", json=areas)
out["map"] = {"status": r.status_code, "body": r.get_data(as_text=True)}
# the area search opens a profile: the address it returns carries the prefix, and the profile answers there
from atlas import db
code = int(db.areas().query("level == 'municipality'")["code"].iloc[0])
nav = {"output": "profile-nav.href", "outputs": {"id": "profile-nav", "property": "href"},
       "inputs": [{"id": "profile-search", "property": "value", "value": code}],
       "state": [{"id": "profile-nav", "property": "search", "value": "?lang=da"}],
       "changedPropIds": ["profile-search.value"]}
r = client.post("/atlas/_dash-update-component", json=nav)
out["search"] = {"status": r.status_code, "body": r.get_data(as_text=True), "code": code}
r = client.get(f"/atlas/area/{code}")
out["profile"] = {"status": r.status_code}
import dash
from atlas.chrome import LINKS
out["paths"] = {"app": list(app.PAGE_PATHS), "nav": [p for _, p in LINKS],
                "registry": sorted(p["path"] for p in dash.page_registry.values() if not p.get("path_template")),
                "templates": sorted(p["path_template"] for p in dash.page_registry.values() if p.get("path_template"))}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def answers(atlas_db):
    env = {**os.environ, "ATLAS_PATH_PREFIX": "/atlas/", "ATLAS_DB": str(atlas_db)}
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_prefix_is_normalised():
    assert path_prefix("") == "/"
    assert path_prefix("/") == "/"
    assert path_prefix("atlas") == "/atlas/"
    assert path_prefix("/health/atlas/") == "/health/atlas/"
    with pytest.raises(ValueError):
        path_prefix("/at las/")
    with pytest.raises(ValueError):
        path_prefix("/a?b=c/")


@pytest.mark.parametrize("path", ["/atlas/", "/atlas/pathways", "/atlas/returns", "/atlas/methods"])
def test_pages_answer_under_the_prefix_and_point_dash_at_it(answers, path):
    page = answers[path]
    assert page["status"] == 200
    config = json.loads(re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', page["body"]).group(1))
    assert config["requests_pathname_prefix"] == "/atlas/"
    assert 'href="/atlas/vendor/bootstrap.min.css"' in page["body"]
    assert 'href="/vendor/' not in page["body"]


def test_layout_and_resources_answer_under_the_prefix(answers):
    assert answers["/atlas/_dash-layout"]["status"] == 200
    assert json.loads(answers["/atlas/_dash-layout"]["body"])["props"]["children"]
    geo = answers["/atlas/geo/municipality.json"]
    assert geo["status"] == 200 and '"features"' in geo["body"]
    assert answers["/atlas/vendor/bootstrap.min.css"]["status"] == 200
    assert answers["/atlas/topojson/land.json"]["status"] == 200
    # nothing is served outside the prefix
    for path in ("/geo/municipality.json", "/vendor/bootstrap.min.css", "/_dash-layout"):
        assert answers[path]["status"] == 404, path


def _links(tree) -> list[tuple[str, bool | None]]:
    """(href, active) of every component with a link in a callback's answer."""
    found = []
    if isinstance(tree, dict):
        props = tree.get("props", tree)
        if isinstance(props, dict) and isinstance(props.get("href"), str):
            found.append((props["href"], props.get("active")))
        for v in (props.values() if isinstance(props, dict) else ()):
            found += _links(v)
    elif isinstance(tree, list):
        for v in tree:
            found += _links(v)
    return found


def test_callbacks_answer_under_the_prefix_with_links_that_carry_it(answers):
    assert answers["callback"]["status"] == 200
    links = _links(json.loads(answers["callback"]["body"])["response"]["navbar"])
    hrefs = {h for h, _ in links}
    assert {"/atlas/?lang=da", "/atlas/pathways?lang=da", "/atlas/returns?lang=da", "/atlas/methods?lang=da"} <= hrefs
    assert "/atlas/pathways?lang=en#y0=2020" in hrefs                   # the language switch keeps the page
    assert all(h.startswith("/atlas/") for h in hrefs), hrefs
    # the navigation marks the page the prefixed address shows as active
    assert [h for h, active in links if active] == ["/atlas/pathways?lang=da"], links


def test_the_map_fetches_its_boundaries_under_the_prefix(answers):
    assert answers["map"]["status"] == 200, answers["map"]["body"][:300]
    traces = json.loads(answers["map"]["body"])["response"]["map"]["figure"]["data"]
    urls = {tr["geojson"] for tr in traces if isinstance(tr.get("geojson"), str)}
    assert urls == {"/atlas/geo/municipality.json"}


def test_the_area_search_opens_the_profile_under_the_prefix(answers):
    """The search box's callback (pages/area.py) returns the profile's address under the prefix (it
    returned /area/<code> unprefixed, which Dash's router refuses behind the prefix)."""
    search = answers["search"]
    assert search["status"] == 200, search["body"][:300]
    href = json.loads(search["body"])["response"]["profile-nav"]["href"]
    assert href == f"/atlas/area/{search['code']}?lang=da"
    assert answers["profile"]["status"] == 200


def test_page_paths_are_the_registered_ones(answers):
    """One list of pages: the app's paths are the registered pages' (dash.page_registry) and the
    navigation links each of them once (in its own order), besides the area profiles' template."""
    paths = answers["paths"]
    assert sorted(paths["app"]) == paths["registry"]
    assert sorted(paths["nav"]) == paths["registry"] and len(set(paths["nav"])) == len(paths["nav"])
    assert paths["templates"] == ["/area/<code>"]
    assert len(paths["registry"]) >= 9
    from atlas.page_meta import PAGE_NAMES  # each page's title (the atlas's own name on "/")

    assert set(PAGE_NAMES) == (set(paths["registry"]) - {"/"}) | {"/area"}


def test_href_applies_the_prefix(monkeypatch):
    from atlas import static

    assert static.href("/area/101?lang=da") == static.PATH_PREFIX + "area/101?lang=da"
    monkeypatch.setattr(static, "PATH_PREFIX", "/health/atlas/")
    assert static.href("/") == "/health/atlas/"
    assert static.href("/area/101?lang=da") == "/health/atlas/area/101?lang=da"
    assert static.href("/geo/region.json") == "/health/atlas/geo/region.json"
    for bad in ("area/101", "//evil.example/x", "", None):
        with pytest.raises(ValueError):
            static.href(bad)


def _literal_paths(tree) -> list[tuple[int, str]]:
    """(line, text) of every ``href=`` given a literal address inside the app ("/..." or f"/...")."""
    import ast

    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "href":
            v = node.value
            while isinstance(v, ast.BinOp):
                v = v.left
            first = v.values[0] if isinstance(v, ast.JoinedStr) and v.values else v
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value.startswith("/"):
                out.append((node.value.lineno, first.value))
    return out


def test_no_link_is_written_without_the_prefix():
    """A link to a page of the app goes through atlas.static.href (or dash.get_relative_path): none
    is a bare "/..." that would miss the prefix."""
    import ast

    files = [REPO / "app.py", *sorted((REPO / "atlas").rglob("*.py")), *sorted((REPO / "pages").rglob("*.py"))]
    bare = [f"{f.relative_to(REPO)}:{line}: {text}" for f in files
            for line, text in _literal_paths(ast.parse(f.read_text(encoding="utf-8")))]
    assert not bare, "links without the path prefix:\n" + "\n".join(bare)
    assert _literal_paths(ast.parse('a(href="/x")\nb(href=f"/area/{c}" + s)\nc(href=href("/y"))\nd(href="#main")')) == \
        [(1, "/x"), (2, "/area/")]
