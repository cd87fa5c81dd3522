"""Issue 30, one figure API: the pathways page's Sankey and its low-value imaging by referrer are plain
figure data (:class:`atlas.plot.Figure`), as its trends already were, and their JSON is what Plotly's
object layer (``plotly.graph_objects``, which drew them before) writes for the same figure.
"""
from __future__ import annotations

from dataclasses import replace

import plotly.graph_objects as go
import pytest
from test_returns_figures import _json


def test_the_pathways_charts_are_plain_data_that_plotly_would_write_alike(app_db):
    from atlas import coverage
    from atlas import pathways as P
    from atlas.filters import View
    from atlas.plot import Figure

    year = coverage.default_year()
    views = [View(y0=year, y1=year), View(level="region", area=1081, y0=2022, y1=2024),
             View(level="municipality", area=101, y0=year, y1=year).with_dim("sex", 2)]
    drawn = {"sankey": 0, "referrer": 0}
    for lang in ("en", "da"):
        for v in views:
            v = replace(v, lang=lang)
            for win in P.WINDOWS:
                fig, _ = P.sankey(P.pathways(v, win), v, win)
                assert isinstance(fig, Figure) and not isinstance(fig, go.Figure)
                ours = fig.to_plotly_json()
                assert _json(ours) == _json(go.Figure(ours).to_plotly_json()), ("sankey", lang, v, win)
                drawn["sankey"] += bool(ours["data"][0]["link"]["value"])
                # the column headings: left, centre and right above the three columns
                heads = [a for a in ours["layout"]["annotations"] if a["text"].startswith("<b>")]
                assert [a["xanchor"] for a in heads] == ["left", "center", "right"]
            fig = P.referrer_figure(P.by_referrer(v), v)
            assert isinstance(fig, Figure) and not isinstance(fig, go.Figure)
            ours = fig.to_plotly_json()
            assert _json(ours) == _json(go.Figure(ours).to_plotly_json()), ("referrer", lang, v)
            if ours["data"]:
                drawn["referrer"] += 1
                # two panels with their own axes, each bar in its panel, as make_subplots lays them out
                layout = ours["layout"]
                assert layout["xaxis"]["domain"] == pytest.approx([0.0, 0.41])
                assert layout["xaxis2"]["domain"] == pytest.approx([0.59, 1.0])
                assert {(tr["xaxis"], tr["yaxis"]) for tr in ours["data"]} == {("x", "y"), ("x2", "y2")}
                assert layout["xaxis"]["title"]["text"] == "%"
    assert drawn["sankey"] >= 6 and drawn["referrer"] >= 4, drawn
