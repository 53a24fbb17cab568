"""The facts frame (事实表): the register as of one date, as columns, for bulk rule work.

A storage builds it set-based (in SQL) for a whole jurisdiction; `famplan_core.register`
builds the same frame by folding the journal in Python, for one person or for tests. The
rules of `famplan_core.rules` read nothing else. Every column is a NumPy array of the same
length, one row per person the register knows (inside the jurisdiction or not: a child who
lives elsewhere still counts as a parent's child). Row indexes are positions in these arrays.

Codes used in the columns:

* ``sex``: GB/T 2261.1 as an integer: 1 male, 2 female, 0 unknown, 9 not stated.
* ``only_child_link``: 0 none, 1 ``birth``, 2 ``adoptive`` (step links never count, R0.4).
* missing dates are ``NaT``; missing row indexes are ``-1``; no disability is grade ``0``.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

import attrs
import numpy as np
import numpy.typing as npt

__all__ = ["NO_ROW", "CertificateColumns", "FactsFrame"]

NO_ROW = -1
"""The row index that means "no such person"."""

DateArray = npt.NDArray[np.datetime64]
IntArray = npt.NDArray[np.int64]


def _same_length(instance: object, names: tuple[str, ...]) -> None:
    lengths = {name: len(getattr(instance, name)) for name in names}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"every column must have the same length; got {lengths}")


@attrs.frozen(kw_only=True, eq=False)
class CertificateColumns:
    """Honour certificates (独生子女父母光荣证) valid on the frame's date (R0.10), one per holder.

    Attributes:
        holder: row index of the holding parent P.
        child: row index of the certificate's child K, or -1 when K is not in the register.
        issued_on: the issue date.
        certificate_id: the certificate's identifier (text).
        lapse_from: 1 January of the year after P first gained a child other than K after
            the issue date (R4.4), or NaT when that never happened on or before the date.
    """

    holder: IntArray
    child: IntArray
    issued_on: DateArray
    certificate_id: npt.NDArray[np.object_]
    lapse_from: DateArray

    def __attrs_post_init__(self) -> None:
        _same_length(self, ("holder", "child", "issued_on", "certificate_id", "lapse_from"))

    def __len__(self) -> int:
        return len(self.holder)


@attrs.frozen(kw_only=True, eq=False)
class FactsFrame:
    """The register as of `date`, as columns (spec R0.1-R0.6, R0.10).

    Attributes:
        date: the evaluation date D.
        person_id: the register's person identifier (text).
        sex: GB/T 2261.1 code as an integer.
        birth_date: the birth date.
        alive: born on or before D, and no death on or before D (R0.3).
        age: completed years on D (R0.2); -1 for a person born after D.
        hukou_known: the person has a known hukou on D (R0.5).
        hukou_rural: the hukou type on D is ``rural``.
        hukou_division: the 12-digit hukou division on D, or ``""`` when unknown.
        in_jurisdiction: the hukou division on D lies inside the deployment's division (R0.6).
        ever_children: count of children by ``birth`` or ``adoptive`` link on or before D (R0.4).
        ever_daughters: how many of those are female.
        living_children: how many of those are alive on D.
        only_child: row of the single ever-child when ``ever_children == 1``, else -1.
        only_child_link: 1 ``birth`` or 2 ``adoptive``: the kind of P's link to that child.
        only_child_mother_birth_date: birth date of that child's mother for P (R3.4): P when
            P is female, else the female parent linked to the child by the same kind of link;
            NaT when there is none.
        disability_grade: the most severe grade (1 most severe) of the person's disability
            certificates valid on D, or 0 when none.
        certificates: honour certificates valid on D.
        known_at: the record time the frame was built "as known at", or None for everything.
    """

    date: dt.date
    person_id: npt.NDArray[np.object_]
    sex: npt.NDArray[np.int8]
    birth_date: DateArray
    alive: npt.NDArray[np.bool_]
    age: npt.NDArray[np.int16]
    hukou_known: npt.NDArray[np.bool_]
    hukou_rural: npt.NDArray[np.bool_]
    hukou_division: npt.NDArray[np.object_]
    in_jurisdiction: npt.NDArray[np.bool_]
    ever_children: npt.NDArray[np.int16]
    ever_daughters: npt.NDArray[np.int16]
    living_children: npt.NDArray[np.int16]
    only_child: IntArray
    only_child_link: npt.NDArray[np.int8]
    only_child_mother_birth_date: DateArray
    disability_grade: npt.NDArray[np.int8]
    certificates: CertificateColumns
    known_at: dt.datetime | None = None

    PERSON_COLUMNS: ClassVar[tuple[str, ...]] = (
        "person_id",
        "sex",
        "birth_date",
        "alive",
        "age",
        "hukou_known",
        "hukou_rural",
        "hukou_division",
        "in_jurisdiction",
        "ever_children",
        "ever_daughters",
        "living_children",
        "only_child",
        "only_child_link",
        "only_child_mother_birth_date",
        "disability_grade",
    )

    def __attrs_post_init__(self) -> None:
        _same_length(self, self.PERSON_COLUMNS)

    def __len__(self) -> int:
        return len(self.person_id)

    def row_of(self, person_id: str) -> int:
        """The row of a person, or -1 when the frame does not hold them.

        Args:
            person_id: the register's identifier of the person.
        """
        hits = np.flatnonzero(self.person_id == person_id)
        return int(hits[0]) if len(hits) else NO_ROW
