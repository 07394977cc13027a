"""Segments' classing (docs/segments.md) against an independent, naive computation over generated populations: each
member's rank counted one by one, the limits by float ceilings; ties, few spenders, nobody who spent; the recency
boundaries."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.segments.domain import CELLS, SegmentSettings, Spend, classes, computed, grade_of
from loyalty.shared.errors import ValidationProblem

TODAY = date(2026, 11, 23)
DEFAULT = SegmentSettings()


def naive_class(member: str, spend: dict[str, int], a: int = 10, b: int = 30, c: int = 60) -> str:
    """The spec's words, literally: rank r among the N members who spent; ties take the better class."""
    if spend[member] <= 0:
        return "D"
    n = sum(1 for v in spend.values() if v > 0)
    r = 1 + sum(1 for v in spend.values() if v > spend[member])
    for share, klass in ((a, "A"), (b, "B"), (c, "C")):
        if r <= math.ceil(share * n / 100):
            return klass
    return "D"


populations = st.dictionaries(st.text("abcdefghij", min_size=1, max_size=4),
                              st.one_of(st.just(0), st.integers(-500, 0), st.integers(1, 20), st.integers(1, 10**9)),
                              max_size=60)
shares = st.tuples(st.integers(1, 100), st.integers(1, 100), st.integers(1, 100)).map(sorted)


@given(populations, shares)
def test_classes_agree_with_the_naive_ranking(spend: dict[str, int], abc: list[int]) -> None:
    a, b, c = abc
    settings = SegmentSettings(a, b, c)
    assert classes(spend, settings) == {m: naive_class(m, spend, a, b, c) for m in spend}


@given(populations)
def test_equal_spend_is_always_the_same_class(spend: dict[str, int]) -> None:
    found = classes(spend, DEFAULT)
    for m in spend:
        for o in spend:
            if spend[m] == spend[o]:
                assert found[m] == found[o]


def test_few_spenders_ties_and_nobody() -> None:
    assert classes({}, DEFAULT) == {}
    assert classes({"x": 0, "y": -5}, DEFAULT) == {"x": "D", "y": "D"}  # nobody spent: all D
    assert classes({"x": 1}, DEFAULT) == {"x": "A"}  # N = 1: ⌈0.1⌉ = 1
    assert classes({"x": 5, "y": 3}, DEFAULT) == {"x": "A", "y": "C"}  # N = 2: A 1, B 1, C 2
    assert classes({"x": 5, "y": 3, "z": 3}, DEFAULT) == {"x": "A", "y": "C", "z": "C"}  # N = 3, a tie at rank 2
    assert classes({"x": 7, "y": 7, "z": 7, "w": 0}, DEFAULT) == {"x": "A", "y": "A", "z": "A", "w": "D"}
    ten = {f"m{n}": n + 1 for n in range(10)}  # N = 10: A 1, B 3, C 6
    assert [classes(ten, DEFAULT)[f"m{n}"] for n in range(10)] == list("DDDDCCCBBA")


@pytest.mark.parametrize(("days", "grade"), [(0, 1), (30, 1), (31, 2), (180, 2), (181, 3), (364, 3)])
def test_recency_boundaries(days: int, grade: int) -> None:
    assert grade_of((TODAY - timedelta(days=days)).isoformat(), TODAY, DEFAULT) == grade


def test_never_bought_is_grade_3_and_class_d() -> None:
    assert grade_of(None, TODAY, DEFAULT) == 3
    spend = {"a": Spend(100, TODAY.isoformat()), "r": Spend(0, (TODAY - timedelta(days=2)).isoformat())}
    assert computed(["a", "r", "never"], spend, TODAY, DEFAULT) == {"a": "A1", "r": "D1", "never": "D3"}


@given(st.dictionaries(st.text("abcdef", min_size=1, max_size=3),
                       st.tuples(st.integers(-100, 10**6), st.integers(0, 364)), max_size=40))
def test_computed_cells_are_class_by_spend_and_grade_by_recency(people: dict[str, tuple[int, int]]) -> None:
    spend = {m: Spend(s, (TODAY - timedelta(days=d)).isoformat()) for m, (s, d) in people.items()}
    found = computed([*people, "nobody"], spend, TODAY, DEFAULT)
    amounts = {m: s for m, (s, _) in people.items()} | {"nobody": 0}
    for m, (_, d) in people.items():
        assert found[m] == naive_class(m, amounts) + ("1" if d <= 30 else "2" if d <= 180 else "3")
    assert found["nobody"] == "D3"
    assert set(found.values()) <= set(CELLS)


@pytest.mark.parametrize("bad", [SegmentSettings(30, 10, 60), SegmentSettings(10, 30, 20),
                                 SegmentSettings(grade1_days=40, grade2_days=30),
                                 SegmentSettings(grade2_days=400), SegmentSettings(0, 30, 60)])
def test_settings_must_rise(bad: SegmentSettings) -> None:
    with pytest.raises(ValidationProblem):
        bad.check()
