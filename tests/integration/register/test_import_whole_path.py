"""Import and export through the command line and real storage (spec register-format.md)."""

from __future__ import annotations

import csv
import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from famplan_core.model.identity import CitizenId

FAMPLAN = str(Path(sys.executable).parent / "famplan")
PERSONS = "person_id,citizen_id,name,sex,birth_date,hukou_division,hukou_type,household_id\n"


def _id(born: str, sequence: str) -> str:
    first17 = f"371502{born.replace('-', '')}{sequence}"
    return first17 + CitizenId.check_character(first17)


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FAMPLAN_")}
    return subprocess.run(
        [FAMPLAN, *args], cwd=cwd, env=environment, capture_output=True, text=True, check=False
    )


@pytest.fixture
def town(tmp_path: Path) -> Path:
    done = _run("init", "town", "--division", "371502110", "--name", "顾官屯镇", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return tmp_path / "town"


def _write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(text.encode(encoding))


def _tables_digest(database: Path) -> str:
    """A digest of every row of every table: 'unchanged' means this is equal."""
    digest = hashlib.sha256()
    with sqlite3.connect(database) as connection:
        names = [
            r[0]
            for r in connection.execute(
                "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"
            )
        ]
        for name in names:
            digest.update(name.encode())
            for row in sorted(map(repr, connection.execute(f'SELECT * FROM "{name}"'))):
                digest.update(row.encode())
    return digest.hexdigest()


def test_a_malformed_file_refuses_the_whole_import_and_leaves_every_table_unchanged(
    town: Path,
) -> None:
    """'a malformed file refuses the whole import, naming the file and line, and stores nothing'."""
    first = town / "first"
    _write(
        first,
        "persons.csv",
        PERSONS + f"P1,{_id('1960-01-01', '001')},王大山,1,1960-01-01,371502110201,rural,\n",
    )
    done = _run("import", "first", cwd=town)
    assert done.returncode == 0, done.stderr
    before = _tables_digest(town / "famplan.db")

    update = town / "update"
    _write(
        update,
        "persons.csv",
        PERSONS + f"P2,{_id('1962-02-02', '002')},李秀英,2,1962-02-02,371502110201,rural,\n",
    )
    _write(
        update, "unions.csv", 'person_a,person_b,start\nP1,P2,"1985-01-01\n'
    )  # quote never closes
    refused = _run("import", "update", cwd=town)
    assert refused.returncode == 1
    assert "unions.csv:2" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert _tables_digest(town / "famplan.db") == before


def test_gb18030_names_that_gbk_cannot_encode_import_and_export_intact(town: Path) -> None:
    """'A GB18030 file with names GBK cannot encode (𠮷, 䶮) imports and exports intact'."""
    names = ["吉𠮷", "刘䶮", "欧阳龘"]
    with pytest.raises(UnicodeEncodeError):
        "".join(names).encode("gbk")
    rows = ""
    for i, name in enumerate(names, start=1):
        born = f"19{70 + i}-03-0{i}"
        sex = 1 if i % 2 else 2  # the ID's sequence 00i is odd for men, even for women
        rows += f"P{i},{_id(born, f'00{i}')},{name},{sex},{born},371502110201,rural,\n"
    _write(town / "gb", "persons.csv", PERSONS + rows, encoding="gb18030")
    done = _run("import", "gb", "--json", cwd=town)
    assert done.returncode == 0, done.stderr
    for encoding in ("gb18030", "utf-8"):
        exported = _run("export", f"out-{encoding}", "--encoding", encoding, cwd=town)
        assert exported.returncode == 0, exported.stderr
        with (town / f"out-{encoding}" / "persons.csv").open(
            encoding=encoding, newline=""
        ) as handle:
            assert sorted(row["name"] for row in csv.DictReader(handle)) == sorted(names)
