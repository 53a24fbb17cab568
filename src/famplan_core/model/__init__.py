"""The typed core (模型): records of the register, identities, national code tables, money.

Everything here is an `attrs` frozen class or an enum; nothing does I/O (the one
exception: the dated division table is read lazily from package data) and nothing reads
the clock. Each field carries a sensitivity class in its metadata.
"""

from famplan_core.model.codes import (
    CertificateKind,
    CodeTable,
    DisabilityCategory,
    Ethnicity,
    HukouType,
    LinkKind,
    MaritalStatus,
    RelationToHead,
    Sex,
    UnionEndReason,
)
from famplan_core.model.facts import (
    Certificate,
    DisabilityCertificate,
    Enrolment,
    HukouChange,
    ParentChild,
    Union,
)
from famplan_core.model.frame import CertificateColumns, FactsFrame
from famplan_core.model.identity import (
    CitizenId,
    DivisionCode,
    DivisionTable,
    Finding,
    IdCheck,
    Level,
    division_table,
)
from famplan_core.model.money import Money
from famplan_core.model.people import Household, Person
from famplan_core.model.register_kinds import RECORD_CLASSES, REGISTER_COLUMNS
from famplan_core.model.sensitivity import (
    SENSITIVITY_KEY,
    Sensitivity,
    effective_sensitivity,
    fields_at_most,
    sensitivity_metadata,
    sensitivity_of,
)

__all__ = [
    "RECORD_CLASSES",
    "REGISTER_COLUMNS",
    "SENSITIVITY_KEY",
    "Certificate",
    "CertificateColumns",
    "CertificateKind",
    "CitizenId",
    "CodeTable",
    "DisabilityCategory",
    "DisabilityCertificate",
    "DivisionCode",
    "DivisionTable",
    "Enrolment",
    "Ethnicity",
    "FactsFrame",
    "Finding",
    "Household",
    "HukouChange",
    "HukouType",
    "IdCheck",
    "Level",
    "LinkKind",
    "MaritalStatus",
    "Money",
    "ParentChild",
    "Person",
    "RelationToHead",
    "Sensitivity",
    "Sex",
    "Union",
    "UnionEndReason",
    "division_table",
    "effective_sensitivity",
    "fields_at_most",
    "sensitivity_metadata",
    "sensitivity_of",
]
