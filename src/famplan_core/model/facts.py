"""Dated facts about people (事实): links, marriages, hukou moves, disabilities, certificates.

One class per register-format file besides ``persons`` and ``households``. Each names its
file in `KIND` and its columns, in the order of the spec, in `COLUMNS`; its fields carry
those names. Every field declares a `Sensitivity`.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

import attrs

from famplan_core.errors import Problem, ValidationError
from famplan_core.model._checks import check_text
from famplan_core.model.codes import (
    CertificateKind,
    DisabilityCategory,
    HukouType,
    LinkKind,
    UnionEndReason,
)
from famplan_core.model.identity import DivisionCode
from famplan_core.model.sensitivity import Sensitivity, sensitivity_metadata

__all__ = [
    "Certificate",
    "DisabilityCertificate",
    "Enrolment",
    "HukouChange",
    "ParentChild",
    "Union",
]

_INTERNAL = sensitivity_metadata(Sensitivity.INTERNAL)
_PERSONAL = sensitivity_metadata(Sensitivity.PERSONAL)
_SENSITIVE = sensitivity_metadata(Sensitivity.SENSITIVE)

_MIN_GRADE = 1
_MAX_GRADE = 4


def _raise(problems: list[Problem]) -> None:
    if problems:
        raise ValidationError(problems)


def _before(
    problems: list[Problem], path: str, later: dt.date | None, earlier: dt.date, message: str
) -> None:
    if later is not None and later < earlier:
        problems.append(Problem(path=path, value=later.isoformat(), message=message))


@attrs.frozen(kw_only=True)
class ParentChild:
    """A parent-child link (亲子关系): one row of ``parent_child``.

    The kind and date of a link are `Sensitivity.SENSITIVE`: they reveal an adoption, which
    the adoptive parents may ask to keep secret (收养秘密, Civil Code Art. 1110).

    Attributes:
        parent_id: the parent's `person_id` (internal).
        child_id: the child's `person_id` (internal).
        kind: ``birth`` (亲生), ``adoptive`` (收养) or ``step`` (继).
        since: the adoption date for ``adoptive`` (required then); None for ``birth``,
            meaning the child's birth date.

    Raises:
        ValidationError: a parent linked as their own child, or an ``adoptive`` link
            without `since`.
    """

    KIND: ClassVar[str] = "parent_child"
    COLUMNS: ClassVar[tuple[str, ...]] = ("parent_id", "child_id", "kind", "since")

    parent_id: str = attrs.field(metadata=_INTERNAL)
    child_id: str = attrs.field(metadata=_INTERNAL)
    kind: LinkKind = attrs.field(metadata=_SENSITIVE)
    since: dt.date | None = attrs.field(default=None, metadata=_SENSITIVE)

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        check_text(problems, "parent_id", self.parent_id)
        check_text(problems, "child_id", self.child_id)
        if self.parent_id == self.child_id:
            problems.append(
                Problem(
                    path="child_id",
                    value=self.child_id,
                    message="a parent cannot be their own child",
                )
            )
        if self.kind is LinkKind.ADOPTIVE and self.since is None:
            problems.append(
                Problem(path="since", value="", message="an adoptive link needs the adoption date")
            )
        _raise(problems)


@attrs.frozen(kw_only=True)
class Union:
    """A marriage (婚姻): one row of ``unions``.

    Attributes:
        person_a: one spouse's `person_id` (internal).
        person_b: the other spouse's `person_id` (internal).
        start: the date of the marriage.
        end: the date it ended, on or after `start`, or None while it lasts.
        end_reason: ``divorce`` (离婚) or ``death`` (丧偶), or None.

    Raises:
        ValidationError: a union of a person with themself, or one ending before it starts.
    """

    KIND: ClassVar[str] = "unions"
    COLUMNS: ClassVar[tuple[str, ...]] = ("person_a", "person_b", "start", "end", "end_reason")

    person_a: str = attrs.field(metadata=_INTERNAL)
    person_b: str = attrs.field(metadata=_INTERNAL)
    start: dt.date = attrs.field(metadata=_PERSONAL)
    end: dt.date | None = attrs.field(default=None, metadata=_PERSONAL)
    end_reason: UnionEndReason | None = attrs.field(default=None, metadata=_PERSONAL)

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        check_text(problems, "person_a", self.person_a)
        check_text(problems, "person_b", self.person_b)
        if self.person_a == self.person_b:
            problems.append(
                Problem(
                    path="person_b", value=self.person_b, message="a person cannot marry themself"
                )
            )
        _before(
            problems,
            "end",
            self.end,
            self.start,
            f"the union ends before it starts ({self.start.isoformat()})",
        )
        _raise(problems)


@attrs.frozen(kw_only=True)
class HukouChange:
    """A change of registered residence (户口迁移): one row of ``hukou_changes``.

    The person row holds the current hukou; these records hold its dated history (R0.5).

    Attributes:
        person_id: the person's `person_id` (internal).
        date: the date the change took effect.
        hukou_division: the 12-digit division code registered from that date.
        hukou_type: ``rural`` or ``urban`` from that date.

    Raises:
        ValidationError: the person identifier is empty, overlong or holds a control character.
    """

    KIND: ClassVar[str] = "hukou_changes"
    COLUMNS: ClassVar[tuple[str, ...]] = ("person_id", "date", "hukou_division", "hukou_type")

    person_id: str = attrs.field(metadata=_INTERNAL)
    date: dt.date = attrs.field(metadata=_PERSONAL)
    hukou_division: DivisionCode = attrs.field(metadata=_PERSONAL)
    hukou_type: HukouType = attrs.field(metadata=_PERSONAL)

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        check_text(problems, "person_id", self.person_id)
        _raise(problems)


@attrs.frozen(kw_only=True)
class DisabilityCertificate:
    """A disability certificate (残疾人证): one row of ``disabilities``.

    Every field is `Sensitivity.SENSITIVE`, the person's identifier included: that a person
    holds one at all is health data (PIPL Art. 28).

    Attributes:
        person_id: the holder's `person_id`.
        grade: 1 (most severe) to 4.
        category: the kind of disability, or None.
        valid_from: the first day the certificate is valid.
        valid_to: the last day it is valid, or None when open-ended.

    Raises:
        ValidationError: a grade outside 1-4, or `valid_to` before `valid_from`.
    """

    KIND: ClassVar[str] = "disabilities"
    COLUMNS: ClassVar[tuple[str, ...]] = (
        "person_id",
        "grade",
        "category",
        "valid_from",
        "valid_to",
    )

    person_id: str = attrs.field(metadata=_SENSITIVE)
    grade: int = attrs.field(metadata=_SENSITIVE)
    category: DisabilityCategory | None = attrs.field(default=None, metadata=_SENSITIVE)
    valid_from: dt.date = attrs.field(metadata=_SENSITIVE)
    valid_to: dt.date | None = attrs.field(default=None, metadata=_SENSITIVE)

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        check_text(problems, "person_id", self.person_id)
        if isinstance(self.grade, bool) or not _MIN_GRADE <= self.grade <= _MAX_GRADE:
            problems.append(
                Problem(
                    path="grade",
                    value=str(self.grade),
                    message=f"expected a grade from {_MIN_GRADE} (most severe) to {_MAX_GRADE}",
                )
            )
        _before(
            problems,
            "valid_to",
            self.valid_to,
            self.valid_from,
            f"the certificate ends before it starts ({self.valid_from.isoformat()})",
        )
        _raise(problems)

    def is_valid_on(self, d: dt.date) -> bool:
        """Whether the certificate is valid on `d`: ``valid_from <= d <= valid_to`` (R0.10).

        Both ends are inclusive; an empty `valid_to` means no end.

        Args:
            d: the date asked about.
        """
        return self.valid_from <= d and (self.valid_to is None or d <= self.valid_to)


@attrs.frozen(kw_only=True)
class Certificate:
    """An issued certificate (证书), e.g. an honour certificate: a ``certificates`` row.

    ``honour`` is the only-child parents' honour certificate (独生子女父母光荣证).

    A certificate held by two parents is two records with the same `certificate_id`.

    Attributes:
        certificate_id: the certificate's identifier (internal).
        kind: the kind of certificate, e.g. ``honour``.
        holder_id: the holding parent's `person_id` (internal).
        child_id: the `person_id` of the only child (required for ``honour``; internal).
        issued_on: the issue date.
        revoked_on: the revocation date, on or after `issued_on`, or None.

    Raises:
        ValidationError: an ``honour`` certificate without `child_id`, or one revoked
            before it was issued.
    """

    KIND: ClassVar[str] = "certificates"
    COLUMNS: ClassVar[tuple[str, ...]] = (
        "certificate_id",
        "kind",
        "holder_id",
        "child_id",
        "issued_on",
        "revoked_on",
    )

    certificate_id: str = attrs.field(metadata=_INTERNAL)
    kind: CertificateKind = attrs.field(metadata=_PERSONAL)
    holder_id: str = attrs.field(metadata=_INTERNAL)
    child_id: str | None = attrs.field(default=None, metadata=_INTERNAL)
    issued_on: dt.date = attrs.field(metadata=_PERSONAL)
    revoked_on: dt.date | None = attrs.field(default=None, metadata=_PERSONAL)

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        check_text(problems, "certificate_id", self.certificate_id)
        check_text(problems, "holder_id", self.holder_id)
        check_text(problems, "child_id", self.child_id)
        if self.kind is CertificateKind.HONOUR and self.child_id is None:
            problems.append(
                Problem(path="child_id", value="", message="an honour certificate names its child")
            )
        _before(
            problems,
            "revoked_on",
            self.revoked_on,
            self.issued_on,
            f"the certificate is revoked before it was issued ({self.issued_on.isoformat()})",
        )
        _raise(problems)

    def is_valid_on(self, d: dt.date) -> bool:
        """Whether the certificate is valid on `d` (R0.10).

        It is when issued on or before `d` and not revoked on or before `d`.

        Args:
            d: the date asked about.
        """
        return self.issued_on <= d and (self.revoked_on is None or d < self.revoked_on)


@attrs.frozen(kw_only=True)
class Enrolment:
    """A person the township pays today (在册对象): one row of ``enrolments``.

    Used by the completeness check (应奖尽奖，不错不漏) against computed entitlements.

    Attributes:
        person_id: the paid person's `person_id` (internal).
        program: the program's name, e.g. ``rural_reward``.
        since: the date the payments began.
        category: the program's category for the person, e.g. ``death``, or None.

    Raises:
        ValidationError: a text field is empty, overlong or holds a control character.
    """

    KIND: ClassVar[str] = "enrolments"
    COLUMNS: ClassVar[tuple[str, ...]] = ("person_id", "program", "since", "category")

    person_id: str = attrs.field(metadata=_INTERNAL)
    program: str = attrs.field(metadata=_PERSONAL)
    since: dt.date = attrs.field(metadata=_PERSONAL)
    category: str | None = attrs.field(default=None, metadata=_PERSONAL)

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        check_text(problems, "person_id", self.person_id)
        check_text(problems, "program", self.program)
        check_text(problems, "category", self.category)
        _raise(problems)
