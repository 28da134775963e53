"""The SQL that ships with the package (truth steps in order, one check per flag, any file by
name), and quoting values into SQL text.

The `sql/` folder is packaged into the wheel as `reconcile/sql`; from a source checkout
(an editable install) the repository's `sql/` beside the package is used instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from reconcile.schema import FLAGS

_FLAG_HEADER = re.compile(r"^--\s*flag:\s*(\S+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Check:
    """One flag's SQL: a SELECT of (source_row, detail) for every message the flag holds on."""

    flag: str
    file_name: str
    sql: str


def quote_identifier(name: str) -> str:
    """A name as a DuckDB identifier, whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """Text as a DuckDB string literal."""
    return "'" + text.replace("'", "''") + "'"


def sql_root() -> Traversable:
    packaged = resources.files("reconcile").joinpath("sql")
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "sql"


def read_sql(relative_path: str) -> str:
    """The text of one SQL file, e.g. read_sql('nightly/findings.sql')."""
    node = sql_root()
    for part in relative_path.split("/"):
        node = node.joinpath(part)
    return node.read_text(encoding="utf-8")


def truth_steps() -> list[tuple[str, str]]:
    """(file name, SQL) of sql/nightly/truth/*.sql in file-name order; each creates one
    table or view."""
    folder = sql_root().joinpath("nightly", "truth")
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f.name, f.read_text(encoding="utf-8")) for f in files]


@cache
def load_checks() -> dict[str, Check]:
    """Every sql/nightly/checks/*.sql keyed by the flag its header names, in the contract's order.

    Refuses a file without a `-- flag:` header, an unknown flag, a flag claimed twice and a
    flag with no file, so a check can neither vanish nor run twice.
    """
    found: dict[str, Check] = {}
    for file in sql_root().joinpath("nightly", "checks").iterdir():
        if not file.name.endswith(".sql"):
            continue
        text = file.read_text(encoding="utf-8")
        header = _FLAG_HEADER.search(text)
        if header is None:
            raise ValueError(f"sql/nightly/checks/{file.name} has no '-- flag: NAME' header")
        flag = header.group(1)
        if flag not in FLAGS:
            raise ValueError(f"sql/nightly/checks/{file.name} names unknown flag {flag}")
        if flag in found:
            raise ValueError(
                f"flag {flag} is defined twice: {found[flag].file_name} and {file.name}"
            )
        found[flag] = Check(flag, file.name, text.strip().rstrip(";"))
    missing = [flag for flag in FLAGS if flag not in found]
    if missing:
        raise ValueError(f"no check file for flag(s): {', '.join(missing)}")
    return {flag: found[flag] for flag in FLAGS}
