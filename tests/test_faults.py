"""The right exit code for the right fault: the machine's is exit 1, the drop's is exit 2.

Out of memory and a spill folder that cannot be written are not the drop's fault, however
the file being read when they happen looks; a Parquet file whose data pages do not decode
is, even though DuckDB only reads them long after the file was "loaded".
"""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pytest
from drops import Drop, invoke

from reconcile.errors import EXIT_BAD_INPUT, EXIT_FAILURE

AS_OF = "2026-11-23T02:00:00+08:00"


def small_drop() -> Drop:
    drop = Drop().loan("L1").installment("L1", 1, "2026-11-01", "100.00")
    return drop.message("M1").message("M2", template_id="T_REM")


def run_with_config(data_dir: Path, tmp_path: Path, config: str) -> tuple[int, list[str]]:
    config_path = tmp_path / "reconcile.toml"
    config_path.write_text(config, encoding="utf-8")
    result = invoke("run", str(data_dir), "--out", str(tmp_path / "out"), "--as-of", AS_OF,
                    "--config", str(config_path))
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stderr.strip().splitlines()


def test_out_of_memory_is_a_machine_fault(tmp_path: Path) -> None:
    data_dir = small_drop().write(tmp_path / "in")
    code, lines = run_with_config(data_dir, tmp_path, 'memory_limit = "1MB"\n')
    assert code == EXIT_FAILURE, lines
    assert len(lines) == 1, lines
    assert lines[0].startswith(
        "reconcile: error: out of memory while loading send_batch.csv (memory_limit "), lines
    assert "Out of Memory Error" in lines[0]
    assert "not a readable CSV" not in lines[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_an_unwritable_spill_folder_is_a_machine_fault(tmp_path: Path) -> None:
    """Past memory_limit DuckDB spills to temp_directory; here a path under a plain file,
    which no one (root included) can create."""
    drop = Drop().loan("L1").installment("L1", 1, "2026-11-01", "100.00")
    for i in range(20_000):
        drop.message(f"M{i}", borrower_id=f"B{i}", message_text="x" * 200 + str(i))
    data_dir = drop.write(tmp_path / "in")
    (tmp_path / "a_file").write_text("not a folder", encoding="utf-8")
    spill = tmp_path / "a_file" / "spill"
    code, lines = run_with_config(
        data_dir, tmp_path, f'memory_limit = "12MB"\nthreads = 1\ntemp_directory = "{spill}"\n')
    assert code == EXIT_FAILURE, lines
    assert len(lines) == 1, lines
    assert f"cannot write the spill folder {spill} (temp_directory) while " in lines[0], lines
    assert "not a readable CSV" not in lines[0]
    assert not (tmp_path / "out").exists()


def test_a_csv_format_error_is_still_bad_input_naming_file_and_line(tmp_path: Path) -> None:
    data_dir = small_drop().write(tmp_path / "in")
    with (data_dir / "send_batch.csv").open("a", encoding="utf-8") as handle:
        handle.write("M3,B1,L1,too,few\r\n")
    code, lines = run_with_config(data_dir, tmp_path, 'memory_limit = "256MB"\n')
    assert code == EXIT_BAD_INPUT, lines
    assert lines[0].startswith("reconcile: error: send_batch.csv: line 4: not a readable CSV row")


def corrupt_data_pages(path: Path) -> None:
    """Overwrite a stretch in the middle of the file, where the data pages are; the footer
    (schema and row-group metadata) at the end stays intact, so the file still opens."""
    data = bytearray(path.read_bytes())
    start, end = len(data) * 3 // 10, len(data) * 5 // 10
    noise = random.Random(7)
    data[start:end] = bytes(noise.randrange(256) for _ in range(end - start))
    path.write_bytes(bytes(data))
    with duckdb.connect() as con:  # the footer still reads: the run gets past loading
        con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()


# Many rows of a table, as typed Parquet columns, for the tables whose pages are corrupted.
MANY_ROWS = {
    "send_batch": None,  # the drop's own messages
    "installments": "SELECT CASE WHEN i < 24 THEN 'L1' ELSE 'LX' || i // 24 END AS loan_id, "
                    "i % 24 + 1 AS installment_no, "
                    "DATE '2026-01-01' + CAST(i % 24 * 30 AS INTEGER) AS due_date, "
                    "CAST(100 AS DECIMAL(18, 2)) AS amount_due, "
                    "CAST(NULL AS TIMESTAMPTZ) AS updated_at FROM range(50000) AS r(i)",
    "payments": "SELECT 'P' || i AS payment_id, 'LX' || i AS loan_id, "
                "CAST(i % 997 AS DECIMAL(18, 2)) AS amount, 'settled' AS status, "
                "TIMESTAMPTZ '2026-10-01 10:00:00+08' + to_seconds(i) AS posted_at, "
                "CAST(NULL AS TIMESTAMPTZ) AS paid_at FROM range(50000) AS r(i)",
}


def parquet_drop(tmp_path: Path, table: str) -> Path:
    """A Parquet drop whose `table` has pages worth corrupting, Snappy-compressed."""
    drop = Drop().loan("L1").installment("L1", 1, "2026-11-01", "100.00")
    for i in range(3000):
        drop.message(f"M{i}", borrower_id=f"B{i}", message_text=f"please pay loan L1 ({i})")
    data_dir = drop.write(tmp_path / "in", "parquet")
    path = data_dir / f"{table}.parquet"
    rows = MANY_ROWS[table] or f"SELECT * FROM read_parquet('{path}')"
    with duckdb.connect() as con:
        con.execute(f"COPY ({rows}) TO '{path}.tmp' (FORMAT parquet, COMPRESSION snappy)")
    Path(f"{path}.tmp").replace(path)
    return data_dir


@pytest.mark.slow
@pytest.mark.parametrize("table", ["installments", "payments", "send_batch"])
def test_corrupt_parquet_data_pages_are_bad_input(tmp_path: Path, table: str) -> None:
    data_dir = parquet_drop(tmp_path, table)
    corrupt_data_pages(data_dir / f"{table}.parquet")
    code, lines = run_with_config(data_dir, tmp_path, 'memory_limit = "1GB"\n')
    assert code == EXIT_BAD_INPUT, lines
    assert len(lines) == 1, lines
    assert lines[0].startswith(
        f"reconcile: error: {table}.parquet: not a readable Parquet file ("), lines
    assert str(tmp_path) not in lines[0], "the file is named, not its whole path"
    assert not (tmp_path / "out").exists()
