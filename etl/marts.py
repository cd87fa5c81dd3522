"""Marts: the aggregate tables the app reads. Nothing person-level is written here.

The app database (attached as ``app``) gets:

``population_cube``
    adults on 1 January by year x municipality x sex x age band x education x income x origin x
    labour-market status: ``persons``.
``imaging_cube``
    lumbar imaging by the same population dimensions x modality x priority x referrer, with one
    count per measure (``n_*``; ``n_private`` counts imaging done at a private clinic, the
    producer type of the imaging extract). No cell keys: the secure app serves exact figures inside
    the secure environment and the release protects by suppression, so nothing perturbs a count.
``episode_cube``
    imaging episodes by the population dimensions x referrer x modality x priority x what followed
    within the short and the long window (``outcome_short``, ``outcome_long``) x ``low_value``.
``chiro_billing_cube``
    chiropractors' X-ray billings (health-insurance register, by fee week: billing-based, not
    lumbar-specific, never part of the lumbar imaging counts) by year of the fee week x the population
    dimensions: ``n_chiro_xray``. Empty when the extract
    ``chiro_billing`` was not delivered.
``returns_monthly``
    referrals received, returned and returned with the campaign's letter, by month x exam type x
    producer x centre.
``areas``, ``standard_population``, ``meta``: reference and description.

Every table is sorted by year (or month) so that DuckDB's zone maps skip what a filter excludes.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

from etl.intermediate import outcome_sql
from etl.settings import Settings, esp2013_band_weights

POPULATION_DIMS = ("year", "municipality", "sex", "age_band", "education", "income", "origin", "labour")

# measure name -> boolean SQL over int_imaging ("true" counts every imaging)
IMAGING_MEASURES = {
    "imaging": "true",
    "first": "first_in_year",
    "episode": "episode_start",
    "low_value": "low_value",
    "diag_short": "diag_short",
    "surgery_short": "surgery_short",
    "surgery_long": "surgery_long",
    "rehab_short": "rehab_short",
    "rehab_long": "rehab_long",
    "xray_then_mri": "xray_then_mri",
    "repeat_mri": "repeat_mri",
    "private": "producer_type = 'private_clinic'",   # done at a private clinic (the producer's type)
}

def write_population(con, settings: Settings) -> None:
    # grouped by the age band's number, named after grouping: a text CASE on each of 55 million
    # rows costs more than the grouping itself
    age = "year - birth_year - 1"
    number = " ".join(f"WHEN {age} BETWEEN {b.lower} AND {b.upper} THEN {i}" for i, b in enumerate(settings.age_bands))
    label = " ".join(f"WHEN {i} THEN '{b.label}'" for i, b in enumerate(settings.age_bands))
    con.execute(f"""
        CREATE OR REPLACE TABLE app.population_cube AS
        SELECT year, municipality, sex, CASE band {label} END AS age_band, education, income, origin, labour,
               persons
        FROM (
            SELECT year, municipality::SMALLINT AS municipality, sex::TINYINT AS sex, CASE {number} END AS band,
                   education::TINYINT AS education, income_quintile::TINYINT AS income,
                   origin::TINYINT AS origin, labour_status::TINYINT AS labour,
                   count(*)::INTEGER AS persons
            FROM stg_population
            WHERE {age} >= {settings.adult_min_age}
            GROUP BY ALL)
        ORDER BY year, municipality
    """)


def write_imaging(con) -> None:
    measures = ", ".join(
        f"count(*) FILTER (WHERE {cond})::INTEGER AS n_{name}"
        for name, cond in IMAGING_MEASURES.items())
    con.execute(f"""
        CREATE OR REPLACE TABLE app.imaging_cube AS
        SELECT year, municipality::SMALLINT AS municipality, sex::TINYINT AS sex, age_band,
               education::TINYINT AS education, income::TINYINT AS income, origin::TINYINT AS origin,
               labour::TINYINT AS labour, modality, priority, referrer, {measures}
        FROM int_imaging
        GROUP BY ALL
        ORDER BY year, municipality
    """)


def _band_sql(settings: Settings, age: str) -> str:
    return " ".join(f"WHEN {age} BETWEEN {b.lower} AND {b.upper} THEN '{b.label}'" for b in settings.age_bands)


def write_chiro_billing(con, settings: Settings) -> None:
    """``chiro_billing_cube``: chiropractor X-ray billings of adults by year (of the fee week) and the
    population dimensions of their status on 1 January of that year. A billing of a person not in the
    population that year is left out, as an imaging would be."""
    staged = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'stg_chiro_billing' "
                         "AND database_name IN ('memory', 'temp')").fetchone()[0]
    age = "p.year - p.birth_year - 1"
    pid = "VARCHAR"
    if staged:
        types = {con.execute(f"SELECT typeof(person_id) FROM {t} LIMIT 1").fetchone()
                 for t in ("stg_chiro_billing", "stg_population")}
        pid = "BIGINT" if all(t is None or t[0] == "BIGINT" for t in types) else "VARCHAR"
    source = (f"""
        SELECT p.year, p.municipality::SMALLINT AS municipality, p.sex::TINYINT AS sex,
               CASE {_band_sql(settings, age)} END AS age_band, p.education::TINYINT AS education,
               p.income_quintile::TINYINT AS income, p.origin::TINYINT AS origin, p.labour_status::TINYINT AS labour
        FROM stg_chiro_billing b
        JOIN stg_population p ON CAST(p.person_id AS {pid}) = CAST(b.person_id AS {pid})
                             AND p.year = b.fee_week // 100
        WHERE {age} >= {settings.adult_min_age}""" if staged else
              "SELECT NULL::INTEGER AS year, NULL::SMALLINT AS municipality, NULL::TINYINT AS sex, NULL::VARCHAR AS age_band, "
              "NULL::TINYINT AS education, NULL::TINYINT AS income, NULL::TINYINT AS origin, NULL::TINYINT AS labour "
              "WHERE false")
    con.execute(f"""
        CREATE OR REPLACE TABLE app.chiro_billing_cube AS
        SELECT year, municipality, sex, age_band, education, income, origin, labour,
               count(*)::INTEGER AS n_chiro_xray
        FROM ({source})
        GROUP BY ALL
        ORDER BY year, municipality
    """)


def write_episodes(con) -> None:
    con.execute(f"""
        CREATE OR REPLACE TABLE app.episode_cube AS
        SELECT year, municipality::SMALLINT AS municipality, sex::TINYINT AS sex, age_band,
               education::TINYINT AS education, income::TINYINT AS income, origin::TINYINT AS origin,
               labour::TINYINT AS labour, modality, priority, referrer,
               {outcome_sql('short')} AS outcome_short, {outcome_sql('long')} AS outcome_long, low_value,
               count(*)::INTEGER AS n_episodes
        FROM int_imaging
        WHERE episode_start
        GROUP BY ALL
        ORDER BY year, municipality
    """)


def write_returns(con) -> None:
    con.execute("""
        CREATE OR REPLACE TABLE app.returns_monthly AS
        WITH returned AS (
            SELECT date_trunc('month', return_date)::DATE AS month, exam_type, producer_id, centre,
                   count(*) AS returned, count(*) FILTER (WHERE return_letter) AS letters
            FROM stg_returned_referrals GROUP BY ALL)
        SELECT coalesce(r.month, x.month) AS month, coalesce(r.exam_type, x.exam_type) AS exam_type,
               coalesce(r.producer_id, x.producer_id) AS producer_id, coalesce(r.centre, x.centre) AS centre,
               coalesce(r.referrals, 0)::INTEGER AS referrals, coalesce(x.returned, 0)::INTEGER AS returned,
               coalesce(x.letters, 0)::INTEGER AS letters
        FROM stg_referrals_received r
        FULL JOIN returned x ON r.month = x.month AND r.exam_type = x.exam_type
                            AND r.producer_id = x.producer_id AND r.centre = x.centre
        ORDER BY month, centre, exam_type
    """)


def write_reference(con, settings: Settings, municipalities_csv) -> None:
    path = str(municipalities_csv).replace("'", "''")
    con.execute(f"""
        CREATE OR REPLACE TABLE app.areas AS
        WITH m AS (SELECT * FROM read_csv('{path}', header=true))
        SELECT 'municipality' AS level, kommune_code::INTEGER AS code, kommune_name AS name,
               region_code::INTEGER AS region_code, region_name,
               CASE WHEN region_2027_name = region_name THEN region_code ELSE 1090 END::INTEGER AS region2027_code,
               region_2027_name AS region2027_name
        FROM m
        UNION ALL
        SELECT DISTINCT 'region', region_code::INTEGER, region_name, region_code::INTEGER, region_name,
               CASE WHEN region_2027_name = region_name THEN region_code ELSE 1090 END::INTEGER, region_2027_name
        FROM m
        UNION ALL
        SELECT DISTINCT 'region2027', CASE WHEN region_2027_name = region_name THEN region_code ELSE 1090 END::INTEGER,
               region_2027_name, NULL, NULL, NULL, NULL
        FROM m
        ORDER BY level, code
    """)
    weights = esp2013_band_weights(settings)
    con.execute("CREATE OR REPLACE TABLE app.standard_population (standard VARCHAR, age_band VARCHAR, sex TINYINT, weight DOUBLE)")
    # ESP 2013 is the same for both sexes: each age band's weight is split equally between them
    con.executemany("INSERT INTO app.standard_population VALUES ('esp2013', ?, ?, ?)",
                    [(band, sex, w / 2) for band, w in weights.items() for sex in (1, 2)])
    con.execute(f"""
        INSERT INTO app.standard_population
        SELECT 'denmark', age_band, sex, sum(persons) FROM app.population_cube
        WHERE year = (SELECT CASE WHEN {settings.denmark_year} IN (SELECT year FROM app.population_cube)
                                  THEN {settings.denmark_year} ELSE max(year) END FROM app.population_cube)
        GROUP BY ALL
    """)


def write_build_report(con, dropped) -> None:
    """``build_report``: the rows each step of the build left out, by reason (aggregate counts only)."""
    con.execute("CREATE OR REPLACE TABLE app.build_report (step VARCHAR, source VARCHAR, reason VARCHAR, "
                "rows BIGINT, of_rows BIGINT, share DOUBLE)")
    con.executemany("INSERT INTO app.build_report VALUES (?, ?, ?, ?, ?, ?)",
                    [(d.step, d.table, d.reason, d.rows, d.of, d.share) for d in dropped])


def write_meta(con, settings: Settings, info: dict) -> None:
    meta = {
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "first_year": settings.first_year,
        "last_year": settings.last_year,
        "age_bands": [b.label for b in settings.age_bands],
        "windows": settings.windows,
        "min_count": settings.min_count,
        "max_noise": settings.max_noise,
        **info,
    }
    con.execute("CREATE OR REPLACE TABLE app.meta (key VARCHAR, value VARCHAR)")
    con.executemany("INSERT INTO app.meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in meta.items()])


def check_no_person_level(con) -> None:
    """Refuse to finish if anything person-level reached the app database."""
    bad = con.execute("""
        SELECT table_name, column_name FROM information_schema.columns
        WHERE table_catalog = 'app' AND (column_name ILIKE '%person_id%' OR column_name ILIKE 'pnr'
              OR column_name ILIKE '%cpr%' OR column_name ILIKE '%birth%' OR column_name = 'rkey')
    """).fetchall()
    if bad:
        raise RuntimeError(f"Person-level columns would reach the app database: {bad}")
