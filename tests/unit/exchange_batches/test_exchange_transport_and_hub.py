"""The folder drop, the hub that routes between folders, and the exchange hooks."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from famplan_core.errors import ExchangeError
from famplan_core.exchange import hooks
from famplan_core.exchange.batch import Message, Parcel, Receipt, pack
from famplan_core.exchange.formats import ExchangeFormat, JsonLinesFormat
from famplan_core.exchange.hub import Hub
from famplan_core.exchange.transports import (
    ExchangeTransport,
    FolderTransport,
    read_parcel,
    write_parcel,
)
from famplan_core.plugin_manager import DEFAULT_PLUGINS, PluginManager

G, H = "371502110", "371502115"


def _parcel(receiver: str = H, n: int = 0) -> Parcel:
    message = Message.new(
        sender=G,
        message_type="verification_request",
        payload={"citizen_id": "11010519491231002X", "name": "张三", "n": str(n)},
    )
    return pack(
        [message],
        sender=G,
        receiver=receiver,
        created_at=dt.datetime(2026, 4, 10, 8, n),
        fmt=JsonLinesFormat(),
    )


def test_the_core_format_and_transport_are_registered_through_the_hooks() -> None:
    if hooks.__name__ in DEFAULT_PLUGINS.values():
        manager = PluginManager.assemble(environ={"FAMPLAN_LOAD_PLUGINS": ""})
    else:
        manager = PluginManager.assemble(
            environ={"FAMPLAN_LOAD_PLUGINS": ""}, extra={"core-exchange": hooks}
        )
    assert manager.exchange_formats()["jsonl"] is JsonLinesFormat
    assert manager.exchange_transports()["folder"] is FolderTransport
    assert hooks.FAMPLAN_API == ">=1.0,<2"
    assert isinstance(JsonLinesFormat(), ExchangeFormat)
    assert isinstance(FolderTransport(Path(".")), ExchangeTransport)


def test_the_folder_drop_sends_receives_and_files_away(tmp_path: Path) -> None:
    transport = FolderTransport(tmp_path)
    parcel = _parcel()
    transport.send(parcel)
    transport.send(parcel)  # the same parcel again: harmless
    (written,) = (tmp_path / "outbox").iterdir()
    assert written.name == parcel.name
    assert read_parcel(written) == parcel
    assert not list((tmp_path / "outbox").glob(".staging-*"))
    # what arrives in the inbox is received, batches before receipts
    receipt = Receipt(
        batch_id="371502115-1",
        sender=H,
        receiver=G,
        status="accepted",
        created_at=dt.datetime(2026, 4, 10),
    ).to_parcel()
    for p in (receipt, parcel):
        write_parcel(tmp_path / "inbox", p)
    assert [p.name for p in transport.receive()] == [parcel.name, receipt.name]
    transport.done(parcel)
    transport.done(receipt, rejected=True)
    assert [p.name for p in (tmp_path / "processed").iterdir()] == [parcel.name]
    assert [p.name for p in (tmp_path / "rejected").iterdir()] == [receipt.name]
    assert list(transport.receive()) == []


def test_the_hub_routes_by_the_longest_division_prefix(tmp_path: Path) -> None:
    hub = Hub({"37": tmp_path / "province", G: tmp_path / "g", H: tmp_path / "h"})
    assert hub.route("371502115") == tmp_path / "h"
    assert hub.route("37") == tmp_path / "province"
    assert hub.route("371502110201") == tmp_path / "g"
    with pytest.raises(ExchangeError, match="no deployment takes parcels for 11"):
        hub.route("11")
    FolderTransport(tmp_path / "g").send(_parcel(H))
    FolderTransport(tmp_path / "g").send(_parcel("37", 1))
    FolderTransport(tmp_path / "g").send(_parcel("44", 2))
    step = hub.step()
    assert (step.collected, step.delivered, step.in_transit) == (2, 2, 0)
    assert len(step.undeliverable) == 1
    assert len(list((tmp_path / "h" / "inbox").iterdir())) == 1
    assert len(list((tmp_path / "province" / "inbox").iterdir())) == 1
    assert not list((tmp_path / "g" / "outbox").iterdir())


def test_the_hub_delivers_twice_and_out_of_order(tmp_path: Path) -> None:
    hub = Hub({G: tmp_path / "g", H: tmp_path / "h"}, copies=2, rng=random.Random(7))
    sender, receiver = FolderTransport(tmp_path / "g"), FolderTransport(tmp_path / "h")
    for n in range(5):
        sender.send(_parcel(H, n))
    order: list[str] = []
    for _ in range(100):
        hub.step()
        for parcel in receiver.receive():
            order.append(parcel.name)
            receiver.done(parcel)
        if hub.in_transit == 0:
            break
    assert len(order) == 10
    assert sorted(set(order)) == sorted({_parcel(H, n).name for n in range(5)})
    firsts = list(dict.fromkeys(order))
    assert firsts != sorted(firsts) or order != sorted(order)
