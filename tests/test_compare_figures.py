"""Issue 30, one figure API: /compare's scatter (one measure against another) and its dot chart are
plain figure data (:class:`atlas.plot.Figure`), and their JSON is what Plotly's object layer
(``plotly.graph_objects``, which drew them before) writes for the same figure. With /returns and
/pathways, no page draws a ``go.Figure`` any more.
"""
from __future__ import annotations

import plotly.graph_objects as go
from test_returns_figures import _json


def test_the_compare_charts_are_plain_data_that_plotly_would_write_alike(app_db):
    import app  # noqa: F401  (registers the pages)
    import pages.compare as page
    from atlas import compare_state
    from atlas.plot import Figure

    scatters = dots = 0
    for lang in ("en", "da"):
        for address in ("#areas=101,751,851&x=mri_share&y=imaging_rate", "#level=region&areas=1081,1084",
                        "#areas=825,101&x=lowvalue_rate&y=persons_rate"):
            state = compare_state.read_hash(address)
            fig = page.scatter_section(state, lang)[0]
            assert isinstance(fig, Figure) and not isinstance(fig, go.Figure)
            ours = fig.to_plotly_json()
            assert _json(ours) == _json(go.Figure(ours).to_plotly_json()), ("scatter", lang, address)
            scatters += len(ours["data"][0]["x"]) > 3
            assert ours["layout"]["xaxis"]["title"]["text"] and ours["layout"]["yaxis"]["title"]["text"]
            fig = page.side_section(state, lang)[-1].figure
            assert isinstance(fig, Figure) and not isinstance(fig, go.Figure)
            ours = fig.to_plotly_json()
            assert _json(ours) == _json(go.Figure(ours).to_plotly_json()), ("dots", lang, address)
            assert len(ours["data"]) == len(state["areas"]) and ours["layout"]["shapes"][0]["x0"] == 100
            dots += all(len(tr.get("customdata") or []) == len(tr["x"]) for tr in ours["data"])
    assert scatters == 6 and dots == 6


def test_no_page_module_imports_plotlys_object_layer():
    """The app draws every chart as plain figure data (atlas.plot): nothing under atlas/ or pages/
    imports plotly.graph_objects or make_subplots."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    found = [str(f.relative_to(root)) for d in ("atlas", "pages") for f in (root / d).rglob("*.py")
             if re.search(r"^\s*(import plotly\.graph_objects|from plotly\.subplots import|from plotly import graph_objects)",
                          f.read_text(encoding="utf-8"), re.M)]
    assert not found, found
