"""Run settings: the defaults of CONTRACT §6, optionally overridden by a TOML file."""

from __future__ import annotations

import re
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from reconcile.checks import DEFAULT_VERDICT_POLICY, FLAGS
from reconcile.errors import ConfigError
from reconcile.schema import CONTACT_FLAG_KINDS, TABLES_BY_NAME, VERDICTS

# The TOML table that maps a flag to the verdict it gives.
VERDICTS_TABLE = "verdicts"
# The TOML table of where tables come from; its key naming the database (the rest are
# table names). Where tables come from is not what decides verdicts: the inputs' own
# digests are in a run's fingerprint.
SOURCES_TABLE = "sources"
DATABASE = "database"
PROFILE = "profile"

# Threats, insults and impersonation of authorities (PROHIBITED_CONTENT); each is also
# matched in its traditional form (reconcile/nightly/content.py). Latin terms match whole words.
DEFAULT_PROHIBITED_TERMS: tuple[str, ...] = (
    "公安", "警察", "法院传票", "传票", "坐牢", "拘留", "逮捕", "判刑", "刑事责任",
    "曝光", "通讯录", "黑名单", "通知你的家人", "通知您的家人", "联系你的单位", "上门催收",
    "police", "arrest", "jail", "warrant", "prison",
)
# Harmless words that contain a term: removed from the text before terms are searched.
DEFAULT_PROHIBITED_TERM_EXCEPTIONS: tuple[str, ...] = (
    "办公安排", "办公安全", "曝光度", "曝光补偿",
)
# An opt-out instruction (MISSING_OPT_OUT), matched case-insensitively anywhere in the text.
DEFAULT_OPT_OUT_PHRASES: tuple[str, ...] = (
    "reply stop", "text stop", "opt out", "opt-out", "unsubscribe", "退订", "回复td", "回t",
)
# The contact_flags kinds that forbid contact while in force (CONTACT_RESTRICTED); an open
# complaint does not, unless a lender's settings say so.
RESTRICTING_CONTACT_FLAGS: tuple[str, ...] = (
    "opted_out", "dispute_open", "cease_contact", "deceased", "bankruptcy",
)

# Policy profiles (docs/contact_checks.md): defaults a config's `profile` brings along;
# settings named in the same file still win. Settings' defaults are DEFAULT_PROFILE's.
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
FREQUENCY_SCOPES = ("borrower", "loan")
UNPLACED_PAYMENT_POLICIES = ("hold_matching", "fail", "hold_all")
# history_personal_data: phones and names kept as keyed hashes, or in clear.
PSEUDONYMISED = "pseudonymised"
HISTORY_PERSONAL_DATA = (PSEUDONYMISED, "clear")
REPORT_LANGUAGES = ("zh-CN", "en")
# The zone of naive timestamps, of "which night", and of a history that names none.
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_PROFILE = "cn"
_DEFAULTS = PROFILES[DEFAULT_PROFILE]
# The morning report's language a profile brings (its readers'); report_language overrides.
PROFILE_REPORT_LANGUAGES: dict[str, str] = {"cn": "zh-CN", "us_reg_f": "en"}


@dataclass(frozen=True)
class Settings:
    """Every tunable of a run. Amounts are Decimal so tolerances are exact to the cent."""

    timezone: str = DEFAULT_TIMEZONE
    grace_days: int = 0
    min_overdue_amount: Decimal = Decimal("0.01")
    amount_tolerance: Decimal = Decimal("0.01")
    dpd_tolerance: int = 1
    max_rule_age_hours: Decimal = Decimal(24)
    # STALE_FEED: hold every message when the newest payment posted is older than this
    # many hours before T (0 = off). Two days: a consumer lender's payments post every day,
    # weekends included, so a feed with nothing newer is behind, not quiet.
    max_feed_lag_hours: Decimal = Decimal(48)
    # INCOMPLETE_FEED: hold every message when a reference table is empty, absent after a
    # night that had it, or has lost more than this share of the rows of the last night
    # recorded in the history (--db).
    max_feed_shrink: Decimal = Decimal("0.5")
    # UNPLACED_PAYMENT: what the night does about settled or pending payments whose loan_id
    # is empty or not in loans (docs/inputs.md): hold the messages they could belong to,
    # and above max_unplaced_payments hold every message ("hold_matching") or stop the run
    # with exit 4 ("fail"); or hold every message as soon as there is one ("hold_all").
    unplaced_payment_policy: str = "hold_matching"
    max_unplaced_payments: int = 20
    # Resources (beyond the contract): DuckDB's memory cap, past which work spills to
    # temp_directory (default: a folder beside OUT_DIR, removed after the run), and threads
    # (0 = one per core). 3GB keeps a whole run of 10M messages under 4 GiB of RSS
    # (docs/performance.md); the rest of a 24 GiB machine stays for the page cache.
    memory_limit: str = "3GB"
    temp_directory: str = ""
    threads: int = 0
    # Contact policy (issue #5): the default profile's values unless a profile or setting
    # says otherwise.
    profile: str = DEFAULT_PROFILE
    allowed_hours_start: str = _DEFAULTS["allowed_hours_start"]
    allowed_hours_end: str = _DEFAULTS["allowed_hours_end"]
    max_messages_per_day: int = _DEFAULTS["max_messages_per_day"]
    max_messages_per_7_days: int = _DEFAULTS["max_messages_per_7_days"]
    frequency_scope: str = _DEFAULTS["frequency_scope"]
    require_opt_out: bool = _DEFAULTS["require_opt_out"]
    phone_country_code: str = _DEFAULTS["phone_country_code"]
    restricting_contact_flags: tuple[str, ...] = RESTRICTING_CONTACT_FLAGS
    prohibited_terms: tuple[str, ...] = DEFAULT_PROHIBITED_TERMS
    prohibited_term_exceptions: tuple[str, ...] = DEFAULT_PROHIBITED_TERM_EXCEPTIONS
    opt_out_phrases: tuple[str, ...] = DEFAULT_OPT_OUT_PHRASES
    # Flags not evaluated at all (summary.json lists them as skipped), e.g. while a lender
    # rolls a new check out. To see a flag without it stopping messages, map it to "send".
    disabled_checks: tuple[str, ...] = ()
    # The run history (--db, docs/history.md): phones and names are kept as a keyed hash
    # ("pseudonymised") unless "clear" is asked for; the key is $RECONCILE_HISTORY_KEY, else
    # this file, else HISTORY.key beside the history. After each recorded run, runs of
    # nights more than history_keep_days before its night are pruned (0 = keep every run).
    history_personal_data: str = PSEUDONYMISED
    history_key_file: str = ""
    history_keep_days: int = 0
    # The morning report (docs/report.md): its language ("zh-CN" or "en"; the profile's by
    # default), and a complaints file (and the SMS gateway's dispatch log) whose traced
    # complaints it adds; paths relative to the working directory. None changes a finding.
    report_language: str = PROFILE_REPORT_LANGUAGES[DEFAULT_PROFILE]
    report_complaints_file: str = ""
    report_dispatch_log: str = ""
    verdicts: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_VERDICT_POLICY))
    # Where each table comes from when not from DATA_DIR (docs/databases.md): `database`,
    # a PostgreSQL or MySQL URL with no password, and per table a table, view or SELECT of
    # it (under --engine spark, a catalog table). STALE_FEED also holds the night when that
    # database is a replica more than max_replica_lag_seconds behind its primary.
    sources: dict[str, str] = field(default_factory=dict)
    max_replica_lag_seconds: Decimal = Decimal(60)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: decimals as strings so nothing is rounded through a float."""
        return {k: _json_ready(v) for k, v in asdict(self).items()}

    def judging(self) -> dict[str, Any]:
        """to_dict() of the settings that decide verdicts (not resources, history, report)."""
        kept = (set(SETTING_NAMES) - set(RESOURCE_SETTINGS) - set(HISTORY_SETTINGS)
                - set(REPORT_SETTINGS) - {SOURCES_TABLE})
        return {name: value for name, value in self.to_dict().items() if name in kept}

    @property
    def database_url(self) -> str | None:
        """The database [sources] names (`database`), if any."""
        return self.sources.get(DATABASE)

    @property
    def table_sources(self) -> dict[str, str]:
        """[sources] without its `database`: each mapped table and where it comes from."""
        return {table: source for table, source in self.sources.items() if table != DATABASE}

    @property
    def allowed_minutes(self) -> tuple[int, int]:
        """The quiet-hours window as minutes after local midnight: [start, end)."""
        return _minutes(self.allowed_hours_start), _minutes(self.allowed_hours_end)


def _json_ready(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    return list(value) if isinstance(value, tuple) else value


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


SETTING_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Settings))
# Settings that never change a finding: how much the machine may use, and how the history
# keeps what it records. Everything else decides verdicts (Settings.judging).
RESOURCE_SETTINGS: tuple[str, ...] = ("memory_limit", "temp_directory", "threads")
HISTORY_SETTINGS: tuple[str, ...] = tuple(n for n in SETTING_NAMES if n.startswith("history_"))
REPORT_SETTINGS: tuple[str, ...] = tuple(n for n in SETTING_NAMES if n.startswith("report_"))


def load_settings(config_path: str | Path | None = None,
                  profile: str | None = None) -> Settings:
    """Defaults, overridden by the TOML file at config_path when one is given. A profile
    given here replaces the file's `profile`; the file's other settings still win."""
    if profile and profile not in PROFILES:
        raise ConfigError(f"must be one of {', '.join(PROFILES)}, got {profile!r}",
                          parameter="profile")
    if config_path is None:
        return settings_from_mapping({PROFILE: profile}, "profile") if profile else Settings()
    try:
        document = tomllib.loads(Path(config_path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"config {config_path}: cannot be read ({error.strerror})") from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"config {config_path}: not valid TOML ({error})") from error
    if profile:
        document[PROFILE] = profile
    return settings_from_mapping(document, source=str(config_path))


def settings_from_mapping(values: dict[str, Any], source: str = "config") -> Settings:
    """Check every key and value of a parsed config; unknown keys are an error, not ignored."""
    return with_overrides(Settings(), values, source)


def with_overrides(base: Settings, values: dict[str, Any], source: str) -> Settings:
    """base with `values` applied, each checked as a config file's would be (CLI options)."""
    unknown = sorted(set(values) - set(SETTING_NAMES))
    if unknown:
        raise ConfigError(
            f"{source}: unknown setting {unknown[0]!r} (known: {', '.join(SETTING_NAMES)})"
        )
    if PROFILE in values:
        base = replace(base, **_profile(values[PROFILE], f"{source}: {PROFILE}"))
    changes: dict[str, Any] = {}
    for name, value in values.items():
        if name != PROFILE:
            changes[name] = _checked_value(base, name, value, f"{source}: {name}")
    settings = replace(base, **changes)
    _check_consistency(settings, source)
    return settings


def _checked_value(base: Settings, name: str, value: Any, where: str) -> Any:
    current = getattr(base, name)
    if name == VERDICTS_TABLE:
        return _verdict_policy(value, where)
    if name == SOURCES_TABLE:
        return _sources(value, where)
    if isinstance(current, bool):
        return _boolean(value, where)
    if isinstance(current, tuple):
        return _text_list(value, where)
    if isinstance(current, str):
        return _text(value, where)
    if isinstance(current, Decimal):
        return _decimal(value, where, places=2 if name in _AMOUNT_SETTINGS else None)
    return _whole_number(value, where)


def _profile(value: Any, where: str) -> dict[str, Any]:
    if value not in PROFILES:
        raise ConfigError(f"{where} must be one of {', '.join(PROFILES)}, got {value!r}")
    return {PROFILE: value, **PROFILES[value],
            "report_language": PROFILE_REPORT_LANGUAGES[value]}


def _check_consistency(settings: Settings, source: str) -> None:
    if settings.min_overdue_amount < Decimal("0.01"):
        raise ConfigError(f"{source}: min_overdue_amount must be at least 0.01")
    for name in ("allowed_hours_start", "allowed_hours_end"):
        clock = getattr(settings, name)
        if not _CLOCK.fullmatch(clock):
            raise ConfigError(f"{source}: {name} must be HH:MM (00:00-24:00), got {clock!r}")
    start, end = settings.allowed_minutes
    if not start < end:
        raise ConfigError(f"{source}: allowed_hours_start must be before allowed_hours_end")
    _check_choice(settings.frequency_scope, FREQUENCY_SCOPES, f"{source}: frequency_scope")
    _check_choice(settings.unplaced_payment_policy, UNPLACED_PAYMENT_POLICIES,
                  f"{source}: unplaced_payment_policy")
    _check_choice(settings.history_personal_data, HISTORY_PERSONAL_DATA,
                  f"{source}: history_personal_data")
    _check_choice(settings.report_language, REPORT_LANGUAGES, f"{source}: report_language")
    if settings.max_feed_shrink > 1:
        raise ConfigError(f"{source}: max_feed_shrink is a share of rows, at most 1 "
                          f"(1 = never), got {settings.max_feed_shrink}")
    _check_names(settings.restricting_contact_flags, CONTACT_FLAG_KINDS,
                 f"{source}: restricting_contact_flags")
    _check_names(settings.disabled_checks, FLAGS, f"{source}: disabled_checks")


def _check_choice(value: str, choices: tuple[str, ...], where: str) -> None:
    if value not in choices:
        raise ConfigError(f"{where} must be one of {', '.join(choices)}, got {value!r}")


def _check_names(names: tuple[str, ...], known: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown flag {unknown[0]!r} (known: {', '.join(known)})")


# Settings that are amounts of yuan, exact to the cent; other decimals (hours, shares) are not.
_AMOUNT_SETTINGS = ("min_overdue_amount", "amount_tolerance")
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]|24:00")


def _boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false, got {value!r}")
    return value


def _text_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where} must be a list of non-empty strings, got {value!r}")
    return tuple(value)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where} must be a non-empty string, got {value!r}")
    return value


def _whole_number(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{where} must be a whole number ≥ 0, got {value!r}")
    return value


def _decimal(value: Any, where: str, places: int | None) -> Decimal:
    """A TOML number or numeric string as an exact Decimal (a float goes through its text)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(f"{where} must be a number, got {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as error:
        raise ConfigError(f"{where} must be a number, got {value!r}") from error
    if not number.is_finite() or number < 0:
        raise ConfigError(f"{where} must be a finite number ≥ 0, got {value!r}")
    if places is not None and number != number.quantize(Decimal(1).scaleb(-places)):
        raise ConfigError(f"{where} has more than {places} decimal places: {value!r}")
    return number


def _verdict_policy(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table of FLAG = \"verdict\"")
    policy = dict(DEFAULT_VERDICT_POLICY)
    for flag, verdict in value.items():
        if flag not in FLAGS:
            raise ConfigError(f"{where}: unknown flag {flag!r} (known: {', '.join(FLAGS)})")
        if verdict not in VERDICTS:
            raise ConfigError(
                f"{where}: {flag} = {verdict!r} is not one of {', '.join(VERDICTS)}"
            )
        policy[flag] = verdict
    return policy


def _sources(value: Any, where: str) -> dict[str, str]:
    """[sources]: `database` and table names, each a non-empty string (databases.py checks
    what the strings say)."""
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table of NAME = \"table, view or SELECT\"")
    for name, source in value.items():
        if name != DATABASE and name not in TABLES_BY_NAME:
            raise ConfigError(f"{where}: {name!r} is neither {DATABASE} nor a table of the "
                              f"drop ({', '.join(TABLES_BY_NAME)})")
        _text(source, f"{where}.{name}")
    return {name: source.strip() for name, source in value.items()}
