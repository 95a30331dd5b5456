"""Handshake messages of TLS 1.3 (RFC 8446 §4) and TLS 1.2 (RFC 5246 §7.4).

Every message is a frozen dataclass with ``encode()`` (the full handshake message,
4-byte header included: the bytes the transcript hash sees) and a matching
decoder. Field names are the RFC's. :func:`decode_handshake` reads any message;
a few bodies differ between versions (Certificate, CertificateRequest,
NewSessionTicket) or key exchanges (ServerKeyExchange, ClientKeyExchange), so it
takes ``version`` and ``key_exchange`` hints.

Taught in notebooks 01_client_hello and 02_server_hello.
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar

from ..constants import (
    HELLO_RETRY_REQUEST_RANDOM,
    CipherSuite,
    ClientCertificateType,
    ECCurveType,
    HandshakeType,
    KeyUpdateRequest,
    NamedGroup,
    ProtocolVersion,
    SignatureScheme,
    describe,
    lookup,
)
from ..errors import DecodeError, IllegalParameter, UnexpectedMessage
from ._codec import Note, Reader, Writer
from .extensions import (
    Extension,
    ExtensionBlock,
    decode_extension_block,
    decode_extensions,
    encode_extensions,
    find,
)

# explain() registers its HTML view here (see HandshakeMessage._repr_html_); None until it loads.
_html_renderer: Callable[[bytes], str] | None = None


def set_html_renderer(render: Callable[[bytes], str]) -> None:
    """Called once by :mod:`tlslab.wire.explain`: how a message shows itself in a notebook."""
    global _html_renderer
    _html_renderer = render


KeyExchangeKind = Literal["ecdhe", "dhe", "rsa"]
_M = TypeVar("_M", bound="HandshakeMessage")
_HEADER = struct.Struct(">I")  # Handshake: msg_type (uint8) then length (uint24)


class HandshakeMessage:
    """Base: ``struct { HandshakeType msg_type; uint24 length; <body> } Handshake;`` (RFC 8446 §4)."""

    msg_type: ClassVar[HandshakeType]

    def encode_body(self) -> bytes:
        raise NotImplementedError

    def encode(self) -> bytes:
        body, msg_type = self.encode_body(), self.msg_type
        if 0 <= msg_type <= 0xFF and len(body) <= 0xFFFFFF:  # uint8 + uint24 in one step
            return _HEADER.pack((msg_type << 24) | len(body)) + body
        w = Writer()  # out of bounds: the Writer raises EncodeError naming the field
        w.u8(self.msg_type)
        w.u24(len(body), "Handshake.length")
        w.raw(body)
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, ctx: DecodeContext) -> HandshakeMessage:
        raise NotImplementedError

    def replace(self: _M, **changes: Any) -> _M:
        """A copy with some fields changed (messages are immutable): ``hello.replace(random=...)``."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def _repr_html_(self) -> str:
        # Rendered by explain(), which sits above messages in the wire layer and registers
        # itself here when it loads; loading it here, on first use, keeps imports one-way.
        if _html_renderer is None:
            from . import explain  # noqa: F401  (registers the renderer)
        assert _html_renderer is not None
        return _html_renderer(self.encode())


@dataclass(frozen=True)
class DecodeContext:
    """What a decoder must know beyond the bytes: the negotiated version and key exchange."""

    version: int | None = None
    key_exchange: KeyExchangeKind | None = None


class _WithExtensions(HandshakeMessage):
    extensions: tuple[Extension, ...]

    def extension(self, code: int) -> Extension | None:
        """The extension of type ``code`` (an ExtensionType), or None."""
        block = self.__dict__.get("_extensions")
        if isinstance(block, ExtensionBlock):  # a decoded ClientHello not yet read in full
            return block.get(code)
        return find(self.extensions, code)


class _LazyExtensions:
    """The ``extensions`` field of ClientHello, which a server decodes from anyone.

    A decoded hello holds its :class:`~tlslab.wire.extensions.ExtensionBlock` here: the
    handshake asks for the few extensions it uses (``hello.extension(code)``) and never pays
    for thousands of junk ones. Reading ``hello.extensions`` builds the tuple once. A hello
    built in code holds its tuple from the start."""

    def __get__(self, obj: object, owner: type | None = None) -> tuple[Extension, ...]:
        if obj is None:
            return ()  # the field's default
        value = obj.__dict__["_extensions"]
        if isinstance(value, ExtensionBlock):
            value = obj.__dict__["_extensions"] = value.all()
        return value  # type: ignore[no-any-return]

    def __set__(self, obj: object, value: tuple[Extension, ...] | ExtensionBlock) -> None:
        obj.__dict__["_extensions"] = value


# RFC 8446 §4.1.2
#   struct {
#       ProtocolVersion legacy_version = 0x0303;    /* TLS v1.2 */
#       Random random;
#       opaque legacy_session_id<0..32>;
#       CipherSuite cipher_suites<2..2^16-2>;
#       opaque legacy_compression_methods<1..2^8-1>;
#       Extension extensions<8..2^16-1>;
#   } ClientHello;
@dataclass(frozen=True)
class ClientHello(_WithExtensions):
    msg_type = HandshakeType.client_hello
    random: bytes
    cipher_suites: tuple[int, ...]
    extensions: _LazyExtensions = _LazyExtensions()
    legacy_version: int = ProtocolVersion.TLS12
    legacy_session_id: bytes = b""
    legacy_compression_methods: bytes = b"\x00"
    # RFC 5246 §7.4.1.2 lets a TLS 1.2 client omit the extensions block entirely.
    omit_extensions_block: bool = field(default=False, compare=False, repr=False)

    def encode_body(self) -> bytes:
        w = Writer()
        w.u16(self.legacy_version, "legacy_version")
        w.fixed(self.random, 32, "random")
        w.opaque(1, self.legacy_session_id, "legacy_session_id", 0, 32)
        w.uint_list(2, 2, self.cipher_suites, "cipher_suites", 2, 0xFFFE)
        w.opaque(1, self.legacy_compression_methods, "legacy_compression_methods", 1)
        if self.extensions or not self.omit_extensions_block:
            encode_extensions(w, self.extensions)
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, ctx: DecodeContext) -> ClientHello:
        legacy_version = lookup(ProtocolVersion, r.u16("legacy_version", ProtocolVersion))
        random = r.fixed(32, "random")
        session_id = r.opaque(1, "legacy_session_id", 0, 32)
        suites = r.uint_list(2, 2, "cipher_suites", CipherSuite, 2, 0xFFFE)
        compression = r.opaque(1, "legacy_compression_methods", 1)
        omit = r.at_end()
        extensions = () if omit else decode_extension_block(r, HandshakeType.client_hello)
        return cls(random, suites, extensions, legacy_version, session_id, compression, omit)


# RFC 8446 §4.1.3
#   struct {
#       ProtocolVersion legacy_version = 0x0303;    /* TLS v1.2 */
#       Random random;
#       opaque legacy_session_id_echo<0..32>;
#       CipherSuite cipher_suite;
#       uint8 legacy_compression_method = 0;
#       Extension extensions<6..2^16-1>;
#   } ServerHello;
# A HelloRetryRequest is a ServerHello whose random is HELLO_RETRY_REQUEST_RANDOM.
@dataclass(frozen=True)
class ServerHello(_WithExtensions):
    msg_type = HandshakeType.server_hello
    random: bytes
    cipher_suite: int
    extensions: tuple[Extension, ...] = ()
    legacy_version: int = ProtocolVersion.TLS12
    legacy_session_id_echo: bytes = b""
    legacy_compression_method: int = 0
    omit_extensions_block: bool = field(default=False, compare=False, repr=False)

    @property
    def is_hello_retry_request(self) -> bool:
        """RFC 8446 §4.1.3: an HRR is recognised by its special random value."""
        return self.random == HELLO_RETRY_REQUEST_RANDOM

    def encode_body(self) -> bytes:
        w = Writer()
        w.u16(self.legacy_version, "legacy_version")
        w.fixed(self.random, 32, "random")
        w.opaque(1, self.legacy_session_id_echo, "legacy_session_id_echo", 0, 32)
        w.u16(self.cipher_suite, "cipher_suite")
        w.u8(self.legacy_compression_method, "legacy_compression_method")
        if self.extensions or not self.omit_extensions_block:
            encode_extensions(w, self.extensions)
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, ctx: DecodeContext) -> ServerHello:
        legacy_version = lookup(ProtocolVersion, r.u16("legacy_version", ProtocolVersion))
        random = r.fixed(32, "random")
        session_id = r.opaque(1, "legacy_session_id_echo", 0, 32)
        suite = lookup(CipherSuite, r.u16("cipher_suite", CipherSuite))
        compression = r.u8("legacy_compression_method")
        context = (
            HandshakeType.hello_retry_request
            if random == HELLO_RETRY_REQUEST_RANDOM
            else HandshakeType.server_hello
        )
        omit = r.at_end()
        extensions = () if omit else decode_extensions(r, context)
        return cls(random, suite, extensions, legacy_version, session_id, compression, omit)


# RFC 8446 §4.3.1   struct { Extension extensions<0..2^16-1>; } EncryptedExtensions;
@dataclass(frozen=True)
class EncryptedExtensions(_WithExtensions):
    msg_type = HandshakeType.encrypted_extensions
    extensions: tuple[Extension, ...] = ()

    def encode_body(self) -> bytes:
        w = Writer()
        encode_extensions(w, self.extensions)
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, ctx: DecodeContext) -> EncryptedExtensions:
        return cls(decode_extensions(r, HandshakeType.encrypted_extensions))


# RFC 8446 §4.4.2
#   struct { opaque cert_data<1..2^24-1>; Extension extensions<0..2^16-1>; } CertificateEntry;
#   struct { opaque certificate_request_context<0..2^8-1>;
#            CertificateEntry certificate_list<0..2^24-1>; } Certificate;
@dataclass(frozen=True)
class CertificateEntry:
    cert_data: bytes
    extensions: tuple[Extension, ...] = ()


@dataclass(frozen=True)
class Certificate13(HandshakeMessage):
    msg_type = HandshakeType.certificate
    certificate_list: tuple[CertificateEntry, ...]
    certificate_request_context: bytes = b""

    def encode_body(self) -> bytes:
        w = Writer()
        w.opaque(1, self.certificate_request_context, "certificate_request_context")
        with w.block(3, "certificate_list"):
            for entry in self.certificate_list:
                w.opaque(3, entry.cert_data, "cert_data", 1)
                encode_extensions(w, entry.extensions)
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, ctx: DecodeContext) -> Certificate13:
        context = r.opaque(1, "certificate_request_context")
        entries: list[CertificateEntry] = []
        with r.block(3, "certificate_list") as b:
            while not b.at_end():
                with b.section(f"certificate_list[{len(entries)}]"):
                    data = b.opaque(3, "cert_data", 1, meaning="DER X.509 certificate")
                    exts = decode_extensions(b, HandshakeType.certificate)
                entries.append(CertificateEntry(data, exts))
        return cls(tuple(entries), context)

    @property
    def certificates(self) -> tuple[bytes, ...]:
        """The DER certificates, leaf first."""
        return tuple(e.cert_data for e in self.certificate_list)


# RFC 5246 §7.4.2   opaque ASN.1Cert<1..2^24-1>;
#   struct { ASN.1Cert certificate_list<0..2^24-1>; } Certificate;
@dataclass(frozen=True)
class Certificate12(HandshakeMessage):
    msg_type = HandshakeType.certificate
    certificate_list: tuple[bytes, ...]

    def encode_body(self) -> bytes:
        w = Writer()
        with w.block(3, "certificate_list"):
            for cert in self.certificate_list:
                w.opaque(3, cert, "ASN.1Cert", 1)
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, ctx: DecodeContext) -> Certificate12:
        certs: list[bytes] = []
        with r.block(3, "certificate_list") as b:
            while not b.at_end():
                certs.append(b.opaque(3, f"ASN.1Cert[{len(certs)}]", 1, meaning="DER X.509"))
        return cls(tuple(certs))

    @property
    def certificates(self) -> tuple[bytes, ...]:
        return self.certificate_list


# RFC 8446 §4.3.2
#   struct { opaque certificate_request_context<0..2^8-1>;
#            Extension extensions<2..2^16-1>; } CertificateRequest;
@dataclass(frozen=True)
class CertificateRequest13(_WithExtensions):
    msg_type = HandshakeType.certificate_request
    extensions: tuple[Extension, ...]
    certificate_request_context: bytes = b""

    def encode_body(self) -> bytes:
        w = Writer()
        w.opaque(1, self.certificate_request_context, "certificate_request_context")
        encode_extensions(w, self.extensions, 2)
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, ctx: DecodeContext) -> CertificateRequest13:
        context = r.opaque(1, "certificate_request_context")
        return cls(decode_extensions(r, HandshakeType.certificate_request, 2), context)


# RFC 5246 §7.4.4
#   struct { ClientCertificateType certificate_types<1..2^8-1>;
#            SignatureAndHashAlgorithm supported_signature_algorithms<2^16-1>;
#            DistinguishedName certificate_authorities<0..2^16-1>; } CertificateRequest;
#   opaque DistinguishedName<1..2^16-1>;
@dataclass(frozen=True)
class CertificateRequest12(HandshakeMessage):
    msg_type = HandshakeType.certificate_request
    certificate_types: tuple[int, ...]
    supported_signature_algorithms: tuple[int, ...]
    certificate_authorities: tuple[bytes, ...] = ()

    def encode_body(self) -> bytes:
        w = Writer()
        w.uint_list(1, 1, self.certificate_types, "certificate_types", 1)
        w.uint_list(2, 2, self.supported_signature_algorithms, "supported_signature_algorithms")
        with w.block(2, "certificate_authorities"):
            for dn in self.certificate_authorities:
                w.opaque(2, dn, "DistinguishedName", 1)
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, ctx: DecodeContext) -> CertificateRequest12:
        types = r.uint_list(1, 1, "certificate_types", ClientCertificateType, 1)
        algs = r.uint_list(2, 2, "supported_signature_algorithms", SignatureScheme)
        names: list[bytes] = []
        with r.block(2, "certificate_authorities") as b:
            while not b.at_end():
                names.append(b.opaque(2, "DistinguishedName", 1))
        return cls(types, algs, tuple(names))


# RFC 8446 §4.4.3   struct { SignatureScheme algorithm; opaque signature<0..2^16-1>; } CertificateVerify;
# (RFC 5246 §7.4.8 has the same layout: a DigitallySigned struct.)
# draft-ietf-tls-mldsa: what explain() says about a post-quantum signature.
_MLDSA_NOTE: dict[int, str] = {
    SignatureScheme.mldsa44: "ML-DSA-44 signature (FIPS 204): always 2,420 bytes",
    SignatureScheme.mldsa65: "ML-DSA-65 signature (FIPS 204): always 3,309 bytes",
    SignatureScheme.mldsa87: "ML-DSA-87 signature (FIPS 204): always 4,627 bytes",
}


@dataclass(frozen=True)
class CertificateVerify(HandshakeMessage):
    msg_type = HandshakeType.certificate_verify
    algorithm: int
    signature: bytes

    def encode_body(self) -> bytes:
        w = Writer()
        w.u16(self.algorithm, "algorithm")
        w.opaque(2, self.signature, "signature")
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, ctx: DecodeContext) -> CertificateVerify:
        algorithm = lookup(SignatureScheme, r.u16("algorithm", SignatureScheme))
        return cls(algorithm, r.opaque(2, "signature", meaning=_MLDSA_NOTE.get(algorithm, "")))


# RFC 8422 §5.4 (ECDHE) and RFC 5246 §7.4.3 (DHE)
#   struct { ECCurveType curve_type; NamedCurve namedcurve; } ECParameters;
#   struct { ECParameters curve_params; ECPoint public; } ServerECDHParams;   ECPoint: opaque point <1..2^8-1>
#   struct { opaque dh_p<1..2^16-1>; opaque dh_g<1..2^16-1>; opaque dh_Ys<1..2^16-1>; } ServerDHParams;
#   struct { ServerECDHParams params; digitally-signed struct {...} signed_params; } ServerKeyExchange;
@dataclass(frozen=True)
class ServerKeyExchangeECDHE(HandshakeMessage):
    msg_type = HandshakeType.server_key_exchange
    namedcurve: int
    public: bytes
    algorithm: int
    signature: bytes

    def params(self) -> bytes:
        """The ServerECDHParams bytes: what the signature covers (after the two randoms)."""
        w = Writer()
        w.u8(ECCurveType.named_curve)
        w.u16(self.namedcurve, "namedcurve")
        w.opaque(1, self.public, "point", 1)
        return w.getvalue()

    def encode_body(self) -> bytes:
        w = Writer()
        w.raw(self.params())
        w.u16(self.algorithm, "algorithm")
        w.opaque(2, self.signature, "signature")
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, ctx: DecodeContext) -> ServerKeyExchangeECDHE:
        curve_type = r.u8("curve_type", ECCurveType)
        if curve_type != ECCurveType.named_curve:
            raise IllegalParameter(
                "ServerKeyExchange: only named curves are allowed (RFC 8422 §5.4)",
                expected="named_curve (3)",
                seen=curve_type,
            )
        curve = lookup(NamedGroup, r.u16("namedcurve", NamedGroup))
        public = r.opaque(1, "public", 1)
        algorithm = lookup(SignatureScheme, r.u16("algorithm", SignatureScheme))
        return cls(curve, public, algorithm, r.opaque(2, "signature"))


@dataclass(frozen=True)
class ServerKeyExchangeDHE(HandshakeMessage):
    msg_type = HandshakeType.server_key_exchange
    dh_p: bytes
    dh_g: bytes
    dh_Ys: bytes
    algorithm: int
    signature: bytes

    def params(self) -> bytes:
        """The ServerDHParams bytes: what the signature covers (after the two randoms)."""
        w = Writer()
        w.opaque(2, self.dh_p, "dh_p", 1)
        w.opaque(2, self.dh_g, "dh_g", 1)
        w.opaque(2, self.dh_Ys, "dh_Ys", 1)
        return w.getvalue()

    def encode_body(self) -> bytes:
        w = Writer()
        w.raw(self.params())
        w.u16(self.algorithm, "algorithm")
        w.opaque(2, self.signature, "signature")
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, ctx: DecodeContext) -> ServerKeyExchangeDHE:
        p = r.opaque(2, "dh_p", 1)
        g = r.opaque(2, "dh_g", 1)
        ys = r.opaque(2, "dh_Ys", 1)
        algorithm = lookup(SignatureScheme, r.u16("algorithm", SignatureScheme))
        return cls(p, g, ys, algorithm, r.opaque(2, "signature"))


@dataclass(frozen=True)
class _Empty(HandshakeMessage):
    """Messages with an empty body; subclasses add no fields, so they need no decorator."""

    def encode_body(self) -> bytes:
        return b""

    @classmethod
    def decode_body(cls, r: Reader, ctx: DecodeContext) -> HandshakeMessage:
        return cls()


# RFC 5246 §7.4.5   struct { } ServerHelloDone;
class ServerHelloDone(_Empty):
    msg_type = HandshakeType.server_hello_done


# RFC 8446 §4.5   struct {} EndOfEarlyData;
class EndOfEarlyData(_Empty):
    msg_type = HandshakeType.end_of_early_data


# RFC 5246 §7.4.1.1   struct { } HelloRequest;
class HelloRequest(_Empty):
    msg_type = HandshakeType.hello_request


# RFC 8422 §5.7   struct { opaque point <1..2^8-1>; } ECPoint;  (ClientECDiffieHellmanPublic)
@dataclass(frozen=True)
class ClientKeyExchangeECDHE(HandshakeMessage):
    msg_type = HandshakeType.client_key_exchange
    ecdh_Yc: bytes

    def encode_body(self) -> bytes:
        w = Writer()
        w.opaque(1, self.ecdh_Yc, "ecdh_Yc", 1)
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, ctx: DecodeContext) -> ClientKeyExchangeECDHE:
        return cls(r.opaque(1, "ecdh_Yc", 1))


# RFC 5246 §7.4.7.2   struct { opaque dh_Yc<1..2^16-1>; } ClientDiffieHellmanPublic;
@dataclass(frozen=True)
class ClientKeyExchangeDHE(HandshakeMessage):
    msg_type = HandshakeType.client_key_exchange
    dh_Yc: bytes

    def encode_body(self) -> bytes:
        w = Writer()
        w.opaque(2, self.dh_Yc, "dh_Yc", 1)
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, ctx: DecodeContext) -> ClientKeyExchangeDHE:
        return cls(r.opaque(2, "dh_Yc", 1))


# RFC 5246 §7.4.7.1   struct { public-key-encrypted PreMasterSecret pre_master_secret; } EncryptedPreMasterSecret;
# (in TLS 1.0 and later the ciphertext carries a 2-byte length)
@dataclass(frozen=True)
class ClientKeyExchangeRSA(HandshakeMessage):
    msg_type = HandshakeType.client_key_exchange
    encrypted_pre_master_secret: bytes

    def encode_body(self) -> bytes:
        w = Writer()
        w.opaque(2, self.encrypted_pre_master_secret, "encrypted_pre_master_secret", 1)
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, ctx: DecodeContext) -> ClientKeyExchangeRSA:
        return cls(r.opaque(2, "encrypted_pre_master_secret", 1))


# RFC 8446 §4.4.4   struct { opaque verify_data[Hash.length]; } Finished;
# RFC 5246 §7.4.9   struct { opaque verify_data[verify_data_length]; } Finished;  (12 bytes)
@dataclass(frozen=True)
class Finished(HandshakeMessage):
    msg_type = HandshakeType.finished
    verify_data: bytes

    def encode_body(self) -> bytes:
        return self.verify_data

    @classmethod
    def decode_body(cls, r: Reader, ctx: DecodeContext) -> Finished:
        if r.remaining not in (12, 32, 48, 64):
            raise DecodeError(
                "Finished: verify_data has the wrong length",
                expected="12 (TLS 1.2) or the hash length (TLS 1.3: 32 or 48)",
                seen=r.remaining,
            )
        return cls(r.rest("verify_data"))


# RFC 8446 §4.6.1
#   struct { uint32 ticket_lifetime; uint32 ticket_age_add; opaque ticket_nonce<0..255>;
#            opaque ticket<1..2^16-1>; Extension extensions<0..2^16-2>; } NewSessionTicket;
@dataclass(frozen=True)
class NewSessionTicket13(_WithExtensions):
    msg_type = HandshakeType.new_session_ticket
    ticket_lifetime: int
    ticket_age_add: int
    ticket_nonce: bytes
    ticket: bytes
    extensions: tuple[Extension, ...] = ()

    def encode_body(self) -> bytes:
        w = Writer()
        w.u32(self.ticket_lifetime, "ticket_lifetime")
        w.u32(self.ticket_age_add, "ticket_age_add")
        w.opaque(1, self.ticket_nonce, "ticket_nonce")
        w.opaque(2, self.ticket, "ticket", 1)
        encode_extensions(w, self.extensions)
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, ctx: DecodeContext) -> NewSessionTicket13:
        lifetime = r.u32("ticket_lifetime")
        age_add = r.u32("ticket_age_add")
        nonce = r.opaque(1, "ticket_nonce")
        ticket = r.opaque(2, "ticket", 1)
        return cls(
            lifetime, age_add, nonce, ticket, decode_extensions(r, HandshakeType.new_session_ticket)
        )


# RFC 5077 §3.3   struct { uint32 ticket_lifetime_hint; opaque ticket<0..2^16-1>; } NewSessionTicket;
@dataclass(frozen=True)
class NewSessionTicket12(HandshakeMessage):
    msg_type = HandshakeType.new_session_ticket
    ticket_lifetime_hint: int
    ticket: bytes

    def encode_body(self) -> bytes:
        w = Writer()
        w.u32(self.ticket_lifetime_hint, "ticket_lifetime_hint")
        w.opaque(2, self.ticket, "ticket")
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, ctx: DecodeContext) -> NewSessionTicket12:
        return cls(r.u32("ticket_lifetime_hint"), r.opaque(2, "ticket"))


# RFC 8446 §4.6.3   struct { KeyUpdateRequest request_update; } KeyUpdate;
@dataclass(frozen=True)
class KeyUpdate(HandshakeMessage):
    msg_type = HandshakeType.key_update
    request_update: int = KeyUpdateRequest.update_not_requested

    def encode_body(self) -> bytes:
        return bytes([self.request_update])

    @classmethod
    def decode_body(cls, r: Reader, ctx: DecodeContext) -> KeyUpdate:
        value = r.u8("request_update", KeyUpdateRequest)
        if value not in (0, 1):
            raise IllegalParameter(
                "KeyUpdate: request_update must be 0 or 1", expected="0 or 1", seen=value
            )
        return cls(KeyUpdateRequest(value))


# RFC 8446 §4.4.1: the synthetic message that replaces ClientHello1 in the
# transcript after a HelloRetryRequest: handshake type message_hash, body Hash(ClientHello1).
@dataclass(frozen=True)
class MessageHash(HandshakeMessage):
    msg_type = HandshakeType.message_hash
    hash_value: bytes

    def encode_body(self) -> bytes:
        return self.hash_value

    @classmethod
    def decode_body(cls, r: Reader, ctx: DecodeContext) -> MessageHash:
        return cls(r.rest("Hash(ClientHello1)"))


_FIXED: dict[int, type[HandshakeMessage]] = {
    HandshakeType.hello_request: HelloRequest,
    HandshakeType.client_hello: ClientHello,
    HandshakeType.server_hello: ServerHello,
    HandshakeType.end_of_early_data: EndOfEarlyData,
    HandshakeType.encrypted_extensions: EncryptedExtensions,
    HandshakeType.certificate_verify: CertificateVerify,
    HandshakeType.server_hello_done: ServerHelloDone,
    HandshakeType.finished: Finished,
    HandshakeType.key_update: KeyUpdate,
    HandshakeType.message_hash: MessageHash,
}

_BY_VERSION: dict[int, tuple[type[HandshakeMessage], type[HandshakeMessage]]] = {
    # msg_type: (TLS 1.3 form, TLS 1.2 form)
    HandshakeType.certificate: (Certificate13, Certificate12),
    HandshakeType.certificate_request: (CertificateRequest13, CertificateRequest12),
    HandshakeType.new_session_ticket: (NewSessionTicket13, NewSessionTicket12),
}

_SKE: dict[str, type[HandshakeMessage]] = {
    "ecdhe": ServerKeyExchangeECDHE,
    "dhe": ServerKeyExchangeDHE,
}
_CKE: dict[str, type[HandshakeMessage]] = {
    "ecdhe": ClientKeyExchangeECDHE,
    "dhe": ClientKeyExchangeDHE,
    "rsa": ClientKeyExchangeRSA,
}


def _candidates(msg_type: int, body: bytes, ctx: DecodeContext) -> list[type[HandshakeMessage]]:
    """The classes that may decode this body, best guess first when ``ctx`` is silent."""
    if msg_type in _FIXED:
        return [_FIXED[msg_type]]
    if msg_type in _BY_VERSION:
        v13, v12 = _BY_VERSION[msg_type]
        if ctx.version == ProtocolVersion.TLS13:
            return [v13]
        if ctx.version is not None:
            return [v12]
        return [v13, v12]
    if msg_type == HandshakeType.server_key_exchange:
        if ctx.key_exchange in _SKE:
            return [_SKE[ctx.key_exchange]]
        return (
            [ServerKeyExchangeECDHE, ServerKeyExchangeDHE]
            if body[:1] == b"\x03"
            else [ServerKeyExchangeDHE]
        )
    if msg_type == HandshakeType.client_key_exchange:
        if ctx.key_exchange in _CKE:
            return [_CKE[ctx.key_exchange]]
        if body[:1] and body[0] + 1 == len(body):
            return [ClientKeyExchangeECDHE]
        return [ClientKeyExchangeRSA]
    raise UnexpectedMessage(
        "unknown or unsupported handshake message type",
        expected="a TLS 1.2 or 1.3 handshake type",
        seen=describe(HandshakeType, msg_type, 2),
    )


# Several RFC messages are more than one tlslab class, one per version or key exchange (their
# bodies differ); figures and texts name them as the RFC does.
_RFC_NAMES = {
    "Certificate12": "Certificate",
    "Certificate13": "Certificate",
    "CertificateRequest12": "CertificateRequest",
    "CertificateRequest13": "CertificateRequest",
    "NewSessionTicket12": "NewSessionTicket",
    "NewSessionTicket13": "NewSessionTicket",
    "ServerKeyExchangeECDHE": "ServerKeyExchange",
    "ServerKeyExchangeDHE": "ServerKeyExchange",
    "ClientKeyExchangeECDHE": "ClientKeyExchange",
    "ClientKeyExchangeDHE": "ClientKeyExchange",
    "ClientKeyExchangeRSA": "ClientKeyExchange",
}


def rfc_message_name(name: str) -> str:
    """The RFC's name for a tlslab message class name (``Certificate13`` -> ``Certificate``)."""
    return _RFC_NAMES.get(name, name)


def decode_handshake(
    data: bytes,
    *,
    version: int | None = None,
    key_exchange: KeyExchangeKind | None = None,
    notes: list[Note] | None = None,
) -> HandshakeMessage:
    """Decode one complete handshake message (4-byte header + body, nothing after it).

    ``version`` picks the TLS 1.2 or 1.3 form where they differ; ``key_exchange``
    ("ecdhe", "dhe", "rsa") picks the ServerKeyExchange/ClientKeyExchange form.
    Without them tlslab guesses, which is fine for explaining but not for a
    connection. RFC 8446 §4, RFC 5246 §7.4.
    """
    r = Reader(data, what="Handshake", notes=notes)
    msg_type = r.u8("msg_type", HandshakeType)
    length = r.u24("length")
    if length != r.remaining:
        raise DecodeError(
            "Handshake: length field does not match the message",
            expected=f"{r.remaining} bytes of body",
            seen=f"length {length}",
        )
    ctx = DecodeContext(version, key_exchange)
    body = data[4:]
    candidates = _candidates(msg_type, body, ctx)
    for i, cls in enumerate(candidates):
        mark = len(notes) if notes is not None else 0
        body_reader = Reader(data, what=cls.__name__, notes=notes, start=4, depth=1)
        try:
            message = cls.decode_body(body_reader, ctx)
            body_reader.expect_end()
            return message
        except DecodeError:
            if i == len(candidates) - 1:
                raise
            if notes is not None:
                del notes[mark:]
    raise AssertionError("unreachable")  # pragma: no cover
