"""Issue 27's remaining pieces where they live in the browser (headless Chromium, the secure test
database): /trends reads the compared years from its address into its controls and its summary; on
the atlas page the funnel plot's target is a control that writes the address and redraws the funnel
against the selected municipality's comparable municipalities, and back."""
from __future__ import annotations

import shutil

import pytest
from helpers import wait_until

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(shutil.which("chromedriver") is None, reason="needs Debian's chromium-driver")]


def test_trends_years_and_the_peer_funnel_in_the_browser(dash_duo, atlas_app):
    from atlas import db

    dash_duo.start_server(atlas_app)
    base, driver = dash_duo.server_url, dash_duo.driver
    years = db.years()
    a, b = years[2], years[-3]
    driver.get(f"{base}/trends#level=region&from={a}&to={b}")
    wait_until(lambda: f"from {a} to {b}" in dash_duo.find_element("#trends-summary").text, timeout=60,
               what="the summary of the chosen years")
    assert str(a) in dash_duo.find_element("#trends-from").text and str(b) in dash_duo.find_element("#trends-to").text
    wait_until(lambda: len(dash_duo.find_elements("#trends-grid .xtick")) >= 10, what="year labels on the panels")
    ticks = {el.text for el in dash_duo.find_elements("#trends-grid .xtick")}
    assert ticks == {str(a), str(b)}, ticks

    # the atlas: a municipality selected, the funnel's target switched to its comparable municipalities
    driver.get(f"{base}/#area=101")
    wait_until(lambda: dash_duo.find_elements("#funnel .main-svg"), timeout=60, what="the funnel plot")
    dash_duo.find_element("label[for='_dbcprivate_radioitems_funnel_input_peers']").click()
    wait_until(lambda: "funnel=peers" in driver.current_url, what="the target in the address")
    wait_until(lambda: "Comparable municipalities of" in dash_duo.find_element("#funnel").text.replace("\n", " "),
               timeout=60, what="the funnel against the peers")
    wait_until(lambda: "its comparable municipalities" in dash_duo.find_element("#funnel-note").text, what="the note")
    dash_duo.find_element("label[for='_dbcprivate_radioitems_funnel_input_denmark']").click()
    wait_until(lambda: "funnel=peers" not in driver.current_url, what="the address back to Denmark")
    wait_until(lambda: "Comparable municipalities of" not in dash_duo.find_element("#funnel").text.replace("\n", " "),
               what="the funnel against Denmark")
    assert not [entry for entry in (dash_duo.get_logs() or []) if entry["level"] == "SEVERE"]
