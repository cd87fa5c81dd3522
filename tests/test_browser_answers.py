"""Issue 11 in a real headless Chromium: what only shows in the browser.

- the Sankey on /pathways never keeps the flows of an earlier area: an area whose flows are all
  hidden shows a message (also when the page opens on it), and a later area draws its own flows;
- no chart offers "Share chart" / "Edit in Chart Studio" (an upload to Plotly's cloud);
- a 2027 region drills down to its municipalities;
- a selection with nobody in it shows a message on the map, not an empty frame or an error.
"""
from __future__ import annotations

import shutil
from urllib.parse import unquote

import pytest
from helpers import wait_until

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(shutil.which("chromedriver") is None, reason="needs Debian's chromium-driver")]


def _wait(predicate, timeout=40, what="condition"):
    wait_until(predicate, timeout, what)


def _severe(dash_duo) -> list:
    return [entry for entry in (dash_duo.get_logs() or []) if entry["level"] == "SEVERE"]


def _says_nothing_to_draw(dash_duo) -> bool:
    text = dash_duo.find_element("#pw-sankey").text
    return "No flows to draw" in text or "Nobody in this selection" in text


def _links(dash_duo) -> int:
    return len(dash_duo.find_elements("#pw-sankey .sankey-link"))


def _hidden_area(level: str = "municipality") -> int:
    """A municipality whose every pathway flow is hidden in the default year (the smallest one)."""
    from atlas import db
    from atlas import pathways as P
    from atlas.coverage import default_year
    from atlas.filters import View

    a = db.areas()
    year = default_year()
    for code in a[a.level == level].sort_values("code").code:
        view = View(y0=year, y1=year, area=int(code))
        fig, _ = P.sankey(P.pathways(view, 365), view, 365)
        if not len(fig.data[0]["link"]["value"]):
            return int(code)
    pytest.skip("no area with all flows hidden in this database")


def test_sankey_is_never_stale(dash_duo, atlas_app):
    small = _hidden_area()
    dash_duo.start_server(atlas_app)
    # opening the page on an area whose flows are all hidden: a message, no blank chart
    dash_duo.driver.get(f"{dash_duo.server_url}/pathways#area={small}")
    _wait(lambda: _says_nothing_to_draw(dash_duo), what="message for a hidden area")
    assert _links(dash_duo) == 0
    # Denmark: flows drawn
    dash_duo.driver.get(f"{dash_duo.server_url}/pathways")
    _wait(lambda: _links(dash_duo) >= 6, what="Denmark's flows")
    denmark = _links(dash_duo)
    # then the small area: Denmark's flows must go
    dash_duo.driver.execute_script(f"window.location.hash = 'area={small}'")
    _wait(lambda: f"area={small}" in unquote(dash_duo.driver.execute_script("return window.location.hash")),
          what="area in the address")
    _wait(lambda: _says_nothing_to_draw(dash_duo) and _links(dash_duo) == 0,
          what="no stale flows for the hidden area")
    # and after it, a region draws its own flows again
    dash_duo.driver.execute_script("window.location.hash = 'level=region&area=1084'")
    _wait(lambda: "Region Hovedstaden" in dash_duo.find_element("#pw-heading").text, what="region heading")
    _wait(lambda: _links(dash_duo) >= 6, what="the region's flows")
    drawn = dash_duo.driver.execute_script(
        "return document.querySelector('#pw-sankey .js-plotly-plot').data[0].link.value.length")
    assert _links(dash_duo) == drawn and drawn <= denmark
    assert not _severe(dash_duo), _severe(dash_duo)


def test_no_chart_offers_an_upload_to_the_cloud(dash_duo, atlas_app):
    dash_duo.start_server(atlas_app)
    for path, graph in (("/", "#map"), ("/pathways", "#pw-sankey"), ("/returns", "#ret-its")):
        dash_duo.driver.get(dash_duo.server_url + path)
        _wait(lambda graph=graph: len(dash_duo.find_elements(f"{graph} .modebar-btn")) > 0, what=f"toolbar on {path}")
        cloud = dash_duo.driver.execute_script("""
            return [...document.querySelectorAll('.modebar-btn')]
              .map(b => (b.getAttribute('data-title') || '') + '|' + (b.getAttribute('data-attr') || ''))
              .filter(s => /share|cloud|chart studio/i.test(s));""")
        assert cloud == [], (path, cloud)


def test_a_2027_region_drills_down(dash_duo, atlas_app):
    from atlas import db

    a = db.areas()
    east = 1090
    inside = a[(a.level == "municipality") & (a.region2027_code == east)]
    assert len(inside) > 20
    dash_duo.start_server(atlas_app)
    dash_duo.driver.get(f"{dash_duo.server_url}/#level=region2027")
    _wait(lambda: len(dash_duo.find_elements("#map path.choroplethlocation")) == 4, what="4 regions of 2027")
    # the click as Plotly sends it: the point's own index in its trace (dcc.Graph reads customdata from it)
    dash_duo.driver.execute_script(f"""
        const gd = document.querySelector('#map .js-plotly-plot');
        const curve = gd.data.findIndex(t => Array.from(t.customdata || []).includes({east}));
        const point = Array.from(gd.data[curve].customdata).indexOf({east});
        gd.emit('plotly_click', {{points: [{{curveNumber: curve, pointNumber: point, customdata: {east}, location: {east}}}]}});
    """)
    _wait(lambda: f"within={east}" in unquote(dash_duo.driver.execute_script("return window.location.hash")),
          what="drill-down in the address")
    _wait(lambda: len(dash_duo.find_elements("#map path.choroplethlocation")) == len(inside),
          what=f"the {len(inside)} municipalities of Region Østdanmark")
    ranked = dash_duo.driver.execute_script(
        "return document.querySelector('#rank .js-plotly-plot').data.map(d => (d.y || []).length).reduce((a, b) => a + b, 0)")
    assert ranked >= len(inside) // 2
    assert not _severe(dash_duo), _severe(dash_duo)


def test_an_empty_selection_says_so(dash_duo, atlas_app):
    from test_sweep import empty_selection

    dims = empty_selection()
    dash_duo.start_server(atlas_app)
    dash_duo.driver.get(f"{dash_duo.server_url}/#{dims}")
    _wait(lambda: "Nobody in this selection" in dash_duo.find_element("#map").text, what="message on the map")
    assert "Nobody in this selection" in dash_duo.find_element("#rank").text
    assert "Nobody in this selection" in dash_duo.find_element("#funnel").text
    assert not _severe(dash_duo), _severe(dash_duo)
