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
