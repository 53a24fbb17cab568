"""What a partner may learn or change through the exchange (issue 13, points 1-3).

Hostile partners try: a verification request from any township naming a resident's ID number
and birth date with any name; receipts that tell who is registered and under what name; a
province ``birth`` message carrying an existing adult's ID number; a township ``hukou_move``
into this township for a resident, with another name and a division she never lived in. None
may learn or change anything; the office reviews what is held, side by side, and applies or
discards it with an audited reason. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from famplan_core.errors import ExchangeError
from famplan_core.exchange.batch import Message, Parcel, pack
from famplan_core.exchange.formats import JsonLinesFormat
from famplan_core.exchange.inbound import NOT_ANSWERED, NOT_MATCHED, PARTNER_REASONS
from famplan_core.exchange.ledger import ExchangeLedger
from famplan_core.exchange.review import ExchangeReview
from famplan_core.exchange.service import ExchangeService
from famplan_core.storage import SqlStorage
from famplan_core.storage.tables import RECORD_KINDS, REGISTER_TABLES
from famplan_core.synthetic import gb11643_check
from famplan_core.testing import PERSON_COLUMNS, person_row

G = "371502110"
PROVINCE = "37"
HANJI = "371502115"
ELSEWHERE = "371502999"
TODAY = dt.date(2026, 4, 10)


def cid(birth: str, seq: int) -> str:
    body = "371502" + birth.replace("-", "") + f"{seq:03d}"
    return body + gb11643_check(body)


FATHER = cid("1960-03-15", 11)  # moved to Hanji on 2026-03-15
DAUGHTER = cid("1988-05-05", 24)  # his daughter, died 2020
RESIDENT = cid("1975-05-05", 22)  # 袁星悦, an adult who never left
YOUNG_FATHER = cid("1979-06-01", 31)  # born four years after RESIDENT
STRANGER = cid("1971-01-01", 15)  # nobody in the register


class Clock:
    def __init__(self) -> None:
        self._ticks = itertools.count()

    def __call__(self) -> dt.datetime:
        return dt.datetime(2026, 4, 10, 9) + dt.timedelta(minutes=next(self._ticks))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def storage(storage_url: str, clock: Clock) -> Iterator[SqlStorage]:
    store = SqlStorage(storage_url, migrate=True)
    with store.unit_of_work(actor="clerk", recorded_at=clock()) as uow:
        uow.upsert_rows(
            "persons",
            PERSON_COLUMNS,
            [
                person_row("F", citizen_id=FATHER, name="王建国", birth_date="1960-03-15", sex="1"),
                person_row(
                    "D",
                    citizen_id=DAUGHTER,
                    name="王芳",
                    sex="2",
                    birth_date="1988-05-05",
                    death_date="2020-01-01",
                ),
                person_row(
                    "R", citizen_id=RESIDENT, name="袁星悦", sex="2", birth_date="1975-05-05"
                ),
                person_row(
                    "Y", citizen_id=YOUNG_FATHER, name="周强", sex="1", birth_date="1979-06-01"
                ),
            ],
        )
        uow.upsert_rows(
            "parent_child", ("parent_id", "child_id", "kind", "since"), [("F", "D", "birth", "")]
        )
        uow.upsert_rows(
            "hukou_changes",
            ("person_id", "date", "hukou_division", "hukou_type"),
            [
                ("F", "1960-03-15", "371502110001", "rural"),
                ("F", "2026-03-15", "371502115201", "rural"),
                ("R", "1975-05-05", "371502110001", "rural"),
            ],
        )
    yield store
    store.close()


def batch(sender: str, messages: list[tuple[str, dict[str, str]]], minute: int = 0) -> Parcel:
    built = [Message.new(sender=sender, message_type=t, payload=p) for t, p in messages]
    return pack(
        built,
        sender=sender,
        receiver=G,
        created_at=dt.datetime(2026, 4, 10, 7, minute),
        fmt=JsonLinesFormat(),
    )


def register_digest(storage: SqlStorage) -> str:
    h = hashlib.sha256()
    with storage.reader() as reader:
        for kind in RECORD_KINDS:
            table = REGISTER_TABLES[kind]
            for row in sorted(repr(tuple(r)) for r in reader.connection.execute(sa.select(table))):
                h.update(row.encode())
    return h.hexdigest()


def queued_replies(storage: SqlStorage, partner: str) -> list[str]:
    with storage.reader() as reader:
        return [m.message_type for m in ExchangeLedger(reader.connection).queued(partner)]


def request(
    citizen_id: str, name: str, birth_date: str, program: str = "special_assistance"
) -> tuple[str, dict[str, str]]:
    return (
        "verification_request",
        {
            "citizen_id": citizen_id,
            "name": name,
            "birth_date": birth_date,
            "program": program,
            "asked_on": "2026-04-10",
        },
    )


# -- point 1: verification requests ---------------------------------------------------------


def test_a_verification_request_is_answered_only_for_a_move_on_record(
    storage: SqlStorage, clock: Clock
) -> None:
    service = ExchangeService(storage, division=G)
    # the attack: any township, a resident's ID and birth date (read off the ID), any name
    attacks = [
        (ELSEWHERE, request(FATHER, "随便", "1960-03-15")),
        (ELSEWHERE, request(FATHER, "王建国", "1960-03-15")),  # all right, but no move there
        (HANJI, request(FATHER, "随便", "1960-03-15")),  # the right township, another name
        (HANJI, request(FATHER, "王建国", "1960-03-16")),  # another birth date
        (HANJI, request(RESIDENT, "袁星悦", "1975-05-05")),  # she never moved
        (HANJI, request(STRANGER, "无名", "1971-01-01")),  # nobody
    ]
    for minute, (sender, message) in enumerate(attacks):
        outcome = service.import_parcel(
            batch(sender, [message], minute),
            actor="c",
            recorded_at=clock(),
            today=TODAY,
            answer=False,
        )
        assert outcome.receipt is not None
        (verdict,) = outcome.receipt.messages
        # the same answer whatever the cause: nothing about the register
        assert (verdict.outcome, verdict.reasons) == ("rejected", (NOT_ANSWERED,))
        assert queued_replies(storage, sender) == []
    # the office sees why, locally
    details = [
        " ".join(str(p) for p in h.problems) for h in ExchangeReview(storage, division=G).entries()
    ]
    assert len(details) == len(attacks)
    assert "no move" in details[0]
    assert "name" in details[2]
    assert "no person" in details[5]
    # the legitimate request: the township he moved to, name, ID and birth date all right
    outcome = service.import_parcel(
        batch(HANJI, [request(FATHER, "王建国", "1960-03-15")], 30),
        actor="c",
        recorded_at=clock(),
        today=TODAY,
        answer=False,
    )
    assert outcome.receipt is not None
    assert outcome.receipt.messages[0].outcome == "accepted"
    assert sorted(queued_replies(storage, HANJI)) == ["verification_reply", "verified_child"]


# -- point 2: receipts ----------------------------------------------------------------------


def test_receipts_tell_an_unknown_person_from_a_mismatch_by_nothing(
    storage: SqlStorage, clock: Clock
) -> None:
    service = ExchangeService(storage, division=G)
    outcome = service.import_parcel(
        batch(
            PROVINCE,
            [
                ("death", {"citizen_id": RESIDENT, "name": "别人", "death_date": "2026-03-01"}),
                ("death", {"citizen_id": STRANGER, "name": "别人", "death_date": "2026-03-01"}),
                # a death before the birth the register holds
                ("death", {"citizen_id": RESIDENT, "name": "袁星悦", "death_date": "1970-01-01"}),
            ],
        ),
        actor="c",
        recorded_at=clock(),
        today=TODAY,
    )
    assert outcome.receipt is not None
    reasons = [m.reasons for m in outcome.receipt.messages]
    assert reasons == [(NOT_MATCHED,)] * 3
    text = outcome.receipt.to_json()
    assert "袁星悦" not in text
    assert "1975-05-05" not in text
    # the office keeps the full reasons
    details = " ".join(
        str(p) for h in ExchangeReview(storage, division=G).entries() for p in h.problems
    )
    assert "袁星悦" in details
    assert "no person with this ID number" in details


# -- point 3: inbound messages never overwrite residents ------------------------------------

BIRTH_OF_AN_ADULT = (
    "birth",
    {
        "person_ref": "B-1",
        "citizen_id": RESIDENT,
        "name": "袁小宝",
        "sex": "2",
        "birth_date": "1975-05-05",
        "hukou_division": "371502110001",
        "hukou_type": "urban",
        "father_citizen_id": YOUNG_FATHER,
    },
)
MOVE_OF_A_RESIDENT = (
    "hukou_move",
    {
        "person_ref": "X-9",
        "citizen_id": RESIDENT,
        "name": "袁假名",
        "sex": "2",
        "birth_date": "1975-05-05",
        "date": "2026-03-20",
        "from_division": "371502115201",
        "to_division": "371502110002",
        "hukou_type": "rural",
    },
)


def test_a_birth_with_an_adults_id_and_a_move_with_another_name_are_held(
    storage: SqlStorage, clock: Clock
) -> None:
    service = ExchangeService(storage, division=G)
    before = register_digest(storage)
    births = service.import_parcel(
        batch(PROVINCE, [BIRTH_OF_AN_ADULT]), actor="c", recorded_at=clock(), today=TODAY
    )
    moves = service.import_parcel(
        batch(HANJI, [MOVE_OF_A_RESIDENT]), actor="c", recorded_at=clock(), today=TODAY
    )
    for outcome in (births, moves):
        assert outcome.receipt is not None
        assert [(m.outcome, m.reasons) for m in outcome.receipt.messages] == [
            ("rejected", (NOT_MATCHED,))
        ]
    assert register_digest(storage) == before
    with storage.reader() as reader:
        resident = reader.person_as_of("R", TODAY)
        young = reader.person_as_of("Y", TODAY)
    assert (resident.name, resident.hukou_type, young.children) == ("袁星悦", "rural", ())
    review = ExchangeReview(storage, division=G)
    birth, move = review.entries()
    shown = review.show(birth.id)
    assert "name" in " ".join(str(p) for p in shown.problems)
    assert "born on 1979-06-01" in " ".join(str(p) for p in shown.problems)
    subject = {s.role: s for s in shown.sides}["subject"]
    assert subject.person_id == "R"
    assert ("name", "袁星悦", "袁小宝") in subject.fields
    assert ("hukou_type", "rural", "urban") in subject.fields
    moved = {s.role: s for s in review.show(move.id).sides}["subject"]
    assert ("name", "袁星悦", "袁假名") in moved.fields
    assert ("hukou_division", "371502110001", "371502115201") in moved.fields
    problems = " ".join(str(p) for p in move.problems)
    assert "name" in problems
    assert "from_division" in problems


def test_the_office_applies_or_discards_a_held_message_with_an_audited_reason(
    storage: SqlStorage, clock: Clock
) -> None:
    service = ExchangeService(storage, division=G)
    service.import_parcel(
        batch(PROVINCE, [BIRTH_OF_AN_ADULT]), actor="c", recorded_at=clock(), today=TODAY
    )
    service.import_parcel(
        batch(HANJI, [MOVE_OF_A_RESIDENT]), actor="c", recorded_at=clock(), today=TODAY
    )
    review = ExchangeReview(storage, division=G)
    birth, move = review.entries()
    with pytest.raises(ExchangeError, match="reason"):
        review.discard(birth.id, reason=" ", actor="officer", recorded_at=clock())
    review.discard(birth.id, reason="the province's error", actor="officer", recorded_at=clock())
    before = register_digest(storage)
    with pytest.raises(ExchangeError, match="discarded, not open"):
        review.discard(birth.id, reason="again", actor="officer", recorded_at=clock())
    assert register_digest(storage) == before
    done = review.apply(
        move.id,
        reason="she married and changed her name; the move is confirmed by phone",
        actor="officer",
        recorded_at=clock(),
        today=TODAY,
    )
    assert done.subject == "R"
    with storage.reader() as reader:
        resident = reader.person_as_of("R", TODAY)
        assert (resident.name, resident.hukou_division) == ("袁假名", "371502110002")
        assert reader.person_as_of("R", dt.date(2026, 3, 1)).hukou_division == "371502110001"
        entries = {q.id: q.status for q in reader.list_quarantine(status=None)}
        audit = reader.list_audit()
        applied = ExchangeLedger(reader.connection).received_about("R", "hukou_move")
    assert entries == {birth.id: "discarded", move.id: "resolved"}
    assert applied == [(HANJI, move.message_id)]
    decisions = [e.summary["review"] for e in audit if "review" in e.summary]
    assert [(d["decision"], d["quarantine_id"], d["reason"]) for d in decisions] == [
        ("discard", birth.id, "the province's error"),
        ("apply", move.id, "she married and changed her name; the move is confirmed by phone"),
    ]
    assert {e.actor for e in audit if "review" in e.summary} == {"officer"}
    assert storage.verify_audit() > 0
    with pytest.raises(ExchangeError, match="not an open message"):
        review.apply(move.id, reason="twice", actor="officer", recorded_at=clock(), today=TODAY)
    # the same message resent: a duplicate, nothing applied again
    again = service.import_parcel(
        batch(HANJI, [MOVE_OF_A_RESIDENT], 9), actor="c", recorded_at=clock(), today=TODAY
    )
    assert (again.applied, again.duplicates) == (0, 1)


def test_every_message_type_follows_the_matching_rule(storage: SqlStorage, clock: Clock) -> None:
    service = ExchangeService(storage, division=G)
    before = register_digest(storage)
    held = [
        ("death", {"citizen_id": RESIDENT, "name": "别人", "death_date": "2026-03-01"}),
        (
            "marriage",
            {
                "a_citizen_id": RESIDENT,
                "a_name": "袁星悦",
                "b_citizen_id": YOUNG_FATHER,
                "b_name": "别人",
                "start": "2020-01-01",
            },
        ),
        (
            "divorce",
            {
                "a_citizen_id": RESIDENT,
                "a_name": "别人",
                "b_citizen_id": YOUNG_FATHER,
                "b_name": "周强",
                "end": "2021-01-01",
            },
        ),
        # a move out of the township, from a village she never lived in
        (
            "hukou_move",
            {
                "person_ref": "X-2",
                "citizen_id": RESIDENT,
                "name": "袁星悦",
                "sex": "2",
                "birth_date": "1975-05-05",
                "date": "2026-03-20",
                "from_division": "371502110009",
                "to_division": "371502115201",
                "hukou_type": "rural",
            },
        ),
        # a move in of a resident with another birth date
        (
            "hukou_move",
            {**MOVE_OF_A_RESIDENT[1], "name": "袁星悦", "birth_date": "1975-05-06"},
        ),
        # a birth of a child born before its mother
        (
            "birth",
            {
                "person_ref": "B-2",
                "name": "周小宝",
                "sex": "1",
                "birth_date": "1978-01-01",
                "hukou_division": "371502110001",
                "hukou_type": "rural",
                "mother_citizen_id": YOUNG_FATHER,
            },
        ),
    ]
    outcome = service.import_parcel(
        batch(PROVINCE, held), actor="c", recorded_at=clock(), today=TODAY
    )
    assert outcome.receipt is not None
    assert [(m.outcome, m.reasons) for m in outcome.receipt.messages] == [
        ("rejected", (NOT_MATCHED,))
    ] * len(held)
    assert register_digest(storage) == before
    assert set(PARTNER_REASONS) >= {NOT_MATCHED, NOT_ANSWERED}


def test_a_verified_child_must_answer_our_request_about_that_parent(
    storage: SqlStorage, clock: Clock
) -> None:
    service = ExchangeService(storage, division=G)
    asked = service.request_verification(
        "F", program="rural_reward", to=HANJI, actor="c", recorded_at=clock()
    ).message
    before = register_digest(storage)
    child = {
        "request_id": asked.id,
        "person_ref": "K1",
        "name": "某孩",
        "sex": "1",
        "birth_date": "2000-01-01",
        "hukou_division": "371502115201",
        "hukou_type": "rural",
        "link": "birth",
    }
    outcome = service.import_parcel(
        batch(
            HANJI,
            [
                # made the child of a resident the request was not about
                ("verified_child", {**child, "parent_citizen_id": RESIDENT}),
                # the resident daughter, under another name
                (
                    "verified_child",
                    {
                        **child,
                        "parent_citizen_id": FATHER,
                        "citizen_id": DAUGHTER,
                        "birth_date": "1988-05-05",
                    },
                ),
            ],
        ),
        actor="c",
        recorded_at=clock(),
        today=TODAY,
    )
    assert outcome.receipt is not None
    assert [m.outcome for m in outcome.receipt.messages] == ["rejected", "rejected"]
    assert outcome.receipt.messages[1].reasons == (NOT_MATCHED,)
    assert register_digest(storage) == before


# -- point 2, as a property: no receipt holds a value of the register not sent -----------------

_NAME = st.text(
    alphabet="王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗袁星悦芳强建国秀英", min_size=2, max_size=3
)
_DATE = st.dates(dt.date(1930, 1, 1), dt.date(2020, 12, 31)).map(dt.date.isoformat)
_VILLAGE = st.sampled_from(["371502110001", "371502110002", "371502115201", "371502999001"])


@st.composite
def registers_and_messages(
    draw: st.DrawFn,
) -> tuple[list[tuple[str, ...]], list[tuple[str, str, dict[str, str]]]]:
    n = draw(st.integers(1, 4))
    persons: list[tuple[str, ...]] = []
    for i in range(n):
        born = draw(_DATE)
        persons.append(
            person_row(
                f"P{i}",
                citizen_id=cid(born, 100 + i),
                name=draw(_NAME),
                sex=draw(st.sampled_from(["1", "2"])),
                birth_date=born,
                death_date=draw(st.sampled_from(["", "2021-06-30"])),
                hukou_division=draw(_VILLAGE),
            )
        )
    ids = [p[1] for p in persons] + [STRANGER]
    some_id = st.sampled_from(ids)
    messages: list[tuple[str, str, dict[str, str]]] = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["death", "birth", "hukou_move", "marriage", "request"]))
        if kind == "death":
            payload = {"citizen_id": draw(some_id), "name": draw(_NAME), "death_date": draw(_DATE)}
            messages.append((PROVINCE, "death", payload))
        elif kind == "birth":
            payload = {
                "person_ref": draw(st.sampled_from(["B1", "B2"])),
                "citizen_id": draw(some_id),
                "name": draw(_NAME),
                "sex": draw(st.sampled_from(["1", "2"])),
                "birth_date": draw(_DATE),
                "hukou_division": "371502110001",
                "hukou_type": "rural",
                "mother_citizen_id": draw(some_id),
            }
            messages.append((PROVINCE, "birth", payload))
        elif kind == "hukou_move":
            payload = {
                "person_ref": "X1",
                "citizen_id": draw(some_id),
                "name": draw(_NAME),
                "sex": draw(st.sampled_from(["1", "2"])),
                "birth_date": draw(_DATE),
                "date": "2026-03-01",
                "from_division": draw(_VILLAGE),
                "to_division": draw(_VILLAGE),
                "hukou_type": "rural",
            }
            messages.append((draw(st.sampled_from([PROVINCE, HANJI])), "hukou_move", payload))
        elif kind == "marriage":
            payload = {
                "a_citizen_id": draw(some_id),
                "a_name": draw(_NAME),
                "b_citizen_id": draw(some_id),
                "b_name": draw(_NAME),
                "start": draw(_DATE),
            }
            messages.append((PROVINCE, "marriage", payload))
        else:
            who = draw(some_id)
            _t, payload = request(
                who,
                draw(_NAME),
                draw(
                    st.sampled_from(
                        [_DATE, st.just(who[6:10] + "-" + who[10:12] + "-" + who[12:14])]
                    ).flatmap(lambda s: s)
                ),
            )
            messages.append(
                (draw(st.sampled_from([HANJI, ELSEWHERE])), "verification_request", payload)
            )
    return persons, messages


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=registers_and_messages())
def test_no_receipt_holds_a_register_value_the_sender_did_not_send(
    tmp_path: Path, case: tuple[list[tuple[str, ...]], list[tuple[str, str, dict[str, str]]]]
) -> None:
    persons, messages = case
    clock = Clock()
    with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
        storage = SqlStorage(f"sqlite:///{Path(folder) / 'x.db'}", migrate=True)
        try:
            with storage.unit_of_work(actor="clerk", recorded_at=clock()) as uow:
                uow.upsert_rows("persons", PERSON_COLUMNS, persons)
            service = ExchangeService(storage, division=G)
            receipts: list[str] = []
            sent: list[str] = []
            for minute, (sender, kind, payload) in enumerate(messages):
                outcome = service.import_parcel(
                    batch(sender, [(kind, payload)], minute),
                    actor="c",
                    recorded_at=clock(),
                    today=TODAY,
                    answer=False,
                )
                assert outcome.receipt is not None
                receipts.extend(r for m in outcome.receipt.messages for r in m.reasons)
                sent.extend(payload.values())
        finally:
            storage.close()
    said = "\n".join(sent)
    told = "\n".join(receipts)
    columns = ("person_id", "citizen_id", "name", "birth_date", "death_date", "hukou_division")
    for row in persons:
        stored = dict(zip(PERSON_COLUMNS, row, strict=True))
        for column in columns:
            value = stored[column]
            if value and value not in said:
                assert value not in told, (column, value, told)


def test_a_payload_cannot_pass_for_another_message_type_in_review(
    storage: SqlStorage, clock: Clock
) -> None:
    service = ExchangeService(storage, division=G)
    disguised = {"message_type": "death", "citizen_id": RESIDENT, "name": "袁星悦"}
    service.import_parcel(
        batch(PROVINCE, [("pregnancy", {**disguised, "death_date": "2026-03-01"})]),
        actor="c",
        recorded_at=clock(),
        today=TODAY,
    )
    review = ExchangeReview(storage, division=G)
    (held,) = review.entries()
    assert held.message_type == "pregnancy"
    with pytest.raises(ExchangeError, match="unknown message type"):
        review.apply(held.id, reason="looks fine", actor="o", recorded_at=clock(), today=TODAY)
    with storage.reader() as reader:
        assert reader.person_as_of("R", TODAY).death_date is None
