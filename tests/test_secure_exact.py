"""The secure app serves exact figures (issue 25 item 3), checked against the true counts.

The secure database never leaves the secure environment and its users are authorised for the
microdata, so it shows true counts, small ones included, marked "inside the secure environment
only: not output-checked"; protection is the release's job (``tests/test_release_app.py``,
``tests/test_attacks.py``). The true counts are recomputed here straight from the person-level
extracts (DuckDB over the Parquet files, independent of the ETL and the app), and what the app shows
(tables, CSV downloads, rates and intervals) is checked against them.
"""
from __future__ import annotations

import csv
import io
import itertools

import duckdb
import numpy as np
import pandas as pd
import pytest

from etl.settings import CONFIG_DIR, load_settings

SETTINGS = load_settings()
DIM_COLUMN = {"sex": "sex", "age": "age_band", "edu": "education", "inc": "income_quintile", "origin": "origin",
              "labour": "labour_status", "modality": "modality"}


# ------------------------------------------------------------------ the truth, from the extracts

@pytest.fixture(scope="module")
def truth(synthetic_extracts):
    """Person-level adults and their lumbar imaging, from the Parquet extracts (not from the ETL)."""
    con = duckdb.connect()
    bands = " ".join(f"WHEN age BETWEEN {b.lower} AND {b.upper} THEN '{b.label}'" for b in SETTINGS.age_bands)
    d = str(synthetic_extracts).replace("'", "''")
    con.execute(f"""
        CREATE TABLE adults AS
        SELECT person_id, year, municipality, sex, CASE {bands} END AS age_band, education, income_quintile,
               origin, labour_status
        FROM (SELECT *, year - birth_year - 1 AS age FROM read_parquet('{d}/population_*.parquet'))
        WHERE age >= {SETTINGS.adult_min_age} AND year BETWEEN {SETTINGS.first_year} AND {SETTINGS.last_year}""")
    codes = str(CONFIG_DIR / "codes" / "imaging_procedures.csv").replace("'", "''")
    con.execute(f"CREATE TABLE codes AS SELECT code, modality FROM read_csv('{codes}')")
    con.execute(f"""
        CREATE TABLE imaging AS
        SELECT a.*, c.modality
        FROM read_parquet('{d}/imaging.parquet') i
        JOIN codes c ON c.code = i.procedure_code
        JOIN adults a ON a.person_id = i.person_id AND a.year = year(i.procedure_date)""")
    regions = pd.read_csv(SETTINGS.reference_dir / "municipalities.csv")
    con.register("regions_df", regions[["kommune_code", "region_code"]])
    con.execute("CREATE TABLE regions AS SELECT kommune_code AS municipality, region_code FROM regions_df")
    return con


def true_counts(con, measure: str, y0: int, y1: int, dims: dict, by: str = "municipality") -> pd.DataFrame:
    """True numerator and denominator of a measure by municipality (or region, or 'all')."""
    def where(with_event_dims: bool, ignore=()):
        parts = [f"year BETWEEN {y0} AND {y1}"]
        for k, v in dims.items():
            if k in ignore or (k == "modality" and not with_event_dims):
                continue
            parts.append(f"{DIM_COLUMN[k]} = {v!r}" if isinstance(v, str) else f"{DIM_COLUMN[k]} = {v}")
        return " AND ".join(parts)
    key = {"municipality": "municipality", "region": "r.region_code", "all": "0"}[by]
    join = "JOIN regions r USING (municipality)"
    if measure == "imaging_rate":
        num = f"SELECT {key} AS code, count(*) AS num FROM imaging {join} WHERE {where(True)} GROUP BY 1"
        den = f"SELECT {key} AS code, count(*) AS den FROM adults {join} WHERE {where(False)} GROUP BY 1"
    elif measure == "mri_share":          # the MRI share ignores a modality filter
        num = (f"SELECT {key} AS code, count(*) AS num FROM imaging {join} "
               f"WHERE {where(True, ('modality',))} AND modality = 'mri' GROUP BY 1")
        den = f"SELECT {key} AS code, count(*) AS den FROM imaging {join} WHERE {where(True, ('modality',))} GROUP BY 1"
    else:
        raise ValueError(measure)
    out = con.execute(f"SELECT coalesce(d.code, n.code) AS code, coalesce(num, 0) AS num, coalesce(den, 0) AS den "
                      f"FROM ({den}) d FULL JOIN ({num}) n ON d.code = n.code").df()
    return out.set_index("code")


# ------------------------------------------------------------------ what the app shows

def view(measure="imaging_rate", level="municipality", y0=2024, y1=2024, rates="crude", **dims):
    from atlas.filters import View

    return View(measure=measure, level=level, y0=y0, y1=y1, rates=rates, dims=tuple(sorted(dims.items())))


def read_csv_download(content: bytes, sep: str) -> tuple[list[list[str]], pd.DataFrame]:
    """Header rows and the table of a CSV download."""
    from helpers import split_download

    text = content.decode("utf-8-sig")
    head, body = split_download(text)
    header = list(csv.reader(io.StringIO(head), delimiter=sep))
    return header, pd.read_csv(io.StringIO(body), sep=sep, dtype={"count": "Int64", "denominator": "Int64"},
                               keep_default_na=True)


def shown(v, app_db) -> tuple[pd.DataFrame, dict]:
    """Shown count and denominator by area (None when suppressed), and Denmark's row."""
    from atlas import queries

    t, national = queries.area_table(v)
    rows = {int(c): (None if h else n, None if h else d) for c, n, d, h in
            zip(t["code"], t["num_shown"], t["den_shown"], t["hidden"])}
    nat = (None if national["hidden"] else national["num_shown"], None if national["hidden"] else national["den_shown"])
    return rows, {"national": nat, "table": t, "national_row": national}


# ------------------------------------------------------------------ (a) the downloads hold the true counts

CSV_VIEWS = [
    dict(measure=m, level=lvl, y0=y0, y1=y1, rates=r, **dims)
    for (m, r), lvl, (y0, y1), dims in itertools.product(
        [("imaging_rate", "crude"), ("imaging_rate", "dsr"), ("mri_share", "dsr")],
        ["municipality", "region"],
        [(2013, 2013), (2024, 2024), (2019, 2024)],
        [{}, {"sex": 2, "age": "85+"}, {"origin": 3}, {"labour": 2, "edu": 4}, {"age": "18-24", "modality": "mri"}],
    )
][::7]


def test_csv_downloads_hold_the_true_counts_and_say_inside_only(truth, app_db):
    from atlas import export

    checked, small = 0, 0
    for spec in CSV_VIEWS:
        v = view(**spec)
        content, name = export.chart_csv("map", v)
        header, table = read_csv_download(content, v.sep)
        assert any("Inside the secure environment only" in " ".join(r) for r in header), name
        dims = {k: val for k, val in v.dims}
        true = true_counts(truth, spec["measure"], spec["y0"], spec["y1"], dims, by=spec["level"])
        areas = table[table["code"] != 0].set_index("code")
        want = areas.index.map(lambda c, true=true: int(true["num"].get(c, 0)))
        assert (areas["count"].astype(int).to_numpy() == np.asarray(want)).all(), name
        small += int(((areas["count"] >= 1) & (areas["count"] < SETTINGS.min_count)).sum())
        checked += 1
    assert checked >= 4 and small > 0          # small counts are shown as they are


def test_a_crude_rate_gives_back_the_true_count(truth, app_db):
    n = 0
    for year, dims in itertools.product([2013, 2024], [{"age": "85+"}, {"origin": 3}, {"labour": 2}]):
        t = shown(view(y0=year, y1=year, **dims), app_db)[1]["table"]
        t = t[~t["hidden"] & (t["num_shown"] > 0)]
        true = true_counts(truth, "imaging_rate", year, year, dims)
        derived = (t["value"] * t["den_shown"] / 1000).round()
        assert (derived.to_numpy() == t["code"].map(true["num"]).to_numpy()).all()
        assert (t["den_shown"].to_numpy() == t["code"].map(true["den"]).to_numpy()).all()
        n += len(t)
    assert n > 50


def test_denmarks_expected_count_is_its_count(app_db):
    for dims in ({}, {"age": "85+"}, {"origin": 3, "age": "18-24"}):
        nat = shown(view(y0=2024, y1=2024, **dims), app_db)[1]["national_row"]
        assert nat["expected"] == pytest.approx(nat["num_shown"])
        assert nat["flag"] == "not_tested"          # Denmark against itself is no test
