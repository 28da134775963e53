"""What a run found, as the types every later step shares: the result of a run
(summary.json, the terminal, the history), the previous recorded night it compared with,
the money no loan could take, and the checks left out.

Defined here, below the nightly path, the history and the CLI that all use them, so none of
them imports another for a type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconcile.config import Settings
from reconcile.schema import OUTCOMES
from reconcile.timestamps import iso_text
from reconcile.version import __version__

if TYPE_CHECKING:  # polars is imported when a frame is asked for, not by the CLI's start-up
    import polars as pl

    from reconcile.nightly.inputs import InputFile

# How many unplaced payments a warning names before "and N more".
NAMED_PAYMENTS = 3


@dataclass(frozen=True)
class SkippedCheck:
    """Why a flag was not evaluated: turned off by the settings, or an input it needs absent.
    summary.json shows it as text, "off: ..." for one turned off."""

    because: str
    turned_off: bool

    def __str__(self) -> str:
        return f"off: {self.because}" if self.turned_off else self.because


@dataclass(frozen=True)
class PreviousNight:
    """The last run recorded before this one's as-of, and its input tables' row counts."""

    run_id: str
    as_of: str
    rows: dict[str, int]


@dataclass(frozen=True)
class UnplacedMoney:
    """Payments known at T that no loan of `loans` can take (sql/nightly/truth/09)."""

    payments: int
    amount: Decimal
    named: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {"payments": self.payments, "amount": str(self.amount),
                "first": list(self.named)}

    def describe(self) -> str:
        listed = "; ".join(self.named)
        more = (f"; and {self.payments - len(self.named)} more"
                if self.payments > NAMED_PAYMENTS else "")
        return (f"settled or pending payments that cannot be placed: {self.payments}, "
                f"totalling {self.amount} ({listed}{more})")


@dataclass(frozen=True)
class RunResult:
    """What a run did, for the summary file, the terminal and the history."""

    run_id: str
    as_of: str
    data_dir: str
    out_dir: str
    settings: Settings
    inputs: dict[str, InputFile]
    verdict_counts: dict[str, int]
    flag_counts: dict[str, int]
    input_issue_counts: dict[str, int]
    unattributed_ledger_rows: int
    started_at: str
    duration_seconds: float
    version: str = __version__
    stage_seconds: dict[str, float] = field(default_factory=dict)
    # With --db: "recorded", or "already recorded as <run_id>" for a repeated run.
    history: str | None = None
    # Flags not evaluated this run, with why (an optional input absent, a check turned off).
    skipped_checks: dict[str, SkippedCheck] = field(default_factory=dict)
    # Flags evaluated with part of their optional inputs absent, with what that means.
    partial_checks: dict[str, str] = field(default_factory=dict)
    # Settled or pending payments no loan can take (UNPLACED_PAYMENT, docs/inputs.md).
    unplaced_payments: UnplacedMoney | None = None
    # The run INCOMPLETE_FEED compared tonight's tables with (None: no history, or none).
    previous_run: PreviousNight | None = None
    # What the night's data could not tell: shown first, logged as warnings.
    warnings: tuple[str, ...] = ()
    # Where the night was decided: "duckdb" (this process) or "spark" (reconcile.spark).
    engine: str = "duckdb"
    # The database snapshot the night's database tables were read in (Snapshot.to_dict()),
    # None when every table came from files.
    snapshot: dict[str, object] | None = None

    @property
    def messages(self) -> int:
        return sum(self.verdict_counts.values())

    @property
    def block_rate(self) -> float:
        return self.verdict_counts["block"] / self.messages if self.messages else 0.0

    @property
    def hold_rate(self) -> float:
        return self.verdict_counts["hold"] / self.messages if self.messages else 0.0

    @property
    def nothing_to_send(self) -> bool:
        """The batch had messages and not one of them may be sent (send.csv is empty)."""
        return self.messages > 0 and self.verdict_counts["send"] == 0

    def findings(self) -> pl.LazyFrame:
        """OUT_DIR/findings.parquet, typed (flags a list, amounts decimal, times in UTC):
        one row per message in source_row order. A lazy scan: nothing is read until it is
        collected, and then the files in OUT_DIR now (a later run there replaces them)."""
        import polars as pl

        return pl.scan_parquet(Path(self.out_dir) / "findings.parquet")

    def outcome(self, name: str) -> pl.LazyFrame:
        """OUT_DIR/<name>.csv for name send, hold, block or rejected: the original
        send_batch rows given that outcome, in file order, every column a string exactly as
        written (an empty field is ""). Lazy, like findings(); the columns are the
        send_batch header the run read, so not even the header is read before collect."""
        if name not in OUTCOMES:
            raise ValueError(f"name: {name!r} is not one of {', '.join(OUTCOMES)}")
        import polars as pl

        columns = self.inputs["send_batch"].columns
        return pl.scan_csv(
            Path(self.out_dir) / f"{name}.csv",
            schema=dict.fromkeys(columns, pl.String),
        ).with_columns(pl.all().fill_null(""))

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "reconcile_version": self.version,
            "as_of": self.as_of,
            "data_dir": self.data_dir,
            "out_dir": self.out_dir,
            "started_at": self.started_at,
            "duration_seconds": round(self.duration_seconds, 3),
            "stage_seconds": {k: round(v, 3) for k, v in self.stage_seconds.items()},
            "inputs": {name: f.to_dict() for name, f in self.inputs.items()},
            "messages": self.messages,
            "verdicts": self.verdict_counts,
            "nothing_to_send": self.nothing_to_send,
            "flags": self.flag_counts,
            "skipped_checks": {flag: str(skip) for flag, skip in self.skipped_checks.items()},
            "partial_checks": self.partial_checks,
            "input_issues": self.input_issue_counts,
            "unattributed_ledger_rows": self.unattributed_ledger_rows,
            "unplaced_payments": (self.unplaced_payments.to_dict()
                                  if self.unplaced_payments else None),
            "previous_run": ({"run_id": self.previous_run.run_id,
                              "as_of": iso_text(self.previous_run.as_of)}
                             if self.previous_run else None),
            "warnings": list(self.warnings),
            "settings": self.settings.to_dict(),
            "history": self.history,
            "engine": self.engine,
            "snapshot": self.snapshot,
        }
