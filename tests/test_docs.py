"""The README says what the code does: help text, settings, flags and commands stay in step.

Regenerate the generated blocks with `UPDATE_DOCS=1 pytest tests/test_docs.py` and review
the diff.
"""

from __future__ import annotations

import re

from readme import README, ROOT, assert_block_is, block_after, command_help

from reconcile.config import SETTING_NAMES
from reconcile.schema import DEFAULT_VERDICT_POLICY, FLAGS
from reconcile.sqlfiles import load_checks


def test_readme_shows_the_current_help() -> None:
    assert_block_is("run-help", command_help("run"))


def test_every_setting_is_documented_in_the_config_example() -> None:
    example = block_after("config-example", README.read_text(encoding="utf-8"))
    for name in SETTING_NAMES:
        assert re.search(rf"^\[?{name}\]?\b", example, re.MULTILINE), f"{name} not in README"


def test_flag_table_lists_every_flag_in_order_with_its_default_verdict() -> None:
    text = README.read_text(encoding="utf-8")
    table = text.split("<!-- flag-table -->", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^\| `([A-Z_]+)` \|.*\| (\w+) \|$", table, re.MULTILINE)
    assert rows == [(flag, DEFAULT_VERDICT_POLICY[flag]) for flag in FLAGS]


def test_every_flag_has_one_check_file_quoting_the_contract() -> None:
    checks = load_checks()
    assert list(checks) == list(FLAGS)
    for check in checks.values():
        assert "-- definition:" in check.sql, check.file_name


def test_readme_has_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    run_command = block_after("run-command", text)
    assert "pip install" in run_command and "reconcile run sample_data --out out" in run_command
    test_command = block_after("test-command", text)
    assert "pip install" in test_command and "pytest" in test_command
    assert "<!-- test-command -->" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_oracle_copies_the_contract_facts_exactly() -> None:
    """reconcile.reference keeps its own copy of the flags, policy and defaults so that it
    shares no code with the engine; this keeps the copies from drifting apart."""
    from reconcile import reference
    from reconcile.config import PROFILES, Settings
    from reconcile.schema import CONTACT_FLAG_KINDS

    # Every flag but those judging the files or the history (not in the oracle), in order.
    oracle_flags = tuple(flag for flag in FLAGS if flag not in ("STALE_FEED", "INCOMPLETE_FEED"))
    assert oracle_flags == reference.FLAGS
    assert {f: DEFAULT_VERDICT_POLICY[f] for f in oracle_flags} == reference.DEFAULT_POLICY
    assert reference.CONTACT_FLAG_KINDS == CONTACT_FLAG_KINDS
    assert reference.PROFILES == PROFILES
    engine, oracle = Settings(), reference.Settings()
    for name in ("timezone", "grace_days", "min_overdue_amount", "amount_tolerance",
                 "dpd_tolerance", "max_rule_age_hours", "unplaced_payment_policy",
                 "max_unplaced_payments", "profile", "allowed_hours_start",
                 "allowed_hours_end", "max_messages_per_day", "max_messages_per_7_days",
                 "frequency_scope", "require_opt_out", "phone_country_code",
                 "restricting_contact_flags", "prohibited_terms",
                 "prohibited_term_exceptions", "opt_out_phrases", "verdicts"):
        engine_value, oracle_value = getattr(engine, name), getattr(oracle, name)
        if name == "verdicts":
            engine_value = {f: v for f, v in engine_value.items() if f in oracle_flags}
        assert engine_value == oracle_value, name
