"""The labels of a drop: each chunk's rows, as written, given to the oracle
(reconcile.synth.reference) for every message's expected verdict and flags, in worker
processes while the next chunk is generated; and reconcile.toml, the settings they are for.

This is the one module of the generator that talks to the oracle, and only through its
public labelling API: `reference()`, the `Settings` it takes and the `FLAGS` its findings
carry. Everything else the generator needs it has of its own, so a change inside the oracle
can change its answers in labels.csv but never the tables a seed generates.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime
from multiprocessing import get_context

from reconcile.checks import FEED_FLAGS
from reconcile.synth.generator.layout import Tables
from reconcile.synth.reference import FLAGS, Settings, reference

# The flags a label can carry, in the contract's order (drop.json counts each of them).
LABELLED_FLAGS: tuple[str, ...] = FLAGS

# A label row without its source_row: message_id, verdict, flags, overdue_amount, dpd.
LabelRow = tuple[str | None, str, str, str | None, int | None]


def label_chunk(tables: Tables, as_of: datetime) -> list[LabelRow]:
    """The oracle's answer for every send_batch row of one chunk (with templates and rules),
    without the flags that need the whole drop (labels_config)."""
    return [
        (f.message_id, f.verdict, ";".join(f.flags),
         None if f.overdue_amount is None else f"{f.overdue_amount:.2f}", f.days_past_due)
        for f in reference(tables, as_of, Settings(whole_drop=False))
    ]


def labels_config() -> str:
    """reconcile.toml of a generated drop: the settings its labels are for."""
    flags = ", ".join(f'"{flag}"' for flag in FEED_FLAGS)
    return ("# The flags that judge the night as a whole are off: the labels are worked out\n"
            "# one chunk of loans at a time, which cannot see them.\n"
            f"disabled_checks = [{flags}]\n")


class Labeller:
    """Labels chunks in order: inline, or in worker processes while the next chunk is being
    generated (the oracle is the slow half; chunks are independent, results kept in order)."""

    def __init__(self, as_of: datetime, workers: int) -> None:
        self.as_of = as_of
        self.workers = workers
        self.pool = (ProcessPoolExecutor(workers, mp_context=get_context("spawn"))
                     if workers else None)
        self.queue: deque[tuple[Future[list[LabelRow]] | list[LabelRow], int]] = deque()

    def submit(self, tables: Tables, messages: int) -> None:
        if self.pool is None:
            self.queue.append((label_chunk(tables, self.as_of), messages))
        else:
            self.queue.append((self.pool.submit(label_chunk, tables, self.as_of), messages))

    def done(self, wait_all: bool = False) -> Iterable[tuple[list[LabelRow], int]]:
        """Finished chunks, oldest first; waits while more than `workers` are in flight."""
        while self.queue and (wait_all or len(self.queue) > self.workers):
            job, messages = self.queue.popleft()
            yield (job if isinstance(job, list) else job.result()), messages

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
