-- model: reg_bef
-- grain: pnr, year
-- The status on 1 January of each study year: BEF's December snapshot of the year before (the
-- reader keeps only December snapshots, and BEFyyyy files before 2008, which are December's).
CREATE OR REPLACE VIEW reg_bef AS
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
-- Disposable income (IND DISPON_NY) of income year Y-1 for the status of Y.
CREATE OR REPLACE VIEW reg_income AS
SELECT pnr, file_year + 1 AS year, disposable_income AS income FROM src_ind
WHERE disposable_income IS NOT NULL AND file_year + 1 BETWEEN {first_year} AND {last_year};

-- model: reg_labour
-- grain: pnr, year
-- Labour-market status of Y: AKM SOCIO13 of Y-1 in six groups (lk_socio13).
-- (-1: a code the lookup lacks, as for education.)
CREATE OR REPLACE VIEW reg_labour AS
SELECT a.pnr, a.file_year + 1 AS year,
       CASE WHEN a.socio13 IS NULL THEN 9 ELSE coalesce(k.grp, -1) END AS labour_status
FROM src_akm a LEFT JOIN lk_socio13 k ON k.socio13 = a.socio13
WHERE a.file_year + 1 BETWEEN {first_year} AND {last_year};

-- model: reg_person_year
-- grain: pnr, year
-- each: year
-- Everyone in BEF's status of a year with their UDDA, IND and AKM records of the year before, one
-- study year at a time (each register file is read once; a year's hash tables are a twelfth of the
-- whole, which is faster and keeps memory flat at national scale). The table holds the year being
-- derived; its rows go to the population of that year and are not kept.
SELECT b.pnr, b.year, b.birth_year, b.sex, b.municipality, b.origin, e.education, i.income, l.labour_status
FROM (FROM reg_bef WHERE year = {year}) b
LEFT JOIN (FROM reg_education WHERE year = {year}) e ON e.pnr = b.pnr
LEFT JOIN (FROM reg_income WHERE year = {year}) i ON i.pnr = b.pnr
LEFT JOIN (FROM reg_labour WHERE year = {year}) l ON l.pnr = b.pnr;

-- model: reg_income_cuts
-- grain: year
-- each: year
-- Income quintile cut points of year Y: the 20, 40, 60 and 80 % quantiles (linear interpolation) of
-- the disposable income of the adults (age on 1 January >= {adult}) in the population of Y with a
-- known income.
SELECT year, quantile_cont(income, [0.2, 0.4, 0.6, 0.8]) AS c
FROM reg_person_year WHERE income IS NOT NULL AND year - birth_year - 1 >= {adult}
GROUP BY year;

-- model: population
-- grain: person_id, year
-- each: year
-- The contract's population table, written year by year (population_<year>.parquet, as a contract
-- extract may be delivered). Everyone with a known income is placed by the year's cut points
-- (1 + the number of cut points at or below the income); no IND record 9, no UDDA record or an
-- unknown code 9, no AKM record 9 (unknown), IE_TYPE 9 or missing 9.
SELECT p.pnr AS person_id, p.year, p.birth_year, p.sex, p.municipality,
       coalesce(p.education, 9) AS education,
       CASE WHEN p.income IS NULL THEN 9
            ELSE 1 + CAST(p.income >= k.c[1] AS INTEGER) + CAST(p.income >= k.c[2] AS INTEGER)
                   + CAST(p.income >= k.c[3] AS INTEGER) + CAST(p.income >= k.c[4] AS INTEGER) END AS income_quintile,
       p.origin, coalesce(p.labour_status, 9) AS labour_status
FROM reg_person_year p LEFT JOIN reg_income_cuts k USING (year);
