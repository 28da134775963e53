"""The `reconcile` command line: parse options, call the library, map errors to exit codes.

The synthetic-data tools (the generator, the oracle, verify) are imported inside the
commands that use them, and their options' constants come from reconcile.synth.options,
which imports nothing: a nightly `reconcile run` never loads the test-data code.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from reconcile.cli import console
from reconcile.cli.common import error_handler, option_name
from reconcile.cli.history import history_group
from reconcile.cli.query import query
from reconcile.cli.report import report
from reconcile.cli.trace import complaints, trace
from reconcile.config import DATABASE, PROFILES, SOURCES_TABLE, load_settings, with_overrides
from reconcile.errors import EXIT_BLOCK_RATE, EXIT_DISAGREE, EXIT_HOLD_RATE, EXIT_NOTHING_TO_SEND
from reconcile.nightly.engine import run
from reconcile.nightly.policy import ExitPolicy
from reconcile.spark.options import SparkOptions
from reconcile.synth.options import (
    DEFAULT_AS_OF,
    DEFAULT_CHUNK_LOANS,
    DEFAULT_SHOWN,
    FILE_FORMATS,
    TIMESTAMP_STYLES,
)
from reconcile.version import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconcile")
def main() -> None:
    """Stop false-positive collection messages before they are dispatched."""


main.add_command(query)
main.add_command(report)
main.add_command(trace)
main.add_command(complaints)
main.add_command(history_group)


class _RunCommand(click.Command):
    """`reconcile run`: under --log-format json even an unusable option (click's usage
    error, exit 2) is reported as a JSON `error` event."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        json_logs = _asks_for_json_logs(args)  # before parsing, which consumes args
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.ClickException as error:
            if not json_logs:
                raise
            console.RunLog("json").error(error.format_message(), error.exit_code)
            sys.exit(error.exit_code)


def _asks_for_json_logs(args: Sequence[str]) -> bool:
    return "--log-format=json" in args or ("--log-format", "json") in itertools.pairwise(args)


@main.command("run", cls=_RunCommand)
@click.argument("data_dir", type=click.Path(), required=False)
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Folder for the outputs; replaced as a whole when the run succeeds.")
@click.option("--as-of", "as_of", metavar="TS",
              help="The instant T the ledger is judged at (ISO 8601; naive = local). "
                   "Default: now.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), metavar="FILE",
              help="TOML settings: timezone, grace_days, tolerances, [verdicts] policy.")
@click.option("--db", "history_db", type=click.Path(path_type=Path), metavar="FILE",
              help="Append the run to this DuckDB history (created if new); a drop "
                   "already recorded the same way is not recorded twice.")
@click.option("--force", is_flag=True, help="With --db: record the run even if it repeats one.")
@click.option("--wait-lock", type=click.FloatRange(min=0), default=0, metavar="SECONDS",
              help="When another run holds the output folder or the history, wait up to "
                   "this long for it before exiting 75 (default 0: exit at once).")
@click.option("--max-feed-lag-hours", metavar="H",
              help="Hold every message (STALE_FEED) when the newest payment posted is "
                   "older than H hours before T (default 48; 0 = off).")
@click.option("--profile", type=click.Choice(list(PROFILES)),
              help="Contact-policy profile (quiet hours, frequency caps, opt-out); "
                   "default cn, or the config file's.")
@click.option("--fail-on-block-rate", type=click.FloatRange(0, 1), metavar="R",
              help=f"Exit {EXIT_BLOCK_RATE} when more than this share of messages is "
                   "blocked (outputs are still written).")
@click.option("--fail-on-hold-rate", type=click.FloatRange(0, 1), metavar="R",
              help=f"Exit {EXIT_HOLD_RATE} when more than this share of messages is "
                   "held (outputs are still written).")
@click.option("--fail-on-empty-send", is_flag=True,
              help=f"Exit {EXIT_NOTHING_TO_SEND} when not one message may be sent "
                   "(outputs are still written; without it such a night exits 0 with a "
                   "warning).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
              help="Logs on stderr. json: every line one JSON event (start, stage, "
                   "warning, finished, error). text: warnings and errors as lines, a stage "
                   "progress bar on a terminal only.")
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb",
              show_default=True,
              help="Where the night is decided: this process, or Apache Spark (needs "
                   "reconcile[spark]; DATA_DIR may then be any URI Spark reads).")
@click.option("--spark-master", metavar="URL",
              help="With --engine spark: local[N], yarn, k8s://... (default: spark-submit's, "
                   "else local[*]).")
@click.option("--shards", type=click.IntRange(min=1), metavar="N",
              help="With --engine spark: shards of messages, one DuckDB task each "
                   "(default: twice Spark's parallelism).")
@click.option("--source", "source_url", metavar="URL",
              help="A PostgreSQL or MySQL database (postgresql://…, mysql://…; no password: "
                   "PGPASSWORD, ~/.pgpass, ?service=, MYSQL_PWD) to read tables from, all "
                   "in one snapshot: those --table or [sources] map, or without DATA_DIR "
                   "every table.")
@click.option("--table", "tables", multiple=True, metavar="NAME=WHERE",
              help="Read table NAME from WHERE instead of DATA_DIR: with --source a table, "
                   "view or SELECT of that database; with --engine spark a catalog table, "
                   "e.g. installments=dw.installments (repeatable).")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on success.")
@click.option("--debug", is_flag=True, help="Show a traceback on failure.")
def run_command(data_dir: str | None, out_dir: Path, as_of: str | None,
                config_path: Path | None, history_db: Path | None, force: bool, wait_lock: float,
                max_feed_lag_hours: str | None, profile: str | None,
                fail_on_block_rate: float | None, fail_on_hold_rate: float | None,
                fail_on_empty_send: bool, engine: str, spark_master: str | None,
                shards: int | None, source_url: str | None, tables: tuple[str, ...],
                log_format: str, quiet: bool, debug: bool) -> None:
    """Reconcile the nightly drop in DATA_DIR (or read from --source) into send / hold /
    block / rejected.

    Exit status: 0 the run completed (whatever it flagged; a night with nothing to
    send is a warning), 2 unusable input or options, 1 any other failure; 3 block rate
    above --fail-on-block-rate; 4 money that cannot be placed under
    unplaced_payment_policy "fail"; 5 hold rate above --fail-on-hold-rate; 6 nothing
    to send under --fail-on-empty-send (of 6, 3 and 5 the first that applies); 75 the
    output folder or the history is in use by another run; 130 interrupted.
    """
    log = console.RunLog(log_format, data_dir=data_dir, out_dir=out_dir, as_of=as_of)
    policy = ExitPolicy(fail_on_block_rate, fail_on_hold_rate, fail_on_empty_send)
    mapping = _table_mapping(tables)
    spark = _spark_options(engine, spark_master, shards, mapping)
    with error_handler(debug, log):
        settings = load_settings(config_path, profile)
        log.timezone = settings.timezone
        if max_feed_lag_hours is not None:
            settings = with_overrides(settings, {"max_feed_lag_hours": max_feed_lag_hours},
                                      "--max-feed-lag-hours")
        # Under Spark, --table's tables are catalog tables (SparkOptions), not sources.
        given = {**({} if spark else mapping), **({DATABASE: source_url} if source_url else {})}
        if given:
            settings = with_overrides(settings, {SOURCES_TABLE: {**settings.sources, **given}},
                                      "--source" if source_url else "--table")
        result = run(data_dir, out_dir, settings=settings, as_of=as_of, history_db=history_db,
                     force=force, wait_lock=wait_lock, on_stage=log.stage_listener(),
                     on_start=log.start, spark=spark)
        log.warnings(result)
        if not quiet:
            console.show_run(result)
        log.finished(result)
        breach = policy.breach(result)
    if breach:
        log.error(breach.shown_as(option_name(breach.parameter)), breach.exit_code)
        sys.exit(breach.exit_code)


def _spark_options(engine: str, master: str | None, shards: int | None,
                   tables: dict[str, str]) -> SparkOptions | None:
    """The Spark engine's options (--table's tables are catalog tables); the Spark-only
    options without --engine spark are a usage error (exit 2)."""
    given = [name for name, value in (("--spark-master", master), ("--shards", shards))
             if value]
    if engine != "spark":
        if given:
            raise click.UsageError(f"{given[0]} needs --engine spark")
        return None
    return SparkOptions(master, shards, tables)


def _table_mapping(tables: tuple[str, ...]) -> dict[str, str]:
    """--table NAME=WHERE options as {NAME: WHERE}; anything else is a usage error."""
    mapping: dict[str, str] = {}
    for item in tables:
        name, _, source = item.partition("=")
        if not name.strip() or not source.strip():
            raise click.BadParameter(f"{item!r} is not NAME=WHERE", param_hint="'--table'")
        mapping[name.strip()] = source.strip()
    return mapping


def _rates_epilog() -> str:
    from reconcile.synth.generator import RATE_HELP, Rates

    defaults = Rates()
    width = max(len(name) for name in RATE_HELP)
    lines = ["\b", "Failure modes for --rate NAME=R (share of cases, default):"]
    lines += [f"{name:<{width}}  {getattr(defaults, name):<5g}  {text}"
              for name, text in RATE_HELP.items()]
    return "\n".join(lines)


class _GenerateCommand(click.Command):
    """`reconcile generate`: its epilog, the failure modes with their default rates, is
    written when the help is shown, which is when the generator is imported for it."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if self.epilog is None:
            self.epilog = _rates_epilog()
        super().format_epilog(ctx, formatter)


@main.command("generate", cls=_GenerateCommand)
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--messages", "-n", type=click.IntRange(min=1), required=True, metavar="N",
              help="Messages in send_batch.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="The same seed and options give byte-identical files.")
@click.option("--format", "file_format", type=click.Choice(FILE_FORMATS), default="csv",
              show_default=True, help="Table files: NAME.csv, or typed NAME.parquet.")
@click.option("--timestamps", "timestamp_style", type=click.Choice(TIMESTAMP_STYLES),
              default="offset", show_default=True,
              help="+08:00 offsets, UTC Z, naive local, or a mix of ISO 8601 shapes.")
@click.option("--as-of", "as_of", metavar="TS",
              help=f"The as-of instant T the drop is built around [{DEFAULT_AS_OF}].")
@click.option("--rate", "rate_items", multiple=True, metavar="NAME=R",
              help="Set one failure mode's rate (repeatable); all=R sets every rate first.")
@click.option("--no-labels", is_flag=True, help="Skip labels.csv (faster).")
@click.option("--chunk-loans", type=click.IntRange(min=1), default=DEFAULT_CHUNK_LOANS,
              show_default=True, metavar="N",
              help="Loans generated and written at a time (bounds memory).")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on success.")
@click.option("--debug", is_flag=True, help="Show a traceback on failure.")
def generate_command(out_dir: Path, messages: int, seed: int, file_format: str,
                     timestamp_style: str, as_of: str | None, rate_items: tuple[str, ...],
                     no_labels: bool, chunk_loans: int, quiet: bool, debug: bool) -> None:
    """Write a synthetic nightly drop of N messages into OUT_DIR, with labels.csv (the
    expected verdict and flags of every message, from the reference implementation) and
    drop.json (seed, as-of, counts, rates).

    Exit status: 0 written, 2 unusable options, 1 any other failure.
    """
    from reconcile.synth.generator import generate, parse_rates

    with error_handler(debug):
        rates = parse_rates(rate_items)
        with console.generation_progress(messages) as progress:
            result = generate(out_dir, messages, seed, file_format, rates, timestamp_style,
                              as_of, chunk_loans, labels=not no_labels, progress=progress)
        if not quiet:
            console.show_generate(result)


@main.command("verify")
@click.argument("run_out_dir", type=click.Path(path_type=Path))
@click.option("--labels", "labels_csv", type=click.Path(path_type=Path), metavar="FILE",
              help="The drop's labels.csv. Default: labels.csv in the drop the run read "
                   "(from RUN_OUT_DIR/summary.json).")
@click.option("--show", type=click.IntRange(min=0), default=DEFAULT_SHOWN, show_default=True,
              metavar="N", help="Disagreements to print.")
@click.option("--debug", is_flag=True, help="Show a traceback on failure.")
def verify_command(run_out_dir: Path, labels_csv: Path | None, show: int, debug: bool) -> None:
    """Compare a run's RUN_OUT_DIR/findings.csv with a generated drop's labels.csv: per-flag
    precision and recall, and every message on which they disagree.

    Exit status: 0 every message agrees, 3 some disagree, 2 unusable input, 1 any
    other failure.
    """
    from reconcile.synth.verify import default_labels, verify

    with error_handler(debug):
        labels_path = labels_csv or default_labels(run_out_dir)
        result = verify(labels_path, Path(run_out_dir) / "findings.csv", show=show)
        console.show_verify(result)
    if not result.ok:
        sys.exit(EXIT_DISAGREE)
