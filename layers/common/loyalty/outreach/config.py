"""What outreach reads from its environment (the template sets it), and what composing an email needs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field


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


@dataclass(frozen=True)
class OutreachConfig:
    sender: str  # the From address, e.g. "Shop <no-reply@shop.example>"
    shop_name: str
    app_link: str
    public_base_url: str  # where this API answers: unsubscribe links are <base>/u/<token>
