"""Every page of the published release at a laptop's 1366 x 768, in English and Danish: no text cut
off (the same measure as on a phone, tests/test_browser_ui.py). The release's words are the longer
ones (a cell or month "hidden to protect" another): a legend line of the return letters' charts ran
past its chart at this width in Danish."""
from __future__ import annotations

import pytest
from test_browser_ui import CUT_TEXT, _every_page

pytestmark = pytest.mark.browser


@pytest.fixture
def release_dash_app(release_app):
    import app as app_module

    return app_module.app


def test_no_text_is_cut_off_on_a_laptop(dash_duo, release_dash_app):
    dash_duo.start_server(release_dash_app)
    cut = {}
    for page in _every_page(dash_duo, 1366, 768):
        found = dash_duo.driver.execute_script(CUT_TEXT)
        if found:
            cut[page] = found
    assert not cut, f"text cut off at 1366 px: {cut}"
