"""The run history: each recorded night as Parquet files, and what reads them.

    store   recording a run (lock, Parquet files, catalog, migration, pseudonyms, pruning)
    views   the documented views of sql/history/views/
    query   read-only ad-hoc SQL over the catalog
"""
