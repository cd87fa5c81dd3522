"""The app's one data layer: every figure a page shows is read through :func:`source`.

The source is chosen once, from the served database's meta (``database_kind``): the secure
database (:class:`~atlas.data.source.SecureSource`: exact figures, inside the secure environment
only, not output-checked) or a release (:class:`~atlas.data.source.ReleaseSource`: published
figures only). Nothing outside this package asks which one it is; pages ask the source what it
publishes (:meth:`~atlas.data.source.Source.measures`, ``periods``, ``nearest``) and read its
tables, whose rows carry a ``status`` (:mod:`atlas.data.domain`).
"""
from __future__ import annotations

import threading

from atlas.data.domain import (BREAKDOWN_DIMS, COLUMNS, MIX_MEASURES, NOT_TESTED, STATUS_WORDS, STATUSES,
                               status_word)
from atlas.cache import cached, on_clear
from atlas.data.source import ReleaseSource, SecureSource, Source

__all__ = ["BREAKDOWN_DIMS", "COLUMNS", "MIX_MEASURES", "NOT_TESTED", "STATUS_WORDS", "STATUSES", "Source",
           "inside_only", "reset", "source", "status_word", "years"]

_lock = threading.Lock()
_source: Source | None = None


def source() -> Source:
    """The served database's source (chosen on first use; :func:`reset` forgets it)."""
    global _source
    with _lock:
        if _source is None:
            from atlas import db

            _source = ReleaseSource() if db.meta().get("database_kind") == "release" else SecureSource()
        return _source


@cached(maxsize=1)
def years() -> list[int]:
    """The single years the served source has figures for (:meth:`Source.years`; every page's year
    lists)."""
    return source().years()


def inside_only() -> bool:
    """True when the figures served must not leave the secure environment (not output-checked)."""
    return source().inside_only


@on_clear
def reset() -> None:
    """Forget the chosen source and its caches (a new database, tests that swap it; called by
    :func:`atlas.cache.clear_all`)."""
    global _source
    with _lock:
        old, _source = _source, None
    for s in {old, SecureSource(), ReleaseSource()} - {None}:
        s.clear_caches()
