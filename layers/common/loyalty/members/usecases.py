"""Membership: signing up under a referrer, reading a member, the referral tree, contact preferences."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from loyalty.ledger.accounts import Account
from loyalty.ledger.assets import BUNDLE, POINTS, STORED_VALUE
from loyalty.ledger.expiry import ExpiryPolicy
from loyalty.members.domain import (
    MAX_LEVELS,
    InvalidClickId,
    LinkTarget,
    Member,
    MemberExists,
    MemberView,
    PartnerBinding,
    ReferralPath,
    ReferralSummary,
    UnknownReferralCode,
    check_profile,
    member_email,
    new_referral_code,
    new_unsubscribe_id,
    normalize_referral_code,
    referral_link,
)
from loyalty.members.store import (
    CodeTaken,
    LeadMatcher,
    LinkResolver,
    MemberStore,
    MemberTaken,
    NoSuchMember,
    SignUpScreen,
    UnsubscribeIdTaken,
)
from loyalty.program.domain import DEFAULT_PROGRAM, ProgramRules
from loyalty.shared.clock import Clock, to_rfc3339
from loyalty.shared.errors import NotFound
from loyalty.shared.once import Contention, RetryPolicy

DIRECT_REFERRALS_SHOWN = 100


class MembershipService:
    def __init__(self, store: MemberStore, clock: Clock, link_base: str, retry: RetryPolicy | None = None,
                 queued: Callable[[Account], Mapping[str, int]] | None = None,
                 links: LinkResolver | None = None, screen: SignUpScreen | None = None,
                 welcome: Callable[[str, bool], None] | None = None,
                 bundles: Callable[[Account], Sequence[Any]] | None = None,
                 currency: Callable[[], str] | None = None,
                 standing: Callable[[str, ProgramRules | None], Any] | None = None,
                 expiry: Callable[[], ExpiryPolicy | None] | None = None,
                 leads: LeadMatcher | None = None) -> None:
        self._store = store
        self._leads = leads  # None: no leads (docs/leads.md); else a sign-up without a code may convert one
        self._expiry = expiry  # the programme's expiry rule, read only for an account with points to date or dated
        self._standing = standing  # tiers: the member's tier and statuses (tiers.usecases.standing_view)
        self._welcome = welcome  # after a sign-up: the automatic coupons (member id, referred); best effort
        self._currency = currency  # the programme's, read only for a member who holds stored value
        self._screen = screen  # None: sign-ups are not screened (docs/screening.md)
        self._links = links  # link codes (partners' and members' links); None: members' referral codes only
        self._clock = clock
        self._link_base = link_base
        self._retry = retry or RetryPolicy()
        self._queued = queued  # per asset, what the holder's queue holds (ledger.deferred)
        self._bundles = bundles  # the bundle cards an account holds (bundles.usecases.held), read when shown

    def sign_up(self, *, member_id: str, email: str | None, display_name: str, locale: str, marketing_opt_in: bool,
                birthday: str | None, referral_code: str | None, time_zone: str | None = None,
                requested_email: str | None = None, phone_number: str | None = None,
                requested_phone: str | None = None, click_id: str | None = None, device_id: str | None = None,
                payment_fingerprint: str | None = None) -> MemberView:
        """Make the caller a member; the referrer (if any) is fixed here, once, and never changes.

        ``email`` and ``phone_number`` are the ones the identity provider verified (None: none verified);
        ``requested_email`` is what the request said, which must be that verified address. ``requested_phone``
        (E.164), the member's own, is their phone; without one, the verified one is. A birthday given
        here settles like a changed one (no greeting in its first days), so a sign-up cannot order a
        birthday email for today.

        ``referral_code`` is a member's referral code or a link's code (a member's link: that member is the referrer;
        a partner's: the member is bound to the partner, once, with its terms of now). ``click_id``, the signed id
        the link's landing page gave, names the link when no code is given (the app carries it from the landing
        page); a forged one is refused (``422 invalid-click-id``).

        ``device_id`` and ``payment_fingerprint`` (optional) are screening signals: with the email and phone, they
        screen the credits the member's purchases will make (docs/screening.md); only keyed hashes are kept.
        """
        email = member_email(email, requested_email)
        check_profile(birthday, time_zone, self._clock.now())
        drawn: list[str] = []  # the codes this sign-up tried: its own earlier write is recognised by them

        def attempt() -> MemberView:
            existing = self._store.members([member_id]).get(member_id)
            if existing is not None:
                if existing.referral_code in drawn:  # our write landed although we did not hear back
                    return self._view(existing, Account(member_id), {})
                raise MemberExists(f"{member_id} is already a member.")
            now = self._clock.now()
            joined_at = to_rfc3339(now)
            path, partner, target = self._referral(referral_code, click_id, now)
            # Leads (docs/leads.md): without a code or a link, the verified email or phone (never the requested
            # phone, which nobody verified) may match a friend a member listed: one read of the contacts' claims.
            lead = self._leads.match(email, phone_number) if (
                self._leads is not None and referral_code is None and click_id is None) else None
            if lead is not None:
                path = self._below(lead.submitter, lead.lead_id)
            phone = requested_phone or phone_number
            screening = self._screen.sign_up_verdicts(
                member_id=member_id, ancestors=path.ancestors, partner=partner.holder if partner else None,
                code=target.code if target else None, email=email, phone=phone, device_id=device_id,
                card=payment_fingerprint, partner_email=target.partner_email if target else None,
            ) if self._screen is not None else {}
            member = Member(
                member_id=member_id, email=email, display_name=display_name, referral_code=new_referral_code(),
                path=path, joined_at=joined_at, locale=locale, marketing_opt_in=marketing_opt_in,
                birthday=birthday, time_zone=time_zone, birthday_changed_at=joined_at if birthday else None,
                phone_number=phone,
                unsubscribe_id=new_unsubscribe_id(), opted_in_at=joined_at if marketing_opt_in else None,
                partner=partner, screening=screening, lead_id=lead.lead_id if lead is not None else None,
            )
            drawn.append(member.referral_code)
            try:
                if lead is not None and self._leads is not None:  # converted in the sign-up's own transaction, once
                    self._store.create_member(member, self._leads.converting(lead, member_id, now))
                else:
                    self._store.create_member(member)
            except (MemberTaken, CodeTaken, UnsubscribeIdTaken):
                # Taken by whom? Read again: our own earlier try, another sign-up, or (a code, an unsubscribe id)
                # draw again.
                raise Contention(member_id) from None
            if self._screen is not None:  # after the write: later sign-ups and purchases sharing them see it
                self._screen.remember(member_id=member_id, tag=path.referrer_id or (partner.holder if partner else ""),
                                      email=email, phone=phone, device_id=device_id, card=payment_fingerprint,
                                      code=target.code if target else None)
            if self._welcome is not None:  # after the write, exactly once by its own ids; never fails the sign-up
                self._welcome(member_id, path.referrer_id is not None or partner is not None)
            return self._view(member, Account(member_id), {})  # a new member: nothing queued yet

        return self._retry.run(attempt)

    def _referral(self, referral_code: str | None, click_id: str | None,
                  now: datetime) -> tuple[ReferralPath, PartnerBinding | None, LinkTarget | None]:
        """Where a new member goes: below the referrer a code names, or bound to the partner a link names; and what
        the code named (screening counts sign-ups per code)."""
        clicked = None
        if click_id is not None:
            clicked = self._links.code_of_click(click_id) if self._links is not None else None
            if clicked is None:
                raise InvalidClickId("This click id was not issued by the shop's links (a link's landing page gives "
                                     "one), or is more than 30 days old; sign up without it, or with the link's code.")
        text = referral_code if referral_code is not None else clicked
        if text is None:
            return ReferralPath(), None, None
        code = normalize_referral_code(text)
        if code is not None:  # a member's own referral code (the 8 characters every member has)
            path = self._below(self._store.member_id_for_code(code), text)
            return path, None, LinkTarget(code, member_id=path.referrer_id)
        target = self._links.target(text) if self._links is not None else None
        if target is None:
            raise UnknownReferralCode(f"No member or link has the code {text!r}.")
        if target.member_id is not None:
            return self._below(target.member_id, text), None, target
        if target.partner_id is None:
            raise UnknownReferralCode(f"No member or link has the code {text!r}.")
        ends = now + timedelta(days=target.attribution_days)
        return ReferralPath(), PartnerBinding(
            partner_id=target.partner_id, bound_at=to_rfc3339(now), commission_bps=target.commission_bps,
            attribution_ends_at=to_rfc3339(ends), code=target.code, campaign=target.campaign, sub_id=target.sub_id,
            click_id=click_id if clicked == target.code else None), target

    def _below(self, referrer_id: str | None, text: str) -> ReferralPath:
        referrer = self._store.members([referrer_id]).get(referrer_id) if referrer_id else None
        if referrer is None:
            raise UnknownReferralCode(f"No member has the referral code {text!r}.")
        return ReferralPath.below(referrer.member_id, referrer.path)

    def update_preferences(self, member_id: str, changes: dict[str, Any]) -> Member:
        """Change what the member allows and how to reach them: consent, notices, locale, time zone, birthday.

        A changed birthday is remembered with the time of the change, so a fresh change cannot
        trigger a birthday greeting at once.
        """
        member = self.get(member_id).member
        now = self._clock.now()
        fields: dict[str, Any] = {}
        check_profile(changes.get("birthday"), changes.get("time_zone"), now)
        for name in ("locale", "time_zone", "notices", "marketing_opt_in"):
            if name in changes and changes[name] is not None:
                fields[name] = changes[name]
        if changes.get("marketing_opt_in") and not member.marketing_opt_in:
            fields["opted_in_at"] = to_rfc3339(now)  # a new opt-in: links sent under an earlier one stop working
        if changes.get("birthday") and changes["birthday"] != member.birthday:
            fields.update(birthday=changes["birthday"], birthday_changed_at=to_rfc3339(now))
        if fields:
            try:
                self._retry.run(lambda: self._store.update_member(member_id, fields))  # a SET: safe to repeat
            except NoSuchMember:
                raise NotFound(f"No member {member_id}.") from None
        return self.get(member_id).member

    def update_profile(self, member_id: str, changes: dict[str, Any]) -> MemberView:
        """Change what the member may edit of their profile: ``display_name`` and ``phone`` (E.164; None removes
        it). Fields not in ``changes`` stay; a new display name shows in the referral trees above the member."""
        member = self.get(member_id).member
        fields: dict[str, Any] = {}
        if changes.get("display_name") is not None and changes["display_name"] != member.display_name:
            fields["display_name"] = changes["display_name"]
        if "phone" in changes and changes["phone"] != member.phone_number:
            fields["phone_number"] = changes["phone"]
        if fields:
            def write() -> None:  # re-read each try: the edges to rename follow the member as stored
                current = self._store.members([member_id]).get(member_id)
                if current is None:
                    raise NotFound(f"No member {member_id}.")
                self._store.update_profile(current, fields)
            try:
                self._retry.run(write)  # a SET: safe to repeat
            except NoSuchMember:
                raise NotFound(f"No member {member_id}.") from None
        return self.get(member_id, queued=True)

    def views(self, member_ids: list[str]) -> list[MemberView]:
        """The members of these ids that exist, with their balances, in the order given (one read)."""
        if not member_ids:
            return []
        members, accounts = self._retry.run(lambda: self._store.members_with_accounts(member_ids))
        return [self._view(members[m], accounts[m]) for m in dict.fromkeys(member_ids) if m in members]

    def get(self, member_id: str, *, queued: bool = False) -> MemberView:
        """The member and their balances; with ``queued``, also what their queue holds (one Query per lane)."""
        standing = self._standing if queued else None  # a member read: tiers and statuses (docs/earning-tiers.md)
        members, accounts, rules = self._retry.run(lambda: self._store.member_read(member_id)) if standing else (
            *self._retry.run(lambda: self._store.members_with_accounts([member_id])), None)
        member = members.get(member_id)
        if member is None:
            raise NotFound(f"No member {member_id}.")
        account, look_up = accounts[member_id], self._queued
        found = self._retry.run(lambda: look_up(account)) if queued and look_up is not None else None
        view = self._view(member, account, found, rules.expiry_policy() if rules is not None else None)
        return replace(view, standing=standing(member_id, rules)) if standing is not None else view

    def _view(self, member: Member, account: Account, queued: Mapping[str, int] | None = None,
              expiry: ExpiryPolicy | None = None) -> MemberView:
        """``queued``: what the member's queue holds, per asset (None: not looked up); ``expiry``: the programme's
        rule where it was read with the member (else read only if the account has points to date)."""
        now = self._clock.now()
        points = account.view(POINTS.name, now, expiry or self._expiry)
        if queued is not None:
            points = replace(points, queued=queued.get(POINTS.name, 0))
        balances = {POINTS.name: points}
        currency = None
        if STORED_VALUE.name in account.balances:  # a member who has ever topped up (docs/wallet.md)
            balances[STORED_VALUE.name] = account.view(STORED_VALUE.name, now)
            currency = self._currency or (lambda: DEFAULT_PROGRAM.currency)
        look_up, cards = self._bundles, None
        if look_up is not None and any(name.partition(":")[0] == BUNDLE.name for name in account.balances):
            def cards() -> Sequence[Any]:  # read only when a member read shows them; no card: no read
                return look_up(account)
        return MemberView(member, referral_link(self._link_base, member.referral_code), balances,
                          currency_of=currency, bundles=cards)

    def referrals(self, member_id: str) -> ReferralSummary:
        view = self.get(member_id)
        counts = self._retry.run(lambda: self._store.referee_counts(member_id))
        return ReferralSummary(
            member=view.member,
            referral_link=view.referral_link,
            levels={level: counts[level] for level in range(1, MAX_LEVELS + 1) if counts.get(level)},
            direct=self._retry.run(lambda: self._store.referees(member_id, level=1, limit=DIRECT_REFERRALS_SHOWN)),
            points_from_referrals=view.balances[POINTS.name].from_referrals,
        )
