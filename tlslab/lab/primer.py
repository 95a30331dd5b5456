"""The cryptography primer of notebook 00a_crypto_primer: pyca/cryptography's own classes, and
two pictures.

The names below are re-exported *unchanged* from pyca/cryptography (``AESGCM is
cryptography.hazmat.primitives.ciphers.aead.AESGCM``), so that notebooks import only tlslab and a
learner still calls the real library; in your own code, import them from ``cryptography``.
tlslab never implements a primitive itself (README, "The bar").
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand

from .alt_text import describe

__all__ = [
    "AESGCM",
    "HKDF",
    "ChaCha20Poly1305",
    "HKDFExpand",
    "InvalidSignature",
    "InvalidTag",
    "ec",
    "ed25519",
    "hashes",
    "hmac",
    "padding",
    "plot_bit_flips",
    "plot_nonce_reuse",
    "rsa",
    "sha256_bits_changed",
    "x25519",
]


def _sha256(data: bytes) -> bytes:
    h = hashes.Hash(hashes.SHA256())
    h.update(data)
    return h.finalize()


def sha256_bits_changed(message: bytes) -> list[int]:
    """For every bit of ``message``: how many of SHA-256's 256 output bits change when only that
    bit is flipped (the avalanche effect, notebook 00a)."""
    base = int.from_bytes(_sha256(message), "big")
    out = []
    for bit in range(len(message) * 8):
        flipped = bytearray(message)
        flipped[bit // 8] ^= 0x80 >> (bit % 8)
        out.append(bin(base ^ int.from_bytes(_sha256(bytes(flipped)), "big")).count("1"))
    return out


def plot_bit_flips(message: bytes, *, ax: Any = None) -> Any:
    """Histogram of :func:`sha256_bits_changed`: every single-bit change flips about half the digest."""
    changed = sha256_bits_changed(message)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3))
    ax.hist(changed, bins=range(min(changed) - 2, max(changed) + 3), color="#4e79a7")
    ax.axvline(128, color="#e15759", linestyle="--", label="128 = half of 256")
    ax.set_xlabel("output bits of SHA-256 that changed")
    ax.set_ylabel("input bits flipped")
    ax.set_title(f"Flip any one of the {len(changed)} input bits: about half the digest changes")
    ax.legend(loc="upper right")
    return describe(
        ax,
        f"Histogram: for each of the {len(changed)} input bits flipped one at a time, how many of "
        f"SHA-256's 256 output bits changed. The counts range from {min(changed)} to "
        f"{max(changed)} and cluster around the dashed line at 128, half of the digest.",
    )


def plot_nonce_reuse(
    known: bytes, first: bytes, second: bytes, secret: bytes | None = None, *, ax: Any = None
) -> Any:
    """Bytes as coloured cells: two ciphertexts under one (key, nonce), their XOR, and the known
    plaintext's XOR with it. Rows that are equal look equal: c1 XOR c2 is p1 XOR p2."""
    n = len(known)
    rows = [
        ("c1 (ciphertext 1)", first[:n]),
        ("c2 (ciphertext 2)", second[:n]),
        ("c1 XOR c2", bytes(a ^ b for a, b in zip(first, second, strict=False))),
    ]
    if secret is not None:
        rows.append(("p1 XOR p2", bytes(a ^ b for a, b in zip(known, secret, strict=False))))
    rows.append(
        (
            "c1 XOR c2 XOR p1",
            bytes(a ^ b ^ p for a, b, p in zip(first, second, known, strict=False)),
        )
    )
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 0.55 * len(rows) + 1))
    grid = [list(r[:n]) for _, r in rows]
    image = ax.imshow(grid, aspect="auto", cmap="viridis", vmin=0, vmax=255)
    ax.figure.colorbar(image, ax=ax, label="byte value", fraction=0.03, pad=0.01)
    ax.set_yticks(range(len(rows)), [label for label, _ in rows])
    ax.set_xlabel("byte position")
    for y, (_, data) in enumerate(rows):
        for x, value in enumerate(data[:n]):
            text = chr(value) if 32 <= value < 127 and y == len(rows) - 1 else ""
            if text:
                ax.text(x, y, text, ha="center", va="center", color="white", fontsize=8)
    ax.set_title(
        "Same key, same nonce: the keystream cancels, and the known plaintext unlocks the other"
    )
    recovered = bytes(a ^ b ^ p for a, b, p in zip(first, second, known, strict=False))
    return describe(
        ax,
        f"Rows of {n} coloured byte cells: {', '.join(label for label, _ in rows)}. "
        "c1 XOR c2 equals p1 XOR p2, and the last row, c1 XOR c2 XOR the known plaintext, "
        f"spells the other message: {recovered.decode('ascii', 'replace')!r}.",
    )
