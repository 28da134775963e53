"""The lender's fixed setup: a handful of templates and rules (some of them unusable on
purpose), the days-past-due stages they serve, and the contact flags its CRM sets."""

from __future__ import annotations

from reconcile.synth.generator.layout import Tables

TEMPLATES: tuple[tuple[str, str, int | None, int | None], ...] = (
    ("TPL_REM_PRE", "reminder", None, 0),
    ("TPL_COL_M1", "collection", 1, 30),
    ("TPL_COL_M2", "collection", 31, 60),
    ("TPL_COL_M3", "collection", 61, 90),
    ("TPL_ESC_M4", "escalation", 91, None),
    ("TPL_COL_GEN", "collection", None, None),
    ("TPL_SMS_OLD", "sms", None, None),  # unusable: unknown kind
    ("TPL_DUP", "collection", 1, 30),  # unusable: template_id twice
    ("TPL_DUP", "escalation", 61, None),
)
RULES: tuple[tuple[str, str], ...] = (
    ("RULE_DPD_M1", "delinquency"),
    ("RULE_DPD_M2", "delinquency"),
    ("RULE_DPD_M3", "delinquency"),
    ("RULE_DPD_M4", "delinquency"),
    ("RULE_DPD_GEN", "delinquency"),
    ("RULE_REM_D3", "reminder"),
    ("RULE_RC_PREDUE", "risk_control"),
    ("RULE_RC_SCORE", "risk_control"),
    ("RULE_LEGACY", "collections"),  # unusable: unknown category
)
RULE_NOT_LISTED = "RULE_MANUAL"  # used by some messages, absent from rules
MISSING_TEMPLATE = "TPL_COL_M1_V2"
# Days-past-due stages: (lowest dpd, template, rule).
STAGES: tuple[tuple[int, str, str], ...] = (
    (1, "TPL_COL_M1", "RULE_DPD_M1"),
    (31, "TPL_COL_M2", "RULE_DPD_M2"),
    (61, "TPL_COL_M3", "RULE_DPD_M3"),
    (91, "TPL_ESC_M4", "RULE_DPD_M4"),
)
BATCH_SUFFIX = {
    "RULE_DPD_M1": "M1", "RULE_DPD_M2": "M2", "RULE_DPD_M3": "M3", "RULE_DPD_M4": "M4",
    "RULE_DPD_GEN": "GEN", "RULE_REM_D3": "REM", "RULE_RC_PREDUE": "RC",
    "RULE_RC_SCORE": "RC", "RULE_LEGACY": "LEG", RULE_NOT_LISTED: "MAN",
}
# The contact flags that stop a message while active (complaint_open only informs).
RESTRICTING_FLAGS = ("opted_out", "dispute_open", "cease_contact", "deceased", "bankruptcy")


def stage_of(days: int) -> tuple[int, str, str]:
    """The (lowest dpd, template, rule) of the stage serving `days` past due (the first
    stage for 0 and below)."""
    return next((stage for stage in reversed(STAGES) if days >= stage[0]), STAGES[0])


def fixed_tables() -> Tables:
    """The templates and rules tables, as text rows."""
    return {
        "templates": [
            {"template_id": t, "kind": kind, "min_dpd": None if low is None else str(low),
             "max_dpd": None if high is None else str(high)}
            for t, kind, low, high in TEMPLATES
        ],
        "rules": [{"rule_id": rule, "category": category} for rule, category in RULES],
    }
