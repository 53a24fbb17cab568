"""No combination of a month's public outputs tells a hidden category or a child (issue 13).

The public outputs of a month are everything a careful newspaper reader can put side by
side: the notices of the month (new beneficiaries and hardship grants) at every level
(township, each village, a group of each village), as stored and as written by the notice
renderers (CSV, the HTML board, the township website), and the public report (every public
table, township and each village as scope, for the month and for its year) as written by
every report renderer.

Beside the real world the test builds two others that differ from it only in what must
stay hidden, and asks each for the same public outputs, made the same way:

* one special assistance beneficiary's category (死亡, the child died; 伤残, disabled) is
  the other one, in every month run, with the amount of that category's standard;
* the children under 14 carry each other's names and ID numbers.

When every output of the other world is the real one's, byte for byte, no reader, whatever
they combine, can tell which world is the real one: the outputs say nothing about that
beneficiary's category, nor about which child is which. On top of that, no name, ID
number, person id or birth date of a child under 14 appears in any output.

Before the fix, the public beneficiaries table kept a row per category and village: a
village with only a 死亡 row told, beside that village's notice, that every family it
listed had lost its only child (and the amounts, paid at each category's standard, told the
split even where no such row was shown).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import io
import itertools
import re
import shutil
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from famplan_core.config import CONFIG_FILE, load_config, render_config
from famplan_core.demo import DEMO_DIVISION, build_demo
from famplan_core.model.dates import record_day
from famplan_core.notices.model import SUBJECTS
from famplan_core.plugin_manager import PluginManager
from famplan_core.privacy import find_citizen_ids, find_values
from famplan_core.reporting import SUPPRESSED
from famplan_core.storage import benefit_tables as bt
from famplan_core.storage.sql import SqlStorage
from famplan_core.storage.tables import REGISTER_TABLES
from famplan_core.synthetic import SyntheticSpec, generate, write_register
from famplan_core.township import Township

PROGRAM = "special_assistance"
CATEGORIES = ("death", "disability")
NOTICE_FORMATS = ("csv", "html", "site")  # the PDF is the HTML board printed by a browser
GROUP = "第一村民小组"
_DIGEST = re.compile(r"\b[0-9a-f]{64}\b")


class Clock:
    """The same record times in both worlds: the audit's ids and times are printed."""

    def __init__(self, start: dt.datetime) -> None:
        self._start = start
        self._ticks = itertools.count()

    def __call__(self) -> dt.datetime:
        return self._start + dt.timedelta(minutes=next(self._ticks))

    def peek(self) -> dt.datetime:
        """The next record time, without taking it."""
        upcoming = next(self._ticks)
        self._ticks = itertools.count(upcoming)
        return self._start + dt.timedelta(minutes=upcoming)


def _months(as_of: dt.date) -> tuple[str, str]:
    before = (as_of.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    return f"{before:%Y-%m}", f"{as_of:%Y-%m}"


@contextlib.contextmanager
def _connection(township: Township) -> Iterator[sa.Connection]:
    """A transaction on the deployment's database, outside the library (the test's hand)."""
    storage = township.storage
    assert isinstance(storage, SqlStorage)
    with storage.engine.begin() as connection:
        yield connection


def beneficiaries(township: Township, month: str) -> list[tuple[str, str, str]]:
    """(person, category, village) of the special assistance beneficiaries of a month."""
    e, p = bt.entitlements.c, REGISTER_TABLES["persons"].c
    query = (
        sa.select(e.person_id, e.category, p.hukou_division)
        .join_from(bt.entitlements, REGISTER_TABLES["persons"], p.person_id == e.person_id)
        .where(
            e.program == PROGRAM,
            e.month == dt.date.fromisoformat(f"{month}-01"),
            e.superseded_at.is_(None),
            p.superseded_at.is_(None),
        )
        .order_by(e.person_id)
    )
    with _connection(township) as connection:
        return [(str(a), str(b), str(c)) for a, b, c in connection.execute(query)]


def flip_category(township: Township, person: str) -> None:
    """The other world: `person`'s category is the other one, paid at its standard."""
    e = bt.entitlements.c
    with _connection(township) as connection:
        rows = connection.execute(
            sa.select(e.entitlement_id, e.category, e.amount_fen).where(
                e.program == PROGRAM, e.person_id == person
            )
        ).all()
        assert rows, f"{person} has no {PROGRAM} entitlement to flip"
        for entitlement_id, category, fen in rows:
            other = CATEGORIES[1 - CATEGORIES.index(str(category))]
            standard = connection.execute(
                sa.select(sa.func.max(e.amount_fen)).where(
                    e.program == PROGRAM, e.category == other
                )
            ).scalar()
            amount = int(standard) if standard and standard != fen else int(fen) + 7000
            connection.execute(
                sa.update(bt.entitlements)
                .where(e.entitlement_id == entitlement_id)
                .values(category=other, amount_fen=amount)
            )


def children(township: Township, on: dt.date) -> list[dict[str, str]]:
    """Name, ID number, person id and birth date of every child under 14 on `on`."""
    p = REGISTER_TABLES["persons"].c
    limit = on.replace(year=on.year - 14)
    query = (
        sa.select(p.person_id, p.citizen_id, p.name, p.birth_date)
        .where(p.superseded_at.is_(None), p.birth_date > limit)
        .order_by(p.person_id)
    )
    with _connection(township) as connection:
        return [
            {
                "person_id": str(r.person_id),
                "citizen_id": str(r.citizen_id or ""),
                "name": str(r.name or ""),
                "birth_date": r.birth_date.isoformat(),
            }
            for r in connection.execute(query)
        ]


def rotate_children(township: Township, on: dt.date) -> None:
    """The other world: each child under 14 carries the next child's name and ID number."""
    kids = children(township, on)
    p = REGISTER_TABLES["persons"].c
    with _connection(township) as connection:
        for kid, other in zip(kids, kids[1:] + kids[:1], strict=True):
            connection.execute(
                sa.update(REGISTER_TABLES["persons"])
                .where(p.person_id == kid["person_id"])
                .values(name=other["name"], citizen_id=other["citizen_id"] or None)
            )


def grant_to_a_family(township: Township, month: str, at: dt.datetime) -> None:
    """A hardship grant of the month to the household of a special assistance beneficiary."""
    p = REGISTER_TABLES["persons"].c
    person = beneficiaries(township, month)[0][0]
    with _connection(township) as connection:
        household = connection.execute(
            sa.select(p.household_id).where(p.person_id == person, p.superseded_at.is_(None))
        ).scalar_one()
    township.benefits.grant(
        str(household),
        amount="800.00",
        approved_on=dt.date.fromisoformat(f"{month}-05"),
        reason="因病致困",
        actor="t",
        recorded_at=at,
    )


def _zip_text(data: bytes) -> str:
    """The parts of a workbook, leaving out the file properties (they hold the write time)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "\n".join(
            f"[{n}]\n" + archive.read(n).decode("utf-8", "replace")
            for n in sorted(archive.namelist())
            if not n.startswith("docProps/")
        )


def public_outputs(township: Township, month: str, out: Path, clock: Clock) -> dict[str, str]:
    """Every public output of a month, by name: notices at every level, the public reports.

    Drafts, posts and renders the month's notices, rolls the month, then runs the public
    report (township and every village, the month and its year) and writes it: the
    township's of the month with every renderer (and in English as JSON), the others as
    JSON.
    """
    before = _months(dt.date.fromisoformat(f"{month}-01"))[0]
    township.benefits.roll(before, actor="t", recorded_at=clock())
    service = township.notices
    posted = record_day(clock.peek())  # a notice is posted on the day it goes up
    notices = []
    for subject in SUBJECTS:
        notices += [
            *service.draft(
                month, level="township", subject=subject, actor="t", recorded_at=clock()
            ),
            *service.draft(month, level="village", subject=subject, actor="t", recorded_at=clock()),
        ]
    villages = sorted({n.scope for n in notices if n.level == "village"})
    for subject, village in itertools.product(SUBJECTS, villages):
        notices += service.draft(
            month,
            level="group",
            scope=village,
            place=GROUP,
            subject=subject,
            actor="t",
            recorded_at=clock(),
        )
    assert {n.subject for n in notices} == set(SUBJECTS), "a subject has no notice"
    outputs: dict[str, str] = {}
    formats = [f for f in NOTICE_FORMATS if f in service.formats()]
    for notice in notices:
        service.post(notice.notice_id, on=posted, actor="t", recorded_at=clock())
        outputs[f"notice {notice.notice_id} content"] = service.content(notice.notice_id).to_json()
        for fmt in formats:
            folder = out / "notices" / fmt
            for path in service.render(
                notice.notice_id, fmt, folder, on=posted, actor="t", recorded_at=clock()
            ):
                outputs[f"notice {fmt} {path.name}"] = path.read_text("utf-8-sig")
    township.benefits.roll(month, actor="t", recorded_at=clock())
    renderers = sorted(township.plugins.report_renderers())
    scopes = [township.division, *sorted({*villages, *_villages(township)})]
    for period, scope in itertools.product((month, month[:4]), scopes):
        report = township.report("all", period=period, scope=scope, public=True)
        # A renderer writes what the report holds, nothing else: the JSON (every table,
        # note and figure) stands for them all, and every renderer writes the township's
        # report of the month.
        everything = scope == township.division and period == month
        for fmt in renderers if everything else ["json"]:
            data = township.render_report(report, fmt)
            text = _zip_text(data) if data[:2] == b"PK" else data.decode("utf-8-sig")
            outputs[f"report {period} {scope} {fmt}"] = text
    english = township.report("all", period=month, public=True, lang="en")
    outputs[f"report {month} en json"] = township.render_report(english, "json", lang="en").decode()
    return outputs


def _villages(township: Township) -> set[str]:
    p = REGISTER_TABLES["persons"].c
    query = sa.select(p.hukou_division).where(p.superseded_at.is_(None)).distinct()
    with _connection(township) as connection:
        found = {str(r[0]) for r in connection.execute(query) if r[0]}
        return {v for v in found if len(v) == 12 and v.startswith(township.division)}


def assert_same(real: dict[str, str], other: dict[str, str], what: str) -> None:
    """The two worlds' outputs are identical; otherwise show the first difference."""
    assert sorted(real) == sorted(other), f"{what}: the outputs differ in which exist"
    for name in sorted(real):
        if real[name] != other[name]:
            diff = difflib.unified_diff(
                real[name].splitlines(), other[name].splitlines(), lineterm="", n=0
            )
            shown = "\n".join(itertools.islice(diff, 2, 14))
            raise AssertionError(f"{what}: {name} tells the worlds apart:\n{shown}")


def assert_no_child(outputs: dict[str, str], kids: list[dict[str, str]], words: list[str]) -> None:
    """No name, ID number, person id or birth date of a child under 14 is in any output.

    Words printed on purpose (village, township and program names) are taken out first: a
    two-character child's name may be part of one. So are the days a report or a notice
    prints as its own dates (its period, window and register state).
    """
    secrets: set[str] = set()
    for kid in kids:
        born = dt.date.fromisoformat(kid["birth_date"])
        secrets.update(
            v
            for v in (
                kid["name"],
                kid["citizen_id"],
                kid["person_id"],
                f"{born.year}年{born.month}月{born.day}日",
            )
            if len(v) >= 2
        )
        secrets.add(kid["birth_date"])
    for name, shown in outputs.items():
        text = _DIGEST.sub("#", shown)  # a SHA-256 in hex may hold 18 digits in a row
        assert not find_citizen_ids(text), f"{name} shows an ID number"
        for word in words:
            text = text.replace(word, "|")
        found = find_values(text, sorted(secrets))
        assert not found, f"{name} shows a child's name, ID, id or birth date: {found}"


def _public_words(township: Township) -> list[str]:
    words = {township.config.township.name, *township.notices.villages.values()}
    words.update(p.name_zh for p in township.plugins.programs().values())
    return sorted(words)


def _own_dates(month: str) -> list[str]:
    first = dt.date.fromisoformat(f"{month}-01")
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    year_first, year_last = first.replace(month=1), first.replace(month=12, day=31)
    days = [first, last, year_first, year_last, first + dt.timedelta(days=1)]
    days.append(first + dt.timedelta(days=1 + 6))  # the window's last day (7 days)
    return [d.isoformat() for d in days] + [f"{d.year}年{d.month}月{d.day}日" for d in days]


def check_worlds(
    make: Callable[[Path], Township],
    tmp: Path,
    month: str,
    pick: Callable[[list[tuple[str, str, str]]], str],
    start: dt.datetime,
) -> dict[str, str]:
    """Build the real world and the two others; assert every output is the same in each."""
    built = make(tmp / "built")
    candidates = beneficiaries(built, month)
    assert candidates, "no special assistance beneficiary: the test would prove nothing"
    person = pick(candidates)
    storage = built.storage
    assert isinstance(storage, SqlStorage)
    storage.close()
    posted = dt.date.fromisoformat(f"{month}-02")
    worlds: dict[str, dict[str, str]] = {}
    for world in ("real", "flipped", "rotated"):
        shutil.copytree(tmp / "built", tmp / world)
        township = Township(load_config(tmp / world / CONFIG_FILE))
        if world == "flipped":
            flip_category(township, person)
        elif world == "rotated":
            rotate_children(township, posted)
        worlds[world] = public_outputs(township, month, tmp / world / "out", Clock(start))
        if world == "real":
            words = [*_public_words(township), *_own_dates(month)]
            assert_no_child(
                worlds[world], children(township, posted), sorted(words, key=len, reverse=True)
            )
        closing = township.storage
        assert isinstance(closing, SqlStorage)
        closing.close()
    assert_same(worlds["real"], worlds["flipped"], f"{person}'s category flipped")
    assert_same(worlds["real"], worlds["rotated"], "children under 14 swapped")
    return worlds["real"]


# -- the demo township --------------------------------------------------------------------------

DEMO_START = dt.datetime(2026, 11, 20, 8)


def _demo(folder: Path) -> Township:
    clock = Clock(DEMO_START - dt.timedelta(hours=1))

    def run_only(township: Township, month: str) -> dict[str, object]:
        township.benefits.run(month, actor="t", recorded_at=clock())
        return {"figures": ()}

    build_demo(folder, actor="t", recorded_at=clock(), persons=3000, run_month=run_only)
    township = Township(load_config(folder / CONFIG_FILE))
    grant_to_a_family(township, "2026-11", clock())
    return township


def _alone_in_its_village(candidates: list[tuple[str, str, str]]) -> str:
    """A beneficiary of a village whose beneficiaries all have the same category."""
    by_village: dict[str, set[str]] = {}
    for _person, category, village in candidates:
        by_village.setdefault(village, set()).add(category)
    return next(p for p, _c, v in candidates if len(by_village[v]) == 1)


@pytest.mark.slow
def test_the_demos_public_outputs_tell_no_category_and_no_child(tmp_path: Path) -> None:
    outputs = check_worlds(_demo, tmp_path, "2026-11", _alone_in_its_village, DEMO_START)
    assert any(name.startswith("notice html") for name in outputs)
    assert any(" xlsx" in name or " html" in name for name in outputs if "report" in name)


def test_the_public_table_has_no_category_row_and_no_special_assistance_amount(
    tmp_path: Path,
) -> None:
    township = _demo(tmp_path / "demo")
    inside = township.report("program_beneficiaries", period="2026-11").tables[0]
    categories = {row[1] for row in inside.rows if row[0] == "计划生育家庭特别扶助"}
    assert {"死亡", "伤残"} <= categories  # the office's report keeps the breakdown
    public = township.report("program_beneficiaries", period="2026-11", public=True).tables[0]
    assert {row[1] for row in public.rows} == {"合计"}
    due = [c.key for c in public.columns].index("amount_due")
    for row in public.rows:
        if row[0] == "计划生育家庭特别扶助":
            assert row[due] is SUPPRESSED
            assert row[due + 1] is SUPPRESSED
    township_row = next(r for r in public.rows if r[2] == DEMO_DIVISION and r[0] == "育儿补贴")
    assert township_row[due] is not SUPPRESSED  # other programs keep their amounts
    assert any("不按类别" in note for note in public.notes)


# -- random registers and months ----------------------------------------------------------------


def _deployment(folder: Path, spec: SyntheticSpec, start: dt.datetime) -> Township:
    folder.mkdir(parents=True)
    installed = {i.name: i.enabled for i in PluginManager.assemble().plugins() if not i.default}
    (folder / CONFIG_FILE).write_text(
        render_config(division=spec.division, name="顾官屯镇", plugins=installed), "utf-8"
    )
    township = Township(load_config(folder / CONFIG_FILE))
    township.upgrade_database()
    register = generate(spec)
    write_register(register, folder / "register")
    clock = Clock(start - dt.timedelta(hours=1))
    township.import_register(folder / "register", actor="t", today=spec.as_of, recorded_at=clock())
    for month in _months(spec.as_of):
        township.benefits.run(month, actor="t", recorded_at=clock())
    grant_to_a_family(township, _months(spec.as_of)[1], clock())
    return township


@pytest.mark.slow
@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(min_value=0, max_value=100_000),
    persons=st.sampled_from([1200, 2000]),
    villages=st.integers(min_value=2, max_value=5),
    as_of=st.sampled_from([dt.date(2025, 6, 1), dt.date(2026, 1, 1), dt.date(2026, 11, 1)]),
    chosen=st.integers(min_value=0, max_value=10_000),
)
def test_no_combination_of_public_outputs_tells_a_category_or_a_child(
    tmp_path_factory: pytest.TempPathFactory,
    seed: int,
    persons: int,
    villages: int,
    as_of: dt.date,
    chosen: int,
) -> None:
    tmp = tmp_path_factory.mktemp("worlds")
    spec = SyntheticSpec(seed=seed, persons=persons, villages=villages, as_of=as_of)
    start = dt.datetime.combine(as_of + dt.timedelta(days=19), dt.time(8))
    month = _months(as_of)[1]

    def pick(candidates: list[tuple[str, str, str]]) -> str:
        return candidates[chosen % len(candidates)][0]

    check_worlds(lambda f: _deployment(f, spec, start), tmp, month, pick, start)


def test_the_check_has_teeth_the_office_report_tells_the_worlds_apart(tmp_path: Path) -> None:
    """The check has teeth: the internal report of the flipped world is not the same."""
    township = _demo(tmp_path / "real")
    person = _alone_in_its_village(beneficiaries(township, "2026-11"))
    inside = township.report("program_beneficiaries", period="2026-11").tables[0].rows
    flip_category(township, person)
    assert township.report("program_beneficiaries", period="2026-11").tables[0].rows != inside
