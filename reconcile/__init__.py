"""reconcile: stop false-positive collection messages before they are dispatched.

The Python API (docs/api.md): `run` a drop into an output folder and get a `RunResult`;
`load_settings` reads a TOML config. Failures raise a `ReconcileError` subclass whose
`exit_code` is the one the command line exits with.

Importing the package imports none of its modules: each name below is imported when it is
first used (PEP 562), so `import reconcile.synth.reference`, the oracle that must not
depend on the engine, loads neither the engine nor DuckDB.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconcile.config import Settings, load_settings
    from reconcile.errors import ConfigError, InputError, ReconcileError
    from reconcile.locks import Locked
    from reconcile.nightly.engine import run
    from reconcile.nightly.feeds import UnplacedPayments
    from reconcile.result import RunResult
    from reconcile.spark.options import SparkOptions
    from reconcile.version import __version__

__all__ = [
    "ConfigError",
    "InputError",
    "Locked",
    "ReconcileError",
    "RunResult",
    "Settings",
    "SparkOptions",
    "UnplacedPayments",
    "__version__",
    "load_settings",
    "run",
]

# The module each public name is defined in.
_HOMES = {
    "ConfigError": "reconcile.errors",
    "InputError": "reconcile.errors",
    "Locked": "reconcile.locks",
    "ReconcileError": "reconcile.errors",
    "RunResult": "reconcile.result",
    "Settings": "reconcile.config",
    "SparkOptions": "reconcile.spark.options",
    "UnplacedPayments": "reconcile.nightly.feeds",
    "__version__": "reconcile.version",
    "load_settings": "reconcile.config",
    "run": "reconcile.nightly.engine",
}


def __getattr__(name: str) -> object:
    """A public name, imported from its module on first use (and kept)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
