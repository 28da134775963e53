"""Unusable input: a clear one-line exit 2 for a broken drop, `rejected` for a broken row."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from drops import Drop, invoke, read_csv_rows, run_drop

from reconcile.errors import EXIT_BAD_INPUT

AS_OF = "2026-11-23T02:00:00+08:00"


def good_drop() -> Drop:
    drop = Drop().loan("L1").installment("L1", 1, "2026-11-01", "100.00")
    # A part payment the morning before: a payment feed that is neither empty nor behind.
    drop.payment("P0", "L1", "10.00", posted_at="2026-11-22T10:00:00+08:00")
    # Two templates: the same borrower, loan and template twice would be DUPLICATE_IN_BATCH.
    return drop.message("M1").message("M2", template_id="T_REM")


def run_folder(data_dir: Path, tmp_path: Path) -> tuple[int, str]:
    result = invoke("run", data_dir, "--out", tmp_path / "out", "--as-of", AS_OF)
    return result.exit_code, result.stderr


def assert_bad_input(data_dir: Path, tmp_path: Path, *expected: str) -> None:
    code, stderr = run_folder(data_dir, tmp_path)
    assert code == EXIT_BAD_INPUT, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for text in expected:
        assert text in lines[0]
    assert not (tmp_path / "out").exists(), "a failed run must not leave an output folder"


def test_missing_required_table(tmp_path: Path) -> None:
    data_dir = good_drop().write(tmp_path / "in")
    (data_dir / "payments.csv").unlink()
    assert_bad_input(data_dir, tmp_path, "missing required table payments", "payments.csv")


@pytest.mark.slow
def test_missing_optional_rules_table_is_fine(tmp_path: Path) -> None:
    data_dir = good_drop().write(tmp_path / "in")
    (data_dir / "rules.csv").unlink()
    code, stderr = run_folder(data_dir, tmp_path)
    assert code == 0, stderr


def test_missing_data_folder(tmp_path: Path) -> None:
    assert_bad_input(tmp_path / "nowhere", tmp_path, "no such folder")


def test_table_given_twice(tmp_path: Path) -> None:
    data_dir = good_drop().write(tmp_path / "in")
    shutil.copy(data_dir / "loans.csv", data_dir / "loans.csv.gz")
    assert_bad_input(data_dir, tmp_path, "loans", "given twice")


@pytest.mark.parametrize(
    ("table", "column"),
    [("send_batch", "scheduled_at"), ("installments", "amount_due"), ("payments", "posted_at"),
     ("templates", "kind"), ("loans", "status")],
)
def test_missing_required_column(tmp_path: Path, table: str, column: str) -> None:
    drop = good_drop()
    for row in drop.tables[table]:
        row.pop(column, None)
    data_dir = drop.write(tmp_path / "in")
    path = data_dir / f"{table}.csv"
    header, *rest = path.read_text(encoding="utf-8").splitlines()
    kept = [name for name in header.split(",") if name != column]
    positions = [header.split(",").index(name) for name in kept]
    body = [",".join(line.split(",")[i] for i in positions) for line in rest]
    path.write_text("\n".join([",".join(kept), *body]) + "\n", encoding="utf-8")
    assert_bad_input(data_dir, tmp_path, f"{table}.csv", f"missing required column {column}")


def test_upper_case_column_name_gets_a_hint(tmp_path: Path) -> None:
    data_dir = good_drop().write(tmp_path / "in")
    path = data_dir / "loans.csv"
    path.write_text(path.read_text().replace("status", "Status", 1), encoding="utf-8")
    assert_bad_input(data_dir, tmp_path, "missing required column status", "lower-case")


def test_empty_send_batch(tmp_path: Path) -> None:
    data_dir = good_drop().write(tmp_path / "in")
    path = data_dir / "send_batch.csv"
    path.write_text(path.read_text().splitlines()[0] + "\n", encoding="utf-8")
    assert_bad_input(data_dir, tmp_path, "send_batch.csv", "no messages")


def test_zero_byte_file(tmp_path: Path) -> None:
    data_dir = good_drop().write(tmp_path / "in")
    (data_dir / "payments.csv").write_bytes(b"")
    assert_bad_input(data_dir, tmp_path, "payments.csv", "empty file")


def test_garbled_csv_names_the_line(tmp_path: Path) -> None:
    data_dir = good_drop().write(tmp_path / "in")
    path = data_dir / "send_batch.csv"
    lines = path.read_text().splitlines()
    lines[2] = lines[2] + ",surplus,fields"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert_bad_input(data_dir, tmp_path, "send_batch.csv", "line 3")


def test_non_utf8_file(tmp_path: Path) -> None:
    data_dir = good_drop().write(tmp_path / "in")
    path = data_dir / "send_batch.csv"
    text = path.read_text().replace("T_COL", "催收模板", 1)
    path.write_bytes(text.encode("gb18030"))
    assert_bad_input(data_dir, tmp_path, "send_batch.csv", "line 2")


def test_non_utf8_header(tmp_path: Path) -> None:
    data_dir = good_drop().write(tmp_path / "in")
    (data_dir / "loans.csv").write_bytes("贷款编号,loan_id\n".encode("gb18030"))
    assert_bad_input(data_dir, tmp_path, "loans.csv line 1", "UTF-8")


def test_not_a_parquet_file(tmp_path: Path) -> None:
    data_dir = good_drop().write(tmp_path / "in")
    (data_dir / "loans.csv").unlink()
    (data_dir / "loans.parquet").write_bytes(b"this is not parquet")
    assert_bad_input(data_dir, tmp_path, "loans.parquet", "not a readable Parquet file")


@pytest.mark.slow
def test_bom_and_gzip_are_read(tmp_path: Path) -> None:
    data_dir = good_drop().write(tmp_path / "in")
    batch = data_dir / "send_batch.csv"
    batch.write_bytes(b"\xef\xbb\xbf" + batch.read_bytes())
    loans = data_dir / "loans.csv"
    (data_dir / "loans.csv.gz").write_bytes(gzip.compress(loans.read_bytes()))
    loans.unlink()
    code, stderr = run_folder(data_dir, tmp_path)
    assert code == 0, stderr
    rows = read_csv_rows(tmp_path / "out" / "findings.csv")
    assert [r["verdict"] for r in rows] == ["send", "send"]


@pytest.mark.slow
def test_extra_columns_are_kept_in_the_split_files(tmp_path: Path) -> None:
    drop = good_drop()
    for row in drop.tables["send_batch"]:
        row["channel"] = "sms"
    findings = run_drop(drop, tmp_path)
    assert set(findings) == {"M1", "M2"}
    sent = read_csv_rows(tmp_path / "out_csv" / "send.csv")
    assert [r["channel"] for r in sent] == ["sms", "sms"]


REJECTIONS = [
    ({"scheduled_at": "2026-11-31 09:00"}, "scheduled_at '2026-11-31 09:00' is not a timestamp"),
    ({"scheduled_at": "2026-11-23"}, "scheduled_at '2026-11-23' is not a timestamp"),
    ({"rule_evaluated_at": "22/11/2026 22:00"}, "rule_evaluated_at '22/11/2026 22:00' is not"),
    ({"claimed_days_past_due": "3.5"}, "claimed_days_past_due '3.5' is not an integer"),
    ({"claimed_overdue_amount": "1,234.00"}, "claimed_overdue_amount '1,234.00' is not an amount"),
    ({"claimed_overdue_amount": "10.001"}, "claimed_overdue_amount '10.001' is not an amount"),
    ({"phone": ""}, "phone is empty"),
    ({"phone": "   "}, "phone is empty"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("change", "reason"), REJECTIONS)
def test_unreadable_message_is_rejected_with_its_cause(
    tmp_path: Path, change: dict[str, str], reason: str
) -> None:
    drop = good_drop()
    drop.tables["send_batch"][1].update(change)
    findings = run_drop(drop, tmp_path)
    assert findings["M1"]["verdict"] == "send"
    assert findings["M2"]["verdict"] == "rejected"
    assert reason in findings["M2"]["reason"]
    rejected = read_csv_rows(tmp_path / "out_csv" / "rejected.csv")
    assert [r["message_id"] for r in rejected] == ["M2"]


@pytest.mark.slow
def test_every_copy_of_a_repeated_message_id_is_rejected(tmp_path: Path) -> None:
    drop = good_drop().message("M1")
    run_drop(drop, tmp_path)
    rows = read_csv_rows(tmp_path / "out_csv" / "findings.csv")
    assert [(r["message_id"], r["verdict"]) for r in rows] == [
        ("M1", "rejected"), ("M2", "send"), ("M1", "rejected")]
    assert "message_id M1 appears 2 times" in rows[0]["reason"]


@pytest.mark.slow
def test_all_causes_of_a_row_are_listed(tmp_path: Path) -> None:
    drop = good_drop()
    drop.tables["send_batch"][0].update(phone="", claimed_days_past_due="x")
    findings = run_drop(drop, tmp_path)
    assert findings["M1"]["reason"] == "phone is empty; claimed_days_past_due 'x' is not an integer"


@pytest.mark.slow
def test_unusable_reference_rows_are_listed(tmp_path: Path) -> None:
    drop = good_drop().payment("P9", "", "10.00").rule("R_BAD", "marketing")
    run_drop(drop, tmp_path)
    issues = read_csv_rows(tmp_path / "out_csv" / "input_issues.csv")
    assert [(i["table"], i["source_row"], i["reason"]) for i in issues] == [
        ("payments", "2", "loan_id is empty"),
        ("rules", "3", "category 'marketing' is not one of delinquency, risk_control, reminder"),
    ]


@pytest.mark.slow
def test_a_bound_violation_reads_the_same_from_csv_and_parquet(tmp_path: Path) -> None:
    """A payment of 0 is '0' in a CSV and 0.00 in typed Parquet; the reason must not tell
    which file format the lender used (hypothesis found this)."""
    drop = good_drop().payment("P1", "L1", "0")
    reasons = {}
    for fmt in ("csv", "parquet"):
        findings = run_drop(drop, tmp_path / fmt, fmt=fmt)
        reasons[fmt] = findings["M1"]["reason"].replace(".parquet", ".csv")
    assert reasons["csv"] == reasons["parquet"]
    assert "amount 0.00 must be > 0" in reasons["csv"]


@pytest.mark.slow
def test_unusable_ledger_rows_read_the_same_from_a_parquet_view(tmp_path: Path) -> None:
    """A Parquet ledger table is a view whose unusable rows are worked out once, beside it
    (staging.stage): every kind of reason, a repeated key's included, and the truth that
    leaves those rows out, must read as they do from a CSV's staged copy."""
    drop = good_drop().installment("L1", 2, "2026-11-02", "-5.00")
    drop.installment("L1", 3, "2026-11-03", "30.00").installment("L1", 3, "2026-11-04", "1.00")
    drop.payment("P0", "L1", "7.00").payment("P1", "", "10.00").payment("P2", "L1", "0")
    drop.payment("P3", "L1", "20.00", status="pending")
    issues, findings = {}, {}
    for fmt in ("csv", "parquet"):
        findings[fmt] = run_drop(drop, tmp_path, fmt=fmt)
        issues[fmt] = [(i["table"], i["source_row"], i["reason"])
                       for i in read_csv_rows(tmp_path / f"out_{fmt}" / "input_issues.csv")]
    assert issues["parquet"] == issues["csv"]
    assert [reason for table, _, reason in issues["csv"] if table == "installments"] == [
        "amount_due -5.00 must be ≥ 0", "loan_id/installment_no L1/3 appears 2 times",
        "loan_id/installment_no L1/3 appears 2 times"]
    assert [reason for table, _, reason in issues["csv"] if table == "payments"] == [
        "payment_id P0 appears 2 times", "payment_id P0 appears 2 times", "loan_id is empty",
        "amount 0.00 must be > 0"]
    for message_id, row in findings["csv"].items():
        assert findings["parquet"][message_id]["reason"] == row["reason"].replace(
            ".csv", ".parquet")
