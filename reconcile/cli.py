"""The `reconcile` command line: parse options, call the library, map errors to exit codes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from reconcile import __version__, console
from reconcile.cli_query import query
from reconcile.cli_report import report
from reconcile.config import load_settings, with_overrides
from reconcile.engine import run
from reconcile.errors import EXIT_FAILURE, ReconcileError

# 128 + SIGINT, as shells report an interrupted command.
EXIT_INTERRUPTED = 130
# A stricter policy a scheduler asked for: too many messages blocked (a misfiring rule).
EXIT_BLOCK_RATE = 3


@contextmanager
def error_handler(debug: bool) -> Iterator[None]:
    """Turn any failure into one line on stderr and the contract's exit code."""
    try:
        yield
    except ReconcileError as error:
        if debug:
            raise
        console.show_error(str(error))
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        console.show_error("interrupted; no output was written")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as error:
        if debug:
            raise
        console.show_error(
            f"unexpected {type(error).__name__}: {error} (run again with --debug for a traceback)"
        )
        sys.exit(EXIT_FAILURE)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconcile")
def main() -> None:
    """Stop false-positive collection messages before they are dispatched."""


main.add_command(query)
main.add_command(report)


@main.command("run")
@click.argument("data_dir", type=click.Path(path_type=Path))
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
@click.option("--max-feed-lag-hours", metavar="H",
              help="Hold every message (STALE_FEED) when the newest payment posted is "
                   "older than H hours before T.")
@click.option("--fail-on-block-rate", type=click.FloatRange(0, 1), metavar="R",
              help=f"Exit {EXIT_BLOCK_RATE} when more than this share of messages is "
                   "blocked (outputs are still written).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
              help="Stage logs on stderr: text on a terminal only, json always.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on success.")
@click.option("--debug", is_flag=True, help="Show a traceback on failure.")
def run_command(data_dir: Path, out_dir: Path, as_of: str | None, config_path: Path | None,
                history_db: Path | None, force: bool, max_feed_lag_hours: str | None,
                fail_on_block_rate: float | None, log_format: str, quiet: bool,
                debug: bool) -> None:
    """Reconcile the nightly drop in DATA_DIR into send / hold / block / rejected.

    Exit status: 0 the run completed (whatever it flagged), 2 unusable input or
    options, 1 any other failure; 3 block rate above --fail-on-block-rate; 75 the
    history is in use by another run.
    """
    with error_handler(debug):
        settings = load_settings(config_path)
        if max_feed_lag_hours is not None:
            settings = with_overrides(settings, {"max_feed_lag_hours": max_feed_lag_hours},
                                      "--max-feed-lag-hours")
        result = run(data_dir, out_dir, settings=settings, as_of=as_of, history_db=history_db,
                     force=force, on_stage=console.stage_logger(log_format))
        if not quiet:
            console.show_run(result)
        console.log_finished(result, log_format)
    if fail_on_block_rate is not None and result.block_rate > fail_on_block_rate:
        console.show_error(
            f"block rate {result.block_rate:.1%} is above --fail-on-block-rate "
            f"{fail_on_block_rate:.1%} (outputs were written)"
        )
        sys.exit(EXIT_BLOCK_RATE)
