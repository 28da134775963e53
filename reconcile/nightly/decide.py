"""The night's decisions over staged tables: its parameters, the ledger truth (sql/nightly/
truth), every check (sql/nightly/checks) and the verdicts (sql/nightly/findings.sql).

Run once over the whole drop by reconcile.nightly.engine, or once per shard by the Spark
engine (reconcile.spark): the same statements either way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

import duckdb

from reconcile.checks import DATABASE_SNAPSHOT, FLAGS, Check, load_checks
from reconcile.config import PROFILES, Settings
from reconcile.errors import ConfigError
from reconcile.nightly import feeds
from reconcile.nightly.content import content_patterns
from reconcile.nightly.inputs import InputFile, drop_relation
from reconcile.nightly.staging import create_macros
from reconcile.result import SkippedCheck, UnplacedMoney
from reconcile.schema import COMPONENT_COLUMNS, VERDICTS
from reconcile.sqlfiles import (
    SqlFile,
    quote_literal,
    read_sql,
    relations,
    sql_files,
    truth_steps,
)


def prepare_session(con: duckdb.DuckDBPyConnection, timezone: str) -> None:
    """The run's time zone and the parsers and readers every stage uses."""
    # DuckDB's own progress bar writes to stdout: never under cron, never into our output.
    con.execute("SET enable_progress_bar = false")
    _set_timezone(con, timezone)
    create_macros(con)


def _set_timezone(con: duckdb.DuckDBPyConnection, timezone: str) -> None:
    """Local time for naive timestamps and for printing; an unknown zone is exit 2."""
    try:
        con.execute(f"SET TimeZone = {quote_literal(timezone)}")
    except duckdb.Error as error:
        raise ConfigError(f"timezone {timezone!r} is not a known IANA time zone") from error


# Read after the checks by Python rather than by a shipped SQL file: the writer (findings,
# input_issues, the batch's rows), the run's counts and the history's record.
READ_BY_THE_WRITES = ("findings", "input_issues", "send_batch")


@cache
def truth_only_relations() -> tuple[str, ...]:
    """What the truth steps read or make that nothing after them reads, by every file's
    `-- reads:` line: dropped before the checks so that the checks, findings and writes have
    the memory (a staged CSV installments table alone holds ~8 rows per message)."""
    truth = sql_files("nightly/truth")
    used = relations(name for file in truth for name in file.reads or ())
    made = {name for file in truth for name in _CREATES.findall(file.text)}
    still_read = relations([*(name for check in load_checks().values() for name in check.reads),
                            *(name for path in READ_AFTER
                              for name in SqlFile(path, read_sql(path)).reads or ())])
    return tuple(sorted((used | made) - still_read - set(READ_BY_THE_WRITES)))


# The shipped SQL run after the checks, on the same connection.
READ_AFTER = ("nightly/narrow_context.sql", "nightly/findings.sql",
              "history/record_findings.sql")
_CREATES = re.compile(r"^CREATE OR REPLACE (?:TABLE|VIEW) (\w+)", re.MULTILINE)


@dataclass(frozen=True)
class NightFacts:
    """What the night's feeds as a whole showed (reconcile.nightly.feeds)."""

    unattributed: dict[str, int]
    money: UnplacedMoney
    warnings: tuple[str, ...]


def reconcile_night(con: duckdb.DuckDBPyConnection, settings: Settings, as_of: str,
                    skipped: Mapping[str, SkippedCheck]) -> NightFacts:
    """The whole night over one connection holding every staged table: truth, what the
    feeds as a whole show (the `fail` policy may stop here, exit 4), checks, verdicts."""
    prepare_truth(con, settings, as_of)
    unattributed = feeds.unattributed_rows(con)
    money = feeds.unplaced_money(con)
    feeds.stop_if_policy_fails(money, settings)
    feed_flags = decide(con, skipped)
    return NightFacts(unattributed, money, feeds.warnings(unattributed, money, feed_flags))


def prepare_truth(con: duckdb.DuckDBPyConnection, settings: Settings, as_of: str) -> None:
    """run_params, contact_params and the ledger truth (sql/nightly/truth), in order."""
    # From here to the verdicts every table is keyed (by loan, by message) and read through
    # joins, so DuckDB need not keep rows in the order they were made: kept, that order
    # held memory that could not spill, and 30M messages ran out of it in loan_day_truth.
    # decide() turns it back on for findings, which the writer relies on being in file order.
    con.execute("SET preserve_insertion_order = false")
    create_params(con, settings, as_of)
    create_contact_params(con, settings)
    for name, sql in truth_steps():
        if name == BUCKETED_STEP:
            _in_loan_buckets(con, sql)
        else:
            con.execute(sql)


# The truth step run in loan buckets when the drop is large for memory_limit; its rows per
# bucket are at most memory_limit / this many bytes. The hash tables that do not spill took
# about 100 bytes per (loan, send date): 9M fit in a 1 GB limit, 27M did not fit in 3 GB.
BUCKETED_STEP = "04_loan_day_truth.sql"
_BYTES_PER_LOAN_DAY = 256
# The verdicts are decided in parts of consecutive messages when the batch is large for
# memory_limit; a part holds at most memory_limit / this many bytes of messages. Their two
# sorts (hits by message, rows by file position) took about 1.5 KB per message: 1M messages
# peaked at 1.95 GiB with 0.4 GiB of it held by the tables they read.
_BYTES_PER_MESSAGE = 2048
_ROW_GROUP_ROWS = 122_880  # DuckDB's row group size
_UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


def _in_parts(con: duckdb.DuckDBPyConnection, sql: str,
              parts: list[dict[str, int]]) -> None:
    """Run a `CREATE OR REPLACE TABLE t AS query` step once per part, with that part's
    variables set (the first run creates t, the others append to it, in order)."""
    head, query = sql.split(" AS\n", 1)
    table = head.split()[-1]
    for number, variables in enumerate(parts):
        for name, value in variables.items():
            con.execute(f"SET VARIABLE {name} = {value}")
        con.execute(sql if number == 0 else f"INSERT INTO {table} {query}")
    for name in parts[0] if parts else ():
        con.execute(f"RESET VARIABLE {name}")


def _in_loan_buckets(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """A truth step over every loan, one loan bucket at a time (loan_buckets)."""
    buckets = loan_buckets(con)
    _in_parts(con, sql, [{"loan_buckets": buckets, "loan_bucket": bucket}
                         for bucket in range(buckets)])


def loan_buckets(con: duckdb.DuckDBPyConnection) -> int:
    """How many loan buckets keep each bucket's (loan, send date) rows within memory_limit
    (1 when the limit is not a size)."""
    (messages,) = con.execute(
        "SELECT count(*) FROM message_inputs WHERE truth_known").fetchone() or (0,)
    return _parts_within_memory(con, int(messages), _BYTES_PER_LOAN_DAY)


def message_parts(con: duckdb.DuckDBPyConnection) -> list[dict[str, int]]:
    """The ranges of source_row (first_source_row..last_source_row) whose verdicts are
    decided together: as many as keep each part's messages within memory_limit, one when
    the limit is not a size. The parts are consecutive, so findings stays in file order."""
    (first, last) = con.execute(
        "SELECT coalesce(min(source_row), 1), coalesce(max(source_row), 0) FROM send_batch"
    ).fetchone() or (1, 0)
    first, rows = int(first), max(int(last) - int(first) + 1, 0)
    per_part = -(-rows // _parts_within_memory(con, rows, _BYTES_PER_MESSAGE))
    # Whole row groups per part, so the table (and the findings.parquet written from it)
    # is laid out as one statement would have made it.
    per_part = max(1, -(-per_part // _ROW_GROUP_ROWS)) * _ROW_GROUP_ROWS
    end = first + rows  # an empty batch is one empty part
    return [{"first_source_row": start, "last_source_row": min(start + per_part, end) - 1}
            for start in range(first, max(end, first + 1), per_part)]


def _parts_within_memory(con: duckdb.DuckDBPyConnection, rows: int, bytes_per_row: int) -> int:
    """How many parts keep rows × bytes_per_row of each within memory_limit (1 when the
    limit is not a size)."""
    (limit,) = con.execute("SELECT current_setting('memory_limit')").fetchone() or ("",)
    number, _, unit = str(limit).partition(" ")
    try:
        limit_bytes = float(number) * _UNITS[unit]
    except (ValueError, KeyError):
        return 1
    per_part = max(1, int(limit_bytes // bytes_per_row))
    return max(1, -(-rows // per_part))


def decide(con: duckdb.DuckDBPyConnection,
           skipped: Mapping[str, SkippedCheck]) -> dict[str, tuple[int, str]]:
    """Every check not skipped, then findings (one row per send_batch row, its verdict);
    returns feeds.feed_flag_details of the hits."""
    for relation in truth_only_relations():
        drop_relation(con, relation)
    run_checks(con, skipped)
    feed_flags = feeds.feed_flag_details(con)
    con.execute(read_sql("nightly/narrow_context.sql"))
    con.execute("SET preserve_insertion_order = true")
    _in_parts(con, read_sql("nightly/findings.sql"), message_parts(con))
    drop_relation(con, "flag_hits")  # in findings now; the writes get its memory
    return feed_flags


def skipped_checks(inputs: dict[str, InputFile],
                   settings: Settings) -> dict[str, SkippedCheck]:
    """Flags this run cannot or need not evaluate, each with why, from each check's header:
    disabled_checks, no setting of its `off unless` on, or an input it needs absent."""
    from_database = any(source.snapshot_at for source in inputs.values())
    skipped = {check.flag: _why_skipped(check, inputs, settings, from_database)
               for check in load_checks().values()}
    return {flag: why for flag, why in skipped.items() if why is not None}


def _why_skipped(check: Check, inputs: dict[str, InputFile], settings: Settings,
                 from_database: bool) -> SkippedCheck | None:
    absent = [need for need in check.needs if not _input_present(inputs, need)]
    return (switched_off(check, settings, from_database)
            or (SkippedCheck(_absent(absent[0]), turned_off=False) if absent else None))


def switched_off(check: Check, settings: Settings, from_database: bool) -> SkippedCheck | None:
    """Whether the settings turn the check off (the one off-switch): disabled_checks, or
    none of the settings its header's `off unless` names is on."""
    if check.flag in settings.disabled_checks:
        return SkippedCheck("disabled_checks", turned_off=True)
    if check.off_unless and not any(_is_on(name, settings, from_database)
                                    for name in check.off_unless):
        return SkippedCheck(_setting_is(check.off_unless[0], settings), turned_off=True)
    return None


def _input_present(inputs: dict[str, InputFile], need: str) -> bool:
    table, _, column = need.partition(".")
    return inputs[table].present and (not column or column in inputs[table].columns)


def _absent(need: str) -> str:
    table, _, column = need.partition(".")
    return f"{table} has no {column} column" if column else f"no {table} input"


def _is_on(name: str, settings: Settings, from_database: bool) -> bool:
    return from_database if name == DATABASE_SNAPSHOT else bool(getattr(settings, name))


def _setting_is(name: str, settings: Settings) -> str:
    """'require_opt_out is false (profile cn)': a setting's value as the TOML file says it,
    with the profile that brought it when profiles set it."""
    value = getattr(settings, name)
    shown = str(value).lower() if isinstance(value, bool) else str(value)
    from_profile = f" (profile {settings.profile})" if name in PROFILES[settings.profile] else ""
    return f"{name} is {shown}{from_profile}"


def partial_checks(inputs: dict[str, InputFile],
                   skipped: dict[str, SkippedCheck]) -> dict[str, str]:
    """Flags evaluated with part of their optional inputs absent, each with what that means,
    for summary.json: a drop without amount components has no component to agree with."""
    columns = {name for table in ("installments", "payments")
               for name in inputs[table].columns}
    if "CONTENT_MISMATCH" in skipped or columns & set(COMPONENT_COLUMNS):
        return {}
    return {"CONTENT_MISMATCH": (
        "installments and payments give no amount components "
        f"({', '.join(COMPONENT_COLUMNS)}): a text stating one is compared with 0.00")}


def create_params(con: duckdb.DuckDBPyConnection, settings: Settings, as_of: str) -> None:
    """run_params (one row) and verdict_policy: the settings, as tables the SQL can join."""
    max_age_us = int(settings.max_rule_age_hours * Decimal(3_600_000_000))
    max_feed_lag_us = int(settings.max_feed_lag_hours * Decimal(3_600_000_000))
    con.execute(
        "CREATE OR REPLACE TABLE run_params AS SELECT "
        "CAST(? AS TIMESTAMPTZ) AS as_of, CAST(? AS VARCHAR) AS timezone, "
        "CAST(? AS INTEGER) AS grace_days, CAST(? AS DECIMAL(18, 2)) AS min_overdue_amount, "
        "CAST(? AS DECIMAL(18, 2)) AS amount_tolerance, CAST(? AS BIGINT) AS dpd_tolerance, "
        "CAST(? AS VARCHAR) AS max_rule_age_hours, CAST(? AS BIGINT) AS max_rule_age_us, "
        "CAST(? AS VARCHAR) AS max_feed_lag_hours, CAST(? AS BIGINT) AS max_feed_lag_us, "
        "CAST(? AS DECIMAL(10, 6)) AS max_feed_shrink, "
        "CAST(? AS VARCHAR) AS unplaced_payment_policy, "
        "CAST(? AS BIGINT) AS max_unplaced_payments, "
        "CAST(? AS VARCHAR) AS max_replica_lag_seconds, "
        # Set by the engine from a database snapshot (SNAPSHOT_VARIABLES); else NULL.
        "CAST(getvariable('snapshot_at') AS VARCHAR) AS snapshot_at, "
        "CAST(getvariable('replication_lag_seconds') AS DOUBLE) AS replication_lag_seconds",
        [as_of, settings.timezone, settings.grace_days, str(settings.min_overdue_amount),
         str(settings.amount_tolerance), settings.dpd_tolerance,
         str(settings.max_rule_age_hours), max_age_us,
         str(settings.max_feed_lag_hours), max_feed_lag_us, str(settings.max_feed_shrink),
         settings.unplaced_payment_policy, settings.max_unplaced_payments,
         str(settings.max_replica_lag_seconds)],
    )
    con.execute(
        "CREATE OR REPLACE TABLE verdict_policy (flag VARCHAR, flag_order INTEGER, "
        "verdict VARCHAR, verdict_rank INTEGER)"
    )
    con.executemany(
        "INSERT INTO verdict_policy VALUES (?, ?, ?, ?)",
        [[flag, order, settings.verdicts[flag], VERDICTS.index(settings.verdicts[flag])]
         for order, flag in enumerate(FLAGS)],
    )


def create_contact_params(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """contact_params (one row) and the term-list pattern macros of the content checks."""
    start, end = settings.allowed_minutes
    con.execute(
        "CREATE OR REPLACE TABLE contact_params AS SELECT "
        "CAST(? AS VARCHAR) AS profile, CAST(? AS VARCHAR) AS allowed_hours_start, "
        "CAST(? AS VARCHAR) AS allowed_hours_end, CAST(? AS INTEGER) AS allowed_start_minute, "
        "CAST(? AS INTEGER) AS allowed_end_minute, CAST(? AS BIGINT) AS max_messages_per_day, "
        "CAST(? AS BIGINT) AS max_messages_per_7_days, CAST(? AS VARCHAR) AS frequency_scope, "
        "CAST(? AS BOOLEAN) AS require_opt_out, CAST(? AS VARCHAR) AS phone_country_code, "
        "CAST(? AS VARCHAR[]) AS restricting_contact_flags",
        [settings.profile, settings.allowed_hours_start, settings.allowed_hours_end, start, end,
         settings.max_messages_per_day, settings.max_messages_per_7_days,
         settings.frequency_scope, settings.require_opt_out, settings.phone_country_code,
         list(settings.restricting_contact_flags)],
    )
    patterns = content_patterns(settings.prohibited_terms, settings.prohibited_term_exceptions,
                                settings.opt_out_phrases)
    for name, pattern in patterns.items():
        # A constant macro, so DuckDB compiles each regular expression once per run.
        con.execute(f"CREATE OR REPLACE MACRO {name}() AS {quote_literal(pattern)}")


def run_checks(con: duckdb.DuckDBPyConnection, skipped: Mapping[str, SkippedCheck]) -> None:
    """flag_hits: every check's hits, in one statement so DuckDB can run them together."""
    union = " UNION ALL ".join(
        f"SELECT {quote_literal(check.flag)} AS flag, source_row, detail FROM ({check.sql})"
        for check in load_checks().values()
        if check.flag not in skipped
    )
    con.execute(f"CREATE OR REPLACE TABLE flag_hits AS {union}")


