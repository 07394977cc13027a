"""Configuration, read from the environment once per container and validated like any other input."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field


class Tables(BaseModel):
    model_config = ConfigDict(frozen=True)

    members: str = Field(min_length=3)
    accounts: str = Field(min_length=3)
    ledger: str = Field(min_length=3)
    operations: str = Field(min_length=3)
    program: str = Field(min_length=3)


class OutreachEnv(BaseModel):
    """What outreach functions read from their environment (the template sets it)."""

    model_config = ConfigDict(frozen=True)

    table: str = Field(min_length=3)
    send_queue_url: str = ""
    fanout_queue_url: str = ""
    sender: str = "Loyalty <no-reply@loyalty.example.com>"
    configuration_set: str = ""
    shop_name: str = "Loyalty"
    app_link: str = "https://loyalty.example.com/app"
    public_base_url: str = "https://loyalty.example.com"
    unsubscribe_secret: str = ""
    sender_concurrency: int = Field(default=2, ge=1)
    due_shards: int = Field(default=8, ge=1, le=64)
    max_send_rate: float | None = Field(default=None, gt=0)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OutreachEnv:
        env = os.environ if env is None else env
        names = {"table": "OUTREACH_TABLE", "send_queue_url": "SEND_QUEUE_URL", "fanout_queue_url": "FANOUT_QUEUE_URL",
                 "sender": "SENDER_ADDRESS", "configuration_set": "SES_CONFIGURATION_SET", "shop_name": "SHOP_NAME",
                 "app_link": "APP_LINK", "public_base_url": "PUBLIC_BASE_URL",
                 "unsubscribe_secret": "UNSUBSCRIBE_SECRET_ID", "sender_concurrency": "SENDER_CONCURRENCY",
                 "due_shards": "DUE_SHARDS", "max_send_rate": "SES_MAX_SEND_RATE"}
        return cls.model_validate({field: env[name] for field, name in names.items() if env.get(name)})


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    tables: Tables
    referral_link_base: str = "https://loyalty.example.com"
    default_locale: str = "zh-CN"

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
            ),
            referral_link_base=env.get("REFERRAL_LINK_BASE", "https://loyalty.example.com").rstrip("/"),
            default_locale=env.get("DEFAULT_LOCALE", "zh-CN"),
        )
