"""A hostile peer, found by review (issue 11/19 follow-up): each test sends the forbidden thing
and checks the exact alert, that the connection is closed and that nothing was delivered."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tests.test_engine_conformance import _hello, _refused, _refused_before_server_hello
from tests.test_engine_core import BY_NAME, RSA_SERVER, Variant, _inject, _pair, _reach, _records
from tlslab.constants import AlertDescription, ContentType, ExtensionType
from tlslab.constants import NamedGroup as G
from tlslab.constants import ProtocolVersion as V
from tlslab.constants import SignatureScheme as SS
from tlslab.engine import client as client_module
from tlslab.engine.connection import ApplicationData
from tlslab.engine.state import State
from tlslab.stages.protection import RecordProtection13
from tlslab.stages.signatures import certificate_verify_content
from tlslab.wire.extensions import (
    ApplicationLayerProtocolNegotiation,
    ExtendedMasterSecret,
    KeyShareClientHello,
    KeyShareEntry,
    RenegotiationInfo,
    SupportedGroups,
)
from tlslab.wire.messages import CertificateVerify, ClientHello, decode_handshake
from tlslab.wire.record import TLSPlaintext

A = AlertDescription
CCS = TLSPlaintext(ContentType.change_cipher_spec, b"\x01", 0x0303).encode()


def _no_data(events: list[Any]) -> None:
    assert not any(isinstance(e, ApplicationData) for e in events)


# -- ChangeCipherSpec in TLS 1.3 (RFC 8446 §5, Appendix D.4) -----------------------------------
@pytest.mark.parametrize(
    "role,state",
    [("client", State.WAIT_EE), ("client", State.WAIT_FINISHED), ("server", State.WAIT_FINISHED)],
)
def test_protected_change_cipher_spec_is_unexpected_message(role: str, state: State) -> None:
    """A ChangeCipherSpec inside a protected record (inner type 20) MUST be refused (§5); it
    used to be dropped like the plaintext compatibility one."""
    target, _ = _reach(role, "1.3", state)
    reader = target.records.reader
    assert isinstance(reader, RecordProtection13)
    twin = RecordProtection13(reader.suite, reader.keys)
    twin.seq = reader.seq
    record = twin.seal(ContentType.change_cipher_spec, b"\x01").encode()
    _refused(target, record, A.unexpected_message, "protected ChangeCipherSpec")


@pytest.mark.parametrize("role,state", [("client", State.WAIT_EE), ("server", State.WAIT_FINISHED)])
def test_a_second_compatibility_change_cipher_spec_is_unexpected_message(
    role: str, state: State
) -> None:
    """One dummy ChangeCipherSpec per handshake is dropped (Appendix D.4); a second one is
    refused, so a peer cannot keep a handshake busy with an endless stream of them."""
    target, _ = _reach(role, "1.3", state)
    first = [] if target._compatibility_ccs_seen else target.receive_data(CCS)
    assert first == [] and target.state == state  # the first one is dropped
    _refused(target, CCS, A.unexpected_message, "second ChangeCipherSpec")


def test_the_compatibility_change_cipher_spec_still_works_after_a_retry() -> None:
    """HRR in compatibility mode: the server's one dummy CCS follows the HRR (not the SH)."""
    from tests.test_engine_core import BY_NAME
    from tlslab.engine.memory import handshake_in_memory

    client, server = _pair(BY_NAME["tls13-hrr"])
    assert handshake_in_memory(client, server).completed


# -- key_share against supported_groups (RFC 8446 §4.2.8, §9.2) -------------------------------
def _shares(hello: ClientHello, *entries: KeyShareEntry) -> ClientHello:
    return hello.replace(
        extensions=tuple(
            KeyShareClientHello(entries) if e.type_code == ExtensionType.key_share else e
            for e in hello.extensions
        )
    )


def test_key_share_for_a_group_not_in_supported_groups_is_illegal_parameter() -> None:
    hello = _hello()
    hello = hello.replace(
        extensions=tuple(
            SupportedGroups((G.secp256r1,)) if isinstance(e, SupportedGroups) else e
            for e in hello.extensions
        )
    )  # still carries its x25519 share
    _refused_before_server_hello(hello, A.illegal_parameter, "not in supported_groups")


def test_two_key_shares_for_one_group_is_illegal_parameter() -> None:
    hello = _hello()
    share = hello.extension(ExtensionType.key_share)
    assert isinstance(share, KeyShareClientHello)
    entry = share.client_shares[0]
    _refused_before_server_hello(
        _shares(hello, entry, entry), A.illegal_parameter, "two key shares"
    )


def test_key_share_without_supported_groups_is_missing_extension() -> None:
    hello = _hello()
    hello = hello.replace(
        extensions=tuple(e for e in hello.extensions if not isinstance(e, SupportedGroups))
    )
    _refused_before_server_hello(hello, A.missing_extension, "without supported_groups")


# -- attacks that held: kept as regression tests ----------------------------------------------
def test_tls13_certificate_verify_with_rsa_pkcs1_is_refused_even_if_it_verifies() -> None:
    """rsa_pkcs1_* is offered for TLS 1.2 and certificates, never for a TLS 1.3
    CertificateVerify (RFC 8446 §4.4.3): a correct PKCS#1 signature is still refused."""
    client, server = _pair(Variant("rsa13", {}, {"certificate_key": "rsa"}, rsa=True))
    client.start()
    for record in _records(client.data_to_send()):
        server.receive_data(record)
    for record in _records(server.data_to_send()):
        client.receive_data(record)
        if client.state == State.WAIT_CV:
            break
    assert client.state == State.WAIT_CV
    content = certificate_verify_content(client.transcript.hash(), server=True)
    key = RSA_SERVER.leaf.private_key
    signature = key.sign(content, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr]
    cv = CertificateVerify(SS.rsa_pkcs1_sha256, signature).encode()
    _refused(client, _inject(client, ContentType.handshake, cv), A.illegal_parameter, "rsa_pkcs1")


@pytest.mark.parametrize("content_type", [ContentType.handshake, ContentType.alert])
def test_zero_length_protected_records_are_refused(content_type: int) -> None:
    """RFC 8446 §5.1 forbids both; OpenSSL answers unexpected_message (bad length)."""
    target, _ = _reach("client", "1.3", State.WAIT_EE)
    _refused(target, _inject(target, content_type, b""), A.unexpected_message)


def test_inner_plaintext_of_only_padding_is_unexpected_message() -> None:
    """All-zero TLSInnerPlaintext has no content type (RFC 8446 §5.4)."""
    target, _ = _reach("client", "1.3", State.WAIT_EE)
    reader = target.records.reader
    assert isinstance(reader, RecordProtection13)
    twin = RecordProtection13(reader.suite, reader.keys)
    twin.seq = reader.seq
    # seal(type 0, zeros) gives an inner plaintext of zeros only
    record = twin.seal(0, bytes(16)).encode()
    _refused(target, record, A.unexpected_message, "no non-zero content type")


# -- the ServerHello (RFC 8446 §4.2, RFC 5746 §3.4) -----------------------------------------------
def _client_with_server_hello(name: str, **client: Any) -> tuple[Any, Any]:
    """A client that sent its ClientHello, and the ServerHello the server answered."""
    c, s = _pair(BY_NAME[name])
    if client:
        c.config = c.config.replace(**client)
    c.start()
    for record in _records(c.data_to_send()):
        s.receive_data(record)
    server_hello = decode_handshake(_records(s.data_to_send())[0][5:], version=V.TLS13)
    return c, server_hello


def _plaintext(message: Any) -> bytes:
    return TLSPlaintext(ContentType.handshake, message.encode(), V.TLS12).encode()


def test_tls12_server_hello_with_non_empty_renegotiation_info_is_handshake_failure() -> None:
    """An initial handshake has no previous verify_data to carry: a server that claims one lies
    (RFC 5746 §3.4: the client MUST abort with handshake_failure). It used to be accepted."""
    client, sh = _client_with_server_hello("tls12-ecdhe")
    lie = RenegotiationInfo(bytes(24))
    sh = sh.replace(
        extensions=tuple(e for e in sh.extensions if not isinstance(e, RenegotiationInfo)) + (lie,)
    )
    _refused(client, _plaintext(sh), A.handshake_failure, "renegotiation_info must be empty")


@pytest.mark.parametrize(
    "extension",
    [RenegotiationInfo(), ExtendedMasterSecret(), ApplicationLayerProtocolNegotiation((b"h2",))],
    ids=["renegotiation_info", "extended_master_secret", "alpn"],
)
def test_tls13_server_hello_with_an_extension_of_another_message_is_illegal_parameter(
    extension: Any,
) -> None:
    """Each was offered in the ClientHello, but a TLS 1.3 ServerHello carries only
    supported_versions, key_share and pre_shared_key (RFC 8446 §4.2). Used to be accepted."""
    client, sh = _client_with_server_hello("tls13", alpn=("h2",))
    sh = sh.replace(extensions=(*sh.extensions, extension))
    _refused(client, _plaintext(sh), A.illegal_parameter, "may not appear in a TLS 1.3 Server")


# -- RSA key transport: the Bleichenbacher countermeasure (RFC 5246 §7.4.7.1) -------------------
def test_rsa_premaster_with_the_wrong_version_fails_only_at_finished(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A client whose pre-master secret carries the wrong version, and whose keys and Finished
    are correct for that secret: the server must not use it (it continues with a random one),
    so the client's Finished cannot be read: bad_record_mac, as for a wrong key, never earlier."""
    client, server = _pair(BY_NAME["tls12-rsa-cbc"])
    monkeypatch.setattr(
        client_module, "rsa_pre_master_secret", lambda version, rng: b"\x03\x02" + bytes(46)
    )
    client.start()
    for record in _records(client.data_to_send()):
        server.receive_data(record)
    for record in _records(server.data_to_send()):
        client.receive_data(record)
    flight = client.data_to_send()
    records = _records(flight)
    last = records.pop()  # the client's Finished, protected with keys from its pre-master secret
    for record in records:  # Certificate? ClientKeyExchange, ChangeCipherSpec: all accepted
        assert server.receive_data(record) == []
    assert server.state == State.WAIT_FINISHED_12
    _refused(server, last, A.bad_record_mac)
