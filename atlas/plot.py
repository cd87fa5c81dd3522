"""Plotly figures as the plain data Dash sends, built without Plotly's object layer.

A Plotly figure is JSON: a list of traces and a layout. ``plotly.graph_objects`` wraps each
property in an object and checks it; on the atlas's answers that layer took more time than the
statistics behind the chart (a map, ranking and funnel plot: about a third of the answer). The
atlas's charts are drawn here as dicts instead, with the few helpers of ``go.Figure`` they use
(``add_trace``, ``update_layout``, ``update_xaxes``, ``add_vline``, ``add_vrect``, stacked panels
as ``make_subplots`` lays them out). What each helper writes is Plotly's own schema
(https://plotly.com/python/reference/); the browser tests check what is drawn.

:class:`Figure` turns into JSON like a Plotly figure (``to_plotly_json``), so ``dcc.Graph``, Dash's
encoder and :mod:`atlas.cache` take it as they take a ``go.Figure``.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from atlas.cache import cached, frozen_json


@cached(maxsize=1)
def default_template() -> Mapping:
    """Plotly's default template, read once, read-only (:func:`plain` writes a copy into each figure)."""
    import plotly.io as pio

    return frozen_json(pio.templates[pio.templates.default].to_plotly_json())


def plain(value):
    """``value`` as JSON-ready Python: arrays and Series as lists, numpy scalars as numbers, NaN as None."""
    kind = type(value)
    if kind is str or value is None or kind is bool or kind is int:
        return value
    if kind is float:                    # not numpy's float64 (a float subclass): made a float below
        return None if value != value else value
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (pd.Series, pd.Index)):
        value = value.to_numpy()
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            return [None if v != v else v for v in value.tolist()]          # NaN -> None
        if value.dtype.kind in "iub":
            return value.tolist()
        return [plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else float(value)
    return value


def merge(into: dict, new: dict) -> dict:
    """Merge ``new`` into ``into`` (nested dicts merged key by key, anything else replaced); dicts of
    ``new`` are copied, so a later merge never changes a caller's dict (a shared font, say)."""
    for k, v in new.items():
        if isinstance(v, dict):
            if not isinstance(into.get(k), dict):
                into[k] = {}
            merge(into[k], v)
        else:
            into[k] = v
    return into


class Figure:
    """Traces and a layout, as plain dicts; see the module."""

    plain_figure = True                  # atlas.cache keeps it as its JSON data

    def __init__(self, data: list[dict] | None = None, layout: dict | None = None):
        self.data: list[dict] = list(data or [])
        self.layout: dict = dict(layout or {})

    # ------------------------------------------------------------ traces and layout
    def add_trace(self, trace: dict, row: int | None = None, col: int | None = None) -> "Figure":
        trace = dict(trace)
        if row is not None and row > 1:
            trace.setdefault("xaxis", f"x{row}")
            trace.setdefault("yaxis", f"y{row}")
        self.data.append(trace)
        return self

    def update_layout(self, layout: dict | None = None, overwrite: bool = False, **kw) -> "Figure":
        new = {**(layout or {}), **kw}
        if overwrite:
            self.layout.update(new)
        else:
            merge(self.layout, new)
        return self

    def _axes(self, letter: str, row: int | None) -> list[str]:
        if row is not None:
            return [f"{letter}axis" + ("" if row == 1 else str(row))]
        names = [k for k in self.layout if k.startswith(f"{letter}axis")]
        return names or [f"{letter}axis"]

    def update_xaxes(self, row: int | None = None, col: int | None = None, **kw) -> "Figure":
        for name in self._axes("x", row):
            merge(self.layout.setdefault(name, {}), kw)
        return self

    def update_yaxes(self, row: int | None = None, col: int | None = None, **kw) -> "Figure":
        for name in self._axes("y", row):
            merge(self.layout.setdefault(name, {}), kw)
        return self

    def update_geos(self, **kw) -> "Figure":
        merge(self.layout.setdefault("geo", {}), kw)
        return self

    def add_shape(self, shape: dict) -> "Figure":
        self.layout.setdefault("shapes", []).append(shape)
        return self

    def add_annotation(self, annotation: dict) -> "Figure":
        self.layout.setdefault("annotations", []).append(annotation)
        return self

    # ------------------------------------------------------------ reference lines and bands
    def add_vline(self, x: float, line: dict, text: str | None = None) -> "Figure":
        """A vertical line over the whole plot height; ``text`` at its foot, to the right (as
        ``go.Figure.add_vline(annotation_position="bottom right")``)."""
        self.add_shape({"type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain",
                        "line": line})
        if text:
            self.add_annotation({"text": text, "x": x, "xref": "x", "y": 0, "yref": "y domain", "showarrow": False,
                                 "xanchor": "left", "yanchor": "bottom"})
        return self

    def add_vrect(self, x0: float, x1: float, fillcolor: str, opacity: float, text: str | None = None,
                  font: dict | None = None, axes: tuple[str, str] = ("x", "y")) -> "Figure":
        """A band over the whole plot height from ``x0`` to ``x1``, below the data; ``text`` above it.
        ``axes``: the panel's pair of axes (("x3", "y3"), as :func:`grid` returns them)."""
        x, y = axes
        self.add_shape({"type": "rect", "x0": x0, "x1": x1, "xref": x, "y0": 0, "y1": 1, "yref": f"{y} domain",
                        "fillcolor": fillcolor, "opacity": opacity, "line": {"width": 0}, "layer": "below"})
        if text:
            self.add_annotation({"text": text, "x": (x0 + x1) / 2, "xref": x, "y": 1, "yref": f"{y} domain",
                                 "showarrow": False, "xanchor": "center", "yanchor": "bottom", "font": font or {}})
        return self

    # ------------------------------------------------------------ output
    def to_plotly_json(self) -> dict:
        """The figure as Plotly's JSON, with Plotly's default template (as ``go.Figure`` writes it: the
        look of every chart, automatic margins for tick labels among it), copied for each answer."""
        return {"data": plain(self.data), "layout": plain({"template": default_template(), **self.layout})}



def stacked(titles: list[str], heights: list[float], spacing: float = 0.045, title_font: dict | None = None) -> Figure:
    """Panels stacked in one column sharing their value (x) axis, each panel's height in proportion
    to ``heights``, its title above it at the left (``make_subplots(rows=n, cols=1,
    shared_xaxes=True, row_heights=heights, subplot_titles=titles)``, titles left-aligned)."""
    n = len(titles)
    fig = Figure()
    room = 1.0 - spacing * (n - 1)
    total = float(sum(heights)) or 1.0
    top = 1.0
    for i, (title, h) in enumerate(zip(titles, heights), start=1):
        bottom = max(0.0, top - room * h / total)
        suffix = "" if i == 1 else str(i)
        fig.layout[f"xaxis{suffix}"] = {"anchor": f"y{suffix}", "domain": [0.0, 1.0],
                                        **({"matches": f"x{n}" if n > 1 else "x"} if i < n else {})}
        fig.layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}", "domain": [bottom, top]}
        fig.add_annotation({"text": title, "x": 0, "xref": "paper", "xanchor": "left", "y": top, "yref": "paper",
                            "yanchor": "bottom", "showarrow": False, "font": title_font or {"size": 12}})
        top = bottom - spacing
    return fig


def grid(titles: list[str], cols: int, vspace: float, hspace: float, shared_y: bool = True,
         title_font: dict | None = None, shared_x: bool = True) -> tuple[Figure, list[tuple[str, str]]]:
    """Panels in rows of ``cols``, left to right from the top, each with its title centred above it,
    sharing, if ``shared_x``, one year (x) axis and, if ``shared_y``, one value (y) axis
    (``make_subplots(rows, cols, subplot_titles=titles, shared_xaxes="all", shared_yaxes="all",
    vertical_spacing=vspace, horizontal_spacing=hspace)``; without sharing, each panel its own axes,
    as ``make_subplots`` lays them out by default). Only the panels named get axes: no empty panel
    at the end of the last row. Returns the figure and each panel's pair of axis references
    ("x7", "y7"); a panel's axes are ``layout["xaxis7"]`` and ``layout["yaxis7"]``."""
    n = len(titles)
    rows = max(1, math.ceil(n / cols))
    width = (1.0 - hspace * (cols - 1)) / cols
    height = (1.0 - vspace * (rows - 1)) / rows
    fig, refs = Figure(), []
    for i, title in enumerate(titles):
        r, c = divmod(i, cols)
        suffix = "" if i == 0 else str(i + 1)
        x0, top = c * (width + hspace), 1.0 - r * (height + vspace)
        fig.layout[f"xaxis{suffix}"] = {"anchor": f"y{suffix}", "domain": [x0, x0 + width],
                                        **({"matches": "x"} if i and shared_x else {})}
        fig.layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}", "domain": [max(0.0, top - height), top],
                                        **({"matches": "y"} if i and shared_y else {})}
        fig.add_annotation({"text": title, "x": x0 + width / 2, "xref": "paper", "xanchor": "center", "y": top,
                            "yref": "paper", "yanchor": "bottom", "showarrow": False, "font": title_font or {"size": 16}})
        refs.append((f"x{suffix}", f"y{suffix}"))
    return fig, refs
