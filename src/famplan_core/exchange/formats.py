"""Exchange formats (交换格式): how a batch's messages are written as files.

A format is a class with a ``PLUGIN_NAME`` registered through the
``famplan_register_exchange_formats`` hook. It encodes messages to files and decodes files
back to messages; the manifest (`famplan_core.exchange.batch.Manifest`) is common to every
format, so the checksums and counts are checked the same way whatever the format.

The core's format is JSON Lines (`JsonLinesFormat`, ``jsonl``): one UTF-8 file,
``messages.jsonl``, one message per line::

    {"id": "37.5f0c…", "type": "death", "payload": {"citizen_id": "…", "death_date": "2026-01-05"}}

A provincial format follows the same protocol; the reference is the GB18030 CSV profile of the
``famplan-exchange-province`` plugin.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, BinaryIO, ClassVar, Protocol, runtime_checkable

from famplan_core.errors import Problem
from famplan_core.exchange.batch import MAX_LINE_BYTES, MalformedBatchError, Message, RawMessage

__all__ = ["MESSAGES_FILE", "ExchangeFormat", "JsonLinesFormat"]

MESSAGES_FILE = "messages.jsonl"
"""The one message file of the JSON Lines format."""

_ENVELOPE = frozenset({"id", "type", "payload"})


@runtime_checkable
class ExchangeFormat(Protocol):
    """The port of an exchange format: encode messages to files, decode them back.

    Attributes:
        PLUGIN_NAME: the name the manifest's ``format`` field carries and `famplan.toml` picks.
        MESSAGE_TYPES: the message types it can carry, or None for every type.
    """

    PLUGIN_NAME: ClassVar[str]
    MESSAGE_TYPES: ClassVar[frozenset[str] | None]

    def encode(self, messages: Sequence[Message]) -> Mapping[str, bytes]:
        """The message files of a batch.

        Args:
            messages: the messages, in order.

        Returns:
            File name → content (not the manifest).

        Raises:
            ExchangeError: a message the format cannot carry (a type it does not know, a
                character its encoding cannot hold).
        """
        ...

    def decode(self, files: Mapping[str, BinaryIO]) -> Iterable[RawMessage]:
        """The messages of a batch's files, in order, payloads not yet checked.

        Read each file as a stream, a line or a record at a time (a generator is best):
        never the whole file at once, so that a large batch needs little memory.

        Args:
            files: the message files (every file the manifest lists), each a binary stream
                opened when first looked up; its size and SHA-256 are checked as it is read,
                and a stream that does not match the manifest raises `MalformedBatchError`.

        Raises:
            MalformedBatchError: a file cannot be read as the format; name the file and line.
        """
        ...


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


def _unicode(item: object) -> bool:
    """Whether decoded JSON holds only Unicode text (no lone surrogate from an escape)."""
    try:
        json.dumps(item, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class JsonLinesFormat:
    """The core's JSON Lines format (``jsonl``): one message per line of ``messages.jsonl``.

    Each line is an object with exactly ``id`` (text), ``type`` (text) and ``payload`` (an
    object); UTF-8 without BOM, ``\\n`` line ends, no empty lines.
    """

    PLUGIN_NAME: ClassVar[str] = "jsonl"
    MESSAGE_TYPES: ClassVar[frozenset[str] | None] = None

    def encode(self, messages: Sequence[Message]) -> Mapping[str, bytes]:
        """The one file ``messages.jsonl``.

        Args:
            messages: the messages, in order.
        """
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        text = "".join(
            dumps({"id": m.id, "type": m.type, "payload": dict(m.payload)}) + "\n" for m in messages
        )
        return {MESSAGES_FILE: text.encode("utf-8")}

    def decode(self, files: Mapping[str, BinaryIO]) -> Iterator[RawMessage]:
        """The messages of ``messages.jsonl``, read line by line.

        Args:
            files: the batch's files: exactly ``messages.jsonl``.

        Raises:
            MalformedBatchError: another file, bytes that are not UTF-8, a line that is not
                one JSON object of ``id``, ``type`` and ``payload``, a line longer than
                `MAX_LINE_BYTES`, or an empty line.
        """
        if set(files) != {MESSAGES_FILE}:
            raise MalformedBatchError(
                [
                    Problem(
                        path="files",
                        value=", ".join(sorted(files))[:80],
                        message=f"the jsonl format has one file, {MESSAGES_FILE}",
                    )
                ]
            )
        stream = files[MESSAGES_FILE]
        decoder = json.JSONDecoder(object_pairs_hook=_pairs)
        offset = 0
        number = 0
        while data := stream.readline(MAX_LINE_BYTES + 1):
            number += 1
            where = f"{MESSAGES_FILE}:{number}"
            if not data.endswith(b"\n"):
                message = (
                    f"longer than {MAX_LINE_BYTES} bytes"
                    if len(data) > MAX_LINE_BYTES
                    else "the last line has no line end: the file is truncated"
                )
                raise MalformedBatchError([Problem(path=where, value="", message=message)])
            try:
                line = data[:-1].decode("utf-8")
            except UnicodeDecodeError as exc:
                raise MalformedBatchError(
                    [
                        Problem(
                            path=where,
                            value="",
                            message=f"not UTF-8 (byte {offset + exc.start}): {exc.reason}",
                        )
                    ]
                ) from None
            offset += len(data)
            if number == 1 and line.startswith("\ufeff"):
                raise MalformedBatchError(
                    [Problem(path=where, value="", message="a BOM is not allowed")]
                )
            yield self._message(decoder, line, where, number)

    @staticmethod
    def _message(decoder: json.JSONDecoder, line: str, where: str, number: int) -> RawMessage:
        try:
            item = decoder.decode(line)
        except (ValueError, RecursionError) as exc:
            raise MalformedBatchError(
                [Problem(path=where, value=line[:60], message=f"not one JSON object: {exc}")]
            ) from None
        if "\\u" in line and not _unicode(item):
            raise MalformedBatchError(
                [
                    Problem(
                        path=where,
                        value="",
                        message="an escape gives a lone surrogate: not Unicode text",
                    )
                ]
            )
        if (
            not isinstance(item, dict)
            or set(item) != _ENVELOPE
            or not isinstance(item["id"], str)
            or not isinstance(item["type"], str)
            or not isinstance(item["payload"], dict)
        ):
            raise MalformedBatchError(
                [
                    Problem(
                        path=where,
                        value=line[:60],
                        message='expected {"id": text, "type": text, "payload": {...}}',
                    )
                ]
            )
        return RawMessage(
            id=item["id"],
            type=item["type"],
            payload=item["payload"],
            file=MESSAGES_FILE,
            line=number,
        )
