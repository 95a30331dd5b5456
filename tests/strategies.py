"""Hypothesis strategies that generate every message and extension tlslab models."""

from __future__ import annotations

from hypothesis import strategies as st

from tlslab.constants import HELLO_RETRY_REQUEST_RANDOM, ExtensionType, HandshakeType
from tlslab.wire.extensions import (
    ApplicationLayerProtocolNegotiation,
    Cookie,
    EarlyDataIndication,
    ECPointFormats,
    EncryptThenMac,
    ExtendedMasterSecret,
    Extension,
    KeyShareClientHello,
    KeyShareEntry,
    KeyShareHelloRetryRequest,
    KeyShareServerHello,
    OfferedPsks,
    Padding,
    PostHandshakeAuth,
    PreSharedKeyServer,
    PskIdentity,
    PskKeyExchangeModes,
    RecordSizeLimit,
    RenegotiationInfo,
    ServerName,
    SessionTicket,
    SignatureAlgorithms,
    SignatureAlgorithmsCert,
    StatusRequest,
    SupportedGroups,
    SupportedVersionsClient,
    SupportedVersionsServer,
    UnknownExtension,
)
from tlslab.wire.messages import (
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
    EndOfEarlyData,
    Finished,
    KeyUpdate,
    NewSessionTicket12,
    NewSessionTicket13,
    ServerHello,
    ServerHelloDone,
    ServerKeyExchangeDHE,
    ServerKeyExchangeECDHE,
)

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)


def blob(lo: int = 0, hi: int = 40) -> st.SearchStrategy[bytes]:
    return st.binary(min_size=lo, max_size=hi)


def u16s(lo: int, hi: int = 6) -> st.SearchStrategy[tuple[int, ...]]:
    return st.lists(u16, min_size=lo, max_size=hi).map(tuple)


hostname = st.text("abcdefghijklmnopqrstuvwxyz0123456789-.", min_size=1, max_size=20)
entry = st.builds(KeyShareEntry, u16, blob(1))
_known = {int(e) for e in ExtensionType}
unknown_ext = st.builds(UnknownExtension, u16.filter(lambda c: c not in _known), blob())

common_ext = st.one_of(
    st.builds(SupportedGroups, u16s(1)),
    st.builds(SignatureAlgorithms, u16s(1)),
    st.builds(SignatureAlgorithmsCert, u16s(1)),
    st.builds(
        ApplicationLayerProtocolNegotiation,
        st.lists(blob(1, 10), min_size=1, max_size=3).map(tuple),
    ),
    st.builds(ECPointFormats, st.lists(u8, min_size=1, max_size=3).map(tuple)),
    st.just(ExtendedMasterSecret()),
    st.just(EncryptThenMac()),
    st.just(PostHandshakeAuth()),
    st.builds(RenegotiationInfo, blob()),
    st.builds(SessionTicket, blob()),
    st.builds(PskKeyExchangeModes, st.lists(u8, min_size=1, max_size=2).map(tuple)),
    st.builds(Cookie, blob(1)),
    st.builds(RecordSizeLimit, st.integers(64, 0xFFFF)),
    st.builds(Padding, blob()),
    unknown_ext,
)

client_ext = st.one_of(
    common_ext,
    st.builds(ServerName, st.lists(hostname, min_size=1, max_size=2).map(tuple)),
    st.builds(SupportedVersionsClient, u16s(1, 5)),
    st.builds(KeyShareClientHello, st.lists(entry, max_size=3).map(tuple)),
    st.just(EarlyDataIndication()),
    st.builds(StatusRequest, st.just(1), blob(), blob()),
    st.integers(1, 3).flatmap(
        lambda n: st.builds(
            OfferedPsks,
            st.lists(st.builds(PskIdentity, blob(1), u32), min_size=n, max_size=n).map(tuple),
            st.lists(blob(32, 48), min_size=n, max_size=n).map(tuple),
        )
    ),
)
server_ext = st.one_of(
    common_ext,
    st.just(ServerName()),
    st.builds(SupportedVersionsServer, u16),
    st.builds(KeyShareServerHello, entry),
    st.builds(PreSharedKeyServer, u16),
    st.just(StatusRequest(None)),
)
ee_ext = st.one_of(common_ext, st.just(ServerName()), st.just(EarlyDataIndication()))
hrr_ext = st.one_of(
    st.builds(SupportedVersionsServer, u16),
    st.builds(KeyShareHelloRetryRequest, u16),
    st.builds(Cookie, blob(1)),
    unknown_ext,
)


def ext_block(
    strategy: st.SearchStrategy[Extension], lo: int = 0
) -> st.SearchStrategy[tuple[Extension, ...]]:
    return st.lists(strategy, min_size=lo, max_size=5, unique_by=lambda e: e.type_code).map(tuple)


random32 = blob(32, 32).filter(lambda b: b != HELLO_RETRY_REQUEST_RANDOM)

client_hello = st.builds(
    ClientHello,
    random=blob(32, 32),
    cipher_suites=u16s(1, 8),
    extensions=ext_block(client_ext),
    legacy_version=u16,
    legacy_session_id=blob(0, 32),
    legacy_compression_methods=blob(1, 3),
)
server_hello = st.builds(
    ServerHello,
    random=random32,
    cipher_suite=u16,
    extensions=ext_block(server_ext),
    legacy_version=u16,
    legacy_session_id_echo=blob(0, 32),
    legacy_compression_method=u8,
)
hello_retry_request = st.builds(
    ServerHello,
    random=st.just(HELLO_RETRY_REQUEST_RANDOM),
    cipher_suite=u16,
    extensions=ext_block(hrr_ext),
    legacy_session_id_echo=blob(0, 32),
)

# (strategy, version hint, key exchange hint) for every handshake message type
MESSAGES = {
    "ClientHello": (client_hello, None, None),
    "ServerHello": (server_hello, None, None),
    "HelloRetryRequest": (hello_retry_request, None, None),
    "EncryptedExtensions": (st.builds(EncryptedExtensions, ext_block(ee_ext)), None, None),
    "Certificate13": (
        st.builds(
            Certificate13,
            st.lists(st.builds(CertificateEntry, blob(1), ext_block(unknown_ext)), max_size=3).map(
                tuple
            ),
            blob(0, 8),
        ),
        0x0304,
        None,
    ),
    "Certificate12": (
        st.builds(Certificate12, st.lists(blob(1), max_size=3).map(tuple)),
        0x0303,
        None,
    ),
    "CertificateRequest13": (
        st.builds(CertificateRequest13, ext_block(common_ext, 1), blob(0, 8)),
        0x0304,
        None,
    ),
    "CertificateRequest12": (
        st.builds(
            CertificateRequest12,
            st.lists(u8, min_size=1, max_size=3).map(tuple),
            u16s(0),
            st.lists(blob(1), max_size=2).map(tuple),
        ),
        0x0303,
        None,
    ),
    "CertificateVerify": (st.builds(CertificateVerify, u16, blob()), None, None),
    "ServerKeyExchangeECDHE": (
        st.builds(ServerKeyExchangeECDHE, u16, blob(1), u16, blob()),
        None,
        "ecdhe",
    ),
    "ServerKeyExchangeDHE": (
        st.builds(ServerKeyExchangeDHE, blob(1), blob(1), blob(1), u16, blob()),
        None,
        "dhe",
    ),
    "ServerHelloDone": (st.just(ServerHelloDone()), None, None),
    "EndOfEarlyData": (st.just(EndOfEarlyData()), None, None),
    "ClientKeyExchangeECDHE": (st.builds(ClientKeyExchangeECDHE, blob(1)), None, "ecdhe"),
    "ClientKeyExchangeDHE": (st.builds(ClientKeyExchangeDHE, blob(1)), None, "dhe"),
    "ClientKeyExchangeRSA": (st.builds(ClientKeyExchangeRSA, blob(1)), None, "rsa"),
    "Finished": (
        st.builds(Finished, st.sampled_from([12, 32, 48]).flatmap(lambda n: blob(n, n))),
        None,
        None,
    ),
    "NewSessionTicket13": (
        st.builds(
            NewSessionTicket13,
            u32,
            u32,
            blob(0, 8),
            blob(1),
            ext_block(st.builds(EarlyDataIndication, u32)),
        ),
        0x0304,
        None,
    ),
    "NewSessionTicket12": (st.builds(NewSessionTicket12, u32, blob()), 0x0303, None),
    "KeyUpdate": (st.builds(KeyUpdate, st.sampled_from([0, 1])), None, None),
}

assert HandshakeType.client_hello == 1
