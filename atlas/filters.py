"""The view state of the atlas: what a reader has chosen, and how it travels in the URL.

Every value is checked against a whitelist before it is used; an unknown or malformed value is
dropped and reported, never passed on to SQL. The SQL built from a :class:`View` uses only
whitelisted column names and ``?`` parameters.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from urllib.parse import parse_qs, urlencode

# the dimensions and levels are the domain's (etl/domain.py), re-exported here for the app
from etl.domain import DIMENSIONS, EVENT_KEYS, POPULATION_KEYS
from etl.domain import MAP_LEVELS as LEVELS

# "isr": indirectly standardised rate against the view's own national rates (etl/estimates/engine.py);
# "dsr", its former (misleading) name, is still read from old addresses
RATE_MODES = ("isr", "crude", "eb")
RATE_MODE_ALIASES = {"dsr": "isr"}
# the rate modes whose figure is the standardised rate (the smoothed one is standardised too)
STANDARDISED_MODES = ("isr", "eb")
STANDARDS = ("esp2013", "denmark")
MAP_KINDS = ("geo", "tile")
LANGS = ("en", "da")
# map colours: own range, fixed classes (equal intervals or quantiles of the whole period, or
# user-set breaks), funnel-plot significance, spatial clusters (etl/config/map_colours.toml)
COLOUR_MODES = ("own", "equal", "quantile", "breaks", "signif", "cluster")
FUNNEL_TARGETS = ("denmark", "peers")     # the funnel plot against Denmark, or a municipality's comparable ones
# the recent-trend markers' window: the last N complete years (the choices of /recent-trends; 5 by default)
RECENT_YEARS = (3, 4, 5, 6, 7, 8, 10, 12)
MAX_BREAKS = 9


def parse_breaks(raw) -> str | None:
    """User-set class breaks as their canonical text ("40,60,80": ascending, distinct, at most
    ``MAX_BREAKS`` finite numbers), "" for none, or None when the text is not such a list."""
    import math

    if raw is None:
        return ""
    text = str(raw).strip()[:120]
    if not text:
        return ""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    if len(parts) > MAX_BREAKS:
        return None
    try:
        values = [float(p) for p in parts]
    except ValueError:
        return None
    if not all(math.isfinite(v) for v in values) or any(b <= a for a, b in zip(values, values[1:])):
        return None
    return ",".join(f"{v:g}" for v in values)


@dataclass(frozen=True)
class View:
    measure: str = "imaging_rate"
    level: str = "municipality"
    y0: int = 2024
    y1: int = 2024
    rates: str = "isr"
    standard: str = "esp2013"
    map: str = "geo"
    area: int | None = None           # selected area, highlighted in every chart
    within: int | None = None         # drill-down: show only this region's municipalities
    lang: str = "en"
    sep: str = ","
    dims: tuple = field(default_factory=tuple)   # ((key, value), ...) sorted; only non-"all"
    colours: str = "own"              # map colouring (COLOUR_MODES)
    breaks: str = ""                  # user-set class breaks, canonical text (parse_breaks)
    tables: int = 0                   # 1: every chart also as a table (accessible alternative)
    funnel: str = "denmark"           # the funnel plot's target (FUNNEL_TARGETS)
    recent: int = 5                   # the recent-trend markers' window: last N complete years (RECENT_YEARS)

    def __post_init__(self):
        if self.rates in RATE_MODE_ALIASES:
            object.__setattr__(self, "rates", RATE_MODE_ALIASES[self.rates])

    def dim(self, key: str):
        return dict(self.dims).get(key)

    def with_dim(self, key: str, value) -> "View":
        d = dict(self.dims)
        if value in (None, "all", ""):
            d.pop(key, None)
        else:
            d[key] = value
        return replace(self, dims=tuple(sorted(d.items())))

    def population_dims(self) -> tuple:
        return tuple((k, v) for k, v in self.dims if k in POPULATION_KEYS)

    def event_dims(self) -> tuple:
        return tuple((k, v) for k, v in self.dims if k in EVENT_KEYS)

    def to_query(self, default_year: int | None = None) -> str:
        """The URL query string that restores this view (defaults left out; the years are left out
        when both are ``default_year``, the year a view without years shows)."""
        base = View() if default_year is None else View(y0=default_year, y1=default_year)
        out = {}
        for k, v in asdict(self).items():
            if k == "dims":
                continue
            if v != getattr(base, k) and v is not None:
                out[k] = v
        out.update({k: v for k, v in self.dims})
        return urlencode(out)


def _coerce(value: str, allowed: tuple):
    for a in allowed:
        if str(a) == value:
            return a
    raise ValueError(value)


def dim_value(key: str, raw):
    """A control's value for dimension ``key`` as its whitelisted code, or None for "all" or unknown."""
    if key not in DIMENSIONS or raw in (None, "all", ""):
        return None
    try:
        return _coerce(str(raw), DIMENSIONS[key][1])
    except ValueError:
        return None


def parse_query(query: str, years: list[int], measures: tuple[str, ...], area_codes: set[int],
                region_codes: set[int], default_year: int | None = None) -> tuple[View, list[str]]:
    """Read a URL query string into a :class:`View`; return it and the keys that were ignored.
    Without years in the query the view shows ``default_year`` (the last year when not given)."""
    ignored: list[str] = []
    last = default_year if default_year in years else max(years)
    view = View(y0=last, y1=last)
    try:
        params = parse_qs(query.lstrip("?"), keep_blank_values=False, max_num_fields=50)
    except ValueError:
        return view, ["(the whole address)"]
    values = {k: v[-1][:40] for k, v in params.items() if v}
    simple = {"measure": measures, "level": LEVELS, "rates": RATE_MODES, "standard": STANDARDS,
              "map": MAP_KINDS, "lang": LANGS, "sep": (",", ";"), "colours": COLOUR_MODES, "tables": (0, 1),
              "funnel": FUNNEL_TARGETS, "recent": RECENT_YEARS}
    changes: dict = {}
    if values.get("rates") in RATE_MODE_ALIASES:
        values["rates"] = RATE_MODE_ALIASES[values["rates"]]
    for key, allowed in simple.items():
        if key in values:
            try:
                changes[key] = _coerce(values.pop(key), allowed)
            except ValueError:
                ignored.append(key)
    if "breaks" in values:
        raw = values.pop("breaks")
        canonical = parse_breaks(raw)
        if canonical is None:
            ignored.append("breaks")
        elif canonical:
            changes["breaks"] = canonical
    for key in ("y0", "y1"):
        if key in values:
            raw = values.pop(key)
            if raw.isdigit() and int(raw) in years:
                changes[key] = int(raw)
            else:
                ignored.append(key)
    for key, codes in (("area", area_codes), ("within", region_codes)):
        if key in values:
            raw = values.pop(key)
            if raw.isdigit() and int(raw) in codes:
                changes[key] = int(raw)
            else:
                ignored.append(key)
    dims = {}
    for key, (_, allowed, _) in DIMENSIONS.items():
        if key in values:
            raw = values.pop(key)
            if raw == "all":
                continue
            try:
                dims[key] = _coerce(raw, allowed)
            except ValueError:
                ignored.append(key)
    ignored.extend(sorted(values))          # keys nobody knows
    view = replace(view, **changes, dims=tuple(sorted(dims.items())))
    if view.y0 > view.y1:
        view = replace(view, y0=view.y1, y1=view.y0)
    return view, ignored


def where_sql(dims: tuple, y0: int, y1: int, extra: dict | None = None) -> tuple[str, list]:
    """A WHERE clause over whitelisted columns with ``?`` parameters."""
    clauses, params = ["year BETWEEN ? AND ?"], [int(y0), int(y1)]
    for key, value in dims:
        if key not in DIMENSIONS:
            raise ValueError(f"{key!r} is not a dimension")
        column, allowed, _ = DIMENSIONS[key]
        if value not in allowed:
            raise ValueError(f"{key}={value!r} is not allowed")
        clauses.append(f"{column} = ?")
        params.append(value)
    for column, value in (extra or {}).items():
        if column not in {c for c, _, _ in DIMENSIONS.values()} | {"municipality"}:
            raise ValueError(f"unknown column {column}")
        if isinstance(value, (tuple, list)):
            clauses.append(f"{column} IN ({', '.join('?' * len(value))})")
            params.extend(value)
        else:
            clauses.append(f"{column} = ?")
            params.append(value)
    return " AND ".join(clauses), params
