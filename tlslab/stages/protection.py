"""Record protection: TLS 1.3 AEAD (RFC 8446 §5.2-5.3) and TLS 1.2 AEAD and CBC
(RFC 5246 §6.2.3, RFC 5288, RFC 7905, RFC 7366).

TLS 1.3::

    struct { opaque content[length]; ContentType type; uint8 zeros[length_of_padding]; } TLSInnerPlaintext;
    nonce            = iv XOR (sequence number as 64 bits, left-padded with zeros to iv length)
    additional_data  = TLSCiphertext.opaque_type || legacy_record_version || length   (the record header)
    encrypted_record = AEAD-Encrypt(write_key, nonce, additional_data, TLSInnerPlaintext)

TLS 1.2 AEAD::

    additional_data = seq_num + TLSCompressed.type + TLSCompressed.version + TLSCompressed.length
    AES-GCM:  nonce = salt (4 bytes, from the key block) || nonce_explicit (8 bytes, sent in the record)
    ChaCha20: nonce = iv (12 bytes) XOR padded seq_num, nothing explicit (RFC 7905 §2)

TLS 1.2 CBC (MAC-then-encrypt, or encrypt-then-MAC when RFC 7366 was negotiated)::

    MAC = HMAC(MAC_write_key, seq_num + type + version + length + content)
    fragment = IV || CBC-Encrypt(content || MAC || padding || padding_length)

Every failure to open a record raises :class:`~tlslab.errors.BadRecordMac` with the same
message, whatever went wrong inside: telling padding errors from MAC errors is exactly
the padding oracle of notebook 09. Sequence numbers count per direction and per key.

Taught in notebook 07_record_protection.
"""

from __future__ import annotations

import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import constant_time
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from ..constants import ContentType, ProtocolVersion
from ..errors import BadRecordMac, RecordOverflow, UnexpectedMessage
from ..rng import Rng, system_rng
from ..wire.record import MAX_CIPHERTEXT_13, MAX_PLAINTEXT, TLSPlaintext
from .keyschedule import TrafficKeys, hmac_digest
from .suites import SuiteInfo

_HEADER = struct.Struct(">BHH")  # a record header: type, legacy_record_version, length
_AAD12 = struct.Struct(">QBHH")  # seq_num, type, version, length
_TYPE_BYTE = [bytes([i]) for i in range(256)]
# Enum members read once (an IntEnum attribute lookup costs more than the XOR of a nonce).
_APPLICATION_DATA = ContentType.application_data  # the outer type of every TLS 1.3 record
_TLS12 = ProtocolVersion.TLS12  # the outer legacy_record_version of every TLS 1.3 record

_BAD_RECORD = (
    "record failed authentication (wrong key, wrong sequence number, or altered in transit)"
)


def _aead(suite: SuiteInfo, key: bytes) -> AESGCM | ChaCha20Poly1305:
    if suite.cipher == "CHACHA20-POLY1305":
        return ChaCha20Poly1305(key)
    return AESGCM(key)


def xor_nonce(iv: bytes, seq: int) -> bytes:
    """iv XOR the 64-bit sequence number left-padded to the IV length (RFC 8446 §5.3, RFC 7905 §2).

    Both are read as big-endian integers, so the left padding with zeros is implicit."""
    return (int.from_bytes(iv, "big") ^ seq).to_bytes(len(iv), "big")


class RecordProtection13:
    """One direction of TLS 1.3 record protection under one traffic key."""

    def __init__(self, suite: SuiteInfo, keys: TrafficKeys) -> None:
        self.suite = suite
        self.keys = keys
        self.seq = 0
        self._aead = _aead(suite, keys.key)

    def seal(self, content_type: int, content: bytes, padding: int = 0) -> TLSPlaintext:
        """Protect ``content``; returns the TLSCiphertext record (outer type application_data)."""
        if len(content) > MAX_PLAINTEXT:
            raise RecordOverflow(
                "plaintext longer than 2^14", expected=f"<= {MAX_PLAINTEXT}", seen=len(content)
            )
        # TLSInnerPlaintext = content || ContentType || zeros (RFC 8446 §5.2)
        inner = content + _TYPE_BYTE[content_type]
        if padding:
            inner += bytes(padding)
        # additional_data = opaque_type (23) || legacy_record_version (0x0303) || length
        header = _HEADER.pack(_APPLICATION_DATA, _TLS12, len(inner) + 16)
        nonce = xor_nonce(self.keys.iv, self.seq)
        encrypted = self._aead.encrypt(nonce, inner, header)
        self.seq += 1
        return TLSPlaintext(_APPLICATION_DATA, encrypted, _TLS12)

    def open(self, record: TLSPlaintext) -> tuple[int, bytes]:
        """Authenticate and decrypt; returns (inner content type, content)."""
        if record.type != _APPLICATION_DATA:
            raise UnexpectedMessage(
                "protected TLS 1.3 records have outer type application_data",
                expected=23,
                seen=record.type,
            )
        if len(record.fragment) > MAX_CIPHERTEXT_13:
            raise RecordOverflow("ciphertext longer than 2^14 + 256", seen=len(record.fragment))
        nonce = xor_nonce(self.keys.iv, self.seq)
        try:
            inner = self._aead.decrypt(nonce, record.fragment, record.header())
        except InvalidTag:
            raise BadRecordMac(
                _BAD_RECORD, expected=f"a valid tag for sequence number {self.seq}"
            ) from None
        self.seq += 1
        # TLSInnerPlaintext = content || type || zeros: the type is the last non-zero byte.
        end = len(inner) if inner[-1:] != b"\x00" else len(inner.rstrip(b"\x00"))
        if not end:
            raise UnexpectedMessage(
                "TLSInnerPlaintext has no non-zero content type (RFC 8446 §5.4)"
            )
        if end - 1 > MAX_PLAINTEXT:
            raise RecordOverflow("decrypted content longer than 2^14", seen=end - 1)
        return inner[end - 1], inner[: end - 1]


def _aad12(seq: int, content_type: int, version: int, length: int) -> bytes:
    """seq_num(8) + type(1) + version(2) + length(2), the TLS 1.2 MAC/AEAD input header."""
    return _AAD12.pack(seq, content_type, version, length)


class RecordProtection12:
    """One direction of TLS 1.2 record protection: AEAD (GCM, ChaCha20-Poly1305) or CBC + HMAC."""

    def __init__(
        self,
        suite: SuiteInfo,
        key: bytes,
        iv: bytes,
        mac_key: bytes = b"",
        *,
        encrypt_then_mac: bool = False,
        rng: Rng = system_rng,
        version: int = ProtocolVersion.TLS12,
    ) -> None:
        self.suite = suite
        self.key = key
        self.iv = iv
        self.mac_key = mac_key
        self.encrypt_then_mac = encrypt_then_mac
        self.rng = rng
        self.version = version
        self.seq = 0
        self._aead = _aead(suite, key) if suite.is_aead else None

    # -- sealing ----------------------------------------------------------------
    def seal(self, content_type: int, content: bytes) -> TLSPlaintext:
        if len(content) > MAX_PLAINTEXT:
            raise RecordOverflow(
                "plaintext longer than 2^14", expected=f"<= {MAX_PLAINTEXT}", seen=len(content)
            )
        aad = _aad12(self.seq, content_type, self.version, len(content))
        if self._aead is not None:
            if self.suite.cipher == "CHACHA20-POLY1305":
                fragment = self._aead.encrypt(xor_nonce(self.iv, self.seq), content, aad)
            else:
                explicit = self.seq.to_bytes(8, "big")
                fragment = explicit + self._aead.encrypt(self.iv + explicit, content, aad)
        else:
            fragment = self._seal_cbc(content_type, content, aad)
        self.seq += 1
        return TLSPlaintext(content_type, fragment, self.version)

    def _seal_cbc(self, content_type: int, content: bytes, aad: bytes) -> bytes:
        mac_name = self.suite.mac_name or "sha1"
        record_iv = self.rng(16)
        if self.encrypt_then_mac:
            body = record_iv + _cbc_encrypt(self.key, record_iv, _pad(content))
            header = aad[:11] + len(body).to_bytes(2, "big")
            return body + hmac_digest(mac_name, self.mac_key, header + body)
        mac = hmac_digest(mac_name, self.mac_key, aad + content)
        return record_iv + _cbc_encrypt(self.key, record_iv, _pad(content + mac))

    # -- opening ----------------------------------------------------------------
    def open(self, record: TLSPlaintext) -> bytes:
        """Authenticate and decrypt one record; any failure is bad_record_mac."""
        if self._aead is not None:
            content = self._open_aead(record)
        else:
            content = self._open_cbc(record)
        self.seq += 1
        if len(content) > MAX_PLAINTEXT:
            raise RecordOverflow("decrypted content longer than 2^14", seen=len(content))
        return content

    def _open_aead(self, record: TLSPlaintext) -> bytes:
        assert self._aead is not None
        fragment = record.fragment
        if self.suite.cipher == "CHACHA20-POLY1305":
            nonce, ciphertext = xor_nonce(self.iv, self.seq), fragment
        else:
            if len(fragment) < 8 + 16:
                raise BadRecordMac(_BAD_RECORD, expected=">= 24 bytes", seen=len(fragment))
            nonce, ciphertext = self.iv + fragment[:8], fragment[8:]
        if len(ciphertext) < 16:
            raise BadRecordMac(_BAD_RECORD, expected=">= 16 bytes of tag", seen=len(ciphertext))
        aad = _aad12(self.seq, record.type, record.legacy_record_version, len(ciphertext) - 16)
        try:
            return self._aead.decrypt(nonce, ciphertext, aad)
        except InvalidTag:
            raise BadRecordMac(
                _BAD_RECORD, expected=f"a valid tag for sequence number {self.seq}"
            ) from None

    def _open_cbc(self, record: TLSPlaintext) -> bytes:
        mac_name = self.suite.mac_name or "sha1"
        mac_len = self.suite.mac_length
        fragment = record.fragment
        if self.encrypt_then_mac:
            body, tag = fragment[:-mac_len], fragment[-mac_len:]
            if len(fragment) < mac_len + 32 or len(body) % 16:
                raise BadRecordMac(_BAD_RECORD)
            header = _aad12(self.seq, record.type, record.legacy_record_version, len(body))
            if not constant_time.bytes_eq(hmac_digest(mac_name, self.mac_key, header + body), tag):
                raise BadRecordMac(_BAD_RECORD)
            content = _unpad(_cbc_decrypt(self.key, body[:16], body[16:]))
            if content is None:
                raise BadRecordMac(_BAD_RECORD)
            return content
        if len(fragment) < 16 + max(16, mac_len + 1) or len(fragment) % 16:
            raise BadRecordMac(_BAD_RECORD)
        padded = _cbc_decrypt(self.key, fragment[:16], fragment[16:])
        unpadded = _unpad(padded)
        # Compute a MAC even when the padding is bad, so both failures cost about the same
        # (the Lucky Thirteen attack shows "about" is not enough; tlslab is for learning).
        candidate = (
            unpadded
            if unpadded is not None and len(unpadded) >= mac_len
            else padded[: len(padded) - mac_len]
        )
        content, tag = candidate[: len(candidate) - mac_len], candidate[len(candidate) - mac_len :]
        aad = _aad12(self.seq, record.type, record.legacy_record_version, len(content))
        good_mac = constant_time.bytes_eq(hmac_digest(mac_name, self.mac_key, aad + content), tag)
        if unpadded is None or not good_mac:
            raise BadRecordMac(_BAD_RECORD)
        return content


def _pad(data: bytes) -> bytes:
    """RFC 5246 §6.2.3.2: padding bytes all equal padding_length, then padding_length itself."""
    n = 15 - len(data) % 16
    return data + bytes([n]) * (n + 1)


def _unpad(data: bytes) -> bytes | None:
    if not data:
        return None
    n = data[-1]
    if n + 1 > len(data) or data[-(n + 1) :] != bytes([n]) * (n + 1):
        return None
    return data[: -(n + 1)]


def _cbc_encrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(data) + enc.finalize()


def _cbc_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return dec.update(data) + dec.finalize()
