"""Issue 29 in a real headless Chromium: accessibility scanned by axe-core, the page's language and
title, the language switch that keeps the view, and the map's keyboard path.

axe-core runs on every page in English and in Danish and fails the test on any violation of
impact "critical" or "serious" (moderate and minor ones are printed, not failed). The axe-core
script is the newest one a Python package ships: ``axe-playwright-python`` bundles axe-core 4.x
(only its script file is read; Playwright itself is never started); ``axe-selenium-python``
(axe-core 3.1) drives the scan through Selenium and is the fall-back script.
"""
from __future__ import annotations

import shutil
from importlib.resources import files
from urllib.parse import unquote

import pytest
from helpers import LOADING, wait_gone, wait_until
from selenium.webdriver.common.keys import Keys

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(shutil.which("chromedriver") is None, reason="needs Debian's chromium-driver")]

PAGES = ("/", "/pathways", "/returns", "/trends", "/compare", "/methods", "/area/101")
FAILING = ("critical", "serious")


def _axe_script() -> str:
    """The path of axe-core's script: axe-core 4.x where installed, else axe-selenium-python's own."""
    try:
        newest = files("axe_playwright_python").joinpath("axe.min.js")
        if newest.is_file():
            return str(newest)
    except ModuleNotFoundError:
        pass
    from axe_selenium_python.axe import _DEFAULT_SCRIPT

    return _DEFAULT_SCRIPT


def _wait(predicate, timeout=40, what="condition"):
    wait_until(predicate, timeout, what)


def _loaded(dash_duo, path):
    _wait(lambda: dash_duo.find_elements("main, #main-content"), what=f"{path} drawn")
    _wait(lambda: dash_duo.find_elements("#_pages_content *"), what=f"{path} content")
    wait_gone(dash_duo.driver, LOADING, 40, what=f"{path} loaded")
    try:        # charts drawn (a page may hold one that stays empty)
        wait_gone(dash_duo.driver, ".dash-graph:not(:has(.main-svg))", 15, settle=0)
    except AssertionError:
        pass


def _hash(dash_duo) -> str:
    return unquote(dash_duo.driver.execute_script("return window.location.hash"))


def test_axe_finds_nothing_critical_or_serious_on_any_page_in_either_language(dash_duo, atlas_app):
    from axe_selenium_python import Axe

    dash_duo.start_server(atlas_app)
    driver = dash_duo.driver
    driver.set_script_timeout(120)
    axe = Axe(driver, script_url=_axe_script())
    failures, scanned, titles = {}, 0, {}
    for lang in ("en", "da"):
        for path in PAGES:
            driver.get(dash_duo.server_url + path + ("?lang=da" if lang == "da" else ""))
            _loaded(dash_duo, path)
            axe.inject()
            results = axe.run(options="{resultTypes: ['violations']}")
            scanned += 1
            assert results["passes"] or results["violations"] is not None
            bad = [v for v in results["violations"] if v["impact"] in FAILING]
            for v in results["violations"]:
                if v["impact"] not in FAILING:
                    print(f"{path} ({lang}) [{v['impact']}] {v['id']}: {len(v['nodes'])} node(s)")
            if bad:
                failures[f"{path} ({lang})"] = axe.report(bad)
            # the page says its language and its title in that language
            assert driver.execute_script("return document.documentElement.lang") == lang, (path, lang)
            titles[(path, lang)] = driver.title
    assert scanned == 2 * len(PAGES)
    assert not failures, "\n\n".join(f"== {page}\n{report}" for page, report in failures.items())
    assert titles[("/methods", "da")].startswith("Metode") and titles[("/methods", "en")].startswith("Methods")
    assert titles[("/returns", "da")].startswith("Returbreve")
    assert all(titles[(p, "da")] != titles[(p, "en")] for p in PAGES), titles


def test_the_first_html_says_the_language_and_title(atlas_app):
    """Before any script runs: ``<html lang>`` and ``<title>`` of the page load itself."""
    client = atlas_app.server.test_client()
    da = client.get("/methods?lang=da").get_data(as_text=True)
    en = client.get("/methods").get_data(as_text=True)
    assert '<html lang="da">' in da and "<title>Metode · Atlas over billeddiagnostik af lænden</title>" in da
    assert '<html lang="en">' in en and "<title>Methods · Lumbar imaging atlas</title>" in en
    assert '<html lang="da">' in client.get("/area/101?lang=da").get_data(as_text=True)


def test_the_language_switch_keeps_the_view_built_by_clicking(dash_duo, atlas_app):
    dash_duo.start_server(atlas_app)
    driver = dash_duo.driver
    # the atlas: load one view, build another by clicking; the switch carries the new one
    driver.get(dash_duo.server_url + "/#measure=mri_share")
    _loaded(dash_duo, "/")
    driver.find_element("xpath", "//label[normalize-space()='Regions (5)']").click()
    _wait(lambda: "level=region" in _hash(dash_duo), what="the click's view in the address")
    href = unquote(dash_duo.find_element("#lang-switch").get_attribute("href"))
    assert "lang=da" in href and "level=region" in href and "measure=mri_share" in href, href
    dash_duo.find_element("#lang-switch").click()
    _wait(lambda: "lang=da" in driver.current_url, what="the Danish page")
    _wait(lambda: len(dash_duo.find_elements("#map path.choroplethlocation")) == 5, what="the regions, in Danish")
    assert "level=region" in _hash(dash_duo) and "measure=mri_share" in _hash(dash_duo)
    # and back, with a view built in Danish
    driver.find_element("xpath", "//label[normalize-space()='Kommuner (98)']").click()
    _wait(lambda: "level=region" not in _hash(dash_duo), what="municipalities again")
    dash_duo.find_element("#lang-switch").click()
    _wait(lambda: "lang=en" in driver.current_url, what="the English page")
    assert "measure=mri_share" in _hash(dash_duo) and "level=region" not in _hash(dash_duo)
    # every page: the address as it is when the link is used (hash and query), not as it was loaded
    for path in PAGES:
        driver.get(dash_duo.server_url + path + "?tables=1")
        _loaded(dash_duo, path)
        driver.execute_script("history.pushState(null, '', window.location.pathname + window.location.search"
                              " + '#view=after-load')")
        link = dash_duo.find_element("#lang-switch")
        driver.execute_script("arguments[0].focus();", link)        # as a keyboard user reaches it
        href = unquote(link.get_attribute("href"))
        # the address as it is now (a page may then tidy a hash it does not know, so the link is checked)
        assert "tables=1" in href and "lang=da" in href and href.endswith("#view=after-load"), (path, href)
        assert path.rstrip("/") in href, (path, href)
        link.click()
        _wait(lambda: "lang=da" in driver.current_url, what=f"Danish {path}")
        assert "tables=1" in driver.current_url, (path, driver.current_url)


def test_the_map_has_a_keyboard_path(dash_duo, atlas_app):
    """From the top of the atlas, Tab reaches the area search, the table-view switch and the ranking
    (a named scroll box); no focused element is hidden from screen readers; the search works from the
    keyboard alone."""
    dash_duo.start_server(atlas_app)
    driver = dash_duo.driver
    _loaded(dash_duo, "/")
    driver.find_element("css selector", "body").click()
    seen, hidden = [], []
    for _ in range(90):
        driver.switch_to.active_element.send_keys(Keys.TAB)
        info = driver.execute_script("""
            const e = document.activeElement;
            return [e.id || '', e.className && e.className.baseVal === undefined ? e.className : '',
                    !!e.closest('#area-search'), !!e.closest('.scroll-box'), e.getAttribute('aria-label') || '',
                    !!e.closest('[aria-hidden="true"]')];""")
        seen.append(info)
        if info[5]:
            hidden.append(info)
    assert not hidden, f"focus landed on elements hidden from screen readers: {hidden}"
    assert any(i[2] for i in seen), "Tab never reached the area search"
    assert any(i[0] == "tables" for i in seen), "Tab never reached the table-view switch"
    assert any(i[3] and i[4] for i in seen), "Tab never reached the ranking's (named) scroll box"
    # choose an area with the keyboard alone
    button = dash_duo.find_element("#area-search")       # the dropdown's button carries its id
    assert button.tag_name == "button" and button.get_attribute("tabindex") == "0"
    button.send_keys(Keys.ENTER)
    driver.switch_to.active_element.send_keys("Frederikshavn")
    _wait(lambda: any(o.text == "Frederikshavn" for o in dash_duo.find_elements(".dash-dropdown-option")),
          what="Frederikshavn offered")
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    _wait(lambda: "area=813" in _hash(dash_duo), what="the keyboard's choice in the address")
