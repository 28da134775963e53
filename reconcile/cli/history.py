"""`reconcile history`: keep the run history that `reconcile run --db` writes (migrate, prune,
look up a pseudonym)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from reconcile.cli.common import error_handler
from reconcile.config import load_settings
from reconcile.history import store as history

Command = TypeVar("Command", bound=Callable[..., Any])
_DB_HELP = "The history (the catalog file given to `reconcile run --db`)."
_CONFIG_HELP = "TOML settings: the timezone, history_personal_data, history_key_file, ..."


@click.group("history")
def history_group() -> None:
    """Keep the run history: migrate it, prune old nights, look up a pseudonym."""


def _common(function: Command) -> Command:
    """--db, --config and --debug, shared by every history command."""
    function = click.option("--debug", is_flag=True,
                            help="Show a traceback on failure.")(function)
    function = click.option("--config", "config_path", metavar="FILE",
                            type=click.Path(path_type=Path), help=_CONFIG_HELP)(function)
    return click.option("--db", "history_db", required=True, metavar="FILE",
                        type=click.Path(path_type=Path), help=_DB_HELP)(function)


@history_group.command("prune")
@_common
@click.option("--keep-days", type=click.IntRange(min=1), metavar="N",
              help="Keep the nights of the last N days (default: the config's "
                   "history_keep_days).")
@click.option("--wait-lock", type=click.FloatRange(min=0), default=0, metavar="SECONDS",
              help="Wait this long for a run that is recording before exiting 75.")
def prune_command(history_db: Path, config_path: Path | None, debug: bool,
                  keep_days: int | None, wait_lock: float) -> None:
    """Remove every run (and its findings) of a night more than N days before today, in
    the configured timezone.

    Exit status: 0 pruned (or nothing to prune), 2 no N given or unusable options,
    75 a run is recording, 1 any other failure.
    """
    with error_handler(debug):
        settings = load_settings(config_path)
        days = keep_days or settings.history_keep_days
        today = dt.datetime.now(zoneinfo.ZoneInfo(settings.timezone)).date()
        pruned = history.prune_history(history_db, days, today=today, settings=settings,
                                       wait_seconds=wait_lock)
        nights = (f" ({pruned.nights[0]} to {pruned.nights[-1]})" if pruned.nights else "")
        click.echo(f"pruned {len(pruned.runs)} run(s) of {len(pruned.nights)} night(s) "
                   f"before {pruned.before}{nights}, {pruned.bytes_freed / 2**20:.1f} MiB")


@history_group.command("migrate")
@_common
@click.option("--wait-lock", type=click.FloatRange(min=0), default=0, metavar="SECONDS",
              help="Wait this long for a run that is recording before exiting 75.")
def migrate_command(history_db: Path, config_path: Path | None, debug: bool,
                    wait_lock: float) -> None:
    """Bring a history up to this version's layout now, rather than at the next run: a
    single-file history of an earlier reconcile becomes Parquet files and a catalog (the
    old file is kept as FILE.layout1).

    Exit status: 0 up to date, 75 a run is recording, 2 unusable options, 1 any other
    failure.
    """
    with error_handler(debug):
        settings = load_settings(config_path)
        history.migrate_history(history_db, settings, wait_lock)
        click.echo(f"history {history_db} is up to date "
                   f"(data in {history.HistoryPaths.of(history_db).data})")


@history_group.command("pseudonym")
@_common
@click.argument("values", nargs=-1, required=True)
def pseudonym_command(history_db: Path, config_path: Path | None, debug: bool,
                      values: tuple[str, ...]) -> None:
    """Print how the history stores each VALUE (a phone or a name) under its key, to find
    every message to one phone: `reconcile query "... WHERE phone = '<printed>'"`.

    Exit status: 0 printed, 2 unusable options or key file, 1 any other failure.
    """
    with error_handler(debug):
        settings = load_settings(config_path)
        key = history.pseudonym_key(history.HistoryPaths.of(history_db), settings,
                                    create=False)
        for value in values:
            click.echo(f"{value}\t{history.pseudonym(key, value)}")
