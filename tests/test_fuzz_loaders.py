"""Fuzzing the loaders: malformed extracts give a ContractError with a message, never a traceback.

Each example writes a tiny, otherwise valid set of the seven tables (a few rows each) and breaks
one table: columns dropped or renamed, junk values, nulls, values of the wrong type (the Parquet
column typed as text, float, boolean, date, binary, ...), random bytes spliced into a CSV, a
truncated or random-bytes file. ``stage_all`` must either succeed (and the staged tables must then
be readable in full) or raise :class:`etl.staging.ContractError` with a non-empty message. Any
other exception (a DuckDB or pyarrow error escaping, a KeyError, ...) fails the test.
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from unittest import mock

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from etl import staging
from etl.contract import contract
from etl.settings import load_column_mapping, load_settings
from etl.staging import ContractError, stage_all

SETTINGS = load_settings()
MAPPING = load_column_mapping()
CONTRACT = contract(SETTINGS)
FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "40")), deadline=None,   # FUZZ_EXAMPLES=500 for a deep run
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _base_tables() -> dict[str, pa.Table]:
    """A tiny valid extract: 12 adults in 2020, their imaging and follow-ups, two centres."""
    n = 12
    pids = list(range(1000, 1000 + n))
    muni = [101, 147, 825, 851, 461, 751] * 2
    pop = pa.table({
        "person_id": pa.array(pids, pa.int64()),
        "year": pa.array([2020] * n, pa.int16()),
        "birth_year": pa.array([1950 + i * 3 for i in range(n)], pa.int16()),
        "sex": pa.array([1 + i % 2 for i in range(n)], pa.int8()),
        "municipality": pa.array(muni, pa.int16()),
        "education": pa.array([[1, 2, 3, 4, 9][i % 5] for i in range(n)], pa.int8()),
        "income_quintile": pa.array([1 + i % 5 for i in range(n)], pa.int8()),
        "origin": pa.array([1 + i % 3 for i in range(n)], pa.int8()),
        "labour_status": pa.array([1 + i % 6 for i in range(n)], pa.int8()),
    })
    day = [dt.date(2020, 1 + i % 12, 1 + i) for i in range(n)]
    imaging = pa.table({
        "person_id": pa.array(pids, pa.int64()),
        "procedure_date": pa.array(day, pa.date32()),
        "procedure_code": ["UXRE30", "UXME30"] * 6,
        "priority": ["acute", "planned"] * 6,
        "referrer_type": ["gp", "chiropractor", "specialist", "hospital", "other", "gp"] * 2,
        "producer_type": ["public_hospital", "private_clinic", "chiropractor_clinic"] * 4,
        "producer_id": ["S1084H01", "S1085P02", "S1081C03"] * 4,
    })
    diagnoses = pa.table({"person_id": pa.array(pids[:6], pa.int64()), "diagnosis_date": pa.array(day[:6], pa.date32()),
                          "icd10": ["DM545", "DM511", "DM480", "DC40", "DM549", "DJ069"]})
    surgery = pa.table({"person_id": pa.array(pids[:3], pa.int64()), "surgery_date": pa.array(day[:3], pa.date32()),
                        "procedure_code": ["KABC16", "KNAG40", "KJEA10"]})
    rehab = pa.table({"person_id": pa.array(pids[:4], pa.int64()), "plan_date": pa.array(day[:4], pa.date32())})
    months = [dt.date(2021, m, 1) for m in (1, 2)]
    received = pa.table({
        "month": pa.array([m for m in months for _ in range(3)], pa.date32()),
        "exam_type": ["lumbar", "head", "knee"] * 2,
        "producer_id": ["S1084P01"] * 6,
        "centre": ["Røntgen Sjælland"] * 6,
        "referrals": pa.array([30, 20, 10, 31, 21, 11], pa.int32()),
    })
    returned = pa.table({
        "return_date": pa.array([dt.date(2021, 1, 5), dt.date(2021, 2, 7), dt.date(2021, 2, 9)], pa.date32()),
        "exam_type": ["lumbar", "head", "lumbar"],
        "producer_id": ["S1084P01"] * 3,
        "centre": ["Røntgen Sjælland"] * 3,
        "return_letter": [True, False, True],
    })
    return {"population": pop, "imaging": imaging, "diagnoses": diagnoses, "surgery": surgery,
            "rehabilitation": rehab, "referrals_received": received, "returned_referrals": returned}


BASE = _base_tables()
TABLES = sorted(BASE)


def _csv_text(table: pa.Table, sep: str = ",") -> str:
    lines = [sep.join(table.column_names)]
    for row in table.to_pylist():
        lines.append(sep.join("" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
                              for v in row.values()))
    return "\n".join(lines) + "\n"


def _write_all(folder: Path, replace: dict[str, tuple[str, bytes | pa.Table]] | None = None) -> None:
    """Write the base tables as Parquet, except those in ``replace`` (name -> (file name, content))."""
    replace = replace or {}
    for name, table in BASE.items():
        if name in replace:
            fname, content = replace[name]
            if isinstance(content, pa.Table):
                pq.write_table(content, folder / fname)
            else:
                (folder / fname).write_bytes(content)
        else:
            pq.write_table(table, folder / f"{name}.parquet")


def _stage(folder: Path, lenient: bool, only: str | None = None) -> None:
    """Stage the folder; on success read every staged table in full (views are lazy).

    ``only``: stage just this table of the contract (the others are not in the folder), which keeps
    an example fast; ``stage_all`` itself runs unchanged.
    """
    con = duckdb.connect()
    tables = {only: CONTRACT[only]} if only else CONTRACT
    try:
        with mock.patch.object(staging, "contract", lambda _settings: tables):
            try:
                stage_all(con, folder, MAPPING, SETTINGS, lenient=lenient, reject_dir=folder / "rejected")
            except ContractError as exc:
                event("ContractError: " + ("unreadable file" if any(p.n_rows == 0 and not p.column for p in exc.problems)
                                           else "missing column" if any(p.n_rows == 0 for p in exc.problems)
                                           else "bad rows"))
                assert str(exc).strip(), "a ContractError must say what is wrong"
                assert exc.problems, "a ContractError must list its problems"
                for p in exc.problems:
                    assert str(p).strip()
                return
        event("staged (lenient)" if lenient else "staged")
        for name in tables:
            con.execute(f"SELECT * FROM stg_{name}").fetchall()
    finally:
        con.close()


def _check(name: str, fname: str, content: bytes | pa.Table, lenient: bool, sibling: bool = False) -> None:
    """Write one (damaged) table and stage it; ``sibling`` adds a good file of the same table."""
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        folder = Path(tmp)
        if sibling:
            pq.write_table(BASE[name], folder / f"{name}_good.parquet")
        if isinstance(content, pa.Table):
            pq.write_table(content, folder / fname)
        else:
            (folder / fname).write_bytes(content)
        _stage(folder, lenient, only=name)


# ------------------------------------------------------------------ value strategies

JUNK_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "NA", "null", "NULL", "-1", "1e309", "9" * 40, "0101", "2020-13-45", "31-02-2020",
                     "1; DROP TABLE x", "'", '"', "\\", "æøå", "\x00", "true", "ja", "∞", "1,5", "2020-01-01T25:00"]),
)

# arrow type -> strategy for one value of it (None allowed)
TYPED_VALUES = {
    "int64": (pa.int64(), st.integers(-2**63, 2**63 - 1)),
    "uint64": (pa.uint64(), st.integers(0, 2**64 - 1)),
    "int8": (pa.int8(), st.integers(-128, 127)),
    "float64": (pa.float64(), st.floats(allow_nan=True, allow_infinity=True)),
    "string": (pa.string(), JUNK_TEXT),
    "bool": (pa.bool_(), st.booleans()),
    "date32": (pa.date32(), st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))),
    "timestamp": (pa.timestamp("us"), st.datetimes(min_value=dt.datetime(1700, 1, 1), max_value=dt.datetime(2200, 1, 1))),
    "binary": (pa.binary(), st.binary(max_size=12)),
    "decimal": (pa.decimal128(12, 3), st.decimals(min_value=-10**8, max_value=10**8, places=3, allow_nan=False,
                                                  allow_infinity=False)),
}


@st.composite
def mangled_parquet(draw):
    """A base table as Parquet with some columns dropped, renamed or retyped and filled with junk."""
    name = draw(st.sampled_from(TABLES))
    table = BASE[name]
    n = table.num_rows
    columns = {}
    for col in table.column_names:
        action = draw(st.sampled_from(["keep", "keep", "keep", "drop", "rename", "retype", "nulls", "junk_text"]))
        if action == "drop":
            continue
        if action == "rename":
            new = draw(st.sampled_from([col.upper(), col + "_x", "kolonne", "", col.replace("_", " ")]))
            if new and new not in columns:
                columns[new] = table[col]
            continue
        if action == "retype":
            typ, values = TYPED_VALUES[draw(st.sampled_from(sorted(TYPED_VALUES)))]
            vals = draw(st.lists(st.one_of(st.none(), values), min_size=n, max_size=n))
            columns[col] = pa.array(vals, typ)
            continue
        if action == "nulls":
            mask = draw(st.lists(st.booleans(), min_size=n, max_size=n))
            columns[col] = pa.array([None if m else v for m, v in zip(mask, table[col].to_pylist())], table[col].type)
            continue
        if action == "junk_text":
            old = [None if v is None else str(v) for v in table[col].to_pylist()]
            junk = draw(st.lists(st.tuples(st.integers(0, n - 1), st.one_of(st.none(), JUNK_TEXT)), max_size=4))
            for i, v in junk:
                old[i] = v
            columns[col] = pa.array(old, pa.string())
            continue
        columns[col] = table[col]
    if draw(st.booleans()):                                  # an extra column nobody asked for
        columns.setdefault("extra", pa.array([None] * n, pa.null()))
    if not columns:
        columns["nothing"] = pa.array([1] * n, pa.int8())
    out = pa.table(columns)
    if draw(st.booleans()):
        out = out.slice(0, draw(st.integers(0, n)))           # fewer rows, possibly none
    fname = draw(st.sampled_from([f"{name}.parquet", f"{name}_2020.parquet"]))
    return name, fname, out


@given(case=mangled_parquet(), lenient=st.booleans(), sibling=st.booleans())
@FUZZ
def test_mangled_parquet_columns_and_values(case, lenient, sibling):
    name, fname, table = case
    _check(name, fname, table, lenient, sibling)


@st.composite
def mangled_csv(draw):
    """A base table as CSV text (comma or semicolon, UTF-8 or Latin-1) with random damage."""
    name = draw(st.sampled_from(TABLES))
    sep = draw(st.sampled_from([",", ";"]))
    text = _csv_text(BASE[name], sep)
    lines = text.splitlines()
    for _ in range(draw(st.integers(0, 3))):
        # mostly damage inside values (rows to reject), sometimes to the structure (file to re-export)
        kind = draw(st.sampled_from(["junk_cell"] * 5 + ["junk_line", "drop_cell", "extra_cell", "quote", "empty_line",
                                                         "header"]))
        i = draw(st.integers(1 if kind == "junk_cell" else 0, len(lines) - 1))
        if kind == "junk_line":
            lines[i] = draw(st.text(max_size=40))
        elif kind == "junk_cell":
            cells = lines[i].split(sep)
            cells[draw(st.integers(0, len(cells) - 1))] = draw(JUNK_TEXT)
            lines[i] = sep.join(cells)
        elif kind == "drop_cell":
            cells = lines[i].split(sep)
            cells.pop(draw(st.integers(0, len(cells) - 1)))
            lines[i] = sep.join(cells)
        elif kind == "extra_cell":
            lines[i] += sep + draw(JUNK_TEXT)
        elif kind == "quote":
            lines[i] = '"' + lines[i]
        elif kind == "empty_line":
            lines.insert(i, "")
        else:
            lines[0] = sep.join(draw(st.lists(st.sampled_from(["person_id", "year", "x", "", "a b", "Person_ID"]),
                                              min_size=1, max_size=9)))
    body = "\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n"]))
    encoding = draw(st.sampled_from(["utf-8", "latin-1", "utf-8-sig"]))
    data = body.encode(encoding, errors="replace")
    # random bytes spliced in somewhere (in a third of the examples)
    for _ in range(draw(st.sampled_from([0, 0, 1, 3]))):
        pos = draw(st.integers(0, len(data)))
        data = data[:pos] + draw(st.binary(min_size=1, max_size=8)) + data[pos:]
    if draw(st.integers(0, 5)) == 0:
        data = data[:draw(st.integers(0, len(data)))]         # truncated
    return name, data


@given(case=mangled_csv(), lenient=st.booleans(), sibling=st.booleans())
@FUZZ
def test_mangled_csv_bytes(case, lenient, sibling):
    name, data = case
    _check(name, f"{name}.csv", data, lenient, sibling)


@st.composite
def broken_file(draw):
    """A Parquet file truncated, overwritten with random bytes, or empty."""
    name = draw(st.sampled_from(TABLES))
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "t.parquet"
        pq.write_table(BASE[name], p)
        good = p.read_bytes()
    kind = draw(st.sampled_from(["truncate", "random", "empty", "flip"]))
    if kind == "truncate":
        data = good[:draw(st.integers(0, len(good) - 1))]
    elif kind == "random":
        data = draw(st.binary(min_size=0, max_size=400))
    elif kind == "empty":
        data = b""
    else:
        pos = draw(st.integers(0, len(good) - 1))
        data = good[:pos] + bytes([good[pos] ^ 0xFF]) + good[pos + 1:]
    return name, data


@given(case=broken_file(), lenient=st.booleans())
@FUZZ
def test_broken_parquet_files(case, lenient):
    name, data = case
    _check(name, f"{name}.parquet", data, lenient)


@pytest.mark.parametrize("lenient", [False, True])
def test_a_damaged_page_that_statistics_skip_is_named_when_staged(lenient):
    """A Parquet file whose header and statistics read but one data page does not (found by the
    fuzzer above): staging names the file; before, it passed and DuckDB's error came later."""
    damaged = (Path(__file__).parent / "data" / "population_damaged_page.parquet").read_bytes()
    with pytest.raises(ContractError, match="population.parquet"):
        with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
            (Path(tmp) / "population.parquet").write_bytes(damaged)
            con = duckdb.connect()
            with mock.patch.object(staging, "contract", lambda _settings: {"population": CONTRACT["population"]}):
                stage_all(con, Path(tmp), MAPPING, SETTINGS, lenient=lenient, reject_dir=Path(tmp) / "rejected")


def test_base_extract_is_valid(tmp_path):
    """The fuzzers start from a valid extract: unbroken, it stages without problems."""
    _write_all(tmp_path)
    con = duckdb.connect()
    report = stage_all(con, tmp_path, MAPPING, SETTINGS)
    assert not report.problems
    assert con.execute("SELECT count(*) FROM stg_imaging").fetchone()[0] == 12


@pytest.mark.parametrize("name", TABLES)
def test_every_table_as_csv_is_valid(tmp_path, name):
    """The CSV writer of the fuzzer writes a valid CSV of each table (so damage is what fails)."""
    _write_all(tmp_path, {name: (f"{name}.csv", _csv_text(BASE[name]).encode())})
    con = duckdb.connect()
    report = stage_all(con, tmp_path, MAPPING, SETTINGS)
    assert not report.problems


# ------------------------------------------------------------------ whole builds over mutated good extracts
# A mutation either keeps the meaning of the extracts (the build must give the same figures) or is
# one of the mistakes registers' offices make (the build must stop with a message, exit code 2 or
# 5, and leave the previous database byte-identical). A few examples only: each one is a build.

def _benign_csv(folder, rnd):
    name = rnd.choice(["imaging", "surgery", "referrals_received", "population_2016"])
    frame = __import__("pandas").read_parquet(folder / f"{name}.parquet")
    frame.to_csv(folder / f"{name}.csv", index=False, sep=rnd.choice([",", ";"]))
    (folder / f"{name}.parquet").unlink()


def _rewrite(folder, name, change):
    import pandas as pd

    frame = pd.read_parquet(folder / f"{name}.parquet")
    out = change(frame)
    (frame if out is None else out).to_parquet(folder / f"{name}.parquet", index=False)


MUTATIONS = {
    # meaning kept
    "shuffled rows": (0, lambda f, r: _rewrite(f, "imaging", lambda d: d.sample(frac=1, random_state=r.randrange(99)))),
    "a table as CSV": (0, _benign_csv),
    "ids as SAS floats": (0, lambda f, r: _rewrite(f, "imaging", lambda d: d.__setitem__("person_id", d["person_id"].astype(float)))),
    # mistakes
    "lower-case codes": (5, lambda f, r: _rewrite(f, "imaging", lambda d: d.__setitem__("procedure_code", d["procedure_code"].str.lower()))),
    "zero-padded ids": (5, lambda f, r: _rewrite(f, f"population_{r.randrange(2013, 2025)}",
                                                 lambda d: d.__setitem__("person_id", d["person_id"].astype(str).str.zfill(12)))),
    "a population year missing": (5, lambda f, r: (f / f"population_{r.randrange(2013, 2025)}.parquet").unlink()),
    "time zones": (5, lambda f, r: _rewrite(f, "surgery", lambda d: d.__setitem__(
        "surgery_date", __import__("pandas").to_datetime(d["surgery_date"]).dt.tz_localize("UTC")))),
    "two-digit years": (2, lambda f, r: _rewrite(f, "rehabilitation", lambda d: d.__setitem__(
        "plan_date", __import__("pandas").to_datetime(d["plan_date"]).dt.strftime("%d-%m-%y")))),
}
FIGURES = ("SELECT year, sum(n_imaging), sum(n_low_value), sum(n_surgery_long) FROM imaging_cube GROUP BY 1 ORDER BY 1",
           "SELECT year, sum(persons) FROM population_cube GROUP BY 1 ORDER BY 1")


@given(mutation=st.sampled_from(sorted(MUTATIONS)), seed=st.integers(0, 10**6))
@settings(max_examples=int(os.environ.get("BUILD_FUZZ_EXAMPLES", "2")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
def test_mutated_extracts_build_the_same_or_stop(synthetic_extracts, atlas_db, mutation, seed):
    import contextlib
    import hashlib
    import io
    import random
    import shutil

    from etl.__main__ import main

    expected, mutate = MUTATIONS[mutation]
    with tempfile.TemporaryDirectory(prefix="mutated-") as tmp:
        extracts, db = Path(tmp) / "extracts", Path(tmp) / "out" / "atlas.duckdb"
        shutil.copytree(synthetic_extracts, extracts)
        db.parent.mkdir()
        shutil.copy2(atlas_db, db)
        before = hashlib.sha256(db.read_bytes()).hexdigest()
        mutate(extracts, random.Random(seed))
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = main(["build", "--input", str(extracts), "--db", str(db), "--quiet"])
        event(f"{mutation}: exit {code}")
        assert code == expected, err.getvalue()
        assert "Traceback" not in err.getvalue()
        if expected:
            assert "Build stopped" in err.getvalue() and "What to do" in err.getvalue(), err.getvalue()
            assert hashlib.sha256(db.read_bytes()).hexdigest() == before
            assert sorted(p.name for p in db.parent.iterdir()) == ["atlas.duckdb"]
        else:
            with duckdb.connect(str(db), read_only=True) as new, duckdb.connect(str(atlas_db), read_only=True) as good:
                for sql in FIGURES:
                    assert new.execute(sql).fetchall() == good.execute(sql).fetchall(), (mutation, sql)
