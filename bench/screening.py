"""Screening on a generated population with planted fraud: precision and recall, by kind of case.

The population (seeded, so every run prints the same figures): honest members who refer a few friends over weeks,
each on their own phone and card (now and then a family shares a tablet, a spouse signs up on the same phone);
an **honest heavy referrer** with 300 friends over 30 days; an honest post that **went viral** (15 sign-ups in
an hour); and planted fraud: **self-referrals** (a second account on another address of the same mailbox, the
same phone, or the same device), **device-sharing rings** and **card-sharing rings** (chains of five accounts on
one or two phones, or paying with one card), **bursts** (40 scripted sign-ups in an hour from a few emulators), and
**careful self-referrals** that share nothing (new phone, new card, new address: screening cannot see them, which
is why it publishes its recall). Every referral is one credit (the referee's first purchase); a credit is flagged
when ``screen`` holds it.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

from loyalty.screening.domain import Case, Signals, screen

KEY = b"screening benchmark key"
DAY, HOUR = 86_400, 3_600


@dataclass
class Person:
    name: str
    email: str
    phone: str
    devices: tuple[str, ...]
    cards: tuple[str, ...]
    referrer: Person | None = None
    joined: int = 0  # seconds into the period
    kind: str = "honest"  # what the credit to the referrer is, for the figures

    def signals(self) -> Signals:
        return Signals.of(KEY, email=self.email, phone=self.phone, devices=self.devices, cards=self.cards)


class World:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.people: list[Person] = []
        self.n = 0

    def _id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def person(self, referrer: Person | None = None, *, joined: int | None = None, kind: str = "honest",
               email: str | None = None, phone: str | None = None, devices: tuple[str, ...] | None = None,
               cards: tuple[str, ...] | None = None) -> Person:
        name = self._id("p")
        found = Person(name, email or f"{name}.{self.rng.randrange(10**6)}@example.com",
                       phone or f"+86138{self.rng.randrange(10**8):08d}",
                       devices if devices is not None else tuple(self._id("d") for _ in range(self.rng.randint(1, 2))),
                       cards if cards is not None else tuple(self._id("c") for _ in range(self.rng.randint(1, 2))),
                       referrer, joined if joined is not None else self.rng.randrange(90 * DAY), kind)
        self.people.append(found)
        return found


def _honest(w: World) -> None:
    """Honest friends of friends, a few each, over weeks; the heavy referrer; a post that went viral."""
    rng = w.rng
    frontier = [w.person() for _ in range(300)]
    while len(w.people) < 2_000:
        referrer = rng.choice(frontier)
        friend = w.person(referrer, joined=referrer.joined + rng.randrange(DAY, 30 * DAY))
        siblings = [p for p in w.people if p.referrer is referrer and p is not friend]
        if siblings and rng.random() < 0.02:  # a family's tablet, shared with one of the referrer's other friends
            friend.devices += (rng.choice(siblings).devices[0],)
        if rng.random() < 0.01:  # a spouse signs up on the referrer's phone: honest, and it looks like fraud
            friend.devices = (referrer.devices[0],)
        frontier.append(friend)
    heavy = w.person()
    for n in range(300):  # 300 friends over 30 days, each on their own phone and card
        w.person(heavy, joined=heavy.joined + DAY + n * (30 * DAY // 300), kind="honest heavy")
    viral = w.person()
    for n in range(15):  # 15 honest sign-ups in one hour
        w.person(viral, joined=viral.joined + DAY + n * 200, kind="honest viral")


def _self_referrals(w: World) -> None:
    """Through a trace (the same mailbox, phone or device), and careful ones that share nothing."""
    for n in range(60):
        me = w.rng.choice(w.people[:2_000])
        me.email = f"self{n}@gmail.com"
        how = n % 3
        w.person(me, kind="self-referral", joined=me.joined + HOUR,
                 email=f"se.lf{n}+again@googlemail.com" if how == 0 else None,
                 phone=me.phone if how == 1 else None, devices=me.devices[:1] if how == 2 else None)
    for _ in range(20):
        me = w.rng.choice(w.people[:2_000])
        w.person(me, kind="careful self-referral", joined=me.joined + DAY)


def _rings_and_bursts(w: World) -> None:
    """Chains of 5 accounts on 1–2 phones, or paying with one card; 40 scripted sign-ups in an hour from 5
    emulators."""
    rng = w.rng
    for _ in range(12):
        phones = tuple(w._id("d") for _ in range(rng.randint(1, 2)))
        up = w.person(devices=phones[:1])
        for _ in range(4):
            up = w.person(up, kind="device ring", devices=(rng.choice(phones),), joined=up.joined + rng.randrange(DAY))
    for _ in range(12):
        card = (w._id("c"),)
        up = w.person(cards=card)
        for _ in range(4):
            up = w.person(up, kind="card ring", cards=card, joined=up.joined + rng.randrange(DAY))
    for _ in range(5):
        owner = w.person()
        emulators = tuple(w._id("d") for _ in range(5))
        for k in range(40):
            w.person(owner, kind="burst", devices=(emulators[k % 5],), joined=owner.joined + DAY + k * 80)


def population(seed: int = 2026) -> World:
    w = World(seed)
    _honest(w)
    _self_referrals(w)
    _rings_and_bursts(w)
    return w


def cases(w: World) -> list[tuple[str, Case]]:
    """Each referral's credit, labelled by what it is, as ``screen`` sees it."""
    children: dict[str, list[Person]] = {}
    for p in w.people:
        if p.referrer is not None:
            children.setdefault(p.referrer.name, []).append(p)
    signals = {p.name: p.signals() for p in w.people}
    found = []
    for p in w.people:
        r = p.referrer
        if r is None:
            continue
        ancestors: list[Signals] = []
        up = r.referrer
        while up is not None and len(ancestors) < 9:
            ancestors.append(signals[up.name])
            up = up.referrer
        siblings = [signals[s.name] for s in children[r.name] if s is not p and s.joined <= p.joined]
        hour = sum(1 for s in children[r.name] if p.joined - HOUR < s.joined <= p.joined)
        found.append((p.kind, Case(signals[r.name], signals[p.name], tuple(ancestors), tuple(siblings), hour)))
    return found


def run(seed: int = 2026) -> dict[str, Any]:
    labelled = cases(population(seed))
    flagged: Counter[str] = Counter()
    total: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for kind, case in labelled:
        verdict = screen(case)
        total[kind] += 1
        if verdict.held:
            flagged[kind] += 1
            reasons.update(verdict.reasons)
    fraud = {k for k in total if not k.startswith("honest")}
    tp = sum(flagged[k] for k in fraud)
    fp = sum(flagged[k] for k in total if k not in fraud)
    fn = sum(total[k] - flagged[k] for k in fraud)
    return {"by_kind": {k: (flagged[k], total[k]) for k in sorted(total)}, "true_positives": tp,
            "false_positives": fp, "false_negatives": fn, "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0, "reasons": dict(reasons.most_common())}


def report(figures: dict[str, Any]) -> list[str]:
    lines = [f"{'credits, by what they are':<32} {'held':>6} {'of':>6}"]
    for kind, (held, total) in figures["by_kind"].items():
        lines.append(f"{kind:<32} {held:>6} {total:>6}")
    lines.append(f"precision {figures['precision']:.3f} ({figures['true_positives']} of "
                 f"{figures['true_positives'] + figures['false_positives']} held credits are fraud), recall "
                 f"{figures['recall']:.3f} ({figures['true_positives']} of "
                 f"{figures['true_positives'] + figures['false_negatives']} fraudulent credits held)")
    lines.append("signals behind the held credits: " + ", ".join(f"{k} {v}" for k, v in figures["reasons"].items()))
    return lines
