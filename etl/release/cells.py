"""Every cell of the publication plan, with its true count, from the secure database's cubes.

Runs inside DuckDB with the secure database attached as ``sec`` (read-only). Writes two tables in
the working connection (never in the release):

``plan_cells``
    ``id, count, pattern, level, code, period, fs`` and one column per dimension (its value as
    text, NULL where the pattern does not split by it), with the true count ``n``. Every
    combination of a pattern's values exists, zeros included, so every margin adds up.
``plan_strata``
    the population by area x period x population filter set x sex x age band, used only inside
    expected counts (see ``etl.release.estimates``); never published.
"""
from __future__ import annotations

from etl.release.plan import DIM_ORDER, DIMS, SOURCES, Pattern, Plan


def register(con, name: str, frame) -> None:
    """``con.register``, after finishing any result left open (DuckDB 2 refuses it otherwise)."""
    con.execute("SELECT 1").fetchall()
    con.register(name, frame)


def _values_sql(key: str) -> str:
    column, values = DIMS[key]
    rows = ", ".join(f"('{v}')" for v in values)
    return f"(SELECT * FROM (VALUES {rows}) AS t({key}))"


def fs_sql(dims: tuple[str, ...] | list[str], alias: str = "") -> str:
    """SQL text key of the filter set (``sex=1&modality=mri``) from the dimension columns."""
    if not dims:
        return "''"
    prefix = f"{alias}." if alias else ""
    return "concat_ws('&', " + ", ".join(
        f"CASE WHEN {prefix}{d} IS NOT NULL THEN '{d}=' || {prefix}{d} END" for d in dims) + ")"


def _geo_sql() -> str:
    return """(
        SELECT code AS municipality, 'municipality' AS level, code FROM sec.areas WHERE level = 'municipality'
        UNION ALL SELECT code, 'region', region_code FROM sec.areas WHERE level = 'municipality'
        UNION ALL SELECT code, 'region2027', region2027_code FROM sec.areas WHERE level = 'municipality'
        UNION ALL SELECT code, 'denmark', 0 FROM sec.areas WHERE level = 'municipality')"""


def _periods_sql(periods: list[tuple[str, int, int]]) -> str:
    rows = ", ".join(f"({y}, '{label}')" for label, a, b in periods for y in range(a, b + 1))
    return f"(SELECT * FROM (VALUES {rows}) AS t(year, period))"


def write_cells(con, plan: Plan, years: list[int]) -> int:
    """Fill ``plan_cells``; returns its number of rows.

    The cubes' counts are summed to each published level and period first; the zeros are added
    after, on the grid of the published cells alone (its levels' areas x its periods x the values
    of its dimensions), not on municipalities x years (4 million rows with today's plan, whatever
    the scale)."""
    periods = plan.periods(years)
    dim_cols = ", ".join(f"{d} VARCHAR" for d in DIM_ORDER)
    con.execute(f"CREATE OR REPLACE TEMP TABLE fine (count VARCHAR, pattern VARCHAR, year INTEGER, "
                f"municipality INTEGER, {dim_cols}, n BIGINT)")
    unique = list(dict.fromkeys(Pattern(q.count, q.dims) for q in plan.patterns))
    for p in unique:
        cube, column = SOURCES[p.count]
        cols = [DIMS[d][0] for d in p.dims]
        select_dims = ", ".join(f"CAST({c} AS VARCHAR) AS {d}" for d, c in zip(p.dims, cols))
        insert_cols = ", ".join(["count", "pattern", "year", "municipality", *p.dims, "n"])
        # grouped by the cube's own typed columns, cast to text after (3 times faster than
        # grouping by the cast text at scale 1.0)
        con.execute(f"""
            INSERT INTO fine ({insert_cols})
            SELECT '{p.count}', '{p.key}', year, municipality{', ' + select_dims if p.dims else ''}, n
            FROM (SELECT year, municipality{''.join(', ' + c for c in cols)}, sum({column}) AS n
                  FROM sec.{cube} WHERE year IN ({', '.join(str(y) for y in years)}) GROUP BY ALL)
            WHERE n <> 0
        """)
    # which (level, period) each (count, pattern) is published at: one equi-join, not an OR per pattern
    allowed = sorted({(p.count, p.key, level, label) for p in plan.patterns for level in p.levels
                      for label in plan.labels(p.periods, years)})
    import pandas as pd

    register(con, "allowed_df", pd.DataFrame(allowed, columns=["count", "pattern", "level", "period"]))
    con.execute("CREATE OR REPLACE TEMP TABLE allowed AS SELECT * FROM allowed_df")
    con.unregister("allowed_df")
    geo = _geo_sql()
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE agg AS
        SELECT f.count, f.pattern, g.level, g.code::INTEGER AS code, p.period,
               {', '.join(f'f.{d}' for d in DIM_ORDER)}, sum(f.n)::BIGINT AS n
        FROM fine f JOIN {geo} g USING (municipality) JOIN {_periods_sql(periods)} p USING (year)
             JOIN allowed a ON a.count = f.count AND a.pattern = f.pattern AND a.level = g.level
                            AND a.period = p.period
        GROUP BY ALL
    """)
    con.execute(f"CREATE OR REPLACE TEMP TABLE codes AS SELECT DISTINCT level, code::INTEGER AS code FROM {geo}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE cells_grid (count VARCHAR, pattern VARCHAR, level VARCHAR, "
                f"code INTEGER, period VARCHAR, {dim_cols}, n BIGINT)")
    for p in unique:
        values = "".join(f" CROSS JOIN {_values_sql(d)} v_{d}" for d in p.dims)
        on = "".join(f" AND x.{d} = v_{d}.{d}" for d in p.dims)
        insert_cols = ", ".join(["count", "pattern", "level", "code", "period", *p.dims, "n"])
        con.execute(f"""
            INSERT INTO cells_grid ({insert_cols})
            SELECT a.count, a.pattern, a.level, c.code, a.period{''.join(f', v_{d}.{d}' for d in p.dims)},
                   coalesce(x.n, 0)
            FROM allowed a JOIN codes c USING (level){values}
                 LEFT JOIN agg x ON x.count = a.count AND x.pattern = a.pattern AND x.level = a.level
                  AND x.code = c.code AND x.period = a.period{on}
            WHERE a.count = '{p.count}' AND a.pattern = '{p.key}'
        """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE plan_cells AS
        SELECT (row_number() OVER (ORDER BY count, pattern, level, code, period, {', '.join(DIM_ORDER)}) - 1)::BIGINT AS id,
               *, {fs_sql(DIM_ORDER)} AS fs
        FROM cells_grid
    """)
    for table in ("allowed", "fine", "agg", "codes", "cells_grid"):
        con.execute(f"DROP TABLE {table}")
    return con.execute("SELECT count(*) FROM plan_cells").fetchone()[0]


def write_strata(con, plan: Plan, years: list[int]) -> None:
    """Population by area x period x population filter set x sex x age band (for expected counts)."""
    periods = plan.periods(years)
    parts = []
    for dims in dict.fromkeys(p.dims for p in plan.patterns_of("persons")):   # a pattern may be listed per level
        if "sex" in dims and "age" in dims:
            continue          # reference strata, not a filter set
        sel = "".join(f", CAST({DIMS[d][0]} AS VARCHAR) AS {d}" for d in dims)
        fs = fs_sql(dims)
        parts.append(f"SELECT year, municipality, sex, age_band, {fs} AS fs, sum(persons) AS persons "
                     f"FROM (SELECT *{sel} FROM sec.population_cube) GROUP BY ALL")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE plan_strata AS
        SELECT g.level, g.code::INTEGER AS code, p.period, s.fs, s.sex, s.age_band, sum(s.persons)::BIGINT AS persons
        FROM ({' UNION ALL '.join(parts)}) s JOIN {_geo_sql()} g USING (municipality)
             JOIN {_periods_sql(periods)} p USING (year)
        GROUP BY ALL
    """)
