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
