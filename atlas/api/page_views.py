"""The views of the pathways page (``/pathways``) and the return-letters page (``/returns``) in the API:
their addresses and their parameters.

One builder per page makes the API address of a chart's figures (:func:`pathways_url`,
:func:`returns_url`); the chart's CSV download carries it in its ``API`` column and the chart's
"API" menu shows it (``pages/pathways.py``, ``pages/returns.py``), so the three never disagree. The
parameters are the pages' own address keys (``level``, ``area``, ``y0``, ``y1``, ``win`` and the
filters on ``/pathways``; ``measure``, ``exam``, ``centre``, ``date`` on ``/returns``), read strictly
as the atlas's are (:mod:`atlas.api.params`): a problem is a 400 naming the parameter and what is
allowed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from atlas import static
from atlas.api.answers import ROOT
from atlas.api.params import FORMATS, MAX_VALUE, ApiError, _choice, _code, _one, bad, year_range
from atlas.filters import DIMENSIONS, LANGS, View
from atlas.pathways.constants import WINDOWS
from atlas.returns.constants import EXAMS
from atlas.returns.constants import MEASURES as RETURN_MEASURES

# the page's chart (its CSV download's and menu's id) -> the API endpoint under /api/v1/pathways/
PATHWAY_ENDPOINTS = {"sankey": "flows", "pathways": "outcomes", "repeat": "repeat", "providers": "providers",
                     "lowvalue": "lowvalue", "referrer": "referrer", "areas": "areas"}
WINDOW_CHARTS = ("sankey", "pathways")          # the charts the follow-up window changes
PATHWAY_LEVELS = ("municipality", "region", "region2027")
# ... and under /api/v1/returns/
RETURN_ENDPOINTS = {"exam": "exam", "its": "series", "centres": "centres", "summary": "summary"}
PAGE_ONLY = ("sep", "tables", "header")         # presentation keys of the pages' addresses: accepted, no effect


# ----------------------------------------------------------------------------- addresses

def pathways_url(chart: str, view: View, window: int, lang: str | None = None, fmt: str = "json") -> str:
    """The API address of the figures of the pathways page's ``chart`` for ``view`` (the page's view,
    as the page shows it) and follow-up ``window``."""
    lang = lang or view.lang
    q = {"level": view.level}
    if view.area is not None:
        q["area"] = view.area
    q.update(y0=view.y0, y1=view.y1)
    if chart in WINDOW_CHARTS:
        q["win"] = window
    q.update({k: v for k, v in view.dims})
    if lang != "en":
        q["lang"] = lang
    if fmt != "json":
        q["format"] = fmt
    return ROOT + "pathways/" + PATHWAY_ENDPOINTS[chart] + "?" + urlencode(q)


def returns_url(chart: str, view, lang: str | None = None, fmt: str = "json") -> str:
    """The API address of the figures of the return-letters page's ``chart`` for ``view`` (a
    :class:`atlas.returns.state.ReturnsView`)."""
    lang = lang or view.lang
    q = {"measure": view.measure}
    if view.exam is not None:
        q["exam"] = view.exam
    if view.centre is not None:
        q["centre"] = view.centre
    q["date"] = view.date
    if lang != "en":
        q["lang"] = lang
    if fmt != "json":
        q["format"] = fmt
    return ROOT + "returns/" + RETURN_ENDPOINTS[chart] + "?" + urlencode(q)


def pathways_page_url(view: View, window: int, lang: str) -> str:
    from atlas.pathways.state import hash_of

    return static.PATH_PREFIX + "pathways" + ("?lang=da" if lang == "da" else "") + hash_of(view, window)


def returns_page_url(view, lang: str) -> str:
    return static.PATH_PREFIX + "returns" + ("?lang=da" if lang == "da" else "") + view.to_hash()


# ----------------------------------------------------------------------------- parameters

@dataclass(frozen=True)
class PageQuery:
    """A checked request of a pathways or returns endpoint: the page's view, the window (pathways),
    the format and the language."""
    view: object
    window: int = 365
    fmt: str = "json"
    lang: str = "en"
    given: tuple = field(default_factory=tuple)


def _unknown(args, keys: tuple[str, ...]) -> None:
    unknown = sorted(k for k in args.keys() if k not in keys)
    if unknown:
        raise ApiError(400, "unknown_parameter", f"unknown parameter {unknown[0]!r}; this endpoint takes: "
                       + ", ".join(keys), unknown[0], None, list(keys))


def parse_pathways(args, years: list[int], level_codes: dict[str, set[int]], default_year: int,
                   periods: tuple[str, ...]) -> PageQuery:
    """Read a pathways endpoint's ``args`` (the pathways page's address keys) into a :class:`PageQuery`,
    or raise :class:`ApiError`. The atlas page's keys that the pathways page ignores (``measure``,
    ``rates``, ``standard``, ``within``, ...) are unknown here: they would change nothing."""
    keys = ("level", "area", "y0", "y1", "period", "win", *DIMENSIONS, "lang", "format", *PAGE_ONLY)
    _unknown(args, keys)
    level = _choice(args, "level", PATHWAY_LEVELS, "municipality")
    lang = _choice(args, "lang", LANGS, "en")
    fmt = _choice(args, "format", FORMATS, "json")
    raw_win = _one(args, "win", WINDOWS)
    if raw_win is not None and raw_win not in {str(w) for w in WINDOWS}:
        raise bad("win", raw_win, WINDOWS, " (days of follow-up)")
    window = int(raw_win) if raw_win is not None else 365
    y0, y1 = year_range(args, years, periods, default_year)
    area = _code(args, "area", level_codes.get(level, set()))
    view = View(level=level, y0=y0, y1=y1, area=area)
    for key, (_, allowed, _) in DIMENSIONS.items():
        raw = _one(args, key)
        if raw is None or raw == "all":
            continue
        value = next((a for a in allowed if str(a) == raw), None)
        if value is None:
            raise bad(key, raw, ("all", *allowed))
        view = view.with_dim(key, value)
    for key in PAGE_ONLY:
        _one(args, key)                                    # bounded; no effect on figures
    given = tuple(sorted((k, args.getlist(k)[-1]) for k in args.keys()))
    return PageQuery(view=view, window=window, fmt=fmt, lang=lang, given=given)


def parse_returns(args, centres: set[str], months: list) -> PageQuery:
    """Read a returns endpoint's ``args`` (the return-letters page's address keys) into a
    :class:`PageQuery` (its view a :class:`atlas.returns.state.ReturnsView`), or raise :class:`ApiError`.
    ``date`` must leave at least two months before and two after it, as on the page."""
    from atlas.returns.state import ReturnsView, valid_date

    keys = ("measure", "exam", "centre", "date", "lang", "format", *PAGE_ONLY)
    _unknown(args, keys)
    measure = _choice(args, "measure", RETURN_MEASURES, ReturnsView.measure)
    exam = _choice(args, "exam", ("all", *EXAMS), "all")
    centre = _choice(args, "centre", ("all", *sorted(centres)), "all")
    lang = _choice(args, "lang", LANGS, "en")
    fmt = _choice(args, "format", FORMATS, "json")
    date = ReturnsView.date
    raw = _one(args, "date")
    if raw is not None:
        date = valid_date(raw, months) if len(raw) == 10 else None
        if date is None:
            first, last = (f"{months[2]:%Y-%m-%d}", f"{months[-2]:%Y-%m-%d}") if len(months) > 3 else ("", "")
            raise ApiError(400, "bad_parameter", f"date={raw[:MAX_VALUE]!r} is not allowed: an ISO date (YYYY-MM-DD) "
                           f"that leaves at least two months before and two after it ({first} to {last})", "date",
                           raw[:MAX_VALUE], [first, last])
    for key in PAGE_ONLY:
        _one(args, key)
    view = ReturnsView(measure=measure, exam=None if exam == "all" else exam,
                       centre=None if centre == "all" else centre, date=date)
    given = tuple(sorted((k, args.getlist(k)[-1]) for k in args.keys()))
    return PageQuery(view=view, fmt=fmt, lang=lang, given=given)


# every endpoint of the two pages, as listed by /api/v1/ ("pathways/flows", ...)
ENDPOINTS = tuple([f"pathways/{e}" for e in PATHWAY_ENDPOINTS.values()] + [f"returns/{e}" for e in RETURN_ENDPOINTS.values()])
