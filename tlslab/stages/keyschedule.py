"""Key derivation for TLS 1.2 (RFC 5246 §5, §8.1, §6.3; RFC 7627) and TLS 1.3 (RFC 8446 §7).

Every function is one line of the RFC. Read them beside the RFC text:

TLS 1.2::

    PRF(secret, label, seed) = P_<hash>(secret, label + seed)
    master_secret = PRF(pre_master_secret, "master secret",
                        ClientHello.random + ServerHello.random)[0..47]
    master_secret = PRF(pre_master_secret, "extended master secret", session_hash)[0..47]
    key_block = PRF(SecurityParameters.master_secret, "key expansion",
                    SecurityParameters.server_random + SecurityParameters.client_random)

TLS 1.3 (the schedule of RFC 8446 §7.1)::

              0
              |
    PSK ->  HKDF-Extract = Early Secret
              +-----> Derive-Secret(., "ext binder" | "res binder", "") = binder_key
              +-----> Derive-Secret(., "c e traffic", ClientHello)
              v
        Derive-Secret(., "derived", "")
              |
    (EC)DHE -> HKDF-Extract = Handshake Secret
              +-----> Derive-Secret(., "c hs traffic", ClientHello...ServerHello)
              +-----> Derive-Secret(., "s hs traffic", ClientHello...ServerHello)
              v
        Derive-Secret(., "derived", "")
              |
    0 -> HKDF-Extract = Master Secret
              +-----> Derive-Secret(., "c ap traffic", ClientHello...server Finished)
              +-----> Derive-Secret(., "s ap traffic", ClientHello...server Finished)
              +-----> Derive-Secret(., "exp master", ClientHello...server Finished)
              +-----> Derive-Secret(., "res master", ClientHello...client Finished)

``cryptography`` does every primitive (HMAC, HKDF-Expand); these functions only
compose them. Taught in notebook 05_key_derivation.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from ..errors import EncodeError
from ..rng import Rng, system_rng
from .suites import SuiteInfo

if TYPE_CHECKING:
    from .protection import RecordProtection12

# One instance per hash: cryptography's hash algorithm objects are immutable descriptions, so the
# ~40 HMAC/HKDF calls of a handshake share them instead of building a new one each time.
_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha1": hashes.SHA1(),
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}
_EMPTY_HASHES: dict[str, bytes] = {}


def hash_algorithm(name: str) -> hashes.HashAlgorithm:
    """``"sha256"`` -> ``cryptography``'s SHA256()."""
    return _HASHES[name]


def hash_length(name: str) -> int:
    return _HASHES[name].digest_size


def digest(name: str, data: bytes) -> bytes:
    """Hash(data)."""
    h = hashes.Hash(hash_algorithm(name))
    h.update(data)
    return h.finalize()


def hmac_digest(name: str, key: bytes, data: bytes) -> bytes:
    """HMAC_hash(key, data) (RFC 2104)."""
    mac = hmac.HMAC(key, hash_algorithm(name))
    mac.update(data)
    return mac.finalize()


# ---------------------------------------------------------------------------
# TLS 1.2: the PRF (RFC 5246 §5)
# ---------------------------------------------------------------------------


def p_hash(secret: bytes, seed: bytes, length: int, hash_name: str = "sha256") -> bytes:
    """P_hash(secret, seed) = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + ...

    where A(0) = seed and A(i) = HMAC(secret, A(i-1)); output cut to ``length`` bytes.
    """
    out = b""
    a = seed  # A(0)
    while len(out) < length:
        a = hmac_digest(hash_name, secret, a)  # A(i)
        out += hmac_digest(hash_name, secret, a + seed)
    return out[:length]


def prf(
    secret: bytes, label: bytes | str, seed: bytes, length: int, hash_name: str = "sha256"
) -> bytes:
    """PRF(secret, label, seed) = P_<hash>(secret, label + seed)  (RFC 5246 §5).

    TLS 1.2 uses SHA-256 unless the cipher suite names SHA-384.
    """
    label_bytes = label.encode("ascii") if isinstance(label, str) else label
    return p_hash(secret, label_bytes + seed, length, hash_name)


def master_secret(
    pre_master_secret: bytes, client_random: bytes, server_random: bytes, hash_name: str = "sha256"
) -> bytes:
    """RFC 5246 §8.1: PRF(pre_master_secret, "master secret", client_random + server_random)[0..47]."""
    return prf(pre_master_secret, b"master secret", client_random + server_random, 48, hash_name)


def extended_master_secret(
    pre_master_secret: bytes, session_hash: bytes, hash_name: str = "sha256"
) -> bytes:
    """RFC 7627 §4: PRF(pre_master_secret, "extended master secret", session_hash)[0..47].

    ``session_hash`` is the hash of the handshake messages up to and including
    ClientKeyExchange, which binds the master secret to this very handshake.
    """
    return prf(pre_master_secret, b"extended master secret", session_hash, 48, hash_name)


@dataclass(frozen=True)
class KeyBlock:
    """The key block cut into its parts, in RFC 5246 §6.3 order."""

    client_write_MAC_key: bytes
    server_write_MAC_key: bytes
    client_write_key: bytes
    server_write_key: bytes
    client_write_IV: bytes
    server_write_IV: bytes

    def __repr__(self) -> str:
        parts = ", ".join(f"{f.name}={getattr(self, f.name).hex() or '-'}" for f in fields(self))
        return f"KeyBlock({parts})"


def key_block(
    master: bytes, client_random: bytes, server_random: bytes, suite: SuiteInfo
) -> KeyBlock:
    """RFC 5246 §6.3: key_block = PRF(master_secret, "key expansion", server_random + client_random).

    Note the order of the randoms: server first here, client first in master_secret.
    The block is cut into MAC keys, cipher keys and IVs as the suite requires
    (AEAD suites: no MAC keys; GCM: a 4-byte implicit salt; ChaCha20: a 12-byte IV).
    """
    mac, key, iv = suite.mac_length, suite.key_length, suite.fixed_iv_length
    block = prf(
        master,
        b"key expansion",
        server_random + client_random,
        2 * (mac + key + iv),
        suite.hash_name,
    )
    sizes = (mac, mac, key, key, iv, iv)
    parts: list[bytes] = []
    at = 0
    for size in sizes:
        parts.append(block[at : at + size])
        at += size
    return KeyBlock(*parts)


def verify_data_12(
    master: bytes, label: str, handshake_hash: bytes, hash_name: str = "sha256"
) -> bytes:
    """RFC 5246 §7.4.9: PRF(master_secret, finished_label, Hash(handshake_messages))[0..11].

    ``label`` is "client finished" or "server finished".
    """
    return prf(master, label.encode("ascii"), handshake_hash, 12, hash_name)


# ---------------------------------------------------------------------------
# TLS 1.3: HKDF (RFC 5869) as RFC 8446 §7.1 uses it
# ---------------------------------------------------------------------------


def hkdf_extract(salt: bytes, ikm: bytes, hash_name: str = "sha256") -> bytes:
    """HKDF-Extract(salt, IKM) = HMAC-Hash(salt, IKM)  (RFC 5869 §2.2)."""
    return hmac_digest(hash_name, salt or bytes(hash_length(hash_name)), ikm)


def hkdf_label(label: str, context: bytes, length: int) -> bytes:
    """The HkdfLabel struct (RFC 8446 §7.1)::

    struct {
        uint16 length = Length;
        opaque label<7..255> = "tls13 " + Label;
        opaque context<0..255> = Context;
    } HkdfLabel;
    """
    full_label = b"tls13 " + label.encode("ascii")
    if not 0 <= length <= 0xFFFF:
        raise EncodeError("length out of bounds", expected="0..65535", seen=length)
    if not 7 <= len(full_label) <= 255:
        raise EncodeError("label length out of bounds", expected="7..255", seen=len(full_label))
    if len(context) > 255:
        raise EncodeError("context length out of bounds", expected="0..255", seen=len(context))
    uint16_length = length.to_bytes(2, "big")
    opaque_label = len(full_label).to_bytes(1, "big") + full_label
    opaque_context = len(context).to_bytes(1, "big") + context
    return uint16_length + opaque_label + opaque_context


def hkdf_expand_label(
    secret: bytes, label: str, context: bytes, length: int, hash_name: str = "sha256"
) -> bytes:
    """HKDF-Expand-Label(Secret, Label, Context, Length) = HKDF-Expand(Secret, HkdfLabel, Length)."""
    return HKDFExpand(hash_algorithm(hash_name), length, hkdf_label(label, context, length)).derive(
        secret
    )


def derive_secret(
    secret: bytes, label: str, transcript_hash: bytes, hash_name: str = "sha256"
) -> bytes:
    """Derive-Secret(Secret, Label, Messages) = HKDF-Expand-Label(Secret, Label, Transcript-Hash(Messages), Hash.length).

    Pass the transcript hash of the messages (see ``transcript.py``), not the messages.
    """
    return hkdf_expand_label(secret, label, transcript_hash, hash_length(hash_name), hash_name)


def empty_hash(hash_name: str = "sha256") -> bytes:
    """Transcript-Hash("") : the hash of no messages, used by the "derived" steps (a constant,
    computed once per hash)."""
    value = _EMPTY_HASHES.get(hash_name)
    if value is None:
        value = _EMPTY_HASHES[hash_name] = digest(hash_name, b"")
    return value


def early_secret(psk: bytes | None = None, hash_name: str = "sha256") -> bytes:
    """Early Secret = HKDF-Extract(0, PSK), with a string of Hash.length zeros when there is no PSK."""
    return hkdf_extract(
        bytes(hash_length(hash_name)), psk or bytes(hash_length(hash_name)), hash_name
    )


def handshake_secret(early: bytes, shared_secret: bytes, hash_name: str = "sha256") -> bytes:
    """Handshake Secret = HKDF-Extract(Derive-Secret(Early Secret, "derived", ""), (EC)DHE)."""
    return hkdf_extract(
        derive_secret(early, "derived", empty_hash(hash_name), hash_name), shared_secret, hash_name
    )


def master_secret_13(handshake: bytes, hash_name: str = "sha256") -> bytes:
    """Master Secret = HKDF-Extract(Derive-Secret(Handshake Secret, "derived", ""), 0)."""
    salt = derive_secret(handshake, "derived", empty_hash(hash_name), hash_name)
    return hkdf_extract(salt, bytes(hash_length(hash_name)), hash_name)


@dataclass(frozen=True)
class TrafficKeys:
    """A traffic secret's record-protection key and IV (RFC 8446 §7.3)."""

    key: bytes
    iv: bytes

    def __repr__(self) -> str:
        return f"TrafficKeys(key={self.key.hex()}, iv={self.iv.hex()})"


def traffic_keys(secret: bytes, suite: SuiteInfo) -> TrafficKeys:
    """[sender]_write_key = HKDF-Expand-Label(Secret, "key", "", key_length);
    [sender]_write_iv = HKDF-Expand-Label(Secret, "iv", "", iv_length)."""
    return TrafficKeys(
        hkdf_expand_label(secret, "key", b"", suite.key_length, suite.hash_name),
        hkdf_expand_label(secret, "iv", b"", 12, suite.hash_name),
    )


def next_traffic_secret(secret: bytes, hash_name: str = "sha256") -> bytes:
    """application_traffic_secret_N+1 = HKDF-Expand-Label(application_traffic_secret_N, "traffic upd", "", Hash.length)
    (RFC 8446 §7.2, used by KeyUpdate)."""
    return hkdf_expand_label(secret, "traffic upd", b"", hash_length(hash_name), hash_name)


def finished_key(base_key: bytes, hash_name: str = "sha256") -> bytes:
    """finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length)  (RFC 8446 §4.4.4)."""
    return hkdf_expand_label(base_key, "finished", b"", hash_length(hash_name), hash_name)


def verify_data_13(base_key: bytes, transcript_hash: bytes, hash_name: str = "sha256") -> bytes:
    """verify_data = HMAC(finished_key, Transcript-Hash(Handshake Context, Certificate*, CertificateVerify*))."""
    return hmac_digest(hash_name, finished_key(base_key, hash_name), transcript_hash)


def resumption_psk(
    resumption_master_secret: bytes, ticket_nonce: bytes, hash_name: str = "sha256"
) -> bytes:
    """PSK for a ticket = HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length)
    (RFC 8446 §4.6.1)."""
    return hkdf_expand_label(
        resumption_master_secret, "resumption", ticket_nonce, hash_length(hash_name), hash_name
    )


def binder_key(early: bytes, external: bool = False, hash_name: str = "sha256") -> bytes:
    """binder_key = Derive-Secret(Early Secret, "ext binder" | "res binder", "")."""
    return derive_secret(
        early, "ext binder" if external else "res binder", empty_hash(hash_name), hash_name
    )


def psk_binder(
    binder_key_: bytes, truncated_client_hello_hash: bytes, hash_name: str = "sha256"
) -> bytes:
    """A PSK binder (RFC 8446 §4.2.11.2): a Finished-style HMAC over the ClientHello
    truncated before the binders list."""
    return verify_data_13(binder_key_, truncated_client_hello_hash, hash_name)


def exporter_13(
    exporter_master_secret: bytes,
    label: str,
    context: bytes,
    length: int,
    hash_name: str = "sha256",
) -> bytes:
    """TLS-Exporter(label, context_value, key_length) = HKDF-Expand-Label(
    Derive-Secret(Secret, label, ""), "exporter", Hash(context_value), key_length)  (RFC 8446 §7.5)."""
    secret = derive_secret(exporter_master_secret, label, empty_hash(hash_name), hash_name)
    return hkdf_expand_label(secret, "exporter", digest(hash_name, context), length, hash_name)


@dataclass(frozen=True)
class Schedule13:
    """Every secret of one full TLS 1.3 handshake (RFC 8446 §7.1), by its RFC name."""

    hash_name: str
    early_secret: bytes
    handshake_secret: bytes
    client_handshake_traffic_secret: bytes
    server_handshake_traffic_secret: bytes
    master_secret: bytes
    client_application_traffic_secret_0: bytes
    server_application_traffic_secret_0: bytes
    exporter_master_secret: bytes
    resumption_master_secret: bytes | None = None

    def rows(self) -> list[tuple[str, str]]:
        """(name, hex) pairs in schedule order, for tables and plots."""
        return [
            (f.name, getattr(self, f.name).hex())
            for f in fields(self)
            if isinstance(getattr(self, f.name), bytes)
        ]

    def __repr__(self) -> str:
        return "Schedule13(\n" + "".join(f"  {n:38} {v}\n" for n, v in self.rows()) + ")"


def key_schedule_13(
    shared_secret: bytes,
    hello_hash: bytes,
    server_finished_hash: bytes,
    client_finished_hash: bytes | None = None,
    *,
    psk: bytes | None = None,
    hash_name: str = "sha256",
) -> Schedule13:
    """The whole TLS 1.3 schedule from the (EC)DHE secret and three transcript hashes:
    ClientHello..ServerHello, ClientHello..server Finished, ClientHello..client Finished."""
    early = early_secret(psk, hash_name)
    hs = handshake_secret(early, shared_secret, hash_name)
    ms = master_secret_13(hs, hash_name)
    return Schedule13(
        hash_name=hash_name,
        early_secret=early,
        handshake_secret=hs,
        client_handshake_traffic_secret=derive_secret(hs, "c hs traffic", hello_hash, hash_name),
        server_handshake_traffic_secret=derive_secret(hs, "s hs traffic", hello_hash, hash_name),
        master_secret=ms,
        client_application_traffic_secret_0=derive_secret(
            ms, "c ap traffic", server_finished_hash, hash_name
        ),
        server_application_traffic_secret_0=derive_secret(
            ms, "s ap traffic", server_finished_hash, hash_name
        ),
        exporter_master_secret=derive_secret(ms, "exp master", server_finished_hash, hash_name),
        resumption_master_secret=(
            derive_secret(ms, "res master", client_finished_hash, hash_name)
            if client_finished_hash is not None
            else None
        ),
    )


class KeySchedule13:
    """The TLS 1.3 key schedule of one connection, computed step by step as the handshake goes
    (RFC 8446 §7.1). Each step needs one transcript hash; the attributes carry the RFC's names.

    The engine (notebook 08) calls exactly these four steps; ``key_schedule_13`` computes the same
    secrets at once when every hash is known (notebook 05)::

        ks = KeySchedule13("sha256", psk=None)
        ks.handshake(shared_secret, hello_hash)          # Handshake Secret, c/s hs traffic
        ks.application(server_finished_hash)             # Master Secret, c/s ap traffic, exporter
        ks.resumption(client_finished_hash)              # resumption_master_secret
    """

    def __init__(self, hash_name: str, psk: bytes | None = None) -> None:
        self.hash_name = hash_name
        self.early_secret = early_secret(psk, hash_name)
        self.handshake_secret = b""
        self.client_handshake_traffic_secret = b""
        self.server_handshake_traffic_secret = b""
        self.master_secret = b""
        self.client_application_traffic_secret_0 = b""
        self.server_application_traffic_secret_0 = b""
        self.exporter_master_secret = b""
        self.resumption_master_secret = b""

    def handshake(self, shared_secret: bytes, hello_hash: bytes) -> dict[str, bytes]:
        """Handshake Secret and both handshake traffic secrets over ClientHello..ServerHello."""
        h = self.hash_name
        self.handshake_secret = handshake_secret(self.early_secret, shared_secret, h)
        self.client_handshake_traffic_secret = derive_secret(
            self.handshake_secret, "c hs traffic", hello_hash, h
        )
        self.server_handshake_traffic_secret = derive_secret(
            self.handshake_secret, "s hs traffic", hello_hash, h
        )
        return self._named("handshake_secret", "client_handshake_traffic_secret",
                           "server_handshake_traffic_secret")  # fmt: skip

    def application(self, server_finished_hash: bytes) -> dict[str, bytes]:
        """Master Secret, the application traffic secrets and the exporter secret over
        ClientHello..server Finished."""
        h, hs = self.hash_name, self.handshake_secret
        self.master_secret = master_secret_13(hs, h)
        ms = self.master_secret
        self.client_application_traffic_secret_0 = derive_secret(
            ms, "c ap traffic", server_finished_hash, h
        )
        self.server_application_traffic_secret_0 = derive_secret(
            ms, "s ap traffic", server_finished_hash, h
        )
        self.exporter_master_secret = derive_secret(ms, "exp master", server_finished_hash, h)
        return self._named("master_secret", "client_application_traffic_secret_0",
                           "server_application_traffic_secret_0", "exporter_master_secret")  # fmt: skip

    def resumption(self, client_finished_hash: bytes) -> dict[str, bytes]:
        """resumption_master_secret over ClientHello..client Finished (RFC 8446 §7.1, §4.6.1)."""
        self.resumption_master_secret = derive_secret(
            self.master_secret, "res master", client_finished_hash, self.hash_name
        )
        return self._named("resumption_master_secret")

    def handshake_traffic_secret(self, sender: str) -> bytes:
        """The handshake traffic secret of ``sender`` ("client" or "server")."""
        return getattr(self, f"{sender}_handshake_traffic_secret")  # type: ignore[no-any-return]

    def application_traffic_secret(self, sender: str) -> bytes:
        """The first application traffic secret of ``sender`` ("client" or "server")."""
        return getattr(self, f"{sender}_application_traffic_secret_0")  # type: ignore[no-any-return]

    def finished(self, sender: str, transcript_hash: bytes) -> bytes:
        """verify_data of ``sender``'s Finished (RFC 8446 §4.4.4), keyed by its handshake secret."""
        return verify_data_13(
            self.handshake_traffic_secret(sender), transcript_hash, self.hash_name
        )

    def ticket_psk(self, ticket_nonce: bytes) -> bytes:
        """The PSK a NewSessionTicket with ``ticket_nonce`` stands for (RFC 8446 §4.6.1)."""
        return resumption_psk(self.resumption_master_secret, ticket_nonce, self.hash_name)

    def schedule(self) -> Schedule13:
        """The secrets so far as a :class:`Schedule13` (after ``application``)."""
        return Schedule13(
            hash_name=self.hash_name,
            early_secret=self.early_secret,
            handshake_secret=self.handshake_secret,
            client_handshake_traffic_secret=self.client_handshake_traffic_secret,
            server_handshake_traffic_secret=self.server_handshake_traffic_secret,
            master_secret=self.master_secret,
            client_application_traffic_secret_0=self.client_application_traffic_secret_0,
            server_application_traffic_secret_0=self.server_application_traffic_secret_0,
            exporter_master_secret=self.exporter_master_secret,
            resumption_master_secret=self.resumption_master_secret or None,
        )

    def _named(self, *names: str) -> dict[str, bytes]:
        return {name: getattr(self, name) for name in names}

    def __repr__(self) -> str:
        done = [n for n in self._NAMES if getattr(self, n)]
        return f"<KeySchedule13 {self.hash_name}: {', '.join(done)}>"

    _NAMES = (
        "early_secret",
        "handshake_secret",
        "client_handshake_traffic_secret",
        "server_handshake_traffic_secret",
        "master_secret",
        "client_application_traffic_secret_0",
        "server_application_traffic_secret_0",
        "exporter_master_secret",
        "resumption_master_secret",
    )


@dataclass(frozen=True)
class Keys12:
    """A TLS 1.2 session's keys: the master secret (RFC 5246 §8.1, or RFC 7627 §4 when extended)
    and the key block cut into both directions' keys (RFC 5246 §6.3)."""

    master_secret: bytes
    key_block: KeyBlock
    suite: SuiteInfo
    extended: bool

    def __repr__(self) -> str:
        kind = "extended master secret" if self.extended else "master secret"
        return f"Keys12({kind}={self.master_secret.hex()[:32]}..., {self.key_block!r})"

    def protection(
        self, sender: str, *, encrypt_then_mac: bool = False, rng: Rng = system_rng
    ) -> RecordProtection12:
        """The record protection of what ``sender`` ("client" or "server") writes: its
        write key, IV and MAC key from the key block (RFC 5246 §6.3). The peer reads with it."""
        from .protection import RecordProtection12

        b = self.key_block
        key, iv, mac = (
            (b.client_write_key, b.client_write_IV, b.client_write_MAC_key)
            if sender == "client"
            else (b.server_write_key, b.server_write_IV, b.server_write_MAC_key)
        )
        return RecordProtection12(
            self.suite, key, iv, mac, encrypt_then_mac=encrypt_then_mac, rng=rng
        )

    def protection_pair(
        self, role: str, *, encrypt_then_mac: bool = False, rng: Rng = system_rng
    ) -> tuple[RecordProtection12, RecordProtection12]:
        """(reader, writer) for ``role``: it reads what its peer writes and writes its own."""
        peer = "server" if role == "client" else "client"
        return (
            self.protection(peer, encrypt_then_mac=encrypt_then_mac, rng=rng),
            self.protection(role, encrypt_then_mac=encrypt_then_mac, rng=rng),
        )

    def finished(self, sender: str, handshake_hash: bytes) -> bytes:
        """verify_data of ``sender``'s Finished (RFC 5246 §7.4.9)."""
        return verify_data_12(
            self.master_secret, f"{sender} finished", handshake_hash, self.suite.hash_name
        )


def keys_12(
    pre_master_secret: bytes,
    client_random: bytes,
    server_random: bytes,
    suite: SuiteInfo,
    session_hash: bytes | None = None,
) -> Keys12:
    """Pre-master secret -> master secret -> key block (RFC 5246 §8.1, §6.3).

    With ``session_hash`` (the transcript hash through ClientKeyExchange) the master secret is the
    extended one of RFC 7627 §4, bound to this very handshake. Taught in notebook 05."""
    if session_hash is not None:
        master = extended_master_secret(pre_master_secret, session_hash, suite.hash_name)
    else:
        master = master_secret(pre_master_secret, client_random, server_random, suite.hash_name)
    block = key_block(master, client_random, server_random, suite)
    return Keys12(master, block, suite, session_hash is not None)
