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
from reconcile.config import PROFILES, load_settings, with_overrides
from reconcile.engine import run
from reconcile.errors import EXIT_FAILURE, ReconcileError
from reconcile.generator import (
    DEFAULT_AS_OF,
    DEFAULT_CHUNK_LOANS,
    FILE_FORMATS,
    RATE_HELP,
    TIMESTAMP_STYLES,
    Rates,
    generate,
    parse_rates,
)
from reconcile.verify import DEFAULT_SHOWN, default_labels, verify

# 128 + SIGINT, as shells report an interrupted command.
EXIT_INTERRUPTED = 130
# A stricter policy a scheduler asked for: too many messages blocked (a misfiring rule).
EXIT_BLOCK_RATE = 3
# `reconcile verify`: the run and the labels disagree on at least one message.
EXIT_DISAGREE = 3


@contextmanager
def error_handler(debug: bool) -> Iterator[None]:
    """Turn any failure into one line on stderr and the contract's exit code."""
    try:
        yield
    except ReconcileError as error:
        if debug:
            raise
        console.show_error(error.shown_as(_option_name(error.parameter)))
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


def _option_name(parameter: str | None) -> str | None:
    """The command-line spelling (`--as-of`) of the parameter an error is about, taken from
    the running command's own options; the parameter's name if no option feeds it."""
    context = click.get_current_context(silent=True)
    if parameter is None or context is None:
        return parameter
    for option in context.command.params:
        if option.name == parameter and isinstance(option, click.Option):
            return max(option.opts, key=len)
        if option.name == parameter:
            return option.human_readable_name
    return parameter


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
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
              help="Stage logs on stderr: text on a terminal only, json always.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on success.")
@click.option("--debug", is_flag=True, help="Show a traceback on failure.")
def run_command(data_dir: Path, out_dir: Path, as_of: str | None, config_path: Path | None,
                history_db: Path | None, force: bool, wait_lock: float,
                max_feed_lag_hours: str | None, profile: str | None,
                fail_on_block_rate: float | None, log_format: str, quiet: bool,
                debug: bool) -> None:
    """Reconcile the nightly drop in DATA_DIR into send / hold / block / rejected.

    Exit status: 0 the run completed (whatever it flagged), 2 unusable input or
    options, 1 any other failure; 3 block rate above --fail-on-block-rate; 4 money
    that cannot be placed under unplaced_payment_policy "fail"; 75 the history is in
    use by another run.
    """
    with error_handler(debug):
        settings = load_settings(config_path, profile)
        if max_feed_lag_hours is not None:
            settings = with_overrides(settings, {"max_feed_lag_hours": max_feed_lag_hours},
                                      "--max-feed-lag-hours")
        result = run(data_dir, out_dir, settings=settings, as_of=as_of, history_db=history_db,
                     force=force, wait_lock=wait_lock, on_stage=console.stage_logger(log_format))
        console.log_warnings(result, log_format)
        if not quiet:
            console.show_run(result)
        console.log_finished(result, log_format)
    if fail_on_block_rate is not None and result.block_rate > fail_on_block_rate:
        console.show_error(
            f"block rate {result.block_rate:.1%} is above --fail-on-block-rate "
            f"{fail_on_block_rate:.1%} (outputs were written)"
        )
        sys.exit(EXIT_BLOCK_RATE)


def _rates_epilog() -> str:
    defaults = Rates()
    width = max(len(name) for name in RATE_HELP)
    lines = ["\b", "Failure modes for --rate NAME=R (share of cases, default):"]
    lines += [f"{name:<{width}}  {getattr(defaults, name):<5g}  {text}"
              for name, text in RATE_HELP.items()]
    return "\n".join(lines)


@main.command("generate", epilog=_rates_epilog())
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
    with error_handler(debug):
        labels_path = labels_csv or default_labels(run_out_dir)
        result = verify(labels_path, Path(run_out_dir) / "findings.csv", show=show)
        console.show_verify(result)
    if not result.ok:
        sys.exit(EXIT_DISAGREE)
