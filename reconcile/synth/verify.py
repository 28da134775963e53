"""`verify()`: compare a run's findings.csv with a generated drop's labels.csv.

Rows are paired by `source_row` (the 1-based row of send_batch). A message agrees when both
files have it with the same message_id, verdict, set of flags, overdue_amount and
days_past_due. Per flag, the labels are the truth: a flag in both is a true positive, only
in the findings a false positive, only in the labels a false negative. DuckDB does the
join, so a drop of millions of messages is compared without holding it in Python.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb

from reconcile.checks import FEED_FLAGS, FLAGS
from reconcile.errors import InputError, one_line
from reconcile.faults import from_duckdb
from reconcile.sqlfiles import quote_identifier, quote_literal
from reconcile.synth.options import DEFAULT_SHOWN

COMPARED = ("message_id", "verdict", "flags", "overdue_amount", "days_past_due")
REQUIRED_COLUMNS = ("source_row", *COMPARED)


@dataclass(frozen=True)
class FlagScore:
    flag: str
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def expected(self) -> int:
        return self.true_positives + self.false_negatives

    @property
    def found(self) -> int:
        return self.true_positives + self.false_positives

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.found if self.found else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.expected if self.expected else None

    def to_dict(self) -> dict[str, Any]:
        return {"flag": self.flag, "expected": self.expected, "found": self.found,
                "tp": self.true_positives, "fp": self.false_positives,
                "fn": self.false_negatives, "precision": self.precision,
                "recall": self.recall}


@dataclass(frozen=True)
class Disagreement:
    """One message on which the two files differ; a side is None when its row is absent."""

    source_row: int
    expected: dict[str, str] | None
    found: dict[str, str] | None

    @property
    def message_id(self) -> str:
        side = self.expected or self.found or {}
        return side.get("message_id", "")

    @property
    def differences(self) -> tuple[str, ...]:
        if self.expected is None or self.found is None:
            return ("missing in findings",) if self.found is None else ("not in labels",)
        return tuple(c for c in COMPARED if _normal(c, self.expected[c])
                     != _normal(c, self.found[c]))

    def to_dict(self) -> dict[str, Any]:
        return {"source_row": self.source_row, "message_id": self.message_id,
                "differences": list(self.differences), "expected": self.expected,
                "found": self.found}


@dataclass(frozen=True)
class VerifyResult:
    labels_file: str
    findings_file: str
    labelled: int  # rows of labels.csv
    reported: int  # rows of findings.csv
    agreeing: int  # messages that agree on everything
    agreement: dict[str, int]  # per compared column: messages (in both files) that agree on it
    verdict_pairs: dict[tuple[str, str], int]  # (expected, found) -> messages
    flags: tuple[FlagScore, ...]
    disagreeing: int
    disagreements: tuple[Disagreement, ...]  # the first few, by source_row

    @property
    def ok(self) -> bool:
        return self.disagreeing == 0

    @property
    def messages(self) -> int:
        return self.agreeing + self.disagreeing

    def to_dict(self) -> dict[str, Any]:
        return {
            "labels": self.labels_file,
            "findings": self.findings_file,
            "labelled": self.labelled,
            "reported": self.reported,
            "agreeing": self.agreeing,
            "disagreeing": self.disagreeing,
            "agreement": self.agreement,
            "verdicts": [{"expected": e, "found": f, "messages": n}
                         for (e, f), n in sorted(self.verdict_pairs.items())],
            "flags": [score.to_dict() for score in self.flags],
            "disagreements": [d.to_dict() for d in self.disagreements],
        }


def _normal(column: str, value: str | None) -> str:
    """A value as compared: flags as a sorted set, numbers by value, empty as empty."""
    text = (value or "").strip()
    if column == "flags":
        return ";".join(sorted(f for f in text.split(";") if f))
    if column == "overdue_amount" and text:
        try:
            return f"{Decimal(text):.2f}"
        except InvalidOperation:
            return text
    if column == "days_past_due" and text.lstrip("+-").isdigit():
        return str(int(text))
    return text


def default_labels(run_out_dir: str | Path) -> Path:
    """The labels.csv of the drop a run read, as its summary.json names the drop: what
    labels_csv is when not given."""
    summary = Path(run_out_dir) / "summary.json"
    try:
        data_dir = json.loads(summary.read_text(encoding="utf-8"))["data_dir"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(f"not given, and {summary} does not say which drop the run read "
                         f"({error})", parameter="labels_csv") from error
    return Path(data_dir) / "labels.csv"


def _header(path: Path, what: str) -> tuple[str, ...]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{what} {path}: cannot be read ({error})") from error
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputError(f"{what} {path}: missing column {missing[0]}")
    return tuple(header)


def _reader(path: Path, header: tuple[str, ...]) -> str:
    spec = ", ".join(f"{quote_literal(c)}: 'VARCHAR'" for c in header)
    columns = ", ".join(
        f"coalesce(trim({quote_identifier(c)}), '') AS {c}" for c in COMPARED)
    return (f"SELECT TRY_CAST(source_row AS BIGINT) AS source_row, {columns} FROM read_csv("
            f"{quote_literal(str(path))}, header = true, auto_detect = false, delim = ',', "
            f"quote = '\"', escape = '\"', columns = {{{spec}}})")


# Normal forms in SQL, as _normal does in Python.
_FLAG_LIST = "list_sort(list_filter(string_split({0}, ';'), lambda x: x <> ''))"
_AMOUNT = "coalesce(CAST(TRY_CAST({0} AS DECIMAL(38, 2)) AS VARCHAR), {0})"
_DAYS = "coalesce(CAST(TRY_CAST({0} AS BIGINT) AS VARCHAR), {0})"


def verify(labels_csv: str | Path, findings_csv: str | Path,
           show: int = DEFAULT_SHOWN) -> VerifyResult:
    """Compare findings_csv (a run) with labels_csv (the expected answers), message by message."""
    labels_csv, findings_csv = Path(labels_csv), Path(findings_csv)
    labels_header = _header(labels_csv, "labels")
    findings_header = _header(findings_csv, "findings")
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        try:
            return _compare(con, labels_csv, labels_header, findings_csv, findings_header, show)
        except duckdb.Error as error:
            raise from_duckdb(error, f"comparing {labels_csv.name} with {findings_csv.name}",
                              con=con, inputs=[labels_csv, findings_csv],
                              bad_input=f"cannot compare {labels_csv} with {findings_csv}: "
                                        f"{one_line(error)}") from error
    finally:
        con.close()


def _compare(con: duckdb.DuckDBPyConnection, labels_csv: Path,
             labels_header: tuple[str, ...], findings_csv: Path,
             findings_header: tuple[str, ...], show: int) -> VerifyResult:
    con.execute(f"CREATE TABLE l AS {_reader(labels_csv, labels_header)}")
    con.execute(f"CREATE TABLE f AS {_reader(findings_csv, findings_header)}")
    for side, path in (("l", labels_csv), ("f", findings_csv)):
        row = con.execute(f"SELECT count(*) FILTER (WHERE source_row IS NULL), "
                          f"count(*) - count(DISTINCT source_row) FROM {side}").fetchone()
        if row and row[0]:
            raise InputError(f"{path}: {row[0]} rows without a whole-number source_row")
        if row and row[1]:
            raise InputError(f"{path}: a source_row appears more than once")
    same = {
        "message_id": "l.message_id = f.message_id",
        "verdict": "l.verdict = f.verdict",
        "flags": f"{_FLAG_LIST.format('l.flags')} = {_FLAG_LIST.format('f.flags')}",
        "overdue_amount": f"{_AMOUNT.format('l.overdue_amount')} = "
                          f"{_AMOUNT.format('f.overdue_amount')}",
        "days_past_due": f"{_DAYS.format('l.days_past_due')} = {_DAYS.format('f.days_past_due')}",
    }
    con.execute(
        "CREATE TABLE pairs AS SELECT coalesce(l.source_row, f.source_row) AS source_row, "
        "l.source_row IS NOT NULL AS in_labels, f.source_row IS NOT NULL AS in_findings, "
        + ", ".join(f"coalesce({sql}, false) AS same_{column}" for column, sql in same.items())
        + ", " + _FLAG_LIST.format("coalesce(l.flags, '')") + " AS expected_flags"
        + ", " + _FLAG_LIST.format("coalesce(f.flags, '')") + " AS found_flags"
        + ", coalesce(l.verdict, '') AS expected_verdict, coalesce(f.verdict, '') AS "
          "found_verdict FROM l FULL OUTER JOIN f ON l.source_row = f.source_row"
    )
    all_same = " AND ".join(f"same_{c}" for c in COMPARED)
    counts = con.execute(
        "SELECT count(*) FILTER (WHERE in_labels), count(*) FILTER (WHERE in_findings), "
        f"count(*) FILTER (WHERE in_labels AND in_findings AND {all_same}), "
        + ", ".join(f"count(*) FILTER (WHERE same_{c})" for c in COMPARED)
        + " FROM pairs"
    ).fetchone()
    assert counts is not None
    labelled, reported, agreeing, *per_column = (int(n) for n in counts)
    verdict_pairs = {
        (str(e), str(f)): int(n) for e, f, n in con.execute(
            "SELECT expected_verdict, found_verdict, count(*) FROM pairs GROUP BY ALL")
        .fetchall()
    }
    scores = {
        str(flag): FlagScore(str(flag), int(tp), int(fp), int(fn))
        for flag, tp, fp, fn in con.execute(
            "SELECT flag, count(*) FILTER (WHERE list_contains(expected_flags, flag) AND "
            "list_contains(found_flags, flag)), count(*) FILTER (WHERE NOT "
            "list_contains(expected_flags, flag)), count(*) FILTER (WHERE NOT "
            "list_contains(found_flags, flag)) FROM (SELECT unnest(list_distinct("
            "list_concat(expected_flags, found_flags))) AS flag, expected_flags, found_flags "
            "FROM pairs) GROUP BY flag").fetchall()
    }
    ordered = [scores.pop(flag, FlagScore(flag, 0, 0, 0)) for flag in FLAGS
               if flag in scores or flag not in FEED_FLAGS]
    ordered += [scores[flag] for flag in sorted(scores)]
    rows = con.execute(
        "SELECT p.source_row, "
        + ", ".join(f"l.{c}" for c in COMPARED) + ", "
        + ", ".join(f"f.{c}" for c in COMPARED)
        + ", p.in_labels, p.in_findings FROM pairs AS p "
        "LEFT JOIN l ON l.source_row = p.source_row "
        "LEFT JOIN f ON f.source_row = p.source_row "
        f"WHERE NOT (in_labels AND in_findings AND {all_same}) "
        f"ORDER BY p.source_row LIMIT {int(show)}"
    ).fetchall()
    (disagreeing,) = con.execute(
        f"SELECT count(*) FROM pairs WHERE NOT (in_labels AND in_findings AND {all_same})"
    ).fetchone() or (0,)
    width = len(COMPARED)
    shown = tuple(
        Disagreement(
            int(row[0]),
            dict(zip(COMPARED, row[1:1 + width], strict=True)) if row[-2] else None,
            dict(zip(COMPARED, row[1 + width:1 + 2 * width], strict=True)) if row[-1] else None,
        )
        for row in rows
    )
    return VerifyResult(
        labels_file=str(labels_csv),
        findings_file=str(findings_csv),
        labelled=labelled,
        reported=reported,
        agreeing=agreeing,
        agreement=dict(zip(COMPARED, per_column, strict=True)),
        verdict_pairs=verdict_pairs,
        flags=tuple(ordered),
        disagreeing=int(disagreeing),
        disagreements=shown,
    )
