"""Issue 29, the first visit: the plotly.js bundle with only the atlas's trace types draws every
chart of every page; the full plotly.min.js is never fetched when the bundle is there; the bundle
is served as compressed at build time and cached; assets are cached. (How many bytes and how fast:
``python -m bench --first-visit``, never timed here.)"""
from __future__ import annotations

import os
import shutil

import pytest
from helpers import wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUNDLE = os.path.join(ROOT, "assets", "plotly-atlas.min.js")

needs_bundle = pytest.mark.skipif(not os.path.exists(BUNDLE), reason="no plotly.js bundle: run `make plotly-bundle`")

# a page and the SVG layer that shows its own trace types are drawn
DRAWN = {
    "/": ["#map .choroplethlocation", "#rank .scatterlayer .trace", "#mix .barlayer .trace"],
    "/#map=tile": ["#map .heatmaplayer .hm, #map .heatmaplayer image"],
    "/pathways": ["#pw-sankey .sankey-node", ".barlayer .trace"],
    "/returns": ["#ret-exam-chart .barlayer .trace", "#ret-centres .heatmaplayer .hm, #ret-centres image",
                 "#ret-spread .boxlayer .trace, #ret-spread .scatterlayer .trace"],
    "/trends": ["#trends-grid .scatterlayer .trace"],
}


@needs_bundle
def test_the_bundle_is_served_compressed_once_and_cached(atlas_app):
    import brotli

    client = atlas_app.server.test_client()
    r = client.get("/assets/plotly-atlas.min.js?m=1", headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "br"
    assert "immutable" in r.headers["Cache-Control"]
    with open(BUNDLE, "rb") as f:
        assert brotli.decompress(r.get_data()) == f.read()
    # no precompressed form the browser accepts: Dash's assets route answers
    plain = client.get("/assets/plotly-atlas.min.js?m=1", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    assert "public, max-age=31536000" in plain.headers["Cache-Control"]
    # the first HTML loads the bundle, not Dash's plotly.min.js
    page = client.get("/").get_data(as_text=True)
    assert "assets/plotly-atlas.min.js" in page and "package_data/plotly.min.js" not in page


@needs_bundle
@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromedriver") is None, reason="needs Debian's chromium-driver")
def test_every_page_draws_its_charts_with_the_bundle(dash_duo, atlas_app):
    dash_duo.start_server(atlas_app)
    driver = dash_duo.driver
    for path, layers in DRAWN.items():
        driver.get(dash_duo.server_url + path)
        for selector in layers:
            wait_until(lambda selector=selector: dash_duo.find_elements(selector), 60, f"{selector} on {path}")
        fetched = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('plotly'));")
        assert fetched and all("plotly-atlas.min.js" in n for n in fetched), (path, fetched)
    severe = [entry for entry in (dash_duo.get_logs() or []) if entry["level"] == "SEVERE"]
    assert not severe, severe
