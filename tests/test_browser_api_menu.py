"""Issue 28, item 1, in a real headless Chromium: the API menu beside a chart's CSV button shows the
address of the figures on screen, visibly, and follows a change of view; in Danish too."""
from __future__ import annotations

import shutil

import pytest
from helpers import LOADING, wait_gone, wait_until
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(shutil.which("chromedriver") is None, reason="needs Debian's chromium-driver")]


def _open_menu(dash_duo, chart: str, prefix: str = ""):
    """Open ``chart``'s API menu as a keyboard user does (focus its button, Enter): a pointer click was
    refused where the page's sidebar and charts moved the button under the pointer. ``prefix``: the
    page's ids (``pw-`` on /pathways, ``ret-`` on /returns)."""
    wait_gone(dash_duo.driver, LOADING, 60, "the page drawn")
    toggle = dash_duo.find_element(f"#{prefix}api-menu-{chart} .dropdown-toggle")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus();", toggle)
    toggle.send_keys(Keys.ENTER)
    link = f"#{prefix}api-link-{chart}"
    wait_until(lambda: dash_duo.find_element(link).is_displayed(), 20, f"the {chart} menu's address")
    return dash_duo.find_element(link)


def test_the_menu_shows_the_address_of_the_view_on_screen(dash_duo, atlas_app):
    dash_duo.start_server(atlas_app)
    wait_until(lambda: len(dash_duo.find_elements("#map path.choroplethlocation")) >= 98, 60, "the map")
    link = _open_menu(dash_duo, "map")
    text = link.text
    assert text.startswith("/api/v1/data?") and "level=municipality" in text
    assert link.get_attribute("href").endswith(text)                  # the link goes where it says
    assert "The same figures for programs" in dash_duo.find_element("#api-menu-map").text
    link.send_keys("\ue00c")                                         # Escape closes the menu
    dash_duo.driver.find_element(By.XPATH, "//label[normalize-space()='Regions (5)']").click()
    wait_until(lambda: "level=region" in (dash_duo.find_element("#api-link-map").get_attribute("href") or ""), 30,
               "the address to follow the level")
    trend = _open_menu(dash_duo, "trend")
    assert trend.text.startswith("/api/v1/trend?")
    # the Danish page: the same view, an address that asks for Danish words
    dash_duo.driver.get(dash_duo.server_url + "/?lang=da")
    wait_until(lambda: len(dash_duo.find_elements("#map path.choroplethlocation")) >= 98, 60, "the Danish map")
    da = _open_menu(dash_duo, "map")
    assert "lang=da" in da.text and "De samme tal til programmer" in dash_duo.find_element("#api-menu-map").text


def test_the_open_menu_has_nothing_critical_or_serious_for_axe(dash_duo, atlas_app):
    """The page with the map's API menu open, in both languages: axe-core finds nothing critical or serious."""
    from axe_selenium_python import Axe
    from test_browser_a11y import FAILING, _axe_script

    dash_duo.start_server(atlas_app)
    dash_duo.driver.set_script_timeout(120)
    for lang in ("en", "da"):
        dash_duo.driver.get(dash_duo.server_url + "/" + ("?lang=da" if lang == "da" else ""))
        wait_until(lambda: len(dash_duo.find_elements("#map path.choroplethlocation")) >= 98, 60, "the map")
        _open_menu(dash_duo, "map")
        axe = Axe(dash_duo.driver, script_url=_axe_script())
        axe.inject()
        results = axe.run(options="{resultTypes: ['violations']}")
        bad = [v for v in results["violations"] if v["impact"] in FAILING]
        assert not bad, axe.report(bad)


def test_the_pathways_and_returns_menus_show_the_address_of_the_view_on_screen(dash_duo, atlas_app):
    """On /pathways and /returns the menu beside a chart's CSV button shows its API address for the view
    in the page's address (the follow-up window only on the charts it changes), in English and Danish."""
    dash_duo.start_server(atlas_app)
    dash_duo.driver.get(dash_duo.server_url + "/pathways#level=region&area=1081&win=90")
    wait_until(lambda: len(dash_duo.find_elements("#pw-sankey .sankey-node")) >= 7, 60, "the Sankey")
    wait_until(lambda: "area=1081" in (dash_duo.find_element("#pw-api-link-sankey").get_attribute("href") or ""), 30,
               "the address of the view on screen")
    flows = _open_menu(dash_duo, "sankey", "pw-")
    assert flows.text.startswith("/api/v1/pathways/flows?") and "area=1081" in flows.text and "win=90" in flows.text
    assert flows.get_attribute("href").endswith(flows.text)
    assert "The same figures for programs" in dash_duo.find_element("#pw-api-menu-sankey").text
    flows.send_keys("\ue00c")                                        # Escape closes the menu
    areas = _open_menu(dash_duo, "areas", "pw-")
    assert areas.text.startswith("/api/v1/pathways/areas?level=region") and "win=" not in areas.text
    dash_duo.driver.get(dash_duo.server_url + "/returns?lang=da#measure=letters&exam=knee")
    wait_until(lambda: "exam=knee" in (dash_duo.find_element("#ret-api-link-its").get_attribute("href") or ""), 60,
               "the returns page's address")
    series = _open_menu(dash_duo, "its", "ret-")
    assert series.text.startswith("/api/v1/returns/series?measure=letters") and series.text.endswith("lang=da")
    assert "De samme tal til programmer" in dash_duo.find_element("#ret-api-menu-its").text
