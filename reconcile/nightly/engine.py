"""`run()`: one nightly drop in, findings and the send / hold / block / rejected split out.

Data flows one way: locate and load inputs → stage typed tables → ledger truth and checks
(sql/) → verdicts (sql/nightly/findings.sql) → outputs, written all-or-nothing by `writer`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import duckdb

from reconcile.config import Settings
from reconcile.errors import ConfigError, InputError
from reconcile.faults import from_duckdb, run_step
from reconcile.history import store as history
from reconcile.nightly import feeds, writer
from reconcile.nightly.content import content_patterns
from reconcile.nightly.inputs import (
    InputFile,
    check_unchanged,
    drop_relation,
    load,
    locate,
)
from reconcile.nightly.out_dir import OutputClaim
from reconcile.nightly.out_dir import claim as claim_out_dir
from reconcile.nightly.staging import create_input_issues, create_macros, stage, stages_as_view
from reconcile.result import RunResult, UnplacedMoney
from reconcile.schema import CONTENT_FLAGS, FLAGS, OUTCOMES, TABLES, VERDICTS
from reconcile.sqlfiles import load_checks, quote_literal, read_sql, truth_steps
from reconcile.timestamps import iso_text, local_isoformat


def new_run_id(now: dt.datetime) -> str:
    """Sortable and unique: UTC start time plus random hex, e.g. 20261123T020000Z-3f9a1c."""
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


# Told each stage's name and seconds as it ends (logs, progress display).
StageListener = Callable[[str, float], None]


class Stopwatch:
    """Wall time since start, and the time each named stage took."""

    def __init__(self, on_stage: StageListener | None = None) -> None:
        self.started = dt.datetime.now(dt.UTC)
        self._start = time.perf_counter()
        self._on_stage = on_stage
        self.laps: dict[str, float] = {}

    def elapsed(self) -> float:
        return time.perf_counter() - self._start

    def lap(self, stage: str) -> None:
        self.laps[stage] = self.elapsed() - sum(self.laps.values())
        if self._on_stage:
            self._on_stage(stage, self.laps[stage])


@dataclass(frozen=True)
class RunRequest:
    """What a caller asked of one run."""

    data_dir: Path
    out_dir: Path
    settings: Settings
    as_of: str | None
    history_db: Path | None
    force: bool
    # Seconds to wait for a lock (the output folder's, the history's) another run holds.
    wait_lock: float = 0


def run(
    data_dir: str | Path,
    out_dir: str | Path,
    *,
    settings: Settings | None = None,
    as_of: str | dt.datetime | None = None,
    history_db: str | Path | None = None,
    force: bool = False,
    wait_lock: float = 0,
    on_stage: StageListener | None = None,
    on_start: Callable[[str], None] | None = None,
) -> RunResult:
    """Reconcile the drop in data_dir as of `as_of` (ISO 8601 text or a datetime; naive =
    local in the settings' timezone; default now) into out_dir.

    With history_db the run is also appended to that history file, unless the same drop was
    already reconciled the same way (then `force` records it again). A lock another run
    holds is waited for up to `wait_lock` seconds. `on_start` is told the run's id once,
    as soon as it is made (before any lock is taken); `on_stage` each stage as it ends.
    """
    as_of_text = as_of.isoformat() if isinstance(as_of, dt.datetime) else as_of
    request = RunRequest(Path(data_dir), Path(out_dir), settings or Settings(), as_of_text,
                         Path(history_db) if history_db else None, force, wait_lock)
    paths = locate(request.data_dir)
    watch = Stopwatch(on_stage)
    run_id = new_run_id(watch.started)
    if on_start:
        on_start(run_id)
    lock = (history.locked(request.history_db, run_id, request.wait_lock)
            if request.history_db else contextlib.nullcontext())
    # The output folder's lock first, then the history's; the claim's working folders
    # (the spill folder included, unless temp_directory names one) go when it ends.
    with claim_out_dir(request.out_dir, run_id, request.wait_lock) as output, lock:
        spill_dir = Path(request.settings.temp_directory or output.spill_folder())
        con = _connect(request.settings, spill_dir)
        try:
            return _run(con, request, paths, run_id, watch, output)
        except duckdb.Error as error:  # an unreadable input (exit 2) or a machine fault (1)
            raise from_duckdb(error, run_step(watch.laps), con=con,
                              inputs=paths.values()) from error
        finally:
            con.close()


def _run(con: duckdb.DuckDBPyConnection, request: RunRequest, paths: dict[str, Path | None],
         run_id: str, watch: Stopwatch, output: OutputClaim) -> RunResult:
    settings = request.settings
    as_of_text = _resolve_as_of(con, request.as_of, settings.timezone, watch.started)
    if request.history_db:
        history.prepare(con, request.history_db, settings)
    inputs = _load_inputs(con, paths, settings.timezone)
    previous = (history.previous_night(con, request.history_db, as_of_text)
                if request.history_db else None)
    feeds.create_feed_volume(con, inputs, previous)
    watch.lap("inputs")
    skipped = skipped_checks(inputs, settings)
    night = _reconcile(con, settings, as_of_text, skipped)
    watch.lap("checks")
    result = RunResult(
        run_id=run_id,
        as_of=as_of_text,
        data_dir=str(request.data_dir),
        out_dir=str(request.out_dir),
        settings=settings,
        inputs=inputs,
        verdict_counts=_verdict_counts(con),
        flag_counts=_flag_counts(con),
        input_issue_counts=_input_issue_counts(con),
        unattributed_ledger_rows=sum(night.unattributed.values()),
        started_at=local_isoformat(watch.started, settings.timezone),
        duration_seconds=0.0,
        skipped_checks=skipped,
        unplaced_payments=night.money,
        previous_run=previous,
        warnings=night.warnings,
    )
    with output.staged() as folder:
        writer.write_tables(con, folder, inputs["send_batch"])
        check_unchanged(list(inputs.values()))
        watch.lap("outputs")
        result = replace(result, duration_seconds=watch.elapsed(), stage_seconds=dict(watch.laps))
        run_fingerprint, earlier_run = _history_lookup(con, request, result)
        if request.history_db:
            status = f"already recorded as {earlier_run}" if earlier_run else "recorded"
            result = replace(result, history=status)
        writer.write_summary(folder, result)
        # Recorded before OUT_DIR is replaced: if killed in between, the re-run is
        # recognised by its fingerprint and only publishes the output.
        if request.history_db and earlier_run is None:
            history.record(con, request.history_db, result, run_fingerprint,
                           dt.datetime.now(dt.UTC).isoformat())
            _apply_retention(con, request.history_db, result)
            watch.lap("history")
    return result


def _history_lookup(con: duckdb.DuckDBPyConnection, request: RunRequest,
                    result: RunResult) -> tuple[str, str | None]:
    """(this run's fingerprint, the run already recorded with it); ("", None) without a
    history. With force nothing counts as recorded."""
    if not request.history_db:
        return "", None
    run_fingerprint = history.fingerprint(result)
    earlier_run = (None if request.force
                   else history.recorded_run(con, request.history_db, run_fingerprint))
    return run_fingerprint, earlier_run


def _apply_retention(con: duckdb.DuckDBPyConnection, db_path: Path, result: RunResult) -> None:
    """With history_keep_days, prune the runs of nights that many days before this one's."""
    keep_days = result.settings.history_keep_days
    if keep_days:
        (night,) = con.execute(
            "SELECT CAST(timezone(?, CAST(? AS TIMESTAMPTZ)) AS DATE)",
            [result.settings.timezone, result.as_of]).fetchone() or (None,)
        history.prune(db_path, str(night - dt.timedelta(days=keep_days)))


def _connect(settings: Settings, spill_dir: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB session in the run's time zone and resource limits, with parsers.

    Past memory_limit DuckDB spills to spill_dir instead of failing, so a drop larger than
    memory still reconciles.
    """
    con = duckdb.connect()
    try:
        # DuckDB's own progress bar writes to stdout: never under cron, never into our output.
        con.execute("SET enable_progress_bar = false")
        _set_timezone(con, settings.timezone)
        _set_resources(con, settings, spill_dir)
        create_macros(con)
    except BaseException:
        con.close()
        raise
    return con


def _set_resources(con: duckdb.DuckDBPyConnection, settings: Settings, spill_dir: Path) -> None:
    try:
        con.execute(f"SET memory_limit = {quote_literal(settings.memory_limit)}")
        con.execute(f"SET temp_directory = {quote_literal(str(spill_dir))}")
        if settings.threads:
            con.execute(f"SET threads = {int(settings.threads)}")
    except duckdb.Error as error:
        first_line = str(error).splitlines()[0]
        raise ConfigError(f"resource setting refused by DuckDB: {first_line}") from error


# Read by the truth steps (sql/truth) and nothing after them: dropped before the checks so
# that the checks, findings and writes have the memory (a staged CSV installments table
# alone holds ~8 rows per message). A check that read one would fail on every run.
TRUTH_ONLY_TABLES = ("installments", "payments", "loans", "known_loans", "unusable_loans",
                     "loan_ledger", "loan_day_truth", "message_inputs")


@dataclass(frozen=True)
class NightFacts:
    """What the night's feeds as a whole showed (reconcile.nightly.feeds)."""

    unattributed: dict[str, int]
    money: UnplacedMoney
    warnings: tuple[str, ...]


def _reconcile(con: duckdb.DuckDBPyConnection, settings: Settings, as_of: str,
               skipped: dict[str, str]) -> NightFacts:
    """Ledger truth (sql/nightly/truth), every check (sql/nightly/checks), then verdicts
    (sql/nightly/findings.sql)."""
    _create_params(con, settings, as_of)
    _create_contact_params(con, settings)
    for _, sql in truth_steps():
        con.execute(sql)
    unattributed = feeds.unattributed_rows(con)
    money = feeds.unplaced_money(con)
    feeds.stop_if_policy_fails(money, settings)
    for table in TRUTH_ONLY_TABLES:
        drop_relation(con, table)
    _run_checks(con, skipped)
    feed_flags = feeds.feed_flag_details(con)
    con.execute(read_sql("nightly/findings.sql"))
    drop_relation(con, "flag_hits")  # in findings now; the writes get its memory
    return NightFacts(unattributed, money, feeds.warnings(unattributed, money, feed_flags))


# How a skipped check's reason starts when the settings turned it off (rather than a
# missing input leaving it out).
TURNED_OFF = "off: "


def skipped_checks(inputs: dict[str, InputFile], settings: Settings) -> dict[str, str]:
    """Flags this run cannot or need not evaluate, each with the reason summary.json gives."""
    skipped: dict[str, str] = {}
    if settings.max_feed_lag_hours == 0:
        skipped["STALE_FEED"] = f"{TURNED_OFF}max_feed_lag_hours is 0"
    if "message_text" not in inputs["send_batch"].columns:
        skipped |= dict.fromkeys(CONTENT_FLAGS, "send_batch has no message_text column")
    if not settings.require_opt_out:
        skipped["MISSING_OPT_OUT"] = (
            f"{TURNED_OFF}require_opt_out is false (profile {settings.profile})")
    for table in TABLES:
        if inputs[table.name].path is None:
            skipped |= dict.fromkeys(table.needed_by, f"no {table.name} input")
    skipped |= dict.fromkeys(settings.disabled_checks, f"{TURNED_OFF}disabled_checks")
    return {flag: skipped[flag] for flag in FLAGS if flag in skipped}


def _set_timezone(con: duckdb.DuckDBPyConnection, timezone: str) -> None:
    """Local time for naive timestamps and for printing; an unknown zone is exit 2."""
    try:
        con.execute(f"SET TimeZone = {quote_literal(timezone)}")
    except duckdb.Error as error:
        raise ConfigError(f"timezone {timezone!r} is not a known IANA time zone") from error


def _resolve_as_of(
    con: duckdb.DuckDBPyConnection, as_of: str | None, timezone: str, now: dt.datetime
) -> str:
    """T as text with its offset; parsed with the same rules as the drop's timestamps."""
    text = as_of if as_of is not None else now.isoformat()
    row = con.execute(
        "SELECT CAST(parse_timestamp($1, $2) AS VARCHAR), "
        "wall_time_fault(naive_timestamp($1), $2)", [text, timezone]
    ).fetchone()
    if row is not None and row[1] is not None:  # a naive time a clock change skipped/repeated
        raise ConfigError(f"{text!r} {row[1]}", parameter="as_of")
    if row is None or row[0] is None:
        day_start = _start_of_day(con, text)
        if day_start:
            raise ConfigError(
                f"{text!r} is a date, not an instant: write {day_start} for the start of "
                f"that day in {timezone}", parameter="as_of")
        raise ConfigError(
            f"{text!r} is not a timestamp (ISO 8601, e.g. 2026-11-23T02:00:00+08:00)",
            parameter="as_of")
    return iso_text(str(row[0]))


def _start_of_day(con: duckdb.DuckDBPyConnection, text: str) -> str | None:
    """For a date alone (`2026-11-23`): its first instant in the session's time zone, ISO
    8601 with the offset that zone had then (`2026-11-23T00:00:00+08:00`); else None."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        return None
    row = con.execute(
        "SELECT CAST(CAST(TRY_CAST($1 AS DATE) AS TIMESTAMP) AS TIMESTAMPTZ)::VARCHAR",
        [text.strip()]).fetchone()
    return iso_text(str(row[0])) if row and row[0] is not None else None


def _load_inputs(
    con: duckdb.DuckDBPyConnection, paths: dict[str, Path | None], timezone: str
) -> dict[str, InputFile]:
    inputs = {t.name: load(con, t, paths[t.name]) for t in TABLES}
    batch = inputs["send_batch"]
    if batch.rows == 0:
        raise InputError(f"{batch.file_name}: no messages (the file has a header and no rows)")
    for table in TABLES:
        stage(con, table, inputs[table.name], timezone)
    create_input_issues(con, [t for t in TABLES if t.name != "send_batch"], inputs)
    # A staged copy no longer needs its raw table (a CSV's is a full text copy); only
    # send_batch's original rows are written out again, in the split CSVs.
    for table in TABLES:
        if table.name != "send_batch" and not stages_as_view(table, inputs[table.name]):
            drop_relation(con, inputs[table.name].raw_table)
    return inputs


def _create_params(con: duckdb.DuckDBPyConnection, settings: Settings, as_of: str) -> None:
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
        "CAST(? AS BIGINT) AS max_unplaced_payments",
        [as_of, settings.timezone, settings.grace_days, str(settings.min_overdue_amount),
         str(settings.amount_tolerance), settings.dpd_tolerance,
         str(settings.max_rule_age_hours), max_age_us,
         str(settings.max_feed_lag_hours), max_feed_lag_us, str(settings.max_feed_shrink),
         settings.unplaced_payment_policy, settings.max_unplaced_payments],
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


def _create_contact_params(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
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


def _run_checks(con: duckdb.DuckDBPyConnection, skipped: dict[str, str]) -> None:
    """flag_hits: every check's hits, in one statement so DuckDB can run them together."""
    union = " UNION ALL ".join(
        f"SELECT {quote_literal(check.flag)} AS flag, source_row, detail FROM ({check.sql})"
        for check in load_checks().values()
        if check.flag not in skipped
    )
    con.execute(f"CREATE OR REPLACE TABLE flag_hits AS {union}")


def _verdict_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    counts = dict(con.execute("SELECT verdict, count(*) FROM findings GROUP BY ALL").fetchall())
    return {outcome: int(counts.get(outcome, 0)) for outcome in OUTCOMES}


def _flag_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    counts = dict(
        con.execute("SELECT flag, count(*) FROM (SELECT unnest(flags) AS flag FROM findings) "
                    "GROUP BY ALL").fetchall()
    )
    return {flag: int(counts.get(flag, 0)) for flag in FLAGS}


def _input_issue_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    counts = dict(
        con.execute("SELECT table_name, count(*) FROM input_issues GROUP BY ALL").fetchall()
    )
    return {t.name: int(counts.get(t.name, 0)) for t in TABLES if t.name != "send_batch"}
