"""`make mutants` stays runnable: every planted bug of ops/mutants.py still names text that occurs exactly once in
its file (a refactoring that moves the code must move the mutant too), and planting it changes the file."""

from __future__ import annotations

import pytest

from ops.mutants import MUTANTS, ROOT, Mutant


def test_every_mutant_has_a_unique_name() -> None:
    names = [m.name for m in MUTANTS]
    assert len(names) == len(set(names)) and len(names) >= 20


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_every_mutant_still_finds_its_code(mutant: Mutant) -> None:
    source = (ROOT / mutant.path).read_text(encoding="utf-8")
    assert source.count(mutant.old) == 1, f"{mutant.path} has {source.count(mutant.old)} of {mutant.old!r}"
    assert mutant.new != mutant.old
