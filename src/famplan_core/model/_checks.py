"""Checks shared by the record classes: they collect `Problem`s, the caller raises once."""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from famplan_core.errors import Problem

__all__ = ["BIDI_CONTROLS", "MAX_TEXT", "bidi_problem", "check_text"]

MAX_TEXT = 200
"""The longest text a register field may hold, in characters."""

BIDI_CONTROLS: Final = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
"""The bidirectional controls no text field may hold: the embeddings and overrides
(U+202A-U+202E), the isolates (U+2066-U+2069) and the marks (U+200E, U+200F, U+061C). They
make text show in another order than it is stored ("Trojan Source"): a name that reads as
one person's on a screen or a notice board but is stored, searched and matched as another."""

_BIDI: Final = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")


def bidi_problem(value: str) -> str | None:
    """What is wrong when `value` holds a bidirectional control, or None.

    >>> bidi_problem("王\u202e明")[:60]
    'contains the bidirectional control U+202E (RIGHT-TO-LEFT OVE'
    >>> bidi_problem("王明") is None
    True

    Args:
        value: the text.
    """
    found = _BIDI.search(value)
    if found is None:
        return None
    char = found.group()
    return (
        f"contains the bidirectional control U+{ord(char):04X} ({unicodedata.name(char)}) at"
        f" character {found.start() + 1}; text may not hold characters that change the order"
        " it is shown in"
    )


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
    elif (bidi := bidi_problem(value)) is not None:
        problems.append(Problem(path=path, value=value, message=bidi))
