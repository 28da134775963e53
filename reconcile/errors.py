"""One error hierarchy; each error carries the exit code the CLI turns it into.

An error about a caller's argument names the parameter (`parameter="as_of"`), not a
command-line flag: Python callers see `as_of: ...`, and the CLI shows the same message under
the option that fed that parameter (`--as-of: ...`), looked up in click's own option list.
"""

from __future__ import annotations

# The exit-code contract (CONTRACT §5), asserted by the CLI tests.
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
# 128 + SIGINT, as shells report an interrupted command.
EXIT_INTERRUPTED = 130


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
