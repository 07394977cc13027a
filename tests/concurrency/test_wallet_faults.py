"""The wallet's instruments under faults: bundle cards (sales, uses, refunds), coupons (issues, redemptions, voids)
and catalogue rewards (stock), through a DynamoDB client that throttles, conflicts and times out after committing.

Each operation is asked until answered, as a real client repeats on 503 (``tests/concurrency/faults.py``; a caller
that gave up asks again later with the same id). Plain arithmetic beside it says what each must answer. Checked: the
caller is told written exactly when its operation record exists (once); the card's uses, the points, the stock and
the coupons' states are the arithmetic's; the member's chain verifies. Stored value's own run is in
``test_stored_value.py``.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest

from loyalty.bundles.dynamodb import DynamoBundleStore
from loyalty.bundles.usecases import BundleService
from loyalty.coupons.domain import Template
from loyalty.ledger.dynamodb import DynamoLedgerStore
from loyalty.ledger.verification import verify
from loyalty.rewards.domain import Reward
from loyalty.shared.clock import FixedClock
from loyalty.shared.dynamo import Dynamo
from loyalty.shared.settings import Settings
from loyalty.wiring import build, build_wallet
from tests.concurrency.faults import FaultyClient
from tests.concurrency.test_faults import Told, answered

pytestmark = pytest.mark.xdist_group("dynamodb-local")

USES, PRICE, POINTS, STOCK, OFF, MIN_SPEND, LIMIT = 3, 9_000, 50, 4, 500, 1_000, 2


class WalletRun:
    """One member's bundle cards, coupons and catalogue redemptions through the faulty client."""

    def __init__(self, local_dynamodb: Any, rate: float) -> None:
        self.settings, self.clock = Settings.from_env(), FixedClock(datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
        plain = build(self.settings, self.clock, local_dynamodb, screening_key=lambda: b"faults")
        plain.members.sign_up(member_id="ann", email="ann@example.com", display_name="Ann", locale="zh-CN",
                              marketing_opt_in=False, birthday=None, referral_code=None)
        plain.adjustments.adjust(adjustment_id="GIFT", member_id="ann", points=POINTS * 3, reason="faults",
                                 requested_by="boss")
        coupons, rewards = build_wallet(self.settings, self.clock, local_dynamodb)
        coupons.put_template(Template("T", "Five off", OFF, None, None, MIN_SPEND, 30, LIMIT, None))
        rewards.put(Reward("MUG", "Mug", POINTS, STOCK))
        self.faulty = FaultyClient(local_dynamodb, rate=rate, seed=int(rate * 100) + 29)
        faulty = build(self.settings, self.clock, self.faulty, screening_key=lambda: b"faults")
        self.redemptions = faulty.redemptions
        self.coupons, _ = build_wallet(self.settings, self.clock, self.faulty)
        db = Dynamo(self.faulty)
        self.bundles = BundleService(DynamoBundleStore(db, self.settings.wallet_table), faulty.purchases,
                                     DynamoLedgerStore(db, self.settings.tables), self.clock)
        self.bundles.save_product(product_id="WASH-3", name="3 washes", uses=USES, price_minor=PRICE, valid_days=365)
        self.rng = random.Random(int(rate * 100) + 7)
        self.cards: dict[str, int] = {}  # card id → uses left
        self.sales: dict[str, str] = {}  # card id → its sale
        self.points, self.stock = POINTS * 3, STOCK
        self.active: list[str] = []  # codes of active coupons
        self.used: dict[str, str] = {}  # redemption id → code, not voided yet
        self.told_ok = ["adjustment/GIFT"]
        self.done: list[Any] = []

    def settle(self, call: Any) -> Told:
        return answered(call)

    def written(self, key: str, call: Any) -> None:
        self.told_ok.append(key)
        self.done.append(call)

    def sell(self, step: int) -> None:
        def call() -> Any:
            return self.bundles.sell(sale_id=f"S-{step}", member_id="ann", product_id="WASH-3", requested_by="pos")
        told = self.settle(call)
        assert told.ok, told
        self.cards[told.value.result.card_id] = USES
        self.sales[told.value.result.card_id] = f"S-{step}"
        self.written(f"purchase/S-{step}", call)

    def use(self, step: int) -> None:
        if not self.cards:
            return
        card = self.rng.choice(sorted(self.cards))

        def call() -> Any:
            return self.bundles.use(card_id=card, use_id=f"U-{step}", requested_by="pos")
        told = self.settle(call)
        if self.cards[card] == 0:
            assert told.status == "bundle-used-up", told
            return
        assert told.ok and told.value.result.remaining == self.cards[card] - 1, told
        self.cards[card] -= 1
        self.written(f"bundle-use/{card}/U-{step}", call)

    def refund(self, step: int) -> None:
        if not self.cards:
            return
        card = self.rng.choice(sorted(self.cards))

        def call() -> Any:
            return self.bundles.refund(card_id=card, refund_id=f"BR-{step}", requested_by="pos")
        told = self.settle(call)
        if self.cards[card] == 0:
            assert told.status == "bundle-used-up", told
            return
        assert told.ok, told
        assert (told.value.result.uses_refunded, told.value.result.amount_minor) == (
            self.cards[card], PRICE * self.cards[card] // USES)
        self.cards[card] = 0
        self.written(f"refund/{self.sales[card]}/BR-{step}", call)

    def issue(self, step: int) -> None:
        def call() -> Any:
            return self.coupons.issue(issue_id=f"I-{step}", template_id="T", member_id="ann", by="pos")
        told = self.settle(call)
        if len(self.active) >= LIMIT:
            assert told.status == "coupon-limit", told
            return
        assert told.ok, told
        self.active.append(told.value.result.code)
        self.written(f"coupon-issue/I-{step}", call)

    def redeem_coupon(self, step: int) -> None:
        if not self.active and not self.used:
            return
        code = self.rng.choice(self.active or list(self.used.values()))
        subtotal = self.rng.choice([MIN_SPEND - 1, MIN_SPEND, 5_000])

        def call() -> Any:
            return self.coupons.redeem(code=code, redemption_id=f"C-{step}", member_id="ann", subtotal_minor=subtotal,
                                       by="pos")
        told = self.settle(call)
        if code not in self.active:
            assert told.status == "coupon-used", told
            return
        if subtotal < MIN_SPEND:
            assert told.status == "coupon-not-applicable", told
            return
        assert told.ok and told.value.result.discount_minor == OFF, told
        self.active.remove(code)
        self.used[f"C-{step}"] = code
        self.written(f"coupon-redemption/C-{step}", call)

    def void(self, step: int) -> None:
        if not self.used:
            return
        redemption = self.rng.choice(sorted(self.used))

        def call() -> Any:
            return self.coupons.void(redemption, by="pos")
        told = self.settle(call)
        assert told.ok, told
        self.active.append(self.used.pop(redemption))
        self.told_ok.append(f"coupon-void/{redemption}")  # a void again answers 200: no replay kept for it

    def redeem_reward(self, step: int) -> None:
        def call() -> Any:
            return self.redemptions.redeem(member_id="ann", idempotency_key=f"K-{step}", points=None, reward=None,
                                           reward_id="MUG")
        told = self.settle(call)
        if self.points < POINTS:
            assert told.status == "insufficient-points", told
            return
        if self.stock < 1:
            assert told.status == "out-of-stock", told
            return
        assert told.ok, told
        self.points, self.stock = self.points - POINTS, self.stock - 1
        self.written(f"redemption/ann/K-{step}", call)

    def replay(self, step: int) -> None:
        if self.done:
            told = self.settle(self.rng.choice(self.done))
            assert told.status == "replayed", told


@pytest.mark.parametrize("rate", [0.0, 0.2, 0.3], ids=["0pct", "20pct", "30pct"])
def test_the_wallets_instruments_under_faults_apply_each_operation_once_or_not_at_all(local_dynamodb: Any,
                                                                                      rate: float) -> None:
    run = WalletRun(local_dynamodb, rate)
    actions = {"sell": run.sell, "use": run.use, "refund": run.refund, "issue": run.issue,
               "redeem_coupon": run.redeem_coupon, "void": run.void, "redeem_reward": run.redeem_reward,
               "replay": run.replay}
    for step in range(50):
        actions[run.rng.choices(list(actions), [2, 4, 1, 3, 3, 1, 2, 2])[0]](step)

    recorded = {i["pk"]["S"] for i in local_dynamodb.scan(TableName="OperationsTable")["Items"]}
    assert recorded == set(run.told_ok)  # told written ⇔ written, once (the sign-up keeps no operation record)
    store = DynamoLedgerStore(Dynamo(local_dynamodb), run.settings.tables)
    account = store.accounts(["ann"])["ann"]
    now = run.clock.now()
    assert account.available("points", now) == run.points  # the sales' points are pending (the chain's check)
    for card, left in run.cards.items():
        assert account.view(f"bundle:{card}", now)["available"] == left, card
    rewards = build_wallet(run.settings, run.clock, local_dynamodb)[1].rewards()
    assert [(r.reward_id, r.stock) for r in rewards] == [("MUG", run.stock)]
    statuses = {c.code: c.status for c in build_wallet(run.settings, run.clock, local_dynamodb)[0].coupons("ann")}
    assert sorted(code for code, status in statuses.items() if status == "active") == sorted(run.active)
    assert sorted(code for code, status in statuses.items() if status == "used") == sorted(run.used.values())
    report = verify(account, store.entries("ann"))
    assert report.chain_valid and report.balances_match, report
    print(f"\n[wallet under faults] rate {rate}: {len(run.told_ok)} writes, faults {dict(run.faulty.injected)}")
