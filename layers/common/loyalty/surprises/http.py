"""Surprises' HTTP models: the days' commitments and a day's reveal (no token: anyone may audit)."""

from __future__ import annotations

import datetime as dt

from pydantic import ConfigDict, Field

from loyalty.http.types import Answer


class DayCommitment(Answer):
    date: dt.date = Field(description="A local date in the programme's time zone")
    commitment: str = Field(description="SHA-256 of the day's 32-byte secret, hex; published before the day",
                            examples=["3f0c5e0e4a4e5d0f4c1a1b0e5b9f6b7a2d3c4e5f60718293a4b5c6d7e8f90a1b"])
    revealed: bool = Field(description="The day has ended: GET /v1/program/surprise/days/{date} reveals its secret")


class Commitments(Answer):
    today: dt.date = Field(description="Today in the programme's time zone")
    items: list[DayCommitment] = Field(description="The last 7 days' (as recorded), today's and the next 7 days'")


class DrawAnswer(Answer):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"order_id": "ord_20261123_0001", "hit": True, "points": 42, "paid": True, "chance_bps": 1000,
         "min_points": 10, "max_points": 100}]})

    order_id: str
    hit: bool = Field(description="int(h[0:4], big-endian) mod 10000 < chance_bps, h = HMAC-SHA256(secret, order_id)")
    points: int = Field(description="A hit's worth: min_points + int(h[4:8], big-endian) mod (max - min + 1); 0 for "
                                    "a miss")
    paid: bool = Field(description="The day's budget paid it in full (a hit it could not pay is not paid at all)")
    chance_bps: int
    min_points: int
    max_points: int


class DayReveal(Answer):
    date: dt.date
    commitment: str = Field(description="As published before the day: SHA-256 of the secret's bytes, hex")
    secret: str = Field(description="The day's 32-byte secret, hex: the key of every draw's HMAC")
    paid_points: int = Field(description="Surprise points the day's budget paid")
    draws: list[DrawAnswer] = Field(description="Every purchase drawn that day, by order id")
    next_cursor: str | None = Field(description="More draws follow: ask again with cursor=next_cursor")
