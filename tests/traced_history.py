"""Histories of several generated nights, for the tests of `reconcile trace` and
`reconcile complaints`.

The generator with one seed and options gives the same borrowers, phones and names on
every night (`--as-of` moves the whole drop; message ids carry the night's date), so one
person has a message on each night. Two histories are recorded by the real `reconcile run
--db`:

- `pseudonymised.duckdb` (the default: phones and names as keyed hashes): the nights
  11-21, 11-22, 11-23, and 11-23 again (`--force`; the re-run counts for that night);
- `mixed.duckdb`: 11-21 with `history_personal_data = "clear"`, 11-22 pseudonymised.

`latest_messages` reads the history straight (not through reconcile's SQL), and
`clear_phones` reads each drop's send_batch.csv: the expected answers of the tests come
from there.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
from drops import invoke

from reconcile.errors import EXIT_OK
from reconcile.synth.generator import CONFIG_FILE

NIGHTS = ("2026-11-21", "2026-11-22", "2026-11-23")
MESSAGES = 200
SEED = 3


@dataclass(frozen=True)
class Histories:
    pseudonymised: Path
    mixed: Path
    drops: dict[str, Path]
    # The run ids of pseudonymised.duckdb, first to last (the last re-runs 11-23).
    runs: tuple[str, ...]


def as_of(night: str) -> str:
    return f"{night}T01:30:00+08:00"


def build_histories(root: Path) -> Histories:
    drops = {night: _generate(root / f"drop-{night}", night) for night in NIGHTS}
    pseudonymised = root / "pseudonymised.duckdb"
    runs = [_run(drops[night], root / f"out-{night}", night, pseudonymised)
            for night in NIGHTS]
    runs.append(_run(drops[NIGHTS[-1]], root / "out-again", NIGHTS[-1], pseudonymised,
                     "--force"))
    mixed = root / "mixed.duckdb"
    clear_config = root / "clear.toml"
    clear_config.write_text((drops[NIGHTS[0]] / CONFIG_FILE).read_text(encoding="utf-8")
                            + 'history_personal_data = "clear"\n', encoding="utf-8")
    _run(drops[NIGHTS[0]], root / "mixed-0", NIGHTS[0], mixed, config=clear_config)
    _run(drops[NIGHTS[1]], root / "mixed-1", NIGHTS[1], mixed)
    return Histories(pseudonymised, mixed, drops, tuple(runs))


def _generate(drop: Path, night: str) -> Path:
    result = invoke("generate", drop, "--messages", str(MESSAGES), "--seed", str(SEED),
                    "--as-of", as_of(night), "--no-labels", "-q")
    assert result.exit_code == EXIT_OK, result.output
    return drop


def _run(drop: Path, out: Path, night: str, db: Path, *extra: str,
         config: Path | None = None) -> str:
    result = invoke("run", drop, "--out", out, "--as-of", as_of(night), "--db", db,
                    "--config", config or drop / CONFIG_FILE, "-q", *extra)
    assert result.exit_code == EXIT_OK, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return str(summary["run_id"])


@dataclass(frozen=True)
class Recorded:
    """A message as the history holds it (phone and name as stored)."""

    night: str
    run_id: str
    message_id: str
    borrower_id: str | None
    phone: str | None
    verdict: str
    flags: tuple[str, ...]
    rule_id: str | None
    template_id: str | None
    scheduled_at: str | None


def latest_messages(db: Path, all_runs: bool = False) -> list[Recorded]:
    """Every message of the run that counts for each night (or of every run), sorted as
    the trace sorts them."""
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("SET TimeZone = 'Asia/Shanghai'")
        rows = con.execute(
            "SELECT CAST(r.night AS VARCHAR), f.run_id, f.message_id, f.borrower_id, f.phone, "
            "f.verdict, f.flags, f.rule_id, f.template_id, CAST(f.scheduled_at AS VARCHAR) "
            "FROM findings AS f JOIN runs_by_night AS r USING (run_id) "
            "WHERE r.is_latest OR ? "
            "ORDER BY r.night, f.scheduled_at NULLS LAST, f.message_id, r.as_of, r.run_id",
            [all_runs]).fetchall()
    return [Recorded(*row[:6], tuple(row[6]), *row[7:]) for row in rows]


def clear_phones(histories: Histories) -> dict[str, str]:
    """message_id -> the phone as the drop's send_batch.csv gives it, over every night."""
    phones = {}
    for drop in histories.drops.values():
        with (drop / "send_batch.csv").open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                phones[row["message_id"]] = row["phone"].strip()
    return phones


def one_a_night(messages: list[Recorded]) -> dict[str, list[Recorded]]:
    """The messages of each borrower with one message a night and a phone no other
    borrower's message went to: a trace by phone and by borrower find the same messages."""
    people: dict[str, list[Recorded]] = {}
    borrowers_of_phone: dict[str | None, set[str | None]] = {}
    for message in messages:
        people.setdefault(message.borrower_id or "", []).append(message)
        borrowers_of_phone.setdefault(message.phone, set()).add(message.borrower_id)
    nights = {m.night for m in messages}
    return {
        borrower: found for borrower, found in sorted(people.items())
        if borrower and sorted(m.night for m in found) == sorted(nights)
        and len({m.phone for m in found}) == 1 and found[0].phone is not None
        and borrowers_of_phone[found[0].phone] == {borrower}
    }


def first_person(people: dict[str, list[Recorded]], verdicts: set[str], flagged: bool,
                 skip: tuple[str, ...] = ()) -> list[Recorded]:
    """The messages of the first borrower whose every message has one of `verdicts` and
    carries a flag (or none, when not flagged)."""
    for borrower, found in people.items():
        if borrower not in skip and all(m.verdict in verdicts and bool(m.flags) == flagged
                                        for m in found):
            return found
    raise AssertionError(f"no borrower with only {verdicts} (flagged {flagged})")
