"""Stricter exit policies a scheduler may ask for, on top of the contract's default.

By default a run that completed exits 0 whatever it flagged. A caller may add limits
(ExitPolicy); a completed run that breaks one still wrote every output, and is then reported
with that limit's exit code, so a scheduler can tell a night that must not go unnoticed
from one that went well. When several limits are broken, the first in POLICY_ORDER decides
the exit code and the message names the others too.

A night with nothing to send (the batch had messages, and every one is held, blocked or
rejected) is always visible, whatever the policy: `RunResult.nothing_to_send`
(summary.json `nothing_to_send`) and nothing_to_send_warning().
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from reconcile.errors import (
    EXIT_BLOCK_RATE,
    EXIT_HOLD_RATE,
    EXIT_NOTHING_TO_SEND,
    EXIT_OK,
    ReconcileError,
)

if TYPE_CHECKING:
    from reconcile.result import RunResult

# Which broken limit decides the exit code: the whole night lost first, then misfiring
# rules, then held messages.
POLICY_ORDER = (EXIT_NOTHING_TO_SEND, EXIT_BLOCK_RATE, EXIT_HOLD_RATE)


class PolicyBreach(ReconcileError):
    """A completed run (every output written) that breaks a limit its caller set.

    `parameter` names the ExitPolicy field that set the broken limit (the CLI shows it as
    its option); `exit_code` is that limit's code.
    """

    def __init__(self, message: str, *, parameter: str, exit_code: int) -> None:
        super().__init__(message, parameter=parameter)
        self.exit_code = exit_code


@dataclass(frozen=True)
class ExitPolicy:
    """Limits on a completed run; None / False: no limit (the run exits 0)."""

    # Exit EXIT_BLOCK_RATE when more than this share (0..1) of the messages is blocked.
    fail_on_block_rate: float | None = None
    # Exit EXIT_HOLD_RATE when more than this share (0..1) of the messages is held.
    fail_on_hold_rate: float | None = None
    # Exit EXIT_NOTHING_TO_SEND when not one message of the batch may be sent.
    fail_on_empty_send: bool = False

    def breach(self, result: RunResult) -> PolicyBreach | None:
        """The limit this run breaks that decides its exit code (POLICY_ORDER), its
        message naming any other broken limit too; None when the run keeps every limit."""
        broken: list[tuple[int, str, str]] = []
        if self.fail_on_empty_send and result.nothing_to_send:
            broken.append((EXIT_NOTHING_TO_SEND, "fail_on_empty_send",
                           f"nothing to send: {_verdicts(result)}"))
        if self.fail_on_block_rate is not None and result.block_rate > self.fail_on_block_rate:
            broken.append((EXIT_BLOCK_RATE, "fail_on_block_rate",
                           f"block rate {result.block_rate:.1%} is above "
                           f"{self.fail_on_block_rate:.1%}"))
        if self.fail_on_hold_rate is not None and result.hold_rate > self.fail_on_hold_rate:
            broken.append((EXIT_HOLD_RATE, "fail_on_hold_rate",
                           f"hold rate {result.hold_rate:.1%} is above "
                           f"{self.fail_on_hold_rate:.1%}"))
        if not broken:
            return None
        broken.sort(key=lambda limit: POLICY_ORDER.index(limit[0]))
        code, parameter, _ = broken[0]
        message = "; also ".join(text for _, _, text in broken)
        return PolicyBreach(f"{message} (outputs were written)", parameter=parameter,
                            exit_code=code)

    def exit_code(self, result: RunResult) -> int:
        """EXIT_OK, or the code of the limit the run breaks (see breach)."""
        broken = self.breach(result)
        return broken.exit_code if broken else EXIT_OK


def nothing_to_send_warning(result: RunResult) -> str | None:
    """The warning every run with nothing to send gives, whatever the policy; else None."""
    if not result.nothing_to_send:
        return None
    return f"nothing to send: {_verdicts(result)}; send.csv is empty"


def _verdicts(result: RunResult) -> str:
    counts = result.verdict_counts
    return (f"none of the {result.messages} messages may be sent (hold {counts['hold']}, "
            f"block {counts['block']}, rejected {counts['rejected']})")
