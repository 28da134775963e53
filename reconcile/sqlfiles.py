"""The SQL that ships with the package (a folder's files in order with their headers, any
file by name), and quoting values into SQL text.

The `sql/` folder is packaged into the wheel as `reconcile/sql`; from a source checkout
(an editable install) the repository's `sql/` beside the package is used instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

# A `-- reads:` line and the indented lines that go on with it.
_READS = re.compile(r"^-- reads:(.*(?:\n--   \S.*)*)", re.MULTILINE)
# A header line `-- key: value`, and a line that goes on with the value before it.
_HEADER_KEY = re.compile(r"^--\s*([a-z][a-z ]*[a-z]):\s*(.*?)\s*$")
_HEADER_MORE = re.compile(r"^--\s{2,}(\S.*?)\s*$")


@dataclass(frozen=True)
class SqlFile:
    """One shipped SQL file: its name, its text and the `-- key: value` lines it opens with
    (a value goes on over indented `--   ` lines; the header ends at the first other line)."""

    name: str
    text: str

    @property
    def header(self) -> dict[str, str]:
        header: dict[str, str] = {}
        key = None
        for line in self.text.splitlines():
            more = _HEADER_MORE.match(line)
            if key is not None and more:
                header[key] += " " + more.group(1)
                continue
            named = _HEADER_KEY.match(line)
            if named is None:
                break
            key = named.group(1)
            if key in header:
                raise ValueError(f"{self.name}: header key {key!r} given twice")
            header[key] = named.group(2)
        return header

    @property
    def reads(self) -> tuple[str, ...] | None:
        """What its `-- reads:` line declares it reads, in its opening comments: relations,
        macros (`name()`) and variables (`$name`); `nothing` is none. None without one.

        tests/test_sql_reads.py runs each file on a connection holding only these."""
        opening = "".join(line + "\n" for line in
                          _leading_comments(self.text.splitlines()))
        declared = _READS.search(opening)
        if declared is None:
            return None
        names = [name.strip() for name in declared.group(1).replace("--", " ").split(",")]
        return () if names == ["nothing"] else tuple(names)


def relations(reads: Iterable[str]) -> set[str]:
    """The tables and views among what a `-- reads:` line declares (not macros, variables)."""
    return {name for name in reads if not name.endswith("()") and not name.startswith("$")}


def _leading_comments(lines: list[str]) -> list[str]:
    opening = []
    for line in lines:
        if not line.startswith("--"):
            break
        opening.append(line)
    return opening


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


def _sql_path(relative_path: str) -> Traversable:
    node = sql_root()
    for part in relative_path.split("/"):
        node = node.joinpath(part)
    return node


def read_sql(relative_path: str) -> str:
    """The text of one SQL file, e.g. read_sql('nightly/findings.sql')."""
    return _sql_path(relative_path).read_text(encoding="utf-8")


def sql_files(folder: str) -> list[SqlFile]:
    """The .sql files of one folder of sql/ (e.g. 'nightly/truth'), in file-name order."""
    files = sorted((f for f in _sql_path(folder).iterdir() if f.name.endswith(".sql")),
                   key=lambda f: f.name)
    return [SqlFile(f.name, f.read_text(encoding="utf-8")) for f in files]


def truth_steps() -> list[tuple[str, str]]:
    """(file name, SQL) of sql/nightly/truth/*.sql in file-name order; each creates one
    table or view."""
    return [(file.name, file.text) for file in sql_files("nightly/truth")]
