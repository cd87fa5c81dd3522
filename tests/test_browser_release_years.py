"""The year control on the release, in a real headless Chromium (issue 24: "the year slider on the
release cannot reach a single year other than the default": every move landed on 2013-2024).

On the release the control lists exactly the published single years and periods; each is reached
by the keyboard (focus, type, Enter) and some by the mouse (open, click), and the address, the map
and the control then show that period, with no "not published" notice.
"""
from __future__ import annotations

import shutil
from urllib.parse import unquote

import pytest
from helpers import LOADING, none_on_page, wait_gone, wait_until
from selenium.webdriver.common.keys import Keys

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(shutil.which("chromedriver") is None, reason="needs Debian's chromium-driver")]


@pytest.fixture(scope="module")
def release_dash(release_app):
    import sys

    from etl.settings import REPO_ROOT

    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import app

    return app.app


def _hash(dash_duo) -> str:
    return unquote(dash_duo.driver.execute_script("return window.location.hash"))


def _period(dash_duo, label: str) -> None:
    """Wait until the address, the control and the map's title show the period ``label``."""
    a, _, b = label.partition("–")
    want = f"y0={a}&y1={b or a}"
    from atlas import coverage

    default = str(coverage.default_year())              # the default year is left out of the address
    wait_until(lambda: want in _hash(dash_duo) or (label == default and "y0=" not in _hash(dash_duo)),
               30, f"{label} in the address ({_hash(dash_duo)})")
    wait_until(lambda: label in dash_duo.find_element("#years").text, 30, f"{label} in the control")
    # once the page's callbacks are done (no loading mark for 0.5 s), a notice would be on the page: asked
    # of the page at once (find_elements waited its implicit 2 s for a notice at every period)
    wait_gone(dash_duo.driver, LOADING, 30, f"{label} drawn")
    assert none_on_page(dash_duo.driver, "#release-notice"), f"{label}: a notice that the view was moved"


def test_the_year_control_reaches_every_published_period_by_keyboard_and_mouse(dash_duo, release_dash):
    from atlas import data

    choices = data.source().year_choices()
    labels = [str(a) if a == b else f"{a}–{b}" for a, b in choices]
    assert "2021" in labels and "2022–2024" in labels
    dash_duo.start_server(release_dash)
    driver = dash_duo.driver
    driver.get(dash_duo.server_url + "/")
    wait_until(lambda: dash_duo.find_elements("#map path.choroplethlocation"), 60, "the map")
    box = dash_duo.find_element("#years")
    values = [str(a) if a == b else f"{a}-{b}" for a, b in choices]
    # the keyboard: focus the control, Enter opens the list on the current period, the arrow keys
    # move to the period wanted, Enter chooses it
    for value, label in zip(values, labels):
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus();", box)
        driver.switch_to.active_element.send_keys(Keys.ENTER)
        wait_until(lambda: box.get_attribute("aria-expanded") == "true", 20, "the list open")
        for _ in range(2 * len(values)):
            now = driver.switch_to.active_element.get_attribute("value")
            if now == value:
                break
            # from the list's search box (or before focus reaches the list) down into it; then toward the period
            up = now in values and values.index(now) > values.index(value)
            driver.switch_to.active_element.send_keys(Keys.ARROW_UP if up else Keys.ARROW_DOWN)
            wait_until(lambda now=now: driver.switch_to.active_element.get_attribute("value") != now, 5, "focus moved")
        assert driver.switch_to.active_element.get_attribute("value") == value, f"{value} not reached by arrow keys"
        driver.switch_to.active_element.send_keys(Keys.ENTER)
        _period(dash_duo, label)
    # the mouse: open the list, click an option
    for label in ("2016", "2019–2021"):
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
        box.click()
        wait_until(lambda label=label: any(o.text == label for o in dash_duo.find_elements(".dash-dropdown-option")), 20,
                   f"option {label}")
        option = next(o for o in dash_duo.find_elements(".dash-dropdown-option") if o.text == label)
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", option)
        option.click()
        _period(dash_duo, label)
