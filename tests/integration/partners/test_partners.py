"""Partners and referral links over HTTP (API-additions, "Partners and referral links"): partners, links of
partners and members, the landing page and its clicks, the QR codes. Every refusal writes nothing."""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

import boto3
import pytest
import zxingcpp

from loyalty import wiring
from loyalty.partners.domain import is_typo_free, new_link_code
from loyalty.shared.clock import FixedClock
from tests.support import Api, CallAs, Reply, dump_tables

ADMIN: CallAs = {"as_": "boss", "groups": ("admin",)}
WANG = {"partner_id": "P-wang", "name": "Wang's vlog", "email": "wang@example.com", "commission_bps": 500,
        "attribution_days": 30}
BROWSER = {"user-agent": "Mozilla/5.0 (iPhone) Safari", "x-forwarded-for": "203.0.113.9"}


def as_partner(api: Api, partner_id: str | None, sub: str = "wang-login") -> dict[str, str]:
    minted = api.gateway.mint(sub, ["partner"], partner_id=partner_id)
    return {"Authorization": f"Bearer {minted['token']}"}


def refused(reply: Reply, status: int, slug: str) -> None:
    assert (reply.status, reply.slug) == (status, slug), reply.body
    assert reply.headers["content-type"] == "application/problem+json"


def raw(api: Api, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    return api.gateway.invoke("GET", path, {"host": "localhost", **(headers or {})}, b"")


def partner(api: Api, **changes: Any) -> dict[str, Any]:
    reply = api.call("POST", "/v1/partners", {**WANG, **changes}, **ADMIN)
    assert reply.status == 201, reply.body
    return dict(reply.body)


def link(api: Api, body: dict[str, Any], **caller: Any) -> dict[str, Any]:
    reply = api.call("POST", "/v1/links", body, **caller)
    assert reply.status == 201, reply.body
    return dict(reply.body)


def partner_link(api: Api, link_id: str = "L-1", **extra: Any) -> dict[str, Any]:
    partner(api)
    return link(api, {"link_id": link_id, "campaign": "spring", "sub_id": "post-42", **extra},
                headers=as_partner(api, "P-wang"))


def stats(owner: str) -> dict[str, dict[str, Any]]:
    items = boto3.client("dynamodb").query(
        TableName="PartnersTable", KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"STATS#{owner}"}})["Items"]
    return {i["sk"]["S"]: {k: (int(v["N"]) if "N" in v else v["S"]) for k, v in i.items()} for i in items}


def link_key() -> bytes:
    return str(boto3.client("secretsmanager").get_secret_value(SecretId="LinkSecret")["SecretString"]).encode()


# -- partners -------------------------------------------------------------------------------------------------

def test_an_admin_adds_a_partner_exactly_once(api: Api) -> None:
    first = partner(api)
    assert first == {**WANG, "created_at": "2026-11-23T09:30:00Z"}
    again = api.call("POST", "/v1/partners", WANG, **ADMIN)
    assert (again.status, again.body) == (200, first)
    before = dump_tables()
    refused(api.call("POST", "/v1/partners", {**WANG, "commission_bps": 800}, **ADMIN), 409, "idempotency-mismatch")
    refused(api.call("POST", "/v1/partners", {**WANG, "partner_id": "P-2", "commission_bps": 10001}, **ADMIN),
            422, "validation-error")
    refused(api.call("POST", "/v1/partners", {**WANG, "partner_id": "P-2", "attribution_days": 0}, **ADMIN),
            422, "validation-error")
    refused(api.call("POST", "/v1/partners", {**WANG, "partner_id": "P-2"}, as_="pos", groups=("staff",)),
            403, "forbidden")
    refused(api.call("POST", "/v1/partners", {**WANG, "partner_id": "P-2"}, headers=as_partner(api, "P-wang")),
            403, "forbidden")
    assert dump_tables() == before
    assert api.call("GET", "/v1/partners", **ADMIN).body == {"items": [first]}


def test_a_partner_sees_itself_and_no_other_partner(api: Api) -> None:
    first = partner(api)
    partner(api, partner_id="P-li", email="li@example.com")
    mine = api.call("GET", "/v1/partners/P-wang", headers=as_partner(api, "P-wang"))
    assert (mine.status, mine.body) == (200, first)
    assert api.call("GET", "/v1/partners/P-wang", **ADMIN).body == first
    refused(api.call("GET", "/v1/partners/P-li", headers=as_partner(api, "P-wang")), 403, "forbidden")
    refused(api.call("GET", "/v1/partners/P-wang", headers=as_partner(api, None)), 403, "forbidden")
    refused(api.call("GET", "/v1/partners/P-wang", as_="wang-login"), 403, "forbidden")  # a member
    refused(api.call("GET", "/v1/partners", headers=as_partner(api, "P-wang")), 403, "forbidden")
    refused(api.call("GET", "/v1/partners/P-nobody", **ADMIN), 404, "not-found")


# -- links ----------------------------------------------------------------------------------------------------

def test_a_partner_makes_its_own_links_exactly_once(api: Api) -> None:
    made = partner_link(api)
    code = made["code"]
    assert len(code) == 15 and is_typo_free(code)
    assert made["url"] == f"https://loyalty.example.com/r/{code}"
    assert (made["qr_svg"], made["qr_png"]) == (made["url"] + "/qr.svg", made["url"] + "/qr.png")
    assert made["owner"] == {"type": "partner", "id": "P-wang"}
    assert (made["campaign"], made["sub_id"], made["link_id"]) == ("spring", "post-42", "L-1")
    assert made["disclosure"] == "通过此链接购买，我会获得佣金。"  # the default locale
    assert made["disclosures"]["en"] == "I earn a commission if you buy through this link."
    wang = as_partner(api, "P-wang")
    again = api.call("POST", "/v1/links", {"link_id": "L-1", "campaign": "spring", "sub_id": "post-42"}, headers=wang)
    assert (again.status, again.body) == (200, made)
    before = dump_tables()
    refused(api.call("POST", "/v1/links", {"link_id": "L-1", "campaign": "autumn"}, headers=wang),
            409, "idempotency-mismatch")
    refused(api.call("POST", "/v1/links", {"link_id": "L-9", "partner_id": "P-li"}, headers=wang), 403, "forbidden")
    refused(api.call("POST", "/v1/links", {"link_id": "L-9"}, headers=as_partner(api, None)), 403, "forbidden")
    refused(api.call("POST", "/v1/links", {"link_id": "L-9", "campaign": "no spaces"}, headers=wang),
            422, "validation-error")
    till = {"Authorization": "Bearer " + api.gateway.mint("till-1", [], scope="loyalty/pos")["token"]}
    refused(api.call("POST", "/v1/links", {"link_id": "L-9"}, headers=till), 403, "forbidden")
    assert dump_tables() == before
    english = link(api, {"link_id": "L-2"}, headers={**wang, "Accept-Language": "en-GB,en;q=0.8"})
    assert english["disclosure"] == "I earn a commission if you buy through this link."
    listed = api.call("GET", "/v1/links", headers=wang)
    assert [i["code"] for i in listed.body["items"]] == [code, english["code"]]


def test_an_admin_makes_a_partners_link_and_a_member_makes_their_own(api: Api) -> None:
    partner(api)
    made = link(api, {"link_id": "L-1", "partner_id": "P-wang"}, **ADMIN)
    assert made["owner"] == {"type": "partner", "id": "P-wang"}
    assert api.call("GET", "/v1/links?partner_id=P-wang", **ADMIN).body["items"] == [made]
    refused(api.call("POST", "/v1/links", {"link_id": "L-1", "partner_id": "P-nobody"}, **ADMIN), 404, "not-found")

    before = dump_tables()
    refused(api.call("POST", "/v1/links", {"link_id": "M-1"}, as_="li"), 404, "not-found")  # not a member yet
    assert dump_tables() == before
    api.sign_up("li")
    mine = link(api, {"link_id": "M-1", "campaign": "wechat"}, as_="li")
    assert mine["owner"] == {"type": "member", "id": "li"}
    assert mine["disclosure"] == "通过此链接注册并购买，我会获得积分奖励。"
    refused(api.call("POST", "/v1/links", {"link_id": "M-2", "partner_id": "P-wang"}, as_="li"), 403, "forbidden")
    refused(api.call("GET", "/v1/links?partner_id=P-wang", as_="li"), 403, "forbidden")
    assert api.call("GET", "/v1/links", as_="li").body["items"] == [mine]
    assert api.call("GET", "/v1/links", headers=as_partner(api, "P-wang")).body["items"] == [made]


def test_an_admin_sets_what_links_disclose(api: Api) -> None:
    defaults = api.call("GET", "/v1/links/settings", **ADMIN)
    assert defaults.body["disclosures"]["partner"]["en"] == "I earn a commission if you buy through this link."
    changed = api.call("PUT", "/v1/links/settings", {"disclosures": {"partner": {"en": "Paid link: I earn a fee."}}},
                       **ADMIN)
    assert changed.status == 200, changed.body
    assert changed.body["disclosures"]["partner"] == {"en": "Paid link: I earn a fee.",
                                                      "zh-CN": "通过此链接购买，我会获得佣金。"}
    assert changed.body["disclosures"]["member"] == defaults.body["disclosures"]["member"]
    assert api.call("GET", "/v1/links/settings", **ADMIN).body == changed.body
    code = partner_link(api)["code"]
    _, _, page = raw(api, f"/r/{code}", {"accept-language": "en"})
    assert "Paid link: I earn a fee." in page.decode()
    refused(api.call("PUT", "/v1/links/settings", {"disclosures": {"reseller": {"en": "x"}}}, **ADMIN),
            422, "validation-error")
    refused(api.call("GET", "/v1/links/settings", as_="pos", groups=("staff",)), 403, "forbidden")


# -- the landing page -----------------------------------------------------------------------------------------

def test_the_landing_page_speaks_the_visitors_language_and_sets_the_signed_click_cookie(api: Api) -> None:
    code = partner_link(api)["code"]
    for accept, lang, words in (("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN", "佣金"), ("en-US,en;q=0.9", "en", "commission"),
                                ("fr-FR, en;q=0.5", "en", "commission"), ("", "zh-CN", "佣金")):
        status, headers, body = raw(api, f"/r/{code}", {**BROWSER, "accept-language": accept})
        page = body.decode()
        assert status == 200 and headers["content-type"] == "text/html; charset=utf-8", page
        assert f'<html lang="{lang}">' in page and words in page and "<script" not in page
        assert "1 CNY" in page and "Loyalty" in page  # the shop and what the programme gives
        cookie = headers["set-cookie"]
        name, _, rest = cookie.partition("=")
        click_id = rest.split(";")[0]
        assert name == "ll_click"
        assert {"HttpOnly", "Secure", "SameSite=Lax", "Path=/"} <= {p.strip() for p in cookie.split(";")}
        assert f'href="https://loyalty.example.com/app?code={code}&amp;click_id={click_id}"' in page
        assert f"{code[:5]}-{code[5:10]}-{code[10:]}" in page  # the code to type at sign-up
        assert wiring.partners().check_click_id(click_id) == code
        assert headers["cache-control"] == "no-store"


def test_the_landing_as_json(api: Api) -> None:
    code = partner_link(api)["code"]
    reply = api.call("GET", f"/r/{code.lower()}?format=json", headers=BROWSER)
    assert reply.status == 200, reply.body
    assert reply.body["code"] == code and reply.body["owner"] == {"type": "partner", "id": "P-wang"}
    assert reply.body["offer"] == {"shop_name": "Loyalty", "points_per_currency_unit": 1, "currency": "CNY",
                                   "text": "加入Loyalty会员：每消费 1 CNY，即得 1 积分。"}
    assert wiring.partners().check_click_id(reply.body["click_id"]) == code
    assert reply.headers["set-cookie"].startswith(f"ll_click={reply.body['click_id']};")
    refused(api.call("GET", f"/r/{new_link_code(link_key())}?format=json"), 404, "not-found")
    refused(api.call("GET", f"/r/{code}?format=xml"), 422, "validation-error")


def test_a_forged_or_unknown_code_is_a_404_page_and_a_forged_one_costs_no_read(api: Api) -> None:
    partner_link(api)
    calls: list[str] = []
    wiring.partners()  # built (and its client) before the watch
    wiring._dynamodb().meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    before = dump_tables()
    for forged in (new_link_code(b"not the service's key" * 3), "2222222222222222", "NOT-A-CODE", "x" * 40):
        status, headers, body = raw(api, f"/r/{forged}", {"accept-language": "en"})
        assert status == 404 and headers["content-type"].startswith("text/html"), body
        assert '<html lang="en">' in body.decode() and "does not work" in body.decode()
        assert raw(api, f"/r/{forged}/qr.svg")[0] == 404
    assert calls == [], "a forged code was looked up"
    unknown = new_link_code(link_key())  # signed by the service, but nobody's
    status, _, body = raw(api, f"/r/{unknown}")
    assert status == 404 and "此链接无效" in body.decode()
    assert calls == ["GetItem"]
    assert raw(api, f"/r/{unknown}/qr.png")[0] == 404
    assert dump_tables() == before


def test_a_members_referral_code_still_works_as_a_link(api: Api) -> None:
    li = api.sign_up("li")
    code = li["referral_code"]
    assert li["referral_link"] == f"https://loyalty.example.com/r/{code}"
    reply = api.call("GET", f"/r/{code}?format=json", headers=BROWSER)
    assert reply.status == 200, reply.body
    assert reply.body["owner"] == {"type": "member", "id": "li"}
    status, _, page = raw(api, f"/r/{code}", {**BROWSER, "accept-language": "en"})
    assert status == 200 and "reward points" in page.decode()
    assert wiring.partners().resolve(code.lower()) is not None
    [counted] = stats("member#li").values()
    assert (counted["clicks"], counted["unique_clicks"], counted["link_id"]) == (2, 1, "referral-code")


# -- clicks ---------------------------------------------------------------------------------------------------

def test_clicks_are_counted_per_day_and_unique_per_visitor(api: Api, clock: FixedClock) -> None:
    code = partner_link(api)["code"]
    first = raw(api, f"/r/{code}", BROWSER)[1]["set-cookie"].split(";")[0]
    raw(api, f"/r/{code}", BROWSER)  # same address and browser, no cookie: the same visitor
    raw(api, f"/r/{code}", {**BROWSER, "x-forwarded-for": "198.51.100.7", "cookie": first})  # the cookie wins
    raw(api, f"/r/{code}", {**BROWSER, "x-forwarded-for": "198.51.100.7"})  # another visitor
    raw(api, f"/r/{code}", {**BROWSER, "cookie": "ll_click=forged.20261123.AAAAAAAAAAAAAAAA.aaaaaaaaaaaaaaaaaaaaaa"})
    day = stats("partner#P-wang")[f"2026-11-23#{code}"]
    assert (day["clicks"], day["unique_clicks"]) == (5, 2)
    assert (day["campaign"], day["sub_id"], day["code"], day["date"]) == ("spring", "post-42", code, "2026-11-23")

    clock.advance(15 * 3600)  # 00:30 the next day in Shanghai: a new local day
    raw(api, f"/r/{code}", {**BROWSER, "cookie": first})
    raw(api, f"/r/{code}", BROWSER)
    next_day = stats("partner#P-wang")[f"2026-11-24#{code}"]
    assert (next_day["clicks"], next_day["unique_clicks"]) == (2, 2)  # yesterday's hash is not today's


def test_no_stored_item_keeps_an_address_or_a_user_agent(api: Api) -> None:
    code = partner_link(api)["code"]
    for address in ("203.0.113.9", "2001:db8::77"):
        raw(api, f"/r/{code}", {**BROWSER, "x-forwarded-for": address})
    stored = json.dumps(dump_tables())
    for trace in ("203.0.113", "2001:db8", "Mozilla", "iPhone"):
        assert trace not in stored, trace
    marks = [json.loads(i) for i in dump_tables()["PartnersTable"] if '"SEEN#' in i]
    assert len(marks) == 2 and all(int(m["expires_at"]["N"]) > 0 for m in marks)


# -- QR codes -------------------------------------------------------------------------------------------------

def _png_pixels(png: bytes) -> tuple[memoryview, int, int]:
    """A 1-bit greyscale PNG (what segno writes) as 8-bit grey pixels."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, data, width, height = 8, b"", 0, 0
    while position < len(png):
        length, kind = struct.unpack(">I4s", png[position:position + 8])
        chunk = png[position + 8:position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            assert (depth, colour) == (1, 0)
        elif kind == b"IDAT":
            data += chunk
        position += 12 + length
    rows, stride, pixels = zlib.decompress(data), (width + 7) // 8, bytearray()
    above = bytes(stride)
    for y in range(height):
        kind, line = rows[y * (stride + 1)], bytearray(rows[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        assert kind in (0, 1, 2), kind  # none, Sub, Up (all segno uses for one bit a pixel)
        for i in range(stride):
            line[i] = (line[i] + (above[i] if kind == 2 else line[i - 1] if kind == 1 and i else 0)) % 256
        above = bytes(line)
        pixels += bytes(255 if line[x // 8] >> (7 - x % 8) & 1 else 0 for x in range(width))
    return memoryview(bytes(pixels)).cast("B", (height, width)), width, height


def _svg_pixels(svg: str, scale: int = 8) -> memoryview:
    """segno's SVG (one path of horizontal runs, each a row of modules) drawn as 8-bit grey pixels."""
    import re

    width = int(re.search(r'width="(\d+)"', svg).group(1))  # type: ignore[union-attr]
    height = int(re.search(r'height="(\d+)"', svg).group(1))  # type: ignore[union-attr]
    path = re.search(r' d="([^"]+)"', svg).group(1)  # type: ignore[union-attr]
    grid = [[255] * width for _ in range(height)]
    x = y = 0.0
    for command, numbers in re.findall(r"([MmHh])([-0-9. ]+)", path):
        values = [float(v) for v in numbers.split()]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        else:
            for column in range(int(x), int(x + values[0])):
                grid[int(y)][column] = 0
            x += values[0]
    pixels = b"".join(bytes(v for v in row for _ in range(scale)) * scale for row in grid)
    return memoryview(pixels).cast("B", (height * scale, width * scale))


def test_the_qr_codes_decode_to_the_link(api: Api) -> None:
    made = partner_link(api)
    status, headers, svg = raw(api, f"/r/{made['code']}/qr.svg")
    assert status == 200 and headers["content-type"] == "image/svg+xml"
    assert headers["cache-control"] == "public, max-age=86400"
    decoded = zxingcpp.read_barcode(_svg_pixels(svg.decode()))
    assert decoded is not None and decoded.text == made["url"]
    status, headers, png = raw(api, f"/r/{made['code']}/qr.png")
    assert status == 200 and headers["content-type"] == "image/png"
    pixels, _, _ = _png_pixels(png)
    decoded = zxingcpp.read_barcode(pixels)
    assert decoded is not None and decoded.text == made["url"]


@pytest.mark.parametrize("path", ["/r/{code}/qr.svg", "/r/{code}/qr.png"])
def test_a_members_referral_code_has_qr_codes_too(api: Api, path: str) -> None:
    code = api.sign_up("li")["referral_code"]
    assert raw(api, path.format(code=code))[0] == 200
