"""Issue 13 in a real headless Chromium: the keyboard, a phone's width, and messages that fit.

- every radio group is one tab stop (its inputs share a name), arrow keys move within it, and the
  choice reaches the address;
- the keyboard can drill down: a region chosen in the search box shows its municipalities, as a
  click on the region map does;
- at 390 px no page scrolls sideways, in English and in Danish, and no text (label, button,
  heading, dropdown value, table cell) is cut by its box or the edge of the page, and no chart
  text lies outside its chart;
- the date picker (/returns) and the year slider (atlas) speak the page's language: month and
  weekday names and their buttons' labels;
- the "nobody in this selection" message fits inside the map, ranking and funnel cards, on a
  laptop and on a phone.
"""
from __future__ import annotations

import shutil
from urllib.parse import unquote

import pytest
from helpers import LOADING, wait_gone, wait_until
from selenium.webdriver.common.keys import Keys

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(shutil.which("chromedriver") is None, reason="needs Debian's chromium-driver")]

PAGES = ("/", "/pathways", "/returns", "/trends", "/compare", "/methods", "/area/101")


def _wait(predicate, timeout=40, what="condition"):
    wait_until(predicate, timeout, what)


def _hash(dash_duo) -> str:
    return unquote(dash_duo.driver.execute_script("return window.location.hash"))


def _viewport(driver, width: int, height: int) -> None:
    """The page's viewport exactly ``width`` x ``height`` CSS pixels (a window's size includes its frame)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


def _loaded(dash_duo):
    wait_gone(dash_duo.driver, LOADING, 40, what="page loaded")


def test_radio_groups_are_one_tab_stop_and_arrows_move_within(dash_duo, atlas_app):
    dash_duo.start_server(atlas_app)
    driver = dash_duo.driver
    for path in ("/", "/pathways", "/returns", "/trends", "/compare"):
        driver.get(dash_duo.server_url + path)
        _wait(lambda: driver.find_elements("css selector", "input[type=radio]"), what=f"radios on {path}")
        groups = driver.execute_script("""
            const out = {};
            for (const r of document.querySelectorAll('input[type=radio]')) {
              const group = r.closest('[id]:not(input)').id;
              (out[group] = out[group] || []).push(r.name);
            }
            return out;""")
        for group, names in groups.items():
            assert names[0] and len(set(names)) == 1, (path, group, names)
        assert len({names[0] for names in groups.values()}) == len(groups), (path, groups)
    # on /pathways: Tab from the window group's checked radio leaves the group; an arrow key moves within it
    driver.get(dash_duo.server_url + "/pathways")
    _wait(lambda: dash_duo.find_elements("#pw-sankey .main-svg"), what="Sankey")
    _loaded(dash_duo)
    checked = dash_duo.find_element("#pw-window input:checked")
    driver.execute_script("arguments[0].focus();", checked)
    checked.send_keys(Keys.TAB)
    after_tab = driver.switch_to.active_element
    assert after_tab.get_attribute("name") != "pw-window", "Tab stopped on another radio of the same group"
    driver.execute_script("arguments[0].focus();", checked)
    driver.switch_to.active_element.send_keys(Keys.ARROW_LEFT)
    _wait(lambda: "win=90" in _hash(dash_duo), what="the arrow key's choice in the address")
    _wait(lambda: "Within 90 days" in dash_duo.find_element("#pw-sankey").text, what="90-day Sankey")


def test_the_keyboard_drills_down_into_a_region(dash_duo, atlas_app):
    dash_duo.start_server(atlas_app)
    driver = dash_duo.driver
    driver.get(f"{dash_duo.server_url}/#level=region")
    _wait(lambda: len(dash_duo.find_elements("#map path.choroplethlocation")) == 5, what="regions")
    _loaded(dash_duo)
    box = dash_duo.find_element("#area-search")
    target = box.find_elements("css selector", "input, button, [tabindex]")
    driver.execute_script("arguments[0].focus();", target[0] if target else box)
    active = driver.switch_to.active_element
    active.send_keys(Keys.ENTER)
    driver.switch_to.active_element.send_keys("Region Nordjylland")
    _wait(lambda: any("Region Nordjylland" in o.text for o in dash_duo.find_elements(".dash-dropdown-option")),
          what="the region in the search box")
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    _wait(lambda: "within=1081" in _hash(dash_duo), what="drill-down in the address")
    _wait(lambda: len(dash_duo.find_elements("#map path.choroplethlocation")) == 11,
          what="Nordjylland's 11 municipalities")
    assert "level=region" not in _hash(dash_duo)


# Text a reader cannot read whole: a text node cut by a box that hides its overflow (overflow hidden or
# clip, an ellipsis) or by the edge of the page. A scroll box (overflow auto or scroll) is no cut: its
# text is reached by scrolling it; a visually hidden box (1 px, for screen readers) is skipped.
CUT_TEXT = """
const W = window.innerWidth, out = [];
function shown(el) {
  for (let e = el; e && e !== document.body; e = e.parentElement) {
    const s = getComputedStyle(e);
    if (s.display === 'none' || s.visibility === 'hidden' || parseFloat(s.opacity) === 0) return false;
  }
  return true;
}
function name(el, text) {
  const cls = (el.getAttribute('class') || '').split(/\s+/).filter(Boolean).slice(0, 2).map(c => '.' + c).join('');
  return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls + (text ? ' "' + text.trim().slice(0, 60) + '"' : '');
}
const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walk.nextNode()) {
  const node = walk.currentNode, el = node.parentElement;
  if (!el || !node.nodeValue.trim() || el.closest('script, style, noscript, svg, .visually-hidden')) continue;
  const range = document.createRange();
  range.selectNodeContents(node);
  const rects = [...range.getClientRects()].filter(r => r.width > 0 && r.height > 0);
  if (!rects.length || !shown(el)) continue;
  const left = Math.min(...rects.map(r => r.left)), right = Math.max(...rects.map(r => r.right));
  const top = Math.min(...rects.map(r => r.top)), bottom = Math.max(...rects.map(r => r.bottom));
  let cut = null, scrolls = false;
  for (let a = el; a && a !== document.documentElement; a = a.parentElement) {
    const s = getComputedStyle(a);
    if (s.overflowX === 'visible' && s.overflowY === 'visible' && s.textOverflow !== 'ellipsis') continue;
    const box = a.getBoundingClientRect();
    if (box.width <= 2 || box.height <= 2) { cut = 'hidden'; break; }
    const scrollsX = ['auto', 'scroll'].includes(s.overflowX), scrollsY = ['auto', 'scroll'].includes(s.overflowY);
    if ((s.overflowX !== 'visible' || s.textOverflow === 'ellipsis') && !scrollsX
        && (left < box.left - 1 || right > box.right + 1)) { cut = a; break; }
    if (s.overflowY !== 'visible' && !scrollsY && (top < box.top - 1 || bottom > box.bottom + 1)) { cut = a; break; }
    if (scrollsX || scrollsY) { scrolls = true; break; }
  }
  if (cut === 'hidden') continue;
  if (cut) out.push('cut by ' + name(cut) + ': ' + name(el, node.nodeValue));
  else if (!scrolls && (left < -1 || right > W + 1))
    out.push('beyond the page (' + Math.round(left) + ' to ' + Math.round(right) + ' px): ' + name(el, node.nodeValue));
}
// chart text (titles, axis titles and ticks, notes, legends): inside its chart's drawing, and on the
// page unless the chart scrolls in a box of its own
for (const plot of document.querySelectorAll('.js-plotly-plot')) {
  const svg = plot.querySelector('.main-svg');
  if (!svg || !shown(plot)) continue;
  const box = svg.getBoundingClientRect();
  let scroller = false;
  for (let a = plot.parentElement; a; a = a.parentElement)
    if (['auto', 'scroll'].includes(getComputedStyle(a).overflowX)) { scroller = true; break; }
  for (const t of plot.querySelectorAll('svg text')) {
    const r = t.getBoundingClientRect();
    if (!t.textContent.trim() || !r.width || !shown(t)) continue;
    const what = name(plot.closest('[id]') || plot) + ' ' + (t.getAttribute('class') || 'tick') + ' "' + t.textContent.trim().slice(0, 50) + '"';
    if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1)
      out.push('outside its chart by ' + [box.left - r.left, r.right - box.right, box.top - r.top, r.bottom - box.bottom]
               .map(Math.round) + ' px (left, right, top, bottom): ' + what);
    else if (!scroller && (r.left < -1 || r.right > W + 1)) out.push('chart text beyond the page: ' + what);
  }
}
return [...new Set(out)];
"""


def _every_page(dash_duo, width: int = 390, height: int = 844):
    """Every page at ``width`` x ``height`` in English and Danish, drawn (charts included where they
    draw): yields the page's name ("/trends (da)") with the page open, and restores the viewport."""
    driver = dash_duo.driver
    _viewport(driver, width, height)
    try:
        for lang in ("en", "da"):
            for path in PAGES:
                driver.get(dash_duo.server_url + path + ("?lang=da" if lang == "da" else ""))
                _wait(lambda: dash_duo.find_elements("main, #main-content"), what=f"{path} drawn")
                _loaded(dash_duo)
                try:        # charts drawn (a page may hold one that stays empty; it is checked anyway)
                    wait_gone(driver, ".dash-graph:not(:has(.main-svg))", 15, settle=0)
                except AssertionError:
                    pass
                yield f"{path} ({lang})"
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_no_page_scrolls_sideways_or_cuts_text_on_a_phone(dash_duo, atlas_app):
    """Every page at 390 px in English and Danish: nothing wider than the phone, and no label, button,
    heading, dropdown value or cell whose text runs out of a box that hides it (a long Danish measure
    name in a dropdown was cut to "Billeddiagnostik af lænden pr. 1.0"), and no chart text outside its
    chart (titles, axis titles, notes and the mix chart's measure names ran up to 119 px past the edge)."""
    dash_duo.start_server(atlas_app)
    driver = dash_duo.driver
    wide, cut = {}, {}
    for page in _every_page(dash_duo):
        sizes = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth];")
        if sizes[0] > sizes[1]:
            wide[page] = sizes
        found = driver.execute_script(CUT_TEXT)
        if found:
            cut[page] = found
    assert not wide, f"pages wider than a 390 px phone: {wide}"
    assert not cut, f"text cut off on a 390 px phone: {cut}"


def test_the_date_and_year_controls_speak_the_pages_language(dash_duo, atlas_app):
    """The returns page's date picker names the month and the weekdays in the page's language (Babel's
    names are the oracle) and labels its buttons in it; the year slider's handles too."""
    import datetime

    import babel.dates

    from atlas.returns.constants import DEFAULT_INTERVENTION

    day = datetime.date.fromisoformat(DEFAULT_INTERVENTION)
    english = {"Select Date", "Previous month", "Next month", "Decrease value", "Increase value", "Minimum", "Maximum"}
    dash_duo.start_server(atlas_app)
    driver = dash_duo.driver
    labels = "return [...document.querySelectorAll(arguments[0])].map(e => e.getAttribute('aria-label'));"
    for lang in ("en", "da"):
        driver.get(f"{dash_duo.server_url}/returns" + ("?lang=da" if lang == "da" else ""))
        _wait(lambda: dash_duo.find_elements("#ret-date"), what="the date picker")
        _loaded(dash_duo)
        dash_duo.find_element("#ret-date").click()
        calendar = ".dash-datepicker-content"
        _wait(lambda calendar=calendar: dash_duo.find_elements(calendar), what="the calendar open")
        month = babel.dates.format_date(day, "LLLL", locale=lang)
        weekdays = [w.rstrip(".")[:2] for w in (babel.dates.get_day_names("abbreviated", locale=lang)[i]
                                                 for i in range(7))]
        _wait(lambda month=month, calendar=calendar: month in dash_duo.find_element(calendar).text, what=f"{month} in the calendar")
        words = dash_duo.find_element(calendar).text.split()
        assert all(w in words for w in weekdays), (lang, weekdays, words)
        said = driver.execute_script(labels, "#ret-date, #ret-date *, [class*='datepicker'] [aria-label]")
        said += [dash_duo.find_element("#ret-date").get_attribute("placeholder")]
        if lang == "da":
            assert not english & set(said), said
            assert "Vælg en dato" in said and "Næste måned" in said
        else:
            assert "Next month" in said and "Choose a date" in said
        driver.get(f"{dash_duo.server_url}/" + ("?lang=da" if lang == "da" else ""))
        _wait(lambda: driver.execute_script(labels, "#years [aria-label]"), what="the year slider's handles")
        handles = driver.execute_script(labels, "#years [aria-label]")
        assert handles == (["Første år", "Sidste år"] if lang == "da" else ["Minimum", "Maximum"]), handles


def test_an_empty_selection_message_fits_its_cards(dash_duo, atlas_app):
    from test_sweep import empty_selection

    dims = empty_selection()
    dash_duo.start_server(atlas_app)
    driver = dash_duo.driver
    try:
        for width, height in ((1366, 768), (390, 844)):
            _viewport(driver, width, height)
            for lang in ("", "?lang=da"):
                driver.get(f"{dash_duo.server_url}/{lang}#{dims}")
                # each chart draws its message on its own answer: wait for all three, not the ranking's alone
                try:
                    _wait(lambda: all(dash_duo.find_elements(f"#{c} .annotation-text") for c in ("map", "rank", "funnel")),
                          what="message on the map, ranking and funnel")
                except AssertionError as err:
                    # say what each chart showed instead, so a failure can be read without rerunning it
                    shown = driver.execute_script("""
                        const out = {hash: window.location.hash, loading: document.querySelectorAll(
                            '._dash-loading, [data-dash-is-loading="true"]').length};
                        for (const id of ['map', 'rank', 'funnel']) {
                          const el = document.getElementById(id);
                          out[id] = el ? {texts: [...el.querySelectorAll('.annotation-text, .gtitle')].map(t => t.textContent),
                                          traces: el.data ? el.data.length : null} : 'absent';
                        }
                        return out;""")
                    raise AssertionError(f"{err} at {width}px {lang or 'en'}; the page showed {shown}") from None
                _loaded(dash_duo)
                boxes = driver.execute_script("""
                    const out = {};
                    for (const id of ['map', 'rank', 'funnel']) {
                      const svg = document.querySelector('#' + id + ' .main-svg').getBoundingClientRect();
                      const text = document.querySelector('#' + id + ' .annotation-text').getBoundingClientRect();
                      out[id] = [text.left - svg.left, svg.right - text.right, text.top - svg.top, svg.bottom - text.bottom];
                    }
                    return out;""")
                for chart, gaps in boxes.items():
                    assert min(gaps) >= 0, f"the message is cut off in {chart} at {width}px {lang}: {gaps}"
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_sankey_names_do_not_run_into_other_nodes_on_a_phone(dash_duo, atlas_app):
    """Issue 29: at 390 px the full names ("Practising specialist", "Rehabilitation plan") ran over the
    middle column's nodes and names; there the Sankey draws short ones, and the full ones on a laptop."""
    dash_duo.start_server(atlas_app)
    driver = dash_duo.driver
    try:
        for width, lang in ((390, ""), (390, "?lang=da"), (1366, "")):
            _viewport(driver, width, 900)
            driver.get(f"{dash_duo.server_url}/pathways{lang}")
            _wait(lambda: len(dash_duo.find_elements(".sankey .node-label")) >= 9, what="the Sankey's names")
            _loaded(dash_duo)
            found = driver.execute_script("""
                const box = e => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
                return {labels: [...document.querySelectorAll('.sankey .node-label')].map(t => [t.textContent, box(t)]),
                        nodes: [...document.querySelectorAll('.sankey .node-rect')].map(box)};""")
            labels, nodes = found["labels"], found["nodes"]

            def meet(a, b):
                return a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1

            for i, (name, b) in enumerate(labels):
                assert not [n for n in nodes if meet(b, n)], f"{name!r} runs into a node at {width}px {lang}"
                assert not [o for o, c in labels[i + 1:] if meet(b, c)], f"{name!r} overlaps a name at {width}px {lang}"
            names = {n for n, _ in labels}
            if width < 600:
                assert "Specialist" in names or "Speciallæge" in names
            else:
                assert "Practising specialist" in names
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
