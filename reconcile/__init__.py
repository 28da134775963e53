"""reconcile: stop false-positive collection messages before they are dispatched.

The Python API (docs/api.md): `run` a drop into an output folder and get a `RunResult`;
`load_settings` reads a TOML config. Failures raise a `ReconcileError` subclass whose
`exit_code` is the one the command line exits with.
"""

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
