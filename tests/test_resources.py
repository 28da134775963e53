"""The resource settings, and the loan buckets and message parts they lead to, never change
a finding.

A drop too large for memory_limit has its ledger truth worked out in loan buckets and its
verdicts decided in parts of consecutive messages (reconcile/nightly/decide.py); here a
generated drop is run in one bucket and in several, in one part and in several, and under
other memory and thread settings, and every output file must be the same bytes.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import duckdb
import pytest
from drops import invoke

from reconcile.nightly import decide
from reconcile.synth.generator import CONFIG_FILE, generate

OUTPUTS = ("findings.csv", "findings.parquet", "send.csv", "hold.csv", "block.csv",
           "rejected.csv", "input_issues.csv")


@pytest.fixture(scope="module")
def drop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("resources") / "drop"
    generate(folder, 1500, 211)
    return folder


def run(drop: Path, out: Path, config_lines: str = "") -> dict[str, bytes]:
    config = out.parent / f"{out.name}.toml"
    config.write_text((drop / CONFIG_FILE).read_text(encoding="utf-8") + config_lines,
                      encoding="utf-8")
    as_of = json.loads((drop / "drop.json").read_text(encoding="utf-8"))["as_of"]
    result = invoke("run", drop, "--out", out, "--as-of", as_of, "-q", "--config", config)
    assert result.exit_code == 0, result.output
    return {name: (out / name).read_bytes() for name in OUTPUTS}


@pytest.mark.slow
@pytest.mark.parametrize("buckets", [2, 7])
def test_loan_buckets_give_the_same_outputs(drop: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch,
                                            buckets: int) -> None:
    whole = run(drop, tmp_path / "whole")
    monkeypatch.setattr(decide, "loan_buckets", lambda con: buckets)
    assert run(drop, tmp_path / "buckets") == whole


@pytest.mark.slow
@pytest.mark.parametrize("rows_per_part", [1, 97, 700])
def test_message_parts_give_the_same_outputs(drop: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             rows_per_part: int) -> None:
    whole = run(drop, tmp_path / "whole")
    monkeypatch.setattr(decide, "_ROW_GROUP_ROWS", rows_per_part)
    monkeypatch.setattr(decide, "_BYTES_PER_MESSAGE", 2**62)  # a part per message, rounded
    assert run(drop, tmp_path / "parts") == whole


@pytest.mark.slow
def test_memory_and_threads_give_the_same_outputs(drop: Path, tmp_path: Path) -> None:
    whole = run(drop, tmp_path / "whole")
    limited = run(drop, tmp_path / "limited", '\nmemory_limit = "64MB"\nthreads = 1\n')
    assert limited == whole


def connection(memory_limit: str, create_table: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(create_table)
    return con


def batch_of(rows: int, first: int = 1) -> str:
    """send_batch of `rows` messages numbered from `first`."""
    return f"CREATE TABLE send_batch AS SELECT range + {first} AS source_row FROM range({rows})"


@pytest.mark.parametrize(("messages", "memory_limit", "buckets"), [
    (0, "3GB", 1),
    (1_000_000, "3GB", 1),
    (10_000_000, "3GB", 1),
    (30_000_000, "3GB", 3),
    (10_000_000, "1GB", 3),
    (30_000_000, "24GB", 1),
])
def test_loan_buckets_grow_with_the_messages_per_byte_of_memory(
        messages: int, memory_limit: str, buckets: int) -> None:
    con = connection(memory_limit, f"CREATE TABLE message_inputs AS "
                                   f"SELECT true AS truth_known FROM range({messages})")
    assert decide.loan_buckets(con) == buckets


@pytest.mark.parametrize(("messages", "memory_limit", "parts"), [
    (0, "3GB", 1),
    (1_000_000, "3GB", 1),
    (1_400_000, "3GB", 1),
    (10_000_000, "3GB", 8),
    (30_000_000, "3GB", 21),
    (10_000_000, "24GB", 1),
])
def test_message_parts_grow_with_the_messages_per_byte_of_memory(
        messages: int, memory_limit: str, parts: int) -> None:
    con = connection(memory_limit, batch_of(messages))
    assert len(decide.message_parts(con)) == parts


@pytest.mark.parametrize(("first", "rows"), [(1, 0), (1, 1), (1, 400_000), (5, 250_000)])
def test_message_parts_cover_the_batch_in_whole_row_groups(first: int, rows: int) -> None:
    parts = decide.message_parts(connection("300MB", batch_of(rows, first)))
    assert parts[0]["first_source_row"] == first
    assert parts[-1]["last_source_row"] == first + rows - 1
    for earlier, later in itertools.pairwise(parts):
        assert later["first_source_row"] == earlier["last_source_row"] + 1
    for part in parts[:-1]:
        size = part["last_source_row"] - part["first_source_row"] + 1
        assert size % decide._ROW_GROUP_ROWS == 0
