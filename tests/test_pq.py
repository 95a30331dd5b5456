"""Post-quantum key exchange and ML-DSA signatures, in memory (no peers).

The hybrid secret is re-derived here by hand from cryptography's ML-KEM and ECDH primitives,
following draft-ietf-tls-ecdhe-mlkem's layout (X25519MLKEM768: ML-KEM first; SecP*MLKEM: ECDH
first), so the expected values never come from the code under test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, mlkem, x25519

from tlslab.constants import (
    KEM_GROUP_PARTS,
    NamedGroup,
    ProtocolVersion,
    SignatureScheme,
)
from tlslab.engine.client import ClientConfig, TLSClient
from tlslab.engine.events import ConnectionNotUsable
from tlslab.engine.memory import handshake_in_memory
from tlslab.engine.server import ServerIdentity, TLSServer
from tlslab.engine.trace import Trace
from tlslab.errors import DecryptError, HandshakeFailure, IllegalParameter
from tlslab.pki.certificates import LAB_NOW, Chain, build_chain, issue_certificate
from tlslab.pki.validation import validate_chain
from tlslab.rng import seeded_rng
from tlslab.stages import signatures
from tlslab.stages.hello import build_client_hello, default_key_share_groups
from tlslab.stages.keyexchange import (
    combine_secrets,
    generate_key_share,
    mlkem_keygen,
    server_key_share,
    split_key_share,
)
from tlslab.stages.negotiation import ServerConfig, negotiate
from tlslab.wire.explain import explain
from tlslab.wire.extensions import KeyShareClientHello, SupportedGroups
from tlslab.wire.messages import CertificateVerify, decode_handshake

G = NamedGroup
SIZES = {  # draft-ietf-tls-ecdhe-mlkem §4.1 / draft-ietf-tls-mlkem: (client, server, secret)
    G.X25519MLKEM768: (1216, 1120, 64),
    G.SecP256r1MLKEM768: (1249, 1153, 64),
    G.SecP384r1MLKEM1024: (1665, 1665, 80),
    G.MLKEM768: (1184, 1088, 32),
    G.MLKEM1024: (1568, 1568, 32),
}
_GROUP_VALUES = {
    G.MLKEM512: 0x0200,
    G.MLKEM768: 0x0201,
    G.MLKEM1024: 0x0202,
    G.SecP256r1MLKEM768: 0x11EB,
    G.X25519MLKEM768: 0x11EC,
    G.SecP384r1MLKEM1024: 0x11ED,
}


def test_iana_code_points() -> None:
    assert {g: int(g) for g in _GROUP_VALUES} == _GROUP_VALUES
    assert (SignatureScheme.mldsa44, SignatureScheme.mldsa65, SignatureScheme.mldsa87) == (
        0x0904,
        0x0905,
        0x0906,
    )


@pytest.mark.parametrize("group", list(SIZES), ids=lambda g: G(g).name)
def test_share_and_secret_sizes(group: int) -> None:
    client = generate_key_share(group, seeded_rng("pq sizes"))
    answer, secret = server_key_share(group, client.public, seeded_rng("server"))
    assert (len(client.public), len(answer.public), len(secret)) == SIZES[group]
    assert client.exchange(answer.public) == secret


def test_client_share_is_deterministic_with_a_seeded_rng() -> None:
    a = generate_key_share(G.X25519MLKEM768, seeded_rng(7))
    b = generate_key_share(G.X25519MLKEM768, seeded_rng(7))
    assert a.public == b.public


def test_x25519mlkem768_by_hand_mlkem_first() -> None:
    """Client share = ek(1184) || X25519(32); server = ct(1088) || X25519(32); secret = ss || dh."""
    client = generate_key_share(G.X25519MLKEM768, seeded_rng("by hand"))
    ek, x_pub = client.public[:1184], client.public[1184:]
    # The server's side, by hand with cryptography only:
    ss, ciphertext = mlkem.MLKEM768PublicKey.from_public_bytes(ek).encapsulate()
    server_x = x25519.X25519PrivateKey.generate()
    dh = server_x.exchange(x25519.X25519PublicKey.from_public_bytes(x_pub))
    server_share = ciphertext + server_x.public_key().public_bytes_raw()
    assert len(server_share) == 1120
    assert client.exchange(server_share) == ss + dh
    # the private halves are in wire order too: ML-KEM decapsulation key, then the X25519 share
    dk, x_share = client.private_key
    assert dk.public_key().public_bytes_raw() == ek and x_share.public == x_pub


def test_secp256r1mlkem768_by_hand_ecdh_first() -> None:
    """Client share = P-256 point(65) || ek(1184); secret = ECDH x-coordinate || ML-KEM secret."""
    client = generate_key_share(G.SecP256r1MLKEM768, seeded_rng("p256 by hand"))
    point, ek = client.public[:65], client.public[65:]
    assert point[0] == 4 and len(ek) == 1184
    answer, secret = server_key_share(G.SecP256r1MLKEM768, client.public, seeded_rng("s"))
    ecdh_part, ciphertext = answer.public[:65], answer.public[65:]
    # Recompute both halves independently: the client's P-256 key with the server's point ...
    client_ecdh = client.private_key[0].private_key
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), ecdh_part)
    dh = client_ecdh.exchange(ec.ECDH(), peer)
    # ... and ML-KEM decapsulation with the client's key.
    ss = client.private_key[1].decapsulate(ciphertext)
    assert secret == dh + ss
    assert secret != ss + dh  # the order is part of the definition


def test_secp384r1mlkem1024_by_hand() -> None:
    client = generate_key_share(G.SecP384r1MLKEM1024, seeded_rng("p384"))
    answer, secret = server_key_share(G.SecP384r1MLKEM1024, client.public, seeded_rng("s"))
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP384R1(), answer.public[:97])
    dh = client.private_key[0].private_key.exchange(ec.ECDH(), peer)
    assert secret == dh + client.private_key[1].decapsulate(answer.public[97:])
    assert len(dh) == 48


def test_mlkem_by_hand_keygen_encapsulate_decapsulate() -> None:
    dk, ek = mlkem_keygen("ML-KEM-768", seeded_rng("kem"))
    ss, ct = mlkem.MLKEM768PublicKey.from_public_bytes(ek).encapsulate()
    assert dk.decapsulate(ct) == ss
    # a tampered ciphertext is not an error (implicit rejection): just a different secret
    assert dk.decapsulate(bytes([ct[0] ^ 1]) + ct[1:]) != ss


def test_mlkem512_is_named_but_refused_without_a_primitive() -> None:
    assert KEM_GROUP_PARTS[G.MLKEM512][0].client == 800
    with pytest.raises(HandshakeFailure, match="ML-KEM-768 and ML-KEM-1024 only"):
        generate_key_share(G.MLKEM512, seeded_rng(1))


# -- validation: sizes and points -> illegal_parameter ---------------------------------------------


@pytest.mark.parametrize("group", list(SIZES), ids=lambda g: G(g).name)
@pytest.mark.parametrize("delta", [-1, 1])
def test_wrong_client_share_length_is_illegal_parameter(group: int, delta: int) -> None:
    client = generate_key_share(group, seeded_rng("len"))
    data = client.public[:-1] if delta < 0 else client.public + b"\x00"
    with pytest.raises(IllegalParameter, match="client key share has the wrong length") as info:
        server_key_share(group, data, seeded_rng("s"))
    assert info.value.expected.startswith(str(SIZES[group][0]))


@pytest.mark.parametrize("group", list(SIZES), ids=lambda g: G(g).name)
def test_wrong_server_share_length_is_illegal_parameter(group: int) -> None:
    client = generate_key_share(group, seeded_rng("len"))
    answer, _ = server_key_share(group, client.public, seeded_rng("s"))
    with pytest.raises(IllegalParameter, match="server key share has the wrong length"):
        client.exchange(answer.public[:-1])


def test_mlkem_key_failing_the_modulus_check_is_illegal_parameter() -> None:
    client = generate_key_share(G.X25519MLKEM768, seeded_rng("mod"))
    bad = b"\xff" * 1184 + client.public[1184:]  # 12-bit coefficients 0xfff > q = 3329
    with pytest.raises(IllegalParameter, match=r"FIPS 203 §7.2"):
        server_key_share(G.X25519MLKEM768, bad, seeded_rng("s"))


def test_hybrid_p256_point_not_on_curve_is_illegal_parameter() -> None:
    client = generate_key_share(G.SecP256r1MLKEM768, seeded_rng("point"))
    bad = b"\x04" + b"\x01" * 64 + client.public[65:]
    with pytest.raises(IllegalParameter, match="not a point on the curve"):
        server_key_share(G.SecP256r1MLKEM768, bad, seeded_rng("s"))
    compressed = b"\x02" + client.public[1:65] + client.public[65:]
    with pytest.raises(IllegalParameter, match="uncompressed point"):
        server_key_share(G.SecP256r1MLKEM768, compressed, seeded_rng("s"))


def test_hybrid_x25519_all_zero_part_is_illegal_parameter() -> None:
    client = generate_key_share(G.X25519MLKEM768, seeded_rng("zero"))
    answer, _ = server_key_share(G.X25519MLKEM768, client.public, seeded_rng("s"))
    with pytest.raises(IllegalParameter, match="all-zero"):
        client.exchange(answer.public[:1088] + bytes(32))  # the identity point: secret all zero


def test_combiner_checks_part_sizes() -> None:
    assert combine_secrets(G.X25519MLKEM768, [b"k" * 32, b"x" * 32]) == b"k" * 32 + b"x" * 32
    with pytest.raises(ValueError, match="ML-KEM-768 \\(32 bytes\\) \\|\\| X25519"):
        combine_secrets(G.X25519MLKEM768, [b"x" * 32])


def test_split_names_the_parts_in_wire_order() -> None:
    share = generate_key_share(G.SecP256r1MLKEM768, seeded_rng("split"))
    assert [(p.name, len(b)) for p, b in split_key_share(share.group, share.public)] == [
        ("secp256r1", 65),
        ("ML-KEM-768", 1184),
    ]


# -- defaults and negotiation ----------------------------------------------------------------------


def test_default_client_hello_offers_the_hybrid_and_x25519_with_a_share_each() -> None:
    ch = build_client_hello("lab.example", rng=seeded_rng("ch"))
    groups = ch.extension(0x000A)
    shares = ch.extension(0x0033)
    assert isinstance(groups, SupportedGroups) and isinstance(shares, KeyShareClientHello)
    assert groups.named_group_list[:2] == (G.X25519MLKEM768, G.x25519)
    assert [(e.group, len(e.key_exchange)) for e in shares.client_shares] == [
        (G.X25519MLKEM768, 1216),
        (G.x25519, 32),
    ]
    assert default_key_share_groups((G.x25519, G.X25519MLKEM768)) == (G.x25519,)


def test_tls12_only_hello_leaves_post_quantum_groups_out() -> None:
    ch = build_client_hello("lab.example", versions=(ProtocolVersion.TLS12,), rng=seeded_rng(1))
    groups = ch.extension(0x000A)
    assert isinstance(groups, SupportedGroups)
    assert not set(groups.named_group_list) & set(KEM_GROUP_PARTS)


def test_server_prefers_the_hybrid_and_asks_for_it_with_hrr() -> None:
    # The client supports the hybrid but sent only an X25519 share: like OpenSSL 3.5+/4, the
    # server asks for the hybrid (tests/test_pq_interop.py checks OpenSSL 4 does the same).
    ch = build_client_hello(
        "lab.example",
        groups=(G.x25519, G.X25519MLKEM768),
        key_share_groups=(G.x25519,),
        rng=seeded_rng(2),
    )
    decision = negotiate(ch, ServerConfig())
    assert decision.hello_retry_request and decision.group == G.X25519MLKEM768
    classical = negotiate(ch, ServerConfig(prefer_post_quantum=False))
    assert not classical.hello_retry_request and classical.group == G.x25519


def test_tls12_never_negotiates_a_post_quantum_group() -> None:
    ch = build_client_hello("lab.example", rng=seeded_rng(3))
    config = ServerConfig(versions=(ProtocolVersion.TLS12,))
    decision = negotiate(ch, config)
    assert decision.version == ProtocolVersion.TLS12 and decision.group == G.x25519
    only_pq = config.replace(groups=(G.X25519MLKEM768,))
    with pytest.raises(HandshakeFailure):
        negotiate(ch, only_pq)


def _pair(
    chain: Chain,
    client: Callable[[ClientConfig], ClientConfig] | None = None,
    server: ServerConfig | None = None,
) -> tuple[TLSClient, TLSServer]:
    config = ClientConfig(
        server_name="lab.example", trust_roots=(chain.root.certificate,), now=LAB_NOW
    )
    return (
        TLSClient(client(config) if client else config, seeded_rng("c")),
        TLSServer(server or ServerConfig(), ServerIdentity.from_chain(chain), seeded_rng("s")),
    )


def _message(trace: Trace, name: str) -> Any:
    """The first handshake message called ``name`` in a trace, decoded."""
    event = next(e for e in trace.messages() if e.name == name)
    return decode_handshake(event.data, version=ProtocolVersion.TLS13)


@pytest.mark.parametrize("group", [G.X25519MLKEM768, G.SecP256r1MLKEM768, G.SecP384r1MLKEM1024])
def test_in_memory_handshake_negotiates_each_hybrid(group: int) -> None:
    chain = build_chain(seed="pq memory")
    client, server = _pair(
        chain,
        client=lambda c: c.replace(groups=(group, G.x25519)),
        server=ServerConfig(groups=(group, G.x25519)),
    )
    result = handshake_in_memory(client, server)
    assert result.completed, result.error
    assert client.trace.parameters()["group"] == server.trace.parameters()["group"] == group
    sh = _message(client.trace, "ServerHello")
    assert len(sh.extension(0x0033).server_share.key_exchange) == SIZES[group][1]


def test_fully_post_quantum_handshake_with_mldsa65_certificates() -> None:
    chain = build_chain(seed="pq chain", key_type="mldsa65")
    client, server = _pair(chain, server=ServerConfig(certificate_key="mldsa65"))
    result = handshake_in_memory(client, server)
    assert result.completed, result.error
    assert client.trace.parameters()["group"] == G.X25519MLKEM768
    cv = _message(client.trace, "CertificateVerify")
    assert cv.algorithm == SignatureScheme.mldsa65 and len(cv.signature) == 3309


def test_tls12_client_refuses_a_hybrid_in_server_key_exchange() -> None:
    from tlslab.wire.messages import ServerKeyExchangeECDHE

    chain = build_chain(seed="pq 12")
    client, _ = _pair(chain, client=lambda c: c.replace(versions=(ProtocolVersion.TLS12,)))
    client.config = client.config.replace(groups=(G.X25519MLKEM768, G.x25519))
    client.hello = build_client_hello("lab.example", rng=seeded_rng(1))
    client._server_hello = client.hello  # only .random is read before the curve check
    ske = ServerKeyExchangeECDHE(G.X25519MLKEM768, b"\x09" * 32, 0x0403, b"")
    with pytest.raises(IllegalParameter, match="did not offer for TLS 1.2"):
        client.on_server_key_exchange(ske, ske.encode())


# -- ML-DSA ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key_type,scheme,size",
    [("mldsa44", 0x0904, 2420), ("mldsa65", 0x0905, 3309), ("mldsa87", 0x0906, 4627)],
)
def test_mldsa_certificate_verify_round_trip(key_type: str, scheme: int, size: int) -> None:
    leaf = issue_certificate("lab.example", key_type=key_type, rng=seeded_rng(key_type))
    assert signatures.default_scheme(leaf.private_key) == scheme
    cv = signatures.sign_certificate_verify(leaf.private_key, scheme, b"h" * 32)
    assert len(cv.signature) == size
    signatures.verify_certificate_verify(leaf.certificate.public_key(), cv, b"h" * 32)
    with pytest.raises(DecryptError, match=r"ML-DSA"):
        signatures.verify_certificate_verify(leaf.certificate.public_key(), cv, b"x" * 32)
    tampered = CertificateVerify(scheme, bytes([cv.signature[0] ^ 1]) + cv.signature[1:])
    with pytest.raises(DecryptError):
        signatures.verify_certificate_verify(leaf.certificate.public_key(), tampered, b"h" * 32)


def test_mldsa_signature_is_pure_mldsa_over_the_tls13_content() -> None:
    leaf = issue_certificate("lab.example", key_type="mldsa65", rng=seeded_rng("pure"))
    cv = signatures.sign_certificate_verify(leaf.private_key, 0x0905, b"t" * 32)
    content = b" " * 64 + b"TLS 1.3, server CertificateVerify\x00" + b"t" * 32
    public = leaf.certificate.public_key()
    assert isinstance(public, mldsa.MLDSA65PublicKey)
    public.verify(cv.signature, content)  # empty context, no pre-hash (draft-ietf-tls-mldsa)


def test_mldsa_scheme_must_fit_the_key_and_version() -> None:
    leaf = issue_certificate("lab.example", key_type="mldsa44", rng=seeded_rng("fit"))
    with pytest.raises(IllegalParameter, match="does not fit"):
        signatures.sign(leaf.private_key, SignatureScheme.mldsa65, b"data")
    with pytest.raises(IllegalParameter, match="TLS 1.3 only"):
        signatures.sign(
            leaf.private_key, SignatureScheme.mldsa44, b"data", version=ProtocolVersion.TLS12
        )
    ecdsa = issue_certificate("lab.example", rng=seeded_rng("ec"))
    with pytest.raises(IllegalParameter, match="does not fit"):
        signatures.sign(ecdsa.private_key, SignatureScheme.mldsa65, b"data")


@pytest.mark.parametrize("key_type", ["mldsa44", "mldsa65", "mldsa87"])
def test_mldsa_chain_validates_like_production(key_type: str) -> None:
    chain = build_chain(seed="pq validate", key_type=key_type)
    report = validate_chain(
        chain.leaf.certificate,
        chain.intermediate_certificates,
        chain.trust_roots,
        "lab.example",
        LAB_NOW,
    )
    assert report.valid and report.production_verdict, str(report)


def test_mldsa_chain_with_a_corrupt_signature_fails_like_production() -> None:
    chain = build_chain(
        seed="pq corrupt", key_type="mldsa65", leaf_options={"corrupt_signature": True}
    )
    report = validate_chain(
        chain.leaf.certificate,
        chain.intermediate_certificates,
        chain.trust_roots,
        "lab.example",
        LAB_NOW,
    )
    assert not report.valid and not report.production_verdict
    assert report.failure is not None and report.failure.check == "signature"


def test_tls12_only_client_cannot_use_an_mldsa_server() -> None:
    chain = build_chain(seed="pq 12 mldsa", key_type="mldsa65")
    client, server = _pair(
        chain,
        client=lambda c: c.replace(versions=(ProtocolVersion.TLS12,)),
        server=ServerConfig(certificate_key="mldsa65"),
    )
    result = handshake_in_memory(client, server)
    assert isinstance(result.error, HandshakeFailure) and result.failed_side == "server"


# -- explain() -------------------------------------------------------------------------------------


def test_explain_annotates_the_hybrid_parts_separately() -> None:
    ch = build_client_hello("lab.example", rng=seeded_rng("explain"))
    text = str(explain(ch))
    assert "ML-KEM-768 encapsulation key" in text and "X25519 public key" in text
    ex = explain(ch)
    part = ex.field("key_exchange.ML-KEM-768")
    assert part.length == 1184
    assert ex.field("key_exchange.X25519").length == 32
    assert ex.field("key_exchange.X25519").offset == part.offset + 1184


def test_explain_annotates_server_hybrid_share_and_mldsa_signature() -> None:
    chain = build_chain(seed="pq explain", key_type="mldsa65")
    client, server = _pair(chain, server=ServerConfig(certificate_key="mldsa65"))
    handshake_in_memory(client, server)
    ex = explain(_message(client.trace, "ServerHello"))
    assert ex.field("key_exchange.ML-KEM-768").length == 1088
    assert "ciphertext" in ex.field("key_exchange.ML-KEM-768").meaning
    cv = _message(client.trace, "CertificateVerify")
    assert "ML-DSA-65" in explain(cv).field("signature").meaning


# -- the ClientHello on the wire -------------------------------------------------------------------


def _records(hello: Any) -> bytes:
    from tlslab.wire.record import fragment

    return b"".join(r.encode() for r in fragment(22, hello.encode(), legacy_record_version=0x0301))


def test_hybrid_client_hello_spans_two_segments_on_an_ethernet_mss() -> None:
    from tlslab.net.segments import send_over_loopback

    hybrid = _records(build_client_hello("lab.example", alpn=["h2"], rng=seeded_rng("seg")))
    classical = _records(
        build_client_hello("lab.example", groups=(G.x25519,), alpn=["h2"], rng=seeded_rng("seg"))
    )
    big, small = send_over_loopback(hybrid, mss=1460), send_over_loopback(classical, mss=1460)
    assert len(hybrid) > 1460 and big.data_segments == 2
    assert small.data_segments == 1
    if big.captured:  # root / CAP_NET_RAW: the captured payloads are the bytes, in order
        assert b"".join(s.payload for s in big.segments) == hybrid
        assert [s.offset for s in big.segments] == [0, len(big.segments[0].payload)]


# -- an attacker in the middle changes a hybrid share: the exact alert, closed, nothing delivered --


def _zero_x25519_part(flight_index: int, share_length: int) -> Callable[[int, str, bytes], bytes]:
    """A tamper hook that zeroes the X25519 half (the last 32 bytes) of the X25519MLKEM768 share in
    one flight, keeping every length intact: the ECDH part becomes the identity point."""
    group = G.X25519MLKEM768.to_bytes(2, "big") + share_length.to_bytes(2, "big")

    def tamper(index: int, sender: str, data: bytes) -> bytes:
        if index != flight_index:
            return data
        at = data.index(group) + 4 + share_length - 32
        return data[:at] + bytes(32) + data[at + 32 :]

    return tamper


@pytest.mark.parametrize("flight,share_length,victim", [(0, 1216, "server"), (1, 1120, "client")])
def test_zeroed_x25519_half_of_a_hybrid_share_is_illegal_parameter(
    flight: int, share_length: int, victim: str
) -> None:
    chain = build_chain(seed="pq tamper")
    client, server = _pair(chain, client=lambda c: c.replace(groups=(G.X25519MLKEM768,)))
    result = handshake_in_memory(client, server, tamper=_zero_x25519_part(flight, share_length))
    assert isinstance(result.error, IllegalParameter) and result.failed_side == victim
    assert "all-zero" in str(result.error)
    side = client if victim == "client" else server
    # no keys exist yet on either side, so the alert is a plaintext record: fatal(2) illegal_parameter(47)
    assert side.data_to_send() == bytes.fromhex("1503030002022f")
    assert side.closed and not side.handshake_complete
    assert not client.handshake_complete and not server.handshake_complete
    with pytest.raises(ConnectionNotUsable, match="the connection failed"):
        side.receive_data(b"\x17\x03\x03\x00\x01\x00")


# -- known answers ---------------------------------------------------------------------------------


def _ietf_mlkem768_example() -> bytes:
    """The raw encapsulation key from tests/vectors/mlkem768_ietf_example.pem (a published vector)."""
    from pathlib import Path

    from cryptography.hazmat.primitives.serialization import Encoding as E
    from cryptography.hazmat.primitives.serialization import PublicFormat as F
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    pem = (Path(__file__).parent / "vectors" / "mlkem768_ietf_example.pem").read_bytes()
    key = load_pem_public_key(pem[pem.index(b"-----BEGIN") :])
    spki = key.public_bytes(E.DER, F.SubjectPublicKeyInfo)
    return spki[-1184:]


def test_mlkem768_keygen_known_answer() -> None:
    """FIPS 203 KeyGen from the seed 00 01 .. 3f gives the IETF example key."""
    _, ek = mlkem_keygen("ML-KEM-768", lambda n: bytes(range(n)))
    assert ek == _ietf_mlkem768_example()


def test_hybrid_share_carries_the_known_mlkem_key_first() -> None:
    """X25519MLKEM768 draws the ML-KEM seed first, then the X25519 key: with the example seed the
    first 1,184 bytes of the share are the published key, the last 32 are X25519(k, 9)."""
    stream = bytes(range(64)) + bytes([0x77] * 32)

    def rng(n: int, _pos: list[int] = [0]) -> bytes:  # noqa: B006 - a cursor into the stream
        out = stream[_pos[0] : _pos[0] + n]
        _pos[0] += n
        return out

    share = generate_key_share(G.X25519MLKEM768, rng)
    expected_x = x25519.X25519PrivateKey.from_private_bytes(bytes([0x77] * 32)).public_key()
    assert share.public[:1184] == _ietf_mlkem768_example()
    assert share.public[1184:] == expected_x.public_bytes_raw()
