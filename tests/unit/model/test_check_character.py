"""One GB 11643 check routine: the column-wise check agrees with the one-number check."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from famplan_core.model.identity import CitizenId, check_character, check_characters

FIRST_17 = st.text(alphabet="0123456789", min_size=17, max_size=17)


@given(st.lists(FIRST_17, min_size=1, max_size=50))
def test_the_column_check_agrees_with_the_one_number_check(bodies: list[str]) -> None:
    digits = np.array([[int(c) for c in body] for body in bodies], dtype=np.uint8)
    codes = check_characters(digits)
    assert [chr(c) for c in codes] == [check_character(body) for body in bodies]


@given(FIRST_17)
def test_the_id_class_uses_the_same_check(body: str) -> None:
    assert CitizenId.check_character(body) == check_character(body)


def test_the_standards_example() -> None:
    assert check_character("11010519491231002") == "X"  # GB 11643-1999, Annex
    assert check_character("44052418800101001") == "4"
