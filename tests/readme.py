"""The README's generated blocks: find the fenced block after a `<!-- marker -->`, replace
it, and check it against what the code prints now (or rewrite it with UPDATE_DOCS=1)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconcile.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def _block_pattern(marker: str) -> str:
    return rf"(<!-- {marker} -->\n```[a-z]*\n)(.*?)(```)"


def block_after(marker: str, text: str) -> str:
    """The fenced block that follows `<!-- marker -->` in the README."""
    match = re.search(_block_pattern(marker), text, re.DOTALL)
    assert match, f"README.md has no fenced block after <!-- {marker} -->"
    return match.group(2)


def replace_block(marker: str, text: str, body: str) -> str:
    return re.sub(_block_pattern(marker), lambda m: m.group(1) + body + m.group(3), text,
                  flags=re.DOTALL)


def command_help(*command: str) -> str:
    """`reconcile COMMAND --help` as an 80-column terminal shows it."""
    result = CliRunner().invoke(main, [*command, "--help"], terminal_width=80,
                                prog_name="reconcile")
    assert result.exit_code == 0, result.output
    return result.output


def assert_block_is(marker: str, body: str) -> None:
    """The README block after marker is body; with UPDATE_DOCS=1 it is rewritten instead
    (review the diff) and the test skips."""
    text = README.read_text(encoding="utf-8")
    if os.environ.get("UPDATE_DOCS"):
        README.write_text(replace_block(marker, text, body), encoding="utf-8")
        pytest.skip(f"README <!-- {marker} --> block regenerated")
    assert block_after(marker, text) == body
