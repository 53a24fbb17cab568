"""Rules benchmark: the four monthly national programs over a random facts frame.

Run on demand, e.g.::

    .venv/bin/python benchmarks/bench_rules.py --persons 1000000

It builds a random `FactsFrame` (`famplan_core.rules.testing_frames.random_frame`), then
times `evaluate_program` for R1-R4 (median of `--repeat` runs) against a hand-written NumPy
evaluation of the same rules on the same columns: the floor. Both must give the same rows
and amounts. It also times `explain` for one row per program. It prints seconds, the ratio
to the floor (goal: within 3x) and persons/s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from famplan_core.model.frame import FactsFrame
from famplan_core.programs import national_parameter_set, national_programs
from famplan_core.rules import evaluate_program, explain, latest_birth_for_age
from famplan_core.rules.testing_frames import random_frame

Result = dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]


def ours(frame: FactsFrame) -> Result:
    """The library: every monthly national program through `evaluate_program`."""
    params = national_parameter_set()
    out: Result = {}
    for program in national_programs():
        if program.monthly:
            result = evaluate_program(program, frame, params)
            out[program.code] = (result.rows, result.amounts_fen)
    return out


def floor(frame: FactsFrame) -> Result:
    """The same rules written by hand in NumPy, with the national values as constants.

    Written as a careful hand would: person-row rules narrow to candidate rows before reading
    the facts of linked rows (the only child, a certificate's child).
    """
    day = np.datetime64(frame.date, "D")
    inside, alive, age = frame.in_jurisdiction, frame.alive, frame.age
    out: Result = {}

    rows = np.flatnonzero(inside & alive & (age >= 0) & (age < 3))
    out["childcare_subsidy"] = (rows, np.full(len(rows), 30000, dtype=np.int64))

    born = frame.birth_date >= np.datetime64("1933-01-01", "D")
    ever, daughters = frame.ever_children, frame.ever_daughters
    mask = inside & alive & born & (age >= 60) & frame.hukou_known & frame.hukou_rural
    mask &= (ever >= 1) & ((ever == 1) | ((ever == 2) & (daughters == 2)))
    rows = np.flatnonzero(mask)
    out["rural_reward"] = (rows, np.full(len(rows), 8000, dtype=np.int64))

    only = frame.only_child
    mother = frame.only_child_mother_birth_date <= np.datetime64(
        latest_birth_for_age(frame.date, 49), "D"
    )
    candidates = np.flatnonzero(inside & alive & born & (ever == 1) & (only >= 0) & mother)
    child = only[candidates]
    child_dead = ~alive[child]
    grade = frame.disability_grade[child]
    keep = child_dead | ((grade >= 1) & (grade <= 3))
    rows = candidates[keep]
    death = child_dead[keep]
    rural = frame.hukou_rural[rows]
    fen = np.where(death, np.where(rural, 17000, 34000), np.where(rural, 15000, 27000))
    out["special_assistance"] = (rows, fen.astype(np.int64))

    certificates = frame.certificates
    holder, child = certificates.holder, certificates.child
    known = child >= 0
    kid = np.where(known, child, 0)
    lapse = certificates.lapse_from
    mask = inside[holder] & (certificates.issued_on <= day) & alive[holder]
    mask &= known & alive[kid] & (age[kid] >= 0) & (age[kid] < 18)
    mask &= np.isnat(lapse) | (day < lapse)
    entitled = np.flatnonzero(mask)
    holders = holder[entitled]
    order = np.lexsort((certificates.issued_on[entitled].view(np.int64), holders))
    firsts = np.ones(len(order), dtype=np.bool_)
    firsts[1:] = holders[order][1:] != holders[order][:-1]
    rows = holders[order][firsts]
    out["only_child_reward"] = (rows, np.full(len(rows), 1000, dtype=np.int64))
    return out


def paired_medians(
    first: Callable[[FactsFrame], Result],
    second: Callable[[FactsFrame], Result],
    frame: FactsFrame,
    repeat: int,
) -> tuple[float, float]:
    """Median seconds of each, run alternately (A B A B ...) so machine drift hits both."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for function, bucket in ((first, times[0]), (second, times[1])):
            started = time.perf_counter()
            function(frame)
            bucket.append(time.perf_counter() - started)
    return statistics.median(times[0]), statistics.median(times[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date(2026, 11, 1))
    args = parser.parse_args()

    started = time.perf_counter()
    frame = random_frame(args.persons, args.date)
    build = time.perf_counter() - started
    print(
        f"frame: {args.persons:,} persons, {len(frame.certificates):,} certificates, "
        f"D={args.date}, built in {build:.2f} s"
    )

    mine, hand = ours(frame), floor(frame)
    for code, (rows, fen) in hand.items():
        their_rows, their_fen = mine[code]
        assert np.array_equal(rows, their_rows), code
        assert np.array_equal(fen, their_fen), code
        print(f"  {code:20s} {len(rows):>9,} entitled, total {int(fen.sum()) / 100:,.2f}")

    paired_medians(ours, floor, frame, 1)  # warm-up
    t_ours, t_floor = paired_medians(ours, floor, frame, args.repeat)
    rate = args.persons / t_ours / 1e6
    print(f"evaluate_program, 4 programs: {t_ours:.4f} s ({rate:.1f}M persons/s)")
    print(f"hand-written numpy floor:     {t_floor:.4f} s")
    print(f"ratio to floor:               {t_ours / t_floor:.2f}x (goal <= 3x)")

    params = national_parameter_set()
    for program in national_programs():
        if not program.monthly:
            continue
        single = evaluate_program(program, frame, params)
        row = int(single.rows[0]) if len(single) else 0
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            explain(program, frame, row, params)
            times.append(time.perf_counter() - started)
        one = statistics.median(times)
        started = time.perf_counter()
        evaluate_program(program, frame, params)
        whole = time.perf_counter() - started
        print(f"  {program.code:20s} evaluate {whole:.4f} s, explain one row {one * 1000:.2f} ms")


if __name__ == "__main__":
    main()
