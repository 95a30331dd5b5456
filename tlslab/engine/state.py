"""The handshake state machines as a table (RFC 8446 Appendix A; RFC 5246 §7.3 flight order).

``TRANSITIONS[(role, state, message)]`` is the handler that runs and the state that follows.
A message that has no entry for the current state is unexpected_message: the table *is* the
protocol's grammar. Notebook 08 draws its diagram from this table.
"""

from __future__ import annotations

from enum import Enum

from ..constants import HandshakeType as HT


class State(str, Enum):
    """States named as in RFC 8446 Appendix A (TLS 1.2 ones carry a _12 suffix)."""

    START = "START"
    WAIT_SH = "WAIT_SH"
    WAIT_EE = "WAIT_EE"
    WAIT_CERT_CR = "WAIT_CERT_CR"
    WAIT_CERT = "WAIT_CERT"
    WAIT_CV = "WAIT_CV"
    WAIT_FINISHED = "WAIT_FINISHED"
    RECVD_CH = "RECVD_CH"
    WAIT_CH2 = "WAIT_CH2"
    WAIT_FLIGHT2 = "WAIT_FLIGHT2"
    CONNECTED = "CONNECTED"
    CLOSED = "CLOSED"
    # TLS 1.2
    WAIT_CERT_12 = "WAIT_CERT_12"
    WAIT_SKE_12 = "WAIT_SKE_12"
    WAIT_SHD_12 = "WAIT_SHD_12"
    WAIT_CCS_12 = "WAIT_CCS_12"
    WAIT_FINISHED_12 = "WAIT_FINISHED_12"
    WAIT_CKE_12 = "WAIT_CKE_12"


S = State
# (role, state, message type) -> (handler name, state after)
TRANSITIONS: dict[tuple[str, State, int], tuple[str, State]] = {
    # TLS 1.3 client
    ("client", S.WAIT_SH, HT.server_hello): ("on_server_hello", S.WAIT_EE),
    ("client", S.WAIT_EE, HT.encrypted_extensions): ("on_encrypted_extensions", S.WAIT_CERT_CR),
    ("client", S.WAIT_CERT_CR, HT.certificate_request): ("on_certificate_request", S.WAIT_CERT),
    ("client", S.WAIT_CERT_CR, HT.certificate): ("on_certificate", S.WAIT_CV),
    ("client", S.WAIT_CERT, HT.certificate): ("on_certificate", S.WAIT_CV),
    ("client", S.WAIT_CV, HT.certificate_verify): ("on_certificate_verify", S.WAIT_FINISHED),
    ("client", S.WAIT_FINISHED, HT.finished): ("on_finished", S.CONNECTED),
    ("client", S.CONNECTED, HT.new_session_ticket): ("on_new_session_ticket", S.CONNECTED),
    ("client", S.CONNECTED, HT.key_update): ("on_key_update", S.CONNECTED),
    ("client", S.CONNECTED, HT.hello_request): ("on_hello_request", S.CONNECTED),
    # TLS 1.2 client (after a TLS 1.2 ServerHello)
    ("client", S.WAIT_CERT_12, HT.certificate): ("on_certificate_12", S.WAIT_SKE_12),
    ("client", S.WAIT_SKE_12, HT.server_key_exchange): ("on_server_key_exchange", S.WAIT_SHD_12),
    ("client", S.WAIT_SKE_12, HT.server_hello_done): ("on_server_hello_done", S.WAIT_CCS_12),
    ("client", S.WAIT_SHD_12, HT.certificate_request): ("on_certificate_request_12", S.WAIT_SHD_12),
    ("client", S.WAIT_SHD_12, HT.server_hello_done): ("on_server_hello_done", S.WAIT_CCS_12),
    ("client", S.WAIT_CCS_12, HT.new_session_ticket): ("on_new_session_ticket_12", S.WAIT_CCS_12),
    ("client", S.WAIT_FINISHED_12, HT.finished): ("on_finished_12", S.CONNECTED),
    # TLS 1.3 server
    ("server", S.START, HT.client_hello): ("on_client_hello", S.WAIT_FINISHED),
    ("server", S.WAIT_CH2, HT.client_hello): ("on_client_hello", S.WAIT_FINISHED),
    ("server", S.WAIT_CERT, HT.certificate): ("on_client_certificate", S.WAIT_CV),
    ("server", S.WAIT_CV, HT.certificate_verify): ("on_client_certificate_verify", S.WAIT_FINISHED),
    ("server", S.WAIT_FINISHED, HT.finished): ("on_finished", S.CONNECTED),
    ("server", S.CONNECTED, HT.key_update): ("on_key_update", S.CONNECTED),
    ("server", S.CONNECTED, HT.client_hello): ("on_renegotiation", S.CONNECTED),
    # TLS 1.2 server
    ("server", S.WAIT_CKE_12, HT.client_key_exchange): ("on_client_key_exchange", S.WAIT_CCS_12),
    ("server", S.WAIT_FINISHED_12, HT.finished): ("on_finished_12", S.CONNECTED),
}


# Moves a handler chooses by content rather than by message type (the version a ServerHello picks,
# an HRR, the key exchange), and the ChangeCipherSpec record of TLS 1.2. Listed so the diagram is
# complete; the handlers set these states themselves.
BRANCHES: list[tuple[str, State, str, State]] = [
    ("client", S.WAIT_SH, "hello_retry_request", S.WAIT_SH),
    ("client", S.WAIT_SH, "server_hello (TLS 1.2)", S.WAIT_CERT_12),
    ("client", S.WAIT_CERT_12, "certificate (RSA key exchange)", S.WAIT_SHD_12),
    ("client", S.WAIT_CCS_12, "ChangeCipherSpec", S.WAIT_FINISHED_12),
    ("server", S.START, "client_hello (needs HelloRetryRequest)", S.WAIT_CH2),
    ("server", S.START, "client_hello (TLS 1.2)", S.WAIT_CKE_12),
    ("server", S.WAIT_CCS_12, "ChangeCipherSpec", S.WAIT_FINISHED_12),
]


def transitions_for(role: str) -> list[tuple[State, str, State]]:
    """(from, message name, to) edges for one role, for drawing the diagram."""
    table = [
        (state, HT(msg).name, after)
        for (r, state, msg), (_, after) in TRANSITIONS.items()
        if r == role
    ]
    return table + [(state, message, after) for r, state, message, after in BRANCHES if r == role]
