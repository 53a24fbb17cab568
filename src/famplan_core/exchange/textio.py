"""Text files of the register format: encodings, CSV and JSON Lines, read and written.

Reading decodes in the order the spec fixes: UTF-8 (with or without a byte order mark),
then GB18030 using the GB 18030-2022 mapping. Python's ``gb18030`` codec follows the 2005
mapping, in which 18 two-byte sequences decode to Private Use code points; GB 18030-2022
gives those characters their standard code points. `GB18030_2022_CHANGES` lists the 18, and
the ``famplan-gb18030-2022`` codec registered by this module applies them after decoding and
reverses them before encoding, as the WHATWG Encoding Standard does since it adopted
GB 18030-2022 (https://github.com/whatwg/encoding/pull/336, its ``index-gb18030.txt`` and
the encoder's side table).

CSV records carry their *physical* line number (the header is line 1; a record whose quoted
cell spans several lines is reported at its first line). Lines end at CR LF, LF or CR.
A file that cannot be read as its format raises `MalformedFileError` naming the file and
the line; writing a character the chosen encoding cannot hold raises `ExchangeError`
(never a ``?``).

Example:
    >>> fix_gb18030_2022(bytes.fromhex("fe59").decode("gb18030")) == "\\u9fb4"
    True
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import itertools
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Final

import attrs

from famplan_core.errors import ExchangeError, MalformedFileError
from famplan_core.files import private_writer

__all__ = [
    "GB18030_2022_CHANGES",
    "GB18030_2022_CODEC",
    "READ_ENCODINGS",
    "WRITE_ENCODINGS",
    "FileScan",
    "Gb18030Change",
    "fix_gb18030_2022",
    "normalise_encoding",
    "open_text",
    "read_csv",
    "read_csv_chunks",
    "read_jsonl",
    "scan_file",
    "unfix_gb18030_2022",
    "write_csv",
    "write_jsonl",
]


@attrs.frozen(kw_only=True)
class Gb18030Change:
    """One of the 18 mappings GB 18030-2022 changed from the 2005 edition.

    Attributes:
        gb_bytes: the two-byte GB18030 sequence, e.g. ``b"\\xfe\\x59"``.
        old: the Private Use code point GB 18030-2005 (and Python's codec) gives it.
        new: the standard code point GB 18030-2022 gives it.
    """

    gb_bytes: bytes
    old: str
    new: str


def _changes() -> tuple[Gb18030Change, ...]:
    # Source: the WHATWG Encoding Standard after PR 336 (GB 18030-2022, following the Unicode
    # Technical Committee recommendation L2/23-003r). index-gb18030.txt maps these pointers to
    # the new code points; the encoder's side table maps the old PUA code points to the same
    # bytes. Checked here: Python's gb18030 codec decodes each sequence to the "old" column.
    # Ten vertical punctuation forms (note A6DA/A6DB are not in code point order) and eight
    # CJK ideographs. The six 2005 PUA mappings FE51 FE52 FE53 FE6C FE76 FE91 did NOT change.
    table = (
        ("a6d9", 0xE78D, 0xFE10),
        ("a6da", 0xE78E, 0xFE12),
        ("a6db", 0xE78F, 0xFE11),
        ("a6dc", 0xE790, 0xFE13),
        ("a6dd", 0xE791, 0xFE14),
        ("a6de", 0xE792, 0xFE15),
        ("a6df", 0xE793, 0xFE16),
        ("a6ec", 0xE794, 0xFE17),
        ("a6ed", 0xE795, 0xFE18),
        ("a6f3", 0xE796, 0xFE19),
        ("fe59", 0xE81E, 0x9FB4),
        ("fe61", 0xE826, 0x9FB5),
        ("fe66", 0xE82B, 0x9FB6),
        ("fe67", 0xE82C, 0x9FB7),
        ("fe6d", 0xE832, 0x9FB8),
        ("fe7e", 0xE843, 0x9FB9),
        ("fe90", 0xE854, 0x9FBA),
        ("fea0", 0xE864, 0x9FBB),
    )
    return tuple(
        Gb18030Change(gb_bytes=bytes.fromhex(b), old=chr(old), new=chr(new))
        for b, old, new in table
    )


GB18030_2022_CHANGES: Final = _changes()
"""The 18 two-byte sequences whose mapping GB 18030-2022 changed, with old and new code points."""

_DECODE_FIX: Final = {ord(c.old): c.new for c in GB18030_2022_CHANGES}
_ENCODE_FIX: Final = {ord(c.new): c.old for c in GB18030_2022_CHANGES}
_OLD_RE: Final = re.compile("[" + "".join(c.old for c in GB18030_2022_CHANGES) + "]")
_NEW_RE: Final = re.compile("[" + "".join(c.new for c in GB18030_2022_CHANGES) + "]")
_LOWEST_OLD: Final = min(c.old for c in GB18030_2022_CHANGES)
_LOWEST_NEW: Final = min(c.new for c in GB18030_2022_CHANGES)


def fix_gb18030_2022(text: str) -> str:
    """Map the 18 Private Use code points of a 2005-mapping decode to their 2022 code points.

    Args:
        text: text decoded with Python's ``gb18030`` codec.

    Returns:
        The text as GB 18030-2022 reads the same bytes.
    """
    if text and max(text) >= _LOWEST_OLD and _OLD_RE.search(text):
        return text.translate(_DECODE_FIX)
    return text


def unfix_gb18030_2022(text: str) -> str:
    """Prepare text for Python's ``gb18030`` encoder so that it writes the 2022 bytes.

    The 18 characters that GB 18030-2022 gives two-byte codes (e.g. U+9FB4 → ``FE 59``) are
    replaced by the Private Use code points Python's 2005 codec maps to those bytes.

    Args:
        text: the text to encode.
    """
    if text and max(text) >= _LOWEST_NEW and _NEW_RE.search(text):
        return text.translate(_ENCODE_FIX)
    return text


GB18030_2022_CODEC: Final = "famplan-gb18030-2022"
"""The name of the codec this module registers: GB18030 with the GB 18030-2022 mapping."""

_CODEC_KEY: Final = "famplan_gb18030_2022"
_BASE: Final = codecs.lookup("gb18030")


class _Decoder(codecs.IncrementalDecoder):
    def __init__(self, errors: str = "strict") -> None:
        super().__init__(errors)
        self._inner = _BASE.incrementaldecoder(errors)

    def decode(self, input: Any, final: bool = False) -> str:
        return fix_gb18030_2022(self._inner.decode(input, final))

    def reset(self) -> None:
        self._inner.reset()

    def getstate(self) -> tuple[bytes, int]:
        state: tuple[bytes, int] = self._inner.getstate()
        return state

    def setstate(self, state: tuple[bytes, int]) -> None:
        self._inner.setstate(state)


class _Encoder(codecs.IncrementalEncoder):
    def __init__(self, errors: str = "strict") -> None:
        super().__init__(errors)
        self._inner = _BASE.incrementalencoder(errors)

    def encode(self, input: str, final: bool = False) -> bytes:
        data: bytes = self._inner.encode(unfix_gb18030_2022(input), final)
        return data

    def reset(self) -> None:
        self._inner.reset()


def _encode(text: str, errors: str = "strict") -> tuple[bytes, int]:
    return _BASE.encode(unfix_gb18030_2022(text), errors)[0], len(text)


def _decode(data: Any, errors: str = "strict") -> tuple[str, int]:
    text, used = _BASE.decode(data, errors)
    return fix_gb18030_2022(text), used


def _search(name: str) -> codecs.CodecInfo | None:
    if name.replace("-", "_") != _CODEC_KEY:
        return None
    return codecs.CodecInfo(
        name=GB18030_2022_CODEC,
        encode=_encode,
        decode=_decode,
        incrementalencoder=_Encoder,
        incrementaldecoder=_Decoder,
    )


codecs.register(_search)

READ_ENCODINGS: Final = ("utf-8", "utf-8-sig", "gb18030")
"""The encodings a register file may be read in (GB18030 with the 2022 mapping)."""

WRITE_ENCODINGS: Final = ("utf-8", "utf-8-sig", "gb18030", "gbk")
"""The encodings a register file may be written in.

``gbk`` is for systems that need it; it cannot hold rare characters such as 𠮷 and raises.
"""

_ALIASES: Final = {
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "utf_8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "utf8-sig": "utf-8-sig",
    "utf_8_sig": "utf-8-sig",
    "gb18030": "gb18030",
    "gb-18030": "gb18030",
    "gb18030-2022": "gb18030",
    "gb_18030": "gb18030",
    "gbk": "gbk",
    "cp936": "gbk",
}


def normalise_encoding(name: str, *, for_writing: bool = False) -> str:
    """The canonical name of an encoding the register format allows.

    Args:
        name: an encoding name, any case (``UTF8``, ``GB18030``, ``utf-8-sig`` …).
        for_writing: whether the encoding is for writing (which also allows ``gbk``).

    Raises:
        ExchangeError: the encoding is not one the register format allows.
    """
    canonical = _ALIASES.get(name.strip().lower())
    allowed = WRITE_ENCODINGS if for_writing else READ_ENCODINGS
    if canonical == "gbk" and not for_writing:
        canonical = "gb18030"  # GB18030 is a superset of GBK
    if canonical is None or canonical not in allowed:
        raise ExchangeError(
            f"encoding {name!r} is not allowed for register files; use one of {', '.join(allowed)}"
        )
    return canonical


def _codec(encoding: str) -> str:
    """The Python codec that implements a canonical encoding name."""
    if encoding == "gb18030":
        return GB18030_2022_CODEC
    if encoding == "utf-8":
        return "utf-8-sig"  # reading: a BOM is allowed either way; writing never uses this
    return encoding


@attrs.frozen(kw_only=True)
class FileScan:
    """What one pass over a file's bytes found.

    Attributes:
        name: the file's name (no folder).
        size: its size in bytes.
        sha256: the SHA-256 of its bytes, in hex.
        encoding: ``utf-8``, ``utf-8-sig`` (UTF-8 with a byte order mark) or ``gb18030``.
    """

    name: str
    size: int
    sha256: str
    encoding: str


_CHUNK: Final = 1 << 20


def _line_at(path: Path, offset: int) -> int:
    """The physical line (1-based; CR LF, LF or CR end a line) holding byte `offset`."""
    lines = 1
    previous_cr = False
    done = 0
    with path.open("rb") as f:
        while done < offset:
            chunk = f.read(min(_CHUNK, offset - done))
            if not chunk:
                break
            lines += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
            if previous_cr and chunk[:1] == b"\n":
                lines -= 1
            previous_cr = chunk[-1:] == b"\r"
            done += len(chunk)
    return lines


def _first_error(path: Path, codec: str) -> int | None:
    """The byte offset of the first undecodable byte, or None when the whole file decodes."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    done = 0
    with path.open("rb") as f:
        while True:
            chunk = f.read(_CHUNK)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                # exc.start is relative to the decoder's buffered input plus this chunk
                pending = len(exc.object) - len(chunk)
                return max(done - pending + exc.start, 0)
            if not chunk:
                return None
            done += len(chunk)


def _undecodable(path: Path, wanted: str | None) -> MalformedFileError:
    """The error for a file that does not decode, at the line of the first bad byte."""
    errors: list[int] = []
    if wanted in (None, "gb18030"):
        gb_error = _first_error(path, GB18030_2022_CODEC)
        if gb_error is not None:
            errors.append(gb_error)
    if wanted != "gb18030":
        utf8_error = _first_error(path, "utf-8")
        if utf8_error is not None:
            errors.append(utf8_error)
    # The encoding that got further is most likely the one meant: report its failure.
    line = _line_at(path, max(errors) if errors else 0)
    if wanted is None:
        message = (
            "the file is neither UTF-8 nor GB18030: a byte sequence on this line cannot be"
            " decoded in either; save the file as UTF-8 (or GB18030) and import it again"
        )
    else:
        message = (
            f"the file cannot be decoded as {wanted}, the encoding given: a byte sequence on"
            " this line is not valid in it"
        )
    return MalformedFileError(path.name, line, message)


def scan_file(path: Path, *, encoding: str | None = None, verify: bool = True) -> FileScan:
    """Hash a file and find its encoding, as the register format's decoding order says.

    Args:
        path: the file.
        encoding: the encoding to use instead of detecting one (``utf-8``, ``utf-8-sig``,
            ``gb18030``; ``gbk`` is read as GB18030).
        verify: whether to check that a file that is not UTF-8 decodes as GB18030. Without
            it, a file that is not UTF-8 is reported as ``gb18030`` and `read_csv` or
            `read_jsonl` raise when a byte does not decode (one pass less over the file).

    Raises:
        MalformedFileError: the file is neither UTF-8 nor GB18030 (or not the encoding given);
            the message gives the line of the first byte that does not decode.
        ExchangeError: the encoding given is not one the format allows.
    """
    name = path.name
    wanted = normalise_encoding(encoding) if encoding is not None else None
    hasher = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder("utf-8")("strict")
    utf8_ok = wanted in (None, "utf-8", "utf-8-sig")
    size = 0
    bom = False
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            if size == 0:
                bom = chunk.startswith(codecs.BOM_UTF8)
            size += len(chunk)
            hasher.update(chunk)
            if utf8_ok:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    utf8_ok = False
        if utf8_ok:
            try:
                utf8.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8_ok = False
    digest = hasher.hexdigest()
    if utf8_ok:
        found = "utf-8-sig" if bom else "utf-8"
        return FileScan(name=name, size=size, sha256=digest, encoding=found)
    if wanted in (None, "gb18030") and (
        not verify or _first_error(path, GB18030_2022_CODEC) is None
    ):
        return FileScan(name=name, size=size, sha256=digest, encoding="gb18030")
    raise _undecodable(path, wanted)


def open_text(path: Path, encoding: str) -> IO[str]:
    """Open a register file for reading as text, lines ending unchanged.

    A byte order mark at the start is dropped (for UTF-8 and GB18030 alike), and GB18030 is
    decoded with the GB 18030-2022 mapping.

    Args:
        path: the file.
        encoding: a canonical encoding name, as `scan_file` reports it.
    """
    f = path.open("r", encoding=_codec(encoding), errors="strict", newline="")
    if encoding == "gb18030" and f.read(1) != "\ufeff":
        f.seek(0)
    return f


def _quote_problem(path: Path, encoding: str, first_line: int) -> tuple[int, str] | None:
    """Find the broken quoting of the CSV record starting at `first_line`, as RFC 4180 reads it.

    Returns:
        The line where the offending quoted cell opens and what is wrong, or None when the
        record's quoting is sound.
    """
    line = 0
    state = "start"  # start of a cell | plain | quoted | quote (a quote inside a quoted cell)
    opened = 0
    with open_text(path, encoding) as f:
        for text in f:
            line += 1
            if line < first_line:
                continue
            i = 0
            n = len(text)
            while i < n:
                c = text[i]
                if state == "quoted":
                    j = text.find('"', i)
                    if j < 0:
                        break
                    state, i = "quote", j + 1
                    continue
                if c in "\r\n":
                    return None  # the record ended outside quotes: its quoting is sound
                if state == "quote":
                    if c == '"':
                        state = "quoted"
                    elif c == ",":
                        state = "start"
                    else:
                        return opened, (
                            "broken quoting: the quoted cell that opens on this line has text"
                            ' after its closing quote; write a quote inside a cell as two ("")'
                        )
                elif state == "start":
                    if c == '"':
                        state, opened = "quoted", line
                    elif c != ",":
                        state = "plain"
                elif c == ",":
                    state = "start"
                i += 1
    if state == "quoted":
        return opened, (
            "broken quoting: a quote opens a cell on this line and is never closed;"
            ' close it, or write a quote inside a cell as two ("")'
        )
    return None


def read_csv(path: Path, encoding: str) -> Iterator[tuple[int, list[str]]]:
    """Read a CSV file (RFC 4180, comma separated) record by record.

    Blank lines come as empty lists. The first record is the header.

    Args:
        path: the file.
        encoding: a canonical encoding name, as `scan_file` reports it.

    Yields:
        The physical line a record starts on, and its cells as read (not trimmed).

    Raises:
        MalformedFileError: broken quoting, reported at the line where the quoted cell opens,
            or a byte that does not decode.
    """
    try:
        yield from _read_csv(path, encoding)
    except UnicodeDecodeError:
        raise _undecodable(path, None if encoding == "gb18030" else encoding) from None


def _read_csv(path: Path, encoding: str) -> Iterator[tuple[int, list[str]]]:
    with open_text(path, encoding) as f:
        reader = csv.reader(f, strict=True)
        last = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                found = _quote_problem(path, encoding, last + 1)
                if found is None:
                    raise MalformedFileError(
                        path.name,
                        last + 1,
                        f"the record starting on this line cannot be read as CSV ({exc});"
                        " a quote that opens a cell and is never closed makes the cell run on",
                    ) from None
                raise MalformedFileError(path.name, found[0], found[1]) from None
            yield last + 1, cells
            last = reader.line_num


def read_csv_chunks(
    path: Path, encoding: str, size: int
) -> Iterator[tuple[list[int], list[list[str]]]]:
    """Read a CSV file as `read_csv` does, in chunks of up to `size` records.

    Args:
        path: the file.
        encoding: a canonical encoding name, as `scan_file` reports it.
        size: the most records in a chunk.

    Yields:
        The physical line each record of the chunk starts on, and the records' cells as read
        (not trimmed; a blank line is an empty list). The first record is the header.

    Raises:
        MalformedFileError: as `read_csv`.
    """
    try:
        yield from _read_csv_chunks(path, encoding, size)
    except UnicodeDecodeError:
        raise _undecodable(path, None if encoding == "gb18030" else encoding) from None


def _read_csv_chunks(
    path: Path, encoding: str, size: int
) -> Iterator[tuple[list[int], list[list[str]]]]:
    with open_text(path, encoding) as f:
        reader = csv.reader(f, strict=True)
        last = 0  # the physical lines read so far
        done = 0  # the records read so far
        while True:
            try:
                records = list(itertools.islice(reader, size))
            except csv.Error as exc:
                # read again record by record, which reports where the broken record starts
                for _ in _read_csv(path, encoding):
                    pass
                raise MalformedFileError(  # not reached: the same bytes fail the same way
                    path.name, last + 1, f"the file cannot be read as CSV ({exc})"
                ) from None
            if not records:
                return
            end = reader.line_num
            lines: list[int] | None
            if end - last == len(records):  # one line each: no quoted line break
                lines = list(range(last + 1, end + 1))
            else:
                lines = _record_lines(records, last, end)
                if lines is None:
                    lines = [
                        line
                        for line, _ in itertools.islice(
                            _read_csv(path, encoding), done, done + len(records)
                        )
                    ]
            last = end
            done += len(records)
            yield lines, records


def _record_lines(records: list[list[str]], last: int, end: int) -> list[int] | None:
    """The first line of each record, from the line breaks inside its quoted cells.

    A record takes one line and one more for each line break (CR LF, LF or CR) inside its
    cells, as the file is read with ``newline=""``. None when that does not add up to `end`.
    """
    lines = []
    line = last + 1
    for cells in records:
        lines.append(line)
        line += 1 + sum(c.count("\r") + c.count("\n") - c.count("\r\n") for c in cells)
    return lines if line - 1 == end else None


class _DuplicateKeyError(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(key)
            seen.add(key)
    return result


_JSON: Final = json.JSONDecoder(object_pairs_hook=_pairs)


def read_jsonl(path: Path, encoding: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Read a JSON Lines file: one JSON object per line; blank lines are skipped.

    Args:
        path: the file.
        encoding: a canonical encoding name, as `scan_file` reports it.

    Yields:
        The line number and the object read from it.

    Raises:
        MalformedFileError: a line is not valid JSON, not an object, or repeats a key, or a
            byte does not decode.
    """
    try:
        yield from _read_jsonl(path, encoding)
    except UnicodeDecodeError:
        raise _undecodable(path, None if encoding == "gb18030" else encoding) from None


def _read_jsonl(path: Path, encoding: str) -> Iterator[tuple[int, dict[str, Any]]]:
    with open_text(path, encoding) as f:
        for number, text in enumerate(f, start=1):
            if not text.strip():
                continue
            try:
                value = _JSON.decode(text)
            except _DuplicateKeyError as exc:
                raise MalformedFileError(
                    path.name, number, f"the object repeats the key {exc.key!r}"
                ) from None
            except (ValueError, RecursionError) as exc:
                raise MalformedFileError(
                    path.name,
                    number,
                    f"the line is not valid JSON ({exc}); each line must hold one JSON object",
                ) from None
            if not isinstance(value, dict):
                raise MalformedFileError(
                    path.name,
                    number,
                    f"the line holds a JSON {type(value).__name__}, not an object;"
                    ' each line must hold one object such as {"person_id": "P1", …}',
                )
            yield number, value


def _unencodable(
    file: str, row: int, columns: Sequence[str], cells: Sequence[str], encoding: str
) -> ExchangeError:
    for column, cell in zip(columns, cells, strict=False):
        try:
            codecs.encode(cell, _codec(encoding))
        except UnicodeEncodeError as exc:
            bad = exc.object[exc.start]
            return ExchangeError(
                f"{file}: row {row}, column {column}: the character {bad!r} (U+{ord(bad):04X})"
                f" cannot be written in {encoding}; export in utf-8 or gb18030 instead"
                " (nothing was written)"
            )
    return ExchangeError(f"{file}: row {row} cannot be written in {encoding} (nothing was written)")


@contextlib.contextmanager
def _atomic(path: Path, encoding: str) -> Iterator[IO[str]]:
    codec = _codec(encoding) if encoding != "utf-8" else "utf-8"
    with private_writer(path, encoding=codec, errors="strict", newline="") as f:
        yield f


def _check_width(file: str, row: int, columns: Sequence[str], cells: Sequence[str]) -> None:
    if len(cells) != len(columns):
        raise ExchangeError(
            f"{file}: row {row} has {len(cells)} values but the file has {len(columns)} columns"
            f" ({', '.join(columns)})"
        )
    for column, cell in zip(columns, cells, strict=True):
        if not isinstance(cell, str):
            raise ExchangeError(
                f"{file}: row {row}, column {column}: values are written as text, got"
                f" {type(cell).__name__} {cell!r}"
            )


def write_csv(
    path: Path, columns: Sequence[str], rows: Iterable[Sequence[str]], *, encoding: str = "utf-8"
) -> int:
    """Write a CSV file (RFC 4180, CR LF line ends): a header, then each row as given.

    Values are written exactly as given, never altered. The file appears whole or not at all.

    Args:
        path: the file to write (replaced if it exists).
        columns: the header.
        rows: the rows, each with one text value per column.
        encoding: ``utf-8``, ``utf-8-sig``, ``gb18030`` (2022 mapping) or ``gbk``.

    Returns:
        The number of rows written.

    Raises:
        ExchangeError: a row has the wrong number of values or a non-text value, or a character
            cannot be written in the encoding; nothing is written then.
    """
    encoding = normalise_encoding(encoding, for_writing=True)
    count = 0
    with _atomic(path, encoding) as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(columns)
        for count, cells in enumerate(rows, start=1):
            _check_width(path.name, count, columns, cells)
            try:
                writer.writerow(cells)
            except UnicodeEncodeError:
                raise _unencodable(path.name, count, columns, cells, encoding) from None
    return count


def write_jsonl(
    path: Path, columns: Sequence[str], rows: Iterable[Sequence[str]], *, encoding: str = "utf-8"
) -> int:
    """Write a JSON Lines file: one object per row with every column; empty values as null.

    Args:
        path: the file to write (replaced if it exists).
        columns: the keys, in order.
        rows: the rows, each with one text value per column.
        encoding: ``utf-8``, ``utf-8-sig``, ``gb18030`` (2022 mapping) or ``gbk``.

    Returns:
        The number of rows written.

    Raises:
        ExchangeError: as `write_csv`.
    """
    encoding = normalise_encoding(encoding, for_writing=True)
    count = 0
    with _atomic(path, encoding) as f:
        for count, cells in enumerate(rows, start=1):
            _check_width(path.name, count, columns, cells)
            record: Mapping[str, str | None] = {
                c: (v if v != "" else None) for c, v in zip(columns, cells, strict=True)
            }
            try:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
            except UnicodeEncodeError:
                raise _unencodable(path.name, count, columns, cells, encoding) from None
    return count
