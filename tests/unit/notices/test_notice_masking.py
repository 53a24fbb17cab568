"""The masking view of notices: what the field classes let a notice show (issue 7, part 2)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from famplan_core.errors import ConfigurationError
from famplan_core.model.identity import CitizenId
from famplan_core.model.money import Money
from famplan_core.notices import (
    NoticeSubject,
    mask_subjects,
    masking_label,
    masking_note,
    masking_policy,
    village_names,
)
from famplan_core.privacy import MaskingPolicy, find_citizen_ids

ON = dt.date(2026, 11, 2)
NAMES = {"rural_reward": "农村部分计划生育家庭奖励扶助", "childcare_subsidy": "育儿补贴"}


def subject(name: str = "张三明", **changes: object) -> NoticeSubject:
    values: dict[str, object] = {
        "person_id": "P1",
        "name": name,
        "citizen_id": "11010519491231002X",
        "birth_date": dt.date(1949, 12, 31),
        "village": "371502110201",
        "program": "rural_reward",
        "category": "death",
        "amount": Money(8000),
    }
    values.update(changes)
    return NoticeSubject(**values)  # type: ignore[arg-type]


def test_default_policy_masks_the_given_name_and_keeps_ends_of_the_id() -> None:
    rows, withheld = mask_subjects(
        [subject("张三明"), subject("欧阳春华"), subject("张三", citizen_id=None)],
        policy=MaskingPolicy(),
        on=ON,
        villages={"371502110201": "王庄村"},
        program_names=NAMES,
    )
    assert [(r.number, r.name, r.citizen_id) for r in rows] == [
        (1, "张*明", "110105********002X"),
        (2, "欧阳*华", "110105********002X"),
        (3, "张*", ""),
    ]
    assert {(r.village, r.program_name, str(r.amount)) for r in rows} == {
        ("王庄村", "农村部分计划生育家庭奖励扶助", "80.00")
    }
    assert withheld == []


def test_the_category_is_never_shown() -> None:
    (row,), _ = mask_subjects(
        [subject(category="disability")],
        policy=MaskingPolicy(),
        on=ON,
        villages={},
        program_names=NAMES,
    )
    assert "disability" not in repr(row)
    assert row.village == "371502110201"  # no name configured: the code


def test_children_under_14_are_counted_never_listed() -> None:
    child = subject(
        "陈昀",
        program="childcare_subsidy",
        birth_date=dt.date(2026, 10, 16),
        citizen_id="110105202610160012",
        amount=Money(30000),
    )
    thirteen = subject(birth_date=dt.date(2012, 11, 3))  # 14 on 2026-11-03, not on ON
    rows, withheld = mask_subjects(
        [child, thirteen, subject()],
        policy=MaskingPolicy(),
        on=ON,
        villages={},
        program_names=NAMES,
    )
    assert [r.number for r in rows] == [1]
    assert [(w.program, w.count, str(w.amount)) for w in withheld] == [
        ("childcare_subsidy", 1, "300.00"),
        ("rural_reward", 1, "80.00"),
    ]


def test_strict_policy_from_settings() -> None:
    policy = masking_policy({"masking": {"name": "surname", "citizen_id": "strict"}})
    (row,), _ = mask_subjects(
        [subject("欧阳春华")], policy=policy, on=ON, villages={}, program_names=NAMES
    )
    assert (row.name, row.citizen_id) == ("欧阳**", "1****************X")
    assert masking_label(policy) == "surname/strict"
    assert "仅显示姓氏" in masking_note(policy)
    assert masking_label(MaskingPolicy()) == "middle/keep-6-4"


def test_bad_settings_name_the_key() -> None:
    with pytest.raises(ConfigurationError, match=r"plugins.core-notices.masking.citizen_id"):
        masking_policy({"masking": {"citizen_id": "none"}})
    with pytest.raises(ConfigurationError, match="masking"):
        masking_policy({"masking": "strict"})
    with pytest.raises(ConfigurationError, match="villages"):
        village_names({"villages": ["王庄村"]})
    assert village_names({"villages": {"371502110201": "王庄村"}}) == {"371502110201": "王庄村"}


@st.composite
def citizen_ids(draw: st.DrawFn) -> str:
    area = draw(st.sampled_from(["110105", "371502", "371522", "650102"]))
    born = draw(st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2012, 1, 1)))
    sequence = draw(st.integers(min_value=0, max_value=999))
    body = f"{area}{born:%Y%m%d}{sequence:03d}"
    return body + CitizenId.check_character(body)


@given(
    name=st.text(
        alphabet=st.sampled_from("张王李欧阳司马春华明国·买提艾力 A"), min_size=2, max_size=8
    ).filter(lambda n: len(n.strip()) >= 2),
    citizen_id=citizen_ids(),
    policy=st.sampled_from(
        [MaskingPolicy(), masking_policy({"masking": {"name": "surname", "citizen_id": "strict"}})]
    ),
)
def test_no_row_shows_a_whole_name_or_an_id(
    name: str, citizen_id: str, policy: MaskingPolicy
) -> None:
    (row,), _ = mask_subjects(
        [subject(name, citizen_id=citizen_id)],
        policy=policy,
        on=ON,
        villages={},
        program_names=NAMES,
    )
    assert row.name != name.strip()
    assert "*" in row.name
    assert find_citizen_ids(" ".join(str(v) for v in row.as_dict().values())) == []
