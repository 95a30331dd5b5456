"""The sans-IO TLS server: negotiation, then the server's flights, one short handler per message.

``TLSServer(config, identity)``; feed the client's bytes to ``receive_data`` and send
``data_to_send()`` back. TLS 1.3 (RFC 8446 §4: HelloRetryRequest, middlebox-compatible CCS,
KeyUpdate) and TLS 1.2 (ECDHE and DHE with a signed ServerKeyExchange, RSA key transport with
the Bleichenbacher countermeasure, extended master secret, secure-renegotiation indication).
Taught in notebook 08_full_handshake.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import Encoding, load_pem_private_key

from ..constants import ExtensionType, ProtocolVersion, PskKeyExchangeMode
from ..errors import BadCertificate, CertificateRequired, DecodeError, IllegalParameter
from ..pki.validation import validate_chain
from ..rng import Rng, system_rng
from ..stages import keyschedule as ks
from ..stages.finished import check_verify_data
from ..stages.hello import DEFAULT_SIGNATURE_SCHEMES, truncated_client_hello
from ..stages.keyexchange import (
    KeyShare,
    decrypt_pre_master_secret,
    dhe_pre_master_secret,
    ffdhe_prime,
    generate_key_share,
    server_key_share,
)
from ..stages.negotiation import (
    Negotiated,
    ServerConfig,
    build_hello_retry_request,
    build_server_hello,
    negotiate,
)
from ..stages.protection import RecordProtection12
from ..stages.signatures import (
    sign_certificate_verify,
    sign_server_key_exchange,
    verify_certificate_verify,
)
from ..stages.suites import suite_info
from ..wire.extensions import (
    ApplicationLayerProtocolNegotiation,
    Extension,
    KeyShareEntry,
    OfferedPsks,
    PreSharedKeyServer,
    PskKeyExchangeModes,
    SignatureAlgorithms,
)
from ..wire.messages import (
    Certificate12,
    Certificate13,
    CertificateRequest13,
    CertificateVerify,
    ClientHello,
    ClientKeyExchangeDHE,
    ClientKeyExchangeECDHE,
    ClientKeyExchangeRSA,
    EncryptedExtensions,
    Finished,
    NewSessionTicket13,
    ServerHelloDone,
    ServerKeyExchangeDHE,
    ServerKeyExchangeECDHE,
)
from .connection import Connection, HandshakeComplete
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


class TLSServer(Connection):
    role = "server"

    def __init__(
        self,
        config: ServerConfig,
        identity: ServerIdentity,
        rng: Rng = system_rng,
        ticket_store: dict[bytes, tuple[bytes, int]] | None = None,
    ) -> None:
        super().__init__(rng)
        self.ticket_store = ticket_store if ticket_store is not None else {}
        self.resumed = False
        self.peer_certificates: tuple[bytes, ...] = ()
        self._client_key: Any = None
        self.config = config
        self.identity = identity
        self.decision: Negotiated | None = None
        self.client_hello: ClientHello | None = None
        self._hrr_sent = False
        self._share: KeyShare | None = None
        self._server_random = b""

    def on_client_hello(self, ch: ClientHello, raw: bytes) -> None:
        if (
            self._hrr_sent
            and self.client_hello is not None
            and ch.random != self.client_hello.random
        ):
            raise IllegalParameter(
                "the second ClientHello must keep the first one's random (RFC 8446 §4.1.2)"
            )
        self.client_hello = ch
        self.trace.client_random = ch.random
        decision = negotiate(ch, self.config)
        self.decision = decision
        for reason in decision.reasons:
            self.trace.note("negotiated", reason)
        self.version, self.suite = decision.version, decision.suite
        self._record_version = ProtocolVersion.TLS12
        if self._transcript is None:
            self._start_transcript(self.suite.hash_name)
        self._transcript_add(raw)
        if decision.version == ProtocolVersion.TLS13:
            self._client_hello_13(ch, decision)
        else:
            self._client_hello_12(ch, decision)

    # -- TLS 1.3 ---------------------------------------------------------------------------------
    def _client_hello_13(self, ch: ClientHello, decision: Negotiated) -> None:
        assert self.suite is not None
        if decision.hello_retry_request:
            if self._hrr_sent:
                raise IllegalParameter(
                    "the second ClientHello still has no key share the server can use"
                )
            self.transcript.restart_after_hello_retry_request()
            self._send(build_hello_retry_request(ch, decision, self.config.hello_retry_cookie))
            self._hrr_sent = True
            self.state = State.WAIT_CH2
            return
        assert decision.client_share is not None and decision.group is not None
        share, shared_secret = server_key_share(
            decision.group, decision.client_share.key_exchange, self.rng
        )
        psk = self._accept_psk(ch)
        sh = build_server_hello(
            ch, decision, KeyShareEntry(share.group, share.public), config=self.config, rng=self.rng
        )
        if psk is not None:
            sh = sh.replace(extensions=(*sh.extensions, PreSharedKeyServer(0)))
        self._send(sh)
        self.trace.parameter("group", decision.group)
        chts, shts = self._handshake_schedule(shared_secret, psk)
        hash_name = self.suite.hash_name
        if ch.legacy_session_id:
            self._send_change_cipher_spec()  # middlebox compatibility (RFC 8446 Appendix D.4)
        self._writer = self._protection_13(shts)
        extensions: list[Extension] = []
        if decision.alpn is not None:
            extensions.append(ApplicationLayerProtocolNegotiation((decision.alpn,)))
        self._send(EncryptedExtensions(tuple(extensions)))
        if psk is None:  # a resumed (PSK) handshake needs no certificate
            if self.config.client_auth:
                self._send(CertificateRequest13((SignatureAlgorithms(DEFAULT_SIGNATURE_SCHEMES),)))
            self._send(Certificate13(tuple(_entries(self.identity.certificates))))
            assert decision.signature_scheme is not None
            self._send(
                sign_certificate_verify(
                    self.identity.private_key, decision.signature_scheme, self.transcript.hash()
                )
            )
        self._send(Finished(ks.verify_data_13(shts, self.transcript.hash(), hash_name)))
        self._application_schedule()
        self.write_secret = self._secrets["server_application_traffic_secret_0"]
        self._writer = self._protection_13(self.write_secret)
        self._set_reader(self._protection_13(chts))
        wants_certificate = self.config.client_auth and psk is None
        self.state = State.WAIT_CERT if wants_certificate else State.WAIT_FINISHED

    def on_finished(self, finished: Finished, raw: bytes) -> None:
        assert self.suite is not None
        chts = self._secrets["client_handshake_traffic_secret"]
        expected = ks.verify_data_13(chts, self.transcript.hash(), self.suite.hash_name)
        check_verify_data(expected, finished.verify_data, who="client")
        self.trace.check("client Finished", True, "verify_data matches the transcript")
        self._transcript_add(raw)
        self.read_secret = self._secrets["client_application_traffic_secret_0"]
        self._set_reader(self._protection_13(self.read_secret))
        self._complete()
        self._issue_tickets()

    # -- client authentication (RFC 8446 §4.4.2-4.4.3) -------------------------------------------
    def on_client_certificate(self, certificate: Certificate13, raw: bytes) -> None:
        self._transcript_add(raw)
        if not certificate.certificates:
            raise CertificateRequired(
                "the client sent no certificate, and this server requires one"
            )
        try:
            parsed = [x509.load_der_x509_certificate(der) for der in certificate.certificates]
            self._client_key = parsed[0].public_key()
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise BadCertificate(f"client certificate does not parse: {exc}") from None
        report = validate_chain(
            parsed[0],
            parsed[1:],
            list(self.config.client_trust_roots),
            "",
            dt.datetime.now(dt.timezone.utc),
            purpose="client",
            strict=True,
            compare_with_production=False,
        )
        self.peer_certificates = certificate.certificates
        self.trace.check(
            "client certificate chain",
            True,
            f"valid client certificate, {len(report.checks)} checks",
        )

    def on_client_certificate_verify(self, cv: CertificateVerify, raw: bytes) -> None:
        verify_certificate_verify(self._client_key, cv, self.transcript.hash(), server=False)
        self.trace.check("client CertificateVerify", True, "the client holds its certificate's key")
        self._transcript_add(raw)

    # -- resumption (RFC 8446 §4.2.11, §4.6.1) -------------------------------------------------------
    def _accept_psk(self, ch: ClientHello) -> bytes | None:
        """The PSK of a ticket we issued, if the client offers one with a valid binder and psk_dhe_ke."""
        assert self.suite is not None
        offered = ch.extension(ExtensionType.pre_shared_key)
        modes = ch.extension(ExtensionType.psk_key_exchange_modes)
        if not isinstance(offered, OfferedPsks) or not isinstance(modes, PskKeyExchangeModes):
            return None
        if ch.extensions[-1] is not offered:
            raise IllegalParameter("pre_shared_key must be the last extension (RFC 8446 §4.2.11)")
        if PskKeyExchangeMode.psk_dhe_ke not in modes.ke_modes:
            return None
        stored = self.ticket_store.get(offered.identities[0].identity)
        if stored is None:
            self.trace.note("resumption", "unknown ticket: full handshake")
            return None
        psk, suite = stored
        if suite_info(suite).hash_name != self.suite.hash_name:
            return None
        hash_name = self.suite.hash_name
        messages = self.transcript.messages
        prior, raw = b"".join(messages[:-1]), messages[-1]
        key = ks.binder_key(ks.early_secret(psk, hash_name), external=False, hash_name=hash_name)
        binder = ks.psk_binder(
            key, ks.digest(hash_name, prior + truncated_client_hello(raw, offered)), hash_name
        )
        check_verify_data(binder, offered.binders[0], who="client PSK binder")
        self.resumed = True
        self.trace.check(
            "PSK binder", True, "the client holds the ticket's PSK: resuming without a certificate"
        )
        return psk

    def _issue_tickets(self) -> None:
        """Send ``config.tickets`` NewSessionTickets and remember their PSKs (a stateful ticket store)."""
        assert self.suite is not None
        if not self.config.tickets:
            return
        hash_name = self.suite.hash_name
        rms = ks.derive_secret(
            self._secrets["master_secret"], "res master", self.transcript.hash(), hash_name
        )
        for index in range(self.config.tickets):
            nonce = bytes([index])
            ticket = self.rng(32)
            self.ticket_store[ticket] = (ks.resumption_psk(rms, nonce, hash_name), self.suite.suite)
            age_add = int.from_bytes(self.rng(4), "big")
            self._send(NewSessionTicket13(7200, age_add, nonce, ticket), transcript=False)

    # -- TLS 1.2 ---------------------------------------------------------------------------------
    def _client_hello_12(self, ch: ClientHello, decision: Negotiated) -> None:
        assert self.suite is not None
        self.key_exchange_kind = (
            None if self.suite.key_exchange == "any" else self.suite.key_exchange
        )
        sh = build_server_hello(ch, decision, config=self.config, rng=self.rng)
        self._server_random = sh.random
        self._send(sh)
        self._send(Certificate12(self.identity.certificates))
        if self.suite.key_exchange in ("ecdhe", "dhe"):
            self._send(self._server_key_exchange(ch, decision))
        self._send(ServerHelloDone())
        self.state = State.WAIT_CKE_12

    def _server_key_exchange(
        self, ch: ClientHello, decision: Negotiated
    ) -> ServerKeyExchangeECDHE | ServerKeyExchangeDHE:
        assert decision.group is not None and decision.signature_scheme is not None
        self._share = generate_key_share(decision.group, self.rng)
        scheme = decision.signature_scheme
        if self.key_exchange_kind == "ecdhe":
            unsigned = ServerKeyExchangeECDHE(decision.group, self._share.public, scheme, b"")
        else:
            p = ffdhe_prime(decision.group)
            unsigned_dhe = ServerKeyExchangeDHE(
                _minimal(p), b"\x02", self._share.public.lstrip(b"\x00"), scheme, b""
            )
            signature = sign_server_key_exchange(
                self.identity.private_key,
                scheme,
                ch.random,
                self._server_random,
                unsigned_dhe.params(),
            )
            return unsigned_dhe.replace(signature=signature)
        signature = sign_server_key_exchange(
            self.identity.private_key, scheme, ch.random, self._server_random, unsigned.params()
        )
        return unsigned.replace(signature=signature)

    def on_client_key_exchange(self, cke: Any, raw: bytes) -> None:
        assert (
            self.suite is not None and self.client_hello is not None and self.decision is not None
        )
        self._transcript_add(raw)
        pre_master = self._pre_master_secret(cke)
        self.trace.secret("pre_master_secret", pre_master)
        if self.decision.extended_master_secret:
            master = ks.extended_master_secret(
                pre_master, self.transcript.hash(), self.suite.hash_name
            )
        else:
            master = ks.master_secret(
                pre_master, self.client_hello.random, self._server_random, self.suite.hash_name
            )
        self._secrets["master_secret_12"] = master
        self.trace.secret("master_secret_12", master)
        block = ks.key_block(master, self.client_hello.random, self._server_random, self.suite)
        etm = self.decision.encrypt_then_mac
        self._pending_reader = RecordProtection12(
            self.suite,
            block.client_write_key,
            block.client_write_IV,
            block.client_write_MAC_key,
            encrypt_then_mac=etm,
            rng=self.rng,
        )
        self._next_writer = RecordProtection12(
            self.suite,
            block.server_write_key,
            block.server_write_IV,
            block.server_write_MAC_key,
            encrypt_then_mac=etm,
            rng=self.rng,
        )

    def _pre_master_secret(self, cke: Any) -> bytes:
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
            return dhe_pre_master_secret(
                self._share.exchange(cke.dh_Yc.rjust(len(self._share.public), b"\x00"))
            )
        raise DecodeError("ClientKeyExchange of an unexpected form")

    def on_finished_12(self, finished: Finished, raw: bytes) -> None:
        assert self.suite is not None
        master = self._secrets["master_secret_12"]
        expected = ks.verify_data_12(
            master, "client finished", self.transcript.hash(), self.suite.hash_name
        )
        check_verify_data(expected, finished.verify_data, who="client")
        self.trace.check("client Finished", True, "verify_data matches the transcript")
        self._transcript_add(raw)
        self._send_change_cipher_spec()
        self._writer = self._next_writer
        self._send(
            Finished(
                ks.verify_data_12(
                    master, "server finished", self.transcript.hash(), self.suite.hash_name
                )
            )
        )
        self._complete()

    def _complete(self) -> None:
        assert self.version is not None and self.suite is not None and self.decision is not None
        self.state = State.CONNECTED
        self._events.append(
            HandshakeComplete(
                self.version, self.suite.suite, self.decision.alpn, self.decision.group
            )
        )
        self.trace.note(
            "handshake complete", f"{ProtocolVersion(self.version).name} {self.suite.name}"
        )


def _entries(certificates: tuple[bytes, ...]) -> list[Any]:
    from ..wire.messages import CertificateEntry

    return [CertificateEntry(der) for der in certificates]


def _minimal(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")
