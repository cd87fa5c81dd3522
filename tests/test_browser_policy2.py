"""Issue 27's remaining pieces where they live in the browser (headless Chromium, the secure test
database): /trends reads the compared years from its address into its controls and its summary; on
the atlas page the funnel plot's target is a control that writes the address and redraws the funnel
against the selected municipality's comparable municipalities, and back."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import wait_until

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(shutil.which("chromedriver") is None, reason="needs Debian's chromium-driver")]
SHOTS = Path(__file__).resolve().parents[1] / "screenshots"         # kept out of git


def _click(driver, element):
    """Click a radio button (in a page region that scrolls on its own, so a pointer click can land on a
    neighbour)."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", element)


def test_trends_years_and_the_peer_funnel_in_the_browser(dash_duo, atlas_app):
    from atlas import data

    dash_duo.start_server(atlas_app)
    SHOTS.mkdir(exist_ok=True)
    base, driver = dash_duo.server_url, dash_duo.driver
    years = data.years()
    a, b = years[2], years[-3]
    driver.get(f"{base}/trends#level=region&from={a}&to={b}")
    wait_until(lambda: f"from {a} to {b}" in dash_duo.find_element("#trends-summary").text, timeout=60,
               what="the summary of the chosen years")
    assert str(a) in dash_duo.find_element("#trends-from").text and str(b) in dash_duo.find_element("#trends-to").text
    script = ("return Array.from(document.querySelectorAll('#trends-grid g.xaxislayer-above text'))"
              ".map(e => e.textContent);")
    wait_until(lambda: len(driver.execute_script(script)) >= 10, what="year labels on the panels")
    # every panel labelled with the two chosen years (read at once: the grid may be redrawn meanwhile)
    wait_until(lambda: set(driver.execute_script(script)) == {str(a), str(b)}, what="only the chosen years as labels")

    driver.save_screenshot(str(SHOTS / "trends-chosen-years-1366.png"))

    # the atlas: the recent-trend markers' legend on the map and ranking; a municipality selected, the
    # funnel's target switched to its comparable municipalities
    driver.get(f"{base}/#area=101")
    wait_until(lambda: dash_duo.find_elements("#funnel .main-svg"), timeout=60, what="the funnel plot")
    legend = "return Array.from(document.querySelectorAll('#rank .gtitle, #map .gtitle')).map(e => e.textContent).join(' | ');"
    # the title's lines are separate text elements: compare without white space
    wait_until(lambda: "".join(driver.execute_script(legend).split()).count("▲rising/▼fallingover") == 2,
               what="the markers' legend line in both titles")
    driver.save_screenshot(str(SHOTS / "atlas-trend-markers-1366.png"))
    _click(driver, dash_duo.find_element("#_dbcprivate_radioitems_funnel-target_input_peers"))
    wait_until(lambda: "funnel=peers" in driver.current_url, what="the target in the address")
    title = ("return Array.from(document.querySelectorAll('#funnel .legendtext')).map(e => e.textContent)"
             ".join(' | ');")
    wait_until(lambda: "Comparable municipalities of København, pooled" in driver.execute_script(title), timeout=60,
               what="the funnel against the peers")
    wait_until(lambda: "its comparable municipalities" in dash_duo.find_element("#funnel-note").text, what="the note")
    _click(driver, dash_duo.find_element("#_dbcprivate_radioitems_funnel-target_input_denmark"))
    wait_until(lambda: "funnel=peers" not in driver.current_url, what="the address back to Denmark")
    wait_until(lambda: "pooled" not in driver.execute_script(title) and driver.execute_script(title),
               what="the funnel against Denmark")
    assert not [entry for entry in (dash_duo.get_logs() or []) if entry["level"] == "SEVERE"]
