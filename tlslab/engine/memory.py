"""Client and server wired together in memory: no sockets, every flight visible.

``handshake_in_memory(client, server)`` shuttles bytes until both sides are connected (or one
fails) and returns the flights as they crossed the "wire". A ``tamper`` hook may change a flight
in transit, which is how the tests and notebook 09 play man-in-the-middle.
Taught in notebook 08_full_handshake.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .connection import Connection, Event

Tamper = Callable[[int, str, bytes], bytes]


@dataclass
class Flight:
    """The bytes one side sent in one go, and what the other side made of them."""

    index: int
    sender: str
    data: bytes
    events: list[Event] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"<Flight {self.index}: {self.sender} -> {len(self.data)} bytes, events {[type(e).__name__ for e in self.events]}>"


@dataclass
class InMemoryResult:
    flights: list[Flight]
    client: Any
    server: Any
    error: BaseException | None = None
    failed_side: str | None = None

    @property
    def completed(self) -> bool:
        return (
            self.error is None and self.client.handshake_complete and self.server.handshake_complete
        )

    @property
    def stalled(self) -> bool:
        """Neither done nor failed: a side waits for bytes that never come (a length was changed
        in transit). Over a socket this ends with a timeout."""
        return self.error is None and not self.completed


def handshake_in_memory(
    client: Any, server: Connection, *, tamper: Tamper | None = None, max_flights: int = 12
) -> InMemoryResult:
    """Run the handshake until both sides are connected. ``client`` must not have been started.

    A TLS error on either side stops the exchange: it is returned in ``error`` with the side that
    raised it (the alert it queued is still in that side's ``data_to_send``)."""
    client.start()
    flights: list[Flight] = []
    sides = {"client": client, "server": server}
    peer = {"client": "server", "server": "client"}
    sender = "client"
    for index in range(max_flights):
        data = sides[sender].data_to_send()
        if not data:
            if client.handshake_complete and server.handshake_complete:
                break
            sender = peer[sender]
            continue
        if tamper is not None:
            data = tamper(index, sender, data)
        flight = Flight(index, sender, data)
        flights.append(flight)
        receiver = peer[sender]
        try:
            flight.events = sides[receiver].receive_data(data)
        except Exception as error:
            from ..errors import TLSError

            if not isinstance(error, TLSError):
                raise
            return InMemoryResult(flights, client, server, error, receiver)
        sender = receiver
    return InMemoryResult(flights, client, server)
