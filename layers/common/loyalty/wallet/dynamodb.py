"""Stored value's items on DynamoDB: the settings item in the Wallet table (``WALLET#SETTINGS``), and the one
``BatchGetItem`` a top-up or a withdrawal reads (member, account, settings, programme)."""

from __future__ import annotations

import json
from typing import Any

from loyalty.ledger.dynamodb import account_key, accounts_from
from loyalty.members.dynamodb import member_from_item, member_key
from loyalty.program.dynamodb import program_from_item, program_key
from loyalty.shared.dynamo import Dynamo, to_item
from loyalty.shared.settings import Tables
from loyalty.wallet.domain import WalletSettings
from loyalty.wallet.store import WalletCheckout

SETTINGS_KEY = {"pk": "WALLET#SETTINGS", "sk": "STORED_VALUE"}


def settings_from_item(item: dict[str, Any]) -> WalletSettings:
    return WalletSettings.from_dict(json.loads(str(item["settings"])))


class DynamoWalletStore:
    """``wallet.store.WalletStore`` on DynamoDB."""

    def __init__(self, db: Dynamo, tables: Tables, table: str) -> None:
        self._db = db
        self._t = tables
        self._table = table

    def settings(self) -> WalletSettings | None:
        item = self._db.get(self._table, SETTINGS_KEY)
        return settings_from_item(item) if item else None

    def save_settings(self, settings: WalletSettings) -> None:
        self._db.call("put_item", TableName=self._table, Item=to_item({
            **SETTINGS_KEY, "settings": json.dumps(settings.to_dict(), sort_keys=True)}))

    def checkout(self, member_id: str) -> WalletCheckout:
        found = self._db.batch_get({self._t.members: [member_key(member_id)],
                                    self._t.accounts: [account_key(member_id)], self._table: [SETTINGS_KEY],
                                    self._t.program: [program_key()]})
        members, settings = found.get(self._t.members, []), found.get(self._table, [])
        programs = found.get(self._t.program, [])
        return WalletCheckout(member=member_from_item(members[0]) if members else None,
                              account=accounts_from(found.get(self._t.accounts, []), [member_id])[member_id],
                              settings=settings_from_item(settings[0]) if settings else None,
                              program=program_from_item(programs[0]) if programs else None)
