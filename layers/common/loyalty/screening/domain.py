"""Scoring a credit: the signals of both ends, what each signal weighs, and the verdict.

A referral credit (or a partner's commission) has two ends: the **beneficiary** (the referrer, the partner) and
the **buyer** whose purchase made it. Each end is known by its signals, kept only as keyed hashes (HMAC-SHA256
under the screening key, per kind), so the tables never hold a device id, a card fingerprint, or a second copy of
an email or a phone:

- the **normalised email** (case folded; for providers that ignore them, dots and ``+tags`` removed, and
  googlemail.com read as gmail.com), so ``Li.Wei+shop@gmail.com`` and ``liwei@gmail.com`` are one person;
- the **phone** (E.164);
- the **devices** the member signed up or bought from (``device_id``, sent by the app);
- the **payment fingerprints** of the cards they paid with (``payment_fingerprint``, sent by the till).

Signals and their weights (``WEIGHTS``; a credit scoring ``THRESHOLD`` or more is held):

| signal | weight | what it catches |
|---|---:|---|
| ``same_email`` | 100 | a self-referral with another address of the same mailbox |
| ``same_phone`` | 100 | a self-referral with the same phone |
| ``same_card`` | 80 | the referrer paying for the "friend" |
| ``same_device`` | 60 | the referrer signing the "friend" up on their own phone |
| ``ring`` | 60 | the buyer shares a device or card with an ancestor above the beneficiary |
| ``cluster`` | 20 per other referee sharing a device or card with the buyer, at most 60 | farms on a few phones |
| ``burst`` | 30 from 10 sign-ups under the code in the buyer's sign-up hour, 60 from 30 | scripted sign-ups |

(A ring is a chain of one person's accounts; a cluster, the beneficiary's other referees sharing the buyer's
devices or cards.)

One signal of identity (email, phone, card, device) holds a credit on its own; bursts and clusters need company
(a burst alone, 30, is a post that went viral; with a shared device it is held). An honest heavy referrer (many
friends, each on their own phone and card, signing up over days) scores 0.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field

WEIGHTS = {"same_email": 100, "same_phone": 100, "same_card": 80, "same_device": 60, "ring": 60}
CLUSTER_EACH, CLUSTER_MOST = 20, 60
BURST_STEPS = ((30, 60), (10, 30))  # (sign-ups in the hour, weight), the largest first
THRESHOLD = 60

# Providers whose addresses ignore dots in the local part and/or anything after a "+".
DOTS_IGNORED = frozenset({"gmail.com"})
PLUS_TAGS = frozenset({"gmail.com", "outlook.com", "hotmail.com", "live.com", "icloud.com", "me.com", "yahoo.com",
                       "protonmail.com", "proton.me", "fastmail.com", "qq.com", "163.com", "126.com"})
SAME_PROVIDER = {"googlemail.com": "gmail.com"}


def normalised_email(email: str) -> str:
    """The mailbox an address delivers to, as far as its provider's rules say: ``Li.Wei+shop@GoogleMail.com`` →
    ``liwei@gmail.com``. Providers not known to ignore dots or tags keep them (they may be distinct mailboxes)."""
    local, _, domain = email.strip().casefold().rpartition("@")
    domain = SAME_PROVIDER.get(domain, domain)
    if domain in PLUS_TAGS:
        local = local.split("+", 1)[0]
    if domain in DOTS_IGNORED:
        local = local.replace(".", "")
    return f"{local}@{domain}"


def keyed(key: bytes, kind: str, value: str) -> str:
    """A signal as it is kept: HMAC-SHA256 under the screening key, of its kind and value (32 hex characters)."""
    return hmac.new(key, f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class Signals:
    """One member's signals, keyed."""

    email: str | None = None
    phone: str | None = None
    devices: frozenset[str] = field(default_factory=frozenset)
    cards: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, key: bytes, *, email: str | None = None, phone: str | None = None,
           devices: tuple[str, ...] = (), cards: tuple[str, ...] = ()) -> Signals:
        return cls(keyed(key, "email", normalised_email(email)) if email else None,
                   keyed(key, "phone", phone) if phone else None,
                   frozenset(keyed(key, "device", d) for d in devices),
                   frozenset(keyed(key, "card", c) for c in cards))

    def shares_with(self, other: Signals) -> bool:
        """Whether the two share a device or a card."""
        return bool(self.devices & other.devices or self.cards & other.cards)


@dataclass(frozen=True)
class Case:
    """A credit to screen: its two ends, the beneficiary's ancestors, the beneficiary's other referees, and how
    many sign-ups its code had in the hour the buyer signed up."""

    beneficiary: Signals
    buyer: Signals
    ancestors: tuple[Signals, ...] = ()  # above the beneficiary, nearest first
    siblings: tuple[Signals, ...] = ()  # the beneficiary's other referees
    sign_ups_that_hour: int = 1


@dataclass(frozen=True)
class Verdict:
    """The signals a credit showed and what each weighed, in ``WEIGHTS``' order, then cluster, then burst."""

    found: tuple[tuple[str, int], ...] = ()

    @property
    def score(self) -> int:
        return sum(weight for _, weight in self.found)

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.found)

    @property
    def held(self) -> bool:
        return self.score >= THRESHOLD

    def with_(self, other: Verdict) -> Verdict:
        """Both verdicts' signals, each at the larger of its weights (a signal counts once)."""
        weights = dict(self.found)
        for name, weight in other.found:
            weights[name] = max(weight, weights.get(name, 0))
        return Verdict(tuple(sorted(weights.items(), key=lambda kv: _ORDER.index(kv[0]))))

    def to_dict(self) -> dict[str, int]:
        return dict(self.found)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Verdict:
        return cls(tuple(sorted(((str(k), int(str(v))) for k, v in data.items()), key=lambda kv: _ORDER.index(kv[0])
                                if kv[0] in _ORDER else len(_ORDER))))


_ORDER = (*WEIGHTS, "cluster", "burst")


def screen(case: Case) -> Verdict:
    """The credit's score and the signals that made it (in ``WEIGHTS``' order, then cluster, then burst)."""
    b, buyer = case.beneficiary, case.buyer
    found: dict[str, int] = {}
    if b.email is not None and b.email == buyer.email:
        found["same_email"] = WEIGHTS["same_email"]
    if b.phone is not None and b.phone == buyer.phone:
        found["same_phone"] = WEIGHTS["same_phone"]
    if b.cards & buyer.cards:
        found["same_card"] = WEIGHTS["same_card"]
    if b.devices & buyer.devices:
        found["same_device"] = WEIGHTS["same_device"]
    if any(a.shares_with(buyer) for a in case.ancestors):
        found["ring"] = WEIGHTS["ring"]
    sharing = sum(1 for s in case.siblings if s.shares_with(buyer))
    if sharing:
        found["cluster"] = min(CLUSTER_MOST, CLUSTER_EACH * sharing)
    for least, weight in BURST_STEPS:
        if case.sign_ups_that_hour >= least:
            found["burst"] = weight
            break
    return Verdict(tuple(found.items()))


# --- screening from the signal index ---------------------------------------------------------------------------
#
# In the service a member's signals are not compared pairwise: each keyed signal has an index item listing the
# members who used it, each with the holder whose referee they are (their referrer, or ``partner#<id>``). So a
# credit's case is read from the index items of the buyer's signals: the beneficiary among a signal's users is a
# "same" signal, an ancestor above it a ring, another referee of the beneficiary a cluster.

KINDS = ("email", "phone", "device", "card")
SAME = {"email": "same_email", "phone": "same_phone", "device": "same_device", "card": "same_card"}


@dataclass(frozen=True)
class Shared:
    """Who else used the buyer's signals: per kind, member (or holder) → the holder whose referee they are ("" for
    none)."""

    users: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def of(self, kind: str) -> Mapping[str, str]:
        return self.users.get(kind, {})


def screen_shared(beneficiary: str, above: tuple[str, ...], shared: Shared, *, first_level: bool,
                  sign_ups_that_hour: int = 1) -> Verdict:
    """One credit's verdict from the signal index: ``beneficiary`` is the holder credited, ``above`` its ancestors
    (nearest first); clusters and bursts count for the buyer's first-level beneficiary only (the referrer whose code
    was used, or the partner)."""
    found: dict[str, int] = {}
    for kind in KINDS:
        if beneficiary in shared.of(kind):
            found[SAME[kind]] = WEIGHTS[SAME[kind]]
    if any(a in shared.of("device") or a in shared.of("card") for a in above):
        found["ring"] = WEIGHTS["ring"]
    if first_level:
        siblings = {m for kind in ("device", "card") for m, tag in shared.of(kind).items() if tag == beneficiary}
        if siblings:
            found["cluster"] = min(CLUSTER_MOST, CLUSTER_EACH * len(siblings))
        for least, weight in BURST_STEPS:
            if sign_ups_that_hour >= least:
                found["burst"] = weight
                break
    return Verdict(tuple(sorted(found.items(), key=lambda kv: _ORDER.index(kv[0]))))


PARTNER_KEY = "partner"  # a member's verdicts are kept by level ("1", "2", …) and for its partner under this key

