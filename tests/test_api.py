"""The Python API as an Airflow or Dagster task uses it (docs/api.md): str paths, errors
that name parameters rather than flags, the result's frames, and the documented examples."""

from __future__ import annotations

import ast
import csv
import dataclasses
import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
from drops import Drop, invoke
from readme import README, ROOT, block_after

import reconcile
from reconcile.errors import EXIT_BAD_INPUT, UnexpectedError
from reconcile.faults import from_duckdb
from reconcile.history.query import QueryError, run_query
from reconcile.report.build import ReportError, build_report
from reconcile.report.render import render, write_report
from reconcile.schema import FINDINGS_COLUMNS, FINDINGS_PARQUET_COLUMNS, OUTCOMES
from reconcile.synth.generator import generate, parse_rates
from reconcile.synth.verify import default_labels, verify

SAMPLE = ROOT / "sample_data"
AS_OF = "2026-11-23T01:30:00+08:00"  # the sample's, as tests/test_sample_data.py runs it
API_DOC = ROOT / "docs" / "api.md"


def _csv_table(path: Path) -> tuple[list[str], list[tuple[str, ...]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], [tuple(row) for row in rows[1:]]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("api")


@pytest.fixture(scope="module")
def result(run_dir: Path) -> reconcile.RunResult:
    """The sample drop run with every path a str, as a scheduler's template gives them."""
    config = run_dir / "lender.toml"
    config.write_text('timezone = "Asia/Shanghai"\n', encoding="utf-8")
    return reconcile.run(
        str(SAMPLE), str(run_dir / "out"),
        settings=reconcile.load_settings(str(config), "cn"),
        as_of=AS_OF,
        history_db=str(run_dir / "history.duckdb"),
    )


# --- str paths everywhere ----------------------------------------------------------------

@pytest.mark.slow
def test_run_takes_str_paths_and_says_where_it_published(result: reconcile.RunResult,
                                                         run_dir: Path) -> None:
    assert result.out_dir == str(run_dir / "out")
    assert (Path(result.out_dir) / "findings.parquet").is_file()
    assert result.history == "recorded"
    assert result.messages == 107 and result.verdict_counts["rejected"] == 6
    assert result.as_of == AS_OF


@pytest.mark.slow
def test_the_summary_is_the_result_without_frames(result: reconcile.RunResult) -> None:
    summary = json.loads((Path(result.out_dir) / "summary.json").read_text(encoding="utf-8"))
    assert summary == json.loads(json.dumps(result.to_dict()))
    assert not any(isinstance(v, pl.LazyFrame | pl.DataFrame) for v in result.to_dict().values())
    assert {f.name for f in dataclasses.fields(result)}.isdisjoint({"findings", "outcome"})


@pytest.mark.slow
def test_report_query_and_write_take_str_paths(result: reconcile.RunResult,
                                               run_dir: Path) -> None:
    db = str(run_dir / "history.duckdb")
    assert run_query(db, "SELECT run_id FROM runs")[1] == [(result.run_id,)]
    report = build_report(db)
    assert report.run.run_id == result.run_id
    target = str(run_dir / "report.md")
    write_report(target, render(report, "markdown", "en"))
    assert Path(target).read_text(encoding="utf-8").startswith("# reconcile morning report")
    # Without a language, the run's own: the cn profile's Chinese.
    assert render(report, "markdown").startswith("# reconcile 晨报")


@pytest.mark.slow
def test_a_datetime_as_of_is_the_same_instant(tmp_path: Path) -> None:
    instant = dt.datetime(2026, 11, 22, 17, 30, tzinfo=dt.UTC)
    again = reconcile.run(SAMPLE, tmp_path / "out", as_of=instant)
    assert again.as_of == AS_OF


@pytest.mark.slow
def test_generate_and_verify_take_str_paths(tmp_path: Path) -> None:
    drop = str(tmp_path / "drop")
    generated = generate(drop, 40, 7, as_of=AS_OF)
    assert generated.out_dir == drop
    out = str(tmp_path / "out")
    reconcile.run(drop, out, as_of=generated.as_of,
                  settings=reconcile.load_settings(str(Path(drop) / "reconcile.toml")))
    labels = default_labels(out)
    assert labels == Path(drop) / "labels.csv"
    assert verify(str(labels), str(Path(out) / "findings.csv")).ok


# --- errors name parameters --------------------------------------------------------------

def _raised(call: object, *args: object, **kwargs: object) -> reconcile.ReconcileError:
    assert callable(call)
    with pytest.raises(reconcile.ReconcileError) as caught:
        call(*args, **kwargs)
    return caught.value


def test_errors_from_python_name_parameters_never_flags(tmp_path: Path) -> None:
    out = str(tmp_path / "out")
    missing = str(tmp_path / "none.duckdb")
    cases = [
        (_raised(reconcile.run, str(SAMPLE), out, as_of="yesterday"), "as_of"),
        (_raised(reconcile.load_settings, None, "xx"), "profile"),
        (_raised(reconcile.load_settings, str(tmp_path / "none.toml"), "cn"), None),
        (_raised(generate, out, 0, 1), "messages"),
        (_raised(generate, out, 10, 1, as_of="tomorrow"), "as_of"),
        (_raised(generate, out, 10, 1, file_format="xlsx"), "file_format"),
        (_raised(parse_rates, ["nope=0.1"]), "rate_items"),
        (_raised(build_report, missing), None),
        (_raised(run_query, missing, "SELECT 1"), None),
        (_raised(default_labels, str(tmp_path)), "labels_csv"),
        (_raised(verify, str(tmp_path / "labels.csv"), str(tmp_path / "f.csv")), None),
    ]
    for error, parameter in cases:
        assert "--" not in str(error), str(error)
        assert error.parameter == parameter, str(error)
        if parameter:
            assert str(error).startswith(f"{parameter}: "), str(error)
        assert error.exit_code == EXIT_BAD_INPUT, str(error)
    assert isinstance(cases[0][0], reconcile.ConfigError)
    assert isinstance(cases[7][0], ReportError) and isinstance(cases[8][0], QueryError)
    assert isinstance(cases[9][0], reconcile.InputError)
    assert not Path(out).exists()


def test_the_cli_shows_the_same_errors_under_its_flags(tmp_path: Path) -> None:
    cases = [
        (("run", SAMPLE, "--out", tmp_path / "o", "--as-of", "yesterday"), "--as-of: "),
        (("generate", tmp_path / "d", "-n", "5", "--rate", "nope=1"), "--rate: 'nope=1': "),
        (("generate", tmp_path / "d", "-n", "5", "--as-of", "x"), "--as-of: 'x' is not"),
        (("verify", tmp_path), "--labels: not given"),
    ]
    for args, start in cases:
        shown = invoke(*args)
        assert shown.exit_code == EXIT_BAD_INPUT
        assert shown.stderr.startswith(f"reconcile: error: {start}"), shown.stderr


def test_an_unforeseen_failure_points_python_at_its_cause_and_the_cli_at_debug(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    error = from_duckdb(duckdb.BinderException("no column x"), "checking", inputs=[])
    assert isinstance(error, UnexpectedError) and error.exit_code == 1
    assert str(error) == "unexpected BinderException while checking: no column x"

    def broken(*_: object, **__: object) -> None:
        raise error

    monkeypatch.setattr("reconcile.cli.main.run", broken)
    shown = invoke("run", SAMPLE, "--out", tmp_path / "out")
    assert shown.exit_code == 1
    assert shown.stderr == ("reconcile: error: unexpected BinderException while checking: "
                            "no column x (run again with --debug for a traceback)\n")


def test_locked_is_the_try_later_error() -> None:
    assert reconcile.Locked.exit_code == 75
    assert issubclass(reconcile.Locked, reconcile.ReconcileError)
    assert reconcile.UnplacedPayments.exit_code == 4


# --- the result's frames -----------------------------------------------------------------

@pytest.mark.slow
def test_findings_frame_is_findings_csv_typed(result: reconcile.RunResult) -> None:
    frame = result.findings()
    assert isinstance(frame, pl.LazyFrame)
    findings = frame.collect()
    header, rows = _csv_table(Path(result.out_dir) / "findings.csv")
    assert header == list(FINDINGS_COLUMNS)
    assert findings.columns == list(FINDINGS_PARQUET_COLUMNS)
    assert findings.height == len(rows) == result.messages
    column = header.index("verdict")
    assert findings["verdict"].to_list() == [row[column] for row in rows]
    assert findings["message_id"].to_list() == [row[header.index("message_id")] for row in rows]
    assert findings.schema["flags"] == pl.List(pl.String)
    counts = dict(findings.group_by("verdict").len().iter_rows())
    assert {o: counts.get(o, 0) for o in OUTCOMES} == result.verdict_counts


@pytest.mark.slow
@pytest.mark.parametrize("outcome", OUTCOMES)
def test_outcome_frames_are_the_split_files_as_strings(result: reconcile.RunResult,
                                                        outcome: str) -> None:
    frame = result.outcome(outcome).collect()
    header, rows = _csv_table(Path(result.out_dir) / f"{outcome}.csv")
    assert frame.columns == header
    assert all(dtype == pl.String for dtype in frame.dtypes)
    assert frame.rows() == rows
    assert frame.height == result.verdict_counts[outcome]


@pytest.mark.slow
def test_an_empty_outcome_and_empty_fields(tmp_path: Path) -> None:
    drop = Drop().loan("L1").installment("L1", 1, "2026-11-01", "100.00")
    drop.message("M1", scheduled_at="not a time", phone="")
    run = reconcile.run(str(drop.write(tmp_path / "in")), str(tmp_path / "out"),
                        as_of="2026-11-23T02:00:00+08:00")
    assert run.verdict_counts == {"send": 0, "hold": 0, "block": 0, "rejected": 1}
    send = run.outcome("send").collect()
    assert send.height == 0 and send.columns == list(run.inputs["send_batch"].columns)
    rejected = run.outcome("rejected").collect()
    assert rejected.rows() == _csv_table(tmp_path / "out" / "rejected.csv")[1]
    assert rejected["phone"].to_list() == [""]


@pytest.mark.slow
def test_an_unknown_outcome_names_the_choices(result: reconcile.RunResult) -> None:
    with pytest.raises(ValueError, match=r"^name: 'sent' is not one of send, hold, block"):
        result.outcome("sent")


def test_the_cli_never_imports_polars() -> None:
    code = "import sys, reconcile.cli.main; sys.exit('polars' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False)
    assert done.returncode == 0, "importing reconcile.cli.main imported polars"


# --- the documentation -------------------------------------------------------------------

def _names_used(code: str) -> tuple[set[str], set[str]]:
    """Attributes read off `reconcile` and off a variable named `result` in code."""
    on_package, on_result = set(), set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == "reconcile":
                on_package.add(node.attr)
            elif node.value.id == "result":
                on_result.add(node.attr)
    return on_package, on_result


@pytest.mark.parametrize("marker", ["api-example", "api-example-dagster"])
def test_readme_examples_compile_and_use_real_names(marker: str) -> None:
    """The Airflow and Dagster examples of docs/api.md."""
    code = block_after(marker, API_DOC.read_text(encoding="utf-8"))
    on_package, on_result = _names_used(code)
    assert on_package and on_result
    assert on_package <= set(reconcile.__all__)
    assert all(hasattr(reconcile.RunResult, name) or name in reconcile.RunResult.__annotations__
               for name in on_result), on_result


@pytest.mark.slow
def test_the_api_quickstart_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = block_after("api-quickstart", API_DOC.read_text(encoding="utf-8"))
    (tmp_path / "sample_data").symlink_to(SAMPLE)
    monkeypatch.chdir(tmp_path)
    names: dict[str, object] = {}
    exec(compile(code, str(API_DOC), "exec"), names)
    run, counts = names["result"], re.search(r"# (\{'send'.*\})", code)
    assert isinstance(run, reconcile.RunResult) and counts
    assert run.verdict_counts == ast.literal_eval(counts.group(1))
    assert isinstance(names["send"], pl.DataFrame) and isinstance(names["blocked"], pl.DataFrame)
    assert names["blocked"].height == run.verdict_counts["block"]


def test_every_public_name_is_documented() -> None:
    api = API_DOC.read_text(encoding="utf-8")
    for name in set(reconcile.__all__) - {"__version__"}:
        assert f"reconcile.{name}" in api, name
    for field in dataclasses.fields(reconcile.RunResult):
        assert f"`{field.name}`" in api, field.name
    for method in ("findings()", "outcome(name)", "messages", "block_rate", "to_dict()"):
        assert f"`{method}`" in api, method
    # Its links are checked with every other page's by tests/test_docs.py.
    assert "(docs/api.md)" in README.read_text(encoding="utf-8")
