"""A tiny history database written by hand, so report tests can assert exact numbers.

Written in the single-file layout of earlier versions (one DuckDB file with tables) and
then migrated, so every report test also runs the migration.

The schema is the real one (every `sql/history/NNN_*.sql` migration, in order); the rows are
the ones below. Four completed runs:

| run | as_of (+08) | finished (+08) | rows |
|---|---|---|---|
| N0 | 2026-11-21 01:30 | 11-21 02:00 | 1: send |
| N1 | 2026-11-22 01:30 | 11-22 02:00 | 4: send, block, hold, rejected |
| N2A | 2026-11-23 01:30 | 11-23 02:00 | 1: send (a first try of the same night) |
| N2 | 2026-11-23 01:30 | 11-23 03:00 | 6: send, block ×2, hold ×2, rejected |

So the latest run is N2 (same as-of as N2A, finished later) and its previous night is N1
(N2A has the same as-of, so it is not an earlier night).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parent.parent
# The migrations a single-file history had (before the Parquet layout and migration 003).
LAYOUT1_MIGRATIONS = [ROOT / "sql" / "history" / "migrations" / name
                      for name in ("001_runs_and_findings.sql", "002_run_warnings.sql")]

# (message_id, verdict, flags, rule_id, template_id, rule_age_hours, phone, name)
Finding = tuple[str, str, list[str], str | None, str | None, float | None, str, str]

NIGHTS: dict[str, tuple[str, str, list[Finding]]] = {
    "N0": ("2026-11-21 01:30:00+08", "2026-11-21 02:00:00+08", [
        ("A1", "send", [], "R_DEL", "T_COL", 3.5, "13800000001", "赵六"),
    ]),
    "N1": ("2026-11-22 01:30:00+08", "2026-11-22 02:00:00+08", [
        ("M1", "send", [], "R_DEL", "T_COL", 3.5, "13812341234", "张三丰"),
        ("M2", "block", ["NOT_OVERDUE"], "R_RISK", "T_COL", 3.5, "13900001111", "Li Wei"),
        ("M3", "hold", ["STALE_DATA"], "R_DEL", "T_COL", 30.0, "13700002222", "王芳"),
        ("M4", "rejected", [], None, "T_COL", None, "13600003333", "李娜"),
    ]),
    "N2A": ("2026-11-23 01:30:00+08", "2026-11-23 02:00:00+08", [
        ("B1", "send", [], "R_DEL", "T_COL", 3.5, "13800000002", "钱七"),
    ]),
    "N2": ("2026-11-23 01:30:00+08", "2026-11-23 03:00:00+08", [
        ("M1", "send", [], "R_DEL", "T_COL", 3.5, "13812341234", "张三丰"),
        ("M2", "block", ["NOT_OVERDUE", "PRE_DUE_TARGETING"], "R_RISK", "T_COL", 7.0,
         "13900001111", "Li Wei"),
        ("M3", "block", ["NOT_OVERDUE", "STALE_DATA"], "R_DEL", "T_COL", 50.0,
         "13700002222", "王芳"),
        ("M4", "hold", ["RULE_MISMATCH"], "R_DEL", "T_REM", 13.0, "13600003333", "李娜"),
        ("M5", "hold", ["PAYMENT_PENDING"], "R_DEL", "T_COL", 25.0, "13500004444", "周杰"),
        ("M6", "rejected", [], "R_DEL", "T_COL", None, "13400005555", "吴"),
    ]),
}


def reason_of(flags: list[str]) -> str:
    return "; ".join(f"{flag}: evidence for {flag.lower()}" for flag in flags)


def build_history(path: Path, nights: dict[str, tuple[str, str, list[Finding]]] = NIGHTS) -> Path:
    con = duckdb.connect(str(path))
    try:
        con.execute("SET TimeZone = 'Asia/Shanghai'")
        for migration in LAYOUT1_MIGRATIONS:
            con.execute(migration.read_text(encoding="utf-8"))
        for run_id, (as_of, finished_at, findings) in nights.items():
            _insert_run(con, run_id, as_of, finished_at, findings)
    finally:
        con.close()
    return migrated(path)


def migrated(path: Path) -> Path:
    """A history written in the single-file layout of earlier versions, as hand-written
    fixtures are, brought to the current layout the way a run does on first use. Phones and
    names are kept clear, so tests can read them back."""
    from reconcile.config import Settings
    from reconcile.history import store as history

    history.migrate_history(path, Settings(history_personal_data="clear"))
    return path


def _insert_run(con: duckdb.DuckDBPyConnection, run_id: str, as_of: str, finished_at: str,
                findings: list[Finding]) -> None:
    verdicts = {v: sum(1 for f in findings if f[1] == v)
                for v in ("send", "hold", "block", "rejected")}
    flags: dict[str, int] = {}
    for finding in findings:
        for flag in finding[2]:
            flags[flag] = flags.get(flag, 0) + 1
    run: dict[str, Any] = {
        "run_id": run_id, "fingerprint": f"fp-{run_id}", "status": "completed",
        "as_of": as_of, "started_at": as_of, "finished_at": finished_at,
        "duration_seconds": 0.5, "data_dir": "drop", "out_dir": "out",
        "reconcile_version": "0.1.0", "inputs": "{}",
        "settings": json.dumps({"timezone": "Asia/Shanghai"}),
        "messages": len(findings), "sent": verdicts["send"], "held": verdicts["hold"],
        "blocked": verdicts["block"], "rejected": verdicts["rejected"],
        "verdicts": json.dumps(verdicts), "flags": json.dumps(flags),
    }
    con.execute(f"INSERT INTO runs ({', '.join(run)}) VALUES ({', '.join('?' * len(run))})",
                list(run.values()))
    for row, (message_id, verdict, fl, rule_id, template_id, age, phone, name) in enumerate(
            findings, start=1):
        finding: dict[str, Any] = {
            "run_id": run_id, "source_row": row, "message_id": message_id, "verdict": verdict,
            "flags": fl,
            "reason": "scheduled_at: not a timestamp" if verdict == "rejected" else reason_of(fl),
            "borrower_id": f"B-{message_id}", "borrower_name": name, "phone": phone,
            "loan_id": f"L-{message_id}", "template_id": template_id, "rule_id": rule_id,
            "rule_age_hours": age,
            "overdue_amount": None if verdict == "rejected" else "1234.50",
            "days_past_due": None if verdict == "rejected" else 12,
            "claimed_overdue_amount": "1234.50", "claimed_days_past_due": 12,
        }
        con.execute(
            f"INSERT INTO findings ({', '.join(finding)}) "
            f"VALUES ({', '.join('?' * len(finding))})",
            list(finding.values()),
        )


def sample_history(folder: Path) -> tuple[Path, list[dict[str, Any]]]:
    """sample_data reconciled on two nights (as of 11-22 and 11-23 01:30 +08) into one
    history file by the real `reconcile run --db`; returns it and each run's summary.json."""
    from drops import invoke

    db = folder / "history.duckdb"
    summaries = []
    for night, as_of in enumerate(("2026-11-22T01:30:00+08:00", "2026-11-23T01:30:00+08:00")):
        out = folder / f"out{night}"
        result = invoke("run", str(ROOT / "sample_data"), "--out", str(out), "--as-of", as_of,
                        "--db", str(db), "--quiet")
        assert result.exit_code == 0, result.output
        summaries.append(json.loads((out / "summary.json").read_text(encoding="utf-8")))
    return db, summaries


def generated_history(folder: Path, nights: int = 8, *, personal_data: str = "clear",
                      messages: int = 240) -> Path:
    """`nights` generated drops (one a night from 2026-11-16, seed = night) reconciled into
    one history by the real `reconcile run --db`. Each night more loans are paid before the
    rule runs (rate paid rising from 2 % by 3 points a night), so the delinquency rules'
    false-positive rates climb: a trend to draw. Kept in clear text unless asked (the
    names are what the browser must render)."""
    from drops import invoke

    db = folder / "history.duckdb"
    config = folder / "history.toml"
    config.write_text(f'history_personal_data = "{personal_data}"\n', encoding="utf-8")
    for night in range(nights):
        as_of = f"2026-11-{16 + night:02d}T01:30:00+08:00"
        drop, out = folder / f"drop{night}", folder / f"out{night}"
        generated = invoke("generate", str(drop), "-n", str(messages), "--seed", str(night),
                           "--as-of", as_of, "--rate", f"paid={0.02 + 0.03 * night:.2f}",
                           "--no-labels", "--quiet")
        assert generated.exit_code == 0, generated.output
        result = invoke("run", str(drop), "--out", str(out), "--as-of", as_of, "--db", str(db),
                        "--config", str(config), "--quiet")
        assert result.exit_code in (0, 3, 5), result.output
    return db
