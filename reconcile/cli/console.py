"""Everything reconcile prints to a terminal: the run summary and one-line errors."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconcile.nightly.policy import nothing_to_send_warning
from reconcile.result import RunResult, SkippedCheck
from reconcile.safe_text import printable
from reconcile.schema import OUTCOMES
from reconcile.timestamps import local_isoformat
from reconcile.version import __version__

if TYPE_CHECKING:  # types only: a nightly run never imports the test-data code
    from reconcile.synth.generator import GenerateResult
    from reconcile.synth.verify import VerifyResult


def run_summary(result: RunResult) -> str:
    """A short, aligned summary of a run for the person or log that started it."""
    counts = result.verdict_counts
    total = result.messages
    lines = [
        f"reconcile {result.run_id}  as of {result.as_of}  ({result.settings.timezone})",
        f"  {total} messages: "
        + "  ".join(f"{outcome} {counts[outcome]} ({_share(counts[outcome], total)})"
                    for outcome in OUTCOMES),
    ]
    # What the data could not tell comes first: it can change what the counts mean.
    lines += [f"  warning: {warning}" for warning in run_warnings(result)]
    flagged = [(flag, n) for flag, n in result.flag_counts.items() if n]
    if flagged:
        width = max(len(flag) for flag, _ in flagged)
        lines.append("  flags:")
        lines += [f"    {flag:<{width}}  {n:>8}" for flag, n in flagged]
    lines += _not_evaluated(result.skipped_checks)
    issues = sum(result.input_issue_counts.values())
    if issues:
        by_table = ", ".join(f"{t} {n}" for t, n in result.input_issue_counts.items() if n)
        lines.append(f"  unusable or unattributed reference rows: {issues} ({by_table}) "
                     "-> input_issues.csv")
    if result.history:
        lines.append(f"  history: {result.history}")
    lines.append(f"  wrote {result.out_dir} in {result.duration_seconds:.2f} s")
    return "\n".join(lines)


def _not_evaluated(skipped: dict[str, SkippedCheck]) -> list[str]:
    """Checks a missing input left out, one line per cause; checks turned off by the
    settings are in summary.json only."""
    by_reason: dict[str, list[str]] = {}
    for flag, skip in skipped.items():
        if not skip.turned_off:
            by_reason.setdefault(skip.because, []).append(flag)
    return [f"  not evaluated ({reason}): {', '.join(flags)}"
            for reason, flags in by_reason.items()]


def _share(count: int, total: int) -> str:
    return f"{100 * count / total:.1f}%" if total else "0%"


def show_run(result: RunResult) -> None:
    click.echo(printable(run_summary(result), keep="\n"))


def show_error(message: str) -> None:
    # An error may quote the drop (a header, a CSV line): its control codes are shown, not run.
    shown = printable(message, keep="\n")
    click.echo(f"reconcile: error: {shown}", err=True)


def stage_logger(log_format: str) -> Callable[[str, float], None] | None:
    """Stage logs for stderr: JSON lines always with json; on a terminal a progress bar; under
    cron (no terminal) nothing, so its mail holds only the summary (RunLog.stage_listener)."""
    return RunLog(log_format).stage_listener()


# The stages every run reports, in order (engine.Stopwatch laps); a run that records its
# history reports one more, which the bar does not wait for.
RUN_STAGES = ("inputs", "checks", "outputs")


class StageProgress:
    """A progress bar on stderr advancing one step per finished stage."""

    def __init__(self, stages: tuple[str, ...]) -> None:
        self._stages = stages
        self._bar = click.progressbar(length=len(stages), label="reconcile", file=sys.stderr,
                                      show_eta=False, show_percent=False, show_pos=True,
                                      item_show_func=lambda stage: stage)
        self._bar.render_progress()

    def __call__(self, stage: str, seconds: float) -> None:
        if stage not in self._stages:
            return
        self._bar.update(1, f"{stage} {seconds:.1f} s")
        if self._bar.pos >= len(self._stages):
            self._bar.render_finish()


class RunLog:
    """Everything `reconcile run` writes to stderr.

    With json every line is one JSON object with an `event` and a `time` (ISO 8601 in the
    run's time zone once its settings are read, UTC before): `start` first (run_id, as_of
    as requested, data_dir, out_dir, reconcile_version, pid, host), then `stage`, `warning`
    and `finished`, or `error` (exit_code, message) as the last line of a failed run.
    With text: warnings and errors as plain lines, stages as a progress bar on a terminal
    only, so cron's mail holds just the summary.
    """

    def __init__(self, log_format: str, *, data_dir: str | Path | None = None,
                 out_dir: Path | None = None, as_of: str | None = None) -> None:
        self.json = log_format == "json"
        self._start_fields: dict[str, object] = {
            "as_of": as_of,
            "data_dir": None if data_dir is None else str(data_dir),
            "out_dir": None if out_dir is None else str(out_dir),
        }
        self.run_id: str | None = None
        # The run's time zone (Settings.timezone), once known: the events' `time` is in it.
        self.timezone: str | None = None

    def start(self, run_id: str) -> None:
        """engine.run's on_start: the run's id, as soon as it is made."""
        self.run_id = run_id
        if self.json:
            self._emit(event="start", run_id=run_id, **self._start_fields,
                       reconcile_version=__version__, pid=os.getpid(),
                       host=socket.gethostname())

    def stage_listener(self) -> Callable[[str, float], None] | None:
        """engine.run's on_stage: a JSON line per stage, or a progress bar on a terminal."""
        if self.json:
            return lambda stage, seconds: self._emit(event="stage", run_id=self.run_id,
                                                     stage=stage, seconds=round(seconds, 3))
        if sys.stderr.isatty():
            return StageProgress(RUN_STAGES)
        return None

    def warnings(self, result: RunResult) -> None:
        """Each warning on stderr, where a scheduler's log keeps it even under --quiet: what
        the night's data could not tell, and a night with nothing to send."""
        for warning in run_warnings(result):
            if self.json:
                self._emit(event="warning", run_id=result.run_id, message=warning)
            else:
                click.echo(f"reconcile: warning: {printable(warning)}", err=True)

    def finished(self, result: RunResult) -> None:
        if self.json:
            self._emit(event="finished", run_id=result.run_id, as_of=result.as_of,
                       messages=result.messages, verdicts=result.verdict_counts,
                       nothing_to_send=result.nothing_to_send, history=result.history,
                       seconds=round(result.duration_seconds, 3))

    def error(self, message: str, exit_code: int) -> None:
        """The one line a failed run (or a broken exit policy) ends with."""
        if self.json:
            self._emit(event="error", run_id=self.run_id, exit_code=exit_code,
                       message=message)
        else:
            show_error(message)

    def _emit(self, **fields: object) -> None:
        now = dt.datetime.now(dt.UTC)
        stamp = local_isoformat(now, self.timezone or "UTC", timespec="milliseconds")
        click.echo(json.dumps({"time": stamp, **fields}, ensure_ascii=False), err=True)


def run_warnings(result: RunResult) -> list[str]:
    """The run's warnings (RunResult.warnings), then a night with nothing to send."""
    empty_send = nothing_to_send_warning(result)
    return [*result.warnings, *([empty_send] if empty_send else [])]


# ---------------------------------------------------------------------------------------
# reconcile generate / reconcile verify


@contextmanager
def generation_progress(total: int) -> Iterator[Callable[[int], None] | None]:
    """A progress bar over the messages on stderr when it is a terminal; else nothing."""
    if not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=total, label="generate", file=sys.stderr) as bar:
        yield bar.update


def generate_summary(result: GenerateResult) -> str:
    lines = [
        f"generated {result.out_dir}: {result.messages} messages (seed {result.seed}, "
        f"{result.file_format}, {result.timestamp_style} timestamps) in "
        f"{result.seconds:.1f} s ({result.messages_per_second:,.0f} messages/s)",
        "  rows: " + ", ".join(f"{table} {n}" for table, n in result.rows.items()),
    ]
    if result.labels:
        total = sum(result.verdicts.values())
        lines.append("  labels.csv: " + "  ".join(
            f"{verdict} {n} ({_share(n, total)})" for verdict, n in result.verdicts.items()))
    lines += [f"  as of {result.as_of}; reconcile it with:", f"    {result.run_command()}"]
    return "\n".join(lines)


def show_generate(result: GenerateResult) -> None:
    click.echo(generate_summary(result))


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def verify_report(result: VerifyResult) -> str:
    """Agreement, an aligned per-flag precision / recall table, and the disagreements."""
    lines = [
        f"verify {result.findings_file} against {result.labels_file}",
        f"  {result.messages} messages: {result.agreeing} agree, "
        f"{result.disagreeing} disagree",
        "  agree on: " + "  ".join(f"{column} {n}" for column, n in result.agreement.items()),
    ]
    header = ("flag", "expected", "found", "TP", "FP", "FN", "precision", "recall")
    table = [header] + [
        (s.flag, str(s.expected), str(s.found), str(s.true_positives),
         str(s.false_positives), str(s.false_negatives), _ratio(s.precision),
         _ratio(s.recall))
        for s in result.flags
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:],
                                                                         strict=True)]
        lines.append("  " + "  ".join(cells))
    if result.ok:
        lines.append("  every message agrees")
        return "\n".join(lines)
    lines.append(f"  disagreements ({len(result.disagreements)} shown of "
                 f"{result.disagreeing}):")
    for d in result.disagreements:
        lines.append(f"    row {d.source_row}  {d.message_id}  differs in: "
                     + ", ".join(d.differences))
        for side, values in (("expected", d.expected), ("found", d.found)):
            if values is None:
                lines.append(f"      {side:<8}  (no row)")
                continue
            lines.append(f"      {side:<8}  {values['verdict']:<8} "
                         f"{values['flags'] or '-'}  overdue_amount={values['overdue_amount']}"
                         f"  days_past_due={values['days_past_due']}")
    return "\n".join(lines)


def show_verify(result: VerifyResult) -> None:
    click.echo(printable(verify_report(result), keep="\n"))
