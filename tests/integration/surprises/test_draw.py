"""The draw's formula exactly as the contract states it, against an independent recomputation (hmac and hashlib
only), at its edges: a value equal to the chance misses, one below hits, and the worth reaches max_points."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

from loyalty.program.domain import SurpriseRule
from loyalty.surprises.domain import commitment, day_secret, draw

SECRET = hashlib.sha256(b"a fixed day secret").digest()
ORDERS = [f"O-{n}" for n in range(2000)]


def h(order_id: str) -> bytes:
    return hmac.new(SECRET, order_id.encode(), hashlib.sha256).digest()


def test_a_value_equal_to_the_chance_misses_and_one_below_hits() -> None:
    order = ORDERS[0]
    value = int.from_bytes(h(order)[0:4], "big") % 10000
    assert 0 < value < 10000
    assert not draw(SECRET, order, SurpriseRule(value, 1, 1, 10)).hit
    assert draw(SECRET, order, SurpriseRule(value + 1, 1, 1, 10)).hit


def test_every_draw_is_the_contracts_formula_and_the_worth_reaches_the_maximum() -> None:
    rule = SurpriseRule(5000, 10, 13, 10_000)
    worths = set()
    for order in ORDERS:
        digest = h(order)
        hit = int.from_bytes(digest[0:4], "big") % 10000 < 5000
        worth = 10 + int.from_bytes(digest[4:8], "big") % 4 if hit else 0
        found = draw(SECRET, order, rule)
        assert (found.hit, found.points, found.paid) == (hit, worth, False), order
        worths.add(found.points)
    assert worths == {0, 10, 11, 12, 13}


def test_a_days_secret_is_the_masters_hmac_of_the_date_and_its_commitment_its_sha256() -> None:
    master = b"master"
    secret = day_secret(master, date(2026, 11, 23))
    assert secret == hmac.new(master, b"loyalty surprise day 2026-11-23", hashlib.sha256).digest()
    assert len(secret) == 32 and commitment(secret) == hashlib.sha256(secret).hexdigest()
    assert day_secret(master, date(2026, 11, 24)) != secret
