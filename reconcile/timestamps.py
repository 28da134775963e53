"""How reconcile writes an instant: ISO 8601 with a `T` and the offset the run's time zone
had then, e.g. `2026-11-23T01:00:00+08:00`, `2026-11-22T22:45:00.5+05:45`.

DuckDB prints a TIMESTAMPTZ in the session time zone as `2026-11-23 01:00:00.5+08`: a space
for the `T`, and an offset of whole hours without its minutes. Fractional seconds are kept
as DuckDB prints them (trailing zeros dropped). An offset with seconds (local mean time
before a zone's standard time) is written as Python's isoformat writes it (`+08:05:43`); a
year BC and `infinity` are left as DuckDB prints them: ISO 8601 has no spelling for them.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

_DUCKDB_TEXT = re.compile(
    r"^(\d{4,}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?[+-]\d{2})((?::\d{2}){1,2})?$")


def iso_text(duckdb_text: str) -> str:
    """DuckDB's text of a TIMESTAMPTZ (`2026-11-23 01:00:00+08`) as ISO 8601
    (`2026-11-23T01:00:00+08:00`); any other text is returned as it is."""
    match = _DUCKDB_TEXT.match(duckdb_text)
    if match is None:
        return duckdb_text
    return f"{match.group(1)}T{match.group(2)}{match.group(3) or ':00'}"


def iso_sql(expression: str) -> str:
    """SQL printing a TIMESTAMPTZ expression as iso_text does (in the session time zone)."""
    return ("regexp_replace(regexp_replace(CAST(" + expression + " AS VARCHAR), "
            r"'^([0-9]{4,}-[0-9]{2}-[0-9]{2}) ([0-9]{2}:)', '\1T\2'), "
            r"'^([^ ]+T[0-9:.]+[+-][0-9]{2})$', '\1:00')")


def iso_offset(duckdb_offset: str) -> str:
    """An offset as DuckDB prints it (`+08`, `+05:45`) as ISO 8601 writes it (`+08:00`)."""
    return duckdb_offset + ":00" if re.fullmatch(r"[+-]\d{2}", duckdb_offset) else duckdb_offset


def local_isoformat(instant: dt.datetime, timezone: str, timespec: str = "seconds") -> str:
    """An aware datetime as ISO 8601 in `timezone` (e.g. `2026-11-23T02:00:00+08:00`); in UTC
    (`+00:00`) if Python does not know that zone."""
    try:
        zone: dt.tzinfo = zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = dt.UTC
    return instant.astimezone(zone).isoformat(timespec=timespec)
