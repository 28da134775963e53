"""Every flag's facts, read from its check file's header: the one place a flag is defined.

A check is one `sql/nightly/checks/*.sql` file: a SELECT of (source_row, detail) for every
message the flag holds on, opening with a header of `-- key: value` lines (a value may go
on over indented `--   ` lines; the header ends at the first other line):

    flag          the flag's name, upper case
    order         where the flag stands among all flags (findings list flags in this order)
    kind          ledger (one message's ledger), feed (the night's feeds as a whole) or
                  contact (contact policy and message content)
    verdict       the default verdict: send, hold or block
    needs         optional inputs it cannot run without: a table, or table.column
    off unless    settings one of which must be on (not 0 or false) for it to run; the
                  name `database snapshot` is a night read from a database
    source        where the rule comes from (the contract, a law, reconcile's own)
    summary       what it holds on, in a few words (the README's table)
    definition    what it holds on, fully (docs/inputs.md's table)
    en name, en explained, zh name, zh explained
                  its name and a one-line explanation in the morning report, in English
                  and in Simplified Chinese (reconcile.report.vocabulary)
    reads         the relations, macros (`name()`) and variables (`$name`) it reads

The flag lists, the default verdict policy, which checks an absent input or a setting
turns off, the history views' flag columns and the docs' flag tables all derive from here.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache

from reconcile.schema import TABLES_BY_NAME, VERDICTS
from reconcile.sqlfiles import SqlFile, read_sql, sql_files

CHECKS_FOLDER = "nightly/checks"
CHECK_KINDS: tuple[str, ...] = ("ledger", "feed", "contact")
# The `off unless` condition met by a night whose tables were read from a database.
DATABASE_SNAPSHOT = "database snapshot"
# The optional input that the content checks read.
MESSAGE_TEXT = "send_batch.message_text"

_REQUIRED_KEYS = ("flag", "order", "kind", "verdict", "source", "summary", "definition",
                  "en name", "en explained", "zh name", "zh explained", "reads")
_OPTIONAL_KEYS = ("needs", "off unless")
_FLAG_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


@dataclass(frozen=True)
class Check:
    """One flag: what its file's header says, and the SQL that finds it."""

    flag: str
    order: int
    kind: str
    verdict: str
    needs: tuple[str, ...]
    off_unless: tuple[str, ...]
    source: str
    summary: str
    definition: str
    en_name: str
    en_explained: str
    zh_name: str
    zh_explained: str
    reads: tuple[str, ...]
    file_name: str
    sql: str

    @property
    def reads_text(self) -> bool:
        return MESSAGE_TEXT in self.needs


@cache
def load_checks() -> dict[str, Check]:
    """Every check keyed by its flag, in `order`.

    Refuses a header without its required keys or with an unknown one, an unknown kind,
    verdict or input, a flag or an order claimed twice, so a check can neither vanish nor
    run twice.
    """
    checks = [check_from(file) for file in sql_files(CHECKS_FOLDER)]
    for attribute in ("flag", "order"):
        seen: dict[object, str] = {}
        for check in checks:
            value = getattr(check, attribute)
            if value in seen:
                raise ValueError(f"{attribute} {value} is claimed twice: "
                                 f"{seen[value]} and {check.file_name}")
            seen[value] = check.file_name
    return {check.flag: check for check in sorted(checks, key=lambda c: c.order)}


def check_from(file: SqlFile) -> Check:
    """One check file's Check, or a ValueError naming what its header gets wrong."""
    where = f"sql/{CHECKS_FOLDER}/{file.name}"
    header = file.header
    missing = [key for key in _REQUIRED_KEYS if key not in header]
    unknown = [key for key in header if key not in (*_REQUIRED_KEYS, *_OPTIONAL_KEYS)]
    if missing or unknown:
        raise ValueError(f"{where}: header " + "; ".join(
            part for part in (missing and f"lacks {', '.join(missing)}",
                              unknown and f"has unknown key(s) {', '.join(unknown)}") if part))
    check = Check(
        flag=header["flag"], order=_order(header["order"], where), kind=header["kind"],
        verdict=header["verdict"], needs=_names(header.get("needs", "")),
        off_unless=_names(header.get("off unless", "")), source=header["source"],
        summary=header["summary"], definition=header["definition"],
        en_name=header["en name"], en_explained=header["en explained"],
        zh_name=header["zh name"], zh_explained=header["zh explained"],
        reads=file.reads or (),
        file_name=file.name, sql=file.text.strip().rstrip(";"),
    )
    _validate(check, where)
    return check


def _validate(check: Check, where: str) -> None:
    if not _FLAG_NAME.match(check.flag):
        raise ValueError(f"{where}: flag {check.flag!r} is not an upper-case name")
    if check.kind not in CHECK_KINDS:
        raise ValueError(f"{where}: kind {check.kind!r} is not one of {', '.join(CHECK_KINDS)}")
    if check.verdict not in VERDICTS:
        raise ValueError(f"{where}: verdict {check.verdict!r} is not one of {', '.join(VERDICTS)}")
    for need in check.needs:
        table, _, column = need.partition(".")
        known = TABLES_BY_NAME.get(table)
        if known is None or (column and column not in {c.name for c in known.columns}):
            raise ValueError(f"{where}: needs {need!r}, which is no input table or column")


def _order(text: str, where: str) -> int:
    if not text.isdigit():
        raise ValueError(f"{where}: order {text!r} is not a whole number")
    return int(text)


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


@cache
def judging_sql_digest() -> str:
    """The SQL that decides verdicts as this install has it (the truth steps, the checks,
    findings.sql): beside the version, part of what makes two runs the same, so a check
    added or changed without a new version makes a new run, not "already recorded"."""
    files = [*sql_files("nightly/truth"), *sql_files(CHECKS_FOLDER),
             SqlFile("findings.sql", read_sql("nightly/findings.sql"))]
    text = "".join(f"{file.name}\n{file.text}\n" for file in files)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


CHECKS: dict[str, Check] = load_checks()

# Flags in order (the contract's nine first): findings list a message's flags in this order.
FLAGS: tuple[str, ...] = tuple(CHECKS)

# Flags that judge the night as a whole (its files, the history, money across every loan)
# rather than one message's data: a tiny test drop (no payments, no history) trips them by
# construction, and a generated drop, labelled a chunk of loans at a time, cannot show them.
FEED_FLAGS: tuple[str, ...] = tuple(c.flag for c in CHECKS.values() if c.kind == "feed")

# The contact-policy and content flags, beyond the ledger's.
CONTACT_POLICY_FLAGS: tuple[str, ...] = tuple(
    c.flag for c in CHECKS.values() if c.kind == "contact")

# Flags that read send_batch.message_text: skipped when the column is absent.
CONTENT_FLAGS: tuple[str, ...] = tuple(c.flag for c in CHECKS.values() if c.reads_text)

DEFAULT_VERDICT_POLICY: dict[str, str] = {c.flag: c.verdict for c in CHECKS.values()}
