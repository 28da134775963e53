"""What the generate and verify commands accept and default to: small constants the
command line declares its options with, in a module that imports nothing, so the CLI reads
them without importing the generator, the oracle or verify."""

from __future__ import annotations

# generate: the as-of instant T a drop is built around, unless --as-of says otherwise.
DEFAULT_AS_OF = "2026-11-23T01:30:00+08:00"
# generate --timestamps: +08:00 offsets, UTC Z, naive local, or a mix of ISO 8601 shapes.
TIMESTAMP_STYLES = ("offset", "utc", "naive", "mixed")
# generate --format: the table files, NAME.csv or typed NAME.parquet.
FILE_FORMATS = ("csv", "parquet")
# generate --chunk-loans: loans generated, written and labelled at a time.
DEFAULT_CHUNK_LOANS = 10_000
# verify --show: disagreements printed.
DEFAULT_SHOWN = 20
