"""No count from 1 to 4 can be read from the atlas, or worked out from its rates and expected counts.

(a) Read: the CSV downloads (``atlas.export.chart_csv``, exactly what the charts show) of many
    views never show a count or a denominator from 1 to 4.
(b) Derived: the true counts are recomputed here straight from the person-level extracts (DuckDB
    over the Parquet files, independent of the ETL and the app), and what the app shows for views
    over small populations (scale 0.01) is checked against them: a crude rate times its
    population gives the shown (perturbed) count, not the true one; a standardised rate of one
    stratum gives no true denominator; expected counts carry nothing beyond shown counts; an
    interval's shape gives back the shown count, not the true one.

The intruder's differencing attacks (year ranges, a region or Denmark against its areas, everyone
against the other values of a group), run over HTTP against the served app and scored against a
guessing baseline, are in ``tests/test_attacks.py``.
"""
from __future__ import annotations

import csv
import io
import itertools

import duckdb
import numpy as np
import pandas as pd
from helpers import split_download
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


# ------------------------------------------------------------------ (a) nothing from 1 to 4 is shown

CSV_VIEWS = [
    dict(measure=m, level=lvl, y0=y0, y1=y1, rates=r, **dims)
    for (m, r), lvl, (y0, y1), dims in itertools.product(
        [("imaging_rate", "crude"), ("imaging_rate", "dsr"), ("persons_rate", "eb"), ("lowvalue_rate", "dsr"),
         ("mri_share", "dsr"), ("acute_share", "dsr"), ("xray_then_mri_share", "dsr"), ("repeat_mri_share", "dsr"),
         ("surgery_short_share", "dsr"), ("lowvalue_share", "dsr")],
        ["municipality", "region"],
        [(2013, 2013), (2024, 2024), (2019, 2024)],
        [{}, {"sex": 2, "age": "85+"}, {"origin": 3}, {"labour": 2, "edu": 4}, {"age": "18-24", "modality": "mri"}],
    )
][::11]     # every 11th of the 300 (11 is prime to 2, 3, 5, 10: each measure, level, year and filter still appears)


def test_csv_downloads_show_no_count_from_1_to_4(app_db):
    from atlas import export

    checked = 0
    for spec in CSV_VIEWS:
        v = view(**spec)
        for chart in ("map", "trend", "breakdown", "mix"):
            if chart in ("trend", "breakdown") and spec["level"] == "region" and spec["y0"] != 2024:
                continue          # same tables as the municipality level; keeps the test quick
            content, name = export.chart_csv(chart, v)
            header, table = read_csv_download(content, v.sep)
            assert {"count", "denominator"} <= set(table.columns), (name, table.columns)
            for column in ("count", "denominator"):
                values = table[column].dropna().astype(int)
                small = values[(values >= 1) & (values < SETTINGS.min_count)]
                assert small.empty, f"{name}: {column} shows {small.tolist()}"
            hidden = table["note"].notna() & (table["note"] != "")
            assert table.loc[hidden, ["count", "denominator", "value", "lower", "upper"]].isna().all().all(), name
            checked += 1
    assert checked > 80


def test_small_true_counts_exist_in_the_checked_views(truth):
    """The views above do cover small counts: at scale 0.01 many true cells are 1..4."""
    t = true_counts(truth, "imaging_rate", 2024, 2024, {"sex": 2, "age": "85+"})
    assert ((t["num"] >= 1) & (t["num"] <= 4)).sum() >= 20


# ------------------------------------------------------------------ (b) rates and other derived numbers

NARROW = [{"age": "85+"}, {"age": "18-24"}, {"origin": 2}, {"origin": 3}, {"labour": 2}, {"edu": 4},
          {"age": "75-84", "origin": 1}]
YEARS = [2013, 2024]


def test_count_from_a_crude_rate_is_the_perturbed_count(truth, app_db):
    """rate x denominator / 1000 gives the shown (perturbed) count back, not the true count."""
    same_as_shown, same_as_true, n = 0, 0, 0
    for year, dims in itertools.product(YEARS, NARROW):
        t = shown(view(y0=year, y1=year, **dims), app_db)[1]["table"]
        t = t[~t["hidden"] & (t["num_shown"] > 0)]
        true = true_counts(truth, "imaging_rate", year, year, dims)
        derived = (t["value"] * t["den_shown"] / 1000).round()
        same_as_shown += int((derived == t["num_shown"]).sum())
        same_as_true += int((derived.to_numpy() == t["code"].map(true["num"]).to_numpy()).sum())
        n += len(t)
    assert n > 50 and same_as_shown == n
    assert same_as_true / n < 0.6, f"{same_as_true}/{n} equal to the true count"    # P(noise = 0) = 0.4


@pytest.mark.parametrize("measure", ["imaging_rate", "persons_rate"])
def test_standardised_rates_of_one_stratum_give_no_true_denominator(truth, app_db, measure):
    """With one sex and one age band, a standardised rate is the shown count over the shown
    denominator: working the denominator back from it gives the shown one, not the true one."""
    same_as_true, n = 0, 0
    for year, (sex, age) in itertools.product([2013, 2020, 2024], [(2, "65-74"), (1, "45-54"), (2, "85+")]):
        t = shown(view(measure=measure, rates="dsr", y0=year, y1=year, sex=sex, age=age), app_db)[1]["table"]
        t = t[~t["hidden"] & (t["num_shown"] > 0)]
        pop = truth.execute(f"SELECT municipality, count(*) AS n FROM adults WHERE year = {year} AND sex = {sex} "
                            f"AND age_band = '{age}' GROUP BY 1").df().set_index("municipality")["n"]
        derived = (1000 * t["num_shown"] / t["value"]).round()
        assert np.allclose(derived, t["den_shown"]), "a one-stratum standardised rate must be shown/shown"
        same_as_true += int((derived.to_numpy() == t["code"].map(pop).to_numpy()).sum())
        n += len(t)
    assert n > 30 and same_as_true / n < 0.6, f"{same_as_true}/{n} true denominators recovered"


def test_expected_counts_carry_nothing_beyond_shown_counts(app_db):
    """Denmark's expected count is its shown count; with one stratum an area's expected count is
    its shown denominator times one common rate (nothing of its true population in it)."""
    shown_rows = 0
    for dims in ({}, {"age": "85+"}, {"origin": 3, "age": "18-24"}):
        nat = shown(view(y0=2024, y1=2024, **dims), app_db)[1]["national_row"]
        if nat["hidden"]:                  # a hidden national row shows no expected count either
            assert np.isnan(nat["expected"]) and np.isnan(nat["num_shown"]), dims
            continue
        shown_rows += 1
        assert nat["expected"] == pytest.approx(nat["num_shown"])
    assert shown_rows >= 2
    t = shown(view(y0=2024, y1=2024, sex=2, age="85+"), app_db)[1]["table"]
    t = t[~t["hidden"] & (t["den_shown"] > 0)]
    ratio = (t["expected"] / t["den_shown"]).to_numpy()
    assert np.allclose(ratio, ratio[0])


# ------------------------------------------------------------------ (c) interval inversion

def _invert_interval(value: float, lower: float, upper: float, max_count: int = 5000) -> int | None:
    """The count O whose exact Poisson interval has the shape (value - lower) / (upper - value)
    of the shown interval: an intruder's inversion of any rate whose interval is the Garwood
    interval of some count, rescaled (the shape does not depend on the scale)."""
    from etl import stats

    o = np.arange(1, max_count + 1, dtype=float)
    ci = stats.poisson_ci(o)
    shape = (o - ci.lower) / (ci.upper - o)
    target = (value - lower) / (upper - value)
    best = int(np.argmin(np.abs(shape - target)))
    return int(o[best]) if abs(shape[best] - target) < 1e-6 * max(1.0, target) else None


@pytest.mark.parametrize("rates", ["dsr", "crude"])
def test_intervals_give_back_the_shown_count_not_the_true_one(truth, app_db, rates):
    """(value - lower) / (upper - value) of a rate's interval is a strictly increasing function of
    the count it was computed on. Inverted on every shown area of narrow views, it must give the
    shown (perturbed) count, never a count the app does not show."""
    inverted, differs_from_shown, true_when_shown_is_not = 0, 0, 0
    for year, dims in itertools.product([2016, 2024], [{"sex": 2, "age": "65-74"}, {"origin": 1, "age": "45-54"}, {}]):
        v = view(rates=rates, y0=year, y1=year, **dims)
        t = shown(v, app_db)[1]["table"]
        t = t[~t["hidden"] & (t["num_shown"] > 0) & (t["upper"] > t["value"])]
        tc = true_counts(truth, "imaging_rate", year, year, dims)["num"]
        for code, val, lo, hi, o_shown in zip(t["code"], t["value"], t["lower"], t["upper"], t["num_shown"]):
            o = _invert_interval(val, lo, hi)
            if o is None:
                continue
            inverted += 1
            differs_from_shown += int(o != o_shown)
            true_o = int(tc.get(code, 0))
            true_when_shown_is_not += int(o == true_o and o_shown != true_o)
    assert inverted > 100, "the attack must meet enough shown areas"
    assert differs_from_shown == 0, f"{differs_from_shown} of {inverted} intervals rest on another count than the shown one"
    assert true_when_shown_is_not == 0
