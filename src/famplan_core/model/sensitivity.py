"""Sensitivity classes (敏感等级) of record fields, kept in each field's attrs metadata.

Every field of every record class carries one `Sensitivity`. The same classification drives
masking in notices, field selection in exchange, small-cell suppression in reports and access
checks (DESIGN principle 5). Declare it on the field:

```python
@attrs.frozen(kw_only=True)
class Pet:
    name: str = attrs.field(metadata=sensitivity_metadata(Sensitivity.PERSONAL))
    owner_id: str = field(sensitivity=Sensitivity.INTERNAL, default="")
```

Both spellings store the class under `SENSITIVITY_KEY`. Prefer `attrs.field(metadata=...)` for
fields without a default: mypy's attrs plugin recognises only `attrs.field` itself and takes
any other call, `field` included, for a default value.

On top of each field's own class, the row-level rule of PIPL Art. 28 applies: all personal
information of a minor under 14 is sensitive (`effective_sensitivity`).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import attrs

from famplan_core.errors import ValidationError
from famplan_core.model.dates import completed_years

__all__ = [
    "CHILD_AGE_LIMIT",
    "SENSITIVITY_KEY",
    "Sensitivity",
    "effective_sensitivity",
    "field",
    "fields_at_most",
    "sensitivity_metadata",
    "sensitivity_of",
]

SENSITIVITY_KEY = "famplan_core.sensitivity"
"""The attrs metadata key under which a field's `Sensitivity` is stored."""

CHILD_AGE_LIMIT = 14
"""Below this age (completed years) everything about a person is sensitive (PIPL Art. 28)."""


class Sensitivity(enum.Enum):
    """How sensitive a field is (敏感等级), ordered ``PUBLIC < INTERNAL < PERSONAL < SENSITIVE``.

    Attributes:
        PUBLIC: may be published, e.g. a program's name or a village code on a notice.
        INTERNAL: the office's own bookkeeping, e.g. the identifiers it gives records.
        PERSONAL: personal information (个人信息), e.g. a name, a citizen ID, a birth date.
        SENSITIVE: sensitive personal information (敏感个人信息, PIPL Art. 28), e.g. a
            disability, a death, adoption, health data, anything about a child under 14.

    Example:
        >>> Sensitivity.PERSONAL < Sensitivity.SENSITIVE
        True
        >>> max(Sensitivity.INTERNAL, Sensitivity.PUBLIC)
        <Sensitivity.INTERNAL: 'internal'>
    """

    PUBLIC = "public"
    INTERNAL = "internal"
    PERSONAL = "personal"
    SENSITIVE = "sensitive"

    @property
    def rank(self) -> int:
        """The position in the order: 0 for `PUBLIC` up to 3 for `SENSITIVE`."""
        return _RANK[self.value]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Sensitivity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Sensitivity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Sensitivity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Sensitivity):
            return NotImplemented
        return self.rank >= other.rank


_RANK = {"public": 0, "internal": 1, "personal": 2, "sensitive": 3}


def sensitivity_metadata(sensitivity: Sensitivity, **metadata: Any) -> dict[str, Any]:
    """Attrs field metadata carrying a sensitivity class, for ``attrs.field(metadata=...)``.

    Args:
        sensitivity: the field's class.
        **metadata: any other metadata to keep beside it.

    Raises:
        TypeError: `sensitivity` is not a `Sensitivity`.
    """
    if not isinstance(sensitivity, Sensitivity):
        raise TypeError(f"sensitivity must be a Sensitivity, got {sensitivity!r}")
    return {**metadata, SENSITIVITY_KEY: sensitivity}


def field(*, sensitivity: Sensitivity, **kwargs: Any) -> Any:
    """An ``attrs.field`` that carries a sensitivity class in its metadata.

    Args:
        sensitivity: the field's class.
        **kwargs: passed on to ``attrs.field``; a ``metadata`` mapping is kept and extended.

    Raises:
        TypeError: `sensitivity` is not a `Sensitivity`.

    Note:
        mypy's attrs plugin sees the call as a default value, so the field looks optional to
        the type checker. For a required field write
        ``attrs.field(metadata=sensitivity_metadata(...))`` instead.
    """
    metadata = dict(kwargs.pop("metadata", None) or {})
    return attrs.field(metadata=sensitivity_metadata(sensitivity, **metadata), **kwargs)


def _attribute(cls: type, name: str) -> attrs.Attribute[Any]:
    path = f"{getattr(cls, '__qualname__', repr(cls))}.{name}"
    if not attrs.has(cls):
        raise ValidationError.single(path, name, "not an attrs record class")
    found = attrs.fields_dict(cls).get(name)
    if found is not None:
        return found
    known = ", ".join(a.name for a in attrs.fields(cls))
    raise ValidationError.single(path, name, f"no such field; the fields are: {known}")


def sensitivity_of(cls: type, name: str) -> Sensitivity:
    """The sensitivity class declared on one field of a record class.

    Args:
        cls: an attrs record class, e.g. `Person`.
        name: the field's name, e.g. ``"death_date"``.

    Raises:
        ValidationError: `cls` is not an attrs class, has no such field, or the field
            declares no sensitivity (every field must).

    Example:
        >>> @attrs.frozen
        ... class Pet:
        ...     name: str = attrs.field(metadata=sensitivity_metadata(Sensitivity.PERSONAL))
        >>> sensitivity_of(Pet, "name")
        <Sensitivity.PERSONAL: 'personal'>
    """
    attribute = _attribute(cls, name)
    level = attribute.metadata.get(SENSITIVITY_KEY)
    if not isinstance(level, Sensitivity):
        raise ValidationError.single(
            f"{cls.__qualname__}.{name}",
            "" if level is None else level,
            "every field must declare a sensitivity class, e.g. "
            "attrs.field(metadata=sensitivity_metadata(Sensitivity.PERSONAL))",
        )
    return level


def fields_at_most(cls: type, level: Sensitivity) -> tuple[str, ...]:
    """The names of the fields of `cls` whose own class is `level` or lower, in field order.

    The row-level rule (`effective_sensitivity`) is not applied: this is the selection for a
    record about an adult.

    Args:
        cls: an attrs record class.
        level: the highest class to include.

    Raises:
        ValidationError: a field of `cls` declares no sensitivity.
    """
    return tuple(a.name for a in attrs.fields(cls) if sensitivity_of(cls, a.name) <= level)


def effective_sensitivity(
    cls: type, name: str, *, subject_birth_date: dt.date | None, on: dt.date
) -> Sensitivity:
    """The sensitivity of one field of one record, applying the row-level rule for children.

    Every field of a record about a child under 14 on `on` is `Sensitivity.SENSITIVE`
    (PIPL Art. 28: all personal information of a minor under 14); otherwise the field's own
    class applies. A subject not yet born on `on` counts as a child.

    Args:
        cls: the record's class.
        name: the field's name.
        subject_birth_date: the birth date of the person the record is about, or None when
            it is not known (the field's own class then applies).
        on: the date of the processing (from the caller; the clock is never read).

    Raises:
        ValidationError: the field declares no sensitivity or does not exist.

    Example:
        >>> @attrs.frozen
        ... class Pet:
        ...     name: str = attrs.field(metadata=sensitivity_metadata(Sensitivity.PERSONAL))
        >>> effective_sensitivity(
        ...     Pet, "name", subject_birth_date=dt.date(2015, 6, 1), on=dt.date(2026, 1, 1)
        ... )
        <Sensitivity.SENSITIVE: 'sensitive'>
    """
    own = sensitivity_of(cls, name)
    if subject_birth_date is not None and completed_years(subject_birth_date, on) < CHILD_AGE_LIMIT:
        return Sensitivity.SENSITIVE
    return own
