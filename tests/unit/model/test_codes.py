"""National code tables: every table parses its own codes, rejects others, has labels."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from famplan_core.errors import ValidationError
from famplan_core.model.codes import (
    CertificateKind,
    CodeTable,
    DisabilityCategory,
    Ethnicity,
    HukouType,
    LinkKind,
    MaritalStatus,
    RelationToHead,
    Sex,
    UnionEndReason,
)

TABLES: list[type[CodeTable]] = [
    Sex,
    MaritalStatus,
    Ethnicity,
    RelationToHead,
    HukouType,
    LinkKind,
    UnionEndReason,
    DisabilityCategory,
    CertificateKind,
]
EVERY_MEMBER = [member for table in TABLES for member in table]


@pytest.mark.parametrize("member", EVERY_MEMBER, ids=lambda m: f"{type(m).__name__}.{m.name}")
def test_every_code_parses_and_has_labels(member: CodeTable) -> None:
    table = type(member)
    assert table.parse(member.value, path="x") is member
    assert table.parse(f" {member.value}\t", path="x") is member
    assert member.code == member.value
    assert member.label_zh
    assert member.label_en
    assert not member.label_zh.isascii()


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.__name__)
def test_codes_are_ascii_and_unique(table: type[CodeTable]) -> None:
    codes = [m.value for m in table]
    assert len(codes) == len(set(codes))
    assert all(c.isascii() and c == c.strip() for c in codes)


def test_sizes_of_the_standard_tables() -> None:
    assert [m.value for m in Sex] == ["0", "1", "2", "9"]
    assert [m.value for m in MaritalStatus] == ["10", "20", "21", "22", "23", "30", "40", "90"]
    assert [m.value for m in Ethnicity] == [f"{n:02d}" for n in range(1, 57)]
    assert len(RelationToHead) == 84
    assert {m.value for m in HukouType} == {"rural", "urban"}
    assert {m.value for m in LinkKind} == {"birth", "adoptive", "step"}
    assert {m.value for m in UnionEndReason} == {"divorce", "death"}
    assert len(DisabilityCategory) == 7


def test_some_labels() -> None:
    assert (Sex.FEMALE.label_zh, Sex.FEMALE.label_en) == ("女性", "female")
    assert MaritalStatus.REMARRIED_FORMER_SPOUSE.label_zh == "复婚"
    assert Ethnicity.HAN.label_zh == "汉族"
    assert Ethnicity.JINO.label_zh == "基诺族"
    assert RelationToHead("02").label_zh == "户主"
    assert RelationToHead("45").label_zh == "孙媳妇或外孙媳妇"
    assert RelationToHead("99").label_en == "not related"
    assert HukouType.RURAL.label_zh == "农业/农村"
    assert CertificateKind.HONOUR.label_zh == "独生子女父母光荣证"


def test_ethnicity_roman_codes() -> None:
    romans = [e.roman for e in Ethnicity]
    assert len(set(romans)) == 56
    assert all(len(r) == 2 and r.isascii() and r.isupper() for r in romans)
    assert (Ethnicity.HAN.roman, Ethnicity.ZANG.roman, Ethnicity.JINO.roman) == ("HA", "ZA", "JN")
    assert Ethnicity.from_roman(" jn ", path="x") is Ethnicity.JINO
    with pytest.raises(ValidationError, match="romanised"):
        Ethnicity.from_roman("QQ", path="x")


def test_disability_certificate_digits() -> None:
    assert [c.certificate_digit for c in DisabilityCategory] == list("1234567")


def test_message_names_the_table() -> None:
    with pytest.raises(ValidationError) as exc:
        Sex.parse("3", path="persons.csv:5:sex")
    (problem,) = exc.value.problems
    assert problem.path == "persons.csv:5:sex"
    assert problem.value == "3"
    assert problem.message == "expected a GB/T 2261.1 sex code: 0, 1, 2 or 9"
    with pytest.raises(ValidationError, match=r"a GB 3304 ethnicity code: two digits from 01"):
        Ethnicity.parse("1", path="p")
    with pytest.raises(ValidationError, match="GB/T 4761 family relationship code"):
        RelationToHead.parse("98", path="p")
    with pytest.raises(ValidationError, match="a hukou type code: rural or urban"):
        HukouType.parse("Rural", path="p")
    with pytest.raises(ValidationError, match="a union end reason code: divorce or death"):
        UnionEndReason.parse("annulment", path="p")


@pytest.mark.parametrize("text", ["１", "０１", "１０", "٢"])
def test_full_width_digits_are_rejected(text: str) -> None:
    for table in (Sex, Ethnicity, MaritalStatus):
        with pytest.raises(ValidationError, match="non-ASCII digits are not accepted"):
            table.parse(text, path="p")


def test_non_text_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="given as text"):
        Sex.parse(1, path="p")  # type: ignore[arg-type]


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.__name__)
@given(text=st.text())
def test_other_text_is_rejected(table: type[CodeTable], text: str) -> None:
    codes = {m.value for m in table}
    if text.strip() in codes:
        assert table.parse(text, path="p").value == text.strip()
    else:
        with pytest.raises(ValidationError):
            table.parse(text, path="p")


@pytest.mark.parametrize("table", [Sex, MaritalStatus, Ethnicity, RelationToHead])
@given(number=st.integers(0, 120))
def test_numbers_outside_the_table_are_rejected(table: type[CodeTable], number: int) -> None:
    codes = {m.value for m in table}
    for text in (str(number), f"{number:02d}", f"{number:03d}"):
        if text in codes:
            assert table.parse(text, path="p").value == text
        else:
            with pytest.raises(ValidationError):
                table.parse(text, path="p")
