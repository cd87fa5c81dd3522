"""/recent-trends and the area profile in a real headless Chromium (Debian's, no sandbox, a fresh
profile: tests/conftest.py), in English and Danish, on the secure database and on the release (issue
27: both read every year's table of areas at once, ``Source.yearly_table``): the page's sentences
are the app's own for the view, its chart has a point per tested area and its table a row per area;
the profile's key findings hold its recent trends in the reader's language and its trend panels are
drawn."""
from __future__ import annotations

import re
import shutil

import pytest
from helpers import LOADING, wait_gone, wait_until

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(shutil.which("chromedriver") is None, reason="needs Debian's chromium-driver")]


@pytest.fixture(scope="module", params=["secure", "release"])
def served(request):
    """The app on the secure test database, then on the release."""
    from conftest import app_on

    with app_on(request.getfixturevalue("atlas_db" if request.param == "secure" else "release_db")):
        import app as app_module
        from atlas import data

        assert data.source().kind == request.param
        yield app_module.app


def _text(dash_duo, selector: str) -> str:
    return re.sub(r"\s+", " ", dash_duo.find_element(selector).text)


def test_recent_trends_and_the_profile_render_in_both_languages(dash_duo, served):
    from atlas import db, policy, policy_view
    from atlas.i18n import t

    dash_duo.start_server(served)
    base, driver = dash_duo.server_url, dash_duo.driver
    state = policy_view.defaults("recent")
    table, chance = policy.recent_trends(state["measure"], state["level"], int(state["years"]), state["end"])
    tested = int(table["apc"].notna().sum())
    assert chance["tested"] > 0 and tested > 0
    for lang in ("en", "da"):
        driver.get(base + "/recent-trends" + ("?lang=da" if lang == "da" else ""))
        want = policy_view.recent_words(state, lang)
        wait_until(lambda want=want: want[0] in _text(dash_duo, "#pol-words"), timeout=90, what=f"the {lang} sentences")
        wait_gone(driver, LOADING, 60, what="the page loaded")
        words = _text(dash_duo, "#pol-words")
        assert all(w in words for w in want), (lang, words)
        assert driver.find_element("css selector", "html").get_attribute("lang") == lang
        wait_until(lambda: dash_duo.find_elements("#pol-tables table tbody tr"), what="the table")
        assert len(dash_duo.find_elements("#pol-tables table tbody tr")) == len(table)
        points = driver.execute_script(
            "return document.querySelectorAll('.js-plotly-plot .scatterlayer .trace .points path').length;")
        assert points == tested, (lang, points, tested)
        shown = _text(dash_duo, "#pol-tables")
        for direction in set(table["direction"]):          # each area's verdict in the reader's language
            assert t("pol_dir_" + direction.replace(" ", "_"), lang) in shown, (lang, direction)

    # a profile whose key findings hold a recent trend (of the level's areas, the first one tested)
    a = db.areas()
    code = None
    for level in ("municipality", "region"):
        for c in sorted(int(x) for x in a[a.level == level].code):
            if policy_view.profile_recent(c, level, "en"):
                code = c
                break
        if code is not None:
            break
    assert code is not None, "no area has a recent trend to show"
    for lang in ("en", "da"):
        driver.get(f"{base}/area/{code}" + ("?lang=da" if lang == "da" else ""))
        wait_until(lambda: dash_duo.find_elements("#profile-findings li"), timeout=120, what=f"the {lang} profile")
        findings = _text(dash_duo, "#profile-findings")
        for sentence in policy_view.profile_recent(code, level, lang):
            assert re.sub(r"\s+", " ", sentence) in findings, (lang, sentence, findings)
        wait_until(lambda: len(dash_duo.find_elements("#profile-trends .cartesianlayer .subplot")) >= 10,
                   what="the trend panels")
        assert dash_duo.find_element("#main-content").get_attribute("lang") == lang
