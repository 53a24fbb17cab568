"""The notice service (公示服务): draft, post, object, decide, close, withdraw, render.

`NoticeService` keeps a deployment's public notices in its SQL storage:

* `NoticeService.draft` lists the new beneficiaries of a month's run (or the hardship grants
  of a month) at one level: one notice for the township, one per village, or one for a
  village group. A *new beneficiary* of a program is someone entitled in the month who was
  neither enrolled before the month nor released by a notice of an earlier month. The lines
  are held from payment at once (`famplan_core.notices.holds`).
* `NoticeService.post` posts a draft for its window (``[notices] window_days``, 7 by
  default) and records the exact masked content with its date, level and audience.
* `NoticeService.object` records an objection received during the window;
  `NoticeService.decide` decides it: upheld (the line is withdrawn or corrected at once,
  with a recovery or arrears line for a month already rolled) or dismissed.
* `NoticeService.close` closes a notice after its window, once every objection is decided:
  the lines still held are released (as arrears when their month's roll was made meanwhile).
* `NoticeService.render` writes a notice with a registered renderer and records each file's
  SHA-256 as a publication.

Every write is one unit of work (operations ``notice-draft``, ``notice-post``,
``notice-object``, ``notice-decide``, ``notice-close``, ``notice-withdraw``,
``notice-render``) with its audit entry naming the actor. The core never reads the clock:
dates and record times come from the caller.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa

from famplan_core.benefits.months import month_text, parse_month
from famplan_core.benefits.service import HARDSHIP_RELIEF
from famplan_core.benefits.store import BenefitStore
from famplan_core.config import NoticeSettings
from famplan_core.errors import (
    DomainError,
    PluginNotFoundError,
    RecordNotFoundError,
    StorageError,
    ValidationError,
)
from famplan_core.model.dates import record_day
from famplan_core.model.money import Money
from famplan_core.notices.holds import NoticeHolds
from famplan_core.notices.masking import (
    mask_subjects,
    masking_label,
    masking_note,
    masking_policy,
    village_names,
)
from famplan_core.notices.model import (
    CHANNELS,
    LEVEL_NAMES_ZH,
    LEVELS,
    SUBJECTS,
    Channel,
    Level,
    Notice,
    NoticeLine,
    NoticeSubject,
    Objection,
    PublishedNotice,
    Subject,
)
from famplan_core.privacy import MaskingPolicy, public_fields
from famplan_core.storage import benefit_tables as bt
from famplan_core.storage import notice_tables as nt
from famplan_core.storage.sql import SqlStorage
from famplan_core.storage.tables import REGISTER_TABLES

if TYPE_CHECKING:
    from famplan_core.rules import Program
    from famplan_core.township import Township

__all__ = ["PLUGIN_SETTINGS", "NoticeService"]

PLUGIN_SETTINGS = "core-notices"
"""The name of the core's notice plugin: its settings are ``[plugins.core-notices]``."""

_VILLAGE_DIGITS = 12


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _title(township: str, subject: Subject, month: dt.date) -> str:
    when = f"{month.year}年{month.month}月"
    if subject == "hardship_grants":
        return f"{township}{when}计划生育特困家庭救助公示"
    return f"{township}{when}新增待遇对象公示"


def _intro(subject: Subject, level: Level) -> str:
    what = "拟给予计划生育特困家庭救助的家庭" if subject == "hardship_grants" else "新增待遇对象"
    return (
        f"根据有关规定，现将本{'乡镇' if level == 'township' else '村'}{what}予以公示，"
        "接受群众监督。如有异议，请在公示期内通过下列电话或意见箱反映，也可当面反映。"
    )


@attrs.frozen(kw_only=True)
class _Draft:
    """The lines of one notice to draft: its scope and its subjects, in order."""

    scope: str
    subjects: tuple[NoticeSubject, ...]


class NoticeService:
    """A deployment's public notices over its SQL storage (公示服务).

    Args:
        storage: the SQL storage.
        division: the deployment's division code (the township's).
        township: the township's name, printed on every notice.
        programs: the deployment's programs by code (for their Chinese names).
        settings: ``[notices]`` of `famplan.toml` (window, complaint telephone and box).
        masking: the masking policy (default: names' middle, ID first 6 and last 4).
        villages: village names by 12-digit code (a village without a name shows its code).
        renderers: the notice renderer classes by ``PLUGIN_NAME``.
    """

    def __init__(
        self,
        storage: SqlStorage,
        *,
        division: str,
        township: str,
        programs: Mapping[str, Program] | None = None,
        settings: NoticeSettings | None = None,
        masking: MaskingPolicy | None = None,
        villages: Mapping[str, str] | None = None,
        renderers: Mapping[str, type[Any]] | None = None,
    ) -> None:
        self.storage = storage
        self.division = division
        self.township = township
        self.programs: dict[str, Program] = dict(programs or {})
        self.settings = settings if settings is not None else NoticeSettings()
        self.masking = masking if masking is not None else MaskingPolicy()
        self.villages: dict[str, str] = dict(villages or {})
        self.renderers: dict[str, type[Any]] = dict(renderers or {})
        if self.settings.window_days < 1:
            raise ValidationError.single(
                "notices.window_days", str(self.settings.window_days), "expected 1 day or more"
            )

    @classmethod
    def for_township(cls, township: Township) -> NoticeService:
        """The notice service of an assembled deployment.

        Reads ``[notices]`` and ``[plugins.core-notices]`` (``masking`` and ``villages``).

        Args:
            township: the deployment.

        Raises:
            StorageError: the deployment's storage is not the SQL storage.
            ConfigurationError: the masking policy or the village names are wrong.
        """
        storage = township.storage
        if not isinstance(storage, SqlStorage):
            raise StorageError(
                f"public notices need the SQL storage (SQLite or PostgreSQL); the deployment "
                f"uses {type(storage).__name__}"
            )
        config = township.config
        own = config.plugin_settings(PLUGIN_SETTINGS)
        return cls(
            storage,
            division=township.division,
            township=config.township.name,
            programs=township.plugins.programs(),
            settings=config.notices,
            masking=masking_policy(own),
            villages=village_names(own),
            renderers=township.plugins.notice_renderers(),
        )

    # -- names ----------------------------------------------------------------------------

    def _program_names(self) -> dict[str, str]:
        names = {code: p.name_zh for code, p in self.programs.items()}
        names.setdefault(HARDSHIP_RELIEF, "计划生育特困家庭救助")
        return names

    def _hidden_amount_programs(self) -> frozenset[str]:
        """The programs whose amount reveals a sensitive category: those with categories."""
        return frozenset(code for code, p in self.programs.items() if p.categories)

    def _scope_name(self, level: str, scope: str) -> str:
        if level == "township" or len(scope) != _VILLAGE_DIGITS:
            return self.township
        return self.villages.get(scope, scope)

    # -- drafting -------------------------------------------------------------------------

    def new_beneficiaries(self, month: str | dt.date) -> list[NoticeSubject]:
        """The new beneficiaries of a month's run, in village, program and person order.

        A beneficiary is new for a program when entitled in the month, not enrolled in the
        program before the month, and not released by a notice of an earlier month.

        Args:
            month: the month, ``YYYY-MM``.

        Raises:
            ValidationError: the month is not ``YYYY-MM``.
            DomainError: the month has no stored run.
        """
        d = parse_month(month)
        with self.storage.reader() as reader:
            return self._new_beneficiaries(reader.connection, d)

    def _new_beneficiaries(self, conn: sa.Connection, d: dt.date) -> list[NoticeSubject]:
        store = BenefitStore(conn)
        if store.checkpoint(d, "run") is None:
            raise DomainError(
                f"no run of {month_text(d)} is stored: run `famplan benefits run --month "
                f"{month_text(d)}` first (a notice lists the new beneficiaries of a run)"
            )
        persons, enrolments = REGISTER_TABLES["persons"], REGISTER_TABLES["enrolments"]
        e, p, en = bt.entitlements.c, persons.c, enrolments.c
        enrolled = {
            (str(r[0]), str(r[1]))
            for r in conn.execute(
                sa.select(en.program, en.person_id).where(en.superseded_at.is_(None), en.since < d)
            )
        }
        line, n = nt.notice_lines.c, nt.notices.c
        released = {
            (str(r[0]), str(r[1]))
            for r in conn.execute(
                sa.select(line.program, line.person_id)
                .join_from(nt.notice_lines, nt.notices, n.notice_id == line.notice_id)
                .where(
                    n.state == "closed",
                    line.status.in_(("released", "corrected")),
                    line.month < d,
                    line.grant_id.is_(None),
                )
            )
        }
        query = (
            sa.select(
                e.entitlement_id,
                e.program,
                e.person_id,
                e.category,
                e.amount_fen,
                p.name,
                p.citizen_id,
                p.birth_date,
                p.hukou_division,
            )
            .select_from(bt.entitlements)
            .outerjoin(persons, sa.and_(p.person_id == e.person_id, p.superseded_at.is_(None)))
            .where(e.month == d, e.superseded_at.is_(None))
        )
        found = []
        for r in conn.execute(query).mappings():
            key = (str(r["program"]), str(r["person_id"]))
            if key in enrolled or key in released:
                continue
            found.append(
                NoticeSubject(
                    person_id=key[1],
                    name=str(r["name"] or ""),
                    citizen_id=r["citizen_id"],
                    birth_date=r["birth_date"],
                    village=str(r["hukou_division"] or ""),
                    program=key[0],
                    category=r["category"],
                    amount=Money(int(r["amount_fen"])),
                    entitlement_id=int(r["entitlement_id"]),
                )
            )
        return self._ordered(found)

    def _ordered(self, subjects: list[NoticeSubject]) -> list[NoticeSubject]:
        order = {code: i for i, code in enumerate(self.programs)}
        return sorted(
            subjects,
            key=lambda s: (s.village, order.get(s.program, len(order)), s.program, s.person_id),
        )

    def _grants(self, conn: sa.Connection, d: dt.date) -> list[NoticeSubject]:
        persons = REGISTER_TABLES["persons"]
        g, p = bt.hardship_grants.c, persons.c
        taken = bt.payment_roll_lines.c
        query = (
            sa.select(
                g.grant_id,
                g.person_id,
                g.amount_fen,
                p.name,
                p.citizen_id,
                p.birth_date,
                p.hukou_division,
            )
            .select_from(bt.hardship_grants)
            .outerjoin(persons, sa.and_(p.person_id == g.person_id, p.superseded_at.is_(None)))
            .where(g.month == d, ~sa.exists().where(taken.grant_id == g.grant_id))
        )
        return self._ordered(
            [
                NoticeSubject(
                    person_id=str(r["person_id"]),
                    name=str(r["name"] or ""),
                    citizen_id=r["citizen_id"],
                    birth_date=r["birth_date"],
                    village=str(r["hukou_division"] or ""),
                    program=HARDSHIP_RELIEF,
                    amount=Money(int(r["amount_fen"])),
                    grant_id=int(r["grant_id"]),
                )
                for r in conn.execute(query).mappings()
            ]
        )

    def draft(
        self,
        month: str | dt.date,
        *,
        level: Level,
        actor: str,
        recorded_at: dt.datetime,
        scope: str | None = None,
        place: str = "",
        subject: Subject = "new_beneficiaries",
    ) -> list[Notice]:
        """Draft the notices of a month at one level; their lines are held from payment.

        A line already on a notice (not withdrawn) of the same subject, month, level, scope
        and place is not drafted again, so a later draft lists only what is new since.

        Args:
            month: the month, ``YYYY-MM``.
            level: ``township`` (one notice), ``village`` (one per village with lines, or
                only `scope`) or ``group`` (one, for the village `scope` and group `place`).
            actor: who drafts.
            recorded_at: the record time.
            scope: a village's 12-digit code (required for ``group``).
            place: the group's name (required for ``group``), e.g. ``第三村民小组``.
            subject: ``new_beneficiaries`` (default) or ``hardship_grants``.

        Returns:
            The notices drafted (none when there is nothing new to list).

        Raises:
            ValidationError: the month, level, scope, place or subject is wrong.
            DomainError: the month has no stored run (for new beneficiaries).
        """
        d = parse_month(month)
        self._check_draft(level, scope, place, subject)
        with self.storage.unit_of_work(
            actor=actor, recorded_at=recorded_at, operation="notice-draft"
        ) as uow:
            conn = uow.connection
            subjects = (
                self._grants(conn, d)
                if subject == "hardship_grants"
                else self._new_beneficiaries(conn, d)
            )
            drafts = self._split(subjects, level, scope)
            made: list[int] = []
            next_id = BenefitStore(conn).next_id(nt.notices, "notice_id")
            for draft in drafts:
                fresh = self._not_yet_listed(conn, draft, subject, d, level, place)
                if not fresh:
                    continue
                notice_id = next_id + len(made)
                self._insert_draft(
                    conn, uow.id, notice_id, fresh, subject, d, level, draft.scope, place, actor,
                    uow.recorded_at,
                )  # fmt: skip
                made.append(notice_id)
            uow.audit(
                month=month_text(d),
                subject=subject,
                level=level,
                scope=scope,
                place=place,
                notices=made,
            )
        return [self.get(notice_id) for notice_id in made]

    def _check_draft(self, level: str, scope: str | None, place: str, subject: str) -> None:
        problems: list[ValidationError] = []
        if level not in LEVELS:
            problems.append(
                ValidationError.single("--level", level, f"expected one of {', '.join(LEVELS)}")
            )
        if subject not in SUBJECTS:
            problems.append(
                ValidationError.single(
                    "--subject", subject, f"expected one of {', '.join(SUBJECTS)}"
                )
            )
        if scope is not None and not (
            len(scope) == _VILLAGE_DIGITS and scope.isdigit() and scope.startswith(self.division)
        ):
            problems.append(
                ValidationError.single(
                    "--scope",
                    scope,
                    f"expected the 12-digit code of a village of {self.division}",
                )
            )
        if level == "group" and (scope is None or not place.strip()):
            problems.append(
                ValidationError.single(
                    "--place",
                    place,
                    "a group notice needs its village (--scope CODE) and the group's name "
                    "(--place 第三村民小组)",
                )
            )
        if level == "township" and scope is not None:
            problems.append(
                ValidationError.single(
                    "--scope", scope, "a township notice covers the whole township: omit it"
                )
            )
        if problems:
            raise ValidationError([p for exc in problems for p in exc.problems])

    def _split(
        self, subjects: Sequence[NoticeSubject], level: str, scope: str | None
    ) -> list[_Draft]:
        if level == "township":
            return [_Draft(scope=self.division, subjects=tuple(subjects))]
        by_village: dict[str, list[NoticeSubject]] = {}
        for subject in subjects:
            if scope is None or subject.village == scope:
                by_village.setdefault(subject.village, []).append(subject)
        if scope is not None and scope not in by_village:
            by_village[scope] = []
        return [
            _Draft(scope=village, subjects=tuple(items))
            for village, items in sorted(by_village.items())
            if village
        ]

    def _not_yet_listed(
        self,
        conn: sa.Connection,
        draft: _Draft,
        subject: str,
        d: dt.date,
        level: str,
        place: str,
    ) -> list[NoticeSubject]:
        line, n = nt.notice_lines.c, nt.notices.c
        rows = conn.execute(
            sa.select(line.program, line.person_id, line.grant_id)
            .join_from(nt.notice_lines, nt.notices, n.notice_id == line.notice_id)
            .where(
                n.subject == subject,
                n.month == d,
                n.level == level,
                n.scope == draft.scope,
                n.place == place,
                n.state != "withdrawn",
            )
        )
        listed_keys: set[tuple[str, str]] = set()
        listed_grants: set[int] = set()
        for program, person, grant in rows:
            if grant is not None:
                listed_grants.add(int(grant))
            else:
                listed_keys.add((str(program), str(person)))
        return [
            s
            for s in draft.subjects
            if (s.grant_id is not None and s.grant_id not in listed_grants)
            or (s.grant_id is None and (s.program, s.person_id) not in listed_keys)
        ]

    def _content(
        self,
        *,
        notice_id: int,
        subjects: Sequence[NoticeSubject],
        numbers: Sequence[int],
        subject: Subject,
        month: dt.date,
        level: Level,
        scope: str,
        place: str,
        state: Any,
        on: dt.date,
        window: tuple[dt.date, dt.date] | None,
    ) -> PublishedNotice:
        rows, withheld = mask_subjects(
            subjects,
            policy=self.masking,
            on=on,
            villages=self.villages,
            program_names=self._program_names(),
            hidden_amount_programs=self._hidden_amount_programs(),
        )
        listed = [s for s in subjects if _listed(s, on)]
        number_of = {id(s): n for s, n in zip(subjects, numbers, strict=True)}
        rows = [
            attrs.evolve(row, number=number_of[id(s)]) for row, s in zip(rows, listed, strict=True)
        ]
        return PublishedNotice(
            notice_id=notice_id,
            title=_title(self.township, subject, month),
            township=self.township,
            level=level,
            scope_name=self._scope_name(level, scope),
            place=place,
            subject=subject,
            month=month,
            state=state,
            window_start=None if window is None else window[0],
            window_end=None if window is None else window[1],
            complaint_phone=self.settings.complaint_phone,
            complaint_box=self.settings.complaint_box,
            intro=_intro(subject, level),
            masking_note=masking_note(self.masking),
            rows=tuple(rows),
            withheld=tuple(withheld),
        )

    def _insert_draft(
        self,
        conn: sa.Connection,
        uow_id: int,
        notice_id: int,
        subjects: Sequence[NoticeSubject],
        subject: Subject,
        d: dt.date,
        level: Level,
        scope: str,
        place: str,
        actor: str,
        at: dt.datetime,
    ) -> None:
        listed = [s for s in subjects if _listed(s, d)]
        ordered = listed + [s for s in subjects if not _listed(s, d)]
        numbers = list(range(1, len(ordered) + 1))
        content = self._content(
            notice_id=notice_id,
            subjects=ordered,
            numbers=numbers,
            subject=subject,
            month=d,
            level=level,
            scope=scope,
            place=place,
            state="draft",
            on=d,
            window=None,
        )
        conn.execute(
            nt.notices.insert(),
            [
                {
                    "notice_id": notice_id,
                    "uow_id": uow_id,
                    "subject": subject,
                    "month": d,
                    "level": level,
                    "scope": scope,
                    "place": place.strip(),
                    "state": "draft",
                    "window_days": self.settings.window_days,
                    "window_start": None,
                    "window_end": None,
                    "masking": masking_label(self.masking),
                    "content": content.to_json(),
                    "content_sha256": content.sha256,
                    "drafted_at": at,
                    "drafted_by": actor,
                }
            ],
        )
        conn.execute(
            nt.notice_lines.insert(),
            [
                {
                    "notice_id": notice_id,
                    "line_no": number,
                    "program": s.program,
                    "month": d,
                    "person_id": s.person_id,
                    "entitlement_id": s.entitlement_id,
                    "grant_id": s.grant_id,
                    "amount_fen": s.amount.fen,
                    "published": _listed(s, d),
                    "status": "held",
                    "corrected_fen": None,
                    "objection_id": None,
                }
                for number, s in zip(numbers, ordered, strict=True)
            ],
        )

    # -- reading --------------------------------------------------------------------------

    def get(self, notice_id: int) -> Notice:
        """One notice with its lines and objections.

        Args:
            notice_id: the notice.

        Raises:
            RecordNotFoundError: no such notice.
        """
        with self.storage.reader() as reader:
            return _read_notice(reader.connection, notice_id)

    def notices(self, *, month: str | dt.date | None = None) -> list[Notice]:
        """Every notice (of a month), newest first, without re-reading each one's lines.

        Args:
            month: only this month's (``YYYY-MM``), or None for all.
        """
        d = None if month is None else parse_month(month)
        n = nt.notices.c
        query = sa.select(n.notice_id).order_by(n.notice_id.desc())
        if d is not None:
            query = query.where(n.month == d)
        with self.storage.reader() as reader:
            ids = [int(r[0]) for r in reader.connection.execute(query)]
            return [_read_notice(reader.connection, i, details=False) for i in ids]

    def content(self, notice_id: int) -> PublishedNotice:
        """What a notice shows now: its content, without its rows after the window.

        Args:
            notice_id: the notice.

        Raises:
            RecordNotFoundError: no such notice.
        """
        return _shown(self.get(notice_id))

    # -- posting --------------------------------------------------------------------------

    def post(
        self,
        notice_id: int,
        *,
        on: dt.date,
        actor: str,
        recorded_at: dt.datetime,
        audience: str = "",
        backdate_reason: str = "",
    ) -> Notice:
        """Post a draft for its window, from the day it goes up; record the exact content.

        A notice is posted on the day it is posted: the day of the record time in China
        (`record_day`). An earlier `on` is a backdated posting: it needs a reason, which is
        audited with the day given, and the window still runs in full from the day the
        notice was really posted, so that no one loses a day to object.

        Args:
            notice_id: the notice.
            on: the day the notice went up; normally the record day.
            actor: who posts.
            recorded_at: the record time.
            audience: where and to whom it is shown, e.g. ``王庄村村务公开栏``; by default
                the public notice board of its township or village (and group).
            backdate_reason: why a notice that went up on an earlier `on` is recorded late.

        Raises:
            RecordNotFoundError: no such notice.
            DomainError: the notice is not a draft; `on` is after the record day; `on` is
                before it and no reason is given.
        """
        with self.storage.unit_of_work(
            actor=actor, recorded_at=recorded_at, operation="notice-post"
        ) as uow:
            conn = uow.connection
            notice = _read_notice(conn, notice_id)
            if notice.state != "draft":
                raise DomainError(
                    f"notice {notice_id} is {notice.state}: only a draft can be posted"
                )
            start, backdated = _posting_day(notice, on, uow.recorded_at, backdate_reason)
            end = start + dt.timedelta(days=notice.window_days - 1)
            subjects, numbers = self._subjects_of(conn, notice)
            content = self._content(
                notice_id=notice_id,
                subjects=subjects,
                numbers=numbers,
                subject=notice.subject,
                month=notice.month,
                level=notice.level,
                scope=notice.scope,
                place=notice.place,
                state="posted",
                on=min(start, notice.month),
                window=(start, end),
            )
            n = nt.notices.c
            conn.execute(
                sa.update(nt.notices)
                .where(n.notice_id == notice_id)
                .values(
                    state="posted",
                    window_start=start,
                    window_end=end,
                    content=content.to_json(),
                    content_sha256=content.sha256,
                    posted_at=uow.recorded_at,
                    posted_by=actor,
                )
            )
            where = audience.strip() or (
                f"{content.scope_name}{content.place}公示栏（{LEVEL_NAMES_ZH[notice.level]}）"
            )
            text = content.to_json()
            _publication(
                conn,
                uow_id=uow.id,
                notice_id=notice_id,
                on=start,
                level=notice.level,
                audience=where,
                fmt="content",
                name=f"notice-{notice_id}.json",
                data=text.encode("utf-8"),
                content=text,
                at=uow.recorded_at,
                actor=actor,
            )
            uow.audit(
                notice_id=notice_id,
                window=[start.isoformat(), end.isoformat()],
                **backdated,
                audience=where,
                content_sha256=content.sha256,
                rows=len(content.rows),
            )
        return self.get(notice_id)

    def _subjects_of(
        self, conn: sa.Connection, notice: Notice
    ) -> tuple[list[NoticeSubject], list[int]]:
        """The notice's lines as subjects again (names and IDs as stored now)."""
        persons = REGISTER_TABLES["persons"]
        p = persons.c
        ids = sorted({line.person_id for line in notice.lines})
        found: dict[str, Any] = {}
        for chunk in range(0, len(ids), 500):
            for r in conn.execute(
                sa.select(p.person_id, p.name, p.citizen_id, p.birth_date, p.hukou_division).where(
                    p.person_id.in_(ids[chunk : chunk + 500]), p.superseded_at.is_(None)
                )
            ).mappings():
                found[str(r["person_id"])] = r
        subjects = []
        for line in notice.lines:
            person = found.get(line.person_id)
            subjects.append(
                NoticeSubject(
                    person_id=line.person_id,
                    name=str(person["name"]) if person is not None else "",
                    citizen_id=person["citizen_id"] if person is not None else None,
                    birth_date=person["birth_date"] if person is not None else None,
                    village=str(person["hukou_division"] or "") if person is not None else "",
                    program=line.program,
                    amount=line.amount,
                    entitlement_id=line.entitlement_id,
                    grant_id=line.grant_id,
                )
            )
        return subjects, [line.line_no for line in notice.lines]

    # -- objections -----------------------------------------------------------------------

    def object(
        self,
        notice_id: int,
        *,
        objector: str,
        content: str,
        channel: Channel,
        received_on: dt.date,
        actor: str,
        recorded_at: dt.datetime,
        line: int | None = None,
    ) -> Objection:
        """Record an objection (异议) received during the window; it opens a review.

        Args:
            notice_id: the notice.
            objector: who raised it (kept internal; "匿名" when anonymous).
            content: what it says.
            channel: ``in_person``, ``phone`` or ``box``.
            received_on: the day it came in.
            actor: who records it.
            recorded_at: the record time.
            line: the notice's row number it concerns, or None for the notice as a whole.

        Raises:
            RecordNotFoundError: no such notice.
            ValidationError: the channel is unknown, or the objector or content is empty.
            DomainError: the notice is not posted, the day is outside its window, or the
                line does not exist.
        """
        problems = []
        if channel not in CHANNELS:
            problems.append(
                ValidationError.single(
                    "--channel", channel, f"expected one of {', '.join(CHANNELS)}"
                )
            )
        if not objector.strip():
            problems.append(
                ValidationError.single("--by", objector, "expected who raised it, or 匿名")
            )
        if not content.strip():
            problems.append(ValidationError.single("--content", content, "expected what it says"))
        if problems:
            raise ValidationError([p for exc in problems for p in exc.problems])
        with self.storage.unit_of_work(
            actor=actor, recorded_at=recorded_at, operation="notice-object"
        ) as uow:
            conn = uow.connection
            notice = _read_notice(conn, notice_id)
            if notice.state != "posted":
                raise DomainError(
                    f"notice {notice_id} is {notice.state}: objections are recorded while it "
                    "is posted"
                )
            assert notice.window_start is not None
            assert notice.window_end is not None
            if not notice.window_start <= received_on <= notice.window_end:
                raise DomainError(
                    f"notice {notice_id} is posted from {notice.window_start} to "
                    f"{notice.window_end}: an objection received on {received_on} is outside "
                    "its window (handle it as a complaint, or post the notice again)"
                )
            if line is not None and line not in {x.line_no for x in notice.lines}:
                raise DomainError(
                    f"notice {notice_id} has no line {line}; its lines are 1 to {len(notice.lines)}"
                )
            objection_id = BenefitStore(conn).next_id(nt.notice_objections, "objection_id")
            conn.execute(
                nt.notice_objections.insert(),
                [
                    {
                        "objection_id": objection_id,
                        "notice_id": notice_id,
                        "line_no": line,
                        "received_on": received_on,
                        "channel": channel,
                        "objector": objector.strip(),
                        "content": content.strip(),
                        "status": "under_review",
                        "recorded_at": uow.recorded_at,
                        "recorded_by": actor,
                    }
                ],
            )
            uow.audit(
                notice_id=notice_id,
                objection_id=objection_id,
                line=line,
                channel=channel,
                received_on=received_on.isoformat(),
            )
        return self.objection(objection_id)

    def objection(self, objection_id: int) -> Objection:
        """One objection.

        Args:
            objection_id: the objection.

        Raises:
            RecordNotFoundError: no such objection.
        """
        with self.storage.reader() as reader:
            return _read_objection(reader.connection, objection_id)

    def decide(
        self,
        objection_id: int,
        *,
        decision: str,
        reason: str,
        decided_on: dt.date,
        actor: str,
        recorded_at: dt.datetime,
        amount: Money | str | None = None,
    ) -> Objection:
        """Decide an objection: ``upheld`` (withdraw or correct its line) or ``dismissed``.

        Upheld without `amount`, the line's payment is withdrawn: it is removed from every
        roll of its month and later (until a later notice releases the person); upheld with
        `amount`, the line's month is paid that amount. For a month already rolled, the
        difference from what was paid is stored as arrears (positive) or a recovery
        (negative) for the next roll. Dismissed, the line stays held until the notice closes.

        Args:
            objection_id: the objection.
            decision: ``upheld`` or ``dismissed``.
            reason: why (required).
            decided_on: the day of the decision.
            actor: who decides (recorded in the audit with the time).
            recorded_at: the record time.
            amount: for an upheld objection, the corrected amount (None to withdraw).

        Raises:
            RecordNotFoundError: no such objection.
            ValidationError: the decision, reason or amount is wrong.
            DomainError: it was decided already, its notice is not posted, or an upheld
                objection names no line.
        """
        if decision not in ("upheld", "dismissed"):
            raise ValidationError.single("--decision", decision, "expected upheld or dismissed")
        if not reason.strip():
            raise ValidationError.single("--reason", reason, "expected why it is decided so")
        money = (
            None
            if amount is None
            else amount
            if isinstance(amount, Money)
            else Money.parse(amount, path="--amount")
        )
        if money is not None and (decision != "upheld" or money.fen < 0):
            raise ValidationError.single(
                "--amount",
                str(money),
                "a corrected amount goes with an upheld objection and is 0.00 or more",
            )
        with self.storage.unit_of_work(
            actor=actor, recorded_at=recorded_at, operation="notice-decide"
        ) as uow:
            conn = uow.connection
            found = _read_objection(conn, objection_id)
            if found.status != "under_review":
                raise DomainError(
                    f"objection {objection_id} was already decided: {found.status} on "
                    f"{found.decided_on} by {found.decided_by}"
                )
            notice = _read_notice(conn, found.notice_id)
            if notice.state != "posted":
                raise DomainError(
                    f"notice {notice.notice_id} is {notice.state}: objections are decided while "
                    "it is posted"
                )
            if decided_on < found.received_on:
                raise ValidationError.single(
                    "--on",
                    decided_on.isoformat(),
                    f"the decision cannot come before the objection ({found.received_on})",
                )
            outcome: str | None = None
            settlement: list[tuple[dt.date, int]] = []
            if decision == "upheld":
                if found.line_no is None:
                    raise DomainError(
                        f"objection {objection_id} names no line of notice {notice.notice_id}: "
                        "an upheld objection withdraws or corrects one line (record the "
                        "objection again with --line N)"
                    )
                line = next(x for x in notice.lines if x.line_no == found.line_no)
                withdraw = money is None or money.fen == 0
                outcome = "withdraw" if withdraw else "correct"
                c = nt.notice_lines.c
                conn.execute(
                    sa.update(nt.notice_lines)
                    .where(c.notice_id == notice.notice_id, c.line_no == line.line_no)
                    .values(
                        status="withdrawn" if withdraw else "corrected",
                        corrected_fen=None if withdraw else money.fen if money else None,
                        objection_id=objection_id,
                    )
                )
                if line.grant_id is None:
                    settlement = _settle(
                        conn, {(line.program, line.person_id)}, line.month, uow.recorded_at
                    )
            o = nt.notice_objections.c
            conn.execute(
                sa.update(nt.notice_objections)
                .where(o.objection_id == objection_id)
                .values(
                    status=decision,
                    outcome=outcome,
                    corrected_fen=None if outcome != "correct" or money is None else money.fen,
                    reason=reason.strip(),
                    decided_on=decided_on,
                    decided_at=uow.recorded_at,
                    decided_by=actor,
                )
            )
            uow.audit(
                notice_id=notice.notice_id,
                objection_id=objection_id,
                line=found.line_no,
                decision=decision,
                outcome=outcome,
                corrected=None if money is None or outcome != "correct" else str(money),
                reason=reason.strip(),
                decided_on=decided_on.isoformat(),
                settlement=[[m.isoformat(), str(Money(f))] for m, f in settlement],
            )
        decided = self.objection(objection_id)
        return attrs.evolve(decided, settlement=tuple((m, Money(f)) for m, f in settlement))

    # -- closing and withdrawing --------------------------------------------------------

    def close(self, notice_id: int, *, on: dt.date, actor: str, recorded_at: dt.datetime) -> Notice:
        """Close a notice after its window, once every objection is decided.

        The lines still held are released: paid by the next roll of their month, or, when
        that roll was made during the window, as arrears by the next roll.

        Args:
            notice_id: the notice.
            on: the closing day: after the window's last day, and not after the record day.
            actor: who closes it.
            recorded_at: the record time.

        Raises:
            RecordNotFoundError: no such notice.
            DomainError: it is not posted, its window has not ended, `on` is after the
                record day, or an objection is still under review (they are named).
        """
        with self.storage.unit_of_work(
            actor=actor, recorded_at=recorded_at, operation="notice-close"
        ) as uow:
            conn = uow.connection
            notice = _read_notice(conn, notice_id)
            if notice.state != "posted":
                raise DomainError(
                    f"notice {notice_id} is {notice.state}: only a posted notice can be closed"
                )
            assert notice.window_end is not None
            today = record_day(uow.recorded_at)
            if on > today:
                raise DomainError(
                    f"notice {notice_id} cannot be closed on {on}: that day has not come (the "
                    f"record time {uow.recorded_at.isoformat()} is {today} in China); close it "
                    "on the day it is taken down"
                )
            if on <= notice.window_end:
                raise DomainError(
                    f"notice {notice_id} is posted until {notice.window_end}: close it on "
                    f"{notice.window_end + dt.timedelta(days=1)} or later"
                )
            pending = notice.open_objections
            if pending:
                ids = ", ".join(str(o.objection_id) for o in pending)
                raise DomainError(
                    f"notice {notice_id} has {len(pending)} objection(s) under review ({ids}): "
                    "decide them first (famplan notice decide)"
                )
            held = [x for x in notice.lines if x.status == "held"]
            c, n = nt.notice_lines.c, nt.notices.c
            conn.execute(
                sa.update(nt.notice_lines)
                .where(c.notice_id == notice_id, c.status == "held")
                .values(status="released")
            )
            conn.execute(
                sa.update(nt.notices)
                .where(n.notice_id == notice_id)
                .values(state="closed", closed_on=on, closed_at=uow.recorded_at, closed_by=actor)
            )
            keys = {(x.program, x.person_id) for x in held if x.grant_id is None}
            settlement = (
                _settle(conn, keys, min(x.month for x in held), uow.recorded_at) if keys else []
            )
            uow.audit(
                notice_id=notice_id,
                closed_on=on.isoformat(),
                released=len(held),
                settlement=[[m.isoformat(), str(Money(f))] for m, f in settlement],
            )
        return attrs.evolve(
            self.get(notice_id), settlement=tuple((m, Money(f)) for m, f in settlement)
        )

    def withdraw(
        self, notice_id: int, *, reason: str, actor: str, recorded_at: dt.datetime
    ) -> Notice:
        """Withdraw a draft or posted notice (taken down; its lines no longer held).

        Args:
            notice_id: the notice.
            reason: why (required).
            actor: who withdraws it.
            recorded_at: the record time.

        Raises:
            RecordNotFoundError: no such notice.
            ValidationError: the reason is empty.
            DomainError: it is closed or withdrawn already.
        """
        if not reason.strip():
            raise ValidationError.single("--reason", reason, "expected why it is withdrawn")
        with self.storage.unit_of_work(
            actor=actor, recorded_at=recorded_at, operation="notice-withdraw"
        ) as uow:
            conn = uow.connection
            notice = _read_notice(conn, notice_id)
            if notice.state not in ("draft", "posted"):
                raise DomainError(f"notice {notice_id} is {notice.state} already")
            n = nt.notices.c
            conn.execute(
                sa.update(nt.notices)
                .where(n.notice_id == notice_id)
                .values(
                    state="withdrawn",
                    withdrawn_at=uow.recorded_at,
                    withdrawn_by=actor,
                    withdrawn_reason=reason.strip(),
                )
            )
            uow.audit(notice_id=notice_id, reason=reason.strip(), was=notice.state)
        return self.get(notice_id)

    # -- rendering ------------------------------------------------------------------------

    def formats(self) -> list[str]:
        """The names of the registered notice renderers."""
        return sorted(self.renderers)

    def render(
        self,
        notice_id: int,
        fmt: str,
        out: Path,
        *,
        on: dt.date,
        actor: str,
        recorded_at: dt.datetime,
        paper: str = "A4",
        audience: str = "",
    ) -> list[Path]:
        """Render what a notice shows now with a registered renderer; record each file.

        A draft renders with its window "待定（草稿）"; after the window (closed or
        withdrawn) only the header and a line saying the list was taken down remain.

        Args:
            notice_id: the notice.
            fmt: the renderer's name (``csv``, or a plugin's: ``html``, ``pdf``, ``site``).
            out: the folder to write into.
            on: the date of the rendering, recorded with each file.
            actor: who renders.
            recorded_at: the record time.
            paper: ``A4`` or ``A3``.
            audience: where the files are shown, e.g. ``镇政府网站``.

        Raises:
            RecordNotFoundError: no such notice.
            PluginNotFoundError: no renderer has that name (those known are listed).
            ValidationError: the paper is not A4 or A3.
        """
        if paper not in ("A4", "A3"):
            raise ValidationError.single("--paper", paper, "expected A4 or A3")
        try:
            renderer_class = self.renderers[fmt]
        except KeyError:
            raise PluginNotFoundError(
                f"no notice renderer is named {fmt!r}; available: "
                f"{', '.join(self.formats()) or 'none'}"
            ) from None
        notice = self.get(notice_id)
        shown = _shown(notice)
        files = list(renderer_class().render(shown, out, paper=paper))
        with self.storage.unit_of_work(
            actor=actor, recorded_at=recorded_at, operation="notice-render"
        ) as uow:
            for path in files:
                data = path.read_bytes()
                _publication(
                    uow.connection,
                    uow_id=uow.id,
                    notice_id=notice_id,
                    on=on,
                    level=notice.level,
                    audience=audience.strip() or f"{fmt} ({notice.state})",
                    fmt=fmt,
                    name=path.name,
                    data=data,
                    content=None,
                    at=uow.recorded_at,
                    actor=actor,
                )
            uow.audit(
                notice_id=notice_id,
                format=fmt,
                paper=paper,
                state=notice.state,
                files={p.name: _sha256(p.read_bytes()) for p in files},
            )
        return files

    def publications(self, notice_id: int) -> list[dict[str, Any]]:
        """What was published of a notice: each posting and rendered file, oldest first.

        Args:
            notice_id: the notice.
        """
        pub = nt.notice_publications.c
        with self.storage.reader() as reader:
            rows = reader.connection.execute(
                sa.select(
                    pub.publication_id,
                    pub.published_on,
                    pub.level,
                    pub.audience,
                    pub.format,
                    pub.name,
                    pub.sha256,
                    pub.size,
                    pub.recorded_at,
                    pub.actor,
                )
                .where(pub.notice_id == notice_id)
                .order_by(pub.publication_id)
            ).mappings()
            return [dict(r) for r in rows]


def _listed(subject: NoticeSubject, on: dt.date) -> bool:
    """Whether a line is listed on `on` (not about a child under 14)."""
    return "program" in public_fields(NoticeSubject, on=on, subject_birth_date=subject.birth_date)


def _shown(notice: Notice) -> PublishedNotice:
    """What a notice shows now: its rows are taken down after the window."""
    content = notice.content
    if notice.state in ("closed", "withdrawn"):
        return attrs.evolve(content, state=notice.state, rows=(), withheld=(), listed=False)
    return content


def _posting_day(
    notice: Notice, on: dt.date, recorded_at: dt.datetime, reason: str
) -> tuple[dt.date, dict[str, str]]:
    """The first day of a notice's window, and what a backdated posting adds to the audit.

    The window starts on the day the notice is posted (the record day in China). A day before
    it is taken only as a statement, with a reason; a day after it is refused.
    """
    today = record_day(recorded_at)
    if on > today:
        raise DomainError(
            f"notice {notice.notice_id} cannot be posted on {on}: that day has not come (the "
            f"record time {recorded_at.isoformat()} is {today} in China); post it on the day "
            "it goes up"
        )
    if on == today:
        return today, {}
    if not reason.strip():
        raise DomainError(
            f"notice {notice.notice_id} is posted on {today}, not {on}: a notice is posted on "
            "the day it goes up. If it went up earlier and is recorded late, give the reason "
            f"(--backdate-reason); its window still runs {notice.window_days} days from {today}"
        )
    return today, {"backdated_to": on.isoformat(), "backdate_reason": reason.strip()}


def _publication(
    conn: sa.Connection,
    *,
    uow_id: int,
    notice_id: int,
    on: dt.date,
    level: str,
    audience: str,
    fmt: str,
    name: str,
    data: bytes,
    content: str | None,
    at: dt.datetime,
    actor: str,
) -> None:
    publication_id = BenefitStore(conn).next_id(nt.notice_publications, "publication_id")
    conn.execute(
        nt.notice_publications.insert(),
        [
            {
                "publication_id": publication_id,
                "notice_id": notice_id,
                "uow_id": uow_id,
                "published_on": on,
                "level": level,
                "audience": audience,
                "format": fmt,
                "name": name,
                "sha256": _sha256(data),
                "size": len(data),
                "content": content,
                "recorded_at": at,
                "actor": actor,
            }
        ],
    )


def _settle(
    conn: sa.Connection, keys: set[tuple[str, str]], since: dt.date, at: dt.datetime
) -> list[tuple[dt.date, int]]:
    """Store arrears or recoveries for rolled months whose notice lines were just decided.

    For each (program, person) and each rolled month from `since`, what is due now (by the
    notice rule) is compared with what was paid (the roll's regular line and every arrears
    line found for the month); a difference becomes an arrears line for the next roll.

    Returns:
        The (month, fen) of each stored line.
    """
    store = BenefitStore(conn)
    holds = NoticeHolds.load(conn)
    stored: list[tuple[dt.date, int]] = []
    for month in store.rolled_months():
        if month < since:
            continue
        paid = store.paid(month)
        current = store.current_entitlements(month)
        rows: list[dict[str, Any]] = []
        for key in sorted(keys):
            entitlement = current.get(key)
            amount = entitlement.amount_fen if entitlement is not None else 0
            due = holds.entitlement(key[0], key[1], month, amount)
            if due is None:
                continue
            before = paid.get(key)
            paid_fen = before.amount_fen if before is not None else 0
            if due == paid_fen:
                continue
            run_id = entitlement.run_id if entitlement is not None else _run_of(conn, month, key[0])
            if run_id is None:
                continue
            rows.append(
                {
                    "run_id": run_id,
                    "month": month,
                    "program": key[0],
                    "person_id": key[1],
                    "category": (
                        entitlement.category
                        if entitlement is not None
                        else before.category
                        if before is not None
                        else None
                    ),
                    "due_fen": due,
                    "paid_fen": paid_fen,
                    "amount_fen": due - paid_fen,
                    "recorded_at": at,
                }
            )
        if rows:
            first = store.next_id(bt.arrears, "arrears_id")
            store.insert(bt.arrears, [{"arrears_id": first + i, **r} for i, r in enumerate(rows)])
            stored.extend((month, int(r["amount_fen"])) for r in rows)
    return stored


def _run_of(conn: sa.Connection, month: dt.date, program: str) -> int | None:
    p = bt.benefit_run_programs.c
    found = conn.execute(
        sa.select(sa.func.max(p.run_id)).where(p.month == month, p.program == program)
    ).scalar()
    return None if found is None else int(found)


def _read_objection(conn: sa.Connection, objection_id: int) -> Objection:
    o = nt.notice_objections.c
    row = (
        conn.execute(sa.select(nt.notice_objections).where(o.objection_id == objection_id))
        .mappings()
        .first()
    )
    if row is None:
        raise RecordNotFoundError(f"objection {objection_id}: no such objection is recorded")
    return _objection(row)


def _objection(row: Any) -> Objection:
    return Objection(
        objection_id=int(row["objection_id"]),
        notice_id=int(row["notice_id"]),
        line_no=None if row["line_no"] is None else int(row["line_no"]),
        received_on=row["received_on"],
        channel=row["channel"],
        objector=str(row["objector"]),
        content=str(row["content"]),
        status=row["status"],
        outcome=row["outcome"],
        corrected_amount=None if row["corrected_fen"] is None else Money(int(row["corrected_fen"])),
        reason=row["reason"],
        decided_on=row["decided_on"],
        recorded_by=str(row["recorded_by"]),
        decided_by=row["decided_by"],
    )


def _read_notice(conn: sa.Connection, notice_id: int, *, details: bool = True) -> Notice:
    n = nt.notices.c
    row = conn.execute(sa.select(nt.notices).where(n.notice_id == notice_id)).mappings().first()
    if row is None:
        raise RecordNotFoundError(f"notice {notice_id}: no such notice is stored")
    lines: tuple[NoticeLine, ...] = ()
    objections: tuple[Objection, ...] = ()
    if details:
        c, o = nt.notice_lines.c, nt.notice_objections.c
        lines = tuple(
            NoticeLine(
                line_no=int(r["line_no"]),
                program=str(r["program"]),
                month=r["month"],
                person_id=str(r["person_id"]),
                entitlement_id=None if r["entitlement_id"] is None else int(r["entitlement_id"]),
                grant_id=None if r["grant_id"] is None else int(r["grant_id"]),
                amount=Money(int(r["amount_fen"])),
                published=bool(r["published"]),
                status=r["status"],
                corrected_amount=(
                    None if r["corrected_fen"] is None else Money(int(r["corrected_fen"]))
                ),
                objection_id=None if r["objection_id"] is None else int(r["objection_id"]),
            )
            for r in conn.execute(
                sa.select(nt.notice_lines).where(c.notice_id == notice_id).order_by(c.line_no)
            ).mappings()
        )
        objections = tuple(
            _objection(r)
            for r in conn.execute(
                sa.select(nt.notice_objections)
                .where(o.notice_id == notice_id)
                .order_by(o.objection_id)
            ).mappings()
        )
    return Notice(
        notice_id=int(row["notice_id"]),
        subject=row["subject"],
        month=row["month"],
        level=row["level"],
        scope=str(row["scope"]),
        place=str(row["place"]),
        state=row["state"],
        window_days=int(row["window_days"]),
        window_start=row["window_start"],
        window_end=row["window_end"],
        content=PublishedNotice.from_json(str(row["content"])),
        lines=lines,
        objections=objections,
        drafted_by=str(row["drafted_by"]),
        posted_by=row["posted_by"],
        closed_on=row["closed_on"],
        closed_by=row["closed_by"],
        withdrawn_reason=row["withdrawn_reason"],
    )
