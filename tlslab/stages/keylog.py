"""The NSS key-log format (the SSLKEYLOGFILE that Wireshark, OpenSSL and browsers share).

One line per secret: ``<LABEL> <client_random hex> <secret hex>``. TLS 1.2 writes
``CLIENT_RANDOM`` with the master secret; TLS 1.3 writes one line per traffic secret.
With these lines and a capture of the bytes, anyone (Wireshark, or tlslab itself in
notebook 07) can decrypt the session. That is why a key log must be kept secret.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from ..errors import DecodeError

TLS12_LABELS = ("CLIENT_RANDOM",)
TLS13_LABELS = (
    "CLIENT_EARLY_TRAFFIC_SECRET",
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
    "EXPORTER_SECRET",
)
LABELS = TLS12_LABELS + TLS13_LABELS


def keylog_line(label: str, client_random: bytes, secret: bytes) -> str:
    """One NSS key-log line."""
    if label not in LABELS:
        raise ValueError(f"unknown key-log label {label!r}; known: {', '.join(LABELS)}")
    if len(client_random) != 32:
        raise ValueError("client_random must be 32 bytes")
    return f"{label} {client_random.hex()} {secret.hex()}"


class KeyLog:
    """Secrets by client random, then by label: ``keylog[client_random]["CLIENT_RANDOM"]``."""

    def __init__(self) -> None:
        self.entries: dict[bytes, dict[str, bytes]] = defaultdict(dict)
        # "RSA <first 8 bytes of the encrypted pre-master secret> <pre-master secret>" lines
        self.rsa_pre_master_secrets: dict[bytes, bytes] = {}

    def add(self, label: str, client_random: bytes, secret: bytes) -> None:
        keylog_line(label, client_random, secret)  # validates
        self.entries[client_random][label] = secret

    def __getitem__(self, client_random: bytes) -> dict[str, bytes]:
        if client_random not in self.entries:
            raise KeyError(f"no secrets logged for client random {client_random.hex()[:16]}...")
        return self.entries[client_random]

    def __contains__(self, client_random: object) -> bool:
        return client_random in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def lines(self) -> list[str]:
        return [
            keylog_line(label, cr, s)
            for cr, secrets in self.entries.items()
            for label, s in secrets.items()
        ]

    def dumps(self) -> str:
        return "".join(line + "\n" for line in self.lines())

    @classmethod
    def parse(cls, text: str | Iterable[str]) -> KeyLog:
        """Read key-log text; comments (#) and blank lines are skipped, bad lines raise DecodeError."""
        log = cls()
        lines = text.splitlines() if isinstance(text, str) else text
        for number, raw in enumerate(lines, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) == 3 and parts[0] == "RSA":
                try:
                    log.rsa_pre_master_secrets[bytes.fromhex(parts[1])] = bytes.fromhex(parts[2])
                except ValueError:
                    raise DecodeError(
                        f"key log line {number} has non-hex fields", seen=line[:60]
                    ) from None
                continue
            if len(parts) != 3 or parts[0] not in LABELS:
                raise DecodeError(
                    f"key log line {number} is not '<LABEL> <client_random> <secret>'",
                    seen=line[:60],
                )
            try:
                client_random, secret = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
            except ValueError:
                raise DecodeError(
                    f"key log line {number} has non-hex fields", seen=line[:60]
                ) from None
            if len(client_random) != 32:
                raise DecodeError(
                    f"key log line {number}: client_random must be 32 bytes",
                    seen=len(client_random),
                )
            log.entries[client_random][parts[0]] = secret
        return log

    def __repr__(self) -> str:
        return f"KeyLog({len(self)} sessions, {len(self.lines())} secrets)"
