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
    if kwargs.get("lenient"):
        kwargs.setdefault("rejected_dir", prev.path.parent.parent / "rejected")
    with pytest.raises(ContractError) as info:
        build(input_dir, prev.path, quiet=True, **kwargs)
    assert_untouched(prev)
    if kwargs.get("lenient"):
        assert not kwargs["rejected_dir"].exists(), "a failed lenient build left rejected rows behind"
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
    assert_row_problem(str(err), f.name, "person_id+year", 8, [],
                       "are duplicates of another row on (person_id, year)", "one row per person and year")
    shown = re.findall(r"\((\d+), 2018\)", line_for(str(err), f.name, "person_id+year"))
    assert shown and set(map(int, shown)) <= set(dup.person_id), shown     # (any 3 of the 4 duplicated keys)


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

    rejected = previous_db.path.parent.parent / "secure" / "rejected"
    stale = rejected / "surgery.csv"              # a report of an earlier lenient build
    stale.parent.mkdir(parents=True)
    stale.write_text("file,person_id\nold,1\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "etl", "build", "--input", str(extracts_copy),
                           "--db", str(previous_db.path), "--lenient", "--rejected", str(rejected), "--quiet"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Lenient build: rows dropped" in proc.stderr, proc.stderr
    assert "population: 7" in proc.stderr and "imaging: 4" in proc.stderr, proc.stderr
    out = previous_db.path.parent
    assert sorted(p.name for p in out.iterdir()) == ["atlas.duckdb"], "nothing beside the database"
    assert sorted(p.name for p in rejected.iterdir()) == ["imaging.csv", "population.csv"], "no stale report"
    assert _sha(previous_db.path) != previous_db.digest, "the new database replaces the previous one"
    rej_pop = pd.read_csv(rejected / "population.csv", dtype=str)
    rej_img = pd.read_csv(rejected / "imaging.csv", dtype=str)
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


# ------------------------------------------------------------------ plausibility: extracts as an office sends them
# Each case writes a CSV or Parquet extract with one common mistake that the contract alone lets
# through, runs `python -m etl build` (in process) over a copy of a good database and checks the
# exit code, the message (file, column, rows, examples, what to do, the override flag), that no
# traceback is printed and that the previous database is byte-identical.

def cli_build(capsys, input_dir: Path, db: Path, *extra: str) -> tuple[int, str]:
    from etl.__main__ import main

    code = main(["build", "--input", str(input_dir), "--db", str(db), "--quiet", *extra])
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return code, err


def as_csv(folder: Path, table: str, change=None, **to_csv) -> Path:
    """Replace ``table``.parquet by a CSV export, changed by ``change`` first."""
    src = folder / f"{table}.parquet"
    frame = pd.read_parquet(src)
    out = change(frame) if change else None
    dest = folder / f"{table}.csv"
    (frame if out is None else out).to_csv(dest, index=False, **to_csv)
    src.unlink()
    return dest


def _codes(kind):
    def change(d):
        code = d["procedure_code"]
        if kind == "lower case":
            d["procedure_code"] = code.str.lower()
        elif kind == "space":
            d["procedure_code"] = code.str[:4] + " " + code.str[4:]
        else:                                     # a suffix letter on every tenth row
            d["procedure_code"] = code.where(d.index % 10 != 0, code + "A")
    return change


@pytest.mark.parametrize("kind,example", [("lower case", "uxre30"), ("space", "UXRE 30"), ("suffix", "UXRE30A")])
def test_procedure_codes_that_miss_the_code_list(extracts_copy, previous_db, capsys, kind, example):
    f = as_csv(extracts_copy, "imaging", _codes(kind))
    code, err = cli_build(capsys, extracts_copy, previous_db.path)
    assert code == 5, err
    line = line_for(err.replace("Build stopped (exit code 5): ", ""), f.name, "procedure_code")
    assert "match the code list only after changing case, removing spaces or a suffix letter" in line, line
    assert example in line or example.replace("RE", "ME").replace("re", "me") in line, line
    assert "What to do:" in line and "imaging_procedures.csv" in line and "--allow-code-variants" in line, line
    assert_untouched(previous_db)


def test_day_first_dates_with_a_two_digit_year(extracts_copy, previous_db, capsys):
    """'05-03-17' is not read as the year 5 or 17: the CSV stops the build as unreadable dates."""
    f = as_csv(extracts_copy, "diagnoses",
               lambda d: d.__setitem__("diagnosis_date", pd.to_datetime(d["diagnosis_date"]).dt.strftime("%d-%m-%y")))
    code, err = cli_build(capsys, extracts_copy, previous_db.path)
    assert code == 2, err
    example = pd.read_csv(f, dtype=str)["diagnosis_date"].iloc[0]
    assert_row_problem(err, f.name, "diagnosis_date", len(pd.read_csv(f)), [], "cannot be read as date",
                       "four-digit year")
    assert example in line_for(err, f.name, "diagnosis_date") or "for example" in err
    assert_untouched(previous_db)


def test_dates_read_as_the_first_century(extracts_copy, previous_db, capsys):
    """The same mistake already made by the office's own export: Parquet dates in the years 1-31."""
    def day_as_year(d):
        days = pd.to_datetime(d["diagnosis_date"])
        d["diagnosis_date"] = [dt.date(x.day, x.month, min(x.year % 100, 28)) for x in days]
    rewrite(extracts_copy / "diagnoses.parquet", day_as_year)
    code, err = cli_build(capsys, extracts_copy, previous_db.path)
    assert code == 5, err
    line = line_for(err, "diagnoses.parquet", "diagnosis_date")
    assert "are dated outside 2011-2026" in line and "two-digit year" in line, line
    assert "--allow-dates-outside-study-years" in line
    assert_untouched(previous_db)


@pytest.mark.parametrize("how", ["missing", "unreadable form"])
def test_a_population_year_missing(extracts_copy, previous_db, capsys, how):
    f = extracts_copy / "population_2019.parquet"
    if how == "missing":
        f.unlink()
    else:
        f.rename(f.with_suffix(".xlsx"))          # a form the loader does not read
    code, err = cli_build(capsys, extracts_copy, previous_db.path)
    assert code == 5, err
    assert "0 rows in the year 2019" in err or ": in the year 2019" in err, err
    assert "--allow-year-volume" in err and "form the build reads" in err, err
    assert_untouched(previous_db)


def test_person_ids_of_another_type_in_one_file(extracts_copy, previous_db, capsys):
    f = extracts_copy / "population_2018.parquet"
    rewrite(f, lambda d: d.__setitem__("person_id", d["person_id"].astype(str).str.zfill(10)))
    code, err = cli_build(capsys, extracts_copy, previous_db.path)
    assert code == 5, err
    line = line_for(err, f.name, "person_id")
    assert "as zero-padded" in line and "as number in" in line and "(for example: 00" in line, line
    assert "same type in every file" in line and "--allow-id-types" in line, line
    assert_untouched(previous_db)


def test_timestamps_with_a_time_zone(extracts_copy, previous_db, atlas_db, capsys):
    """Stops; with --allow-time-zones they are read in Danish time, whatever the machine's zone."""
    rewrite(extracts_copy / "imaging.parquet", lambda d: d.__setitem__(
        "procedure_date", pd.to_datetime(d["procedure_date"]).dt.tz_localize("Europe/Copenhagen").dt.tz_convert("UTC")))
    code, err = cli_build(capsys, extracts_copy, previous_db.path)
    assert code == 5, err
    line = line_for(err, "imaging.parquet", "procedure_date")
    assert "timestamps with a time zone" in line and "--allow-time-zones" in line and "Europe/Copenhagen" in line, line
    assert_untouched(previous_db)
    code, err = cli_build(capsys, extracts_copy, previous_db.path, "--allow-time-zones")
    assert code == 0, err
    assert "Override (--allow-time-zones)" in err, err
    sql = "SELECT year, sum(n_imaging), sum(n_episode) FROM imaging_cube GROUP BY year ORDER BY year"
    with duckdb.connect(str(previous_db.path), read_only=True) as new, duckdb.connect(str(atlas_db), read_only=True) as good:
        assert new.execute(sql).fetchall() == good.execute(sql).fetchall()
        overrides = new.execute("SELECT value FROM meta WHERE key = 'overrides'").fetchone()[0]
    assert '"check": "time_zones"' in overrides


def test_thousands_separators_in_counts(extracts_copy, previous_db, capsys):
    def dotted(d):
        d["referrals"] = d["referrals"].astype(str)
        d.loc[d.index[:3], "referrals"] = ["1.000", "2.500", "12.000"]
    f = as_csv(extracts_copy, "referrals_received", dotted, sep=";")
    code, err = cli_build(capsys, extracts_copy, previous_db.path)
    assert code == 2, err
    assert_row_problem(err, f.name, "referrals", 3, ["1.000", "2.500"],
                       "are numbers written with a thousands separator", "without thousands separators")
    assert_untouched(previous_db)


def _imaged(folder: Path) -> pd.DataFrame:
    img = pd.read_parquet(folder / "imaging.parquet")
    img["year"] = pd.to_datetime(img["procedure_date"]).dt.year
    return img


def _population(folder: Path, change) -> None:
    for f in sorted(folder.glob("population_*.parquet")):
        rewrite(f, change)


def _not_in_population(folder):
    rewrite(folder / "imaging.parquet", lambda d: d.__setitem__(
        "person_id", d["person_id"].where(d.index % 10 != 0, d["person_id"] + 10**12)))


def _before_birth(folder):
    early = set(_imaged(folder).query("year <= 2015")["person_id"])

    def born_2018(d):
        mine = d["person_id"].isin(early)
        d.loc[mine, "birth_year"] = 2018
        return d[~mine | (d["year"] >= 2018)]
    _population(folder, born_2018)


def _after_emigration(folder):
    late = set(_imaged(folder).query("year >= 2023")["person_id"])
    _population(folder, lambda d: d[~(d["person_id"].isin(late) & (d["year"] >= 2022))])


def _outside_study_years(folder):
    def earlier(d):
        moved = pd.to_datetime(d["procedure_date"]) - pd.DateOffset(years=9)
        d["procedure_date"] = pd.to_datetime(d["procedure_date"]).where(d.index % 2 != 0, moved).dt.date
    rewrite(folder / "imaging.parquet", earlier)


@pytest.mark.parametrize("mistake,reason", [
    (_not_in_population, "person found in no year of the population"),
    (_before_birth, "imaging in a year before the person's birth year"),
    (_after_emigration, "imaging after the person's last year in the population"),
    (_outside_study_years, "outside the study years"),
])
def test_rows_left_out_at_a_step(extracts_copy, previous_db, capsys, mistake, reason):
    mistake(extracts_copy)
    code, err = cli_build(capsys, extracts_copy, previous_db.path)
    assert code == 5, err
    assert f"are left out as '{reason}" in err and "--allow-dropped-share" in err, err
    assert_untouched(previous_db)


def test_build_report_counts_every_row_left_out(atlas_db):
    """The report (a table and meta) accounts for each imaging of the extract."""
    with duckdb.connect(str(atlas_db), read_only=True) as con:
        report = con.execute("SELECT step, source, reason, rows, of_rows FROM build_report").fetchall()
        linkage = con.execute("SELECT value FROM meta WHERE key = 'linkage'").fetchone()[0]
    reasons = {(s, r) for s, _, r, _, _ in report}
    assert {("staging", "outside_code_list"), ("linking", "not_in_population"), ("linking", "children"),
            ("cubes", "children")} <= reasons
    import json
    link = json.loads(linkage)
    linking = sum(n for s, t, _, n, _ in report if s == "linking" and t == "imaging")
    assert linking == link["lumbar_imaging"] - link["linked_adults"]


# ------------------------------------------------------------------ the three that once built with exit 0 (issue 31)

EVENT_TABLES = {"imaging": "procedure_date", "diagnoses": "diagnosis_date", "surgery": "surgery_date",
                "rehabilitation": "plan_date", "returned_referrals": "return_date"}


def _cut(folder: Path, keep) -> None:
    """Keep only the event rows whose date passes ``keep`` (a function of a datetime Series)."""
    for table, column in EVENT_TABLES.items():
        rewrite(folder / f"{table}.parquet", lambda d, c=column: d[keep(pd.to_datetime(d[c]))])


def test_an_extract_that_ends_mid_year_is_refused(extracts_copy, previous_db, capsys):
    """Every event table cut at 2024-07-31: the year volume alone (-42 %) passed; month by month it does not."""
    _cut(extracts_copy, lambda d: d <= pd.Timestamp("2024-07-31"))
    code, err = cli_build(capsys, extracts_copy, previous_db.path)
    assert code == 5, err
    line = line_for(err, "imaging.parquet", "procedure_date")
    assert "in August-December 2024" in line and "cut short at the end of 2024" in line, line
    assert "Aug 0 (expected about" in line and "--allow-partial-year" in line, line
    for table in ("diagnoses", "surgery", "rehabilitation"):
        assert line_for(err, f"{table}.parquet", EVENT_TABLES[table])
    assert_untouched(previous_db)


def test_an_extract_that_ends_mid_year_with_the_override_is_marked_incomplete(extracts_copy, tmp_path, capsys):
    """With --allow-partial-year the year is built and marked incomplete for every measure, with its reason."""
    from atlas.coverage import describe

    _cut(extracts_copy, lambda d: d <= pd.Timestamp("2024-07-31"))
    db = tmp_path / "atlas.duckdb"
    code, err = cli_build(capsys, extracts_copy, db, "--allow-partial-year")
    assert code == 0, err
    assert "Override (--allow-partial-year)" in err and "August-December 2024" in err, err
    with duckdb.connect(str(db), read_only=True) as con:
        import json
        coverage = json.loads(con.execute("SELECT value FROM meta WHERE key = 'coverage'").fetchone()[0])
        overrides = json.loads(con.execute("SELECT value FROM meta WHERE key = 'overrides'").fetchone()[0])
    assert coverage["partial_years"] == {"2024": "imaging: August-December"}
    assert coverage["incomplete"] and all("part-year" in marks.get("2024", "") for marks in coverage["incomplete"].values())
    assert all("2023" not in marks or "part-year" not in marks["2023"] for marks in coverage["incomplete"].values())
    assert any(o["flag"] == "--allow-partial-year" for o in overrides)
    assert describe({2024: "follow-up+part-year"}, "en") == "2024 (follow-up + data for part of the year only)"
    assert describe({2024: "part-year"}, "da") == "2024 (data for kun en del af året)"


def test_an_extract_that_starts_late_is_refused(extracts_copy, previous_db, capsys):
    _cut(extracts_copy, lambda d: (d >= pd.Timestamp("2013-04-01")) | (d < pd.Timestamp("2013-01-01")))
    code, err = cli_build(capsys, extracts_copy, previous_db.path)
    assert code == 5, err
    line = line_for(err, "imaging.parquet", "procedure_date")
    assert "in January-March 2013" in line and "cut at the start of 2013" in line, line
    assert_untouched(previous_db)


def test_returned_referrals_delivered_twice_are_refused(extracts_copy, previous_db, capsys):
    """Rows appended a second time (returns 5,357 -> 10,714 once built with exit 0): every row comes in pairs."""
    f = extracts_copy / "returned_referrals.parquet"
    rewrite(f, lambda d: pd.concat([d, d], ignore_index=True))
    code, err = cli_build(capsys, extracts_copy, previous_db.path)
    assert code == 5, err
    line = line_for(err, f.name)
    assert re.search(r": [\d,]+ rows in 2021-2023 are copies of another row \(5\d% of the [\d,]+ rows\), and 100% of "
                     r"the rows come in pairs", line), line
    assert "--allow-duplicate-rows" in line and "(for example: (20" in line, line
    assert_untouched(previous_db)


def test_a_file_delivered_twice_under_another_name_is_refused(extracts_copy, previous_db, capsys):
    shutil.copy(extracts_copy / "returned_referrals.parquet", extracts_copy / "returned_referrals_again.parquet")
    code, err = cli_build(capsys, extracts_copy, previous_db.path)
    assert code == 5, err
    line = line_for(err, "returned_referrals.parquet, returned_referrals_again.parquet")
    assert "are identical (the same" in line and "SHA-256" in line and "--allow-identical-files" in line, err
    assert "--allow-duplicate-rows" in err
    assert_untouched(previous_db)


def test_natural_repeats_and_a_good_extract_pass_the_new_checks(atlas_db):
    """The good extract (returned referrals with about 11 % natural repeats) built: no false alarm."""
    with duckdb.connect(str(atlas_db), read_only=True) as con:
        import json
        assert json.loads(con.execute("SELECT value FROM meta WHERE key = 'overrides'").fetchone()[0]) == []
        assert "partial_years" not in json.loads(con.execute("SELECT value FROM meta WHERE key = 'coverage'").fetchone()[0])


def test_a_birth_year_before_the_contracts_bound_is_refused(extracts_copy, previous_db, capsys):
    """1891 passed where the code allowed 1890 and the contract said 1900; now both read one setting."""
    f = extracts_copy / "population_2024.parquet"
    bound = SETTINGS.min_birth_year
    rewrite(f, lambda d: d.__setitem__("birth_year", d["birth_year"].where(d.index != 3, bound - 9)))
    code, err = cli_build(capsys, extracts_copy, previous_db.path)
    assert code == 2, err
    assert_row_problem(err, f.name, "birth_year", 1, [bound - 9], f"have a birth year before {bound}",
                       "min_birth_year in etl/config/settings.toml")
    assert_untouched(previous_db)


def test_the_contract_document_states_the_codes_bounds():
    """docs/data-contract.md shows the bounds and thresholds the code uses (one place: the configuration)."""
    from etl.settings import load_checks_config

    doc = (REPO_ROOT / "docs" / "data-contract.md").read_text(encoding="utf-8")
    row = next(ln for ln in doc.splitlines() if ln.startswith("| `birth_year` |"))
    assert f"| {SETTINGS.min_birth_year} to `year`" in row, row
    cfg = load_checks_config()
    for check, words in (
            ("partial_year", f"below {cfg['partial_year']['min_ratio']:.0%} of"),
            ("partial_year", f"at least {cfg['partial_year']['min_expected']} rows"),
            ("duplicate_rows", f"{cfg['duplicate_rows']['max_even_share']:.0%} or more of"),
            ("duplicate_rows", f"at least {cfg['duplicate_rows']['min_rows']} rows"),
            ("year_volume", f"fewer than {cfg['year_volume']['min_ratio_to_neighbours']:.0%} of the median"),
            ("dates_outside_study_years", f"more than {cfg['dates_outside_study_years']['max_share']:.0%} of a file"),
            ("dates_outside_study_years", f"widened by {cfg['dates_outside_study_years']['years_after']} years")):
        row = next((ln for ln in doc.splitlines() if ln.startswith(f"| `{check}` |")), None)
        assert row is not None, f"docs/data-contract.md has no row for the check {check}"
        assert words.replace(".0%", "%") in row.replace(" %", "%"), (check, words, row)
    for reason, share in cfg["dropped_share"].items():
        if reason == "what":
            continue
        row = next(ln for ln in doc.splitlines() if ln.startswith("| `dropped_share` |"))
        shown = f"{share:.1%}".replace(".0%", "%")
        assert f"({shown})" in row.replace(" %", "%"), (reason, shown, row)
    section = doc.split("## Plausibility checks", 1)[1].split("\n## ", 1)[0]
    assert set(cfg) == {ln.split("`")[1] for ln in section.splitlines()
                        if ln.startswith("| `")}, "every check of checks.toml has a row in the contract, and no other"


# ------------------------------------------------------------------ messages: encodings, Parquet, compression, long lines, Christiansø

@pytest.mark.parametrize("encoding,words", [("utf-16", "is encoded as UTF-16 (it starts with a UTF-16 byte-order mark)"),
                                            ("utf-16-le", "looks like UTF-16 without a byte-order mark"),
                                            ("utf-32", "is encoded as UTF-32")])
def test_a_csv_in_another_encoding_is_named(extracts_copy, previous_db, encoding, words):
    f = as_csv(extracts_copy, "surgery", encoding=encoding)
    err = failed_build(extracts_copy, previous_db)
    line = line_for(str(err), f.name)
    assert words in line and "UTF-8 or Latin-1" in line and "What to do: export it again as CSV in UTF-8" in line, line


@pytest.mark.parametrize("damage,words", [
    (lambda b: b[: len(b) // 2], "it is not a whole Parquet file (it ends early"),
    (lambda b: b[:4] + bytes(4000) + b[4004:], "it is a damaged Parquet file"),
], ids=["truncated", "damaged page"])
def test_parquet_errors_are_a_plain_sentence_without_paths(extracts_copy, previous_db, damage, words):
    f = extracts_copy / "surgery.parquet"
    f.write_bytes(damage(f.read_bytes()))
    err = str(failed_build(extracts_copy, previous_db))
    line = line_for(err, f.name)
    assert f"surgery.parquet: cannot be read: {words}" in line, line
    assert str(extracts_copy) not in err and "Error:" not in err and "LINE 1" not in err, err


def test_gzipped_csv_is_read(extracts_copy, previous_db, capsys):
    """imaging as .csv.gz (Latin-1, semicolons) builds the same imaging cube as the Parquet file."""
    import gzip

    frame = pd.read_parquet(extracts_copy / "imaging.parquet")
    (extracts_copy / "imaging.parquet").unlink()
    with gzip.open(extracts_copy / "imaging.csv.gz", "wt", encoding="latin-1", newline="") as fh:
        frame.to_csv(fh, index=False, sep=";")
    code, err = cli_build(capsys, extracts_copy, previous_db.path)
    assert code == 0, err
    with duckdb.connect(str(previous_db.path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM imaging_cube").fetchone()[0] == previous_db.imaging_rows


@pytest.mark.parametrize("name", ["returned_referrals.csv.zip", "returned_referrals.parquet.gz", "returned_referrals.csv.bz2"])
def test_a_compressed_file_the_build_does_not_read_is_named(extracts_copy, previous_db, name):
    src = extracts_copy / "returned_referrals.parquet"
    (extracts_copy / name).write_bytes(src.read_bytes())
    src.unlink()
    err = str(failed_build(extracts_copy, previous_db))
    line = line_for(err, name)
    assert "is compressed (." in line and "reads only Parquet, CSV, gzipped CSV (.csv.gz) and SAS" in line, line
    assert "unpack it" in line, line


def test_a_long_line_is_reported_as_a_long_line(extracts_copy, previous_db):
    f = as_csv(extracts_copy, "surgery")
    lines = f.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[5] = lines[5].rstrip("\n") + '"' + "x" * (3 << 20) + '"\n'      # a quoted 3 MB value
    f.write_text("".join(lines), encoding="utf-8")
    err = str(failed_build(extracts_copy, previous_db))
    line = line_for(err, f.name)
    assert "line 6 is longer (3.1 MB) than the longest line the build reads (2 MB)" in line, line
    assert "quote that is not closed" not in line, line


def test_christianso_is_counted_with_bornholm(extracts_copy, previous_db, capsys):
    """Christiansø (0411) is not a municipality: its residents are counted with Bornholm (0400), and said so."""
    f = extracts_copy / "population_2020.parquet"
    frame = pd.read_parquet(f)
    moved = frame.index[frame["municipality"].astype(int) == 400][:40]
    assert len(moved) == 40
    with duckdb.connect(str(previous_db.path), read_only=True) as con:
        before = con.execute("SELECT sum(persons) FROM population_cube WHERE municipality = 400 AND year = 2020").fetchone()[0]
        total = con.execute("SELECT sum(persons) FROM population_cube WHERE year = 2020").fetchone()[0]
    rewrite(f, lambda d: d.__setitem__("municipality", d["municipality"].where(~d.index.isin(moved), 411)))
    code, err = cli_build(capsys, extracts_copy, previous_db.path)
    assert code == 0, err
    assert "Christiansø (0411) is not a municipality: 40 person-years of its residents are counted with Bornholm" in err
    with duckdb.connect(str(previous_db.path), read_only=True) as con:
        assert con.execute("SELECT sum(persons) FROM population_cube WHERE municipality = 400 AND year = 2020"
                           ).fetchone()[0] == before
        assert con.execute("SELECT sum(persons) FROM population_cube WHERE year = 2020").fetchone()[0] == total
        assert con.execute("SELECT count(*) FROM population_cube WHERE municipality = 411").fetchone()[0] == 0
        import json
        recoded = json.loads(con.execute("SELECT value FROM meta WHERE key = 'recoded_rows'").fetchone()[0])
    assert recoded == {"population.municipality 0411 -> 0400": 40}


# ------------------------------------------------------------------ environment failures

def test_db_is_a_folder_and_bad_columns_file(extracts_copy, previous_db, capsys, tmp_path):
    code, err = cli_build(capsys, extracts_copy, previous_db.path.parent)
    assert code == 6 and "is a folder" in err, err
    bad = tmp_path / "cols.toml"
    bad.write_text("[tables.population\nfiles = ", encoding="utf-8")
    code, err = cli_build(capsys, extracts_copy, previous_db.path, "--columns", str(bad))
    assert code == 6 and "is not valid TOML" in err and "columns.toml" in err, err
    bad.write_text('[tables.population.columns]\nperson = "pnr"\n', encoding="utf-8")
    code, err = cli_build(capsys, extracts_copy, previous_db.path, "--columns", str(bad))
    assert code == 6 and "person not a column of the contract" in err, err
    code, err = cli_build(capsys, extracts_copy, previous_db.path, "--lenient")
    assert code == 6 and "--lenient needs --rejected DIR" in err, err
    code, err = cli_build(capsys, extracts_copy, previous_db.path, "--lenient", "--rejected", str(previous_db.path.parent))
    assert code == 6 and "never written beside the database" in err, err
    assert_untouched(previous_db)


@pytest.mark.parametrize("failure,code,words", [
    (PermissionError(13, "Permission denied"), 7, "cannot write in"),
    (OSError(28, "No space left on device"), 7, "the disk is full"),
    (KeyboardInterrupt(), 130, "interrupted"),
])
def test_environment_failures(extracts_copy, previous_db, capsys, monkeypatch, tmp_path, failure, code, words):
    """A read-only folder, a full disk or Ctrl-C during the build: one message, its exit code, nothing left."""
    import tempfile

    from etl import marts

    def fail(*_a, **_k):
        raise failure
    monkeypatch.setattr(marts, "write_imaging", fail)
    spill = tmp_path / "tmp"
    spill.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spill))
    got, err = cli_build(capsys, extracts_copy, previous_db.path)
    assert got == code and words in err and "previous database has not been changed" in err, err
    assert_untouched(previous_db)
    assert list(spill.iterdir()) == [], "DuckDB's spill folder was left behind"


def test_sigterm_leaves_nothing_behind(extracts_copy, previous_db, tmp_path):
    import os
    import signal
    import time

    spill = tmp_path / "tmp"
    spill.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "etl", "build", "--input", str(extracts_copy),
                             "--db", str(previous_db.path)], cwd=REPO_ROOT, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TMPDIR": str(spill)})
    line = proc.stderr.readline()                  # the first step is done: the build is under way
    assert line.startswith("[ 1/9]"), line
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 143, err
    assert "terminated (SIGTERM)" in err and "Traceback" not in err, err
    assert_untouched(previous_db)
    assert list(spill.iterdir()) == [], "DuckDB's spill folder was left behind"


@pytest.mark.parametrize("failure", [
    duckdb.IOException('IO Error: Could not write file "x.building.wal": No space left on device'),
    duckdb.FatalException("FATAL Error: database has been invalidated because of a previous fatal error: "
                          "No space left on device"),
    duckdb.InvalidInputException("Invalid Input Error: could not write: No space left on device"),
    RuntimeError("writing the cube failed"),
], ids=["IOException", "FatalException", "InvalidInputException", "caused by an OSError"])
def test_disk_full_in_any_form_is_exit_7(extracts_copy, previous_db, capsys, monkeypatch, failure):
    """A full disk surfaced as any of DuckDB's errors (3 of 6 sizes once ended in a traceback): exit 7."""
    from etl import marts

    def fail(*_a, **_k):
        if isinstance(failure, RuntimeError):
            raise failure from OSError(28, "No space left on device")
        raise failure
    monkeypatch.setattr(marts, "write_imaging", fail)
    code, err = cli_build(capsys, extracts_copy, previous_db.path)
    assert code == 7 and "the disk is full" in err and "previous database has not been changed" in err, err
    assert_untouched(previous_db)


def _private_tmpfs_ok() -> bool:
    import tempfile

    if not shutil.which("unshare"):
        return False
    with tempfile.TemporaryDirectory() as d:
        return subprocess.run(["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=1m tmpfs '{d}'"],
                              capture_output=True).returncode == 0


@pytest.mark.skipif(not _private_tmpfs_ok(), reason="needs unshare and tmpfs mounts in a private namespace")
@pytest.mark.parametrize("size", ["1m", "4m", "7700k"])
def test_a_really_full_disk_is_exit_7(synthetic_extracts, tmp_path, size):
    """The database and DuckDB's temporary files on a tmpfs too small for them (a private mount): exit 7,
    one message, nothing left on the disk. At 4 MB and 7.7 MB a commit of the WAL once failed with a
    TransactionException and a traceback (exit 1)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    script = (f"mount -t tmpfs -o size={size} tmpfs '{disk}' || exit 99; mkdir '{disk}/tmp'; "
              f"TMPDIR='{disk}/tmp' '{sys.executable}' -m etl build --input '{synthetic_extracts}' "
              f"--db '{disk}/atlas.duckdb' --quiet; echo \"exit=$?\"; ls -A '{disk}' '{disk}/tmp'")
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, cwd=REPO_ROOT,
                          timeout=600)
    assert proc.returncode != 99, proc.stderr
    assert "exit=7" in proc.stdout, proc.stdout + proc.stderr
    assert "the disk is full" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    listing = proc.stdout.split("exit=7", 1)[1].split()
    assert [x for x in listing if not x.endswith(":")] == ["tmp"], f"left on the full disk: {listing}"


def test_a_file_damaged_where_only_the_cubes_read_is_exit_2(extracts_copy, previous_db, capsys, monkeypatch):
    """A population page damaged in a column the checks do not decode fails when the cubes are made:
    the file is named in a plain sentence (exit 2), no DuckDB text, no traceback."""
    from etl import marts

    damaged = extracts_copy / "population_2019.parquet"

    def fail(*_a, **_k):
        raise duckdb.InvalidInputException(
            f'Invalid Input Error: Failed to read file "{damaged}": Snappy decompression failure: '
            "Uncompressed data size mismatch")
    monkeypatch.setattr(marts, "write_population", fail)
    code, err = cli_build(capsys, extracts_copy, previous_db.path)
    assert code == 2, err
    line = line_for(err, damaged.name)
    assert "cannot be read in full: it is a damaged Parquet file" in line and "export the file again" in line, line
    assert str(extracts_copy) not in err and "Snappy" not in err, err
    assert_untouched(previous_db)


def test_a_missing_input_folder_is_exit_3(tmp_path, previous_db, capsys):
    code, err = cli_build(capsys, tmp_path / "no-such-folder", previous_db.path)
    assert code == 3 and "the input folder" in err and "does not exist" in err and "--input" in err, err
    assert_untouched(previous_db)


def test_the_next_build_removes_what_a_killed_build_left(extracts_copy, previous_db, tmp_path, capsys, monkeypatch):
    """kill -9 during the build leaves its temporary database, lock and spill folder; the next build removes them."""
    import os
    import signal
    import tempfile
    import time

    spill = tmp_path / "tmp"
    spill.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "etl", "build", "--input", str(extracts_copy),
                             "--db", str(previous_db.path), "--quiet"], cwd=REPO_ROOT,
                            env={**os.environ, "TMPDIR": str(spill)})
    deadline = time.time() + 120
    folder = previous_db.path.parent
    while not list(folder.glob(".atlas.duckdb.*.building")) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    left = sorted(p.name for p in folder.iterdir() if p.name != "atlas.duckdb")
    assert any(n.endswith(".building") for n in left) and any(n.endswith(".building.lock") for n in left), left
    assert [p.name for p in spill.iterdir() if p.name.startswith("atlas-spill-")], "no spill folder to clean"
    monkeypatch.setattr(tempfile, "tempdir", str(spill))
    code, err = cli_build(capsys, extracts_copy, previous_db.path)
    assert code == 0, err
    assert sorted(p.name for p in folder.iterdir()) == ["atlas.duckdb"], "the killed build's files are still there"
    assert list(spill.iterdir()) == [], "the killed build's spill folder is still there"


def test_a_running_builds_files_are_never_removed(tmp_path):
    """Files whose lock a live process holds stay; once the lock is free they go (and a lockless
    leftover of an older version only when it is old)."""
    import os
    import time

    from etl.build import STALE_SECONDS, _lock, remove_leftovers

    db = tmp_path / "atlas.duckdb"
    running = tmp_path / ".atlas.duckdb.abc123.building"
    running.write_bytes(b"a build at work")
    (tmp_path / ".atlas.duckdb.abc123.building.wal").write_bytes(b"wal")
    spill_root = tmp_path / "tmp"
    (spill_root / "atlas-spill-live").mkdir(parents=True)
    holds = [_lock(tmp_path / ".atlas.duckdb.abc123.building.lock"), _lock(spill_root / "atlas-spill-live" / ".lock")]
    old = tmp_path / ".atlas.duckdb.old999.building"
    old.write_bytes(b"an older version's leftover")
    young = tmp_path / ".atlas.duckdb.new999.building"
    young.write_bytes(b"an older version's build, maybe still running")
    os.utime(old, (time.time() - STALE_SECONDS - 60,) * 2)
    assert remove_leftovers(db, spill_root) == [old]
    assert running.exists() and (spill_root / "atlas-spill-live").exists() and young.exists()
    for fd in holds:
        os.close(fd)                       # the build ended without cleaning up (as after kill -9)
    removed = remove_leftovers(db, spill_root)
    assert sorted(p.name for p in removed) == sorted([running.name, running.name + ".wal", running.name + ".lock",
                                                      "atlas-spill-live"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [young.name, "tmp"]


def test_methods_page_shows_the_build_report(app_db):
    """The methods page lists the rows left out by reason, in English and Danish."""
    import app  # noqa: F401  (registers the pages)
    from pages import methods

    for lang, title, reason in (("en", "Rows left out by the build", "under the adult age"),
                                ("da", "Rækker udeladt ved dannelsen", "under voksenalderen")):
        text = str(methods.layout(lang=lang))
        assert title in text and reason in text, lang
