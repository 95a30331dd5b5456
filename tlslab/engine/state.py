"""The handshake state machines as one table: the whole grammar of TLS 1.3 and TLS 1.2.

RFC 8446 Appendix A draws the TLS 1.3 client and server state machines; RFC 5246 §7.3 gives the
TLS 1.2 flight order, for a full and for an abbreviated (resumed, RFC 5077 §3.1) handshake. Here both are one table, :data:`TABLE`, with a :class:`Row` per

    (role, version family, state, message)

where *message* is a handshake message type, or a record that is not a handshake message
(``change_cipher_spec``, ``alert``, ``application_data``), or the local ``start`` call. A row says

- which handler runs (a method of the client or server),
- which states the handler may lead to (the dispatcher refuses any other),
- whether the message enters the transcript *before* the handler reads the hash (the handler's
  checks cover the message itself, e.g. ServerHello feeds the handshake secrets) or *after* it
  (CertificateVerify and Finished sign or MAC the transcript up to, not including, themselves),
  or not at all (KeyUpdate, NewSessionTicket, ChangeCipherSpec ...),
- whether it may be followed by a change of the read keys, in which case it must end its record
  (RFC 8446 §5.1).

A message with no row for the current (role, family, state) is unexpected_message: nothing else
decides what may come next. The version family is ``"any"`` until the version is negotiated.
:func:`edges` turns the table into the diagram notebook 08 draws, so the picture is complete by
construction. The dispatcher (``dispatcher.py``) is the only code that changes a state.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

from ..constants import HandshakeType as HT


class State(str, Enum):
    """States named as in RFC 8446 Appendix A (TLS 1.2 ones carry a _12 suffix).

    The server's RECVD_CH, NEGOTIATED and WAIT_FLIGHT2 of Appendix A.2 are passed within one
    handler (the ClientHello's): no peer message can arrive in them, so they have no rows."""

    START = "START"
    WAIT_SH = "WAIT_SH"
    WAIT_EE = "WAIT_EE"
    WAIT_CERT_CR = "WAIT_CERT_CR"
    WAIT_CERT = "WAIT_CERT"
    WAIT_CV = "WAIT_CV"
    WAIT_FINISHED = "WAIT_FINISHED"
    WAIT_CH2 = "WAIT_CH2"
    CONNECTED = "CONNECTED"
    CLOSED = "CLOSED"
    # TLS 1.2
    WAIT_CERT_12 = "WAIT_CERT_12"
    WAIT_SKE_12 = "WAIT_SKE_12"
    WAIT_SHD_12 = "WAIT_SHD_12"
    WAIT_CCS_12 = "WAIT_CCS_12"
    WAIT_FINISHED_12 = "WAIT_FINISHED_12"
    WAIT_CKE_12 = "WAIT_CKE_12"
    WAIT_CV_12 = "WAIT_CV_12"
    # TLS 1.2 abbreviated handshake (RFC 5246 §7.3, RFC 5077 §3.1): the session is resumed
    WAIT_CCS_RESUMED_12 = "WAIT_CCS_RESUMED_12"
    WAIT_FINISHED_RESUMED_12 = "WAIT_FINISHED_RESUMED_12"


Family = Literal["any", "1.2", "1.3"]
Transcript = Literal["before", "after", "none"]

# Records that are not handshake messages, and the local call that starts a client.
CHANGE_CIPHER_SPEC = "change_cipher_spec"
ALERT = "alert"
APPLICATION_DATA = "application_data"
START = "start"

Message = int | str


@dataclass(frozen=True)
class Row:
    """One line of the grammar: in ``state``, ``message`` runs ``handler``, which may lead to
    one of ``next_states``."""

    role: str
    family: Family
    state: State
    message: Message
    handler: str
    next_states: tuple[State, ...]
    transcript: Transcript = "before"
    key_change: bool = False

    @property
    def key(self) -> tuple[str, Family, State, Message]:
        return (self.role, self.family, self.state, self.message)

    @property
    def message_name(self) -> str:
        return message_name(self.message)

    def __repr__(self) -> str:
        to = " | ".join(s.value for s in self.next_states)
        extra = f", transcript {self.transcript}" + (", key change" if self.key_change else "")
        return (
            f"<Row {self.role} TLS {self.family} {self.state.value} + {self.message_name}"
            f" -> {self.handler} -> {to}{extra}>"
        )


_HT_NAMES = {int(m): m.name for m in HT}  # a dict lookup: ``HT(code).name`` costs ~2 us a message


def message_name(message: Message) -> str:
    """``HandshakeType`` name for handshake messages, the record name otherwise."""
    if isinstance(message, int):
        return _HT_NAMES.get(message) or HT(message).name
    return message


S = State
_HS_13_CLIENT = (S.WAIT_EE, S.WAIT_CERT_CR, S.WAIT_CERT, S.WAIT_CV, S.WAIT_FINISHED)
_HS_13_SERVER = (S.WAIT_CERT, S.WAIT_CV, S.WAIT_FINISHED)


def _rows() -> list[Row]:
    c, s = "client", "server"
    rows = [
        # -- the client: hello (version not yet known) -------------------------------------------
        Row(c, "any", S.START, START, "on_start", (S.WAIT_SH,), "none"),
        Row(c, "any", S.WAIT_SH, HT.server_hello, "on_server_hello",
            (S.WAIT_EE, S.WAIT_SH, S.WAIT_CERT_12, S.WAIT_CCS_RESUMED_12), key_change=True),
        Row(c, "any", S.WAIT_SH, CHANGE_CIPHER_SPEC, "on_compatibility_ccs", (S.WAIT_SH,), "none"),
        # -- TLS 1.3 client (RFC 8446 Appendix A.1) ----------------------------------------------
        Row(c, "1.3", S.WAIT_EE, HT.encrypted_extensions, "on_encrypted_extensions",
            (S.WAIT_CERT_CR, S.WAIT_FINISHED)),
        Row(c, "1.3", S.WAIT_CERT_CR, HT.certificate_request, "on_certificate_request",
            (S.WAIT_CERT,)),
        Row(c, "1.3", S.WAIT_CERT_CR, HT.certificate, "on_certificate", (S.WAIT_CV,)),
        Row(c, "1.3", S.WAIT_CERT, HT.certificate, "on_certificate", (S.WAIT_CV,)),
        Row(c, "1.3", S.WAIT_CV, HT.certificate_verify, "on_certificate_verify",
            (S.WAIT_FINISHED,), "after"),
        Row(c, "1.3", S.WAIT_FINISHED, HT.finished, "on_finished", (S.CONNECTED,), "after",
            key_change=True),
        Row(c, "1.3", S.CONNECTED, HT.new_session_ticket, "on_new_session_ticket",
            (S.CONNECTED,), "none"),
        Row(c, "1.3", S.CONNECTED, HT.key_update, "on_key_update", (S.CONNECTED,), "none",
            key_change=True),
        # -- TLS 1.2 client (RFC 5246 §7.3) ------------------------------------------------------
        Row(c, "1.2", S.WAIT_CERT_12, HT.certificate, "on_certificate_12",
            (S.WAIT_SKE_12, S.WAIT_SHD_12)),
        Row(c, "1.2", S.WAIT_SKE_12, HT.server_key_exchange, "on_server_key_exchange",
            (S.WAIT_SHD_12,), "after"),
        Row(c, "1.2", S.WAIT_SHD_12, HT.certificate_request, "on_certificate_request_12",
            (S.WAIT_SHD_12,)),
        Row(c, "1.2", S.WAIT_SHD_12, HT.server_hello_done, "on_server_hello_done",
            (S.WAIT_CCS_12,)),
        Row(c, "1.2", S.WAIT_CCS_12, HT.new_session_ticket, "on_new_session_ticket_12",
            (S.WAIT_CCS_12,)),
        Row(c, "1.2", S.WAIT_CCS_12, CHANGE_CIPHER_SPEC, "on_change_cipher_spec_12",
            (S.WAIT_FINISHED_12,), "none", key_change=True),
        Row(c, "1.2", S.WAIT_FINISHED_12, HT.finished, "on_finished_12", (S.CONNECTED,), "after"),
        Row(c, "1.2", S.CONNECTED, HT.hello_request, "on_hello_request", (S.CONNECTED,), "none"),
        # -- TLS 1.2 client, abbreviated handshake (RFC 5077 §3.1): the server's Finished first -
        Row(c, "1.2", S.WAIT_CCS_RESUMED_12, HT.new_session_ticket, "on_new_session_ticket_12",
            (S.WAIT_CCS_RESUMED_12,)),
        Row(c, "1.2", S.WAIT_CCS_RESUMED_12, CHANGE_CIPHER_SPEC,
            "on_change_cipher_spec_resumed_12", (S.WAIT_FINISHED_RESUMED_12,), "none",
            key_change=True),
        Row(c, "1.2", S.WAIT_FINISHED_RESUMED_12, HT.finished, "on_finished_resumed_12",
            (S.CONNECTED,), "after"),
        # -- the server: ClientHello (version chosen by the handler) -----------------------------
        Row(s, "any", S.START, HT.client_hello, "on_client_hello",
            (S.WAIT_CH2, S.WAIT_CERT, S.WAIT_FINISHED, S.WAIT_CKE_12, S.WAIT_CERT_12,
             S.WAIT_CCS_RESUMED_12),
            key_change=True),
        # -- TLS 1.3 server (RFC 8446 Appendix A.2) ----------------------------------------------
        Row(s, "1.3", S.WAIT_CH2, HT.client_hello, "on_client_hello",
            (S.WAIT_CERT, S.WAIT_FINISHED), key_change=True),
        Row(s, "1.3", S.WAIT_CH2, CHANGE_CIPHER_SPEC, "on_compatibility_ccs", (S.WAIT_CH2,),
            "none"),
        Row(s, "1.3", S.WAIT_CERT, HT.certificate, "on_client_certificate", (S.WAIT_CV,)),
        Row(s, "1.3", S.WAIT_CV, HT.certificate_verify, "on_client_certificate_verify",
            (S.WAIT_FINISHED,), "after"),
        Row(s, "1.3", S.WAIT_FINISHED, HT.finished, "on_finished", (S.CONNECTED,), "after",
            key_change=True),
        Row(s, "1.3", S.CONNECTED, HT.key_update, "on_key_update", (S.CONNECTED,), "none",
            key_change=True),
        # -- TLS 1.2 server (RFC 5246 §7.3) ------------------------------------------------------
        Row(s, "1.2", S.WAIT_CERT_12, HT.certificate, "on_client_certificate_12",
            (S.WAIT_CKE_12,)),
        Row(s, "1.2", S.WAIT_CKE_12, HT.client_key_exchange, "on_client_key_exchange",
            (S.WAIT_CCS_12, S.WAIT_CV_12)),
        Row(s, "1.2", S.WAIT_CV_12, HT.certificate_verify, "on_client_certificate_verify_12",
            (S.WAIT_CCS_12,), "after"),
        Row(s, "1.2", S.WAIT_CCS_12, CHANGE_CIPHER_SPEC, "on_change_cipher_spec_12",
            (S.WAIT_FINISHED_12,), "none", key_change=True),
        Row(s, "1.2", S.WAIT_FINISHED_12, HT.finished, "on_finished_12", (S.CONNECTED,), "after"),
        Row(s, "1.2", S.CONNECTED, HT.client_hello, "on_renegotiation", (S.CONNECTED,), "none"),
        # -- TLS 1.2 server, abbreviated handshake (RFC 5077 §3.1): our Finished went first ----
        Row(s, "1.2", S.WAIT_CCS_RESUMED_12, CHANGE_CIPHER_SPEC,
            "on_change_cipher_spec_resumed_12", (S.WAIT_FINISHED_RESUMED_12,), "none",
            key_change=True),
        Row(s, "1.2", S.WAIT_FINISHED_RESUMED_12, HT.finished, "on_finished_resumed_12",
            (S.CONNECTED,), "after"),
    ]  # fmt: skip
    # TLS 1.3 middlebox compatibility (RFC 8446 §5, D.4): a plaintext ChangeCipherSpec is dropped
    # anywhere between the hellos and the peer's Finished.
    rows += [
        Row(c, "1.3", st, CHANGE_CIPHER_SPEC, "on_compatibility_ccs", (st,), "none")
        for st in _HS_13_CLIENT
    ]
    rows += [
        Row(s, "1.3", st, CHANGE_CIPHER_SPEC, "on_compatibility_ccs", (st,), "none")
        for st in _HS_13_SERVER
    ]
    # Application data flows once connected; alerts may come in every state (RFC 8446 §6).
    for role in (c, s):
        for family in ("1.2", "1.3"):
            rows.append(
                Row(role, family, S.CONNECTED, APPLICATION_DATA, "on_application_data",
                    (S.CONNECTED,), "none")
            )  # fmt: skip
    for key in sorted({(r.role, r.family, r.state) for r in rows}):
        role, family, state = key
        rows.append(Row(role, family, state, ALERT, "on_alert", (state, S.CLOSED), "none"))
    return rows


TABLE: dict[tuple[str, Family, State, Message], Row] = {row.key: row for row in _rows()}


def family_of(version: int | None) -> Family:
    """The table's version family: "any" before negotiation, then "1.3" or "1.2"."""
    if version is None:
        return "any"
    return "1.3" if version == 0x0304 else "1.2"


def row_for(role: str, version: int | None, state: State, message: Message) -> Row | None:
    """The row that governs ``message`` now, or None: then it is unexpected_message."""
    return TABLE.get((role, family_of(version), state, message))


def states_of(role: str) -> list[tuple[Family, State]]:
    """Every (family, state) the table knows for ``role``, in table order."""
    seen: list[tuple[Family, State]] = []
    for row in TABLE.values():
        if row.role == role and (row.family, row.state) not in seen:
            seen.append((row.family, row.state))
    return seen


def edges(role: str, *, alerts: bool = False) -> list[tuple[State, str, State, Family]]:
    """The diagram's edges for ``role``: (from, message, to, version family), one per row and
    next state. Alert rows (every state -> CLOSED) are left out unless ``alerts``."""
    return [
        (row.state, row.message_name, after, row.family)
        for row in TABLE.values()
        if row.role == role and (alerts or row.message != ALERT)
        for after in row.next_states
    ]


def transitions_for(role: str) -> list[tuple[State, str, State]]:
    """(from, message name, to) edges for one role, for drawing the diagram (from :data:`TABLE`)."""
    return [(start, message, end) for start, message, end, _ in edges(role)]


# Compatibility view for older callers (exercise 08.1): (role, state, handshake type) ->
# (handler, the first state it may lead to). The table above is the grammar.
TRANSITIONS: dict[tuple[str, State, int], tuple[str, State]] = {
    (row.role, row.state, row.message): (row.handler, row.next_states[0])
    for row in TABLE.values()
    if isinstance(row.message, int)
}
