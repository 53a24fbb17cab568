"""Reading parcels from disk as a partner left them: whatever the entries, the reader refuses
what is not a regular file, refuses unlisted files before reading them, and gives back,
streamed, exactly the messages that were packed."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from famplan_core.exchange.batch import (
    MalformedBatchError,
    Message,
    UnsafeParcelError,
    pack,
    unpack,
)
from famplan_core.exchange.formats import JsonLinesFormat
from famplan_core.exchange.transports import FolderParcel, write_parcel

G = "371502110"
FORMATS = {"jsonl": JsonLinesFormat}
WHEN = dt.datetime(2026, 4, 10, 7)

_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30
).filter(lambda t: t.strip() != "")


def _messages(payloads: list[dict[str, str]]) -> list[Message]:
    unique = {}
    for p in payloads:
        m = Message.new(sender="37", message_type="death", payload=p)
        unique[m.id] = m
    return list(unique.values())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    payloads=st.lists(
        st.dictionaries(st.sampled_from(["name", "citizen_id", "note"]), _text, min_size=1),
        min_size=1,
        max_size=20,
    )
)
def test_a_parcel_on_disk_gives_back_exactly_what_was_packed(
    payloads: list[dict[str, str]],
) -> None:
    messages = _messages(payloads)
    parcel = pack(messages, sender="37", receiver=G, created_at=WHEN, fmt=JsonLinesFormat())
    with tempfile.TemporaryDirectory() as root:
        folder = write_parcel(Path(root), parcel)
        batch = unpack(FolderParcel(folder), formats=FORMATS, receiver=G)
        assert len(batch.messages) == len(messages)
        read = [(m.id, m.type, dict(m.payload)) for m in batch.messages]
        assert read == [(m.id, m.type, dict(m.payload)) for m in messages]
        # the same as from memory
        assert list(unpack(parcel, formats=FORMATS, receiver=G).messages) == list(batch.messages)


_ENTRY_KINDS = ("listed", "unlisted", "symbolic link", "folder", "FIFO")


def _plant(folder: Path, name: str, kind: str, target: Path) -> None:
    path = folder / name
    if kind == "unlisted":
        path.write_bytes(b"not listed\n")
    elif kind == "symbolic link":
        path.symlink_to(target)
    elif kind == "folder":
        path.mkdir()
    elif kind == "FIFO":
        os.mkfifo(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    extra=st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9_.-]{0,12}", fullmatch=True).filter(
            lambda n: n not in ("manifest.json", "messages.jsonl")
        ),
        st.sampled_from(_ENTRY_KINDS[1:]),
        max_size=4,
    ),
    replace=st.sampled_from((None, *_ENTRY_KINDS[2:])),
)
def test_whatever_a_parcel_holds_the_reader_refuses_what_it_must_and_reads_nothing_else(
    extra: dict[str, str], replace: str | None
) -> None:
    message = Message.new(sender="37", message_type="death", payload={"name": "陈兰"})
    parcel = pack([message], sender="37", receiver=G, created_at=WHEN, fmt=JsonLinesFormat())
    with tempfile.TemporaryDirectory() as root:
        outside = Path(root) / "outside"
        outside.write_bytes(parcel.files["messages.jsonl"])
        folder = write_parcel(Path(root) / "inbox", parcel)
        for name, kind in extra.items():
            _plant(folder, name, kind, outside)
        if replace is not None:
            (folder / "messages.jsonl").unlink()
            _plant(folder, "messages.jsonl", replace, outside)
        odd = sorted(n for n, k in extra.items() if k != "unlisted")
        if replace is not None:
            odd = sorted([*odd, "messages.jsonl"])
        unlisted = sorted(n for n, k in extra.items() if k == "unlisted")
        if odd:
            with pytest.raises(UnsafeParcelError) as unsafe:
                unpack(FolderParcel(folder), formats=FORMATS, receiver=G)
            assert [p.path for p in unsafe.value.problems] == odd
        elif unlisted:
            with pytest.raises(MalformedBatchError) as refused:
                unpack(FolderParcel(folder), formats=FORMATS, receiver=G)
            assert [p.path for p in refused.value.problems] == unlisted
            assert not isinstance(refused.value, UnsafeParcelError)
        else:
            batch = unpack(FolderParcel(folder), formats=FORMATS, receiver=G)
            assert [m.id for m in batch.messages] == [message.id]
