"""Issue 27 in the browser (headless Chromium, the secure test database): the recent-trend markers'
window is a control of the atlas page that the address restores and writes, and the titles' legend
line follows it; /compare draws the comparable municipalities together in its dot chart."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import wait_until

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(shutil.which("chromedriver") is None, reason="needs Debian's chromium-driver")]
SHOTS = Path(__file__).resolve().parents[1] / "screenshots"         # kept out of git
TITLES = "return Array.from(document.querySelectorAll('#rank .gtitle, #map .gtitle')).map(e => e.textContent).join(' | ');"


def _legend_windows(driver) -> str:
    """The titles' text without white space (their lines are separate text elements)."""
    return "".join(driver.execute_script(TITLES).split())


def _pick(dash_duo, text: str) -> None:
    """Open the window's list with the pointer and click the option with that text."""
    box = dash_duo.find_element("#recent")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
    box.click()
    wait_until(lambda: any(o.text == text for o in dash_duo.find_elements(".dash-dropdown-option")), 20, f"option {text}")
    option = next(o for o in dash_duo.find_elements(".dash-dropdown-option") if o.text == text)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", option)
    option.click()


def test_markers_window_and_the_peers_dots_in_the_browser(dash_duo, atlas_app):
    dash_duo.start_server(atlas_app)
    SHOTS.mkdir(exist_ok=True)
    base, driver = dash_duo.server_url, dash_duo.driver

    driver.get(f"{base}/#recent=6")
    wait_until(lambda: _legend_windows(driver).count("(last6completeyears)") == 2, timeout=60,
               what="the 6-year window in both titles")
    assert "6" in dash_duo.find_element("#recent").text
    driver.save_screenshot(str(SHOTS / "atlas-markers-window-1366.png"))
    _pick(dash_duo, "3")
    wait_until(lambda: "recent=3" in driver.current_url, what="the chosen window in the address")
    wait_until(lambda: _legend_windows(driver).count("(last3completeyears)") == 2, timeout=60,
               what="the 3-year window in both titles")
    _pick(dash_duo, "5")
    wait_until(lambda: "recent=" not in driver.current_url, what="the default window left out of the address")

    # Danish: the control's label and the window in the titles
    driver.get(f"{base}/?lang=da#recent=4")
    wait_until(lambda: _legend_windows(driver).count("(deseneste4fuldstændigeår)") == 2, timeout=60,
               what="the window in the Danish titles")
    assert "Seneste udvikling" in driver.find_element("css selector", "label[for=recent]").text

    # /compare: one municipality and its comparable municipalities together in the dot chart
    driver.get(f"{base}/compare#areas=101&peers=1")
    legend = "return Array.from(document.querySelectorAll('#compare-dots .legendtext')).map(e => e.textContent);"
    wait_until(lambda: "Comparable municipalities of København (pooled)" in (driver.execute_script(legend) or []),
               timeout=60, what="the peers in the dot chart's legend")
    stars = "return document.querySelectorAll('#compare-dots .scatterlayer .trace:last-child path.point').length;"
    assert driver.execute_script(stars) >= 3                          # one star per measure with a pooled figure
    driver.save_screenshot(str(SHOTS / "compare-peers-dots-1366.png"))
    assert not [entry for entry in (dash_duo.get_logs() or []) if entry["level"] == "SEVERE"]
