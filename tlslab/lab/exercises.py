"""Exercises with self-checks that say *what* is wrong, not only pass/fail.

Each exercise is an :class:`Exercise`: a prompt, a checker and hints on request.
``check(answer)`` returns a :class:`Feedback` listing every finding: which field, what was
expected, what was seen, and why it matters. :func:`progress` shows which exercises this
session's answers passed. Model answers are not in the package: they live in the repository's
``instructor/`` folder (``instructor/exercise_answers.md``), apart from what students install.

Notebook 01 uses ``client_hello_exercise`` and ``cipher_suites_offset_exercise``.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from ..constants import CipherSuite, ExtensionType, NamedGroup, ProtocolVersion, describe
from ..errors import TLSError
from ..wire._codec import Note
from ..wire.explain import explain
from ..wire.extensions import (
    ApplicationLayerProtocolNegotiation,
    KeyShareClientHello,
    ServerName,
    SupportedGroups,
    SupportedVersionsClient,
)
from ..wire.messages import ClientHello, HandshakeMessage, decode_handshake


@dataclass(frozen=True)
class Finding:
    """One specific problem: the field it concerns and what is wrong with it."""

    field: str
    problem: str

    def __str__(self) -> str:
        return f"{self.field}: {self.problem}"


@dataclass(frozen=True)
class Feedback:
    """The verdict on an answer. Truthy when correct."""

    exercise: str
    findings: tuple[Finding, ...] = ()
    praise: str = "Correct."

    @property
    def correct(self) -> bool:
        return not self.findings

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        if self.correct:
            return f"[{self.exercise}] {self.praise}"
        lines = [f"[{self.exercise}] Not yet: {len(self.findings)} thing(s) to fix"]
        lines += [f"  - {f}" for f in self.findings]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        if self.correct:
            return f"<div style='color:#1a7f37'>&#10004; <b>{html.escape(self.exercise)}</b>: {html.escape(self.praise)}</div>"
        items = "".join(
            f"<li><code>{html.escape(f.field)}</code>: {html.escape(f.problem)}</li>"
            for f in self.findings
        )
        return f"<div style='color:#b35900'>&#10008; <b>{html.escape(self.exercise)}</b>: not yet<ul>{items}</ul></div>"


@dataclass(frozen=True)
class Exercise:
    """A prompt, a checker and hints (no model answer: those stay in ``instructor/``)."""

    name: str
    prompt: str
    checker: Callable[[Any], list[Finding]]
    hints: Sequence[str] = ()
    praise: str = "Correct."

    def check(self, answer: Any) -> Feedback:
        """Check ``answer``; the Feedback lists every specific problem found (and counts toward
        :func:`progress`)."""
        feedback = Feedback(self.name, tuple(self.checker(answer)), self.praise)
        _ATTEMPTS[self.name] = _ATTEMPTS.get(self.name, False) or feedback.correct
        return feedback

    def hint(self, n: int = 0) -> str:
        """The n-th hint (0 first); gentler than the solution."""
        if not self.hints:
            return "No hints for this one: re-read the prompt and the RFC section it names."
        return f"Hint {min(n, len(self.hints) - 1) + 1}/{len(self.hints)}: {self.hints[min(n, len(self.hints) - 1)]}"

    def __repr__(self) -> str:
        return f"Exercise {self.name!r}\n{self.prompt}"


# -- Progress: which exercises has this learner passed? --------------------------

COURSE_EXERCISES = (
    "00.1 what does an eavesdropper see?",
    "01.1 build a ClientHello",
    "01.2 find the cipher suites",
    "02.1 predict the negotiation",
    "03.1 which check catches it?",
    "04.1 Diffie-Hellman by hand",
    "05.1 the client_write_key",
    "06.1 the client's verify_data",
    "07.1 the per-record nonce",
    "08.1 read the state machine",
    "09.1 which defence stops which attack?",
)
"""The exercises of notebooks 00-09, in course order."""

_ATTEMPTS: dict[str, bool] = {}


@dataclass(frozen=True)
class Progress:
    """Which exercises were passed, tried or not yet tried (in this Python session)."""

    status: tuple[tuple[str, str], ...]

    @property
    def passed(self) -> list[str]:
        return [name for name, state in self.status if state == "passed"]

    def __str__(self) -> str:
        rows = [f"{state:>10}  {name}" for name, state in self.status]
        rows.append(f"{len(self.passed)}/{len(self.status)} exercises passed")
        return "\n".join(rows)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        mark = {"passed": "&#10004;", "tried": "&#8230; tried", "not tried": ""}
        body = "".join(
            f"<tr><td>{html.escape(name)}</td><td>{mark[state]}</td></tr>"
            for name, state in self.status
        )
        return (
            f"<table><tr><th>exercise</th><th>passed</th></tr>{body}</table>"
            f"<p>{len(self.passed)}/{len(self.status)} exercises passed</p>"
        )


def progress() -> Progress:
    """The course's exercises and whether this session's answers passed them (``check`` records)."""
    names = list(COURSE_EXERCISES) + sorted(set(_ATTEMPTS) - set(COURSE_EXERCISES))
    status = tuple(
        (
            name,
            "passed" if _ATTEMPTS.get(name) else ("tried" if name in _ATTEMPTS else "not tried"),
        )
        for name in names
    )
    return Progress(status)


# -- Notebook 01: build a ClientHello to a specification ------------------------


def _as_client_hello(answer: Any) -> ClientHello | list[Finding]:
    if isinstance(answer, str):
        try:
            answer = bytes.fromhex(answer)
        except ValueError:
            return [Finding("answer", "a string answer must be hex")]
    if isinstance(answer, (bytes, bytearray)):
        data = bytes(answer)
        if len(data) >= 5 and data[0] == 22 and data[1] == 3:
            data = data[5:]
        try:
            answer = decode_handshake(data)
        except TLSError as exc:
            return [Finding("bytes", f"do not decode as a handshake message: {exc}")]
    if not isinstance(answer, HandshakeMessage) or not isinstance(answer, ClientHello):
        return [
            Finding(
                "answer", f"expected a ClientHello (object or bytes), got {type(answer).__name__}"
            )
        ]
    return answer


def _check_client_hello_spec(answer: Any) -> list[Finding]:
    hello = _as_client_hello(answer)
    if isinstance(hello, list):
        return hello
    findings: list[Finding] = []
    if hello.legacy_version != ProtocolVersion.TLS12:
        findings.append(
            Finding(
                "legacy_version",
                f"is {describe(ProtocolVersion, hello.legacy_version)}; TLS 1.3 keeps this at 0x0303 "
                "and moves the real version list to supported_versions (RFC 8446 §4.1.2)",
            )
        )
    versions = hello.extension(ExtensionType.supported_versions)
    if not isinstance(versions, SupportedVersionsClient):
        findings.append(
            Finding("supported_versions", "is missing: without it a server assumes TLS 1.2 at most")
        )
    elif tuple(versions.versions) != (ProtocolVersion.TLS13,):
        shown = ", ".join(describe(ProtocolVersion, v) for v in versions.versions)
        findings.append(
            Finding("supported_versions", f"offers [{shown}]; the task asks for TLS 1.3 only")
        )
    if tuple(hello.cipher_suites) != (CipherSuite.TLS_CHACHA20_POLY1305_SHA256,):
        shown = ", ".join(describe(CipherSuite, s) for s in hello.cipher_suites)
        findings.append(
            Finding(
                "cipher_suites",
                f"is [{shown}]; the task asks for exactly TLS_CHACHA20_POLY1305_SHA256 (0x1303)",
            )
        )
    groups = hello.extension(ExtensionType.supported_groups)
    if (
        not isinstance(groups, SupportedGroups)
        or NamedGroup.secp256r1 not in groups.named_group_list
    ):
        findings.append(Finding("supported_groups", "must list secp256r1 (0x0017)"))
    shares = hello.extension(ExtensionType.key_share)
    share_groups = (
        [e.group for e in shares.client_shares] if isinstance(shares, KeyShareClientHello) else []
    )
    if share_groups != [NamedGroup.secp256r1]:
        shown = ", ".join(describe(NamedGroup, g) for g in share_groups) or "none"
        findings.append(
            Finding(
                "key_share",
                f"carries shares for [{shown}]; the task asks for one secp256r1 share "
                "(65 bytes: 04 || X || Y)",
            )
        )
    sni = hello.extension(ExtensionType.server_name)
    if not isinstance(sni, ServerName) or sni.host_names != ("lab.example",):
        names = list(sni.host_names) if isinstance(sni, ServerName) else "absent"
        findings.append(Finding("server_name", f"is {names}; the task asks for 'lab.example'"))
    alpn = hello.extension(ExtensionType.application_layer_protocol_negotiation)
    if not isinstance(alpn, ApplicationLayerProtocolNegotiation) or alpn.protocol_name_list != (
        b"h2",
    ):
        offered = (
            [p.decode("ascii", "replace") for p in alpn.protocol_name_list]
            if isinstance(alpn, ApplicationLayerProtocolNegotiation)
            else "absent"
        )
        findings.append(
            Finding(
                "application_layer_protocol_negotiation",
                f"is {offered}; the task asks for ['h2']",
            )
        )
    return findings


client_hello_exercise = Exercise(
    name="01.1 build a ClientHello",
    prompt=(
        "Build a ClientHello that offers TLS 1.3 only, the single cipher suite "
        "TLS_CHACHA20_POLY1305_SHA256, group secp256r1 with one key share for it, "
        "server name 'lab.example' and ALPN 'h2'. Pass the ClientHello (or its bytes) to check()."
    ),
    checker=_check_client_hello_spec,
    hints=(
        "build_client_hello takes versions=, cipher_suites=, groups=, alpn= as keywords.",
        "key_share_groups= chooses which groups get a key share; it defaults to the first of groups.",
    ),
    praise="Correct: every field matches the specification.",
)


def _offset_checker(hello_bytes: bytes, target: str) -> Callable[[Any], list[Finding]]:
    def check(answer: Any) -> list[Finding]:
        rows: tuple[Note, ...] = explain(hello_bytes).rows
        truth = next(r for r in rows if r.field == target)
        if not isinstance(answer, int) or isinstance(answer, bool):
            return [
                Finding("answer", f"give the offset as a whole number of bytes, got {answer!r}")
            ]
        if answer == truth.offset:
            return []
        vector = target.split("[")[0]
        length_row = next((r for r in rows if r.field == f"{vector} length"), None)
        if length_row is not None and answer == length_row.offset:
            return [
                Finding(
                    target,
                    f"offset {answer} is the 2-byte *length* of the list; the first suite starts after it",
                )
            ]
        if answer == truth.offset - 4:
            return [
                Finding(
                    target,
                    "you counted from the start of the body; count from the handshake header (msg_type at 0)",
                )
            ]
        where = "too early" if answer < truth.offset else "too late"
        near = next((r for r in rows if r.offset == answer and r.length), None)
        what = f" (that is where {near.field} starts)" if near else ""
        return [Finding(target, f"offset {answer} is {where}{what}")]

    return check


def cipher_suites_offset_exercise(hello_bytes: bytes) -> Exercise:
    """Where, in these ClientHello bytes, does the first cipher suite start?"""
    return Exercise(
        name="01.2 find the cipher suites",
        prompt=(
            "At which byte offset (counting from the first byte of the handshake message, msg_type = offset 0) "
            "does the first cipher suite of this ClientHello start? Work it out from the field sizes: "
            "header 4, legacy_version 2, random 32, then the session id with its 1-byte length."
        ),
        checker=_offset_checker(hello_bytes, "cipher_suites[0]"),
        hints=(
            "4 + 2 + 32 = 38 is where the session id length byte sits.",
            "Then skip the session id and the 2-byte cipher_suites length.",
        ),
    )


# -- Notebook 05: the TLS 1.2 key block by hand ---------------------------------


def client_write_key_exercise(
    master: bytes, client_random: bytes, server_random: bytes, suite: int
) -> Exercise:
    """Compute the TLS 1.2 client_write_key from the master secret with ``prf`` alone."""
    from ..stages.keyschedule import key_block, prf
    from ..stages.suites import suite_info

    info = suite_info(suite)
    mac, key = info.mac_length, info.key_length
    right = key_block(master, client_random, server_random, info).client_write_key
    length = 2 * (mac + key + info.fixed_iv_length)

    def check(answer: Any) -> list[Finding]:
        if not isinstance(answer, (bytes, bytearray)):
            return [Finding("answer", f"expected bytes, got {type(answer).__name__}")]
        answer = bytes(answer)
        if answer == right:
            return []
        if len(answer) != key:
            return [Finding("length", f"{len(answer)} bytes; a {info.name} key is {key} bytes")]
        swapped = prf(
            master, "key expansion", client_random + server_random, length, info.hash_name
        )
        block = prf(master, "key expansion", server_random + client_random, length, info.hash_name)
        if answer == swapped[2 * mac : 2 * mac + key]:
            return [
                Finding(
                    "seed",
                    "you used client_random + server_random; key expansion uses "
                    "server_random + client_random (RFC 5246 §6.3), the reverse of master_secret",
                )
            ]
        if answer == block[2 * mac + key : 2 * mac + 2 * key]:
            return [
                Finding(
                    "slice",
                    "that is server_write_key: the client's key comes first in the key block",
                )
            ]
        if mac and answer == block[:key]:
            return [
                Finding(
                    "slice",
                    f"you took the first bytes, but this suite's block starts with two "
                    f"{mac}-byte MAC keys before the cipher keys",
                )
            ]
        if answer == master[:key]:
            return [
                Finding(
                    "derivation",
                    "that is the start of the master secret itself: run it through "
                    'PRF(master_secret, "key expansion", ...) first',
                )
            ]
        return [
            Finding(
                "value",
                'not the client_write_key; check the label "key expansion", the seed order '
                "and where the client key sits in the block",
            )
        ]

    return Exercise(
        name="05.1 the client_write_key",
        prompt=(
            f"Using only prf(secret, label, seed, length, hash), compute client_write_key for {info.name} "
            "from the master secret and the two randoms. The key block is client MAC key, server MAC key, "
            "client key, server key, client IV, server IV (RFC 5246 §6.3)."
        ),
        checker=check,
        hints=(
            "The seed is server_random + client_random.",
            f"This suite has {mac}-byte MAC keys and {key}-byte cipher keys.",
        ),
    )


# -- Notebook 06: the client's verify_data in RFC 8448 ---------------------------


def client_verify_data_exercise() -> Exercise:
    """Compute the client Finished of RFC 8448 §3 from its secrets and messages."""
    from ..stages.keyschedule import digest, hmac_digest, verify_data_13
    from ..vectors import rfc8448

    v = rfc8448()
    m = {k: bytes.fromhex(x) for k, x in v["handshake_messages"].items()}
    order = [
        "client_hello",
        "server_hello",
        "encrypted_extensions",
        "certificate",
        "certificate_verify",
        "server_finished",
    ]
    chts = bytes.fromhex(v["secrets"]["client_handshake_traffic_secret"])
    shts = bytes.fromhex(v["secrets"]["server_handshake_traffic_secret"])
    right = bytes.fromhex(v["finished"]["client_verify_data"])

    def transcript(names: list[str]) -> bytes:
        return digest("sha256", b"".join(m[n] for n in names))

    def check(answer: Any) -> list[Finding]:
        if not isinstance(answer, (bytes, bytearray)):
            return [Finding("answer", f"expected bytes, got {type(answer).__name__}")]
        answer = bytes(answer)
        if answer == right:
            return []
        if len(answer) != 32:
            return [
                Finding(
                    "length",
                    f"{len(answer)} bytes; TLS 1.3 verify_data is Hash.length = 32 bytes for SHA-256",
                )
            ]
        if answer == verify_data_13(shts, transcript(order)):
            return [
                Finding(
                    "key",
                    "you used the server_handshake_traffic_secret; the client's Finished uses the client's",
                )
            ]
        if answer == verify_data_13(chts, transcript(order[:-1])):
            return [
                Finding(
                    "transcript",
                    "your transcript stops before the server Finished; the client's covers it",
                )
            ]
        if answer == verify_data_13(chts, transcript([*order, "client_finished"])):
            return [
                Finding(
                    "transcript",
                    "your transcript includes the client Finished itself: a message cannot cover its own MAC",
                )
            ]
        if answer == hmac_digest("sha256", chts, transcript(order)):
            return [
                Finding(
                    "finished_key",
                    "you keyed the HMAC with the traffic secret; derive finished_key = "
                    'HKDF-Expand-Label(secret, "finished", "", 32) first',
                )
            ]
        return [
            Finding(
                "value", "not the client verify_data; check the key, the transcript and the HMAC"
            )
        ]

    return Exercise(
        name="06.1 the client's verify_data",
        prompt=(
            "From RFC 8448 §3, compute the client's Finished.verify_data: HMAC(finished_key, Transcript-Hash(...)) "
            "with the client_handshake_traffic_secret and the messages ClientHello ... server Finished."
        ),
        checker=check,
        hints=(
            "finished_key(secret) and verify_data_13(secret, transcript_hash) are in tlslab.stages.keyschedule.",
            "The client's transcript ends with the server's Finished.",
        ),
    )


# -- Notebook 07: the nonce for a record ----------------------------------------


def nonce_exercise(iv: bytes, seq: int) -> Exercise:
    """Compute the TLS 1.3 per-record nonce for sequence number ``seq``."""
    from ..stages.protection import xor_nonce

    right = xor_nonce(iv, seq)

    def check(answer: Any) -> list[Finding]:
        if not isinstance(answer, (bytes, bytearray)):
            return [Finding("answer", f"expected bytes, got {type(answer).__name__}")]
        answer = bytes(answer)
        if answer == right:
            return []
        if len(answer) != len(iv):
            return [
                Finding(
                    "length",
                    f"{len(answer)} bytes; the nonce is as long as the IV ({len(iv)} bytes)",
                )
            ]
        if answer == iv:
            return [
                Finding(
                    "sequence number", "that is the IV itself: it is only the nonce for record 0"
                )
            ]
        if answer == seq.to_bytes(len(iv), "big"):
            return [Finding("xor", "that is the padded sequence number alone; XOR it with the IV")]
        if answer == bytes(a ^ b for a, b in zip(iv, seq.to_bytes(len(iv), "little"), strict=True)):
            return [
                Finding(
                    "byte order",
                    "the sequence number is big-endian: it changes the *last* bytes of the IV",
                )
            ]
        return [Finding("value", "not iv XOR the 64-bit sequence number left-padded with zeros")]

    return Exercise(
        name="07.1 the per-record nonce",
        prompt=f"Compute the nonce for the record with sequence number {seq} (RFC 8446 §5.3).",
        checker=check,
        hints=(
            "Left-pad the sequence number with zeros to the IV's length.",
            "Then XOR byte by byte.",
        ),
    )


# -- Notebook 02: predict the server's choice -----------------------------------


def _as_code_point(enum: type[IntEnum], value: Any) -> int | None:
    """An enum member, a number, a hex string or a name ('TLS13', 'TLS 1.3', 'x25519') as an int."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return int(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.lower().startswith("0x"):
        try:
            return int(text, 16)
        except ValueError:
            return None
    if text.isdigit():
        return int(text)
    squeezed = text.replace(" ", "").replace("v", "").replace(".", "").lower()
    for member in enum:
        if member.name.lower() in (text.lower(), squeezed):
            return int(member)
    return None


def _as_yes_no(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "false", "no"):
        return value.strip().lower() in ("true", "yes")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return None


def negotiation_exercise() -> Exercise:
    """Predict version, suite, group and HRR for a fixed client/server pair (checked by negotiate)."""
    from ..rng import seeded_rng
    from ..stages.hello import build_client_hello
    from ..stages.negotiation import ServerConfig, negotiate

    hello = build_client_hello(
        "lab.example",
        cipher_suites=[
            CipherSuite.TLS_AES_128_GCM_SHA256,
            CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
            CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        ],
        groups=[NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1],
        key_share_groups=[NamedGroup.x25519],
        rng=seeded_rng("negotiation exercise"),
    )
    config = ServerConfig(
        cipher_suites=(
            CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
            CipherSuite.TLS_AES_128_GCM_SHA256,
        ),
        groups=(NamedGroup.secp384r1, NamedGroup.secp256r1),
        prefer_server_order=True,
    )
    truth = negotiate(hello, config)

    def check(answer: Any) -> list[Finding]:
        if not isinstance(answer, dict):
            return [
                Finding(
                    "answer",
                    "give a dict with keys version, cipher_suite, group, hello_retry_request",
                )
            ]
        findings: list[Finding] = []
        missing = {"version", "cipher_suite", "group", "hello_retry_request"} - set(answer)
        if missing:
            return [Finding("answer", f"missing keys: {sorted(missing)}")]
        given: dict[str, Any] = {}
        for key, enum, example in (
            ("version", ProtocolVersion, "ProtocolVersion.TLS13, 'TLS 1.3' or 0x0304"),
            ("cipher_suite", CipherSuite, "CipherSuite.TLS_AES_128_GCM_SHA256 or 0x1301"),
            ("group", NamedGroup, "NamedGroup.x25519 or 'x25519'"),
        ):
            value = _as_code_point(enum, answer[key])
            if value is None:
                findings.append(
                    Finding(key, f"{answer[key]!r} is not a {enum.__name__}: write e.g. {example}")
                )
            given[key] = value
        retry = _as_yes_no(answer["hello_retry_request"])
        if retry is None:
            findings.append(
                Finding(
                    "hello_retry_request",
                    f"{answer['hello_retry_request']!r}: answer True or False",
                )
            )
        if findings:
            return findings
        answer = {**given, "hello_retry_request": retry}
        if answer["version"] != truth.version:
            findings.append(
                Finding(
                    "version",
                    "both sides support TLS 1.3, and the server picks the highest common version",
                )
            )
        if answer["cipher_suite"] != truth.cipher_suite:
            why = (
                "the server prefers its own order here, so its first suite that the client also offered wins"
                if answer["cipher_suite"] == CipherSuite.TLS_AES_128_GCM_SHA256
                else "a TLS 1.3 handshake can only use a TLS 1.3 suite that both sides list"
            )
            findings.append(Finding("cipher_suite", why))
        if answer["group"] != truth.group:
            why = (
                "x25519 is the client's share, but the server does not support x25519"
                if answer["group"] == NamedGroup.x25519
                else "the server asks for its own favourite among the groups both support"
            )
            findings.append(Finding("group", why))
        if bool(answer["hello_retry_request"]) != truth.hello_retry_request:
            findings.append(
                Finding(
                    "hello_retry_request",
                    "the client sent no share for the chosen group, so the server must ask for one",
                )
            )
        return findings

    return Exercise(
        name="02.1 predict the negotiation",
        prompt=(
            "The client offers TLS 1.3 and 1.2; suites [TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256, "
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]; groups [x25519, secp256r1, secp384r1] with a key share "
            "for x25519 only. The server supports suites [TLS_CHACHA20_POLY1305_SHA256, TLS_AES_128_GCM_SHA256] "
            "and groups [secp384r1, secp256r1], and prefers its own order. Predict version, cipher_suite, group "
            "and hello_retry_request (a dict)."
        ),
        checker=check,
        hints=(
            "Is any of the client's key shares usable by this server?",
            "With server preference, walk the server's list and take the first item the client offered.",
        ),
    )


# -- Notebook 04: Diffie-Hellman with small numbers -------------------------------


def small_dh_exercise(p: int = 23, g: int = 5, a: int = 6, b: int = 15) -> Exercise:
    """Compute the shared Diffie-Hellman value for small numbers, as the client would."""
    big_a, big_b = pow(g, a, p), pow(g, b, p)
    right = pow(big_b, a, p)

    def check(answer: Any) -> list[Finding]:
        if not isinstance(answer, int) or isinstance(answer, bool):
            return [Finding("answer", f"give a whole number, got {answer!r}")]
        if answer == right:
            return []
        if answer == big_a:
            return [
                Finding(
                    "shared secret",
                    f"{answer} is A = g^a mod p, the client's *public* value that anyone can see",
                )
            ]
        if answer == big_b:
            return [
                Finding(
                    "shared secret",
                    f"{answer} is B, the server's public value: raise it to the client's secret a",
                )
            ]
        if answer == pow(g, a * b):
            return [
                Finding(
                    "shared secret",
                    "right exponent, but reduce modulo p: the secret is g^(ab) mod p",
                )
            ]
        if answer == (big_a * big_b) % p:
            return [
                Finding(
                    "shared secret",
                    "multiplying the public values gives g^(a+b), which an eavesdropper can "
                    "compute too; raise B to the power a instead",
                )
            ]
        if not 0 < answer < p:
            return [Finding("shared secret", f"the result of 'mod {p}' lies between 1 and {p - 1}")]
        return [Finding("shared secret", "not B^a mod p; recompute B = g^b mod p first")]

    return Exercise(
        name="04.1 Diffie-Hellman by hand",
        prompt=f"With p = {p}, g = {g}, the client's secret a = {a} and the server's b = {b}: "
        "what shared value does the client compute?",
        checker=check,
        hints=(
            "The client receives B = g^b mod p from the server.",
            "It then computes B^a mod p: pow(B, a, p).",
        ),
    )


# -- Notebook 03: which check catches it? ---------------------------------------


def _check_names() -> list[str]:
    """Every check validate_chain can report: those run on a healthy chain plus the gallery's."""
    from ..pki.certificates import LAB_NOW
    from ..pki.validation import validate_chain
    from .gallery import HOST, gallery, healthy_chain

    healthy = healthy_chain()
    report = validate_chain(
        healthy.leaf.certificate,
        healthy.intermediate_certificates,
        healthy.trust_roots,
        HOST,
        LAB_NOW,
    )
    names = {c.check for c in report.checks}
    for exhibit in gallery():
        names |= {c.check for c in exhibit.validate().checks}
    return sorted(names)


def exercise_exhibits() -> list[Any]:
    """Broken chains used only by exercises, so the gallery printout in notebook 03 gives nothing away."""
    from .gallery import BrokenChain, healthy_chain

    return [
        BrokenChain(
            "two intermediates under pathLen 1",
            "the root allows one intermediate below it (pathLenConstraint 1), and the chain has two",
            "pathLenConstraint",
            "bad_certificate",
            healthy_chain(intermediates=2, root_options={"path_length": 1}),
        ),
        BrokenChain(
            "leaf claims to be a CA",
            "the server's own certificate carries basicConstraints cA=TRUE",
            "leaf is not a CA",
            "bad_certificate",
            healthy_chain(leaf_options={"ca": True}),
        ),
    ]


def which_check_exercise(exhibit_name: str = "two intermediates under pathLen 1") -> Exercise:
    """Name the validation check that rejects a broken chain (without running the validator first).

    The default exhibit is not in notebook 03's gallery printout, so the answer is not on screen."""
    from .gallery import gallery

    exhibit = next(g for g in [*exercise_exhibits(), *gallery()] if g.name == exhibit_name)
    report = exhibit.validate()
    names = _check_names()
    ran = {c.check for c in report.checks}

    def check(answer: Any) -> list[Finding]:
        if not isinstance(answer, str):
            return [Finding("answer", "give the check's name as a string, e.g. 'validity period'")]
        answer = answer.strip()
        if answer == exhibit.catches_it:
            return []
        passed = [c for c in report.checks if c.check == answer and c.ok]
        if passed:
            return [
                Finding(
                    answer,
                    f"that check passed for this chain ({passed[0].detail}); look further along the path",
                )
            ]
        same = [n for n in names if n.lower() == answer.lower() and n != answer]
        if same:
            return [Finding("answer", f"check names are case-sensitive: did you mean {same[0]!r}?")]
        if answer not in names:
            return [
                Finding(
                    "answer", f"no check is called {answer!r}; the checks are: {', '.join(names)}"
                )
            ]
        if answer not in ran:
            return [
                Finding(
                    answer,
                    "that check did not reject this chain: it passed, or validation stopped before it",
                )
            ]
        return [Finding(answer, "that check ran and is not the one that failed")]

    return Exercise(
        name="03.1 which check catches it?",
        prompt=f"Exhibit '{exhibit.name}': {exhibit.what}. Which check of validate_chain rejects it?",
        checker=check,
        hints=(
            "Think about which certificate is wrong: the leaf, the intermediate or the root.",
            "Constraints written in a CA certificate are checked when that CA is the issuer.",
        ),
    )


# -- Notebook 08: the state machine ------------------------------------------------


def state_exercise() -> Exercise:
    """After receiving EncryptedExtensions, which state is a TLS 1.3 client in? (read it off the table)"""
    from ..constants import HandshakeType
    from ..engine.state import TRANSITIONS, State

    right = TRANSITIONS[("client", State.WAIT_EE, HandshakeType.encrypted_extensions)][1]

    def check(answer: Any) -> list[Finding]:
        name = answer.value if isinstance(answer, State) else answer
        if not isinstance(name, str):
            return [
                Finding(
                    "answer", "give a state name such as 'WAIT_CV' (or a tlslab.engine.state.State)"
                )
            ]
        if name == right.value:
            return []
        if name not in {s.value for s in State}:
            return [Finding("answer", f"{name!r} is not a state; see tlslab.engine.state.State")]
        if name == State.WAIT_CERT.value:
            return [
                Finding(
                    name,
                    "WAIT_CERT is only reached after a CertificateRequest; right after "
                    "EncryptedExtensions the server may still send either",
                )
            ]
        if name == State.WAIT_EE.value:
            return [Finding(name, "that is the state *before* EncryptedExtensions arrives")]
        return [
            Finding(
                name,
                "follow the table: TRANSITIONS[('client', State.WAIT_EE, encrypted_extensions)]",
            )
        ]

    return Exercise(
        name="08.1 read the state machine",
        prompt="A TLS 1.3 client has just processed EncryptedExtensions. Which state is it in now?",
        checker=check,
        hints=(
            "After EncryptedExtensions the server sends either CertificateRequest or Certificate.",
        ),
    )


# -- Notebook 09: what stopped the attack? -------------------------------------------


def defence_exercise() -> Exercise:
    """Match an attack to the mechanism that defeats it."""
    right = {
        "downgrade": "downgrade sentinel",
        "suite stripping": "Finished",
        "forged certificate": "certificate validation",
        "recorded RSA session": "forward secrecy",
    }
    options = sorted(set(right.values()))

    def check(answer: Any) -> list[Finding]:
        if not isinstance(answer, dict):
            return [
                Finding("answer", f"give a dict from attack to defence; attacks: {sorted(right)}")
            ]
        findings = []
        for attack, defence in right.items():
            given = answer.get(attack)
            if given is None:
                findings.append(Finding(attack, "missing: every attack needs a defence"))
            elif given not in options:
                findings.append(Finding(attack, f"{given!r} is not one of the defences {options}"))
            elif given != defence:
                why = {
                    "downgrade": "the server's random ends with DOWNGRD 01, which the attacker cannot change",
                    "suite stripping": "both sides MAC the transcript they saw; the edit makes them differ",
                    "forged certificate": "the chain does not end at a root the client trusts",
                    "recorded RSA session": "with (EC)DHE the session key never crossed the wire",
                }[attack]
                findings.append(Finding(attack, f"not {given!r}: {why}"))
        return findings

    return Exercise(
        name="09.1 which defence stops which attack?",
        prompt=f"Map each attack {sorted(right)} to the defence that stops it, one of {options}.",
        checker=check,
        hints=(
            "Two of the defences check the handshake itself; one checks identity; one is about keys.",
        ),
    )


# -- Notebook 00: what travels in the clear? ----------------------------------------------


def encrypted_messages_exercise() -> Exercise:
    """Which handshake messages does an observer on the wire see in TLS 1.3?"""
    clear = {"ClientHello", "ServerHello"}
    encrypted = {"EncryptedExtensions", "Certificate", "CertificateVerify", "Finished"}

    def check(answer: Any) -> list[Finding]:
        if not isinstance(answer, (set, list, tuple)):
            return [Finding("answer", "give a set of message names, e.g. {'ClientHello'}")]
        given = set(answer)
        unknown = given - clear - encrypted
        if unknown:
            return [
                Finding(
                    "answer",
                    f"{sorted(unknown)} are not TLS 1.3 handshake messages of a full handshake; "
                    f"choose from {sorted(clear | encrypted)}",
                )
            ]
        findings = []
        for name in sorted(given & encrypted):
            why = (
                "the certificate travels encrypted in TLS 1.3 (in TLS 1.2 it did not)"
                if name == "Certificate"
                else "everything after the ServerHello is protected with the handshake keys"
            )
            findings.append(Finding(name, f"is encrypted: {why}"))
        for name in sorted(clear - given):
            findings.append(
                Finding(name, "is sent in the clear: no keys exist yet when it is sent")
            )
        return findings

    return Exercise(
        name="00.1 what does an eavesdropper see?",
        prompt="In a full TLS 1.3 handshake, which of ClientHello, ServerHello, EncryptedExtensions, "
        "Certificate, CertificateVerify and Finished travel in the clear? Give a set of names.",
        checker=check,
        hints=("Keys can be derived once both key shares are known.",),
    )
