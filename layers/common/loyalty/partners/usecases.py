"""Partners and referral links: creating partners and links (each exactly once), resolving a code, and the
landing page's click.

``resolve`` and ``check_click_id`` are what sign-up and commission use: a code as a person typed or scanned it
names its owner (a partner, with its terms, or a member), and a click id names the code it was issued for.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from loyalty.partners.domain import (
    CLICK_DAYS,
    MEMBER,
    PARTNER,
    ClickId,
    Landing,
    Link,
    LinkSettings,
    Offer,
    Owner,
    Partner,
    ResolvedLink,
    Secret,
    canonical,
    is_link_code,
    is_member_code,
    local_day,
    new_link_code,
    read_click_id,
    visitor_of,
)
from loyalty.partners.store import Click, CodeTaken, PartnerStore, StoredLink
from loyalty.shared.clock import Clock, to_rfc3339
from loyalty.shared.errors import Busy, NotFound
from loyalty.shared.once import Contention, Operation, Outcome, ResultCodec, RetryPolicy, fingerprint, run_once

PARTNERS = ResultCodec(Partner)
LINKS = ResultCodec(Link)
REFERRAL_CODE_LINK = "referral-code"  # the link id a member's own 8-character referral code counts under
SEEN_FOR = timedelta(days=2)  # a visitor's mark of a day outlives the day (in any time zone), then expires


class PartnerService:
    def __init__(self, store: PartnerStore, clock: Clock, secret: Secret, *, link_base: str, time_zone: str,
                 default_locale: str, member_exists: Callable[[str], bool],
                 member_for_code: Callable[[str], str | None], offer: Callable[[], Offer],
                 retry: RetryPolicy | None = None) -> None:
        self._store = store
        self._clock = clock
        self._secret = secret
        self._link_base = link_base.rstrip("/")
        self._time_zone = time_zone
        self._default_locale = default_locale
        self._member_exists = member_exists  # whether a member id is a member's
        self._member_for_code = member_for_code  # the member whose 8-character referral code this is
        self._offer = offer  # what the current programme gives
        self._retry = retry or RetryPolicy()

    # --- partners ----------------------------------------------------------------------------------

    def create_partner(self, *, partner_id: str, name: str, email: str, commission_bps: int,
                       attribution_days: int) -> Outcome[Partner]:
        """A new partner, exactly once by ``partner_id``."""
        key = f"partner/{partner_id}"
        request = {"partner_id": partner_id, "name": name, "email": email, "commission_bps": commission_bps,
                   "attribution_days": attribution_days}

        def attempt() -> Partner:
            now = to_rfc3339(self._clock.now())
            partner = Partner(partner_id, name, email, commission_bps, attribution_days, created_at=now)
            self._store.create_partner(Operation(key, fingerprint(request), 201, PARTNERS.dump(partner), now),
                                       partner)
            return partner

        return run_once(self._store, self._retry, key, fingerprint(request), attempt, PARTNERS)

    def partner(self, partner_id: str) -> Partner:
        found = self._retry.run(lambda: self._store.partner(partner_id))
        if found is None:
            raise NotFound(f"No partner {partner_id}.")
        return found

    def partners(self) -> list[Partner]:
        return self._retry.run(self._store.partners)

    # --- links -------------------------------------------------------------------------------------

    def create_link(self, owner: Owner, *, link_id: str, campaign: str | None, sub_id: str | None,
                    locale: str | None = None) -> Outcome[Link]:
        """A new link of ``owner`` (a partner or a member, who must exist), exactly once by (owner, ``link_id``)."""
        key = f"link/{owner.type}/{owner.id}/{link_id}"
        request = {"owner": [owner.type, owner.id], "link_id": link_id, "campaign": campaign, "sub_id": sub_id}

        def attempt() -> Link:
            self._check_owner(owner)
            now = to_rfc3339(self._clock.now())
            stored = StoredLink(new_link_code(self._secret()), link_id, owner, campaign, sub_id, now)
            link = self._link(stored, self._settings(), locale)
            try:
                self._store.create_link(Operation(key, fingerprint(request), 201, LINKS.dump(link), now), stored)
            except CodeTaken:
                raise Contention(key) from None  # draw another code
            return link

        return run_once(self._store, self._retry, key, fingerprint(request), attempt, LINKS)

    def _check_owner(self, owner: Owner) -> None:
        if owner.type == PARTNER and self._store.partner(owner.id) is None:
            raise NotFound(f"No partner {owner.id}: an admin creates it first (POST /v1/partners).")
        if owner.type == MEMBER and not self._member_exists(owner.id):
            raise NotFound(f"{owner.id} is not a member yet: sign up first (POST /v1/members).")

    def links(self, owner: Owner, locale: str | None = None) -> list[Link]:
        """The owner's links, by link id."""
        stored = self._retry.run(lambda: self._store.links(owner))
        settings = self._settings()
        return [self._link(s, settings, locale) for s in stored]

    def _link(self, stored: StoredLink, settings: LinkSettings, locale: str | None) -> Link:
        url = f"{self._link_base}/r/{stored.code}"
        texts = {lang: settings.disclosure(stored.owner.type, lang) for lang in
                 dict.fromkeys([*settings.disclosures.get(stored.owner.type, {}), "en", "zh-CN"])}
        return Link(code=stored.code, link_id=stored.link_id, owner=stored.owner, campaign=stored.campaign,
                    sub_id=stored.sub_id, created_at=stored.created_at, url=url, qr_svg=f"{url}/qr.svg",
                    qr_png=f"{url}/qr.png",
                    disclosure=settings.disclosure(stored.owner.type, locale or self._default_locale),
                    disclosures=texts)

    # --- settings ----------------------------------------------------------------------------------

    def _settings(self) -> LinkSettings:
        return self._retry.run(self._store.settings) or LinkSettings()

    def settings(self) -> LinkSettings:
        """The disclosures in force: the admin's, else the defaults."""
        return self._settings()

    def save_settings(self, settings: LinkSettings) -> LinkSettings:
        """Replace the disclosures (each owner type keeps the defaults' locales the new ones leave out)."""
        merged = LinkSettings({kind: {**LinkSettings().disclosures[kind], **settings.disclosures.get(kind, {})}
                               for kind in (PARTNER, MEMBER)})
        self._retry.run(lambda: self._store.save_settings(merged))
        return merged

    # --- resolving codes ---------------------------------------------------------------------------

    def resolve(self, code: str) -> ResolvedLink | None:
        """What a code (typed, scanned or in a link; any case, spaces and dashes ignored) stands for.

        None if it is malformed, mistyped or forged (decided without a look-up) or if nobody has it. A member's
        8-character referral code is looked up as it always was; it names the member."""
        found = self._find(code)
        return found[0] if found else None

    def _find(self, code: str) -> tuple[ResolvedLink, StoredLink] | None:
        text = canonical(code)
        if is_member_code(text):
            member_id = self._retry.run(lambda: self._member_for_code(text))
            if member_id is None:
                return None
            # A member's referral code is a link of theirs too (its clicks are counted under it).
            return (ResolvedLink(text, MEMBER, member_id, None, None, None),
                    StoredLink(text, REFERRAL_CODE_LINK, Owner(MEMBER, member_id), None, None, ""))
        if not is_link_code(text, self._secret()):
            return None
        stored = self._retry.run(lambda: self._store.link(text))
        if stored is None:
            return None
        partner = self._retry.run(lambda: self._store.partner(stored.owner.id)) if stored.owner.type == PARTNER \
            else None
        return ResolvedLink(stored.code, stored.owner.type, stored.owner.id, stored.campaign, stored.sub_id,
                            partner), stored

    def check_click_id(self, click_id: str) -> str | None:
        """The code the signed click id was issued for, or None if it is malformed, forged, or older than
        ``CLICK_DAYS`` (a click that old no longer brings a sign-up, as the cookie that carried it has expired)."""
        click = read_click_id(click_id, self._secret())
        if click is None or (local_day(self._clock.now(), self._time_zone) - click.day).days > CLICK_DAYS:
            return None
        return click.code

    # --- the landing page ---------------------------------------------------------------------------

    def land(self, code: str, *, cookie: str | None, source_ip: str, user_agent: str, locale: str) -> Landing | None:
        """A visit to a link's landing page: the link (None: forged or unknown, nothing counted) and the click,
        counted once, and once more as unique if it is the visitor's first today on this link. The visitor is
        the one the click cookie names when it comes back (valid), else a keyed hash of address and user agent;
        neither the address nor the user agent is stored."""
        found = self._find(code)
        if found is None:
            return None
        link, stored = found
        secret, now = self._secret(), self._clock.now()
        day = local_day(now, self._time_zone)
        returning = read_click_id(cookie, secret) if cookie else None
        visitor = returning.visitor if returning else visitor_of(day, source_ip, user_agent, secret)
        click = Click(stored, day, visitor, forget_after=int((now + SEEN_FOR).timestamp()))
        try:
            # Two steps, each retried on its own, so retrying the count never marks twice. A mark whose answer was
            # lost (and so retried) counts as a repeat: an undercount by one, never a visitor counted twice.
            unique = self._retry.run(lambda: self._store.mark_visitor(click))
            self._retry.run(lambda: self._store.add_click(click, unique=unique))
        except Busy:
            unique = False  # the page matters more than its count: answer it uncounted
        return Landing(link=link, click_id=ClickId(link.code, day, visitor).signed(secret),
                       offer=self._offer(), disclosure=self._settings().disclosure(link.owner_type, locale),
                       locale=locale, unique=unique)

    def landing_of(self, code: str) -> ResolvedLink:
        """The link a QR code is drawn for (``NotFound`` if forged or unknown)."""
        link = self.resolve(code)
        if link is None:
            raise NotFound("No such link.")
        return link

    def url(self, code: str) -> str:
        return f"{self._link_base}/r/{code}"

