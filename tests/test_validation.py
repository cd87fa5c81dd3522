"""Validation of the extracts: every kind of bad input gives a clear error, and a failed build
leaves the previous database as it was.

Each strict case builds over a copy of a good database and checks that the error names the file,
the column, the number of bad rows and examples and says what to do; that the build stops (the
CLI with exit code 2 for one case); and that the previous database is byte-for-byte unchanged,
still opens and answers ``SELECT count(*) FROM imaging_cube`` as before, with no temporary file
left beside it. Lenient mode drops the bad rows, lists exactly those rows with the rule they broke
in ``rejected/<table>.csv``, and the build succeeds.

The inputs are copies of one synthetic extract (``conftest.synthetic_extracts``), changed per test.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from etl.build import build
from etl.contract import municipality_codes
from etl.settings import CONFIG_DIR, REPO_ROOT, load_column_mapping, load_settings
from etl.staging import ContractError, stage_all

SETTINGS = load_settings()


# ------------------------------------------------------------------ helpers

@dataclass
class PreviousDB:
    path: Path
    imaging_rows: int
    digest: str


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _imaging_rows(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT count(*) FROM imaging_cube").fetchone()[0]


@pytest.fixture
def previous_db(atlas_db, tmp_path) -> PreviousDB:
    """A copy of the good database, standing where the failed build will try to write."""
    target = tmp_path / "out" / "atlas.duckdb"
    target.parent.mkdir()
    shutil.copy2(atlas_db, target)
    return PreviousDB(target, _imaging_rows(target), _sha(target))


def assert_untouched(prev: PreviousDB) -> None:
    """The previous database is unchanged, opens, answers a query; nothing was left beside it."""
    assert _sha(prev.path) == prev.digest, "the previous database was changed by a failed build"
    assert _imaging_rows(prev.path) == prev.imaging_rows
    assert sorted(p.name for p in prev.path.parent.iterdir()) == [prev.path.name], \
        "a temporary file (or a rejection report) was left beside the database"


def failed_build(input_dir: Path, prev: PreviousDB, **kwargs) -> ContractError:
    with pytest.raises(ContractError) as info:
        build(input_dir, prev.path, quiet=True, **kwargs)
    assert_untouched(prev)
    return info.value


def line_for(message: str, file: str, column: str | None = None) -> str:
    """The line of a ContractError message about ``file`` (and ``column``)."""
    prefix = f"  - {file}" + (f", column '{column}'" if column else "")
    hits = [ln for ln in message.splitlines() if ln.startswith(prefix)]
    assert hits, f"no problem reported for {file} {column or ''} in:\n{message}"
    return hits[0]


def assert_row_problem(message: str, file: str, column: str, n_rows: int, examples: list, what: str,
                       todo: str, lenient_offered: bool = True) -> None:
    """The message names the file, the column, the number of bad rows, examples and what to do."""
    line = line_for(message, file, column)
    rows = f"{n_rows:,} row{'s' if n_rows != 1 else ''}"
    assert f": {rows} {what}" in line, line
    shown = re.search(r"\(for example: (.*)\)\. What to do", line)
    assert shown, line
    for example in examples:
        assert str(example) in shown.group(1), f"{example} not among the examples: {line}"
    assert "What to do: " in line and todo in line.split("What to do: ", 1)[1], line
    assert "previous database has not been changed" in message
    assert ("--lenient" in message) == lenient_offered


def rewrite(path: Path, change) -> None:
    """Rewrite a Parquet file through ``change`` (changes the frame in place, or returns a new one)."""
    frame = pd.read_parquet(path)
    out = change(frame)
    (frame if out is None else out).to_parquet(path, index=False)


def add_rows(path: Path, rows: pd.DataFrame) -> None:
    frame = pd.read_parquet(path)
    pd.concat([frame, rows], ignore_index=True).to_parquet(path, index=False)


# ------------------------------------------------------------------ columns: renamed, mapped

def test_renamed_column_is_reported(extracts_copy, previous_db):
    files = sorted(extracts_copy.glob("population_*.parquet"))
    for f in files:
        rewrite(f, lambda d: d.rename(columns={"municipality": "kommune"}))
    err = failed_build(extracts_copy, previous_db)
    msg = str(err)
    for f in files:
        line = line_for(msg, f.name, "municipality")
        assert "is missing" in line and "kommune" in line, line        # says what the file has instead
        assert "What to do:" in line and "--columns" in line and "etl/config/columns.toml" in line, line
    # a missing column cannot be dropped row by row: the message does not offer --lenient ...
    assert "--lenient" not in msg
    # ... and lenient mode stops as well
    failed_build(extracts_copy, previous_db, lenient=True)


def test_renamed_column_fixed_by_a_column_mapping(extracts_copy, atlas_db, tmp_path):
    for f in extracts_copy.glob("population_*.parquet"):
        rewrite(f, lambda d: d.rename(columns={"municipality": "KOM", "sex": "koen"}))
    mapping = (CONFIG_DIR / "columns.toml").read_text(encoding="utf-8")
    assert mapping.count('municipality = "municipality"') == 1 and mapping.count('sex = "sex"') == 1
    mine = tmp_path / "my-columns.toml"
    mine.write_text(mapping.replace('municipality = "municipality"', 'municipality = "kom"')   # case-insensitive
                    .replace('sex = "sex"', 'sex = "koen"'), encoding="utf-8")
    db = tmp_path / "new" / "atlas.duckdb"
    proc = subprocess.run([sys.executable, "-m", "etl", "build", "--input", str(extracts_copy), "--db", str(db),
                           "--columns", str(mine), "--quiet"], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    with duckdb.connect(str(db), read_only=True) as new, duckdb.connect(str(atlas_db), read_only=True) as good:
        for sql in ("SELECT count(*), sum(n_imaging) FROM imaging_cube",
                    "SELECT sum(persons) FROM population_cube WHERE municipality = 101 AND sex = 2"):
            assert new.execute(sql).fetchall() == good.execute(sql).fetchall(), sql


# ------------------------------------------------------------------ encodings and code formats

def test_latin1_semicolon_csv_with_danish_letters(extracts_copy, synthetic_extracts):
    """Latin-1 CSVs (semicolons, dd-mm-yyyy dates) with æ, ø, å in centre names and producer ids load as such."""
    renamed = {"S1084P01": "SØ1084P01"}
    for name, date_col in (("returned_referrals", "return_date"), ("referrals_received", "month")):
        src = extracts_copy / f"{name}.parquet"
        frame = pd.read_parquet(src)
        frame["producer_id"] = frame["producer_id"].replace(renamed)
        frame[date_col] = pd.to_datetime(frame[date_col]).dt.strftime("%d-%m-%Y")
        text = frame.to_csv(sep=";", index=False)
        assert "ø" in text and "æ" in text
        (extracts_copy / f"{name}.csv").write_bytes(text.encode("latin-1"))
        src.unlink()
    con = duckdb.connect()
    report = stage_all(con, extracts_copy, load_column_mapping(), SETTINGS)
    assert not report.problems
    got = con.execute("SELECT centre, producer_id, count(*), count(*) FILTER (WHERE return_letter) "
                      "FROM stg_returned_referrals GROUP BY ALL ORDER BY ALL").fetchall()
    ref = duckdb.connect().execute(
        f"SELECT centre, CASE producer_id WHEN 'S1084P01' THEN 'SØ1084P01' ELSE producer_id END, count(*), "
        f"count(*) FILTER (WHERE return_letter) FROM read_parquet('{synthetic_extracts}/returned_referrals.parquet') "
        "GROUP BY ALL ORDER BY ALL").fetchall()
    assert got == ref
    centres = {c for c, *_ in got}
    assert "Røntgen Sjælland" in centres and "Billedcenter København" in centres
    assert not any("Ã" in c for c in centres), "Latin-1 read as UTF-8 (mojibake)"
    dates = con.execute("SELECT min(month), max(month), sum(referrals) FROM stg_referrals_received").fetchone()
    ref_dates = duckdb.connect().execute(
        f"SELECT min(month), max(month), sum(referrals) FROM read_parquet('{synthetic_extracts}/referrals_received.parquet')"
    ).fetchone()
    assert dates == ref_dates


def test_municipality_codes_with_and_without_leading_zeros(extracts_copy, synthetic_extracts):
    """'0101' (text, as in many SAS/CSV exports) and 101 (integer) are the same municipality."""
    csv_year, text_year = 2020, 2021
    frame = pd.read_parquet(extracts_copy / f"population_{csv_year}.parquet")
    frame["municipality"] = frame["municipality"].astype(str).str.zfill(4)
    assert (frame["municipality"] == "0101").any()
    frame.to_csv(extracts_copy / f"population_{csv_year}.csv", index=False)
    (extracts_copy / f"population_{csv_year}.parquet").unlink()
    rewrite(extracts_copy / f"population_{text_year}.parquet",
            lambda d: d.__setitem__("municipality", d["municipality"].astype(str).str.zfill(4)))
    con = duckdb.connect()
    report = stage_all(con, extracts_copy, load_column_mapping(), SETTINGS)
    assert not report.problems
    got = con.execute(f"SELECT year, municipality, count(*) FROM stg_population WHERE year IN ({csv_year}, {text_year}) "
                      "GROUP BY ALL ORDER BY ALL").fetchall()
    ref = duckdb.connect().execute(
        f"SELECT year, municipality, count(*) FROM read_parquet('{synthetic_extracts}/population_*.parquet') "
        f"WHERE year IN ({csv_year}, {text_year}) GROUP BY ALL ORDER BY ALL").fetchall()
    assert got == ref
    assert (csv_year, 101, next(n for y, m, n in ref if (y, m) == (csv_year, 101))) in got


def test_municipality_codes_from_before_2007_stop_the_cli(extracts_copy, previous_db):
    """Codes abolished in 2007 (here 303, and 999) stop `python -m etl build` with exit code 2.

    (165 is not an example: it is Albertslund's code today as before 2007.)
    """
    assert 303 not in municipality_codes(SETTINGS) and 165 in municipality_codes(SETTINGS)
    f = extracts_copy / "population_2016.parquet"

    def old_codes(d):
        d.loc[d.index[:3], "municipality"] = 303
        d.loc[d.index[3:5], "municipality"] = 999
    rewrite(f, old_codes)
    proc = subprocess.run([sys.executable, "-m", "etl", "build", "--input", str(extracts_copy),
                           "--db", str(previous_db.path), "--quiet"], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert_row_problem(proc.stderr, f.name, "municipality", 5, [303, 999],
                       "are not one of the 98 municipality codes", "2007 municipal reform")
    assert_untouched(previous_db)


# ------------------------------------------------------------------ values

@pytest.mark.parametrize("table,column", [("imaging", "procedure_date"), ("rehabilitation", "plan_date"),
                                          ("returned_referrals", "return_date")])
def test_dates_in_the_future(extracts_copy, previous_db, table, column):
    future = [dt.date.today() + dt.timedelta(days=d) for d in (1, 30, 400)]

    def move(d):
        d[column] = d[column].astype(object)
        for i, day in enumerate(future):
            d.loc[d.index[i], column] = day
    rewrite(extracts_copy / f"{table}.parquet", move)
    err = failed_build(extracts_copy, previous_db)
    assert_row_problem(str(err), f"{table}.parquet", column, 3, [d.isoformat() for d in future],
                       "are dates in the future", "date column")
    assert len(err.problems) == 1


def test_population_person_year_duplicates(extracts_copy, previous_db):
    f = extracts_copy / "population_2018.parquet"
    frame = pd.read_parquet(f)
    dup = frame.iloc[[10, 20, 30, 40]]
    add_rows(f, dup)
    err = failed_build(extracts_copy, previous_db)
    assert_row_problem(str(err), f.name, "person_id+year", 8, [f"({dup.person_id.iloc[0]}, 2018)"],
                       "are duplicates of another row on (person_id, year)", "one row per person and year")


def test_imaging_duplicates(extracts_copy, previous_db):
    f = extracts_copy / "imaging.parquet"
    dup = pd.read_parquet(f).iloc[[5, 500, 5000]]
    add_rows(f, dup)
    err = failed_build(extracts_copy, previous_db)
    assert_row_problem(str(err), f.name, "person_id+procedure_date+procedure_code+producer_id", 6,
                       [dup.person_id.iloc[0]], "are duplicates of another row", "remove duplicate rows")


def test_text_in_an_integer_column(extracts_copy, previous_db):
    f = extracts_copy / "population_2019.parquet"

    def words(d):
        d["education"] = d["education"].astype(str)
        d.loc[d.index[:4], "education"] = "høj"
        d.loc[d.index[4:6], "education"] = "3.5"
    rewrite(f, words)
    err = failed_build(extracts_copy, previous_db)
    assert_row_problem(str(err), f.name, "education", 6, ["høj", "3.5"], "cannot be read as integer",
                       "docs/data-contract.md")
    assert len(err.problems) == 1, "a column of numbers stored as text is fine; only the words are reported"


# ------------------------------------------------------------------ files

def test_truncated_parquet_file(extracts_copy, previous_db):
    f = extracts_copy / "imaging.parquet"
    data = f.read_bytes()
    f.write_bytes(data[: len(data) // 2])
    for lenient in (False, True):          # a file that cannot be read cannot be cleaned row by row
        err = failed_build(extracts_copy, previous_db, lenient=lenient)
        line = line_for(str(err), f.name)
        assert "cannot be read" in line and "truncated or corrupt" in line and "export it again" in line, line
        assert "--lenient" not in str(err)
        assert "Traceback" not in str(err) and "_duckdb" not in str(err)


def test_csv_line_with_an_extra_field_is_named_by_its_line(extracts_copy, previous_db):
    frame = pd.read_parquet(extracts_copy / "surgery.parquet")
    lines = frame.to_csv(index=False).splitlines()
    lines[1001] += ",oops"                      # line 1002 of the file (the header is line 1)
    (extracts_copy / "surgery.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (extracts_copy / "surgery.parquet").unlink()
    err = failed_build(extracts_copy, previous_db, lenient=True)
    line = line_for(str(err), "surgery.csv")
    assert "line 1002 has 4 fields where the header has 3" in line and "oops" in line, line
    assert "What to do: " in line and "same number of fields on every line" in line, line


def test_missing_table_file(extracts_copy, previous_db):
    (extracts_copy / "surgery.parquet").unlink()
    err = failed_build(extracts_copy, previous_db)
    line = line_for(str(err), str(extracts_copy))
    assert "has no file for the table 'surgery'" in line and "surgery*" in line, line
    assert "What to do: add the extract" in line, line


def test_every_problem_is_reported_at_once(extracts_copy, previous_db):
    """Problems in several tables and files come in one error, not one per run."""
    (extracts_copy / "surgery.parquet").unlink()
    rewrite(extracts_copy / "population_2014.parquet", lambda d: d.__setitem__("sex", d["sex"].where(d.index > 2, 7)))
    rewrite(extracts_copy / "diagnoses.parquet", lambda d: d.__setitem__("icd10", d["icd10"].str.removeprefix("D")))
    err = failed_build(extracts_copy, previous_db)
    msg = str(err)
    line_for(msg, str(extracts_copy))
    # (a missing table cannot be fixed by dropping rows, so --lenient is not offered)
    assert_row_problem(msg, "population_2014.parquet", "sex", 3, [7], "are not one of the sex codes", "recode",
                       lenient_offered=False)
    n_icd = len(pd.read_parquet(extracts_copy / "diagnoses.parquet"))
    assert_row_problem(msg, "diagnoses.parquet", "icd10", n_icd, [], "are not SKS ICD-10 codes", "add it",
                       lenient_offered=False)


def test_failure_after_staging_leaves_previous_db(extracts_copy, previous_db, monkeypatch):
    """Not only contract errors: any failure while writing the new database leaves the old one."""
    from etl import marts

    def boom(con, settings):
        raise RuntimeError("disk full (simulated)")
    monkeypatch.setattr(marts, "write_population", boom)        # the first write into the new file
    with pytest.raises(RuntimeError, match="simulated"):
        build(extracts_copy, previous_db.path, quiet=True)
    assert_untouched(previous_db)


# ------------------------------------------------------------------ lenient mode

def test_lenient_build_drops_bad_rows_and_reports_them(extracts_copy, previous_db, synthetic_extracts):
    """`python -m etl build --lenient`: the bad rows go, the report lists exactly them, the build succeeds."""
    pop = extracts_copy / "population_2017.parquet"
    frame = pd.read_parquet(pop)
    n_pop = len(frame)
    frame["education"] = frame["education"].astype(str)
    frame.loc[frame.index[:3], "municipality"] = 303                  # 3 abolished codes
    frame.loc[frame.index[3:5], "education"] = "høj"                  # 2 words in an integer column
    frame = pd.concat([frame, frame.iloc[[100, 200]]], ignore_index=True)   # 2 duplicates (the copies go)
    frame.to_parquet(pop, index=False)
    img = extracts_copy / "imaging.parquet"
    imaging = pd.read_parquet(img)
    imaging["procedure_date"] = imaging["procedure_date"].astype(object)
    imaging.loc[imaging.index[:4], "procedure_date"] = dt.date.today() + dt.timedelta(days=10)   # 4 future dates
    imaging.to_parquet(img, index=False)

    proc = subprocess.run([sys.executable, "-m", "etl", "build", "--input", str(extracts_copy),
                           "--db", str(previous_db.path), "--lenient", "--quiet"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Lenient build: rows dropped" in proc.stderr, proc.stderr
    assert "population: 7" in proc.stderr and "imaging: 4" in proc.stderr, proc.stderr
    out = previous_db.path.parent
    assert sorted(p.name for p in out.iterdir()) == ["atlas.duckdb", "rejected"], "temporary file left behind"
    assert _sha(previous_db.path) != previous_db.digest, "the new database replaces the previous one"
    rej_pop = pd.read_csv(out / "rejected" / "population.csv", dtype=str)
    rej_img = pd.read_csv(out / "rejected" / "imaging.csv", dtype=str)
    assert len(rej_pop) == 7 and len(rej_img) == 4, "the report lists exactly the dropped rows"
    assert (rej_pop["file"] == pop.name).all()
    assert rej_pop["problem"].str.contains("municipality: are not one of the 98 municipality codes").sum() == 3
    assert rej_pop["problem"].str.contains("education: cannot be read as integer").sum() == 2
    assert rej_pop["problem"].str.contains(r"duplicate of another row on \(person_id, year\)").sum() == 2
    assert set(rej_pop.loc[rej_pop["problem"].str.contains("education"), "education"]) == {"høj"}
    assert set(rej_pop.loc[rej_pop["problem"].str.contains("municipality"), "municipality"]) == {"303"}
    assert rej_img["problem"].str.contains("procedure_date: are dates in the future").all()
    # the new database is in place, says what was dropped, and counts exactly the rows kept
    with duckdb.connect(str(previous_db.path), read_only=True) as con:
        rejected = con.execute("SELECT value FROM meta WHERE key = 'rejected_rows'").fetchone()[0]
        adults_2017 = con.execute("SELECT sum(persons) FROM population_cube WHERE year = 2017").fetchone()[0]
        n_img_cube = con.execute("SELECT count(*) FROM imaging_cube").fetchone()[0]
    assert '"population": 7' in rejected and '"imaging": 4' in rejected
    kept = frame.drop(index=frame.index[:5]).drop_duplicates(["person_id", "year"])
    assert len(kept) == n_pop - 5
    assert adults_2017 == int((kept["year"] - kept["birth_year"] - 1 >= SETTINGS.adult_min_age).sum())
    assert n_img_cube > 0
