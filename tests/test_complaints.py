"""`reconcile complaints`: complaints made from known messages of generated nights recorded by
the real `reconcile run --db` (tests/traced_history.py), each classified exactly."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from drops import invoke_json
from history_db import sample_history
from traced_history import (
    Histories,
    Recorded,
    build_histories,
    clear_phones,
    first_person,
    latest_messages,
    one_a_night,
)

from reconcile.cli.main import main
from reconcile.config import Settings
from reconcile.errors import EXIT_BAD_INPUT, EXIT_OK
from reconcile.report.complaints import CLASSES, ComplaintsResult, trace_complaints
from reconcile.report.vocabulary import PHRASES

# Every test here reads generated nights recorded by real runs (one module fixture of several
# seconds). Left out by `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

NEVER_USED_PHONE = "10000000000"
COMPLAINT_COLUMNS = ("complaint_id", "phone", "borrower_id", "received_at", "category", "note")


@dataclass(frozen=True)
class Scene:
    """The history, the complaints made from its messages and the gateway's log."""

    histories: Histories
    complaints: Path
    dispatch_log: Path
    stopped: list[Recorded]  # every message held or blocked, none dispatched
    flagged: list[Recorded]  # every message blocked; the 11-22 one dispatched all the same
    clean: list[Recorded]  # every message send without a flag, all dispatched
    undelivered: list[Recorded]  # every message send without a flag, none dispatched
    held: list[Recorded]  # every message held; complained about by borrower_id


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Scene:
    root = tmp_path_factory.mktemp("complaints")
    histories = build_histories(root)
    messages = latest_messages(histories.pseudonymised)
    people = one_a_night(messages)
    stopped = first_person(people, {"hold", "block"}, flagged=True)
    flagged = first_person(people, {"block"}, flagged=True, skip=(stopped[0].borrower_id or "",))
    clean = first_person(people, {"send"}, flagged=False)
    undelivered = first_person(people, {"send"}, flagged=False,
                               skip=(clean[0].borrower_id or "",))
    held = first_person(people, {"hold"}, flagged=True,
                        skip=tuple(p[0].borrower_id or "" for p in (stopped, flagged)))
    phones = clear_phones(histories)
    complaints = _write(root / "complaints.csv", COMPLAINT_COLUMNS, [
        ("C-STOP", phones[stopped[0].message_id], "", "2026-11-25", "rude", "x"),
        ("C-FLAG", "", flagged[0].borrower_id, "2026-11-25T12:00:00", "wrong amount", ""),
        ("C-CLEAN", phones[clean[0].message_id], "", "2026-11-25 12:00:00+08:00", "", ""),
        ("C-UNSENT", phones[undelivered[0].message_id], "", "2026-11-25T04:00:00Z", "", ""),
        ("C-NEVER", NEVER_USED_PHONE, "", "2026-11-25", "", ""),
        ("C-BORROWER", NEVER_USED_PHONE, held[0].borrower_id, "2026-11-25", "", ""),
        ("C-LATE", phones[stopped[0].message_id], "", "2026-12-20", "", ""),
    ])
    # The gateway sent what reconcile let through, except one person's messages, and one
    # blocked message it should not have.
    sent = [m.message_id for m in messages if m.verdict == "send" and m not in undelivered]
    sent.append(flagged[1].message_id)
    dispatch_log = _write(root / "dispatch.csv", ("message_id", "sent_at"),
                          [(message_id, "") for message_id in sent])
    return Scene(histories, complaints, dispatch_log, stopped, flagged, clean, undelivered,
                 held)


def _write(path: Path, header: tuple[str, ...], rows: list[tuple[Any, ...]],
           bom: bool = True) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def complaints_cli(*args: object) -> Result:
    return CliRunner().invoke(main, ["complaints", *(str(a) for a in args)])


def traced(*args: object) -> dict[str, Any]:
    return invoke_json("complaints", *args)


def by_id(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["complaint_id"]: c for c in document["complaints"]}


def message_classes(complaint: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m["message_id"], m["class"]) for m in complaint["messages"]]


def misses(messages: list[Recorded], key: str) -> list[dict[str, Any]]:
    counted = Counter(getattr(m, key) for m in messages)
    return [{key: name, "messages": count}
            for name, count in sorted(counted.items(), key=lambda item: (-item[1], item[0]))]


# --- classification ------------------------------------------------------------------------


def test_every_complaint_is_classified_with_a_dispatch_log(scene: Scene) -> None:
    document = traced(scene.complaints, "--db", scene.histories.pseudonymised,
                      "--dispatched", scene.dispatch_log)
    found = by_id(document)
    assert list(found) == ["C-STOP", "C-FLAG", "C-CLEAN", "C-UNSENT", "C-NEVER", "C-BORROWER",
                           "C-LATE"]
    assert {key: c["class"] for key, c in found.items()} == {
        "C-STOP": "stopped", "C-FLAG": "sent_with_flag", "C-CLEAN": "sent_clean",
        "C-UNSENT": "not_sent", "C-NEVER": "never_planned", "C-BORROWER": "stopped",
        "C-LATE": "never_planned"}
    assert message_classes(found["C-STOP"]) == [(m.message_id, "stopped") for m in scene.stopped]
    assert message_classes(found["C-FLAG"]) == [
        (scene.flagged[0].message_id, "stopped"), (scene.flagged[1].message_id, "sent_with_flag"),
        (scene.flagged[2].message_id, "stopped")]
    assert message_classes(found["C-CLEAN"]) == [(m.message_id, "sent_clean")
                                                 for m in scene.clean]
    assert message_classes(found["C-UNSENT"]) == [(m.message_id, "not_sent")
                                                  for m in scene.undelivered]
    assert message_classes(found["C-BORROWER"]) == [(m.message_id, "stopped")
                                                    for m in scene.held]
    assert found["C-NEVER"]["messages"] == [] and found["C-LATE"]["messages"] == []
    # Only the run that counts for 11-23 (a re-run of the night replaced the first).
    assert {m["run_id"] for m in found["C-CLEAN"]["messages"]} == set(
        scene.histories.runs[:2] + scene.histories.runs[3:])
    assert [m["dispatched"] for m in found["C-FLAG"]["messages"]] == [False, True, False]

    assert document["summary"] == {
        "complaints": 7,
        "by_class": {"sent_with_flag": 1, "sent_clean": 1, "stopped": 2, "not_sent": 1,
                     "never_planned": 2},
        "misses_by_rule": misses(scene.clean, "rule_id"),
        "misses_by_template": misses(scene.clean, "template_id"),
        "by_night": [
            {"night": "2026-11-22", "by_class": {**dict.fromkeys(CLASSES, 0),
                                                 "sent_with_flag": 1}},
            {"night": "2026-11-23", "by_class": {**dict.fromkeys(CLASSES, 0), "sent_clean": 1,
                                                 "stopped": 2, "not_sent": 1}},
            {"night": "2026-11-25", "by_class": {**dict.fromkeys(CLASSES, 0),
                                                 "never_planned": 1}},
            {"night": "2026-12-20", "by_class": {**dict.fromkeys(CLASSES, 0),
                                                 "never_planned": 1}},
        ],
    }
    assert document["dispatch_log"] == str(scene.dispatch_log) and document["window_days"] == 7


def test_the_complaint_itself_is_shown_masked_and_in_local_time(scene: Scene) -> None:
    found = by_id(traced(scene.complaints, "--db", scene.histories.pseudonymised))
    phone = clear_phones(scene.histories)[scene.stopped[0].message_id]
    assert found["C-STOP"]["phone"] == phone[:3] + "****" + phone[-4:]
    assert found["C-STOP"]["received_at"] == "2026-11-25T23:59:59+08:00"  # end of the day
    assert found["C-STOP"]["category"] == "rude" and found["C-STOP"]["row"] == 1
    assert found["C-FLAG"]["received_at"] == "2026-11-25T12:00:00+08:00"  # local time
    assert found["C-UNSENT"]["received_at"] == "2026-11-25T12:00:00+08:00"  # from UTC
    assert found["C-BORROWER"]["borrower_id"] == scene.held[0].borrower_id
    assert all(m["phone"].startswith("#") for m in found["C-STOP"]["messages"])


def test_without_a_dispatch_log_the_verdicts_are_followed(scene: Scene) -> None:
    document = traced(scene.complaints, "--db", scene.histories.pseudonymised)
    assert {key: c["class"] for key, c in by_id(document).items()} == {
        "C-STOP": "stopped", "C-FLAG": "stopped", "C-CLEAN": "sent_clean",
        "C-UNSENT": "sent_clean", "C-NEVER": "never_planned", "C-BORROWER": "stopped",
        "C-LATE": "never_planned"}
    assert document["dispatch_log"] is None
    assert document["summary"]["misses_by_rule"] == misses(scene.clean + scene.undelivered,
                                                           "rule_id")


def test_the_window_bounds_the_messages(scene: Scene, tmp_path: Path) -> None:
    """[received_at - window, received_at], both ends included: the drop moves whole from
    night to night, so one person's messages are exactly a day apart."""
    first, second, third = (_instant(m) for m in scene.stopped)
    assert second - first == third - second == dt.timedelta(days=1)
    borrower = scene.stopped[0].borrower_id
    complaints = _write(tmp_path / "c.csv", ("borrower_id", "received_at"), [
        (borrower, second.isoformat()),
        (borrower, (second - dt.timedelta(seconds=1)).isoformat()),
        (borrower, (first - dt.timedelta(seconds=1)).isoformat())])
    one_day = traced(complaints, "--db", scene.histories.pseudonymised, "--window-days", "1")
    assert [[m["message_id"] for m in c["messages"]] for c in one_day["complaints"]] == [
        [m.message_id for m in scene.stopped[:2]], [scene.stopped[0].message_id], []]
    assert [c["class"] for c in one_day["complaints"]] == ["stopped", "stopped",
                                                           "never_planned"]


def _instant(message: Recorded) -> dt.datetime:
    return dt.datetime.fromisoformat(message.scheduled_at or "")


def test_a_history_of_clear_and_pseudonymised_runs(scene: Scene, tmp_path: Path) -> None:
    recorded = latest_messages(scene.histories.mixed)
    clear = next(m for m in recorded if m.night == "2026-11-21" and m.phone
                 and m.phone.isdigit())
    complaints = _write(tmp_path / "c.csv", ("phone", "received_at"),
                        [(clear.phone, "2026-11-25")], bom=False)
    document = traced(complaints, "--db", scene.histories.mixed)
    messages = document["complaints"][0]["messages"]
    assert [m["night"] for m in messages] == ["2026-11-21", "2026-11-22"]
    assert [m["personal_data"] for m in messages] == ["clear", "pseudonymised"]
    assert messages[0]["phone"] == (clear.phone or "")[:3] + "****" + (clear.phone or "")[-4:]


def test_library_call(scene: Scene) -> None:
    result = trace_complaints(scene.histories.pseudonymised, scene.complaints,
                              dispatched=scene.dispatch_log, settings=Settings())
    assert isinstance(result, ComplaintsResult)
    assert [c.complaint_class for c in result.complaints] == [
        "stopped", "sent_with_flag", "sent_clean", "not_sent", "never_planned", "stopped",
        "never_planned"]
    assert result.summary.count("stopped") == 2
    assert result.to_dict() == traced(scene.complaints, "--db", scene.histories.pseudonymised,
                                      "--dispatched", scene.dispatch_log)


# --- wording -------------------------------------------------------------------------------


def test_text_and_markdown_in_both_languages(scene: Scene) -> None:
    args = (scene.complaints, "--db", scene.histories.pseudonymised, "--dispatched",
            scene.dispatch_log)
    flag = scene.stopped[0].flags[0]
    chinese = complaints_cli(*args).stdout
    assert chinese.startswith("reconcile 投诉核对：共 7 件投诉")
    for zh, _ in (PHRASES[f"class_{name}"] for name in CLASSES):
        assert zh in chinese
    for heading in ("汇总", "逐晚的投诉归类", "漏判（无标记发出）按规则"):
        assert heading in chinese
    assert f" {flag}：" in chinese and "投诉 C-STOP：已拦下" in chinese
    english = complaints_cli(*args, "--lang", "en").stdout
    assert english.startswith("reconcile complaints: 7 complaints")
    assert "complaint C-FLAG: sent with a flag" in english
    assert "Misses (sent clean messages) by rule" in english and "night by night" in english
    assert "dispatch log " + str(scene.dispatch_log) in english
    markdown = complaints_cli(*args, "--format", "markdown", "--lang", "en").stdout
    assert markdown.startswith("# reconcile complaints: 7 complaints")
    assert "## complaint `C-NEVER`: never planned" in markdown
    assert "### Complaints by class" in markdown
    chinese_markdown = complaints_cli(*args, "--format", "markdown").stdout
    assert "## 投诉 `C-CLEAN`：无标记发出" in chinese_markdown and "## 汇总" in chinese_markdown


def test_no_complaint_in_the_file(scene: Scene, tmp_path: Path) -> None:
    empty = _write(tmp_path / "c.csv", ("phone", "received_at"), [])
    document = traced(empty, "--db", scene.histories.pseudonymised)
    assert document["complaints"] == [] and document["summary"]["complaints"] == 0
    assert "The file holds no complaint." in complaints_cli(
        empty, "--db", scene.histories.pseudonymised, "--lang", "en").stdout


# --- bad input -----------------------------------------------------------------------------


def assert_exit_2(result: Result, *needles: str) -> None:
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


@pytest.mark.parametrize(("header", "rows", "needles"), [
    (("phone", "category"), [("13800001111", "x")],
     ("complaints.csv, received_at: missing column", "the header has: phone, category")),
    (("received_at", "category"), [("2026-11-25", "x")],
     ("complaints.csv, phone/borrower_id: missing column",)),
    (("phone", "borrower_id", "received_at"),
     [("13800001111", "", "2026-11-25"), ("13800001112", "", "2026-11-25"),
      ("", " ", "2026-11-25")],
     ("complaints.csv row 3, phone/borrower_id: neither is given",)),
    (("phone", "received_at"), [("13800001111", "2026-11-25"), ("13800001112", "2026/11/01")],
     ("complaints.csv row 2, received_at: '2026/11/01' is not a timestamp",)),
    (("phone", "received_at"), [("13800001111", "2026-02-30")],
     ("complaints.csv row 1, received_at: '2026-02-30' is not a timestamp",)),
    (("phone", "received_at"), [("13800001111", "")],
     ("complaints.csv row 1, received_at: empty",)),
    (("complaint_id", "phone", "received_at"),
     [("A", "13800001111", "2026-11-25"), ("A", "13800001112", "2026-11-25")],
     ("complaints.csv row 2, complaint_id: 'A' is also row 1's",)),
])
def test_bad_complaints_files_name_file_column_and_row(
        scene: Scene, tmp_path: Path, header: tuple[str, ...], rows: list[tuple[str, ...]],
        needles: tuple[str, ...]) -> None:
    complaints = _write(tmp_path / "complaints.csv", header, rows)
    assert_exit_2(complaints_cli(complaints, "--db", scene.histories.pseudonymised), *needles)


def test_an_empty_complaints_file(scene: Scene, tmp_path: Path) -> None:
    empty = tmp_path / "complaints.csv"
    empty.write_text("\n", encoding="utf-8")
    assert_exit_2(complaints_cli(empty, "--db", scene.histories.pseudonymised),
                  "complaints.csv: the file is empty")
    assert_exit_2(complaints_cli(tmp_path / "none.csv", "--db", scene.histories.pseudonymised),
                  "none.csv: cannot be read")


@pytest.mark.parametrize(("header", "rows", "needles"), [
    (("id", "sent_at"), [("M1", "")], ("dispatch.csv, message_id: missing column",)),
    (("message_id", "sent_at"), [("M1", ""), ("", "2026-11-22T10:00:00+08:00")],
     ("dispatch.csv row 2, message_id: empty",)),
    (("message_id", "sent_at"), [("M1", "yesterday")],
     ("dispatch.csv row 1, sent_at: 'yesterday' is not a timestamp",)),
])
def test_bad_dispatch_logs_name_file_column_and_row(
        scene: Scene, tmp_path: Path, header: tuple[str, ...], rows: list[tuple[str, ...]],
        needles: tuple[str, ...]) -> None:
    log = _write(tmp_path / "dispatch.csv", header, rows)
    assert_exit_2(complaints_cli(scene.complaints, "--db", scene.histories.pseudonymised,
                                 "--dispatched", log), *needles)


def test_missing_history_and_bad_window(scene: Scene, tmp_path: Path) -> None:
    assert_exit_2(complaints_cli(scene.complaints, "--db", tmp_path / "none.duckdb"),
                  "no such file")
    result = complaints_cli(scene.complaints, "--db", scene.histories.pseudonymised,
                            "--window-days", "0")
    assert result.exit_code == EXIT_BAD_INPUT and "--window-days" in result.stderr


def test_sent_at_is_kept_from_the_log(scene: Scene, tmp_path: Path) -> None:
    log = _write(tmp_path / "dispatch.csv", ("message_id", "sent_at"),
                 [(scene.flagged[1].message_id, "2026-11-22 19:31"),
                  (scene.flagged[1].message_id, "2026-11-22T11:40:00Z")])
    found = by_id(traced(scene.complaints, "--db", scene.histories.pseudonymised,
                         "--dispatched", log))
    flagged = found["C-FLAG"]["messages"][1]
    assert flagged["class"] == "sent_with_flag"
    assert flagged["sent_at"] == "2026-11-22T19:31:00+08:00"  # the first time it went out


# --- a message_id planned on two nights --------------------------------------------------


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sample_data reconciled as of 11-22 and of 11-23: every message_id planned twice (on
    11-22 its rules claim to run after the as-of, so CLOCK_SKEW holds most of it)."""
    db, _ = sample_history(tmp_path_factory.mktemp("replayed"))
    return db


SENT_ON_23 = "2026-11-23T10:05:12+08:00"
SENT_ON_22 = "2026-11-22T10:05:12+08:00"


@pytest.mark.parametrize(("sent_at", "classes", "sent"), [
    (SENT_ON_23, ["stopped", "sent_clean"], [None, SENT_ON_23]),  # after the 11-23 run
    (SENT_ON_22, ["sent_with_flag", "not_sent"], [SENT_ON_22, None]),  # before it
    ("", ["stopped", "sent_clean"], [None, None]),  # no time: the latest night's plan
])
def test_a_dispatch_goes_out_from_one_nights_plan(replayed: Path, tmp_path: Path,
                                                  sent_at: str, classes: list[str],
                                                  sent: list[str | None]) -> None:
    complaints = _write(tmp_path / "c.csv", ("borrower_id", "received_at"),
                        [("BR3100101", "2026-11-23")])
    log = _write(tmp_path / "d.csv", ("message_id", "sent_at"),
                 [("SMS2026112300103", sent_at)])
    complaint = traced(complaints, "--db", replayed, "--dispatched", log)["complaints"][0]
    assert [(m["night"], m["message_id"], m["verdict"]) for m in complaint["messages"]] == [
        ("2026-11-22", "SMS2026112300103", "hold"), ("2026-11-23", "SMS2026112300103", "send")]
    assert [m["class"] for m in complaint["messages"]] == classes
    assert [m["sent_at"] for m in complaint["messages"]] == sent


# --- in the morning report -----------------------------------------------------------------


def test_the_morning_report_traces_the_configured_complaints(scene: Scene,
                                                             tmp_path: Path) -> None:
    config = tmp_path / "report.toml"
    config.write_text(f'report_language = "en"\nreport_complaints_file = '
                      f'"{scene.complaints}"\nreport_dispatch_log = "{scene.dispatch_log}"\n',
                      encoding="utf-8")
    db = scene.histories.pseudonymised
    report = CliRunner().invoke(main, ["report", "--db", str(db), "--config", str(config),
                                       "--format", "json"])
    assert report.exit_code == EXIT_OK, report.output
    summary = json.loads(report.stdout)["complaints"]
    assert summary["file"] == str(scene.complaints)
    assert summary["by_class"] == {"sent_with_flag": 1, "sent_clean": 1, "stopped": 2,
                                   "not_sent": 1, "never_planned": 2}
    assert summary == {"file": str(scene.complaints), **traced(
        scene.complaints, "--db", db, "--dispatched", scene.dispatch_log)["summary"]}
    for fmt, title in (("text", "Complaints traced"), ("markdown", "## Complaints traced"),
                       ("html", "<h2>Complaints traced</h2>")):
        shown = CliRunner().invoke(main, ["report", "--db", str(db), "--config", str(config),
                                          "--format", fmt]).stdout
        assert title in shown and "sent with a flag" in shown, fmt
    # Without a complaints file configured, the report has no such section.
    plain = CliRunner().invoke(main, ["report", "--db", str(db), "--format", "json"])
    assert json.loads(plain.stdout)["complaints"] is None
