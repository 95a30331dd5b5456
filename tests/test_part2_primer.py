"""Notebook 00a (crypto primer): the re-exports are pyca/cryptography's own, the avalanche count is
right, and the nonce-reuse checker names each specific mistake."""

from __future__ import annotations

import cryptography.hazmat.primitives.ciphers.aead as aead_module
import pytest

from tlslab.lab import primer
from tlslab.lab.exercises_part2 import nonce_reuse_puzzle


def test_primer_reexports_cryptography_unchanged() -> None:
    assert primer.AESGCM is aead_module.AESGCM
    assert primer.ChaCha20Poly1305 is aead_module.ChaCha20Poly1305
    assert primer.hashes.SHA256().name == "sha256"


def test_bits_changed_counts_a_real_digest_difference() -> None:
    changed = primer.sha256_bits_changed(b"ab")
    assert len(changed) == 16
    assert all(60 < c < 196 for c in changed)  # a single flipped bit never leaves the digest alone
    assert primer.sha256_bits_changed(b"") == []


def _xor(*parts: bytes) -> bytes:
    out = bytearray(parts[0])
    for p in parts[1:]:
        for i, b in enumerate(p[: len(out)]):
            out[i] ^= b
    return bytes(out)


@pytest.fixture(scope="module")
def puzzle():  # type: ignore[no-untyped-def]
    return nonce_reuse_puzzle()


def test_right_answer_passes(puzzle) -> None:  # type: ignore[no-untyped-def]
    n = len(puzzle.known_plaintext)
    answer = _xor(puzzle.first_ciphertext[:n], puzzle.second_ciphertext[:n], puzzle.known_plaintext)
    assert answer == b"The vault code is 4-8-15-16-2342"
    assert puzzle.exercise.check(answer)
    assert puzzle.exercise.check(answer.hex())


@pytest.mark.parametrize(
    ("mistake", "field", "words"),
    [
        ("p1^p2", "known plaintext", "p1 XOR p2"),
        ("with tags", "known plaintext", "tags"),
        ("keystream", "second ciphertext", "keystream"),
        ("known", "answer", "given"),
        ("plus tag", "tag", "16 more"),
        ("short", "length", "32 bytes"),
        ("not bytes", "answer", "expected bytes"),
        ("c2^p1", "first ciphertext", "XOR in c1"),
        ("text", "answer", "right message, as text"),
    ],
)
def test_each_mistake_is_named(puzzle, mistake: str, field: str, words: str) -> None:  # type: ignore[no-untyped-def]
    c1, c2, p1 = puzzle.first_ciphertext, puzzle.second_ciphertext, puzzle.known_plaintext
    n = len(p1)
    right = _xor(c1[:n], c2[:n], p1)
    answer = {
        "p1^p2": _xor(c1[:n], c2[:n]),
        "with tags": _xor(c1, c2),
        "keystream": _xor(c1[:n], p1),
        "known": p1,
        "plus tag": right + c2[n:],
        "short": right[:10],
        "not bytes": 42,
        "c2^p1": _xor(c2[:n], p1),
        "text": right.decode(),
    }[mistake]
    feedback = puzzle.exercise.check(answer)
    assert not feedback
    assert [f.field for f in feedback.findings] == [field]
    assert words in str(feedback)


def test_puzzle_is_deterministic() -> None:
    assert nonce_reuse_puzzle().first_ciphertext == nonce_reuse_puzzle().first_ciphertext
    assert nonce_reuse_puzzle("other").first_ciphertext != nonce_reuse_puzzle().first_ciphertext
