"""What every command shares: one error handler turning any failure into one line on stderr
and the exit code its error carries."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from reconcile.cli import console
from reconcile.errors import EXIT_FAILURE, EXIT_INTERRUPTED, ReconcileError, UnexpectedError

_DEBUG_HINT = " (run again with --debug for a traceback)"


@contextmanager
def error_handler(debug: bool, log: console.RunLog | None = None) -> Iterator[None]:
    """Turn any failure into one line on stderr (an `error` event with a json RunLog) and
    the contract's exit code."""
    shown = log.error if log else lambda message, _code: console.show_error(message)
    try:
        yield
    except ReconcileError as error:
        if debug:
            raise
        message = error.shown_as(option_name(error.parameter))
        shown(message + (_DEBUG_HINT if isinstance(error, UnexpectedError) else ""),
              error.exit_code)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        shown("interrupted; no output was written", EXIT_INTERRUPTED)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as error:
        if debug:
            raise
        shown(f"unexpected {type(error).__name__}: {error}{_DEBUG_HINT}", EXIT_FAILURE)
        sys.exit(EXIT_FAILURE)


def option_name(parameter: str | None) -> str | None:
    """The command-line spelling (`--as-of`) of the parameter an error is about, taken from
    the running command's own options; the parameter's name if no option feeds it."""
    context = click.get_current_context(silent=True)
    if parameter is None or context is None:
        return parameter
    for option in context.command.params:
        if option.name == parameter and isinstance(option, click.Option):
            return max(option.opts, key=len)
        if option.name == parameter:
            return option.human_readable_name
    return parameter
