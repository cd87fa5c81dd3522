-- model: reg_procedures
-- Every procedure of both eras with its producer (lk units: LPR2 department codes, LPR3 SOR units).
CREATE OR REPLACE TABLE reg_procedures AS
SELECT p.pnr, p.procedure_date, p.code, p.priority, p.referrer_type, p.unit, 'SHAK' AS system
FROM reg_lpr2_procedures p
UNION ALL
SELECT p.pnr, p.procedure_date, p.code, p.priority, p.referrer_type, p.unit, 'SOR'
FROM reg_lpr3_procedures p;

-- model: imaging
-- grain: person_id, procedure_date, procedure_code, producer_id
-- The contract's imaging table: radiological examinations (SKS UX...); the code list is applied by
-- the contract as for any extract.
CREATE OR REPLACE TABLE imaging AS
SELECT p.pnr AS person_id, p.procedure_date, p.code AS procedure_code, p.priority, p.referrer_type,
       u.producer_type, u.producer_id
FROM reg_procedures p
LEFT JOIN (SELECT system, unit, producer_id, producer_type FROM src_units WHERE producer_id IS NOT NULL) u
       ON u.system = p.system AND u.unit = p.unit
WHERE p.code LIKE 'UX%';

-- model: surgery
-- The contract's surgery table: operations (NOMESCO K...) of both eras. All codes, as a contract
-- extract would have them: the code list applies later, and the data's first and last dates
-- (meta.coverage) are those of the register.
CREATE OR REPLACE TABLE surgery AS
SELECT pnr AS person_id, procedure_date AS surgery_date, code AS procedure_code
FROM reg_procedures WHERE code LIKE 'K%';

-- model: diagnoses
-- The contract's diagnoses table (all codes, as for surgery).
CREATE OR REPLACE TABLE diagnoses AS
SELECT pnr AS person_id, diagnosis_date, icd10 FROM reg_lpr2_diagnoses
UNION ALL
SELECT pnr, diagnosis_date, icd10 FROM reg_lpr3_diagnoses;
