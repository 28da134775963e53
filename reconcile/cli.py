"""The `reconcile` command line: parse options, call the library, map errors to exit codes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from reconcile import __version__, console
from reconcile.config import load_settings
from reconcile.engine import run
from reconcile.errors import EXIT_FAILURE, ReconcileError

# 128 + SIGINT, as shells report an interrupted command.
EXIT_INTERRUPTED = 130


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


@main.command("run")
@click.argument("data_dir", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Folder for the outputs; replaced as a whole when the run succeeds.")
@click.option("--as-of", "as_of", metavar="TS",
              help="The instant T the ledger is judged at (ISO 8601; naive = local). "
                   "Default: now.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), metavar="FILE",
              help="TOML settings: timezone, grace_days, tolerances, [verdicts] policy.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on success.")
@click.option("--debug", is_flag=True, help="Show a traceback on failure.")
def run_command(data_dir: Path, out_dir: Path, as_of: str | None, config_path: Path | None,
                quiet: bool, debug: bool) -> None:
    """Reconcile the nightly drop in DATA_DIR into send / hold / block / rejected.

    Exit status: 0 the run completed (whatever it flagged), 2 unusable input or options,
    1 any other failure.
    """
    with error_handler(debug):
        settings = load_settings(config_path)
        result = run(data_dir, out_dir, settings=settings, as_of=as_of)
        if not quiet:
            console.show_run(result)
