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
    """Stage logs for stderr: JSON lines always with json; text only on a terminal, so a
    cron job stays quiet."""
    if log_format == "json":
        return lambda stage, seconds: _log_json(event="stage", stage=stage,
                                                seconds=round(seconds, 3))
    if sys.stderr.isatty():
        return lambda stage, seconds: click.echo(f"  {stage:<8} done in {seconds:6.2f} s",
                                                 err=True)
    return None


def log_finished(result: RunResult, log_format: str) -> None:
    if log_format == "json":
        _log_json(event="finished", run_id=result.run_id, as_of=result.as_of,
                  messages=result.messages, verdicts=result.verdict_counts,
                  history=result.history, seconds=round(result.duration_seconds, 3))


def _log_json(**fields: object) -> None:
    line = {"time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"), **fields}
    click.echo(json.dumps(line, ensure_ascii=False), err=True)
