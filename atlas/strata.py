"""The standardisation strata: numerator and denominator counts from the cubes.

``strata(...)`` runs one parameterised SQL query on the cubes and returns numerator and
denominator counts by the requested groups x sex x age band (the standardisation strata);
``event_frame`` and ``population_frame`` serve the measures that share one scan. Queries are
cached per process by their arguments (the database is read-only).
"""
from __future__ import annotations

import pandas as pd

from atlas import db
from atlas.cache import cached
from atlas.filters import DIMENSIONS, View, where_sql
from atlas.measures import MEASURES, Measure

STRATA = ["sex", "age_band"]
GROUPABLE = {"year", "municipality"} | {c for c, _, pop in DIMENSIONS.values() if pop}
EVENT_GROUPABLE = {c for c, _, pop in DIMENSIONS.values() if not pop}


def _event_filters(view: View, measure: Measure) -> tuple:
    return tuple((k, v) for k, v in view.event_dims() if DIMENSIONS[k][0] not in measure.ignores)


@cached(maxsize=32)
def event_frame(y0: int, y1: int, pop_dims: tuple, group_by: tuple = ("municipality",)) -> pd.DataFrame:
    """All imaging measures by ``group_by`` x sex x age band x modality x priority x referrer.

    One query serves every share measure of a view (they differ only in which imaging
    dimensions they filter), so the imaging mix needs one scan of the cube, not one per measure.
    """
    bad = [g for g in group_by if g not in GROUPABLE]
    if bad:
        raise ValueError(f"cannot group by {bad}")
    keys = list(dict.fromkeys([*group_by, *STRATA, "modality", "priority", "referrer"]))
    where, params = where_sql(pop_dims, y0, y1)
    from etl.marts import IMAGING_MEASURES

    sums = ", ".join(f"sum(n_{m}) AS n_{m}" for m in IMAGING_MEASURES)
    return db.query(f"SELECT {', '.join(keys)}, {sums} FROM imaging_cube WHERE {where} GROUP BY ALL", params)


@cached(maxsize=64)
def population_frame(y0: int, y1: int, pop_dims: tuple, group_by: tuple = ("municipality",)) -> pd.DataFrame:
    keys = list(dict.fromkeys([*group_by, *STRATA]))
    where, params = where_sql(pop_dims, y0, y1)
    return db.query(f"SELECT {', '.join(keys)}, sum(persons) AS den "
                    f"FROM population_cube WHERE {where} GROUP BY ALL", params)


def _mask(frame: pd.DataFrame, conditions) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for key, value in conditions:
        column = DIMENSIONS[key][0] if key in DIMENSIONS else key
        mask &= frame[column] == value
    return mask


def _strata_sql_parts(measure_key: str, y0: int, y1: int, pop_dims: tuple, event_dims: tuple,
                      group_by: tuple, restrict: tuple = ()) -> tuple[list[str], tuple[str, list], tuple[str, list] | None]:
    """The SQL (and parameters) of :func:`_strata_sql`: the imaging query, and the population query for rates."""
    m = MEASURES[measure_key]
    bad = [g for g in group_by if g not in GROUPABLE | EVENT_GROUPABLE]
    if bad:
        raise ValueError(f"cannot group by {bad}")
    if m.cube != "imaging_cube":
        event_dims = ()           # a cube without imaging dimensions (chiropractor billings)
    keys = list(dict.fromkeys([*group_by, *STRATA]))
    where, params = where_sql(pop_dims + event_dims, y0, y1, dict(restrict))
    den_where, den_params = where_sql(tuple(m.denominator_where.items()), y0, y1)
    num_cond, num_params = ("true", [])
    if m.numerator_where:
        num_cond, num_params = where_sql(tuple(m.numerator_where.items()), y0, y1)
    cols = ", ".join(keys)
    num = f"sum(n_{m.numerator}) FILTER (WHERE {num_cond}) AS num"
    if m.denominator == "population":
        if any(g in EVENT_GROUPABLE for g in group_by):
            raise ValueError("a rate cannot be split by an imaging dimension")
        events = (f"SELECT {cols}, {num} FROM {m.cube} WHERE {where} AND {den_where} GROUP BY ALL",
                  num_params + params + den_params)
        pw, pp = where_sql(pop_dims, y0, y1, dict(restrict))
        population = (f"SELECT {cols}, sum(persons) AS den FROM population_cube "
                      f"WHERE {pw} GROUP BY ALL", pp)
        return keys, events, population
    events = (f"SELECT {cols}, {num}, sum(n_{m.denominator}) AS den "
              f"FROM imaging_cube WHERE {where} AND {den_where} GROUP BY ALL", num_params + params + den_params)
    return keys, events, None


def _finish(out: pd.DataFrame) -> pd.DataFrame:
    for c in ("num", "den"):
        out[c] = out[c].fillna(0).astype(float)
    return out


def _strata_sql(measure_key: str, y0: int, y1: int, pop_dims: tuple, event_dims: tuple,
                group_by: tuple, restrict: tuple = ()) -> pd.DataFrame:
    """Like :func:`strata`, with every filter pushed into the SQL (for long or narrow groupings)."""
    keys, events, population = _strata_sql_parts(measure_key, y0, y1, pop_dims, event_dims, group_by, restrict)
    ev = db.query(*events)
    out = db.query(*population).merge(ev, on=keys, how="left") if population else ev
    return _finish(out)


@cached(maxsize=256)
def strata(measure_key: str, y0: int, y1: int, pop_dims: tuple, event_dims: tuple,
           group_by: tuple = ("municipality",), restrict: tuple = ()) -> pd.DataFrame:
    """Numerator and denominator by ``group_by`` x sex x age band."""
    m = MEASURES[measure_key]
    if any(g in EVENT_GROUPABLE for g in group_by):
        raise ValueError("strata are split by population dimensions only")
    if group_by != ("municipality",) or restrict or m.cube != "imaging_cube":
        # long or narrow groupings: push every filter into the SQL rather than share a wide frame
        return _strata_sql(measure_key, y0, y1, pop_dims, event_dims, group_by, restrict)
    keys = list(dict.fromkeys([*group_by, *STRATA]))
    ev = event_frame(y0, y1, pop_dims, group_by)
    base = ev[_mask(ev, event_dims) & _mask(ev, m.denominator_where.items())]
    num_rows = base[_mask(base, m.numerator_where.items())]
    num = num_rows.groupby(keys, as_index=False).agg(num=(f"n_{m.numerator}", "sum"))
    if m.denominator == "population":
        out = population_frame(y0, y1, pop_dims, group_by).merge(num, on=keys, how="left")
    else:
        den = base.groupby(keys, as_index=False).agg(den=(f"n_{m.denominator}", "sum"))
        out = den.merge(num, on=keys, how="left")
    out = out.copy()
    for c in ("num", "den"):
        out[c] = out[c].fillna(0).astype(float)
    return out



def area_codes(level: str) -> pd.Series:
    """Municipality code -> code of the area at ``level``."""
    a = db.areas()
    mun = a[a.level == "municipality"].set_index("code")
    column = {"municipality": None, "region": "region_code", "region2027": "region2027_code"}[level]
    return pd.Series(mun.index if column is None else mun[column].to_numpy(), index=mun.index)
