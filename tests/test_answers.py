"""Every view answers, and answers right (issue 11): caches, empty selections, incomplete years,
drill-down of the 2027 regions, the pathway table's totals, the return letters' regression and
malformed requests. Called through the app's own functions and its Flask test client."""
from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import sys

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from etl.settings import REPO_ROOT


@pytest.fixture(scope="module")
def app_module(app_db):
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import app as module

    return module


@pytest.fixture(scope="module")
def client(app_module):
    app_module.server.config["TESTING"] = False
    return app_module.server.test_client()


# ------------------------------------------------------------------ caches hand out copies

def test_cached_answers_cannot_be_changed_by_their_receiver():
    from atlas.cache import cached

    calls = []

    @cached(maxsize=4)
    def answer(n):
        calls.append(n)
        fig = go.Figure(go.Bar(x=[1, 2], y=[3, 4]))
        return pd.DataFrame({"a": [1, 2]}), pd.Series({"x": 1.0}), {"k": [1, 2]}, fig, [1, {2}]

    frame, row, d, fig, lst = answer(1)
    frame["a"] = 0
    frame["b"] = 1
    row["x"] = 99
    d["k"].append(3)
    fig["data"][0]["y"] = [0, 0]
    lst[1].add(5)
    again = answer(1)
    assert calls == [1]                                  # served from the cache ...
    assert list(again[0].columns) == ["a"] and again[0]["a"].tolist() == [1, 2]   # ... unchanged
    assert again[1]["x"] == 1.0 and again[2] == {"k": [1, 2]} and again[4] == [1, {2}]
    assert list(again[3]["data"][0]["y"]) == [3, 4]


def test_no_lru_cache_hands_out_shared_objects_in_the_app(app_module):
    """Every memo in atlas/ and pages/ is an atlas.cache one (a plain lru_cache returns shared objects)."""
    import atlas
    import pages

    found = []
    for package in (atlas, pages):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for name, obj in vars(module).items():
                if callable(obj) and hasattr(obj, "cache_info") and not hasattr(obj, "uncached"):
                    if getattr(obj, "__module__", "") == module.__name__:
                        found.append(f"{module.__name__}.{name}")
    assert not found, found


def test_danish_breakdown_download_does_not_blank_the_chart(app_module):
    from atlas import export
    from atlas.filters import View
    from pages import atlas as page

    years = __import__("atlas.db", fromlist=["years"]).years()
    view = View(y0=years[-2], y1=years[-2], lang="da").with_dim("sex", 2)
    export.chart_csv("breakdown", view)                          # relabels the dimensions in Danish
    from atlas.state import hash_of

    fig = page.draw_breakdown(hash_of(view), "")                 # English, drawn after the download
    data = fig["data"] if isinstance(fig, dict) else fig.data
    assert len(data) == 6, "the breakdown chart lost its groups after a Danish download"
