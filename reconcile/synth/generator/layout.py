"""What a generated drop holds: its files, its tables, the columns of labels.csv, the time
zone its times are made in, and the text-row types every part of the generator passes on."""

from __future__ import annotations

TIMEZONE = "Asia/Shanghai"
LABELS_FILE = "labels.csv"
DROP_FILE = "drop.json"
# The settings the labels are for: the flags that judge the night as a whole (FEED_FLAGS:
# money across every loan, the files, the history) are off, as chunk-by-chunk labels
# cannot see them.
CONFIG_FILE = "reconcile.toml"
LABEL_COLUMNS = ("message_id", "source_row", "verdict", "flags", "overdue_amount",
                 "days_past_due")
TABLE_NAMES = ("send_batch", "templates", "loans", "installments", "payments",
               "collection_pauses", "rules", "send_history", "borrowers", "contact_flags")
# The tables written case by case (templates and rules are fixed).
CASE_TABLES = ("send_batch", "loans", "installments", "payments", "collection_pauses",
               "send_history", "borrowers", "contact_flags")

# One row of a table as text, as written to disk and read by the oracle (None: empty).
Row = dict[str, str | None]
# Rows by table name: one case's, or one chunk's.
Tables = dict[str, list[Row]]
