"""One error hierarchy; each error carries the exit code the CLI turns it into."""

from __future__ import annotations

# The exit-code contract (CONTRACT §5), asserted by the CLI tests.
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


class ReconcileError(Exception):
    """Any failure reconcile reports in one line; exit 1 unless a subclass says otherwise."""

    exit_code = EXIT_FAILURE


class InputError(ReconcileError):
    """The drop cannot be used: a missing file or column, an unreadable file, no messages."""

    exit_code = EXIT_BAD_INPUT


class ConfigError(ReconcileError):
    """An option or a configuration setting is unusable."""

    exit_code = EXIT_BAD_INPUT
