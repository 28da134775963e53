"""reconcile: stop false-positive collection messages before they are dispatched."""

__version__ = "0.1.0"

from reconcile.config import Settings, load_settings
from reconcile.engine import RunResult, run

__all__ = ["RunResult", "Settings", "__version__", "load_settings", "run"]
