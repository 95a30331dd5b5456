"""The sans-IO TLS client: a sequence of stage calls, one short handler per message.

``TLSClient(config).start()`` queues the ClientHello; then feed the server's bytes to
``receive_data`` and send ``data_to_send()`` back, until a :class:`HandshakeComplete` event.
Handlers contain no cryptography of their own: they call ``hello``, ``keyexchange``,
``keyschedule``, ``validation``, ``signatures`` and ``finished``, and record every value in
``self.trace``. TLS 1.3 (RFC 8446 §4, including HelloRetryRequest, KeyUpdate and PSK resumption)
and TLS 1.2 (RFC 5246 with ECDHE, DHE or RSA key exchange, RFC 7627 extended master secret,
RFC 5077 session tickets and the abbreviated handshake that resumes with one).
Taught in notebook 08_full_handshake.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from ..constants import CipherSuite, ExtensionType, ProtocolVersion, SignatureScheme, describe
from ..errors import (
    DecodeError,
    HandshakeFailure,
    IllegalParameter,
    MissingExtension,
    ProtocolVersionError,
    UnexpectedMessage,
    UnsupportedCertificate,
    UnsupportedExtension,
)
from ..pki.validation import validate_peer_chain
from ..rng import Rng, system_rng
from ..stages.finished import check_verify_data
from ..stages.hello import (
    DEFAULT_CIPHER_SUITES,
    DEFAULT_GROUPS,
    DEFAULT_SIGNATURE_SCHEMES,
    build_client_hello,
    build_client_hello_after_retry,
    check_hello_retry_request,
    check_server_hello,
    default_key_share_groups,
    offer_psk,
)
from ..stages.keyexchange import (
    KeyShare,
    dhe_pre_master_secret,
    encrypt_pre_master_secret,
    generate_dh_key,
    generate_key_share,
    is_post_quantum,
    rsa_pre_master_secret,
)
from ..stages.keyschedule import KeySchedule13
from ..stages.signatures import (
    default_scheme,
    sign_certificate_verify,
    sign_certificate_verify_12,
    verify_certificate_verify,
    verify_server_key_exchange,
)
from ..stages.suites import suite_info
from ..wire.extensions import (
    ApplicationLayerProtocolNegotiation,
    KeyShareServerHello,
    PreSharedKeyServer,
    SignatureAlgorithms,
)
from ..wire.extensions import SessionTicket as SessionTicketExtension
from ..wire.messages import (
    Certificate12,
    Certificate13,
    CertificateEntry,
    CertificateRequest12,
    CertificateRequest13,
    CertificateVerify,
    ClientHello,
    ClientKeyExchangeDHE,
    ClientKeyExchangeECDHE,
    ClientKeyExchangeRSA,
    EncryptedExtensions,
    Finished,
    HandshakeMessage,
    NewSessionTicket12,
    NewSessionTicket13,
    ServerHello,
    ServerHelloDone,
    ServerKeyExchangeDHE,
    ServerKeyExchangeECDHE,
)
from .dispatcher import Connection
from .events import ConnectionNotUsable, HandshakeComplete, SessionTicket
from .record_layer import MAX_CERTIFICATE_MESSAGE, Protection, RecordLayer
from .resumption12 import MAX_TICKET_AGE, resumed_keys_12, ticket_lifetime_12
from .state import State

# RFC 8446 §4.2: the extensions a server may put in EncryptedExtensions ("EE" in its table).
ENCRYPTED_EXTENSIONS_ALLOWED = frozenset(
    {
        ExtensionType.server_name,
        ExtensionType.max_fragment_length,
        ExtensionType.supported_groups,
        ExtensionType.use_srtp,
        ExtensionType.heartbeat,
        ExtensionType.application_layer_protocol_negotiation,
        ExtensionType.client_certificate_type,
        ExtensionType.server_certificate_type,
        ExtensionType.early_data,
        ExtensionType.record_size_limit,
    }
)


@dataclass(frozen=True)
class ClientConfig:
    """The client's choices. Immutable; ``dataclasses.replace`` (or ``.replace``) to change one."""

    server_name: str | None = None
    versions: tuple[int, ...] = (ProtocolVersion.TLS13, ProtocolVersion.TLS12)
    cipher_suites: tuple[int, ...] = DEFAULT_CIPHER_SUITES
    groups: tuple[int, ...] = DEFAULT_GROUPS
    key_share_groups: tuple[int, ...] | None = None
    signature_schemes: tuple[int, ...] = DEFAULT_SIGNATURE_SCHEMES
    alpn: tuple[str, ...] = ()
    trust_roots: tuple[x509.Certificate, ...] = ()
    insecure: bool = False
    now: dt.datetime | None = None
    certificate_chain: tuple[bytes, ...] = ()
    private_key: Any = field(default=None, repr=False)
    session_ticket: SessionTicket | None = None
    max_certificate_message: int = MAX_CERTIFICATE_MESSAGE
    # RFC 7627: offered in every TLS 1.2 hello; False shows what a legacy client does (and that a
    # server will not resume its extended-master-secret sessions for it, RFC 7627 §5.3)
    extended_master_secret: bool = True

    def replace(self, **changes: Any) -> ClientConfig:
        import dataclasses

        return dataclasses.replace(self, **changes)


MAX_KEPT_TICKETS = 8  # TLS 1.3 tickets a client keeps in ``tickets``: the newest


class TLSClient(Connection):
    """The client's handlers, one per row of the state table (``state.TABLE``)."""

    role = "client"

    def __init__(self, config: ClientConfig, rng: Rng = system_rng) -> None:
        super().__init__(rng)
        self.config = config
        self.records = RecordLayer(config.max_certificate_message)
        self.hello: ClientHello | None = None
        self.key_shares: dict[int, KeyShare] = {}
        self.peer_public_key: Any = None
        self.peer_certificates: tuple[bytes, ...] = ()
        self.alpn: bytes | None = None
        self.tickets: list[SessionTicket] = []
        self.resumed = False
        self._retried = False
        self._server_hello: ServerHello | None = None
        self._ske: ServerKeyExchangeECDHE | ServerKeyExchangeDHE | None = None
        self._certificate_request: CertificateRequest13 | None = None
        self._certificate_request_12: CertificateRequest12 | None = None
        self._offered_ticket_12: SessionTicket | None = None  # the TLS 1.2 session we offer
        self._new_ticket_12: NewSessionTicket12 | None = None  # kept until the Finished checks
        self._new_ticket_12_seen = False  # exactly one NewSessionTicket per handshake
        self._resumed_reader: Protection | None = None  # an abbreviated handshake's read keys
        self._writer_12: Protection | None = None  # and its write keys, from our CCS on
        if config.insecure:
            self.trace.note(
                "WARNING", "insecure mode: the server's certificate will NOT be validated"
            )

    # -- first flight ------------------------------------------------------------------------
    def start(self) -> None:
        """Queue the ClientHello (the table's ``start`` row)."""
        if self.state != State.START:
            raise ConnectionNotUsable(f"the client has already started (state {self.state.value})")
        self._start()

    def on_start(self, _: None, __: bytes) -> State:
        """ClientHello (RFC 8446 §4.1.2): ``hello.build_client_hello`` with fresh key shares,
        and, when resuming, a PSK offer (``hello.offer_psk``) for a TLS 1.3 ticket or the
        SessionTicket extension with a fresh session_id for a TLS 1.2 one (RFC 5077 §3.4)."""
        c = self.config
        groups = (
            c.key_share_groups
            if c.key_share_groups is not None
            else default_key_share_groups(c.groups)
        )
        offers_13 = ProtocolVersion.TLS13 in c.versions
        offers_12 = ProtocolVersion.TLS12 in c.versions
        ticket = (
            c.session_ticket if c.session_ticket and self._ticket_usable(c.session_ticket) else None
        )
        if ticket is not None and ticket.version == ProtocolVersion.TLS12 and offers_12:
            self._offered_ticket_12 = ticket
        self.key_shares = {g: generate_key_share(g, self.rng) for g in groups} if offers_13 else {}
        self.hello = build_client_hello(
            c.server_name, versions=c.versions, cipher_suites=c.cipher_suites, groups=c.groups,
            signature_schemes=c.signature_schemes, alpn=c.alpn,
            key_shares=list(self.key_shares.values()), rng=self.rng,
            extended_master_secret=c.extended_master_secret, **self._ticket_12_offer(offers_13),
        )  # fmt: skip
        if ticket is not None and ticket.version == ProtocolVersion.TLS13 and offers_13:
            self.hello = self._with_psk(self.hello, b"")
        self.trace.client_random = self.hello.random
        self._send(self.hello)
        self.records.record_version = ProtocolVersion.TLS12
        return State.WAIT_SH

    def _now(self) -> dt.datetime:
        return self.config.now or dt.datetime.now(dt.timezone.utc)

    def _ticket_usable(self, ticket: SessionTicket) -> bool:
        """A ticket is offered only within its lifetime and 7 days (RFC 8446 §4.6.1; a TLS 1.2
        ticket_lifetime_hint of 0 means unspecified, RFC 5077 §3.3), and only to the server name
        the session was made with (RFC 8446 §4.6.1, RFC 5077 §3.4)."""
        if (
            ticket.version == ProtocolVersion.TLS12
            and ticket.server_name != self.config.server_name
        ):
            self.trace.note(
                "session ticket not offered",
                f"it was issued for {ticket.server_name!r}, not {self.config.server_name!r}",
            )
            return False
        if ticket.received_at is None:
            return True
        age = (self._now() - ticket.received_at).total_seconds()
        lifetime = (
            ticket_lifetime_12(ticket.lifetime)
            if ticket.version == ProtocolVersion.TLS12
            else min(ticket.lifetime, MAX_TICKET_AGE)
        )
        if lifetime > 0 and age <= lifetime:  # RFC 8446 §4.6.1: 0 means discard at once
            return True
        self.trace.note("session ticket not offered", f"{age:.0f} s old, lifetime {lifetime} s")
        return False

    def _ticket_12_offer(self, offers_13: bool) -> dict[str, Any]:
        """The ClientHello fields that offer a TLS 1.2 session (RFC 5077 §3.4): the ticket in the
        SessionTicket extension, and a fresh random session_id the server echoes if it resumes
        (a hello that also offers TLS 1.3 already has a random one, RFC 8446 Appendix D.4)."""
        ticket = self._offered_ticket_12
        if ticket is None:
            return {}
        self.trace.note(
            "offering a TLS 1.2 session ticket",
            f"{len(ticket.ticket)}-byte ticket for {describe(CipherSuite, ticket.cipher_suite)}",
        )
        return {
            "session_ticket": ticket.ticket,
            "session_id": None if offers_13 else self.rng(32),
        }

    def _with_psk(self, hello: ClientHello, prior_transcript: bytes) -> ClientHello:
        """Offer the stored ticket (RFC 8446 §4.2.11): identity, obfuscated age and binder."""
        ticket = self.config.session_ticket
        assert ticket is not None
        received = ticket.received_at
        age_ms = int((self._now() - received).total_seconds() * 1000) if received else 0
        self.trace.note(
            "offering a session ticket", f"{len(ticket.ticket)}-byte ticket, age {age_ms} ms"
        )
        hash_name = suite_info(ticket.cipher_suite).hash_name
        obfuscated_age = age_ms + ticket.age_add
        return offer_psk(
            hello, ticket.ticket, ticket.psk, obfuscated_age, hash_name, prior_transcript
        )

    # -- ServerHello ----------------------------------------------------------------------------
    def on_compatibility_ccs(self, content: bytes, raw: bytes) -> State:
        """A ChangeCipherSpec before the ServerHello is the TLS 1.3 dummy one (RFC 8446 §5), which
        only a client that offered TLS 1.3 drops; TLS 1.2 has no CCS there (RFC 5246 §7.3), so a
        TLS 1.2-only client refuses it, as it would an early switch to keys not yet agreed."""
        if ProtocolVersion.TLS13 not in self.config.versions:
            raise UnexpectedMessage(
                "a ChangeCipherSpec before the ServerHello, and we offered only TLS 1.2"
                " (RFC 5246 §7.3)"
            )
        return super().on_compatibility_ccs(content, raw)

    def on_server_hello(self, sh: ServerHello, _: bytes) -> State:
        """ServerHello (RFC 8446 §4.1.3) or HelloRetryRequest (§4.1.4): ``hello.check_server_hello``
        picks the version; TLS 1.3 derives the handshake secrets from ClientHello..ServerHello."""
        assert self.hello is not None
        if sh.is_hello_retry_request:
            return self._hello_retry_request(sh)
        version = check_server_hello(self.hello, sh)
        if self._retried and version != ProtocolVersion.TLS13:
            raise ProtocolVersionError("a TLS 1.2 ServerHello after a HelloRetryRequest")
        if self._retried and sh.cipher_suite != self._suite_of_retry():
            raise IllegalParameter(
                "ServerHello changed the cipher suite chosen in the HelloRetryRequest"
            )
        self.version, self.suite, self._server_hello = version, suite_info(sh.cipher_suite), sh
        self.records.version = version
        self.trace.parameter("version", ProtocolVersion(version).name)
        self.trace.parameter("cipher_suite", self.suite.name)
        if self._transcript is None:
            self._start_transcript(self.suite.hash_name)
        if version == ProtocolVersion.TLS13:
            self._handshake_secrets_13(sh)
            return State.WAIT_EE
        self.key_exchange_kind = (
            None if self.suite.key_exchange == "any" else self.suite.key_exchange
        )
        alpn = sh.extension(ExtensionType.application_layer_protocol_negotiation)
        if isinstance(alpn, ApplicationLayerProtocolNegotiation):  # TLS 1.2: in the ServerHello
            self._check_alpn(alpn.protocol_name_list)
        ticket_ext = sh.extension(ExtensionType.session_ticket)
        if isinstance(ticket_ext, SessionTicketExtension) and ticket_ext.ticket:
            raise DecodeError(
                "the ServerHello's SessionTicket extension must be empty (RFC 5077 §3.2)",
                seen=len(ticket_ext.ticket),
            )
        if self._resumes_12(sh):
            return self._abbreviated_handshake_12(sh)
        if self._offered_ticket_12 is not None:
            self.trace.note("resumption", "the server did not take our ticket: full handshake")
        return State.WAIT_CERT_12

    def _suite_of_retry(self) -> int | None:
        return self._server_hello.cipher_suite if self._server_hello is not None else None

    # -- TLS 1.2 abbreviated handshake (RFC 5077 §3.1, RFC 5246 §7.3) ----------------------------
    def _resumes_12(self, sh: ServerHello) -> bool:
        """The server resumes our TLS 1.2 session when it echoes the session_id we sent with the
        ticket (RFC 5077 §3.4); any other session_id starts a full handshake."""
        assert self.hello is not None
        sent = self.hello.legacy_session_id
        return (
            self._offered_ticket_12 is not None and bool(sent) and sh.legacy_session_id_echo == sent
        )

    def _abbreviated_handshake_12(self, sh: ServerHello) -> State:
        """An abbreviated ServerHello: it must keep the session's cipher suite (illegal_parameter,
        RFC 5246 §7.4.1.3) and its extended-master-secret status (handshake_failure, RFC 7627
        §5.3, whose "abort the handshake" §5.2 defines as that alert). The keys come from the
        session's master secret and the new randoms; they take effect at the server's
        ChangeCipherSpec, and no Certificate or key exchange may come (unexpected_message)."""
        assert self.hello is not None and self.suite is not None
        ticket = self._offered_ticket_12
        assert ticket is not None
        if sh.cipher_suite != ticket.cipher_suite:
            raise IllegalParameter(
                "a resumed session must keep its cipher suite (RFC 5246 §7.4.1.3)",
                expected=describe(CipherSuite, ticket.cipher_suite),
                seen=describe(CipherSuite, sh.cipher_suite),
            )
        extended = sh.extension(ExtensionType.extended_master_secret) is not None
        if extended != ticket.extended_master_secret:
            raise HandshakeFailure(
                "a resumed session must keep its extended master secret status (RFC 7627 §5.3)",
                expected=ticket.extended_master_secret,
                seen=extended,
            )
        self.resumed, self.peer_certificates = True, ticket.peer_certificates
        self.trace.note(
            "resumption (TLS 1.2)",
            "the server echoed our session_id: abbreviated handshake, no certificate, no key exchange",
        )
        if not extended:
            self.trace.note(
                "WARNING", "resuming a session without the extended master secret (RFC 7627 §5.4)"
            )
        self.keys_12 = resumed_keys_12(
            ticket.master_secret, self.hello.random, sh.random, self.suite, extended=extended
        )
        self.trace.parameter("extended_master_secret", extended)
        self.trace.secret("master_secret", self.keys_12.master_secret)
        reader, self._writer_12 = self.keys_12.protection_pair(
            self.role,
            encrypt_then_mac=sh.extension(ExtensionType.encrypt_then_mac) is not None,
            rng=self.rng,
        )
        self._resumed_reader = reader
        return State.WAIT_CCS_RESUMED_12

    def on_change_cipher_spec_resumed_12(self, content: bytes, _: bytes) -> State:
        """The server's ChangeCipherSpec in an abbreviated handshake (RFC 5246 §7.1): its
        Finished comes under the keys cut from the resumed master secret."""
        self._next_reader, self._resumed_reader = self._resumed_reader, None
        self.trace.note("ChangeCipherSpec received", "reading with the resumed session's keys")
        return State.WAIT_FINISHED_RESUMED_12

    def on_finished_resumed_12(self, finished: Finished, transcript_hash: bytes) -> State:
        """The server's Finished over ClientHello, ServerHello [, NewSessionTicket] (RFC 5246
        §7.4.9): it proves the server holds the session's master secret. Then our own
        ChangeCipherSpec and Finished (RFC 5077 §3.1)."""
        assert self.keys_12 is not None and self._writer_12 is not None
        self._check_finished_length(finished.verify_data, 12)
        expected = self.keys_12.finished("server", transcript_hash)
        check_verify_data(expected, finished.verify_data, who="server")
        self.trace.check("server Finished", True, "the server holds the session's master secret")
        self._send_change_cipher_spec()
        self.records.writer = self._writer_12
        self._send(Finished(self.keys_12.finished("client", self.transcript.hash())))
        self._keep_ticket_12()
        return self._complete()

    def _hello_retry_request(self, hrr: ServerHello) -> State:
        """HelloRetryRequest (RFC 8446 §4.1.4): restart the transcript with message_hash(CH1),
        send a second ClientHello (``hello.build_client_hello_after_retry``)."""
        assert self.hello is not None
        if self._retried:
            raise UnexpectedMessage("a second HelloRetryRequest (RFC 8446 §4.1.4)")
        check_hello_retry_request(self.hello, hrr)
        self._retried, self._server_hello = True, hrr
        transcript = self._start_transcript(
            suite_info(hrr.cipher_suite).hash_name, after_retry=True
        )
        selected = hrr.extension(ExtensionType.key_share)
        new_share = None
        if selected is not None:
            new_share = generate_key_share(selected.selected_group, self.rng)  # type: ignore[attr-defined]
            self.key_shares = {new_share.group: new_share}
        self.trace.note("HelloRetryRequest", "sending a second ClientHello")
        self.hello = build_client_hello_after_retry(self.hello, hrr, new_share)
        if self.hello.extension(ExtensionType.pre_shared_key) is not None:
            self.hello = self._with_psk(self.hello, b"".join(transcript.messages))
        self._send(self.hello)
        return State.WAIT_SH

    def _accepted_psk(self, sh: ServerHello) -> bytes | None:
        """The PSK if the server accepted our ticket (pre_shared_key in its ServerHello), else None."""
        selected = sh.extension(ExtensionType.pre_shared_key)
        ticket = self.config.session_ticket
        if not isinstance(selected, PreSharedKeyServer):
            return None
        if ticket is None or selected.selected_identity != 0:
            raise IllegalParameter(
                "server selected a PSK identity we did not offer", seen=selected.selected_identity
            )
        if suite_info(ticket.cipher_suite).hash_name != self._hash_name:
            raise IllegalParameter(
                "resumed session must keep the ticket's hash function (RFC 8446 §4.2.11)"
            )
        self.resumed = True
        self.trace.note("resumption", "the server accepted our ticket: no certificate this time")
        return ticket.psk

    def _handshake_secrets_13(self, sh: ServerHello) -> None:
        """(EC)DHE shared secret -> ``KeySchedule13.handshake`` (RFC 8446 §7.1); the server's
        handshake traffic key protects what follows the ServerHello."""
        share = sh.extension(ExtensionType.key_share)
        if not isinstance(share, KeyShareServerHello):
            raise MissingExtension("a TLS 1.3 ServerHello without key_share (RFC 8446 §4.2.8)")
        group = share.server_share.group
        self.trace.parameter("group", group)
        shared_secret = self.key_shares[group].exchange(share.server_share.key_exchange)
        self.trace.secret("shared_secret", shared_secret)
        self.schedule = KeySchedule13(self._hash_name, self._accepted_psk(sh))
        self._record_secrets(self.schedule.handshake(shared_secret, self.transcript.hash()))
        self._next_reader = self._protection_13(self.schedule.server_handshake_traffic_secret)

    # -- TLS 1.3 server flight ----------------------------------------------------------------
    def on_encrypted_extensions(self, ee: EncryptedExtensions, _: bytes) -> State:
        """EncryptedExtensions (RFC 8446 §4.3.1): only extensions we offered; the ALPN choice
        must be one of ours. A resumed (PSK) handshake goes straight to Finished."""
        assert self.hello is not None
        for ext in ee.extensions:  # a known one out of place first, as OpenSSL checks them
            known = ext.type_code in {int(e) for e in ExtensionType}
            if known and ext.type_code not in ENCRYPTED_EXTENSIONS_ALLOWED:
                raise IllegalParameter(
                    "this extension may not appear in EncryptedExtensions (RFC 8446 §4.2)",
                    seen=describe(ExtensionType, ext.type_code),
                )
            if self.hello.extension(ext.type_code) is None:
                raise UnsupportedExtension(
                    "EncryptedExtensions has an extension we did not offer", seen=ext.type_code
                )
        alpn = ee.extension(ExtensionType.application_layer_protocol_negotiation)
        if isinstance(alpn, ApplicationLayerProtocolNegotiation):
            self._check_alpn(alpn.protocol_name_list)
        return State.WAIT_FINISHED if self.resumed else State.WAIT_CERT_CR

    def _check_alpn(self, chosen: tuple[bytes, ...]) -> None:
        """The server picks exactly one protocol, one we offered (RFC 7301 §3.2)."""
        offered = [name.encode() for name in self.config.alpn]
        if len(chosen) != 1 or chosen[0] not in offered:
            raise IllegalParameter(
                "server selected an ALPN protocol we did not offer", expected=offered, seen=chosen
            )
        self.alpn = chosen[0]
        self.trace.parameter("alpn", self.alpn.decode("ascii", "replace"))

    def on_certificate_request(self, cr: CertificateRequest13, _: bytes) -> State:
        """CertificateRequest (RFC 8446 §4.3.2): we answer after the server's Finished."""
        has = "our certificate" if self.config.certificate_chain else "an empty Certificate"
        self.trace.note("CertificateRequest", f"the server asks who we are; we will send {has}")
        self._certificate_request = cr
        return State.WAIT_CERT

    def on_certificate(self, certificate: Certificate13, _: bytes) -> State:
        """Certificate (RFC 8446 §4.4.2): validated by ``validation.validate_peer_chain``."""
        self._validate(certificate.certificates)
        return State.WAIT_CV

    def on_certificate_verify(self, cv: CertificateVerify, transcript_hash: bytes) -> State:
        """CertificateVerify (RFC 8446 §4.4.3): the server's signature over the transcript up
        to its Certificate (``signatures.verify_certificate_verify``)."""
        if cv.algorithm not in self.config.signature_schemes:
            raise IllegalParameter(
                "CertificateVerify uses a scheme we did not offer", seen=cv.algorithm
            )
        verify_certificate_verify(self.peer_public_key, cv, transcript_hash)
        self.trace.check(
            "server CertificateVerify",
            True,
            f"{describe(SignatureScheme, cv.algorithm)} signature over the transcript verifies",
        )
        return State.WAIT_FINISHED

    def on_finished(self, finished: Finished, transcript_hash: bytes) -> State:
        """The server's Finished (RFC 8446 §4.4.4, ``finished.check_verify_data``), then the
        application secrets (``KeySchedule13.application``) and our own last flight."""
        assert self.schedule is not None
        self._check_finished_length(finished.verify_data, len(transcript_hash))
        expected = self.schedule.finished("server", transcript_hash)
        check_verify_data(expected, finished.verify_data, who="server")
        self.trace.check("server Finished", True, "verify_data matches the transcript")
        self._record_secrets(self.schedule.application(self.transcript.hash()))
        self.read_secret = self.schedule.server_application_traffic_secret_0
        self._next_reader = self._protection_13(self.read_secret)
        self._send_client_flight_13()
        self._record_secrets(self.schedule.resumption(self.transcript.hash()))
        return self._complete()

    def _send_client_flight_13(self) -> None:
        """ChangeCipherSpec (D.4), [Certificate, CertificateVerify], Finished under the client
        handshake key; then switch to the client application key."""
        assert self.schedule is not None
        self._send_change_cipher_spec()
        self.records.writer = self._protection_13(self.schedule.client_handshake_traffic_secret)
        if self._certificate_request is not None:
            self._send_client_certificate(self._certificate_request)
        self._send(Finished(self.schedule.finished("client", self.transcript.hash())))
        self.write_secret = self.schedule.client_application_traffic_secret_0
        self.records.writer = self._protection_13(self.write_secret)

    def _send_client_certificate(self, cr: CertificateRequest13) -> None:
        """Client authentication (RFC 8446 §4.4.2-4.4.3): Certificate, then CertificateVerify."""
        chain = self.config.certificate_chain
        entries = tuple(CertificateEntry(der) for der in chain)
        self._send(Certificate13(entries, cr.certificate_request_context))
        if not chain:
            return
        wanted = cr.extension(ExtensionType.signature_algorithms)
        offered = (
            wanted.supported_signature_algorithms if isinstance(wanted, SignatureAlgorithms) else ()
        )
        scheme = default_scheme(self.config.private_key)
        if offered and scheme not in offered:
            raise HandshakeFailure(
                "the server accepts no signature scheme our certificate key can make",
                seen=[describe(SignatureScheme, x) for x in offered],
            )
        key, transcript_hash = self.config.private_key, self.transcript.hash()
        self._send(sign_certificate_verify(key, scheme, transcript_hash, server=False))

    def on_new_session_ticket(self, nst: NewSessionTicket13, _: bytes) -> State:
        """NewSessionTicket (RFC 8446 §4.6.1): the ticket's PSK from the resumption master secret."""
        assert self.schedule is not None and self.suite is not None
        psk = self.schedule.ticket_psk(nst.ticket_nonce)
        ticket = SessionTicket(
            nst.ticket, psk, nst.ticket_lifetime, nst.ticket_age_add, self.suite.suite, self._now()
        )
        self.tickets = [*self.tickets[-(MAX_KEPT_TICKETS - 1) :], ticket]  # a flood keeps few
        self.trace.note(
            "NewSessionTicket stored",
            f"{len(nst.ticket)}-byte ticket, lifetime {nst.ticket_lifetime}s",
        )
        self._events.append(ticket)
        return State.CONNECTED

    # -- TLS 1.2 --------------------------------------------------------------------------------
    def on_certificate_12(self, certificate: Certificate12, _: bytes) -> State:
        """Certificate (RFC 5246 §7.4.2). RSA key transport needs an RSA key and no
        ServerKeyExchange; (EC)DHE waits for the signed one."""
        self._validate(certificate.certificates)
        if self.key_exchange_kind != "rsa":
            return State.WAIT_SKE_12
        if not isinstance(self.peer_public_key, rsa.RSAPublicKey):
            raise UnsupportedCertificate(
                "RSA key transport needs an RSA certificate (RFC 5246 §7.4.2)",
                seen=type(self.peer_public_key).__name__,
            )
        return State.WAIT_SHD_12

    def on_server_key_exchange(
        self, ske: ServerKeyExchangeECDHE | ServerKeyExchangeDHE, _: bytes
    ) -> State:
        """ServerKeyExchange (RFC 5246 §7.4.3, RFC 8422 §5.4): a curve and scheme we offered,
        signed over both randoms (``signatures.verify_server_key_exchange``)."""
        assert self.hello is not None and self._server_hello is not None
        if ske.algorithm not in self.config.signature_schemes:
            raise IllegalParameter(
                "ServerKeyExchange signed with a scheme we did not offer", seen=ske.algorithm
            )
        if isinstance(ske, ServerKeyExchangeECDHE) and (
            ske.namedcurve not in self.config.groups or is_post_quantum(ske.namedcurve)
        ):
            raise IllegalParameter(
                "ServerKeyExchange uses a curve we did not offer for TLS 1.2", seen=ske.namedcurve
            )
        randoms = (self.hello.random, self._server_hello.random)
        verify_server_key_exchange(
            self.peer_public_key, ske.algorithm, *randoms, ske.params(), ske.signature
        )
        self.trace.check(
            "ServerKeyExchange signature",
            True,
            "the server's ephemeral key is signed by its certificate key",
        )
        self._ske = ske
        return State.WAIT_SHD_12

    def on_certificate_request_12(self, cr: CertificateRequest12, _: bytes) -> State:
        """CertificateRequest (RFC 5246 §7.4.4), at most once."""
        if self._certificate_request_12 is not None:
            raise UnexpectedMessage("a second CertificateRequest (RFC 5246 §7.3)")
        self._certificate_request_12 = cr
        return State.WAIT_SHD_12

    def on_server_hello_done(self, done: ServerHelloDone, _: bytes) -> State:
        """ServerHelloDone (RFC 5246 §7.4.5): our flight. [Certificate], ClientKeyExchange,
        then ``keyschedule.keys_12`` (master secret, key block), ChangeCipherSpec, Finished."""
        assert self.hello is not None and self._server_hello is not None
        if self._certificate_request_12 is not None:
            self._send(Certificate12(self.config.certificate_chain))
        pre_master_secret, cke = self._client_key_exchange()
        self._send(cke)
        sh = self._server_hello
        writer = self._session_keys_12(
            pre_master_secret, self.hello.random, sh.random,
            extended=sh.extension(ExtensionType.extended_master_secret) is not None,
            encrypt_then_mac=sh.extension(ExtensionType.encrypt_then_mac) is not None,
        )  # fmt: skip
        if self._certificate_request_12 is not None and self.config.certificate_chain:
            self._send_certificate_verify_12(self._certificate_request_12)
        self._send_change_cipher_spec()
        self.records.writer = writer
        assert self.keys_12 is not None
        self._send(Finished(self.keys_12.finished("client", self.transcript.hash())))
        return State.WAIT_CCS_12

    def _send_certificate_verify_12(self, cr: CertificateRequest12) -> None:
        """TLS 1.2 client authentication (RFC 5246 §7.4.8): a signature over every handshake
        message so far, with a scheme the server asked for (``sign_certificate_verify_12``)."""
        key = self.config.private_key
        scheme = default_scheme(key, ProtocolVersion.TLS12)
        if scheme not in cr.supported_signature_algorithms:
            raise HandshakeFailure(
                "the server accepts no signature scheme our certificate key can make",
                seen=[describe(SignatureScheme, x) for x in cr.supported_signature_algorithms],
            )
        messages = b"".join(self.transcript.messages)
        self._send(sign_certificate_verify_12(key, scheme, messages))

    def _client_key_exchange(self) -> tuple[bytes, HandshakeMessage]:
        """The pre-master secret and the ClientKeyExchange that carries our half of it."""
        assert self.hello is not None
        if self.key_exchange_kind == "rsa":
            pre_master = rsa_pre_master_secret(self.hello.legacy_version, self.rng)
            encrypted = encrypt_pre_master_secret(pre_master, self.peer_public_key)
            return pre_master, ClientKeyExchangeRSA(encrypted)
        if isinstance(self._ske, ServerKeyExchangeECDHE):
            share = generate_key_share(self._ske.namedcurve, self.rng)
            return share.exchange(self._ske.public), ClientKeyExchangeECDHE(share.public)
        if isinstance(self._ske, ServerKeyExchangeDHE):
            p, g = (int.from_bytes(v, "big") for v in (self._ske.dh_p, self._ske.dh_g))
            key = generate_dh_key(p, g, self.rng)
            shared = key.exchange(self._ske.dh_Ys.rjust(len(key.public), b"\x00"))
            return dhe_pre_master_secret(shared), ClientKeyExchangeDHE(key.public.lstrip(b"\x00"))
        raise DecodeError("ServerKeyExchange missing for an ephemeral key exchange")

    def on_new_session_ticket_12(self, nst: NewSessionTicket12, _: bytes) -> State:
        """NewSessionTicket (RFC 5077 §3.3), just before the server's ChangeCipherSpec. Only a
        server that put an empty SessionTicket extension in its ServerHello may send one
        (unexpected_message otherwise). It is kept until the server's Finished proves the
        handshake, then stored with the session (``client.tickets``, a :class:`SessionTicket`
        event). An empty ticket means the server changed its mind."""
        assert self._server_hello is not None
        if self._server_hello.extension(ExtensionType.session_ticket) is None:
            raise UnexpectedMessage(
                "NewSessionTicket without a SessionTicket extension in the ServerHello"
                " (RFC 5077 §3.3)"
            )
        if self._new_ticket_12_seen:
            raise UnexpectedMessage("a second NewSessionTicket in one handshake (RFC 5077 §3.3)")
        self._new_ticket_12_seen = True
        self.trace.note(
            "NewSessionTicket (TLS 1.2) received",
            f"{len(nst.ticket)}-byte ticket, lifetime hint {nst.ticket_lifetime_hint} s",
        )
        self._new_ticket_12 = nst if nst.ticket else None
        return self.state

    def _keep_ticket_12(self) -> None:
        """Once the server's Finished is checked: the ticket and the session it resumes (master
        secret, suite, extended master secret, server name, ALPN, the server's chain)."""
        nst = self._new_ticket_12
        if nst is None:
            return
        assert self.keys_12 is not None and self.suite is not None
        ticket = SessionTicket(
            nst.ticket, self.keys_12.master_secret, nst.ticket_lifetime_hint, 0,
            self.suite.suite, self._now(), ProtocolVersion.TLS12, self.keys_12.extended,
            self.config.server_name, self.alpn, self.peer_certificates,
        )  # fmt: skip
        self.tickets.append(ticket)
        self._events.append(ticket)
        self.trace.note(
            "TLS 1.2 session stored",
            f"{len(nst.ticket)}-byte ticket for {self.suite.name},"
            f" extended master secret {'yes' if ticket.extended_master_secret else 'no'}",
        )

    def on_finished_12(self, finished: Finished, transcript_hash: bytes) -> State:
        """The server's Finished (RFC 5246 §7.4.9) over every message before it."""
        assert self.keys_12 is not None
        self._check_finished_length(finished.verify_data, 12)
        expected = self.keys_12.finished("server", transcript_hash)
        check_verify_data(expected, finished.verify_data, who="server")
        self.trace.check("server Finished", True, "verify_data matches the transcript")
        self._keep_ticket_12()
        return self._complete()

    # -- shared ---------------------------------------------------------------------------------
    def _validate(self, certificates: tuple[bytes, ...]) -> None:
        """The server's chain, through ``validation.validate_peer_chain`` (parse errors are
        bad_certificate). An empty Certificate from a server is decode_error (RFC 8446 §4.4.2.4)."""
        if not certificates:
            raise DecodeError("the server sent an empty Certificate message (RFC 8446 §4.4.2.4)")
        c = self.config
        chain = validate_peer_chain(
            certificates, c.trust_roots, c.server_name or "", self._now(), "server",
            validate=not c.insecure,
        )  # fmt: skip
        self.peer_public_key = chain.leaf.public_key()
        self.peer_certificates = certificates
        if chain.report is None:
            self.trace.check("certificate chain", False, "NOT VALIDATED: insecure mode is on")
            return
        self.trace.check(
            "certificate chain",
            True,
            f"valid for {c.server_name!r}, {len(chain.report.checks)} checks",
        )

    def _complete(self) -> State:
        assert self.version is not None and self.suite is not None
        group = self.trace.parameters().get("group")
        self._events.append(
            HandshakeComplete(
                self.version,
                self.suite.suite,
                self.alpn,
                group,
                self.peer_certificates,
                self.resumed,
            )  # fmt: skip
        )
        self.trace.note(
            "handshake complete", f"{ProtocolVersion(self.version).name} {self.suite.name}"
        )
        return State.CONNECTED
