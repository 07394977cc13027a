"""DynamoDB requests and capacity units per operation, through the real handlers on moto in-process.

The story: a referral chain m00 ← m01 ← … ← m10 (each signed up with the code of the one before), a
program whose rates reach 10 levels (so a purchase by m<d> credits d ancestors), one warm-up purchase by
m10 so every account exists, then one measured purchase at each depth 0…10, a partial refund, two
redemptions after the hold, a balance read and a 50-entry ledger page; then a bundle card sold, used, read and
refunded. The clock moves a minute between
operations (so every credit opens its own pending lot, as it would in a shop). Every AWS call the
handlers make is counted by ``bench.meter``.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypedDict

from bench.meter import Meter, Tally
from bench.sizes import item_size
from loyalty.shared.clock import parse_rfc3339

START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
TEN_LEVELS = [1000, 500, 250, 200, 150, 100, 100, 100, 100, 100]
AMOUNT_MINOR = 100_000  # 1,000.00 CNY: every level's rate gives at least one point
DEPTHS = range(0, 11)
BATCH = 50  # purchases whose credits the poster posts in one batch per referrer


@dataclass
class Measured:
    name: str
    status: int
    tally: Tally
    seconds: float

    def row(self) -> dict[str, Any]:
        return {
            "operation": self.name, "status": self.status, "dynamodb_requests": self.tally.dynamodb_requests,
            "calls": dict(self.tally.operations), "rcu": self.tally.rcu, "wcu": self.tally.wcu,
            "index_wcu": self.tally.index_wcu, "items_written": sum(c.items_written for c in self.tally.calls),
            "other_services": dict(self.tally.other_services), "local_ms": round(self.seconds * 1000, 1),
        }


class CallAs(TypedDict):
    """Who makes a call: ``Client.call``'s keyword arguments for a caller, spread as ``**staff``."""

    as_: str
    groups: tuple[str, ...]


class Client:
    """The real handlers behind the template's routes (``LocalGateway``), with the meter around each call."""

    def __init__(self, gateway: Any, meter: Meter, clock: Any) -> None:
        self.gateway, self.meter, self.clock = gateway, meter, clock
        self.tokens: dict[tuple[str, tuple[str, ...]], tuple[str, datetime]] = {}

    def call(self, method: str, path: str, body: Any = None, *, as_: str, groups: tuple[str, ...] = (),
             headers: dict[str, str] | None = None, measure: str | None = None,
             deliver: bool = True) -> tuple[int, Any, Measured | None]:
        key = (as_, groups)
        if key not in self.tokens or self.tokens[key][1] <= self.clock.now():
            minted = self.gateway.mint(as_, list(groups))  # tokens expire by the clock the story moves
            self.tokens[key] = (minted["token"], parse_rfc3339(minted["expires_at"]))
        sent = {"host": "localhost", "content-type": "application/json",
                "authorization": f"Bearer {self.tokens[key][0]}", **{k.lower(): v for k, v in (headers or {}).items()}}
        payload = b"" if body is None else json.dumps(body).encode()
        jobs = self.gateway.jobs
        jobs.held = set(jobs.consumers)  # what the request causes runs after it, measured apart (``deliver``)
        if measure:
            self.meter.start()
        started = time.perf_counter()
        status, _, data = self.gateway.invoke(method, path, sent, payload)
        elapsed = time.perf_counter() - started
        measured = Measured(measure, status, self.meter.stop(), elapsed) if measure else None
        if deliver:
            self.deliver()
        parsed = json.loads(data) if data else None
        if status >= 400:
            raise RuntimeError(f"{method} {path} → {status}: {parsed}")
        return status, parsed, measured

    def deliver(self, measure: str | None = None) -> Measured | None:
        """Run what the requests so far caused, as Lambda's pollers would; with ``measure``, the poster alone first."""
        jobs, measured = self.gateway.jobs, None
        if measure:
            jobs.held = set(jobs.consumers) - {"PosterFunction"}
            self.meter.start()
            started = time.perf_counter()
            jobs.deliver()
            measured = Measured(measure, 200, self.meter.stop(), time.perf_counter() - started)
        jobs.held = set()
        jobs.deliver()
        return measured

    def tick(self, seconds: int = 60) -> None:
        self.clock.advance(seconds)


def run() -> dict[str, Any]:
    """Run the story; return the measured rows and the sizes seen."""
    import boto3
    from moto import mock_aws

    from localdev import emulator
    from localdev.server import LocalGateway
    from loyalty import wiring
    from loyalty.shared.clock import FixedClock, SystemClock

    saved = dict(os.environ)
    for key in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        os.environ.pop(key, None)
    os.environ.update(emulator.FAKE_AWS)
    try:
        with mock_aws():
            names = emulator.create_resources()
            os.environ.update({**emulator.function_environment(names), "PUBLIC_BASE_URL": "http://localhost"})
            boto3.setup_default_session()
            reader = boto3.session.Session().client("dynamodb")
            meter = Meter(boto3.DEFAULT_SESSION, reader)
            clock = FixedClock(START)
            wiring.configure(clock=clock)  # the handlers' client is built next, from the hooked session
            client = Client(LocalGateway(clock, names=names), meter, clock)
            try:
                return _story(client, reader)
            finally:
                wiring.configure(clock=SystemClock())
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _member(i: int) -> str:
    """Member ids shaped like Cognito subs (UUIDs, 36 characters), so item sizes are those of production."""
    return f"{i:08d}-0000-4000-8000-00000000b0b0"


def _story(client: Client, reader: Any) -> dict[str, Any]:
    rows: list[Measured] = []
    staff: CallAs = {"as_": "pos", "groups": ("staff",)}
    admin: CallAs = {"as_": "owner", "groups": ("admin",)}

    # The first sign-up of a container reads the screening key (the links' secret) once: not a sign-up's cost.
    client.call("POST", "/v1/members", {"email": "warm-up@example.com", "display_name": "Warm", "locale": "zh-CN"},
                as_="warm-up")
    # sign-ups down a chain of 11
    code = None
    for i in range(11):
        body = {"email": f"{_member(i)}@example.com", "display_name": f"Member {i}", "locale": "zh-CN"}
        if code:
            body["referral_code"] = code
        _, member, measured = client.call("POST", "/v1/members", body, as_=_member(i),
                                          measure=f"sign-up, referral depth {i}")
        assert measured is not None
        if i in (0, 1, 2, 10):
            rows.append(measured)
        code = member["referral_code"]
        client.tick()

    client.call("PUT", "/v1/program", {"points_per_currency_unit": 1, "referral_rates_bps": TEN_LEVELS,
                                       "hold_days": 7, "currency": "CNY"}, **admin)

    def purchase(order_id: str, buyer: str, measure: str | None = None, post: bool = True,
                 extra: dict[str, str] | None = None) -> Measured | None:
        now = client.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        _, _, measured = client.call("POST", "/v1/purchases", {
            "order_id": order_id, "member_id": buyer, "amount_minor": AMOUNT_MINOR, "currency": "CNY",
            "occurred_at": now, **(extra or {})}, measure=measure, deliver=post, **staff)
        client.tick()
        return measured

    purchase("POS-2026-WARMUP", _member(10))  # every account exists from here on
    for depth in DEPTHS:
        measured = purchase(f"POS-2026-P{depth:02d}", _member(depth), measure=f"purchase, referral depth {depth}",
                            post=depth != 2)
        assert measured is not None
        rows.append(measured)
        if depth == 2:
            rows.append(client.deliver("poster: the depth-2 purchase's 2 credits (a batch of 1 per referrer)"))  # type: ignore[arg-type]
    for n in range(BATCH):  # a busy subtree: many purchases queue credits for the same referrers before a batch
        purchase(f"POS-2026-B{n:03d}", _member(2), post=False)
    rows.append(client.deliver(  # type: ignore[arg-type]
        f"poster: {BATCH} depth-2 purchases' credits (a batch of {BATCH} per referrer)"))

    # A member a partner brought: what binding at sign-up and the commission add (beside depth 0 above).
    client.call("POST", "/v1/partners", {"partner_id": "p-wang", "name": "Wang", "email": "wang@example.com",
                                         "commission_bps": 500, "attribution_days": 30}, **admin)
    _, link, _ = client.call("POST", "/v1/links", {"link_id": "L-1", "partner_id": "p-wang", "campaign": "spring"},
                             **admin)
    assert link is not None
    bound = _member(99)
    _, _, measured = client.call("POST", "/v1/members", {
        "email": f"{bound}@example.com", "display_name": "Bound", "locale": "zh-CN", "referral_code": link["code"]},
        as_=bound, measure="sign-up through a partner's link (bound to the partner)")
    rows.append(measured)  # type: ignore[arg-type]
    client.tick()
    purchase("POS-2026-PW0", bound)  # the partner's account exists from here on, as a busy partner's does
    measured = purchase("POS-2026-PW1", bound, measure="purchase by a member a partner brought (depth 0 + commission)",
                        post=False)
    rows.append(measured)  # type: ignore[arg-type]
    rows.append(client.deliver("poster: the commission of that purchase (a batch of 1)"))  # type: ignore[arg-type]

    # Screening (docs/screening.md): what a device and a card add; a sign-up on the referrer's phone holds the
    # referrer's credits, and a decision closes the review.
    twin = _member(98)
    _, _, measured = client.call("POST", "/v1/members", {
        "email": f"{twin}@example.com", "display_name": "Twin", "locale": "zh-CN", "referral_code": code,
        "device_id": "phone-of-m98"}, as_=twin, measure="sign-up with a device (screened; here a referee on a phone "
                                                         "of its own)")
    rows.append(measured)  # type: ignore[arg-type]
    client.tick()
    measured = purchase("POS-2026-S01", twin, measure="purchase sending a device and a card (screened)", post=False,
                        extra={"device_id": "phone-of-m98", "payment_fingerprint": "fp-m98"})
    rows.append(measured)  # type: ignore[arg-type]

    _, _, measured = client.call("POST", "/v1/purchases/POS-2026-P02/refunds",
                                 {"refund_id": "R-1", "amount_minor": 40_000},
                                 measure="refund (partial, depth-2 purchase: 3 reversals)", **staff)
    rows.append(measured)  # type: ignore[arg-type]

    client.tick(8 * 86400)  # past the hold: m05's lots have matured
    measured = purchase("POS-2026-P02M", _member(2), measure="purchase, referral depth 2, every account with matured "
                        "lots (each credit also writes a release pair)")
    rows.append(measured)  # type: ignore[arg-type]
    for n, label in ((1, "redemption (first after the hold: adds the release pair)"), (2, "redemption")):
        _, _, measured = client.call("POST", "/v1/redemptions", {"points": 10, "reward": "free-car-wash"},
                                     as_=_member(5), headers={"Idempotency-Key": f"wash-{n}"}, measure=label)
        rows.append(measured)  # type: ignore[arg-type]
        client.tick()

    _, _, measured = client.call("GET", f"/v1/members/{_member(5)}", measure="balance read (GET member)", **staff)
    rows.append(measured)  # type: ignore[arg-type]

    for n in range(50):  # enough entries for a full page
        purchase(f"POS-2026-F{n:03d}", _member(0))
    _, page, measured = client.call("GET", f"/v1/members/{_member(0)}/ledger?limit=50",
                                    measure="ledger page (GET ledger, limit 50)", **staff)
    assert page is not None and len(page["items"]) == 50
    rows.append(measured)  # type: ignore[arg-type]
    sizes = _sizes(reader)  # (before the bundle cards: the purchases' figures stand alone)

    # Bundle cards (docs/wallet.md): a sale is a depth-2 purchase plus the card; a use; a refund of what is left;
    # a member read of someone holding a card.
    client.call("PUT", "/v1/bundles/WASH-6", {"name": "6 car washes", "uses": 6, "price_minor": AMOUNT_MINOR,
                                              "valid_days": 365}, **admin)
    _, sold, measured = client.call("POST", "/v1/bundle-sales", {
        "sale_id": "BS-2026-0001", "member_id": _member(2), "product_id": "WASH-6"},
        measure="bundle sale (a purchase at referral depth 2, and the card)", **staff)
    rows.append(measured)  # type: ignore[arg-type]
    assert sold is not None
    client.tick()
    for n, label in ((1, "bundle use"), (2, "bundle use (another)")):
        _, _, measured = client.call("POST", f"/v1/bundle-cards/{sold['card_id']}/uses", {"use_id": f"U-{n}"},
                                     measure=label, **staff)
        rows.append(measured)  # type: ignore[arg-type]
        client.tick()
    _, _, measured = client.call("GET", f"/v1/members/{_member(2)}", measure="balance read of a member holding a "
                                 "bundle card (GET member)", **staff)
    rows.append(measured)  # type: ignore[arg-type]
    _, _, measured = client.call("POST", f"/v1/bundle-cards/{sold['card_id']}/refunds", {"refund_id": "BR-1"},
                                 measure="bundle refund (4 uses left: a refund of the depth-2 sale)", **staff)
    rows.append(measured)  # type: ignore[arg-type]

    # Stored value (docs/wallet.md): what a top-up, a purchase paying with it and a withdrawal cost.
    holder = _member(97)
    client.call("POST", "/v1/members", {"email": f"{holder}@example.com", "display_name": "Holder",
                                        "locale": "zh-CN"}, as_=holder)
    sends: list[tuple[str, str, dict[str, Any]]] = [
            ("top-up (stored value, with its bonus)", "/v1/top-ups",
             {"top_up_id": "TU-1", "member_id": holder, "amount_minor": 300_000, "currency": "CNY"}),
            ("purchase paying part with stored value (depth 0)", "/v1/purchases",
             {"order_id": "POS-2026-SV1", "member_id": holder, "amount_minor": AMOUNT_MINOR, "currency": "CNY",
              "stored_value_minor": AMOUNT_MINOR // 2}),
            ("withdrawal of stored value (admin)", f"/v1/members/{holder}/stored-value/withdrawals",
             {"withdrawal_id": "WD-1"})]
    for label, path, sent in sends:
        _, _, measured = client.call("POST", path, sent, measure=label, **(admin if "withdrawal" in label else staff))
        rows.append(measured)  # type: ignore[arg-type]
        client.tick()

    rows += _tiers(client, code, purchase)  # tiers and statuses (docs/earning-tiers.md)
    rows += _surprises(client, purchase, admin)
    rows += _expiry(client, purchase, admin)

    return {"rows": [r.row() for r in rows], "sizes": sizes, "details": {
        r.name: [n for c in r.tally.calls for n in c.notes] for r in rows}}


def _surprises(client: Client, purchase: Any, admin: CallAs) -> list[Measured]:
    """Surprises (docs/earning-surprise.md): every purchase hits 10 points, and the day's budget pays two. The first
    purchase of a container and day reads the master and the day's commitment once: not a purchase's cost."""
    client.call("PUT", "/v1/program", {"points_per_currency_unit": 1, "referral_rates_bps": TEN_LEVELS,
                                       "hold_days": 7, "currency": "CNY", "surprise": {
                                           "chance_bps": 10_000, "min_points": 10, "max_points": 10,
                                           "daily_budget": 25}}, **admin)
    purchase("POS-2026-SU0", _member(0))
    return [purchase(order, _member(0), measure=label) for order, label in (
        ("POS-2026-SU1", "purchase with a surprise paid (depth 0)"),
        ("POS-2026-SU2", "purchase with a surprise the day's budget refuses (depth 0)"))]


def _expiry(client: Client, purchase: Any, admin: CallAs) -> list[Measured]:
    """Expiry (docs/earning-expiry.md): the rule published, then a purchase by a member whose held points have
    matured (they are released and dated by the rule the purchase already read), a redemption of a member whose
    held points have matured (it reads the rule to date them), and a member read showing what expires."""
    staff: CallAs = {"as_": "pos", "groups": ("staff",)}
    client.call("PUT", "/v1/program", {"points_per_currency_unit": 1, "referral_rates_bps": TEN_LEVELS,
                                       "hold_days": 7, "currency": "CNY", "surprise": None,
                                       "expiry": {"months": 12}}, **admin)
    client.tick(120)  # the rule takes effect a minute after it is published
    for order, member in (("POS-2026-EX0", _member(0)), ("POS-2026-EX1", _member(1))):
        purchase(order, member)
    client.tick(8 * 86_400)  # their holds end
    rows = [purchase("POS-2026-EX2", _member(0), measure="purchase releasing points it dates (expiry, depth 0)")]
    _, _, measured = client.call("POST", "/v1/redemptions", {"points": 10, "reward": "free-car-wash"},
                                 as_=_member(1), headers={"Idempotency-Key": "expiry-1"},
                                 measure="redemption releasing points it dates (reads the expiry rule)")
    rows.append(measured)
    _, _, measured = client.call("GET", f"/v1/members/{_member(1)}", measure="balance read with expiring points "
                                 "(GET member)", **staff)
    rows.append(measured)
    return rows


def _tiers(client: Client, code: str | None, purchase: Any) -> list[Measured]:
    """What tiers and statuses add (docs/earning-tiers.md), beside the plain rows above: a purchase reading and
    putting the buyer's standing, a referee's first purchase (the referrer's count too), a refund, a member read."""
    rows: list[Measured] = []
    staff: CallAs = {"as_": "pos", "groups": ("staff",)}
    client.call("PUT", "/v1/tiers", {
        "tiers": [{"tier": "silver", "min_spend_12m_minor": 100000, "discount_bps": 500,
                   "points_multiplier_bps": 10000},
                  {"tier": "gold", "min_spend_12m_minor": 500000, "discount_bps": 1500,
                   "points_multiplier_bps": 12000}],
        "statuses": [{"status": "shareholder", "min_qualified_referrals": 5, "points_multiplier_bps": 15000}]},
        as_="owner", groups=("admin",))
    purchase("POS-2026-T00", _member(2))  # the container's first under tiers; the buyer's standing made
    rows.append(purchase("POS-2026-T01", _member(2), measure="purchase under tiers and statuses, referral depth 2 "
                                                           "(the standing read and put)"))
    newcomer = _member(95)
    client.call("POST", "/v1/members", {"email": f"{newcomer}@example.com", "display_name": "Newcomer",
                                        "locale": "zh-CN", "referral_code": code}, as_=newcomer)
    client.tick()
    rows.append(purchase("POS-2026-T02", newcomer, measure="purchase under tiers and statuses, a referee's first "
                                                         "at referral depth 11 (the referrer's count too)"))
    _, _, measured = client.call("POST", "/v1/purchases/POS-2026-T01/refunds",
                                 {"refund_id": "R-T1", "amount_minor": 40_000},
                                 measure="refund under tiers and statuses (partial, depth 2: the standing too)",
                                 **staff)
    rows.append(measured)  # type: ignore[arg-type]
    client.tick()
    _, _, measured = client.call("GET", f"/v1/members/{_member(2)}", measure="balance read under tiers and statuses "
                                 "(GET member: the tier and statuses too)", **staff)
    rows.append(measured)  # type: ignore[arg-type]
    return [r for r in rows if r is not None]


def _sizes(reader: Any) -> dict[str, Any]:
    """Sizes of what the story stored: accounts (with their lots) and referral entries."""
    accounts = reader.scan(TableName=os.environ["ACCOUNTS_TABLE"], ConsistentRead=True)["Items"]
    root = next(a for a in accounts if a["member_id"]["S"] == _member(0))
    entries = reader.query(TableName=os.environ["LEDGER_TABLE"], KeyConditionExpression="member_id = :m",
                           ExpressionAttributeValues={":m": {"S": _member(1)}}, ConsistentRead=True)["Items"]
    referral = [e for e in entries if e["kind"]["S"] == "referral"]
    return {
        "account_root_bytes": item_size(root),
        "account_root_lots": len(root["balances"]["M"]["points"]["M"]["lots"]["M"]),
        "account_sizes": sorted(item_size(a) for a in accounts),
        "referral_entry_bytes": max(item_size(e) for e in referral),
        "entry_bytes": sorted(item_size(e) for e in entries),
    }
