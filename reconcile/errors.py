"""One error hierarchy; each error carries the exit code the CLI turns it into.

An error about a caller's argument names the parameter (`parameter="as_of"`), not a
command-line flag: Python callers see `as_of: ...`, and the CLI shows the same message under
the option that fed that parameter (`--as-of: ...`), looked up in click's own option list.
A message that quotes another error (DuckDB's, a database client's) quotes it through
`one_line`, so every command shows it the same way.
"""

from __future__ import annotations

# The exit-code contract (CONTRACT §5, docs/inputs.md#exit-codes), asserted by the CLI
# tests: every code a reconcile command exits with is defined here and nowhere else.
# The command did what was asked; a run completed, whatever it flagged.
EXIT_OK = 0
# A machine fault or any other failure (out of memory, a full disk, a bug).
EXIT_FAILURE = 1
# Unusable input or options: a missing file or column, a bad setting.
EXIT_BAD_INPUT = 2
# A completed run blocked more than the share --fail-on-block-rate allows
# (reconcile.nightly.policy; every output was written).
EXIT_BLOCK_RATE = 3
# `reconcile verify`: the run and the labels disagree on at least one message.
EXIT_DISAGREE = 3
# unplaced_payment_policy = "fail": more payments no loan can take than allowed
# (reconcile.nightly.feeds; nothing written).
EXIT_UNPLACED_PAYMENTS = 4
# A completed run held more than the share --fail-on-hold-rate allows.
EXIT_HOLD_RATE = 5
# --fail-on-empty-send: not one message of a non-empty batch may be sent.
EXIT_NOTHING_TO_SEND = 6
# Another run holds the lock (reconcile.locks): sysexits' EX_TEMPFAIL, so a scheduler may
# simply try again later.
EXIT_LOCKED = 75
# 128 + SIGINT, as shells report an interrupted command.
EXIT_INTERRUPTED = 130


def one_line(error: BaseException) -> str:
    """An error's message on one line, for a one-line ReconcileError: its first line,
    stripped (DuckDB's caret diagram and context lines dropped), followed by any 'Did you
    mean ...' hint DuckDB gives on a line of its own; the error's class name when its
    message is empty."""
    lines = [line.strip() for line in str(error).strip().splitlines()]
    if not lines:
        return type(error).__name__
    hints = [line for line in lines[1:] if line.startswith("Did you mean")]
    return " ".join([lines[0], *hints])


class ReconcileError(Exception):
    """Any failure reconcile reports in one line; exit 1 unless a subclass says otherwise."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str, *, parameter: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        # The library parameter the error is about (e.g. "as_of", "out_dir"), if any.
        self.parameter = parameter

    def __str__(self) -> str:
        return self.shown_as(self.parameter)

    def shown_as(self, name: str | None) -> str:
        """The message prefixed with how the caller spelled the parameter."""
        return f"{name}: {self.message}" if name else self.message


class UnexpectedError(ReconcileError):
    """A failure reconcile did not foresee, likely a bug: its `__cause__` has the details
    (the CLI shows the traceback with --debug)."""


class InputError(ReconcileError):
    """The drop cannot be used: a missing file or column, an unreadable file, no messages."""

    exit_code = EXIT_BAD_INPUT


class ConfigError(ReconcileError):
    """An option or a configuration setting is unusable."""

    exit_code = EXIT_BAD_INPUT
