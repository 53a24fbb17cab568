"""Explaining one decision at county scale stays interactive (< 0.2 s at 1,000,000 rows)."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from famplan_core.programs import national_parameter_set, national_programs
from famplan_core.rules import evaluate_program, explain
from famplan_core.rules.testing_frames import random_frame


@pytest.mark.slow
def test_r0_9_explanation_at_one_million_rows_is_fast_and_agrees() -> None:
    frame = random_frame(1_000_000, dt.date(2026, 11, 1))
    params = national_parameter_set()
    for program in national_programs():
        result = evaluate_program(program, frame, params)
        rows = [0, 999_999, *result.rows[:3].tolist()]
        for row in rows:
            started = time.perf_counter()
            explanation = explain(program, frame, row, params)
            assert time.perf_counter() - started < 0.2
            assert explanation.entitled == (row in result.rows)
            assert explanation.amount == result.amount_of(row)
