-- reads: nothing
-- migration 1: the run history an analyst queries across nights.
-- runs: one row per recorded run. fingerprint = sha256 of (input file hashes, as-of,
-- settings): the same drop reconciled the same way twice has the same fingerprint, and is
-- recorded once unless --force.
CREATE TABLE runs (
    run_id VARCHAR PRIMARY KEY,
    fingerprint VARCHAR NOT NULL,
    status VARCHAR NOT NULL,              -- 'completed': a run is recorded whole or not at all
    as_of TIMESTAMPTZ NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    duration_seconds DOUBLE NOT NULL,
    data_dir VARCHAR NOT NULL,
    out_dir VARCHAR NOT NULL,
    reconcile_version VARCHAR NOT NULL,
    inputs JSON NOT NULL,                 -- {table: {file, format, rows, sha256}}
    settings JSON NOT NULL,
    messages BIGINT NOT NULL,
    sent BIGINT NOT NULL,
    held BIGINT NOT NULL,
    blocked BIGINT NOT NULL,
    rejected BIGINT NOT NULL,
    verdicts JSON NOT NULL,               -- {verdict: count}
    flags JSON NOT NULL                   -- {flag: count}
);

-- findings: one row per message per run, with the evidence behind its verdict.
CREATE TABLE findings (
    run_id VARCHAR NOT NULL,
    source_row BIGINT NOT NULL,
    message_id VARCHAR,
    verdict VARCHAR NOT NULL,
    flags VARCHAR[] NOT NULL,
    reason VARCHAR NOT NULL,
    borrower_id VARCHAR,
    borrower_name VARCHAR,
    phone VARCHAR,
    loan_id VARCHAR,
    batch_id VARCHAR,
    template_id VARCHAR,
    template_kind VARCHAR,
    rule_id VARCHAR,
    rule_category VARCHAR,
    rule_evaluated_at TIMESTAMPTZ,
    scheduled_at TIMESTAMPTZ,
    claimed_overdue_amount DECIMAL(18, 2),
    claimed_days_past_due BIGINT,
    overdue_amount DECIMAL(18, 2),
    days_past_due BIGINT,
    last_ledger_change_at TIMESTAMPTZ,
    rule_age_hours DOUBLE,
    PRIMARY KEY (run_id, source_row)
);
