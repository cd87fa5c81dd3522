"""Post-build tests of the marts, as dbt projects write them: each table has a unique grain, every
area code is one of ``areas``, every coded value is one of its vocabulary, no count is negative, and
totals agree between tables (imaging cube vs episode cube, cubes vs population, population vs meta).

They read the app database the session builds (``atlas_db``) with plain SQL and assume nothing
about the synthetic data beyond what any build must satisfy.
"""
from __future__ import annotations

import json

import duckdb
import pytest

from etl import vocabularies

POPULATION = ("year", "municipality", "sex", "age_band", "education", "income", "origin", "labour")
EVENTS = ("modality", "priority", "referrer")
GRAIN = {
    "areas": ("level", "code"),
    "area_centroid": ("level", "code"),
    "geometry": ("level",),
    "meta": ("key",),
    "population_cube": POPULATION,
    "imaging_cube": POPULATION + EVENTS,
    "episode_cube": POPULATION + EVENTS + ("outcome_short", "outcome_long", "low_value"),
    "chiro_billing_cube": POPULATION,
    "standard_population": ("standard", "age_band", "sex"),
    "returns_monthly": ("month", "exam_type", "producer_id", "centre"),
    "build_report": ("step", "source", "reason"),
    "peers": ("code", "peer"),                # comparable municipalities (etl/peers_table.py)
}
MAY_BE_EMPTY = ("build_report",)            # a clean build leaves no row out
CUBES = ("population_cube", "imaging_cube", "episode_cube", "chiro_billing_cube")


@pytest.fixture(scope="module")
def con(atlas_db):
    c = duckdb.connect(str(atlas_db), read_only=True)
    yield c
    c.close()


def _columns(con, table: str) -> list[tuple[str, str]]:
    return con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
                       "ORDER BY ordinal_position", [table]).fetchall()


def _one(con, sql: str, params=()):
    return con.execute(sql, list(params)).fetchone()[0]


def test_every_table_has_a_declared_grain(con):
    tables = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert tables == set(GRAIN), "a table was added or dropped: declare its grain here"


@pytest.mark.parametrize("table", list(GRAIN))
def test_grain_is_unique_and_not_null(con, table):
    keys = ", ".join(GRAIN[table])
    assert table in MAY_BE_EMPTY or _one(con, f"SELECT count(*) FROM {table}") > 0, f"{table} is empty"
    dupes = _one(con, f"SELECT count(*) FROM (SELECT {keys} FROM {table} GROUP BY ALL HAVING count(*) > 1)")
    assert dupes == 0, f"{table}: {dupes} keys ({keys}) occur more than once"
    nulls = " OR ".join(f"{k} IS NULL" for k in GRAIN[table])
    assert _one(con, f"SELECT count(*) FROM {table} WHERE {nulls}") == 0, f"{table}: a key column is NULL"


@pytest.mark.parametrize("table", list(GRAIN))
def test_no_negative_counts(con, table):
    numeric = [c for c, t in _columns(con, table)
               if t in ("INTEGER", "BIGINT", "DOUBLE", "SMALLINT", "TINYINT", "HUGEINT") and c not in ("lon", "lat")]
    for column in numeric:
        assert _one(con, f"SELECT count(*) FROM {table} WHERE {column} < 0") == 0, f"{table}.{column} is negative"


@pytest.mark.parametrize("cube", CUBES)
def test_a_cube_holds_its_grain_and_counts_only(con, cube):
    """No cell keys (``k_*``) since nothing perturbs a count: a cube's columns are its grain and its
    counts (``persons`` or ``n_*``), all integers."""
    extra = [(c, t) for c, t in _columns(con, cube)
             if c not in GRAIN[cube] and not (c == "persons" or c.startswith("n_")) or
             (c not in GRAIN[cube] and t not in ("INTEGER", "BIGINT", "HUGEINT"))]
    assert not extra, f"{cube}: columns that are neither its grain nor an integer count: {extra}"


def test_counts_are_positive_cells(con):
    """A cube holds the cells with somebody in them; an empty cell is left out, not written as 0."""
    assert _one(con, "SELECT count(*) FROM population_cube WHERE persons = 0") == 0
    assert _one(con, "SELECT count(*) FROM imaging_cube WHERE n_imaging = 0") == 0
    assert _one(con, "SELECT count(*) FROM episode_cube WHERE n_episodes = 0") == 0
    assert _one(con, "SELECT count(*) FROM chiro_billing_cube WHERE n_chiro_xray = 0") == 0


def test_chiropractor_billings_are_counted_apart_and_only_for_adults_in_the_population(con, synthetic_extracts):
    """Every billed chiropractor X-ray of an adult resident, by the year of its fee week, is in
    chiro_billing_cube, and none is in the imaging cube (the imaging extract holds none)."""
    from etl.settings import load_settings

    st = load_settings()
    d = str(synthetic_extracts).replace("'", "''")
    expected = duckdb.sql(f"""
        SELECT count(*) FROM read_parquet('{d}/chiro_billing.parquet') b
        JOIN read_parquet('{d}/population_*.parquet') p ON p.person_id = b.person_id AND p.year = b.fee_week // 100
        WHERE p.year - p.birth_year - 1 >= {st.adult_min_age} AND p.year BETWEEN {st.first_year} AND {st.last_year}""").fetchall()[0][0]
    assert expected > 0 and _one(con, "SELECT sum(n_chiro_xray) FROM chiro_billing_cube") == expected
    lpr = duckdb.sql(f"SELECT count(*) FROM read_parquet('{d}/imaging.parquet') "
                     "WHERE producer_type = 'chiropractor_clinic'").fetchall()[0][0]
    assert lpr == 0


@pytest.mark.parametrize("table", CUBES + ("area_centroid",))
def test_every_area_code_is_in_areas(con, table):
    if table == "area_centroid":
        sql = "SELECT count(*) FROM area_centroid c ANTI JOIN areas a USING (level, code)"
    else:
        sql = (f"SELECT count(*) FROM (SELECT DISTINCT municipality FROM {table}) c "
               "WHERE municipality NOT IN (SELECT code FROM areas WHERE level = 'municipality')")
    assert _one(con, sql) == 0


def test_areas_nest_in_their_regions_and_every_level_has_boundaries(con):
    for level in ("region", "region2027"):
        orphans = _one(con, f"SELECT count(*) FROM areas WHERE level = 'municipality' AND {level}_code NOT IN "
                            f"(SELECT code FROM areas WHERE level = '{level}')")
        assert orphans == 0, f"a municipality's {level} is not an area"
    levels = {lv for (lv,) in con.execute("SELECT DISTINCT level FROM areas").fetchall()}
    assert levels == {lv for (lv,) in con.execute("SELECT level FROM geometry").fetchall()}
    assert _one(con, "SELECT count(*) FROM areas ANTI JOIN area_centroid USING (level, code)") == 0


@pytest.mark.parametrize("table, column, vocabulary", [
    (cube, col, vocab) for cube in CUBES
    for col, vocab in (("sex", "sex"), ("age_band", "age_band"), ("education", "education"), ("income", "income"),
                       ("origin", "origin"), ("labour", "labour"))
] + [(cube, col, col) for cube in ("imaging_cube", "episode_cube") for col in EVENTS]
  + [("returns_monthly", "exam_type", "exam_type"), ("standard_population", "age_band", "age_band"),
     ("standard_population", "sex", "sex")])
def test_coded_values_are_in_their_vocabulary(con, table, column, vocabulary):
    found = {v for (v,) in con.execute(f"SELECT DISTINCT {column} FROM {table}").fetchall()}
    assert found <= set(vocabularies.codes(vocabulary)), f"{table}.{column}: {found - set(vocabularies.codes(vocabulary))}"


def test_episode_totals_reconcile_with_the_imaging_cube(con):
    """Each episode is one episode-start imaging: the two cubes agree cell by cell on their common grain."""
    keys = ", ".join(POPULATION + EVENTS)
    differ = _one(con, f"""
        SELECT count(*) FROM
            (SELECT {keys}, sum(n_episode) AS n, sum(n_low_value) AS lv FROM imaging_cube GROUP BY ALL HAVING sum(n_episode) > 0) i
        FULL JOIN
            (SELECT {keys}, sum(n_episodes) AS n, sum(n_episodes) FILTER (WHERE low_value) AS lv FROM episode_cube GROUP BY ALL) e
        USING ({keys})
        WHERE i.n IS DISTINCT FROM e.n OR coalesce(i.lv, 0) <> coalesce(e.lv, 0)""")
    assert differ == 0


def test_imaging_has_a_population_and_first_imagings_fit_in_it(con):
    keys = ", ".join(POPULATION)
    for cube in ("imaging_cube", "episode_cube"):
        assert _one(con, f"SELECT count(*) FROM (SELECT DISTINCT {keys} FROM {cube}) ANTI JOIN population_cube "
                         f"USING ({keys})") == 0, f"{cube} has cells without a population"
    # first imaging counts a person once a year, so it cannot exceed the persons of its cell
    assert _one(con, f"""
        SELECT count(*) FROM (SELECT {keys}, sum(n_first) AS f FROM imaging_cube GROUP BY ALL) i
        JOIN population_cube p USING ({keys}) WHERE i.f > p.persons""") == 0


def test_population_and_meta_agree(con):
    meta = {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM meta").fetchall()}
    years = [y for (y,) in con.execute("SELECT DISTINCT year FROM population_cube ORDER BY 1").fetchall()]
    assert years == list(range(meta["first_year"], meta["last_year"] + 1))
    for cube in ("imaging_cube", "episode_cube"):
        lo, hi = con.execute(f"SELECT min(year), max(year) FROM {cube}").fetchone()
        assert meta["first_year"] <= lo and hi <= meta["last_year"], cube
    bands = {b for (b,) in con.execute("SELECT DISTINCT age_band FROM population_cube").fetchall()}
    assert bands == set(meta["age_bands"])
    assert meta["age_bands"] == list(vocabularies.codes("age_band"))
    # the linkage report counts the lumbar imagings of adult residents, which is what the cube holds
    assert _one(con, "SELECT sum(n_imaging) FROM imaging_cube") == meta["linkage"]["linked_adults"]
    # each standard population covers every age band and sex
    for standard, cells in con.execute("SELECT standard, count(*) FROM standard_population GROUP BY 1").fetchall():
        assert cells == len(meta["age_bands"]) * 2, standard


def test_build_report_shares_are_of_their_rows(con):
    assert _one(con, "SELECT count(*) FROM build_report WHERE rows > of_rows OR abs(share - rows / of_rows) > 1e-9") == 0


def test_returns_nest(con):
    assert _one(con, "SELECT count(*) FROM returns_monthly WHERE letters > returned") == 0
    assert _one(con, "SELECT count(*) FROM returns_monthly WHERE day(month) <> 1") == 0
