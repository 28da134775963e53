"""One error hierarchy; each error carries the exit code the CLI turns it into.

An error about a caller's argument names the parameter (`parameter="as_of"`), not a
command-line flag: Python callers see `as_of: ...`, and the CLI shows the same message under
the option that fed that parameter (`--as-of: ...`), looked up in click's own option list.
A message that quotes another error (DuckDB's, a database client's) quotes it through
`one_line`, so every command shows it the same way.
"""

from __future__ import annotations

# The exit-code contract (CONTRACT §5), asserted by the CLI tests.
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
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
