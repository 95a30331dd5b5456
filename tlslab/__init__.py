"""tlslab: the TLS handshake, one explicit stage at a time.

Every stage of a TLS 1.2 and TLS 1.3 handshake is a readable function named as
in the RFCs (RFC 8446, RFC 5246, RFC 7627). The notebooks in ``notebooks/`` walk
through them on real bytes. Importing tlslab is cheap: the plotting and widget
helpers (``tlslab.lab``: viz, widgets, exercises) are imported only by notebooks.
"""

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
from .rng import seeded_rng, system_rng
from .stages.hello import build_client_hello
from .stages.keyexchange import KeyShare, generate_key_share
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

__version__ = "0.1.0"

# The engine and the heavier stages load on first use (PEP 562), so `import tlslab` stays cheap.
_LAZY = {
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

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'tlslab' has no attribute {name!r}")


__all__ = [
    *_LAZY,
    "AlertDescription",
    "AlertError",
    "BadRecordMac",
    "Certificate12",
    "Certificate13",
    "CertificateVerify",
    "CipherSuite",
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
    "KeyShare",
    "NamedGroup",
    "ProtocolVersion",
    "RecordReader",
    "RemoteAlert",
    "ServerHello",
    "SignatureScheme",
    "TLSError",
    "TLSPlaintext",
    "build_client_hello",
    "decode_handshake",
    "explain",
    "fragment",
    "generate_key_share",
    "seeded_rng",
    "system_rng",
]
