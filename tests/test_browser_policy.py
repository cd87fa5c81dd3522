"""The policy pages (issue 27) in a real headless Chromium (Debian's, no sandbox, a fresh profile:
tests/conftest.py) on the release: reached from the navigation, drawn from their address, the
numbers of the table on the page equal to its CSV, Danish, and screenshotted at desktop width and
on a 390 px phone (screenshots/policy-*.png, kept out of git) with nothing wider than the phone."""
from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
from helpers import wait_until

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(shutil.which("chromedriver") is None, reason="needs Debian's chromium-driver")]

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "screenshots"


@pytest.fixture(scope="module")
def release_dash_app(release_app):
    import app as app_module

    return app_module.app


def _numbers(text: str) -> list[float]:
    return [float(x.replace(",", "")) for x in re.findall(r"-?\d[\d,]*\.\d+", text)]


def _overflow(driver) -> int:
    return driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")


def test_policy_pages_in_the_browser(dash_duo, release_dash_app):
    from atlas import policy_view

    dash_duo.start_server(release_dash_app)
    base = dash_duo.server_url
    driver = dash_duo.driver
    SHOTS.mkdir(exist_ok=True)

    # reached from the navigation of the atlas
    driver.get(base + "/")
    wait_until(lambda: dash_duo.find_elements("a.nav-link[href$='/inequality']"), what="the navigation link")
    driver.get(dash_duo.find_elements("a.nav-link[href$='/inequality']")[0].get_attribute("href") + "#dim=inc")
    wait_until(lambda: "Denmark" in dash_duo.find_element("#pol-words").text, timeout=60, what="the gradient in words")
    words = dash_duo.find_element("#pol-words").text
    assert "by income" in words and "times that at the least advantaged end" in words, words
    wait_until(lambda: dash_duo.find_elements("#pol-table-sii table"), what="the SII table")
    wait_until(lambda: len(dash_duo.find_elements(".js-plotly-plot .scatterlayer .trace")) >= 2, what="the charts")

    # the table on the page holds the numbers of its CSV
    state, _ = policy_view.read_state("inequality", "#dim=inc")
    _, _, table = policy_view.tables("inequality", state, "en")[0]
    shown = dash_duo.find_element("#pol-table-sii table").text
    dk = table.iloc[0]
    for col in ("sii", "sii_lower", "sii_upper", "rii", "rii_lower", "rii_upper"):
        assert f"{dk[col]:.2f}" in shown, (col, dk[col], shown[:300])

    driver.set_window_size(1366, 900)
    time.sleep(0.6)
    driver.save_screenshot(str(SHOTS / "policy-inequality-1366.png"))
    driver.set_window_size(390, 844)
    time.sleep(0.8)
    driver.save_screenshot(str(SHOTS / "policy-inequality-390.png"))
    assert _overflow(driver) <= 1, "the inequality page scrolls sideways on a phone"

    # the other two pages, from their addresses; a control writes the address
    driver.set_window_size(1366, 900)
    driver.get(base + "/recent-trends#show=higher_rising")
    wait_until(lambda: "by chance alone" in dash_duo.find_element("#pol-words").text, timeout=60, what="trend words")
    driver.get(base + "/opportunity")
    wait_until(lambda: "fewer examinations a year" in dash_duo.find_element("#pol-words").text, timeout=60,
               what="opportunity words")
    dash_duo.find_elements("input[name='pol-target']")[1].click()
    wait_until(lambda: "target=best_quartile" in driver.current_url, what="the target in the address")
    wait_until(lambda: "best quartile" in dash_duo.find_element("#pol-words").text, what="best-quartile words")
    time.sleep(0.5)
    driver.save_screenshot(str(SHOTS / "policy-opportunity-1366.png"))
    driver.set_window_size(390, 844)
    time.sleep(0.8)
    driver.save_screenshot(str(SHOTS / "policy-opportunity-390.png"))
    assert _overflow(driver) <= 1, "the opportunity page scrolls sideways on a phone"

    # Danish
    driver.set_window_size(1366, 900)
    driver.get(base + "/inequality?lang=da")
    wait_until(lambda: "Danmark" in dash_duo.find_element("#pol-words").text, timeout=60, what="Danish words")
    assert "Social gradient" in dash_duo.find_element("#pol-title").text
    assert driver.find_element("css selector", "html").get_attribute("lang") == "da"
    assert "times that" not in dash_duo.find_element("#main-content").text
    driver.save_screenshot(str(SHOTS / "policy-inequality-da-1366.png"))


def test_policy_pages_on_the_secure_database_pass_axe_in_both_languages(dash_duo, atlas_app):
    """On the secure database (the session's small build): each page is marked inside only, draws its
    sentences, and axe-core finds nothing critical or serious, in English and Danish."""
    from axe_selenium_python import Axe
    from test_browser_a11y import FAILING, _axe_script, _loaded

    dash_duo.start_server(atlas_app)
    driver = dash_duo.driver
    driver.set_script_timeout(120)
    axe = Axe(driver, script_url=_axe_script())
    failures = {}
    for lang in ("en", "da"):
        for path in ("/inequality", "/recent-trends", "/opportunity"):
            driver.get(dash_duo.server_url + path + ("?lang=da" if lang == "da" else ""))
            wait_until(lambda: dash_duo.find_elements("#pol-words li"), timeout=90, what=f"{path} sentences")
            _loaded(dash_duo, path)
            marked = dash_duo.find_element("#pol-inside").text
            assert ("Inside the secure environment only" if lang == "en" else "Kun i det sikre miljø") in marked
            assert dash_duo.find_element("#inside-only-banner")
            assert driver.execute_script("return document.documentElement.lang") == lang
            axe.inject()
            results = axe.run(options="{resultTypes: ['violations']}")
            bad = [v for v in results["violations"] if v["impact"] in FAILING]
            if bad:
                failures[f"{path} ({lang})"] = axe.report(bad)
    driver.set_window_size(390, 844)
    driver.get(dash_duo.server_url + "/recent-trends?lang=da")
    wait_until(lambda: dash_duo.find_elements("#pol-words li"), timeout=90, what="the Danish recent trends")
    time.sleep(0.8)
    SHOTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(SHOTS / "policy-recent-secure-da-390.png"))
    assert _overflow(driver) <= 1, "the recent-trends page scrolls sideways on a phone"
    assert not failures, "\n\n".join(f"== {page}\n{report}" for page, report in failures.items())
