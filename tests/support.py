"""Test helpers: an API client over the local gateway (the template's routes, the real handlers),
and a dump of every table to prove that a refused request wrote nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict

import boto3

from localdev import template
from localdev.server import LocalGateway
from loyalty.shared.clock import parse_rfc3339


def every_entry(call: Any, member_id: str) -> list[dict[str, Any]]:
    """Every entry of a member's ledger through the API, page by page, newest first (as the API lists them);
    ``call`` is a test client's ``call(method, path, *, as_, groups)`` returning a reply with status and body."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        path = f"/v1/members/{member_id}/ledger?limit=100" + (f"&cursor={cursor}" if cursor else "")
        reply = call("GET", path, as_="pos", groups=("staff",))
        assert reply.status == 200, reply.body
        items += reply.body["items"]
        cursor = reply.body["next_cursor"]
        if cursor is None:
            return items


class CallAs(TypedDict):
    """Who makes a call: ``Api.call``'s keyword arguments for a caller, spread as ``**STAFF``."""

    as_: str
    groups: tuple[str, ...]


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def slug(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("type"), str):
            return str(self.body["type"]).rsplit("/", 1)[-1]
        return None


@dataclass
class Api:
    gateway: LocalGateway
    _tokens: dict[tuple[str, tuple[str, ...]], tuple[str, datetime]] = field(default_factory=dict)

    def token(self, sub: str, *groups: str) -> str:
        """A token for the caller, minted again once the server's clock has passed its expiry (as an app
        signs in again)."""
        key = (sub, tuple(groups))
        found = self._tokens.get(key)
        if found is None or self.gateway.clock.now() >= found[1]:
            minted = self.gateway.mint(sub, list(groups))
            found = self._tokens[key] = (minted["token"], parse_rfc3339(minted["expires_at"]))
        return found[0]

    def call(self, method: str, path: str, body: Any = None, *, as_: str | None = None, groups: tuple[str, ...] = (),
             headers: dict[str, str] | None = None, raw: bytes | None = None) -> Reply:
        sent = {"host": "localhost", "content-type": "application/json"}
        if as_ is not None:
            sent["authorization"] = f"Bearer {self.token(as_, *groups)}"
        sent.update({k.lower(): v for k, v in (headers or {}).items()})
        payload = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        status, out_headers, data = self.gateway.invoke(method, path, sent, payload)
        text = data.decode()
        try:
            parsed: Any = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return Reply(status, out_headers, parsed)

    # the story's verbs -------------------------------------------------------------------------
    def sign_up(self, sub: str, referral_code: str | None = None, **fields: Any) -> dict[str, Any]:
        body = {"email": f"{sub}@example.com", "display_name": sub.title(), **fields}
        if referral_code is not None:
            body["referral_code"] = referral_code
        reply = self.call("POST", "/v1/members", body, as_=sub)
        assert reply.status == 201, reply.body
        return dict(reply.body)

    def chain(self, *subs: str) -> list[dict[str, Any]]:
        """Sign up members each referred by the one before."""
        members, code = [], None
        for sub in subs:
            member = self.sign_up(sub, code)
            members.append(member)
            code = member["referral_code"]
        return members

    def purchase(self, order_id: str, member_id: str, amount_minor: int, **extra: Any) -> Reply:
        body = {"order_id": order_id, "member_id": member_id, "amount_minor": amount_minor, "currency": "CNY",
                "occurred_at": "2026-11-23T09:30:00Z", **extra}
        return self.call("POST", "/v1/purchases", body, as_="pos", groups=("staff",))

    def refund(self, order_id: str, refund_id: str, amount_minor: int) -> Reply:
        return self.call("POST", f"/v1/purchases/{order_id}/refunds",
                         {"refund_id": refund_id, "amount_minor": amount_minor}, as_="pos", groups=("staff",))

    def redeem(self, member_id: str, points: int, key: str, reward: str = "free-car-wash") -> Reply:
        return self.call("POST", "/v1/redemptions", {"points": points, "reward": reward}, as_=member_id,
                         headers={"Idempotency-Key": key})

    def points(self, member_id: str) -> dict[str, int]:
        """The member's points as a member read shows them, but ``queued``, which must be 0: the local server
        delivers what a request queued to the poster before it serves the next one (``queued`` says more)."""
        shown = self.queued(member_id)
        assert shown.pop("queued") == 0, shown
        return shown

    def queued(self, member_id: str) -> dict[str, int]:
        """The member's points as a member read shows them, ``queued`` included, and ``expiring`` left out, which must
        be empty (the expiry tests read it themselves)."""
        reply = self.call("GET", f"/v1/members/{member_id}", as_="pos", groups=("staff",))
        assert reply.status == 200, reply.body
        shown = dict(reply.body["balances"]["points"])
        assert shown.pop("expiring") == [], shown  # nothing dated without an expiry rule (docs/earning-expiry.md)
        return shown

    def verify(self, member_id: str) -> dict[str, Any]:
        reply = self.call("GET", f"/v1/members/{member_id}/ledger/verify", as_="auditor", groups=("admin",))
        assert reply.status == 200, reply.body
        return dict(reply.body)

    # the poster -----------------------------------------------------------------------------------
    @contextmanager
    def poster_held(self) -> Iterator[None]:
        """Referrers' credits stay queued while inside (the stream keeps them); on leaving, they are posted."""
        assert self.gateway.jobs is not None
        self.gateway.jobs.held.add("PosterFunction")
        try:
            yield
        finally:
            self.gateway.jobs.held.discard("PosterFunction")
            self.gateway.jobs.deliver()

    # outreach ------------------------------------------------------------------------------------
    def tick(self) -> list[dict[str, Any]]:
        """Run what EventBridge and Lambda's pollers would have run by now (streams, schedules, queues)."""
        assert self.gateway.jobs is not None
        return list(self.gateway.jobs.tick())

    def move_clock(self, seconds: int) -> str:
        """``POST /local/clock``: the clock moves ``seconds`` on, through every schedule slot on the way; the new
        time."""
        answer = self.gateway.local("POST", "/local/clock", json.dumps({"advance_seconds": seconds}).encode())
        assert answer is not None and answer[0] == 200, answer
        return str(json.loads(answer[2])["now"])

    def outbox(self, to: str | None = None) -> list[dict[str, Any]]:
        assert self.gateway.jobs is not None
        return [m for m in self.gateway.jobs.outbox() if to is None or m["to"] == to]

    def messages(self, member_id: str) -> dict[tuple[str, str], dict[str, Any]]:
        reply = self.call("GET", f"/v1/members/{member_id}/messages", as_="pos", groups=("staff",))
        assert reply.status == 200, reply.body
        return {(m["kind"], m["occasion"]): m for m in reply.body["items"]}

    def admin(self, method: str, path: str, body: Any = None) -> Reply:
        return self.call(method, path, body, as_="boss", groups=("admin",))

    def ledger(self, member_id: str) -> list[dict[str, Any]]:
        return every_entry(self.call, member_id)


def dump_tables() -> dict[str, list[str]]:
    """Every item of every table of the template, canonically serialized and sorted."""
    client = boto3.client("dynamodb")
    state = {}
    for name in template.table_definitions():
        items, kwargs = [], {"TableName": name}
        while True:
            page = client.scan(**kwargs)
            items += [json.dumps(i, sort_keys=True) for i in page["Items"]]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        state[name] = sorted(items)
    return state
