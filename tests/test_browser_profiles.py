"""Area profile, comparisons and all trends in a real headless Chromium, on the release database,
in one browser session: the profile draws every measure and prints to a PDF (Chromium's
``Page.printToPDF``) that holds its title and every measure; the atlas links to it; the compare page
sets areas side by side and correlates two measures; the small multiples draw every area. The
profile is screenshotted to docs/screenshot-profile.png (kept out of git, as docs/screenshot.png)."""
from __future__ import annotations

import base64
import io
import re
import shutil
import time
import unicodedata
from pathlib import Path

import pytest
from helpers import wait_until

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(shutil.which("chromedriver") is None, reason="needs Debian's chromium-driver")]

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def release_dash_app(release_app):
    import app as app_module

    return app_module.app


def _pdf_text(driver) -> tuple[str, int]:
    from pypdf import PdfReader

    pdf = driver.execute_cdp_cmd("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True})
    reader = PdfReader(io.BytesIO(base64.b64decode(pdf["data"])))
    text = " ".join(page.extract_text() or "" for page in reader.pages)
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)), len(reader.pages)   # NFKC: the "fi" ligature


def test_profile_print_compare_and_small_multiples(dash_duo, release_dash_app):
    from atlas.measures import MEASURES

    dash_duo.start_server(release_dash_app)
    base = dash_duo.server_url
    driver = dash_duo.driver

    # the atlas links the selected area to its profile, and says its key findings in words
    driver.get(f"{base}/#area=851")
    wait_until(lambda: "Aalborg" in dash_duo.find_element("#profile-link").text, what="the profile link")
    wait_until(lambda: "ranges from" in dash_duo.find_element("#key-findings").text, what="key findings")
    dash_duo.find_element("#profile-link-a").click()

    # the profile: title, every measure in the spine table, markers, notes, charts
    wait_until(lambda: dash_duo.find_element("#profile-title").text == "Aalborg: area profile", what="profile title")
    table = re.sub(r"\s+", " ", dash_duo.find_element("#spine-table").text)
    assert all(m.name("en") in table for m in MEASURES.values()), table
    assert len(dash_duo.find_elements("#spine-table .spine-area")) >= 10
    assert "EXAMPLE" in dash_duo.find_element("#good-practice").text
    wait_until(lambda: len(dash_duo.find_elements("#profile-trends .cartesianlayer .subplot")) >= 10, what="trend panels")
    wait_until(lambda: dash_duo.find_elements("#profile-mix .bars"), what="pathway mix bars")
    (ROOT / "docs").mkdir(exist_ok=True)
    driver.set_window_size(1366, 1200)
    time.sleep(0.5)
    driver.save_screenshot(str(ROOT / "docs" / "screenshot-profile.png"))

    # printed: a report of 2-5 pages holding the title, every measure, the source and the methods note
    text, pages = _pdf_text(driver)
    # (5 since the profile has its comparable municipalities, avoidable imaging and recent trend)
    assert 2 <= pages <= 5, pages
    assert "Aalborg: area profile" in text
    missing = [m.name("en") for m in MEASURES.values() if m.name("en") not in text]
    assert not missing, missing
    assert "Source:" in text and "Methods" in text and "Printed:" in text
    assert "Find an area's profile" not in text          # controls are not printed

    # compare: three areas side by side, and two measures correlated with the areas highlighted
    driver.get(f"{base}/compare#areas=851,101,461&x=imaging_rate&y=mri_share")
    wait_until(lambda: "København" in dash_duo.find_element("#compare-table").text, what="the side-by-side table")
    head = dash_duo.find_element("#compare-table thead").text
    assert all(n in head for n in ("Aalborg", "København", "Odense"))
    wait_until(lambda: "Pearson's r =" in dash_duo.find_element("#compare-corr").text, what="the correlation")
    assert re.search(r"95% CI -?\d\.\d\d to -?\d\.\d\d", dash_duo.find_element("#compare-corr").text)
    wait_until(lambda: len(dash_duo.find_elements("#compare-scatter .point")) > 50, what="scatter points")
    labels = dash_duo.find_element("#compare-scatter").text
    assert "Aalborg" in labels and "Odense" in labels

    # all trends: a panel per region (98 municipalities draw alike, only slower), ordered by change,
    # with the change beyond chance said
    driver.get(f"{base}/trends#level=region&order=change")
    wait_until(lambda: "beyond chance" in dash_duo.find_element("#trends-summary").text, what="trend summary")
    wait_until(lambda: len(dash_duo.find_elements("#trends-grid .cartesianlayer .subplot")) == 5, what="5 small multiples")
    assert "Region Nordjylland" in dash_duo.find_element("#trends-grid").text
    assert dash_duo.get_logs() in (None, []) or not [l for l in dash_duo.get_logs() if l["level"] == "SEVERE"]
