"""A minimal DER reader for the few X.509 encoding details ``cryptography`` does not expose
(the two signature-algorithm fields, the time encodings). Reading only, never building.

X.690 TLV: one tag byte (these structures never use high tag numbers), a length (short form
< 0x80, or 0x81..0x84 followed by that many length bytes), then the value.
"""

from __future__ import annotations


def _tlv(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, value start, value end) of the element at ``offset``; ValueError if malformed."""
    if offset + 2 > len(data):
        raise ValueError("DER element truncated")
    tag, first = data[offset], data[offset + 1]
    if first < 0x80:
        start, length = offset + 2, first
    else:
        count = first & 0x7F
        if not 1 <= count <= 4 or offset + 2 + count > len(data):
            raise ValueError("DER length malformed")
        length = int.from_bytes(data[offset + 2 : offset + 2 + count], "big")
        start = offset + 2 + count
    if start + length > len(data):
        raise ValueError("DER element overruns its container")
    return tag, start, start + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(tag, element start, value start, value end) of each element in data[start:end]."""
    out = []
    offset = start
    while offset < end:
        tag, vstart, vend = _tlv(data, offset)
        out.append((tag, offset, vstart, vend))
        offset = vend
    return out


Parts = tuple[list[tuple[int, int, int, int]], list[tuple[int, int, int, int]]]


def certificate_parts(der: bytes) -> Parts:
    """(the three elements of Certificate, the elements of tbsCertificate), each as (tag, element
    start, value start, value end). A validator reads them once per certificate and passes them
    to :func:`encoding_facts` and :func:`raw_names`."""
    return _certificate_parts(der)


def _certificate_parts(der: bytes) -> Parts:
    _, start, end = _tlv(der, 0)
    outer = _children(der, start, end)
    if len(outer) != 3:
        raise ValueError(
            "Certificate must be SEQUENCE { tbsCertificate, signatureAlgorithm, signature }"
        )
    _, _, tstart, tend = outer[0]
    return outer, _children(der, tstart, tend)


_EC_PUBLIC_KEY_OID = bytes.fromhex("06072a8648ce3d0201")  # 1.2.840.10045.2.1 id-ecPublicKey


def encoding_facts(
    der: bytes, parts: Parts | None = None
) -> tuple[bool, list[tuple[str, int]], bool]:
    """(the two signature-algorithm fields agree, the validity time encodings, an EC key names its curve),
    from one pass over the certificate's structure (``parts``: :func:`certificate_parts`)."""
    outer, tbs = parts if parts is not None else _certificate_parts(der)
    offset = 1 if tbs and tbs[0][0] == 0xA0 else 0  # [0] version is optional
    _, begin, _, end = tbs[1 + offset]
    same = der[begin:end] == der[outer[1][1] : outer[1][3]]
    return same, _times(der, tbs[3 + offset]), _named(der, tbs[5 + offset])


def _times(der: bytes, validity: tuple[int, int, int, int]) -> list[tuple[str, int]]:
    out = []
    for tag, _, start, end in _children(der, validity[2], validity[3]):
        text = der[start:end].decode("ascii", "replace")
        if tag == 0x17:
            year = int(text[:2]) if text[:2].isdigit() else 0
            out.append(("UTCTime", 1900 + year if year >= 50 else 2000 + year))
        elif tag == 0x18:
            out.append(("GeneralizedTime", int(text[:4]) if text[:4].isdigit() else 0))
        else:
            raise ValueError("validity times must be UTCTime or GeneralizedTime")
    return out


def _named(der: bytes, spki: tuple[int, int, int, int]) -> bool:
    algorithm = _children(der, spki[2], spki[3])[0]
    fields = _children(der, algorithm[2], algorithm[3])
    if der[fields[0][1] : fields[0][3]] != _EC_PUBLIC_KEY_OID:
        return True
    return len(fields) > 1 and fields[1][0] == 0x06


# -- RSASSA-PSS parameters (RFC 4055 §3.1) ------------------------------------------------------

_RSASSA_PSS_OID = bytes.fromhex("06092a864886f70d01010a")  # 1.2.840.113549.1.1.10
_MGF1_OID = bytes.fromhex("06092a864886f70d010108")  # 1.2.840.113549.1.1.8
HASH_OIDS = {
    bytes.fromhex("06052b0e03021a"): "sha1",
    bytes.fromhex("0609608648016503040204"): "sha224",
    bytes.fromhex("0609608648016503040201"): "sha256",
    bytes.fromhex("0609608648016503040202"): "sha384",
    bytes.fromhex("0609608648016503040203"): "sha512",
}


def _hash_name(der: bytes, start: int, end: int) -> str:
    """The hash of an AlgorithmIdentifier (its parameters absent or NULL)."""
    fields = _children(der, start, end)
    if not fields or fields[0][0] != 0x06:
        raise ValueError("AlgorithmIdentifier without an OID")
    if len(fields) > 2 or (len(fields) == 2 and der[fields[1][1] : fields[1][3]] != b"\x05\x00"):
        raise ValueError("hash AlgorithmIdentifier parameters must be absent or NULL")
    oid = der[fields[0][1] : fields[0][3]]
    return HASH_OIDS.get(oid, "unknown hash " + oid.hex())


def pss_parameters(der: bytes) -> tuple[str, str, int, int] | None:
    """(hash, MGF1 hash, salt length, trailer field) of a certificate signed with RSASSA-PSS,
    with RFC 4055's defaults (SHA-1, MGF1-SHA-1, 20, 1) for absent fields; None if the
    certificate is not signed with PSS. ValueError if the parameters are malformed."""
    outer, _ = _certificate_parts(der)
    algorithm = _children(der, outer[1][2], outer[1][3])
    if not algorithm or der[algorithm[0][1] : algorithm[0][3]] != _RSASSA_PSS_OID:
        return None
    if len(algorithm) != 2 or algorithm[1][0] != 0x30:
        raise ValueError("RSASSA-PSS needs a RSASSA-PSS-params SEQUENCE")
    hash_name, mgf_hash, salt, trailer = "sha1", "sha1", 20, 1
    for tag, _, start, end in _children(der, algorithm[1][2], algorithm[1][3]):
        inner = _children(der, start, end)
        if len(inner) != 1:
            raise ValueError("RSASSA-PSS-params field must hold one element")
        itag, _, istart, iend = inner[0]
        if tag == 0xA0 and itag == 0x30:
            hash_name = _hash_name(der, istart, iend)
        elif tag == 0xA1 and itag == 0x30:
            mgf = _children(der, istart, iend)
            if len(mgf) != 2 or der[mgf[0][1] : mgf[0][3]] != _MGF1_OID or mgf[1][0] != 0x30:
                raise ValueError("maskGenAlgorithm must be MGF1 with a hash AlgorithmIdentifier")
            mgf_hash = _hash_name(der, mgf[1][2], mgf[1][3])
        elif tag in (0xA2, 0xA3) and itag == 0x02 and 1 <= iend - istart <= 4:
            value = int.from_bytes(der[istart:iend], "big", signed=True)
            salt, trailer = (value, trailer) if tag == 0xA2 else (salt, value)
        else:
            raise ValueError(f"unexpected RSASSA-PSS-params field 0x{tag:02x}")
    return hash_name, mgf_hash, salt, trailer


def raw_names(der: bytes, parts: Parts | None = None) -> tuple[bytes, bytes]:
    """(subject, issuer) as their DER bytes, for fast name matching in path building. Equal bytes
    mean equal names; RFC 5280 §7.1 would also match some differently-encoded names, which a
    byte comparison conservatively treats as different (a path not found, never a false one)."""
    _, tbs = parts if parts is not None else _certificate_parts(der)
    offset = 1 if tbs and tbs[0][0] == 0xA0 else 0
    if len(tbs) < 6 + offset:
        raise ValueError("tbsCertificate has too few fields")
    issuer, subject = tbs[2 + offset], tbs[4 + offset]
    return der[subject[1] : subject[3]], der[issuer[1] : issuer[3]]
