"""Reviews' decisions on AWS's own engine, from 8 processes at once (docs/screening.md, "Deciding"):

- 50 staff deciding one review at once, some approving, some rejecting: one decision wins, every other is
  ``409 review-closed`` and writes nothing; the holder's chain has that one decision's lines and the balances it
  makes, whether the credit was posted before the race or was still queued (then the decision writes no entry,
  only the account's ``settled`` and the review: the review's own condition settles the race);
- the decisions of many reviews of one holder at once, while the poster posts that holder's held credits and
  refunds' reversals in small batches and refunds keep coming: every review decided once, the account's
  ``settled`` remembers every decision, the balances are the decisions' (approved: what refunds left, pending
  until the usual hold ends; rejected: nothing), and the chain verifies. A decision of a credit still queued writes
  no entry, so its account write does not move ``seq``: only the write's condition on the number of decisions it
  read keeps two such writes (or such a write and the poster's) from overwriting each other's ``settled``.
"""

from __future__ import annotations

import threading
from collections import Counter
from functools import partial
from typing import Any

import pytest

from functions.poster.app import post
from loyalty import wiring
from tests.concurrency.conftest import Reply, Service, report
from tests.model.test_model import chain_head

pytestmark = pytest.mark.xdist_group("dynamodb-local")  # one DynamoDB Local per test process

AMOUNT = 100_000  # 1,000 points to the buyer, 100 to the referrer (the default programme's 10%)
DEVICE = "tablet-of-ann"


def sign_up_on(service: Service, sub: str, code: str | None = None) -> dict[str, Any]:
    """A sign-up on ann's tablet (a referee on it has ann's credit held: same_device)."""
    body: dict[str, Any] = {"email": f"{sub}@example.com", "display_name": sub.title(), "device_id": DEVICE}
    if code is not None:
        body["referral_code"] = code
    reply = service.call("POST", "/v1/members", body, as_=sub)
    assert reply.status == 201, reply.body
    return dict(reply.body)


def held_credit(reply: Reply, holder: str) -> dict[str, Any]:
    assert reply.status == 201, reply.body
    credit = next(c for c in reply.body["credits"] if c["member_id"] == holder)
    assert credit["review_id"].startswith("rv_"), credit
    return dict(credit)


def decide(service: Service, review_id: str, decision: str, staff: str) -> Reply:
    return service.call("POST", f"/v1/reviews/{review_id}/decision", {"decision": decision, "note": staff},
                        as_=staff, groups=("staff",))


def review(service: Service, review_id: str) -> dict[str, Any]:
    reply = service.call("GET", f"/v1/reviews/{review_id}", as_="pos", groups=("staff",))
    assert reply.status == 200, reply.body
    return dict(reply.body)


def settled(service: Service, holder: str) -> dict[str, str]:
    """The decisions the holder's account remembers, read from the table."""
    item = service.db.get_item(TableName="AccountsTable", Key={"member_id": {"S": holder}})["Item"]
    return {k: v["S"] for k, v in item.get("settled", {}).get("M", {}).items()}


def open_reviews(service: Service) -> list[str]:
    reply = service.call("GET", "/v1/reviews?status=open&limit=100", as_="pos", groups=("staff",))
    assert reply.status == 200, reply.body
    return [r["review_id"] for r in reply.body["items"]]


def verified(service: Service, holder: str) -> list[dict[str, Any]]:
    chain = service.ledger(holder)
    assert [e["seq"] for e in chain] == list(range(1, len(chain) + 1))
    head = chain_head(chain)  # every link and hash recomputed from the API's output
    report_ = service.verify(holder)
    assert (report_["chain_valid"], report_["balances_match"], report_["head_hash"], report_["problems"]) == (
        True, True, head, []), report_
    return chain


@pytest.mark.parametrize("credit", ["posted", "queued"])
def test_fifty_staff_deciding_one_review_at_once_decide_it_once(service: Service, credit: str) -> None:
    ann = sign_up_on(service, "ann")
    sign_up_on(service, "bob", ann["referral_code"])
    held = held_credit(service.purchase("O-bob", "bob", AMOUNT), "ann")
    if credit == "posted":
        service.drain()
        assert service.points("ann") == {"available": 0, "pending": held["points"], "lifetime_earned": held["points"]}
    before = len(service.ledger("ann")) if credit == "posted" else 0  # (ledger() drains: only when posted)
    racers = 50
    decisions = ["approve" if n % 2 else "reject" for n in range(racers)]
    for n in range(racers):
        service.token(f"staff-{n}", "staff")  # before the race: it starts with the decisions themselves
    mark = service.transactions.mark()
    replies = service.all_at_once([partial(decide, service, held["review_id"], decisions[n], f"staff-{n}")
                                   for n in range(racers)])
    statuses = Counter((r.status, r.slug) for r in replies)
    assert statuses == {(200, None): 1, (409, "review-closed"): racers - 1}, statuses
    [winner] = [n for n, r in enumerate(replies) if r.status == 200]
    outcome = "approved" if decisions[winner] == "approve" else "rejected"
    shown = review(service, held["review_id"])
    assert (shown["status"], shown["decided_by"], shown["note"]) == (outcome, f"staff-{winner}", f"staff-{winner}")
    assert settled(service, "ann") == {held["review_id"]: outcome}
    assert open_reviews(service) == []

    chain = verified(service, "ann")  # drains: a queued credit is posted where the decision sent it
    lines = [(e["kind"], e["amount"], e["bucket"], e.get("review")) for e in chain[before:]]
    rid, points = held["review_id"], held["points"]
    if credit == "posted" and outcome == "approved":  # the lot moves to the hold's usual one
        assert lines == [("release", -points, "pending", rid), ("release", points, "pending", None)]
    elif credit == "posted":  # reversed
        assert lines == [("referral", -points, "pending", rid)]
    elif outcome == "approved":  # no entry at the decision; the credit is posted as if never held
        assert lines == [("referral", points, "pending", None)]
    else:  # posted and reversed by the review in one write
        assert lines == [("referral", points, "pending", rid), ("referral", -points, "pending", rid)]
    assert sum(1 for e in chain if e["source"]["type"] == "review") == (
        2 if credit == "posted" and outcome == "approved" else 1 if outcome == "rejected" else 0)
    kept = points if outcome == "approved" else 0
    assert service.points("ann") == {"available": 0, "pending": kept, "lifetime_earned": kept}
    report("one review, 50 deciders", credit=credit, outcome=outcome, **service.transactions.since(mark))


class PosterBehind:
    """Lambda's poller on the queue's stream, behind: a few records at a time, in a thread, until the block ends
    (and a failure in it fails the test)."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.records = 0
        self._done = threading.Event()
        self._failed: list[BaseException] = []
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        try:
            while not self._done.is_set():
                self.records += self.service.stream.drain(lambda records: post(records, wiring.poster()),
                                                          batch_size=3)
        except BaseException as error:  # the test's thread reports it
            self._failed.append(error)

    def __enter__(self) -> PosterBehind:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()
        assert not self._failed, self._failed


REFEREES = 24  # each buys once: 24 of ann's credits held, 24 reviews
POSTED_FIRST = 8  # credits the poster posts before the race; the rest are still queued when it starts


def test_decisions_of_one_holders_reviews_race_each_other_and_the_poster(service: Service) -> None:
    ann = sign_up_on(service, "ann")
    buyers = [sign_up_on(service, f"ref-{n}", ann["referral_code"])["member_id"] for n in range(REFEREES)]
    amounts = {f"O-{n}": AMOUNT + 1_000 * n for n in range(REFEREES)}
    credits: dict[str, dict[str, Any]] = {}  # order → ann's held credit
    reversed_: Counter[str] = Counter()  # order → what refunds took back of ann's credit

    lock = threading.Lock()

    def refund(order: str, refund_id: str, share: int) -> None:
        reply = service.refund(order, refund_id, amounts[order] * share // 7)
        assert reply.status == 201, reply.body
        with lock:
            reversed_[order] += sum(r["points"] for r in reply.body["reversals"] if r["member_id"] == "ann")

    for n in range(POSTED_FIRST):
        credits[f"O-{n}"] = held_credit(service.purchase(f"O-{n}", buyers[n], amounts[f"O-{n}"]), "ann")
    for n in range(0, POSTED_FIRST, 2):
        refund(f"O-{n}", "R-before", 2)
    service.drain()
    for n in range(POSTED_FIRST, REFEREES):
        order = f"O-{n}"
        credits[order] = held_credit(service.purchase(order, buyers[n], amounts[order]), "ann")
    for n in range(POSTED_FIRST, REFEREES, 3):
        refund(f"O-{n}", "R-before", 3)  # queued behind its credit
    assert len(open_reviews(service)) == REFEREES

    orders = sorted(credits)
    decisions = {order: "approve" if n % 3 else "reject" for n, order in enumerate(orders)}
    def decide_one(order: str) -> Reply:
        return decide(service, credits[order]["review_id"], decisions[order], f"staff-{order}")

    def refund_during(order: str) -> Reply:
        refund(order, "R-during", 1)
        return Reply(201, None)

    for order in orders:
        service.token(f"staff-{order}", "staff")
    mark = service.transactions.mark()
    with PosterBehind(service) as poster:
        replies = service.all_at_once([partial(decide_one, order) for order in orders]
                                      + [partial(refund_during, order) for order in orders[1::4]])
    assert Counter((r.status, r.slug) for r in replies) == {(201, None): len(orders[1::4]), (200, None): len(orders)}

    outcomes = {credits[o]["review_id"]: "approved" if decisions[o] == "approve" else "rejected" for o in orders}
    assert settled(service, "ann") == outcomes  # every decision remembered: none overwritten by another write
    assert open_reviews(service) == []
    chain = verified(service, "ann")  # drains what is still queued first
    by_review = Counter(e.get("review") for e in chain if e["source"]["type"] == "review")
    for order in orders:  # one decision each: a rejection's reversal, or an approval's move out of the lot
        rid = credits[order]["review_id"]
        assert by_review[rid] <= 1, (order, by_review[rid])
    kept = sum(credits[o]["points"] - reversed_[o] for o in orders if decisions[o] == "approve")
    assert service.points("ann") == {"available": 0, "pending": kept, "lifetime_earned": kept}
    for order in orders:  # nothing left in any review's lot
        assert review(service, credits[order]["review_id"])["credit"]["held"] == 0, order
    report("one holder's reviews vs the poster", reviews=len(orders), posted=poster.records, entries=len(chain),
           busy=dict(service.busy), **service.transactions.since(mark))
