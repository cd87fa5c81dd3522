"""Issue 30, one figure API: the return-letters page's four charts are plain figure data
(:class:`atlas.plot.Figure`), as the atlas page's are, and their JSON is what Plotly's object layer
(``plotly.graph_objects``, which drew them before) writes for the same figure: Plotly's objects
re-read from our JSON change nothing, so the browser draws the same charts.
"""
from __future__ import annotations

import base64
import json
import math
import re
from dataclasses import replace

import numpy as np
import plotly.graph_objects as go
from plotly.io.json import to_json_plotly

DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})([ T]00:00:00(\.0+)?)?$")


def _same_form(x):
    """JSON in one form: Plotly's typed arrays as lists, NaN as null, numbers as floats, midnight
    timestamps as dates (each pair is the same to Plotly.js)."""
    if isinstance(x, dict):
        if "bdata" in x and "dtype" in x:
            a = np.frombuffer(base64.b64decode(x["bdata"]), dtype=np.dtype(x["dtype"]))
            if "shape" in x:
                a = a.reshape([int(n) for n in str(x["shape"]).split(",")])
            return _same_form(a.tolist())
        return {k: _same_form(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_same_form(v) for v in x]
    if isinstance(x, bool) or x is None:
        return x
    if isinstance(x, (int, float)):
        return None if math.isnan(x) else float(x)
    if isinstance(x, str):
        m = DATE.match(x)
        return m.group(1) if m else x
    return x


def _json(figure_dict) -> dict:
    return _same_form(json.loads(to_json_plotly(figure_dict)))


def test_the_returns_charts_are_plain_data_that_plotly_would_write_alike(app_db):
    from atlas import returns as R
    from atlas.plot import Figure

    centres = list(R.centres()["producer_id"])
    views = [R.ReturnsView(), R.ReturnsView(measure="letters", exam="knee"), R.ReturnsView(centre=centres[0])]
    checked = set()
    for lang in ("en", "da"):
        for v in views:
            v = replace(v, lang=lang)
            s, r = R.its(v)
            tbl = R.by_centre(v)
            for key, fig in (("its", R.stamp(R.fig_its(s, r, v), "ret_chart_its", v)),
                             ("exam", R.stamp(R.fig_by_exam(R.by_exam(v), v), "ret_chart_exam", v, counts=True)),
                             ("centres", R.stamp(R.fig_centres(tbl, v), "ret_chart_centres", v, counts=True)),
                             ("spread", R.stamp(R.fig_spread(tbl, v), "ret_chart_spread", v))):
                assert isinstance(fig, Figure) and not isinstance(fig, go.Figure), key
                ours = fig.to_plotly_json()
                # Plotly's objects check every property (an unknown one raises) and write their own form
                theirs = go.Figure(ours).to_plotly_json()
                assert _json(ours) == _json(theirs), (key, lang, v)
                checked.add((key, len(ours["data"])))
    kinds = {k for k, _ in checked}
    assert kinds == {"its", "exam", "centres", "spread"}
    assert all(n > 0 for _, n in checked)


def test_the_comparison_sees_a_difference():
    """The form that ``go.Figure`` would rewrite (an axis title as a string, a named colour scale) is
    told apart: the test above can fail."""
    from atlas.plot import Figure

    fig = Figure([{"type": "heatmap", "z": [[1.0, 2.0]], "colorscale": "YlGnBu"}])
    fig.update_yaxes(title="Number per month")
    ours = fig.to_plotly_json()
    assert _json(ours) != _json(go.Figure(ours).to_plotly_json())
