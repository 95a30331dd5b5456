"""The sans-IO TLS server: negotiation, then the server's flights, one short handler per message.

``TLSServer(config, identity)``; feed the client's bytes to ``receive_data`` and send
``data_to_send()`` back. TLS 1.3 (RFC 8446 §4: HelloRetryRequest, middlebox-compatible CCS,
KeyUpdate) and TLS 1.2 (ECDHE and DHE with a signed ServerKeyExchange, RSA key transport with
the Bleichenbacher countermeasure, extended master secret, secure-renegotiation indication).
Taught in notebook 08_full_handshake.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding, load_pem_private_key

from . import keyschedule as ks
from .connection import Connection, HandshakeComplete
from .constants import ProtocolVersion
from .errors import DecodeError, IllegalParameter
from .extensions import ApplicationLayerProtocolNegotiation, Extension, KeyShareEntry
from .finished import check_verify_data
from .keyexchange import (
    KeyShare,
    decrypt_pre_master_secret,
    dhe_pre_master_secret,
    ffdhe_prime,
    generate_key_share,
)
from .messages import (
    Certificate12,
    Certificate13,
    ClientHello,
    ClientKeyExchangeDHE,
    ClientKeyExchangeECDHE,
    ClientKeyExchangeRSA,
    EncryptedExtensions,
    Finished,
    ServerHelloDone,
    ServerKeyExchangeDHE,
    ServerKeyExchangeECDHE,
)
from .negotiation import (
    Negotiated,
    ServerConfig,
    build_hello_retry_request,
    build_server_hello,
    negotiate,
)
from .protection import RecordProtection12, RecordProtection13
from .rng import Rng, system_rng
from .signatures import sign_certificate_verify, sign_server_key_exchange
from .state import State


@dataclass(frozen=True)
class ServerIdentity:
    """The server's certificate chain (DER, leaf first) and the leaf's private key."""

    certificates: tuple[bytes, ...]
    private_key: Any

    @classmethod
    def from_chain(cls, chain: Any) -> ServerIdentity:
        """From a teaching-PKI :class:`~tlslab.certificates.Chain`."""
        return cls(tuple(chain.served()), chain.leaf.private_key)

    @classmethod
    def from_credential(cls, credential: Any) -> ServerIdentity:
        """From a self-signed :class:`~tlslab.certificates.Credential`."""
        return cls((credential.certificate.public_bytes(Encoding.DER),), credential.private_key)

    @classmethod
    def from_pem(cls, certificate_pem: bytes, key_pem: bytes) -> ServerIdentity:
        from .certificates import load_certificates

        certs = load_certificates(certificate_pem)
        return cls(
            tuple(c.public_bytes(Encoding.DER) for c in certs), load_pem_private_key(key_pem, None)
        )


class TLSServer(Connection):
    role = "server"

    def __init__(
        self, config: ServerConfig, identity: ServerIdentity, rng: Rng = system_rng
    ) -> None:
        super().__init__(rng)
        self.config = config
        self.identity = identity
        self.decision: Negotiated | None = None
        self.client_hello: ClientHello | None = None
        self._hrr_sent = False
        self._secrets: dict[str, bytes] = {}
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
        share = generate_key_share(decision.group, self.rng)
        sh = build_server_hello(
            ch, decision, KeyShareEntry(share.group, share.public), config=self.config, rng=self.rng
        )
        self._send(sh)
        shared = share.exchange(decision.client_share.key_exchange)
        self.trace.parameter("group", decision.group)
        self.trace.secret("shared_secret", shared)
        hash_name = self.suite.hash_name
        hs = ks.handshake_secret(ks.early_secret(None, hash_name), shared, hash_name)
        hello_hash = self.transcript.hash()
        chts = ks.derive_secret(hs, "c hs traffic", hello_hash, hash_name)
        shts = ks.derive_secret(hs, "s hs traffic", hello_hash, hash_name)
        self._secrets.update(
            handshake_secret=hs,
            client_handshake_traffic_secret=chts,
            server_handshake_traffic_secret=shts,
        )
        for name in (
            "handshake_secret",
            "client_handshake_traffic_secret",
            "server_handshake_traffic_secret",
        ):
            self.trace.secret(name, self._secrets[name])
        if ch.legacy_session_id:
            self._send_change_cipher_spec()  # middlebox compatibility (RFC 8446 Appendix D.4)
        self._writer = RecordProtection13(self.suite, ks.traffic_keys(shts, self.suite))
        extensions: list[Extension] = []
        if decision.alpn is not None:
            extensions.append(ApplicationLayerProtocolNegotiation((decision.alpn,)))
        self._send(EncryptedExtensions(tuple(extensions)))
        self._send(Certificate13(tuple(_entries(self.identity.certificates))))
        assert decision.signature_scheme is not None
        self._send(
            sign_certificate_verify(
                self.identity.private_key, decision.signature_scheme, self.transcript.hash()
            )
        )
        self._send(Finished(ks.verify_data_13(shts, self.transcript.hash(), hash_name)))
        ms = ks.master_secret_13(hs, hash_name)
        finished_hash = self.transcript.hash()
        self._secrets.update(
            master_secret=ms,
            client_application_traffic_secret_0=ks.derive_secret(
                ms, "c ap traffic", finished_hash, hash_name
            ),
            server_application_traffic_secret_0=ks.derive_secret(
                ms, "s ap traffic", finished_hash, hash_name
            ),
            exporter_master_secret=ks.derive_secret(ms, "exp master", finished_hash, hash_name),
        )
        for name in (
            "master_secret",
            "client_application_traffic_secret_0",
            "server_application_traffic_secret_0",
            "exporter_master_secret",
        ):
            self.trace.secret(name, self._secrets[name])
        self.write_secret = self._secrets["server_application_traffic_secret_0"]
        self._writer = RecordProtection13(
            self.suite, ks.traffic_keys(self.write_secret, self.suite)
        )
        self._set_reader(RecordProtection13(self.suite, ks.traffic_keys(chts, self.suite)))
        self.state = State.WAIT_FINISHED

    def on_finished(self, finished: Finished, raw: bytes) -> None:
        assert self.suite is not None
        chts = self._secrets["client_handshake_traffic_secret"]
        expected = ks.verify_data_13(chts, self.transcript.hash(), self.suite.hash_name)
        check_verify_data(expected, finished.verify_data, who="client")
        self.trace.check("client Finished", True, "verify_data matches the transcript")
        self._transcript_add(raw)
        self.read_secret = self._secrets["client_application_traffic_secret_0"]
        self._set_reader(
            RecordProtection13(self.suite, ks.traffic_keys(self.read_secret, self.suite))
        )
        self._complete()

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
    from .messages import CertificateEntry

    return [CertificateEntry(der) for der in certificates]


def _minimal(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")
