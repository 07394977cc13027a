"""``python -m ops.mutants``: plant known bugs in the ledger's money paths, one at a time, and see which fast test
catches each (docs/proof.md, "Planted bugs").

Each mutant is one textual replacement in one source file (the text must occur exactly once). Nothing here
touches the working tree: the files git knows of (tracked and untracked-but-not-ignored, as they are on disk
now) are copied to a temporary directory, beside a link to ``../shared`` (where API.md is); the unmutated copy
is run once as a baseline, then each mutant is applied to the copy, the fast tiers are run there (``pytest
tests/unit tests/integration tests/contract -n 2``) and the file is put back. A mutant is *caught* when a test
that passed on the baseline fails; tests that already fail on the baseline (someone's work in progress) are
reported and never count.

    python -m ops.mutants                  # every mutant (about 100 s each on two cores)
    python -m ops.mutants --only refund-fingerprint-ignores-amount --only verify-skips-lots
    python -m ops.mutants --list
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIERS = ["tests/unit", "tests/integration", "tests/contract"]
L = "layers/common/loyalty/"


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    old: str
    new: str


MUTANTS = [
    # The holes.
    Mutant("redeem-check-needs-more-than-asked", L + "redemptions/usecases.py",
           "if available < points:", "if available <= points:"),
    Mutant("at-least-condition-strict", L + "ledger/dynamodb.py",
           "#b.#a{n}.#k.#u{n} >= :least{n}", "#b.#a{n}.#k.#u{n} > :least{n}"),
    Mutant("refund-fingerprint-ignores-amount", L + "purchases/usecases.py",
           'request = {"order_id": order_id, "amount_minor": amount_minor}', 'request = {"order_id": order_id}'),
    Mutant("redeem-fingerprint-ignores-points", L + "redemptions/usecases.py",
           'request = {"points": points, "reward": reward}', 'request = {"reward": reward}'),
    Mutant("redeem-fingerprint-ignores-reward", L + "redemptions/usecases.py",
           'request = {"points": points, "reward": reward}', 'request = {"points": points}'),
    Mutant("refund-still-held-at-the-second-it-ends", L + "purchases/domain.py",
           "parse_rfc3339(credit.available_at) > now", "parse_rfc3339(credit.available_at) >= now"),
    Mutant("verify-skips-lots", L + "ledger/verification.py",
           "    if declared.hold is not None:\n        expected =", "    if False:\n        expected ="),
    Mutant("at-least-condition-dropped", L + "ledger/dynamodb.py",
           "enumerate(sorted(part.at_least.items()))", "enumerate(sorted({}.items()))"),
    Mutant("redeem-least-zero", L + "redemptions/usecases.py",
           "least = points - result.freed(POINTS.name)", "least = 0"),
    Mutant("hash-json-escapes-non-ascii", L + "shared/canonical.py", "ensure_ascii=False", "ensure_ascii=True"),
    Mutant("hash-json-spaced", L + "shared/canonical.py", 'separators=(",", ":")', 'separators=(", ", ": ")'),
    Mutant("hash-json-unsorted", L + "shared/canonical.py", "sort_keys=True", "sort_keys=False"),
    Mutant("hash-skips-prev-hash", L + "ledger/entries.py",
           "canonical_json(self.content())", 'canonical_json({**self.content(), "prev_hash": ""})'),
    Mutant("refund-rounds", L + "purchases/domain.py",
           "return points * refunded_minor // amount_minor", "return round(points * refunded_minor / amount_minor)"),
    # Others in the same paths.
    Mutant("release-after-the-spend", L + "ledger/posting.py", "    chain.append(releases, running)\n",
           "    chain.append([_dated(p, now, expiry) for p in postings], running)\n    postings = []\n"
           "    chain.append(releases, running)\n"),
    Mutant("no-release-before-the-event", L + "ledger/posting.py",
           "releases, released, emptied = _releases(account, now, expiry)", "releases, released, emptied = [], {}, {}"),
    Mutant("seq-not-incremented-for-one-line", L + "ledger/posting.py", "            self.seq += 1\n",
           "            self.seq += 0 if line.kind is EntryKind.RELEASE and line.amount > 0 else 1\n"),
    Mutant("lots-mature-a-second-late", L + "ledger/accounts.py",  # a read and the next write alike
           "and parse_rfc3339(at) <= now)", "and parse_rfc3339(at) < now)"),
    # Expiry (docs/earning-expiry.md).
    Mutant("expiry-a-day-early", L + "ledger/expiry.py", "last_day + timedelta(days=1)", "last_day"),
    Mutant("expiry-retroactive", L + "ledger/expiry.py", "if not self.months or arrival <= self.since:",
           "if not self.months:"),
    Mutant("spending-takes-the-newest-first", L + "ledger/expiry.py", "for at, amount in ordered(lots):",
           "for at, amount in reversed(ordered(lots)):"),
    Mutant("a-read-counts-expired-points", L + "ledger/accounts.py", "for at, part in due(dated, now):",
           "for at, part in ():"),
    Mutant("verify-skips-dated-lots", L + "ledger/verification.py", "if declared.expires is not None and dict(",
           "if False and dict("),
    # Reviews of held credits (docs/screening.md).
    Mutant("a-review-is-decided-twice", L + "screening/dynamodb.py", '**body}, {"status": OPEN}),', "**body}, {}),"),
    Mutant("a-rejected-credits-refund-reverses-again", L + "ledger/deferred.py",
           "            if posting.amount < 0:\n                return []\n",
           "            if posting.amount < 0:\n                return [posting]\n"),
    Mutant("a-decision-forgets-another", L + "ledger/dynamodb.py",
           'condition += " AND size(#s) = :settled"', 'condition += ""'),
    Mutant("the-buyers-own-points-held", L + "purchases/domain.py",
           "if credit.status != QUEUED or verdict is None", "if verdict is None"),
    Mutant("refund-of-the-remainder-refused", L + "purchases/usecases.py",
           "if before + refund_minor > total:", "if before + refund_minor >= total:"),
    # Bundle cards (docs/wallet.md): the last use's own condition, the expiry's second, the refund's floor.
    Mutant("a-bundle-use-without-its-no-overdraft", L + "bundles/usecases.py",
           "at_least={(card.asset, Bucket.AVAILABLE): 1}", "at_least={}"),
    Mutant("a-bundle-usable-at-its-expiry", L + "bundles/domain.py",
           "return now >= parse_rfc3339(self.expires_at)", "return now > parse_rfc3339(self.expires_at)"),
    Mutant("a-bundle-refund-rounded-up", L + "bundles/domain.py",
           "return self.price_minor * remaining // self.uses", "return -(-self.price_minor * remaining // self.uses)"),
    Mutant("counter-guard-dropped", L + "ledger/dynamodb.py",
           '"ConditionExpression": "#n = :old"', '"ConditionExpression": "#n = :old OR #n <> :old"'),
    Mutant("seq-condition-dropped", L + "ledger/dynamodb.py",
           '"seq = :seq", part.before.seq', '"seq = :seq OR seq <> :seq", part.before.seq'),
    Mutant("buyer-counted-as-referral", L + "ledger/posting.py",
           "line.level is not None and line.level >= 1", "line.level is not None and line.level >= 0"),
    Mutant("lot-may-go-below-zero", L + "ledger/posting.py", "if remaining < 0:", "if False:"),
    Mutant("verify-skips-hashes", L + "ledger/verification.py",
           "elif entry.computed_hash() != entry.hash:", "elif False:"),
    # coupons and the rewards catalogue (docs/wallet.md)
    Mutant("coupon-used-twice", L + "coupons/dynamodb.py", 'expect={"status": ACTIVE},\n', "expect={},\n"),
    Mutant("stock-may-go-below-zero", L + "rewards/dynamodb.py", 'at_least={"stock": 1}', 'at_least={"stock": 0}'),
    Mutant("void-window-a-minute-longer", L + "coupons/domain.py", "VOID_WINDOW = timedelta(minutes=15)",
           "VOID_WINDOW = timedelta(minutes=16)"),
    Mutant("coupon-limit-one-more", L + "coupons/dynamodb.py", "at_most={\"held\": limit - 1}",
           "at_most={\"held\": limit}"),
    Mutant("expired-coupons-keep-their-slots", L + "coupons/dynamodb.py", 'add={"held": -len(expired)}',
           'add={"held": 0}'),
    Mutant("purchase-fingerprint-ignores-amount", L + "purchases/usecases.py",
           'request = {"member_id": member_id, "amount_minor": amount_minor,', 'request = {"member_id": member_id,'),
    # Stored value (docs/wallet.md).
    Mutant("stored-value-bonus-share-rounds-up", L + "wallet/domain.py",
           "bonus = paid_minor * holding.bonus_minor // holding.total if holding.total else 0",
           "bonus = -(-paid_minor * holding.bonus_minor // holding.total) if holding.total else 0"),
    Mutant("stored-value-cap-refuses-reaching-it", L + "wallet/usecases.py",
           "if holding.principal_minor + amount_minor > cap:", "if holding.principal_minor + amount_minor >= cap:"),
    Mutant("stored-value-refund-floors-each-refund", L + "wallet/domain.py",
           "return part * after // amount_minor - part * refunded_before // amount_minor",
           "return part * refund_minor // amount_minor"),
    Mutant("stored-value-tier-needs-more-than-its-threshold", L + "wallet/domain.py",
           "if amount_minor >= tier.min_minor:", "if amount_minor > tier.min_minor:"),
    # End of stored value.
    # Feedback (docs/feedback.md): an answered complaint still alerts, someone else's order accepted, a reply's id
    # reused with another text taken for a replay.
    Mutant("an-answered-complaint-still-alerts", L + "feedback/domain.py",
           "and not self.replies and self.alerted_at is None", "and self.alerted_at is None"),
    Mutant("feedback-about-someone-elses-order", L + "feedback/usecases.py",
           ".order_owner(order_id)) != member_id:", ".order_owner(order_id)) is None:"),
    Mutant("a-reply-id-reused-with-another-text", L + "feedback/domain.py",
           "        if known.text != text:\n", "        if False:\n"),
    # Segments (docs/segments.md): a tie takes the worse class, a recompute overwrites a manual segment, a refund
    # left out of the spend.
    Mutant("segment-ties-take-the-worse-class", L + "segments/domain.py",
           "rank_of.setdefault(amount, position)", "rank_of[amount] = position"),
    Mutant("segment-recompute-overwrites-manual", L + "segments/usecases.py",
           "before, computed_cell=cell, computed_at=at, version=before.version + 1)",
           "before, computed_cell=cell, computed_at=at, manual_cell=None, version=before.version + 1)"),
    Mutant("segment-spend-ignores-refunds", L + "metrics/domain.py",
           "partner=share, buyer=buyer, spend_minor=-amount_minor)", "partner=share, buyer=buyer, spend_minor=0)"),
    # Leads (docs/leads.md): the award on every purchase, not the first; a lead converting a sign-up that gave a code.
    Mutant("a-lead-award-at-every-purchase", L + "leads/usecases.py",
           "if buyer.lead_id is None or buyer.lead_awards > 0 or", "if buyer.lead_id is None or"),
    Mutant("a-lead-overrides-a-referral-code", L + "members/usecases.py",
           "self._leads is not None and referral_code is None and click_id is None",
           "self._leads is not None and click_id is None"),
    # Actions (docs/earning-actions.md).
    Mutant("action-cap-one-more", L + "actions/dynamodb.py", 'at_most={"count": cap - 1}', 'at_most={"count": cap}'),
    Mutant("check-in-twice-a-day-is-a-replay", L + "actions/usecases.py", "CHECKED_IN = _CheckIns(ActionRecorded)",
           "CHECKED_IN = ResultCodec(ActionRecorded)"),
    Mutant("action-fingerprint-ignores-ref", L + "actions/usecases.py", 'request["ref"] = ref', "pass"),
    # End of actions.
    # Simulations (docs/earning-simulations.md).
    Mutant("simulation-ignores-refunds", L + "simulations/domain.py",
           "return points - reversed_so_far(points, purchase.amount_minor, purchase.refunded_minor)",
           "return points"),
    Mutant("simulation-replays-without-the-calendar", L + "simulations/domain.py",
           "purchase.amount_minor, rules.multiplier(at))", "purchase.amount_minor, None)"),
    Mutant("simulation-id-ignores-the-period-end", L + "simulations/http.py",
           '"to": self.end.isoformat()}', "}"),
    # End of simulations.
    # Surprises (docs/earning-surprise.md).
    Mutant("surprise-budget-allows-one-over", L + "surprises/dynamodb.py",
           'at_most={"paid": budget - drawn.points}', 'at_most={"paid": budget - drawn.points + 1}'),
    Mutant("surprise-hit-at-the-chance", L + "surprises/domain.py",
           'hit = int.from_bytes(h[0:4], "big") % 10_000 < rule.chance_bps',
           'hit = int.from_bytes(h[0:4], "big") % 10_000 <= rule.chance_bps'),
    Mutant("surprise-worth-misses-max", L + "surprises/domain.py",
           "% (rule.max_points - rule.min_points + 1)", "% (rule.max_points - rule.min_points)"),
    # End of surprises.
    # Tiers and statuses (docs/earning-tiers.md).
    Mutant("tier-upgrade-earns-the-old-tiers-multiplier", L + "tiers/usecases.py",
           "rules.multiplier(now, after.tier, after.statuses)", "rules.multiplier(now, before.tier, after.statuses)"),
    Mutant("tier-spend-ignores-refunds", L + "tiers/domain.py", "months[month] -= refund_minor",
           "months[month] -= 0"),
    Mutant("status-kept-after-the-last-purchase-is-refunded", L + "tiers/domain.py",
           "uncounts = current.counted_by if left == 0 and", "uncounts = current.counted_by if left < 0 and"),
    # End of tiers and statuses.
    # Usage guides (docs/reminders.md): the category's guide over the SKU's, one per item, the shop's text as HTML,
    # no other language for a member whose has none, none in the check-in, a guide-only SKU rule hiding the
    # category's interval, a rule with neither accepted.
    Mutant("a-categorys-guide-wins-over-the-skus", L + "outreach/plans.py",
           "found = by_sku or by_category", "found = by_category or by_sku"),
    Mutant("a-guide-once-per-item", L + "outreach/plans.py",
           "if rule is not None and rule.guide not in chosen:", "if rule is not None:"),
    Mutant("a-guides-text-unescaped-in-html", L + "outreach/templates.py",
           '"<br>".join(html.escape(line) for line in guide.text.splitlines())',
           '"<br>".join(guide.text.splitlines())'),
    Mutant("a-guide-only-in-the-members-language", L + "outreach/templates.py",
           "(choose(versions, locale_for(locale)) for versions in guides)",
           "(versions.get(locale_for(locale)) for versions in guides)"),
    Mutant("the-check-in-without-guides", L + "outreach/content.py",
           "WITH_GUIDES = (ReminderKind.THANK_YOU, ReminderKind.CHECKIN)", "WITH_GUIDES = (ReminderKind.THANK_YOU,)"),
    Mutant("a-guide-only-sku-rule-hides-the-categorys-interval", L + "outreach/plans.py",
           "return _most_specific(item, [r for r in rules if r.interval_days is not None])",
           "return _most_specific(item, rules)"),
    Mutant("a-rule-with-neither-interval-nor-guide-accepted", L + "outreach/http.py",
           "if self.interval_days is None and self.guide is None:", "if False:"),
    # End of usage guides.
]


def copy_tree(target: Path) -> None:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is left out
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def run_tiers(tree: Path) -> tuple[set[str], float]:
    """The fast tiers in ``tree``: the tests that failed (or errored), and the wall time."""
    shutil.rmtree(tree / ".hypothesis", ignore_errors=True)  # no example saved by one mutant replays in the next
    report = tree / "junit.xml"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "pytest", *TIERS, "-n", "2", "-q", "-p", "no:cacheprovider",
                    f"--junitxml={report}"], cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}, timeout=1800)
    elapsed = time.monotonic() - started
    failed = set()
    for case in ElementTree.parse(report).iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed.add(f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}")
    return failed, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", metavar="NAME", help="run only these mutants")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args()
    chosen = [m for m in MUTANTS if not args.only or m.name in args.only]
    if args.list or not chosen:
        for m in MUTANTS:
            print(f"{m.name:45} {m.path}: {m.old!r} -> {m.new!r}")
        return
    with tempfile.TemporaryDirectory(prefix="mutants-") as temp:
        tree = Path(temp) / ROOT.name
        copy_tree(tree)
        if (ROOT.parent / "shared").is_dir():  # the contract tests read ../shared/API.md
            (Path(temp) / "shared").symlink_to(ROOT.parent / "shared")
        found = subprocess.run([sys.executable, "-c", "import loyalty; print(loyalty.__file__)"], cwd=tree,
                               env={**os.environ, "PYTHONPATH": "layers/common:."}, capture_output=True, text=True)
        if not found.stdout.startswith(temp):  # the copy, not the working tree, must be what the tests import
            sys.exit(f"loyalty resolves to {found.stdout.strip() or found.stderr} outside the copy")
        baseline, seconds = run_tiers(tree)
        print(f"baseline: {len(baseline)} failing in {seconds:.0f} s" + "".join(f"\n  {t}" for t in sorted(baseline)))
        print("\n| mutant | where | caught by | seconds |\n|---|---|---|---|", flush=True)
        survivors = []
        for m in chosen:
            path = tree / m.path
            original = path.read_text(encoding="utf-8")
            if original.count(m.old) != 1:
                sys.exit(f"{m.name}: the text to replace occurs {original.count(m.old)} times in {m.path}")
            path.write_text(original.replace(m.old, m.new), encoding="utf-8")
            try:
                failed, seconds = run_tiers(tree)
            finally:
                path.write_text(original, encoding="utf-8")
            caught = sorted(failed - baseline)
            if not caught:
                survivors.append(m.name)
            print(f"| {m.name} | {m.path.removeprefix(L)} | {'<br>'.join(caught) or '**nothing**'} | {seconds:.0f} |",
                  flush=True)
        print(f"\n{len(chosen) - len(survivors)} of {len(chosen)} caught" +
              (f"; survivors: {', '.join(survivors)}" if survivors else ""))
        sys.exit(1 if survivors else 0)


if __name__ == "__main__":
    main()
