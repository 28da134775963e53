"""`reconcile report`: the morning report of a run recorded by `reconcile run --db`."""

from __future__ import annotations

from pathlib import Path

import click

from reconcile.cli.common import error_handler
from reconcile.report.build import build_report
from reconcile.report.render import FORMATS, render, write_report


@click.command("report")
@click.argument("run_id", required=False)
@click.option("--db", "history_db", required=True,
              type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="The history database written by `reconcile run --db`; opened "
                   "read-only.")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text",
              show_default=True,
              help="text (80 columns), markdown, html (one self-contained file) or json.")
@click.option("--output", "-o", "output", type=click.Path(path_type=Path, dir_okay=False),
              metavar="FILE", help="Write the report to FILE instead of standard output.")
@click.option("--show-pii", is_flag=True,
              help="Show phone numbers and names unmasked (masked by default: "
                   "138****1234, 张*).")
@click.option("--debug", is_flag=True, help="Show a traceback on failure.")
def report(run_id: str | None, history_db: Path, output_format: str, output: Path | None,
           show_pii: bool, debug: bool) -> None:
    """Report on run RUN_ID (default: the latest) from the history database.

    Counts by verdict and flag, the rules and templates with the most false positives,
    how stale the rules' data was, the change since the previous night, and example
    messages per flag with their evidence.

    Exit status: 0 the report was written, 2 unknown RUN_ID or a missing, empty or
    unusable database, 1 any other failure.
    """
    with error_handler(debug):
        text = render(build_report(history_db, run_id, show_pii=show_pii), output_format)
        if output is None:
            click.echo(text, nl=False)
        else:
            write_report(output, text)
            click.echo(f"wrote {output}", err=True)
