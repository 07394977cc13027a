"""Segments (issue 15, docs/segments.md) over HTTP: purchases (and refunds) feed the spend, the daily recompute
classes every member, the member read and the grid show it, a cell lists its members; a manual segment survives the
recompute and its drop returns the computed one at once; the thresholds change the classes; bad input writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import Api, CallAs, dump_tables

STAFF: CallAs = {"as_": "pos", "groups": ("staff",)}
DAY = 86400


def segment(api: Api, member: str) -> dict[str, Any]:
    found = api.call("GET", f"/v1/members/{member}", **STAFF)
    assert found.status == 200, found.body
    return dict(found.body["segment"])


def cell(api: Api, member: str) -> str:
    s = segment(api, member)
    return f"{s['class']}{s['grade']}"


def grid(api: Api) -> dict[str, int]:
    found = api.call("GET", "/v1/segments", **STAFF)
    assert found.status == 200, found.body
    return {c: n for c, n in found.body["counts"].items() if n}


def members_of(api: Api, which: str) -> list[str]:
    found, cursor = [], None
    while True:
        page = api.call("GET", f"/v1/segments/{which}/members?limit=2" + (f"&cursor={cursor}" if cursor else ""),
                        **STAFF)
        assert page.status == 200, page.body
        found += [m["member_id"] for m in page.body["items"]]
        cursor = page.body["next_cursor"]
        if cursor is None:
            return found


def refused(call: Any, status: int) -> Any:
    before = dump_tables()
    answer = call()
    assert answer.status == status, answer.body
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert dump_tables() == before
    return answer


@pytest.fixture
def shop(api: Api) -> Api:
    """Ten members: eight bought (spends 1000…8000 on the example day), two never did."""
    for n in range(10):
        api.sign_up(f"m{n}")
    for n in range(8):
        assert api.purchase(f"O-{n}", f"m{n}", 1000 * (n + 1)).status == 201
    return api


def test_the_daily_recompute_classes_every_member_by_spend_rank_and_recency(shop: Api) -> None:
    api = shop
    first = segment(api, "m7")
    assert first == {"class": "D", "grade": 3, "source": "computed", "computed_at": None}  # no recompute yet
    assert grid(api) == {}
    api.move_clock(DAY)  # the daily recompute
    # N = 8 spenders: A ⌈0.8⌉ = 1, B ⌈2.4⌉ = 3, C ⌈4.8⌉ = 5; bought a day or so ago: grade 1
    assert [cell(api, f"m{n}") for n in range(10)] == ["D1", "D1", "D1", "C1", "C1", "B1", "B1", "A1", "D3", "D3"]
    assert segment(api, "m7")["computed_at"] is not None
    assert grid(api) == {"A1": 1, "B1": 2, "C1": 2, "D1": 3, "D3": 2}
    assert members_of(api, "D1") == ["m0", "m1", "m2"]
    me = api.call("GET", "/v1/members/me", as_="m7")
    assert me.body["segment"]["class"] == "A"
    # 40 days on, nobody bought again: grade 2; 200 days on: grade 3
    api.move_clock(40 * DAY)
    assert cell(api, "m7") == "A2"
    assert grid(api) == {"A2": 1, "B2": 2, "C2": 2, "D2": 3, "D3": 2}


def test_ties_take_the_better_class_and_a_refund_takes_its_amount_off(shop: Api) -> None:
    api = shop
    assert api.purchase("O-8", "m6", 1000).status == 201  # m6: 8000, as much as m7
    assert api.refund("O-7", "R-7", 8000).status == 201  # m7: everything refunded: spent nothing
    api.move_clock(DAY)
    # spenders: m6 8000, m5 6000, m4 5000, m3 4000, m2 3000, m1 2000, m0 1000: N = 7, A 1, B 3, C 5
    assert [cell(api, f"m{n}") for n in range(8)] == ["D1", "D1", "C1", "C1", "B1", "B1", "A1", "D1"]


def test_a_manual_segment_survives_the_recompute_and_its_drop_returns_the_computed_one(shop: Api) -> None:
    api = shop
    api.move_clock(DAY)
    put = api.call("PUT", "/v1/members/m0/segment", {"class": "A", "grade": 1}, **STAFF)
    assert put.status == 200, put.body
    assert (put.body["class"], put.body["grade"], put.body["source"]) == ("A", 1, "manual")
    assert grid(api) == {"A1": 2, "B1": 2, "C1": 2, "D1": 2, "D3": 2}
    assert sorted(members_of(api, "A1")) == ["m0", "m7"]
    api.move_clock(40 * DAY)  # the recomputes move m0's computed cell (D1 → D2) under the manual one
    assert segment(api, "m0")["source"] == "manual" and cell(api, "m0") == "A1"
    assert grid(api) == {"A1": 1, "A2": 1, "B2": 2, "C2": 2, "D2": 2, "D3": 2}
    dropped = api.call("DELETE", "/v1/members/m0/segment", **STAFF)
    assert dropped.status == 200, dropped.body
    assert (dropped.body["class"], dropped.body["grade"], dropped.body["source"]) == ("D", 2, "computed")
    assert grid(api) == {"A2": 1, "B2": 2, "C2": 2, "D2": 3, "D3": 2}
    # a member the recompute has not seen yet may be given one too
    api.sign_up("late")
    assert api.call("PUT", "/v1/members/late/segment", {"class": "B", "grade": 2}, **STAFF).status == 200
    assert cell(api, "late") == "B2"


def test_the_thresholds_change_the_classes_from_the_next_recompute(shop: Api) -> None:
    api = shop
    shown = api.admin("GET", "/v1/segments/settings")
    assert shown.body == {"a_percent": 10, "b_percent": 30, "c_percent": 60, "grade1_days": 30, "grade2_days": 180}
    changed = api.admin("PUT", "/v1/segments/settings", {"a_percent": 50, "b_percent": 75, "c_percent": 100,
                                                         "grade1_days": 0, "grade2_days": 1})
    assert changed.status == 200, changed.body
    api.move_clock(DAY)
    # A ⌈4⌉, B ⌈6⌉, C 8; the purchases were a day or more ago: grade 2 (within 1 day) or 3
    assert [cell(api, f"m{n}")[0] for n in range(10)] == list("CCBBAAAADD")


def test_bad_input_is_refused_and_writes_nothing(shop: Api) -> None:
    api = shop
    refused(lambda: api.call("PUT", "/v1/members/nobody/segment", {"class": "A", "grade": 1}, **STAFF), 404)
    refused(lambda: api.call("PUT", "/v1/members/m0/segment", {"class": "E", "grade": 1}, **STAFF), 422)
    refused(lambda: api.call("PUT", "/v1/members/m0/segment", {"class": "A", "grade": 4}, **STAFF), 422)
    refused(lambda: api.call("DELETE", "/v1/members/nobody/segment", **STAFF), 404)
    refused(lambda: api.call("GET", "/v1/segments/E1/members", **STAFF), 422)
    refused(lambda: api.call("GET", "/v1/segments/A1/members?cursor=abc", **STAFF), 422)
    refused(lambda: api.admin("PUT", "/v1/segments/settings", {"a_percent": 40, "b_percent": 30, "c_percent": 60,
                                                               "grade1_days": 30, "grade2_days": 180}), 422)
    refused(lambda: api.admin("PUT", "/v1/segments/settings", {"a_percent": 10, "b_percent": 30, "c_percent": 60,
                                                               "grade1_days": 200, "grade2_days": 180}), 422)
    refused(lambda: api.call("PUT", "/v1/segments/settings", {"a_percent": 10, "b_percent": 30, "c_percent": 60,
                                                              "grade1_days": 30, "grade2_days": 180}, **STAFF), 403)
