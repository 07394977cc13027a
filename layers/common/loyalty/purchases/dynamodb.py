"""A purchase's first read on DynamoDB: the buyer's profile, their account and the current programme in one
``BatchGetItem`` (a purchase is then one more read, of the ancestors' accounts, and one transaction)."""

from __future__ import annotations

from loyalty.ledger.dynamodb import account_key, accounts_from
from loyalty.members.dynamodb import member_from_item, member_key
from loyalty.program.dynamodb import program_from_item, program_key
from loyalty.purchases.store import Checkout
from loyalty.shared.dynamo import Dynamo
from loyalty.shared.settings import Tables


class DynamoPurchaseStore:
    """``purchases.store.PurchaseStore`` on DynamoDB."""

    def __init__(self, db: Dynamo, tables: Tables) -> None:
        self._db = db
        self._t = tables

    def checkout(self, member_id: str) -> Checkout:
        found = self._db.batch_get({self._t.members: [member_key(member_id)],
                                    self._t.accounts: [account_key(member_id)],
                                    self._t.program: [program_key()]})
        members = found.get(self._t.members, [])
        programs = found.get(self._t.program, [])
        return Checkout(buyer=member_from_item(members[0]) if members else None,
                        account=accounts_from(found.get(self._t.accounts, []), [member_id])[member_id],
                        program=program_from_item(programs[0]) if programs else None)
