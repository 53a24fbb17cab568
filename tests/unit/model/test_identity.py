"""CitizenId (GB 11643) and DivisionCode: vectors, messages and properties."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from famplan_core.errors import ValidationError
from famplan_core.model.codes import Sex
from famplan_core.model.identity import (
    CitizenId,
    DivisionCode,
    Finding,
    IdCheck,
    Level,
)

TODAY = date(2026, 11, 29)
VECTORS = ["11010519491231002X", "440524188001010014", "110101202311012176"]


def _messages(exc: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [p.message for p in exc.value.problems]


# --- CitizenId: accepted numbers ------------------------------------------------------------


@pytest.mark.parametrize("text", VECTORS)
def test_standard_vectors_are_accepted(text: str) -> None:
    assert CitizenId(text).value == text
    assert CitizenId.parse(text, today=TODAY).value == text
    assert CitizenId.check(text, today=TODAY).valid


def test_parts_of_a_number() -> None:
    cid = CitizenId("11010519491231002X")
    assert cid.birth_date == date(1949, 12, 31)
    assert cid.sex is Sex.FEMALE
    assert cid.division_prefix == "110105"
    assert cid.sequence == "002"
    assert str(cid) == "11010519491231002X"
    assert CitizenId("440524188001010014").sex is Sex.MALE
    assert CitizenId("110101202311012176").birth_date == date(2023, 11, 1)


def test_lowercase_x_is_stored_upper_case() -> None:
    assert CitizenId("11010519491231002x").value == "11010519491231002X"
    assert CitizenId("11010519491231002x") == CitizenId("11010519491231002X")
    assert CitizenId.parse(" 11010519491231002x\t", today=TODAY).value == "11010519491231002X"


def test_parse_trims_white_space() -> None:
    assert CitizenId.parse("\u3000440524188001010014 ", today=TODAY).value == "440524188001010014"


def test_constructor_does_not_trim() -> None:
    with pytest.raises(ValidationError):
        CitizenId(" 440524188001010014")


def test_birth_today_is_accepted() -> None:
    first17 = "37150220261129001"
    text = first17 + CitizenId.check_character(first17)
    assert CitizenId.parse(text, today=date(2026, 11, 29)).birth_date == date(2026, 11, 29)


def test_check_character_computes_every_vector() -> None:
    for text in VECTORS:
        assert CitizenId.check_character(text[:17]) == text[17]


@pytest.mark.parametrize("bad", ["1101051949123100", "1101051949123100２", "", 17])
def test_check_character_needs_17_ascii_digits(bad: object) -> None:
    with pytest.raises(ValidationError, match="17 ASCII digits"):
        CitizenId.check_character(bad)  # type: ignore[arg-type]


# --- CitizenId: rejected numbers, with reasons in words -------------------------------------


def test_bad_check_character_names_both_characters() -> None:
    with pytest.raises(ValidationError) as exc:
        CitizenId.parse("110105194912310023", today=TODAY)
    assert _messages(exc) == ["check character is '3' but the first 17 digits give 'X'"]
    assert exc.value.problems[0].path == "citizen_id"
    assert exc.value.problems[0].value == "110105194912310023"


def test_impossible_date_is_rejected() -> None:
    first17 = "11010519990230002"
    text = first17 + CitizenId.check_character(first17)
    with pytest.raises(ValidationError) as exc:
        CitizenId(text)
    assert _messages(exc) == [
        "birth date 19990230 (characters 7-14) is not a real date; expected YYYYMMDD, e.g. 19491231"
    ]


def test_future_date_is_rejected_by_parse_only() -> None:
    first17 = "11010520300101002"
    text = first17 + CitizenId.check_character(first17)
    assert CitizenId(text).birth_date == date(2030, 1, 1)  # the constructor has no "today"
    with pytest.raises(ValidationError) as exc:
        CitizenId.parse(text, today=TODAY, path="persons.csv:4:citizen_id")
    assert exc.value.problems[0].path == "persons.csv:4:citizen_id"
    assert "after today, 2026-11-29" in _messages(exc)[0]


def test_year_before_1800_is_rejected() -> None:
    first17 = "11010517991231002"
    with pytest.raises(ValidationError, match="before 1800"):
        CitizenId(first17 + CitizenId.check_character(first17))


def test_every_problem_is_listed() -> None:
    with pytest.raises(ValidationError) as exc:
        CitizenId.parse("11010519990230０02Z", today=TODAY)
    messages = _messages(exc)
    assert len(messages) == 3
    assert "character 15 ('０') is not a digit" in messages[0]
    assert "non-ASCII digits are not accepted" in messages[0]
    assert "last character is 'Z'" in messages[1]
    assert "19990230" in messages[2]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("1101051949123100", "has 16 characters; expected 18 characters"),
        ("110105194912310023X", "has 19 characters"),
        ("", "has 0 characters"),
        ("110105491231002", "old number (GB 11643-1989"),
        ("11010519491231002Y", "expected a check character, a digit or X"),
    ],
)
def test_form_errors(text: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as exc:
        CitizenId.parse(text, today=TODAY)
    assert any(fragment in m for m in _messages(exc))


def test_non_text_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        CitizenId(110105194912310023)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        CitizenId.parse(None, today=TODAY)  # type: ignore[arg-type]
    assert not CitizenId.check(None, today=TODAY).valid  # type: ignore[arg-type]


# --- upgrade15 -------------------------------------------------------------------------------


def test_upgrade15_inserts_19_and_the_check_character() -> None:
    assert CitizenId.upgrade15("110105491231002").value == "11010519491231002X"
    assert CitizenId.upgrade15(" 440524800101001 ").value == "440524198001010013"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("11010549123100", "15 ASCII digits"),
        ("11010549123100２", "non-ASCII digits"),
        ("110105490230002", "not a real date"),
    ],
)
def test_upgrade15_rejects(text: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        CitizenId.upgrade15(text)


# --- check() ---------------------------------------------------------------------------------


def _codes(result: IdCheck, severity: str) -> list[str]:
    return [f.code for f in result.findings if f.severity == severity]


def test_check_explains_a_valid_number() -> None:
    result = CitizenId.check("11010519491231002x", today=TODAY)
    assert result.valid
    assert result.normalised == "11010519491231002X"
    assert result.errors == ()
    assert result.warnings == ()
    assert _codes(result, "info") == [
        "division",
        "birth-date",
        "sex",
        "sequence",
        "check-character",
    ]
    messages = {f.code: f.message for f in result.findings}
    assert "北京市朝阳区" in messages["division"]
    assert "1949-12-31" in messages["birth-date"]
    assert messages["sex"] == "sex female: the 17th digit, 2, is even"
    assert "002" in messages["sequence"]


def test_unknown_division_is_a_warning_not_an_error() -> None:
    result = CitizenId.check("440524188001010014", today=TODAY)  # 440524: retired code
    assert result.valid
    assert _codes(result, "warning") == ["division-unknown"]
    assert "440524" in result.warnings[0].message


def test_check_lists_errors_first() -> None:
    result = CitizenId.check("110105199902300021", today=TODAY)
    assert not result.valid
    assert result.normalised is None
    assert [f.severity for f in result.findings] == ["error", "error", "info"]
    assert _codes(result, "error") == ["birth-date", "check-character"]


def test_check_offers_the_18_character_form_of_an_old_number() -> None:
    result = CitizenId.check("110105491231002", today=TODAY)
    assert not result.valid
    assert _codes(result, "error") == ["old-15-digit"]
    upgrade = [f for f in result.findings if f.code == "upgrade"]
    assert len(upgrade) == 1
    assert "11010519491231002X" in upgrade[0].message


def test_check_future_birth() -> None:
    first17 = "11010520300101002"
    result = CitizenId.check(first17 + CitizenId.check_character(first17), today=TODAY)
    assert _codes(result, "error") == ["future-birth-date"]


def test_finding_severity_is_checked() -> None:
    with pytest.raises(ValueError, match="severity"):
        Finding(severity="fatal", code="x", message="y")  # type: ignore[arg-type]
    assert str(Finding(severity="info", code="x", message="y")) == "info: y"


# --- Hypothesis: never any other exception; structured numbers round-trip -------------------


@given(st.text())
def test_arbitrary_text_raises_only_validation_error(text: str) -> None:
    attempts: tuple[Callable[[], object], ...] = (
        lambda: CitizenId(text),
        lambda: CitizenId.parse(text, today=TODAY),
        lambda: CitizenId.upgrade15(text),
    )
    for attempt in attempts:
        with contextlib.suppress(ValidationError):
            attempt()
    result = CitizenId.check(text, today=TODAY)
    assert result.valid == (not result.errors)


@given(st.text(alphabet="0123456789Xx１２ \t", min_size=14, max_size=19))
def test_digit_like_text_raises_only_validation_error(text: str) -> None:
    with contextlib.suppress(ValidationError):
        CitizenId.parse(text, today=TODAY)
    result = CitizenId.check(text, today=TODAY)
    assert result.valid == (result.normalised is not None)


def _structured(province: int, rest: int, born: date, sequence: int) -> str:
    first17 = f"{province:02d}{rest:04d}{born.year:04d}{born.month:02d}{born.day:02d}{sequence:03d}"
    return first17 + CitizenId.check_character(first17)


@given(
    st.integers(10, 99),
    st.integers(0, 9999),
    st.dates(),
    st.integers(0, 999),
)
def test_structured_numbers(province: int, rest: int, born: date, sequence: int) -> None:
    text = _structured(province, rest, born, sequence)
    result = CitizenId.check(text, today=TODAY)
    should_pass = date(1800, 1, 1) <= born <= TODAY
    assert result.valid == should_pass, result.findings
    if should_pass:
        cid = CitizenId.parse(text.lower(), today=TODAY)
        assert cid.value == text
        assert cid.birth_date == born
        assert cid.sex is (Sex.MALE if sequence % 2 else Sex.FEMALE)
        assert cid.division_prefix == text[:6]
        assert cid.sequence == f"{sequence:03d}"
    else:
        with pytest.raises(ValidationError):
            CitizenId.parse(text, today=TODAY)


@given(
    st.integers(10, 99),
    st.integers(0, 9999),
    st.dates(min_value=date(1800, 1, 1), max_value=TODAY),
    st.integers(0, 999),
    st.integers(0, 16),
    st.integers(1, 9),
)
def test_any_single_digit_change_is_caught(
    province: int, rest: int, born: date, sequence: int, position: int, delta: int
) -> None:
    text = _structured(province, rest, born, sequence)
    changed = text[:position] + str((int(text[position]) + delta) % 10) + text[position + 1 :]
    assert not CitizenId.check(changed, today=TODAY).valid


# --- DivisionCode ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("37", Level.PROVINCE),
        ("370000", Level.PROVINCE),
        ("3715", Level.PREFECTURE),
        ("371500", Level.PREFECTURE),
        ("371502", Level.COUNTY),
        ("371502000", Level.COUNTY),
        ("371502114", Level.TOWNSHIP),
        ("371502110000", Level.TOWNSHIP),
        ("371502114201", Level.VILLAGE),
        ("441900003", Level.TOWNSHIP),
    ],
)
def test_level_is_the_significant_level(text: str, level: Level) -> None:
    assert DivisionCode(text).level is level
    assert DivisionCode(text).value == text


def test_padded_codes_equal_their_short_form() -> None:
    assert DivisionCode("371502110000") == DivisionCode("371502110")
    assert DivisionCode("370000") == DivisionCode("37")
    assert len({DivisionCode("371502110000"), DivisionCode("371502110")}) == 1
    assert DivisionCode("371502110") != DivisionCode("371502114")
    assert DivisionCode("37") != "37"
    assert DivisionCode("371500").padded == "371500"
    assert DivisionCode("3715").padded == "371500"
    assert DivisionCode("371502110000").padded == "371502110"
    assert DivisionCode("371502110000").significant == "371502110"


def test_levels_of_a_village_code() -> None:
    code = DivisionCode("371502114201")
    assert code.province == DivisionCode("37")
    assert code.prefecture == DivisionCode("3715")
    assert code.county == DivisionCode("371502")
    assert code.township == DivisionCode("371502114")
    assert code.village == code
    assert code.parent == DivisionCode("371502114")
    assert DivisionCode("371502").township is None
    assert DivisionCode("371502110000").village is None
    assert DivisionCode("37").parent is None
    assert DivisionCode("3715").parent == DivisionCode("37")


def test_a_town_without_a_county_has_the_prefecture_as_parent() -> None:
    town = DivisionCode("441900003")  # a town of 东莞市, which has no counties
    assert town.county is None
    assert town.parent == DivisionCode("4419")
    assert town.full_name() == "广东省东莞市东城街道"


def test_contains() -> None:
    township = DivisionCode("371502114")
    assert township.contains(DivisionCode("371502114201"))
    assert township.contains(township)
    assert township.contains(DivisionCode("371502114000"))
    assert not township.contains(DivisionCode("371502115201"))
    assert not township.contains(DivisionCode("371502"))
    assert DivisionCode("370000").contains(township)
    assert DivisionCode("4419").contains(DivisionCode("441900003"))


def test_names_from_the_table() -> None:
    assert DivisionCode("371502114").name() == "顾官屯镇"
    assert DivisionCode("371502115").name() == "韩集镇"
    assert DivisionCode("371502").name() == "东昌府区"
    assert DivisionCode("3715").name() == "聊城市"
    assert DivisionCode("37").name() == "山东省"
    assert DivisionCode("371502114").full_name() == "山东省聊城市东昌府区顾官屯镇"
    assert DivisionCode("371502114201").name() is None  # no village level in the table
    assert not DivisionCode("371502999").is_known()
    assert DivisionCode("371502999").full_name() is None


def test_check_known_warns_and_never_rejects() -> None:
    (unknown,) = DivisionCode("371502999").check_known()
    assert unknown.severity == "warning"
    assert "371502999" in unknown.message
    (known,) = DivisionCode("371502114").check_known()
    assert known.severity == "info"
    assert "顾官屯镇" in known.message
    (village,) = DivisionCode("371502114201").check_known()
    assert village.severity == "info"
    assert "顾官屯镇" in village.message
    (lost_village,) = DivisionCode("371502999201").check_known()
    assert lost_village.severity == "warning"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("3715021", "found 7 characters"),
        ("37150211", "a 9-digit township code such as 371502110"),
        ("37１502110", "non-ASCII digits are not accepted"),
        ("37150211a", "ASCII digits 0-9 only"),
        ("", "the value is empty"),
        ("000000", "province codes run from 11 to 82"),
    ],
)
def test_division_parse_rejects(text: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as exc:
        DivisionCode.parse(text, path="households.csv:2:division")
    assert any(fragment in m for m in _messages(exc))
    assert exc.value.problems[0].path == "households.csv:2:division"


def test_division_parse_trims() -> None:
    assert DivisionCode.parse(" 371502114 ").value == "371502114"


def test_division_constructor_path() -> None:
    with pytest.raises(ValidationError) as exc:
        DivisionCode("12345")
    assert exc.value.problems[0].path == "division"


@given(st.text())
def test_division_arbitrary_text_raises_only_validation_error(text: str) -> None:
    try:
        code = DivisionCode.parse(text)
    except ValidationError:
        return
    assert code.level.width <= len(code.value)
    code.check_known()


@given(
    st.sampled_from([2, 4, 6, 9, 12]).flatmap(
        lambda n: st.text("0123456789", min_size=n, max_size=n)
    )
)
def test_division_codes_of_the_right_form(text: str) -> None:
    if text[0] == "0":
        with pytest.raises(ValidationError):
            DivisionCode(text)
        return
    code = DivisionCode(text)
    assert code == DivisionCode(code.significant)
    parent = code.parent
    if parent is not None:
        assert parent.contains(code)
        assert parent.level < code.level
    assert all(f.severity in ("info", "warning") for f in code.check_known())
