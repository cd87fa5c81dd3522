"""The atlas in a real headless Chromium (dash[testing] with Debian's chromedriver).

Journeys a reader makes: the map of Denmark draws; a filter changes map, address and download;
a region drills down to its municipalities; a selected municipality is highlighted in every view;
a copied address restores the view in a new session; the language switches. The main page is
screenshotted to docs/screenshot.png (kept out of git: it shows DAGI boundaries).
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path
from urllib.parse import unquote

import pytest
from helpers import split_download, wait_until
from selenium.webdriver.common.by import By

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(shutil.which("chromedriver") is None, reason="needs Debian's chromium-driver")]

ROOT = Path(__file__).resolve().parents[1]


def _wait(dash_duo, predicate, timeout=30, what="condition"):
    wait_until(predicate, timeout, what)


def _map_paths(dash_duo) -> int:
    return len(dash_duo.find_elements("#map path.choroplethlocation"))


def _hash(dash_duo) -> str:
    return unquote(dash_duo.driver.execute_script("return window.location.hash"))


def _choose(dash_duo, selector, text):
    """Open a dropdown, type to search like a reader, pick the option with that text."""
    element = dash_duo.find_element(selector)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()
    dash_duo.driver.switch_to.active_element.send_keys(text)
    _wait(dash_duo, lambda: any(o.text == text for o in dash_duo.find_elements(".dash-dropdown-option")),
          what=f"option {text}")
    next(o for o in dash_duo.find_elements(".dash-dropdown-option") if o.text == text).click()


def _click_label(dash_duo, text):
    dash_duo.driver.find_element(By.XPATH, f"//label[normalize-space()='{text}']").click()


def test_map_of_denmark_draws_and_a_filter_changes_it(dash_duo, atlas_app):
    dash_duo.start_server(atlas_app)
    _wait(dash_duo, lambda: _map_paths(dash_duo) >= 98, what="98 municipalities on the map")
    # the map is Denmark: its drawn box is wider than a sliver and the ranking lists municipalities
    box = dash_duo.find_element("#map .choroplethlayer").rect
    assert box["width"] > 200 and box["height"] > 200
    assert "København" in dash_duo.find_element("#rank").text
    assert dash_duo.find_element("#synthetic-banner").is_displayed()
    (ROOT / "docs").mkdir(exist_ok=True)
    dash_duo.driver.set_window_size(1366, 1000)
    time.sleep(1)
    dash_duo.driver.save_screenshot(str(ROOT / "docs" / "screenshot.png"))
    _click_label(dash_duo, "Regions (5)")
    _wait(dash_duo, lambda: _map_paths(dash_duo) == 5, what="5 regions on the map")
    assert "level=region" in _hash(dash_duo)
    assert dash_duo.get_logs() in (None, []) or not [l for l in dash_duo.get_logs() if l["level"] == "SEVERE"]


def test_drill_down_select_and_restore_from_address(dash_duo, atlas_app):
    dash_duo.start_server(atlas_app)
    base = dash_duo.server_url
    dash_duo.driver.get(f"{base}/#level=region")
    _wait(dash_duo, lambda: _map_paths(dash_duo) == 5, what="regions")
    # click Region Nordjylland (1081) on the map: its municipalities appear
    dash_duo.driver.execute_script("""
        const gd = document.querySelector('#map .js-plotly-plot');
        gd.emit('plotly_click', {points: [{curveNumber: 0, pointNumber: 0, customdata: 1081, location: 1081}]});
    """)
    _wait(dash_duo, lambda: "within=1081" in _hash(dash_duo), what="drill-down in the address")
    _wait(dash_duo, lambda: _map_paths(dash_duo) == 11, what="Nordjylland's 11 municipalities")
    # select Frederikshavn with the search box: highlighted on map, ranking, funnel, trend and mix
    _choose(dash_duo, "#area-search", "Frederikshavn")
    _wait(dash_duo, lambda: "area=813" in _hash(dash_duo), what="selection in the address")
    _wait(dash_duo, lambda: "Frederikshavn" in dash_duo.find_element("#selection-text").text, what="selection text")
    _wait(dash_duo, lambda: "Frederikshavn" in dash_duo.find_element("#trend").text, what="trend legend")
    _wait(dash_duo, lambda: "Frederikshavn" in dash_duo.find_element("#mix").text, what="mix legend")
    highlighted = dash_duo.driver.execute_script("""
        const out = {};
        for (const id of ['map', 'rank', 'funnel']) {
          const gd = document.querySelector('#' + id + ' .js-plotly-plot');
          out[id] = JSON.stringify(gd.data).includes('#D55E00');
        }
        return out;""")
    assert all(highlighted.values()), highlighted
    url = dash_duo.driver.current_url
    text = dash_duo.find_element("#selection-text").text
    # a new session with the copied address shows the same view
    dash_duo.driver.delete_all_cookies()
    dash_duo.driver.get("about:blank")
    dash_duo.driver.get(url)
    _wait(dash_duo, lambda: dash_duo.find_element("#selection-text").text == text, what="restored view")
    assert _map_paths(dash_duo) == 11 + 1      # Nordjylland's municipalities + the selected one's outline
    # back button: the view before the selection
    dash_duo.driver.back()
    _wait(dash_duo, lambda: "area=813" not in _hash(dash_duo), what="back button")


def test_language_switch(dash_duo, atlas_app):
    dash_duo.start_server(atlas_app)
    _wait(dash_duo, lambda: _map_paths(dash_duo) >= 98, what="map")
    dash_duo.find_element("#lang-switch").click()
    _wait(dash_duo, lambda: "Kommuner (98)" in dash_duo.driver.page_source, what="Danish labels")
    assert "Syntetiske demonstrationsdata" in dash_duo.find_element("#synthetic-banner").text
    assert "lang=da" in dash_duo.driver.current_url
    _wait(dash_duo, lambda: _map_paths(dash_duo) >= 98, what="map in Danish")


def test_download_follows_the_filter(dash_duo, atlas_app, tmp_path):
    from atlas import export
    from atlas.filters import View

    dash_duo.start_server(atlas_app)
    _wait(dash_duo, lambda: _map_paths(dash_duo) >= 98, what="map")
    _choose(dash_duo, '[id*="sex"][id*="dim"]', "Women")
    _wait(dash_duo, lambda: "sex=2" in _hash(dash_duo), what="filter in the address")
    # the download the button produces is the one for the view in the address
    from atlas.coverage import default_year

    year = default_year()              # the atlas opens on the last year complete for every measure
    content, name = export.chart_csv("map", View(y0=year, y1=year).with_dim("sex", 2))
    assert "Women" in content.decode("utf-8-sig")
    dash_duo.driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    dash_duo.find_element("#card-map button[id*='download-btn']").click()
    _wait(dash_duo, lambda: any(tmp_path.glob("*.csv")), what="a downloaded CSV")
    got = next(tmp_path.glob("*.csv")).read_bytes()
    assert got.startswith(b"\xef\xbb\xbf")
    text = got.decode("utf-8-sig")
    assert "Sex: Women" in text and "sex=2" in text
    # the same table as the export module writes for the view in the address (the file opens in one step)
    assert split_download(text)[1] == split_download(content.decode("utf-8-sig"))[1]


SIZES = ((1366, 768), (768, 1024), (390, 844))
PAGES = {"/": "#map path.choroplethlocation", "/pathways": "#pw-sankey .main-svg",
         "/returns": "#ret-its .main-svg", "/trends": "#trends-grid .main-svg", "/compare": "#compare-scatter .main-svg",
         "/area/101": "#profile-groups .main-svg", "/methods": ".methods-toc"}
# the text of a page as a reader (or a screen reader) meets it: text nodes outside scripts, and tooltips
PAGE_TEXT = """
    const out = [];
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walk.nextNode()) {
      const p = walk.currentNode.parentElement;
      if (p && !p.closest('script, style, noscript')) { out.push(walk.currentNode.nodeValue); }
    }
    document.querySelectorAll('[title], [aria-label], [placeholder], [data-title]').forEach(e => {
      for (const a of ['title', 'aria-label', 'placeholder', 'data-title']) {
        if (e.getAttribute(a)) { out.push(e.getAttribute(a)); }
      }
    });
    return out.join('\\n');"""


# titles of cited papers (Methods' references), English in both languages
CITED_TITLES = ("Segmented regression analysis of interrupted time series studies in medication use research",)


def test_every_page_in_both_languages_at_three_sizes(dash_duo, atlas_app):
    """One browser: every page in English and Danish at 1366x768, 768x1024 and 390x844, screenshotted
    to screenshots/ (gitignored) for a person to look at; the Danish pages hold no English-only text;
    on a phone the navigation folds into a menu and the map starts on the first screens; the year
    slider's labels do not overlap."""
    from helpers import LOADING, english_left, english_only_strings, wait_gone, wait_until

    strings = english_only_strings()
    out = ROOT / "screenshots"
    out.mkdir(exist_ok=True)
    dash_duo.start_server(atlas_app)
    driver = dash_duo.driver
    for lang in ("en", "da"):
        for path, ready in PAGES.items():
            driver.set_window_size(*SIZES[0])
            driver.get(f"{dash_duo.server_url}{path}" + ("?lang=da" if lang == "da" else ""))
            # a first (cold) area profile takes a while on a loaded machine: how long is for make bench, not here
            _wait(dash_duo, lambda ready=ready: dash_duo.find_elements(ready), timeout=120, what=f"{path} drawn")
            wait_gone(driver, LOADING, 30, what=f"{path} loaded")
            if path == "/":
                _wait(dash_duo, lambda: dash_duo.find_elements("#breakdown .main-svg"), what="breakdown")
                marks = driver.execute_script(
                    "return [...document.querySelectorAll('#years .dash-slider-mark, #years .rc-slider-mark-text')]"
                    ".map(e => e.getBoundingClientRect()).map(r => [r.left, r.right]);")
                marks = sorted(m for m in marks if m[1] > m[0])
                assert len(marks) >= 2, "no year labels found"
                assert all(a[1] <= b[0] for a, b in zip(marks, marks[1:])), f"year labels overlap: {marks}"
            if lang == "da":
                left = []

                def danish_only(left=left):
                    text = " ".join(driver.execute_script(PAGE_TEXT).split())     # a title may wrap in the source
                    for title in CITED_TITLES:          # a cited paper keeps its own (English) title
                        text = text.replace(title, "")
                    left[:] = english_left(text, strings)
                    return not left

                try:
                    wait_until(danish_only, 10, "Danish page")
                except AssertionError:
                    raise AssertionError(f"English on the Danish page {path}: {left}") from None
            for width, height in SIZES:
                driver.set_window_size(width, height)
                time.sleep(0.6)
                name = (path.strip("/").replace("/", "-") or "atlas")
                driver.save_screenshot(str(out / f"{name}-{lang}-{width}x{height}.png"))
                if width == 390:
                    assert dash_duo.find_element(".navbar-toggler").is_displayed()
                    assert not dash_duo.find_element("#navbar-collapse").is_displayed()
                    if path == "/":
                        top = driver.execute_script(
                            "return document.querySelector('#map').getBoundingClientRect().top + window.scrollY;")
                        assert top < 2 * height, f"the map starts {top} px down on a phone"
    assert len(list(out.glob("*.png"))) >= len(PAGES) * 2 * len(SIZES)
