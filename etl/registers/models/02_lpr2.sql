-- model: reg_lpr2_admissions
-- grain: source, recnum
-- LPR2 admissions and outpatient contacts, public (LPR_ADM) and private hospitals (PRIV_ADM),
-- with the era's rules: priority from C_INDM (lk_priority), an emergency-room patient type
-- (C_PATTYPE {er_type}) up to {er_until} acute; referrer from C_HENM (lk_lpr2_referral).
CREATE OR REPLACE TABLE reg_lpr2_admissions AS
SELECT a.source, a.recnum, a.pnr, a.admission_date, a.hospital, a.department,
       CASE WHEN a.patient_type = '{er_type}' AND year(a.admission_date) <= {er_until} THEN 'acute'
            ELSE p.priority END AS priority,
       r.referrer_type
FROM (SELECT 'public' AS source, * FROM src_lpr2_adm
      UNION ALL BY NAME SELECT 'private' AS source, * FROM src_lpr2_private_adm) a
LEFT JOIN lk_priority p ON p.era = 'LPR2' AND p.code = a.priority
LEFT JOIN lk_lpr2_referral r ON r.code = a.referral;

-- model: reg_lpr2_procedures
-- grain: source, recnum, kind, code, procedure_date
-- Examinations (SKSUBE) and operations (SKSOPR) joined to their admission by RECNUM (within the
-- same source); the producing unit is the procedure's department, else the admission's.
CREATE OR REPLACE TABLE reg_lpr2_procedures AS
SELECT p.source, p.recnum, p.kind, a.pnr, p.procedure_date, p.code, a.priority, a.referrer_type,
       coalesce(p.hospital, a.hospital) || coalesce(p.department, a.department) AS unit
FROM (SELECT 'public' AS source, 'examination' AS kind, * FROM src_lpr2_examinations
      UNION ALL BY NAME SELECT 'public' AS source, 'operation' AS kind, * FROM src_lpr2_operations
      UNION ALL BY NAME SELECT 'private' AS source, 'examination' AS kind, * FROM src_lpr2_private_examinations
      UNION ALL BY NAME SELECT 'private' AS source, 'operation' AS kind, * FROM src_lpr2_private_operations) p
JOIN reg_lpr2_admissions a ON a.source = p.source AND a.recnum = p.recnum;

-- model: reg_lpr2_diagnoses
-- Action (A) and secondary (B) diagnoses of LPR2, dated by the admission's start.
CREATE OR REPLACE TABLE reg_lpr2_diagnoses AS
SELECT a.pnr, a.admission_date AS diagnosis_date, d.code AS icd10
FROM (SELECT 'public' AS source, * FROM src_lpr2_diagnoses
      UNION ALL BY NAME SELECT 'private' AS source, * FROM src_lpr2_private_diagnoses) d
JOIN reg_lpr2_admissions a ON a.source = d.source AND a.recnum = d.recnum
WHERE d.type IN ('A', 'B');
