"""Members on DynamoDB (the Members table, ``pk``/``sk``).

- ``M#<id>``/``PROFILE``: the member;
- ``C#<code>``/``CODE``: a claimed referral code;
- ``M#<ancestor>``/``D#<level>#<joined_at>#<id>``: one edge per ancestor, so an ancestor can count and
  list the members below it without walking the tree.

Sparse GSI keys outreach reads ride on the profile: ``birthday_md`` (members by birthday, ``MM-DD``) and
``optin_shard`` (opted-in members, spread over ``OPTIN_SHARDS`` partitions). The counter's look-ups ride on it
too: ``email_key`` (the email case-folded, index ``by_email``) and ``phone_number`` (E.164, index ``by_phone``).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import islice
from typing import Any

from botocore.exceptions import ClientError

from loyalty.ledger.accounts import Account
from loyalty.ledger.dynamodb import account_key, accounts_from
from loyalty.members.domain import Member, PartnerBinding, Referee, ReferralPath
from loyalty.members.store import CodeTaken, MemberTaken, NoSuchMember, UnsubscribeIdTaken
from loyalty.program.domain import ProgramRules
from loyalty.program.dynamodb import program_from_item, program_key
from loyalty.shared.dynamo import CONDITION_FAILED, Cancelled, Dynamo, error_code, from_item, shard_of, to_item
from loyalty.shared.once import Contention
from loyalty.shared.settings import Tables

OPTIN_SHARDS = 16
MAX_MATCHES = 50  # the most members one look-up returns (a shared family phone, not a whole list)


def member_key(member_id: str) -> dict[str, str]:
    return {"pk": f"M#{member_id}", "sk": "PROFILE"}


def optin_shard(member_id: str) -> str:
    return f"{shard_of(member_id, OPTIN_SHARDS):02d}"


def member_item(member: Member) -> dict[str, Any]:
    item = {
        **member_key(member.member_id), "member_id": member.member_id, "email": member.email,
        "display_name": member.display_name, "referral_code": member.referral_code,
        "ancestors": list(member.path.ancestors), "joined_at": member.joined_at, "locale": member.locale,
        "marketing_opt_in": member.marketing_opt_in,
    }
    optional = {"birthday": member.birthday, "time_zone": member.time_zone,
                "birthday_changed_at": member.birthday_changed_at, "phone_number": member.phone_number,
                "unsubscribe_id": member.unsubscribe_id, "opted_in_at": member.opted_in_at, "lead_id": member.lead_id}
    item.update({k: v for k, v in optional.items() if v is not None})
    item["notices"] = member.notices
    if member.partner is not None:
        item["partner"] = member.partner.to_dict()
    if member.screening:
        item["screening"] = {k: dict(v) for k, v in member.screening.items()}
    item["email_key"] = email_key(member.email)
    if member.birthday is not None:
        item["birthday_md"] = member.birthday[5:]
    if member.marketing_opt_in:
        item["optin_shard"] = optin_shard(member.member_id)
    return item


def email_key(email: str) -> str:
    """What the email look-up matches: the address case-folded (``Li@Example.com`` finds ``li@example.com``)."""
    return email.casefold()


def member_from_item(item: dict[str, Any]) -> Member:
    return Member(
        member_id=item["member_id"], email=item["email"], display_name=item["display_name"],
        referral_code=item["referral_code"], path=ReferralPath(tuple(item.get("ancestors", []))),
        joined_at=item["joined_at"], locale=item["locale"], marketing_opt_in=bool(item["marketing_opt_in"]),
        birthday=item.get("birthday"), time_zone=item.get("time_zone"), notices=bool(item.get("notices", True)),
        birthday_changed_at=item.get("birthday_changed_at"), phone_number=item.get("phone_number"),
        unsubscribe_id=item.get("unsubscribe_id"), opted_in_at=item.get("opted_in_at"),
        partner=PartnerBinding.from_dict(item["partner"]) if item.get("partner") else None,
        screening={str(k): {str(n): int(w) for n, w in v.items()} for k, v in (item.get("screening") or {}).items()},
        lead_id=item.get("lead_id"), lead_awards=int(item.get("lead_awards", 0)),
    )


class DynamoMemberStore:
    """``members.store.MemberStore`` on DynamoDB."""

    def __init__(self, db: Dynamo, tables: Tables) -> None:
        self._db = db
        self._t = tables

    def members(self, member_ids: Sequence[str]) -> dict[str, Member]:
        found = self._db.batch_get({self._t.members: [member_key(m) for m in dict.fromkeys(member_ids)]})
        return {i["member_id"]: member_from_item(i) for i in found.get(self._t.members, [])}

    def members_with_accounts(self, member_ids: Sequence[str]) -> tuple[dict[str, Member], dict[str, Account]]:
        unique = list(dict.fromkeys(member_ids))
        found = self._db.batch_get({self._t.members: [member_key(m) for m in unique],
                                    self._t.accounts: [account_key(m) for m in unique]})
        members = {i["member_id"]: member_from_item(i) for i in found.get(self._t.members, [])}
        return members, accounts_from(found.get(self._t.accounts, []), unique)

    def member_read(self, member_id: str) -> tuple[dict[str, Member], dict[str, Account], ProgramRules | None]:
        """A member read under tiers (docs/earning-tiers.md): the member, their account and the current programme
        in the one ``BatchGetItem`` (the programme decides whether the member's standing is read at all)."""
        found = self._db.batch_get({self._t.members: [member_key(member_id)],
                                    self._t.accounts: [account_key(member_id)], self._t.program: [program_key()]})
        members = {i["member_id"]: member_from_item(i) for i in found.get(self._t.members, [])}
        programs = found.get(self._t.program, [])
        return (members, accounts_from(found.get(self._t.accounts, []), [member_id]),
                program_from_item(programs[0]) if programs else None)

    def member_id_for_code(self, code: str) -> str | None:
        item = self._db.get(self._t.members, {"pk": f"C#{code}", "sk": "CODE"})
        return item["member_id"] if item else None

    def member_id_for_unsubscribe(self, unsubscribe_id: str) -> str | None:
        item = self._db.get(self._t.members, {"pk": f"U#{unsubscribe_id}", "sk": "UNSUBSCRIBE"})
        return item["member_id"] if item else None

    def member_ids_by_email(self, email: str) -> list[str]:
        return self._by_index("by_email", "email_key", email_key(email))

    def member_ids_by_phone(self, phone_number: str) -> list[str]:
        return self._by_index("by_phone", "phone_number", phone_number)

    def _by_index(self, index: str, attribute: str, value: str) -> list[str]:
        """The members whose ``attribute`` is ``value``: one Query of a sparse index of profiles (never a scan)."""
        found = self._db.query(
            TableName=self._t.members, IndexName=index, KeyConditionExpression="#a = :v",
            ExpressionAttributeNames={"#a": attribute}, ExpressionAttributeValues=to_item({":v": value}),
            ProjectionExpression="member_id", Limit=MAX_MATCHES)
        return sorted({item["member_id"] for item in islice(found, MAX_MATCHES)})

    def referees(self, member_id: str, *, level: int, limit: int) -> list[Referee]:
        answer = self._db.call(
            "query", TableName=self._t.members, KeyConditionExpression="pk = :p AND begins_with(sk, :d)",
            ExpressionAttributeValues=to_item({":p": f"M#{member_id}", ":d": f"D#{level:02d}#"}), Limit=limit,
        )
        return [Referee(i["member_id"], i["display_name"], i["joined_at"], i["level"])
                for i in map(from_item, answer.get("Items", []))]

    def referee_counts(self, member_id: str) -> dict[int, int]:
        counts: dict[int, int] = {}
        for item in self._db.query(
                TableName=self._t.members, KeyConditionExpression="pk = :p AND begins_with(sk, :d)",
                ExpressionAttributeValues=to_item({":p": f"M#{member_id}", ":d": "D#"}), ProjectionExpression="sk"):
            level = int(item["sk"][2:4])
            counts[level] = counts.get(level, 0) + 1
        return counts

    def create_member(self, member: Member, also: Sequence[dict[str, Any]] = ()) -> None:
        items: list[dict[str, Any]] = [
            {"Put": {"TableName": self._t.members, "Item": to_item(member_item(member)),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": self._t.members,
                     "Item": to_item({"pk": f"C#{member.referral_code}", "sk": "CODE", "member_id": member.member_id}),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
        ]
        if member.unsubscribe_id is not None:  # its unsubscribe links name this, not the member id
            items.append({"Put": {"TableName": self._t.members, "Item": to_item(
                {"pk": f"U#{member.unsubscribe_id}", "sk": "UNSUBSCRIBE", "member_id": member.member_id}),
                "ConditionExpression": "attribute_not_exists(pk)"}})  # never re-point another member's links
        if member.referrer_id is not None:
            items.append({"ConditionCheck": {
                "TableName": self._t.members, "Key": to_item(member_key(member.referrer_id)),
                "ConditionExpression": "attribute_exists(pk)",
            }})
        for level, ancestor in enumerate(member.path.ancestors, start=1):
            items.append({"Put": {"TableName": self._t.members, "Item": to_item({
                "pk": f"M#{ancestor}", "sk": f"D#{level:02d}#{member.joined_at}#{member.member_id}",
                "member_id": member.member_id, "display_name": member.display_name,
                "joined_at": member.joined_at, "level": level,
            })}})
        items.extend(also)  # a lead's conversion (docs/leads.md): its conditions fail as a Contention below
        try:
            self._db.transact(items)
        except Cancelled as cancelled:
            if cancelled.failed(0):
                raise MemberTaken(member.member_id) from None
            if cancelled.failed(1):
                raise CodeTaken(member.referral_code) from None
            if member.unsubscribe_id is not None and cancelled.failed(2):
                raise UnsubscribeIdTaken(member.unsubscribe_id) from None
            raise Contention("sign-up raced with another write") from None

    def update_member(self, member_id: str, fields: dict[str, Any]) -> None:
        """Change some of a member's profile fields (None removes one); the member must exist.

        The GSI keys that follow from them (opted-in shard, birthday day) change in the same write.
        """
        try:
            self._update(member_id, fields)
        except ClientError as error:
            if error_code(error) == f"{CONDITION_FAILED}Exception":
                raise NoSuchMember(member_id) from None
            raise

    def opt_out_if(self, member_id: str, seen_opted_in_at: str | None) -> bool:
        """Opt the member out of marketing, in one conditional write, only if their opt-in is still the one
        read (``opted_in_at``, absent if None). False, writing nothing, if they opted in again since:
        the check and the write cannot be split by a new opt-in. ``NoSuchMember`` if there is no such member."""
        if seen_opted_in_at is None:
            condition, values = "attribute_exists(pk) AND attribute_not_exists(#seen)", {}
        else:
            condition, values = "attribute_exists(pk) AND #seen = :seen", {":seen": seen_opted_in_at}
        try:
            self._update(member_id, {"marketing_opt_in": False}, condition=condition,
                         names={"#seen": "opted_in_at"}, values=values, ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ClientError as error:
            if error_code(error) != f"{CONDITION_FAILED}Exception":
                raise
            if "Item" not in error.response:  # no such member (a changed opt-in returns the item as it is)
                raise NoSuchMember(member_id) from None
            return False
        return True

    def update_profile(self, member: Member, fields: dict[str, Any]) -> None:
        """Change profile fields (None removes one) of a member as read. A new ``display_name`` also goes to the
        member's edge under each ancestor (what their referral tree lists), in the same transaction."""
        if "display_name" not in fields:
            self.update_member(member.member_id, fields)
            return
        items: list[dict[str, Any]] = [{"Update": self._update_request(member.member_id, fields)}]
        for level, ancestor in enumerate(member.path.ancestors, start=1):
            items.append({"Update": {
                "TableName": self._t.members, "ConditionExpression": "attribute_exists(pk)",
                "Key": to_item({"pk": f"M#{ancestor}",
                                "sk": f"D#{level:02d}#{member.joined_at}#{member.member_id}"}),
                "UpdateExpression": "SET display_name = :n",
                "ExpressionAttributeValues": to_item({":n": fields["display_name"]}),
            }})
        try:
            self._db.transact(items)
        except Cancelled as cancelled:
            if cancelled.failed(0):
                raise NoSuchMember(member.member_id) from None
            raise Contention("a profile change raced with another write") from None

    def _update(self, member_id: str, fields: dict[str, Any], *, condition: str = "attribute_exists(pk)",
                names: dict[str, str] | None = None, values: dict[str, Any] | None = None, **extra: Any) -> None:
        """One UpdateItem of the profile under ``condition`` (its own ``#``/``:`` placeholders in ``names`` and
        ``values``); a failed condition is the ``ClientError``."""
        self._db.call("update_item", **self._update_request(member_id, fields, condition=condition, names=names,
                                                            values=values), **extra)

    def _update_request(self, member_id: str, fields: dict[str, Any], *, condition: str = "attribute_exists(pk)",
                        names: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> dict[str, Any]:
        """The parameters of an update of the profile, with the index keys that follow from the fields."""
        fields = dict(fields)
        if "marketing_opt_in" in fields:
            fields["optin_shard"] = optin_shard(member_id) if fields["marketing_opt_in"] else None
        if fields.get("birthday"):
            fields["birthday_md"] = fields["birthday"][5:]
        if fields.get("email"):
            fields["email_key"] = email_key(fields["email"])
        sets = {k: v for k, v in fields.items() if v is not None}
        removes = [k for k, v in fields.items() if v is None]
        field_names = {f"#f{i}": k for i, k in enumerate([*sets, *removes])}
        by_name = {k: n for n, k in field_names.items()}
        expression = ""
        if sets:
            expression += "SET " + ", ".join(f"{by_name[k]} = :v{i}" for i, k in enumerate(sets))
        if removes:
            expression += " REMOVE " + ", ".join(by_name[k] for k in removes)
        kwargs: dict[str, Any] = {
            "TableName": self._t.members, "Key": to_item(member_key(member_id)),
            "UpdateExpression": expression.strip(), "ConditionExpression": condition,
            "ExpressionAttributeNames": {**field_names, **(names or {})},
        }
        all_values = {**{f":v{i}": v for i, v in enumerate(sets.values())}, **(values or {})}
        if all_values:
            kwargs["ExpressionAttributeValues"] = to_item(all_values)
        return kwargs
