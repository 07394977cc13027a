"""Coupons' use cases: templates, issuing (by staff, at sign-up, on birthdays), using at the till, voiding.

Every write is one transaction through the ledger's commit (``LedgerWrite`` with no account: a coupon is no
balance) whose first item is the event's ``Operation``; the coupon's own items ride along as ``Record``s whose
conditions settle every race (docs/wallet.md, "Coupons")."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from loyalty.coupons.domain import (
    ACTIVE,
    EXPIRED,
    USED,
    Coupon,
    CouponLimit,
    CouponNotApplicable,
    CouponRedeemed,
    CouponView,
    CouponVoided,
    RedemptionVoided,
    Template,
    VoidWindowPassed,
    auto_issue_id,
    birthday_issue_id,
    coupon_id_for,
    expiry,
    issue_key,
    new_code,
    normalize_code,
    redemption_key,
    void_key,
    within_void_window,
)
from loyalty.coupons.store import CouponStore
from loyalty.ledger.store import CounterGuard, LedgerStore, LedgerWrite, Record
from loyalty.shared.clock import Clock, to_rfc3339
from loyalty.shared.errors import NotFound
from loyalty.shared.once import Operation, Outcome, ResultCodec, RetryPolicy, fingerprint, run_once

log = logging.getLogger(__name__)
SWEEP = 50  # expired coupons given back their slots per transaction (plus the counter: 51 of DynamoDB's 100 items)
ISSUED = ResultCodec(CouponView)


class _Redemptions(ResultCodec[CouponRedeemed]):
    """A coupon redemption's answer; a voided one is never answered again (``409 redemption-voided``)."""

    def load_operation(self, recorded: Operation) -> CouponRedeemed:
        if recorded.state.get("voided"):
            raise RedemptionVoided(f"{recorded.key.split('/', 1)[1]} was voided: use a new redemption_id.")
        return super().load_operation(recorded)


REDEEMED = _Redemptions(CouponRedeemed)


VOIDED = ResultCodec(CouponVoided)


class CouponService:
    def __init__(self, store: CouponStore, ledger: LedgerStore, clock: Clock, *,
                 member_exists: Callable[[str], bool], time_zone: str = "Asia/Shanghai",
                 retry: RetryPolicy | None = None, cache_seconds: float = 0.0) -> None:
        self._store, self._ledger, self._clock = store, ledger, clock
        self._member_exists = member_exists
        self._zone = ZoneInfo(time_zone)
        self._retry = retry or RetryPolicy()
        self._cache_seconds = cache_seconds
        self._automatic: tuple[float, list[Template]] | None = None

    # --- templates ------------------------------------------------------------------------------
    def put_template(self, template: Template) -> Template:
        self._retry.run(lambda: self._store.put_template(template))
        self._automatic = None
        return template

    def template(self, template_id: str) -> Template | None:
        return self._retry.run(lambda: self._store.template(template_id))

    def templates(self) -> list[Template]:
        return self._retry.run(self._store.templates)

    # --- issuing --------------------------------------------------------------------------------
    def issue(self, *, issue_id: str, template_id: str, member_id: str, known_member: bool = False,
              by: str | None = None) -> Outcome[CouponView]:
        """Issue a coupon of the template to the member, exactly once by ``issue_id``; past the template's
        ``per_member_limit`` of active coupons held at once → ``coupon-limit``."""
        key = issue_key(issue_id)
        request = {"template_id": template_id, "member_id": member_id}

        def attempt() -> CouponView:
            template = self._store.template(template_id)
            if template is None:
                raise NotFound(f"No coupon template {template_id}.")
            if not known_member and not self._member_exists(member_id):
                raise NotFound(f"No member {member_id}.")
            now = self._clock.now()
            coupon, records = self.issue_records(template, member_id, key, now)
            view = CouponView.of(coupon, now)
            op = Operation(key, fingerprint(request), 201, ISSUED.dump(view), to_rfc3339(now),
                           {"member_id": member_id, **({"by": by} if by is not None else {})})
            self._ledger.commit(LedgerWrite(op, [], records=records))
            return view

        return run_once(self._ledger, self._retry, key, fingerprint(request), attempt, ISSUED)

    def issue_records(self, template: Template, member_id: str, key: str,
                      now: datetime) -> tuple[Coupon, list[Record]]:
        """A new coupon of the template for the member (its id from the event's key) and the records that write it
        (a reward's redemption writes them in its own transaction). Under a per-member limit, the member's coupons
        of the template that expired while stored active are swept first, in transactions of their own
        (``sweep``), so the limit counts only live coupons and the event's own transaction stays small."""
        coupon_id = coupon_id_for(key)
        if template.per_member_limit is not None:
            self.sweep([c for c in self._store.coupons(member_id) if c.template_id == template.template_id
                        and c.coupon_id != coupon_id and c.status == ACTIVE and c.status_at(now) == EXPIRED])
        coupon = Coupon(coupon_id=coupon_id, code=new_code(), template_id=template.template_id,
                        member_id=member_id, status=ACTIVE, issued_at=to_rfc3339(now),
                        expires_at=expiry(now, template.valid_days))
        return coupon, self._store.issue_records(coupon, template)

    def sweep(self, expired: list[Coupon]) -> None:
        """Give the slots of expired coupons back, ``SWEEP`` coupons to a transaction, each marked expired only where
        it is still active (a rival sweep's coupons conflict: ``Contention``, and the caller's retry reads again).
        Housekeeping, not the member's event: it is kept even when the issue after it is refused."""
        for start in range(0, len(expired), SWEEP):
            self._ledger.commit(LedgerWrite(None, [], records=self._store.sweep_records(expired[start:start + SWEEP])))

    def automatic_templates(self) -> list[Template]:
        """The templates issued automatically, kept ``cache_seconds`` per container (a sign-up on a warm container
        reads nothing; on a fresh install there are none)."""
        moment = time.monotonic()
        if self._automatic is None or moment - self._automatic[0] >= self._cache_seconds:
            self._automatic = (moment, self._retry.run(self._store.automatic))
        return self._automatic[1]

    def welcome(self, member_id: str, *, referred: bool) -> list[str]:
        """After a sign-up: the coupons of the ``sign_up`` templates, and of the ``referred_sign_up`` ones for a
        referred member; each once (its issue id is the template's and the member's). Best effort: a failure is
        logged, never the sign-up's (the member exists already)."""
        issued = []
        try:
            for template in self.automatic_templates():
                if template.issue_on == "sign_up" or (template.issue_on == "referred_sign_up" and referred):
                    issued.append(self._quietly(auto_issue_id(template.template_id, member_id),
                                                template.template_id, member_id))
        except Exception:  # never the sign-up's failure
            log.exception("automatic coupons at sign-up failed", extra={"member_id": member_id})
        return [i for i in issued if i]

    def _quietly(self, issue_id: str, template_id: str, member_id: str) -> str:
        """An automatic coupon, or none (logged): one member's or template's trouble stops no other's."""
        try:
            return self.issue(issue_id=issue_id, template_id=template_id, member_id=member_id,
                              known_member=True).result.coupon_id
        except CouponLimit:
            return ""
        except Exception:  # busy, or anything else: logged, and the next one goes on
            log.exception("an automatic coupon was not issued", extra={"issue_id": issue_id})
            return ""

    def issues_on_birthdays(self) -> bool:
        return any(t.issue_on == "birthday" for t in self.automatic_templates())

    def birthdays(self) -> list[str]:
        """The birthday coupons of today (the programme's time zone): one per member, template and year. Members
        born on 29 February get theirs on 28 February in common years."""
        templates = [t for t in self.automatic_templates() if t.issue_on == "birthday"]
        if not templates:
            return []
        today = self._clock.now().astimezone(self._zone).date()
        days = [today.strftime("%m-%d")]
        if (today.month, today.day) == (2, 28) and (today + timedelta(days=1)).day == 1:
            days.append("02-29")
        issued = []
        for day in days:
            for member_id in self._retry.run(lambda d=day: self._store.born_on(d)):  # type: ignore[misc]
                for template in templates:
                    issued.append(self._quietly(birthday_issue_id(template.template_id, member_id, today.year),
                                                template.template_id, member_id))
        return [i for i in issued if i]

    # --- reading --------------------------------------------------------------------------------
    def coupons(self, member_id: str) -> list[CouponView]:
        now = self._clock.now()
        found = self._retry.run(lambda: self._store.coupons(member_id))
        return [CouponView.of(c, now) for c in sorted(found, key=lambda c: (c.issued_at, c.coupon_id))]

    # --- using ----------------------------------------------------------------------------------
    def redeem(self, *, code: str, redemption_id: str, member_id: str, subtotal_minor: int,
               by: str | None = None) -> Outcome[CouponRedeemed]:
        """Use the coupon on a sale of ``subtotal_minor``: once, by its owner, before it expires, at or above its
        minimum spend; exactly once by ``redemption_id``."""
        normal = normalize_code(code)
        if normal is None:
            raise NotFound(f"No coupon has the code {code!r}.")
        key = redemption_key(redemption_id)
        request = {"code": normal, "member_id": member_id, "subtotal_minor": subtotal_minor}

        def attempt() -> CouponRedeemed:
            coupon = self._store.coupon_by_code(normal)
            if coupon is None:
                raise NotFound(f"No coupon has the code {code!r}.")
            template = self._store.template(coupon.template_id)
            now = self._clock.now()
            if coupon.member_id != member_id:
                raise CouponNotApplicable("This coupon is another member's.")
            # A used coupon is refused by the write's own condition (its status still active), not by this read.
            if coupon.status_at(now) == EXPIRED:
                raise CouponNotApplicable(f"The coupon expired at {coupon.expires_at}.")
            if template is None:
                raise CouponNotApplicable("The coupon's template is gone.")
            if subtotal_minor < template.min_spend_minor:
                raise CouponNotApplicable(f"The coupon applies from a subtotal of {template.min_spend_minor}.")
            redeemed = CouponRedeemed(redemption_id, normal, template.discount(subtotal_minor))
            at = to_rfc3339(now)
            used = replace(coupon, status=USED, used_at=at, redemption_id=redemption_id)
            op = Operation(key, fingerprint(request), 201, REDEEMED.dump(redeemed), at,
                           {"member_id": member_id, "coupon_id": coupon.coupon_id, "voided": 0,
                            **({"by": by} if by is not None else {})})
            self._ledger.commit(LedgerWrite(op, [], records=self._store.use_records(used)))
            return redeemed

        return run_once(self._ledger, self._retry, key, fingerprint(request), attempt, REDEEMED)

    def void(self, redemption_id: str, *, by: str | None = None) -> Outcome[CouponVoided]:
        """Cancel a coupon's use within 15 minutes of it: the coupon is active again, the redemption id is spent.
        A second void answers the first void's answer."""
        key = void_key(redemption_id)

        def attempt() -> CouponVoided:
            used = self._ledger.operation(redemption_key(redemption_id))
            if used is None:
                raise NotFound(f"No coupon redemption {redemption_id}.")
            now = self._clock.now()
            if not within_void_window(used.created_at, now):
                raise VoidWindowPassed("A redemption can be voided within 15 minutes of it.")
            coupon = self._store.coupon(str(used.state["member_id"]), str(used.state["coupon_id"]))
            if coupon is None:  # pragma: no cover - a redemption's coupon is never deleted
                raise NotFound(f"No coupon for redemption {redemption_id}.")
            restored = replace(coupon, status=ACTIVE, used_at=None, redemption_id=None)
            answer = CouponVoided(redemption_id, coupon.code, to_rfc3339(now))
            op = Operation(key, fingerprint({}), 200, VOIDED.dump(answer), to_rfc3339(now),
                           {"member_id": coupon.member_id, **({"by": by} if by is not None else {})})
            self._ledger.commit(LedgerWrite(op, [], counter=CounterGuard(used.key, "voided", 0, 1),
                                            records=self._store.void_records(restored, redemption_id)))
            return answer

        return run_once(self._ledger, self._retry, key, fingerprint({}), attempt, VOIDED)
