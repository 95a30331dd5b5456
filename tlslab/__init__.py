"""tlslab: the TLS handshake, one explicit stage at a time.

Every stage of a TLS 1.2 and TLS 1.3 handshake is a readable function named as
in the RFCs (RFC 8446, RFC 5246, RFC 7627). The notebooks in ``notebooks/`` walk
through them on real bytes. Importing tlslab is cheap: it loads the code points
(``constants``) and the errors; every other name here loads its module when first
used, and the plotting and widget helpers (``tlslab.lab``) only when a notebook asks.
"""

from typing import TYPE_CHECKING

from .constants import (
    AlertDescription,
    CipherSuite,
    ContentType,
    ExtensionType,
    HandshakeType,
    NamedGroup,
    ProtocolVersion,
    SignatureScheme,
)
from .errors import (
    AlertError,
    BadRecordMac,
    DecodeError,
    DecryptError,
    IllegalParameter,
    RemoteAlert,
    TLSError,
)

__version__ = "0.1.0"

# Everything above the ground layer loads on first use (PEP 562), so `import tlslab` stays cheap:
# `tlslab.ClientHello` imports the wire layer, `tlslab.TLSClient` the engine, when first touched.
_LAZY = {
    "seeded_rng": "rng",
    "system_rng": "rng",
    "build_client_hello": "stages.hello",
    "KeyShare": "stages.keyexchange",
    "generate_key_share": "stages.keyexchange",
    "Explanation": "wire.explain",
    "explain": "wire.explain",
    "Certificate12": "wire.messages",
    "Certificate13": "wire.messages",
    "CertificateVerify": "wire.messages",
    "ClientHello": "wire.messages",
    "EncryptedExtensions": "wire.messages",
    "Finished": "wire.messages",
    "ServerHello": "wire.messages",
    "decode_handshake": "wire.messages",
    "HandshakeReassembler": "wire.record",
    "RecordReader": "wire.record",
    "TLSPlaintext": "wire.record",
    "fragment": "wire.record",
    "ClientConfig": "engine.client",
    "TLSClient": "engine.client",
    "TLSServer": "engine.server",
    "ServerIdentity": "engine.server",
    "ServerConfig": "stages.negotiation",
    "negotiate": "stages.negotiation",
    "validate_chain": "pki.validation",
    "build_chain": "pki.certificates",
    "connect": "net.sockets",
    "serve": "net.sockets",
    "decrypt_session": "engine.decrypt",
    "KeyLog": "stages.keylog",
    "handshake_in_memory": "engine.memory",
    "open_capture": "net.capture",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value  # the next access is a plain module attribute
        return value
    raise AttributeError(f"module 'tlslab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from .engine.client import ClientConfig, TLSClient
    from .engine.decrypt import decrypt_session
    from .engine.memory import handshake_in_memory
    from .engine.server import ServerIdentity, TLSServer
    from .net.capture import open_capture
    from .net.sockets import connect, serve
    from .pki.certificates import build_chain
    from .pki.validation import validate_chain
    from .rng import seeded_rng, system_rng
    from .stages.hello import build_client_hello
    from .stages.keyexchange import KeyShare, generate_key_share
    from .stages.keylog import KeyLog
    from .stages.negotiation import ServerConfig, negotiate
    from .wire.explain import Explanation, explain
    from .wire.messages import (
        Certificate12,
        Certificate13,
        CertificateVerify,
        ClientHello,
        EncryptedExtensions,
        Finished,
        ServerHello,
        decode_handshake,
    )
    from .wire.record import HandshakeReassembler, RecordReader, TLSPlaintext, fragment


__all__ = [
    "AlertDescription",
    "AlertError",
    "BadRecordMac",
    "Certificate12",
    "Certificate13",
    "CertificateVerify",
    "CipherSuite",
    "ClientConfig",
    "ClientHello",
    "ContentType",
    "DecodeError",
    "DecryptError",
    "EncryptedExtensions",
    "Explanation",
    "ExtensionType",
    "Finished",
    "HandshakeReassembler",
    "HandshakeType",
    "IllegalParameter",
    "KeyLog",
    "KeyShare",
    "NamedGroup",
    "ProtocolVersion",
    "RecordReader",
    "RemoteAlert",
    "ServerConfig",
    "ServerHello",
    "ServerIdentity",
    "SignatureScheme",
    "TLSClient",
    "TLSError",
    "TLSPlaintext",
    "TLSServer",
    "build_chain",
    "build_client_hello",
    "connect",
    "decode_handshake",
    "decrypt_session",
    "explain",
    "fragment",
    "generate_key_share",
    "handshake_in_memory",
    "negotiate",
    "open_capture",
    "seeded_rng",
    "serve",
    "system_rng",
    "validate_chain",
]
