"""Issue 15 in a real headless Chromium: the cluster map and panel, the providers and the map
colour classes, and the table view."""
from __future__ import annotations

import re
import shutil
from urllib.parse import unquote

import pytest
from helpers import wait_until
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from etl.synthetic import load_effects

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(shutil.which("chromedriver") is None, reason="needs Debian's chromium-driver")]

CLUSTER_NAMES = {"Slagelse", "Sorø", "Næstved", "Ringsted", "Faxe", "Vordingborg"}


def _hash(dash_duo) -> str:
    return unquote(dash_duo.driver.execute_script("return window.location.hash"))


def _map_colours(dash_duo) -> list[str]:
    """The fill colours of the drawn municipalities."""
    return dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('#map path.choroplethlocation'))"
        ".map(p => getComputedStyle(p).fill)")


def _legend(dash_duo) -> str:
    return " ".join(e.text for e in dash_duo.find_elements("#map .colorbar text, #map .cbaxis text"))


def _click(dash_duo, element) -> None:
    """Scroll the element to the middle of the window, then click it (the sidebar is long)."""
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    wait_until(lambda: element.is_displayed(), 10, "element visible")
    dash_duo.driver.execute_script("arguments[0].click();", element)


def _click_label(dash_duo, text: str) -> None:
    _click(dash_duo, dash_duo.driver.find_element(By.XPATH, f"//label[normalize-space()=\"{text}\"]"))


def _severe(dash_duo) -> list:
    return [entry for entry in (dash_duo.get_logs() or []) if entry["level"] == "SEVERE"]


def test_cluster_map_and_panel(dash_duo, atlas_app):
    assert set(load_effects()["imaging"]["mri_cluster"]["kommune_codes"])      # the planted cluster exists
    dash_duo.start_server(atlas_app)
    base = dash_duo.server_url
    dash_duo.driver.get(f"{base}/#y0=2013&modality=mri")
    wait_until(lambda: len(dash_duo.find_elements("#map path.choroplethlocation")) >= 96, 120, "map")
    _click_label(dash_duo, "Spatial clusters (local Moran's I)")
    wait_until(lambda: "colours=cluster" in _hash(dash_duo), 30, "cluster mode in the address")
    wait_until(lambda: "High-high" in _legend(dash_duo), 120, "cluster legend on the map")
    # the hot-spot colour is drawn on the map, and the panel names a planted municipality
    hot = "rgb(213, 94, 0)"                                                  # #D55E00 in map_colours.toml
    wait_until(lambda: hot in _map_colours(dash_duo), 30, "a hot spot on the map")
    panel = dash_duo.find_element("#cluster-panel")
    wait_until(lambda: "Global Moran's I" in panel.text, 120, "global Moran's I in the panel")
    listed = dash_duo.find_element("#cluster-list").text
    assert "High-high" in listed and CLUSTER_NAMES & set(re.split(r"[:,]\s*|\n", listed)), listed
    assert "9,999 permutations" in panel.text and "false discovery rate" in panel.text
    # the address restores the cluster map in a new page load
    dash_duo.driver.get(f"{base}/{dash_duo.driver.execute_script('return window.location.hash')}")
    wait_until(lambda: hot in _map_colours(dash_duo), 120, "hot spot after reload")
    assert not _severe(dash_duo)


def test_fixed_classes_and_user_breaks(dash_duo, atlas_app):
    dash_duo.start_server(atlas_app)
    base = dash_duo.server_url
    dash_duo.driver.get(f"{base}/#y0=2024&colours=quantile")
    wait_until(lambda: "≤" in _legend(dash_duo), 120, "class legend")
    wait_until(lambda: "Classes fixed over all years" in dash_duo.find_element("#colour-note").text, 30, "note")
    legend_2024 = _legend(dash_duo)
    # another year: the same classes (fixed over the whole period), other colours per area
    colours_2024 = _map_colours(dash_duo)
    dash_duo.driver.get(f"{base}/#y0=2013&y1=2013&colours=quantile")
    wait_until(lambda: "≤" in _legend(dash_duo) and _map_colours(dash_duo) != colours_2024, 120, "2013 map")
    assert _legend(dash_duo) == legend_2024
    # own breaks typed in: three breaks give four classes, kept in the address
    _click_label(dash_duo, "Fixed classes: my breaks")
    box = dash_duo.find_element("#breaks")
    box.send_keys("40, 60, 80", Keys.ENTER)
    wait_until(lambda: "breaks=40,60,80" in _hash(dash_duo), 30, "breaks in the address")
    wait_until(lambda: "40.0–60.0" in _legend(dash_duo) and "> 80.0" in _legend(dash_duo), 120, "breaks legend")
    # significance colours: the funnel flags
    _click_label(dash_duo, "Significance (funnel limits)")
    wait_until(lambda: "Above 99.8% limit" in _legend(dash_duo), 120, "significance legend")
    assert not _severe(dash_duo)


def test_providers_measure_pathways_and_table_view(dash_duo, atlas_app):
    dash_duo.start_server(atlas_app)
    base = dash_duo.server_url
    dash_duo.driver.get(f"{base}/#measure=private_mri_share&tables=1")
    wait_until(lambda: dash_duo.driver.find_elements(By.CSS_SELECTOR, "#table-map table"), 120, "table view of the map")
    assert "MRI at private clinics" in dash_duo.driver.find_element(By.ID, "measure").get_attribute("textContent")
    region = dash_duo.driver.find_element(By.CSS_SELECTOR, "#table-map .table-view")
    assert region.get_attribute("role") == "region" and region.get_attribute("aria-label") == "Table: Map"
    table = dash_duo.driver.find_element(By.CSS_SELECTOR, "#table-map table")
    assert "København" in table.text and table.find_elements(By.TAG_NAME, "th")
    # every atlas chart has its table, including the clusters panel
    for chart in ("rank", "funnel", "trend", "mix", "breakdown", "clusters"):
        assert dash_duo.driver.find_elements(By.CSS_SELECTOR, f"#table-{chart} table"), chart
    assert "Imaging at private clinics" in dash_duo.driver.find_element(By.CSS_SELECTOR, "#table-mix").text
    # switching tables off removes them and the address forgets it
    _click(dash_duo, dash_duo.find_element("#tables"))
    wait_until(lambda: not dash_duo.driver.find_elements(By.CSS_SELECTOR, "#table-map"), 30, "tables off")
    assert "tables=1" not in _hash(dash_duo)
    # the pathways page shows where the imaging was done
    dash_duo.driver.get(f"{base}/pathways")
    wait_until(lambda: dash_duo.find_elements("#pw-private-mri .scatterlayer .trace"), 120, "private MRI trend")
    assert "Where imaging was done" in dash_duo.find_element("#main-content").text
    # and its charts as tables too, the providers' among them
    dash_duo.driver.get(f"{base}/pathways#tables=1")
    wait_until(lambda: dash_duo.driver.find_elements(By.CSS_SELECTOR, "#pw-table-providers table"), 120,
               "the providers' table on the pathways page")
    assert "MRI at private clinics" in dash_duo.driver.find_element(By.CSS_SELECTOR, "#pw-table-providers").text
    for chart in ("sankey", "repeat", "lowvalue", "referrer"):
        assert dash_duo.driver.find_elements(By.CSS_SELECTOR, f"#pw-table-{chart} table"), chart
    assert not _severe(dash_duo)
