"""Explanations (决定说明): why one person is, or is not, entitled under a program on a date.

`explain` evaluates the *same* `Clause` objects as `evaluate_program`, on the rows of one
person only (their person row, or the honour certificates they hold), so an explanation always
agrees with the monthly run and costs the same at 1,000 or 1,000,000 rows. It lists each
clause with pass or fail and the facts it read, the first failing clause, the category and
amount when entitled, and the parameter values used with where they came from (R0.9).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeAlias

import attrs
import numpy as np
import numpy.typing as npt

from famplan_core.errors import ValidationError
from famplan_core.model.frame import FactsFrame
from famplan_core.model.money import Money
from famplan_core.rules.clause import Clause, Facts, IntArray, is_row_link
from famplan_core.rules.evaluate import _amounts, _categories
from famplan_core.rules.parameter import ParameterSet, ParameterUse, ParameterView
from famplan_core.rules.program import Program

__all__ = [
    "ClauseOutcome",
    "Explanation",
    "FactValue",
    "SubjectOutcome",
    "explain",
    "fact_label",
    "format_fact",
]

FactValue: TypeAlias = bool | int | str | dt.date | None
"""A fact as an explanation shows it: a bool, a number, text, a date, or None for none."""

_LABELS: dict[str, tuple[str, str]] = {
    "person_id": ("person id", "人员编号"),
    "sex": ("sex", "性别"),
    "birth_date": ("birth date", "出生日期"),
    "alive": ("alive", "在世"),
    "age": ("age", "年龄"),
    "hukou_known": ("hukou known", "户籍可知"),
    "hukou_rural": ("rural hukou", "农业户籍"),
    "hukou_division": ("hukou division", "户籍地区划"),
    "in_jurisdiction": ("hukou in the jurisdiction", "户籍在本辖区"),
    "ever_children": ("children ever", "子女数（含已故）"),
    "ever_daughters": ("daughters ever", "女儿数（含已故）"),
    "living_children": ("living children", "在世子女数"),
    "only_child": ("only child", "独生子女"),
    "only_child_link": ("link to the only child", "与独生子女的关系"),
    "only_child_mother_birth_date": ("birth date of the child's mother", "子女母亲出生日期"),
    "disability_grade": ("disability grade", "残疾等级"),
    "holder": ("holder", "持证人"),
    "child": ("child", "子女"),
    "issued_on": ("issued on", "发证日期"),
    "certificate_id": ("certificate", "光荣证编号"),
    "lapse_from": ("lapses from", "失效起始日期"),
}
_PREFIXES: dict[str, tuple[str, str]] = {
    "only_child": ("only child's ", "独生子女"),
    "holder": ("holder's ", "持证人"),
    "child": ("child's ", "子女"),
    "certificate": ("", ""),
}
_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "yes": "yes",
        "no": "no",
        "none": "none",
        "entitled": "Entitled",
        "amount": "Amount",
        "month": "a month",
        "category": "Category",
        "first_failing": "First condition not met",
        "parameters": "Parameters",
        "from": "from",
        "person": "person",
        "month_of": "month of",
        "version": "version",
        "certificate": "Certificate",
        "issued": "issued",
        "through": "Entitled through certificate",
        "no_certificate": "holds no honour certificate valid on",
        "not_in_force": "Not in force on {date}: {what}. Nothing is due.",
        "applies_from": "{name} applies from {start}",
        "one_off": "Decided case by case on application; nothing is computed monthly.",
        "male": "male",
        "female": "female",
        "birth": "birth",
        "adoptive": "adoptive",
    },
    "zh": {
        "yes": "是",
        "no": "否",
        "none": "无",
        "entitled": "结论",
        "amount": "金额",
        "month": "每月",
        "category": "类别",
        "first_failing": "首个未满足的条件",
        "parameters": "参数",
        "from": "起始",
        "person": "人员",
        "month_of": "月份",
        "version": "版本",
        "certificate": "光荣证",
        "issued": "发证",
        "through": "依据光荣证",
        "no_certificate": "未持有有效的独生子女父母光荣证，日期",
        "not_in_force": "{date}尚未施行：{what}，不予发放。",
        "applies_from": "{name}自{start}起施行",
        "one_off": "按申请逐案审批，不按月测算。",
        "male": "男",
        "female": "女",
        "birth": "亲生",
        "adoptive": "收养",
    },
}
_SEX = {1: "male", 2: "female"}
_LINK = {1: "birth", 2: "adoptive"}


def _lang(lang: str) -> dict[str, str]:
    if lang not in _WORDS:
        raise ValidationError.single("lang", lang, "expected 'en' or 'zh'")
    return _WORDS[lang]


def fact_label(path: str, lang: str = "en") -> str:
    """The plain-words name of a fact, e.g. ``only_child.alive`` → "only child's alive".

    Args:
        path: the fact name.
        lang: ``"en"`` or ``"zh"``.
    """
    index = 1 if lang == "zh" else 0
    head, _, tail = path.partition(".")
    if tail and head in _PREFIXES:
        label = _LABELS.get(tail, (tail, tail))[index]
        return _PREFIXES[head][index] + label
    return _LABELS.get(path, (path, path))[index]


def format_fact(path: str, value: FactValue, lang: str = "en") -> str:
    """A fact's value in plain words, e.g. ``True`` → "yes", sex ``2`` → "female".

    Args:
        path: the fact name (it decides how codes are read).
        value: the value.
        lang: ``"en"`` or ``"zh"``.
    """
    words = _lang(lang)
    if value is None:
        return words["none"]
    if isinstance(value, bool):
        return words["yes"] if value else words["no"]
    if isinstance(value, dt.date):
        return value.isoformat()
    tail = path.rpartition(".")[2]
    if isinstance(value, int):
        if tail == "sex" and value in _SEX:
            return words[_SEX[value]]
        if tail == "only_child_link" and value in _LINK:
            return words[_LINK[value]]
        if tail == "only_child_link" or (tail == "disability_grade" and value == 0):
            return words["none"]
    return str(value)


@attrs.frozen(kw_only=True)
class ClauseOutcome:
    """One clause checked for one person (or one certificate): held or not, and what it read.

    Attributes:
        clause: the clause object the monthly run uses.
        passed: whether it holds.
        text_en: the clause in English for the date, e.g. "Aged 60 or more on 2026-11-01".
        text_zh: the same in Chinese.
        facts: (fact name, value) pairs it read; a row link is shown as the person id.
        parameters: the parameter values it read, with their provenance.
    """

    clause: Clause = attrs.field(eq=False)
    passed: bool
    text_en: str
    text_zh: str
    facts: tuple[tuple[str, FactValue], ...]
    parameters: tuple[ParameterUse, ...] = ()

    @property
    def ref(self) -> str:
        """The spec clause, e.g. ``"R2.2"``."""
        return self.clause.ref

    def fact(self, name: str) -> FactValue:
        """The value of the fact `name`.

        Args:
            name: the fact name, e.g. ``"age"``.

        Raises:
            ValidationError: the clause did not read that fact.
        """
        for fact_name, value in self.facts:
            if fact_name == name:
                return value
        raise ValidationError.single(
            "fact", name, f"clause {self.ref} read only {[n for n, _ in self.facts]}"
        )

    def as_text(self, lang: str = "en") -> str:
        """One line, e.g. "R2.2 Aged 60 or more on 2026-11-01: yes (age: 63)".

        Args:
            lang: ``"en"`` or ``"zh"``.
        """
        words = _lang(lang)
        text = self.text_zh if lang == "zh" else self.text_en
        verdict = words["yes"] if self.passed else words["no"]
        colon, sep, open_, close = (
            ("：", "，", "（", "）") if lang == "zh" else (": ", ", ", " (", ")")
        )
        shown = sep.join(
            f"{fact_label(n, lang)}{colon}{format_fact(n, v, lang)}" for n, v in self.facts
        )
        tail = f"{open_}{shown}{close}" if shown else ""
        return f"{self.ref} {text}{colon}{verdict}{tail}"

    def as_dict(self) -> dict[str, object]:
        """The outcome as JSON-ready data."""
        return {
            "ref": self.ref,
            "name": self.clause.name,
            "text_en": self.text_en,
            "text_zh": self.text_zh,
            "passed": self.passed,
            "facts": {name: _json(value) for name, value in self.facts},
            "parameters": [use.as_dict() for use in self.parameters],
        }


@attrs.frozen(kw_only=True)
class SubjectOutcome:
    """The clauses checked on one subject row: the person, or one certificate they hold.

    Attributes:
        certificate_id: the certificate, for programs paid per certificate; else None.
        issued_on: its issue date, or None.
        outcomes: one per clause, in the program's order.
    """

    certificate_id: str | None
    issued_on: dt.date | None
    outcomes: tuple[ClauseOutcome, ...]

    @property
    def passed(self) -> bool:
        """Whether every clause holds."""
        return all(outcome.passed for outcome in self.outcomes)

    @property
    def first_failing(self) -> ClauseOutcome | None:
        """The first clause that does not hold, or None."""
        return next((outcome for outcome in self.outcomes if not outcome.passed), None)


@attrs.frozen(kw_only=True)
class Explanation:
    """Why a person is or is not entitled under a program on a date (R0.9).

    Attributes:
        program: the program code.
        name_en: the program's English name.
        name_zh: the program's Chinese name.
        version: the program version.
        date: the evaluation date D.
        row: the person's frame row.
        person_id: the person's register identifier.
        in_force: False when D is before a parameter's first value (then nothing is due).
        monthly: False for a program decided case by case (R5.1).
        subjects: the person's row, or each certificate they hold in order of issue date then
            id; empty when not in force, not monthly, or no certificate is held.
        chosen: the position in `subjects` that gives the entitlement, or None.
        category: the category when entitled and the program has categories.
        category_zh: the category's Chinese name.
        amount: the monthly amount when entitled.
        parameters: every parameter value the program used on D, with its provenance.
        not_in_force: (parameter name, first date) of the parameters not yet in force.
        holding: for a program paid per certificate when the person holds none valid on D,
            its first clause, failed (then `subjects` is empty); else None.
    """

    program: str
    name_en: str
    name_zh: str
    version: str
    date: dt.date
    row: int
    person_id: str
    in_force: bool
    monthly: bool
    subjects: tuple[SubjectOutcome, ...]
    chosen: int | None
    category: str | None
    category_zh: str | None
    amount: Money | None
    parameters: tuple[ParameterUse, ...]
    not_in_force: tuple[tuple[str, dt.date], ...] = ()
    holding: ClauseOutcome | None = None

    @property
    def entitled(self) -> bool:
        """Whether the person is entitled for the month of D."""
        return self.chosen is not None

    @property
    def clauses(self) -> tuple[ClauseOutcome, ...]:
        """The clause outcomes of the subject that decides: the entitling certificate, else the
        first one (or the person's own row)."""
        if self.holding is not None:
            return (self.holding,)
        if not self.subjects:
            return ()
        return self.subjects[self.chosen if self.chosen is not None else 0].outcomes

    @property
    def first_failing(self) -> ClauseOutcome | None:
        """The first clause that does not hold (of the first certificate, if several), or None
        when entitled, not in force or not monthly."""
        if self.entitled:
            return None
        return next((o for o in self.clauses if not o.passed), None)

    def as_text(self, lang: str = "en") -> str:
        """The explanation in plain words a clerk can read to a citizen.

        Args:
            lang: ``"en"`` or ``"zh"``.
        """
        words = _lang(lang)
        zh = lang == "zh"
        colon = "：" if zh else ": "
        name = (
            f"{self.name_zh}（{self.program}，{words['version']}{self.version}）"
            if zh
            else f"{self.name_en} ({self.name_zh}, {self.program} {words['version']} "
            f"{self.version})"
        )
        lines = [
            f"{name}{'，' if zh else ', '}{words['person']} {self.person_id}"
            f"{'，' if zh else ', '}{words['month_of']} {self.date.isoformat()}"
        ]
        if not self.monthly:
            lines.append(words["one_off"])
        elif not self.in_force:
            what = ("；" if zh else "; ").join(
                words["applies_from"].format(name=n, start=s.isoformat())
                for n, s in self.not_in_force
            )
            lines.append(words["not_in_force"].format(date=self.date.isoformat(), what=what))
        else:
            lines.extend(self._verdict_lines(lang))
            lines.extend(self._clause_lines(lang))
        if self.parameters:
            lines.append(f"{words['parameters']}{colon.rstrip()}")
            lines.extend(f"  {_use_text(use, lang)}" for use in self.parameters)
        return "\n".join(lines)

    def _verdict_lines(self, lang: str) -> list[str]:
        words = _lang(lang)
        zh = lang == "zh"
        colon = "：" if zh else ": "
        if self.entitled:
            amount = f"{words['month']}{self.amount}元" if zh else f"{self.amount} {words['month']}"
            line = f"{words['entitled']}{colon}{'符合' if zh else 'yes'}"
            line += f"{'。' if zh else '. '}{words['amount']}{colon}{amount}"
            if self.category is not None:
                shown = self.category_zh if zh and self.category_zh else self.category
                line += f"{'。' if zh else '. '}{words['category']}{colon}{shown}"
            lines = [line + ("。" if zh else ".")]
            if self.chosen is not None and self.subjects[self.chosen].certificate_id:
                lines.append(f"{words['through']} {self.subjects[self.chosen].certificate_id}")
            return lines
        line = f"{words['entitled']}{colon}{'不符合' if zh else 'no'}"
        failing = self.first_failing
        if failing is not None:
            line += f"{'。' if zh else '. '}{words['first_failing']}{colon}{failing.as_text(lang)}"
        return [line]

    def _clause_lines(self, lang: str) -> list[str]:
        words = _lang(lang)
        if self.holding is not None:
            return [f"  {self.holding.as_text(lang)}"]
        lines: list[str] = []
        for subject in self.subjects:
            indent = "  "
            if subject.certificate_id is not None:
                issued = subject.issued_on.isoformat() if subject.issued_on else words["none"]
                lines.append(
                    f"  {words['certificate']} {subject.certificate_id} "
                    f"({words['issued']} {issued})"
                )
                indent = "    "
            lines.extend(f"{indent}{outcome.as_text(lang)}" for outcome in subject.outcomes)
        return lines

    def as_dict(self) -> dict[str, object]:
        """The explanation as JSON-ready data (dates as ISO text, amounts as yuan text)."""
        failing = self.first_failing
        return {
            "program": self.program,
            "version": self.version,
            "date": self.date.isoformat(),
            "row": self.row,
            "person_id": self.person_id,
            "in_force": self.in_force,
            "monthly": self.monthly,
            "entitled": self.entitled,
            "category": self.category,
            "amount": None if self.amount is None else str(self.amount),
            "first_failing": None if failing is None else failing.ref,
            "clauses": [outcome.as_dict() for outcome in self.clauses],
            "subjects": [
                {
                    "certificate_id": subject.certificate_id,
                    "issued_on": _json(subject.issued_on),
                    "passed": subject.passed,
                    "clauses": [outcome.as_dict() for outcome in subject.outcomes],
                }
                for subject in self.subjects
            ],
            "parameters": [use.as_dict() for use in self.parameters],
            "not_in_force": {name: start.isoformat() for name, start in self.not_in_force},
        }


def _use_text(use: ParameterUse, lang: str) -> str:
    if lang == "zh":
        return (
            f"{use.name} = {use.value_text} {use.unit}，自{use.start.isoformat()}起"
            f"（{use.source}；{use.reference}）"
        )
    return (
        f"{use.name} = {use.value_text} {use.unit}, from {use.start.isoformat()} "
        f"({use.source}; {use.reference})"
    )


def _json(value: FactValue) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value


def _scalar(path: str, column: npt.NDArray[Any], position: int, frame: FactsFrame) -> FactValue:
    value = column[position]
    if is_row_link(path):
        row = int(value)
        return str(frame.person_id[row]) if row >= 0 else None
    if column.dtype == np.bool_:
        return bool(value)
    if np.issubdtype(column.dtype, np.integer):
        return int(value)
    if np.issubdtype(column.dtype, np.datetime64):
        if np.isnat(value):
            return None
        day: dt.date = value.astype("datetime64[D]").astype(dt.date)
        return day
    return None if value is None else str(value)


def _outcomes(
    program: Program, facts: Facts, view: ParameterView
) -> list[tuple[ClauseOutcome, ...]]:
    per_subject: list[list[ClauseOutcome]] = [[] for _ in range(len(facts))]
    for clause in program.clauses:
        passed = clause.evaluate_facts(facts, view)
        columns = {path: facts[path] for path in clause.facts}
        clause_view = view.restricted(clause.parameters, clause.ref)
        uses = clause_view.uses()
        text_en = clause.describe(clause_view, "en")
        text_zh = clause.describe(clause_view, "zh")
        for position, outcomes in enumerate(per_subject):
            outcomes.append(
                ClauseOutcome(
                    clause=clause,
                    passed=bool(passed[position]),
                    text_en=text_en,
                    text_zh=text_zh,
                    facts=tuple(
                        (path, _scalar(path, column, position, facts.frame))
                        for path, column in columns.items()
                    ),
                    parameters=uses,
                )
            )
    return [tuple(outcomes) for outcomes in per_subject]


def _certificates_of(frame: FactsFrame, row: int) -> IntArray:
    certificates = frame.certificates
    held = np.flatnonzero(certificates.holder == row)
    ordered = sorted(
        held.tolist(),
        key=lambda c: (
            certificates.issued_on[c].astype("datetime64[D]").view(np.int64),
            str(certificates.certificate_id[c]),
        ),
    )
    return np.asarray(ordered, dtype=np.int64)


def explain(program: Program, frame: FactsFrame, row: int, parameters: ParameterSet) -> Explanation:
    """Explain the decision for the person at `row` under `program` on the frame's date (R0.9).

    Uses the program's own clause objects on that person's rows only: for a program paid per
    certificate, each certificate the person holds, in order of issue date then id (R4.6).

    Args:
        program: the program.
        frame: the facts frame of the evaluation date D.
        row: the person's row in the frame (see `FactsFrame.row_of`).
        parameters: the deployment's parameters.

    Raises:
        ValidationError: `row` is not a row of the frame.
        ParameterNotFoundError: a parameter has no value on D after its first date.
    """
    if not 0 <= row < len(frame):
        raise ValidationError.single(
            "row", row, f"expected a row of the frame, 0 to {len(frame) - 1}"
        )
    view = parameters.view(program.code, frame.date, program.parameter_names)
    template = Explanation(
        program=program.code,
        name_en=program.name_en,
        name_zh=program.name_zh,
        version=program.version,
        date=frame.date,
        row=row,
        person_id=str(frame.person_id[row]),
        in_force=view.in_force,
        monthly=program.monthly,
        subjects=(),
        chosen=None,
        category=None,
        category_zh=None,
        amount=None,
        parameters=(),
    )
    if not view.in_force:
        return attrs.evolve(
            template,
            not_in_force=tuple((p.name, p.first_date) for p in view.not_in_force()),
        )
    uses = view.uses()
    if not program.monthly:
        return attrs.evolve(template, parameters=uses)
    if program.subject == "certificate":
        subject_rows = _certificates_of(frame, row)
    else:
        subject_rows = np.array([row], dtype=np.int64)
    facts = Facts(frame, program.subject, subject_rows)
    outcomes = _outcomes(program, facts, view)
    subjects = tuple(
        SubjectOutcome(
            certificate_id=(
                str(frame.certificates.certificate_id[s])
                if program.subject == "certificate"
                else None
            ),
            issued_on=(
                frame.certificates.issued_on[s].astype("datetime64[D]").astype(dt.date)
                if program.subject == "certificate"
                else None
            ),
            outcomes=outcome,
        )
        for s, outcome in zip(subject_rows.tolist(), outcomes, strict=True)
    )
    chosen = next((i for i, subject in enumerate(subjects) if subject.passed), None)
    holding = None
    if program.subject == "certificate" and not subjects and program.clauses:
        first = program.clauses[0]
        first_view = view.restricted(first.parameters, first.ref)
        holding = ClauseOutcome(
            clause=first,
            passed=False,
            text_en=first.describe(first_view, "en"),
            text_zh=first.describe(first_view, "zh"),
            facts=(),
            parameters=first_view.uses(),
        )
    category = category_zh = None
    amount = None
    if chosen is not None:
        one = facts.take(np.array([chosen], dtype=np.int64))
        codes = _categories(program, one, view)
        amount = Money(int(_amounts(program, one, view, codes)[0]))
        code = int(codes[0])
        if code >= 0:
            category = program.categories[code]
            category_zh = program.categories_zh[code] if code < len(program.categories_zh) else None
    return attrs.evolve(
        template,
        subjects=subjects,
        chosen=chosen,
        category=category,
        category_zh=category_zh,
        amount=amount,
        parameters=uses,
        holding=holding,
    )
