"""Issue 29, in a real headless Chromium: the Sankey's column headings (referrer, modality, what
followed) never meet on a phone. At 390 px the Danish "Modalitet" and "Inden for 365 dage" ran into
each other; there (and at 320 px) the heading that would meet another is set on two lines by
``assets/chart-fit.js``, and on a laptop the headings stay on one line as drawn.
"""
from __future__ import annotations

import shutil

import pytest
from helpers import wait_until

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(shutil.which("chromedriver") is None, reason="needs Debian's chromium-driver")]

# each heading's text, its lines and its box; the title's box and the chart's
BOXES = """
    const box = e => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
    const graph = document.getElementById('pw-sankey');
    return {heads: [...graph.querySelectorAll('.annotation-text')].map(
                t => [t.textContent, t.querySelectorAll('tspan.line').length || 1, box(t)]),
            title: box(graph.querySelector('.gtitle')), svg: box(graph.querySelector('.main-svg')),
            nodes: [...graph.querySelectorAll('.sankey .node-rect')].map(box)};"""

GAP = 4             # px of white between two headings: they read as two, not one phrase


def _viewport(driver, width: int, height: int) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


def _meet(a, b, gap=0.0) -> bool:
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] and b[1] < a[3]


def _headings(dash_duo) -> dict:
    """The Sankey's headings once drawn and settled (the same boxes twice in a row)."""
    seen = []

    def settled():
        found = dash_duo.driver.execute_script(BOXES)
        seen.append(found)
        return len(found["heads"]) == 3 and found["nodes"] and len(seen) > 1 and seen[-2] == found

    wait_until(settled, 40, "the Sankey's headings")
    return seen[-1]


def _check(found: dict, where: str) -> None:
    heads = found["heads"]
    for i, (text, _, b) in enumerate(heads):
        assert found["svg"][0] <= b[0] and b[2] <= found["svg"][2], f"{text!r} runs out of the chart {where}: {found}"
        assert not _meet(b, found["title"]), f"{text!r} runs into the chart's title {where}: {found}"
        assert not [n for n in found["nodes"] if _meet(b, n)], f"{text!r} runs into the flows {where}: {found}"
        others = [o for o, _, c in heads[i + 1:] if _meet(b, c, GAP)]
        assert not others, f"{text!r} meets {others} {where}: {found}"


@pytest.mark.parametrize("lang", ["en", "da"])
def test_sankey_headings_do_not_meet_on_a_phone(dash_duo, atlas_app, lang):
    dash_duo.start_server(atlas_app)
    driver = dash_duo.driver
    query = "?lang=da" if lang == "da" else ""
    try:
        for width, height in ((390, 844), (320, 700)):
            _viewport(driver, width, height)
            driver.get(f"{dash_duo.server_url}/pathways{query}")
            found = _headings(dash_duo)
            _check(found, f"at {width}px in {lang}")
            words = " ".join(text for text, _, _ in found["heads"])
            assert ("Modalitet" if lang == "da" else "Modality") in words
            assert ("365 dage" if lang == "da" else "365 days") in words
            if width == 390 and lang == "da":
                # the pair that met here before: the outcome heading now stands on two lines
                assert [lines for text, lines, _ in found["heads"] if "365" in text] == [2], found
        # the same page widened to a laptop's: every heading on one line again, as the figure draws them
        _viewport(driver, 1366, 768)
        wait_until(lambda: all(lines == 1 for _, lines, _ in driver.execute_script(BOXES)["heads"]), 30,
                   "the headings on one line at 1366 px")
        found = _headings(dash_duo)
        _check(found, f"at 1366px in {lang}")
        assert [text for text, _, _ in found["heads"]][2] == ("Inden for 365 dage" if lang == "da" else "Within 365 days")
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
