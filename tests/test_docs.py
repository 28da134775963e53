"""The README and docs/ say what the code does: help text, settings, flags, output columns,
commands and links stay in step.

Regenerate the generated blocks with `UPDATE_DOCS=1 .venv/bin/pytest tests/test_docs.py`
and review the diff.
"""

from __future__ import annotations

import csv
import importlib
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from readme import (
    PAGES,
    README,
    ROOT,
    assert_block_is,
    block_after,
    command_help,
    doc,
)

from reconcile.checks import DEFAULT_VERDICT_POLICY, FLAGS, load_checks
from reconcile.cli.main import main
from reconcile.config import SETTING_NAMES
from reconcile.schema import FINDINGS_COLUMNS

README_MAX_BYTES = 12_000


def _text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def _table_after(marker: str, text: str) -> str:
    assert f"<!-- {marker} -->" in text, marker
    return text.split(f"<!-- {marker} -->", 1)[1].split("\n\n", 1)[0]


# --- what the code prints and knows -----------------------------------------------------

def test_the_nightly_page_shows_the_current_help() -> None:
    assert_block_is("run-help", command_help("run"), doc("nightly.md"))


def test_every_setting_is_documented_in_the_config_example() -> None:
    example = block_after("config-example", _text(doc("configuration.md")))
    for name in SETTING_NAMES:
        assert re.search(rf"^\[?{name}\]?\b", example, re.MULTILINE), \
            f"{name} not in docs/configuration.md"


def _markdown_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    rule = "|" + "|".join("---" for _ in header) + "|\n"
    return "".join(["| " + " | ".join(header) + " |\n", rule,
                    *("| " + " | ".join(cells) + " |\n" for cells in rows)])


def test_the_flag_tables_are_the_check_headers() -> None:
    """README.md's summary and docs/inputs.md's full table: one row per flag, in order,
    written from its check file's header (summary, definition, source, verdict)."""
    checks = load_checks().values()
    assert_block_is("flag-summary", _markdown_table(
        ("flag", "holds when", "default verdict"),
        [(f"`{c.flag}`", c.summary, c.verdict) for c in checks]))
    assert_block_is("flag-table", _markdown_table(
        ("flag", "holds when", "source", "default verdict"),
        [(f"`{c.flag}`", c.definition, c.source, c.verdict) for c in checks]), doc("inputs.md"))


def test_findings_columns_are_documented_in_order() -> None:
    table = _table_after("findings-columns", _text(doc("inputs.md")))
    documented = [name for cell in re.findall(r"^\| ([^|]+) \|", table, re.MULTILINE)[1:]
                  for name in re.findall(r"`(\w+)`", cell)]
    assert documented == list(FINDINGS_COLUMNS)


def test_every_flag_has_one_check_file_quoting_the_contract() -> None:
    checks = load_checks()
    assert list(checks) == list(FLAGS)
    for check in checks.values():
        assert "-- definition:" in check.sql, check.file_name


def test_documented_module_names_exist() -> None:
    """Every dotted `reconcile.module.name` the docs mention can be imported."""
    for page in PAGES:
        for dotted in sorted(set(re.findall(r"`(reconcile(?:\.\w+)+)", _text(page)))):
            parts = dotted.split(".")
            if parts[-1] in ("toml", "py", "json", "csv", "md", "sql"):  # a file name
                continue
            for split in range(len(parts), 0, -1):
                try:
                    target: object = importlib.import_module(".".join(parts[:split]))
                except ModuleNotFoundError:
                    continue
                for attribute in parts[split:]:
                    assert hasattr(target, attribute), f"{page.name}: {dotted}"
                    target = getattr(target, attribute)
                break


# --- the README -----------------------------------------------------------------------

def test_readme_has_the_two_commands() -> None:
    text = _text(README)
    run_command = block_after("run-command", text)
    assert "pip install" in run_command and "reconcile run sample_data --out out" in run_command
    test_command = block_after("test-command", text)
    assert "pip install" in test_command and "pytest" in test_command
    assert "<!-- test-command -->" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_is_short() -> None:
    size = len(README.read_bytes())
    assert size <= README_MAX_BYTES, f"README.md is {size} bytes; move detail to docs/"


def test_readme_links_every_docs_page() -> None:
    text = _text(README)
    for page in PAGES:
        if page.parent.name == "docs":
            assert f"(docs/{page.name}" in text, f"README.md does not link docs/{page.name}"


@pytest.mark.slow
def test_readme_sample_output_is_what_the_run_prints(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The opening's output and its two findings rows, from a real run of the first command
    (its run id and timing aside)."""
    text = _text(README)
    command = block_after("run-command", text).split("&& .venv/bin/reconcile ", 1)[1].split()
    (tmp_path / "sample_data").symlink_to(ROOT / "sample_data")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, command, prog_name="reconcile")
    assert result.exit_code == 0, result.output

    def steady(output: str) -> str:
        output = re.sub(r"^reconcile \d{8}T\d{6}Z-[0-9a-f]{6} ", "reconcile RUN ", output)
        return re.sub(r"in \d+\.\d\d s$", "in S s", output, flags=re.MULTILINE)

    assert steady(block_after("sample-output", text)) == steady(result.stdout)

    findings = {line.split(",", 1)[0]: line for line in
                (tmp_path / "out" / "findings.csv").read_text(encoding="utf-8").splitlines()}
    excerpt = text.split("Two of its rows in `out/findings.csv`", 1)[1].split("```text\n", 1)[1]
    shown = re.findall(r"^(SMS\d+)  (\w+)  flags=(\S+)  overdue_amount=(\S+)  "
                       r"days_past_due=(\S+)\n((?:    .*\n)+)",
                       excerpt.split("```", 1)[0], re.MULTILINE)
    assert len(shown) == 2
    for message_id, verdict, flags, amount, days, reason in shown:
        row = next(csv.reader([findings[message_id]]))
        clauses = [line.strip() for line in reason.splitlines()]
        assert row[:6] == [message_id, verdict, flags, amount, days, "; ".join(clauses)]


# --- every page -----------------------------------------------------------------------

def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    heading = re.sub(r"`", "", heading)
    return re.sub(r"[^\w\- ]", "", heading).strip().lower().replace(" ", "-")


def _without_code(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)


LINKED = (*PAGES, ROOT / "CHANGELOG.md")


@pytest.mark.parametrize("page", LINKED, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_stay_inside_the_repository_and_resolve(page: Path) -> None:
    """Every link of the README, docs/, sample_data/README.md and the changelog names a file
    or folder of the repository at or below the page's own folder (no URL, no `..`), and its
    #anchor, if any, a heading of that page."""
    if not page.exists():
        pytest.skip(f"{page.name} does not exist")
    targets = re.findall(r"\]\(([^)\s]+)\)", _without_code(_text(page)))
    for target in targets:
        assert "://" not in target and not target.startswith("mailto:"), \
            f"{page.name}: {target} points outside the repository"
        # A page read on its own (a docs/ page shipped alone, sample_data/README.md) has
        # nothing above its folder: a file there is named in code, not linked.
        assert ".." not in target.split("/"), f"{page.name}: {target} climbs out of its folder"
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved == ROOT or ROOT in resolved.parents, \
            f"{page.name}: {target} leaves the repository"
        assert resolved.exists(), f"{page.name}: {target} does not exist"
        if anchor:
            assert resolved.suffix == ".md", f"{page.name}: {target}"
            headings = re.findall(r"^#+ (.+)$", _without_code(_text(resolved)), re.MULTILINE)
            assert anchor in {_slug(h) for h in headings}, f"{page.name}: no heading #{anchor}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_repository_paths_named_in_code_exist(page: Path) -> None:
    """`reconcile/nightly/engine.py`, `sql/nightly/checks/<flag>.sql`, `benchmarks/...`:
    each path the text names (up to a placeholder) is in the checkout."""
    for path in re.findall(r"`((?:reconcile|sql|benchmarks|tests|docs|sample_data)/[^`\s]*)`",
                           _text(page)):
        if path.startswith("reconcile/sql"):  # where the wheel puts sql/
            continue
        existing = re.split(r"[<*{]", path, maxsplit=1)[0]
        assert (ROOT / existing).exists(), f"{page.name}: {path} is not in the repository"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_commands_run_from_the_checkout(page: Path) -> None:
    """Every command in a bash block is copy-pasteable after the README's install: the
    installed programs are called as .venv/bin/..., as the README's two commands do."""
    for block in re.findall(r"^```bash\n(.*?)^```", _text(page), re.MULTILINE | re.DOTALL):
        for line in block.splitlines():
            for command in re.split(r"&&|;|\|", line.split("#", 1)[0]):
                words = command.split()
                while words and "=" in words[0]:  # VAR=value before a command
                    words.pop(0)
                if words and words[0] in ("reconcile", "python", "python3", "pytest", "pip"):
                    # Only the system python3 that makes the virtual environment.
                    assert words[:3] == ["python3", "-m", "venv"], \
                        f"{page.name}: `{line.strip()}` should call .venv/bin/{words[0]}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_describe_the_product_not_its_history(page: Path) -> None:
    text = _text(page)
    for pattern in (r"#\d{1,4}\b", r"\bissues?\b", r"\bsessions?\b", r"latest round",
                    r"tried and not kept", r"\bround of changes\b"):
        found = re.search(pattern, text, re.IGNORECASE)
        assert not found, f"{page.name}: {found.group(0)!r}" if found else ""


def test_the_oracle_copies_the_contract_facts_exactly() -> None:
    """reconcile.synth.reference keeps its own copy of the flags, policy and defaults so that it
    shares no code with the engine; this keeps the copies from drifting apart."""
    from reconcile.config import PROFILES, Settings
    from reconcile.schema import CONTACT_FLAG_KINDS
    from reconcile.synth import reference

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
