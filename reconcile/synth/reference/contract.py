"""The contract's facts, copied for the oracle: flags, default policy, codes, profiles, settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# CONTRACT §3, in the order of its table. Copied, not imported from reconcile.schema, so the
# oracle shares no code with the engine; tests/test_docs.py keeps the copies equal.
FLAGS = (
    "NOT_OVERDUE",
    "PRE_DUE_TARGETING",
    "STALE_DATA",
    "RULE_MISMATCH",
    "PAYMENT_PENDING",
    "UNKNOWN_LOAN",
    "BORROWER_MISMATCH",
    "UNKNOWN_TEMPLATE",
    "LEDGER_INVALID",
    # docs/inputs.md (collection_pauses): a collection text sent inside a pause the ledger
    # records.
    "COLLECTION_PAUSED",
    # docs/inputs.md: a rule that claims to have run after T; money no loan can take.
    "CLOCK_SKEW",
    "UNPLACED_PAYMENT",
    # docs/contact_checks.md (issue #5), in the order of its table. The engine's feed flags
    # (STALE_FEED, INCOMPLETE_FEED) sit before UNPLACED_PAYMENT there; the oracle does not
    # implement them: they judge the night's files as a whole (and the history).
    "QUIET_HOURS",
    "FREQUENCY_CAP",
    "DUPLICATE_IN_BATCH",
    "CONTACT_RESTRICTED",
    "THIRD_PARTY_RECIPIENT",
    "NAME_MISMATCH",
    "CONTENT_MISMATCH",
    "PROHIBITED_CONTENT",
    "PRIVACY_LEAK",
    "MISSING_OPT_OUT",
    "CONTACT_DATA_INVALID",
)

# CONTRACT §4, the default policy.
DEFAULT_POLICY = {
    "NOT_OVERDUE": "block",
    "PRE_DUE_TARGETING": "block",
    "BORROWER_MISMATCH": "block",
    "UNKNOWN_LOAN": "block",
    "STALE_DATA": "hold",
    "RULE_MISMATCH": "hold",
    "PAYMENT_PENDING": "hold",
    "UNKNOWN_TEMPLATE": "hold",
    "LEDGER_INVALID": "hold",
    "COLLECTION_PAUSED": "block",
    "CLOCK_SKEW": "hold",
    "UNPLACED_PAYMENT": "hold",
    # docs/contact_checks.md, "default verdict".
    "QUIET_HOURS": "hold",
    "FREQUENCY_CAP": "hold",
    "DUPLICATE_IN_BATCH": "block",
    "CONTACT_RESTRICTED": "block",
    "THIRD_PARTY_RECIPIENT": "block",
    "NAME_MISMATCH": "block",
    "CONTENT_MISMATCH": "hold",
    "PROHIBITED_CONTENT": "block",
    "PRIVACY_LEAK": "block",
    "MISSING_OPT_OUT": "hold",
    "CONTACT_DATA_INVALID": "hold",
}
SEVERITY = {"send": 0, "hold": 1, "block": 2}

TEMPLATE_KINDS = {"reminder", "collection", "escalation"}
LOAN_STATUSES = {"active", "closed"}
PAYMENT_STATUSES = {"settled", "pending", "reversed", "failed"}
RULE_CATEGORIES = {"delinquency", "risk_control", "reminder"}
# The kinds of a collection_pauses row (a period in which the lender stops collecting).
PAUSE_KINDS = ("collection_stop", "collection_delay", "hardship_relief", "payment_holiday",
               "repayment_plan")
CONTACT_FLAG_KINDS = ("opted_out", "dispute_open", "cease_contact", "deceased", "bankruptcy",
                      "complaint_open")
# The statuses of a send_history row that was never delivered: it does not count.
NOT_SENT_STATUSES = {"failed", "cancelled", "rejected"}

# Default term lists of docs/contact_checks.md (copies of reconcile/config.py's, kept equal
# by tests/test_docs.py).
DEFAULT_PROHIBITED_TERMS: tuple[str, ...] = (
    "公安", "警察", "法院传票", "传票", "坐牢", "拘留", "逮捕", "判刑", "刑事责任",
    "曝光", "通讯录", "黑名单", "通知你的家人", "通知您的家人", "联系你的单位", "上门催收",
    "police", "arrest", "jail", "warrant", "prison",
)
DEFAULT_PROHIBITED_TERM_EXCEPTIONS: tuple[str, ...] = (
    "办公安排", "办公安全", "曝光度", "曝光补偿",
)
DEFAULT_OPT_OUT_PHRASES: tuple[str, ...] = (
    "reply stop", "text stop", "opt out", "opt-out", "unsubscribe", "退订", "回复td", "回t",
)

# The policy profiles of docs/contact_checks.md; the Settings defaults are "cn".
PROFILES: dict[str, dict[str, Any]] = {
    "cn": {
        "allowed_hours_start": "08:00",
        "allowed_hours_end": "22:00",
        "max_messages_per_day": 3,
        "max_messages_per_7_days": 0,
        "frequency_scope": "borrower",
        "require_opt_out": False,
        "phone_country_code": "86",
    },
    "us_reg_f": {
        "allowed_hours_start": "08:00",
        "allowed_hours_end": "21:00",
        "max_messages_per_day": 0,
        "max_messages_per_7_days": 7,
        "frequency_scope": "loan",
        "require_opt_out": True,
        "phone_country_code": "1",
    },
}



@dataclass(frozen=True)
class Settings:
    timezone: str = "Asia/Shanghai"
    grace_days: int = 0
    min_overdue_amount: Decimal = Decimal("0.01")
    amount_tolerance: Decimal = Decimal("0.01")
    dpd_tolerance: int = 1
    max_rule_age_hours: Decimal = Decimal(24)
    # docs/inputs.md: what unplaced money holds.
    unplaced_payment_policy: str = "hold_matching"
    max_unplaced_payments: int = 20
    # False when labelling one chunk of a generated drop: UNPLACED_PAYMENT, which looks at
    # the whole drop's money, is not evaluated.
    whole_drop: bool = True
    # Contact policy (docs/contact_checks.md): the "cn" profile unless said otherwise.
    profile: str = "cn"
    allowed_hours_start: str = "08:00"
    allowed_hours_end: str = "22:00"
    max_messages_per_day: int = 3
    max_messages_per_7_days: int = 0
    frequency_scope: str = "borrower"
    require_opt_out: bool = False
    phone_country_code: str = "86"
    restricting_contact_flags: tuple[str, ...] = CONTACT_FLAG_KINDS[:5]
    prohibited_terms: tuple[str, ...] = DEFAULT_PROHIBITED_TERMS
    prohibited_term_exceptions: tuple[str, ...] = DEFAULT_PROHIBITED_TERM_EXCEPTIONS
    opt_out_phrases: tuple[str, ...] = DEFAULT_OPT_OUT_PHRASES
    verdicts: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_POLICY))

    @classmethod
    def for_profile(cls, profile: str, **changes: Any) -> Settings:
        """A profile's defaults, then the settings named one by one (as a config file)."""
        return cls(**{"profile": profile, **PROFILES[profile], **changes})
