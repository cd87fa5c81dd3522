"""The plain-data figures (atlas.plot) against what Plotly's own objects write for the same calls."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from atlas.plot import Figure, grid, plain, stacked


def test_plain_writes_json_ready_values():
    out = plain({"x": pd.Series([1.0, np.nan]), "y": np.array([1, 2]), "z": np.float64(2.5), "t": (1, {"a": np.int64(3)})})
    assert out == {"x": [1.0, None], "y": [1, 2], "z": 2.5, "t": [1, {"a": 3}]}
    json.dumps(out, allow_nan=False)
    assert type(plain(np.float64(1.5))) is float and type(plain([np.float64(2.0)])[0]) is float


def test_a_later_update_never_changes_the_callers_dict():
    font = {"family": "serif", "size": 13}
    fig = Figure().update_layout(font=font)
    fig.update_layout(font={"size": 20})
    assert font == {"family": "serif", "size": 13} and fig.layout["font"] == {"family": "serif", "size": 20}


def test_vertical_line_and_band_match_plotly():
    ours = Figure().add_vline(5, {"dash": "dash", "color": "#444"}, "Denmark")
    ours.add_vrect(2019.5, 2021.5, "#fdd0a2", 0.25)
    theirs = go.Figure()
    theirs.add_vline(x=5, line_dash="dash", line_color="#444", annotation_text="Denmark", annotation_position="bottom right")
    theirs.add_vrect(x0=2019.5, x1=2021.5, fillcolor="#fdd0a2", opacity=0.25, line_width=0, layer="below")
    ref = theirs.to_plotly_json()["layout"]
    for mine, plotly_shape in zip(ours.layout["shapes"], ref["shapes"]):
        assert {k: mine[k] for k in ("type", "x0", "x1", "xref", "y0", "y1", "yref")} == \
               {k: plotly_shape[k] for k in ("type", "x0", "x1", "xref", "y0", "y1", "yref")}
    note, plotly_note = ours.layout["annotations"][0], ref["annotations"][0]
    assert {k: note[k] for k in ("x", "y", "yref", "xanchor", "yanchor", "text")} == \
           {k: plotly_note[k] for k in ("x", "y", "yref", "xanchor", "yanchor", "text")}


def test_stacked_panels_are_laid_out_as_make_subplots_lays_them_out():
    titles, heights = ["Sex", "Age", "Education"], [2, 7, 3]
    ours = stacked(titles, heights, spacing=0.045).to_plotly_json()["layout"]
    theirs = make_subplots(rows=3, cols=1, shared_xaxes=True, row_heights=heights, vertical_spacing=0.045,
                           subplot_titles=titles).to_plotly_json()["layout"]
    for axis in ("yaxis", "yaxis2", "yaxis3"):
        assert np.allclose(ours[axis]["domain"], theirs[axis]["domain"]), axis
        assert ours[axis]["anchor"] == theirs[axis]["anchor"]
    for axis in ("xaxis", "xaxis2"):
        assert ours[axis]["matches"] == theirs[axis]["matches"] == "x3"
    assert [a["text"] for a in ours["annotations"]] == titles
    assert np.allclose([a["y"] for a in ours["annotations"]], [a["y"] for a in theirs["annotations"]])
    fig = stacked(titles, heights)
    fig.add_trace({"type": "scatter", "x": [1], "y": ["a"]}, row=2, col=1)
    assert fig.data[0]["xaxis"] == "x2" and fig.data[0]["yaxis"] == "y2"


def test_a_grid_of_own_axes_is_laid_out_as_make_subplots_lays_it_out():
    """The area profile's panels (one per measure, each with its own axes): the same domains, anchors
    and titles as ``make_subplots`` writes, a band in its panel, and no axis shared."""
    titles = [f"Measure {i}" for i in range(10)]
    rows, cols, vspace, hspace = 3, 4, 0.5 / 3, 0.05
    ours, refs = grid(titles, cols, vspace=vspace, hspace=hspace, shared_x=False, shared_y=False)
    ours.add_vrect(2023.5, 2024.5, "#bdbdbd", 0.45, axes=refs[6])
    theirs = make_subplots(rows=rows, cols=cols, subplot_titles=titles, vertical_spacing=vspace, horizontal_spacing=hspace)
    theirs.add_vrect(x0=2023.5, x1=2024.5, fillcolor="#bdbdbd", opacity=0.45, line_width=0, layer="below", row=2, col=3,
                    exclude_empty_subplots=False)
    mine, ref = ours.to_plotly_json()["layout"], theirs.to_plotly_json()["layout"]
    for i in range(len(titles)):
        for letter in "xy":
            axis = f"{letter}axis{'' if i == 0 else i + 1}"
            assert np.allclose(mine[axis]["domain"], ref[axis]["domain"]), axis
            assert mine[axis]["anchor"] == ref[axis]["anchor"] and "matches" not in mine[axis], axis
    assert refs[6] == ("x7", "y7")
    assert not any(f"xaxis{i + 1}" in mine for i in range(len(titles), rows * cols))    # no empty panels
    for a, b in zip(mine["annotations"], ref["annotations"]):
        assert a["text"] == b["text"] and np.allclose([a["x"], a["y"]], [b["x"], b["y"]])
        assert (a["xanchor"], a["yanchor"], a["xref"], a["yref"]) == (b["xanchor"], b["yanchor"], b["xref"], b["yref"])
    keys = ("type", "x0", "x1", "xref", "y0", "y1", "yref", "fillcolor", "opacity", "layer")
    assert {k: mine["shapes"][0][k] for k in keys} == {k: ref["shapes"][0][k] for k in keys}
    assert mine["shapes"][0]["line"]["width"] == ref["shapes"][0]["line"]["width"] == 0
    assert grid(titles, cols, vspace, hspace)[0].layout["xaxis2"]["matches"] == "x"      # the default still shares


def test_the_figure_carries_plotlys_default_template():
    layout = Figure().to_plotly_json()["layout"]
    assert layout["template"] == json.loads(json.dumps(go.Figure().to_plotly_json()["layout"]["template"]))


def test_a_cached_figure_is_handed_out_as_a_fresh_copy_each_time():
    from atlas.cache import cached

    @cached(maxsize=2)
    def chart(n: int) -> Figure:
        return Figure().add_trace({"type": "scatter", "x": np.arange(n), "y": pd.Series([1.5] * n),
                                   "text": ["a"] * n})

    first = chart(3)
    first["data"][0]["x"].append(99)
    first["layout"]["height"] = 1
    again = chart(3)
    assert again["data"][0]["x"] == [0, 1, 2] and "height" not in again["layout"]
    assert again["data"][0]["y"] == [1.5, 1.5, 1.5] and type(again["data"][0]["y"][0]) is float


def test_a_cached_plotly_figure_keeps_its_arrays():
    from atlas.cache import cached

    @cached(maxsize=1)
    def chart() -> go.Figure:
        return go.Figure(go.Bar(x=np.array([], dtype=float), y=[]))

    json.dumps(chart(), cls=__import__("plotly").utils.PlotlyJSONEncoder)      # no bytes where arrays were
    assert not isinstance(chart()["data"][0]["x"], bytes)
