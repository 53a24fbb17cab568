"""A hub (交换枢纽) for tests and demos: routes parcels between folder-drop deployments.

Each deployment's exchange folder has an ``outbox`` and an ``inbox``
(`famplan_core.exchange.transports.FolderTransport`). The hub takes every parcel from every
outbox and puts it into the inbox of the deployment whose division is the longest prefix of
the parcel's receiver (a parcel to ``37`` goes to the province's folder, one to
``371502115`` to Hanji's). It can deliver each parcel several times and hold parcels back
at random, so that tests see duplicates and batches out of order, as a real network would
deliver them.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> root = Path(tempfile.mkdtemp())
    >>> hub = Hub({"371502110": root / "guguantun", "371502115": root / "hanji"})
    >>> hub.route("371502115")
    PosixPath('.../hanji')
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Mapping
from pathlib import Path

import attrs

from famplan_core.errors import ExchangeError
from famplan_core.exchange.batch import MalformedBatchError, Parcel
from famplan_core.exchange.transports import read_parcel, write_parcel
from famplan_core.files import private_folder

__all__ = ["Hub", "HubStep"]


@attrs.frozen(kw_only=True)
class HubStep:
    """What one step of the hub did.

    Attributes:
        collected: parcels taken from the outboxes.
        delivered: parcel copies put into inboxes.
        in_transit: copies still held back.
        undeliverable: parcels no deployment's division matches (kept aside).
    """

    collected: int
    delivered: int
    in_transit: int
    undeliverable: tuple[str, ...] = ()


@attrs.define
class _Transit:
    parcel: Parcel
    target: Path
    copies: int


class Hub:
    """Routes parcels between deployments' exchange folders by receiver division prefix.

    Args:
        folders: a division code → that deployment's exchange folder.
        copies: how many times each parcel is delivered (2 to test replays).
        rng: a random generator: when given, each step delivers a random part of what is in
            transit (out of order); without it, everything is delivered at once, in order.
    """

    def __init__(
        self,
        folders: Mapping[str, Path],
        *,
        copies: int = 1,
        rng: random.Random | None = None,
    ) -> None:
        if copies < 1:
            raise ValueError("copies must be at least 1")
        self.folders = {code: Path(path) for code, path in folders.items()}
        self.copies = copies
        self.rng = rng
        self._transit: list[_Transit] = []

    def route(self, receiver: str) -> Path:
        """The exchange folder of the deployment a receiver's parcels go to.

        Args:
            receiver: the receiver's division code.

        Raises:
            ExchangeError: no deployment's division is a prefix of it.
        """
        matches = [code for code in self.folders if receiver.startswith(code)]
        if not matches:
            raise ExchangeError(
                f"no deployment takes parcels for {receiver}; the hub routes to "
                + ", ".join(sorted(self.folders))
            )
        return self.folders[max(matches, key=len)]

    @property
    def in_transit(self) -> int:
        """Parcel copies held back."""
        return sum(t.copies for t in self._transit)

    def step(self) -> HubStep:
        """Collect from every outbox, then deliver (all, or a random part when out of order).

        Returns:
            What moved.
        """
        collected = 0
        undeliverable: list[str] = []
        for folder in self.folders.values():
            outbox = folder / "outbox"
            if not outbox.is_dir():
                continue
            for path in sorted(
                p for p in outbox.iterdir() if p.is_dir() and not p.name.startswith(".")
            ):
                parcel = read_parcel(path)
                try:
                    target = self.route(parcel.receiver)
                except (ExchangeError, MalformedBatchError):
                    aside = folder / "undeliverable"
                    private_folder(aside)
                    shutil.move(str(path), str(aside / path.name))
                    undeliverable.append(path.name)
                    continue
                self._transit.append(_Transit(parcel=parcel, target=target, copies=self.copies))
                shutil.rmtree(path)
                collected += 1
        delivered = 0
        if self.rng is None:
            chosen = list(self._transit)
        else:
            chosen = [t for t in self._transit if self.rng.random() < 0.5]
            if not chosen and self._transit:
                chosen = [self.rng.choice(self._transit)]
            self.rng.shuffle(chosen)
        for transit in chosen:
            inbox = transit.target / "inbox"
            if (inbox / transit.parcel.name).exists():
                continue  # the previous copy is still waiting: deliver this one later
            write_parcel(inbox, transit.parcel)
            transit.copies -= 1
            delivered += 1
        self._transit = [t for t in self._transit if t.copies > 0]
        return HubStep(
            collected=collected,
            delivered=delivered,
            in_transit=self.in_transit,
            undeliverable=tuple(undeliverable),
        )
