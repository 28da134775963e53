"""What a caller asks of the Spark engine. Imports no pyspark, so the nightly path and the
command line can name it without the optional extra installed."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field

from reconcile.errors import ConfigError
from reconcile.schema import TABLES_BY_NAME


@dataclass(frozen=True)
class SparkOptions:
    """How a run uses Spark (docs/spark.md)."""

    # The cluster: local[N], yarn, k8s://…; None: spark-submit's, else local[*].
    master: str | None = None
    # Shards of messages, each decided by one DuckDB task; None: twice the parallelism.
    shards: int | None = None
    # Tables read from the Spark catalog instead of the drop: {"installments": "dw.plan"}.
    tables: dict[str, str] = field(default_factory=dict)

    def check(self) -> None:
        """Refuse, before a run claims anything, what cannot work (exit 2)."""
        if importlib.util.find_spec("pyspark") is None:
            raise ConfigError("the Spark engine needs pyspark, which is not installed: "
                              "pip install 'reconcile[spark]'", parameter="engine")
        if self.shards is not None and self.shards < 1:
            raise ConfigError(f"{self.shards} is not a number of shards (at least 1)",
                              parameter="shards")
        unknown = sorted(set(self.tables) - set(TABLES_BY_NAME))
        if unknown:
            raise ConfigError(f"{unknown[0]} is not a table of the drop (one of "
                              f"{', '.join(TABLES_BY_NAME)})", parameter="tables")
