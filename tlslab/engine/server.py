"""The sans-IO TLS server: negotiation, then the server's flights, one short handler per message.

``TLSServer(config, identity)``; feed the client's bytes to ``receive_data`` and send
``data_to_send()`` back. TLS 1.3 (RFC 8446 §4: HelloRetryRequest, middlebox-compatible CCS,
KeyUpdate, PSK resumption) and TLS 1.2 (ECDHE and DHE with a signed ServerKeyExchange, RSA key
transport with the Bleichenbacher countermeasure, extended master secret, secure-renegotiation
indication, RFC 5077 session tickets and the abbreviated handshake that resumes with one).
Taught in notebook 08_full_handshake.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding, load_pem_private_key

from ..constants import (
    ClientCertificateType,
    ExtensionType,
    ProtocolVersion,
    PskKeyExchangeMode,
    SignatureScheme,
)
from ..errors import (
    AlertError,
    CertificateRequired,
    DecodeError,
    HandshakeFailure,
    IllegalParameter,
)
from ..pki.validation import validate_peer_chain
from ..rng import Rng, system_rng
from ..stages.finished import check_verify_data
from ..stages.hello import (
    DEFAULT_SIGNATURE_SCHEMES,
    check_client_hello,
    check_second_client_hello,
    resumption_binder,
    truncated_client_hello,
)
from ..stages.keyexchange import (
    KeyShare,
    decrypt_pre_master_secret,
    dhe_pre_master_secret,
    ffdhe_prime,
    generate_key_share,
    server_key_share,
)
from ..stages.keyschedule import KeySchedule13
from ..stages.negotiation import (
    Negotiated,
    ServerConfig,
    build_hello_retry_request,
    build_server_hello,
    choose_version,
    negotiate,
)
from ..stages.signatures import (
    sign_certificate_verify,
    sign_server_key_exchange,
    verify_certificate_verify,
    verify_certificate_verify_12,
)
from ..stages.suites import suite_info
from ..wire.extensions import (
    ApplicationLayerProtocolNegotiation,
    KeyShareEntry,
    OfferedPsks,
    PreSharedKeyServer,
    PskKeyExchangeModes,
    SignatureAlgorithms,
)
from ..wire.extensions import SessionTicket as SessionTicketExtension
from ..wire.messages import (
    Certificate12,
    Certificate13,
    CertificateRequest12,
    CertificateRequest13,
    CertificateVerify,
    ClientHello,
    ClientKeyExchangeDHE,
    ClientKeyExchangeECDHE,
    ClientKeyExchangeRSA,
    EncryptedExtensions,
    Finished,
    NewSessionTicket12,
    NewSessionTicket13,
    ServerHello,
    ServerHelloDone,
    ServerKeyExchangeDHE,
    ServerKeyExchangeECDHE,
)
from .dispatcher import Connection
from .events import HandshakeComplete
from .record_layer import MAX_CERTIFICATE_MESSAGE, Protection, RecordLayer
from .resumption12 import resumed_keys_12
from .state import State


@dataclass(frozen=True)
class ServerIdentity:
    """The server's certificate chain (DER, leaf first) and the leaf's private key."""

    certificates: tuple[bytes, ...]
    private_key: Any

    @classmethod
    def from_chain(cls, chain: Any) -> ServerIdentity:
        """From a teaching-PKI :class:`~tlslab.pki.certificates.Chain`."""
        return cls(tuple(chain.served()), chain.leaf.private_key)

    @classmethod
    def from_credential(cls, credential: Any) -> ServerIdentity:
        """From a self-signed :class:`~tlslab.pki.certificates.Credential`."""
        return cls((credential.certificate.public_bytes(Encoding.DER),), credential.private_key)

    @classmethod
    def from_pem(cls, certificate_pem: bytes, key_pem: bytes) -> ServerIdentity:
        from ..pki.certificates import load_certificates

        certs = load_certificates(certificate_pem)
        return cls(
            tuple(c.public_bytes(Encoding.DER) for c in certs), load_pem_private_key(key_pem, None)
        )


TICKET_LIFETIME = 7200  # seconds; RFC 8446 §4.6.1 allows up to 7 days
TICKET_AGE_WINDOW_MS = 10_000  # how far the client's ticket age may differ from ours


@dataclass(frozen=True)
class StoredTicket:
    """What a server remembers of a ticket it issued: the secret and what the session it resumes
    had agreed and authenticated (RFC 8446 §4.6.1, RFC 5077 §4).

    The ticket itself is only an opaque random key into this store, for both versions. RFC 5077 §4
    also allows a self-contained ticket (the session state sealed under a server key, e.g. with
    AES-GCM), which spares the server its memory; tlslab keeps the stateful store because every
    field the next handshake checks can be read here, in the clear, next to the trace. A
    server farm or a restart loses these sessions: then the client simply gets a full handshake.

    TLS 1.3: ``psk`` is the ticket's PSK. TLS 1.2 (``version`` 0x0303): ``psk`` is the session's
    master secret, ``age_add`` is 0, and the session remembers whether it used the extended
    master secret (RFC 7627 §5.3) and encrypt-then-MAC (RFC 7366 §3.1)."""

    psk: bytes = field(repr=False)
    cipher_suite: int
    issued_at: dt.datetime
    lifetime: int
    age_add: int = field(repr=False)
    server_name: Any = None
    alpn: bytes | None = None
    client_certificates: tuple[bytes, ...] = field(default=(), repr=False)
    version: int = ProtocolVersion.TLS13
    extended_master_secret: bool = False
    encrypt_then_mac: bool = False

    @property
    def master_secret_12(self) -> bytes:
        """A TLS 1.2 session's master secret (the same bytes as ``psk``)."""
        return self.psk


class TLSServer(Connection):
    """The server's handlers, one per row of the state table (``state.TABLE``)."""

    role = "server"

    def __init__(
        self,
        config: ServerConfig,
        identity: ServerIdentity,
        rng: Rng = system_rng,
        ticket_store: dict[bytes, Any] | None = None,
        max_certificate_message: int = MAX_CERTIFICATE_MESSAGE,
    ) -> None:
        super().__init__(rng)
        self.records = RecordLayer(max_certificate_message)  # the client's Certificate cap
        self.ticket_store: dict[bytes, StoredTicket] = (
            ticket_store if ticket_store is not None else {}
        )
        self.clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)
        self.resumed = False
        self.peer_certificates: tuple[bytes, ...] = ()
        self.config = config
        self.identity = identity
        self.decision: Negotiated | None = None
        self.client_hello: ClientHello | None = None
        self._client_key: Any = None
        self._hrr_sent = False
        self._share: KeyShare | None = None
        self._server_random = b""
        self._writer_12: Protection | None = None
        self._resumed_reader: Protection | None = None  # an abbreviated handshake's read keys
        self._issue_ticket_12 = False
        self._renewed_ticket_12: tuple[bytes, StoredTicket] | None = None  # filed after Finished
        self._hrr: ServerHello | None = None

    def on_client_hello(self, ch: ClientHello, _: bytes) -> State:
        """ClientHello (RFC 8446 §4.1.2): ``negotiation.negotiate`` chooses version, suite,
        group, scheme and ALPN; then the TLS 1.3 or TLS 1.2 server flight."""
        if self.client_hello is not None and self._hrr is not None:
            check_second_client_hello(self.client_hello, ch, self._hrr)
        self.client_hello = ch
        self.trace.client_random = ch.random
        version, _why = choose_version(ch, self.config)
        check_client_hello(ch, version, self.config.versions)  # before choosing anything else
        decision = self.decision = negotiate(ch, self.config)
        if self._hrr is not None and decision.version != ProtocolVersion.TLS13:
            raise IllegalParameter("the second ClientHello falls back to TLS 1.2")
        for reason in decision.reasons:
            self.trace.note("negotiated", reason)
        self.version, self.suite = decision.version, decision.suite
        self.records.version, self.records.record_version = decision.version, ProtocolVersion.TLS12
        self.trace.parameter("version", ProtocolVersion(decision.version).name)
        if self._transcript is None:
            self._start_transcript(self.suite.hash_name)
        if decision.version != ProtocolVersion.TLS13:
            session = self._session_to_resume_12(ch, decision)
            if session is not None:
                return self._abbreviated_handshake_12(ch, decision, session)
            return self._client_hello_12(ch, decision)
        if decision.hello_retry_request:
            return self._hello_retry_request(ch, decision)
        return self._server_flight_13(ch, decision)

    # -- TLS 1.3 ---------------------------------------------------------------------------------
    def _hello_retry_request(self, ch: ClientHello, decision: Negotiated) -> State:
        """HelloRetryRequest (RFC 8446 §4.1.4): ClientHello1 becomes message_hash in the transcript."""
        if self._hrr_sent:
            raise IllegalParameter(
                "the second ClientHello still has no key share the server can use"
            )
        self.transcript.restart_after_hello_retry_request()
        self._hrr = build_hello_retry_request(ch, decision, self.config.hello_retry_cookie)
        self._send(self._hrr)
        if ch.legacy_session_id:
            self._send_change_cipher_spec()  # right after the HRR (RFC 8446 Appendix D.4)
        self._hrr_sent = True
        return State.WAIT_CH2

    def _server_flight_13(self, ch: ClientHello, decision: Negotiated) -> State:
        """ServerHello, then the handshake secrets (``KeySchedule13.handshake``) and the encrypted
        flight; the client's handshake key protects what it sends next."""
        assert decision.client_share is not None and decision.group is not None
        share, shared_secret = server_key_share(
            decision.group, decision.client_share.key_exchange, self.rng
        )
        psk = self._accept_psk(ch)
        entry = KeyShareEntry(share.group, share.public)
        sh = build_server_hello(ch, decision, entry, config=self.config, rng=self.rng)
        if psk is not None:
            sh = sh.replace(extensions=(*sh.extensions, PreSharedKeyServer(0)))
        self._send(sh)
        self.trace.parameter("group", decision.group)
        self.trace.secret("shared_secret", shared_secret)
        self.schedule = KeySchedule13(self._hash_name, psk)
        self._record_secrets(self.schedule.handshake(shared_secret, self.transcript.hash()))
        self._send_encrypted_flight(ch, decision, psk is not None)
        self._next_reader = self._protection_13(self.schedule.client_handshake_traffic_secret)
        wants_certificate = self.config.client_auth and psk is None
        return State.WAIT_CERT if wants_certificate else State.WAIT_FINISHED

    def _send_encrypted_flight(self, ch: ClientHello, decision: Negotiated, resumed: bool) -> None:
        """EncryptedExtensions, [CertificateRequest, Certificate, CertificateVerify], Finished
        (RFC 8446 §4.3-4.4), then the application secrets (``KeySchedule13.application``)."""
        assert self.schedule is not None
        if ch.legacy_session_id and self._hrr is None:
            self._send_change_cipher_spec()  # middlebox compatibility (RFC 8446 Appendix D.4)
        self.records.writer = self._protection_13(self.schedule.server_handshake_traffic_secret)
        alpn = (ApplicationLayerProtocolNegotiation((decision.alpn,)),) if decision.alpn else ()
        self._send(EncryptedExtensions(alpn))
        if not resumed:  # a resumed (PSK) handshake needs no certificate
            if self.config.client_auth:
                self._send(CertificateRequest13((SignatureAlgorithms(DEFAULT_SIGNATURE_SCHEMES),)))
            self._send(Certificate13(tuple(_entries(self.identity.certificates))))
            assert decision.signature_scheme is not None
            key, scheme = self.identity.private_key, decision.signature_scheme
            self._send(sign_certificate_verify(key, scheme, self.transcript.hash()))
        self._send(Finished(self.schedule.finished("server", self.transcript.hash())))
        self._record_secrets(self.schedule.application(self.transcript.hash()))
        self.write_secret = self.schedule.server_application_traffic_secret_0
        self.records.writer = self._protection_13(self.write_secret)

    def on_finished(self, finished: Finished, transcript_hash: bytes) -> State:
        """The client's Finished (RFC 8446 §4.4.4); then read with the client application key,
        derive the resumption master secret and issue tickets (§4.6.1)."""
        assert self.schedule is not None
        self._check_finished_length(finished.verify_data, len(transcript_hash))
        expected = self.schedule.finished("client", transcript_hash)
        check_verify_data(expected, finished.verify_data, who="client")
        self.trace.check("client Finished", True, "verify_data matches the transcript")
        self._record_secrets(self.schedule.resumption(self.transcript.hash()))
        self.read_secret = self.schedule.client_application_traffic_secret_0
        self._next_reader = self._protection_13(self.read_secret)
        after = self._complete()
        self._issue_tickets()
        return after

    # -- client authentication (RFC 8446 §4.4.2-4.4.3) -------------------------------------------
    def on_client_certificate(self, certificate: Certificate13, _: bytes) -> State:
        """The client's Certificate: required, and validated for clientAuth
        (``validation.validate_peer_chain``)."""
        if not certificate.certificates:
            raise CertificateRequired(
                "the client sent no certificate, and this server requires one"
            )
        self._validate_client_chain(certificate.certificates)
        return State.WAIT_CV

    def _validate_client_chain(self, certificates: tuple[bytes, ...]) -> None:
        """A client chain for clientAuth (``validation.validate_peer_chain``)."""
        chain = validate_peer_chain(
            certificates, self.config.client_trust_roots, "",
            self.clock(), "client",
        )  # fmt: skip
        assert chain.report is not None
        self._client_key = chain.leaf.public_key()
        self.peer_certificates = certificates
        detail = f"valid client certificate, {len(chain.report.checks)} checks"
        self.trace.check("client certificate chain", True, detail)

    def on_client_certificate_verify(self, cv: CertificateVerify, transcript_hash: bytes) -> State:
        """The client's CertificateVerify (RFC 8446 §4.4.3) over the transcript up to its
        Certificate, with a scheme our CertificateRequest offered."""
        if cv.algorithm not in DEFAULT_SIGNATURE_SCHEMES:
            raise IllegalParameter(
                "client CertificateVerify uses a scheme we did not offer", seen=cv.algorithm
            )
        verify_certificate_verify(self._client_key, cv, transcript_hash, server=False)
        self.trace.check("client CertificateVerify", True, "the client holds its certificate's key")
        return State.WAIT_FINISHED

    # -- resumption (RFC 8446 §4.2.11, §4.6.1) -------------------------------------------------------
    def _accept_psk(self, ch: ClientHello) -> bytes | None:
        """The PSK of a ticket we issued, if the client offers one with a valid binder and psk_dhe_ke."""
        offered = ch.extension(ExtensionType.pre_shared_key)
        modes = ch.extension(ExtensionType.psk_key_exchange_modes)
        if not isinstance(offered, OfferedPsks) or not isinstance(modes, PskKeyExchangeModes):
            return None
        stored = self.ticket_store.get(offered.identities[0].identity)
        if PskKeyExchangeMode.psk_dhe_ke not in modes.ke_modes or stored is None:
            self.trace.note("resumption", "no usable ticket: full handshake")
            return None
        why_not = self._ticket_unusable(stored, offered.identities[0].obfuscated_ticket_age, ch)
        if why_not:
            self.trace.note("resumption", f"{why_not}: full handshake")
            return None
        messages = self.transcript.messages
        truncated = truncated_client_hello(messages[-1], offered)
        binder = resumption_binder(stored.psk, b"".join(messages[:-1]), truncated, self._hash_name)
        check_verify_data(binder, offered.binders[0], who="client PSK binder")
        self.resumed, self.peer_certificates = True, stored.client_certificates
        self.trace.check(
            "PSK binder", True, "the client holds the ticket's PSK: resuming without a certificate"
        )
        return stored.psk

    def _ticket_unusable(self, stored: StoredTicket, obfuscated_age: int, ch: ClientHello) -> str:
        """Why a ticket we issued may not resume this connection (RFC 8446 §4.2.11, §4.6.1,
        §8.3), or "" if it may: expired, an age that disagrees with ours, or bound to what the
        first session authenticated (server name, ALPN, the client's certificate)."""
        assert self.decision is not None
        age = self.clock() - stored.issued_at
        client_age_ms = (obfuscated_age - stored.age_add) % 2**32
        if stored.version != ProtocolVersion.TLS13:
            return "the ticket is for a TLS 1.2 session"
        if suite_info(stored.cipher_suite).hash_name != self._hash_name:
            return "the ticket's hash function differs"
        if age.total_seconds() > stored.lifetime:
            return "the ticket is past its lifetime"
        if abs(client_age_ms - age.total_seconds() * 1000) > TICKET_AGE_WINDOW_MS:
            return "the ticket's age disagrees with ours (a replay?)"
        if ch.extension(ExtensionType.server_name) != stored.server_name:
            return "the ticket was issued for another server name"
        if self.decision.alpn != stored.alpn:
            return "the ticket was issued for another application protocol"
        if self.config.client_auth and not stored.client_certificates:
            return "this server requires a client certificate, and the session had none"
        return self._client_identity_untrusted(stored)

    def _issue_tickets(self) -> None:
        """Send ``config.tickets`` NewSessionTickets and remember their PSKs (a stateful ticket store)."""
        assert self.schedule is not None and self.suite is not None
        assert self.client_hello is not None and self.decision is not None
        for index in range(self.config.tickets):
            nonce = bytes([index])
            ticket = self.rng(32)
            age_add = int.from_bytes(self.rng(4), "big")
            self.ticket_store[ticket] = StoredTicket(
                self.schedule.ticket_psk(nonce), self.suite.suite, self.clock(), TICKET_LIFETIME,
                age_add, self.client_hello.extension(ExtensionType.server_name),
                self.decision.alpn, self.peer_certificates,
            )  # fmt: skip
            self._send(
                NewSessionTicket13(TICKET_LIFETIME, age_add, nonce, ticket), transcript=False
            )

    # -- TLS 1.2 ---------------------------------------------------------------------------------
    def _client_hello_12(self, ch: ClientHello, decision: Negotiated) -> State:
        """The TLS 1.2 server flight (RFC 5246 §7.3): ServerHello, Certificate,
        [ServerKeyExchange], ServerHelloDone."""
        assert self.suite is not None
        kind = self.suite.key_exchange
        self.key_exchange_kind = None if kind == "any" else kind
        if kind in ("ecdhe", "dhe") and ch.extension(ExtensionType.signature_algorithms) is None:
            raise HandshakeFailure(
                "no signature_algorithms: RFC 5246 would default to SHA-1, which RFC 9155 §5"
                " forbids, and we never sign with a scheme the client did not offer"
            )
        sh = build_server_hello(ch, decision, config=self.config, rng=self.rng)
        if self.config.tickets and ch.extension(ExtensionType.session_ticket) is not None:
            # RFC 5077 §3.2: an empty SessionTicket says a NewSessionTicket will come
            self._issue_ticket_12 = True
            sh = sh.replace(extensions=(*sh.extensions, SessionTicketExtension()))
        self._server_random = sh.random
        self._send(sh)
        self._send(Certificate12(self.identity.certificates))
        if kind in ("ecdhe", "dhe"):
            self._send(self._server_key_exchange(ch, decision))
        if self.config.client_auth:
            self._send(CertificateRequest12(CLIENT_CERTIFICATE_TYPES, DEFAULT_SIGNATURE_SCHEMES_12))
        self._send(ServerHelloDone())
        return State.WAIT_CERT_12 if self.config.client_auth else State.WAIT_CKE_12

    def _server_key_exchange(
        self, ch: ClientHello, decision: Negotiated
    ) -> ServerKeyExchangeECDHE | ServerKeyExchangeDHE:
        """Our ephemeral (EC)DH key, signed over both randoms (RFC 5246 §7.4.3, RFC 8422 §5.4)."""
        assert decision.group is not None and decision.signature_scheme is not None
        share = self._share = generate_key_share(decision.group, self.rng)
        scheme = decision.signature_scheme
        unsigned: ServerKeyExchangeECDHE | ServerKeyExchangeDHE
        if self.key_exchange_kind == "ecdhe":
            unsigned = ServerKeyExchangeECDHE(decision.group, share.public, scheme, b"")
        else:
            p = _minimal(ffdhe_prime(decision.group))
            unsigned = ServerKeyExchangeDHE(p, b"\x02", share.public.lstrip(b"\x00"), scheme, b"")
        signature = sign_server_key_exchange(
            self.identity.private_key, scheme, ch.random, self._server_random, unsigned.params()
        )
        return unsigned.replace(signature=signature)

    def on_client_certificate_12(self, certificate: Certificate12, _: bytes) -> State:
        """The client's Certificate in TLS 1.2 (RFC 5246 §7.4.6): required, then validated;
        none is handshake_failure, as TLS 1.2 has no certificate_required alert."""
        if not certificate.certificates:
            raise HandshakeFailure("the client sent no certificate, and this server requires one")
        self._validate_client_chain(certificate.certificates)
        return State.WAIT_CKE_12

    def on_client_certificate_verify_12(self, cv: CertificateVerify, _: bytes) -> State:
        """TLS 1.2 CertificateVerify (RFC 5246 §7.4.8): the client's signature over every
        handshake message before it (``signatures.verify_certificate_verify_12``)."""
        if cv.algorithm not in DEFAULT_SIGNATURE_SCHEMES_12:
            raise IllegalParameter(
                "client CertificateVerify uses a scheme we did not offer", seen=cv.algorithm
            )
        messages = b"".join(self.transcript.messages[:-1])  # everything before this message
        verify_certificate_verify_12(self._client_key, cv, messages)
        self.trace.check("client CertificateVerify", True, "the client holds its certificate's key")
        return State.WAIT_CCS_12

    def on_client_key_exchange(self, cke: Any, _: bytes) -> State:
        """ClientKeyExchange (RFC 5246 §7.4.7): the pre-master secret, then
        ``keyschedule.keys_12`` (the extended master secret hashes through this message)."""
        assert self.client_hello is not None and self.decision is not None
        self._writer_12 = self._session_keys_12(
            self._pre_master_secret(cke), self.client_hello.random, self._server_random,
            extended=self.decision.extended_master_secret,
            encrypt_then_mac=self.decision.encrypt_then_mac,
        )  # fmt: skip
        return State.WAIT_CV_12 if self.peer_certificates else State.WAIT_CCS_12

    def _pre_master_secret(self, cke: Any) -> bytes:
        """RSA: decrypt (with the Bleichenbacher countermeasure); (EC)DHE: our share times theirs."""
        assert self.client_hello is not None
        if isinstance(cke, ClientKeyExchangeRSA):
            return decrypt_pre_master_secret(
                cke.encrypted_pre_master_secret,
                self.identity.private_key,
                self.client_hello.legacy_version,
                self.rng,
            )
        assert self._share is not None
        if isinstance(cke, ClientKeyExchangeECDHE):
            return self._share.exchange(cke.ecdh_Yc)
        if isinstance(cke, ClientKeyExchangeDHE):
            their = cke.dh_Yc.rjust(len(self._share.public), b"\x00")
            return dhe_pre_master_secret(self._share.exchange(their))
        raise DecodeError("ClientKeyExchange of an unexpected form")

    def on_finished_12(self, finished: Finished, transcript_hash: bytes) -> State:
        """The client's Finished (RFC 5246 §7.4.9); then our ChangeCipherSpec and Finished."""
        assert self.keys_12 is not None
        self._check_finished_length(finished.verify_data, 12)
        expected = self.keys_12.finished("client", transcript_hash)
        check_verify_data(expected, finished.verify_data, who="client")
        self.trace.check("client Finished", True, "verify_data matches the transcript")
        if self._issue_ticket_12:
            self._send_new_session_ticket_12()
        self._send_change_cipher_spec()
        self.records.writer = self._writer_12
        self._send(Finished(self.keys_12.finished("server", self.transcript.hash())))
        return self._complete()

    # -- TLS 1.2 resumption (RFC 5077, RFC 5246 §7.3, RFC 7627 §5.3) ------------------------------
    def _send_new_session_ticket_12(self) -> None:
        """NewSessionTicket (RFC 5077 §3.3), after the client's Finished and before our
        ChangeCipherSpec; it is part of the transcript our Finished covers. The ticket is a random
        key into the store (see :class:`StoredTicket`), filed with the session's state."""
        assert self.keys_12 is not None and self.suite is not None
        assert self.client_hello is not None and self.decision is not None
        ticket = self.rng(32)
        self.ticket_store[ticket] = StoredTicket(
            self.keys_12.master_secret, self.suite.suite, self.clock(), TICKET_LIFETIME, 0,
            self.client_hello.extension(ExtensionType.server_name), self.decision.alpn,
            self.peer_certificates, ProtocolVersion.TLS12, self.keys_12.extended,
            self.decision.encrypt_then_mac,
        )  # fmt: skip
        self._send(NewSessionTicket12(TICKET_LIFETIME, ticket))
        self.trace.note(
            "TLS 1.2 session stored",
            f"ticket {ticket.hex()[:16]}..., lifetime {TICKET_LIFETIME} s, extended master"
            f" secret {'yes' if self.keys_12.extended else 'no'}",
        )

    def _session_to_resume_12(self, ch: ClientHello, decision: Negotiated) -> StoredTicket | None:
        """The session of the ticket in the ClientHello's SessionTicket extension, if it may be
        resumed (RFC 5077 §3.1, §3.4); otherwise None, and the handshake is a full one: a ticket
        the server cannot use is never an error (RFC 5077 §3.4)."""
        offered = ch.extension(ExtensionType.session_ticket)
        if not isinstance(offered, SessionTicketExtension) or not offered.ticket:
            return None
        stored = self.ticket_store.get(offered.ticket)
        why_not = (
            "unknown ticket" if stored is None else self._session_unusable_12(stored, ch, decision)
        )
        if why_not or stored is None:
            self.trace.note("resumption (TLS 1.2)", f"{why_not}: full handshake")
            return None
        return stored

    def _session_unusable_12(
        self, stored: StoredTicket, ch: ClientHello, decision: Negotiated
    ) -> str:
        """Why a stored TLS 1.2 session may not be resumed by this ClientHello, or "":

        - it is a TLS 1.3 ticket, or past its lifetime (RFC 5077 §5.6);
        - its cipher suite is not the one this server chooses now (the client must offer it,
          RFC 5246 §7.4.1.2; tlslab also keeps its own preference, so the session's suite must
          be the one :func:`negotiate` picked);
        - it was made for another server name or application protocol (RFC 6066 §3, RFC 7301 §3.1);
        - RFC 7627 §5.3: the session used the extended master secret and this hello does not
          offer it (the RFC says "abort the abbreviated handshake": tlslab goes on with a full
          one), or the session did not use it (a full handshake "SHOULD" follow, to make a session
          that does); so only extended-master-secret sessions are resumed;
        - its encrypt-then-MAC status differs from this hello's (RFC 7366 §3.1);
        - this server requires a client certificate and the session had none."""
        if stored.version != ProtocolVersion.TLS12:
            return "the ticket is for a TLS 1.3 session"
        if (self.clock() - stored.issued_at).total_seconds() > stored.lifetime:
            return "the ticket is past its lifetime"
        if stored.cipher_suite != decision.cipher_suite:
            return "the session's cipher suite is not the one negotiated now"
        if ch.extension(ExtensionType.server_name) != stored.server_name:
            return "the ticket was issued for another server name"
        if decision.alpn != stored.alpn:
            return "the ticket was issued for another application protocol"
        if stored.extended_master_secret and not decision.extended_master_secret:
            return "the session used the extended master secret and this hello does not offer it (RFC 7627 §5.3)"
        if not stored.extended_master_secret:
            return "the session did not use the extended master secret (RFC 7627 §5.3)"
        if stored.encrypt_then_mac != decision.encrypt_then_mac:
            return "the session's encrypt-then-MAC status differs (RFC 7366 §3.1)"
        if self.config.client_auth and not stored.client_certificates:
            return "this server requires a client certificate, and the session had none"
        return self._client_identity_untrusted(stored)

    def _client_identity_untrusted(self, stored: StoredTicket) -> str:
        """Why a session's client identity may not be taken over by this server, or "": a
        server that requires client certificates accepts a resumed identity only if its own
        trust roots accept it now (a shared ticket store may hold sessions authenticated by a
        server that trusts other CAs; OpenSSL keeps them apart by session id context)."""
        if not (self.config.client_auth and stored.client_certificates):
            return ""
        try:
            validate_peer_chain(
                stored.client_certificates, self.config.client_trust_roots, "", self.clock(),
                "client",
            )  # fmt: skip
        except AlertError as error:
            return f"the session's client certificate is not trusted by this server now ({error})"
        return ""

    def _abbreviated_handshake_12(
        self, ch: ClientHello, decision: Negotiated, session: StoredTicket
    ) -> State:
        """The abbreviated handshake (RFC 5077 §3.1, RFC 5246 §7.3): a ServerHello that echoes the
        client's session_id, then at once our ChangeCipherSpec and Finished under keys cut from
        the session's master secret and the new randoms. No certificate, no key exchange: the
        client identity is the one the session authenticated. A server that issues tickets
        renews this one (an empty SessionTicket in the ServerHello, then NewSessionTicket before
        the ChangeCipherSpec, RFC 5077 §3.1), so the client need not present the same ticket
        twice; the new ticket names the same session and does not outlive it."""
        assert self.suite is not None
        sh = build_server_hello(ch, decision, config=self.config, rng=self.rng)
        sh = sh.replace(legacy_session_id_echo=ch.legacy_session_id)
        renew = self.config.tickets > 0
        if renew:
            sh = sh.replace(extensions=(*sh.extensions, SessionTicketExtension()))
        self._server_random = sh.random
        self._send(sh)
        if renew:
            self._renew_ticket_12(session)
        if not ch.legacy_session_id:  # as OpenSSL does: resume, echoing the empty session_id
            self.trace.note(
                "resumption (TLS 1.2)",
                "the client sent no session_id, so the echo cannot say we resume; our"
                " ChangeCipherSpec right after the ServerHello does (RFC 5077 §3.4)",
            )
        self.resumed, self.peer_certificates = True, session.client_certificates
        self.trace.note(
            "resumption (TLS 1.2)",
            "the ticket names a session we can resume: abbreviated handshake, no certificate",
        )
        self.keys_12 = resumed_keys_12(
            session.master_secret_12, ch.random, sh.random, self.suite,
            extended=session.extended_master_secret,
        )  # fmt: skip
        self.trace.parameter("extended_master_secret", session.extended_master_secret)
        self.trace.secret("master_secret", self.keys_12.master_secret)
        reader, writer = self.keys_12.protection_pair(
            self.role, encrypt_then_mac=decision.encrypt_then_mac, rng=self.rng
        )
        self._resumed_reader = reader
        self._send_change_cipher_spec()
        self.records.writer = writer
        self._send(Finished(self.keys_12.finished("server", self.transcript.hash())))
        return State.WAIT_CCS_RESUMED_12

    def _renew_ticket_12(self, session: StoredTicket) -> None:
        """A fresh ticket for the resumed session (RFC 5077 §3.1): filed under a new random key
        with the same state and creation time, its lifetime hint what is left of the session's.
        It is filed when the client's Finished checks, not before."""
        ticket = self.rng(32)
        left = session.lifetime - (self.clock() - session.issued_at).total_seconds()
        # filed only once the client's Finished proves it holds the session (on_finished_resumed_12):
        # this NewSessionTicket goes out in the clear before any proof, so a replayed ClientHello
        # must not be able to add tickets to the store (or, bounded, push real sessions out of it)
        self._renewed_ticket_12 = (ticket, session)
        self._send(NewSessionTicket12(max(1, int(left)), ticket))
        self.trace.note(
            "TLS 1.2 ticket renewed", f"ticket {ticket.hex()[:16]}... for the same session"
        )

    def on_change_cipher_spec_resumed_12(self, content: bytes, _: bytes) -> State:
        """The client's ChangeCipherSpec in an abbreviated handshake (RFC 5246 §7.1): its
        Finished comes under the keys cut from the resumed master secret."""
        self._next_reader, self._resumed_reader = self._resumed_reader, None
        self.trace.note("ChangeCipherSpec received", "reading with the resumed session's keys")
        return State.WAIT_FINISHED_RESUMED_12

    def on_finished_resumed_12(self, finished: Finished, transcript_hash: bytes) -> State:
        """The client's Finished, last in an abbreviated handshake (RFC 5246 §7.4.9): it proves
        the client holds the session's master secret."""
        assert self.keys_12 is not None
        self._check_finished_length(finished.verify_data, 12)
        expected = self.keys_12.finished("client", transcript_hash)
        check_verify_data(expected, finished.verify_data, who="client")
        self.trace.check("client Finished", True, "the client holds the session's master secret")
        if self._renewed_ticket_12 is not None:
            ticket, session = self._renewed_ticket_12
            self.ticket_store[ticket] = session
            self._renewed_ticket_12 = None
        return self._complete()

    def _complete(self) -> State:
        assert self.version is not None and self.suite is not None and self.decision is not None
        group = (
            None if self.resumed and self.version != ProtocolVersion.TLS13 else self.decision.group
        )
        self._events.append(
            HandshakeComplete(
                self.version,
                self.suite.suite,
                self.decision.alpn,
                group,
                self.peer_certificates,
                self.resumed,
            )  # fmt: skip
        )
        self.trace.note(
            "handshake complete", f"{ProtocolVersion(self.version).name} {self.suite.name}"
        )
        return State.CONNECTED


# What a TLS 1.2 CertificateRequest asks for (RFC 5246 §7.4.4, RFC 8422 §5.5).
CLIENT_CERTIFICATE_TYPES = (ClientCertificateType.rsa_sign, ClientCertificateType.ecdsa_sign)
DEFAULT_SIGNATURE_SCHEMES_12 = tuple(
    s
    for s in DEFAULT_SIGNATURE_SCHEMES
    if s not in (SignatureScheme.ed25519, SignatureScheme.ed448)
)


def _entries(certificates: tuple[bytes, ...]) -> list[Any]:
    from ..wire.messages import CertificateEntry

    return [CertificateEntry(der) for der in certificates]


def _minimal(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")
