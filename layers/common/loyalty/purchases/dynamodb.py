"""A purchase's one read on DynamoDB: the buyer's profile, their account and the current programme in one
``BatchGetItem`` (a purchase is then one transaction).

The programme is one item that every purchase reads: in a flash sale, thousands of reads a second of one
key, past the 3,000 read units a second one partition serves. So a container keeps the programme it read
for ``program_ttl`` seconds (``PROGRAM_CACHE_SECONDS``: 1 on AWS, 0 on the local server, where a test
publishes a programme and buys at once): a published change reaches every purchase within that time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from loyalty.ledger.dynamodb import account_key, accounts_from
from loyalty.members.dynamodb import member_from_item, member_key
from loyalty.program.domain import ProgramRules
from loyalty.program.dynamodb import program_from_item, program_key
from loyalty.purchases.store import Checkout
from loyalty.shared.dynamo import Dynamo
from loyalty.shared.settings import Tables
from loyalty.tiers.domain import has_rules
from loyalty.tiers.dynamodb import standing_from_item, standing_key


class DynamoPurchaseStore:
    """``purchases.store.PurchaseStore`` on DynamoDB."""

    def __init__(self, db: Dynamo, tables: Tables, program_ttl: float = 0.0,
                 monotonic: Callable[[], float] = time.monotonic, earning_table: str = "") -> None:
        self._db = db
        self._earning = earning_table  # tiers: the buyer's standing lives there (docs/earning-tiers.md)
        self._t = tables
        self._program_ttl = program_ttl
        self._monotonic = monotonic
        self._program: tuple[float, ProgramRules | None] | None = None  # (read at, the programme read)

    def checkout(self, member_id: str) -> Checkout:
        now = self._monotonic()
        kept = self._program if self._program is not None and now - self._program[0] < self._program_ttl else None
        requests = {self._t.members: [member_key(member_id)], self._t.accounts: [account_key(member_id)]}
        if kept is None:
            requests[self._t.program] = [program_key()]
        # tiers: the standing joins the same read when the programme last known here has tiers or statuses
        asked = bool(self._earning) and has_rules((kept or self._program or (0.0, None))[1])
        if asked:
            requests[self._earning] = [standing_key(member_id)]
        found = self._db.batch_get(requests)
        members = found.get(self._t.members, [])
        if kept is None:
            programs = found.get(self._t.program, [])
            kept = self._program = (now, program_from_item(programs[0]) if programs else None)
        standing = None
        if self._earning and has_rules(kept[1]):  # (the first purchase here after tiers were published: one read more)
            stored = found if asked else self._db.batch_get({self._earning: [standing_key(member_id)]})
            items = stored.get(self._earning, [])
            standing = standing_from_item(items[0]) if items else None
        return Checkout(buyer=member_from_item(members[0]) if members else None,
                        account=accounts_from(found.get(self._t.accounts, []), [member_id])[member_id],
                        program=kept[1], standing=standing)
