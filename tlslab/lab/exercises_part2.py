"""Exercises for notebooks 00a and 11-14, with checkers that name the specific mistake.

Built on the :class:`~tlslab.lab.exercises.Exercise` machinery: ``check(answer)`` returns a
Feedback whose findings say which step went wrong (a label, a missing byte, a key used twice),
``hint(n)`` nudges; model answers live with the instructors (``instructor/exercise_answers.md``), never in the package.

- 00a_crypto_primer: :func:`nonce_reuse_puzzle` (recover a plaintext from a repeated AES-GCM nonce)
- 11_resumption_and_0rtt: :func:`binder_exercise` (compute a PSK binder, RFC 8446 §4.2.11.2)
- 12_client_certificates: :func:`client_certificate_verify_exercise` (RFC 8446 §4.4.3)
- 13_alerts_and_key_update: :func:`key_update_exercise` (RFC 8446 §7.2)
- 14_sni_and_ech: :func:`ech_observer_exercise` (what still leaks with ECH, RFC 9849)
- 15_your_own_handshake: :func:`certificate_secret_exercise` and :func:`tls12_clear_exercise`
  (which secret opened the Certificate; what a TLS 1.2 capture shows without keys)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..rng import seeded_rng
from ..stages import keyschedule as ks
from ..stages.signatures import CLIENT_CONTEXT, SERVER_CONTEXT, certificate_verify_content
from ..wire.extensions import OfferedPsks
from ..wire.messages import ClientHello, decode_handshake, rfc_message_name
from .exercises import Exercise, Finding


def _as_bytes(answer: Any) -> bytes | list[Finding]:
    if isinstance(answer, str):
        try:
            return bytes.fromhex(answer)
        except ValueError:
            return [
                Finding(
                    "answer",
                    "a str that is not hex: build bytes (b'...' literals, or text.encode()), or give the answer as hex",
                )
            ]
    if isinstance(answer, (bytes, bytearray, memoryview)):
        return bytes(answer)
    if isinstance(answer, (list, tuple)) and all(isinstance(x, int) for x in answer):
        return [Finding("answer", "a list of numbers: wrap it in bytes(...)")]
    return [Finding("answer", f"expected bytes (or hex), got {type(answer).__name__}")]


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=False))


def _first_match(answer: bytes, mistakes: list[tuple[bytes, Finding]]) -> list[Finding]:
    for wrong, finding in mistakes:
        if answer == wrong:
            return [finding]
    return []


# -- 00a: nonce reuse -------------------------------------------------------------------------


@dataclass(frozen=True)
class NonceReusePuzzle:
    """Two AES-GCM ciphertexts sealed under the same key *and the same nonce*. You know the first
    plaintext; the second is the secret to recover (notebook 00a_crypto_primer)."""

    known_plaintext: bytes
    first_ciphertext: bytes
    second_ciphertext: bytes
    exercise: Exercise = field(repr=False)

    def __repr__(self) -> str:
        return (
            f"NonceReusePuzzle(known_plaintext={self.known_plaintext!r},\n"
            f"  first_ciphertext={self.first_ciphertext.hex()},\n"
            f"  second_ciphertext={self.second_ciphertext.hex()})"
        )


def nonce_reuse_puzzle(seed: str = "nonce reuse") -> NonceReusePuzzle:
    """The puzzle and its checker. AES-GCM is counter mode plus a tag: under one (key, nonce) the
    keystream is the same, so c1 XOR c2 = p1 XOR p2 (the ciphertexts here include their 16-byte tags,
    as ``AESGCM.encrypt`` returns them)."""
    rng = seeded_rng(seed)
    key, nonce = rng(16), rng(12)
    known = b"Meet me at the usual place at 10"
    secret = b"The vault code is 4-8-15-16-2342"
    aead = AESGCM(key)
    c1, c2 = aead.encrypt(nonce, known, None), aead.encrypt(nonce, secret, None)
    n = len(known)
    keystream = _xor(c1[:n], known)

    def check(answer: Any) -> list[Finding]:
        if isinstance(answer, str) and answer.encode() == secret:
            return [Finding("answer", "the right message, as text: give it as bytes (.encode())")]
        got = _as_bytes(answer)
        if isinstance(got, list):
            return got
        if got == secret:
            return []
        if len(got) == len(c2) and got[:n] == secret:
            return [
                Finding(
                    "tag",
                    "right bytes, plus 16 more: the last 16 bytes of each ciphertext are the GCM tag, not encrypted data; cut them off",
                )
            ]
        mistakes = [
            (
                _xor(c1[:n], c2[:n]),
                Finding(
                    "known plaintext",
                    "that is p1 XOR p2: the keystream cancelled out; now XOR with the plaintext you know",
                ),
            ),
            (
                _xor(c1, c2),
                Finding(
                    "known plaintext",
                    "that is p1 XOR p2 (and the two tags XORed): XOR the first 32 bytes with the known plaintext",
                ),
            ),
            (
                keystream,
                Finding(
                    "second ciphertext",
                    "that is the keystream (c1 XOR p1); XOR it with the second ciphertext",
                ),
            ),
            (
                known,
                Finding("answer", "that is the plaintext you were given; recover the *other* one"),
            ),
            (c2[:n], Finding("answer", "that is still ciphertext: XOR it with the keystream")),
            (
                _xor(c2[:n], known),
                Finding(
                    "first ciphertext",
                    "c2 XOR p1 leaves the keystream in: XOR in c1 too (c1 XOR p1 is the keystream)",
                ),
            ),
        ]
        found = _first_match(got, mistakes)
        if found:
            return found
        if len(got) != n:
            return [
                Finding(
                    "length",
                    f"{len(got)} bytes; the secret plaintext is {n} bytes, as long as the known one",
                )
            ]
        return [
            Finding("value", "not the secret: compute c2 XOR c1 XOR p1 over the first 32 bytes")
        ]

    exercise = Exercise(
        name="00a.1 a repeated nonce",
        prompt="Recover the second plaintext from two AES-GCM ciphertexts that share a key and a nonce, knowing the first plaintext.",
        checker=check,
        hints=(
            "Counter mode encrypts by XOR with a keystream that depends only on (key, nonce).",
            "c1 XOR c2 = p1 XOR p2. XOR in p1. Leave out the 16-byte tags.",
        ),
        praise="Correct: one repeated nonce gave away a whole message, and with it the keystream. TLS never repeats one (notebook 07).",
    )
    return NonceReusePuzzle(known, c1, c2, exercise)


# -- 11: the PSK binder -----------------------------------------------------------------------


def binder_exercise(client_hello: bytes, psk: bytes, hash_name: str = "sha256") -> Exercise:
    """Compute the binder of ``client_hello`` (a ClientHello handshake message carrying a
    pre_shared_key extension) for a resumption ``psk`` (RFC 8446 §4.2.11.2)."""
    hello = decode_handshake(client_hello)
    if not isinstance(hello, ClientHello) or not isinstance(hello.extensions[-1], OfferedPsks):
        raise ValueError(
            "binder_exercise needs a ClientHello whose last extension is pre_shared_key"
        )
    offered = hello.extensions[-1]
    truncated = client_hello[: len(client_hello) - len(offered.encode_binders())]
    early = ks.early_secret(psk, hash_name)
    key = ks.binder_key(early, external=False, hash_name=hash_name)
    right = ks.psk_binder(key, ks.digest(hash_name, truncated), hash_name)

    def check(answer: Any) -> list[Finding]:
        got = _as_bytes(answer)
        if isinstance(got, list):
            return got
        if got == right:
            return []
        ext_key = ks.binder_key(early, external=True, hash_name=hash_name)
        mistakes = [
            (
                ks.psk_binder(ext_key, ks.digest(hash_name, truncated), hash_name),
                Finding(
                    "label",
                    '"ext binder" is for external PSKs; a ticket is a resumption PSK: "res binder"',
                ),
            ),
            (
                ks.psk_binder(key, ks.digest(hash_name, client_hello), hash_name),
                Finding(
                    "truncation",
                    "you hashed the whole ClientHello, binders included: the binder cannot cover itself; cut the ClientHello before the binders list",
                ),
            ),
            *(
                (
                    ks.psk_binder(key, ks.digest(hash_name, client_hello[:-cut]), hash_name),
                    Finding(
                        "truncation",
                        f"you cut {cut} bytes; the whole binders list goes: its 2-byte length, and each binder with its 1-byte length",
                    ),
                )
                for cut in {len(right), len(right) + 1, len(right) + 2}
                - {len(offered.encode_binders())}
            ),
            (
                ks.psk_binder(key, ks.digest(hash_name, truncated[4:]), hash_name),
                Finding(
                    "handshake header",
                    "you left out the 4-byte handshake header (type and length): the transcript hashes whole handshake messages",
                ),
            ),
            (
                ks.hmac_digest(hash_name, key, ks.digest(hash_name, truncated)),
                Finding(
                    "finished_key",
                    "you used binder_key directly as the HMAC key; the binder is computed like Finished: HMAC(finished_key(binder_key), hash)",
                ),
            ),
            (
                ks.psk_binder(early, ks.digest(hash_name, truncated), hash_name),
                Finding(
                    "binder_key",
                    'you used the Early Secret itself; derive binder_key = Derive-Secret(Early Secret, "res binder", "") first',
                ),
            ),
            (
                ks.psk_binder(
                    ks.binder_key(ks.early_secret(None, hash_name), hash_name=hash_name),
                    ks.digest(hash_name, truncated),
                    hash_name,
                ),
                Finding(
                    "psk",
                    "your Early Secret has no PSK in it (HKDF-Extract(0, 0)): the PSK is the IKM of the Early Secret",
                ),
            ),
        ]
        found = _first_match(got, mistakes)
        if found:
            return found
        if len(got) != len(right):
            return [
                Finding(
                    "length",
                    f"{len(got)} bytes; a binder is as long as the hash ({len(right)} bytes)",
                )
            ]
        return [
            Finding(
                "value",
                'not the binder: early_secret(psk) -> binder_key("res binder") -> HMAC(finished_key, Hash(truncated ClientHello))',
            )
        ]

    return Exercise(
        name="11.1 the PSK binder",
        prompt="Compute the binder of this ClientHello for its PSK (RFC 8446 §4.2.11.2).",
        checker=check,
        hints=(
            'The chain is: Early Secret = HKDF-Extract(0, PSK); binder_key = Derive-Secret(Early Secret, "res binder", "").',
            "The binder is a Finished-style HMAC over the hash of the ClientHello cut just before the binders list (header included).",
        ),
        praise="Correct: your binder matches the one on the wire. The server computes the same to know the client holds the PSK.",
    )


# -- 12: the client's CertificateVerify content -------------------------------------------------


def client_certificate_verify_exercise(
    transcript_hash: bytes, hash_name: str = "sha256"
) -> Exercise:
    """Build the bytes a TLS 1.3 client signs in its CertificateVerify (RFC 8446 §4.4.3), given
    Transcript-Hash(ClientHello .. client Certificate)."""
    right = certificate_verify_content(transcript_hash, server=False)

    def check(answer: Any) -> list[Finding]:
        got = _as_bytes(answer)
        if isinstance(got, list):
            return got
        if got == right:
            return []
        pad = b"\x20" * 64
        mistakes = [
            (
                certificate_verify_content(transcript_hash, server=True),
                Finding(
                    "context string",
                    'that is the *server\'s* context string; the client signs "TLS 1.3, client CertificateVerify", so a server signature can never pass as a client one',
                ),
            ),
            (
                CLIENT_CONTEXT + b"\x00" + transcript_hash,
                Finding(
                    "padding", "the content starts with 64 bytes of 0x20 (spaces); they are missing"
                ),
            ),
            (
                pad + CLIENT_CONTEXT + transcript_hash,
                Finding(
                    "separator",
                    "a single 0x00 byte separates the context string from the transcript hash",
                ),
            ),
            (
                pad + CLIENT_CONTEXT + b"\x00" + ks.digest(hash_name, transcript_hash),
                Finding(
                    "transcript hash",
                    "you hashed the transcript hash again; append Transcript-Hash(...) itself",
                ),
            ),
            (
                transcript_hash,
                Finding(
                    "content",
                    "a bare transcript hash; TLS 1.3 signs 64 spaces + context string + 0x00 + transcript hash",
                ),
            ),
            (
                pad + SERVER_CONTEXT + transcript_hash,
                Finding("context string", "the server's string and no 0x00 separator"),
            ),
        ]
        found = _first_match(got, mistakes)
        if found:
            return found
        if got.startswith(b"\x20") and not got.startswith(pad):
            spaces = len(got) - len(got.lstrip(b"\x20"))
            return [Finding("padding", f"{spaces} spaces; RFC 8446 §4.4.3 says exactly 64")]
        if got.startswith(b"\x00" * 64):
            return [
                Finding(
                    "padding", "64 bytes of 0x00; the padding byte is 0x20, the space character"
                )
            ]
        if got == ks.digest(hash_name, right):
            return [
                Finding(
                    "hashing",
                    "you hashed the content: give the content itself; the signature scheme hashes it when signing",
                )
            ]
        if got.startswith(pad) and not got[64:].startswith(CLIENT_CONTEXT):
            seen = got[64 : 64 + len(CLIENT_CONTEXT)]
            return [
                Finding(
                    "context string",
                    f"after the 64 spaces comes exactly {CLIENT_CONTEXT!r} (case and spacing matter); you have {seen!r}",
                )
            ]
        if got.startswith(pad + CLIENT_CONTEXT + b"\x00"):
            return [
                Finding(
                    "transcript hash",
                    f"the prefix is right; what follows the 0x00 must be transcript_hash itself ({len(transcript_hash)} bytes)",
                )
            ]
        return [
            Finding(
                "value",
                "expected 0x20 * 64 + b'TLS 1.3, client CertificateVerify' + 0x00 + transcript hash",
            )
        ]

    return Exercise(
        name="12.1 what the client signs",
        prompt="Build the content the client signs in its TLS 1.3 CertificateVerify (RFC 8446 §4.4.3).",
        checker=check,
        hints=(
            "Four parts: padding, a context string, a separator, the transcript hash.",
            "64 bytes of 0x20; b'TLS 1.3, client CertificateVerify'; one 0x00; the hash.",
        ),
        praise="Correct: these are the bytes the client's key signs. They tie the signature to this transcript and to the client's role.",
    )


# -- 13: KeyUpdate -------------------------------------------------------------------------------


def key_update_exercise(secret_0: bytes, updates: int = 2, hash_name: str = "sha256") -> Exercise:
    """Compute application_traffic_secret_N after ``updates`` KeyUpdates, starting from
    application_traffic_secret_0 (RFC 8446 §7.2)."""
    if updates < 1:
        raise ValueError("updates must be at least 1")
    chain = [secret_0]
    for _ in range(updates):
        chain.append(ks.next_traffic_secret(chain[-1], hash_name))
    right = chain[-1]
    size = len(secret_0)

    def step(secret: bytes, label: str) -> bytes:
        return ks.hkdf_expand_label(secret, label, b"", size, hash_name)

    def check(answer: Any) -> list[Finding]:
        got = _as_bytes(answer)
        if isinstance(got, list):
            return got
        if got == right:
            return []
        for n, secret in enumerate(chain[:-1]):
            if got == secret:
                return [
                    Finding(
                        "generations",
                        f"that is application_traffic_secret_{n}; apply the update {updates - n} more time(s)",
                    )
                ]
        wrong_label = secret_0
        derived = secret_0
        for _ in range(updates):
            wrong_label = step(wrong_label, "traffic update")
            derived = ks.derive_secret(derived, "traffic upd", ks.empty_hash(hash_name), hash_name)
        other_hash = "sha256" if hash_name == "sha384" else "sha384"
        wrong_hash = secret_0
        for _ in range(updates):
            wrong_hash = ks.hkdf_expand_label(wrong_hash, "traffic upd", b"", size, other_hash)
        wrong_hash_length = secret_0
        for _ in range(updates):
            wrong_hash_length = ks.next_traffic_secret(wrong_hash_length, other_hash)
        mistakes = [
            (
                wrong_hash_length,
                Finding(
                    "hash",
                    f"you used {other_hash.upper()} (the default of next_traffic_secret and hkdf_expand_label is SHA256); "
                    f"this suite's hash is {hash_name.upper()}: pass hash_name",
                ),
            ),
            (
                wrong_hash,
                Finding(
                    "hash",
                    f"you used {other_hash.upper()}; this suite's hash is {hash_name.upper()} (pass it to every HKDF call)",
                ),
            ),
            (
                wrong_label,
                Finding(
                    "label",
                    'the label is "traffic upd" (HKDF-Expand-Label adds the "tls13 " prefix itself)',
                ),
            ),
            (
                derived,
                Finding(
                    "context",
                    'Derive-Secret puts Hash("") in the context; the update uses HKDF-Expand-Label with an *empty* context',
                ),
            ),
            (
                ks.traffic_keys(right, _suite_for(hash_name)).key,
                Finding(
                    "secret vs key",
                    "that is the traffic *key* derived from the right secret; the exercise asks for the secret itself",
                ),
            ),
        ]
        found = _first_match(got, mistakes)
        if found:
            return found
        if len(got) != size:
            return [
                Finding(
                    "length", f"{len(got)} bytes; a traffic secret is Hash.length = {size} bytes"
                )
            ]
        return [
            Finding(
                "value",
                'not the secret: repeat HKDF-Expand-Label(secret, "traffic upd", "", Hash.length)',
            )
        ]

    return Exercise(
        name="13.1 the next traffic secret",
        prompt=f"Starting from application_traffic_secret_0, compute application_traffic_secret_{updates} (RFC 8446 §7.2).",
        checker=check,
        hints=(
            'Each KeyUpdate moves one generation: secret_{N+1} = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length).',
            f"Apply it {updates} times; no transcript hash is involved.",
        ),
        praise="Correct: both sides reach the same secret with no message but the KeyUpdate itself, and the old key can be erased.",
    )


def _suite_for(hash_name: str) -> Any:
    from ..constants import CipherSuite
    from ..stages.suites import suite_info

    return suite_info(
        CipherSuite.TLS_AES_256_GCM_SHA384
        if hash_name == "sha384"
        else CipherSuite.TLS_AES_128_GCM_SHA256
    )


# -- 14: what an observer sees with ECH -----------------------------------------------------------

#: The scenario of the notebook-14 exercise. It differs from the figure above the exercise on
#: purpose (DNS is encrypted here), so that the answer has to be reasoned out, not copied.
OBSERVER_SCENARIO = (
    "Alice's browser reaches secret-project.example, one of many sites behind the CDN whose ECH "
    "public_name is cover.example. It uses ECH, and it resolves names with DNS over HTTPS (DoH). "
    "What can a passive observer on her Wi-Fi still learn?"
)

# Each item: (still visible to the on-path observer in OBSERVER_SCENARIO, why, a clue that points
# at the item without naming it, shown when the learner leaves a visible item out).
OBSERVER_ITEMS: dict[str, tuple[bool, str, str]] = {
    "server IP address": (
        True,
        "the IP header is outside TLS; ECH cannot hide where packets go",
        "something outside TLS altogether still leaks: every packet needs an address",
    ),
    "outer SNI (the client-facing server's public_name)": (
        True,
        "ClientHelloOuter carries the public_name from the ECHConfig in the clear, so it still leaks which provider",
        "the outer ClientHello is still in the clear, and it still has a server_name",
    ),
    "real SNI (the site you want)": (
        False,
        "it travels only in ClientHelloInner, encrypted with HPKE to the client-facing server's ECH key",
        "",
    ),
    "real ALPN list": (
        False,
        "ClientHelloInner holds the real extensions; the outer ALPN may differ",
        "",
    ),
    "that ECH is being used": (
        True,
        "the encrypted_client_hello extension is visible (clients send GREASE ECH so that this says less)",
        "look at the outer ClientHello's list of extensions: is anything there new?",
    ),
    "server certificate (TLS 1.3)": (
        False,
        "in TLS 1.3 the Certificate is already encrypted under handshake keys, with or without ECH",
        "",
    ),
    "approximate sizes and timing of records": (
        True,
        "encryption hides content, not lengths and timing; padding only blurs them",
        "encryption hides what is sent; think of what it cannot hide about *how much* and *when*",
    ),
    "the DNS lookup of secret-project.example": (
        False,
        "in this scenario DNS goes over HTTPS: the observer sees an encrypted connection to the resolver, "
        "not the name (the resolver itself does see it; over plain DNS the lookup would leak the name)",
        "",
    ),
    "HTTP request path": (False, "application data is encrypted in every TLS version", ""),
}


def ech_observer_exercise() -> Exercise:
    """Choose, from :data:`OBSERVER_ITEMS`, everything an on-path observer still learns in
    :data:`OBSERVER_SCENARIO` (ECH and DNS over HTTPS, RFC 9849). Answer: a set (or list) of item
    names. A wrongly chosen item is named with the reason it is hidden; a visible item left out is
    pointed at by a clue, not named, so that one empty answer does not print the solution."""
    visible = {name for name, (seen, _, _) in OBSERVER_ITEMS.items() if seen}

    def check(answer: Any) -> list[Finding]:
        if isinstance(answer, str) or not hasattr(answer, "__iter__"):
            return [Finding("answer", "give a set of item names, e.g. {'server IP address'}")]
        chosen = set(answer)
        unknown = chosen - set(OBSERVER_ITEMS)
        if unknown:
            return [
                Finding(name, "not one of the items; copy names from OBSERVER_ITEMS")
                for name in sorted(unknown)
            ]
        findings = [
            Finding(name, f"hidden: {OBSERVER_ITEMS[name][1]}") for name in sorted(chosen - visible)
        ]
        findings += [
            Finding("missing", f"one more item still leaks: {OBSERVER_ITEMS[name][2]}")
            for name in sorted(visible - chosen)
        ]
        return findings

    return Exercise(
        name="14.1 what ECH does not hide",
        prompt=OBSERVER_SCENARIO,
        checker=check,
        hints=(
            "ECH encrypts one thing: the inner ClientHello. Everything outside TLS is untouched; DoH covers DNS.",
            f"{len(visible)} items still leak.",
        ),
        praise="Correct: ECH hides which site behind a provider you visit, not that you visit the provider.",
    )


# -- 15: your own capture ------------------------------------------------------------------------


def _record_names(records: list[Any]) -> str:
    return ", ".join(f"{r.direction} record {r.index} ({r.describe()})" for r in records)


def certificate_secret_exercise(connection: Any) -> Exercise:
    """Which key-log label opened the server's Certificate in a decrypted TLS 1.3 capture
    (``tlslab.open_capture(pcap, keylog=...)[i]``)? The right label is read from the capture
    itself; a wrong one is answered with the records it did open, so the learner sees where
    the Certificate sits in the key schedule (RFC 8446 §7.1, §7.3; notebook 15)."""
    records = list(connection.records)
    certificate = next(
        (
            r
            for r in records
            if r.direction == "server" and "certificate" in r.label.replace(",", " ").split()
        ),
        None,
    )
    if certificate is None or not certificate.keys or certificate.keys == "plaintext":
        raise ValueError("this connection has no decrypted TLS 1.3 server Certificate record")
    labels = sorted({r.keys for r in records if r.keys and r.keys != "plaintext"})
    if connection.keylog is not None:
        labels = sorted(
            set(labels) | set(connection.keylog.entries.get(connection.client_random, {}))
        )

    def check(answer: Any) -> list[Finding]:
        if not isinstance(answer, str):
            return [
                Finding(
                    "answer",
                    f"expected one key-log label as a string, got {type(answer).__name__}; "
                    f"the labels in this key log are {', '.join(labels)}",
                )
            ]
        label = answer.strip()
        if label == certificate.keys:
            return []
        if label not in labels:
            return [
                Finding(
                    "answer",
                    f"{label!r} is not a label of this connection's key log; it has {', '.join(labels)}",
                )
            ]
        opened = [r for r in records if r.keys == label]
        if not opened:
            return [
                Finding(
                    label,
                    "opened no record of this connection (it is not a traffic secret); the "
                    f"Certificate is server record {certificate.index}",
                )
            ]
        side = opened[0].direction
        if side != "server":
            return [
                Finding(
                    label,
                    f"protects what the {side} sends ({_record_names(opened)}); the Certificate "
                    f"is sent by the server (server record {certificate.index})",
                )
            ]
        return [
            Finding(
                label,
                f"opened {_record_names(opened)}: those come after the server's Finished, and the "
                f"Certificate (server record {certificate.index}) comes before it",
            )
        ]

    return Exercise(
        name="15.1 which secret hides the certificate?",
        prompt="Name the key-log label whose keys opened the server's Certificate record.",
        checker=check,
        hints=(
            "Look for the record whose describe() is 'certificate' and read its keys.",
            "The key schedule has two server secrets: one before the server's Finished, one after.",
        ),
    )


# What gives each TLS 1.2 server message away, without naming it (a clue for a missed message).
_TLS12_CLUES = {
    "ServerHello": "the message that answers the ClientHello with the chosen version and suite",
    "Certificate12": "the message that carries the server's certificate chain",
    "ServerKeyExchangeECDHE": "the message with the server's ECDHE public key and its signature",
    "ServerKeyExchangeDHE": "the message with the server's DHE public value and its signature",
    "ServerHelloDone": "the empty message that ends the server's first flight",
    "CertificateRequest12": "the message in which the server asks for a client certificate",
    "NewSessionTicket12": "the message that hands the client a session ticket, just before the "
    "server's ChangeCipherSpec (RFC 5077 §3.3)",
}


def _tls12_spelling(name: str, names: list[str]) -> str | None:
    """The name in ``names`` that ``name`` means under another spelling, or None: the same
    letters in another case, or the RFC's name of a tlslab class ('Certificate' for
    'Certificate12', 'ServerKeyExchange' for 'ServerKeyExchangeECDHE';
    ``wire.messages.rfc_message_name``)."""
    for candidate in names:
        if name.lower() in (candidate.lower(), rfc_message_name(candidate).lower()):
            return candidate
    return None


def tls12_clear_exercise(connection_without_keys: Any) -> Exercise:
    """Which server handshake messages of a TLS 1.2 capture can an eavesdropper read? The answer
    is what tlslab itself read from ``connection_without_keys`` (opened with no key log):
    every server message before its ChangeCipherSpec. A wrong name is named with the reason; a
    missed message gets a clue that says which one without spelling its name (RFC 5246 §7.3;
    notebook 15)."""
    order = [name for who, name in connection_without_keys.messages() if who == "server"]
    clear = set(order)
    client_names = {name for who, name in connection_without_keys.messages() if who == "client"}
    encrypted = {"Finished"}

    def check(answer: Any) -> list[Finding]:
        if isinstance(answer, str) or not isinstance(answer, (set, frozenset, list, tuple)):
            return [Finding("answer", "give a set of names, e.g. {'ServerHello'}")]
        chosen = {str(name) for name in answer}
        findings = []
        respelled: set[str] = set()  # the right message under another spelling
        for name in sorted(chosen - clear):
            spelling = _tls12_spelling(name, order)
            if name in encrypted:
                why = "is encrypted: it follows the server's ChangeCipherSpec"
            elif name in client_names:
                why = "is sent by the client; the question is about the server's messages"
            elif spelling is not None:
                respelled.add(spelling)
                why = f"right message, but messages() spells it {spelling!r}"
            else:
                why = (
                    "is not a server message an eavesdropper can read in this connection; "
                    f"the names are spelled as messages() spells them, e.g. {sorted(clear)[0]!r}"
                )
            findings.append(Finding(name, why))
        for name in [n for n in order if n not in chosen and n not in respelled]:  # in order
            clue = _TLS12_CLUES.get(name, "a server message that comes before its ChangeCipherSpec")
            findings.append(Finding("missing", f"{clue}: it travels in the clear in TLS 1.2"))
        return findings

    return Exercise(
        name="15.2 what does TLS 1.2 show?",
        prompt="Which server handshake messages of the TLS 1.2 connection are readable without the key log?",
        checker=check,
        hints=(
            "tlslab.open_capture(pcap)[1].messages() lists what could be read without secrets.",
            f"{len(clear)} server messages travel in the clear.",
        ),
    )
