"""The area search of the compare page opens the chosen area's profile in a real headless Chromium
(its callback lives in pages/area.py and returns the address through atlas.static.href), in the
reader's language."""
from __future__ import annotations

import shutil

import pytest
from helpers import wait_until

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(shutil.which("chromedriver") is None, reason="needs Debian's chromium-driver")]


def test_the_search_box_opens_the_profile(dash_duo, atlas_app):
    dash_duo.start_server(atlas_app)
    driver = dash_duo.driver
    driver.get(dash_duo.server_url + "/compare?lang=da")
    wait_until(lambda: dash_duo.find_elements("#profile-search"), 60, "the area search")
    box = dash_duo.find_element("#profile-search")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
    box.click()
    driver.switch_to.active_element.send_keys("Frederikshavn")
    wait_until(lambda: any(o.text == "Frederikshavn" for o in dash_duo.find_elements(".dash-dropdown-option")), 30,
               "Frederikshavn offered")
    next(o for o in dash_duo.find_elements(".dash-dropdown-option") if o.text == "Frederikshavn").click()
    wait_until(lambda: driver.current_url.split("://", 1)[1].partition("/")[2] == "area/813?lang=da", 60,
               "the profile's address")
    wait_until(lambda: dash_duo.find_elements("#profile-title"), 120, "the profile drawn")
    assert "Frederikshavn" in dash_duo.find_element("#profile-title").text
