"""A per-process memo whose answers cannot be changed by whoever receives them.

``functools.lru_cache`` hands every caller the same object: a caller that adds a column to a cached
DataFrame (as a CSV download did, relabelling the breakdown's dimensions in Danish) changes what every
later caller gets, until the worker restarts. :func:`cached` keeps the first answer and hands out a
copy each time: DataFrames and Series are copied deeply, Plotly figures and Dash components, dicts,
lists and sets are deep-copied, and immutable values (numbers, strings, frozen dataclasses, None)
are shared. Tuples are copied element by element, so ``(table, row)`` answers are safe too. A
Plotly figure is kept as its plain dict (what Dash sends), and each caller gets a copy of that.

Usage is that of ``lru_cache`` (the arguments must be hashable)::

    @cached(maxsize=128)
    def table(view): ...

    table.cache_clear()
"""
from __future__ import annotations

import copy
import functools
import marshal
from types import MappingProxyType

import pandas as pd
from plotly.basedatatypes import BaseFigure

_IMMUTABLE = (str, bytes, int, float, complex, bool, type(None), frozenset, range, MappingProxyType)


def frozen_json(value):
    """A parsed JSON value made read-only all the way down (objects as read-only mappings, arrays as
    tuples), so it can be handed to every caller without a copy."""
    if isinstance(value, dict):
        return MappingProxyType({k: frozen_json(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(frozen_json(v) for v in value)
    return value


class _Marshalled:
    """A figure kept as ``marshal`` bytes: JSON-like data (dicts, lists, strings, numbers) that
    ``marshal.loads`` turns back into a fresh copy in C, several times faster than copying the
    nested lists of a map's hover texts in Python."""
    __slots__ = ("data",)

    def __init__(self, data: bytes):
        self.data = data


def safe_copy(value):
    """A copy of ``value`` that shares nothing mutable with it."""
    if isinstance(value, _IMMUTABLE):
        return value
    if isinstance(value, _Marshalled):
        return marshal.loads(value.data)
    if isinstance(value, (pd.DataFrame, pd.Series, pd.Index)):
        return value.copy(deep=True)
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(safe_copy(v) for v in value)
    if isinstance(value, dict):
        return {k: safe_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [safe_copy(v) for v in value]
    if isinstance(value, set):
        return set(value)
    return copy.deepcopy(value)


def _frozen(value):
    """What is kept: Plotly figures as their plain dict (a deep copy of a figure object re-validates
    every property and costs ~50 ms; a copy of its dict ~2 ms; Dash sends both alike), as marshal
    bytes when they are plain JSON data."""
    if getattr(value, "plain_figure", False):      # atlas.plot.Figure: plain JSON data only (see atlas.plot.plain)
        return _Marshalled(marshal.dumps(value.to_plotly_json()))
    if isinstance(value, BaseFigure):               # its dict may hold numpy arrays (marshal would write bytes)
        return value.to_plotly_json()
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_frozen(v) for v in value)
    return value


_MEMOS: list = []          # every memo made by cached(): clear_all() empties them (a new database)
_HOOKS: list = []          # what else a module keeps per database (on_clear): clear_all() calls them too


def on_clear(hook):
    """Register ``hook()`` to be called by :func:`clear_all` after the memos are emptied (for state that
    is not a memo, such as the data layer's chosen source). Usable as a decorator; returns ``hook``.
    Modules register themselves, so whoever clears needs to import none of them."""
    if hook not in _HOOKS:
        _HOOKS.append(hook)
    return hook


def clear_all() -> None:
    """Forget every cached answer of the process (the database under it was replaced, or a test
    swapped it): every memo made by :func:`cached`, then every hook registered with :func:`on_clear`."""
    for memo in list(_MEMOS):
        memo.cache_clear()
    for hook in list(_HOOKS):
        hook()


def cached(maxsize: int = 128):
    """Like ``functools.lru_cache(maxsize)``, but every call returns a :func:`safe_copy` of the answer
    (Plotly figures come back as their plain dicts)."""
    def decorate(func):
        memo = functools.lru_cache(maxsize=maxsize)(lambda *a, **k: _frozen(func(*a, **k)))
        _MEMOS.append(memo)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            return safe_copy(memo(*args, **kwargs))

        wrapper.cache_clear = memo.cache_clear
        wrapper.cache_info = memo.cache_info
        wrapper.uncached = func
        return wrapper

    return decorate
