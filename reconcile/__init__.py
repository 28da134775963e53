"""reconcile: stop false-positive collection messages before they are dispatched.

The Python API (docs/api.md): `run` a drop into an output folder and get a `RunResult`;
`load_settings` reads a TOML config. Failures raise a `ReconcileError` subclass whose
`exit_code` is the one the command line exits with.
"""

__version__ = "0.1.0"

from reconcile.config import Settings, load_settings
from reconcile.engine import RunResult, run
from reconcile.errors import ConfigError, InputError, ReconcileError
from reconcile.feeds import UnplacedPayments
from reconcile.locks import Locked

__all__ = [
    "ConfigError",
    "InputError",
    "Locked",
    "ReconcileError",
    "RunResult",
    "Settings",
    "UnplacedPayments",
    "__version__",
    "load_settings",
    "run",
]
