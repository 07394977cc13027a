"""Configuration, read from the environment once per container (on first use) and checked like any other input.

Plain frozen dataclasses, not pydantic models: nothing here is built or imported at a cold start's import.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Tables:
    members: str
    accounts: str
    ledger: str
    operations: str
    program: str
    queue: str  # deferred postings (ledger.deferred)

    def __post_init__(self) -> None:
        short = [f.name for f in fields(self) if not isinstance(getattr(self, f.name), str)
                 or len(getattr(self, f.name)) < 3]
        if short:
            raise ValueError(f"table names must be strings of at least 3 characters: {', '.join(short)}")


@dataclass(frozen=True)
class Settings:
    tables: Tables
    referral_link_base: str = "https://loyalty.example.com"
    default_locale: str = "zh-CN"
    credit_spread: int = 8  # lanes per holder's queue of deferred postings (ledger.deferred)
    program_cache_seconds: float = 0.0  # how long a purchase container keeps the programme it read
    queue_read_threads: int = 8  # a member read's Queries of the lanes at once (1 on the local server)
    # The programme's time zone (PROGRAM_TIME_ZONE): member codes change at its midnight and the metrics count
    # its days. API-additions gives the programme a `timezone` (default Asia/Shanghai) with "Earning beyond
    # purchases"; until it has one, this setting.
    program_time_zone: str = "Asia/Shanghai"
    member_code_secret_id: str = ""  # the Secrets Manager secret that keys member codes (its ARN on AWS)
    metrics_table: str = ""  # the dashboard's daily figures (loyalty.metrics): its two functions only
    # Partners and referral links (loyalty.partners): their table, the secret that keys link codes and click ids,
    # and what the landing page says (the shop's name) and where it sends people (the app).
    partners_table: str = ""
    link_secret_id: str = ""
    shop_name: str = "Loyalty"
    app_link: str = "https://loyalty.example.com/app"
    # Screening referral and partner credits (loyalty.screening): its table (signals, reviews; "": not screened),
    # and how many days a review may stay open before the schedule approves it. Its key is derived from the links'.
    screening_table: str = ""
    review_days: int = 14
    # The wallet (loyalty.wallet, .bundles, .coupons, .rewards): its own items; the balances are ledger assets.
    wallet_table: str = ""
    earning_table: str = ""  # EARNING_TABLE: the earning rules' own items (docs/earning.md)
    surprise_secret_id: str = ""  # SURPRISE_SECRET_ID: the master the surprise days' secrets derive from
    feedback_table: str = ""  # FEEDBACK_TABLE: members' feedback and staff's replies (docs/feedback.md)
    segments_table: str = ""  # SEGMENTS_TABLE: members' segments, their counts and thresholds (docs/segments.md)
    leads_table: str = ""  # LEADS_TABLE: members' friends who agreed to be contacted (docs/leads.md)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            tables=Tables(
                members=env.get("MEMBERS_TABLE", ""),
                accounts=env.get("ACCOUNTS_TABLE", ""),
                ledger=env.get("LEDGER_TABLE", ""),
                operations=env.get("OPERATIONS_TABLE", ""),
                program=env.get("PROGRAM_TABLE", ""),
                queue=env.get("CREDIT_QUEUE_TABLE", ""),
            ),
            credit_spread=_whole(env.get("CREDIT_SPREAD", ""), "CREDIT_SPREAD"),
            program_cache_seconds=_seconds(env.get("PROGRAM_CACHE_SECONDS", "")),
            queue_read_threads=_whole(env.get("QUEUE_READ_THREADS", ""), "QUEUE_READ_THREADS"),
            referral_link_base=env.get("REFERRAL_LINK_BASE", "https://loyalty.example.com").rstrip("/"),
            default_locale=env.get("DEFAULT_LOCALE", "zh-CN"),
            program_time_zone=_time_zone(env.get("PROGRAM_TIME_ZONE", "")),
            member_code_secret_id=env.get("MEMBER_CODE_SECRET_ID", ""),
            metrics_table=env.get("METRICS_TABLE", ""),
            partners_table=env.get("PARTNERS_TABLE", ""),
            link_secret_id=env.get("LINK_SECRET_ID", ""),
            shop_name=env.get("SHOP_NAME") or "Loyalty",
            app_link=env.get("APP_LINK") or "https://loyalty.example.com/app",
            screening_table=env.get("SCREENING_TABLE", ""),
            review_days=_whole(env.get("REVIEW_DAYS", ""), "REVIEW_DAYS", 14),
            wallet_table=env.get("WALLET_TABLE", ""),
            earning_table=env.get("EARNING_TABLE", ""),
            surprise_secret_id=env.get("SURPRISE_SECRET_ID", ""),
            feedback_table=env.get("FEEDBACK_TABLE", ""),
            segments_table=env.get("SEGMENTS_TABLE", ""),
            leads_table=env.get("LEADS_TABLE", ""),
        )


def _whole(text: str, name: str, default: int = 8) -> int:
    if not text:
        return default
    if not text.isdigit() or not 1 <= int(text) <= 256:
        raise ValueError(f"{name} must be a whole number from 1 to 256")
    return int(text)


def _seconds(text: str) -> float:
    if not text:
        return 0.0
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 60:
        raise ValueError("PROGRAM_CACHE_SECONDS must be a number of seconds from 0 to 60")
    return value


def _time_zone(text: str) -> str:
    if not text:
        return "Asia/Shanghai"
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America" is a directory of zones
        raise ValueError("PROGRAM_TIME_ZONE must be an IANA time zone, such as Asia/Shanghai") from None
    return text
