"""The ETL keeps its invariants and recovers the planted effects.

Reference numbers are recomputed here straight from the Parquet extracts with plain DuckDB SQL,
independently of the ETL's staging/intermediate/marts code, and compared with the app database.
Planted sizes come from etl/synthetic/effects.toml.
"""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from etl.settings import read_code_list
from etl.synthetic import load_effects

EFF = load_effects()


@pytest.fixture(scope="module")
def app(atlas_db, tmp_path_factory):
    # a copy: the app may hold the session's database open with its own connection settings
    import shutil

    copy = tmp_path_factory.mktemp("etl") / "atlas.duckdb"
    shutil.copy(atlas_db, copy)
    con = duckdb.connect(str(copy), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def raw(synthetic_extracts):
    """Independent person-level reference: adult residents' lumbar imaging with their status."""
    con = duckdb.connect()
    d = str(synthetic_extracts)
    codes = pd.DataFrame(read_code_list("imaging_procedures"))
    con.register("codes", codes)
    con.execute(f"CREATE VIEW pop AS SELECT * FROM read_parquet('{d}/population_*.parquet')")
    con.execute(f"""
        CREATE TABLE img AS
        SELECT i.*, c.modality, year(i.procedure_date) AS year, p.municipality, p.sex, p.education,
               p.income_quintile, p.year - p.birth_year - 1 AS age
        FROM read_parquet('{d}/imaging.parquet') i JOIN codes c ON i.procedure_code = c.code
        JOIN pop p ON p.person_id = i.person_id AND p.year = year(i.procedure_date)
        WHERE p.year - p.birth_year - 1 >= 18""")
    yield con
    con.close()


def test_imaging_counts_match_the_extracts_by_year_and_municipality(app, raw):
    ref = raw.execute("SELECT year, municipality, count(*) AS n FROM img GROUP BY ALL").df()
    got = app.execute("SELECT year, municipality, sum(n_imaging) AS n FROM imaging_cube GROUP BY ALL").df()
    m = ref.merge(got, on=["year", "municipality"], how="outer", suffixes=("_ref", "_app")).fillna(0)
    assert len(m) > 500
    assert (m.n_ref == m.n_app).all(), m[m.n_ref != m.n_app].head()


@pytest.mark.parametrize("dim", ["sex", "age_band", "education", "income", "origin", "labour", "modality",
                                 "priority", "referrer"])
def test_counts_add_up_across_every_dimension(app, dim):
    total = app.execute("SELECT sum(n_imaging), sum(n_first), sum(n_episode) FROM imaging_cube").fetchone()
    by = app.execute(f"SELECT sum(n), sum(f), sum(e) FROM (SELECT {dim}, sum(n_imaging) n, sum(n_first) f, "
                     f"sum(n_episode) e FROM imaging_cube GROUP BY ALL)").fetchone()
    assert total == by
    pop_total = app.execute("SELECT sum(persons) FROM population_cube").fetchone()[0]
    if dim in ("sex", "age_band", "education", "income", "origin", "labour"):
        pop_by = app.execute(f"SELECT sum(p) FROM (SELECT {dim}, sum(persons) p FROM population_cube GROUP BY ALL)").fetchone()[0]
        assert pop_total == pop_by


def test_denominators_match_the_population_extract(app, raw):
    ref = raw.execute("SELECT year, municipality, sex, count(*) AS n FROM pop "
                      "WHERE year - birth_year - 1 >= 18 GROUP BY ALL").df()
    got = app.execute("SELECT year, municipality, sex, sum(persons) AS n FROM population_cube GROUP BY ALL").df()
    m = ref.merge(got, on=["year", "municipality", "sex"], how="outer", suffixes=("_ref", "_app")).fillna(0)
    assert (m.n_ref == m.n_app).all()


def test_first_imaging_counts_persons_once_a_year(app, raw):
    ref = raw.execute("SELECT year, count(DISTINCT person_id) AS n FROM img GROUP BY year ORDER BY year").df()
    got = app.execute("SELECT year, sum(n_first) AS n FROM imaging_cube GROUP BY year ORDER BY year").df()
    assert ref.n.tolist() == got.n.astype(int).tolist()


def test_nested_measures_are_consistent(app):
    bad = app.execute("""SELECT count(*) FROM imaging_cube WHERE n_first > n_imaging OR n_episode > n_imaging
                         OR n_low_value > n_episode OR n_surgery_short > n_surgery_long
                         OR n_rehab_short > n_rehab_long OR (modality = 'mri' AND n_xray_then_mri > 0)
                         OR (modality = 'xray' AND n_repeat_mri > 0)""").fetchone()[0]
    assert bad == 0
    ep = app.execute("SELECT sum(n_episodes) FROM episode_cube").fetchone()[0]
    assert ep == app.execute("SELECT sum(n_episode) FROM imaging_cube").fetchone()[0]


def test_no_person_level_data_in_the_app_database(app, synthetic_extracts):
    cols = app.execute("SELECT table_name, column_name, data_type FROM information_schema.columns").df()
    assert not cols.column_name.str.contains(r"person_id|^pnr$|cpr|birth|_date$", case=False).any()
    # no table has one row per imaging (the cubes aggregate): every cube is smaller than the events
    n_img = duckdb.sql(f"SELECT count(*) FROM read_parquet('{synthetic_extracts}/imaging.parquet')").fetchall()[0][0]
    for table in ("imaging_cube", "episode_cube"):
        assert app.execute(f"SELECT count(*) FROM {table}").fetchone()[0] < n_img
    # the person ids of the extracts are not among any integer column of the app database
    ids = set(duckdb.sql(f"SELECT person_id FROM read_parquet('{synthetic_extracts}/imaging.parquet') "
                         "WHERE person_id > 100000 LIMIT 2000").df().person_id)
    for table, column, dtype in cols.itertuples(index=False):
        if dtype in ("BIGINT", "INTEGER", "HUGEINT"):
            values = set(app.execute(f'SELECT DISTINCT "{column}" FROM {table}').df()[column].dropna())
            assert len(ids & values) < 5, (table, column)


# ------------------------------------------------------------------ planted effects recovered

def _rate_by(app, column: str, where: str = "true") -> pd.Series:
    ev = app.execute(f"SELECT {column} AS k, sum(n_imaging) AS n FROM imaging_cube WHERE {where} GROUP BY ALL").df()
    pop = app.execute(f"SELECT {column} AS k, sum(persons) AS p FROM population_cube GROUP BY ALL").df()
    m = ev.merge(pop, on="k")
    return (m.set_index("k").n / m.set_index("k").p * 1000).sort_index()


def test_region_ranking_is_recovered(app):
    regions = app.execute("SELECT code, region_name FROM areas WHERE level = 'municipality'").df()
    ev = app.execute("SELECT municipality, sum(n_imaging) n FROM imaging_cube GROUP BY ALL").df()
    pop = app.execute("SELECT municipality, sum(persons) p FROM population_cube GROUP BY ALL").df()
    m = ev.merge(pop, on="municipality").merge(regions, left_on="municipality", right_on="code")
    rate = m.groupby("region_name")[["n", "p"]].sum().eval("n / p")
    planted = pd.Series(EFF["imaging"]["region"])
    assert rate.idxmax() == planted.idxmax()
    assert rate.idxmin() == planted.idxmin()
    ratio = rate[planted.idxmax()] / rate[planted.idxmin()]
    assert ratio == pytest.approx(planted.max() / planted.min(), rel=0.2)


def test_xray_falls_and_mri_rises(app):
    d = app.execute("SELECT year, modality, sum(n_imaging) n FROM imaging_cube GROUP BY ALL").df()
    pop = app.execute("SELECT year, sum(persons) p FROM population_cube GROUP BY ALL").df()
    d = d.merge(pop, on="year")
    for modality, planted in (("xray", EFF["imaging"]["trend"]["xray_annual_ratio"]),
                              ("mri", EFF["imaging"]["trend"]["mri_annual_ratio"])):
        s = d[d.modality == modality].sort_values("year")
        slope = np.polyfit(s.year, np.log(s.n / s.p), 1)[0]
        assert np.exp(slope) == pytest.approx(planted, abs=0.03), modality


def test_social_gradient_by_education_and_income(app):
    edu = _rate_by(app, "education")
    inc = _rate_by(app, "income")
    assert edu[1] > edu[2] > edu[3] > edu[4]
    assert inc[1] > inc[3] > inc[5]
    # crude ratios are confounded by age; only direction and a clear gap are asserted
    assert edu[1] / edu[4] > 1.2


def test_chiropractors_refer_mostly_to_xray(app):
    """The planted X-ray share of chiropractor referrals holds for the patient register's X-rays and the
    chiropractors' own (billed, in chiro_billing_cube: never in the imaging cube) together."""
    d = app.execute("SELECT referrer, modality, sum(n_imaging) n FROM imaging_cube GROUP BY ALL").df()
    n = d.pivot(index="referrer", columns="modality", values="n")
    billed = app.execute("SELECT sum(n_chiro_xray) FROM chiro_billing_cube").fetchone()[0]
    assert billed > 0
    chiro = (n.loc["chiropractor", "xray"] + billed) / (n.loc["chiropractor"].sum() + billed)
    assert chiro == pytest.approx(EFF["referrer"]["chiropractor_xray_share"], abs=0.06)
    share = n.eval("xray / (xray + mri)")
    assert share["chiropractor"] < chiro and share["gp"] > share["hospital"]


def test_acute_share(app):
    acute, total = app.execute("SELECT sum(n_imaging) FILTER (WHERE priority = 'acute'), sum(n_imaging) "
                               "FROM imaging_cube").fetchone()
    assert acute / total == pytest.approx(EFF["referrer"]["acute_overall"], abs=0.04)


def test_surgery_follows_mri_more_often_than_xray(app):
    d = app.execute("SELECT modality, sum(n_surgery_long) s, sum(n_imaging) n FROM imaging_cube GROUP BY ALL").df()
    share = d.set_index("modality").eval("s / n")
    assert share["mri"] > 2 * share["xray"]
    assert 0 < share["xray"] < share["mri"] < 0.2


def test_low_value_share_is_higher_for_chiropractor_referrals(app):
    d = app.execute("SELECT referrer, sum(n_low_value) lv, sum(n_episode) e FROM imaging_cube GROUP BY ALL").df()
    share = d.set_index("referrer").eval("lv / e")
    assert share["chiropractor"] > share["gp"] > share["hospital"]


def test_returns_campaign_wears_off(app):
    d = app.execute("SELECT month, sum(letters) l FROM returns_monthly GROUP BY month ORDER BY month").df()
    campaign = d[d.l > 0]
    assert len(campaign) >= 4
    first, later = campaign.l.iloc[0], campaign.l.iloc[3:].mean()
    assert first > 1.5 * later
