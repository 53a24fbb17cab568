"""The masking view of a notice (公示脱敏): from what the office holds to what is shown.

The view reads `NoticeSubject` records and publishes, for each, only what its field classes
allow (`famplan_core.privacy.public_fields`): the public fields (village, program, amount)
as they are, the name and the citizen ID masked by the deployment's `MaskingPolicy`, and
nothing else. Every row is checked with `famplan_core.privacy.assert_publishable` before it
leaves. About a child under 14 on the publication date nothing personal is public (PIPL
Art. 28): such lines are counted per program (`WithheldRow`), never listed.

The category of a line is sensitive and never shown; for a program whose amount depends on
its category (special assistance: a child's death or disability, each with its own
standard) the amount would tell the category, so such a program's amounts are not shown
either (``hidden_amount_programs``: its rows and withheld groups carry no amount, and the
notice no total amount).

The policy comes from the ``masking`` table of ``[plugins.core-notices]`` in `famplan.toml`
(``name = "middle" | "surname"``, ``citizen_id = "keep-6-4" | "strict"``), the defaults
being ``middle`` and ``keep-6-4``.

Example:
    >>> import datetime as dt
    >>> from famplan_core.model.money import Money
    >>> subject = NoticeSubject(person_id="P1", name="欧阳春华", citizen_id="11010519491231002X",
    ...     birth_date=dt.date(1949, 12, 31), village="371502110201", program="rural_reward",
    ...     amount=Money(8000))
    >>> rows, withheld = mask_subjects([subject], policy=MaskingPolicy(),
    ...     on=dt.date(2026, 11, 2), villages={"371502110201": "王庄村"},
    ...     program_names={"rural_reward": "农村部分计划生育家庭奖励扶助"})
    >>> rows[0].name, rows[0].citizen_id, rows[0].village, withheld
    ('欧阳*华', '110105********002X', '王庄村', [])
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence, Set
from typing import Any

from famplan_core.errors import ConfigurationError
from famplan_core.model.money import Money
from famplan_core.notices.model import NoticeRow, NoticeSubject, WithheldRow
from famplan_core.privacy import (
    KeepEnds,
    MaskingPolicy,
    MiddleMask,
    Strict,
    SurnameOnly,
    assert_publishable,
    public_fields,
)

__all__ = [
    "SETTINGS_SECTION",
    "mask_subjects",
    "masking_label",
    "masking_note",
    "masking_policy",
    "village_names",
]

SETTINGS_SECTION = "plugins.core-notices"
"""Where the notice settings of the core live in `famplan.toml`."""


def masking_policy(settings: Mapping[str, Any]) -> MaskingPolicy:
    """The masking policy from the core notices' plugin settings.

    Args:
        settings: ``[plugins.core-notices]`` (its ``masking`` table is read; other keys are
            ignored here).

    Raises:
        ConfigurationError: ``masking`` is not a table, or names an unknown policy.

    Example:
        >>> masking_policy({"masking": {"citizen_id": "strict"}}).mask_citizen_id(
        ...     "11010519491231002X")
        '1****************X'
    """
    table = settings.get("masking", {})
    if not isinstance(table, Mapping):
        raise ConfigurationError(
            f"{SETTINGS_SECTION}.masking = {table!r}: expected a table such as "
            '{ name = "middle", citizen_id = "keep-6-4" }'
        )
    return MaskingPolicy.from_settings(table, section=f"{SETTINGS_SECTION}.masking")


def village_names(settings: Mapping[str, Any]) -> dict[str, str]:
    """The village names from the core notices' plugin settings (``villages`` table).

    Args:
        settings: ``[plugins.core-notices]``; ``villages`` maps 12-digit codes to names.

    Raises:
        ConfigurationError: ``villages`` is not a table of text.
    """
    table = settings.get("villages", {})
    if not isinstance(table, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in table.items()
    ):
        raise ConfigurationError(
            f"{SETTINGS_SECTION}.villages: expected a table of village codes to names, e.g. "
            '{ "371502110201" = "王庄村" }'
        )
    return dict(table)


def masking_label(policy: MaskingPolicy) -> str:
    """A short label of a policy, stored with each notice, e.g. ``middle/keep-6-4``.

    Args:
        policy: the policy.
    """
    name = {MiddleMask: "middle", SurnameOnly: "surname"}.get(type(policy.name), "custom")
    ids = policy.citizen_id
    if isinstance(ids, KeepEnds):
        id_label = f"keep-{ids.first}-{ids.last}"
    elif isinstance(ids, Strict):
        id_label = "strict"
    else:
        id_label = "custom"
    return f"{name}/{id_label}"


def masking_note(policy: MaskingPolicy) -> str:
    """The sentence a notice prints about what it masks.

    Args:
        policy: the policy.

    Example:
        >>> masking_note(MaskingPolicy())
        '为保护个人信息，姓名隐去部分字，公民身份号码仅显示前6位和后4位；14周岁以下儿童不公示个人信息。'
    """
    name = "姓名仅显示姓氏" if isinstance(policy.name, SurnameOnly) else "姓名隐去部分字"
    ids = policy.citizen_id
    if isinstance(ids, KeepEnds):
        id_note = f"公民身份号码仅显示前{ids.first}位和后{ids.last}位"
    elif isinstance(ids, Strict):
        id_note = "公民身份号码仅显示首末各1位"
    else:
        id_note = "公民身份号码已部分隐藏"
    return f"为保护个人信息，{name}，{id_note}；14周岁以下儿童不公示个人信息。"


def _is_child(subject: NoticeSubject, on: dt.date) -> bool:
    """Whether nothing about the subject is public on `on` (a child under 14)."""
    return "program" not in public_fields(
        NoticeSubject, on=on, subject_birth_date=subject.birth_date
    )


def mask_subjects(
    subjects: Sequence[NoticeSubject],
    *,
    policy: MaskingPolicy,
    on: dt.date,
    villages: Mapping[str, str],
    program_names: Mapping[str, str],
    hidden_amount_programs: Set[str] = frozenset(),
) -> tuple[list[NoticeRow], list[WithheldRow]]:
    """The rows a notice lists and the lines it counts without listing, in the given order.

    Rows are numbered from 1 in the order of the listed subjects; withheld lines are summed
    per program, in order of first appearance.

    Args:
        subjects: the notice's lines.
        policy: the masking policy.
        on: the publication date (the rule on children is applied on it).
        villages: village names by 12-digit code (a code without a name is shown as is).
        program_names: program Chinese names by code.
        hidden_amount_programs: the codes of the programs whose amount reveals a sensitive
            category (the programs with categories): their rows and withheld groups carry
            no amount (None).

    Raises:
        ValidationError: a row would publish a field its class forbids (a bug: the view
            selects fields by class first).
    """
    rows: list[NoticeRow] = []
    withheld: dict[str, list[int]] = {}
    for subject in subjects:
        village = villages.get(subject.village, subject.village)
        if _is_child(subject, on):
            entry = withheld.setdefault(subject.program, [0, 0])
            entry[0] += 1
            entry[1] += subject.amount.fen
            continue
        fields = public_fields(NoticeSubject, on=on, subject_birth_date=subject.birth_date)
        values: dict[str, object] = {name: getattr(subject, name) for name in fields}
        values.update(
            policy.mask_fields({"name": subject.name, "citizen_id": subject.citizen_id or ""})
        )
        assert_publishable(values, NoticeSubject, on=on, subject_birth_date=subject.birth_date)
        rows.append(
            NoticeRow(
                number=len(rows) + 1,
                name=str(values["name"]),
                citizen_id=str(values["citizen_id"] or ""),
                village=village,
                program=subject.program,
                program_name=program_names.get(subject.program, subject.program),
                amount=None if subject.program in hidden_amount_programs else subject.amount,
            )
        )
    return rows, [
        WithheldRow(
            program=program,
            program_name=program_names.get(program, program),
            count=count,
            amount=None if program in hidden_amount_programs else Money(fen),
        )
        for program, (count, fen) in withheld.items()
    ]
