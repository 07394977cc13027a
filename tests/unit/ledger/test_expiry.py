"""Expiry of points (ledger.expiry, docs/earning-expiry.md): dated lots, oldest first, read-time exact."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.ledger.accounts import Account
from loyalty.ledger.assets import Bucket, EntryKind
from loyalty.ledger.entries import Entry, Source
from loyalty.ledger.expiry import ExpiryPolicy, add_months, last_day, settle
from loyalty.ledger.posting import LedgerInvariantError, Posting, post
from loyalty.ledger.verification import verify
from loyalty.shared.clock import to_rfc3339

SINCE = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = ExpiryPolicy(12, SINCE, "Asia/Shanghai")
NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 on 10 March in Shanghai
END_OF_10_MARCH_2027 = "2027-03-10T16:00:00Z"  # midnight after 10 March 2027 in Shanghai


def action(points: int, name: str) -> Posting:
    return Posting("dan", "points", points, Bucket.AVAILABLE, EntryKind.ACTION, Source("action", name))


def purchase(points: int, order: str, free_at: datetime) -> Posting:
    return Posting("dan", "points", points, Bucket.PENDING, EntryKind.PURCHASE, Source("purchase", order), level=0,
                   rule_version=1, available_at=to_rfc3339(free_at))


def spend(points: int, name: str) -> Posting:
    return Posting("dan", "points", -points, Bucket.AVAILABLE, EntryKind.REDEMPTION, Source("redemption", name))


def run(*steps: tuple[list[Posting], datetime], policy: ExpiryPolicy | None = POLICY) -> tuple[Account, list[Entry]]:
    account, entries = Account("dan"), list[Entry]()
    for lines, at in steps:
        result = post(account, lines, at, policy)
        account, entries = result.account, entries + result.entries
    assert verify(account, entries).problems == []
    return account, entries


def test_months_are_calendar_months_and_a_short_month_ends_on_its_last_day() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 11, 15), 14) == date(2028, 1, 15)


def test_points_expire_at_the_end_of_the_local_day_months_after_they_became_available() -> None:
    assert POLICY.expires_at(NOW) == END_OF_10_MARCH_2027
    # 23:30 UTC on 9 March is already 10 March in Shanghai
    assert POLICY.expires_at(datetime(2026, 3, 9, 23, 30, tzinfo=UTC)) == END_OF_10_MARCH_2027
    assert last_day(END_OF_10_MARCH_2027, "Asia/Shanghai") == date(2027, 3, 10)
    assert POLICY.expires_at(SINCE) is None and POLICY.expires_at(SINCE - timedelta(days=1)) is None


def test_a_credit_is_dated_and_gone_from_every_read_once_its_day_is_over() -> None:
    account, entries = run(([action(20, "review")], NOW))
    assert entries[0].expires == ((END_OF_10_MARCH_2027, 20),)
    just_before = datetime(2027, 3, 10, 15, 59, 59, tzinfo=UTC)
    view = account.view("points", just_before)
    assert view[Bucket.AVAILABLE] == 20 and view.expiring == ((END_OF_10_MARCH_2027, 20),)
    after = account.view("points", datetime(2027, 3, 10, 16, tzinfo=UTC))
    assert after[Bucket.AVAILABLE] == 0 and after.expiring == ()
    assert account.balance("points")[Bucket.AVAILABLE] == 20  # a read writes nothing


def test_the_next_write_records_the_expiry_before_its_own_lines_and_spending_cannot_use_it() -> None:
    later = datetime(2027, 6, 1, tzinfo=UTC)
    account, entries = run(([action(20, "review")], NOW), ([action(5, "share")], later))
    assert [(e.kind, e.amount, e.expires) for e in entries[1:]] == [
        (EntryKind.EXPIRY, -20, ((END_OF_10_MARCH_2027, 20),)),
        (EntryKind.ACTION, 5, ((POLICY.expires_at(later), 5),))]
    assert entries[1].source == Source("expiry", END_OF_10_MARCH_2027)
    points = account.balance("points")
    assert points[Bucket.AVAILABLE] == 5 and points.earned == 25  # an expiry is not un-earning
    result = post(account, [spend(5, "r")], later, POLICY)
    assert result.expired == {} and result.account.balance("points")[Bucket.AVAILABLE] == 0


def test_held_points_are_dated_from_the_instant_their_hold_ends_even_when_released_much_later() -> None:
    free_at = NOW + timedelta(days=14)
    account, _ = run(([purchase(30, "o1", free_at)], NOW))
    expected = POLICY.expires_at(free_at)
    assert account.view("points", free_at, POLICY).expiring == ((expected, 30),)  # a read dates them at once
    assert account.view("points", free_at).expiring == ()  # (a read without the rule cannot)
    # no write for 13 months: the read shows them released and already expired
    assert account.view("points", free_at + timedelta(days=400), POLICY)[Bucket.AVAILABLE] == 0
    account, entries = run(([purchase(30, "o1", free_at)], NOW), ([action(1, "x")], free_at + timedelta(days=400)))
    assert [e.kind for e in entries[1:]] == [EntryKind.RELEASE, EntryKind.RELEASE, EntryKind.EXPIRY,
                                             EntryKind.ACTION]
    assert entries[2].expires == ((expected, 30),) and entries[3].amount == -30


def test_spending_takes_the_undated_points_first_then_the_oldest_dated() -> None:
    before_rule = SINCE - timedelta(days=30)
    account, _ = run(([action(10, "old")], before_rule), ([action(20, "march")], NOW),
                     ([action(30, "april")], NOW + timedelta(days=31)), ([spend(25, "r1")], NOW + timedelta(days=40)))
    april = POLICY.expires_at(NOW + timedelta(days=31))
    # the 10 undated go first, then 15 of March's 20
    assert dict(account.balance("points").dated) == {END_OF_10_MARCH_2027: 5, april: 30}
    assert account.view("points", datetime(2027, 3, 11, tzinfo=UTC))[Bucket.AVAILABLE] == 30


def test_a_claw_back_below_zero_takes_every_dated_lot_and_a_later_credit_first_pays_the_debt() -> None:
    refund = Posting("dan", "points", -50, Bucket.AVAILABLE, EntryKind.REFUND, Source("refund", "o1/r"), level=0)
    account, _ = run(([action(20, "a")], NOW), ([refund], NOW + timedelta(days=1)),
                     ([action(40, "b")], NOW + timedelta(days=2)))
    points = account.balance("points")
    assert points[Bucket.AVAILABLE] == 10 and sum(points.dated.values()) == 10  # 30 of the 40 paid the debt


def test_without_a_rule_nothing_is_dated_and_points_already_dated_keep_their_date() -> None:
    account, _ = run(([action(20, "a")], NOW))
    result = post(account, [action(5, "b")], NOW + timedelta(days=1), None)
    assert result.entries[0].expires is None
    assert dict(result.account.balance("points").dated) == {END_OF_10_MARCH_2027: 20}


def test_the_rule_is_read_only_when_a_write_has_points_to_date() -> None:
    reads: list[int] = []

    def rule() -> ExpiryPolicy:
        reads.append(1)
        return POLICY

    result = post(Account("dan"), [purchase(10, "o", NOW + timedelta(days=14))], NOW, rule)
    assert reads == []
    post(result.account, [action(1, "a"), action(2, "b")], NOW + timedelta(days=15), rule)
    assert reads == [1]  # a release and two credits to date: one read


def test_the_verifier_finds_an_expiry_that_came_early_or_a_dated_lot_edited() -> None:
    account, entries = run(([action(20, "a")], NOW), ([action(1, "b")], datetime(2027, 4, 1, tzinfo=UTC)))
    early = entries[1].__class__(**{**entries[1].__dict__, "created_at": "2027-03-01T00:00:00Z"}).sealed()
    assert any("had not come" in problem for problem in verify(account, [entries[0], early, entries[2]]).problems)
    edited = Account(account.holder, account.seq, account.head_hash, {
        "points": account.balance("points").__class__(dict(account.balance("points").buckets), {}, 21, 0,
                                                      {"2028-01-01T00:00:00Z": 1})})
    assert any("dated" in problem for problem in verify(edited, entries).problems)


def test_an_expiry_must_name_exactly_the_lots_it_ends() -> None:
    account, _ = run(([action(20, "a")], NOW))
    wrong = Posting("dan", "points", -20, Bucket.AVAILABLE, EntryKind.EXPIRY, Source("expiry", "x"),
                    expires=(("2027-01-01T00:00:00Z", 20),))
    try:
        post(account, [wrong], NOW, POLICY)
    except LedgerInvariantError:
        return
    raise AssertionError("an expiry of lots the account does not have was posted")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["credit", "spend", "refund", "hold"]), st.integers(1, 50),
                          st.integers(0, 500)), max_size=25))
def test_dated_lots_never_exceed_the_bucket_and_reads_agree_with_the_next_write(
        steps: list[tuple[str, int, int]]) -> None:
    account, entries, at = Account("dan"), list[Entry](), SINCE - timedelta(days=20)
    for n, (kind, amount, days) in enumerate(steps):
        at += timedelta(days=days)
        line = {"credit": action(amount, f"a{n}"), "spend": spend(amount, f"s{n}"),
                "hold": purchase(amount, f"o{n}", at + timedelta(days=14)),
                "refund": Posting("dan", "points", -amount, Bucket.AVAILABLE, EntryKind.REFUND,
                                  Source("refund", f"r{n}"), level=0)}[kind]
        seen = account.view("points", at, POLICY)
        result = post(account, [], at, POLICY)  # what the next write records first
        assert result.account.balance("points")[Bucket.AVAILABLE] == seen[Bucket.AVAILABLE]
        assert tuple(sorted(result.account.balance("points").dated.items())) == tuple(sorted(seen.expiring))
        if kind == "spend" and seen[Bucket.AVAILABLE] < amount:
            continue
        result = post(account, [line], at, POLICY)
        account, entries = result.account, entries + result.entries
        points = account.balance("points")
        assert sum(points.dated.values()) <= max(points[Bucket.AVAILABLE], 0)
        assert min(points.dated.values(), default=1) > 0
    assert verify(account, entries).problems == []
    assert settle(0, {"2027-01-01T00:00:00Z": 3}) == {}
