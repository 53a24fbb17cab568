"""Every hook has a section in the hooks reference, and every section names a real hook."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from famplan_core import hookspecs

HOOKS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "reference" / "hooks.md"
SECTION = re.compile(r"^## (famplan_\w+)\s*$", re.MULTILINE)


def hook_names() -> list[str]:
    return sorted(
        name
        for name in dir(hookspecs)
        if name.startswith("famplan_") and callable(getattr(hookspecs, name))
    )


def documented_hooks() -> list[str]:
    return SECTION.findall(HOOKS_PAGE.read_text(encoding="utf-8"))


def test_there_are_hooks_to_document() -> None:
    assert hook_names(), "famplan_core.hookspecs defines no famplan_* hooks"


@pytest.mark.parametrize("hook", hook_names())
def test_hook_is_documented(hook: str) -> None:
    assert hook in documented_hooks(), (
        f"{hook} has no '## {hook}' section in docs/reference/hooks.md"
    )


def test_every_section_names_a_real_hook() -> None:
    unknown = sorted(set(documented_hooks()) - set(hook_names()))
    assert not unknown, f"docs/reference/hooks.md documents hooks that do not exist: {unknown}"


def test_each_hook_is_documented_once() -> None:
    sections = documented_hooks()
    twice = sorted({name for name in sections if sections.count(name) > 1})
    assert not twice, f"docs/reference/hooks.md has more than one section for: {twice}"
