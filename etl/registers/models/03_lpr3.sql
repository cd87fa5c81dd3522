-- model: reg_lpr3_contacts
-- grain: contact
-- LPR3 contacts (LPR_A_KONTAKT), all reporting systems: a course reaches its person through them.
CREATE OR REPLACE TABLE reg_lpr3_contacts AS
SELECT c.contact, c.course, c.pnr, c.start, c.system, p.priority,
       CASE WHEN c.referring_unit IS NULL THEN 'other' ELSE r.referrer_type END AS referrer_type,
       c.referring_unit
FROM src_lpr3_contacts c
LEFT JOIN lk_priority p ON p.era = 'LPR3' AND p.code = c.priority
LEFT JOIN (SELECT unit, referrer_type FROM src_units WHERE system = 'SOR') r ON r.unit = c.referring_unit;

-- model: reg_lpr3_courses
-- grain: course
-- Each course's first contact (earliest start, then contact id): the person, priority and referrer of
-- procedures registered on the course without a contact.
-- Only the courses such procedures are registered on are looked at.
CREATE OR REPLACE TABLE reg_lpr3_courses AS
SELECT course, pnr, priority, referrer_type, system FROM (
    SELECT *, row_number() OVER (PARTITION BY course ORDER BY start, contact) AS k
    FROM reg_lpr3_contacts
    WHERE course IN (SELECT course FROM src_lpr3_procedures WHERE contact IS NULL AND course IS NOT NULL))
WHERE k = 1;

-- model: reg_lpr3_procedures
-- Procedures (PROC_KODE_TYPE P; add-on codes "+" are not procedures of their own) with their
-- person, priority and referrer from their contact, or from their course's first contact when they
-- have none. Only what LPR3 itself reported: contacts reported by LPR2 (2017-2018) are in LPR2.
CREATE OR REPLACE TABLE reg_lpr3_procedures AS
SELECT coalesce(k.pnr, f.pnr) AS pnr, p.start AS procedure_date, p.code,
       coalesce(k.priority, f.priority) AS priority, coalesce(k.referrer_type, f.referrer_type) AS referrer_type,
       p.unit
FROM src_lpr3_procedures p
LEFT JOIN reg_lpr3_contacts k ON k.contact = p.contact
LEFT JOIN reg_lpr3_courses f ON p.contact IS NULL AND f.course = p.course
WHERE p.code_type = 'P' AND coalesce(k.system, f.system) = 'LPR3';

-- model: reg_lpr3_diagnoses
-- Action (A) and secondary (B) diagnoses of contacts LPR3 reported, dated by the contact's start.
CREATE OR REPLACE TABLE reg_lpr3_diagnoses AS
SELECT k.pnr, k.start AS diagnosis_date, d.code AS icd10
FROM src_lpr3_diagnoses d JOIN reg_lpr3_contacts k ON k.contact = d.contact
WHERE d.type IN ('A', 'B') AND k.system = 'LPR3';
