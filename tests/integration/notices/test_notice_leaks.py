"""No public notice output leaks an ID number or a sensitive value (issue 7; spec R6).

For random synthetic registers, every notice output of every registered notice renderer
(the renderers are listed from the hooks: the core's CSV and the plugin's HTML board, site
and PDF) is rendered, posted and taken down, then scanned:

* no 18-character run of digits (with a possible final X) at all: neither an unmasked ID
  number nor any run with a valid check character (`find_citizen_ids`);
* no value of a field classed `sensitive` in the register (death dates, disability
  records, parent-child links and their dates), and nothing personal about a child under 14
  on the posting date (their names, ID numbers, person ids);
* every registered renderer was used: a renderer registered but not exercised fails.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pypdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from famplan_core.benefits import BenefitService
from famplan_core.exchange.importer import import_register
from famplan_core.model.register_kinds import RECORD_CLASSES
from famplan_core.model.sensitivity import Sensitivity, sensitivity_of
from famplan_core.notices import NoticeService, hooks
from famplan_core.notices.masking import masking_policy
from famplan_core.plugin_manager import DEFAULT_PLUGINS, PluginManager
from famplan_core.privacy import find_citizen_ids, find_values
from famplan_core.programs import national_parameter_set, national_programs
from famplan_core.storage import SqlStorage
from famplan_core.synthetic import SyntheticRegister, SyntheticSpec, generate, write_register
from famplan_core.testing import Clock

DIVISION = "371502110"
MONTH = "2026-11"
POSTED = dt.date(2026, 11, 2)
EXPECTED_RENDERERS = {"csv", "html", "site", "pdf"}


def renderers() -> dict[str, type[Any]]:
    extra = {} if "core-notices" in DEFAULT_PLUGINS else {"core-notices": hooks}
    return PluginManager.assemble(extra=extra).notice_renderers()


def text_of(path: Path) -> str:
    if path.suffix == ".pdf":
        reader = pypdf.PdfReader(str(path))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    return path.read_bytes().decode("utf-8-sig")


def _cells(values: np.ndarray[Any, Any]) -> list[str]:
    if np.issubdtype(values.dtype, np.datetime64):
        text = np.datetime_as_string(values, unit="D")
        return [str(v) for v in text if v != "NaT"]
    return [str(v) for v in values if str(v)]


def sensitive_values(register: SyntheticRegister, on: dt.date) -> list[str]:
    """Every value of a field classed sensitive, and everything about children under 14."""
    found: set[str] = set()
    tables = register.tables
    for cls in RECORD_CLASSES:
        table = tables[cls.KIND]
        for field in attrs.fields(cls):
            if sensitivity_of(cls, field.name) is Sensitivity.SENSITIVE:
                found.update(_cells(table[field.name]))
    persons = tables["persons"]
    born = persons["birth_date"]
    limit = np.datetime64(on.replace(year=on.year - 14))
    children = born > limit
    for column in ("person_id", "citizen_id", "name"):
        found.update(_cells(persons[column][children]))
    # "step", "birth": link kinds are sensitive but are also plain words; no output prints
    # English words of the register, so they stay in the list.
    return sorted(found)


def public_words(register: SyntheticRegister, service: NoticeService) -> list[str]:
    """Names a notice prints on purpose, which a two-character child's name may be part of."""
    words = [*register.village_names.values(), service.township]
    words.extend(p.name_zh for p in service.programs.values())
    return sorted(words, key=len, reverse=True)


@pytest.fixture(scope="module")
def registered() -> dict[str, type[Any]]:
    found = renderers()
    missing = EXPECTED_RENDERERS - set(found)
    assert not missing, f"notice renderers not registered through the hooks: {sorted(missing)}"
    return found


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(min_value=0, max_value=10_000),
    persons=st.sampled_from([400, 800]),
    level=st.sampled_from(["township", "village"]),
    masking=st.sampled_from(
        [{}, {"name": "surname", "citizen_id": "strict"}, {"citizen_id": "keep-6-4"}]
    ),
)
def test_no_notice_output_leaks(
    tmp_path_factory: pytest.TempPathFactory,
    registered: dict[str, type[Any]],
    seed: int,
    persons: int,
    level: str,
    masking: dict[str, str],
) -> None:
    tmp = tmp_path_factory.mktemp("leaks")
    register = generate(SyntheticSpec(persons=persons, seed=seed))
    write_register(register, tmp / "register")
    clock = Clock(dt.datetime(2026, 11, 2, 1))  # 09:00 on 2 November in China: posting day
    storage = SqlStorage(f"sqlite:///{tmp / 'famplan.db'}", migrate=True)
    try:
        import_register(
            storage, tmp / "register", today=dt.date(2026, 11, 20), actor="t", recorded_at=clock()
        )
        programs = {p.code: p for p in national_programs()}
        benefits = BenefitService(
            storage, programs=programs, parameters=national_parameter_set(), division=DIVISION
        )
        benefits.run(MONTH, actor="t", recorded_at=clock())
        heads = register.households["head_person_id"]
        household = str(register.households["household_id"][np.flatnonzero(heads != "")[0]])
        benefits.grant(
            household,
            amount="300.00",
            approved_on=dt.date(2026, 11, 5),
            reason="因病致困",
            actor="t",
            recorded_at=clock(),
        )
        service = NoticeService(
            storage,
            division=DIVISION,
            township="顾官屯镇",
            programs=programs,
            masking=masking_policy({"masking": masking}),
            villages=register.village_names,
            renderers=registered,
        )
        made = [
            *service.draft(MONTH, level=level, actor="t", recorded_at=clock()),  # type: ignore[arg-type]
            *service.draft(
                MONTH,
                level=level,  # type: ignore[arg-type]
                subject="hardship_grants",
                actor="t",
                recorded_at=clock(),
            ),
        ]
        assert made, "a register of this size has new beneficiaries and the grant"
        outputs: list[tuple[str, Path]] = []

        def render(notice_id: int, fmt: str, folder: Path, paper: str = "A4") -> None:
            files = service.render(
                notice_id, fmt, folder, paper=paper, on=POSTED, actor="t", recorded_at=clock()
            )
            assert files, f"renderer {fmt!r} wrote nothing"
            outputs.extend((fmt, path) for path in files)

        for notice in made:
            for fmt in registered:
                render(notice.notice_id, fmt, tmp / "draft")
            service.post(notice.notice_id, on=POSTED, actor="t", recorded_at=clock())
            for fmt in registered:
                for paper in ("A4", "A3"):
                    render(notice.notice_id, fmt, tmp / fmt / paper, paper)
        clock.advance_to(dt.datetime(2026, 11, 9, 1))  # the day after every window
        for notice in made:
            service.close(notice.notice_id, on=dt.date(2026, 11, 9), actor="t", recorded_at=clock())
            for fmt in registered:
                render(notice.notice_id, fmt, tmp / "closed")
        secrets = sensitive_values(register, POSTED)
        words = public_words(register, service)
        scanned: set[str] = set()
        for fmt, path in outputs:
            text = text_of(path)
            leaks = find_citizen_ids(text)
            assert leaks == [], f"{fmt} {path.name}: {leaks}"
            for word in words:
                text = text.replace(word, "|")
            found = find_values(text, secrets)
            assert found == [], f"{fmt} {path.name} shows sensitive values: {found}"
            scanned.add(fmt)
        skipped = sorted(set(registered) - scanned)
        assert not skipped, f"notice renderers registered but not checked for leaks: {skipped}"
        posted = [service.get(n.notice_id).content for n in made]
        assert any(c.rows for c in posted), "nothing was listed: the test would prove nothing"
    finally:
        storage.close()


def test_the_scan_finds_what_a_broken_renderer_would_leak(
    tmp_path: Path, registered: dict[str, type[Any]]
) -> None:
    """The scan has teeth: an unmasked ID and a death date put in a row are found in every
    format, PDF text included."""
    from famplan_core.model.money import Money
    from famplan_core.notices import NoticeRow, PublishedNotice

    leaked = PublishedNotice(
        notice_id=1,
        title="泄露测试",
        township="顾官屯镇",
        level="township",
        scope_name="顾官屯镇",
        subject="new_beneficiaries",
        month=dt.date(2026, 11, 1),
        state="posted",
        window_start=POSTED,
        window_end=dt.date(2026, 11, 8),
        intro="x",
        masking_note="y",
        rows=(
            NoticeRow(
                number=1,
                name="张三明 2019-03-04",
                citizen_id="11010519491231002X",
                village="王庄村",
                program="rural_reward",
                program_name="农村部分计划生育家庭奖励扶助",
                amount=Money(8000),
            ),
        ),
    )
    for fmt, renderer in registered.items():
        for path in renderer().render(leaked, tmp_path / fmt):
            text = text_of(path)
            if path.suffix in (".css", ".json") or path.name == "index.html":
                continue
            assert [leak.kind for leak in find_citizen_ids(text)] == ["valid-id"], path.name
            assert find_values(text, ["2019-03-04"]) == ["2019-03-04"], path.name
