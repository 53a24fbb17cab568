"""Clauses (条款): the named, column-wise predicates a program's eligibility is made of.

A clause is written once, over columns, and serves both the monthly run (every row of a
`FactsFrame` at once) and the explanation of one decision (the same function on the rows of
one person). It declares the facts and parameters it reads: it is handed a `Facts` view that
refuses anything else, so what an explanation shows is exactly what the decision used.

Fact names are paths relative to the clause's *subject*:

* subject ``"person"`` (one row per person): a column of the frame (``age``,
  ``hukou_rural``, ...) or a column of the person's only child, ``only_child.<column>``
  (e.g. ``only_child.alive``);
* subject ``"certificate"`` (one row per honour certificate valid on D):
  ``certificate.<field>`` (``issued_on``, ``lapse_from``, ...), ``holder.<column>`` and
  ``child.<column>`` (the certificate's parent P and child K).

Reading a column through a missing link (row -1) gives ``False``, ``-1``, ``NaT`` or ``""``.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Callable, Iterable
from typing import Any, Literal

import attrs
import numpy as np
import numpy.typing as npt

from famplan_core.errors import PluginContractError
from famplan_core.model.frame import CertificateColumns, FactsFrame
from famplan_core.rules.parameter import ParameterView

__all__ = [
    "PERSON_COLUMNS",
    "BoolArray",
    "Clause",
    "ClauseTest",
    "Facts",
    "IntArray",
    "SubjectKind",
    "fact_paths",
    "is_row_link",
]

SubjectKind = Literal["person", "certificate"]
"""What one row of an evaluation is: a person, or an honour certificate held by a person."""

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

PERSON_COLUMNS: tuple[str, ...] = FactsFrame.PERSON_COLUMNS
"""The per-person columns of a `FactsFrame`."""
_PERSON_COLUMNS = PERSON_COLUMNS
_CERTIFICATE_FIELDS = ("holder", "child", "issued_on", "certificate_id", "lapse_from")
_PERSON_LINKS = ("only_child",)
_CERTIFICATE_LINKS = ("holder", "child")
_ROW_LINKS = frozenset({"only_child", "certificate.holder", "certificate.child"})


def fact_paths(subject: SubjectKind) -> frozenset[str]:
    """Every fact name a clause of `subject` may read.

    Args:
        subject: ``"person"`` or ``"certificate"``.
    """
    if subject == "person":
        own = set(_PERSON_COLUMNS)
        linked = {f"{link}.{column}" for link in _PERSON_LINKS for column in _PERSON_COLUMNS}
        return frozenset(own | linked)
    fields = {f"certificate.{name}" for name in _CERTIFICATE_FIELDS}
    linked = {f"{link}.{column}" for link in _CERTIFICATE_LINKS for column in _PERSON_COLUMNS}
    return frozenset(fields | linked)


def is_row_link(path: str) -> bool:
    """Whether the fact `path` holds row indexes of persons (shown as their person ids).

    Args:
        path: a fact name, e.g. ``"only_child"`` or ``"certificate.child"``.
    """
    return path in _ROW_LINKS or path.endswith(".only_child")


def _fill(dtype: np.dtype[Any]) -> object:
    if dtype == np.bool_:
        return False
    if np.issubdtype(dtype, np.integer):
        return -1
    if np.issubdtype(dtype, np.datetime64):
        return np.datetime64("NaT")
    return ""


class Facts:
    """The facts of the rows under evaluation, as columns, limited to what the reader declared.

    Build one for a whole frame (``Facts(frame)``) or for some rows (``rows=...``): the same
    clause code then reads full columns or just those rows.

    Args:
        frame: the facts frame of the evaluation date.
        subject: what a row is: ``"person"`` (rows of the frame) or ``"certificate"`` (rows of
            ``frame.certificates``).
        rows: the subject rows to read, or None for all of them.
        allowed: the fact names that may be read, or None for any.
        owner: who reads (a clause reference), for error messages.
    """

    __slots__ = ("_allowed", "_cache", "_owner", "frame", "rows", "subject")

    def __init__(
        self,
        frame: FactsFrame,
        subject: SubjectKind = "person",
        rows: IntArray | None = None,
        *,
        allowed: frozenset[str] | None = None,
        owner: str = "",
        _cache: dict[str, npt.NDArray[Any]] | None = None,
    ) -> None:
        self.frame = frame
        self.subject: SubjectKind = subject
        self.rows = None if rows is None else np.asarray(rows, dtype=np.int64)
        self._allowed = allowed
        self._owner = owner
        self._cache: dict[str, npt.NDArray[Any]] = {} if _cache is None else _cache

    @property
    def date(self) -> dt.date:
        """The evaluation date D."""
        return self.frame.date

    def __len__(self) -> int:
        if self.rows is not None:
            return len(self.rows)
        return len(self.frame.certificates) if self.subject == "certificate" else len(self.frame)

    def subject_rows(self) -> IntArray:
        """The subject rows read (all of them, in order, when no rows were given)."""
        if self.rows is not None:
            return self.rows
        return np.arange(len(self), dtype=np.int64)

    def restricted(self, allowed: Iterable[str], owner: str) -> Facts:
        """The same rows, readable only through `allowed` (sharing resolved columns).

        Args:
            allowed: the fact names the reader declared.
            owner: the reader, for error messages.
        """
        return Facts(
            self.frame,
            self.subject,
            self.rows,
            allowed=frozenset(allowed),
            owner=owner,
            _cache=self._cache,
        )

    def take(self, positions: IntArray) -> Facts:
        """The facts of some of these rows: `positions` index into this view's rows.

        Args:
            positions: positions within this view (0 .. len - 1).
        """
        rows = self.subject_rows()[np.asarray(positions, dtype=np.int64)]
        return Facts(self.frame, self.subject, rows, allowed=self._allowed, owner=self._owner)

    def __getitem__(self, path: str) -> npt.NDArray[Any]:
        if self._allowed is not None and path not in self._allowed:
            raise PluginContractError(
                f"{self._owner or 'a clause'} reads the fact {path!r} but declares only "
                f"{', '.join(sorted(self._allowed)) or '(none)'}; expected it in its facts"
            )
        return self._resolve(path)

    def _resolve(self, path: str) -> npt.NDArray[Any]:
        cached = self._cache.get(path)
        if cached is not None:
            return cached
        head, _, tail = path.partition(".")
        value: npt.NDArray[Any]
        if self.subject == "person":
            if not tail and head in _PERSON_COLUMNS:
                value = self._own(getattr(self.frame, head))
            elif head in _PERSON_LINKS and tail in _PERSON_COLUMNS:
                value = self._gather(head, getattr(self.frame, tail))
            else:
                raise self._unknown(path)
        elif head == "certificate" and tail in _CERTIFICATE_FIELDS:
            certificates: CertificateColumns = self.frame.certificates
            value = self._own(getattr(certificates, tail))
        elif head in _CERTIFICATE_LINKS and tail in _PERSON_COLUMNS:
            value = self._gather(f"certificate.{head}", getattr(self.frame, tail))
        else:
            raise self._unknown(path)
        self._cache[path] = value
        return value

    def _own(self, column: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return column if self.rows is None else column[self.rows]

    def _gather(self, link: str, column: npt.NDArray[Any]) -> npt.NDArray[Any]:
        index = self._resolve(link)
        linked = self._cache.get(f"{link}#linked")
        if linked is None:
            linked = np.flatnonzero(index >= 0)
            self._cache[f"{link}#linked"] = linked
            self._cache[f"{link}#targets"] = index[linked]
        targets = self._cache[f"{link}#targets"]
        if len(linked) == len(index):
            return np.take(column, targets)
        values: npt.NDArray[Any] = np.full(len(index), _fill(column.dtype), dtype=column.dtype)
        values[linked] = np.take(column, targets)
        return values

    def _unknown(self, path: str) -> PluginContractError:
        return PluginContractError(
            f"{self._owner or 'a clause'} reads {path!r}, which is not a fact of a "
            f"{self.subject} row; expected e.g. "
            + ("'age' or 'only_child.alive'" if self.subject == "person" else "'holder.alive'")
        )


ClauseTest = Callable[[Facts, ParameterView], BoolArray]
"""A clause's predicate: the declared facts and parameters → one bool per row."""


def names(items: Iterable[str]) -> tuple[str, ...]:
    """A tuple of the names (the attrs converter of fact and parameter lists).

    Args:
        items: names.
    """
    return tuple(items)


def _placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


@attrs.frozen(kw_only=True, eq=False)
class Clause:
    """A named predicate of a program, with its spec reference (条款).

    Attributes:
        ref: the spec clause it implements, e.g. ``"R2.4"``.
        name: a short identifier, e.g. ``"one_child_or_two_daughters"``.
        text_en: plain English, e.g. ``"Aged {min_age} or more on {date}"``; ``{date}`` and the
            declared parameters are filled in.
        text_zh: the same in Chinese.
        facts: the fact names it reads (see the module docstring).
        test: the predicate, written column-wise.
        parameters: the parameter names it reads.
        subject: ``"person"`` or ``"certificate"``.
    """

    ref: str
    name: str
    text_en: str
    text_zh: str
    facts: tuple[str, ...] = attrs.field(converter=names)
    test: ClauseTest
    parameters: tuple[str, ...] = attrs.field(default=(), converter=names)
    subject: SubjectKind = "person"

    def __attrs_post_init__(self) -> None:
        known = fact_paths(self.subject)
        unknown = [path for path in self.facts if path not in known]
        if unknown:
            raise PluginContractError(
                f"clause {self.ref} ({self.name}) declares unknown facts {unknown} for a "
                f"{self.subject} row; expected names like 'age' or 'only_child.alive'"
            )
        for template in (self.text_en, self.text_zh):
            extra = _placeholders(template) - {"date", *self.parameters}
            if extra:
                raise PluginContractError(
                    f"clause {self.ref} ({self.name}): the text {template!r} names "
                    f"{sorted(extra)}; expected only {{date}} and its declared parameters"
                )

    def evaluate(
        self, frame: FactsFrame, params: ParameterView, rows: IntArray | None = None
    ) -> BoolArray:
        """Evaluate over every subject row of `frame` (or the given rows).

        Args:
            frame: the facts frame of the evaluation date.
            params: the program's parameters on that date.
            rows: subject rows to evaluate, or None for all.

        Returns:
            One bool per subject row.

        Raises:
            PluginContractError: the clause reads an undeclared fact or parameter, or does not
                return one bool per row.
        """
        return self.evaluate_facts(Facts(frame, self.subject, rows), params)

    def evaluate_facts(self, facts: Facts, params: ParameterView) -> BoolArray:
        """Evaluate over the rows of a `Facts` view (shared by a program's clauses).

        Args:
            facts: the rows to evaluate.
            params: the program's parameters on the evaluation date.

        Raises:
            PluginContractError: the clause reads an undeclared fact or parameter, or does not
                return one bool per row.
        """
        result = np.asarray(
            self.test(
                facts.restricted(self.facts, self.ref),
                params.restricted(self.parameters, self.ref),
            )
        )
        if result.dtype != np.bool_ or result.shape != (len(facts),):
            raise PluginContractError(
                f"clause {self.ref} ({self.name}) returned {result.dtype} of shape "
                f"{result.shape}; expected bool of shape ({len(facts)},)"
            )
        return result

    def describe(self, params: ParameterView, lang: str = "en") -> str:
        """The clause in plain words for the evaluation date, e.g. "Aged 60 or more on 2026-11-01".

        Args:
            params: the program's parameters on the evaluation date.
            lang: ``"en"`` or ``"zh"``.
        """
        template = self.text_zh if lang == "zh" else self.text_en
        values = dict.fromkeys(self.parameters, "?")
        values.update({k: v for k, v in params.scalars().items() if k in self.parameters})
        return template.format(date=params.date.isoformat(), **values)
