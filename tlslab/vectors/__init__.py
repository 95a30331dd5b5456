"""Published test vectors shipped with tlslab, shared by the tests and the notebooks.

- ``rfc8448_simple_1rtt.json``: RFC 8448 §3, "Simple 1-RTT Handshake" (every message, secret,
  key and record), pasted from the RFC; see its ``source`` field.
- ``tls12_prf.json``: TLS 1.2 PRF known answers (IETF TLS WG list), RFC 7627 extended master
  secret vectors (NIST ACVP), and the "Illustrated TLS 1.2 Connection" trace (MIT licensed).

- ``loopback.pcap`` and ``loopback_keys.log``: a real capture (tcpdump on 127.0.0.1) of an OpenSSL
  client talking to an OpenSSL server, TLS 1.3 then TLS 1.2, and the client's SSLKEYLOGFILE;
  made by ``tools/make_sample_capture.py`` and opened in notebook 15 (:func:`sample_capture`).

Load with :func:`load`; values are hex strings, as in the sources.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any


@cache
def load(name: str) -> dict[str, Any]:
    """Load a vector file by name (with or without ``.json``)."""
    filename = name if name.endswith(".json") else f"{name}.json"
    data: dict[str, Any] = json.loads(resources.files(__name__).joinpath(filename).read_text())
    return data


def rfc8448() -> dict[str, Any]:
    """RFC 8448 §3, the simple 1-RTT handshake."""
    return load("rfc8448_simple_1rtt")


def tls12() -> dict[str, Any]:
    """TLS 1.2 PRF, RFC 7627 and Illustrated TLS 1.2 vectors."""
    return load("tls12_prf")


def sample_capture() -> tuple[Path, Path]:
    """(capture, key log): the shipped loopback capture and its key log, as file paths."""
    folder = Path(str(resources.files(__name__)))
    return folder / "loopback.pcap", folder / "loopback_keys.log"
