"""Everything reconcile prints to a terminal: the run summary and one-line errors."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable

import click

from reconcile.engine import RunResult
from reconcile.schema import OUTCOMES


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
    flagged = [(flag, n) for flag, n in result.flag_counts.items() if n]
    if flagged:
        width = max(len(flag) for flag, _ in flagged)
        lines.append("  flags:")
        lines += [f"    {flag:<{width}}  {n:>8}" for flag, n in flagged]
    issues = sum(result.input_issue_counts.values())
    if issues:
        by_table = ", ".join(f"{t} {n}" for t, n in result.input_issue_counts.items() if n)
        lines.append(f"  unusable reference rows: {issues} ({by_table}) -> input_issues.csv")
    if result.history:
        lines.append(f"  history: {result.history}")
    lines.append(f"  wrote {result.out_dir} in {result.duration_seconds:.2f} s")
    return "\n".join(lines)


def _share(count: int, total: int) -> str:
    return f"{100 * count / total:.1f}%" if total else "0%"


def show_run(result: RunResult) -> None:
    click.echo(run_summary(result))


def show_error(message: str) -> None:
    click.echo(f"reconcile: error: {message}", err=True)


def stage_logger(log_format: str) -> Callable[[str, float], None] | None:
    """Stage logs for stderr: JSON lines always with json; on a terminal a progress bar; under
    cron (no terminal) nothing, so its mail holds only the summary."""
    if log_format == "json":
        return lambda stage, seconds: _log_json(event="stage", stage=stage,
                                                seconds=round(seconds, 3))
    if sys.stderr.isatty():
        return StageProgress(RUN_STAGES)
    return None


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


def log_finished(result: RunResult, log_format: str) -> None:
    if log_format == "json":
        _log_json(event="finished", run_id=result.run_id, as_of=result.as_of,
                  messages=result.messages, verdicts=result.verdict_counts,
                  history=result.history, seconds=round(result.duration_seconds, 3))


def _log_json(**fields: object) -> None:
    line = {"time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"), **fields}
    click.echo(json.dumps(line, ensure_ascii=False), err=True)
