"""The register layout (etl/registers, etl/synthetic/registers.py, docs/data-contract.md).

The proof: one synthetic world written in both layouts (same seed, scale 0.01) builds the same atlas.
What the registers cannot hold is taken out of the contract side first, and said:

* LPR2 has no referral code for a chiropractor: before LPR3 such referrals are "other".

Chiropractors' own X-rays are in neither side's imaging: the contract world bills them in
``chiro_billing``, the register world in SSSY (speciale 53, the X-ray service codes, fee week
HONUGE yyww), from which the adapter derives ``chiro_billing`` again; ``chiro_billing_cube`` must
come out identical like every other table.

Everything else (BEF snapshots, UDDA/IND/AKM lookups, income quintiles, LPR2 and LPR3 with their
overlap, course-only procedures, add-on codes, SAS-style numbers, unknown categories) must come out
identical: EXCEPT ALL both ways on every table of the two databases except ``meta``.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from tests.conftest import SCALE, SEED

LPR3_FROM = "2019-01-01"


def _as_registers_hold_it(src: Path, dst: Path) -> dict:
    """A copy of the contract extracts without what no register can hold (see the module docstring)."""
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        if f.name != "imaging.parquet":
            shutil.copyfile(f, dst / f.name)
    with duckdb.connect() as con:
        img = f"read_parquet('{src / 'imaging.parquet'}')"
        n = con.execute(f"SELECT count(*) FILTER (WHERE producer_type = 'chiropractor_clinic'), "
                        f"count(*) FILTER (WHERE referrer_type = 'chiropractor' AND procedure_date < DATE '{LPR3_FROM}') "
                        f"FROM {img}").fetchone()
        con.execute(f"""COPY (SELECT * REPLACE (CASE WHEN referrer_type = 'chiropractor' AND procedure_date < DATE '{LPR3_FROM}'
                                                  THEN 'other' ELSE referrer_type END AS referrer_type)
                              FROM {img})
                        TO '{dst / 'imaging.parquet'}' (FORMAT parquet)""")
    return {"chiropractor_clinic_imaging": n[0], "chiropractor_referrer_lpr2": n[1]}


@pytest.fixture(scope="module")
def register_world(tmp_path_factory) -> Path:
    from etl.synthetic import generate

    out = tmp_path_factory.mktemp("registers") / "extracts"
    generate(out, scale=SCALE, seed=SEED, layout="registers")
    (out / "SYNTHETIC").write_text("Synthetic register extracts for the tests. Not real data.\n", encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def dbs(synthetic_extracts, atlas_db, register_world, tmp_path_factory):
    from etl.build import build

    d = tmp_path_factory.mktemp("registers_db")
    removed = _as_registers_hold_it(synthetic_extracts, d / "contract")
    build(d / "contract", d / "contract.duckdb", quiet=True)
    report = build(register_world, d / "registers.duckdb", quiet=True, layout="registers")
    return {"contract": d / "contract.duckdb", "registers": d / "registers.duckdb", "full": atlas_db,
            "removed": removed, "report": report}


def _tables(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]


def _differences(a: Path, b: Path, table: str) -> tuple[int, int]:
    """Rows of ``table`` in a and not in b, and in b and not in a (EXCEPT ALL). Sums of doubles are
    added by DuckDB's parallel aggregation in a varying order, so any two builds
    may differ in their last bits: the other columns are compared exactly, and each double must
    then agree within 1e-9 on the row with the same other columns."""
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
        cols = con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = 'a' "
                           "AND table_name = ? AND data_type NOT IN ('GEOMETRY', 'BLOB') ORDER BY ordinal_position",
                           [table]).fetchall()
        exact = [f'"{c}"' for c, t in cols if t != "DOUBLE"]
        doubles = [f'"{c}"' for c, t in cols if t == "DOUBLE"]
        sel = ", ".join(exact) or "1"
        ab = con.execute(f"SELECT count(*) FROM (SELECT {sel} FROM a.{table} EXCEPT ALL SELECT {sel} FROM b.{table})").fetchone()[0]
        ba = con.execute(f"SELECT count(*) FROM (SELECT {sel} FROM b.{table} EXCEPT ALL SELECT {sel} FROM a.{table})").fetchone()[0]
        if doubles and not ab and not ba:
            unique = con.execute(f"SELECT count(*) = count(DISTINCT ({sel})) FROM a.{table}").fetchone()[0]
            if unique:
                on = " AND ".join(f"x.{c} IS NOT DISTINCT FROM y.{c}" for c in exact) or "true"
                far = " OR ".join(f"NOT (abs(x.{c} - y.{c}) < 1e-9 OR (x.{c} IS NULL AND y.{c} IS NULL))" for c in doubles)
                bad = con.execute(f"SELECT count(*) FROM a.{table} x JOIN b.{table} y ON {on} WHERE {far}").fetchone()[0]
            else:
                r = ", ".join([*exact, *(f"round({c}, 6)" for c in doubles)])
                bad = con.execute(f"SELECT count(*) FROM (SELECT {r} FROM a.{table} EXCEPT ALL SELECT {r} FROM b.{table})").fetchone()[0]
            ab = ba = bad
    return ab, ba


def test_both_layouts_build_the_same_atlas(dbs):
    tables = _tables(dbs["contract"])
    assert tables == _tables(dbs["registers"])
    assert {"population_cube", "imaging_cube", "episode_cube", "chiro_billing_cube"} <= set(tables)
    for table in tables:
        if table == "meta":
            continue
        with duckdb.connect(str(dbs["registers"]), read_only=True) as con:
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0, table
        assert _differences(dbs["contract"], dbs["registers"], table) == (0, 0), table
    # meta: the same but for the input folder's name
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{dbs['contract']}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{dbs['registers']}' AS b (READ_ONLY)")
        diff = con.execute("SELECT key FROM (SELECT * FROM a.meta EXCEPT ALL SELECT * FROM b.meta) "
                           "UNION SELECT key FROM (SELECT * FROM b.meta EXCEPT ALL SELECT * FROM a.meta)").fetchall()
    assert {k for (k,) in diff} <= {"input", "built_at", "build_seconds", "created", "extracts"}, diff


def test_what_only_the_contract_layout_holds(dbs, register_world, synthetic_extracts):
    """The full contract world differs from the register world exactly by the chiropractor referrals
    LPR2 cannot code: in the imaging-based tables only. The chiropractors' own X-rays are in neither
    side's imaging; every billing of chiro_billing is an SSSY record of speciale 53 with the same
    person, fee week (yyww) and service code, so chiro_billing_cube and the population are the same."""
    assert dbs["removed"]["chiropractor_clinic_imaging"] == 0
    assert dbs["removed"]["chiropractor_referrer_lpr2"] > 0
    with duckdb.connect() as con:
        bill = f"read_parquet('{synthetic_extracts / 'chiro_billing.parquet'}')"
        sssy = f"read_parquet('{register_world / 'sssy.parquet'}')"
        q = (f"SELECT lpad(CAST(person_id AS VARCHAR), 10, '0'), fee_week % 10000, service_code FROM {bill}")
        r = f"SELECT PNR, CAST(HONUGE AS INTEGER), YDELSESNR FROM {sssy} WHERE SPECIALE = 53 AND YDELSESNR LIKE 'SYN-RX%'"
        n = con.execute(f"SELECT count(*) FROM {bill}").fetchone()[0]
        assert n > 0
        assert con.execute(f"SELECT count(*) FROM ({q} EXCEPT ALL {r})").fetchone()[0] == 0
        assert con.execute(f"SELECT count(*) FROM ({r} EXCEPT ALL {q})").fetchone()[0] == 0
        # SSSY holds billings that are not chiropractors' own X-rays, for the adapter to leave out
        assert con.execute(f"SELECT count(*) FROM {sssy}").fetchone()[0] > n
    differing = {t for t in _tables(dbs["full"]) if t != "meta" and _differences(dbs["full"], dbs["registers"], t) != (0, 0)}
    assert "imaging_cube" in differing
    assert not differing & {"population_cube", "areas", "chiro_billing_cube"}, differing


def test_register_build_names_its_steps(dbs):
    assert any("derived the contract tables from the registers" in s.message for s in dbs["report"].steps)


# --- the models: grain and rules ------------------------------------------------------------------
@pytest.fixture(scope="module")
def adapted_run(register_world, tmp_path_factory):
    """The adapter's connection (its models' tables) and its output folder."""
    from etl.registers import adapt

    con = duckdb.connect()
    out = tmp_path_factory.mktemp("adapted")
    adapt(register_world, out, con=con)
    yield con, out
    con.close()


@pytest.fixture(scope="module")
def adapted(adapted_run):
    return adapted_run[0]


def test_the_population_is_written_year_by_year(adapted_run):
    """Each study year's population is made and written on its own (population_<year>.parquet, as a
    contract extract may come), and ``population`` is then all of them: every person of BEF's
    December status of each year once, with the year's own income cut points."""
    from etl.settings import load_settings

    s = load_settings()
    con, out = adapted_run
    years = range(s.first_year, s.last_year + 1)
    assert sorted(f.name for f in out.glob("population*")) == [f"population_{y}.parquet" for y in years]
    assert not [f for f in out.iterdir() if f.name.startswith(".")]          # no parts folder left
    for y in (s.first_year, s.last_year):
        n, years_in = con.execute(f"SELECT count(*), list(DISTINCT year) FROM read_parquet('{out}/population_{y}.parquet')"
                                  ).fetchone()
        assert years_in == [y] and n == con.execute(f"SELECT count(*) FROM reg_bef WHERE year = {y}").fetchone()[0]
    assert con.execute("SELECT count(*) FROM population").fetchone()[0] == con.execute("SELECT count(*) FROM reg_bef").fetchone()[0]
    # the quintiles of a year are placed by that year's cut points: recomputed here from the registers
    y = s.first_year + 3
    cuts = con.execute(f"""SELECT quantile_cont(i.income, [0.2, 0.4, 0.6, 0.8]) FROM reg_bef b JOIN reg_income i USING (pnr, year)
                           WHERE b.year = {y} AND b.year - b.birth_year - 1 >= {s.adult_min_age}""").fetchone()[0]
    wrong = con.execute(f"""SELECT count(*) FROM population p JOIN reg_income i ON i.pnr = p.person_id AND i.year = p.year
                            WHERE p.year = {y} AND p.income_quintile <> 1 + (i.income >= {cuts[0]})::INT + (i.income >= {cuts[1]})::INT
                                  + (i.income >= {cuts[2]})::INT + (i.income >= {cuts[3]})::INT""").fetchone()[0]
    assert wrong == 0


def test_a_stopped_adapter_leaves_an_existing_folder_as_it_was(register_world, tmp_path):
    from etl.registers import adapt
    from etl.staging import ContractError

    inp = tmp_path / "in"
    shutil.copytree(register_world, inp)
    with duckdb.connect() as con:                    # a SOCIO13 code no lookup has: stops after every year was written
        f = inp / "akm2015.parquet"
        con.execute(f"COPY (SELECT PNR, CASE WHEN row_number() OVER () <= 3 THEN 999.0 ELSE SOCIO13 END AS SOCIO13 "
                    f"FROM read_parquet('{f}')) TO '{tmp_path / 'x.parquet'}' (FORMAT parquet)")
        shutil.move(tmp_path / "x.parquet", f)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n", encoding="utf-8")
    with pytest.raises(ContractError, match="SOCIO13"):
        adapt(inp, out)
    assert [f.name for f in out.iterdir()] == ["notes.txt"]


def test_every_model_keeps_its_grain(adapted):
    from etl.registers import models

    with_grain = [m for m in models() if m.grain]
    assert {"reg_bef", "population", "reg_lpr3_contacts", "imaging"} <= {m.name for m in with_grain}
    for m in with_grain:
        key = ", ".join(m.grain)
        n, dup = adapted.execute(f"SELECT count(*), count(*) - count(DISTINCT ({key})) FROM {m.name}").fetchone()
        assert n > 0, m.name
        assert dup == 0, f"{m.name}: {dup} rows share ({key})"


def test_population_rules(adapted, register_world):
    con = adapted
    # only December snapshots, status year = snapshot year + 1
    assert con.execute("SELECT min(year), max(year) FROM reg_bef").fetchone() == (2013, 2024)
    assert all(name.endswith("12.parquet") for name in
               con.execute("SELECT list(DISTINCT _file) FROM src_bef").fetchone()[0])
    # unknown categories exist where the registers have them
    unknown = con.execute("SELECT count(*) FILTER (WHERE origin = 9), count(*) FILTER (WHERE labour_status = 9), "
                          "count(*) FILTER (WHERE income_quintile = 9), count(*) FILTER (WHERE education = 9) "
                          "FROM population WHERE year - birth_year - 1 >= 18").fetchone()
    assert all(n > 0 for n in unknown), unknown
    # quintiles: a fifth of the adults with a known income in each, within every year
    shares = con.execute("""SELECT year, income_quintile, n / sum(n) OVER (PARTITION BY year) AS s FROM (
                                SELECT year, income_quintile, count(*) AS n FROM population
                                WHERE year - birth_year - 1 >= 18 AND income_quintile <> 9 GROUP BY ALL)""").fetchall()
    assert len(shares) == 12 * 5
    assert all(abs(s - 0.2) < 0.002 for _, _, s in shares)
    # SAS-style numbers (SOCIO13 111.0) are read as codes
    assert con.execute("SELECT typeof(any_value(SOCIO13)) FROM read_parquet(?)",
                       [str(register_world / "akm2015.parquet")]).fetchone()[0] == "DOUBLE"
    assert con.execute("SELECT count(*) FROM src_akm WHERE socio13 LIKE '%.%'").fetchone()[0] == 0


def test_lpr_rules(adapted):
    con = adapted
    # LPR3 contacts reach back to 2017, reported by LPR2: not counted again
    early = con.execute("SELECT count(*) FROM reg_lpr3_contacts WHERE system = 'LPR2' AND start < DATE '2019-01-01'").fetchone()[0]
    assert early > 0
    assert con.execute("SELECT count(*) FROM reg_lpr3_procedures WHERE procedure_date < DATE '2019-01-01'").fetchone()[0] == 0
    # procedures on a course without a contact reach their person
    course_only = con.execute("SELECT count(*) FROM src_lpr3_procedures WHERE contact IS NULL AND code_type = 'P'").fetchone()[0]
    assert course_only > 0
    assert con.execute("SELECT count(*) FROM reg_lpr3_procedures WHERE pnr IS NULL").fetchone()[0] == 0
    # add-on codes are not procedures
    addons = con.execute("SELECT count(*) FROM src_lpr3_procedures WHERE code_type = '+' AND code LIKE 'UX%'").fetchone()[0]
    assert addons > 0
    n_p = con.execute("SELECT count(*) FROM src_lpr3_procedures p JOIN reg_lpr3_contacts k USING (contact) "
                      "WHERE p.code_type = 'P' AND k.system = 'LPR3' AND p.code LIKE 'UX%'").fetchone()[0]
    n_img = con.execute("SELECT count(*) FROM imaging WHERE procedure_date >= DATE '2019-01-01'").fetchone()[0]
    assert n_img == n_p + con.execute("SELECT count(*) FROM src_lpr3_procedures WHERE contact IS NULL AND code_type = 'P' "
                                      "AND code LIKE 'UX%'").fetchone()[0]
    # per-era rules: every imaging has a priority and a referrer; no chiropractor referrer in LPR2
    assert con.execute("SELECT count(*) FROM imaging WHERE priority IS NULL OR referrer_type IS NULL "
                       "OR producer_id IS NULL").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM reg_lpr2_procedures WHERE referrer_type = 'chiropractor'").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM reg_lpr3_procedures WHERE referrer_type = 'chiropractor'").fetchone()[0] > 0
    # emergency-room patient type up to 2013 is acute though C_INDM is empty
    assert con.execute("SELECT count(*) FROM reg_lpr2_admissions a JOIN src_lpr2_adm s USING (recnum) "
                       "WHERE s.patient_type = '3' AND s.priority IS NULL AND a.priority = 'acute'").fetchone()[0] > 0
    # referral diagnoses (H) and add-on diagnoses (+) are not diagnoses of the person
    assert con.execute("SELECT count(*) FROM src_lpr2_diagnoses WHERE type = 'H'").fetchone()[0] > 0
    assert con.execute("SELECT count(*) FROM diagnoses WHERE icd10 = 'DZ000'").fetchone()[0] == 0


def test_chiro_billing_rules(adapted):
    """SSSY -> chiro_billing: only speciale 53 with an X-ray service code of the lookup; every such
    billing once, its fee week yyyyww; consultations, reading another's X-rays and the same code
    under another speciality left out."""
    con = adapted
    n_src, n_xray = con.execute("SELECT count(*), count(*) FILTER (WHERE (speciality, service) IN "
                                "(SELECT (speciality, service) FROM lk_sssy_xray)) FROM src_sssy").fetchone()
    assert n_src > n_xray > 0
    assert con.execute("SELECT count(*) FROM chiro_billing").fetchone()[0] == n_xray
    left_out = con.execute("SELECT list(DISTINCT speciality || '/' || service) FROM src_sssy "
                           "WHERE (speciality, service) NOT IN (SELECT (speciality, service) FROM lk_sssy_xray)").fetchone()[0]
    assert sorted(left_out) == ["51/SYN-RX1", "53/1015", "53/2013"]
    assert con.execute("SELECT count(*) FROM chiro_billing WHERE fee_week % 100 NOT BETWEEN 1 AND 53 "
                       "OR fee_week // 100 NOT BETWEEN 2000 AND 2030 OR person_id IS NULL").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM src_sssy WHERE fee_week LIKE '%.%'").fetchone()[0] == 0    # SAS 1905.0


def test_fee_week_from_honuge():
    """HONUGE yyww -> yyyyww: the century (19yy from 90, SSSY starting in 1990), a SAS number's lost
    leading zero (505 is week 5 of 2005), the ISO week-year kept (2001: week 1 of 2020, though it
    begins on 30 December 2019); what is not yyww is left for the contract's check."""
    from etl.registers import models

    with duckdb.connect() as con:
        con.execute("CREATE TABLE lk_sssy_xray AS SELECT * FROM (VALUES ('53', '2014')) v(speciality, service)")
        con.execute("""CREATE TABLE src_sssy AS SELECT * FROM (VALUES
            (1, '53', '2014', '505', 'p'), (2, '53', '2014', '9952', 'p'), (3, '53', '2014', '2001', 'p'),
            (4, '53', '1015', '2001', 'p'), (5, '51', '2014', '2001', 'p'), (6, '53', '2014', '1900', 'p'),
            (7, '53', '2014', '20190', 'p'), (8, '53', '2014', '8953', 'p')) v(pnr, speciality, service, fee_week, provider)""")
        for m in models():
            if m.name in ("reg_sssy_xray", "chiro_billing"):
                con.execute(m.sql)
        got = con.execute("SELECT person_id, fee_week, service_code FROM chiro_billing ORDER BY 1").fetchall()
    assert got == [(1, 200505, "2014"), (2, 199952, "2014"), (3, 202001, "2014"), (6, 201900, "2014"),
                   (7, 20190, "2014"), (8, 208953, "2014")]


def test_year_and_snapshot_from_the_file_name():
    from etl.registers.adapter import _file_year

    spec = {"year_from_name": "bef(\\d{4})(\\d{2})?"}
    assert _file_year(spec, Path("BEF201912.parquet")) == (2019, True)
    assert _file_year(spec, Path("bef201909.sas7bdat")) == (2019, False)
    assert _file_year(spec, Path("bef2006.parquet")) == (2006, True)       # before 2008: December only
    assert _file_year(spec, Path("befolkning.parquet"))[1] is False
    assert _file_year({"year_from_name": "akm(\\d{4})"}, Path("AKM2015.csv")) == (2015, True)


def test_a_code_missing_from_a_lookup_stops_with_file_and_column(register_world, tmp_path):
    from etl.registers import adapt
    from etl.staging import ContractError

    inp = tmp_path / "in"
    shutil.copytree(register_world, inp)
    with duckdb.connect() as con:
        f = inp / "akm2015.parquet"
        con.execute(f"COPY (SELECT PNR, CASE WHEN row_number() OVER () <= 3 THEN 999.0 ELSE SOCIO13 END AS SOCIO13 "
                    f"FROM read_parquet('{f}')) TO '{tmp_path / 'x.parquet'}' (FORMAT parquet)")
        shutil.move(tmp_path / "x.parquet", f)
    with pytest.raises(ContractError) as exc:
        adapt(inp, tmp_path / "out")
    text = str(exc.value)
    assert "akm2015.parquet" in text and "SOCIO13" in text and "999" in text and "socio13_groups.csv" in text
    # nothing is left behind: no population year written before the check stopped the adapter
    assert not (tmp_path / "out").exists()


def test_missing_register_column_is_named(register_world, tmp_path):
    from etl.registers import adapt
    from etl.staging import ContractError

    inp = tmp_path / "in"
    shutil.copytree(register_world, inp)
    with duckdb.connect() as con:
        f = inp / "bef201512.parquet"
        con.execute(f"COPY (SELECT * EXCLUDE (FOED_DAG) FROM read_parquet('{f}')) TO '{tmp_path / 'x.parquet'}' (FORMAT parquet)")
        shutil.move(tmp_path / "x.parquet", f)
    with pytest.raises(ContractError, match=r"bef201512.parquet.*FOED_DAG.*is missing"):
        adapt(inp, tmp_path / "out")


# --- SAS ------------------------------------------------------------------------------------------
def test_sas_transport_file_read_in_chunks_with_only_the_needed_columns(register_world, tmp_path, monkeypatch):
    """pyreadstat writes no .sas7bdat, so a SAS transport file (.xpt, read by the same chunked
    path) stands in: an AKM year as SAS exports it (numbers as doubles, extra columns)."""
    pyreadstat = pytest.importorskip("pyreadstat")
    import pandas as pd

    from etl import readers
    from etl.registers import adapter

    inp = tmp_path / "in"
    shutil.copytree(register_world, inp)
    frame = pd.read_parquet(inp / "akm2015.parquet")
    frame["EXTRA"] = 1.0
    (inp / "akm2015.parquet").unlink()
    pyreadstat.write_xport(frame, str(inp / "akm2015.xpt"), table_name="AKM2015")
    seen = []
    real = pyreadstat.read_file_in_chunks

    def spy(reader, path, chunksize, usecols, **kw):
        seen.append((chunksize, tuple(usecols)))
        return real(reader, path, chunksize=chunksize, usecols=usecols, **kw)

    monkeypatch.setattr(pyreadstat, "read_file_in_chunks", spy)
    monkeypatch.setattr(readers, "SAS_CHUNK_ROWS", 5_000)
    con = duckdb.connect()
    adapter.adapt(inp, tmp_path / "out", con=con)
    assert seen == [(5_000, ("PNR", "SOCIO13"))]
    assert "akm2015.xpt" in con.execute("SELECT list(DISTINCT _file) FROM src_akm").fetchone()[0]
    n = con.execute("SELECT count(*) FROM reg_labour WHERE year = 2016").fetchone()[0]
    assert n == len(frame)
    con.close()


def test_recoding_matches_sas_numbers():
    """A SAS number 111.0 (as a double or as text) matches the recoding key "111"."""
    from etl.sql_types import code_text_sql, recode_sql

    with duckdb.connect() as con:
        con.execute("CREATE TABLE t AS SELECT * FROM (VALUES (111.0, '111.0', '0101', 3.5), (2.0, '2', ' 7 ', 4.0)) v(d, s, z, f)")
        got = con.execute(f"SELECT {recode_sql('d', {'111': 'x'})}, {recode_sql('s', {'111': 'x'})} FROM t").fetchall()
        assert got == [("x", "x"), ("2.0", "2")]
        codes = con.execute(f"SELECT {code_text_sql('d', 'DECIMAL(4,1)')}, {code_text_sql('s')}, {code_text_sql('z')}, "
                            f"{code_text_sql('f', 'DOUBLE')} FROM t").fetchall()
        assert codes == [("111", "111", "0101", "3.5"), ("2", "2", "7", "4")]


def test_the_health_data_authoritys_names(register_world, tmp_path):
    """The same LPR3 under the health data authority's names (etl/config/registers/sds.toml):
    contacts as ``kontakter``, procedures split into ``procedurer_kirurgi`` and ``procedurer_andre``,
    ``diagnoser``; the contract tables come out the same."""
    from etl.registers import adapt
    from etl.registers.adapter import REGISTERS_DIR

    inp = tmp_path / "sds"
    shutil.copytree(register_world, inp)
    with duckdb.connect() as con:
        rd = lambda n: f"read_parquet('{inp / n}.parquet')"  # noqa: E731
        con.execute(f"""COPY (SELECT PNR AS cpr, DW_EK_KONTAKT AS dw_ek_kontakt, DW_EK_FORLOEB AS dw_ek_forloeb,
                                     CAST(KONT_STARTTIDSPUNKT AS DATE) AS dato_start, LPRINDBERETNINGSSYSTEM AS lprindberetningssystem,
                                     PRIORITET AS prioritet, KONT_HENV_ENH AS sorenhed_hen FROM {rd('lpr_a_kontakt')})
                        TO '{inp / 'kontakter.parquet'}' (FORMAT parquet)""")
        for name, cond in (("procedurer_kirurgi", "LIKE"), ("procedurer_andre", "NOT LIKE")):
            con.execute(f"""COPY (SELECT DW_EK_KONTAKT AS dw_ek_kontakt, DW_EK_FORLOEB AS dw_ek_forloeb,
                                         PROC_KODE AS procedurekode, PROC_KODE_TYPE AS proceduretype,
                                         CAST(PROC_STARTTIDSPUNKT AS DATE) AS dato_start, PROD_ENH AS sorenhed_pro
                                  FROM {rd('lpr_a_procregistrering')} WHERE PROC_KODE {cond} 'K%')
                            TO '{inp / name}.parquet' (FORMAT parquet)""")
        con.execute(f"""COPY (SELECT DW_EK_KONTAKT AS dw_ek_kontakt, DIAG_KODE AS diagnosekode, DIAG_KODE_TYPE AS diagnosetype
                              FROM {rd('lpr_a_diagnose')}) TO '{inp / 'diagnoser.parquet'}' (FORMAT parquet)""")
    for f in inp.glob("lpr_a_*"):
        f.unlink()
    adapt(register_world, tmp_path / "dst_out")
    report = adapt(inp, tmp_path / "sds_out", mapping_path=REGISTERS_DIR / "sds.toml")
    assert report.files["lpr3_procedures"] == ["procedurer_andre.parquet", "procedurer_kirurgi.parquet"]
    with duckdb.connect() as con:
        for t in ("population", "imaging", "diagnoses", "surgery"):
            a, b = (f"read_parquet('{tmp_path / d / t}*.parquet')" for d in ("dst_out", "sds_out"))
            assert con.execute(f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b})").fetchone()[0] == 0, t
            assert con.execute(f"SELECT count(*) FROM (SELECT * FROM {b} EXCEPT ALL SELECT * FROM {a})").fetchone()[0] == 0, t


def test_sas_to_parquet_step(tmp_path, monkeypatch):
    """The documented SAS -> Parquet step: chunk by chunk, only the asked columns, same values."""
    pyreadstat = pytest.importorskip("pyreadstat")
    import pandas as pd

    from etl import readers
    from etl.__main__ import main

    monkeypatch.setattr(readers, "SAS_CHUNK_ROWS", 1_000)       # three chunks

    frame = pd.DataFrame({"PNR": [f"{i:010d}" for i in range(1, 2501)], "SOCIO13": [111.0, 323.0] * 1250,
                          "EXTRA": [1.5] * 2500})
    pyreadstat.write_xport(frame, str(tmp_path / "akm2015.xpt"), table_name="AKM2015")
    assert main(["sas2parquet", str(tmp_path / "akm2015.xpt"), "--out", str(tmp_path / "pq"),
                 "--columns", "pnr,SOCIO13", "--quiet"]) == 0
    back = pd.read_parquet(tmp_path / "pq" / "akm2015.parquet")
    assert list(back.columns) == ["PNR", "SOCIO13"]
    assert back.PNR.tolist() == frame.PNR.tolist() and back.SOCIO13.tolist() == frame.SOCIO13.tolist()
    assert main(["sas2parquet", str(tmp_path / "akm2015.xpt"), "--out", str(tmp_path / "pq"),
                 "--columns", "NOPE", "--quiet"]) == 3


def test_person_numbers_that_are_not_digits_are_named(register_world, tmp_path):
    from etl.registers import adapt
    from etl.staging import ContractError

    inp = tmp_path / "in"
    shutil.copytree(register_world, inp)
    with duckdb.connect() as con:
        f = inp / "bef201712.parquet"
        con.execute(f"COPY (SELECT * REPLACE (CASE WHEN row_number() OVER () = 7 THEN 'AB12345678' ELSE PNR END AS PNR) "
                    f"FROM read_parquet('{f}')) TO '{tmp_path / 'x.parquet'}' (FORMAT parquet)")
        shutil.move(tmp_path / "x.parquet", f)
    with pytest.raises(ContractError, match=r"bef201712.parquet.*PNR.*not digits only.*AB12345678.*pnr_as_integer"):
        adapt(inp, tmp_path / "out")


def test_lookups_say_where_they_come_from():
    import csv

    from etl.registers.adapter import REGISTERS_DIR

    files = sorted(REGISTERS_DIR.glob("*.csv"))
    assert {f.name for f in files} >= {"hfaudd_levels.csv", "socio13_groups.csv", "lpr2_referral.csv", "priority.csv"}
    for f in files:
        with open(f, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        assert rows, f.name
        assert all(r["source"].strip() and r["version"].strip() and r["status"].strip() for r in rows), f.name


def test_command_line_register_build(register_world, tmp_path):
    from etl.__main__ import main

    db = tmp_path / "atlas.duckdb"
    assert main(["build", "--input", str(register_world), "--db", str(db), "--layout", "registers", "--quiet"]) == 0
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM imaging_cube").fetchone()[0] > 0
    # a missing register table: exit code 2, the previous database untouched
    broken = tmp_path / "broken"
    shutil.copytree(register_world, broken)
    for f in broken.glob("akm*"):
        f.unlink()
    before = db.read_bytes()
    assert main(["build", "--input", str(broken), "--db", str(db), "--layout", "registers", "--quiet"]) == 2
    assert db.read_bytes() == before


def test_contract_layout_reads_sas_in_chunks_with_only_its_columns(tmp_path, monkeypatch):
    """The contract layout's staging asks the reader for the mapped columns only."""
    pyreadstat = pytest.importorskip("pyreadstat")
    import pandas as pd

    from etl import readers
    from etl.contract import contract
    from etl.settings import load_settings
    from etl.staging import StagingReport, stage_table

    frame = pd.DataFrame({"person_id": [float(i) for i in range(1, 3001)],
                          "plan_date": pd.to_datetime(["2015-03-01"] * 3000), "NOISE": ["x"] * 3000})
    pyreadstat.write_xport(frame, str(tmp_path / "rehabilitation.xpt"), table_name="REHAB")
    seen = []
    real = pyreadstat.read_file_in_chunks
    monkeypatch.setattr(pyreadstat, "read_file_in_chunks",
                        lambda reader, path, chunksize, usecols, **kw: seen.append((chunksize, usecols))
                        or real(reader, path, chunksize=chunksize, usecols=usecols, **kw))
    monkeypatch.setattr(readers, "SAS_CHUNK_ROWS", 1_000)
    report = StagingReport()
    with duckdb.connect() as con:
        stage_table(con, contract(load_settings())["rehabilitation"], [tmp_path / "rehabilitation.xpt"], {}, report,
                    False, None)
        assert con.execute("SELECT count(*), count(DISTINCT person_id), min(plan_date) FROM stg_rehabilitation").fetchone() \
            == (3000, 3000, pd.Timestamp("2015-03-01").date())
    assert seen == [(1_000, ["person_id", "plan_date"])]
    assert not report.problems
