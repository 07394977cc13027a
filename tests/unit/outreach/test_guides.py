"""Choosing an order's usage guides and writing them into an email (pure domain and templates)."""

from __future__ import annotations

from loyalty.outreach import templates
from loyalty.outreach.plans import MAX_GUIDES, Guide, ReplacementRule, guides_for, replacement_interval

FILTERS = {"en": Guide("Filters", "Rinse first."), "zh-CN": Guide("滤芯", "先冲洗。")}
F1 = {"en": Guide("Filter F-1", "Turn it a quarter left.")}
RULES = [ReplacementRule(90, category="filters", guide=FILTERS), ReplacementRule(sku="F-1", guide=F1),
         ReplacementRule(30, sku="F-2"), ReplacementRule(category="mugs", guide={"zh-CN": Guide("杯子", "手洗。")})]


def item(sku: str, category: str | None = None) -> dict[str, str]:
    return {"sku": sku, **({"category": category} if category else {})}


def test_a_skus_guide_wins_over_its_categorys() -> None:
    assert guides_for([item("F-1", "filters")], RULES) == [F1]
    assert guides_for([item("F-9", "filters")], RULES) == [FILTERS]


def test_a_sku_rule_without_a_guide_leaves_its_categorys_guide_and_one_without_an_interval_its_interval() -> None:
    assert guides_for([item("F-2", "filters")], RULES) == [FILTERS]
    assert replacement_interval(item("F-2", "filters"), RULES).interval_days == 30  # type: ignore[union-attr]
    assert replacement_interval(item("F-1", "filters"), RULES).interval_days == 90  # type: ignore[union-attr]
    assert replacement_interval(item("M", "mugs"), RULES) is None  # a guide, no interval: no reminder


def test_each_guide_once_in_the_order_of_the_items_and_at_most_the_limit() -> None:
    order = [item("F-9", "filters"), item("F-8", "filters"), item("M-1", "mugs"), item("F-7", "filters"),
             item("X"), item("F-1", "filters")]
    assert guides_for(order, RULES) == [FILTERS, RULES[3].guide, F1]
    many = [ReplacementRule(sku=f"S-{n}", guide={"en": Guide(f"Guide {n}", "Text.")}) for n in range(10)]
    assert len(guides_for([item(f"S-{n}") for n in range(10)], many)) == MAX_GUIDES
    same = [ReplacementRule(sku="A", guide=F1), ReplacementRule(sku="B", guide=F1)]
    assert guides_for([item("A"), item("B")], same) == [F1]  # the same guide on two rules: shown once
    assert guides_for([item("X"), item("Y", "cups")], RULES) == []


def test_a_rule_stored_before_guides_existed_reads_as_one_without_a_guide() -> None:
    old = ReplacementRule.from_dict({"interval_days": 90, "sku": None, "category": "filters", "name": "Filters"})
    assert old == ReplacementRule(90, category="filters", name="Filters") and old.guide == {}
    stored = {"interval_days": None, "sku": "F-1", "category": None, "name": None,
              "guide": {"en": {"title": "T", "text": "x", "link": None}}}
    assert ReplacementRule.from_dict(stored).guide == {"en": Guide("T", "x")}


def test_the_section_is_in_the_members_language_else_the_other_one() -> None:
    zh = templates.guide_section([FILTERS, F1], "zh-CN")
    assert zh.text.startswith("使用指南\n\n滤芯\n先冲洗。\n\nFilter F-1\nTurn it a quarter left.")
    assert "Rinse first." not in zh.text
    en = templates.guide_section([FILTERS, RULES[3].guide], "en-GB")
    assert en.text.startswith("How to use what you bought\n\nFilters\nRinse first.\n\n杯子\n手洗。")
    fr = templates.guide_section([FILTERS], "fr")  # a language the shop writes no guide in: English
    assert "Rinse first." in fr.text and "先冲洗" not in fr.text
    assert templates.guide_section([], "zh-CN") == templates.Section("", "")


def test_the_shops_text_is_escaped_in_html_with_its_line_breaks_and_link() -> None:
    guide = Guide('<script>alert("x")</script>', "One & two\n<b>three</b>", 'https://shop.example/a?b=1&c="2"')
    section = templates.guide_section([{"en": guide}], "en")
    assert "<script>" not in section.html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in section.html
    assert "One &amp; two<br>&lt;b&gt;three&lt;/b&gt;" in section.html
    assert '<a href="https://shop.example/a?b=1&amp;c=&quot;2&quot;">Read more</a>' in section.html
    assert "One & two\n<b>three</b>\nhttps://shop.example/a?b=1&c=\"2\"" in section.text  # plain text as written
