"""Writing a synthetic register as CSV or JSON Lines, in chunks of column slices."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from famplan_core.files import private_folder, private_writer

if TYPE_CHECKING:
    from famplan_core.synthetic import SyntheticRegister, Table

__all__ = ["write_register"]

CHUNK_ROWS = 50_000
_JSON_UNSAFE = re.compile(r'["\\\x00-\x1f\x7f]')


def _cells(values: npt.NDArray[Any]) -> npt.NDArray[np.str_]:
    """Cell text of a column slice: dates as YYYY-MM-DD, NaT and "" as empty."""
    if values.dtype.kind == "M":
        text = np.datetime_as_string(values, unit="D")
        return np.where(np.isnat(values), "", text)
    return values


def _json_cells(values: npt.NDArray[Any]) -> list[str]:
    text = _cells(values)
    if _JSON_UNSAFE.search("".join(text.tolist())):
        return ["null" if v == "" else json.dumps(v, ensure_ascii=False) for v in text.tolist()]
    quoted = np.strings.add(np.strings.add('"', text), '"')
    return list(np.where(text == "", "null", quoted).tolist())


def _write_csv(table: Table, fh: Any) -> None:
    writer = csv.writer(fh, lineterminator="\r\n")
    writer.writerow(list(table.columns))
    cols = list(table.columns.values())
    for start in range(0, len(table), CHUNK_ROWS):
        stop = start + CHUNK_ROWS
        writer.writerows(zip(*(_cells(c[start:stop]).tolist() for c in cols), strict=True))


def _write_jsonl(table: Table, fh: Any) -> None:
    names = list(table.columns)
    template = "{" + ",".join(f"{json.dumps(n)}:%s" for n in names) + "}\n"
    cols = list(table.columns.values())
    for start in range(0, len(table), CHUNK_ROWS):
        stop = start + CHUNK_ROWS
        cells = [_json_cells(c[start:stop]) for c in cols]
        fh.write("".join(template % row for row in zip(*cells, strict=True)))


def write_register(
    register: SyntheticRegister,
    folder: Path,
    *,
    fmt: Literal["csv", "jsonl"] = "csv",
    encoding: Literal["utf-8", "utf-8-sig", "gb18030"] = "utf-8",
) -> dict[str, int]:
    """Write every file of a register into ``folder`` (created if missing).

    CSV files follow RFC 4180 (CRLF line ends, a header row); JSON Lines files hold one
    object per line with every value a string or ``null``, and are always UTF-8.

    Args:
        register: the register to write.
        folder: where to write ``persons.csv`` and the other files.
        fmt: ``csv`` or ``jsonl``.
        encoding: the CSV encoding: ``utf-8``, ``utf-8-sig`` (with a BOM) or ``gb18030``.

    Returns:
        File name → data rows written (the header not counted).

    Raises:
        ValueError: an unknown format, or an encoding other than UTF-8 for JSON Lines.
    """
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"fmt must be 'csv' or 'jsonl': {fmt!r}")
    if encoding not in ("utf-8", "utf-8-sig", "gb18030"):
        raise ValueError(f"encoding must be utf-8, utf-8-sig or gb18030: {encoding!r}")
    if fmt == "jsonl" and encoding != "utf-8":
        raise ValueError(f"JSON Lines files are UTF-8; got encoding {encoding!r}")
    private_folder(folder)
    written: dict[str, int] = {}
    for name, table in register.tables.items():
        path = folder / f"{name}.{fmt}"
        with private_writer(path, encoding=encoding, newline="") as fh:
            if fmt == "csv":
                _write_csv(table, fh)
            else:
                _write_jsonl(table, fh)
        written[path.name] = len(table)
    return written
