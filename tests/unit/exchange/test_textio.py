"""Encodings, CSV and JSON Lines of the register format (famplan_core.exchange.textio)."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from famplan_core.errors import ExchangeError, MalformedFileError
from famplan_core.exchange import textio
from famplan_core.exchange.textio import (
    GB18030_2022_CHANGES,
    fix_gb18030_2022,
    normalise_encoding,
    read_csv,
    read_jsonl,
    scan_file,
    unfix_gb18030_2022,
    write_csv,
    write_jsonl,
)

RARE = "𠮷䶮"  # U+20BB7 (CJK Ext. B) and U+4DAE (Ext. A): GB18030 holds them, GBK does not


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _records(path: Path, encoding: str | None = None) -> list[tuple[int, list[str]]]:
    scan = scan_file(path, encoding=encoding)
    return list(read_csv(path, scan.encoding))


# --- the GB 18030-2022 table -------------------------------------------------------------


def test_the_table_has_the_18_changed_mappings() -> None:
    """GB 18030-2022 moved 18 characters from Private Use to standard code points.

    Source: WHATWG Encoding Standard PR 336 (index-gb18030.txt after it). Ten are vertical
    punctuation (U+FE10-U+FE19), eight CJK ideographs (U+9FB4-U+9FBB).
    """
    assert len(GB18030_2022_CHANGES) == 18
    new = sorted(ord(c.new) for c in GB18030_2022_CHANGES)
    assert new == list(range(0x9FB4, 0x9FBC)) + list(range(0xFE10, 0xFE1A))
    assert len({c.gb_bytes for c in GB18030_2022_CHANGES}) == 18


@pytest.mark.parametrize("change", GB18030_2022_CHANGES, ids=lambda c: c.gb_bytes.hex())
def test_each_pair_is_what_python_2005_codec_decodes_and_2022_maps(
    change: textio.Gb18030Change,
) -> None:
    """Python's gb18030 codec (2005 mapping) gives the PUA point; our codec gives the new one."""
    assert change.gb_bytes.decode("gb18030") == change.old
    assert "\ue000" <= change.old <= "\uf8ff"
    assert change.gb_bytes.decode(textio.GB18030_2022_CODEC) == change.new
    assert change.new.encode(textio.GB18030_2022_CODEC) == change.gb_bytes
    # the 2005 codec writes the new code point as four bytes, which also read back to it
    assert change.new.encode("gb18030").decode(textio.GB18030_2022_CODEC) == change.new


def test_unchanged_2005_pua_mappings_stay() -> None:
    """FE51 FE52 FE53 FE6C FE76 FE91 kept their PUA mapping in 2022 (not among the 18)."""
    for hexbytes in ("fe51", "fe52", "fe53", "fe6c", "fe76", "fe91"):
        decoded = bytes.fromhex(hexbytes).decode(textio.GB18030_2022_CODEC)
        assert decoded == bytes.fromhex(hexbytes).decode("gb18030")


def test_fix_and_unfix_are_inverse_on_the_changed_points() -> None:
    old = "".join(c.old for c in GB18030_2022_CHANGES)
    new = "".join(c.new for c in GB18030_2022_CHANGES)
    assert fix_gb18030_2022("a" + old + "张") == "a" + new + "张"
    assert unfix_gb18030_2022("a" + new + "张") == "a" + old + "张"
    assert fix_gb18030_2022("") == ""
    assert unfix_gb18030_2022("plain") == "plain"


def test_a_gb18030_2022_code_point_read_from_a_file(tmp_path: Path) -> None:
    """A name written with FE59 in a GB18030 file reads as U+9FB4, not the PUA U+E81E."""
    data = "person_id,name\r\nP1,王".encode("gb18030") + bytes.fromhex("fe59") + b"\r\n"
    path = _write(tmp_path, "persons.csv", data)
    assert scan_file(path).encoding == "gb18030"
    assert _records(path)[1] == (2, ["P1", "王\u9fb4"])


# --- decoding order ----------------------------------------------------------------------


def test_utf8_without_bom(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.csv", f"name\n张{RARE}\n".encode())
    scan = scan_file(path)
    assert scan.encoding == "utf-8"
    assert _records(path) == [(1, ["name"]), (2, [f"张{RARE}"])]


def test_utf8_with_bom(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.csv", codecs.BOM_UTF8 + f"name\n张{RARE}\n".encode())
    assert scan_file(path).encoding == "utf-8-sig"
    assert _records(path) == [(1, ["name"]), (2, [f"张{RARE}"])]


def test_gb18030_with_characters_gbk_cannot_hold(tmp_path: Path) -> None:
    """Township spreadsheets saved as GB18030 must work, rare characters included."""
    with pytest.raises(UnicodeEncodeError):
        RARE.encode("gbk")
    path = _write(tmp_path, "a.csv", f"name\r\n张{RARE}\r\n".encode("gb18030"))
    scan = scan_file(path)
    assert scan.encoding == "gb18030"
    assert _records(path) == [(1, ["name"]), (2, [f"张{RARE}"])]


def test_gb18030_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.csv", "\ufeffname\r\n张\r\n".encode("gb18030"))
    assert _records(path)[0] == (1, ["name"])


def test_encoding_given(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.csv", "name\n张\n".encode("gb18030"))
    assert scan_file(path, encoding="GB18030").encoding == "gb18030"
    with pytest.raises(MalformedFileError, match="cannot be decoded as utf-8"):
        scan_file(path, encoding="utf-8")


def test_neither_utf8_nor_gb18030_is_malformed_at_its_line(tmp_path: Path) -> None:
    """An encoding that is neither UTF-8 nor GB18030: refused, naming file and line."""
    data = "name\n张\n".encode() + b"bad \xff\xfe here\n"
    path = _write(tmp_path, "persons.csv", data)
    with pytest.raises(MalformedFileError) as caught:
        scan_file(path)
    assert caught.value.file == "persons.csv"
    assert caught.value.line == 3
    assert "neither UTF-8 nor GB18030" in str(caught.value)


def test_unverified_gb18030_fails_while_reading(tmp_path: Path) -> None:
    """Without verify, a bad byte is found by read_csv / read_jsonl, at its line."""
    data = "name\r\n张\r\n".encode("gb18030") + b"ok\r\n\x80\r\n"
    for name in ("persons.csv", "persons.jsonl"):
        path = _write(tmp_path, name, data)
        scan = scan_file(path, verify=False)
        assert scan.encoding == "gb18030"
        reader = read_csv if name.endswith(".csv") else read_jsonl
        with pytest.raises(MalformedFileError) as caught:
            list(reader(path, scan.encoding))
        assert (caught.value.file, caught.value.line) == (name, 4)
        with pytest.raises(MalformedFileError):
            scan_file(path)


def test_undecodable_line_counts_cr_and_crlf(tmp_path: Path) -> None:
    path = _write(tmp_path, "p.csv", b"a\r\nb\rc\nd\xff\n")
    with pytest.raises(MalformedFileError) as caught:
        scan_file(path)
    assert caught.value.line == 4


def test_scan_hashes_the_bytes(tmp_path: Path) -> None:
    import hashlib

    data = b"name\nx\n"
    path = _write(tmp_path, "a.csv", data)
    scan = scan_file(path)
    assert scan.sha256 == hashlib.sha256(data).hexdigest()
    assert scan.size == len(data)
    assert scan.name == "a.csv"


def test_encoding_names() -> None:
    assert normalise_encoding("UTF8") == "utf-8"
    assert normalise_encoding("GBK") == "gb18030"
    assert normalise_encoding("gbk", for_writing=True) == "gbk"
    with pytest.raises(ExchangeError, match="not allowed"):
        normalise_encoding("latin-1")
    with pytest.raises(ExchangeError):
        normalise_encoding("big5", for_writing=True)


# --- CSV: physical lines and quoting -------------------------------------------------------


def test_physical_lines_with_a_multi_line_quoted_cell(tmp_path: Path) -> None:
    """A row spanning several lines is reported at its first line; the header is line 1."""
    text = 'a,b\r\n1,"x\r\ny\r\nz"\r\n\r\n2,3\r\n4,"q"\r\n'
    path = _write(tmp_path, "a.csv", text.encode())
    assert _records(path) == [
        (1, ["a", "b"]),
        (2, ["1", "x\r\ny\r\nz"]),
        (5, []),
        (6, ["2", "3"]),
        (7, ["4", "q"]),
    ]


def test_lone_cr_and_lf_line_ends(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.csv", b"a\r1\n2\r\n3")
    assert _records(path) == [(1, ["a"]), (2, ["1"]), (3, ["2"]), (4, ["3"])]


def test_unterminated_quote_is_reported_where_it_opens(tmp_path: Path) -> None:
    """Broken CSV quoting is reported at the line where the unterminated quote opens."""
    text = 'a,b\n1,2\n3,"never closed\n4,5\n6,7\n'
    path = _write(tmp_path, "persons.csv", text.encode())
    with pytest.raises(MalformedFileError) as caught:
        _records(path)
    assert (caught.value.file, caught.value.line) == ("persons.csv", 3)
    assert "never closed" in caught.value.reason


def test_unterminated_quote_on_a_later_line_of_a_record(tmp_path: Path) -> None:
    text = 'a,b,c\n1,"two\nlines",\n2,"ok","x\n'
    path = _write(tmp_path, "a.csv", text.encode())
    with pytest.raises(MalformedFileError) as caught:
        _records(path)
    assert caught.value.line == 4


def test_text_after_a_closing_quote(tmp_path: Path) -> None:
    text = 'a,b\n1,2\n3,"Zhang "San" Feng"\n'
    path = _write(tmp_path, "a.csv", text.encode())
    with pytest.raises(MalformedFileError) as caught:
        _records(path)
    assert caught.value.line == 3
    assert "after its closing quote" in caught.value.reason


def test_unterminated_quote_swallowing_a_huge_cell(tmp_path: Path) -> None:
    body = "".join(f"{i},name{i}\n" for i in range(20_000))
    text = 'a,b\n1,"open\n' + body
    path = _write(tmp_path, "a.csv", text.encode())
    with pytest.raises(MalformedFileError) as caught:
        _records(path)
    assert caught.value.line == 2


def test_nul_is_a_cell_character_not_a_crash(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.csv", b"a\nx\x00y\n")
    assert _records(path)[1] == (2, ["x\x00y"])


# --- JSON Lines --------------------------------------------------------------------------


def _jsonl(tmp_path: Path, text: str) -> list[tuple[int, dict[str, object]]]:
    path = _write(tmp_path, "persons.jsonl", text.encode())
    return list(read_jsonl(path, scan_file(path).encoding))


def test_jsonl_lines_and_blank_lines(tmp_path: Path) -> None:
    rows = _jsonl(tmp_path, '{"a": "1"}\n\n{"a": null}\r\n')
    assert rows == [(1, {"a": "1"}), (3, {"a": None})]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('{"a": "1"}\n{"a": \n', 2, "not valid JSON"),
        ('{"a": "1"}\n["a"]\n', 2, "not an object"),
        ('"text"\n', 1, "not an object"),
        ('{"a": "1", "a": "2"}\n', 1, "repeats the key 'a'"),
        ("[" * 100_000 + "\n", 1, "not valid JSON"),
    ],
)
def test_jsonl_malformed_lines(tmp_path: Path, text: str, line: int, words: str) -> None:
    """A JSON Lines line that is not valid JSON (or not one object) refuses the import."""
    with pytest.raises(MalformedFileError) as caught:
        _jsonl(tmp_path, text)
    assert caught.value.line == line
    assert words in caught.value.reason


# --- writing -----------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_write_then_read(tmp_path: Path, encoding: str) -> None:
    rows = [["P1", f"张{RARE}\u9fb4\ufe10"], ["P2", '=SUM(A1), "quoted"']]
    path = tmp_path / "a.csv"
    assert write_csv(path, ["id", "name"], rows, encoding=encoding) == 2
    scan = scan_file(path)
    assert [r[1] for r in read_csv(path, scan.encoding)] == [["id", "name"], *rows]
    assert not list(tmp_path.glob(".*"))


def test_gb18030_writer_uses_the_2022_two_byte_codes(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    write_csv(path, ["name"], [["\u9fb4"]], encoding="gb18030")
    assert path.read_bytes() == b"name\r\n\xfe\x59\r\n"


def test_utf8_sig_writer_writes_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    write_csv(path, ["name"], [["x"]], encoding="utf-8-sig")
    assert path.read_bytes().startswith(codecs.BOM_UTF8)
    write_csv(path, ["name"], [["x"]], encoding="utf-8")
    assert path.read_bytes() == b"name\r\nx\r\n"


@pytest.mark.parametrize(
    ("encoding", "value"),
    [("gbk", f"张{RARE}"), ("gb18030", "bad \ud800"), ("utf-8", "bad \udfff")],
)
def test_unencodable_character_raises_and_writes_nothing(
    tmp_path: Path, encoding: str, value: str
) -> None:
    """If a name cannot be encoded, fail with a clear error; never write '?'."""
    path = tmp_path / "a.csv"
    with pytest.raises(ExchangeError) as caught:
        write_csv(path, ["id", "name"], [["P1", "ok"], ["P2", value]], encoding=encoding)
    message = str(caught.value)
    assert "row 2, column name" in message
    assert encoding in message
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_jsonl_unencodable_raises(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    with pytest.raises(ExchangeError, match="cannot be written in gbk"):
        write_jsonl(path, ["name"], [["𠮷"]], encoding="gbk")
    assert not path.exists()


def test_write_refuses_rows_of_the_wrong_width(tmp_path: Path) -> None:
    with pytest.raises(ExchangeError, match="row 1 has 1 values"):
        write_csv(tmp_path / "a.csv", ["a", "b"], [["x"]])
    with pytest.raises(ExchangeError, match="written as text"):
        write_jsonl(tmp_path / "a.jsonl", ["a"], [[1]])  # type: ignore[list-item]


def test_jsonl_writer_writes_empty_as_null(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    write_jsonl(path, ["a", "b"], [["x", ""]], encoding="gb18030")
    assert json.loads(path.read_bytes().decode("gb18030")) == {"a": "x", "b": None}
    scan = scan_file(path)
    assert list(read_jsonl(path, scan.encoding)) == [(1, {"a": "x", "b": None})]


@settings(max_examples=150, deadline=None)
@given(
    cells=st.lists(
        st.lists(
            st.text(st.characters(exclude_categories=["Cs"]), max_size=12), min_size=2, max_size=2
        ),
        max_size=6,
    ),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
)
def test_csv_round_trip_of_any_text(
    tmp_path_factory: pytest.TempPathFactory, cells: list[list[str]], encoding: str
) -> None:
    """Any text (quotes, commas, line breaks, rare characters) survives write then read.

    The 18 PUA points GB 18030-2022 re-mapped read back as their standard code points.
    """
    path = tmp_path_factory.mktemp("rt") / "a.csv"
    write_csv(path, ["a", "b"], cells, encoding=encoding)
    scan = scan_file(path)
    got = [r[1] for r in read_csv(path, scan.encoding)][1:]
    expected = cells
    if encoding == "gb18030":
        expected = [[fix_gb18030_2022(c) for c in row] for row in cells]
    # a row of two empty cells is written as "," and read back as two empty cells
    assert got == expected
