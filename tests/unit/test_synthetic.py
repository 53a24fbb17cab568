"""Tests of the synthetic register generator (`famplan_core.synthetic`)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from famplan_core.synthetic import (
    FILE_COLUMNS,
    PROGRAMS,
    SyntheticRegister,
    SyntheticSpec,
    Table,
    gb11643_check,
    generate,
    write_register,
)
from famplan_core.synthetic.__main__ import main

SIZE = 4000
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


@pytest.fixture(scope="module")
def reg() -> SyntheticRegister:
    return generate(SyntheticSpec(persons=SIZE, seed=11, bad_rows=15))


def _check_char(body: str) -> str:
    """GB 11643 MOD 11-2, computed independently of the library."""
    total = sum(int(c) * w for c, w in zip(body, WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def _date(value: Any) -> dt.date | None:
    out = np.datetime64(value, "D").astype(object)
    return out if isinstance(out, dt.date) else None


def _rows(table: Table, *, good_only: bool = True) -> list[dict[str, Any]]:
    stop = table.good if good_only else len(table)
    cols = {name: table[name][:stop] for name in table}
    out = []
    for i in range(stop):
        row: dict[str, Any] = {}
        for name, values in cols.items():
            v = values[i]
            row[name] = _date(v) if values.dtype.kind == "M" else str(v)
        out.append(row)
    return out


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _write_bytes(reg: SyntheticRegister, folder: Path, **kw: Any) -> dict[str, bytes]:
    write_register(reg, folder, **kw)
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# -- determinism -------------------------------------------------------------------------


def test_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    spec = SyntheticSpec(persons=1500, seed=5, bad_rows=4)
    for fmt in ("csv", "jsonl"):
        a = _write_bytes(generate(spec), tmp_path / f"a-{fmt}", fmt=fmt)
        b = _write_bytes(generate(spec), tmp_path / f"b-{fmt}", fmt=fmt)
        assert a == b
        assert sorted(a) == sorted(f"{name}.{fmt}" for name in FILE_COLUMNS)


def test_a_different_seed_gives_different_files(tmp_path: Path) -> None:
    a = _write_bytes(generate(SyntheticSpec(persons=800, seed=1)), tmp_path / "a")
    b = _write_bytes(generate(SyntheticSpec(persons=800, seed=2)), tmp_path / "b")
    assert a["persons.csv"] != b["persons.csv"]
    assert a["parent_child.csv"] != b["parent_child.csv"]


# -- invariants over sizes, seeds and divisions -------------------------------------------


def _check_invariants(reg: SyntheticRegister) -> None:
    spec = reg.spec
    p = reg.persons
    n = p.good
    assert n == spec.persons
    ids = p["person_id"][:n]
    assert len(set(ids.tolist())) == n
    known = set(ids.tolist())
    as_of = spec.as_of
    birth = p["birth_date"][:n]
    death = p["death_date"][:n]
    assert (birth <= np.datetime64(as_of)).all()
    dead = ~np.isnat(death)
    assert (death[dead] >= birth[dead]).all()
    assert (death[dead] <= np.datetime64(as_of)).all()
    # Citizen IDs: check character, birth date, sex digit, uniqueness.
    cid = p["citizen_id"][:n]
    present = cid != ""
    assert len(set(cid[present].tolist())) == int(present.sum())
    for value, born, sex in zip(cid[present], birth[present], p["sex"][:n][present], strict=True):
        assert len(value) == 18
        assert value[:17].isdigit()
        assert value[17] == _check_char(value[:17])
        assert value[6:14] == str(born).replace("-", "")
        assert int(value[16]) % 2 == (1 if sex == "1" else 0)
    # Every reference names a person (bad rows aside).
    for name, cols in (
        ("parent_child", ("parent_id", "child_id")),
        ("unions", ("person_a", "person_b")),
        ("hukou_changes", ("person_id",)),
        ("disabilities", ("person_id",)),
        ("certificates", ("holder_id", "child_id")),
        ("enrolments", ("person_id",)),
        ("households", ("head_person_id",)),
    ):
        table = reg.tables[name]
        for col in cols:
            assert set(table[col][: table.good].tolist()) <= known, (name, col)
    hh = set(reg.households["household_id"].tolist())
    members = p["household_id"][:n]
    assert set(members[members != ""].tolist()) <= hh
    # Divisions: 12 digits; inside ones are named villages or communities.
    for code in p["hukou_division"][:n]:
        assert len(code) == 12
        assert code.isdigit()
        if code.startswith(spec.division):
            assert code in reg.village_names


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 2**31),
    persons=st.integers(1, 1500),
    division=st.sampled_from(["371502110", "371502", "370102001"]),
    bad=st.integers(0, 20),
)
def test_invariants_hold_for_any_seed_and_size(
    seed: int, persons: int, division: str, bad: int
) -> None:
    reg = generate(SyntheticSpec(seed=seed, persons=persons, division=division, bad_rows=bad))
    _check_invariants(reg)
    assert len(reg.bad_row_notes) == bad + (1 if bad >= 5 else 0) + (1 if bad >= 20 else 0)


def test_invariants_hold_for_the_fixture(reg: SyntheticRegister) -> None:
    _check_invariants(reg)


def test_citizen_ids_use_the_county_prefix_and_some_are_blank(reg: SyntheticRegister) -> None:
    p = reg.persons
    cid = p["citizen_id"][: p.good]
    present = cid[cid != ""]
    local = np.char.startswith(present, "371502").mean()
    assert 0.6 < local < 0.95  # in-married spouses and adoptees were born elsewhere
    births = p["birth_date"][: p.good]
    blank = cid == ""
    # Only children not yet registered lack an ID.
    assert (births[blank] > np.datetime64(reg.spec.as_of) - np.timedelta64(3 * 366, "D")).all()


def test_library_check_character_matches_the_independent_one() -> None:
    for body in ("11010519491231002", "37150219850218551", "44030419900101123"):
        assert gb11643_check(body) == _check_char(body)
    with pytest.raises(ValueError, match="17 digits"):
        gb11643_check("123")


# -- demographic plausibility -------------------------------------------------------------


def test_parents_are_older_than_their_children(reg: SyntheticRegister) -> None:
    p = reg.persons
    birth = dict(zip(p["person_id"].tolist(), p["birth_date"].tolist(), strict=True))
    for row in _rows(reg.parent_child):
        gap = (birth[row["child_id"]] - birth[row["parent_id"]]).days / 365.25
        if row["kind"] == "birth":
            assert 15 <= gap <= 50, row
            assert row["since"] is None
        elif row["kind"] == "adoptive":
            assert row["since"] is not None
            assert birth[row["child_id"]] <= row["since"] <= reg.spec.as_of
        else:
            assert row["since"] is None
    kinds = Counter(reg.parent_child["kind"][: reg.parent_child.good].tolist())
    assert kinds["birth"] > 20 * kinds["adoptive"] > 0
    assert kinds["step"] > 0


def test_age_structure_is_an_ageing_rural_town(reg: SyntheticRegister) -> None:
    p = reg.persons
    n = p.good
    as_of = np.datetime64(reg.spec.as_of)
    alive = np.isnat(p["death_date"][:n])
    age = (as_of - p["birth_date"][:n][alive]).astype(np.int64) / 365.2425
    assert 0.15 < (age >= 60).mean() < 0.21
    assert 0.005 < (age < 3).mean() < 0.02
    rural = (p["hukou_type"][:n][alive] == "rural").mean()
    assert 0.57 < rural < 0.68
    outside = ~np.char.startswith(p["hukou_division"][:n], reg.spec.division)
    assert 0.01 < outside.mean() < 0.03
    assert 0.03 < (~alive).mean() < 0.2


def test_unions_agree_with_marital_status(reg: SyntheticRegister) -> None:
    p = reg.persons
    status = dict(zip(p["person_id"].tolist(), p["marital_status"].tolist(), strict=True))
    unions = _rows(reg.unions)
    in_union = {u["person_a"] for u in unions} | {u["person_b"] for u in unions}
    for pid, code in status.items():
        if pid.startswith("P"):
            assert (code == "10") == (pid not in in_union), pid
    reasons = Counter(u["end_reason"] for u in unions)
    assert reasons["divorce"] > 0
    assert reasons["death"] > 0
    for u in unions:
        assert u["person_a"] != u["person_b"]
        assert (u["end"] is None) == (u["end_reason"] == "")
        if u["end"] is not None:
            assert u["start"] <= u["end"] <= reg.spec.as_of
    open_unions = [u for u in unions if u["end"] is None]
    assert all(status[u["person_a"]] in ("21", "22") for u in open_unions)
    assert {"30", "40", "22"} <= set(status.values())


def test_households_have_one_head_each(reg: SyntheticRegister) -> None:
    p = reg.persons
    n = p.good
    heads = Counter(p["household_id"][:n][p["relation_to_head"][:n] == "02"].tolist())
    hh = _rows(reg.households)
    assert all(heads[h["household_id"]] == 1 for h in hh)
    pos = {pid: i for i, pid in enumerate(p["person_id"][:n].tolist())}
    for h in hh:
        head = pos[h["head_person_id"]]
        assert p["household_id"][head] == h["household_id"]
        assert p["hukou_division"][head] == h["division"]
        assert h["address"].startswith(reg.village_names[h["division"]])
    relations = set(p["relation_to_head"][:n].tolist())
    assert {"02", "10", "20", "30", "50"} <= relations
    # The dead and those registered elsewhere belong to no household here.
    dead = ~np.isnat(p["death_date"][:n])
    assert (p["household_id"][:n][dead] == "").all()


def test_hukou_history_ends_at_the_current_values(reg: SyntheticRegister) -> None:
    p = reg.persons
    current = {
        pid: (div, kind)
        for pid, div, kind in zip(
            p["person_id"].tolist(),
            p["hukou_division"].tolist(),
            p["hukou_type"].tolist(),
            strict=True,
        )
    }
    history: dict[str, list[tuple[dt.date, str, str]]] = defaultdict(list)
    for row in _rows(reg.hukou_changes):
        history[row["person_id"]].append((row["date"], row["hukou_division"], row["hukou_type"]))
    birth = dict(zip(p["person_id"].tolist(), p["birth_date"].tolist(), strict=True))
    moved_in = rural_to_urban = 0
    for pid, rows in history.items():
        rows.sort()
        assert rows[0][0] == birth[pid]  # the history starts at birth
        assert rows[-1][1:] == current[pid]
        assert rows[-1][0] <= reg.spec.as_of
        div = reg.spec.division
        moved_in += not rows[0][1].startswith(div) and rows[-1][1].startswith(div)
        rural_to_urban += rows[0][2] == "rural" and rows[-1][2] == "urban"
    assert moved_in > 0
    assert rural_to_urban > 0


def test_names_include_compound_surnames_and_rare_characters() -> None:
    reg = generate(SyntheticSpec(persons=20_000, seed=3))
    names = reg.persons["name"].tolist()
    assert any(name.startswith(("欧阳", "司马", "诸葛", "上官", "公孙")) for name in names)
    assert any("𠮷" in name for name in names)
    assert any("䶮" in name for name in names)
    assert all(2 <= len(name) <= 4 for name in names)


# -- programs -------------------------------------------------------------------------------


def _evaluate(reg: SyntheticRegister, on: dt.date) -> dict[str, dict[str, str]]:
    """Rules R1-R4 of the programs spec, written out person by person from the tables."""
    persons = {r["person_id"]: r for r in _rows(reg.persons)}
    history: dict[str, list[tuple[dt.date, str, str]]] = defaultdict(list)
    for r in _rows(reg.hukou_changes):
        history[r["person_id"]].append((r["date"], r["hukou_division"], r["hukou_type"]))

    def hukou(pid: str) -> tuple[str, str] | None:
        if pid not in history:
            return persons[pid]["hukou_division"], persons[pid]["hukou_type"]
        known = sorted(h for h in history[pid] if h[0] <= on)
        return (known[-1][1], known[-1][2]) if known else None

    def alive(pid: str) -> bool:
        p = persons[pid]
        return bool(p["birth_date"] <= on and (p["death_date"] is None or p["death_date"] > on))

    def age(pid: str) -> int:
        return _age(persons[pid]["birth_date"], on)

    def inside(pid: str) -> bool:
        h = hukou(pid)
        return h is not None and h[0].startswith(reg.spec.division)

    children: dict[str, list[tuple[str, str, dt.date]]] = defaultdict(list)
    for r in _rows(reg.parent_child):
        if r["kind"] == "step":
            continue
        gained = r["since"] if r["kind"] == "adoptive" else persons[r["child_id"]]["birth_date"]
        if gained <= on:
            children[r["parent_id"]].append((r["child_id"], r["kind"], gained))
    grave = defaultdict(bool)
    for r in _rows(reg.disabilities):
        valid = r["valid_from"] <= on and (r["valid_to"] is None or on <= r["valid_to"])
        if int(r["grade"]) <= 3 and valid:
            grave[r["person_id"]] = True
    out: dict[str, dict[str, str]] = {program: {} for program in PROGRAMS}
    old_enough = dt.date(1933, 1, 1)
    for pid, p in persons.items():
        if not alive(pid) or not inside(pid):
            continue
        if on >= dt.date(2025, 1, 1) and age(pid) < 3:  # R1
            out["childcare_subsidy"][pid] = ""
        kids = children[pid]
        h = hukou(pid)
        if p["birth_date"] >= old_enough and age(pid) >= 60 and h and h[1] == "rural":  # R2
            female = [persons[k]["sex"] == "2" for k, _, _ in kids]
            if len(kids) == 1 or (len(kids) == 2 and all(female)):
                out["rural_reward"][pid] = ""
        if p["birth_date"] >= old_enough and len(kids) == 1:  # R3
            k, kind, _ = kids[0]
            if p["sex"] == "2":
                mother: str | None = pid
            else:
                mothers = [
                    q
                    for q, qk in children.items()
                    for c, ck, _ in qk
                    if c == k and ck == kind and persons[q]["sex"] == "2"
                ]
                mother = mothers[0] if mothers else None
            if mother is not None and _age(persons[mother]["birth_date"], on) >= 49:
                if not alive(k):
                    out["special_assistance"][pid] = "death"
                elif grave[k]:
                    out["special_assistance"][pid] = "disability"
    for c in _rows(reg.certificates):  # R4
        holder, k, issued = c["holder_id"], c["child_id"], c["issued_on"]
        if issued > on or (c["revoked_on"] is not None and c["revoked_on"] <= on):
            continue
        if not (alive(holder) and alive(k) and age(k) < 18 and inside(holder)):
            continue
        later = [g for child, _, g in children[holder] if child != k and g > issued]
        if later and dt.date(min(later).year + 1, 1, 1) <= on:
            continue
        out["only_child_reward"][holder] = ""
    return out


def test_the_generator_evaluates_the_programs_as_the_spec_says(reg: SyntheticRegister) -> None:
    expected = _evaluate(reg, reg.expected.date)
    for program in PROGRAMS:
        assert set(reg.expected.eligible[program].tolist()) == set(expected[program]), program


def test_every_program_has_beneficiaries(reg: SyntheticRegister) -> None:
    on = reg.expected.date
    got = _evaluate(reg, on)
    persons = {r["person_id"]: r for r in _rows(reg.persons)}
    kids: dict[str, list[str]] = defaultdict(list)
    for r in _rows(reg.parent_child):
        if r["kind"] != "step":
            kids[r["parent_id"]].append(r["child_id"])
    rural = got["rural_reward"]
    assert sum(len(kids[p]) == 1 for p in rural) > 10
    assert sum(len(kids[p]) == 2 for p in rural) > 5  # two daughters
    categories = Counter(got["special_assistance"].values())
    assert categories["death"] > 0
    assert categories["disability"] > 0
    assert len(got["only_child_reward"]) > 10
    under3 = len(got["childcare_subsidy"]) / len(persons)
    assert 0.004 < under3 < 0.02
    # Some honour certificate lapsed under R4.4: its holder gained another child later.
    lapsed = 0
    for c in _rows(reg.certificates):
        births = [persons[k]["birth_date"] for k in kids[c["holder_id"]] if k != c["child_id"]]
        lapsed += any(b > c["issued_on"] for b in births)
    assert lapsed > 0
    certs = _rows(reg.certificates)
    assert any(c["revoked_on"] is not None for c in certs)
    assert all(c["certificate_id"].startswith("HR371502110-") for c in certs)
    assert Counter(c["certificate_id"] for c in certs).most_common(1)[0][1] == 2


def test_enrolments_are_the_eligible_with_a_few_omissions_and_errors(
    reg: SyntheticRegister,
) -> None:
    e = reg.enrolments
    enrolled: dict[str, set[str]] = defaultdict(set)
    for row in _rows(e):
        enrolled[row["program"]].add(row["person_id"])
        assert row["since"] <= reg.expected.date
    total_omitted = total_wrong = 0
    for program in PROGRAMS:
        eligible = set(reg.expected.eligible[program].tolist())
        omitted = set(reg.expected.omitted[program].tolist())
        wrong = set(reg.expected.wrongly_enrolled[program].tolist())
        assert omitted <= eligible
        assert not wrong & eligible
        assert enrolled[program] == (eligible - omitted) | wrong
        assert len(omitted) + len(wrong) < 0.1 * len(eligible) + 3
        total_omitted += len(omitted)
        total_wrong += len(wrong)
    assert total_omitted > 0
    assert total_wrong > 0


# -- bad rows -------------------------------------------------------------------------------


def test_bad_rows_break_the_rules_they_say(reg: SyntheticRegister) -> None:
    assert len(reg.bad_row_notes) == 16  # 15 cases, one of them two rows
    p = reg.persons
    bad = _rows(p, good_only=False)[p.good :]
    by_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in bad:
        by_id[row["person_id"]].append(row)
    assert any(len(rows) == 2 for rows in by_id.values())  # duplicate person_id
    cids = [r["citizen_id"] for r in bad if r["citizen_id"]]
    assert any(c[17] != _check_char(c[:17]) for c in cids)
    assert any(r["birth_date"] > reg.spec.as_of for r in bad)
    assert any(r["death_date"] is not None and r["death_date"] < r["birth_date"] for r in bad)
    assert any(r["sex"] == "１" for r in bad)
    assert any("\x07" in r["name"] for r in bad)
    known = set(p["person_id"][: p.good].tolist())
    pc = _rows(reg.parent_child, good_only=False)[reg.parent_child.good :]
    assert any(r["child_id"] not in known for r in pc)
    assert any(r["kind"] == "adoptive" and r["since"] is None for r in pc)
    un = _rows(reg.unions, good_only=False)[reg.unions.good :]
    assert any(r["person_a"] == r["person_b"] for r in un)
    assert any(r["end"] is not None and r["end"] < r["start"] for r in un)
    # No bad citizen ID collides with a good one (so good rows stay good).
    assert not set(cids) & set(p["citizen_id"][: p.good].tolist())
    for note in reg.bad_row_notes:
        file, _, number = note.split()[:3]
        assert int(number) > reg.tables[file].good


def test_no_bad_rows_unless_asked() -> None:
    reg = generate(SyntheticSpec(persons=300, seed=2))
    assert reg.bad_row_notes == ()
    assert all(t.good == len(t) for t in reg.tables.values())


# -- writing --------------------------------------------------------------------------------


def test_gb18030_csv_reads_back_with_rare_characters(tmp_path: Path) -> None:
    reg = generate(SyntheticSpec(persons=3000, seed=4))
    counts = write_register(reg, tmp_path, encoding="gb18030")
    assert counts["persons.csv"] == 3000
    raw = (tmp_path / "persons.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(raw.decode("gb18030"), newline="")))
    assert [r["name"] for r in rows] == reg.persons["name"].tolist()
    assert [r["birth_date"] for r in rows] == [str(d) for d in reg.persons["birth_date"]]
    rare = [r["name"] for r in rows if "𠮷" in r["name"] or "䶮" in r["name"]]
    assert rare
    for name in rare:
        with pytest.raises(UnicodeEncodeError):
            name.encode("gbk")
    assert list(rows[0]) == list(FILE_COLUMNS["persons"])


def test_csv_cells_follow_the_format(tmp_path: Path) -> None:
    reg = generate(SyntheticSpec(persons=600, seed=8))
    write_register(reg, tmp_path, encoding="utf-8-sig")
    raw = (tmp_path / "persons.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in raw
    text = raw.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert all(r["death_date"] == "" or len(r["death_date"]) == 10 for r in rows)
    assert {r["sex"] for r in rows} == {"1", "2"}
    assert {r["hukou_type"] for r in rows} == {"rural", "urban"}
    assert "01" in {r["ethnicity"] for r in rows}
    for name, columns in FILE_COLUMNS.items():
        header = (tmp_path / f"{name}.csv").read_text("utf-8-sig").splitlines()[0]
        assert header.split(",") == list(columns)


def test_jsonl_lines_hold_strings_or_null(tmp_path: Path) -> None:
    reg = generate(SyntheticSpec(persons=500, seed=9, bad_rows=15))
    counts = write_register(reg, tmp_path, fmt="jsonl")
    for name, columns in FILE_COLUMNS.items():
        lines = (tmp_path / f"{name}.jsonl").read_text("utf-8").splitlines()
        assert len(lines) == counts[f"{name}.jsonl"]
        for line in lines:
            obj = json.loads(line)
            assert list(obj) == list(columns)
            assert all(v is None or isinstance(v, str) for v in obj.values())
    names = [json.loads(x)["name"] for x in (tmp_path / "persons.jsonl").read_text().splitlines()]
    assert names == reg.persons["name"].tolist()  # control characters escaped and back


def test_jsonl_is_utf8_only(tmp_path: Path) -> None:
    reg = generate(SyntheticSpec(persons=50, seed=1))
    with pytest.raises(ValueError, match="UTF-8"):
        write_register(reg, tmp_path, fmt="jsonl", encoding="gb18030")


# -- the spec and the command line ----------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("division", "37150"),
        ("division", "３７１５０２"),
        ("villages", 0),
        ("villages", 200),
        ("persons", 0),
        ("outside_share", 0.9),
        ("bad_rows", -1),
    ],
)
def test_spec_rejects_bad_values(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=field):
        SyntheticSpec(**{field: value})


def test_a_county_is_split_into_townships() -> None:
    reg = generate(SyntheticSpec(persons=80_000, division="371502", seed=6, villages=12))
    towns = {code[:9] for code in reg.village_names}
    assert towns == {"371502101", "371502102"}
    divisions = reg.households["division"]
    assert np.char.startswith(divisions, "371502").all()
    assert set(np.unique(np.char.ljust(divisions, 9).astype("U9")).tolist()) == towns
    cert_towns = {c[2:11] for c in reg.certificates["certificate_id"].tolist()}
    assert cert_towns == towns


def test_command_line_writes_the_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "reg"
    argv = ["--persons", "400", "--division", "371502110", "--out", str(out), "--seed", "3"]
    assert main([*argv, "--bad-rows", "2"]) == 0
    printed = capsys.readouterr().out
    assert "persons.csv" in printed
    assert "bad: persons row 401" in printed
    assert (out / "persons.csv").read_text("utf-8").count("\n") == 403
    assert main(["--persons", "10", "--division", "12", "--out", str(out)]) == 2
    assert "division" in capsys.readouterr().err
