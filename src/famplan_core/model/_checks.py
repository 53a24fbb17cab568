"""Checks shared by the record classes: they collect `Problem`s, the caller raises once."""

from __future__ import annotations

import unicodedata

from famplan_core.errors import Problem

__all__ = ["MAX_TEXT", "check_text"]

MAX_TEXT = 200
"""The longest text a register field may hold, in characters."""


def check_text(problems: list[Problem], path: str, value: str | None) -> None:
    """Add a problem when `value` is empty, too long, or holds a control character.

    None (an optional field left empty) passes.
    """
    if value is None:
        return
    if not value.strip():
        problems.append(Problem(path=path, value=value, message="must not be empty"))
    elif len(value) > MAX_TEXT:
        problems.append(
            Problem(
                path=path,
                value=value[:40] + "…",
                message=f"expected at most {MAX_TEXT} characters, found {len(value)}",
            )
        )
    elif any(unicodedata.category(c) == "Cc" for c in value):
        problems.append(
            Problem(path=path, value=value, message="must not contain control characters")
        )
