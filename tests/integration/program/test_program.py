"""Program rules: versioned data, editable by admins, recorded on every entry."""

from __future__ import annotations

from tests.support import Api, CallAs

ADMIN: CallAs = {"as_": "boss", "groups": ("admin",)}
DEFAULTS = {"version": 1, "points_per_currency_unit": 1, "referral_rates_bps": [1000, 500], "hold_days": 7,
            "currency": "CNY", "compliance_profile": "default", "timezone": "Asia/Shanghai", "actions": {},
            "multipliers": []}
EARNING = {"timezone": "Asia/Shanghai", "actions": {}, "multipliers": []}  # a fresh install has no earning rules


def test_a_fresh_install_runs_the_default_program(api: Api) -> None:
    assert api.call("GET", "/v1/program", as_="anyone").body == DEFAULTS
    assert api.call("GET", "/v1/program/versions/1", as_="anyone").body == DEFAULTS


def test_every_put_makes_a_new_version_and_old_ones_stay_readable(api: Api) -> None:
    second = {"points_per_currency_unit": 2, "referral_rates_bps": [2000], "hold_days": 3, "currency": "CNY"}
    assert api.call("PUT", "/v1/program", second, **ADMIN).body == {
        "version": 2, **second, "compliance_profile": "default", **EARNING}
    third = {**second, "hold_days": 0, "version": 2}  # with the version read: only if still current
    assert api.call("PUT", "/v1/program", third, **ADMIN).body["version"] == 3
    stale = api.call("PUT", "/v1/program", third, **ADMIN)
    assert (stale.status, stale.slug) == (409, "version-conflict")
    assert api.call("GET", "/v1/program/versions/1", as_="x").body == DEFAULTS
    assert api.call("GET", "/v1/program/versions/2", as_="x").body == {
        "version": 2, **second, "compliance_profile": "default", **EARNING}
    assert api.call("GET", "/v1/program", as_="x").body["version"] == 3


def test_entries_record_the_version_they_were_made_under(api: Api) -> None:
    api.chain("bob", "dan")
    api.purchase("O-1", "dan", 10000)
    api.call("PUT", "/v1/program", {"points_per_currency_unit": 3, "referral_rates_bps": [5000], "hold_days": 7,
                                    "currency": "CNY"}, **ADMIN)
    second = api.purchase("O-2", "dan", 10000).body
    assert second["rule_version"] == 2
    assert [(c["member_id"], c["points"]) for c in second["credits"]] == [("dan", 300), ("bob", 150)]
    assert [e["rule_version"] for e in api.ledger("bob")] == [2, 1]


def test_small_purchases_credit_nothing_and_write_no_entries(api: Api) -> None:
    api.chain("bob", "dan")
    reply = api.purchase("O-1", "dan", 99)  # less than one yuan: 0 points
    assert reply.status == 201 and reply.body["credits"] == []
    reply = api.purchase("O-2", "dan", 900)  # 9 points; the referrer's 10 % rounds down to 0
    assert [c["member_id"] for c in reply.body["credits"]] == ["dan"]
    assert api.ledger("bob") == []


def test_the_cn_wechat_profile_refuses_more_than_two_credited_levels_and_is_kept_until_changed(api: Api) -> None:
    rules = {"points_per_currency_unit": 1, "referral_rates_bps": [1000, 500, 200], "hold_days": 7, "currency": "CNY"}
    assert api.call("PUT", "/v1/program", rules, **ADMIN).body["version"] == 2  # the default profile allows it
    refused = api.call("PUT", "/v1/program", {**rules, "compliance_profile": "cn-wechat"}, **ADMIN)
    assert (refused.status, refused.slug) == (422, "compliance-profile") and "at most 2" in refused.body["detail"]
    assert api.call("GET", "/v1/program", as_="x").body["version"] == 2  # nothing written
    two = {**rules, "referral_rates_bps": [1000, 500, 0], "compliance_profile": "cn-wechat"}  # a 0 credits nobody
    assert api.call("PUT", "/v1/program", two, **ADMIN).body["compliance_profile"] == "cn-wechat"
    again = api.call("PUT", "/v1/program", rules, **ADMIN)  # no profile in the body: the current one holds
    assert (again.status, again.slug) == (422, "compliance-profile")
    kept = api.call("PUT", "/v1/program", {**rules, "referral_rates_bps": [800]}, **ADMIN).body
    assert kept["compliance_profile"] == "cn-wechat" and kept["version"] == 4
    bad = api.call("PUT", "/v1/program", {**rules, "compliance_profile": "eu"}, **ADMIN)
    assert bad.status == 422 and bad.slug == "validation-error"
