"""Run settings: the defaults of CONTRACT §6, optionally overridden by a TOML file."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from reconcile.errors import ConfigError
from reconcile.schema import DEFAULT_VERDICT_POLICY, FLAGS, VERDICTS

# The TOML table that maps a flag to the verdict it gives.
VERDICTS_TABLE = "verdicts"


@dataclass(frozen=True)
class Settings:
    """Every tunable of a run. Amounts are Decimal so tolerances are exact to the cent."""

    timezone: str = "Asia/Shanghai"
    grace_days: int = 0
    min_overdue_amount: Decimal = Decimal("0.01")
    amount_tolerance: Decimal = Decimal("0.01")
    dpd_tolerance: int = 1
    max_rule_age_hours: Decimal = Decimal(24)
    # STALE_FEED: hold every message when the newest payment posted is older than this
    # many hours before T (0 = off).
    max_feed_lag_hours: Decimal = Decimal(0)
    # Resources (beyond the contract): DuckDB's memory cap, past which work spills to
    # temp_directory (default: a folder beside OUT_DIR, removed after the run), and threads
    # (0 = one per core).
    memory_limit: str = "4GB"
    temp_directory: str = ""
    threads: int = 0
    verdicts: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_VERDICT_POLICY))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: decimals as strings so nothing is rounded through a float."""
        return {k: str(v) if isinstance(v, Decimal) else v for k, v in asdict(self).items()}


SETTING_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Settings))


def load_settings(path: Path | None) -> Settings:
    """Defaults, overridden by the TOML file at path when one is given."""
    if path is None:
        return Settings()
    try:
        document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"config {path}: cannot be read ({error.strerror})") from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"config {path}: not valid TOML ({error})") from error
    return settings_from_mapping(document, source=str(path))


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
    changes: dict[str, Any] = {}
    for name, value in values.items():
        where = f"{source}: {name}"
        if name == VERDICTS_TABLE:
            changes[name] = _verdict_policy(value, where)
        elif isinstance(getattr(base, name), str):
            changes[name] = _text(value, where)
        elif isinstance(getattr(base, name), Decimal):
            changes[name] = _decimal(value, where, places=None if name.endswith("hours") else 2)
        else:
            changes[name] = _whole_number(value, where)
    settings = replace(base, **changes)
    if settings.min_overdue_amount < Decimal("0.01"):
        raise ConfigError(f"{source}: min_overdue_amount must be at least 0.01")
    return settings


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
