"""The Spark engine: the same night as reconcile.nightly, decided by DuckDB inside Spark
tasks, one shard of messages at a time (docs/spark.md). pyspark is the optional extra
`reconcile[spark]`; nothing here is imported by a run that does not ask for Spark.
"""
