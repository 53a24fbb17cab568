"""The notice model (公示): what a notice holds, what it shows, and its objections.

Three kinds of record live here:

* `NoticeSubject`: what the masking view reads about one line of a notice (a beneficiary
  and the entitlement or grant). Every field declares its sensitivity class, and that class,
  with the rule for children under 14, decides what may be published (see
  `famplan_core.notices.masking`).
* `PublishedNotice` with its `NoticeRow` and `WithheldRow` lines: the masked content of a
  notice, exactly as it is shown. Renderers receive nothing else.
* `Notice`, `NoticeLine` and `Objection`: a notice's state, its lines and the objections
  raised against it, as the service stores them.

Example:
    >>> import datetime as dt
    >>> from famplan_core.model.money import Money
    >>> row = NoticeRow(number=1, name="张*明", citizen_id="371502********123X",
    ...                 village="王庄村", program="rural_reward",
    ...                 program_name="农村部分计划生育家庭奖励扶助", amount=Money(8000))
    >>> row.as_dict()["amount"]
    '80.00'
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Final, Literal, Protocol, runtime_checkable

import attrs

from famplan_core.model.money import Money
from famplan_core.model.sensitivity import Sensitivity, sensitivity_metadata

__all__ = [
    "CHANNELS",
    "CHANNEL_NAMES_ZH",
    "LEVELS",
    "LEVEL_NAMES_ZH",
    "STATES",
    "SUBJECTS",
    "Channel",
    "Level",
    "LineStatus",
    "Notice",
    "NoticeLine",
    "NoticeRenderer",
    "NoticeRow",
    "NoticeSubject",
    "Objection",
    "ObjectionStatus",
    "PublishedNotice",
    "State",
    "Subject",
    "WithheldRow",
    "date_zh",
]

Level = Literal["township", "village", "group"]
"""Where a notice is posted: township (乡镇), village (村/社区) or village group (村民小组)."""

State = Literal["draft", "posted", "closed", "withdrawn"]
"""A notice's state: drafted, posted for its window, closed after it, or withdrawn."""

Subject = Literal["new_beneficiaries", "hardship_grants"]
"""What a notice publishes: the new beneficiaries of a month's run, or hardship grants."""

Channel = Literal["in_person", "phone", "box"]
"""How an objection came in: in person (当面), by telephone (电话) or the box (意见箱)."""

LineStatus = Literal["held", "released", "withdrawn", "corrected"]
"""What became of a line: held while open, released at closing, withdrawn or corrected."""

ObjectionStatus = Literal["under_review", "upheld", "dismissed"]
"""An objection is under review until it is upheld or dismissed."""

LEVELS: Final[tuple[Level, ...]] = ("township", "village", "group")
STATES: Final[tuple[State, ...]] = ("draft", "posted", "closed", "withdrawn")
SUBJECTS: Final[tuple[Subject, ...]] = ("new_beneficiaries", "hardship_grants")
CHANNELS: Final[tuple[Channel, ...]] = ("in_person", "phone", "box")

LEVEL_NAMES_ZH: Final[Mapping[str, str]] = {
    "township": "乡镇级",
    "village": "村级",
    "group": "村民小组级",
}
"""The Chinese name of each level, as printed on a notice."""

CHANNEL_NAMES_ZH: Final[Mapping[str, str]] = {
    "in_person": "当面反映",
    "phone": "电话",
    "box": "意见箱",
}
"""The Chinese name of each channel."""

_PUBLIC = sensitivity_metadata(Sensitivity.PUBLIC)
_INTERNAL = sensitivity_metadata(Sensitivity.INTERNAL)
_PERSONAL = sensitivity_metadata(Sensitivity.PERSONAL)
_SENSITIVE = sensitivity_metadata(Sensitivity.SENSITIVE)


def date_zh(day: dt.date | None) -> str:
    """A date as printed on a notice, e.g. ``2026年11月2日``; empty for None.

    Args:
        day: the date.

    Example:
        >>> date_zh(dt.date(2026, 11, 2))
        '2026年11月2日'
    """
    if day is None:
        return ""
    return f"{day.year}年{day.month}月{day.day}日"


def _amount_text(amount: Money | None) -> str | None:
    return None if amount is None else str(amount)


def _parse_amount(value: object) -> Money | None:
    return None if value is None else Money.parse(str(value))


@attrs.frozen(kw_only=True)
class NoticeSubject:
    """What the masking view reads about one line of a notice (公示对象), with its classes.

    The sensitivity of each field decides what a notice may show: public fields as they
    are, the name and citizen ID only masked, nothing else. About a person under 14 on the
    publication date nothing personal is shown (PIPL Art. 28).

    Attributes:
        person_id: the beneficiary (internal).
        name: the full name (personal: shown masked).
        citizen_id: the citizen ID number, or None (personal: shown masked).
        birth_date: the birth date, for the rule on children (personal: never shown).
        village: the 12-digit code of the village of the beneficiary's hukou (public on a
            notice: the level it is posted at).
        program: the program code (public).
        category: the program category, e.g. ``death`` or ``disability`` (sensitive: never
            shown).
        amount: the monthly amount or the grant (public).
        entitlement_id: the entitlement held back, or None (internal).
        grant_id: the hardship grant held back, or None (internal).
    """

    person_id: str = attrs.field(metadata=_INTERNAL)
    name: str = attrs.field(metadata=_PERSONAL)
    citizen_id: str | None = attrs.field(metadata=_PERSONAL)
    birth_date: dt.date | None = attrs.field(metadata=_PERSONAL)
    village: str = attrs.field(metadata=_PUBLIC)
    program: str = attrs.field(metadata=_PUBLIC)
    category: str | None = attrs.field(default=None, metadata=_SENSITIVE)
    amount: Money = attrs.field(metadata=_PUBLIC)
    entitlement_id: int | None = attrs.field(default=None, metadata=_INTERNAL)
    grant_id: int | None = attrs.field(default=None, metadata=_INTERNAL)


@attrs.frozen(kw_only=True)
class NoticeRow:
    """One row of a notice as it is shown: masked name and ID, village, program, amount.

    Attributes:
        number: the row's number on the notice (序号); objections cite it.
        name: the name, masked.
        citizen_id: the citizen ID, masked, or empty.
        village: the village's name (or its code when no name is configured).
        program: the program code.
        program_name: the program's Chinese name.
        amount: the amount, or None when it is not shown: for a program whose amount
            reveals a sensitive category (special assistance), paid at the standard rate.
    """

    number: int
    name: str
    citizen_id: str
    village: str
    program: str
    program_name: str
    amount: Money | None

    def as_dict(self) -> dict[str, Any]:
        """The row as JSON-able values (the amount as text, None when not shown)."""
        return {
            "number": self.number,
            "name": self.name,
            "citizen_id": self.citizen_id,
            "village": self.village,
            "program": self.program,
            "program_name": self.program_name,
            "amount": _amount_text(self.amount),
        }


@attrs.frozen(kw_only=True)
class WithheldRow:
    """Lines a notice counts but does not list: children under 14 (未成年人), per program.

    They are not told apart by village either: a count of one child in a village can point
    at a family.

    Attributes:
        program: the program code.
        program_name: the program's Chinese name.
        count: how many lines.
        amount: their total, or None when the program's amounts are not shown.
    """

    program: str
    program_name: str
    count: int
    amount: Money | None

    def as_dict(self) -> dict[str, Any]:
        """The summary as JSON-able values."""
        return {
            "program": self.program,
            "program_name": self.program_name,
            "count": self.count,
            "amount": _amount_text(self.amount),
        }


@attrs.frozen(kw_only=True)
class PublishedNotice:
    """The masked content of a notice (公示内容), exactly as it is shown.

    Renderers receive only this. After its window (closed or withdrawn) a notice's content
    keeps its header and drops its rows (`listed` is False): the list is taken down.

    Attributes:
        notice_id: the notice.
        title: the title, e.g. ``顾官屯镇2026年11月新增待遇对象公示``.
        township: the township's name.
        level: where it is posted.
        scope_name: the township's or the village's name.
        place: the group or the board, when given (e.g. ``第三村民小组``).
        subject: what it publishes.
        month: the month.
        state: the notice's state when this content was made.
        window_start: the first day of the window, or None for a draft.
        window_end: the last day of the window, or None for a draft.
        complaint_phone: the telephone for objections.
        complaint_box: where the complaint box is.
        intro: the text above the list.
        masking_note: the sentence that says what is masked.
        rows: the listed rows.
        withheld: lines counted but not listed (children under 14).
        listed: whether the rows are shown (False after the window).
    """

    notice_id: int
    title: str
    township: str
    level: Level
    scope_name: str
    place: str = ""
    subject: Subject
    month: dt.date
    state: State
    window_start: dt.date | None = None
    window_end: dt.date | None = None
    complaint_phone: str = ""
    complaint_box: str = ""
    intro: str
    masking_note: str
    rows: tuple[NoticeRow, ...] = ()
    withheld: tuple[WithheldRow, ...] = ()
    listed: bool = True

    @property
    def level_name(self) -> str:
        """The level's Chinese name, e.g. ``村级``."""
        return LEVEL_NAMES_ZH[self.level]

    @property
    def window_text(self) -> str:
        """The window as printed, e.g. ``2026年11月2日至2026年11月8日``; ``待定`` for a draft."""
        if self.window_start is None or self.window_end is None:
            return "待定（草稿）"
        return f"{date_zh(self.window_start)}至{date_zh(self.window_end)}"

    @property
    def total(self) -> Money:
        """The total of the amounts shown, listed rows and withheld lines (hidden ones left out).

        A notice prints it only when no amount is hidden (`shown_total`).
        """
        amounts = [r.amount for r in self.rows] + [w.amount for w in self.withheld]
        return Money(sum(a.fen for a in amounts if a is not None))

    @property
    def amounts_hidden(self) -> bool:
        """Whether an amount is not shown (a program whose amount tells a category)."""
        return any(r.amount is None for r in self.rows) or any(
            w.amount is None for w in self.withheld
        )

    @property
    def shown_total(self) -> Money | None:
        """The total a notice prints, or None when an amount is hidden.

        With a hidden amount the total is not shown at all: the total minus the other lines
        would give the hidden amount back.
        """
        return None if self.amounts_hidden else self.total

    @property
    def count(self) -> int:
        """How many lines the notice holds, listed and withheld."""
        return len(self.rows) + sum(w.count for w in self.withheld)

    def as_dict(self) -> dict[str, Any]:
        """The content as JSON-able values (dates as ISO text, amounts as text)."""
        return {
            "notice_id": self.notice_id,
            "title": self.title,
            "township": self.township,
            "level": self.level,
            "scope_name": self.scope_name,
            "place": self.place,
            "subject": self.subject,
            "month": self.month.isoformat(),
            "state": self.state,
            "window_start": None if self.window_start is None else self.window_start.isoformat(),
            "window_end": None if self.window_end is None else self.window_end.isoformat(),
            "complaint_phone": self.complaint_phone,
            "complaint_box": self.complaint_box,
            "intro": self.intro,
            "masking_note": self.masking_note,
            "rows": [r.as_dict() for r in self.rows],
            "withheld": [w.as_dict() for w in self.withheld],
            "listed": self.listed,
        }

    def to_json(self) -> str:
        """The canonical JSON text of the content (sorted keys, UTF-8 characters kept)."""
        return json.dumps(self.as_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @property
    def sha256(self) -> str:
        """The SHA-256 of `to_json`: what the township can show it published."""
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PublishedNotice:
        """Read the content back from `as_dict`'s values.

        Args:
            data: the values.
        """

        def day(value: object) -> dt.date | None:
            return None if value is None else dt.date.fromisoformat(str(value))

        month = day(data["month"])
        assert month is not None
        return cls(
            notice_id=int(data["notice_id"]),
            title=str(data["title"]),
            township=str(data["township"]),
            level=data["level"],
            scope_name=str(data["scope_name"]),
            place=str(data.get("place", "")),
            subject=data["subject"],
            month=month,
            state=data["state"],
            window_start=day(data.get("window_start")),
            window_end=day(data.get("window_end")),
            complaint_phone=str(data.get("complaint_phone", "")),
            complaint_box=str(data.get("complaint_box", "")),
            intro=str(data["intro"]),
            masking_note=str(data["masking_note"]),
            rows=tuple(
                NoticeRow(
                    number=int(r["number"]),
                    name=str(r["name"]),
                    citizen_id=str(r["citizen_id"]),
                    village=str(r["village"]),
                    program=str(r["program"]),
                    program_name=str(r["program_name"]),
                    amount=_parse_amount(r.get("amount")),
                )
                for r in data.get("rows", ())
            ),
            withheld=tuple(
                WithheldRow(
                    program=str(w["program"]),
                    program_name=str(w["program_name"]),
                    count=int(w["count"]),
                    amount=_parse_amount(w.get("amount")),
                )
                for w in data.get("withheld", ())
            ),
            listed=bool(data.get("listed", True)),
        )

    @classmethod
    def from_json(cls, text: str) -> PublishedNotice:
        """Read the content back from `to_json`'s text.

        Args:
            text: the JSON text.
        """
        return cls.from_dict(json.loads(text))


@attrs.frozen(kw_only=True)
class NoticeLine:
    """One line of a notice as the office sees it (internal, never published).

    Attributes:
        line_no: the line's number; the listed rows carry the same number on the notice.
        program: the program code.
        month: the month of the entitlement or grant.
        person_id: the beneficiary.
        entitlement_id: the entitlement held back, or None.
        grant_id: the grant held back, or None.
        amount: the amount held back.
        published: whether the line is listed (False for a child under 14).
        status: held, released, withdrawn or corrected.
        corrected_amount: the corrected amount, for a corrected line.
        objection_id: the upheld objection that decided it, if any.
    """

    line_no: int
    program: str
    month: dt.date
    person_id: str
    entitlement_id: int | None
    grant_id: int | None
    amount: Money
    published: bool
    status: LineStatus
    corrected_amount: Money | None = None
    objection_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The line as JSON-able values."""
        return {
            "line_no": self.line_no,
            "program": self.program,
            "month": self.month.isoformat(),
            "person_id": self.person_id,
            "entitlement_id": self.entitlement_id,
            "grant_id": self.grant_id,
            "amount": str(self.amount),
            "published": self.published,
            "status": self.status,
            "corrected_amount": (
                None if self.corrected_amount is None else str(self.corrected_amount)
            ),
            "objection_id": self.objection_id,
        }


@attrs.frozen(kw_only=True)
class Objection:
    """An objection (异议) raised against a notice during its window, and its review.

    Attributes:
        objection_id: the objection.
        notice_id: the notice.
        line_no: the line it concerns, or None for the notice as a whole.
        received_on: when it came in (inside the window).
        channel: how it came in.
        objector: who raised it (internal: never published).
        content: what it says (internal).
        status: under review, upheld or dismissed.
        outcome: for an upheld one: ``withdraw`` or ``correct``.
        corrected_amount: for a correction, the amount found right.
        reason: why it was decided so.
        decided_on: the date of the decision.
        recorded_by: who recorded it.
        decided_by: who decided it.
        settlement: arrears (positive) or recoveries (negative) the decision stored for
            months already rolled, as (month, amount) pairs.
    """

    objection_id: int
    notice_id: int
    line_no: int | None
    received_on: dt.date
    channel: Channel
    objector: str
    content: str
    status: ObjectionStatus
    outcome: Literal["withdraw", "correct"] | None = None
    corrected_amount: Money | None = None
    reason: str | None = None
    decided_on: dt.date | None = None
    recorded_by: str = ""
    decided_by: str | None = None
    settlement: tuple[tuple[dt.date, Money], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The objection as JSON-able values."""
        return {
            "objection_id": self.objection_id,
            "notice_id": self.notice_id,
            "line_no": self.line_no,
            "received_on": self.received_on.isoformat(),
            "channel": self.channel,
            "objector": self.objector,
            "content": self.content,
            "status": self.status,
            "outcome": self.outcome,
            "corrected_amount": (
                None if self.corrected_amount is None else str(self.corrected_amount)
            ),
            "reason": self.reason,
            "decided_on": None if self.decided_on is None else self.decided_on.isoformat(),
            "recorded_by": self.recorded_by,
            "decided_by": self.decided_by,
            "settlement": [[m.isoformat(), str(a)] for m, a in self.settlement],
        }


@attrs.frozen(kw_only=True)
class Notice:
    """A notice (公示) as stored: what it publishes, where, for which window, in which state.

    Attributes:
        notice_id: the notice.
        subject: what it publishes.
        month: the month of the run or the grants.
        level: where it is posted.
        scope: the division code it covers: the township's, or a village's.
        place: the group or board, when given.
        state: draft, posted, closed or withdrawn.
        window_days: the window's length in days.
        window_start: the first day posted, once posted.
        window_end: the last day posted, once posted.
        content: the masked content as shown (or, for a draft, as it would be).
        lines: the lines, in order.
        objections: the objections raised, in order.
        drafted_by: who drafted it.
        posted_by: who posted it.
        closed_on: the day it was closed.
        closed_by: who closed it.
        withdrawn_reason: why it was withdrawn.
        settlement: arrears and recoveries the closing stored, as (month, amount) pairs.
    """

    notice_id: int
    subject: Subject
    month: dt.date
    level: Level
    scope: str
    place: str
    state: State
    window_days: int
    window_start: dt.date | None
    window_end: dt.date | None
    content: PublishedNotice
    lines: tuple[NoticeLine, ...] = ()
    objections: tuple[Objection, ...] = ()
    drafted_by: str = ""
    posted_by: str | None = None
    closed_on: dt.date | None = None
    closed_by: str | None = None
    withdrawn_reason: str | None = None
    settlement: tuple[tuple[dt.date, Money], ...] = ()

    @property
    def open_objections(self) -> tuple[Objection, ...]:
        """The objections still under review."""
        return tuple(o for o in self.objections if o.status == "under_review")

    def as_dict(self, *, lines: bool = True) -> dict[str, Any]:
        """The notice as JSON-able values.

        Args:
            lines: include the lines (internal) and the objections.
        """
        document: dict[str, Any] = {
            "notice_id": self.notice_id,
            "subject": self.subject,
            "month": self.month.isoformat(),
            "level": self.level,
            "scope": self.scope,
            "place": self.place,
            "state": self.state,
            "window_days": self.window_days,
            "window_start": None if self.window_start is None else self.window_start.isoformat(),
            "window_end": None if self.window_end is None else self.window_end.isoformat(),
            "title": self.content.title,
            "rows": len(self.content.rows),
            "withheld": sum(w.count for w in self.content.withheld),
            "total": str(self.content.total),
            "content_sha256": self.content.sha256,
            "drafted_by": self.drafted_by,
            "posted_by": self.posted_by,
            "closed_on": None if self.closed_on is None else self.closed_on.isoformat(),
            "closed_by": self.closed_by,
            "withdrawn_reason": self.withdrawn_reason,
            "settlement": [[m.isoformat(), str(a)] for m, a in self.settlement],
        }
        if lines:
            document["lines"] = [line.as_dict() for line in self.lines]
            document["objections"] = [o.as_dict() for o in self.objections]
        return document


@runtime_checkable
class NoticeRenderer(Protocol):
    """A notice renderer (公示渲染器), registered through ``famplan_register_notice_renderers``.

    A renderer is built with no arguments and writes the files of one notice into a folder.
    It receives only a `PublishedNotice`: masked, public fields.

    Attributes:
        PLUGIN_NAME: the format name, e.g. ``html``; ``famplan notice render --format``.
    """

    PLUGIN_NAME: ClassVar[str]

    def render(self, notice: PublishedNotice, out: Path, *, paper: str = "A4") -> Sequence[Path]:
        """Write the notice's files into the folder `out` (made when missing).

        Args:
            notice: the masked content.
            out: the folder.
            paper: ``A4`` or ``A3``, for printed outputs.

        Returns:
            The files written (or rewritten), in a stable order.
        """
        ...  # pragma: no cover
