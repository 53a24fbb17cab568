"""Masking, public field selection, leak scanning and log masking (famplan_core.privacy)."""

from __future__ import annotations

import datetime as dt
import doctest
import logging
import re
import sys
import uuid
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from famplan_core import privacy
from famplan_core.errors import ConfigurationError, ValidationError
from famplan_core.model.codes import HukouType, Sex
from famplan_core.model.identity import CitizenId, DivisionCode
from famplan_core.model.people import Person
from famplan_core.model.sensitivity import Sensitivity, sensitivity_metadata, sensitivity_of
from famplan_core.privacy import (
    COMPOUND_SURNAMES,
    IdMask,
    IdMaskingFilter,
    KeepEnds,
    Leak,
    MaskingPolicy,
    MiddleMask,
    NameMask,
    Strict,
    SurnameOnly,
    assert_publishable,
    find_citizen_ids,
    find_values,
    install_log_filter,
    public_fields,
)

ON = dt.date(2026, 1, 1)
ADULT_BORN = dt.date(1949, 12, 31)
CHILD_BORN = dt.date(2015, 6, 1)
VECTOR = "11010519491231002X"

# -- strategies ------------------------------------------------------------------------------

cjk = st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF),  # Extension B, astral
)
chinese_names = st.lists(cjk, min_size=2, max_size=5).map("".join)
compound_names = st.tuples(
    st.sampled_from(sorted(COMPOUND_SURNAMES)), st.lists(cjk, min_size=1, max_size=3)
).map(lambda t: t[0] + "".join(t[1]))
name_masks = st.sampled_from([MiddleMask(), SurnameOnly()])


@st.composite
def valid_ids(draw: st.DrawFn) -> str:
    """A valid 18-character ID: 6 digits, a real birth date, 3 digits, the check character."""
    division = draw(st.integers(min_value=110000, max_value=829999))
    born = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=ON))
    sequence = draw(st.integers(min_value=0, max_value=999))
    first17 = f"{division}{born:%Y%m%d}{sequence:03d}"
    return first17 + CitizenId.check_character(first17)


surrounding = st.text(alphabet=st.sampled_from("0123456789Xx 张三,;:-\n号码"), max_size=12)


# -- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三明", "张*明"),
        ("欧阳春华", "欧阳*华"),
        ("张三", "张*"),
        ("欧阳华", "欧阳*"),
        ("诸葛孔明亮", "诸葛**亮"),
        ("张小三明", "张**明"),
        ("张天小三明", "张天**明"),
        ("𠮷野家", "𠮷*家"),
        ("买买提·艾力", "买**·艾*"),
        ("Ayxam Tursun", "A**** T*****"),
        ("张 三", "张 *"),
        ("欧阳", "欧*"),
        ("  张三明 ", "张*明"),
        ("张", "*"),
        ("", ""),
    ],
)
def test_middle_mask_examples(name: str, masked: str) -> None:
    assert MiddleMask().mask(name) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三明", "张**"),
        ("欧阳春华", "欧阳**"),
        ("张三", "张*"),
        ("买买提·艾力", "买**·**"),
        ("𠮷野家", "𠮷**"),
    ],
)
def test_surname_only_examples(name: str, masked: str) -> None:
    assert SurnameOnly().mask(name) == masked


def test_a_variation_selector_is_masked_with_its_character() -> None:
    name = "葛\U000e0100亮明"  # 葛 with an ideographic variation selector
    assert MiddleMask().mask(name) == "葛\U000e0100*明"
    assert MiddleMask().mask("张\U000e0100明") == "张\U000e0100*"


def test_the_policies_satisfy_their_protocols() -> None:
    assert isinstance(MiddleMask(), NameMask)
    assert isinstance(SurnameOnly(), NameMask)
    assert isinstance(KeepEnds(), IdMask)
    assert isinstance(Strict(), IdMask)


def test_compound_surnames_are_two_characters_and_many() -> None:
    assert len(COMPOUND_SURNAMES) >= 40
    assert all(len(s) == 2 for s in COMPOUND_SURNAMES)
    assert {"欧阳", "司马", "上官", "诸葛", "西门", "南宫", "令狐"} <= COMPOUND_SURNAMES


def test_compound_surnames_can_be_extended_but_must_be_two_characters() -> None:
    mask = MiddleMask(compound_surnames=COMPOUND_SURNAMES | {"范姜"})
    assert mask.mask("范姜明华") == "范姜*华"
    with pytest.raises(ConfigurationError, match="compound_surnames"):
        MiddleMask(compound_surnames=frozenset({"欧阳氏"}))


@given(name=chinese_names, mask=name_masks)
def test_a_chinese_name_is_changed_keeps_its_surname_and_its_length(
    name: str, mask: NameMask
) -> None:
    masked = mask.mask(name)
    assert masked != name
    assert masked[0] == name[0]
    assert len(masked) == len(name)
    assert "*" in masked


@given(name=compound_names, mask=name_masks)
def test_a_compound_surname_is_kept_whole(name: str, mask: NameMask) -> None:
    masked = mask.mask(name)
    assert masked != name
    assert masked[:2] == name[:2]
    assert len(masked) == len(name)
    assert masked[2] == "*"


@given(name=st.text(alphabet=st.characters(exclude_characters="*"), min_size=2), mask=name_masks)
def test_no_name_of_two_or_more_characters_comes_back_unchanged(name: str, mask: NameMask) -> None:
    stripped = name.strip()
    masked = mask.mask(name)
    if len(stripped) >= 2:
        assert masked != stripped
    assert "\n" not in masked or "\n" in stripped


# -- citizen ID numbers ----------------------------------------------------------------------


def test_keep_ends_and_strict_examples() -> None:
    assert KeepEnds().mask(VECTOR) == "110105********002X"
    assert KeepEnds().mask(CitizenId(VECTOR)) == "110105********002X"
    assert Strict().mask(VECTOR) == "1****************X"
    assert KeepEnds(first=0, last=0).mask(VECTOR) == "*" * 18


@pytest.mark.parametrize("mask", [KeepEnds(), Strict()])
@pytest.mark.parametrize(
    ("value", "masked"),
    [("", ""), ("   ", ""), ("110105491231002", "1**************"), ("1", "1"), ("12", "1*")],
)
def test_values_of_other_lengths_keep_only_their_first_character(
    mask: IdMask, value: str, masked: str
) -> None:
    assert mask.mask(value) == masked


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"first": 7}, "KeepEnds.first = 7"),
        ({"last": 5}, "KeepEnds.last = 5"),
        ({"first": -1}, "KeepEnds.first = -1"),
        ({"last": 2.5}, "KeepEnds.last = 2.5"),
        ({"first": True}, "KeepEnds.first = True"),
    ],
)
def test_keep_ends_refuses_to_show_too_much(settings: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(named)):
        KeepEnds(**settings)


@given(
    citizen_id=valid_ids(),
    mask=st.one_of(
        st.just(Strict()),
        st.builds(
            KeepEnds,
            first=st.integers(min_value=0, max_value=6),
            last=st.integers(min_value=0, max_value=4),
        ),
    ),
)
def test_a_masked_id_shows_no_number_and_no_birth_date(citizen_id: str, mask: IdMask) -> None:
    masked = mask.mask(citizen_id)
    assert len(masked) == 18
    assert find_citizen_ids(masked) == []
    assert citizen_id[6:14] not in masked
    assert sum(ch != "*" for ch in masked) <= 10


# -- the policy ------------------------------------------------------------------------------


def test_the_default_policy() -> None:
    policy = MaskingPolicy()
    assert policy == MaskingPolicy.from_settings({})
    assert policy.mask_name("张三明") == "张*明"
    assert policy.mask_citizen_id(VECTOR) == "110105********002X"


def test_policy_from_settings() -> None:
    policy = MaskingPolicy.from_settings({"name": "surname", "citizen_id": "strict"})
    assert policy.name == SurnameOnly()
    assert policy.citizen_id == Strict()
    assert policy.mask_name("欧阳春华") == "欧阳**"
    assert policy.mask_citizen_id(VECTOR) == "1****************X"
    assert MaskingPolicy.from_settings({"citizen_id": "keep-6-4"}).citizen_id == KeepEnds()


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"name": "full"}, ["masking.name", "'full'", "'middle'", "'surname'"]),
        ({"name": "unmasked"}, ["masking.name", "'unmasked'", "'middle'", "'surname'"]),
        (
            {"citizen_id": "keep-8-4"},
            ["masking.citizen_id", "'keep-8-4'", "'keep-6-4'", "'strict'"],
        ),
        ({"citizen_id": 3}, ["masking.citizen_id", "3", "'keep-6-4'", "'strict'"]),
        ({"names": "middle"}, ["masking.names", "unknown", "'citizen_id'", "'name'"]),
    ],
)
def test_policy_settings_errors_name_key_value_and_allowed(
    settings: dict[str, object], expected: list[str]
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        MaskingPolicy.from_settings(settings)
    for part in expected:
        assert part in str(caught.value)


def test_policy_settings_errors_use_the_section() -> None:
    with pytest.raises(ConfigurationError, match=r"notices\.name = 'x'"):
        MaskingPolicy.from_settings({"name": "x"}, section="notices")


def test_mask_fields_masks_name_and_id_and_copies_the_rest() -> None:
    row = {"name": "张三明", "citizen_id": CitizenId(VECTOR), "amount": 960}
    assert MaskingPolicy().mask_fields(row) == {
        "name": "张*明",
        "citizen_id": "110105********002X",
        "amount": 960,
    }
    assert MaskingPolicy().mask_fields({"citizen_id": None}) == {"citizen_id": None}


# -- public fields ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class NoticeLine:
    program: str = attrs.field(metadata=sensitivity_metadata(Sensitivity.PUBLIC))
    amount: int = attrs.field(metadata=sensitivity_metadata(Sensitivity.PUBLIC))
    name: str = attrs.field(metadata=sensitivity_metadata(Sensitivity.PERSONAL))
    note: str = attrs.field(metadata=sensitivity_metadata(Sensitivity.SENSITIVE))


def test_public_fields_of_a_person_under_14_are_none() -> None:
    assert public_fields(Person, on=ON, subject_birth_date=CHILD_BORN) == ()
    assert public_fields(NoticeLine, on=ON, subject_birth_date=CHILD_BORN) == ()


@pytest.mark.parametrize("born", [ADULT_BORN, None])
def test_public_fields_of_an_adult_hold_nothing_sensitive(born: dt.date | None) -> None:
    for cls in (Person, NoticeLine):
        chosen = public_fields(cls, on=ON, subject_birth_date=born)
        assert all(sensitivity_of(cls, name) is Sensitivity.PUBLIC for name in chosen)
    assert public_fields(NoticeLine, on=ON, subject_birth_date=born) == ("program", "amount")


def test_the_child_rule_ends_on_the_14th_birthday() -> None:
    born = dt.date(2012, 1, 1)
    assert public_fields(NoticeLine, on=dt.date(2025, 12, 31), subject_birth_date=born) == ()
    assert public_fields(NoticeLine, on=dt.date(2026, 1, 1), subject_birth_date=born) == (
        "program",
        "amount",
    )


def _person() -> Person:
    return Person(
        person_id="p1",
        citizen_id=CitizenId(VECTOR),
        name="张三明",
        sex=Sex.FEMALE,
        birth_date=ADULT_BORN,
        hukou_division=DivisionCode("371502114201"),
        hukou_type=HukouType.RURAL,
    )


def test_a_masked_row_about_an_adult_is_publishable() -> None:
    person = _person()
    row = MaskingPolicy().mask_fields({"name": person.name, "citizen_id": person.citizen_id})
    assert_publishable(row, Person, on=ON, subject_birth_date=person.birth_date)
    assert_publishable({"citizen_id": None}, Person, on=ON, subject_birth_date=ADULT_BORN)
    line = {"program": "奖励扶助", "amount": 960, "name": "张*明"}
    assert_publishable(line, NoticeLine, on=ON, subject_birth_date=ADULT_BORN)


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        ({"name": "张三明"}, "Person.name", "only masked"),
        ({"citizen_id": VECTOR}, "Person.citizen_id", "only masked"),
        ({"citizen_id": CitizenId(VECTOR)}, "Person.citizen_id", "only masked"),
        ({"citizen_id": "1101051949123*002X"}, "Person.citizen_id", "only masked"),
        ({"death_date": dt.date(2020, 1, 1)}, "Person.death_date", "never published"),
        ({"birth_date": ADULT_BORN}, "Person.birth_date", "not published"),
        ({"person_id": "p1"}, "Person.person_id", "internal"),
        ({"shoe_size": 40}, "Person.shoe_size", "no such field"),
    ],
)
def test_an_unpublishable_field_is_named(row: dict[str, object], field: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        assert_publishable(row, Person, on=ON, subject_birth_date=ADULT_BORN)
    message = str(caught.value)
    assert field in message
    assert reason in message
    assert VECTOR not in message
    assert "张三明" not in message


def test_nothing_about_a_child_is_publishable_even_masked() -> None:
    row = {"name": "张*明", "program": "育儿补贴"}
    with pytest.raises(ValidationError) as caught:
        assert_publishable(row, NoticeLine, on=ON, subject_birth_date=CHILD_BORN)
    assert [p.path for p in caught.value.problems] == ["NoticeLine.name", "NoticeLine.program"]
    assert all("child under 14" in p.message for p in caught.value.problems)


def test_every_problem_is_listed() -> None:
    row = {"name": "张三明", "note": "x", "amount": 1}
    with pytest.raises(ValidationError) as caught:
        assert_publishable(row, NoticeLine, on=ON, subject_birth_date=None)
    assert [p.path for p in caught.value.problems] == ["NoticeLine.name", "NoticeLine.note"]


# -- leak scanning ---------------------------------------------------------------------------


def test_find_citizen_ids_kinds_and_positions() -> None:
    text = f"甲{VECTOR}乙 123456789012345678 丙 12345678901234567x"
    leaks = find_citizen_ids(text)
    assert [(leak.kind, leak.start) for leak in leaks] == [
        ("valid-id", 1),
        ("id-shaped", 21),
        ("id-shaped", 42),
    ]
    assert leaks[0].text == VECTOR
    assert leaks[0].end == 19
    assert VECTOR not in repr(leaks[0])
    assert "110105********002X" in repr(leaks[0])


def test_every_window_of_a_longer_digit_run_is_checked() -> None:
    text = "9" + VECTOR[:-1] + "2"  # 19 digits: two windows, neither with a valid check
    assert [leak.start for leak in find_citizen_ids(text)] == [0, 1]
    embedded = "12" + VECTOR  # the valid number is the last of three windows
    leaks = find_citizen_ids(embedded)
    assert [leak.start for leak in leaks] == [0, 1, 2]
    assert leaks[2].kind == "valid-id"
    assert leaks[2].text == VECTOR


def test_full_width_digits_are_found() -> None:
    wide = VECTOR.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    leaks = find_citizen_ids(f"号码{wide}")
    assert [(leak.kind, leak.start) for leak in leaks] == [("valid-id", 2)]


def test_short_and_split_numbers_are_not_ids() -> None:
    assert find_citizen_ids("1101051949123100") == []
    assert find_citizen_ids("X11010519491231002") == []
    assert find_citizen_ids("") == []


@given(before=surrounding, ids=st.lists(valid_ids(), min_size=1, max_size=3), after=surrounding)
def test_every_embedded_valid_id_is_found(before: str, ids: list[str], after: str) -> None:
    pieces = [before]
    starts = []
    for number in ids:
        starts.append(sum(map(len, pieces)))
        pieces.extend([number, after])
    text = "".join(pieces)
    leaks = {(leak.start, leak.kind, leak.text) for leak in find_citizen_ids(text)}
    for start, number in zip(starts, ids, strict=True):
        assert (start, "valid-id", number) in leaks


@given(st.text(alphabet=st.sampled_from("0123456789Xx 张a"), max_size=60))
def test_windows_match_a_regular_expression(text: str) -> None:
    expected = [m.start() for m in re.finditer(r"(?=[0-9]{17}[0-9Xx])", text)]
    assert [leak.start for leak in find_citizen_ids(text)] == expected


def test_find_values() -> None:
    text = "张*明 王庄村 1949-12-31"
    assert find_values(text, ["张三明", "王庄村", "1949-12-31", "王庄村", "明", ""]) == [
        "王庄村",
        "1949-12-31",
    ]
    assert find_values(text, iter(["张"])) == []


def test_leak_is_a_frozen_record() -> None:
    leak = Leak(kind="id-shaped", text="1" * 18, start=0)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        leak.start = 1  # type: ignore[misc]


# -- logging ---------------------------------------------------------------------------------


def _record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("famplan_core.t", logging.INFO, __file__, 1, msg, args, None)


@given(citizen_id=valid_ids(), before=st.text(max_size=10), after=st.text(max_size=10))
def test_the_filter_masks_ids_in_args_and_message_and_removes_line_breaks(
    citizen_id: str, before: str, after: str
) -> None:
    user_text = f"{before}\r\n{after}"
    for record in (
        _record("person %s said %s", citizen_id, user_text),
        _record(f"person {citizen_id} said {user_text}"),
    ):
        assert IdMaskingFilter().filter(record) is True
        message = record.getMessage()
        assert record.args == ()
        assert record.msg == message
        assert not [leak for leak in find_citizen_ids(message) if leak.kind == "valid-id"]
        assert citizen_id not in message
        assert f"{citizen_id[:6]}********{citizen_id[-4:]}" in message
        assert "\r" not in message
        assert "\n" not in message


def test_the_filter_survives_a_bad_format_and_a_dict_argument() -> None:
    record = _record("two %s %s", VECTOR)
    IdMaskingFilter().filter(record)
    assert VECTOR not in record.getMessage()
    assert "110105********002X" in record.getMessage()
    mapping = logging.LogRecord(
        "t", logging.INFO, __file__, 1, "%(id)s 100%%", ({"id": VECTOR},), None
    )
    IdMaskingFilter().filter(mapping)
    assert mapping.getMessage() == "110105********002X 100%"
    assert IdMaskingFilter().filter(mapping) is True  # a second pass changes nothing
    assert mapping.getMessage() == "110105********002X 100%"


def test_the_filter_masks_a_traceback_and_a_stack() -> None:
    try:
        raise ValueError(f"no such person {VECTOR}")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "t", logging.ERROR, __file__, 1, "failed", (), exc_info, sinfo=f"Stack: {VECTOR}"
    )
    IdMaskingFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "Traceback" in text
    assert "no such person 110105********002X" in text
    assert "Stack: 110105********002X" in text
    assert VECTOR not in text
    assert not find_citizen_ids(text)


def test_install_log_filter_covers_the_tree_once(caplog: pytest.LogCaptureFixture) -> None:
    top = f"famplan_core_test_{uuid.uuid4().hex}"
    child = logging.getLogger(f"{top}.child")
    first = install_log_filter(top)
    second = install_log_filter(top)
    assert first is second
    assert sum(isinstance(f, IdMaskingFilter) for f in logging.getLogger(top).filters) == 1
    assert sum(isinstance(f, IdMaskingFilter) for f in child.filters) == 1
    with caplog.at_level(logging.INFO):
        child.info("registered %s\nFAKE ENTRY", VECTOR)
        logging.getLogger(top).warning("id %r", CitizenId(VECTOR))
    assert VECTOR not in caplog.text
    assert "registered 110105********002X FAKE ENTRY" in caplog.messages


def test_install_log_filter_defaults_to_the_library_logger() -> None:
    installed = install_log_filter()
    assert installed in logging.getLogger("famplan_core").filters


# -- the examples in the docstrings ----------------------------------------------------------


def test_the_docstring_examples_hold() -> None:
    result = doctest.testmod(privacy, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
