"""Post-quantum pictures, a widget and an exercise for notebook 10_post_quantum.

- :func:`share_sizes`, :func:`plot_share_sizes`: every group's client and server key share,
  measured on freshly generated shares (real bytes, not a table).
- :func:`plot_segments`: how TCP cut a first flight (from :func:`tlslab.net.segments.send_over_loopback`).
- :func:`certificate_sizes`, :func:`plot_certificate_sizes`: ECDSA against ML-DSA chains.
- :func:`pq_lab`: pick the group and the certificate type, watch bytes and time change.
- :func:`hybrid_secret_exercise`: combine an X25519MLKEM768 secret by hand, with a checker that
  names the mistake (wrong order, a missing part, the wrong half of the share).
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

import matplotlib.pyplot as plt

from ..constants import NamedGroup
from ..engine.client import ClientConfig, TLSClient
from ..engine.memory import handshake_in_memory
from ..engine.server import ServerIdentity, TLSServer
from ..pki.certificates import LAB_NOW, Chain, build_chain
from ..rng import seeded_rng
from ..stages.keyexchange import KeyShare, generate_key_share, server_key_share
from ..stages.negotiation import ServerConfig
from .alt_text import describe
from .exercises import Exercise, Finding

SIZE_GROUPS = (
    NamedGroup.x25519,
    NamedGroup.secp256r1,
    NamedGroup.secp384r1,
    NamedGroup.ffdhe2048,
    NamedGroup.MLKEM768,
    NamedGroup.X25519MLKEM768,
    NamedGroup.SecP256r1MLKEM768,
    NamedGroup.SecP384r1MLKEM1024,
    NamedGroup.MLKEM1024,
)
ETHERNET_MSS = 1460


def share_sizes(groups: tuple[int, ...] = SIZE_GROUPS) -> dict[str, tuple[int, int]]:
    """{group name: (client share bytes, server share bytes)}, from real shares."""
    out = {}
    for group in groups:
        client = generate_key_share(group, seeded_rng(f"sizes {group}"))
        server, _ = server_key_share(group, client.public, seeded_rng(f"server {group}"))
        out[NamedGroup(group).name] = (len(client.public), len(server.public))
    return out


def plot_share_sizes(*, ax: Any = None) -> Any:
    """Horizontal bars: each group's client and server share, with one Ethernet segment marked."""
    sizes = share_sizes()
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.2))
    names = list(sizes)
    rows = range(len(names))
    ax.barh([r + 0.2 for r in rows], [sizes[n][0] for n in names], 0.4, label="client share")
    ax.barh([r - 0.2 for r in rows], [sizes[n][1] for n in names], 0.4, label="server share")
    for r, name in zip(rows, names, strict=True):
        ax.text(sizes[name][0] + 15, r + 0.2, str(sizes[name][0]), va="center", fontsize=8)
    ax.axvline(ETHERNET_MSS, color="#e15759", ls="--", lw=1.2)
    ax.text(ETHERNET_MSS - 10, -0.75, "one Ethernet TCP segment: 1,460 B", fontsize=8, ha="right")
    ax.set_yticks(list(rows), names)
    ax.set_ylim(len(names) - 0.4, -1.1)
    ax.set_xlim(0, 1950)
    ax.set_xlabel("bytes in the key_share extension entry")
    ax.set_title("Key share sizes: classical (top) and post-quantum (bottom)")
    ax.legend(loc="center right", fontsize=8)
    bars = "; ".join(f"{n}: client {c}, server {s}" for n, (c, s) in sizes.items())
    return describe(
        ax,
        "Horizontal bars of key share sizes in bytes, with one Ethernet TCP segment (1,460 bytes) "
        f"marked. {bars}.",
    )


def plot_segments(capture: Any, *, label: str = "ClientHello", ax: Any = None) -> Any:
    """The bytes of one send as TCP segments (captured, or as the kernel counted them)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 1.8))
    if capture.segments:
        spans = [(s.offset, len(s.payload)) for s in capture.segments]
    else:  # no capture permitted: cut at the MSS the kernel reported, and say so
        spans = [
            (o, min(capture.mss, capture.data_length - o))
            for o in range(0, capture.data_length, capture.mss)
        ]
    colours = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759"]
    for i, (offset, length) in enumerate(spans):
        ax.broken_barh([(offset, length)], (0, 1), color=colours[i % len(colours)])
        wide = length > 0.15 * capture.data_length
        ax.text(
            offset + length / 2,
            0.5 if wide else 1.15,
            f"segment {i + 1}: {length} B",
            ha="center",
            va="center" if wide else "bottom",
            fontsize=8,
            color="white" if wide else "black",
        )
    ax.set_xlim(0, max(capture.data_length, 1))
    ax.set_yticks([])
    ax.set_ylim(0, 1.6)
    ax.set_xlabel(f"byte offset in the {label} ({capture.data_length} bytes, MSS {capture.mss})")
    source = "captured on lo" if capture.captured else "cut at the kernel's MSS (no capture)"
    ax.set_title(f"{label} as TCP segments: {source}")
    cut = ", ".join(f"{length} bytes at offset {offset}" for offset, length in spans)
    return describe(
        ax,
        f"The {capture.data_length}-byte {label} as {len(spans)} TCP segment(s), {source}: {cut}.",
    )


@cache
def _chain(key_type: str) -> Chain:
    return build_chain("lab.example", key_type=key_type, seed="pq lab", now=LAB_NOW)


def certificate_sizes(
    key_types: tuple[str, ...] = ("ecdsa-p256", "mldsa44", "mldsa65", "mldsa87"),
) -> dict[str, dict[str, int]]:
    """Per key type: leaf certificate, whole served chain, public key and one signature, in bytes."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from ..stages.signatures import default_scheme, sign

    out: dict[str, dict[str, int]] = {}
    for key_type in key_types:
        chain = _chain(key_type)
        key = chain.leaf.private_key
        public = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        out[key_type] = {
            "leaf certificate": len(chain.leaf.der),
            "chain sent (leaf + intermediate)": sum(len(c) for c in chain.served()),
            "public key (SPKI)": len(public),
            "CertificateVerify signature": len(sign(key, default_scheme(key), b"x" * 32)),
        }
    return out


def plot_certificate_sizes(*, ax: Any = None) -> Any:
    """Grouped bars: what an ECDSA and the three ML-DSA chains cost on the wire."""
    sizes = certificate_sizes()
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.8))
    fields = list(next(iter(sizes.values())))
    width = 0.8 / len(sizes)
    for i, (key_type, row) in enumerate(sizes.items()):
        xs = [f + i * width for f in range(len(fields))]
        ax.bar(xs, [row[f] for f in fields], width, label=key_type)
        for x, f in zip(xs, fields, strict=True):
            ax.text(x, row[f] + 150, f"{row[f]:,}", ha="center", fontsize=7, rotation=90)
    ax.set_xticks([f + 0.4 - width / 2 for f in range(len(fields))], fields, fontsize=8)
    ax.set_ylabel("bytes")
    ax.set_ylim(0, max(max(r.values()) for r in sizes.values()) * 1.25)
    ax.set_title("ECDSA P-256 against ML-DSA: certificates and signatures")
    ax.legend(fontsize=8)
    groups = "; ".join(
        f"{key_type}: " + ", ".join(f"{f} {row[f]:,}" for f in fields)
        for key_type, row in sizes.items()
    )
    return describe(ax, f"Grouped bars of sizes in bytes. {groups}.")


@dataclass(frozen=True)
class HandshakeCost:
    """Bytes per flight and CPU time of one in-memory TLS 1.3 handshake."""

    group: str
    certificate: str
    flights: tuple[tuple[str, int], ...]
    milliseconds: float
    hello_retry_request: bool

    @property
    def total_bytes(self) -> int:
        return sum(n for _, n in self.flights)


def handshake_cost(
    group: int, key_type: str, *, classical_share_only: bool = False
) -> HandshakeCost:
    """Run one in-memory handshake with ``group`` and a ``key_type`` chain; measure it."""
    chain = _chain(key_type)
    shares = (NamedGroup.x25519,) if classical_share_only else (group,)
    groups = tuple(dict.fromkeys((*shares, group)))
    client = TLSClient(
        ClientConfig(
            server_name="lab.example",
            trust_roots=(chain.root.certificate,),
            now=LAB_NOW,
            groups=groups,
            key_share_groups=shares,
        ),
        seeded_rng("pq lab client"),
    )
    server = TLSServer(
        ServerConfig(groups=(group,), certificate_key=key_type),
        ServerIdentity.from_chain(chain),
        seeded_rng("pq lab server"),
    )
    start = time.process_time()
    result = handshake_in_memory(client, server)
    elapsed = (time.process_time() - start) * 1e3
    if not result.completed:
        raise RuntimeError(f"handshake failed: {result.error}")
    flights = tuple((f.sender, len(f.data)) for f in result.flights)
    return HandshakeCost(NamedGroup(group).name, key_type, flights, elapsed, bool(client._retried))


class PostQuantumLab:
    """Pick a group and a certificate type: an in-memory handshake runs and shows its cost."""

    def __init__(self) -> None:
        import ipywidgets as W

        self.group = W.Dropdown(
            options=[(NamedGroup(g).name, g) for g in SIZE_GROUPS if g != NamedGroup.ffdhe2048],
            value=NamedGroup.X25519MLKEM768,
            description="group",
        )
        self.certificate = W.Dropdown(
            options=["ecdsa-p256", "mldsa44", "mldsa65", "mldsa87"], description="certificate"
        )
        self.retry = W.Checkbox(value=False, description="client sends only an X25519 share")
        self.output = W.HTML()
        for control in (self.group, self.certificate, self.retry):
            control.observe(self._update, names="value")
        self.widget = W.VBox([W.HBox([self.group, self.certificate]), self.retry, self.output])
        self._update()

    def _update(self, *_: Any) -> None:
        cost = handshake_cost(
            self.group.value, self.certificate.value, classical_share_only=self.retry.value
        )
        self.cost = cost
        rows = "".join(
            f"<tr><td>{i + 1}</td><td>{html.escape(sender)}</td><td style='text-align:right'>{n:,}</td>"
            f"<td><div style='background:#4e79a7;height:10px;width:{max(1, n // 60)}px'></div></td></tr>"
            for i, (sender, n) in enumerate(cost.flights)
        )
        retry = " (with a HelloRetryRequest)" if cost.hello_retry_request else ""
        self.output.value = (
            f"<b>{html.escape(cost.group)}</b> + <b>{html.escape(cost.certificate)}</b>{retry}: "
            f"{cost.total_bytes:,} bytes in {len(cost.flights)} flights, "
            f"{cost.milliseconds:.1f} ms of CPU for both sides"
            "<table><tr><th>flight</th><th>from</th><th>bytes</th><th></th></tr>"
            + rows
            + "</table>"
        )


def pq_lab() -> PostQuantumLab:
    """The widget of notebook 10: group and certificate type in, bytes and time out."""
    return PostQuantumLab()


# -- exercise --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HybridPuzzle:
    """What the learner gets: the client's key share (private halves included) and the server's
    share bytes. The expected secret stays inside the checker."""

    client: KeyShare
    server_share: bytes


def hybrid_secret_exercise(seed: str = "exercise") -> tuple[Exercise, HybridPuzzle]:
    """Combine the X25519MLKEM768 shared secret by hand (draft-ietf-tls-ecdhe-mlkem §3)."""
    group = NamedGroup.X25519MLKEM768
    client = generate_key_share(group, seeded_rng(seed))
    answer, secret = server_key_share(group, client.public, seeded_rng(seed + " server"))
    mlkem_part, x25519_part = secret[:32], secret[32:]

    def check(value: Any) -> list[Finding]:
        if not isinstance(value, (bytes, bytearray)):
            return [Finding("answer", f"expected bytes, got {type(value).__name__}")]
        value = bytes(value)
        if value == secret:
            return []
        if value == x25519_part + mlkem_part:
            return [
                Finding(
                    "order",
                    "both parts are right but swapped: for X25519MLKEM768 the ML-KEM secret comes first",
                )
            ]
        if value in (mlkem_part, x25519_part):
            which = "ML-KEM" if value == mlkem_part else "X25519"
            return [
                Finding(
                    "length",
                    f"that is only the {which} secret (32 bytes): the hybrid secret is both, 64 bytes",
                )
            ]
        if len(value) != 64:
            return [Finding("length", f"the hybrid secret is 64 bytes (32 + 32), not {len(value)}")]
        findings = []
        if value[:32] != mlkem_part:
            findings.append(
                Finding(
                    "first 32 bytes",
                    "not the ML-KEM secret: decapsulate the first 1,088 bytes of the server share with the client's ML-KEM key",
                )
            )
        if value[32:] != x25519_part:
            findings.append(
                Finding(
                    "last 32 bytes",
                    "not the X25519 secret: exchange the client's X25519 key with the last 32 bytes of the server share",
                )
            )
        return findings

    exercise = Exercise(
        "hybrid secret",
        "Compute the X25519MLKEM768 shared secret from puzzle.client (its private_key holds the "
        "ML-KEM decapsulation key and the X25519 KeyShare, in wire order) and puzzle.server_share "
        "(1,088-byte ML-KEM ciphertext, then a 32-byte X25519 key). Use mlkem_decapsulate and "
        "KeyShare.exchange; do not call puzzle.client.exchange on the whole share.",
        check,
        hints=(
            "Split the server share at byte 1,088.",
            "secret = ML-KEM secret || X25519 secret, in that order for this group.",
        ),
        praise="Correct: ML-KEM secret first, then X25519, exactly as the client's handshake computes it.",
    )
    return exercise, HybridPuzzle(client, answer.public)
