"""`reconcile trace` and `reconcile complaints`: one person's messages across the recorded
nights, and a complaints file traced against them (for the complaints desk and compliance)."""

from __future__ import annotations

from pathlib import Path

import click

from reconcile.cli.common import error_handler
from reconcile.cli.reading import debug_option, emit, history_option, lang_option, output_option
from reconcile.config import Settings, load_settings
from reconcile.report.complaints import DEFAULT_WINDOW_DAYS, render_complaints, trace_complaints
from reconcile.report.trace import FORMATS, build_trace, render_trace

_FORMAT = click.option("--format", "output_format", type=click.Choice(FORMATS),
                       default="text", show_default=True, help="text, markdown or json.")
_LANG = lang_option("the config's report_language, zh-CN without a config")
_CONFIG = click.option(
    "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="TOML settings: timezone (of times shown and read), history_key_file (the "
         "pseudonym key) and report_language.")


def _language(lang: str | None, settings: Settings) -> str:
    return lang or settings.report_language


@click.command("trace")
@click.option("--phone", metavar="P", help="Trace this phone (as sent; matched as its keyed "
                                            "hash in a pseudonymised history).")
@click.option("--borrower", "borrower_id", metavar="B", help="Trace this borrower_id.")
@click.option("--message", "message_id", metavar="M",
              help="Trace the person message M went to (its borrower_id, else its phone).")
@history_option
@click.option("--since", metavar="DATE", help="Only nights on or after DATE (YYYY-MM-DD).")
@_FORMAT
@_LANG
@_CONFIG
@click.option("--all-runs", is_flag=True,
              help="Show the re-runs of a night too, not only the run that counts for it.")
@click.option("--show-pii", is_flag=True,
              help="Show phones and names recorded in clear unmasked (masked by default; a "
                   "pseudonymised one always shows as # and its hash's start).")
@output_option
@debug_option
def trace(phone: str | None, borrower_id: str | None, message_id: str | None,
          history_db: Path, since: str | None, output_format: str, lang: str | None,
          config_path: Path | None, all_runs: bool, show_pii: bool, output: Path | None,
          debug: bool) -> None:
    """Every message planned to one person across the recorded nights: when, by which
    rule and template, the ledger beside the message's claim, the verdict and the
    evidence of every flag. Give exactly one of --phone, --borrower, --message.

    Exit status: 0 written (also when nothing matches), 2 not exactly one of --phone,
    --borrower, --message, a bad --since, no pseudonym key for a pseudonymised history,
    or a missing, empty or unusable database, 1 any other failure.
    """
    given = [name for name, value in (("--phone", phone), ("--borrower", borrower_id),
                                      ("--message", message_id)) if value is not None]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --phone, --borrower, --message"
                               + (f" (got {', '.join(given)})" if given else ""))
    with error_handler(debug):
        settings = load_settings(config_path)
        found = build_trace(history_db, phone=phone, borrower_id=borrower_id,
                            message_id=message_id, since=since, all_runs=all_runs,
                            show_pii=show_pii, settings=settings)
        emit(render_trace(found, output_format, _language(lang, settings)), output)


@click.command("complaints")
@click.argument("complaints_csv", type=click.Path(path_type=Path, dir_okay=False),
                metavar="COMPLAINTS.csv")
@history_option
@click.option("--dispatched", type=click.Path(path_type=Path, dir_okay=False),
              metavar="DISPATCH.csv",
              help="The SMS gateway's log of messages sent (column message_id, optional "
                   "sent_at). Without it the dispatcher is taken to follow the verdicts.")
@click.option("--window-days", type=click.IntRange(min=1), default=DEFAULT_WINDOW_DAYS,
              show_default=True, metavar="N",
              help="A complaint is about messages planned in the N days before it.")
@_FORMAT
@_LANG
@_CONFIG
@output_option
@debug_option
def complaints(complaints_csv: Path, history_db: Path, dispatched: Path | None,
               window_days: int, output_format: str, lang: str | None,
               config_path: Path | None, output: Path | None, debug: bool) -> None:
    """Trace each complaint of COMPLAINTS.csv (columns phone and/or borrower_id,
    received_at; optional category, complaint_id) to the messages planned to that person
    in the window before it, and tell whether reconcile stopped them: each complaint is
    sent_with_flag, sent_clean, stopped, not_sent or never_planned; then the complaints
    by class, the misses by rule and template, and night by night.

    Exit status: 0 written, 2 an unusable complaints file or dispatch log (naming the
    file, column and row), no pseudonym key for a pseudonymised history, or a missing,
    empty or unusable database, 1 any other failure.
    """
    with error_handler(debug):
        settings = load_settings(config_path)
        result = trace_complaints(history_db, complaints_csv, dispatched=dispatched,
                                  window_days=window_days, settings=settings)
        emit(render_complaints(result, output_format, _language(lang, settings)), output)
