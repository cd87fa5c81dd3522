"""The API's query parameters: the page addresses' own keys (``atlas.filters.View.to_query``), read
strictly.

A page address forgives: an unknown or malformed value is dropped and the page says so. A program
must know, so here every problem is an :class:`ApiError` (a 400) that names the parameter, the
value given and the values allowed. Presentation keys of a page address (``map``, ``colours``,
``breaks``, ``tables``, ``sep``) are accepted and change nothing, so that a page's address can be
pasted after an API path as it is. ``funnel`` (the funnel plot's target) is one of them, except at
the endpoint that names it among its own keys (``data``): there ``funnel=peers`` with a
municipality's ``area`` answers the funnel plot against its comparable municipalities.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from atlas.filters import DIMENSIONS, FUNNEL_TARGETS, LANGS, LEVELS, RATE_MODE_ALIASES, RATE_MODES, STANDARDS, View

FORMATS = ("json", "csv")
ALL_LEVELS = (*LEVELS, "denmark")
PRESENTATION = ("map", "colours", "breaks", "tables", "sep", "header", "funnel", "recent")
MAX_VALUE = 40


class ApiError(Exception):
    """A request the API cannot answer: ``status`` (400, 404, 405, 503), a machine-readable ``code``,
    the ``parameter`` at fault, the ``value`` given and what is ``allowed``."""

    def __init__(self, status: int, code: str, message: str, parameter: str | None = None, value=None,
                 allowed=None, **more):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.parameter, self.value, self.allowed, self.more = parameter, value, allowed, more

    def body(self) -> dict:
        out = {"status": self.status, "code": self.code, "message": self.message}
        if self.parameter is not None:
            out["parameter"] = self.parameter
        if self.value is not None:
            out["value"] = self.value
        if self.allowed is not None:
            out["allowed"] = list(self.allowed)
        out.update(self.more)
        return out


def bad(parameter: str, value, allowed, what: str = "") -> ApiError:
    shown = ", ".join(str(a) for a in list(allowed)[:30]) + (", ..." if len(list(allowed)) > 30 else "")
    return ApiError(400, "bad_parameter", f"{parameter}={value!r} is not allowed{what}; allowed: {shown}",
                    parameter, value, [str(a) for a in allowed])


@dataclass(frozen=True)
class Query:
    """A checked request: the view (as the pages' :class:`View`), the level asked for (``all`` and
    ``denmark`` besides the map levels), the format and the language."""
    view: View
    level: str
    fmt: str = "json"
    lang: str = "en"
    area: int | None = None
    given: tuple = field(default_factory=tuple)      # (key, value) as given, for the response's echo


def _one(args, key: str, allowed=()) -> str | None:
    values = args.getlist(key)
    if not values:
        return None
    value = values[-1]
    if len(value) > MAX_VALUE:
        raise bad(key, value[:MAX_VALUE] + "...", allowed, " (too long)")
    return value


def _choice(args, key: str, allowed: tuple, default):
    raw = _one(args, key, allowed)
    if raw is None:
        return default
    for a in allowed:
        if str(a) == raw:
            return a
    raise bad(key, raw, allowed)


def _year(args, key: str, years: list[int]) -> int | None:
    raw = _one(args, key)
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) not in years:
        raise bad(key, raw, years, " (a year with figures)")
    return int(raw)


def year_range(args, years: list[int], periods, default_year: int) -> tuple[int, int]:
    """The years asked for: ``period`` (a published period) or ``y0`` and/or ``y1`` (one alone is
    that single year), else the default year; a 400 naming the parameter otherwise."""
    y0, y1 = _year(args, "y0", years), _year(args, "y1", years)
    period = _one(args, "period")
    if period is not None:
        if y0 is not None or y1 is not None:
            raise ApiError(400, "bad_parameter", "give either period or y0 and y1, not both", "period", period)
        if period not in periods:
            raise bad("period", period, periods, " (a published period)")
        a, _, b = period.partition("-")
        y0, y1 = int(a), int(b or a)
    if y0 is None and y1 is None:
        y0 = y1 = default_year
    y0, y1 = (y0 if y0 is not None else y1), (y1 if y1 is not None else y0)
    if y0 > y1:
        raise ApiError(400, "bad_parameter", f"y0={y0} is after y1={y1}", "y0", str(y0))
    return y0, y1


def _code(args, key: str, codes: set[int]) -> int | None:
    raw = _one(args, key)
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) not in codes:
        raise bad(key, raw, sorted(codes), " (an area code of /api/v1/areas)")
    return int(raw)


def parse(args, allowed_keys: tuple[str, ...], years: list[int], measures: tuple[str, ...],
          level_codes: dict[str, set[int]], default_year: int, periods: tuple[str, ...],
          levels: tuple[str, ...] = ALL_LEVELS) -> Query:
    """Read ``args`` (a Flask ``MultiDict``) into a :class:`Query`, or raise :class:`ApiError`.

    ``allowed_keys``: the endpoint's own keys beside the view's (``area``); ``levels``: the levels it
    answers; ``measures``: every measure the atlas defines (one it defines but the source does not
    publish is a 404 later, not a 400)."""
    keys = tuple(dict.fromkeys(("measure", "level", "y0", "y1", "period", "rates", "standard", "within", "lang",
                                "format", *DIMENSIONS, *allowed_keys, *PRESENTATION)))
    unknown = sorted(k for k in args.keys() if k not in keys)
    if unknown:
        raise ApiError(400, "unknown_parameter", f"unknown parameter {unknown[0]!r}; this endpoint takes: "
                       + ", ".join(keys), unknown[0], None, list(keys))
    measure = _choice(args, "measure", measures, View.measure)
    level = _choice(args, "level", levels, "municipality")
    raw_rates = _one(args, "rates")
    rates = RATE_MODE_ALIASES.get(raw_rates, raw_rates)
    if rates is not None and rates not in RATE_MODES:
        raise bad("rates", raw_rates, RATE_MODES)
    standard = _choice(args, "standard", STANDARDS, View.standard)
    lang = _choice(args, "lang", LANGS, "en")
    fmt = _choice(args, "format", FORMATS, "json")
    y0, y1 = year_range(args, years, periods, default_year)
    within = _code(args, "within", level_codes["region"] | level_codes["region2027"])
    if within is not None and level != "municipality":
        raise ApiError(400, "bad_parameter", "within (a region's municipalities) needs level=municipality",
                       "within", str(within), ["municipality"], level=level)
    area = None
    if "area" in allowed_keys:
        area_level = level if level in LEVELS else "municipality"
        area = _code(args, "area", level_codes.get(area_level, set()))
        if area is not None and level not in LEVELS:
            raise ApiError(400, "bad_parameter", "area needs level municipality, region or region2027", "level",
                           level, LEVELS)
    funnel = "denmark"
    if "funnel" in allowed_keys:
        funnel = _choice(args, "funnel", FUNNEL_TARGETS, View.funnel)
        if funnel == "peers" and level != "municipality":
            raise ApiError(400, "bad_parameter", "funnel=peers (a municipality against its comparable municipalities) "
                           "needs level=municipality", "level", level, ["municipality"])
        if funnel == "peers" and area is None:
            raise ApiError(400, "bad_parameter", "funnel=peers needs area: the municipality whose comparable "
                           "municipalities the funnel plot shows", "area", None, ["a municipality's code"])
    view = View(measure=measure, level=level if level in LEVELS else "municipality", y0=y0, y1=y1,
                rates=rates or View.rates, standard=standard, within=within, area=area, lang=lang, funnel=funnel)
    for key, (_, allowed, _) in DIMENSIONS.items():
        raw = _one(args, key)
        if raw is None or raw == "all":
            continue
        value = next((a for a in allowed if str(a) == raw), None)
        if value is None:
            raise bad(key, raw, ("all", *allowed))
        view = view.with_dim(key, value)
    for key in PRESENTATION:
        _one(args, key)                                    # bounded; no effect on figures
    given = tuple(sorted((k, args.getlist(k)[-1]) for k in args.keys()))
    return Query(view=replace(view, lang="en"), level=level, fmt=fmt, lang=lang, area=area, given=given)
