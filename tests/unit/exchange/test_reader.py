"""Reading and writing whole register folders (famplan_core.exchange.reader)."""

from __future__ import annotations

import hashlib
import json
import sys
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from famplan_core.errors import ExchangeError, MalformedFileError
from famplan_core.exchange.reader import (
    KindCounts,
    RegisterReading,
    _Shared,
    find_register_files,
    read_register,
    write_register,
)
from famplan_core.exchange.register_format import (
    DISABILITY_CATEGORY,
    ETHNICITY,
    KIND_BY_NAME,
    MARITAL_STATUS,
    RELATION_TO_HEAD,
)
from famplan_core.exchange.textio import GB18030_2022_CHANGES
from famplan_core.model.identity import CitizenId

TODAY = date(2026, 1, 1)
VILLAGE = "371502114201"
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
PERSON_COLUMNS = KIND_BY_NAME["persons"].column_names


def check_character(body: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(body, _WEIGHTS, strict=True)) % 11]


def citizen_id(birth: date, sex: str, seq: int) -> str:
    body = f"371502{birth:%Y%m%d}{(seq * 2 + (sex == '1')) % 1000:03d}"
    return body + check_character(body)


def person_row(
    person_id: str, *, name: str = "张三", sex: str = "1", seq: int = 1
) -> tuple[str, ...]:
    birth = date(1980, 2, 3)
    values = {
        "person_id": person_id,
        "citizen_id": citizen_id(birth, sex, seq),
        "name": name,
        "sex": sex,
        "birth_date": birth.isoformat(),
        "hukou_division": VILLAGE,
        "hukou_type": "rural",
    }
    return tuple(values.get(c, "") for c in PERSON_COLUMNS)


def read(folder: Path, **options: object) -> RegisterReading:
    return read_register(folder, today=TODAY, **options)  # type: ignore[arg-type]


# --- the shape of a reading --------------------------------------------------------------


def test_reading_shape(tmp_path: Path) -> None:
    rows = [person_row("P1"), person_row("P2", sex="2", seq=2)]
    write_register(tmp_path, {"persons": rows, "households": []})
    reading = read(tmp_path)
    assert reading.today == TODAY
    assert [f.name for f in reading.files] == ["persons.csv", "households.csv"]
    persons_file = reading.files[0]
    data = (tmp_path / "persons.csv").read_bytes()
    assert persons_file.sha256 == hashlib.sha256(data).hexdigest()
    assert (persons_file.kind, persons_file.format, persons_file.size) == (
        "persons",
        "csv",
        len(data),
    )
    table = reading.tables["persons"]
    assert table.columns == PERSON_COLUMNS
    assert list(table) == rows
    assert list(table.lines) == [2, 3]
    assert table.origin(1) == ("persons.csv", 3)
    assert next(table.dicts())["name"] == "张三"
    assert [len(c) for c in table.chunks(1)] == [1, 1]
    assert table.index("sex") == 3
    assert reading.counts["persons"] == KindCounts(rows=2, good=2, quarantined=0, empty=0)
    assert reading.has("households")
    assert not reading.has("unions")
    assert list(reading.rows("unions")) == []
    assert reading.good == 2
    with pytest.raises(KeyError):
        reading.rows("marriages")


def test_rows_are_tuples_of_text_with_empty_strings(tmp_path: Path) -> None:
    (tmp_path / "persons.csv").write_text(
        "name,person_id,sex,birth_date,hukou_division,hukou_type\n张三,P1,1,1980-02-03,"
        f"{VILLAGE},rural\n",
        encoding="utf-8",
    )
    (row,) = read(tmp_path).rows("persons")
    assert isinstance(row, tuple)
    assert dict(zip(PERSON_COLUMNS, row, strict=True)) == {
        **dict.fromkeys(PERSON_COLUMNS, ""),
        "person_id": "P1",
        "name": "张三",
        "sex": "1",
        "birth_date": "1980-02-03",
        "hukou_division": VILLAGE,
        "hukou_type": "rural",
    }


# --- normalisation -----------------------------------------------------------------------


def test_cells_are_trimmed_and_nfc(tmp_path: Path) -> None:
    """'Surrounding white space in a cell is trimmed; text is stored in Unicode NFC.'"""
    decomposed = "Zhe\u0301ng"  # e + combining acute
    (tmp_path / "persons.csv").write_text(
        "person_id,name,sex,birth_date,hukou_division,hukou_type\n"
        f" P1 ,\u3000{decomposed}\t, 1 , 1980-02-03 ,{VILLAGE} , rural\n",
        encoding="utf-8",
    )
    (row,) = read(tmp_path).rows("persons")
    assert row[0] == "P1"
    assert row[2] == unicodedata.normalize("NFC", decomposed) == "Zh\u00e9ng"
    assert (row[3], row[4], row[9]) == ("1", "1980-02-03", "rural")


def test_all_empty_rows_are_skipped(tmp_path: Path) -> None:
    """'A row whose cells are all empty (as spreadsheets leave at the end) is skipped.'"""
    (tmp_path / "persons.csv").write_text(
        "person_id,name,sex,birth_date,hukou_division,hukou_type\n"
        f"P1,张三,1,1980-02-03,{VILLAGE},rural\n,,,,,\n\n , ,\t,,,\n,,,,,,,,\n",
        encoding="utf-8",
    )
    reading = read(tmp_path)
    assert reading.counts["persons"] == KindCounts(rows=1, good=1, quarantined=0, empty=4)
    (tmp_path / "persons.csv").unlink()
    (tmp_path / "persons.jsonl").write_text(
        '{"person_id": "P1", "name": "张三", "sex": "1", "birth_date": "1980-02-03",'
        f' "hukou_division": "{VILLAGE}", "hukou_type": "rural"}}\n{{}}\n{{"name": null}}\n'
        '{"name": "  "}\n',
        encoding="utf-8",
    )
    assert read(tmp_path).counts["persons"] == KindCounts(rows=1, good=1, quarantined=0, empty=3)


def test_jsonl_absent_and_null_mean_empty(tmp_path: Path) -> None:
    """'absent and null mean the same as an empty CSV cell'."""
    (tmp_path / "persons.jsonl").write_text(
        json.dumps(
            {
                "person_id": "P1",
                "name": "张三",
                "sex": "1",
                "birth_date": "1980-02-03",
                "hukou_division": VILLAGE,
                "hukou_type": "rural",
                "death_date": None,
            }
        )
        + "\n",
        encoding="utf-8",
    )
    (row,) = read(tmp_path).rows("persons")
    assert row[PERSON_COLUMNS.index("death_date")] == ""
    assert row[PERSON_COLUMNS.index("citizen_id")] == ""


# --- files -------------------------------------------------------------------------------


def test_file_names_match_case_insensitively_and_lock_files_are_ignored(tmp_path: Path) -> None:
    """'File names are matched case-insensitively (PERSONS.CSV is persons). Files whose names
    begin with ~$ or . are ignored.'"""
    write_register(tmp_path, {"persons": [person_row("P1")]})
    (tmp_path / "persons.csv").rename(tmp_path / "PERSONS.CSV")
    (tmp_path / "~$persons.csv").write_bytes(b"\xff\xfe garbage")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x01")
    assert list(find_register_files(tmp_path)) == ["persons"]
    reading = read(tmp_path)
    assert [f.name for f in reading.files] == ["PERSONS.CSV"]
    assert reading.tables["persons"].file == "PERSONS.CSV"


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ExchangeError, match="no such register folder"):
        read(tmp_path / "nowhere")


def test_malformed_file_raises_before_anything_is_returned(tmp_path: Path) -> None:
    """Whole import refused: a broken last file raises even when the others are fine."""
    write_register(tmp_path, {"persons": [person_row("P1")], "unions": []})
    (tmp_path / "unions.csv").write_bytes(b"person_a,person_b,start\nP1,P1,2000-01-01,extra\n\xff")
    with pytest.raises(MalformedFileError) as caught:
        read(tmp_path)
    assert (caught.value.file, caught.value.line) == ("unions.csv", 3)


def test_encoding_given_for_every_file(tmp_path: Path) -> None:
    write_register(tmp_path, {"persons": [person_row("P1", name="𠮷䶮")]}, encoding="gb18030")
    assert next(read(tmp_path, encoding="gb18030").rows("persons"))[2] == "𠮷䶮"
    with pytest.raises(MalformedFileError, match="cannot be decoded as utf-8"):
        read(tmp_path, encoding="utf-8")
    with pytest.raises(ExchangeError, match="not allowed"):
        read(tmp_path, encoding="latin-1")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_register_in_each_encoding(tmp_path: Path, encoding: str) -> None:
    """'Encoding UTF-8 (a BOM is allowed) or GB18030, detected': names GBK cannot hold too."""
    name = "龚𠮷䶮\u9fb4"
    write_register(tmp_path, {"persons": [person_row("P1", name=name)]}, encoding=encoding)
    reading = read(tmp_path)
    assert reading.files[0].encoding == encoding
    assert next(reading.rows("persons"))[2] == name


def test_known_person_ids_are_asked_in_batches(tmp_path: Path) -> None:
    links = [(f"S{i:05d}", "P1", "birth", "") for i in range(12_345)]
    write_register(tmp_path, {"persons": [person_row("P1")], "parent_child": links})
    batches: list[int] = []

    def known(ids: list[str]) -> set[str]:
        batches.append(len(ids))
        return {i for i in ids if i != "S00007"}

    reading = read(tmp_path, known_person_ids=known)
    assert batches == [10_000, 2_345]
    assert [q.line for q in reading.quarantine] == [9]
    assert reading.counts["parent_child"].good == 12_344


def test_division_check_hook(tmp_path: Path) -> None:
    write_register(tmp_path, {"persons": [person_row("P1")]})
    reading = read(tmp_path, check_division=lambda code: f"{code} is not ours")
    (warning,) = reading.warnings
    assert warning.path == "persons.csv:2:hukou_division"
    assert warning.message.startswith(f"{VILLAGE} is not ours")
    assert read(tmp_path).warnings == ()


# --- the fast ID check agrees with the model's ------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(
    province=st.integers(10, 99),
    rest=st.integers(0, 9999),
    born=st.dates(date(1700, 1, 1), date(2030, 12, 31)),
    seq=st.integers(0, 999),
    last=st.sampled_from([None, *"0123456789X"]),
    mangle=st.sampled_from(["", "month13", "day32", "short", "fullwidth"]),
)
def test_fast_citizen_id_check_agrees_with_citizen_id(
    province: int, rest: int, born: date, seq: int, last: str | None, mangle: str
) -> None:
    """One definition of a valid ID: the reader's fast path says what CitizenId.check says."""
    body = f"{province:02d}{rest:04d}{born:%Y%m%d}{seq:03d}"
    if mangle == "month13":
        body = body[:10] + "13" + body[12:]
    elif mangle == "day32":
        body = body[:12] + "32" + body[14:]
    text = body + (check_character(body) if last is None else last)
    if mangle == "short":
        text = text[:17]
    elif mangle == "fullwidth":
        text = "３" + text[1:]
    shared = _Shared(TODAY)
    assert shared.citizen_id_ok(text) == CitizenId.check(text, today=TODAY).valid


# --- writing -----------------------------------------------------------------------------


def test_write_register_columns_in_spec_order_and_values_as_stored(tmp_path: Path) -> None:
    """'famplan export writes values exactly as stored (a name that starts with = stays).'"""
    row = person_row("P1", name="=HYPERLINK(1)")
    (written,) = write_register(tmp_path, {"persons": [row]})
    text = (tmp_path / "persons.csv").read_bytes().decode()
    assert text.startswith(",".join(PERSON_COLUMNS) + "\r\n")
    assert ",=HYPERLINK(1)," in text
    assert written.sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert next(read(tmp_path).rows("persons"))[2] == "=HYPERLINK(1)"


def test_write_register_is_all_or_nothing(tmp_path: Path) -> None:
    households = [("H1", VILLAGE, "𠮷村", "")]
    with pytest.raises(ExchangeError, match="cannot be written in gbk"):
        write_register(
            tmp_path, {"persons": [person_row("P1")], "households": households}, encoding="gbk"
        )
    assert list(tmp_path.iterdir()) == []


def test_write_register_refusals(tmp_path: Path) -> None:
    with pytest.raises(ExchangeError, match="unknown register format"):
        write_register(tmp_path, {}, fmt="xlsx")
    with pytest.raises(ExchangeError, match="unknown record kind"):
        write_register(tmp_path, {"marriages": []})
    with pytest.raises(ExchangeError, match="13 columns"):
        write_register(tmp_path, {"persons": [("P1",)]})
    write_register(tmp_path, {"persons": [person_row("P1")]}, fmt="jsonl")
    with pytest.raises(ExchangeError, match=r"persons\.jsonl is already in the folder"):
        write_register(tmp_path, {"persons": [person_row("P1")]}, fmt="csv")


# --- round trips -------------------------------------------------------------------------

_SPACES = "".join(chr(c) for c in range(0x3001) if chr(c).isspace()) + "\ufeff"
_OLD_PUA = {c.old for c in GB18030_2022_CHANGES}


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip(_SPACES)).strip(_SPACES)


texts = (
    st.text(st.characters(exclude_categories=["Cc", "Cs"]), min_size=1, max_size=24)
    .map(_clean)
    .filter(lambda t: t != "" and not (set(t) & _OLD_PUA))
)
dates = st.dates(date(1900, 1, 1), TODAY)


@st.composite
def registers(draw: st.DrawFn) -> dict[str, list[tuple[str, ...]]]:
    """A random valid register: persons, households, links, certificates ..."""
    count = draw(st.integers(1, 6))
    ids = [f"P{i}" for i in range(count)]
    households: list[tuple[str, ...]] = [
        (
            f"H{i}",
            VILLAGE,
            draw(st.sampled_from(["", "一村"])) or draw(texts),
            draw(st.sampled_from(["", *ids])),
        )
        for i in range(draw(st.integers(0, 2)))
    ]
    persons = []
    for i, pid in enumerate(ids):
        born = draw(dates)
        sex = draw(st.sampled_from(["1", "2"]))
        dead = draw(st.one_of(st.just(""), st.dates(born, TODAY).map(date.isoformat)))
        values = {
            "person_id": pid,
            "citizen_id": draw(st.sampled_from(["", citizen_id(born, sex, i)])),
            "name": draw(texts),
            "sex": sex,
            "birth_date": born.isoformat(),
            "death_date": dead,
            "ethnicity": draw(st.sampled_from(["", *ETHNICITY.codes])),
            "marital_status": draw(st.sampled_from(["", *MARITAL_STATUS.codes])),
            "hukou_division": VILLAGE,
            "hukou_type": draw(st.sampled_from(["rural", "urban"])),
            "residence_division": draw(st.sampled_from(["", "110101001001"])),
            "household_id": draw(st.sampled_from(["", *(h[0] for h in households)])),
            "relation_to_head": draw(st.sampled_from(["", *RELATION_TO_HEAD.codes])),
        }
        persons.append(tuple(values[c] for c in PERSON_COLUMNS))
    pick = st.sampled_from(ids)
    register: dict[str, list[tuple[str, ...]]] = {"persons": persons}
    keep_households: bool = bool(households) or draw(st.booleans())
    if keep_households:
        register["households"] = households
    parent, child = draw(pick), draw(pick)
    if parent != child:
        register["parent_child"] = [(parent, child, "adoptive", draw(dates).isoformat())]
    start = draw(dates)
    register["unions"] = (
        [(parent, child, start.isoformat(), TODAY.isoformat(), "divorce")]
        if parent != child
        else []
    )
    register["disabilities"] = [
        (
            draw(pick),
            draw(st.sampled_from("1234")),
            draw(st.sampled_from(["", *DISABILITY_CATEGORY.codes])),
            start.isoformat(),
            "",
        )
    ]
    if parent != child:
        register["certificates"] = [
            (draw(texts), "honour", parent, child, start.isoformat(), ""),
        ]
    register["enrolments"] = [(draw(pick), draw(texts), start.isoformat(), draw(texts))]
    register["hukou_changes"] = [(draw(pick), start.isoformat(), VILLAGE, "urban")]
    return register


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    register=registers(),
    fmt=st.sampled_from(["csv", "jsonl"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
)
def test_round_trip_read_write_read(
    tmp_path_factory: pytest.TempPathFactory,
    register: dict[str, list[tuple[str, ...]]],
    fmt: str,
    encoding: str,
) -> None:
    """'round-tripping a register through both gives the same files (same rows, same values)'."""
    first = tmp_path_factory.mktemp("first")
    write_register(first, register, fmt=fmt, encoding=encoding)
    reading = read(first)
    assert reading.quarantine == (), [str(p) for q in reading.quarantine for p in q.problems]
    assert {k: list(t.rows) for k, t in reading.tables.items()} == register
    second = tmp_path_factory.mktemp("second")
    write_register(second, reading.tables, fmt=fmt, encoding=encoding)
    again = read(second)
    assert {k: list(t.rows) for k, t in again.tables.items()} == register
    assert [f.sha256 for f in again.files] == [f.sha256 for f in reading.files]


# --- nothing but ExchangeError ----------------------------------------------------------------

_ALPHABET = '",\r\n \t0123456789Xx-abc张１\x00\ufeff{}[]:'
cells = st.text(st.sampled_from(_ALPHABET), max_size=14)


@st.composite
def csv_like(draw: st.DrawFn) -> bytes:
    names = [*PERSON_COLUMNS, "bogus", ""]
    header = draw(
        st.one_of(
            st.lists(st.sampled_from(names), max_size=8),
            st.permutations(PERSON_COLUMNS).map(list),
        )
    )
    lines = [",".join(header)]
    for _ in range(draw(st.integers(0, 5))):
        width = draw(st.sampled_from([len(header), len(header), draw(st.integers(0, 15))]))
        lines.append(",".join(draw(st.lists(cells, min_size=width, max_size=width))))
    text = draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines)
    return text.encode(draw(st.sampled_from(["utf-8", "gb18030", "utf-16"])))


@st.composite
def jsonl_like(draw: st.DrawFn) -> bytes:
    values = st.one_of(st.none(), cells, st.integers(), st.booleans(), st.lists(cells, max_size=2))
    keys = st.sampled_from([*PERSON_COLUMNS, "bogus"])
    lines = [
        json.dumps(draw(st.dictionaries(keys, values, max_size=8)))
        if draw(st.integers(0, 5))
        else draw(cells)
        for _ in range(draw(st.integers(0, 5)))
    ]
    return "\n".join(lines).encode()


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    content=st.one_of(st.binary(max_size=200), csv_like(), jsonl_like()),
    name=st.sampled_from(["persons.csv", "persons.jsonl", "unions.csv", "households.jsonl"]),
    today=st.dates(date(1990, 1, 1), date(2100, 1, 1)),
)
def test_random_files_raise_nothing_but_exchange_errors(
    tmp_path_factory: pytest.TempPathFactory, content: bytes, name: str, today: date
) -> None:
    """Malformed exchange input never crashes: only the documented ExchangeError family."""
    folder = tmp_path_factory.mktemp("random")
    if not name.startswith("persons"):
        write_register(folder, {"persons": [person_row("P1")]})
    (folder / name).write_bytes(content)
    try:
        reading = read_register(folder, today=today, known_person_ids=lambda ids: set(ids[:1]))
    except ExchangeError:
        return
    total = sum(c.rows for c in reading.counts.values())
    assert sum(c.good for c in reading.counts.values()) + len(reading.quarantine) == total
    for row in reading.quarantine:
        assert row.problems
        assert all(p.path.startswith(f"{row.file}:{row.line}") for p in row.problems)


def test_repeated_values_are_shared(tmp_path: Path) -> None:
    """The memory design: rows are plain tuples, and repeated dates and codes share one string."""
    rows = [person_row(f"P{i}", seq=i) for i in range(50)]
    write_register(tmp_path, {"persons": rows})
    table = read(tmp_path).tables["persons"]
    first, second = table.rows[0], table.rows[1]
    assert first[4] is second[4]  # the birth date text is shared, not copied per row
    assert first[8] is second[8]  # and so is the division code
    assert sys.getsizeof(first) < 200
