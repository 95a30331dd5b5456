"""Hello extensions (RFC 8446 §4.2, RFC 5246 §7.4.1.4 and friends).

Each extension is a frozen dataclass with ``encode_body()`` and a ``decode_body``
class method. Several extensions have a different body depending on the message
that carries them (``key_share`` in ClientHello, ServerHello or
HelloRetryRequest), so decoding takes the carrying message's
:class:`~tlslab.constants.HandshakeType` as ``context``; a HelloRetryRequest is
``HandshakeType.hello_retry_request``.

Anything tlslab does not model is kept as :class:`UnknownExtension` with its raw
bytes, so GREASE and new extensions survive a round trip byte-exactly.

Taught in notebook 01_client_hello.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar

from ..constants import (
    KEM_GROUP_PARTS,
    CertificateStatusType,
    ECPointFormat,
    ExtensionType,
    HandshakeType,
    NamedGroup,
    NameType,
    ProtocolVersion,
    PskKeyExchangeMode,
    SignatureScheme,
    describe,
    lookup,
    members,
)
from ..errors import DecodeError, IllegalParameter
from ._codec import Reader, Writer

CH = HandshakeType.client_hello
SH = HandshakeType.server_hello
HRR = HandshakeType.hello_retry_request
EE = HandshakeType.encrypted_extensions
CT = HandshakeType.certificate
CR = HandshakeType.certificate_request
NST = HandshakeType.new_session_ticket


_TYPE_AND_LENGTH = struct.Struct(">HH")  # extension_type, extension_data's length


class Extension:
    """Base class: ``extension_type`` plus a body codec."""

    extension_type: ClassVar[int]

    def encode_body(self) -> bytes:
        raise NotImplementedError

    @classmethod
    def decode_body(cls, r: Reader, context: int) -> Extension:
        raise NotImplementedError

    def encode(self) -> bytes:
        """``struct { ExtensionType extension_type; opaque extension_data<0..2^16-1>; }``."""
        code, body = self.type_code, self.encode_body()
        if 0 <= code <= 0xFFFF and len(body) <= 0xFFFF:  # both uint16: one struct call (~0.4 us)
            return _TYPE_AND_LENGTH.pack(code, len(body)) + body
        w = Writer()  # out of bounds: the Writer raises EncodeError naming the field
        w.u16(code, "extension_type")
        w.opaque(2, body, "extension_data")
        return w.getvalue()

    @property
    def type_code(self) -> int:
        return self.extension_type


@dataclass(frozen=True)
class UnknownExtension(Extension):
    """An extension tlslab does not model (or GREASE): kept as raw bytes."""

    code: int
    data: bytes = b""

    @property
    def type_code(self) -> int:
        return self.code

    def encode_body(self) -> bytes:
        return self.data


# ----------------------------------------------------------------------------
# RFC 6066 §3
#   struct { NameType name_type; select (name_type) { case host_name: HostName; } name; } ServerName;
#   opaque HostName<1..2^16-1>;
#   struct { ServerName server_name_list<1..2^16-1> } ServerNameList;
# In ServerHello / EncryptedExtensions the body is empty.
@dataclass(frozen=True)
class ServerName(Extension):
    extension_type = ExtensionType.server_name
    host_names: tuple[str, ...] = ()

    def encode_body(self) -> bytes:
        if not self.host_names:
            return b""
        w = Writer()
        with w.block(2, "server_name_list", 1):
            for name in self.host_names:
                w.u8(NameType.host_name)
                w.opaque(2, name.encode("ascii"), "HostName", 1)
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, context: int) -> ServerName:
        if context != CH:
            return cls()
        names: list[str] = []
        with r.block(2, "server_name_list", 1) as b:
            while not b.at_end():
                kind = b.u8("name_type", NameType)
                raw = b.opaque(2, "HostName", 1, text=True)
                if kind != NameType.host_name:
                    raise IllegalParameter("server_name: unknown name_type", expected=0, seen=kind)
                try:
                    names.append(raw.decode("ascii"))
                except UnicodeDecodeError:
                    raise DecodeError("server_name: HostName is not ASCII", seen=raw) from None
        return cls(tuple(names))


# RFC 8446 §4.2.1
#   struct { select (Handshake.msg_type) {
#       case client_hello: ProtocolVersion versions<2..254>;
#       case server_hello: /* and HelloRetryRequest */ ProtocolVersion selected_version; }; }
@dataclass(frozen=True)
class SupportedVersionsClient(Extension):
    extension_type = ExtensionType.supported_versions
    versions: tuple[int, ...] = (ProtocolVersion.TLS13,)

    def encode_body(self) -> bytes:
        w = Writer()
        w.uint_list(1, 2, self.versions, "versions", 2, 254)
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, context: int) -> SupportedVersionsClient:
        return cls(r.uint_list(1, 2, "versions", ProtocolVersion, 2, 254))


@dataclass(frozen=True)
class SupportedVersionsServer(Extension):
    extension_type = ExtensionType.supported_versions
    selected_version: int = ProtocolVersion.TLS13

    def encode_body(self) -> bytes:
        return self.selected_version.to_bytes(2, "big")

    @classmethod
    def decode_body(cls, r: Reader, context: int) -> SupportedVersionsServer:
        return cls(lookup(ProtocolVersion, r.u16("selected_version", ProtocolVersion)))


# RFC 8446 §4.2.7   struct { NamedGroup named_group_list<2..2^16-1>; } NamedGroupList;
@dataclass(frozen=True)
class SupportedGroups(Extension):
    extension_type = ExtensionType.supported_groups
    named_group_list: tuple[int, ...] = ()

    def encode_body(self) -> bytes:
        w = Writer()
        w.uint_list(2, 2, self.named_group_list, "named_group_list", 2)
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, context: int) -> SupportedGroups:
        return cls(r.uint_list(2, 2, "named_group_list", NamedGroup, 2))


# RFC 8446 §4.2.3   struct { SignatureScheme supported_signature_algorithms<2..2^16-2>; }
@dataclass(frozen=True)
class SignatureAlgorithms(Extension):
    extension_type = ExtensionType.signature_algorithms
    supported_signature_algorithms: tuple[int, ...] = ()

    def encode_body(self) -> bytes:
        w = Writer()
        w.uint_list(
            2, 2, self.supported_signature_algorithms, "supported_signature_algorithms", 2, 0xFFFE
        )
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, context: int) -> SignatureAlgorithms:
        return cls(r.uint_list(2, 2, "supported_signature_algorithms", SignatureScheme, 2, 0xFFFE))


class SignatureAlgorithmsCert(
    SignatureAlgorithms
):  # no new fields: the parent's dataclass methods serve
    """Same body as signature_algorithms; applies to signatures in certificates."""

    extension_type = ExtensionType.signature_algorithms_cert


# RFC 8446 §4.2.8   struct { NamedGroup group; opaque key_exchange<1..2^16-1>; } KeyShareEntry;
@dataclass(frozen=True)
class KeyShareEntry:
    group: int
    key_exchange: bytes

    def write(self, w: Writer) -> None:
        w.u16(self.group, "group")
        w.opaque(2, self.key_exchange, "key_exchange", 1)

    @classmethod
    def read(cls, r: Reader, *, server: bool = False) -> KeyShareEntry:
        group = lookup(NamedGroup, r.u16("group", NamedGroup))
        if r.annotating and group in KEM_GROUP_PARTS:
            return cls(group, _read_kem_share(r, group, server))
        return cls(group, r.opaque(2, "key_exchange", 1))


def _read_kem_share(r: Reader, group: int, server: bool) -> bytes:
    """For explain(): a post-quantum share annotated part by part when its length fits the
    group's layout (draft-ietf-tls-ecdhe-mlkem §4.1); the bytes read are the same either way."""
    parts = KEM_GROUP_PARTS[group]
    sizes = [p.server if server else p.client for p in parts]
    if int.from_bytes(r.peek(2), "big") != sum(sizes):
        return r.opaque(2, "key_exchange", 1)
    chunks = []
    with r.block(2, "key_exchange", 1) as b:
        for part, size in zip(parts, sizes, strict=True):
            if part.name.startswith("ML-KEM"):
                what = (
                    "ciphertext (the server encapsulated to the client's key)"
                    if server
                    else ("encapsulation key (FIPS 203)")
                )
            else:
                what = "public key (ECDH)"
            chunks.append(b.fixed(size, f"key_exchange.{part.name}", f"{part.name} {what}"))
    return b"".join(chunks)


#   struct { KeyShareEntry client_shares<0..2^16-1>; } KeyShareClientHello;
@dataclass(frozen=True)
class KeyShareClientHello(Extension):
    extension_type = ExtensionType.key_share
    client_shares: tuple[KeyShareEntry, ...] = ()

    def encode_body(self) -> bytes:
        w = Writer()
        with w.block(2, "client_shares"):
            for entry in self.client_shares:
                entry.write(w)
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, context: int) -> KeyShareClientHello:
        shares: list[KeyShareEntry] = []
        with r.block(2, "client_shares") as b:
            while not b.at_end():
                with b.section(f"client_shares[{len(shares)}]"):
                    shares.append(KeyShareEntry.read(b))
        return cls(tuple(shares))


#   struct { KeyShareEntry server_share; } KeyShareServerHello;
@dataclass(frozen=True)
class KeyShareServerHello(Extension):
    extension_type = ExtensionType.key_share
    server_share: KeyShareEntry

    def encode_body(self) -> bytes:
        w = Writer()
        self.server_share.write(w)
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, context: int) -> KeyShareServerHello:
        return cls(KeyShareEntry.read(r, server=True))


#   struct { NamedGroup selected_group; } KeyShareHelloRetryRequest;
@dataclass(frozen=True)
class KeyShareHelloRetryRequest(Extension):
    extension_type = ExtensionType.key_share
    selected_group: int

    def encode_body(self) -> bytes:
        return self.selected_group.to_bytes(2, "big")

    @classmethod
    def decode_body(cls, r: Reader, context: int) -> KeyShareHelloRetryRequest:
        return cls(lookup(NamedGroup, r.u16("selected_group", NamedGroup)))


# RFC 7301 §3.1   opaque ProtocolName<1..2^8-1>;
#   struct { ProtocolName protocol_name_list<2..2^16-1> } ProtocolNameList;
@dataclass(frozen=True)
class ApplicationLayerProtocolNegotiation(Extension):
    extension_type = ExtensionType.application_layer_protocol_negotiation
    protocol_name_list: tuple[bytes, ...] = ()

    def encode_body(self) -> bytes:
        w = Writer()
        with w.block(2, "protocol_name_list", 2):
            for name in self.protocol_name_list:
                w.opaque(1, name, "ProtocolName", 1)
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, context: int) -> ApplicationLayerProtocolNegotiation:
        names: list[bytes] = []
        with r.block(2, "protocol_name_list", 2) as b:
            while not b.at_end():
                names.append(b.opaque(1, f"ProtocolName[{len(names)}]", 1, text=True))
        return cls(tuple(names))


# RFC 8422 §5.1.2   struct { ECPointFormat ec_point_format_list<1..2^8-1> } ECPointFormatList;
@dataclass(frozen=True)
class ECPointFormats(Extension):
    extension_type = ExtensionType.ec_point_formats
    ec_point_format_list: tuple[int, ...] = (ECPointFormat.uncompressed,)

    def encode_body(self) -> bytes:
        w = Writer()
        w.uint_list(1, 1, self.ec_point_format_list, "ec_point_format_list", 1)
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, context: int) -> ECPointFormats:
        return cls(r.uint_list(1, 1, "ec_point_format_list", ECPointFormat, 1))


@dataclass(frozen=True)
class _EmptyExtension(Extension):
    """Extensions whose body is empty: their presence is the message."""

    def encode_body(self) -> bytes:
        return b""

    @classmethod
    def decode_body(cls, r: Reader, context: int) -> Extension:
        return cls()


# RFC 7627 §5.1: an empty extension_data.
class ExtendedMasterSecret(_EmptyExtension):  # no new fields: the parent's dataclass methods serve
    extension_type = ExtensionType.extended_master_secret


# RFC 7250-era "encrypt_then_mac" (RFC 7366): empty.
class EncryptThenMac(_EmptyExtension):  # no new fields: the parent's dataclass methods serve
    extension_type = ExtensionType.encrypt_then_mac


# RFC 8446 §4.6.2: empty.
class PostHandshakeAuth(_EmptyExtension):  # no new fields: the parent's dataclass methods serve
    extension_type = ExtensionType.post_handshake_auth


# RFC 5746 §3.2   struct { opaque renegotiated_connection<0..255>; } RenegotiationInfo;
@dataclass(frozen=True)
class RenegotiationInfo(Extension):
    extension_type = ExtensionType.renegotiation_info
    renegotiated_connection: bytes = b""

    def encode_body(self) -> bytes:
        w = Writer()
        w.opaque(1, self.renegotiated_connection, "renegotiated_connection")
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, context: int) -> RenegotiationInfo:
        return cls(r.opaque(1, "renegotiated_connection"))


# RFC 5077 §3.2: the body is the ticket itself (empty to ask for one).
@dataclass(frozen=True)
class SessionTicket(Extension):
    extension_type = ExtensionType.session_ticket
    ticket: bytes = b""

    def encode_body(self) -> bytes:
        return self.ticket

    @classmethod
    def decode_body(cls, r: Reader, context: int) -> SessionTicket:
        return cls(r.rest("ticket"))


# RFC 8446 §4.2.9   struct { PskKeyExchangeMode ke_modes<1..255>; } PskKeyExchangeModes;
@dataclass(frozen=True)
class PskKeyExchangeModes(Extension):
    extension_type = ExtensionType.psk_key_exchange_modes
    ke_modes: tuple[int, ...] = (PskKeyExchangeMode.psk_dhe_ke,)

    def encode_body(self) -> bytes:
        w = Writer()
        w.uint_list(1, 1, self.ke_modes, "ke_modes", 1)
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, context: int) -> PskKeyExchangeModes:
        return cls(r.uint_list(1, 1, "ke_modes", PskKeyExchangeMode, 1))


# RFC 8446 §4.2.11
#   struct { opaque identity<1..2^16-1>; uint32 obfuscated_ticket_age; } PskIdentity;
#   opaque PskBinderEntry<32..255>;
#   struct { PskIdentity identities<7..2^16-1>; PskBinderEntry binders<33..2^16-1>; } OfferedPsks;
@dataclass(frozen=True)
class PskIdentity:
    identity: bytes
    obfuscated_ticket_age: int


@dataclass(frozen=True)
class OfferedPsks(Extension):
    extension_type = ExtensionType.pre_shared_key
    identities: tuple[PskIdentity, ...]
    binders: tuple[bytes, ...]

    def encode_body(self) -> bytes:
        return self.encode_identities() + self.encode_binders()

    def encode_identities(self) -> bytes:
        w = Writer()
        with w.block(2, "identities", 7):
            for ident in self.identities:
                w.opaque(2, ident.identity, "identity", 1)
                w.u32(ident.obfuscated_ticket_age, "obfuscated_ticket_age")
        return w.getvalue()

    def encode_binders(self) -> bytes:
        """The binders list: the part of the ClientHello a PSK binder does not cover."""
        w = Writer()
        with w.block(2, "binders", 33):
            for binder in self.binders:
                w.opaque(1, binder, "PskBinderEntry", 32, 255)
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, context: int) -> OfferedPsks:
        identities: list[PskIdentity] = []
        with r.block(2, "identities", 7) as b:
            while not b.at_end():
                ident = b.opaque(2, "identity", 1)
                identities.append(PskIdentity(ident, b.u32("obfuscated_ticket_age")))
        binders: list[bytes] = []
        with r.block(2, "binders", 33) as b:
            while not b.at_end():
                binders.append(b.opaque(1, "PskBinderEntry", 32, 255))
        if len(binders) != len(identities):
            raise IllegalParameter(
                "pre_shared_key: one binder per identity",
                expected=len(identities),
                seen=len(binders),
            )
        return cls(tuple(identities), tuple(binders))


#   case server_hello: uint16 selected_identity;
@dataclass(frozen=True)
class PreSharedKeyServer(Extension):
    extension_type = ExtensionType.pre_shared_key
    selected_identity: int = 0

    def encode_body(self) -> bytes:
        return self.selected_identity.to_bytes(2, "big")

    @classmethod
    def decode_body(cls, r: Reader, context: int) -> PreSharedKeyServer:
        return cls(r.u16("selected_identity"))


# RFC 8446 §4.2.10: empty in ClientHello/EncryptedExtensions;
#   in NewSessionTicket: uint32 max_early_data_size.
@dataclass(frozen=True)
class EarlyDataIndication(Extension):
    extension_type = ExtensionType.early_data
    max_early_data_size: int | None = None

    def encode_body(self) -> bytes:
        if self.max_early_data_size is None:
            return b""
        return self.max_early_data_size.to_bytes(4, "big")

    @classmethod
    def decode_body(cls, r: Reader, context: int) -> EarlyDataIndication:
        if context == NST:
            return cls(r.u32("max_early_data_size"))
        return cls()


# RFC 8446 §4.2.2   struct { opaque cookie<1..2^16-1>; } Cookie;
@dataclass(frozen=True)
class Cookie(Extension):
    extension_type = ExtensionType.cookie
    cookie: bytes

    def encode_body(self) -> bytes:
        w = Writer()
        w.opaque(2, self.cookie, "cookie", 1)
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, context: int) -> Cookie:
        return cls(r.opaque(2, "cookie", 1))


# RFC 8449 §4   uint16 RecordSizeLimit;  (64 at least)
@dataclass(frozen=True)
class RecordSizeLimit(Extension):
    extension_type = ExtensionType.record_size_limit
    record_size_limit: int = 2**14 + 1

    def encode_body(self) -> bytes:
        return self.record_size_limit.to_bytes(2, "big")

    @classmethod
    def decode_body(cls, r: Reader, context: int) -> RecordSizeLimit:
        limit = r.u16("RecordSizeLimit")
        if limit < 64:
            raise IllegalParameter("record_size_limit below 64", expected=">= 64", seen=limit)
        return cls(limit)


# RFC 7685 §3: zero bytes, only to change the ClientHello's length.
@dataclass(frozen=True)
class Padding(Extension):
    extension_type = ExtensionType.padding
    padding: bytes = b""

    def encode_body(self) -> bytes:
        return self.padding

    @classmethod
    def decode_body(cls, r: Reader, context: int) -> Padding:
        return cls(r.rest("zero bytes"))


# RFC 6066 §8
#   struct { CertificateStatusType status_type; select (status_type) {
#       case ocsp: OCSPStatusRequest; } request; } CertificateStatusRequest;
#   struct { ResponderID responder_id_list<0..2^16-1>; Extensions request_extensions; } OCSPStatusRequest;
# Empty in a TLS 1.2 ServerHello; in a TLS 1.3 CertificateEntry it is a CertificateStatus.
@dataclass(frozen=True)
class StatusRequest(Extension):
    extension_type = ExtensionType.status_request
    status_type: int | None = CertificateStatusType.ocsp
    responder_id_list: bytes = b""
    request_extensions: bytes = b""

    def encode_body(self) -> bytes:
        if self.status_type is None:
            return b""
        w = Writer()
        w.u8(self.status_type, "status_type")
        w.opaque(2, self.responder_id_list, "responder_id_list")
        w.opaque(2, self.request_extensions, "request_extensions")
        return w.getvalue()

    @classmethod
    def decode_body(cls, r: Reader, context: int) -> StatusRequest:
        if r.at_end() and context != CH:
            return cls(None)
        status_type = r.u8("status_type", CertificateStatusType)
        if status_type != CertificateStatusType.ocsp:
            raise IllegalParameter(
                "status_request: unknown status_type", expected=1, seen=status_type
            )
        responders = r.opaque(2, "responder_id_list")
        return cls(status_type, responders, r.opaque(2, "request_extensions"))


_SIMPLE: dict[int, type[Extension]] = {
    ExtensionType.server_name: ServerName,
    ExtensionType.supported_groups: SupportedGroups,
    ExtensionType.signature_algorithms: SignatureAlgorithms,
    ExtensionType.signature_algorithms_cert: SignatureAlgorithmsCert,
    ExtensionType.application_layer_protocol_negotiation: ApplicationLayerProtocolNegotiation,
    ExtensionType.ec_point_formats: ECPointFormats,
    ExtensionType.extended_master_secret: ExtendedMasterSecret,
    ExtensionType.encrypt_then_mac: EncryptThenMac,
    ExtensionType.post_handshake_auth: PostHandshakeAuth,
    ExtensionType.renegotiation_info: RenegotiationInfo,
    ExtensionType.session_ticket: SessionTicket,
    ExtensionType.psk_key_exchange_modes: PskKeyExchangeModes,
    ExtensionType.early_data: EarlyDataIndication,
    ExtensionType.cookie: Cookie,
    ExtensionType.record_size_limit: RecordSizeLimit,
    ExtensionType.padding: Padding,
}

# Extensions whose body depends on the carrying message.
_BY_CONTEXT: dict[tuple[int, int], type[Extension]] = {
    (ExtensionType.supported_versions, CH): SupportedVersionsClient,
    (ExtensionType.supported_versions, SH): SupportedVersionsServer,
    (ExtensionType.supported_versions, HRR): SupportedVersionsServer,
    (ExtensionType.key_share, CH): KeyShareClientHello,
    (ExtensionType.key_share, SH): KeyShareServerHello,
    (ExtensionType.key_share, HRR): KeyShareHelloRetryRequest,
    (ExtensionType.pre_shared_key, CH): OfferedPsks,
    (ExtensionType.pre_shared_key, SH): PreSharedKeyServer,
    (ExtensionType.status_request, CH): StatusRequest,
    (ExtensionType.status_request, SH): StatusRequest,
    (ExtensionType.status_request, CR): StatusRequest,
}


_NAMES = members(ExtensionType)
# Every code point some message decodes into a class; any other is kept as raw bytes.
_MODELLED = frozenset(_SIMPLE) | {code for code, _ in _BY_CONTEXT}


def extension_class(code: int, context: int) -> type[Extension] | None:
    """The class that decodes extension ``code`` inside a ``context`` message, if modelled."""
    return _BY_CONTEXT.get((code, context)) or _SIMPLE.get(code)


def decode_extension(r: Reader, context: int) -> Extension:
    """Read one ``Extension`` struct."""
    code = r.u16("extension_type", ExtensionType)
    with r.block(2, "extension_data") as b:
        cls = extension_class(code, context)
        if cls is None:
            return UnknownExtension(lookup(ExtensionType, code), b.rest("extension_data"))
        return cls.decode_body(b, context)


# Extensions that mean something only in TLS 1.2 and below (RFC 8446 §4.2 lists none of them).
# A ClientHello that offers both versions carries them; a server that negotiates TLS 1.3
# ignores them, bodies unread, as OpenSSL does (its SSL_EXT_TLS1_2_AND_BELOW_ONLY), so in a
# ClientHello their bodies are decoded only when a TLS 1.2 handshake asks for them.
TLS12_ONLY = frozenset(
    {
        ExtensionType.ec_point_formats,
        ExtensionType.session_ticket,
        ExtensionType.encrypt_then_mac,
        ExtensionType.extended_master_secret,
        ExtensionType.renegotiation_info,
    }
)


class ExtensionBlock:
    """A decoded ``Extension extensions<..>`` block whose bodies are read when needed.

    Decoding cut the block into (type, body) pairs and refused duplicates; the bodies of
    the extensions tlslab models were decoded at once (so a malformed key_share is a
    decode_error right away), except a ClientHello's :data:`TLS12_ONLY` ones. Unknown
    extensions stay raw bytes: :meth:`get` finds one extension, :meth:`all` builds the
    whole tuple (what a message's ``extensions`` field holds once it is read).
    """

    __slots__ = ("_reader", "_entries", "_context", "_decoded", "_where", "_indexed")

    def __init__(self, reader: Reader, entries: list[tuple[int, int, int]], context: int) -> None:
        self._reader = reader  # the block's Reader: its data, and its name for errors
        self._entries = entries  # (type, body start, body end) in wire order
        self._context = context
        self._decoded: dict[int, Extension] = {}
        codes = [code for code, _, _ in entries]
        if len(set(codes)) != len(codes):
            _refuse_duplicate(codes)
        # Where each modelled extension is (a few dozen at most); others are looked up only
        # if someone asks for one.
        self._where = {code: codes.index(code) for code in _MODELLED.intersection(codes)}
        self._indexed = False

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"<ExtensionBlock of {len(self._entries)} extensions, {len(self._decoded)} decoded>"

    def _decode(self, index: int) -> Extension:
        code, start, end = self._entries[index]
        ext = self._decoded.get(code)
        if ext is not None:
            return ext
        cls = extension_class(code, self._context)
        if cls is None:
            ext = UnknownExtension(lookup(ExtensionType, code), self._reader.data[start:end])
        else:
            body = self._reader.sub("extension_data", start, end)
            ext = cls.decode_body(body, self._context)
            body.expect_end()
        self._decoded[code] = ext
        return ext

    def decode_modelled(self, skip: frozenset[int]) -> None:
        """Decode the bodies of the modelled extensions but ``skip``, in wire order."""
        for index in sorted(i for code, i in self._where.items() if code not in skip):
            self._decode(index)

    def get(self, code: int) -> Extension | None:
        """The extension of type ``code``, its body decoded now if it was not yet; or None."""
        ext = self._decoded.get(code)
        if ext is not None:
            return ext
        if code not in _MODELLED and not self._indexed:
            self._where = {kind: i for i, (kind, _, _) in enumerate(self._entries)}
            self._indexed = True
        index = self._where.get(code)
        return None if index is None else self._decode(index)

    def all(self) -> tuple[Extension, ...]:
        """Every extension, in wire order (a malformed body is its decode_error now)."""
        return tuple([self._decode(i) for i in range(len(self._entries))])


def decode_extensions(r: Reader, context: int, floor: int = 0) -> tuple[Extension, ...]:
    """``Extension extensions<floor..2^16-1>``; duplicates are illegal_parameter (RFC 8446 §4.2)."""
    with r.block(2, "extensions", floor) as b:
        if b.annotating:
            return _decode_annotated(b, context)
        return _decode_block(b, context).all()


def decode_extension_block(
    r: Reader, context: int, floor: int = 0
) -> ExtensionBlock | tuple[Extension, ...]:
    """The same, bodies left to read on demand (see :class:`ExtensionBlock`); a plain tuple
    when annotating for explain(), which shows every byte."""
    with r.block(2, "extensions", floor) as b:
        if b.annotating:
            return _decode_annotated(b, context)
        return _decode_block(b, context)


def _decode_block(b: Reader, context: int) -> ExtensionBlock:
    # One pass cuts the block into (type, body) pairs; the duplicate check is a set of the
    # types; only the (at most a few dozen) modelled bodies are decoded, in wire order.
    # Thousands of junk extensions cost that one pass and nothing more.
    block = ExtensionBlock(b, b.tagged_entries("extensions"), context)
    block.decode_modelled(skip=TLS12_ONLY if context == CH else frozenset())
    return block


def _refuse_duplicate(codes: list[int]) -> None:
    seen: set[int] = set()
    for code in codes:
        if code in seen:
            raise IllegalParameter(
                "duplicate extension in one block",
                expected="each extension type at most once",
                seen=describe(ExtensionType, code),
            )
        seen.add(code)


def _decode_annotated(b: Reader, context: int) -> tuple[Extension, ...]:
    """The same, one extension at a time, each under a heading note (for explain())."""
    out: list[Extension] = []
    seen: set[int] = set()
    while not b.at_end():
        title = f"extensions[{len(out)}]"
        if b.remaining >= 2:
            code = int.from_bytes(b.peek(2), "big")
            title += f" {_NAMES[code].name if code in _NAMES else describe(ExtensionType, code)}"
        with b.section(title):
            ext = decode_extension(b, context)
        if ext.type_code in seen:
            raise IllegalParameter(
                "duplicate extension in one block",
                expected="each extension type at most once",
                seen=describe(ExtensionType, ext.type_code),
            )
        seen.add(ext.type_code)
        out.append(ext)
    return tuple(out)


def encode_extensions(w: Writer, extensions: tuple[Extension, ...], floor: int = 0) -> None:
    with w.block(2, "extensions", floor):
        for ext in extensions:
            w.raw(ext.encode())


def find(extensions: tuple[Extension, ...], code: int) -> Extension | None:
    """The extension of type ``code`` in a block, or None."""
    for ext in extensions:
        if ext.type_code == code:
            return ext
    return None
