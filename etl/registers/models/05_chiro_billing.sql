-- model: reg_sssy_xray
-- The health-insurance register's (SSSY) billings of chiropractors' own X-rays: the speciality and
-- service code pairs of lk_sssy_xray (etl/config/registers/sssy_xray_services.csv; speciale 53).
-- HONUGE is the fee week written yyww (a SAS number loses its leading zero: 505 is 0505): the
-- ISO week-year's last two digits and the ISO week. The century: 19yy from 90 (SSSY starts in
-- 1990), else 20yy. The week-year is kept as it is, not taken from a date: week 1 of 2020 begins on
-- 30 December 2019, so its billings count in 2020, as the contract's fee_week does.
CREATE OR REPLACE TABLE reg_sssy_xray AS
SELECT *, TRY_CAST(left(honuge, 2) AS INTEGER) AS yy, TRY_CAST(right(honuge, 2) AS INTEGER) AS week FROM (
    SELECT s.pnr, s.speciality, s.service, s.provider,
           CASE WHEN length(s.fee_week) < 4 THEN lpad(s.fee_week, 4, '0') ELSE s.fee_week END AS honuge
    FROM src_sssy s
    JOIN lk_sssy_xray k ON k.speciality = s.speciality AND k.service = s.service);

-- model: chiro_billing
-- The contract's chiro_billing table: one row per billed X-ray (two in one week are two rows), the
-- fee week as yyyyww. A week outside 1-53 or a HONUGE that is not four digits stays as it is
-- written, for the contract's check of fee_week to name it.
CREATE OR REPLACE TABLE chiro_billing AS
SELECT pnr AS person_id,
       CASE WHEN regexp_full_match(honuge, '[0-9][0-9][0-9][0-9]')
            THEN (CASE WHEN yy >= 90 THEN 1900 ELSE 2000 END + yy) * 100 + week
            ELSE TRY_CAST(honuge AS INTEGER) END AS fee_week,
       service AS service_code
FROM reg_sssy_xray;
