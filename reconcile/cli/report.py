"""`reconcile report`: the morning report of a run recorded by `reconcile run --db`."""

from __future__ import annotations

from pathlib import Path

import click

from reconcile.cli.common import error_handler
from reconcile.cli.reading import debug_option, emit, history_option, lang_option, output_option
from reconcile.config import load_settings
from reconcile.report.build import build_report
from reconcile.report.complaints import with_complaints
from reconcile.report.render import FORMATS, render


@click.command("report")
@click.argument("run_id", required=False)
@history_option
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text",
              show_default=True,
              help="text (80 columns), markdown, html (one self-contained file) or json.")
@output_option
@click.option("--show-pii", is_flag=True,
              help="Show phone numbers and names unmasked (masked by default: "
                   "138****1234, 张*).")
@lang_option("--config's report_language, else the one the run was recorded with; "
             "the cn profile's is zh-CN")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              metavar="FILE", help="A TOML config whose report_* settings apply: its "
                                   "language, and a complaints file to trace in the report.")
@debug_option
def report(run_id: str | None, history_db: Path, output_format: str, output: Path | None,
           show_pii: bool, lang: str | None, config_path: Path | None, debug: bool) -> None:
    """Report on run RUN_ID (default: the latest) from the history database.

    At a glance: the verdicts, what moved against last night and the 7 nights before, the
    rules misfiring most or rising fastest, the health of the feeds. Then trends over
    the last 30 recorded nights, counts by flag, the rules and templates with the highest
    false-positive rates, how stale the rules' data was, the change since the previous
    night, and example messages with all their flags and evidence.

    Exit status: 0 the report was written, 2 unknown RUN_ID or a missing, empty or
    unusable database, 1 any other failure.
    """
    with error_handler(debug):
        built = build_report(history_db, run_id, show_pii=show_pii)
        if config_path is not None:
            settings = load_settings(config_path)
            lang = lang or settings.report_language
            built = with_complaints(built, history_db, settings)
        emit(render(built, output_format, lang), output)
