"""Reading shops' CSV files (loyalty/imports/csvrows.py): the encodings and dialects spreadsheets save, headers in
English or Chinese, and every bad row named by its row and column while the good ones are read."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.imports.csvrows import (
    MEMBERS,
    PURCHASES,
    MemberRow,
    PurchaseRow,
    RowError,
    UnreadableFile,
    detect_encoding,
    read,
)


def _file(rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ",", bom: bool = False) -> io.BytesIO:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    data = out.getvalue().encode(encoding)
    return io.BytesIO((b"\xef\xbb\xbf" if bom else b"") + data)


def _rows(stream: io.BytesIO, kind: str = MEMBERS) -> list[MemberRow | PurchaseRow | RowError]:
    return list(read(stream, kind)[1])


@pytest.mark.parametrize(("encoding", "bom"), [("utf-8", False), ("utf-8", True), ("gb18030", False)])
def test_a_chinese_list_reads_the_same_in_every_encoding_spreadsheets_save(encoding: str, bom: bool) -> None:
    stream = _file([["手机号", "姓名", "生日", "入会时间", "期初积分", "语言", "接受营销"],
                    ["138 0013 8000", "李伟", "1990/5/1", "2024/3/5", "1,200", "中文", "是"]], encoding, bom=bom)
    layout, rows = read(stream, MEMBERS)
    assert layout.encoding == ("utf-8-sig" if encoding == "utf-8" else "gb18030")
    assert list(rows) == [MemberRow(
        row=2, email=None, phone="+8613800138000", display_name="李伟", birthday=date(1990, 5, 1),
        joined_at=datetime(2024, 3, 4, 16, 0, tzinfo=UTC), locale="zh-CN", marketing_opt_in=True,
        referrer_email=None, referrer_phone=None, opening_points=1200)]


def test_gb18030_is_told_apart_from_utf8_by_the_whole_file_not_its_start() -> None:
    head = "email,display_name\n" + "".join(f"a{n}@example.com,A{n}\n" for n in range(5000))
    stream = io.BytesIO((head + "b@example.com,王芳\n").encode("gb18030"))
    assert detect_encoding(stream, chunk=1024) == "gb18030"
    assert stream.tell() == 0


def test_a_file_in_neither_encoding_is_refused_as_a_whole() -> None:
    with pytest.raises(UnreadableFile, match="UTF-8 nor GB18030"):
        read(io.BytesIO(b"email,display_name\nx@example.com,\xff\xfe\xff\n"), MEMBERS)


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_quoted_fields_keep_their_separators_quotes_and_line_breaks(delimiter: str) -> None:
    stream = _file([["E-mail", " Display Name ", "Phone", "Note"],
                    ["li@example.com", 'Li, "the boss"; Wei', "", "two\nlines"],
                    ["wei@example.com", "Wei\nLi", "", ""]], delimiter=delimiter)
    layout, rows = read(stream, MEMBERS)
    first, second = list(rows)
    assert layout.delimiter == delimiter and layout.ignored == ["Note"]
    assert isinstance(first, MemberRow) and first.display_name == 'Li, "the boss"; Wei' and first.phone is None
    assert second == RowError(3, "display_name", "control characters are not allowed")  # it would end up in emails


def test_each_bad_row_is_named_by_its_row_and_column_and_the_good_ones_are_read() -> None:
    stream = _file([
        ["email", "phone", "birthday", "opening_points", "locale", "marketing_opt_in", "referrer_email", "note"],
        ["ok@example.com", "", "", "", "", "", "", "kept out"],
        ["not-an-email", "", "", "", "", "", "", ""],
        ["", "12", "", "", "", "", "", ""],
        ["", "", "", "", "", "", "", ""],  # blank: skipped, not an error
        ["", "", "1990-01-01", "", "", "", "", ""],
        ["b@example.com", "", "1990-02-30", "", "", "", "", ""],
        ["c@example.com", "", "", "-5", "", "", "", ""],
        ["d@example.com", "", "", "", "fr", "", "", ""],
        ["e@example.com", "", "", "", "", "maybe", "", ""],
        ["F@Example.com", "", "", "", "", "", "f@example.com", ""],
        ["g@example.com", "+44 20 7946 0958", "", "3", "en", "no", "ok@example.com", ""],
    ])
    layout, rows = read(stream, MEMBERS)
    assert layout.ignored == ["note"]
    found = list(rows)
    errors = [(r.row, r.column) for r in found if isinstance(r, RowError)]
    assert errors == [(3, "email"), (4, "phone"), (6, None), (7, "birthday"), (8, "opening_points"), (9, "locale"),
                      (10, "marketing_opt_in"), (11, "referrer_email")]
    good = [r for r in found if isinstance(r, MemberRow)]
    assert [(r.row, r.email, r.phone, r.opening_points) for r in good] == [
        (2, "ok@example.com", None, 0), (12, "g@example.com", "+442079460958", 3)]
    assert good[1].referrer_email == "ok@example.com" and good[1].marketing_opt_in is False


def test_a_header_without_a_contact_column_refuses_the_file() -> None:
    with pytest.raises(UnreadableFile, match="email or phone"):
        read(_file([["display_name"], ["Li"]]), MEMBERS)
    with pytest.raises(UnreadableFile, match="order_id"):
        read(_file([["email", "amount_minor"], ["a@example.com", "100"]]), PURCHASES)
    with pytest.raises(UnreadableFile, match="empty"):
        read(io.BytesIO(b""), MEMBERS)


def test_purchases_take_minor_units_or_exact_major_units_and_times_as_spreadsheets_write_them() -> None:
    stream = _file([["订单号", "手机", "金额", "币种", "下单时间"],
                    ["POS-1", "13800138000", "¥129.50", "cny", "2025/11/3 9:30"],
                    ["POS-2", "13800138000", "1,290", "CNY", "2025-11-03T09:30:00Z"],
                    ["POS-3", "13800138000", "12.345", "CNY", ""],
                    ["POS 4", "13800138000", "1", "CNY", ""],
                    ["POS-5", "13800138000", "1", "RMB1", ""],
                    ["POS-6", "13800138000", "1", "", "yesterday"],
                    ["POS-7", "13800138000", "sNaN", "", ""],
                    ["POS-8", "13800138000", "1e999999999", "", ""],
                    ["POS-9", "13800138000", "-1", "", ""]], "gb18030")
    rows = _rows(stream, PURCHASES)
    assert rows[0] == PurchaseRow(row=2, order_id="POS-1", email=None, phone="+8613800138000", amount_minor=12950,
                                  currency="CNY", occurred_at=datetime(2025, 11, 3, 1, 30, tzinfo=UTC))
    assert isinstance(rows[1], PurchaseRow) and rows[1].amount_minor == 129000
    assert rows[1].occurred_at == datetime(2025, 11, 3, 9, 30, tzinfo=UTC)
    assert [(r.row, r.column) for r in rows[2:] if isinstance(r, RowError)] == [
        (4, "amount"), (5, "order_id"), (6, "currency"), (7, "occurred_at"), (8, "amount"), (9, "amount"),
        (10, "amount")]


def test_a_quote_left_open_refuses_the_file_at_its_row() -> None:
    stream = io.BytesIO(b'email,display_name\na@example.com,A\nb@example.com,"' + b"x" * 200_000 + b"\n")
    rows = read(stream, MEMBERS)[1]
    assert isinstance(next(rows), MemberRow)
    with pytest.raises(UnreadableFile, match="Row 3"):
        next(rows)


def test_amount_minor_wins_over_amount_and_must_be_whole() -> None:
    rows = _rows(_file([["order_id", "email", "amount_minor", "amount"],
                        ["A", "a@example.com", "12900", "1"], ["B", "a@example.com", "12.5", ""]]), PURCHASES)
    assert isinstance(rows[0], PurchaseRow) and rows[0].amount_minor == 12900
    assert isinstance(rows[1], RowError) and rows[1].column == "amount_minor"


names = st.text(st.characters(blacklist_categories=("C", "Zl", "Zp"), blacklist_characters="\x00"), min_size=1,
                max_size=40).map(str.strip).filter(bool)


@settings(max_examples=60, deadline=None)
@given(people=st.lists(st.tuples(st.integers(0, 10**6), names, st.integers(0, 10**6)), min_size=1, max_size=20,
                       unique_by=lambda p: p[0]),
       encoding=st.sampled_from(["utf-8", "gb18030"]), bom=st.booleans(), delimiter=st.sampled_from([",", ";", "\t"]))
def test_what_a_spreadsheet_writes_is_read_back_exactly(people: list[tuple[int, str, int]], encoding: str, bom: bool,
                                                        delimiter: str) -> None:
    rows = [["邮箱", "姓名", "期初积分"]] + [[f"m{n}@example.com", name, str(points)] for n, name, points in people]
    found = _rows(_file(rows, encoding, delimiter, bom=bom and encoding == "utf-8"))
    assert all(isinstance(r, MemberRow) for r in found), found
    assert [(r.email, r.display_name, r.opening_points) for r in found if isinstance(r, MemberRow)] == [
        (f"m{n}@example.com", _nfkc(name)[:100], points) for n, name, points in people]


def _nfkc(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKC", text).strip()
