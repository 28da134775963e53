"""The documentation's generated blocks: find the fenced block after a `<!-- marker -->` in
README.md or a docs/ page, replace it, and check it against what the code prints now (or
rewrite it with UPDATE_DOCS=1)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconcile.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"

# Every page a user reads: each is held to the same rules (links, commands, no history).
PAGES: tuple[Path, ...] = (README, *sorted(DOCS.glob("*.md")), ROOT / "sample_data" / "README.md")


def doc(name: str) -> Path:
    """docs/NAME (e.g. "nightly.md"), which must exist."""
    page = DOCS / name
    assert page.is_file(), f"docs/{name} is missing"
    return page


def _block_pattern(marker: str) -> str:
    """A fenced block after the marker, or else a Markdown table (up to its blank line)."""
    return rf"(<!-- {marker} -->\n(```[a-z]*\n)?)(.*?)((?(2)```|(?<=\|\n)(?=\n)))"


def block_after(marker: str, text: str) -> str:
    """The fenced block (or table) that follows `<!-- marker -->` in text (a page's
    contents)."""
    match = re.search(_block_pattern(marker), text, re.DOTALL)
    assert match, f"no fenced block after <!-- {marker} -->"
    return match.group(3)


def replace_block(marker: str, text: str, body: str) -> str:
    return re.sub(_block_pattern(marker), lambda m: m.group(1) + body + m.group(4), text,
                  flags=re.DOTALL)


def command_help(*command: str) -> str:
    """`reconcile COMMAND --help` as an 80-column terminal shows it."""
    result = CliRunner().invoke(main, [*command, "--help"], terminal_width=80,
                                prog_name="reconcile")
    assert result.exit_code == 0, result.output
    return result.output


def assert_block_is(marker: str, body: str, page: Path = README) -> None:
    """The block after marker on page (README.md or a docs/ page) is body; with
    UPDATE_DOCS=1 it is rewritten instead (review the diff) and the test skips."""
    text = page.read_text(encoding="utf-8")
    where = page.relative_to(ROOT)
    assert f"<!-- {marker} -->" in text, f"{where} has no <!-- {marker} --> block"
    if os.environ.get("UPDATE_DOCS"):
        page.write_text(replace_block(marker, text, body), encoding="utf-8")
        pytest.skip(f"{where} <!-- {marker} --> block regenerated")
    assert block_after(marker, text) == body, f"{where} <!-- {marker} --> is out of date"
