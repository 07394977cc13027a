"""Link codes: their check catches every typo of one character and every swap of two neighbours, their tag
refuses codes the service did not issue, and people may type them in any case with spaces and dashes."""

from __future__ import annotations

import itertools
import random
from datetime import date

import pytest

from loyalty.members.domain import CODE_ALPHABET
from loyalty.partners import domain
from loyalty.partners.domain import (
    LINK_CODE_LENGTH,
    ClickId,
    canonical,
    grouped,
    is_link_code,
    is_member_code,
    is_typo_free,
    new_link_code,
    read_click_id,
    visitor_of,
)

KEY = b"k" * 64
OTHER_KEY = b"o" * 64
_DRAWS = random.Random(20261123)  # the same codes in every test process (xdist compares what they collect)
CODES = [new_link_code(KEY, draw=lambda: "".join(_DRAWS.choice(CODE_ALPHABET) for _ in range(10)))
         for _ in range(40)]


def test_a_code_is_15_characters_of_the_unambiguous_alphabet_and_checks_under_its_key() -> None:
    for code in CODES:
        assert len(code) == LINK_CODE_LENGTH <= 16
        assert set(code) <= set(CODE_ALPHABET)
        assert is_link_code(code, KEY)
        assert not is_link_code(code, OTHER_KEY)  # a code of another key (or made up with the right check) fails
    assert len(set(CODES)) == len(CODES)


@pytest.mark.parametrize("n", range(10))  # by position: the codes are drawn afresh by every process that collects
def test_every_single_character_substitution_is_caught_without_the_key(n: int) -> None:
    code = CODES[n]
    for position, wrong in itertools.product(range(len(code)), CODE_ALPHABET):
        if wrong != code[position]:
            typo = code[:position] + wrong + code[position + 1:]
            assert not is_typo_free(typo), typo
            assert not is_link_code(typo, KEY), typo


@pytest.mark.parametrize("n", range(len(CODES)))
def test_every_swap_of_two_neighbours_is_caught(n: int) -> None:
    code = CODES[n]
    for position in range(len(code) - 1):
        swapped = code[:position] + code[position + 1] + code[position] + code[position + 2:]
        if swapped != code:
            assert not is_typo_free(swapped), swapped


def test_a_forged_code_fails_its_tag_even_with_a_good_check_character() -> None:
    forged = new_link_code(OTHER_KEY)
    assert is_typo_free(forged) and not is_link_code(forged, KEY)



def test_a_draw_whose_check_value_has_no_character_is_drawn_again() -> None:
    no_character = next(p for p in ("".join(t) + "2" * 8 for t in itertools.product(CODE_ALPHABET, repeat=2))
                        if domain._check_value(p + domain._tag(p, KEY)) == len(CODE_ALPHABET))
    draws = iter([no_character, "3" * 10])
    code = new_link_code(KEY, draw=lambda: next(draws))
    assert code.startswith("3" * 10) and is_link_code(code, KEY)


def test_people_may_type_a_code_in_any_case_with_spaces_and_dashes() -> None:
    code = CODES[0]
    typed = " " + grouped(code).lower().replace("-", " - ") + "\t"
    assert canonical(typed) == code
    assert grouped(code) == f"{code[:5]}-{code[5:10]}-{code[10:]}"
    assert not is_link_code(canonical(code + "2"), KEY) and not is_link_code(code[:-1], KEY)
    assert is_member_code(canonical("k7q2-m9xd")) and not is_member_code(code)
    assert not is_link_code("O" * 15, KEY)  # letters outside the alphabet


def test_a_click_id_names_its_code_and_cannot_be_made_up() -> None:
    click = ClickId(CODES[0], date(2026, 11, 23), visitor_of(date(2026, 11, 23), "203.0.113.9", "UA", KEY))
    signed = click.signed(KEY)
    assert read_click_id(signed, KEY) == click
    assert read_click_id(signed, OTHER_KEY) is None
    assert read_click_id(signed.replace(CODES[0], CODES[1]), KEY) is None
    assert read_click_id(signed[:-1] + ("A" if signed[-1] != "A" else "B"), KEY) is None
    assert read_click_id("", KEY) is None and read_click_id("x.y.z", KEY) is None
    assert "203.0.113.9" not in signed


def test_a_visitor_without_a_cookie_is_a_keyed_hash_that_changes_every_day() -> None:
    day = date(2026, 11, 23)
    one = visitor_of(day, "203.0.113.9", "Mozilla/5.0", KEY)
    assert one == visitor_of(day, "203.0.113.9", "Mozilla/5.0", KEY)
    assert one != visitor_of(day, "203.0.113.10", "Mozilla/5.0", KEY)
    assert one != visitor_of(day, "203.0.113.9", "curl/8", KEY)
    assert one != visitor_of(date(2026, 11, 24), "203.0.113.9", "Mozilla/5.0", KEY)
    assert one != visitor_of(day, "203.0.113.9", "Mozilla/5.0", OTHER_KEY)
    assert len(one) == 16 and set(one) <= set(CODE_ALPHABET)
