"""The message types (报文类型) of the exchange, what each carries, and why.

What is exchanged, and only this (no reproductive-health data ever leaves):

* from the provincial population data to a township: ``birth``, ``death``, ``hukou_move``
  (a move in or out), ``marriage``, ``divorce``; each becomes a journal fact of the
  receiving township, or is quarantined with its reasons;
* from a township to the province: ``beneficiary_added``, ``beneficiary_exited`` (with the
  reason) and ``roll_totals``, the monthly roll totals;
* between townships: ``verification_request`` about a person who moved (协查), answered by
  ``verification_reply`` and one ``verified_child`` per child the person had there. A
  township also sends ``hukou_move`` to the township a person moved to (the move as its own
  register recorded it).

Each type declares its fields, and each field the register field it comes from
(`MessageField.source`), whose sensitivity class (`famplan_core.model.sensitivity`) says how
sensitive it is. A field that is `Sensitivity.SENSITIVE` (for a type whose subject may be a
child under 14, every field that comes from the register: PIPL Art. 28) leaves only when the
type declares why its purpose needs it (`MessageType.needs`); a type that does not is refused
when this module is imported. `minimise` keeps only a type's declared fields, so a field no
type declares (a disability, a household) never leaves.

`check_payload` checks a received payload against its type and gives the normalised text
values, or every problem found.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

import attrs

from famplan_core.errors import Problem
from famplan_core.exchange.register_format import (
    ETHNICITY,
    HUKOU_TYPE,
    LINK_KIND,
    MARITAL_STATUS,
    MAX_TEXT_LENGTH,
    SEX,
)
from famplan_core.model._checks import bidi_problem
from famplan_core.model.facts import Enrolment, HukouChange, ParentChild, Union
from famplan_core.model.identity import CitizenId, check_character
from famplan_core.model.people import Person
from famplan_core.model.sensitivity import Sensitivity, sensitivity_of

__all__ = [
    "EXIT_REASONS",
    "MESSAGE_TYPES",
    "PROGRAMS_NEEDING_DEATHS",
    "PROGRAM_CHILD_FIELDS",
    "VERIFIABLE_PROGRAMS",
    "FieldRule",
    "MessageField",
    "MessageType",
    "Route",
    "check_payload",
    "field_sensitivity",
    "minimise",
]


class FieldRule(enum.Enum):
    """What a field's text must be."""

    TEXT = "text"
    """At most 200 characters, no control character, no bidirectional control (NFC)."""
    DATE = "date"
    """A real date written YYYY-MM-DD."""
    MONTH = "month"
    """A month written YYYY-MM."""
    CITIZEN_ID = "citizen_id"
    """An 18-character resident ID number (GB 11643) with a valid check character."""
    DIVISION = "division"
    """A 12-digit division code."""
    CODE = "code"
    """One of the field's codes."""
    COUNT = "count"
    """A whole number from 0, written in ASCII digits."""
    AMOUNT = "amount"
    """An amount in yuan with two decimals, e.g. ``80.00`` or ``-80.00``."""
    MESSAGE_ID = "message_id"
    """The id of another message."""


class Route(enum.Enum):
    """Who sends a message type to whom."""

    PROVINCE_TO_TOWNSHIP = "province→township"
    TOWNSHIP_TO_PROVINCE = "township→province"
    TOWNSHIP_TO_TOWNSHIP = "township→township"


@attrs.frozen(kw_only=True)
class MessageField:
    """One field a message type carries.

    Attributes:
        name: the field's name in the payload.
        rule: what its text must be.
        required: the message is bad without it.
        source: the register record class and field it comes from, whose sensitivity class
            applies; None for a field of the exchange itself (a count, a message id).
        sensitivity: the class of a field with no `source`.
        codes: the allowed codes, for `FieldRule.CODE`.
        meaning: what it is, in plain words.
        past: a date that cannot be after the processing date (an event's); False for a
            date the sender's clock gives (a request's date), which may run ahead.
    """

    name: str
    rule: FieldRule
    required: bool = False
    source: tuple[type, str] | None = None
    sensitivity: Sensitivity = Sensitivity.INTERNAL
    codes: frozenset[str] = frozenset()
    meaning: str = ""
    past: bool = True


def field_sensitivity(message_type: MessageType, field: MessageField) -> Sensitivity:
    """The sensitivity of a field as a message type carries it.

    A field from the register has its source field's class (`sensitivity_of`); for a type
    whose subject may be a child under 14 (`MessageType.may_concern_child`), every field from
    the register is sensitive (PIPL Art. 28).

    Args:
        message_type: the message type.
        field: one of its fields.
    """
    if field.source is None:
        return field.sensitivity
    if message_type.may_concern_child:
        return Sensitivity.SENSITIVE
    cls, name = field.source
    return sensitivity_of(cls, name)


def _frozen(mapping: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping))


@attrs.frozen(kw_only=True)
class MessageType:
    """A message type: its route, its purpose and the fields it carries for it.

    Attributes:
        name: the type's name, e.g. ``death``.
        routes: who sends it to whom.
        purpose: what it is for (the lawful purpose its fields serve).
        fields: the fields it carries, and no other.
        needs: for each sensitive field, why the purpose needs it; a sensitive field with
            no reason here is refused when the type is defined.
        may_concern_child: the subject may be a child under 14 (a birth, a child's move),
            so every field from the register is sensitive.
        register_kind: the register kind a quarantined message is filed under.
    """

    name: str
    routes: frozenset[Route]
    purpose: str
    fields: tuple[MessageField, ...]
    needs: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen)
    may_concern_child: bool = False
    register_kind: str = "persons"

    def __attrs_post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"message type {self.name}: a field is declared twice")
        unknown = set(self.needs) - set(names)
        if unknown:
            raise ValueError(f"message type {self.name}: reasons for undeclared fields {unknown}")
        for f in self.fields:
            if field_sensitivity(self, f) is Sensitivity.SENSITIVE and not self.needs.get(f.name):
                raise ValueError(
                    f"message type {self.name}: the sensitive field {f.name!r} may leave only "
                    "when the type's purpose needs it; declare why in `needs`"
                )

    @property
    def field_names(self) -> tuple[str, ...]:
        """The names of its fields, in order."""
        return tuple(f.name for f in self.fields)

    @property
    def sensitive_fields(self) -> tuple[str, ...]:
        """The names of the fields that are sensitive as this type carries them."""
        return tuple(
            f.name for f in self.fields if field_sensitivity(self, f) is Sensitivity.SENSITIVE
        )


# -- the fields ----------------------------------------------------------------------------

_SEX = frozenset(SEX.codes)
_HUKOU = frozenset(HUKOU_TYPE.codes)
_ETHNICITY = frozenset(ETHNICITY.codes)
_MARITAL = frozenset(MARITAL_STATUS.codes)
_COUNTING_LINKS = frozenset(c for c in LINK_KIND.codes if c != "step")

VERIFIABLE_PROGRAMS: Final = frozenset(
    {"rural_reward", "special_assistance", "only_child_reward", "childcare_subsidy"}
)
"""The programs whose rules need the children a person had at a former place."""

PROGRAM_CHILD_FIELDS: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        # R2.4-R2.5: ever-children, their sex and (R0.4) an adoption's date
        "rural_reward": frozenset({"since"}),
        # R3.3-R3.5: the one child, whether it died (category death)
        "special_assistance": frozenset({"since", "death_date"}),
        # R4.3-R4.4: the child is alive and under 18; a later child counts from its link
        "only_child_reward": frozenset({"since", "death_date"}),
        # R1.1-R1.3: the child is the beneficiary: identified, alive, under 3
        "childcare_subsidy": frozenset({"since", "death_date", "citizen_id"}),
    }
)
"""The optional ``verified_child`` fields each program's rules need; the required ones (the
request, the parent, the sender's id of the child, name, sex, birth date, hukou and link) go
to every program, because the requesting register cannot hold a person without them."""

PROGRAMS_NEEDING_DEATHS: Final = frozenset(
    p for p, fields in PROGRAM_CHILD_FIELDS.items() if "death_date" in fields
)
"""The programs that need to know whether a verified child died (R1.2, R3.5, R4.3)."""

EXIT_REASONS: Final = MappingProxyType(
    {
        "death": "the beneficiary died",
        "moved_out": "the hukou moved out of the township",
        "hukou_urban": "the hukou became urban",
        "conditions": "the program's conditions no longer hold",
    }
)
"""The reasons a beneficiary leaves a roll (``beneficiary_exited.reason``)."""


def _f(
    name: str,
    rule: FieldRule,
    source: tuple[type, str] | None = None,
    *,
    required: bool = False,
    codes: frozenset[str] = frozenset(),
    sensitivity: Sensitivity = Sensitivity.INTERNAL,
    meaning: str = "",
    past: bool = True,
) -> MessageField:
    return MessageField(
        name=name,
        rule=rule,
        required=required,
        source=source,
        codes=codes,
        sensitivity=sensitivity,
        meaning=meaning,
        past=past,
    )


def _citizen(name: str = "citizen_id", *, required: bool = True, meaning: str = "") -> MessageField:
    return _f(
        name,
        FieldRule.CITIZEN_ID,
        (Person, "citizen_id"),
        required=required,
        meaning=meaning or "the person's resident ID number: how the receiver finds them",
    )


def _name(name: str = "name", meaning: str = "") -> MessageField:
    return _f(
        name,
        FieldRule.TEXT,
        (Person, "name"),
        required=True,
        meaning=meaning or "the person's name, for the officer to confirm the match",
    )


_REF = _f(
    "person_ref",
    FieldRule.TEXT,
    (Person, "person_id"),
    required=True,
    meaning="the sender's own stable id of the person, for a person the receiver does not hold",
)
_SEX_F = _f("sex", FieldRule.CODE, (Person, "sex"), required=True, codes=_SEX)
_BIRTH_F = _f("birth_date", FieldRule.DATE, (Person, "birth_date"), required=True)
_HUKOU_DIV = _f("hukou_division", FieldRule.DIVISION, (Person, "hukou_division"), required=True)
_HUKOU_TYPE = _f("hukou_type", FieldRule.CODE, (Person, "hukou_type"), required=True, codes=_HUKOU)

_REGISTER_BIRTH = "registering the birth in the register of the child's hukou township"
_REGISTER_MOVE = "recording the move in the register of the township the person moves to or from"

_TYPES: tuple[MessageType, ...] = (
    MessageType(
        name="birth",
        routes=frozenset({Route.PROVINCE_TO_TOWNSHIP}),
        purpose="A child was born and registered in a hukou of the township: register the "
        "child and link it to its parents (R0.4 children, R1 childcare subsidy).",
        may_concern_child=True,
        fields=(
            _REF,
            _citizen(required=False, meaning="the child's ID number, once it has one"),
            _name(meaning="the child's name"),
            _SEX_F,
            _BIRTH_F,
            _HUKOU_DIV,
            _HUKOU_TYPE,
            _citizen("mother_citizen_id", required=False, meaning="the mother, to link the child"),
            _citizen("father_citizen_id", required=False, meaning="the father, to link the child"),
        ),
        needs={
            "person_ref": f"{_REGISTER_BIRTH}: the child's id until it has an ID number",
            "citizen_id": f"{_REGISTER_BIRTH}: identifies the child",
            "name": f"{_REGISTER_BIRTH}: the register requires a name",
            "sex": f"{_REGISTER_BIRTH}: R2.4 counts daughters",
            "birth_date": f"{_REGISTER_BIRTH}: R0.4 and R1 date from the birth",
            "hukou_division": f"{_REGISTER_BIRTH}: R0.6 jurisdiction",
            "hukou_type": f"{_REGISTER_BIRTH}: R0.5 hukou type",
            "mother_citizen_id": f"{_REGISTER_BIRTH}: links the child to its mother (R0.4)",
            "father_citizen_id": f"{_REGISTER_BIRTH}: links the child to its father (R0.4)",
        },
    ),
    MessageType(
        name="death",
        routes=frozenset({Route.PROVINCE_TO_TOWNSHIP}),
        purpose="A person of the township died: record the death, so that benefits stop "
        "(R0.3 alive on D, R0.11) and special assistance sees a child's death (R3.5).",
        may_concern_child=True,
        fields=(
            _citizen(),
            _name(),
            _f("death_date", FieldRule.DATE, (Person, "death_date"), required=True),
        ),
        needs={
            "citizen_id": "recording the death of the right person",
            "name": "confirming the match by the officer",
            "death_date": "the death is the event reported; benefits stop from it (R0.3)",
        },
    ),
    MessageType(
        name="hukou_move",
        routes=frozenset({Route.PROVINCE_TO_TOWNSHIP, Route.TOWNSHIP_TO_TOWNSHIP}),
        purpose="A person's hukou moved into or out of the township: record the move (R0.5, "
        "R0.6), and register a person who moves in. Sent by the provincial population data, "
        "or by the township the person left to the one they moved to.",
        may_concern_child=True,
        register_kind="hukou_changes",
        fields=(
            _REF,
            _citizen(),
            _name(),
            _SEX_F,
            _BIRTH_F,
            _f("ethnicity", FieldRule.CODE, (Person, "ethnicity"), codes=_ETHNICITY),
            _f("marital_status", FieldRule.CODE, (Person, "marital_status"), codes=_MARITAL),
            _f("date", FieldRule.DATE, (HukouChange, "date"), required=True),
            _f("from_division", FieldRule.DIVISION, (HukouChange, "hukou_division"), required=True),
            _f("to_division", FieldRule.DIVISION, (HukouChange, "hukou_division"), required=True),
            _f(
                "hukou_type",
                FieldRule.CODE,
                (HukouChange, "hukou_type"),
                required=True,
                codes=_HUKOU,
            ),
        ),
        needs={
            "person_ref": f"{_REGISTER_MOVE}: the sender's id of a person new to the receiver",
            "citizen_id": f"{_REGISTER_MOVE}: identifies the person",
            "name": f"{_REGISTER_MOVE}: the register requires a name",
            "sex": f"{_REGISTER_MOVE}: the register requires the sex (R2.4, R3.4)",
            "birth_date": f"{_REGISTER_MOVE}: the register requires it (R0.2 age)",
            "ethnicity": f"{_REGISTER_MOVE}: a column of the person's register row",
            "marital_status": f"{_REGISTER_MOVE}: a column of the person's register row",
            "date": f"{_REGISTER_MOVE}: R0.5 hukou on D",
            "from_division": f"{_REGISTER_MOVE}: the township moved from",
            "to_division": f"{_REGISTER_MOVE}: the township moved to (R0.6)",
            "hukou_type": f"{_REGISTER_MOVE}: R0.5 hukou type after the move",
        },
    ),
    MessageType(
        name="marriage",
        routes=frozenset({Route.PROVINCE_TO_TOWNSHIP}),
        purpose="Two persons of the register married: record the union.",
        register_kind="unions",
        fields=(
            _citizen("a_citizen_id"),
            _name("a_name"),
            _citizen("b_citizen_id"),
            _name("b_name"),
            _f("start", FieldRule.DATE, (Union, "start"), required=True),
        ),
    ),
    MessageType(
        name="divorce",
        routes=frozenset({Route.PROVINCE_TO_TOWNSHIP}),
        purpose="Two persons of the register divorced: end their union.",
        register_kind="unions",
        fields=(
            _citizen("a_citizen_id"),
            _name("a_name"),
            _citizen("b_citizen_id"),
            _name("b_name"),
            _f("start", FieldRule.DATE, (Union, "start")),
            _f("end", FieldRule.DATE, (Union, "end"), required=True),
        ),
    ),
    MessageType(
        name="beneficiary_added",
        routes=frozenset({Route.TOWNSHIP_TO_PROVINCE}),
        purpose="A person joins a program's payment roll: the province keeps the roll of "
        "each program (reward and assistance files).",
        may_concern_child=True,
        register_kind="enrolments",
        fields=(
            _f("program", FieldRule.TEXT, (Enrolment, "program"), required=True),
            _f("month", FieldRule.MONTH, required=True, sensitivity=Sensitivity.INTERNAL),
            _citizen(required=False),
            _name(),
            _f("category", FieldRule.TEXT, (Enrolment, "category")),
            _f("amount", FieldRule.AMOUNT, required=True, sensitivity=Sensitivity.PERSONAL),
        ),
        needs={
            "program": "the provincial roll of the program",
            "citizen_id": "identifies the beneficiary in the provincial roll",
            "name": "identifies the beneficiary in the provincial roll",
            "category": "the roll's category (special assistance: death or disability)",
        },
    ),
    MessageType(
        name="beneficiary_exited",
        routes=frozenset({Route.TOWNSHIP_TO_PROVINCE}),
        purpose="A person leaves a program's payment roll, with the reason: the province "
        "closes the file.",
        may_concern_child=True,
        register_kind="enrolments",
        fields=(
            _f("program", FieldRule.TEXT, (Enrolment, "program"), required=True),
            _f("month", FieldRule.MONTH, required=True, sensitivity=Sensitivity.INTERNAL),
            _citizen(required=False),
            _name(),
            _f(
                "reason",
                FieldRule.CODE,
                required=True,
                codes=frozenset(EXIT_REASONS),
                sensitivity=Sensitivity.SENSITIVE,
                meaning="why: " + "; ".join(f"{k} ({v})" for k, v in EXIT_REASONS.items()),
            ),
        ),
        needs={
            "program": "the provincial roll of the program",
            "citizen_id": "identifies the beneficiary in the provincial roll",
            "name": "identifies the beneficiary in the provincial roll",
            "reason": "the province closes the file for a reason; a death is one (R0.11)",
        },
    ),
    MessageType(
        name="roll_totals",
        routes=frozenset({Route.TOWNSHIP_TO_PROVINCE}),
        purpose="The totals of a program on a month's payment roll, for the provincial "
        "statistics and the transfer of funds.",
        register_kind="enrolments",
        fields=(
            _f("program", FieldRule.TEXT, required=True, sensitivity=Sensitivity.PUBLIC),
            _f("month", FieldRule.MONTH, required=True, sensitivity=Sensitivity.PUBLIC),
            _f("lines", FieldRule.COUNT, required=True, sensitivity=Sensitivity.PUBLIC),
            _f("amount", FieldRule.AMOUNT, required=True, sensitivity=Sensitivity.PUBLIC),
        ),
    ),
    MessageType(
        name="verification_request",
        routes=frozenset({Route.TOWNSHIP_TO_TOWNSHIP}),
        purpose="A person moved in; a benefit program needs facts from their former place "
        "(协查): the children they had there.",
        fields=(
            _citizen(),
            _name(),
            _f("birth_date", FieldRule.DATE, (Person, "birth_date"), required=True),
            _f(
                "program",
                FieldRule.CODE,
                required=True,
                codes=VERIFIABLE_PROGRAMS,
                sensitivity=Sensitivity.INTERNAL,
                meaning="the program whose rules need the answer: the purpose",
            ),
            _f(
                "asked_on",
                FieldRule.DATE,
                required=True,
                sensitivity=Sensitivity.INTERNAL,
                past=False,
            ),
        ),
    ),
    MessageType(
        name="verification_reply",
        routes=frozenset({Route.TOWNSHIP_TO_TOWNSHIP}),
        purpose="The answer to a verification request: whether the person was found and how "
        "many children follow in verified_child messages.",
        fields=(
            _f("request_id", FieldRule.MESSAGE_ID, required=True),
            _citizen(),
            _f("found", FieldRule.CODE, required=True, codes=frozenset({"yes", "no"})),
            _f("children", FieldRule.COUNT, required=True),
        ),
    ),
    MessageType(
        name="verified_child",
        routes=frozenset({Route.TOWNSHIP_TO_TOWNSHIP}),
        purpose="One child the verified person had at the former place, with what the "
        "requesting program counts (R0.4: birth and adoptive links only).",
        may_concern_child=True,
        register_kind="parent_child",
        fields=(
            _f("request_id", FieldRule.MESSAGE_ID, required=True),
            _citizen("parent_citizen_id", meaning="the verified parent"),
            _REF,
            _citizen(required=False, meaning="the child's ID number, when it has one"),
            _name(meaning="the child's name: the register requires one"),
            _SEX_F,
            _BIRTH_F,
            _HUKOU_DIV,
            _HUKOU_TYPE,
            _f("link", FieldRule.CODE, (ParentChild, "kind"), required=True, codes=_COUNTING_LINKS),
            _f("since", FieldRule.DATE, (ParentChild, "since")),
            _f("death_date", FieldRule.DATE, (Person, "death_date")),
        ),
        needs={
            "request_id": "answers the requesting program",
            "parent_citizen_id": "the verified parent",
            "person_ref": "the former place's id of a child the receiver does not hold",
            "citizen_id": "only for childcare_subsidy, whose beneficiary is the child (R1.1)",
            "name": "the register of the requesting township requires a name",
            "sex": "R2.4 counts daughters",
            "birth_date": "R0.4 counts children born on or before D",
            "hukou_division": "the register requires it (R0.6)",
            "hukou_type": "the register requires it (R0.5)",
            "link": "R0.4 counts birth and adoptive links (never step)",
            "since": "R0.4 counts an adoption from its date",
            "death_date": "only for a program that needs it (PROGRAM_CHILD_FIELDS): whether "
            "the child is alive (R1.2, R3.5, R4.3); left empty for rural_reward",
        },
    ),
)

MESSAGE_TYPES: Mapping[str, MessageType] = MappingProxyType({t.name: t for t in _TYPES})
"""Every message type, by name."""


def minimise(message_type: MessageType | str, values: Mapping[str, Any]) -> dict[str, str]:
    """The payload of a message: only the type's fields, as text, empty ones left out.

    Whatever else `values` holds (a whole register row, a disability) is dropped here, so
    it never leaves.

    Args:
        message_type: the type or its name.
        values: field name → value (text, date, or None).

    Raises:
        KeyError: no such message type.
    """
    t = MESSAGE_TYPES[message_type] if isinstance(message_type, str) else message_type
    payload: dict[str, str] = {}
    for f in t.fields:
        value = values.get(f.name)
        if value is None or value == "":
            continue
        payload[f.name] = value.isoformat() if isinstance(value, dt.date) else str(value)
    return payload


# -- checking a received payload -----------------------------------------------------------

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")
_AMOUNT = re.compile(r"-?[0-9]{1,12}\.[0-9]{2}")
_MESSAGE_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z._:-]{0,63}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


_EARLIEST: Final = dt.date(1800, 1, 1)


def _citizen_id_ok(value: str, today: dt.date) -> bool:
    """The fast check of a normalised ID number (GB 11643): form, MOD 11-2, birth date;
    `CitizenId.check` explains a failure."""
    body = value[:17]
    if len(value) != 18 or not body.isascii() or not body.isdigit():
        return False
    if check_character(body) != value[17]:
        return False
    try:
        born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return _EARLIEST <= born <= today


def _check_value(f: MessageField, value: str, today: dt.date) -> str | None:
    """A problem with one non-empty value, or None."""
    rule = f.rule
    if rule is FieldRule.TEXT:
        if len(value) > MAX_TEXT_LENGTH:
            return f"text longer than {MAX_TEXT_LENGTH} characters ({len(value)})"
        if _CONTROL.search(value):
            return "contains a control character"
        return bidi_problem(value)
    if rule is FieldRule.DATE:
        if _DATE.fullmatch(value) is None:
            return "expected a real date written YYYY-MM-DD, e.g. 1980-02-29"
        try:
            d = dt.date.fromisoformat(value)
        except ValueError:
            return "expected a real date written YYYY-MM-DD, e.g. 1980-02-29"
        if f.past and d > today:
            return f"a date after today ({today.isoformat()})"
        return None
    if rule is FieldRule.MONTH:
        if _MONTH.fullmatch(value) is None or not 1 <= int(value[5:]) <= 12:
            return "expected a month written YYYY-MM, e.g. 2026-01"
        return None
    if rule is FieldRule.CITIZEN_ID:
        if _citizen_id_ok(value, today):
            return None
        errors = CitizenId.check(value, today=today).errors
        if errors or len(value) != 18:
            return "; ".join(e.message for e in errors) or "not an 18-character ID number"
        return None
    if rule is FieldRule.DIVISION:
        if len(value) != 12 or not value.isascii() or not value.isdigit() or value[0] == "0":
            return "expected a 12-digit division code, e.g. 371502115201"
        return None
    if rule is FieldRule.CODE:
        if value not in f.codes:
            return f"not one of {', '.join(sorted(f.codes))}"
        return None
    if rule is FieldRule.COUNT:
        if not (value.isascii() and value.isdigit()) or len(value) > 9:
            return "expected a whole number written in digits 0-9"
        return None
    if rule is FieldRule.AMOUNT:
        if _AMOUNT.fullmatch(value) is None:
            return "expected an amount in yuan with two decimals, e.g. 80.00"
        return None
    if _MESSAGE_ID.fullmatch(value) is None:
        return "expected a message id"
    return None


def check_payload(
    message_type: MessageType, payload: Mapping[str, Any], *, today: dt.date, where: str
) -> tuple[dict[str, str], list[Problem]]:
    """Check a received payload against its type.

    Values are trimmed and put in Unicode NFC; an ID number's ``x`` becomes ``X``. A field the
    type does not declare, a value that is not text, a missing required field and a value
    breaking its rule are each a problem.

    Args:
        message_type: the message's type.
        payload: the payload as received.
        today: the date of the processing (dates after it are refused).
        where: where the message is (file:line), for the problems' paths.

    Returns:
        The normalised values (empty fields left out) and every problem found.
    """
    problems: list[Problem] = []
    clean: dict[str, str] = {}
    declared = {f.name: f for f in message_type.fields}
    for key in payload:
        if key not in declared:
            shown = key if isinstance(key, str) else repr(key)
            problems.append(
                Problem(
                    path=f"{where}:{shown[:60]}",
                    value="",
                    message=f"not a field of {message_type.name}; its fields are "
                    + ", ".join(declared),
                )
            )
    for f in message_type.fields:
        raw = payload.get(f.name)
        path = f"{where}:{f.name}"
        if raw is None or raw == "":
            if f.required:
                problems.append(Problem(path=path, value="", message=f"{f.name} is required"))
            continue
        if not isinstance(raw, str):
            problems.append(
                Problem(
                    path=path,
                    value=repr(raw)[:60],
                    message=f"expected text, found {type(raw).__name__}",
                )
            )
            continue
        value = raw.strip()
        if not value.isascii():
            value = unicodedata.normalize("NFC", value)
        if f.rule is FieldRule.CITIZEN_ID and value.endswith("x"):
            value = value[:-1] + "X"
        if not value:
            if f.required:
                problems.append(Problem(path=path, value="", message=f"{f.name} is required"))
            continue
        problem = _check_value(f, value, today)
        if problem is not None:
            problems.append(Problem(path=path, value=value[:60], message=problem))
            continue
        clean[f.name] = value
    return clean, problems
