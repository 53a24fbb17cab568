"""The register's record kinds (spec ``register-format.md``): one class and one column list each.

Every other layer (the file reader, the storage tables, the synthetic generator) takes the
kinds and their column order from here, so the spec's columns are written down once.
"""

from __future__ import annotations

from collections.abc import Mapping

from famplan_core.model.facts import (
    Certificate,
    DisabilityCertificate,
    Enrolment,
    HukouChange,
    ParentChild,
    Union,
)
from famplan_core.model.people import Household, Person

__all__ = ["RECORD_CLASSES", "REGISTER_COLUMNS"]

RECORD_CLASSES = (
    Person,
    Household,
    ParentChild,
    Union,
    HukouChange,
    DisabilityCertificate,
    Certificate,
    Enrolment,
)
"""The record classes, in the spec's order of files."""

REGISTER_COLUMNS: Mapping[str, tuple[str, ...]] = {cls.KIND: cls.COLUMNS for cls in RECORD_CLASSES}
"""Each record kind's file name stem and its columns in the spec's order."""
