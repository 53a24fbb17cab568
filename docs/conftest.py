"""Run the examples of the documentation pages, so that what they show keeps working.

* Every ```` ```python ```` block runs; the blocks of one page share one namespace.
  ``<!-- invisible-code-block: python -->`` comments run too (hidden checks), and
  ``<!-- skip: next -->`` skips the next block (reference pages only).
* Every ```` ```console ```` (or ```` ```bash ````) block is a shell session. Lines starting
  with ``$ `` are commands: ``famplan ...`` runs the installed ``famplan`` command as a
  subprocess, ``cd DIR`` and ``export NAME=value`` change the folder and the environment of
  the following commands on that page, and other commands (``pip install``, ``make setup``)
  are shown to the reader but not run. ``NAME=value famplan ...`` sets a variable for one
  command. A command must exit with status 0, unless the line ends with ``# exits N``.
  The lines after a command, up to the next ``$ ``, are its expected output: each one that
  does not contain ``...`` must appear in the real output (stdout and stderr), with runs
  of spaces counted as one.
* Each page runs in its own temporary folder, which is the current folder while its
  examples run; ``FAMPLAN_CONFIG``, ``FAMPLAN_LOAD_PLUGINS``, ``FAMPLAN_DEBUG`` and
  ``FAMPLAN_NOW`` are unset.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from sybil import Document, Example, Region, Sybil
from sybil.parsers.markdown import PythonCodeBlockParser, SkipParser
from sybil.parsers.markdown.lexers import FencedCodeBlockLexer

FAMPLAN = Path(sys.executable).parent / "famplan"
"""The ``famplan`` command installed beside the Python that runs the tests."""

CLEARED_VARIABLES = ("FAMPLAN_CONFIG", "FAMPLAN_LOAD_PLUGINS", "FAMPLAN_DEBUG", "FAMPLAN_NOW")
PROMPT = "$ "
EXIT_NOTE = re.compile(r"\s+#\s*exits?\s+(\d+)\s*$")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
CWD_KEY = "_console_cwd"
ENV_KEY = "_console_env"


@attrs.frozen(kw_only=True)
class Command:
    """One ``$ `` line of a console block and the output shown after it."""

    line: int
    text: str
    words: tuple[str, ...]
    exit_status: int
    expected: tuple[str, ...]


def _normalise(text: str) -> str:
    return " ".join(text.split())


def parse_session(source: str, first_line: int) -> list[Command]:
    """Split a console block into its commands, each with the output lines shown after it."""
    commands: list[Command] = []
    lines = source.splitlines()
    index = 0
    while index < len(lines):
        raw = lines[index]
        if not raw.startswith(PROMPT):
            index += 1
            continue
        line_number = first_line + index
        text = raw[len(PROMPT) :]
        while text.endswith("\\") and index + 1 < len(lines):
            index += 1
            text = text[:-1] + " " + lines[index].strip()
        index += 1
        expected: list[str] = []
        while index < len(lines) and not lines[index].startswith(PROMPT):
            expected.append(lines[index])
            index += 1
        status = 0
        note = EXIT_NOTE.search(text)
        if note is not None:
            status = int(note.group(1))
            text = text[: note.start()]
        commands.append(
            Command(
                line=line_number,
                text=text.strip(),
                words=tuple(shlex.split(text, comments=True)),
                exit_status=status,
                expected=tuple(_normalise(e) for e in expected if e.strip() and "..." not in e),
            )
        )
    return commands


class ConsoleParser:
    """Find console blocks and run the ``famplan`` commands they show."""

    def __init__(self) -> None:
        self.lexer = FencedCodeBlockLexer(
            language=r"console|bash|shell",
            mapping={"language": "language", "source": "source"},
        )

    def __call__(self, document: Document) -> Iterable[Region]:
        for region in self.lexer(document):
            source = region.lexemes["source"]
            first_line = document.text.count("\n", 0, region.start) + 2
            commands = parse_session(str(source), first_line)
            if not commands:
                continue
            region.parsed = commands
            region.evaluator = self.evaluate
            yield region

    def evaluate(self, example: Example) -> str | None:
        namespace = example.namespace
        cwd: Path = namespace.setdefault(CWD_KEY, Path.cwd())
        exported: dict[str, str] = namespace.setdefault(ENV_KEY, {})
        for command in example.parsed:
            words = list(command.words)
            if not words:
                continue
            if words[0] == "cd":
                cwd = (cwd / (words[1] if len(words) > 1 else ".")).resolve()
                namespace[CWD_KEY] = cwd
                continue
            if words[0] == "export":
                for assignment in words[1:]:
                    name, _, value = assignment.partition("=")
                    exported[name] = value
                continue
            inline: dict[str, str] = {}
            while words and ASSIGNMENT.match(words[0]):
                name, _, value = words.pop(0).partition("=")
                inline[name] = value
            if not words or words[0] != "famplan":
                continue  # shown to the reader (pip, make), not run here
            failure = self._run(command, cwd, {**exported, **inline}, words[1:])
            if failure is not None:
                return failure
        return None

    @staticmethod
    def _run(command: Command, cwd: Path, variables: dict[str, str], args: list[str]) -> str | None:
        env = {k: v for k, v in os.environ.items() if k not in CLEARED_VARIABLES}
        env.update({"COLUMNS": "200", "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1"})
        env.update(variables)
        done = subprocess.run(
            [str(FAMPLAN), *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=300,
            check=False,
        )
        output = done.stdout + done.stderr
        where = f"line {command.line}: $ {command.text}"
        if done.returncode != command.exit_status:
            return (
                f"{where}\nexited {done.returncode}, expected {command.exit_status}\n"
                f"--- stdout\n{done.stdout}--- stderr\n{done.stderr}"
            )
        got = [_normalise(line) for line in output.splitlines()]
        missing = [e for e in command.expected if not any(e in line for line in got)]
        if missing:
            shown = "\n".join(f"  {m}" for m in missing)
            return f"{where}\nthese lines were not in the output:\n{shown}\n--- output\n{output}"
        return None


@pytest.fixture(scope="module")
def page_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh folder for one page: the current folder while the page's examples run."""
    folder = tmp_path_factory.mktemp("page")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        for name in CLEARED_VARIABLES:
            patch.delenv(name, raising=False)
        yield folder


def _setup(namespace: dict[str, Any]) -> None:
    namespace["__name__"] = "docs_example"


pytest_collect_file = Sybil(
    parsers=[PythonCodeBlockParser(), ConsoleParser(), SkipParser()],
    patterns=["*.md"],
    fixtures=["page_folder"],
    setup=_setup,
).pytest()
