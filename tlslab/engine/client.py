"""The sans-IO TLS client: a sequence of stage calls, one short handler per message.

``TLSClient(config).start()`` queues the ClientHello; then feed the server's bytes to
``receive_data`` and send ``data_to_send()`` back, until a :class:`HandshakeComplete` event.
Handlers contain no cryptography of their own: they call ``hello``, ``keyexchange``,
``keyschedule``, ``validation``, ``signatures`` and ``finished``, and record every value in
``self.trace``. TLS 1.3 (RFC 8446 §4, including HelloRetryRequest and KeyUpdate) and TLS 1.2
(RFC 5246 with ECDHE, DHE or RSA key exchange, RFC 7627 extended master secret).
Taught in notebook 08_full_handshake.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from ..constants import ExtensionType, ProtocolVersion, SignatureScheme, describe
from ..errors import (
    BadCertificate,
    DecodeError,
    HandshakeFailure,
    IllegalParameter,
    UnsupportedExtension,
)
from ..pki.validation import validate_chain
from ..rng import Rng, system_rng
from ..stages import keyschedule as ks
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
from ..stages.protection import RecordProtection12
from ..stages.signatures import (
    default_scheme,
    sign_certificate_verify,
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
from .connection import Connection, HandshakeComplete, SessionTicket
from .state import State


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
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def replace(self, **changes: Any) -> ClientConfig:
        import dataclasses

        return dataclasses.replace(self, **changes)


class TLSClient(Connection):
    role = "client"

    def __init__(self, config: ClientConfig, rng: Rng = system_rng) -> None:
        super().__init__(rng)
        self.config = config
        self.hello: ClientHello | None = None
        self.key_shares: dict[int, KeyShare] = {}
        self.peer_public_key: Any = None
        self.peer_certificates: tuple[bytes, ...] = ()
        self.alpn: bytes | None = None
        self.tickets: list[SessionTicket] = []
        self._retried = False
        self._server_hello: ServerHello | None = None
        self._ske: ServerKeyExchangeECDHE | ServerKeyExchangeDHE | None = None
        self._certificate_request: CertificateRequest13 | None = None
        self._certificate_requested_12 = False
        self.resumed = False
        if config.insecure:
            self.trace.note(
                "WARNING", "insecure mode: the server's certificate will NOT be validated"
            )

    # -- first flight ------------------------------------------------------------------------
    def start(self) -> None:
        """Queue the ClientHello (RFC 8446 §4.1.2)."""
        c = self.config
        groups = (
            c.key_share_groups
            if c.key_share_groups is not None
            else default_key_share_groups(c.groups)
        )
        offers_13 = ProtocolVersion.TLS13 in c.versions
        self.key_shares = {g: generate_key_share(g, self.rng) for g in groups} if offers_13 else {}
        self.hello = build_client_hello(
            c.server_name,
            versions=c.versions,
            cipher_suites=c.cipher_suites,
            groups=c.groups,
            signature_schemes=c.signature_schemes,
            alpn=c.alpn,
            key_shares=list(self.key_shares.values()),
            rng=self.rng,
        )
        if c.session_ticket is not None and offers_13:
            self.hello = self._with_psk(self.hello, b"")
        self.trace.client_random = self.hello.random
        self._send(self.hello)
        self._record_version = ProtocolVersion.TLS12
        self.state = State.WAIT_SH

    # -- ServerHello ----------------------------------------------------------------------------
    def _now(self) -> dt.datetime:
        return self.config.now or dt.datetime.now(dt.timezone.utc)

    def _with_psk(self, hello: ClientHello, prior_transcript: bytes) -> ClientHello:
        """Offer the stored ticket (RFC 8446 §4.2.11): identity, obfuscated age and binder."""
        ticket = self.config.session_ticket
        assert ticket is not None
        age_ms = (
            int((self._now() - ticket.received_at).total_seconds() * 1000)
            if ticket.received_at
            else 0
        )
        self.trace.note(
            "offering a session ticket", f"{len(ticket.ticket)}-byte ticket, age {age_ms} ms"
        )
        return offer_psk(
            hello,
            ticket.ticket,
            ticket.psk,
            age_ms + ticket.age_add,
            suite_info(ticket.cipher_suite).hash_name,
            prior_transcript,
        )

    def on_server_hello(self, sh: ServerHello, raw: bytes) -> None:
        assert self.hello is not None
        if sh.is_hello_retry_request:
            self._on_hello_retry_request(sh, raw)
            return
        version = check_server_hello(self.hello, sh)
        if (
            self._retried
            and self._server_hello is not None
            and sh.cipher_suite != self._server_hello.cipher_suite
        ):
            raise IllegalParameter(
                "ServerHello changed the cipher suite chosen in the HelloRetryRequest"
            )
        self.version, self.suite = version, suite_info(sh.cipher_suite)
        self._server_hello = sh
        self.trace.parameter("version", ProtocolVersion(version).name)
        self.trace.parameter("cipher_suite", self.suite.name)
        if self._transcript is None:
            self._start_transcript(self.suite.hash_name)
        self._transcript_add(raw)
        if version == ProtocolVersion.TLS13:
            self._handshake_secrets_13(sh)
        else:
            self.key_exchange_kind = (
                None if self.suite.key_exchange == "any" else self.suite.key_exchange
            )
            self.state = State.WAIT_CERT_12

    def _on_hello_retry_request(self, hrr: ServerHello, raw: bytes) -> None:
        assert self.hello is not None
        if self._retried:
            raise IllegalParameter("a second HelloRetryRequest (RFC 8446 §4.1.4)")
        check_hello_retry_request(self.hello, hrr)
        self._retried, self._server_hello = True, hrr
        transcript = self._start_transcript(suite_info(hrr.cipher_suite).hash_name)
        transcript.restart_after_hello_retry_request()
        self._transcript_add(raw)
        selected = hrr.extension(ExtensionType.key_share)
        new_share = None
        if selected is not None:
            group = selected.selected_group  # type: ignore[attr-defined]
            new_share = generate_key_share(group, self.rng)
            self.key_shares = {group: new_share}
        self.trace.note("HelloRetryRequest", "sending a second ClientHello")
        self.hello = build_client_hello_after_retry(self.hello, hrr, new_share)
        if self.hello.extension(ExtensionType.pre_shared_key) is not None:
            self.hello = self._with_psk(self.hello, b"".join(transcript.messages))
        self._send(self.hello)
        self.state = State.WAIT_SH

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
        assert self.suite is not None
        if suite_info(ticket.cipher_suite).hash_name != self.suite.hash_name:
            raise IllegalParameter(
                "resumed session must keep the ticket's hash function (RFC 8446 §4.2.11)"
            )
        self.resumed = True
        self.trace.note("resumption", "the server accepted our ticket: no certificate this time")
        return ticket.psk

    def _handshake_secrets_13(self, sh: ServerHello) -> None:
        share = sh.extension(ExtensionType.key_share)
        assert isinstance(share, KeyShareServerHello)
        mine = self.key_shares[share.server_share.group]
        self.trace.parameter("group", share.server_share.group)
        _, shts = self._handshake_schedule(
            mine.exchange(share.server_share.key_exchange), self._accepted_psk(sh)
        )
        self._set_reader(self._protection_13(shts))

    # -- TLS 1.3 server flight ----------------------------------------------------------------
    def on_encrypted_extensions(self, ee: EncryptedExtensions, raw: bytes) -> None:
        assert self.hello is not None
        for ext in ee.extensions:
            if self.hello.extension(ext.type_code) is None:
                raise UnsupportedExtension(
                    "EncryptedExtensions has an extension we did not offer", seen=ext.type_code
                )
        alpn = ee.extension(ExtensionType.application_layer_protocol_negotiation)
        if isinstance(alpn, ApplicationLayerProtocolNegotiation):
            if (
                len(alpn.protocol_name_list) != 1
                or alpn.protocol_name_list[0].decode() not in self.config.alpn
            ):
                raise IllegalParameter(
                    "server selected an ALPN protocol we did not offer",
                    seen=alpn.protocol_name_list,
                )
            self.alpn = alpn.protocol_name_list[0]
            self.trace.parameter("alpn", self.alpn.decode())
        self._transcript_add(raw)
        if self.resumed:
            self.state = (
                State.WAIT_FINISHED
            )  # PSK handshakes carry no Certificate or CertificateVerify

    def on_certificate_request(self, cr: CertificateRequest13, raw: bytes) -> None:
        self._transcript_add(raw)
        has = (
            "our certificate"
            if self.config.certificate_chain
            else "an empty Certificate (we have none)"
        )
        self.trace.note("CertificateRequest", f"the server asks who we are; we will send {has}")
        self._certificate_request = cr

    def on_certificate(self, certificate: Certificate13, raw: bytes) -> None:
        self._transcript_add(raw)
        self._validate(certificate.certificates)

    def on_certificate_verify(self, cv: CertificateVerify, raw: bytes) -> None:
        if cv.algorithm not in self.config.signature_schemes:
            raise IllegalParameter(
                "CertificateVerify uses a scheme we did not offer", seen=cv.algorithm
            )
        verify_certificate_verify(self.peer_public_key, cv, self.transcript.hash())
        self.trace.check(
            "server CertificateVerify",
            True,
            f"{describe(SignatureScheme, cv.algorithm)} signature over the transcript verifies",
        )
        self._transcript_add(raw)

    def on_finished(self, finished: Finished, raw: bytes) -> None:
        assert self.suite is not None
        hash_name = self.suite.hash_name
        expected = ks.verify_data_13(
            self._secrets["server_handshake_traffic_secret"], self.transcript.hash(), hash_name
        )
        check_verify_data(expected, finished.verify_data, who="server")
        self.trace.check("server Finished", True, "verify_data matches the transcript")
        self._transcript_add(raw)
        self._application_schedule()
        self.read_secret = self._secrets["server_application_traffic_secret_0"]
        self._set_reader(self._protection_13(self.read_secret))
        self._send_change_cipher_spec()
        chts = self._secrets["client_handshake_traffic_secret"]
        self._writer = self._protection_13(chts)
        if self._certificate_request is not None:
            self._send_client_certificate(self._certificate_request)
        self._send(Finished(ks.verify_data_13(chts, self.transcript.hash(), hash_name)))
        self.write_secret = self._secrets["client_application_traffic_secret_0"]
        self._writer = self._protection_13(self.write_secret)
        self._secrets["resumption_master_secret"] = ks.derive_secret(
            self._secrets["master_secret"], "res master", self.transcript.hash(), hash_name
        )
        self._complete()

    def _send_client_certificate(self, cr: CertificateRequest13) -> None:
        """Client authentication (RFC 8446 §4.4.2-4.4.3): Certificate, then CertificateVerify."""
        chain = self.config.certificate_chain
        self._send(
            Certificate13(
                tuple(CertificateEntry(der) for der in chain), cr.certificate_request_context
            )
        )
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
        self._send(
            sign_certificate_verify(
                self.config.private_key, scheme, self.transcript.hash(), server=False
            )
        )

    def on_new_session_ticket(self, nst: NewSessionTicket13, raw: bytes) -> None:
        assert self.suite is not None
        psk = ks.resumption_psk(
            self._secrets["resumption_master_secret"], nst.ticket_nonce, self.suite.hash_name
        )
        ticket = SessionTicket(
            nst.ticket, psk, nst.ticket_lifetime, nst.ticket_age_add, self.suite.suite, self._now()
        )
        self.tickets.append(ticket)
        self.trace.note(
            "NewSessionTicket stored",
            f"{len(nst.ticket)}-byte ticket, lifetime {nst.ticket_lifetime}s",
        )
        self._events.append(ticket)

    # -- TLS 1.2 --------------------------------------------------------------------------------
    def on_certificate_12(self, certificate: Certificate12, raw: bytes) -> None:
        self._transcript_add(raw)
        self._validate(certificate.certificates)
        if self.key_exchange_kind == "rsa":
            self.state = State.WAIT_SHD_12

    def on_server_key_exchange(
        self, ske: ServerKeyExchangeECDHE | ServerKeyExchangeDHE, raw: bytes
    ) -> None:
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
        verify_server_key_exchange(
            self.peer_public_key,
            ske.algorithm,
            self.hello.random,
            self._server_hello.random,
            ske.params(),
            ske.signature,
        )
        self.trace.check(
            "ServerKeyExchange signature",
            True,
            "the server's ephemeral key is signed by its certificate key",
        )
        self._ske = ske
        self._transcript_add(raw)

    def on_certificate_request_12(self, cr: CertificateRequest12, raw: bytes) -> None:
        self._transcript_add(raw)
        self._certificate_requested_12 = True

    def on_server_hello_done(self, done: ServerHelloDone, raw: bytes) -> None:
        assert self.suite is not None and self.hello is not None and self._server_hello is not None
        self._transcript_add(raw)
        if self._certificate_requested_12:
            self._send(Certificate12(()))
        pre_master, cke = self._client_key_exchange()
        self._send(cke)
        self.trace.secret("pre_master_secret", pre_master)
        if self._server_hello.extension(ExtensionType.extended_master_secret) is not None:
            master = ks.extended_master_secret(
                pre_master, self.transcript.hash(), self.suite.hash_name
            )
            self.trace.parameter("extended_master_secret", True)
        else:
            master = ks.master_secret(
                pre_master, self.hello.random, self._server_hello.random, self.suite.hash_name
            )
        self._secrets["master_secret_12"] = master
        self.trace.secret("master_secret_12", master)
        block = ks.key_block(master, self.hello.random, self._server_hello.random, self.suite)
        etm = self._server_hello.extension(ExtensionType.encrypt_then_mac) is not None
        self._pending_reader = RecordProtection12(
            self.suite,
            block.server_write_key,
            block.server_write_IV,
            block.server_write_MAC_key,
            encrypt_then_mac=etm,
            rng=self.rng,
        )
        self._send_change_cipher_spec()
        self._writer = RecordProtection12(
            self.suite,
            block.client_write_key,
            block.client_write_IV,
            block.client_write_MAC_key,
            encrypt_then_mac=etm,
            rng=self.rng,
        )
        verify_data = ks.verify_data_12(
            master, "client finished", self.transcript.hash(), self.suite.hash_name
        )
        self._send(Finished(verify_data))

    def _client_key_exchange(self) -> tuple[bytes, HandshakeMessage]:
        assert self.hello is not None
        if self.key_exchange_kind == "rsa":
            pre_master = rsa_pre_master_secret(self.hello.legacy_version, self.rng)
            return pre_master, ClientKeyExchangeRSA(
                encrypt_pre_master_secret(pre_master, self.peer_public_key)
            )
        if isinstance(self._ske, ServerKeyExchangeECDHE):
            share = generate_key_share(self._ske.namedcurve, self.rng)
            return share.exchange(self._ske.public), ClientKeyExchangeECDHE(share.public)
        if isinstance(self._ske, ServerKeyExchangeDHE):
            key = generate_dh_key(
                int.from_bytes(self._ske.dh_p, "big"),
                int.from_bytes(self._ske.dh_g, "big"),
                self.rng,
            )
            shared = key.exchange(self._ske.dh_Ys.rjust(len(key.public), b"\x00"))
            return dhe_pre_master_secret(shared), ClientKeyExchangeDHE(key.public.lstrip(b"\x00"))
        raise DecodeError("ServerKeyExchange missing for an ephemeral key exchange")

    def on_new_session_ticket_12(self, nst: NewSessionTicket12, raw: bytes) -> None:
        self._transcript_add(raw)
        self.trace.note("NewSessionTicket (TLS 1.2) received", f"{len(nst.ticket)}-byte ticket")

    def on_finished_12(self, finished: Finished, raw: bytes) -> None:
        assert self.suite is not None
        expected = ks.verify_data_12(
            self._secrets["master_secret_12"],
            "server finished",
            self.transcript.hash(),
            self.suite.hash_name,
        )
        check_verify_data(expected, finished.verify_data, who="server")
        self.trace.check("server Finished", True, "verify_data matches the transcript")
        self._transcript_add(raw)
        self._complete()

    # -- shared ---------------------------------------------------------------------------------
    def _validate(self, certificates: tuple[bytes, ...]) -> None:
        if not certificates:
            raise DecodeError("the server sent an empty Certificate message (RFC 8446 §4.4.2.4)")
        try:
            parsed = [x509.load_der_x509_certificate(der) for der in certificates]
            self.peer_public_key = parsed[0].public_key()
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise BadCertificate(f"server certificate does not parse: {exc}") from None
        self.peer_certificates = certificates
        if self.config.insecure:
            self.trace.check("certificate chain", False, "NOT VALIDATED: insecure mode is on")
            return
        now = self.config.now or dt.datetime.now(dt.timezone.utc)
        report = validate_chain(
            parsed[0],
            parsed[1:],
            list(self.config.trust_roots),
            self.config.server_name or "",
            now,
            strict=True,
            compare_with_production=False,
        )
        self.trace.check(
            "certificate chain",
            True,
            f"valid for {self.config.server_name!r}, {len(report.checks)} checks",
        )

    def _complete(self) -> None:
        assert self.version is not None and self.suite is not None
        self.state = State.CONNECTED
        group = self.trace.parameters().get("group")
        self._events.append(
            HandshakeComplete(
                self.version, self.suite.suite, self.alpn, group, self.peer_certificates
            )
        )
        self.trace.note(
            "handshake complete", f"{ProtocolVersion(self.version).name} {self.suite.name}"
        )
