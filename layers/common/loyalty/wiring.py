"""The composition root: the one place that builds AWS clients, the stores, the clock and the use cases.

Handlers call ``services()`` (members, programme, purchases, redemptions, adjustments, ledger reads),
``metrics()`` (the dashboard's figures), ``outreach()``, ``anchoring()`` or ``cognito_users()`` (the pre-token
trigger); each is built once per container (on first use, not at import, to keep cold starts short) and cached.
The local server and tests swap the clock through ``configure``, which also drops what was built so it is rebuilt
on next use.

Importing this module imports no use case, store or AWS SDK: a function's cold start pays for its own
routes and models only; boto3 (and X-Ray's patching of botocore) arrives with the first client.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from loyalty.shared.clock import Clock, SystemClock
from loyalty.shared.observability import patch_aws_sdk
from loyalty.shared.settings import Settings

if TYPE_CHECKING:
    from loyalty.actions.usecases import ActionService
    from loyalty.adjustments.usecases import AdjustmentService
    from loyalty.anchoring.usecases import AnchorService
    from loyalty.bundles.usecases import BundleService
    from loyalty.counter.usecases import CounterService
    from loyalty.coupons.usecases import CouponService
    from loyalty.feedback.usecases import FeedbackService
    from loyalty.leads.usecases import LeadService
    from loyalty.ledger.usecases import DeferredPoster, LedgerService
    from loyalty.members.domain import LinkTarget
    from loyalty.members.usecases import MembershipService
    from loyalty.metrics.usecases import Aggregator, MetricsService
    from loyalty.outreach.admin import OutreachAdmin
    from loyalty.outreach.content import Composer
    from loyalty.outreach.planning import OutreachPlanner
    from loyalty.outreach.sending import OutreachSender
    from loyalty.partners.commission import CommissionService
    from loyalty.partners.report import ReportService
    from loyalty.partners.usecases import PartnerService
    from loyalty.program.usecases import ProgramService
    from loyalty.purchases.usecases import PurchaseService
    from loyalty.redemptions.usecases import RedemptionService
    from loyalty.rewards.usecases import RewardService
    from loyalty.screening.usecases import ReviewService, Screener
    from loyalty.segments.usecases import SegmentService
    from loyalty.shared.once import RetryPolicy
    from loyalty.shared.settings import Tables
    from loyalty.simulations.usecases import SimulationService
    from loyalty.surprises.usecases import SurpriseService
    from loyalty.tiers.usecases import TierService
    from loyalty.wallet.usecases import WalletService


@dataclass(frozen=True)
class Services:
    settings: Settings
    clock: Clock
    members: MembershipService
    program: ProgramService
    purchases: PurchaseService
    redemptions: RedemptionService
    adjustments: AdjustmentService
    ledger: LedgerService
    counter: CounterService


@dataclass(frozen=True)
class Outreach:
    planner: OutreachPlanner
    sender: OutreachSender
    content: Composer
    admin: OutreachAdmin


@dataclass(frozen=True)
class Figures:
    """The dashboard's figures: kept by the aggregator (from the streams of ``tables``), read by the service."""

    service: MetricsService
    aggregator: Aggregator
    tables: Tables


_clock: Clock = SystemClock()


def client(service: str, *, attempts: int = 2) -> Any:
    """An AWS client with one quick retry of its own and timeouts short enough for an API call.

    Retrying further is the use cases' job: they re-read before they write again, back off with
    jitter and stop within a time budget (``RetryPolicy``), which botocore's retries cannot know.
    With tracing on, botocore is patched for X-Ray here, before the first client (and so the first call).
    """
    patch_aws_sdk()
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": attempts}, connect_timeout=2, read_timeout=4)
    return boto3.client(service, config=config)


class _Links:
    """Sign-up's view of links (``members.store.LinkResolver``) over the partners feature, built on first use (a
    sign-up without a link code reads no link)."""

    def __init__(self, service: Callable[[], PartnerService]) -> None:
        self._service = service

    def target(self, code: str) -> LinkTarget | None:
        from loyalty.members.domain import LinkTarget

        found = self._service().resolve(code)
        if found is None:
            return None
        if found.owner_type == "member":
            return LinkTarget(found.code, member_id=found.owner_id)
        if found.partner is None:  # a partner's link whose partner is gone: no link to sign up through
            return None
        return LinkTarget(found.code, partner_id=found.partner.partner_id, commission_bps=found.partner.commission_bps,
                          attribution_days=found.partner.attribution_days, campaign=found.campaign,
                          sub_id=found.sub_id, partner_email=found.partner.email)

    def code_of_click(self, click_id: str) -> str | None:
        return self._service().check_click_id(click_id)


def build(settings: Settings, clock: Clock, dynamodb: Any, *,
          retry: Callable[[], RetryPolicy] | None = None, secret: Callable[[], bytes] | None = None,
          links: Callable[[], PartnerService] | None = None,
          screening_key: Callable[[], bytes] | None = None) -> Services:
    """The use cases over one DynamoDB client (``retry`` makes each use case's retry policy; by default
    ``RetryPolicy()``; ``secret`` gives the member codes' key, by default the secret ``MEMBER_CODE_SECRET_ID``
    names, read on first use; ``links`` gives the partners feature that resolves link codes at sign-up, by
    default ``partners()``; ``screening_key`` keys screening's signals, by default derived from the links' key)."""
    from loyalty.adjustments.usecases import AdjustmentService
    from loyalty.counter.usecases import CounterService
    from loyalty.ledger.dynamodb import DynamoLedgerStore
    from loyalty.ledger.usecases import LedgerService
    from loyalty.members.dynamodb import DynamoMemberStore
    from loyalty.members.usecases import MembershipService
    from loyalty.program.dynamodb import DynamoProgramStore
    from loyalty.program.usecases import ProgramService
    from loyalty.purchases.dynamodb import DynamoPurchaseStore
    from loyalty.purchases.usecases import PurchaseService
    from loyalty.redemptions.usecases import RedemptionService
    from loyalty.shared.dynamo import Dynamo
    from loyalty.shared.once import RetryPolicy

    retry = retry or RetryPolicy
    db, tables = Dynamo(dynamodb), settings.tables
    members = DynamoMemberStore(db, tables)
    ledger = DynamoLedgerStore(db, tables, settings.queue_read_threads, expiry=expiry_rule(db, settings))
    screen = build_screener(settings, clock, dynamodb, screening_key or _screening_key) \
        if settings.screening_table else None
    def bundles_held(account: Any) -> Sequence[Any]:  # a member's cards, read only when their account has some
        from loyalty.bundles.dynamodb import DynamoBundleStore
        from loyalty.bundles.usecases import held

        return held(DynamoBundleStore(db, settings.wallet_table), account, retry())

    wallet = _Wallet(settings, clock, dynamodb) if settings.wallet_table else None
    program = ProgramService(DynamoProgramStore(db, tables.program), retry(), clock)
    standings, standing_of = _standings(settings, db, program, clock, retry)  # tiers: docs/earning-tiers.md
    membership = MembershipService(members, clock, settings.referral_link_base, retry(),
                                   queued=lambda account: ledger.queued(account.holder, settings.credit_spread),
                                   links=_Links(links or partners), screen=screen, bundles=bundles_held,
                                   welcome=wallet.welcome if wallet is not None else None,
                                   currency=lambda: program.current().currency, standing=standing_of,
                                   expiry=ledger.expiry, leads=_lead_matcher(settings, db))
    counter = CounterService(members, membership, clock, secret or _member_code_key,
                             settings.program_time_zone, retry())
    return Services(
        settings=settings,
        clock=clock,
        members=membership,
        program=program,
        purchases=PurchaseService(DynamoPurchaseStore(db, tables, settings.program_cache_seconds,
                                                      earning_table=settings.earning_table), ledger, clock,
                                  retry(), settings.credit_spread, screen=screen,
                                  surprises=_SurprisesOnce(settings, clock, dynamodb) if settings.earning_table
                                  else None, standings=standings, leads=_lead_awards(settings, db)),
        redemptions=RedemptionService(members, ledger, clock, retry(), present=counter.check_present,
                                      catalogue=wallet.catalogue if wallet is not None else None),
        adjustments=AdjustmentService(members, ledger, clock, retry()),
        ledger=LedgerService(ledger, retry()),
        counter=counter,
    )


def _lead_matcher(settings: Settings, db: Any) -> Any:
    """Leads (docs/leads.md) as sign-up sees them: the claims of the new member's verified contacts (None without a
    Leads table)."""
    if not settings.leads_table:
        return None
    from loyalty.leads.dynamodb import DynamoLeadStore
    from loyalty.leads.usecases import LeadMatcher

    return LeadMatcher(DynamoLeadStore(db, settings.leads_table))


def _lead_awards(settings: Settings, db: Any) -> Any:
    """A converted lead's ``lead_converted`` action at the new member's first purchase (docs/leads.md): the member's
    award marker on their profile, the submitter's action counters in the Earning table."""
    if not (settings.leads_table and settings.earning_table):
        return None
    from loyalty.actions.dynamodb import DynamoActionStore
    from loyalty.leads.dynamodb import award_marker
    from loyalty.leads.usecases import LeadAwards
    from loyalty.shared.once import Contention

    return LeadAwards(lambda member_id: award_marker(settings.tables.members, member_id, Contention(
        f"{member_id}'s first purchase raced with another")), DynamoActionStore(db, settings.earning_table))


class _SurprisesOnce:
    """Surprises (``loyalty.surprises``) for purchases, built on the first purchase of a programme that has them (a
    plain programme's purchase never imports them)."""

    def __init__(self, settings: Settings, clock: Clock, dynamodb: Any) -> None:
        self._settings, self._clock, self._dynamodb = settings, clock, dynamodb
        self._built: SurpriseService | None = None

    def __call__(self) -> SurpriseService:
        if self._built is None:
            self._built = build_surprises(self._settings, self._clock, self._dynamodb)
        return self._built


def build_surprises(settings: Settings, clock: Clock, dynamodb: Any) -> SurpriseService:
    """Surprises over the Earning table; the master secret (``SURPRISE_SECRET_ID``) read once per container, on first
    use; the programme read as purchases read it."""
    from loyalty.program.dynamodb import DynamoProgramStore
    from loyalty.program.usecases import ProgramService
    from loyalty.shared.dynamo import Dynamo
    from loyalty.surprises.dynamodb import DynamoSurpriseStore
    from loyalty.surprises.usecases import SurpriseService

    db = Dynamo(dynamodb)
    program = ProgramService(DynamoProgramStore(db, settings.tables.program))
    return SurpriseService(DynamoSurpriseStore(db, settings.earning_table), lambda: _surprise_master(), clock,
                           program.current)


@cache
def _surprise_secret() -> Callable[[], bytes]:
    """The master the surprise days' secrets derive from: a Secrets Manager secret of its own
    (``SURPRISE_SECRET_ID``), read once per container, on first use."""
    from loyalty.outreach.messaging import Secret

    return Secret(client("secretsmanager"), settings().surprise_secret_id)


def _surprise_master() -> bytes:
    return _surprise_secret()()


@cache
def surprises() -> SurpriseService:
    """Surprises' commitments and reveals (``loyalty.surprises``) over the Earning table."""
    return build_surprises(settings(), _clock, _dynamodb())


def _standings(settings: Settings, db: Any, program: ProgramService, clock: Clock,
               retry: Callable[[], RetryPolicy]) -> tuple[Any, Callable[[str, Any], Any] | None]:
    """Tiers and statuses (``loyalty.tiers``) as purchases and member reads use them: what a purchase and a refund
    write to standings, and a member's tier and statuses (the standing read only under a programme with tiers or
    statuses). Both None without an Earning table."""
    if not settings.earning_table:
        return None, None
    from loyalty.program.domain import DEFAULT_PROGRAM
    from loyalty.tiers.dynamodb import DynamoStandingStore
    from loyalty.tiers.usecases import StandingWrites, standing_view

    store, again = DynamoStandingStore(db, settings.earning_table), retry()

    def standing_of(member_id: str, rules: Any) -> Any:  # rules: read with the member (None: the defaults)
        return standing_view(rules or DEFAULT_PROGRAM, store, again, member_id, clock.now())

    return StandingWrites(settings.earning_table, store, program.current), standing_of


@cache
def tiers() -> TierService:
    """The admin's tiers and statuses (``loyalty.tiers``): a programme version; a member's standing."""
    from loyalty.shared.dynamo import Dynamo
    from loyalty.tiers.dynamodb import DynamoStandingStore
    from loyalty.tiers.usecases import TierService

    found = services()
    return TierService(found.program, DynamoStandingStore(Dynamo(_dynamodb()), found.settings.earning_table), _clock)


class _Wallet:
    """Coupons and the rewards catalogue over the Wallet table, built on first use: a sign-up on a fresh install
    imports them only to find no automatic coupon; a redemption by points never builds them."""

    def __init__(self, settings: Settings, clock: Clock, dynamodb: Any) -> None:
        self._settings, self._clock, self._dynamodb = settings, clock, dynamodb

    @property
    def coupons(self) -> CouponService:
        return self._built()[0]

    def welcome(self, member_id: str, referred: bool) -> None:
        self.coupons.welcome(member_id, referred=referred)

    def catalogue(self) -> RewardService:
        return self._built()[1]

    def _built(self) -> tuple[CouponService, RewardService]:
        found: tuple[CouponService, RewardService] | None = getattr(self, "_services", None)
        if found is None:
            found = self._services = build_wallet(self._settings, self._clock, self._dynamodb)
        return found


def build_wallet(settings: Settings, clock: Clock, dynamodb: Any) -> tuple[CouponService, RewardService]:
    """Coupons and rewards over one DynamoDB client (the Wallet table, members, the ledger)."""
    from loyalty.coupons.dynamodb import DynamoCouponStore
    from loyalty.coupons.usecases import CouponService
    from loyalty.ledger.dynamodb import DynamoLedgerStore
    from loyalty.members.dynamodb import DynamoMemberStore
    from loyalty.rewards.dynamodb import DynamoRewardStore
    from loyalty.rewards.usecases import RewardService
    from loyalty.shared.dynamo import Dynamo

    db = Dynamo(dynamodb)
    members = DynamoMemberStore(db, settings.tables)
    ledger = DynamoLedgerStore(db, settings.tables, settings.queue_read_threads)
    coupons = CouponService(DynamoCouponStore(db, settings.wallet_table, settings.tables.members), ledger, clock,
                            member_exists=lambda member_id: bool(members.members([member_id])),
                            time_zone=settings.program_time_zone, cache_seconds=settings.program_cache_seconds)
    return coupons, RewardService(DynamoRewardStore(db, settings.wallet_table), coupons)


@cache
def coupons() -> CouponService:
    """Coupons (``loyalty.coupons``) over the Wallet table ``WALLET_TABLE``."""
    return build_wallet(settings(), _clock, _dynamodb())[0]


@cache
def rewards() -> RewardService:
    """The rewards catalogue (``loyalty.rewards``) over the Wallet table."""
    return build_wallet(settings(), _clock, _dynamodb())[1]


@cache
def _member_code_secret() -> Callable[[], bytes]:
    """The member codes' key: a Secrets Manager secret of its own (not the unsubscribe links': a function that
    checks member codes cannot forge unsubscribe links), read once per container, on first use."""
    from loyalty.outreach.messaging import Secret

    return Secret(client("secretsmanager"), Settings.from_env().member_code_secret_id)


def _member_code_key() -> bytes:
    return _member_code_secret()()


@cache
def settings() -> Settings:
    """The settings from the environment, read once per container."""
    return Settings.from_env()


@cache
def _link_secret() -> Callable[[], bytes]:
    """Link codes' and click ids' key: a Secrets Manager secret of its own (``LINK_SECRET_ID``), read once per
    container, on first use."""
    from loyalty.outreach.messaging import Secret

    return Secret(client("secretsmanager"), settings().link_secret_id)


def _link_key() -> bytes:
    return _link_secret()()


def build_partners(settings: Settings, clock: Clock, dynamodb: Any, secret: Callable[[], bytes], *,
                   retry: RetryPolicy | None = None) -> PartnerService:
    """Partners and links over one DynamoDB client: the Partners table, members (a member's links, their referral
    codes) and the programme (the landing page's offer)."""
    from loyalty.members.dynamodb import DynamoMemberStore
    from loyalty.partners.domain import Offer
    from loyalty.partners.dynamodb import DynamoPartnerStore
    from loyalty.partners.usecases import PartnerService
    from loyalty.program.dynamodb import DynamoProgramStore
    from loyalty.program.usecases import ProgramService
    from loyalty.shared.dynamo import Dynamo

    db = Dynamo(dynamodb)
    members, program = DynamoMemberStore(db, settings.tables), ProgramService(DynamoProgramStore(
        db, settings.tables.program))

    def offer() -> Offer:
        rules = program.current()
        return Offer(settings.shop_name, rules.points_per_currency_unit, rules.currency)

    return PartnerService(DynamoPartnerStore(db, settings.partners_table), clock, secret,
                          link_base=settings.referral_link_base, time_zone=settings.program_time_zone,
                          default_locale=settings.default_locale,
                          member_exists=lambda member_id: bool(members.members([member_id])),
                          member_for_code=members.member_id_for_code, offer=offer, retry=retry)


@cache
def partners() -> PartnerService:
    """Partners and referral links (``loyalty.partners``) over the Partners table ``PARTNERS_TABLE``."""
    return build_partners(settings(), _clock, _dynamodb(), _link_key)


@cache
def commission() -> CommissionService:
    """Partners' commission chains and payouts (``loyalty.partners.commission``)."""
    from loyalty.ledger.dynamodb import DynamoLedgerStore
    from loyalty.partners.commission import CommissionService
    from loyalty.shared.dynamo import Dynamo
    from loyalty.shared.errors import NotFound

    ledger = DynamoLedgerStore(Dynamo(_dynamodb()), settings().tables, settings().queue_read_threads)

    def exists(partner_id: str) -> bool:
        try:
            partners().partner(partner_id)
        except NotFound:
            return False
        return True

    return CommissionService(ledger, _clock, exists,
                             queued=lambda account: ledger.queued(account.holder, settings().credit_spread))


@cache
def partner_reports() -> ReportService:
    """Partners' reports (``loyalty.partners.report``): the rows in the Partners table, in the programme's days."""
    from zoneinfo import ZoneInfo

    from loyalty.partners.dynamodb import DynamoPartnerStore
    from loyalty.partners.report import ReportService
    from loyalty.shared.dynamo import Dynamo

    db = Dynamo(_dynamodb())
    store = DynamoPartnerStore(db, settings().partners_table)
    outcomes = None
    if settings().screening_table:
        from loyalty.screening.dynamodb import DynamoScreeningStore

        reviews = DynamoScreeningStore(db, settings().screening_table)

        def outcomes(review_ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
            """Held commissions' reviews, as the report resolves them (100 to a read)."""
            return {r: (v.status, v.available_at) for r, v in reviews.reviews_by_id(review_ids).items()}

    return ReportService(store.report_rows, _clock, ZoneInfo(settings().program_time_zone), outcomes=outcomes)


def _screening_key() -> bytes:
    """Screening's key: derived from the links' (one secret for the partners feature; a signal's keyed hash cannot
    be turned back into a link's key, nor a link's key found from it)."""
    import hashlib
    import hmac

    return hmac.new(_link_key(), b"loyalty screening signals", hashlib.sha256).digest()


def expiry_rule(db: Any, settings: Settings) -> Callable[[], Any]:
    """The programme's expiry rule (``ledger.expiry``) as the ledger reads it: only when a write or a read has points to
    date (or dated points to show), one read of the current programme, kept ``PROGRAM_CACHE_SECONDS`` per container as
    purchases keep the programme (the rule takes effect a minute after it is published, longer than that)."""
    import time

    from loyalty.program.dynamodb import DynamoProgramStore
    from loyalty.program.usecases import ProgramService

    program = ProgramService(DynamoProgramStore(db, settings.tables.program))
    kept: list[tuple[float, Any]] = []

    def rule() -> Any:
        moment = time.monotonic()
        if not kept or moment - kept[0][0] >= settings.program_cache_seconds:
            kept[:] = [(moment, program.current().expiry_policy())]
        return kept[0][1]

    return rule


def build_screener(settings: Settings, clock: Clock, dynamodb: Any, key: Callable[[], bytes]) -> Screener:
    from loyalty.screening.dynamodb import DynamoScreeningStore
    from loyalty.screening.usecases import Screener
    from loyalty.shared.dynamo import Dynamo

    return Screener(DynamoScreeningStore(Dynamo(dynamodb), settings.screening_table), key, clock)


@cache
def reviews() -> ReviewService:
    """Reviews of held credits (``loyalty.screening``) over the Screening table and the ledger."""
    from loyalty.ledger.dynamodb import DynamoLedgerStore
    from loyalty.screening.dynamodb import DynamoScreeningStore
    from loyalty.screening.usecases import ReviewService
    from loyalty.shared.dynamo import Dynamo

    db = Dynamo(_dynamodb())
    return ReviewService(DynamoScreeningStore(db, settings().screening_table),
                         DynamoLedgerStore(db, settings().tables, settings().queue_read_threads,
                                           expiry=expiry_rule(db, settings())), _clock,
                         review_days=settings().review_days)


@cache
def wallet() -> WalletService:
    """Stored value (``loyalty.wallet``): its settings in the Wallet table, top-ups and withdrawals on the ledger; a
    withdrawal at the counter checks the member's code as redemptions do."""
    from loyalty.ledger.dynamodb import DynamoLedgerStore
    from loyalty.shared.dynamo import Dynamo
    from loyalty.wallet.dynamodb import DynamoWalletStore
    from loyalty.wallet.usecases import WalletService

    db, found = Dynamo(_dynamodb()), services()
    return WalletService(DynamoWalletStore(db, found.settings.tables, found.settings.wallet_table),
                         DynamoLedgerStore(db, found.settings.tables, expiry=expiry_rule(db, found.settings)),
                         _clock, present=found.counter.check_present)


@cache
def _dynamodb() -> Any:
    return client("dynamodb")


@cache
def services() -> Services:
    return build(Settings.from_env(), _clock, _dynamodb())


@cache
def poster() -> DeferredPoster:
    """The poster of deferred postings (``ledger.deferred``), for the CreditQueue stream's consumer."""
    from loyalty.ledger.dynamodb import DynamoLedgerStore
    from loyalty.ledger.usecases import DeferredPoster
    from loyalty.shared.dynamo import Dynamo

    db, found = Dynamo(_dynamodb()), Settings.from_env()
    return DeferredPoster(DynamoLedgerStore(db, found.tables, expiry=expiry_rule(db, found)), _clock)


@cache
def metrics() -> Figures:
    """The metrics (``loyalty.metrics``) over the Metrics table ``METRICS_TABLE``, in the programme's time zone."""
    from zoneinfo import ZoneInfo

    from loyalty.metrics.dynamodb import DynamoMetricsStore
    from loyalty.metrics.usecases import Aggregator, MetricsService
    from loyalty.shared.dynamo import Dynamo

    settings = Settings.from_env()
    store = DynamoMetricsStore(Dynamo(_dynamodb()), settings.metrics_table, settings.tables, settings.partners_table)
    zone = ZoneInfo(settings.program_time_zone)
    return Figures(MetricsService(store, _clock, zone), Aggregator(store, _clock, zone), settings.tables)


@cache
def outreach() -> Outreach:
    from loyalty.ledger.dynamodb import DynamoLedgerStore
    from loyalty.members.dynamodb import DynamoMemberStore
    from loyalty.outreach.admin import OutreachAdmin
    from loyalty.outreach.config import OutreachConfig, OutreachEnv
    from loyalty.outreach.content import Composer
    from loyalty.outreach.dynamodb import DynamoOutreachStore
    from loyalty.outreach.messaging import Secret, SesMailer, SqsQueue
    from loyalty.outreach.planning import OutreachPlanner
    from loyalty.outreach.sending import OutreachSender
    from loyalty.shared.dynamo import Dynamo

    settings, env = Settings.from_env(), OutreachEnv.from_env()
    db = Dynamo(_dynamodb())
    store = DynamoOutreachStore(db, env.table, settings.tables.members, shards=env.due_shards)
    members = DynamoMemberStore(db, settings.tables)
    ledger = DynamoLedgerStore(db, settings.tables,
                               expiry=expiry_rule(db, settings))
    sqs = client("sqs") if env.send_queue_url or env.fanout_queue_url else None
    secret = Secret(client("secretsmanager"), env.unsubscribe_secret)
    config = OutreachConfig(sender=env.sender, shop_name=env.shop_name, app_link=env.app_link,
                            public_base_url=env.public_base_url.rstrip("/"))
    content = Composer(store, members, ledger, _clock, config, secret)
    # One attempt: a send SES accepted but answered late must not be sent again by botocore; the send
    # log's claim and the queue decide what happens to a send that failed.
    mailer = SesMailer(client("sesv2", attempts=1), client("ses"), env.configuration_set, env.sender_concurrency,
                       env.max_send_rate) if env.configuration_set else None
    return Outreach(
        planner=OutreachPlanner(store, ledger, _clock,
                                send_queue=SqsQueue(sqs, env.send_queue_url) if env.send_queue_url else None,
                                fanout_queue=SqsQueue(sqs, env.fanout_queue_url) if env.fanout_queue_url else None),
        sender=OutreachSender(store, members, ledger, _clock, content, mailer),
        content=content,
        admin=OutreachAdmin(store, members, _clock, secret),
    )


@cache
def cognito_users() -> Callable[[str, str], Any]:
    """Cognito's users, for the pre-token-generation trigger (``loyalty.identity.pretoken``)."""
    from loyalty.identity.cognito import CognitoUsers

    return CognitoUsers(client("cognito-idp"))


@cache
def anchoring() -> AnchorService:
    """The anchor: the ledger's heads, digested into the Object Lock bucket ``ANCHOR_BUCKET``."""
    import os

    from loyalty.anchoring.s3 import S3DigestStore
    from loyalty.anchoring.usecases import AnchorService
    from loyalty.ledger.dynamodb import DynamoLedgerStore
    from loyalty.shared.dynamo import Dynamo

    ledger = DynamoLedgerStore(Dynamo(_dynamodb()), Settings.from_env().tables)
    return AnchorService(ledger, S3DigestStore(client("s3"), os.environ["ANCHOR_BUCKET"]), _clock)


@cache
def bundles() -> BundleService:
    """Bundle cards (``loyalty.bundles``): products and cards in the Wallet table ``WALLET_TABLE``; a sale and a
    refund are the purchases feature's, with the card riding in their transaction."""
    from loyalty.bundles.dynamodb import DynamoBundleStore
    from loyalty.bundles.usecases import BundleService
    from loyalty.ledger.dynamodb import DynamoLedgerStore
    from loyalty.shared.dynamo import Dynamo

    found = services()
    db = Dynamo(_dynamodb())
    return BundleService(DynamoBundleStore(db, found.settings.wallet_table), found.purchases,
                         DynamoLedgerStore(db, found.settings.tables, found.settings.queue_read_threads,
                                           expiry=expiry_rule(db, found.settings)), _clock)


@cache
def actions() -> ActionService:
    """Points for actions and check-ins (``loyalty.actions``): their counters in the Earning table ``EARNING_TABLE``,
    the points on the ledger, the rules from the current programme."""
    from loyalty.actions.dynamodb import DynamoActionStore
    from loyalty.actions.usecases import ActionService
    from loyalty.ledger.dynamodb import DynamoLedgerStore
    from loyalty.members.dynamodb import DynamoMemberStore
    from loyalty.program.dynamodb import DynamoProgramStore
    from loyalty.program.usecases import ProgramService
    from loyalty.shared.dynamo import Dynamo

    found = settings()
    db = Dynamo(_dynamodb())
    program = ProgramService(DynamoProgramStore(db, found.tables.program))
    return ActionService(DynamoActionStore(db, found.earning_table), DynamoMemberStore(db, found.tables),
                         DynamoLedgerStore(db, found.tables, found.queue_read_threads), _clock, program.current)


@cache
def simulations() -> SimulationService:
    """Rehearsing a rule change (``loyalty.simulations``): its items in the Earning table, the purchase records it
    replays, and the queue its runs go through (``SIMULATION_QUEUE_URL``; without one a run happens at once)."""
    import os

    from loyalty.program.dynamodb import DynamoProgramStore
    from loyalty.program.usecases import ProgramService
    from loyalty.shared.dynamo import Dynamo
    from loyalty.simulations.dynamodb import DynamoSimulationStore, SqsWork
    from loyalty.simulations.usecases import SimulationService

    settings, db = Settings.from_env(), Dynamo(_dynamodb())
    url = os.environ.get("SIMULATION_QUEUE_URL", "")
    store = DynamoSimulationStore(db, settings.earning_table, settings.tables.operations, settings.tables.members,
                                  parts=int(os.environ.get("SIMULATION_SCAN_SEGMENTS") or 8))
    program = ProgramService(DynamoProgramStore(db, settings.tables.program))
    return SimulationService(store, program.current, _clock, SqsWork(client("sqs"), url) if url else None)


@cache
def feedback() -> FeedbackService:
    """Feedback (``loyalty.feedback``) over the Feedback table: members' own purchases checked in the Operations
    table, members in theirs, and the emails a reply or an alert plans put in outreach's due index."""
    from loyalty.feedback.dynamodb import DynamoFeedbackStore
    from loyalty.feedback.usecases import FeedbackService
    from loyalty.members.dynamodb import DynamoMemberStore
    from loyalty.outreach.config import OutreachEnv
    from loyalty.shared.dynamo import Dynamo

    found, env, db = settings(), OutreachEnv.from_env(), Dynamo(_dynamodb())
    members = DynamoMemberStore(db, found.tables)
    store = DynamoFeedbackStore(db, found.feedback_table, found.tables.operations, env.table, env.due_shards)
    return FeedbackService(store, _clock, member_exists=lambda member_id: bool(members.members([member_id])))


@cache
def segments() -> SegmentService:
    """Segments (``loyalty.segments``) over the Segments table: members from theirs, the spend from the metrics
    aggregator's buyer rows (the Metrics table), days in the programme's time zone."""
    import os
    from zoneinfo import ZoneInfo

    from loyalty.members.dynamodb import DynamoMemberStore
    from loyalty.segments.dynamodb import DynamoSegmentStore, MetricsSpend
    from loyalty.segments.usecases import SegmentService
    from loyalty.shared.dynamo import Dynamo

    found, db = settings(), Dynamo(_dynamodb())
    members = DynamoMemberStore(db, found.tables)
    store = DynamoSegmentStore(db, found.segments_table, found.tables.members,
                               parts=int(os.environ.get("SEGMENTS_SCAN_SEGMENTS") or 8))
    return SegmentService(store, MetricsSpend(db, found.metrics_table), _clock, ZoneInfo(found.program_time_zone),
                          member_exists=lambda member_id: bool(members.members([member_id])))


@cache
def leads() -> LeadService:
    """Leads (``loyalty.leads``) over the Leads table ``LEADS_TABLE``; members (the submitter, and whether a friend's
    contact is a member's already) in theirs."""
    from loyalty.leads.dynamodb import DynamoLeadStore
    from loyalty.leads.usecases import LeadService
    from loyalty.members.dynamodb import DynamoMemberStore
    from loyalty.shared.dynamo import Dynamo

    found, db = settings(), Dynamo(_dynamodb())
    members = DynamoMemberStore(db, found.tables)

    def is_member_contact(kind: str, value: str) -> bool:
        return bool(members.member_ids_by_email(value) if kind == "email" else members.member_ids_by_phone(value))

    return LeadService(DynamoLeadStore(db, found.leads_table), _clock,
                       member_exists=lambda member_id: bool(members.members([member_id])),
                       is_member_contact=is_member_contact)


def configure(*, clock: Clock | None = None) -> None:
    """Replace the clock (local server, tests); everything built so far is rebuilt on next use."""
    global _clock
    if clock is not None:
        _clock = clock
    for built in (services, outreach, anchoring, poster, metrics, _dynamodb, cognito_users, _member_code_secret,
                  partners, settings, _link_secret, commission, partner_reports, reviews, bundles, coupons,
                  rewards, wallet, actions, simulations, surprises, _surprise_secret, tiers, feedback,
                  segments, leads):
        built.cache_clear()
