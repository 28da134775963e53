"""The documented views over the run history: one `sql/history/views/NN_name.sql` file per view.

Each file holds one `CREATE OR REPLACE VIEW name AS ...` and opens with a header:

    -- view: name
    -- answers: the question the view answers (one line, or continued on
    --   indented comment lines)
    --
    -- columns: ...

`create_views` runs them, in file-name order, in whatever catalog the connection is using,
so the views live in the history file itself and a plain `duckdb history.duckdb` sees them.
Later files may build on earlier views (the number orders them).

Flags come from the check files (reconcile.checks), never from a list in a view: before the
views, `create_views` writes the table `flag_definitions` (one row per flag, in order), and a
view file's `{flag_columns}` stands for one count column per flag, lower case, in order.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache

import duckdb

from reconcile.checks import CHECKS
from reconcile.sqlfiles import quote_literal, sql_root

_FILE_NAME = re.compile(r"^(\d{2})_([a-z][a-z0-9_]*)\.sql$")
_VIEW_HEADER = re.compile(r"^--\s*view:\s*(\S+)\s*$", re.MULTILINE)
# The answers line and any indented comment lines that continue it.
_ANSWERS = re.compile(r"^--\s*answers:\s*(.+)$((?:\n--\s{2,}\S.*$)*)", re.MULTILINE)
_CREATE = re.compile(r"\bCREATE\s+OR\s+REPLACE\s+VIEW\s+([A-Za-z_][A-Za-z0-9_]*)\s+AS\b",
                     re.IGNORECASE)


@dataclass(frozen=True)
class View:
    """One documented view: its name, the question it answers, and the SQL creating it."""

    name: str
    description: str
    file_name: str
    sql: str


@cache
def load_views() -> dict[str, View]:
    """Every sql/history/views/*.sql keyed by view name, in file-name (creation) order.

    Refuses a file not named NN_name.sql, a header that is missing or names another view
    than the file and its CREATE statement, a file creating more or fewer than one view,
    and a view name used twice.
    """
    folder = sql_root().joinpath("history", "views")
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    found: dict[str, View] = {}
    for file in files:
        view = _parse(file.name, file.read_text(encoding="utf-8").replace(
            FLAG_COLUMNS, _flag_columns()))
        if view.name in found:
            raise ValueError(
                f"view {view.name} is defined twice: {found[view.name].file_name} and {file.name}"
            )
        found[view.name] = view
    return found


FLAG_COLUMNS = "{flag_columns}"
# flag_definitions, the flags' facts a query can join (day_over_day's flag measures come
# from here): each column and its type.
_FLAG_DEFINITION_TYPES: dict[str, str] = {
    "flag": "VARCHAR PRIMARY KEY", "position": "INTEGER", "kind": "VARCHAR",
    "default_verdict": "VARCHAR", "summary": "VARCHAR", "en_name": "VARCHAR",
    "zh_name": "VARCHAR", "source": "VARCHAR",
}


def _flag_columns() -> str:
    """One count column per flag, as 02_false_positives_by_rule_night.sql's `{flag_columns}`
    stands for: messages of the group carrying the flag."""
    return ",\n    ".join(
        f"count(*) FILTER (WHERE list_contains(f.flags, {quote_literal(flag)})) "
        f"AS {flag.lower()}" for flag in CHECKS)


def _flag_definitions() -> list[dict[str, object]]:
    """The rows of flag_definitions, by column name, one per flag in order."""
    return [{"flag": c.flag, "position": position, "kind": c.kind, "default_verdict": c.verdict,
             "summary": c.summary, "en_name": c.en_name, "zh_name": c.zh_name,
             "source": c.source}
            for position, c in enumerate(CHECKS.values(), start=1)]


def views_digest() -> str:
    """What the views and flag_definitions a catalog holds depend on: a catalog built with
    another digest (a flag added, a view changed) is built again."""
    text = repr(_flag_definitions()) + "".join(view.sql for view in load_views().values())
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def create_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Create or replace flag_definitions and every view, in order, in the connection's
    current catalog.

    Returns the names of the views created. Runs no transaction of its own: the caller
    decides.
    """
    columns = list(_FLAG_DEFINITION_TYPES)
    con.execute("CREATE OR REPLACE TABLE flag_definitions ("
                + ", ".join(f"{name} {kind}" for name, kind in _FLAG_DEFINITION_TYPES.items())
                + ")")
    con.executemany(f"INSERT INTO flag_definitions ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' for _ in columns)})",
                    [[row[name] for name in columns] for row in _flag_definitions()])
    created = []
    for view in load_views().values():
        con.execute(view.sql)
        created.append(view.name)
    return created


def _parse(file_name: str, text: str) -> View:
    where = f"sql/history/views/{file_name}"
    named = _FILE_NAME.match(file_name)
    if named is None:
        raise ValueError(f"{where}: a view file is named NN_name.sql (e.g. 01_runs_by_night.sql)")
    header = _VIEW_HEADER.search(text)
    if header is None:
        raise ValueError(f"{where} has no '-- view: NAME' header")
    name = header.group(1)
    if name != named.group(2):
        raise ValueError(f"{where}: its header names view {name}, its file name {named.group(2)}")
    answers = _ANSWERS.search(text)
    if answers is None:
        raise ValueError(f"{where} has no '-- answers: ...' line under its header")
    continued = [line.lstrip("-").strip() for line in answers.group(2).splitlines() if line]
    description = " ".join([answers.group(1).strip(), *continued])
    creates = _CREATE.findall(text)
    if creates != [name]:
        raise ValueError(
            f"{where} must hold exactly one 'CREATE OR REPLACE VIEW {name} AS', "
            f"found: {', '.join(creates) or 'none'}"
        )
    return View(name, description, file_name, text.strip())
