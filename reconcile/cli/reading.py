"""What the commands that read the history share (`reconcile report`, `trace`,
`complaints`): the history, language, output and debug options, and writing the result."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from reconcile.config import REPORT_LANGUAGES
from reconcile.report.render import write_report

history_option = click.option(
    "--db", "history_db", required=True, type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="The history database written by `reconcile run --db`; opened read-only.")
output_option = click.option(
    "--output", "-o", "output", type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE", help="Write to FILE (whole or not at all) instead of standard output.")
debug_option = click.option("--debug", is_flag=True, help="Show a traceback on failure.")

F = TypeVar("F", bound=Callable[..., Any])


def lang_option(default_help: str) -> Callable[[F], F]:
    return click.option("--lang", type=click.Choice(REPORT_LANGUAGES), default=None,
                        help=f"The language: zh-CN or en [default: {default_help}].")


def emit(text: str, output: Path | None) -> None:
    """The result on standard output, or written to `output` (saying so on stderr)."""
    if output is None:
        click.echo(text, nl=False)
    else:
        write_report(output, text)
        click.echo(f"wrote {output}", err=True)
