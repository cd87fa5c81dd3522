"""Typing the extracts in SQL: the cast of each source column to its contract type (whole numbers only,
ISO or day-first dates, booleans, text), recoding and quoting; the patterns the checks share."""
from __future__ import annotations

from etl.settings import load_checks_config

# "1.000" or "1,000": a count written with a thousands separator (read as 1 it would be silently wrong)
THOUSANDS = "[+-]?[0-9]{1,3}([.,][0-9]{3})+"
# a time of day followed by a time zone: "2017-03-05T23:30:00+01:00", "... 23:30Z"
TIME_ZONE_SUFFIX = "[0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)? ?(Z|UTC|[+-][0-9]{2}(:?[0-9]{2})?)$"
ISO_DATE = "[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T].*)?"
DAY_FIRST_DATE = "[0-9]{1,2}[-./][0-9]{1,2}[-./][0-9]{4}|[0-9]{1,2}[A-Za-z]{3}[0-9]{4}"


INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "HUGEINT")


FLOAT_TYPES = ("FLOAT", "DOUBLE", "REAL", "DECIMAL")
# integer types whose every value is a BIGINT (TRY_CAST to BIGINT never fails on them)
BIGINT_SAFE_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER")


def always_typed(src_type: str, type_: str) -> bool:
    """True when :func:`typed_sql` turns every non-NULL value of ``src_type`` into a non-NULL value
    (an int16 column typed as an integer, a DATE column typed as a date): the check for values that
    cannot be read is then known to find nothing, and is not run on every row."""
    return ((type_ in ("integer", "id") and src_type in BIGINT_SAFE_TYPES)
            or (type_ == "date" and src_type == "DATE"))


def whole_sql(col_sql: str, src_type: str) -> str:
    """A number as BIGINT when it is a whole number (3.0 -> 3), else NULL (3.5 is not rounded)."""
    if src_type in INTEGER_TYPES:
        return f"TRY_CAST({col_sql} AS BIGINT)"
    return f"CASE WHEN {col_sql} = trunc({col_sql}) THEN TRY_CAST({col_sql} AS BIGINT) END"


def typed_sql(col_sql: str, src_type: str, type_: str) -> str:
    if type_ == "id":
        # person ids stay integers when the extract stores them so (fast joins), also when a SAS
        # export stores them as whole floating-point numbers; text otherwise
        if src_type in INTEGER_TYPES or src_type.startswith(FLOAT_TYPES):
            return whole_sql(col_sql, src_type)
        return f"NULLIF(trim(CAST({col_sql} AS VARCHAR)), '')"
    if type_ == "integer":
        if "CHAR" in src_type:
            # whole numbers only ('0101' and '101.0' are fine; '3.5' and '1e3' are not silently rounded,
            # and '1.000' is not read as 1: a thousands separator is reported, see _check)
            s = f"trim(CAST({col_sql} AS VARCHAR))"
            return (f"CASE WHEN regexp_full_match({s}, '[+-]?[0-9]+(\\.0*)?') AND NOT regexp_full_match({s}, '{THOUSANDS}') "
                    f"THEN TRY_CAST(regexp_replace({s}, '\\.0*$', '') AS BIGINT) END")
        if src_type in INTEGER_TYPES or src_type.startswith(FLOAT_TYPES):
            return whole_sql(col_sql, src_type)
        return "CAST(NULL AS BIGINT)"      # booleans, dates, bytes ...: not an integer code
    if type_ == "text":
        return f"NULLIF(trim(CAST({col_sql} AS VARCHAR)), '')"
    if type_ == "boolean":
        return f"TRY_CAST(lower(trim(CAST({col_sql} AS VARCHAR))) AS BOOLEAN)"
    if type_ == "date":
        # timestamps with a time zone are read as dates in one configured zone, never in the
        # machine's (the checks stop the build on them unless --allow-time-zones)
        zone = load_checks_config()["time_zones"]["read_in"]
        if src_type.startswith("TIMESTAMP WITH TIME ZONE") or src_type == "TIMESTAMPTZ":
            return f"CAST(timezone('{zone}', {col_sql}) AS DATE)"
        if src_type.startswith(("DATE", "TIMESTAMP")):
            return f"CAST({col_sql} AS DATE)"
        # text: ISO (yyyy-mm-dd) or day first with a four-digit year; '05-03-17' is not a date
        # (read as the year 5 or 17 it would be silently wrong)
        s = f"trim(CAST({col_sql} AS VARCHAR))"
        return (f"CASE WHEN regexp_full_match({s}, '{ISO_DATE}') THEN "
                f"CASE WHEN regexp_matches({s}, '{TIME_ZONE_SUFFIX}') "
                f"THEN CAST(timezone('{zone}', TRY_CAST({s} AS TIMESTAMPTZ)) AS DATE) ELSE TRY_CAST({s} AS DATE) END "
                f"WHEN regexp_full_match({s}, '{DAY_FIRST_DATE}') THEN "
                f"CAST(TRY_STRPTIME({s}, ['%d-%m-%Y', '%d.%m.%Y', '%d/%m/%Y', '%d%b%Y']) AS DATE) END")
    raise ValueError(type_)


# a whole number written with a decimal part of zeros, as SAS exports its numbers: "111.0", "111."
SAS_WHOLE = "[+-]?[0-9]+[.]0*"


def code_text_sql(col_sql: str, src_type: str = "VARCHAR") -> str:
    """A code as text, the same however the extract stores it: a SAS number 111.0 (or the text
    "111.0") is "111", text is trimmed, "0101" keeps its zero (a code, not a number)."""
    if src_type in INTEGER_TYPES:
        return f"CAST({col_sql} AS VARCHAR)"
    if src_type.startswith(FLOAT_TYPES):
        return (f"coalesce(CASE WHEN {col_sql} = trunc({col_sql}) THEN CAST(TRY_CAST({col_sql} AS BIGINT) AS VARCHAR) END, "
                f"CAST({col_sql} AS VARCHAR))")
    s = f"trim(CAST({col_sql} AS VARCHAR))"
    # the regular expression only where there is a point (most codes have none: a cheap test first)
    return (f"NULLIF(CASE WHEN contains({s}, '.') AND regexp_full_match({s}, '{SAS_WHOLE}') "
            f"THEN regexp_replace({s}, '[.]0*$', '') ELSE {s} END, '')")


def recode_sql(col_sql: str, values: dict) -> str:
    """Recode the values of a column (``[tables.X.values.COLUMN]`` of the column mapping). The value
    is compared as a code: a SAS number 111.0 matches the key "111"."""
    if not values:
        return col_sql
    text = code_text_sql(col_sql)
    whens = " ".join(f"WHEN '{str(k).replace(chr(39), '')}' THEN '{str(v).replace(chr(39), '')}'" for k, v in values.items())
    return f"(CASE {text} {whens} ELSE CAST({col_sql} AS VARCHAR) END)"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
