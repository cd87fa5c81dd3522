"""Intermediate: link each lumbar imaging to the person's population status and to what came
before and after it. Person-level; lives only in the work database, never in the app's.

Tables made here:

``int_imaging``
    one row per lumbar imaging of a resident adult in the study years: the person's status on
    1 January of the imaging's year (municipality, sex, age band, education, income, origin,
    labour-market status), the imaging's modality, priority and referrer, and flags:
    ``first_in_year`` (the person's first lumbar imaging that year), ``episode_start`` (no lumbar
    imaging in the clean period before it), ``xray_then_mri`` (an X-ray followed by an MRI within the
    window), ``repeat_mri`` (an MRI with another MRI in the window before it), the follow-ups
    (lumbar diagnosis, spine surgery, rehabilitation plan within the short and long windows),
    ``red_flag`` and ``conservative_care`` (look-back), and ``low_value``.

All windows come from ``etl/config/settings.toml``; the code lists from ``etl/config/codes``.
"""
from __future__ import annotations

from etl.settings import Settings, read_code_list


def load_code_lists(con) -> None:
    """Code lists as small tables: ``code_imaging``, ``code_diagnosis``, ``code_surgery``."""
    rows = read_code_list("imaging_procedures")
    con.execute("CREATE OR REPLACE TABLE code_imaging (code VARCHAR, modality VARCHAR)")
    con.executemany("INSERT INTO code_imaging VALUES (?, ?)", [(r["code"], r["modality"]) for r in rows])
    con.execute("CREATE OR REPLACE TABLE code_diagnosis (prefix VARCHAR, grp VARCHAR)")
    con.executemany("INSERT INTO code_diagnosis VALUES (?, ?)",
                    [(r["code_prefix"], r["group"]) for r in read_code_list("diagnoses")])
    con.execute("CREATE OR REPLACE TABLE code_surgery (prefix VARCHAR)")
    con.executemany("INSERT INTO code_surgery VALUES (?)", [(r["code_prefix"],) for r in read_code_list("surgery")])


def age_band_sql(settings: Settings, age: str = "age") -> str:
    """A CASE expression mapping an age to the configured band label."""
    whens = " ".join(f"WHEN {age} BETWEEN {b.lower} AND {b.upper} THEN '{b.label}'" for b in settings.age_bands)
    return f"CASE {whens} END"


def person_id_type(con) -> str:
    """Person ids are compared as integers when every table stores them so, else as text."""
    types = {con.execute(f"SELECT typeof(person_id) FROM stg_{t} LIMIT 1").fetchone() for t in
             ("population", "imaging", "diagnoses", "surgery", "rehabilitation")}
    types.discard(None)
    return "BIGINT" if types and all(t[0] == "BIGINT" for t in types) else "VARCHAR"


def link_pathways(con, settings: Settings) -> dict[str, int]:
    """Build ``int_imaging``; returns counts of what was linked and what was left out."""
    w = settings.windows
    pid = person_id_type(con)
    adult = settings.adult_min_age
    con.execute(f"""
        CREATE OR REPLACE TABLE int_lumbar AS
        SELECT CAST(i.person_id AS {pid}) AS person_id, i.procedure_date AS date,
               year(i.procedure_date) AS year, c.modality, i.priority, i.referrer_type AS referrer,
               i.producer_type,
               hash(CAST(i.person_id AS VARCHAR), i.procedure_date, i.procedure_code, i.producer_id) AS rkey
        FROM stg_imaging i JOIN code_imaging c ON i.procedure_code = c.code
    """)
    # Sequence flags over each person's whole imaging history (adults or not, resident or not)
    con.execute(f"""
        CREATE OR REPLACE TABLE int_sequence AS
        SELECT *,
          -- the first of the person's imagings in a year is the one whose predecessor (in the same
          -- order) falls in another year: one window (one sort) serves every flag
          lag(year) OVER w IS DISTINCT FROM year AS first_in_year,
          coalesce(date - lag(date) OVER w > {w['episode_clean_days']}, true) AS episode_start,
          modality = 'xray' AND coalesce(
              min(CASE WHEN modality = 'mri' THEN date END) OVER (w ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)
              - date <= {w['xray_then_mri_days']}, false) AS xray_then_mri,
          modality = 'mri' AND coalesce(
              date - max(CASE WHEN modality = 'mri' THEN date END) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
              <= {w['repeat_mri_days']}, false) AS repeat_mri
        FROM int_lumbar
        WINDOW w AS (PARTITION BY person_id ORDER BY date, rkey)
    """)
    # Codes match a code list by prefix. Prefixes come in a few lengths, so one equality (hash) join
    # per length replaces a nested-loop join of every code against every prefix.
    diag_len = [r[0] for r in con.execute("SELECT DISTINCT length(prefix) FROM code_diagnosis").fetchall()]
    surg_len = [r[0] for r in con.execute("SELECT DISTINCT length(prefix) FROM code_surgery").fetchall()]
    diag = " UNION ".join(f"SELECT d.person_id, d.diagnosis_date, d.icd10, c.grp FROM stg_diagnoses d "
                          f"JOIN code_diagnosis c ON left(d.icd10, {n}) = c.prefix" for n in diag_len)
    surg = " UNION ".join(f"SELECT s.person_id, s.surgery_date, s.procedure_code FROM stg_surgery s "
                          f"JOIN code_surgery c ON left(s.procedure_code, {n}) = c.prefix" for n in surg_len)
    con.execute(f"""
        CREATE OR REPLACE TABLE int_events AS
        WITH persons AS (SELECT DISTINCT person_id FROM int_lumbar)
        SELECT CAST(d.person_id AS {pid}) AS person_id, d.diagnosis_date AS date, d.grp AS kind
          FROM ({diag}) d WHERE CAST(d.person_id AS {pid}) IN (SELECT person_id FROM persons)
        UNION ALL
        SELECT CAST(s.person_id AS {pid}), s.surgery_date, 'surgery'
          FROM ({surg}) s WHERE CAST(s.person_id AS {pid}) IN (SELECT person_id FROM persons)
        UNION ALL
        SELECT CAST(r.person_id AS {pid}), r.plan_date, 'rehab'
          FROM stg_rehabilitation r WHERE CAST(r.person_id AS {pid}) IN (SELECT person_id FROM persons)
    """)
    s, l = w["follow_up_short_days"], w["follow_up_long_days"]
    # Every window flag of an imaging as one bit of a mask (one aggregate instead of seven over the
    # imagings x events pairs); int_imaging reads the bits back
    flags = [("lumbar", f"e.date BETWEEN q.date AND q.date + {s}"), ("lumbar", f"e.date BETWEEN q.date AND q.date + {l}"),
             ("surgery", f"e.date BETWEEN q.date AND q.date + {s}"), ("surgery", f"e.date BETWEEN q.date AND q.date + {l}"),
             ("rehab", f"e.date BETWEEN q.date AND q.date + {s}"), ("rehab", f"e.date BETWEEN q.date AND q.date + {l}"),
             ("red_flag", f"e.date BETWEEN q.date - {w['red_flag_lookback_days']} AND q.date")]
    mask = " + ".join(f"CASE WHEN e.kind = '{kind}' AND {when} THEN {1 << i} ELSE 0 END" for i, (kind, when) in enumerate(flags))
    con.execute(f"""
        CREATE OR REPLACE TABLE int_links AS
        SELECT q.rkey, bit_or(({mask})::TINYINT) AS mask,
          min(CASE WHEN e.kind = 'lumbar' AND e.date BETWEEN q.date - {w['back_pain_lookback_days']} AND q.date - 1
                   THEN e.date END) AS first_back_pain
        FROM int_sequence q JOIN int_events e ON e.person_id = q.person_id
        GROUP BY q.rkey
    """)
    # One pass over the population: the status of imaged persons in their imaging years
    con.execute(f"""
        CREATE OR REPLACE TABLE int_status AS
        SELECT CAST(p.person_id AS {pid}) AS person_id, p.year, p.municipality, p.sex, p.birth_year,
               p.education, p.income_quintile, p.labour_status, p.origin
        FROM stg_population p
        SEMI JOIN (SELECT DISTINCT person_id, year FROM int_lumbar) q
          ON CAST(p.person_id AS {pid}) = q.person_id AND p.year = q.year
    """)
    band = age_band_sql(settings, "p.year - p.birth_year - 1")
    names = ("diag_short", "diag_long", "surgery_short", "surgery_long", "rehab_short", "rehab_long", "red_flag")
    bits = ", ".join(f"mask & {1 << i} <> 0 AS {name}" for i, name in enumerate(names))
    con.execute(f"""
        CREATE OR REPLACE TABLE int_imaging AS
        SELECT q.year, p.municipality, p.sex, {band} AS age_band,
               p.education, p.income_quintile AS income, p.origin, p.labour_status AS labour,
               q.modality, q.priority, q.referrer, q.producer_type, q.rkey,
               q.first_in_year, q.episode_start, q.xray_then_mri, q.repeat_mri,
               coalesce(k.diag_short, false) AS diag_short, coalesce(k.diag_long, false) AS diag_long,
               coalesce(k.surgery_short, false) AS surgery_short, coalesce(k.surgery_long, false) AS surgery_long,
               coalesce(k.rehab_short, false) AS rehab_short, coalesce(k.rehab_long, false) AS rehab_long,
               coalesce(k.red_flag, false) AS red_flag,
               coalesce(q.date - k.first_back_pain >= {w['conservative_care_days']}, false) AS conservative_care,
               q.episode_start AND NOT coalesce(k.red_flag, false)
                 AND NOT coalesce(q.date - k.first_back_pain >= {w['conservative_care_days']}, false) AS low_value
        FROM int_sequence q
        JOIN int_status p ON p.person_id = q.person_id AND p.year = q.year
        LEFT JOIN (SELECT rkey, first_back_pain, {bits} FROM int_links) k ON k.rkey = q.rkey
        WHERE p.year - p.birth_year - 1 >= {adult}
    """)
    total = con.execute("SELECT count(*) FROM int_lumbar").fetchone()[0]
    kept = con.execute("SELECT count(*) FROM int_imaging").fetchone()[0]
    resident = con.execute("""
        SELECT count(*) FROM int_lumbar q SEMI JOIN int_status p
          ON p.person_id = q.person_id AND p.year = q.year""").fetchone()[0]
    return {"lumbar_imaging": total, "linked_adults": kept,
            "not_resident": total - resident, "children": resident - kept}


def outcome_sql(window: str) -> str:
    """The single most intensive thing that followed an imaging (for pathway diagrams)."""
    return (f"CASE WHEN surgery_{window} THEN 'surgery' WHEN rehab_{window} THEN 'rehabilitation' "
            f"WHEN diag_{window} THEN 'diagnosis' ELSE 'none' END")
