"""`reconcile trace`: every planned message to one person across generated nights recorded by
the real `reconcile run --db` (tests/traced_history.py), through the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from drops import invoke, invoke_json
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
from reconcile.errors import EXIT_BAD_INPUT, EXIT_OK
from reconcile.history.store import HistoryPaths, pseudonym, pseudonym_key
from reconcile.report.build import Evidence, evidence_of
from reconcile.report.trace import build_trace
from reconcile.report.vocabulary import FLAG_TERMS


@pytest.fixture(scope="module")
def histories(tmp_path_factory: pytest.TempPathFactory) -> Histories:
    return build_histories(tmp_path_factory.mktemp("trace"))


@pytest.fixture(scope="module")
def blocked(histories: Histories) -> list[Recorded]:
    """One borrower's messages, one a night, every one blocked."""
    people = one_a_night(latest_messages(histories.pseudonymised))
    return first_person(people, {"block"}, flagged=True)


def trace_cli(*args: object) -> Result:
    return CliRunner().invoke(main, ["trace", *(str(a) for a in args)])


def traced(*args: object) -> dict[str, Any]:
    return invoke_json("trace", *args)


def ids(document: dict[str, Any]) -> list[str]:
    return [m["message_id"] for m in document["messages"]]


def assert_exit_2(result: Result, needle: str) -> None:
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert result.stdout == ""
    assert needle in result.stderr, result.stderr


# --- finding the person --------------------------------------------------------------------


@pytest.mark.slow
def test_trace_by_phone_in_a_pseudonymised_history(histories: Histories,
                                                   blocked: list[Recorded]) -> None:
    phone = clear_phones(histories)[blocked[0].message_id]
    document = traced("--phone", f" {phone}\t", "--db", histories.pseudonymised)
    assert ids(document) == [m.message_id for m in blocked]
    assert [m["night"] for m in document["messages"]] == ["2026-11-21", "2026-11-22",
                                                          "2026-11-23"]
    key = pseudonym_key(HistoryPaths.of(histories.pseudonymised), _settings(), create=False)
    stored = pseudonym(key, phone)
    assert {m.phone for m in blocked} == {stored}  # the history keeps the hash, not the phone
    assert {m["phone"] for m in document["messages"]} == {f"#{stored[:8]}"}
    assert {m["personal_data"] for m in document["messages"]} == {"pseudonymised"}
    assert document["target"] == {"by": "phone", "value": phone[:3] + "****" + phone[-4:],
                                  "borrower_id": None, "phone": phone[:3] + "****" + phone[-4:]}
    assert document["all_runs"] is False and document["warnings"] == []
    assert phone not in json.dumps(document)


@pytest.mark.slow
def test_trace_by_borrower_gives_every_column(histories: Histories,
                                              blocked: list[Recorded]) -> None:
    document = traced("--borrower", blocked[0].borrower_id, "--db", histories.pseudonymised)
    assert ids(document) == [m.message_id for m in blocked]
    first = document["messages"][0]
    assert set(first) == {
        "night", "run_id", "as_of", "is_latest", "personal_data", "message_id", "borrower_id",
        "phone", "borrower_name", "loan_id", "scheduled_at", "rule_id", "rule_category",
        "template_id", "template_kind", "overdue_amount", "days_past_due",
        "claimed_overdue_amount", "claimed_days_past_due", "verdict", "flags", "reason",
        "evidence"}
    assert first["run_id"] == histories.runs[0] and first["is_latest"] is True
    assert first["as_of"] == "2026-11-21T01:30:00+08:00"
    assert first["verdict"] == "block" and first["flags"] == list(blocked[0].flags)
    assert [e["flag"] for e in first["evidence"]] == list(blocked[0].flags)
    assert "; ".join(f"{e['flag']}: {e['detail']}" for e in first["evidence"]) == first["reason"]
    assert first["scheduled_at"].startswith("2026-11-2") and first["scheduled_at"][10] == "T"
    assert document["target"]["borrower_id"] == blocked[0].borrower_id


@pytest.mark.slow
def test_trace_by_message_follows_its_borrower(histories: Histories,
                                               blocked: list[Recorded]) -> None:
    document = traced("--message", blocked[1].message_id, "--db", histories.pseudonymised)
    assert ids(document) == [m.message_id for m in blocked]
    assert document["target"]["by"] == "message"
    assert document["target"]["borrower_id"] == blocked[0].borrower_id


@pytest.mark.slow
def test_since_keeps_later_nights(histories: Histories, blocked: list[Recorded]) -> None:
    document = traced("--borrower", blocked[0].borrower_id, "--db", histories.pseudonymised,
                      "--since", "2026-11-22")
    assert ids(document) == [m.message_id for m in blocked[1:]]
    assert document["since"] == "2026-11-22"


@pytest.mark.slow
def test_all_runs_shows_the_rerun_of_a_night(histories: Histories,
                                             blocked: list[Recorded]) -> None:
    document = traced("--borrower", blocked[0].borrower_id, "--db", histories.pseudonymised,
                      "--all-runs")
    messages = document["messages"]
    assert [(m["night"], m["run_id"], m["is_latest"]) for m in messages] == [
        ("2026-11-21", histories.runs[0], True), ("2026-11-22", histories.runs[1], True),
        ("2026-11-23", histories.runs[2], False), ("2026-11-23", histories.runs[3], True)]
    assert messages[2]["message_id"] == messages[3]["message_id"]
    counting = traced("--borrower", blocked[0].borrower_id, "--db", histories.pseudonymised)
    assert counting["messages"][-1]["run_id"] == histories.runs[3]


@pytest.mark.slow
def test_no_match_is_an_empty_list_and_exit_0(histories: Histories) -> None:
    for args in (("--borrower", "NOBODY"), ("--phone", "10000000000"),
                 ("--message", "NO-SUCH-MESSAGE")):
        document = traced(*args, "--db", histories.pseudonymised)
        assert document["messages"] == []
    result = trace_cli("--borrower", "NOBODY", "--db", histories.pseudonymised, "--lang", "en")
    assert result.exit_code == EXIT_OK
    assert "No planned message to this person is recorded in the history." in result.stdout
    result = trace_cli("--borrower", "NOBODY", "--db", histories.pseudonymised)
    assert "历史中没有发给此人的计划短信。" in result.stdout


# --- a history that keeps phones in clear, and one of both kinds ----------------------------


@pytest.mark.slow
def test_a_history_of_clear_and_pseudonymised_runs_is_matched_whole(
        histories: Histories) -> None:
    recorded = latest_messages(histories.mixed)
    clear = next(m for m in recorded if m.night == "2026-11-21" and m.borrower_id
                 and m.phone and m.phone.isdigit())
    phone = clear.phone or ""
    document = traced("--phone", phone, "--db", histories.mixed)
    nights = {m["night"]: m for m in document["messages"]}
    assert set(nights) == {"2026-11-21", "2026-11-22"}
    assert nights["2026-11-21"]["personal_data"] == "clear"
    assert nights["2026-11-21"]["phone"] == phone[:3] + "****" + phone[-4:]
    assert nights["2026-11-22"]["personal_data"] == "pseudonymised"
    assert nights["2026-11-22"]["phone"].startswith("#")
    shown = traced("--phone", phone, "--db", histories.mixed, "--show-pii")
    assert {m["phone"] for m in shown["messages"]} == {phone, nights["2026-11-22"]["phone"]}
    assert shown["pii_masked"] is False
    # A message of the clear night leads to the same person on both nights.
    by_message = traced("--message", clear.message_id, "--db", histories.mixed)
    assert ids(by_message) == ids(traced("--borrower", clear.borrower_id, "--db",
                                         histories.mixed))


@pytest.mark.slow
def test_no_pseudonym_key_is_exit_2_and_none_is_made(histories: Histories,
                                                     tmp_path: Path) -> None:
    copy = _copied(histories.pseudonymised, tmp_path / "copy.duckdb")
    assert invoke("history", "migrate", "--db", copy).exit_code == EXIT_OK  # its own catalog
    result = trace_cli("--phone", "13800001111", "--db", copy)
    assert_exit_2(result, "no pseudonym key")
    assert not HistoryPaths.of(copy).default_key.exists()
    # A borrower needs no key.
    document = traced("--borrower", "BR000000001", "--db", copy)
    assert len(document["messages"]) == 3


@pytest.mark.slow
def test_a_catalog_reading_another_folder_is_exit_2(histories: Histories,
                                                     tmp_path: Path) -> None:
    copy = _copied(histories.pseudonymised, tmp_path / "copy.duckdb")
    assert_exit_2(trace_cli("--borrower", "B", "--db", copy),
                  f"its catalog reads {HistoryPaths.of(histories.pseudonymised).data}")


def _copied(db: Path, copy: Path) -> Path:
    """The history's catalog and data folder copied (not its key)."""
    shutil.copy(db, copy)
    shutil.copytree(HistoryPaths.of(db).data, HistoryPaths.of(copy).data)
    return copy


# --- options and errors --------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("args", [(), ("--phone", "1", "--borrower", "B"),
                                  ("--borrower", "B", "--message", "M")])
def test_exactly_one_of_phone_borrower_message(histories: Histories,
                                               args: tuple[str, ...]) -> None:
    result = trace_cli(*args, "--db", histories.pseudonymised)
    assert result.exit_code == EXIT_BAD_INPUT
    assert "exactly one of --phone, --borrower, --message" in result.stderr


def test_missing_history_is_exit_2(tmp_path: Path) -> None:
    assert_exit_2(trace_cli("--borrower", "B", "--db", tmp_path / "none.duckdb"),
                  "no such file")
    assert not (tmp_path / "none.duckdb").exists()
    empty = tmp_path / "empty.duckdb"
    empty.write_bytes(b"")
    assert_exit_2(trace_cli("--borrower", "B", "--db", empty), "the file is empty")


@pytest.mark.slow
@pytest.mark.parametrize("since", ["2026/11/22", "2026-13-01", "22-11-2026", "2026-11-2",
                                   "2026-11-22T00:00"])
def test_bad_since_is_exit_2(histories: Histories, since: str) -> None:
    assert_exit_2(trace_cli("--borrower", "B", "--db", histories.pseudonymised, "--since",
                            since), f"--since: {since!r} is not a date (YYYY-MM-DD)")


@pytest.mark.slow
def test_text_and_markdown_in_both_languages(histories: Histories,
                                             blocked: list[Recorded]) -> None:
    flag = blocked[0].flags[0]
    term = FLAG_TERMS[flag]
    args = ("--borrower", blocked[0].borrower_id, "--db", histories.pseudonymised)
    chinese = trace_cli(*args).stdout  # the default profile's language
    assert chinese.startswith("reconcile 短信追溯：借款人 ")
    assert f"{term.zh} {flag}：" in chinese and "拦截" in chinese and "账务：" in chinese
    assert "规则所称：" in chinese and "共 3 条计划短信" in chinese
    english = trace_cli(*args, "--lang", "en").stdout
    assert english.startswith("reconcile trace: borrower ")
    assert f"{term.en} {flag}: " in english and "ledger: " in english
    assert "3 planned messages" in english and "claimed: " in english
    markdown = trace_cli(*args, "--format", "markdown", "--lang", "en").stdout
    assert markdown.startswith("# reconcile trace: borrower ")
    assert f"`{blocked[0].message_id}`" in markdown and "## 3 planned messages" in markdown
    chinese_markdown = trace_cli(*args, "--format", "markdown").stdout
    assert f"{term.zh} {flag}" in chinese_markdown and "## 共 3 条计划短信" in chinese_markdown


@pytest.mark.slow
def test_language_follows_the_config(histories: Histories, blocked: list[Recorded],
                                     tmp_path: Path) -> None:
    config = tmp_path / "en.toml"
    config.write_text('report_language = "en"\n', encoding="utf-8")
    result = trace_cli("--borrower", blocked[0].borrower_id, "--db", histories.pseudonymised,
                       "--config", config)
    assert result.stdout.startswith("reconcile trace: ")


@pytest.mark.slow
def test_output_file(histories: Histories, blocked: list[Recorded], tmp_path: Path) -> None:
    target = tmp_path / "trace.json"
    result = trace_cli("--borrower", blocked[0].borrower_id, "--db", histories.pseudonymised,
                       "--format", "json", "--output", target)
    assert result.exit_code == EXIT_OK and result.stdout == ""
    assert f"wrote {target}" in result.stderr
    assert len(json.loads(target.read_text(encoding="utf-8"))["messages"]) == 3


@pytest.mark.slow
def test_library_call_matches_the_command(histories: Histories,
                                          blocked: list[Recorded]) -> None:
    found = build_trace(histories.pseudonymised, borrower_id=blocked[0].borrower_id,
                        since="2026-11-22")
    assert [m.message_id for m in found.messages] == [m.message_id for m in blocked[1:]]
    assert found.to_dict() == traced("--borrower", blocked[0].borrower_id, "--db",
                                     histories.pseudonymised, "--since", "2026-11-22")


def test_evidence_is_read_from_details_never_from_the_reason() -> None:
    details = [{"flag": "NOT_OVERDUE", "detail": "paid; STALE_DATA: quoted"},
               {"flag": "STALE_DATA", "detail": "changed after the rule ran"},
               {"flag": "RULE_MISMATCH", "detail": None}]
    reason = "NOT_OVERDUE: paid; STALE_DATA: quoted; STALE_DATA: changed after the rule ran"
    assert [(e.flag, e.detail) for e in evidence_of(details, reason)] == [
        ("NOT_OVERDUE", "paid; STALE_DATA: quoted"),
        ("STALE_DATA", "changed after the rule ran")]  # RULE_MISMATCH, without one, is left out
    # A row without flags (rejected) has its reason whole, without a flag.
    assert [(e.flag, e.detail) for e in evidence_of([], "scheduled_at: not a timestamp")
            ] == [("", "scheduled_at: not a timestamp")]
    assert evidence_of([], "") == ()


def _settings() -> Any:
    from reconcile.config import Settings

    return Settings()


def test_control_characters_of_the_data_are_shown_escaped() -> None:
    from reconcile.report.trace import PlannedMessage, Trace, TraceTarget, render_trace

    message = PlannedMessage(
        night="2026-11-23", run_id="R", as_of="2026-11-23T01:30:00+08:00", is_latest=True,
        personal_data="clear", message_id="M\x1b[2J", borrower_id="B\r", phone="138****1234",
        borrower_name="张*", loan_id="L\u202e", scheduled_at=None, rule_id="R_DEL",
        rule_category=None, template_id="T", template_kind="collection",
        overdue_amount="0.00", days_past_due=0, claimed_overdue_amount="10.00",
        claimed_days_past_due=3, verdict="block", flags=("NOT_OVERDUE",),
        reason="NOT_OVERDUE: paid\x07 in full",
        evidence=(Evidence("NOT_OVERDUE", "paid\x07 in full"),))
    trace = Trace(history="h", target=TraceTarget("borrower", "B\r", "B\r", None), since=None,
                  all_runs=False, timezone="Asia/Shanghai", pii_masked=True,
                  messages=(message,))
    for fmt in ("text", "markdown", "json"):
        for lang in ("zh-CN", "en"):
            shown = render_trace(trace, fmt, lang)
            assert not any(ch in shown for ch in "\x1b\r\x07\u202e"), (fmt, lang)
            assert "\\u001b" in shown and "\\u202e" in shown
    assert json.loads(render_trace(trace, "json", "en"))["messages"][0]["evidence"] == [
        {"flag": "NOT_OVERDUE", "detail": "paid\x07 in full"}]
