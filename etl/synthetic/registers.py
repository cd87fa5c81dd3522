"""The synthetic world as the registers deliver it (``python -m etl generate --layout registers``).

:func:`write_registers` turns the generator's contract tables into the register tables of
``etl/config/registers/dst.toml``, so the register adapters (``etl/registers``) have the same world to
read back (tests/test_registers.py builds both layouts and compares the atlas tables):

* BEF: quarterly snapshots from 2008 (``bef{yyyy}{mm}``), the status on 1 January of Y being the
  December snapshot of Y-1; the March, June and September snapshots hold another status (some
  people elsewhere), so an adapter reading them would be caught. ``FOED_DAG`` a date in the birth
  year; ``KOEN``/``KOM`` as SAS numbers (``101.0``); ``IE_TYPE`` 9 for unknown origin.
* UDDA/IND/AKM of year Y-1 for the status of Y: ``HFAUDD`` a code whose level comes from
  ``hfaudd_levels.csv`` (no record or a 90xx code: unknown), ``DISPON_NY`` the income behind the
  quintile, ``SOCIO13`` a code of the person's group (``socio13_groups.csv``; no record: unknown).
* LPR2 before ``lpr3_from``: ``LPR_ADM`` with ``LPR_SKSUBE``/``LPR_SKSOPR``/``LPR_DIAG`` by ``RECNUM``,
  private clinics in ``PRIV_*``; referral ``C_HENM`` (a chiropractor referral has no code: ``A``),
  priority ``C_INDM`` or the emergency-room patient type up to 2013; add-on codes in ``C_TILOPR``;
  referral diagnoses (H) that must not count.
* LPR3 from ``lpr3_from``, and again the LPR2 years 2017-2018 as contacts reported by LPR2 (to be
  dropped); some procedures on a course without a contact; add-on rows (``PROC_KODE_TYPE`` "+"),
  some with an imaging code; priority ATA1/ATA3; the referrer through the referring SOR unit.
* SSSY: the contract world's ``chiro_billing`` (chiropractors' own X-rays, no LPR record) as
  speciale 53 billings with their service code, ``HONUGE`` the fee week as ``yyww`` (ISO week-year
  and week, a SAS number) and a provider number ``YDERNR``; around them billings that must not
  count: other services of speciale 53 (consultations, reading another's X-rays) and the X-ray
  service codes under another speciality.
* ``units.csv``: the synthetic SOR units and LPR2 department codes with their producer and
  referrer types; rehabilitation plans and the referral tables as in the contract.

Every random choice is a hash of the seed and the row, so the result is the same for the same seed.
"""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

from etl import duck
from etl.readers import sql_str
from etl.settings import CONFIG_DIR

REGISTERS_CONFIG = CONFIG_DIR / "registers"
LPR3_FROM = "2019-01-01"
OVERLAP_FROM = "2017-01-01"          # LPR_A_KONTAKT reaches back to here (contacts reported by LPR2)
SNAPSHOTS_QUARTERLY_FROM = 2008
ADDON_SHARE = 0.15                  # procedures with an add-on code
COURSE_ONLY_SHARE = 0.10            # LPR3 procedures registered on the course, not on a contact
REFERRERS_PER_TYPE = 6              # synthetic referring units per referrer type (LPR3)
# SSSY billings that are not chiropractors' own X-rays: (speciality, service, salt, share of the X-rays)
SSSY_NOT_XRAY = (
    (53, "1015", "consult", 0.9),       # a consultation of speciale 53 (not an X-ray)
    (53, "2013", "foreign", 0.1),       # reading another's X-rays: no X-ray taken
    (51, "SYN-RX1", "otherspec", 0.1),  # an X-ray service code under another speciality
)


def _csv(name: str) -> list[dict]:
    with open(REGISTERS_CONFIG / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_registers(contract_dir: Path, out_dir: Path, seed: int) -> dict:
    """Write the register layout of the contract tables in ``contract_dir`` into ``out_dir``."""
    contract_dir, out_dir = Path(contract_dir), Path(out_dir)
    con = duck.connect()
    try:
        con.execute("SET preserve_insertion_order = false")
        return _write(con, contract_dir, out_dir, int(seed))
    finally:
        con.close()


def _copy(con, sql: str, path: Path) -> int:
    tmp = path.with_name(path.name + ".tmp")
    con.execute(f"COPY ({sql}) TO '{sql_str(tmp)}' (FORMAT parquet, COMPRESSION zstd)")
    tmp.replace(path)
    return con.execute(f"SELECT count(*) FROM read_parquet('{sql_str(path)}')").fetchone()[0]


def _write(con, src: Path, out: Path, seed: int) -> dict:
    rows: dict[str, int] = {}
    # u(key, salt): a uniform number in [0, 1) from the seed and the row's key
    con.execute(f"CREATE MACRO u(k, salt) AS (hash({seed}, k, salt) % 1000003) / 1000003.0")
    con.execute(f"CREATE MACRO pick(k, salt, n) AS CAST(hash({seed}, k, salt) % n AS INTEGER) + 1")
    con.execute("CREATE MACRO pnr(p) AS lpad(CAST(p AS VARCHAR), 10, '0')")
    con.execute(f"CREATE TABLE pop AS SELECT * FROM read_parquet('{sql_str(src)}/population_*.parquet')")
    pop = "pop"
    years = [y for (y,) in con.execute(f"SELECT DISTINCT year FROM {pop} ORDER BY 1").fetchall()]
    rows.update(_population(con, pop, years, out))
    units = _units(con, src, out)
    rows["units"] = units
    rows.update(_lpr(con, src, out))
    # rehabilitation plans as in the contract, with the registers' person numbers
    _copy(con, f"SELECT pnr(person_id) AS person_id, plan_date FROM read_parquet('{sql_str(src)}/rehabilitation.parquet')",
          out / "rehabilitation.parquet")
    for name in ("referrals_received", "returned_referrals"):
        shutil.copyfile(src / f"{name}.parquet", out / f"{name}.parquet")
    return rows


# --- population registers -----------------------------------------------------------------------
def _population(con, pop: str, years: list[int], out: Path) -> dict:
    levels = _csv("hfaudd_levels.csv")
    prefixes = {}
    for r in levels:
        prefixes.setdefault(int(r["level"]), []).append(int(r["prefix"]))
    socio = {}
    for r in _csv("socio13_groups.csv"):
        socio.setdefault(int(r["group"]), []).append(int(r["socio13"]))

    def choose(mapping: dict, key: str, value: str, salt: str) -> str:
        """SQL: one of the codes of ``value``'s group, chosen by a hash of the row."""
        whens = " ".join(f"WHEN {value} = {g} THEN list_value({', '.join(map(str, cs))})[pick({key}, '{salt}', {len(cs)})]"
                         for g, cs in mapping.items())
        return f"CASE {whens} END"

    hfaudd = (f"CAST({choose(prefixes, 'person_id', 'education', 'udda')} * 100 + 10 "
              f"+ pick(person_id, 'udda-detail', 40) AS DOUBLE)")
    socio13 = f"CAST({choose(socio, 'person_id || year', 'labour_status', 'akm')} AS DOUBLE)"
    birth = ("make_date(birth_year, 1, 1) + CAST(hash(person_id, 'birthday') % "
             "(CASE WHEN birth_year % 4 = 0 THEN 366 ELSE 365 END) AS INTEGER)")
    rows = {"bef": 0, "udda": 0, "ind": 0, "akm": 0}
    for y in years:
        snap = y - 1
        this = f"(SELECT * FROM {pop} WHERE year = {y})"
        bef = (f"SELECT pnr(person_id) AS PNR, {birth} AS FOED_DAG, CAST(sex AS DOUBLE) AS KOEN, "
               "CAST({kom} AS DOUBLE) AS KOM, CAST(origin AS VARCHAR) AS IE_TYPE, "
               f"CAST({snap} - birth_year AS DOUBLE) AS ALDER, 'U' AS CIVST FROM {this}")
        rows["bef"] += _copy(con, bef.format(kom="municipality"), out / f"bef{snap}12.parquet")
        if snap >= SNAPSHOTS_QUARTERLY_FROM:
            # the other quarters: a status that is not the one of 1 January (some live elsewhere)
            for month in (3, 6, 9):
                other = f"CASE WHEN u(person_id, 'q{month}') < 0.05 THEN CASE WHEN municipality = 101 THEN 147 ELSE 101 END ELSE municipality END"
                _copy(con, bef.format(kom=other), out / f"bef{snap}{month:02d}.parquet")
        rows["udda"] += _copy(con, f"SELECT pnr(person_id) AS PNR, CASE WHEN education = 9 THEN 9010.0 ELSE {hfaudd} END AS HFAUDD "
                                   f"FROM {this} WHERE education <> 9 OR u(person_id, 'udda-none') < 0.5",
                              out / f"udda{snap}.parquet")
        rows["ind"] += _copy(con, f"SELECT pnr(person_id) AS PNR, disposable_income AS DISPON_NY, "
                                  f"round(disposable_income * 1.3) AS PERINDKIALT FROM {this} WHERE disposable_income IS NOT NULL",
                             out / f"ind{snap}.parquet")
        rows["akm"] += _copy(con, f"SELECT pnr(person_id) AS PNR, {socio13} AS SOCIO13 FROM {this} WHERE labour_status <> 9",
                             out / f"akm{snap}.parquet")
    return rows


# --- units: producers and referrers -------------------------------------------------------------
def _units(con, src: Path, out: Path) -> int:
    img = f"read_parquet('{sql_str(src)}/imaging.parquet')"
    con.execute(f"""
        CREATE TABLE units AS
        SELECT producer_id, producer_type, row_number() OVER (ORDER BY producer_id) AS n
        FROM (SELECT DISTINCT producer_id, producer_type FROM {img})""")
    # LPR2 department codes (hospital 4 characters + department 3) and SOR codes (15 digits)
    con.execute("""
        CREATE TABLE unit_codes AS
        SELECT producer_id, producer_type,
               lpad(CAST(7000 + n AS VARCHAR), 4, '0') || lpad(CAST(n % 997 AS VARCHAR), 3, '0') AS shak,
               CAST(715000000000000 + n * 1000 AS VARCHAR) AS sor
        FROM units""")
    referrers = ("gp", "chiropractor", "specialist", "hospital", "other")
    con.execute("CREATE TABLE referrer_units (referrer_type VARCHAR, k INTEGER, sor VARCHAR)")
    for i, r in enumerate(referrers):
        for k in range(1, REFERRERS_PER_TYPE + 1):
            con.execute("INSERT INTO referrer_units VALUES (?, ?, ?)", [r, k, str(716000000000000 + (i * 100 + k) * 1000)])
    ref_type = "CASE producer_type WHEN 'public_hospital' THEN 'hospital' ELSE 'specialist' END"
    sql = f"""
        SELECT 'SHAK' AS system, shak AS unit, producer_id, producer_type, {ref_type} AS referrer_type,
               'synthetic' AS source, 'generator' AS version FROM unit_codes
        UNION ALL
        SELECT 'SOR', sor, producer_id, producer_type, {ref_type}, 'synthetic', 'generator' FROM unit_codes
        UNION ALL
        SELECT 'SOR', sor, NULL, NULL, referrer_type, 'synthetic', 'generator' FROM referrer_units
        ORDER BY 1, 2"""
    con.execute(f"COPY ({sql}) TO '{sql_str(out / 'units.csv')}' (HEADER, DELIMITER ',')")
    return con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]


# --- Landspatientregisteret ---------------------------------------------------------------------
def _lpr(con, src: Path, out: Path) -> dict:
    rd = lambda name: f"read_parquet('{sql_str(src)}/{name}.parquet')"  # noqa: E731
    # every hospital event: imaging, diagnoses, surgery (chiropractors' own X-rays are in chiro_billing)
    con.execute(f"""
        CREATE TABLE ev AS
        SELECT row_number() OVER (ORDER BY kind, person_id, day, code, producer_id) AS id, * FROM (
            SELECT 'img' AS kind, person_id, procedure_date AS day, procedure_code AS code, priority, referrer_type,
                   producer_id, producer_type FROM {rd('imaging')}
            UNION ALL
            SELECT 'dx', person_id, diagnosis_date, icd10, NULL, NULL, NULL, NULL FROM {rd('diagnoses')}
            UNION ALL
            SELECT 'op', person_id, surgery_date, procedure_code, NULL, NULL, NULL, NULL FROM {rd('surgery')})""")
    con.execute(f"""
        CREATE TABLE ev2 AS
        SELECT e.*, c.shak, c.sor, pnr(e.person_id) AS pnr,
               e.day < DATE '{LPR3_FROM}' AS in_lpr2,
               e.day >= DATE '{OVERLAP_FROM}' AS in_lpr3,
               coalesce(e.producer_type = 'private_clinic', false) AS private
        FROM ev e LEFT JOIN unit_codes c USING (producer_id)""")
    rows = {}
    # LPR2: one admission (RECNUM) per event
    henm = {"gp": ["'1'"], "specialist": ["'2'"], "hospital": ["'F'", "'G'"], "other": ["'0'", "'A'"],
            "chiropractor": ["'A'"]}          # no chiropractor code in LPR2
    henm_sql = "CASE referrer_type " + " ".join(
        f"WHEN '{r}' THEN list_value({', '.join(c)})[pick(id, 'henm', {len(c)})]" for r, c in henm.items()) + " END"
    er = "(kind = 'img' AND priority = 'acute' AND year(day) <= 2013 AND u(id, 'er') < 0.3)"
    adm = f"""
        SELECT pnr AS PNR, 'R' || lpad(CAST(id AS VARCHAR), 12, '0') AS RECNUM,
               day - CAST(CASE WHEN kind = 'img' AND priority = 'planned' THEN pick(id, 'adm', 3) - 1 ELSE 0 END AS INTEGER) AS D_INDDTO,
               CASE WHEN kind = 'img' THEN left(shak, 4) ELSE '8001' END AS C_SGH,
               CASE WHEN kind = 'img' THEN right(shak, 3) ELSE '010' END AS C_AFD,
               CASE WHEN {er} THEN '3' WHEN kind = 'img' THEN '2' ELSE '0' END AS C_PATTYPE,
               CASE WHEN {er} THEN NULL WHEN priority = 'acute' THEN '1' WHEN priority = 'planned' THEN '2'
                    ELSE '2' END AS C_INDM,
               CASE WHEN kind = 'img' THEN {henm_sql} ELSE '1' END AS C_HENM
        FROM ev2 WHERE in_lpr2 AND private = {{private}}"""
    proc = """
        SELECT 'R' || lpad(CAST(id AS VARCHAR), 12, '0') AS RECNUM, code AS C_OPR,
               CASE WHEN u(id, 'addon') < {addon} THEN 'TUL' || pick(id, 'tul', 2) END AS C_TILOPR,
               day AS D_ODTO,
               CASE WHEN u(id, 'oprsgh') < 0.9 AND kind = 'img' THEN left(shak, 4) END AS C_OPRSGH,
               CASE WHEN u(id, 'oprsgh') < 0.9 AND kind = 'img' THEN right(shak, 3) END AS C_OPRAFD
        FROM ev2 WHERE in_lpr2 AND private = {private} AND kind = '{kind}'"""
    diag = """
        SELECT 'R' || lpad(CAST(id AS VARCHAR), 12, '0') AS RECNUM, code AS C_DIAG,
               CASE WHEN u(id, 'dtype') < 0.7 THEN 'A' ELSE 'B' END AS C_DIAGTYPE
        FROM ev2 WHERE in_lpr2 AND private = {private} AND kind = 'dx'
        UNION ALL   -- referral diagnoses (H) of some imaging admissions: not diagnoses of the person
        SELECT 'R' || lpad(CAST(id AS VARCHAR), 12, '0'), 'DM545', 'H'
        FROM ev2 WHERE in_lpr2 AND private = {private} AND kind = 'img' AND u(id, 'hdiag') < 0.2"""
    for private, prefix in ((False, "lpr"), (True, "priv")):
        p = str(private).lower()
        rows[f"{prefix}_adm"] = _copy(con, adm.format(private=p), out / f"{prefix}_adm.parquet")
        rows[f"{prefix}_sksube"] = _copy(con, proc.format(private=p, kind="img", addon=ADDON_SHARE),
                                         out / f"{prefix}_sksube.parquet")
        rows[f"{prefix}_sksopr"] = _copy(con, proc.format(private=p, kind="op", addon=0.0), out / f"{prefix}_sksopr.parquet")
        rows[f"{prefix}_diag"] = _copy(con, diag.format(private=p), out / f"{prefix}_diag.parquet")

    # LPR3: one contact per event from OVERLAP_FROM (reported by LPR2 before LPR3_FROM); a share of
    # the LPR3 procedures on the course only, whose one contact comes some days earlier
    con.execute(f"""
        CREATE TABLE lpr3 AS
        SELECT *, 'K' || lpad(CAST(id AS VARCHAR), 12, '0') AS contact, 'F' || lpad(CAST(id AS VARCHAR), 12, '0') AS course,
               CASE WHEN in_lpr2 THEN 'LPR2' ELSE 'LPR3' END AS system,
               kind <> 'dx' AND NOT in_lpr2 AND u(id, 'course') < {COURSE_ONLY_SHARE} AS course_only,
               CASE WHEN ev2.referrer_type = 'other' AND u(id, 'noref') < 0.5 THEN NULL ELSE r.sor END AS referring_unit
        FROM ev2 LEFT JOIN referrer_units r
          ON r.referrer_type = ev2.referrer_type AND r.k = pick(ev2.id, 'refunit', {REFERRERS_PER_TYPE})
        WHERE in_lpr3""")
    contacts = """
        SELECT pnr AS PNR, contact AS DW_EK_KONTAKT, course AS DW_EK_FORLOEB,
               CAST(day - CAST(CASE WHEN course_only THEN pick(id, 'early', 30) ELSE 0 END AS INTEGER) AS TIMESTAMP)
                   + to_minutes(CAST(pick(id, 'minute', 1439) AS BIGINT)) AS KONT_STARTTIDSPUNKT,
               system AS LPRINDBERETNINGSSYSTEM,
               CASE WHEN priority = 'acute' THEN 'ATA1' WHEN priority = 'planned' THEN 'ATA3' ELSE 'ATA3' END AS PRIORITET,
               referring_unit AS KONT_HENV_ENH
        FROM lpr3"""
    rows["lpr_a_kontakt"] = _copy(con, contacts, out / "lpr_a_kontakt.parquet")
    procs = f"""
        SELECT CASE WHEN course_only THEN NULL ELSE contact END AS DW_EK_KONTAKT, course AS DW_EK_FORLOEB,
               code AS PROC_KODE, 'P' AS PROC_KODE_TYPE,
               CAST(day AS TIMESTAMP) + to_minutes(CAST(pick(id, 'pminute', 1439) AS BIGINT)) AS PROC_STARTTIDSPUNKT,
               sor AS PROD_ENH, system AS LPRINDBERETNINGSSYSTEM
        FROM lpr3 WHERE kind <> 'dx'
        UNION ALL   -- add-on codes: laterality, and for some imagings a second imaging code
        SELECT CASE WHEN course_only THEN NULL ELSE contact END, course,
               CASE WHEN u(id, 'addcode') < 0.5 THEN code ELSE 'TUL' || pick(id, 'tul', 2) END, '+',
               CAST(day AS TIMESTAMP), sor, system
        FROM lpr3 WHERE kind = 'img' AND u(id, 'addon') < {ADDON_SHARE}"""
    rows["lpr_a_procregistrering"] = _copy(con, procs, out / "lpr_a_procregistrering.parquet")
    diags = """
        SELECT contact AS DW_EK_KONTAKT, code AS DIAG_KODE,
               CASE WHEN u(id, 'dtype') < 0.7 THEN 'A' ELSE 'B' END AS DIAG_KODE_TYPE
        FROM lpr3 WHERE kind = 'dx'
        UNION ALL   -- add-on codes to a diagnosis: not a diagnosis of their own
        SELECT contact, 'DZ000', '+' FROM lpr3 WHERE kind = 'dx' AND u(id, 'dplus') < 0.1"""
    rows["lpr_a_diagnose"] = _copy(con, diags, out / "lpr_a_diagnose.parquet")

    rows["sssy"] = _sssy(con, src, out)
    return rows


# --- the health-insurance register --------------------------------------------------------------
def _sssy(con, src: Path, out: Path) -> int:
    """SSSY from ``chiro_billing``: every billing as speciale 53 with its service code and fee week
    (yyww of the ISO week-year, as a SAS number), the person's chiropractor as provider; and
    billings the adapter must leave out (``SSSY_NOT_XRAY``)."""
    path = src / "chiro_billing.parquet"
    if not path.exists():
        return 0
    bill = f"read_parquet('{sql_str(path)}')"
    provider = "'53' || lpad(CAST(pick(person_id, 'yder', 400) AS VARCHAR), 4, '0')"
    honuge = "CAST(fee_week % 10000 AS DOUBLE)"
    others = " UNION ALL ".join(
        f"SELECT pnr(person_id), CAST({spec} AS DOUBLE), '{service}', {honuge}, {provider} FROM {bill} "
        f"WHERE u(person_id || fee_week || service_code, '{salt}') < {share}"
        for spec, service, salt, share in SSSY_NOT_XRAY)
    sql = f"""
        SELECT pnr(person_id) AS PNR, CAST(53 AS DOUBLE) AS SPECIALE, service_code AS YDELSESNR, {honuge} AS HONUGE,
               {provider} AS YDERNR
        FROM {bill}
        UNION ALL {others}"""
    return _copy(con, sql, out / "sssy.parquet")
