"""A deployment's configuration: `famplan.toml`, read with tomllib and structured by the converter.

```toml
[township]
division = "371502110"      # the 9-digit township code (or 6-digit county) the deployment serves
name = "顾官屯镇"

[storage]
backend = "sql"
url = "sqlite:///famplan.db"  # relative SQLite paths are beside famplan.toml

[notices]
window_days = 7
complaint_phone = "0635-1234567"
complaint_box = "镇政府一楼大厅意见箱"

[audit]
key_file = "famplan-audit.key"  # the audit key; relative paths are beside famplan.toml

[plugins.report-markdown]   # one table per plugin: `enabled` and the plugin's own settings
enabled = true
```
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from famplan_core.errors import ConfigurationError, ValidationError
from famplan_core.model.identity import DivisionCode

__all__ = [
    "CONFIG_FILE",
    "CONFIG_VARIABLE",
    "AuditSettings",
    "Config",
    "NoticeSettings",
    "StorageSettings",
    "TownshipSettings",
    "find_config",
    "load_config",
    "render_config",
]

CONFIG_FILE = "famplan.toml"
CONFIG_VARIABLE = "FAMPLAN_CONFIG"
DEFAULT_SQLITE_URL = "sqlite:///famplan.db"
DEFAULT_AUDIT_KEY_FILE = "famplan-audit.key"


@attrs.frozen(kw_only=True)
class TownshipSettings:
    """The township (乡镇) a deployment serves.

    Attributes:
        division: its division code: 9 digits for a township, 6 for a county.
        name: its name, e.g. ``顾官屯镇``.
    """

    division: DivisionCode
    name: str


@attrs.frozen(kw_only=True)
class StorageSettings:
    """Where the register is stored.

    Attributes:
        backend: the storage plugin's name (``sql`` by default).
        url: an SQLAlchemy URL; ``sqlite:///famplan.db`` (beside `famplan.toml`) by
            default, or ``postgresql+psycopg://user@host/db``.
    """

    backend: str = "sql"
    url: str = attrs.field(default=DEFAULT_SQLITE_URL, repr=lambda url: repr(_masked(url)))


def _masked(url: str) -> str:
    # A password in the URL never shows in a repr (logs, tracebacks, debuggers).
    return re.sub(r"(//[^/@:]*:)[^@/]*@", r"\1***@", url)


@attrs.frozen(kw_only=True)
class NoticeSettings:
    """How public notices (公示) are posted.

    Attributes:
        window_days: how many days a notice stays posted (7 by default).
        complaint_phone: the telephone for objections printed on every notice.
        complaint_box: where the complaint box is, printed on every notice.
    """

    window_days: int = 7
    complaint_phone: str = ""
    complaint_box: str = ""


@attrs.frozen(kw_only=True)
class AuditSettings:
    """How the audit (审计) is sealed.

    Attributes:
        key_file: the audit key file (an HMAC secret that seals every audit entry); a
            relative path is beside `famplan.toml`. Keep it out of the database's backups
            and back it up on its own.
    """

    key_file: str = DEFAULT_AUDIT_KEY_FILE


@attrs.frozen(kw_only=True)
class Config:
    """A deployment's configuration.

    Attributes:
        township: the township served.
        storage: where the register is stored.
        notices: how public notices are posted.
        audit: how the audit is sealed (where its key is).
        plugins: each plugin's ``[plugins.<name>]`` table.
        path: the `famplan.toml` it was read from (None when built in code).
    """

    township: TownshipSettings
    storage: StorageSettings = attrs.Factory(StorageSettings)
    notices: NoticeSettings = attrs.Factory(NoticeSettings)
    audit: AuditSettings = attrs.Factory(AuditSettings)
    plugins: dict[str, dict[str, Any]] = attrs.Factory(dict)
    path: Path | None = None

    @property
    def folder(self) -> Path:
        """The folder of `famplan.toml` (the current folder when built in code)."""
        return self.path.parent if self.path is not None else Path.cwd()

    def plugin_settings(self, name: str) -> Mapping[str, Any]:
        """A plugin's own settings: its ``[plugins.<name>]`` table without ``enabled``."""
        return {k: v for k, v in self.plugins.get(name, {}).items() if k != "enabled"}

    def plugin_enabled(self, name: str) -> bool:
        """Whether an installed plugin is enabled (it is unless ``enabled = false``)."""
        return bool(self.plugins.get(name, {}).get("enabled", True))

    def audit_key_path(self) -> Path:
        """The audit key file, a relative path made absolute beside `famplan.toml`."""
        return (self.folder / Path(self.audit.key_file).expanduser()).resolve()

    def storage_url(self) -> str:
        """The storage URL, with a relative SQLite path made absolute beside `famplan.toml`."""
        url = self.storage.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/"):
            relative = url[len(prefix) :]
            if relative and relative != ":memory:":
                return prefix + str((self.folder / relative).resolve())
        return url


def load_config(path: Path) -> Config:
    """Read and check a `famplan.toml`.

    Args:
        path: the file.

    Raises:
        ConfigurationError: the file is missing, is not TOML, or breaks a rule; the message
            names the file, the key, the value found and the form expected.
    """
    from famplan_core.convert import structure

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigurationError(
            f"{path}: no such file; run `famplan init DIR --division CODE --name NAME` to make one"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{path}: cannot be read: {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: not valid TOML: {exc}") from exc
    if "path" in data:
        raise ConfigurationError(f"{path}: unknown key 'path' at the top level")
    try:
        config = structure(data, Config, source=path.name)
    except ValidationError as exc:
        problems = "; ".join(str(p) for p in exc.problems)
        raise ConfigurationError(problems) from exc
    return attrs.evolve(config, path=path.resolve())


def find_config(explicit: Path | None = None, *, cwd: Path | None = None) -> Path:
    """Find the deployment's `famplan.toml`.

    The order: `explicit` (``--config``), the ``FAMPLAN_CONFIG`` variable, then
    `famplan.toml` in the current folder.

    Raises:
        ConfigurationError: none was found; the message says how to make one.
    """
    if explicit is not None:
        return explicit
    variable = os.environ.get(CONFIG_VARIABLE)
    if variable:
        return Path(variable)
    candidate = (cwd or Path.cwd()) / CONFIG_FILE
    if candidate.is_file():
        return candidate
    raise ConfigurationError(
        f"no {CONFIG_FILE} in {cwd or Path.cwd()}; run `famplan init DIR --division CODE "
        f"--name NAME`, or name one with --config PATH or {CONFIG_VARIABLE}"
    )


def render_config(
    *,
    division: str,
    name: str,
    plugins: Mapping[str, bool] | None = None,
    storage_url: str = DEFAULT_SQLITE_URL,
) -> str:
    """The text of a new `famplan.toml`, with the SQLite default unless a URL is given.

    Args:
        division: the township's division code.
        name: the township's name.
        plugins: installed plugins to list, each enabled or not.
        storage_url: where the register is stored.
    """
    import tomli_w

    document: dict[str, Any] = {
        "township": {"division": division, "name": name},
        "storage": {"backend": "sql", "url": storage_url},
        "notices": {"window_days": 7, "complaint_phone": "", "complaint_box": ""},
    }
    if plugins:
        document["plugins"] = {plugin: {"enabled": on} for plugin, on in sorted(plugins.items())}
    where = (
        "in famplan.db beside this file (SQLite)"
        if storage_url == DEFAULT_SQLITE_URL
        else "at the [storage] url below"
    )
    header = (
        "# famplan-core deployment configuration; see the configuration reference.\n"
        f"# The register is stored {where}.\n\n"
    )
    return header + tomli_w.dumps(document)
