"""The public API: the curated top-level ``__all__`` and every public module's ``__all__``."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import famplan_core

PACKAGE_DIR = Path(famplan_core.__file__).resolve().parent
REQUIRED = {"hookimpl", "open", "Money", "FamplanError", "__version__"}


def _defines_all(path: Path) -> bool:
    # Read the source rather than import it: some modules (Alembic's env.py) only run
    # inside their tool, and none of those defines __all__.
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            return True
    return False


def public_modules_with_all() -> list[str]:
    """Every module of famplan_core whose dotted path has no part starting with ``_``."""
    names = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = path.relative_to(PACKAGE_DIR).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(part.startswith("_") for part in parts):
            continue
        if _defines_all(path):
            names.append(".".join(("famplan_core", *parts)))
    return names


def test_top_level_all_is_sorted_without_duplicates() -> None:
    names = list(famplan_core.__all__)
    assert names == sorted(names), "famplan_core.__all__ is not sorted"
    assert len(names) == len(set(names)), "famplan_core.__all__ has duplicates"


def test_top_level_all_has_the_everyday_names() -> None:
    missing = REQUIRED - set(famplan_core.__all__)
    assert not missing, f"famplan_core.__all__ lacks {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(famplan_core.__all__))
def test_top_level_name_resolves(name: str) -> None:
    assert getattr(famplan_core, name) is not None


def test_public_modules_are_found() -> None:
    modules = public_modules_with_all()
    assert "famplan_core" in modules
    assert "famplan_core.errors" in modules


@pytest.mark.parametrize("module_name", public_modules_with_all())
def test_module_all_resolves(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = list(module.__all__)
    assert len(exported) == len(set(exported)), f"{module_name}.__all__ has duplicates"
    missing = [name for name in exported if not hasattr(module, name)]
    assert not missing, f"{module_name}.__all__ names what it does not define: {missing}"
