"""Every rule of spec register-format.md "What import must do with bad input", one test each.

Each test's docstring quotes the rule it checks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from famplan_core.errors import MalformedFileError
from famplan_core.exchange.reader import RegisterReading, read_register
from famplan_core.exchange.register_format import KIND_BY_NAME
from famplan_core.model._checks import BIDI_CONTROLS

TODAY = date(2026, 1, 1)
VILLAGE = "371502114201"  # a village of 顾官屯镇, whose township the division table lists
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def citizen_id(birth: str, sex: str = "1", seq: int = 1) -> str:
    """A valid ID number for a birth date and sex (odd 17th digit for men)."""
    digit = seq * 2 + (1 if sex == "1" else 0)
    body = f"371502{birth.replace('-', '')}{digit % 1000:03d}"
    total = sum(int(c) * w for c, w in zip(body, _WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def person(person_id: str, **values: str) -> dict[str, str]:
    """A valid persons row; keyword arguments override cells."""
    row = {
        "person_id": person_id,
        "name": "张三",
        "sex": "1",
        "birth_date": "1980-02-03",
        "hukou_division": VILLAGE,
        "hukou_type": "rural",
    }
    row.update(values)
    if "citizen_id" not in values:
        seq = sum(ord(c) * (i + 1) for i, c in enumerate(person_id))
        row["citizen_id"] = citizen_id(row["birth_date"], row["sex"], seq=seq)
    return row


def write(
    folder: Path,
    kind: str,
    rows: Iterable[Mapping[str, str]],
    *,
    columns: Iterable[str] | None = None,
    fmt: str = "csv",
) -> Path:
    names = list(columns) if columns is not None else list(KIND_BY_NAME[kind].column_names)
    path = folder / f"{kind}.{fmt}"
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(dict(r)) + "\n" for r in rows), encoding="utf-8")
        return path
    lines = [",".join(names)]
    for row in rows:
        lines.append(",".join(_quote(row.get(n, "")) for n in names))
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def _quote(value: str) -> str:
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def read(folder: Path, **options: object) -> RegisterReading:
    return read_register(folder, today=TODAY, **options)  # type: ignore[arg-type]


def problems(reading: RegisterReading) -> list[tuple[str, str]]:
    return [(p.path, p.message) for q in reading.quarantine for p in q.problems]


def only_problem(reading: RegisterReading) -> tuple[str, str, str]:
    """The single problem of the single quarantined row: path, value, message."""
    assert len(reading.quarantine) == 1, problems(reading)
    (found,) = reading.quarantine[0].problems
    return found.path, found.value, found.message


def good_ids(reading: RegisterReading, kind: str = "persons") -> list[str]:
    return [row[0] for row in reading.rows(kind)]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "register"
    path.mkdir()
    return path


def family(folder: Path, *extra: dict[str, str]) -> None:
    """Persons P1 (father), P2 (mother), C1 (child) and any extra rows."""
    write(
        folder,
        "persons",
        [
            person("P1"),
            person("P2", sex="2", name="李四"),
            person("C1", birth_date="2010-05-06", name="张小"),
            *extra,
        ],
    )


# --- references --------------------------------------------------------------------------


def test_reference_to_a_person_who_does_not_exist(folder: Path) -> None:
    """Bad row: 'a reference to a person who does not exist'."""
    family(folder)
    write(folder, "parent_child", [{"parent_id": "P9", "child_id": "C1", "kind": "birth"}])
    path, value, message = only_problem(read(folder))
    assert (path, value) == ("parent_child.csv:2:parent_id", "P9")
    assert "neither in persons.csv nor already stored" in message


def test_reference_to_a_person_whose_own_row_is_bad(folder: Path) -> None:
    """Bad row: 'a reference to a person who does not exist (or whose own row is bad)'."""
    family(folder, person("C2", sex="5"))
    write(folder, "parent_child", [{"parent_id": "P1", "child_id": "C2", "kind": "birth"}])
    reading = read(folder)
    assert (
        "parent_child.csv:2:child_id",
        "child_id names the person 'C2', whose own row is bad (persons.csv:5)",
    ) in problems(reading)


def test_reference_to_a_stored_person_is_good(folder: Path) -> None:
    """'A monthly update carries the persons rows it concerns': the store answers for the rest."""
    family(folder)
    write(folder, "parent_child", [{"parent_id": "S1", "child_id": "C1", "kind": "birth"}])
    asked: list[list[str]] = []

    def known(ids: list[str]) -> set[str]:
        asked.append(ids)
        return {"S1", "not asked"}

    reading = read(folder, known_person_ids=known)
    assert reading.quarantine == ()
    assert asked == [["S1"]]


def test_household_missing_from_households(folder: Path) -> None:
    """Bad row: 'a household_id missing from households when that file is present'."""
    family(folder, person("P3", household_id="H9"))
    write(folder, "households", [{"household_id": "H1", "division": VILLAGE}])
    path, value, message = only_problem(read(folder))
    assert (path, value) == ("persons.csv:5:household_id", "H9")
    assert "not in households.csv" in message


def test_household_not_checked_without_the_households_file(folder: Path) -> None:
    """'... when that file is present': without households.csv any household_id is accepted."""
    family(folder, person("P3", household_id="H9"))
    assert read(folder).quarantine == ()


def test_household_known_to_the_store(folder: Path) -> None:
    family(folder, person("P3", household_id="H9"))
    write(folder, "households", [{"household_id": "H1", "division": VILLAGE}])
    reading = read(folder, known_household_ids=lambda ids: set(ids))
    assert reading.quarantine == ()


def test_household_whose_own_row_is_bad_sets_its_members_aside(folder: Path) -> None:
    """A household with a bad head is not stored, so its members' household_id is missing."""
    family(folder, person("P3", household_id="H1"), person("P4", name="", household_id="H1"))
    write(
        folder,
        "households",
        [{"household_id": "H1", "division": VILLAGE, "head_person_id": "P4"}],
    )
    reading = read(folder)
    assert sorted(q.line for q in reading.quarantine if q.kind == "persons") == [5, 6]
    assert [q.kind for q in reading.quarantine].count("households") == 1
    assert good_ids(reading) == ["P1", "P2", "C1"]


# --- unions and parents ------------------------------------------------------------------


def test_union_of_a_person_with_themself(folder: Path) -> None:
    """Bad row: 'a union of a person with themself'."""
    family(folder)
    write(folder, "unions", [{"person_a": "P1", "person_b": "P1", "start": "2005-01-01"}])
    path, _, message = only_problem(read(folder))
    assert path == "unions.csv:2:person_b"
    assert "themself" in message


def test_union_ending_before_it_starts(folder: Path) -> None:
    """Bad row: a union '... ending before it starts'."""
    family(folder)
    write(
        folder,
        "unions",
        [
            {"person_a": "P1", "person_b": "P2", "start": "2005-01-01", "end": "2004-12-31"},
            {"person_a": "P1", "person_b": "P2", "start": "2005-01-01", "end": "2005-01-01"},
        ],
    )
    path, value, _ = only_problem(read(folder))
    assert (path, value) == ("unions.csv:2:end", "2004-12-31")


def test_union_end_reason_values(folder: Path) -> None:
    """'end_reason (divorce or death)': any other word is a code outside its table."""
    family(folder)
    write(
        folder,
        "unions",
        [
            {
                "person_a": "P1",
                "person_b": "P2",
                "start": "2005-01-01",
                "end": "2006-01-01",
                "end_reason": "divorced",
            },
            {
                "person_a": "P1",
                "person_b": "P2",
                "start": "2007-01-01",
                "end": "2008-01-01",
                "end_reason": "death",
            },
        ],
    )
    path, value, _ = only_problem(read(folder))
    assert (path, value) == ("unions.csv:2:end_reason", "divorced")


def test_union_end_reason_needs_an_end(folder: Path) -> None:
    family(folder)
    write(
        folder,
        "unions",
        [{"person_a": "P1", "person_b": "P2", "start": "2005-01-01", "end_reason": "divorce"}],
    )
    assert only_problem(read(folder))[0] == "unions.csv:2:end_reason"


def test_parent_who_is_their_own_child(folder: Path) -> None:
    """Bad row: 'a parent who is their own child'."""
    family(folder)
    write(folder, "parent_child", [{"parent_id": "C1", "child_id": "C1", "kind": "birth"}])
    path, _, message = only_problem(read(folder))
    assert path == "parent_child.csv:2:child_id"
    assert "own child" in message


def test_adoptive_link_without_since(folder: Path) -> None:
    """Bad row: 'an adoptive link without since'."""
    family(folder)
    write(
        folder,
        "parent_child",
        [
            {"parent_id": "P1", "child_id": "C1", "kind": "adoptive"},
            {"parent_id": "P2", "child_id": "C1", "kind": "adoptive", "since": "2011-01-01"},
        ],
    )
    path, _, message = only_problem(read(folder))
    assert path == "parent_child.csv:2:since"
    assert "adoption date" in message


def test_birth_link_with_since(folder: Path) -> None:
    """'since (... empty for birth, meaning the child's birth date)'."""
    family(folder)
    write(
        folder,
        "parent_child",
        [{"parent_id": "P1", "child_id": "C1", "kind": "birth", "since": "2010-05-06"}],
    )
    assert only_problem(read(folder))[0] == "parent_child.csv:2:since"


# --- dates -------------------------------------------------------------------------------


def test_death_before_birth(folder: Path) -> None:
    """Bad row: 'a death before the birth'."""
    write(
        folder,
        "persons",
        [person("P1", death_date="1980-02-02"), person("P2", death_date="1980-02-03")],
    )
    path, value, message = only_problem(read(folder))
    assert (path, value) == ("persons.csv:2:death_date", "1980-02-02")
    assert "before the birth date 1980-02-03" in message


def test_death_in_the_future(folder: Path) -> None:
    """Bad row: a death '... in the future' (after the date of the import run)."""
    write(
        folder,
        "persons",
        [person("P1", death_date="2026-01-02"), person("P2", death_date="2026-01-01")],
    )
    path, _, message = only_problem(read(folder))
    assert path == "persons.csv:2:death_date"
    assert "after the import date 2026-01-01" in message


def test_birth_in_the_future(folder: Path) -> None:
    """Bad row: 'a birth in the future (the future is after the date of the import run)'."""
    write(
        folder,
        "persons",
        [
            person("P1", birth_date="2026-01-02", citizen_id=""),
            person("P2", birth_date="2026-01-01"),
        ],
    )
    path, value, _ = only_problem(read(folder))
    assert (path, value) == ("persons.csv:2:birth_date", "2026-01-02")
    # the same file read a day later is fine
    assert read_register(folder, today=date(2026, 1, 2)).quarantine == ()


@pytest.mark.parametrize(
    "value", ["2023-02-29", "2023/01/01", "20230101", "２０２３-01-01", "2023-1-1"]
)
def test_dates_are_real_and_written_yyyy_mm_dd(folder: Path, value: str) -> None:
    """'Dates are YYYY-MM-DD': anything else, or a date that does not exist, is bad."""
    family(folder)
    write(folder, "unions", [{"person_a": "P1", "person_b": "P2", "start": value}])
    path, found, message = only_problem(read(folder))
    assert (path, found) == ("unions.csv:2:start", value)
    assert "YYYY-MM-DD" in message


def test_certificate_revoked_before_it_was_issued(folder: Path) -> None:
    """Bad row: 'a certificate revoked before it was issued'."""
    family(folder)
    write(
        folder,
        "certificates",
        [
            {
                "certificate_id": "G1",
                "kind": "honour",
                "holder_id": "P1",
                "child_id": "C1",
                "issued_on": "2011-01-01",
                "revoked_on": "2010-12-31",
            },
        ],
    )
    path, value, _ = only_problem(read(folder))
    assert (path, value) == ("certificates.csv:2:revoked_on", "2010-12-31")


def test_disability_valid_to_before_valid_from(folder: Path) -> None:
    """Bad row: 'a disability whose valid_to is before valid_from'."""
    family(folder)
    write(
        folder,
        "disabilities",
        [{"person_id": "C1", "grade": "2", "valid_from": "2015-01-01", "valid_to": "2014-01-01"}],
    )
    path, value, _ = only_problem(read(folder))
    assert (path, value) == ("disabilities.csv:2:valid_to", "2014-01-01")


# --- certificates ------------------------------------------------------------------------


def test_honour_certificate_without_child_id(folder: Path) -> None:
    """Bad row: 'an honour certificate without child_id'."""
    family(folder)
    write(
        folder,
        "certificates",
        [{"certificate_id": "G1", "kind": "honour", "holder_id": "P1", "issued_on": "2011-01-01"}],
    )
    path, _, message = only_problem(read(folder))
    assert path == "certificates.csv:2:child_id"
    assert "honour" in message


def test_same_certificate_and_holder_twice(folder: Path) -> None:
    """'A certificate_id appears once per holding parent; the same certificate and holder twice
    is a duplicate.'"""
    family(folder)
    cert = {"certificate_id": "G1", "kind": "honour", "child_id": "C1", "issued_on": "2011-01-01"}
    write(
        folder,
        "certificates",
        [{**cert, "holder_id": "P1"}, {**cert, "holder_id": "P2"}, {**cert, "holder_id": "P1"}],
    )
    reading = read(folder)
    assert sorted(q.line for q in reading.quarantine) == [2, 4]
    assert [row[2] for row in reading.rows("certificates")] == ["P2"]


# --- duplicates --------------------------------------------------------------------------


def test_duplicate_person_id_sets_all_rows_aside(folder: Path) -> None:
    """'When two rows share a person_id ... all of them are bad: never guess which is right.'"""
    write(folder, "persons", [person("P1"), person("P2"), person("P1", name="王五")])
    reading = read(folder)
    assert sorted(q.line for q in reading.quarantine) == [2, 4]
    assert good_ids(reading) == ["P2"]
    assert "lines 2, 4" in reading.quarantine[0].problems[0].message


def test_duplicate_citizen_id_sets_all_rows_aside(folder: Path) -> None:
    """'When two rows share ... a citizen_id, all of them are bad.'"""
    same = citizen_id("1980-02-03", "1", seq=7)
    write(
        folder,
        "persons",
        [person("P1", citizen_id=same), person("P2", citizen_id=same.lower()), person("P3")],
    )
    reading = read(folder)
    assert [p.path for q in reading.quarantine for p in q.problems] == [
        "persons.csv:2:citizen_id",
        "persons.csv:3:citizen_id",
    ]
    assert good_ids(reading) == ["P3"]


# --- codes and citizen IDs ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "column", "value"),
    [
        ("persons", "sex", "１"),
        ("persons", "sex", "3"),
        ("persons", "ethnicity", "1"),
        ("persons", "ethnicity", "57"),
        ("persons", "marital_status", "11"),
        ("persons", "relation_to_head", "03"),
        ("persons", "hukou_type", "Rural"),
        ("parent_child", "kind", "foster"),
        ("disabilities", "grade", "5"),
        ("disabilities", "grade", "0"),
        ("disabilities", "category", "blind"),
        ("certificates", "kind", "award"),
    ],
)
def test_code_outside_its_table(folder: Path, kind: str, column: str, value: str) -> None:
    """Bad row: 'a code outside its table (a full-width １ is not 1)'; disability 'grade (1-4)'."""
    base = {
        "persons": person("X1"),
        "parent_child": {"parent_id": "P1", "child_id": "C1", "kind": "birth"},
        "disabilities": {"person_id": "C1", "grade": "1", "valid_from": "2015-01-01"},
        "certificates": {
            "certificate_id": "G1",
            "kind": "honour",
            "holder_id": "P1",
            "child_id": "C1",
            "issued_on": "2011-01-01",
        },
    }[kind]
    family(folder)
    if kind == "persons":
        write(
            folder,
            "persons",
            [
                person("P1"),
                person("P2", sex="2"),
                person("C1"),
                {**base, column: value, "citizen_id": ""},
            ],
        )
    else:
        write(folder, kind, [{**base, column: value}])
    path, found, message = only_problem(read(folder))
    assert path.endswith(f":{column}")
    assert found == value
    if value == "１":
        assert "full-width" in message


def test_citizen_id_check_character(folder: Path) -> None:
    """'citizen_id: 18-character resident ID number (GB 11643: MOD 11-2 check character)'."""
    good = citizen_id("1980-02-03")
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    write(folder, "persons", [person("P1", citizen_id=wrong), person("P2", citizen_id=good)])
    path, value, message = only_problem(read(folder))
    assert (path, value) == ("persons.csv:2:citizen_id", wrong)
    assert "check character" in message


@pytest.mark.parametrize(
    "value", ["37150219800203001", "３71502198002030011", "37150219800230001X"]
)
def test_citizen_id_form_and_real_birth_date(folder: Path, value: str) -> None:
    """'18-character resident ID number (... real birth date)'."""
    write(folder, "persons", [person("P1", citizen_id=value)])
    assert read(folder).quarantine[0].problems[0].path == "persons.csv:2:citizen_id"


def test_citizen_id_birth_date_must_agree(folder: Path) -> None:
    """'When present, its birth date ... must agree with birth_date'."""
    write(folder, "persons", [person("P1", citizen_id=citizen_id("1980-02-04"))])
    path, _, message = only_problem(read(folder))
    assert path == "persons.csv:2:citizen_id"
    assert "does not match birth_date 1980-02-03" in message


def test_citizen_id_sex_digit_must_agree(folder: Path) -> None:
    """'When present, its ... sex digits must agree with ... sex'; unknown sex (0, 9) agrees."""
    write(
        folder,
        "persons",
        [
            person("P1", sex="2", citizen_id=citizen_id("1980-02-03", "1")),
            person("P2", sex="9", citizen_id=citizen_id("1980-02-03", "1", seq=3)),
        ],
    )
    path, _, message = only_problem(read(folder))
    assert path == "persons.csv:2:citizen_id"
    assert "sex digit" in message


def test_citizen_id_lower_case_x_is_stored_upper_case(folder: Path) -> None:
    """'a citizen ID's check character x is stored as X'."""
    for seq in range(200):
        cid = citizen_id("1980-02-03", seq=seq)
        if cid.endswith("X"):
            break
    write(folder, "persons", [person("P1", citizen_id=cid.lower())])
    reading = read(folder)
    assert next(reading.rows("persons"))[1] == cid


# --- text --------------------------------------------------------------------------------


def test_text_over_200_characters(folder: Path) -> None:
    """Bad row: 'a text field over 200 characters'."""
    write(folder, "persons", [person("P1", name="张" * 201), person("P2", name="张" * 200)])
    path, _, message = only_problem(read(folder))
    assert path == "persons.csv:2:name"
    assert "200" in message


@pytest.mark.parametrize("character", ["\x00", "\t", "\n", "\x1b", "\x7f", "\x85"])
def test_text_with_a_control_character(folder: Path, character: str) -> None:
    """Bad row: 'a text field ... containing a control character'."""
    write(folder, "persons", [person("P1", name=f"张{character}三")])
    path, _, message = only_problem(read(folder))
    assert path == "persons.csv:2:name"
    assert "control character" in message


BIDI = sorted(BIDI_CONTROLS)


@pytest.mark.parametrize("character", BIDI, ids=[f"U+{ord(c):04X}" for c in BIDI])
def test_text_with_a_bidirectional_control(folder: Path, character: str) -> None:
    """A text field holding a bidirectional control (U+202A-U+202E, U+2066-U+2069, U+200E,
    U+200F, U+061C) is a bad row: it can show one name and store another."""
    write(folder, "persons", [person("P1", name=f"王{character}芳"), person("P2")])
    path, _, message = only_problem(read(folder))
    assert path == "persons.csv:2:name"
    assert f"bidirectional control U+{ord(character):04X}" in message
    assert "at character 2" in message


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    names=st.lists(
        st.text(st.sampled_from(["王", "芳", "a", "-", *BIDI]), min_size=1, max_size=6),
        min_size=1,
        max_size=60,
    ),
    fmt=st.sampled_from(["csv", "jsonl"]),
)
def test_the_screen_and_the_row_rule_agree_on_bidirectional_controls(
    tmp_path_factory: pytest.TempPathFactory, names: list[str], fmt: str
) -> None:
    """Every row with a bidirectional control in a text field is quarantined, whether the
    reader's column screen or its row rule looks at it, and no other row is."""
    folder = tmp_path_factory.mktemp("bidi")
    write(folder, "persons", [person(f"P{i}", name=n) for i, n in enumerate(names)], fmt=fmt)
    reading = read(folder)
    bad = {f"P{i}" for i, n in enumerate(names) if set(n) & BIDI_CONTROLS}
    assert {q.cells["person_id"] for q in reading.quarantine} == bad
    assert {row[0] for row in reading.rows("persons")} == {f"P{i}" for i in range(len(names))} - bad


def test_required_cell_empty(folder: Path) -> None:
    """'persons — ... name (required)': an empty required cell is a bad row."""
    write(folder, "persons", [person("P1", name="  ")])
    assert only_problem(read(folder))[:2] == ("persons.csv:2:name", "")


# --- row shape and JSON types ------------------------------------------------------------


@pytest.mark.parametrize("extra", [",x", ",,"])
def test_row_with_more_fields_than_the_header(folder: Path, extra: str) -> None:
    """Bad row: 'a row with more or fewer fields than the header'."""
    path = write(folder, "persons", [person("P1"), person("P2")])
    lines = path.read_bytes().decode().split("\r\n")
    lines[1] += extra
    path.write_bytes("\r\n".join(lines).encode())
    reading = read(folder)
    path_found, _, message = only_problem(reading)
    assert path_found == "persons.csv:2"
    assert f"{13 + extra.count(',')} fields but the header has 13" in message
    assert "_extra_1" in reading.quarantine[0].cells


def test_row_with_fewer_fields_than_the_header(folder: Path) -> None:
    """Bad row: 'a row with more or fewer fields than the header'."""
    path = write(folder, "persons", [person("P1")])
    with path.open("a", encoding="utf-8") as f:
        f.write("P2,123\r\n")
    path_found, _, message = only_problem(read(folder))
    assert path_found == "persons.csv:3"
    assert "2 fields" in message


def test_json_number_for_a_code(folder: Path) -> None:
    """'a code given as a JSON number ("sex": 1) is a bad row'."""
    row: dict[str, object] = dict(person("P1"))
    row["sex"] = 1
    row["citizen_id"] = None
    (folder / "persons.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    reading = read(folder)
    path, value, message = only_problem(reading)
    assert (path, value) == ("persons.jsonl:1:sex", "1")
    assert "JSON number" in message
    assert reading.quarantine[0].cells["sex"] == "1"


@pytest.mark.parametrize("value", [True, ["1"], {"a": "1"}, 1.5])
def test_json_values_must_be_text_or_null(folder: Path, value: object) -> None:
    """'In JSON Lines, every value is a string or null, as a CSV cell would be.'"""
    row: dict[str, object] = dict(person("P1"))
    row["name"] = value
    (folder / "persons.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    assert only_problem(read(folder))[0] == "persons.jsonl:1:name"


# --- divisions ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["37150211420", "３71502114201", "37150211420a", "071502114201"])
def test_division_code_of_the_wrong_form(folder: Path, value: str) -> None:
    """'hukou_division: 12-digit division code': anything else is a bad row."""
    write(folder, "persons", [person("P1", hukou_division=value)])
    path, found, _ = only_problem(read(folder))
    assert (path, found) == ("persons.csv:2:hukou_division", value)


def test_unknown_division_of_the_right_form_is_a_warning(folder: Path) -> None:
    """'A division code of the right form that is missing from the division table is accepted
    with a warning.'"""
    write(
        folder,
        "persons",
        [person("P1", hukou_division="371599999201"), person("P2", hukou_division="371599999201")],
    )
    reading = read(folder)
    assert reading.quarantine == ()
    assert good_ids(reading) == ["P1", "P2"]
    (warning,) = reading.warnings
    assert (warning.path, warning.value) == ("persons.csv:2:hukou_division", "371599999201")
    assert "2 row(s)" in warning.message


def test_person_registered_outside_the_deployment_is_accepted(folder: Path) -> None:
    """'A person registered outside the deployment's division is accepted.'"""
    write(folder, "persons", [person("P1", hukou_division="110101001001")])
    assert read(folder).quarantine == ()


# --- bad rows in general -----------------------------------------------------------------


def test_every_reason_is_listed_and_good_rows_go_on(folder: Path) -> None:
    """'A bad row never stops the good ones ... each bad row goes to quarantine with every
    reason found (file, line, column, value, message in plain words).'"""
    write(
        folder,
        "persons",
        [
            person("P1"),
            person("P2", sex="x", name="a\tb", hukou_type="city", citizen_id="123"),
            person("P3"),
        ],
    )
    reading = read(folder)
    assert good_ids(reading) == ["P1", "P3"]
    (bad,) = reading.quarantine
    assert (bad.file, bad.line, bad.kind) == ("persons.csv", 3, "persons")
    assert sorted(p.path for p in bad.problems) == [
        "persons.csv:3:citizen_id",
        "persons.csv:3:hukou_type",
        "persons.csv:3:name",
        "persons.csv:3:sex",
    ]
    assert all(p.message for p in bad.problems)
    assert reading.counts["persons"].quarantined == 1


def test_line_numbers_are_physical(folder: Path) -> None:
    """'Line numbers are physical lines, the header being line 1; a row spanning several lines
    is reported at its first line.'"""
    write(
        folder,
        "households",
        [
            {"household_id": "H1", "division": VILLAGE, "address": "一村\n二组"},
            {"household_id": "H2", "division": "bad"},
        ],
    )
    write(folder, "persons", [person("P1")])
    reading = read(folder)
    assert [(q.line, q.problems[0].path) for q in reading.quarantine] == [
        (2, "households.csv:2:address"),
        (4, "households.csv:4:division"),
    ]


# --- malformed files ---------------------------------------------------------------------


def _persons_ok(folder: Path) -> None:
    write(folder, "persons", [person("P1")])


MALFORMED: list[tuple[str, str, bytes, int | None, str]] = [
    # (rule quoted, file, content, line, words in the message)
    (
        "an encoding that is neither UTF-8 nor GB18030",
        "unions.csv",
        b"person_a,person_b,start\nP1,P1,\xff\xff\n",
        2,
        "neither UTF-8 nor GB18030",
    ),
    (
        "broken CSV quoting (reported at the line where the unterminated quote opens)",
        "unions.csv",
        b'person_a,person_b,start\nP1,"P2,2001-01-01\nP1,P2,2001-01-01\n',
        2,
        "never closed",
    ),
    ("a header that is missing", "unions.csv", b"", 1, "header is missing"),
    ("a header that is missing", "unions.csv", b"\nP1,P2,2001-01-01\n", 1, "header is missing"),
    ("a header that is ... empty", "unions.csv", b",,\nP1,P2,2001-01-01\n", 1, "header is empty"),
    (
        "a header that ... lacks a required column",
        "unions.csv",
        b"person_a,start\nP1,2001-01-01\n",
        1,
        "lacks the required column(s) person_b",
    ),
    (
        "a header that ... repeats a column",
        "unions.csv",
        b"person_a,person_b,start,person_a\n",
        1,
        "repeats the column 'person_a'",
    ),
    (
        "a header that ... has an unknown one",
        "unions.csv",
        b"person_a,person_b,start,wedding_place\n",
        1,
        "unknown column 'wedding_place'",
    ),
    (
        "a JSON Lines line that is not valid JSON",
        "unions.jsonl",
        b'{"person_a": "P1", "person_b": "P2", "start": "2001-01-01"}\n{"person_a": "P1",\n',
        2,
        "not valid JSON",
    ),
    (
        "a JSON Lines line that ... holds an unknown key",
        "unions.jsonl",
        b'{"person_a": "P1", "person_b": "P2", "start": "2001-01-01", "place": "x"}\n',
        1,
        "unknown key 'place'",
    ),
    (
        "a JSON Lines line that is not valid JSON (an array is not one object)",
        "unions.jsonl",
        b'["P1", "P2"]\n',
        1,
        "not an object",
    ),
    ("an unknown file in the folder", "notes.txt", b"hello", None, "unknown file"),
    ("an unknown file in the folder", "marriages.csv", b"a\n", None, "no record kind"),
]


@pytest.mark.parametrize(
    ("rule", "name", "content", "line", "words"), MALFORMED, ids=[m[0][:40] for m in MALFORMED]
)
def test_malformed_file_refuses_the_whole_import(
    folder: Path, rule: str, name: str, content: bytes, line: int | None, words: str
) -> None:
    """Malformed files: '... Then the whole import is refused: nothing from any file is stored,
    and the message names the file and the line.'"""
    family(folder)  # good persons: nothing of them may come back either
    (folder / name).write_bytes(content)
    with pytest.raises(MalformedFileError) as caught:
        read(folder)
    assert caught.value.file == name, rule
    assert caught.value.line == line, rule
    assert words in str(caught.value), rule
    assert str(caught.value).startswith(name if line is None else f"{name}:{line}: ")


def test_malformed_persons_after_other_good_files(folder: Path) -> None:
    """'A register is imported whole or not at all at this level.'"""
    family(folder)
    write(folder, "parent_child", [{"parent_id": "P1", "child_id": "C1", "kind": "birth"}])
    with (folder / "persons.csv").open("ab") as f:
        f.write(b'P9,"unterminated\n')
    with pytest.raises(MalformedFileError, match=r"persons\.csv:5"):
        read(folder)


def test_two_files_of_one_kind(folder: Path) -> None:
    """Both persons.csv and persons.jsonl: which to believe? The import is refused."""
    family(folder)
    (folder / "PERSONS.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(MalformedFileError, match="keep only one"):
        read(folder)


def test_no_persons_file(folder: Path) -> None:
    """'Only persons is required': a folder without it is refused."""
    write(folder, "unions", [])
    with pytest.raises(MalformedFileError, match="no persons file"):
        read(folder)


def test_a_folder_inside_is_an_unknown_file(folder: Path) -> None:
    family(folder)
    (folder / "persons").mkdir()
    with pytest.raises(MalformedFileError, match="unknown file"):
        read(folder)
