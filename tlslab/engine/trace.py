"""A record of every step of a handshake: messages, parameters, secrets and checks, in order.

Client and server append to a :class:`Trace` as they go; it is the only thing plots and widgets
read. It exports the NSS key log (so Wireshark, or tlslab itself, can decrypt the session),
a dict/JSON form, a text ladder (``print(trace)``) and an HTML table in Jupyter.
Taught in notebook 08_full_handshake.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

from ..stages.keylog import KeyLog

_KEYLOG_LABELS = {
    "client_handshake_traffic_secret": "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "server_handshake_traffic_secret": "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "client_application_traffic_secret_0": "CLIENT_TRAFFIC_SECRET_0",
    "server_application_traffic_secret_0": "SERVER_TRAFFIC_SECRET_0",
    "exporter_master_secret": "EXPORTER_SECRET",
}
_KEYLOG_LABELS_12 = {"master_secret": "CLIENT_RANDOM"}  # the TLS 1.2 master secret


class TraceEvent:
    """One step. ``kind`` is message, parameter, secret, check or note; ``direction`` is sent/received.

    A plain slotted object, read-only by convention: a handshake records some 25 steps per side,
    so recording one costs a single small allocation; the text a learner reads
    (:meth:`summary`) is formatted only when it is shown."""

    __slots__ = ("index", "kind", "name", "direction", "value", "data", "ok")

    def __init__(
        self,
        index: int,
        kind: str,
        name: str,
        direction: str = "",
        value: Any = None,
        data: bytes = b"",
        ok: bool = True,
    ) -> None:
        self.index = index
        self.kind = kind
        self.name = name
        self.direction = direction
        self.value = value
        self.data = data
        self.ok = ok

    def _fields(self) -> tuple[Any, ...]:
        return (self.index, self.kind, self.name, self.direction, self.value, self.data, self.ok)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TraceEvent) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return (
            f"TraceEvent(index={self.index}, kind={self.kind!r}, name={self.name!r}, "
            f"direction={self.direction!r}, value={self.value!r}, data={self.data!r}, ok={self.ok})"
        )

    def summary(self) -> str:
        if self.kind == "message":
            arrow = "->" if self.direction == "sent" else "<-"
            lock = ", encrypted" if self.value == "encrypted" else ""
            return f"{arrow} {self.name} ({len(self.data)} bytes{lock})"
        if self.kind == "secret":
            return f"   secret {self.name} = {bytes(self.value).hex()[:32]}..."
        if self.kind == "parameter" and self.name == "group" and isinstance(self.value, int):
            from ..constants import NamedGroup, describe

            return f"   parameter group: {describe(NamedGroup, self.value)}"
        if self.kind == "check":
            return (
                f"   check {self.name}: {'ok' if self.ok else 'FAILED'} {self.value or ''}".rstrip()
            )
        return f"   {self.kind} {self.name}: {self.value}"


MAX_TRACE_EVENTS = 4096
"""Steps a :class:`Trace` keeps (the handshake's come first); then one "trace full" note."""


@dataclass
class Trace:
    """The ordered steps of one side of a connection."""

    role: str
    events: list[TraceEvent] = field(default_factory=list)
    client_random: bytes = b""

    def _room(self) -> bool:
        """Bounded: a peer may go on for ever with KeyUpdates or warnings between bytes of data."""
        n = len(self.events)
        if n < MAX_TRACE_EVENTS:
            return True
        if n == MAX_TRACE_EVENTS:
            note = f"the first {MAX_TRACE_EVENTS} steps are kept; later ones are not recorded"
            self.events.append(TraceEvent(n, "note", "trace full", "", note))
        return False

    def message(self, direction: str, name: str, data: bytes, *, protected: bool = False) -> None:
        if not self._room():
            return
        events = self.events
        value = "encrypted" if protected else "plaintext"
        events.append(TraceEvent(len(events), "message", name, direction, value, data))

    def parameter(self, name: str, value: Any) -> None:
        if not self._room():
            return
        self.events.append(TraceEvent(len(self.events), "parameter", name, "", value))

    def secret(self, name: str, value: bytes) -> None:
        if not self._room():
            return
        self.events.append(TraceEvent(len(self.events), "secret", name, "", value))

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        if not self._room():
            return
        self.events.append(TraceEvent(len(self.events), "check", name, "", detail, b"", ok))

    def note(self, name: str, value: Any = "") -> None:
        if not self._room():
            return
        self.events.append(TraceEvent(len(self.events), "note", name, "", value))

    # -- views -------------------------------------------------------------------------
    def messages(self) -> list[TraceEvent]:
        return [e for e in self.events if e.kind == "message"]

    def secrets(self) -> dict[str, bytes]:
        return {e.name: bytes(e.value) for e in self.events if e.kind == "secret"}

    def parameters(self) -> dict[str, Any]:
        return {e.name: e.value for e in self.events if e.kind == "parameter"}

    def keylog(self) -> KeyLog:
        """The NSS key log for this session (what SSLKEYLOGFILE would contain)."""
        log = KeyLog()
        tls12 = self.parameters().get("version") == "TLS12"
        labels = _KEYLOG_LABELS_12 if tls12 else _KEYLOG_LABELS
        for name, value in self.secrets().items():
            if name in labels and self.client_random:
                log.add(labels[name], self.client_random, value)
        return log

    def to_dict(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            if isinstance(value, (bytes, bytearray)):
                return bytes(value).hex()
            if isinstance(value, (str, int, float, bool)) or value is None:
                return value
            return str(value)

        return {
            "role": self.role,
            "client_random": self.client_random.hex(),
            "events": [
                {
                    "index": e.index,
                    "kind": e.kind,
                    "name": e.name,
                    "direction": e.direction,
                    "value": plain(e.value),
                    "data": e.data.hex(),
                    "ok": e.ok,
                }
                for e in self.events
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    def __str__(self) -> str:
        return f"{self.role} trace\n" + "\n".join(e.summary() for e in self.events)

    def __repr__(self) -> str:
        return f"<Trace {self.role}: {len(self.messages())} messages, {len(self.events)} steps>"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{e.index}</td><td>{e.kind}</td><td>{html.escape(e.direction)}</td>"
            f"<td style='text-align:left'>{html.escape(e.name)}</td>"
            f"<td style='text-align:left;font-family:monospace'>{html.escape(e.summary())}</td></tr>"
            for e in self.events
        )
        return f"<table><tr><th>#</th><th>kind</th><th>dir</th><th>step</th><th>detail</th></tr>{rows}</table>"
