"""A citizen ID never shows whole in a repr, a log line or a traceback (privacy by design)."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from famplan_core.model.identity import CitizenId


@given(
    st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2026, 1, 1)),
    st.integers(min_value=0, max_value=999),
)
def test_repr_shows_only_first_six_and_last_four(born: dt.date, sequence: int) -> None:
    first17 = f"110105{born:%Y%m%d}{sequence:03d}"
    number = first17 + CitizenId.check_character(first17)
    citizen_id = CitizenId(number)
    shown = repr(citizen_id)
    assert number not in shown
    assert shown == f"CitizenId('{number[:6]}********{number[-4:]}')"
    assert citizen_id.value == number


def test_a_logged_record_does_not_leak_the_number(caplog: pytest.LogCaptureFixture) -> None:
    citizen_id = CitizenId("11010519491231002X")
    with caplog.at_level(logging.INFO):
        logging.getLogger("famplan_core.test").info("registered %r", citizen_id)
    assert "11010519491231002X" not in caplog.text
