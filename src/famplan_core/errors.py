"""Every error famplan-core raises, in one tree.

Catch `FamplanError` to catch them all; catch a branch to handle one kind of failure.
Each error also subclasses the matching built-in where one fits, so code that does not
know famplan-core still handles it sensibly (a `RecordNotFoundError` is a `LookupError`).

```text
FamplanError
├── ConfigurationError (ValueError)         famplan.toml, environment, options
├── ParameterError (ValueError)             effective-dated program parameters
│   ├── ParameterParsingError               a parameter file that cannot be read
│   └── ParameterNotFoundError (LookupError) no value for a date after the first one
├── PluginError (RuntimeError)              assembling a deployment from plugins
│   ├── PluginNotFoundError (LookupError)   lists what is available
│   ├── PluginConflictError                 names both claimants
│   └── PluginContractError                 misspelt hook, unmet core API range
├── ValidationError (ValueError)            input that breaks a rule; lists every problem
├── DomainError (ValueError)                an operation the register's rules forbid
├── StorageError (RuntimeError)             the database
│   ├── RecordNotFoundError (LookupError)
│   ├── ConcurrencyError                    a concurrent change won; retry
│   └── AuditChainError                     the audit was tampered with; names the entry
├── UnsafeFileError (OSError)               an output path is a planted symbolic link
└── ExchangeError (ValueError)              register files and exchange batches
    └── MalformedFileError                  a file that cannot be read as its format

FamplanWarning (UserWarning)
├── FamplanDeprecationWarning (DeprecationWarning)
└── LoosePermissionsWarning                 a database file other users may read
```

Messages say what failed, where (file, line, field, parameter or date), what was expected,
with an example, and what was found.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

__all__ = [
    "AuditChainError",
    "ConcurrencyError",
    "ConfigurationError",
    "DomainError",
    "ExchangeError",
    "FamplanDeprecationWarning",
    "FamplanError",
    "FamplanWarning",
    "LoosePermissionsWarning",
    "MalformedFileError",
    "ParameterError",
    "ParameterNotFoundError",
    "ParameterParsingError",
    "PluginConflictError",
    "PluginContractError",
    "PluginError",
    "PluginNotFoundError",
    "Problem",
    "RecordNotFoundError",
    "StorageError",
    "UnsafeFileError",
    "ValidationError",
]


class FamplanError(Exception):
    """The root of every error famplan-core raises."""


class ConfigurationError(FamplanError, ValueError):
    """A deployment's configuration is wrong: `famplan.toml`, an option or a variable."""


class ParameterError(FamplanError, ValueError):
    """A program parameter is wrong or missing."""


class ParameterParsingError(ParameterError):
    """A parameter file cannot be read as an effective-dated parameter."""


class ParameterNotFoundError(ParameterError, LookupError):
    """A parameter has no value for a date after its first one (spec R0.8)."""


class PluginError(FamplanError, RuntimeError):
    """A deployment cannot be assembled from its plugins."""


class PluginNotFoundError(PluginError, LookupError):
    """A plugin named in the configuration is not installed; the message lists those that are."""


class PluginConflictError(PluginError):
    """Two plugins claim the same name; the message names both."""


class PluginContractError(PluginError):
    """A plugin breaks the hook contract: a misspelt hook, a bad signature, an unmet API range."""


@attrs.frozen(kw_only=True)
class Problem:
    """One problem found in input: where it is, what was found, and what was expected.

    Attributes:
        path: where the problem is, e.g. ``persons.csv:17:citizen_id`` or ``township.division``.
        value: the value found, as text (empty when the value is missing).
        message: what is wrong, in plain words, with the expected form.
    """

    path: str
    value: str
    message: str

    def __str__(self) -> str:
        shown = f" (found {self.value!r})" if self.value != "" else ""
        return f"{self.path}: {self.message}{shown}"


class ValidationError(FamplanError, ValueError):
    """Input breaks one or more rules. `problems` lists every one with its path.

    Args:
        problems: every problem found; at least one.
        summary: a one-line lead for the message; defaults to a count of the problems.
    """

    def __init__(self, problems: Iterable[Problem], summary: str | None = None) -> None:
        self.problems: Sequence[Problem] = tuple(problems)
        if not self.problems:
            raise ValueError("ValidationError needs at least one problem")
        lead = summary or (
            str(self.problems[0])
            if len(self.problems) == 1
            else f"{len(self.problems)} problems found"
        )
        lines = (
            [lead]
            if len(self.problems) == 1 and summary is None
            else [lead] + [f"  - {p}" for p in self.problems]
        )
        super().__init__("\n".join(lines))

    @classmethod
    def single(cls, path: str, value: object, message: str) -> ValidationError:
        """Build the error for one problem.

        Args:
            path: where the problem is.
            value: the value found (shown as text).
            message: what is wrong and what was expected.
        """
        return cls([Problem(path=path, value="" if value is None else str(value), message=message)])


class DomainError(FamplanError, ValueError):
    """An operation the register's rules forbid, e.g. linking a person as their own parent."""


class StorageError(FamplanError, RuntimeError):
    """The database failed or refused an operation."""


class RecordNotFoundError(StorageError, LookupError):
    """No record with that identifier is stored."""


class ConcurrencyError(StorageError):
    """Another unit of work changed the same records first; retry the operation."""


class AuditChainError(StorageError):
    """The audit's chain is broken: an entry was changed, removed or inserted, or a roll or
    notice no longer finds the audit entry that made it. Nothing is written over it until an
    officer accepts the break (``famplan audit accept-break``, itself audited).

    Args:
        problem: the first bad entry and what is wrong with it (it has ``entry`` and
            ``message`` attributes).
    """

    def __init__(self, problem: object) -> None:
        self.problem = problem
        entry = getattr(problem, "entry", "?")
        message = getattr(problem, "message", str(problem))
        super().__init__(
            f"the audit's hash chain is broken at entry {entry}: {message}. Nothing was "
            "written. See `famplan audit verify`; to go on writing, an officer accepts the "
            "break with `famplan audit accept-break --reason TEXT` (recorded in the audit)"
        )


class UnsafeFileError(FamplanError, OSError):
    """An output file's place holds a symbolic link; famplan never writes through one."""


class ExchangeError(FamplanError, ValueError):
    """A register file or an exchange batch cannot be accepted."""


class MalformedFileError(ExchangeError):
    """A file cannot be read as its format; the whole import or batch is refused.

    Args:
        file: the file's name.
        line: the physical line (1 is the header), or None when the whole file is at fault.
        message: what is wrong and what was expected.
    """

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.reason = message
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {message}")


class FamplanWarning(UserWarning):
    """Something is accepted but worth a look, e.g. a division code missing from the table."""


class FamplanDeprecationWarning(FamplanWarning, DeprecationWarning):
    """A name or hook argument will be removed in a later version."""


class LoosePermissionsWarning(FamplanWarning):
    """A file holding personal data (the SQLite database) can be read by other users."""
