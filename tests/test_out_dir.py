"""--out never harms what it does not own (reconcile.nightly.out_dir).

Two runs into one folder never both proceed: the second exits 75 and touches nothing. A run
removes only what a reconcile run provably wrote: an output whose manifest matches it, and
working folders beside it whose name and owner file name a dead run of the same folder.

A live run is a real second process (`live_run`): it holds the folder's lock with a staged
output and a spill folder, tells the test it is ready, and finishes when the test closes its
stdin (or is killed). Nothing here waits on a timer to synchronise.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import Result
from drops import Drop, invoke

from reconcile import atomic, locks, run
from reconcile.errors import EXIT_BAD_INPUT, EXIT_LOCKED, EXIT_OK, ConfigError
from reconcile.nightly import out_dir, writer
from reconcile.nightly.out_dir import MANIFEST_FILE, OWNER_FILE, OutputClaim, claim

# Nearly every test here runs the CLI, some of them twice at once. Left out by `pytest -m "not
# slow"`.
pytestmark = pytest.mark.slow

AS_OF = "2026-11-23T02:00:00+08:00"
OUTPUT_FILES = {
    "findings.csv", "findings.parquet", "send.csv", "hold.csv", "block.csv", "rejected.csv",
    "input_issues.csv", "summary.json", MANIFEST_FILE,
}
DEAD_RUN = "20261123T000000Z-aaaaaa"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    drop = Drop().loan("L1").installment("L1", 1, "2026-11-01", "100.00")
    drop.message("M1").message("M2", loan_id="LX")
    return drop.write(tmp_path / "in")


def run_cli(data_dir: Path, out: Path, *extra: str | Path) -> Result:
    return invoke("run", str(data_dir), "--out", str(out), "--as-of", AS_OF, "-q",
                  *(str(e) for e in extra))


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under folder (relative path -> bytes)."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def beside(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir())


def manifest_run(out: Path) -> str:
    return str(json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))["run_id"])


# A run of another process, holding `out`'s claim until its stdin is closed: a staged
# output (one file) and a spill folder, both beside `out` with their owner files.
LIVE_RUN = """
import sys
from pathlib import Path
from reconcile.nightly.out_dir import claim
out, run_id = Path(sys.argv[1]), sys.argv[2]
with claim(out, run_id) as held:
    (held.spill_folder() / "duckdb_temp_storage-0.tmp").write_bytes(b"spilled")
    with held.staged() as folder:
        (folder / "findings.csv").write_text("message_id\\n", encoding="utf-8")
        print(folder.parent, flush=True)
        sys.stdin.read()
"""


@dataclass
class LiveRun:
    process: subprocess.Popen[str]
    run_id: str
    partial: Path

    def finish(self) -> None:
        """Let it publish its output and exit."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        assert self.process.wait() == 0

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()


@contextmanager
def live_run(out: Path, run_id: str = "20261123T015900Z-bbbbbb") -> Iterator[LiveRun]:
    process = subprocess.Popen([sys.executable, "-c", LIVE_RUN, str(out), run_id],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        ready = process.stdout.readline().strip()  # it holds the lock once it has printed
        assert ready, "the live run did not start"
        yield LiveRun(process, run_id, Path(ready))
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()


def test_a_second_run_into_the_same_out_exits_75_and_harms_nothing(
        data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli(data_dir, out).exit_code == EXIT_OK
    earlier = snapshot(out)
    with live_run(out) as first:
        working = snapshot(tmp_path)
        result = run_cli(data_dir, out)
        assert result.exit_code == EXIT_LOCKED, result.output
        assert f"output folder {out} is in use by run {first.run_id} (pid " in result.stderr
        assert snapshot(tmp_path) == working  # its partial and spill folders, out as it was
        with pytest.raises(locks.Locked, match="is in use by run"):
            run(data_dir, out, as_of=AS_OF)
        assert snapshot(tmp_path) == working
        first.finish()
    # The first run published; the second harmed nothing of it.
    assert manifest_run(out) == first.run_id
    assert (out / "findings.csv").read_text(encoding="utf-8") == "message_id\n"
    assert beside(out) == [".out.lock", "in", "out"]
    # Its output is a reconcile output: a later run replaces it.
    assert run_cli(data_dir, out).exit_code == EXIT_OK
    assert set(snapshot(out)) == OUTPUT_FILES and snapshot(out) != earlier


def test_a_live_run_into_a_neighbouring_out_is_untouched(data_dir: Path, tmp_path: Path) -> None:
    """`.out.*` also matches `.out.rerun.<run>.partial`: names alone decide nothing."""
    out, rerun = tmp_path / "out", tmp_path / "out.rerun"
    with live_run(rerun) as other:
        before = snapshot(tmp_path)
        assert run_cli(data_dir, out).exit_code == EXIT_OK
        assert run(data_dir, out, as_of=AS_OF).messages == 2
        after = snapshot(tmp_path)
        assert {k: v for k, v in after.items() if not k.startswith(("out/", ".out.lock"))} == before
        assert other.partial.is_dir()
        other.finish()
    assert manifest_run(rerun) == other.run_id
    assert beside(out) == [".out.lock", ".out.rerun.lock", "in", "out", "out.rerun"]


def test_a_killed_runs_working_folders_are_healed(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli(data_dir, out).exit_code == EXIT_OK
    with live_run(out) as killed:
        killed.kill()  # SIGKILL: its lock dies with it, its folders stay
    assert killed.partial.is_dir() and (killed.partial / OWNER_FILE).is_file()
    assert sorted(p.name for p in tmp_path.iterdir() if ".spill" in p.name) == [
        f".out.{killed.run_id}.spill"]
    assert run_cli(data_dir, out).exit_code == EXIT_OK
    assert beside(out) == [".out.lock", "in", "out"]
    assert set(snapshot(out)) == OUTPUT_FILES


def test_an_output_parked_by_a_run_killed_between_its_renames_is_put_back(
        data_dir: Path, tmp_path: Path) -> None:
    """Killed after moving OUT_DIR into its `.previous` and before moving its new output
    in: the next run puts the old output back before anything else."""
    out = tmp_path / "out"
    assert run_cli(data_dir, out).exit_code == EXIT_OK
    earlier = snapshot(out)
    dead = OutputClaim(out.resolve(), DEAD_RUN)
    dead.spill_folder()
    partial = dead.working_folder("partial")
    (partial / out_dir.OUTPUT_INSIDE).mkdir()
    (partial / out_dir.OUTPUT_INSIDE / "findings.csv").write_text("half")
    out.rename(dead.working_folder("previous") / out_dir.OUTPUT_INSIDE)
    assert not out.exists()
    # Killed right after creating a folder, before its owner file: it holds nothing.
    (tmp_path / ".out.20261123T000100Z-eeeeee.partial").mkdir()
    with claim(out, "20261123T020000Z-cccccc"):
        assert snapshot(out) == earlier
        assert beside(out) == [".out.lock", "in", "out"]
    assert run_cli(data_dir, out).exit_code == EXIT_OK
    assert beside(out) == [".out.lock", "in", "out"]


def test_lookalikes_without_a_matching_owner_are_left_alone(
        data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    lookalikes = {
        f".out.{DEAD_RUN}.partial": {"keep.txt": "no owner file"},
        f".out.{DEAD_RUN}.previous": {"findings.csv": "someone's", "summary.json": "{}"},
        f".out.{DEAD_RUN}.spill": {OWNER_FILE: json.dumps(
            {"written_by": "reconcile", "run_id": "20261123T000000Z-dddddd"})},
        ".out.nightly.partial": {OWNER_FILE: json.dumps(
            {"written_by": "reconcile", "run_id": "nightly"})},
        f".out.{DEAD_RUN}.partial.bak": {OWNER_FILE: json.dumps(
            {"written_by": "reconcile", "run_id": DEAD_RUN})},
        f".out.{DEAD_RUN}.old": {OWNER_FILE: json.dumps(
            {"written_by": "reconcile", "run_id": DEAD_RUN})},
    }
    for name, files in lookalikes.items():
        (tmp_path / name).mkdir()
        for file_name, text in files.items():
            (tmp_path / name / file_name).write_text(text, encoding="utf-8")
    before = snapshot(tmp_path)
    assert run_cli(data_dir, out).exit_code == EXIT_OK  # out is missing: nothing is put back
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if not k.startswith(("out/", ".out.lock"))} == before
    assert set(snapshot(out)) == OUTPUT_FILES


def test_a_foreign_folder_is_exit_2_and_every_file_stays(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    out.mkdir()
    (out / "summary.json").write_text('{"accuracy": 0.93}\n', encoding="utf-8")
    (out / "model.pkl").write_bytes(b"\x80\x04pickle")
    (out / "notes.md").write_text("# notes\n", encoding="utf-8")
    before = snapshot(tmp_path)
    result = run_cli(data_dir, out)
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert f"--out: {out} is not empty and is not a reconcile output" in result.stderr
    with pytest.raises(ConfigError, match=r"^out_dir: .* is not a reconcile output"):
        run(data_dir, out, as_of=AS_OF)
    assert snapshot(tmp_path) == {**before, ".model.lock": b""}  # the lock file is new
    assert beside(out) == [".model.lock", "in", "model"]


@pytest.mark.parametrize("change", ["added", "removed", "changed"])
def test_an_earlier_output_someone_changed_is_exit_2(
        data_dir: Path, tmp_path: Path, change: str) -> None:
    out = tmp_path / "out"
    assert run_cli(data_dir, out).exit_code == EXIT_OK
    if change == "added":
        (out / "stale-note.txt").write_text("my notes", encoding="utf-8")
        named = "stale-note.txt"
    elif change == "removed":
        (out / "hold.csv").unlink()
        named = "hold.csv"
    else:
        with (out / "send.csv").open("a", encoding="utf-8") as handle:
            handle.write("an edit\n")
        named = "send.csv"
    before = snapshot(tmp_path)
    result = run_cli(data_dir, out)
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert f"holds the output of reconcile run {manifest_run(out)}" in result.stderr
    assert f"(found {change} {named})" in result.stderr
    assert snapshot(tmp_path) == before


def test_a_file_added_while_the_run_works_is_not_deleted(
        data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The folder is checked again just before it is replaced."""
    out = tmp_path / "out"
    assert run_cli(data_dir, out).exit_code == EXIT_OK
    write_summary = writer.write_summary

    def a_user_adds_a_file(*args: object) -> None:
        write_summary(*args)  # type: ignore[arg-type]
        (out / "late.txt").write_text("mine", encoding="utf-8")

    monkeypatch.setattr(writer, "write_summary", a_user_adds_a_file)
    result = run_cli(data_dir, out)
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "found added late.txt" in result.stderr
    assert (out / "late.txt").read_text(encoding="utf-8") == "mine"
    assert beside(out) == [".out.lock", "in", "out"]


@pytest.mark.parametrize("can_exchange", [True, False])
def test_an_earlier_output_is_replaced(data_dir: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch,
                                       can_exchange: bool) -> None:
    """Swapped with the new one in one step, so OUT_DIR is never missing; or, where the
    system cannot exchange two folders, parked and then replaced."""
    exchanged: list[bool] = []
    real_exchange = atomic.exchange

    def exchange(first: Path, second: Path) -> bool:
        exchanged.append(second.is_dir())  # OUT_DIR is there as the swap starts
        return real_exchange(first, second) if can_exchange else False

    monkeypatch.setattr(atomic, "exchange", exchange)
    out = tmp_path / "out"
    first = run(data_dir, out, as_of=AS_OF)
    assert manifest_run(out) == first.run_id
    manifest = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["written_by"] == "reconcile" and manifest["reconcile_version"]
    assert manifest["files"] == {p.name: p.stat().st_size for p in out.iterdir()
                                 if p.name != MANIFEST_FILE}
    second = run(data_dir, out, as_of=AS_OF)
    assert manifest_run(out) == second.run_id != first.run_id
    assert set(snapshot(out)) == OUTPUT_FILES
    assert beside(out) == [".out.lock", "in", "out"]
    assert exchanged == [True]


def test_a_legacy_output_without_a_manifest_is_replaced(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli(data_dir, out).exit_code == EXIT_OK
    (out / MANIFEST_FILE).unlink()
    assert run_cli(data_dir, out).exit_code == EXIT_OK
    assert set(snapshot(out)) == OUTPUT_FILES
    # ...but not with a file of someone else's in it.
    (out / MANIFEST_FILE).unlink()
    (out / "model.pkl").write_bytes(b"mine")
    before = snapshot(tmp_path)
    result = run_cli(data_dir, out)
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "and also model.pkl, which no reconcile run wrote" in result.stderr
    assert snapshot(tmp_path) == before


def test_an_out_that_is_a_file_is_exit_2(data_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "out").write_text("x", encoding="utf-8")
    result = run_cli(data_dir, tmp_path / "out")
    assert result.exit_code == EXIT_BAD_INPUT
    assert "--out: " in result.stderr and "exists and is not a folder" in result.stderr
    assert (tmp_path / "out").read_text(encoding="utf-8") == "x"


def test_working_folders_have_owners_and_a_given_temp_directory_stays(
        data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    seen: dict[str, dict[str, object]] = {}
    write_tables = writer.write_tables

    def look_beside(*args: object) -> None:
        write_tables(*args)  # type: ignore[arg-type]
        for folder in tmp_path.glob(".out.*.*"):
            if folder.is_dir():
                seen[folder.name.rsplit(".", 1)[1]] = json.loads(
                    (folder / OWNER_FILE).read_text(encoding="utf-8"))

    monkeypatch.setattr(writer, "write_tables", look_beside)
    result = run(data_dir, out, as_of=AS_OF)
    assert set(seen) == {"partial", "spill"}
    for owner in seen.values():
        assert owner["run_id"] == result.run_id and owner["pid"] == os.getpid()
    # A temp_directory the user names is used as it is, and never removed.
    spill = tmp_path / "my_spill"
    spill.mkdir()
    (spill / "keep.txt").write_text("mine", encoding="utf-8")
    (tmp_path / "reconcile.toml").write_text(f'temp_directory = "{spill}"\n', encoding="utf-8")
    seen.clear()
    assert run_cli(data_dir, out, "--config", tmp_path / "reconcile.toml").exit_code == EXIT_OK
    assert set(seen) == {"partial"}
    assert (spill / "keep.txt").read_text(encoding="utf-8") == "mine"
    assert beside(out) == [".out.lock", "in", "my_spill", "out", "reconcile.toml"]


def test_wait_lock_waits_for_a_lock_released_meanwhile(
        data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The live run finishes when the waiting run first finds the lock held: no timing."""
    out = tmp_path / "out"
    holders: list[LiveRun] = []
    polls: list[float] = []

    def poll(seconds: float) -> None:
        polls.append(seconds)
        holders.pop().finish()  # released before the next try

    monkeypatch.setattr(locks, "time", SimpleNamespace(monotonic=time.monotonic, sleep=poll))
    with live_run(out) as first:
        holders.append(first)
        result = run_cli(data_dir, out, "--wait-lock", "600")
        assert result.exit_code == EXIT_OK, result.output
        assert len(polls) == 1
    assert set(snapshot(out)) == OUTPUT_FILES and manifest_run(out) != first.run_id
    # The Python API waits the same way.
    with live_run(out) as second:
        holders.append(second)
        assert run(data_dir, out, as_of=AS_OF, wait_lock=600).messages == 2
        assert len(polls) == 2
    assert beside(out) == [".out.lock", "in", "out"]


def test_wait_lock_gives_up_after_its_seconds(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with live_run(out) as first:
        result = run_cli(data_dir, out, "--wait-lock", "0.3")
        assert result.exit_code == EXIT_LOCKED
        assert f"in use by run {first.run_id}" in result.stderr
        assert "(waited 0.3 s)" in result.stderr
        first.finish()
