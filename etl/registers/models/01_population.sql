-- model: reg_bef
-- grain: pnr, year
-- The status on 1 January of each study year: BEF's December snapshot of the year before (the
-- reader keeps only December snapshots, and BEFyyyy files before 2008, which are December's).
CREATE OR REPLACE TABLE reg_bef AS
SELECT pnr, file_year + 1 AS year, year(birth_date) AS birth_year, sex, municipality,
       CASE origin WHEN '1' THEN 1 WHEN '2' THEN 2 WHEN '3' THEN 3 ELSE 9 END AS origin
FROM src_bef
WHERE file_year + 1 BETWEEN {first_year} AND {last_year};

-- model: reg_education
-- grain: pnr, year
-- Highest completed education (UDDA HFAUDD) of register year Y-1 for the status of Y, grouped by
-- its ISCED level (lk_hfaudd: the code's first digits); a code not in the lookup stops the build.
-- (-1: a code the lookup lacks; the adapter stops on it after the population is made.)
CREATE OR REPLACE VIEW reg_education AS
SELECT u.pnr, u.file_year + 1 AS year,
       CASE WHEN u.hfaudd IS NULL THEN 9 ELSE coalesce(k.level, -1) END AS education
FROM src_udda u LEFT JOIN lk_hfaudd k ON k.prefix = left(u.hfaudd, {hfaudd_prefix})
WHERE u.file_year + 1 BETWEEN {first_year} AND {last_year};

-- model: reg_income
-- grain: pnr, year
-- Income quintile of year Y: disposable income (IND DISPON_NY) of Y-1. Cut points: the 20, 40, 60
-- and 80 % quantiles (linear interpolation) among the adults (age on 1 January >= {adult}) of the
-- population of Y with a known income; everyone with a known income is placed by them.
CREATE OR REPLACE VIEW reg_income AS
WITH inc AS (
    SELECT pnr, file_year + 1 AS year, disposable_income AS income FROM src_ind
    WHERE disposable_income IS NOT NULL AND file_year + 1 BETWEEN {first_year} AND {last_year}),
cuts AS (
    SELECT i.year, quantile_cont(i.income, [0.2, 0.4, 0.6, 0.8]) AS c
    FROM inc i JOIN reg_bef b ON pkey(b.pnr, b.year) = pkey(i.pnr, i.year)
    WHERE b.year - b.birth_year - 1 >= {adult}
    GROUP BY i.year)
SELECT i.pnr, i.year,
       1 + CAST(i.income >= c[1] AS INTEGER) + CAST(i.income >= c[2] AS INTEGER)
         + CAST(i.income >= c[3] AS INTEGER) + CAST(i.income >= c[4] AS INTEGER) AS income_quintile
FROM inc i JOIN cuts USING (year);

-- model: reg_labour
-- grain: pnr, year
-- Labour-market status of Y: AKM SOCIO13 of Y-1 in six groups (lk_socio13).
-- (-1: a code the lookup lacks, as for education.)
CREATE OR REPLACE VIEW reg_labour AS
SELECT a.pnr, a.file_year + 1 AS year,
       CASE WHEN a.socio13 IS NULL THEN 9 ELSE coalesce(k.grp, -1) END AS labour_status
FROM src_akm a LEFT JOIN lk_socio13 k ON k.socio13 = a.socio13
WHERE a.file_year + 1 BETWEEN {first_year} AND {last_year};

-- model: population
-- grain: person_id, year
-- The contract's population table: no UDDA record or an unknown code 9, no IND record 9, no AKM
-- record 9 (unknown), IE_TYPE 9 or missing 9.
CREATE OR REPLACE TABLE population AS
SELECT b.pnr AS person_id, b.year, b.birth_year, b.sex, b.municipality,
       coalesce(e.education, 9) AS education, coalesce(i.income_quintile, 9) AS income_quintile,
       b.origin, coalesce(l.labour_status, 9) AS labour_status
FROM reg_bef b
LEFT JOIN reg_education e ON pkey(e.pnr, e.year) = pkey(b.pnr, b.year)
LEFT JOIN reg_income i ON pkey(i.pnr, i.year) = pkey(b.pnr, b.year)
LEFT JOIN reg_labour l ON pkey(l.pnr, l.year) = pkey(b.pnr, b.year);
