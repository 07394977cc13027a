"""Reading a shop's CSV file into typed rows, each bad one reported by its row and column (docs/import-export.md).

No I/O beyond the binary stream it is given, read in one pass to find the encoding and once more to parse, so a
file of a million rows is read in bounded memory. What it accepts, because that is what shops' spreadsheets save:

- **Encodings**: UTF-8 with or without a byte-order mark, else GB18030 (what Excel and WPS save as "CSV" on a
  Chinese Windows; GBK and GB2312 are subsets of it). A file that is neither is refused as a whole.
- **Dialects**: comma, semicolon or tab separated (``csv.Sniffer`` on the first lines), fields quoted with ``"``
  (separators, quotes doubled and line breaks inside).
- **Headers** in English (as the contract names the columns) or in Chinese, in any order, case and surrounding
  spaces ignored; unknown columns are ignored and reported once; a missing required column refuses the file.
- **Values**: full-width digits and spaces count as their ASCII selves; an empty cell is no value.

Row numbers are the spreadsheet's: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import IO, Any

from loyalty.identity.domain import normalize_phone
from loyalty.shared.errors import LoyaltyError

MEMBERS, PURCHASES = "members", "purchases"
KINDS = (MEMBERS, PURCHASES)
ENCODINGS = ("utf-8-sig", "gb18030")
MAX_CELL = 500  # characters in one cell: a longer one is a wrong column, not a name
MAX_OPENING_POINTS = 10_000_000
MAX_AMOUNT_MINOR = 10**12
CURRENCY_EXPONENT = 2  # the minor units of the currencies a shop's list holds (CNY, USD, EUR, HKD …)
CHINA = timezone(timedelta(hours=8))  # a time without an offset is the shop's (a Chinese shop's list)

# column -> the header names that mean it (compared case-folded, spaces removed)
HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    MEMBERS: {
        "email": ("email", "e-mail", "邮箱", "电子邮箱", "电子邮件", "邮件"),
        "display_name": ("display_name", "name", "姓名", "名字", "昵称", "称呼", "客户名称", "会员名称"),
        "phone": ("phone", "mobile", "手机", "手机号", "手机号码", "电话", "电话号码", "联系电话"),
        "birthday": ("birthday", "生日", "出生日期"),
        "joined_at": ("joined_at", "joined", "注册时间", "入会时间", "加入时间", "开卡时间"),
        "locale": ("locale", "language", "语言"),
        "marketing_opt_in": ("marketing_opt_in", "接受营销", "营销许可", "同意营销"),
        "referrer_email": ("referrer_email", "推荐人邮箱"),
        "referrer_phone": ("referrer_phone", "推荐人手机", "推荐人电话", "推荐人手机号"),
        "opening_points": ("opening_points", "期初积分", "初始积分", "积分", "积分余额"),
    },
    PURCHASES: {
        "order_id": ("order_id", "order", "订单号", "订单编号", "单号"),
        "email": ("email", "e-mail", "邮箱", "电子邮箱", "电子邮件"),
        "phone": ("phone", "mobile", "手机", "手机号", "手机号码", "电话", "联系电话"),
        "amount_minor": ("amount_minor", "金额(分)", "金额（分）", "金额分"),
        "amount": ("amount", "金额", "金额(元)", "金额（元）", "实付金额", "消费金额"),
        "currency": ("currency", "币种", "货币"),
        "occurred_at": ("occurred_at", "date", "time", "下单时间", "消费时间", "购买时间", "日期", "时间"),
    },
}
REQUIRED = {PURCHASES: ("order_id",)}  # and, per row, an email or a phone; purchases an amount

TRUE = frozenset({"true", "yes", "y", "1", "是", "同意", "接受", "√", "✓"})
FALSE = frozenset({"false", "no", "n", "0", "否", "不同意", "不接受", "×", "✗"})
LOCALES = {"en": "en", "english": "en", "英文": "en", "英语": "en", "zh": "zh-CN", "zh-cn": "zh-CN",
           "zh_cn": "zh-CN", "zh-hans": "zh-CN", "chinese": "zh-CN", "中文": "zh-CN", "简体中文": "zh-CN"}
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s.]{2,}$")
_ORDER_ID = re.compile(r"^[A-Za-z0-9._:/#-]{1,64}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class UnreadableFile(LoyaltyError):
    """The file as a whole cannot be read (its encoding, its header); no row of it is imported."""

    slug, status, title = "unreadable-csv", 422, "The file cannot be read as CSV"


@dataclass(frozen=True)
class RowError:
    row: int
    column: str | None
    msg: str

    def message(self) -> str:
        return f"row {self.row}, {self.column}: {self.msg}" if self.column else f"row {self.row}: {self.msg}"


@dataclass(frozen=True)
class MemberRow:
    row: int
    email: str | None  # case-folded
    phone: str | None  # E.164
    display_name: str | None
    birthday: date | None
    joined_at: datetime | None
    locale: str | None
    marketing_opt_in: bool | None
    referrer_email: str | None
    referrer_phone: str | None
    opening_points: int


@dataclass(frozen=True)
class PurchaseRow:
    row: int
    order_id: str
    email: str | None
    phone: str | None
    amount_minor: int
    currency: str | None
    occurred_at: datetime | None


@dataclass
class Layout:
    """What the header said: the encoding, the separator, which position holds which column, what was ignored."""

    encoding: str
    delimiter: str
    columns: dict[str, int]
    ignored: list[str] = field(default_factory=list)


def detect_encoding(stream: IO[bytes], chunk: int = 1 << 16) -> str:
    """``utf-8-sig`` when the whole stream is UTF-8 (with a byte-order mark or not), else ``gb18030`` when it is
    that; reads the stream once, a chunk at a time, and leaves it at its start."""
    for encoding in ENCODINGS:
        stream.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        try:
            while data := stream.read(chunk):
                decoder.decode(data)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        stream.seek(0)
        return encoding
    stream.seek(0)
    raise UnreadableFile("The file is neither UTF-8 nor GB18030: save it from the spreadsheet as \"CSV UTF-8\"")


def read(stream: IO[bytes], kind: str) -> tuple[Layout, Iterator[MemberRow | PurchaseRow | RowError]]:
    """The file's layout and its rows, each a typed row or the error that keeps it out (bad rows never stop the
    good ones). Raises ``UnreadableFile`` for what keeps the whole file out."""
    if kind not in KINDS:
        raise UnreadableFile(f"kind must be one of {', '.join(KINDS)}")
    encoding = detect_encoding(stream)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    sample = text.read(1 << 14)
    text.seek(0)
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(text, delimiter=dialect.delimiter, quotechar='"', doublequote=True, strict=False)
    header = next(reader, None)
    if not header:
        raise UnreadableFile("The file is empty: its first row must name the columns")
    layout = _layout(header, kind, encoding, dialect.delimiter)
    parse = _member if kind == MEMBERS else _purchase
    return layout, _rows(reader, parse, layout)


def _rows(reader: Any, parse: Any, layout: Layout) -> Iterator[MemberRow | PurchaseRow | RowError]:
    n = 1
    while True:
        n += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # a field past the csv module's limit (a quote never closed): nothing after it
            raise UnreadableFile(f"Row {n} cannot be read ({error}): is a quote left open?") from None
        if any(c.strip() for c in cells):
            yield _row(parse, cells, layout, n)


def _key(name: str) -> str:
    return re.sub(r"[\s_-]+", "", unicodedata.normalize("NFKC", name)).casefold()


def _layout(header: list[str], kind: str, encoding: str, delimiter: str) -> Layout:
    names = {_key(alias): column for column, aliases in HEADERS[kind].items() for alias in aliases}
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for position, name in enumerate(header):
        column = names.get(_key(name))
        if column is None or column in columns:
            if name.strip():
                ignored.append(name.strip())
            continue
        columns[column] = position
    missing = [c for c in REQUIRED.get(kind, ()) if c not in columns]
    if "email" not in columns and "phone" not in columns:
        missing.append("email or phone")
    if kind == PURCHASES and "amount_minor" not in columns and "amount" not in columns:
        missing.append("amount_minor or amount")
    if missing:
        named = ", ".join(h.strip() for h in header)
        raise UnreadableFile(f"The header lacks {', '.join(missing)} (it names: {named})")
    return Layout(encoding, delimiter, columns, ignored)


class _Bad(Exception):
    def __init__(self, column: str | None, msg: str) -> None:
        super().__init__(msg)
        self.column, self.msg = column, msg


def _row(parse: Any, cells: list[str], layout: Layout, n: int) -> MemberRow | PurchaseRow | RowError:
    values: dict[str, str] = {}
    for column, position in layout.columns.items():
        value = unicodedata.normalize("NFKC", cells[position]).strip() if position < len(cells) else ""
        if len(value) > MAX_CELL:
            return RowError(n, column, f"longer than {MAX_CELL} characters")
        if value:
            values[column] = value
    try:
        row: MemberRow | PurchaseRow = parse(n, values)
    except _Bad as bad:
        return RowError(n, bad.column, bad.msg)
    return row


def _contact(values: dict[str, str], email_column: str, phone_column: str) -> tuple[str | None, str | None]:
    email = values.get(email_column)
    if email is not None:
        if not _EMAIL.match(email):
            raise _Bad(email_column, f"not an email address: {email!r}")
        email = email.casefold()
    phone = values.get(phone_column)
    if phone is not None:
        normal = normalize_phone(phone)
        if normal is None:
            raise _Bad(phone_column, f"not a phone number: {phone!r} (E.164, or a Chinese number)")
        phone = normal
    return email, phone


def _member(n: int, values: dict[str, str]) -> MemberRow:
    email, phone = _contact(values, "email", "phone")
    if email is None and phone is None:
        raise _Bad(None, "a row needs an email or a phone")
    referrer_email, referrer_phone = _contact(values, "referrer_email", "referrer_phone")
    if referrer_email is not None and referrer_email == email:
        raise _Bad("referrer_email", "a member cannot refer themselves")
    if referrer_phone is not None and referrer_phone == phone:
        raise _Bad("referrer_phone", "a member cannot refer themselves")
    name = values.get("display_name")
    if name is not None and any(unicodedata.category(ch).startswith("C") for ch in name):
        raise _Bad("display_name", "control characters are not allowed")
    return MemberRow(
        row=n, email=email, phone=phone, display_name=name[:100] if name else None,
        birthday=_birthday(values.get("birthday")), joined_at=_instant(values, "joined_at"),
        locale=_locale(values.get("locale")), marketing_opt_in=_flag(values.get("marketing_opt_in")),
        referrer_email=referrer_email, referrer_phone=referrer_phone,
        opening_points=_integer(values, "opening_points", 0, MAX_OPENING_POINTS) or 0)


def _purchase(n: int, values: dict[str, str]) -> PurchaseRow:
    order_id = values.get("order_id")
    if order_id is None:
        raise _Bad("order_id", "missing")
    if not _ORDER_ID.match(order_id):
        raise _Bad("order_id", "letters, digits and . _ : / # - only, at most 64")
    email, phone = _contact(values, "email", "phone")
    if email is None and phone is None:
        raise _Bad(None, "a row needs an email or a phone")
    amount = _integer(values, "amount_minor", 0, MAX_AMOUNT_MINOR)
    if amount is None:
        amount = _major(values.get("amount"))
    currency = values.get("currency")
    if currency is not None:
        currency = currency.upper()
        if not _CURRENCY.match(currency):
            raise _Bad("currency", f"not an ISO 4217 code: {currency!r}")
    return PurchaseRow(row=n, order_id=order_id, email=email, phone=phone, amount_minor=amount, currency=currency,
                       occurred_at=_instant(values, "occurred_at"))


def _integer(values: dict[str, str], column: str, low: int, high: int) -> int | None:
    text = values.get(column)
    if text is None:
        return None
    digits = text.replace(",", "").replace("_", "")
    if not re.fullmatch(r"[0-9]+", digits):
        raise _Bad(column, f"not a whole number: {text!r}")
    value = int(digits)
    if not low <= value <= high:
        raise _Bad(column, f"must be {low}–{high:,}")
    return value


def _major(text: str | None) -> int:
    """An amount in major units (``129.00``, ``1,290``, ``¥129.5``) as an exact count of minor units."""
    if text is None:
        raise _Bad("amount_minor", "missing (or give amount, in major units)")
    cleaned = text.replace(",", "").lstrip("¥￥$€").strip()
    if not re.fullmatch(r"[0-9]{1,15}(\.[0-9]{1,15})?", cleaned):  # no exponents, NaN or signs: digits and a point
        raise _Bad("amount", f"not an amount: {text!r}")
    minor = Decimal(cleaned).scaleb(CURRENCY_EXPONENT)
    if minor != minor.to_integral_value():
        raise _Bad("amount", f"not an amount in whole cents: {text!r}")
    if minor > MAX_AMOUNT_MINOR:
        raise _Bad("amount", "too large")
    return int(minor)


def _birthday(text: str | None) -> date | None:
    if text is None:
        return None
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    try:
        if match is None:
            raise ValueError
        born = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise _Bad("birthday", f"not a date (YYYY-MM-DD): {text!r}") from None
    if born.year < 1900:
        raise _Bad("birthday", "must be after 1900-01-01")
    return born


def _instant(values: dict[str, str], column: str) -> datetime | None:
    """An RFC 3339 time, or a date or local time as spreadsheets write them (``2024/3/5``, ``2024-03-05 10:00``),
    taken as the shop's time (UTC+8) when it carries no offset."""
    text = values.get(column)
    if text is None:
        return None
    normal = re.sub(r"^(\d{4})[/.年](\d{1,2})[/.月](\d{1,2})日?", lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}",
                    text.strip())
    normal = re.sub(r"^(\d{4}-\d{2}-\d{2}) (\d{1,2}):", lambda m: f"{m[1]}T{int(m[2]):02d}:", normal)
    try:
        moment = datetime.fromisoformat(normal.replace("Z", "+00:00"))
    except ValueError:
        raise _Bad(column, f"not a date or time: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA)
    if moment.year < 1990:
        raise _Bad(column, "before 1990")
    return moment.astimezone(UTC)


def _locale(text: str | None) -> str | None:
    if text is None:
        return None
    found = LOCALES.get(text.casefold())
    if found is None:
        raise _Bad("locale", f"one of en, zh-CN: {text!r}")
    return found


def _flag(text: str | None) -> bool | None:
    if text is None:
        return None
    if text.casefold() in TRUE:
        return True
    if text.casefold() in FALSE:
        return False
    raise _Bad("marketing_opt_in", f"yes or no: {text!r}")
