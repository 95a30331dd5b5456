"""Chains an attacker builds to fool a validator (issue 13), each refused by tlslab's verdict:
directoryName and rfc822Name constraints, RSASSA-PSS parameters, Unicode case folding, IPv4-mapped
addresses, IP literals dressed as names, decoy issuers, CRLs, and constraints tlslab cannot
evaluate (fail closed). Expected verdicts come from the chains' construction, never from tlslab."""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from tlslab.errors import CertificateRevoked
from tlslab.pki.certificates import LAB_NOW, Issued, build_chain, issue_certificate
from tlslab.pki.names import dn_within, email_within, ip_within, looks_like_ip
from tlslab.pki.validation import dns_name_matches, validate_chain
from tlslab.rng import seeded_rng

HOST = "lab.example"


def _ca(name: str = "Attack Root", **knobs: Any) -> Issued:
    return issue_certificate(name, ca=True, rng=seeded_rng(name), **knobs)


def _check(leaf: Issued, roots: list[Issued], name: str = HOST, **kw: Any) -> Any:
    return validate_chain(leaf.certificate, [], [r.certificate for r in roots], name, LAB_NOW, **kw)


# -- directoryName constraints (RFC 5280 §4.2.1.10, §7.1) ------------------------------------------


def test_permitted_directory_name_refuses_another_organisation() -> None:
    root = _ca(permitted_names=["dn:O=Foo Corp"])
    good = issue_certificate(HOST, issuer=root, subject=f"CN={HOST},O=Foo Corp")
    evil = issue_certificate(HOST, issuer=root, subject=f"CN={HOST},O=Evil Corp")
    assert _check(good, [root]).valid
    report = _check(evil, [root])
    assert not report.valid
    assert report.failure.check == "name constraints"
    assert "outside the permitted subtrees" in report.failure.detail
    # cryptography fails closed on every critical directoryName constraint: it refuses both.
    assert report.production_verdict is False


def test_excluded_directory_name_refuses_it() -> None:
    root = _ca(excluded_names=["dn:O=Evil Corp"])
    evil = issue_certificate(HOST, issuer=root, subject=f"CN={HOST},O=Evil Corp")
    fine = issue_certificate(HOST, issuer=root, subject=f"CN={HOST},O=Good Corp")
    report = _check(evil, [root])
    assert not report.valid and "excluded subtree" in report.failure.detail
    assert _check(fine, [root]).valid


def test_directory_name_comparison_folds_ascii_case_and_spaces_only() -> None:
    subtree = x509.Name.from_rfc4514_string("O=Foo Corp")
    assert dn_within(x509.Name.from_rfc4514_string("CN=a,O=FOO  corp"), subtree)
    assert not dn_within(x509.Name.from_rfc4514_string("CN=a,O=Foo Corp Evil"), subtree)
    assert not dn_within(x509.Name.from_rfc4514_string("CN=a,O=Fo\u212a Corp"), subtree)
    assert not dn_within(
        x509.Name.from_rfc4514_string("O=Foo Corp"),
        x509.Name.from_rfc4514_string("CN=a,O=Foo Corp"),
    )


def test_client_certificate_dn_is_constrained_for_client_auth() -> None:
    """The DN is what a server usually authorises: O=Admins,OU=root under a CA permitted only
    O=Foo Corp must not validate as a client certificate."""
    root = _ca("Client Root", permitted_names=["dn:O=Foo Corp"])
    admin = issue_certificate(
        "root",
        issuer=root,
        subject="OU=root,O=Admins",
        san=[],
        extended_key_usage=["clientAuth"],
    )
    report = _check(admin, [root], "", purpose="client")
    assert not report.valid
    assert report.failure.check == "name constraints"
    member = issue_certificate(
        "alice",
        issuer=root,
        subject="CN=alice,O=Foo Corp",
        san=[],
        extended_key_usage=["clientAuth"],
    )
    assert _check(member, [root], "", purpose="client").valid


# -- rfc822Name constraints: SANs and the subject's emailAddress --------------------------------


def test_subject_email_address_is_checked_against_rfc822_constraints() -> None:
    root = _ca("Mail Root", permitted_names=["email:corp.example", HOST])
    inside = issue_certificate(
        HOST, issuer=root, subject=f"CN={HOST},1.2.840.113549.1.9.1=a@corp.example"
    )
    outside = issue_certificate(
        HOST, issuer=root, subject=f"CN={HOST},1.2.840.113549.1.9.1=a@evil.example"
    )
    assert _check(inside, [root]).valid
    report = _check(outside, [root])
    assert not report.valid and "a@evil.example" in report.failure.detail


def test_email_san_is_checked_against_rfc822_constraints() -> None:
    root = _ca("Mail SAN Root", excluded_names=["email:.evil.example"])
    leaf = issue_certificate(HOST, issuer=root, san=[HOST, "email:x@mail.evil.example"])
    assert not _check(leaf, [root]).valid


@pytest.mark.parametrize(
    "address,constraint,expected",
    [
        ("foo@example.com", "example.com", True),
        ("foo@EXAMPLE.com", "example.com", True),
        ("foo@sub.example.com", "example.com", False),
        ("foo@sub.example.com", ".example.com", True),
        ("foo@example.com", ".example.com", False),
        ("foo@example.com", "foo@example.com", True),
        ("Foo@example.com", "foo@example.com", False),  # local parts are case-sensitive
        ("user@example.com", "*@example.com", False),  # '*' is literal
        ("a@b@example.com", "example.com", None),
        ("f\u00f6o@example.com", "example.com", None),
    ],
)
def test_email_constraint_matching(address: str, constraint: str, expected: bool | None) -> None:
    assert email_within(address, constraint) is expected


# -- iPAddress: IPv4-mapped IPv6 ---------------------------------------------------------------


def test_ipv4_mapped_ipv6_is_checked_against_ipv4_constraints() -> None:
    root = _ca("IP Root", excluded_names=["10.0.0.0/8"])
    leaf = issue_certificate(HOST, issuer=root, san=[HOST, "::ffff:10.1.2.3"])
    report = _check(leaf, [root])
    assert not report.valid and "excluded subtree" in report.failure.detail
    plain = issue_certificate(HOST, issuer=root, san=[HOST, "192.0.2.7"])
    assert _check(plain, [root]).valid


# -- RSASSA-PSS parameters ----------------------------------------------------------------------

_OIDS = {
    "sha1": "06052b0e03021a",
    "sha256": "0609608648016503040201",
    "sha384": "0609608648016503040202",
}


def _der(tag: int, body: bytes) -> bytes:
    n = len(body)
    size = (
        bytes([n])
        if n < 0x80
        else bytes([0x80 | ((n.bit_length() + 7) // 8)])
        + n.to_bytes((n.bit_length() + 7) // 8, "big")
    )
    return bytes([tag]) + size + body


def _split(data: bytes) -> list[bytes]:
    """The DER elements inside one constructed element's value."""
    out, i = [], 0
    while i < len(data):
        n = data[i + 1]
        start = i + 2
        if n & 0x80:
            count = n & 0x7F
            n, start = int.from_bytes(data[i + 2 : i + 2 + count], "big"), i + 2 + count
        out.append(data[i : start + n])
        i = start + n
    return out


def _inner(element: bytes) -> bytes:
    n = element[1]
    if n & 0x80:
        count = n & 0x7F
        return element[2 + count :]
    return element[2:]


def _pss_signed(
    child: Issued, issuer: Issued, digest: str, mgf: str, salt: int
) -> x509.Certificate:
    """Re-sign ``child`` with RSASSA-PSS and hand-written parameters (cryptography's builder
    refuses SHA-1, as it should; an attacker's tools do not)."""
    hashed = lambda h: _der(0x30, bytes.fromhex(_OIDS[h]) + b"\x05\x00")  # noqa: E731
    # DER omits a field equal to its DEFAULT (SHA-1, MGF1-SHA-1, salt 20).
    params = b"" if digest == "sha1" else _der(0xA0, hashed(digest))
    if mgf != "sha1":
        params += _der(0xA1, _der(0x30, bytes.fromhex("06092a864886f70d010108") + hashed(mgf)))
    if salt != 20:
        params += _der(0xA2, _der(0x02, salt.to_bytes(1, "big")))
    algorithm = _der(0x30, bytes.fromhex("06092a864886f70d01010a") + _der(0x30, params))
    cert = child.certificate.public_bytes(Encoding.DER)
    tbs_fields = _split(_inner(_split(_inner(cert))[0]))
    tbs_fields[2 if tbs_fields[0][0] == 0xA0 else 1] = algorithm  # [0] version, serial, signature
    tbs = _der(0x30, b"".join(tbs_fields))
    hashes_ = {"sha1": hashes.SHA1(), "sha256": hashes.SHA256(), "sha384": hashes.SHA384()}
    signature = issuer.private_key.sign(
        tbs, padding.PSS(mgf=padding.MGF1(hashes_[mgf]), salt_length=salt), hashes_[digest]
    )
    der = _der(0x30, tbs + algorithm + _der(0x03, b"\x00" + signature))
    return x509.load_der_x509_certificate(der)


@pytest.fixture(scope="module")
def rsa_root() -> Issued:
    return _ca("PSS Root", key_type="rsa")


@pytest.mark.parametrize(
    "digest,mgf,salt,ok",
    [
        ("sha256", "sha256", 32, True),
        ("sha384", "sha384", 48, True),
        ("sha1", "sha1", 20, False),  # SHA-1 in any form
        ("sha256", "sha1", 32, False),  # MGF1 hash differs
        ("sha1", "sha1", 0, False),
        ("sha256", "sha256", 0, False),  # salt length 0
    ],
)
def test_pss_parameters(rsa_root: Issued, digest: str, mgf: str, salt: int, ok: bool) -> None:
    leaf = issue_certificate(HOST, issuer=rsa_root, rng=seeded_rng("pss leaf"))
    forged = _pss_signed(leaf, rsa_root, digest, mgf, salt)
    report = validate_chain(forged, [], [rsa_root.certificate], HOST, LAB_NOW)
    assert report.valid is ok, str(report)
    assert report.production_verdict is ok  # cryptography agrees on every PSS variant
    if not ok:
        assert report.failure.check == "signature algorithm"


def test_pss_sha1_intermediate_is_refused(rsa_root: Issued) -> None:
    intermediate = issue_certificate(
        "PSS Intermediate", ca=True, issuer=rsa_root, key_type="rsa-b", rng=seeded_rng("pss int")
    )
    forged = _pss_signed(intermediate, rsa_root, "sha1", "sha1", 0)
    leaf = issue_certificate(HOST, issuer=intermediate, rng=seeded_rng("pss int leaf"))
    report = validate_chain(leaf.certificate, [forged], [rsa_root.certificate], HOST, LAB_NOW)
    assert not report.valid and report.failure.check == "signature algorithm"
    honest = validate_chain(
        leaf.certificate, [intermediate.certificate], [rsa_root.certificate], HOST, LAB_NOW
    )
    assert honest.valid


# -- host names --------------------------------------------------------------------------------


def test_kelvin_sign_dns_name_does_not_match_ascii_k() -> None:
    """'ban\\u212a.example'.lower() == 'bank.example' in Python: the SAN must be ASCII first."""
    assert "ban\u212a.example".lower() == "bank.example"
    root = _ca("Unicode Root")
    hostile = x509.DNSName._init_without_validation("ban\u212a.example")  # UTF-8 in an IA5String
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Mallory")]))
        .issuer_name(root.certificate.subject)
        .public_key(root.private_key.public_key())
        .serial_number(4242)
        .not_valid_before(LAB_NOW - dt.timedelta(days=1))
        .not_valid_after(LAB_NOW + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([hostile]), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root.private_key.public_key()),
            critical=False,
        )
    )
    leaf = builder.sign(root.private_key, hashes.SHA256())
    report = validate_chain(leaf, [], [root.certificate], "bank.example", LAB_NOW)
    assert not report.valid and report.failure.check == "server name"
    assert not dns_name_matches("ban\u212a.example", "bank.example")
    assert not dns_name_matches("*.ex\u212aample", "a.exkample")


@pytest.mark.parametrize(
    "text", ["127.1", "0x7f.0.0.1", "2130706433", "127.0.0.1", "0177.0.0.1", "::1"]
)
def test_ip_literals_are_never_dns_names(text: str) -> None:
    assert looks_like_ip(text)
    assert not dns_name_matches(text, text)


@pytest.mark.parametrize("text", ["lab.example", "1.example", "example.1a", "0x.example"])
def test_dns_names_are_not_ip_literals(text: str) -> None:
    assert not looks_like_ip(text)


def test_legacy_ip_server_name_is_refused() -> None:
    chain = build_chain(HOST, seed="legacy ip", leaf_options={"san": [HOST, "127.1"]})
    report = validate_chain(
        chain.leaf.certificate, chain.intermediate_certificates, chain.trust_roots, "127.1", LAB_NOW
    )
    assert not report.valid and report.failure.check == "server name"


# -- name forms tlslab cannot evaluate fail closed -----------------------------------------------


def test_uri_constraint_with_uri_san_fails_closed() -> None:
    root = _ca("URI Root", excluded_names=["uri:.evil.example"])
    leaf = issue_certificate(HOST, issuer=root, san=[HOST, "uri:https://www.evil.example/"])
    report = _check(leaf, [root])
    assert not report.valid and "fail closed" in report.failure.detail
    plain = issue_certificate(HOST, issuer=root, san=[HOST])
    assert _check(plain, [root]).valid  # no URI below: nothing to evaluate


# -- path building -------------------------------------------------------------------------------


@pytest.mark.parametrize("with_key_ids", [True, False])
def test_real_issuer_found_behind_99_same_name_decoys(with_key_ids: bool) -> None:
    root = _ca("Decoy Root")
    real = issue_certificate("Shared Name CA", ca=True, issuer=root, rng=seeded_rng("real"))
    decoys = [
        issue_certificate(
            "Shared Name CA",
            ca=True,
            issuer=root,
            rng=seeded_rng(f"decoy {i}"),
            subject_key_id=with_key_ids,
        ).certificate
        for i in range(99)
    ]
    leaf = issue_certificate(HOST, issuer=real, rng=seeded_rng("decoy leaf"), authority_key_id=True)
    report = validate_chain(
        leaf.certificate, [*decoys, real.certificate], [root.certificate], HOST, LAB_NOW
    )
    assert report.valid, str(report.failure)
    assert report.path[1] == real.certificate


def test_max_depth_bounds_the_path() -> None:
    chain = build_chain(HOST, intermediates=3, seed="deep")
    args = (
        chain.leaf.certificate,
        chain.intermediate_certificates,
        chain.trust_roots,
        HOST,
        LAB_NOW,
    )
    assert validate_chain(*args, max_depth=3).valid
    report = validate_chain(*args, max_depth=2)
    assert not report.valid and report.failure.check == "path length"


# -- revocation (RFC 5280 §6.3) -----------------------------------------------------------------


def _crl(
    issuer: Issued, revoked: list[int], *, days: int = 7, number: bool = True, start: int = -1
) -> x509.CertificateRevocationList:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.certificate.subject)
        .last_update(LAB_NOW + dt.timedelta(days=start))
        .next_update(LAB_NOW + dt.timedelta(days=start + days))
    )
    if number:
        builder = builder.add_extension(x509.CRLNumber(1), critical=False)
    for serial in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(LAB_NOW - dt.timedelta(days=2))
            .build()
        )
    return builder.sign(issuer.private_key, hashes.SHA256())


@pytest.fixture(scope="module")
def crl_chain() -> Any:
    return build_chain(HOST, seed="crl chain")


def _with_crls(chain: Any, crls: list[x509.CertificateRevocationList], **kw: Any) -> Any:
    return validate_chain(
        chain.leaf.certificate,
        chain.intermediate_certificates,
        chain.trust_roots,
        HOST,
        LAB_NOW,
        crls=crls,
        **kw,
    )


def test_revoked_leaf_is_refused_with_certificate_revoked(crl_chain: Any) -> None:
    crl = _crl(crl_chain.intermediates[0], [crl_chain.leaf.certificate.serial_number])
    report = _with_crls(crl_chain, [crl])
    assert not report.valid and report.failure.check == "revocation"
    with pytest.raises(CertificateRevoked):
        _with_crls(crl_chain, [crl], strict=True)


def test_revoked_intermediate_is_refused(crl_chain: Any) -> None:
    crl = _crl(crl_chain.root, [crl_chain.intermediates[0].certificate.serial_number])
    assert not _with_crls(crl_chain, [crl]).valid


def test_crl_that_does_not_list_the_leaf(crl_chain: Any) -> None:
    report = _with_crls(crl_chain, [_crl(crl_chain.intermediates[0], [12345])])
    assert report.valid
    assert any(c.check == "revocation" and c.ok for c in report.checks)


def test_crl_from_another_issuer_says_nothing(crl_chain: Any) -> None:
    other = _ca("Other CRL CA")
    assert _with_crls(crl_chain, [_crl(other, [crl_chain.leaf.certificate.serial_number])]).valid


def test_forged_crl_is_refused(crl_chain: Any) -> None:
    """A CRL naming the intermediate but signed by another key is not believed: refused, not ignored."""
    impostor = issue_certificate(
        "impostor",
        ca=True,
        subject=crl_chain.intermediates[0].certificate.subject.rfc4514_string(),
        rng=seeded_rng("impostor"),
    )
    forged = _crl(impostor, [], number=True)
    forged = x509.load_der_x509_crl(forged.public_bytes(Encoding.DER))
    report = _with_crls(crl_chain, [forged])
    assert forged.issuer == crl_chain.intermediates[0].certificate.subject
    assert not report.valid and report.failure.check == "CRL signature"


@pytest.mark.parametrize(
    "knobs,check",
    [({"start": -30, "days": 7}, "CRL validity"), ({"number": False}, "CRL extensions")],
)
def test_stale_or_numberless_crl_is_refused(
    crl_chain: Any, knobs: dict[str, Any], check: str
) -> None:
    report = _with_crls(crl_chain, [_crl(crl_chain.intermediates[0], [], **knobs)])
    assert not report.valid and report.failure.check == check


def test_issuer_without_crl_sign_cannot_revoke() -> None:
    chain = build_chain(
        HOST, seed="no crlsign", intermediate_options={"key_usage": ["key_cert_sign"]}
    )
    report = _with_crls(chain, [_crl(chain.intermediates[0], [])])
    assert not report.valid and report.failure.check == "CRL issuer cRLSign"


# -- verdict vs lints ----------------------------------------------------------------------------


def test_wildcard_certificate_with_a_concrete_cn_is_valid_with_a_lint() -> None:
    chain = build_chain(
        "server.lab.example", seed="cn lint", leaf_options={"san": ["*.lab.example"]}
    )
    args = (
        chain.leaf.certificate,
        chain.intermediate_certificates,
        chain.trust_roots,
        "server.lab.example",
        LAB_NOW,
    )
    report = validate_chain(*args)
    assert report.valid and report.production_verdict is True
    assert [(lint.rule, lint.cite) for lint in report.lints] == [("subject CN", "CABF BR 7.1.4.3")]
    assert "Lints" in report._repr_html_() and "subject CN" in str(report)
    strict = validate_chain(*args, profile="strict")
    assert not strict.valid and strict.failure.check == "subject CN"


def test_ca_without_ski_or_aki_is_valid_with_lints_and_rfc5280_refuses() -> None:
    chain = build_chain(
        HOST,
        seed="no key ids",
        intermediate_options={"subject_key_id": False, "authority_key_id": False},
    )
    args = (
        chain.leaf.certificate,
        chain.intermediate_certificates,
        chain.trust_roots,
        HOST,
        LAB_NOW,
    )
    report = validate_chain(*args)
    assert report.valid and report.production_verdict is True
    assert sorted(lint.rule for lint in report.lints) == [
        "authorityKeyIdentifier",
        "subjectKeyIdentifier",
    ]
    assert not validate_chain(*args, profile="rfc5280").valid
    assert not validate_chain(*args, profile="strict").valid


def test_healthy_chain_has_no_lints() -> None:
    chain = build_chain(HOST, seed="healthy lints")
    report = validate_chain(
        chain.leaf.certificate,
        chain.intermediate_certificates,
        chain.trust_roots,
        HOST,
        LAB_NOW,
        profile="strict",
    )
    assert report.valid and report.lints == []


def test_unknown_profile_is_refused() -> None:
    chain = build_chain(HOST, seed="profile")
    with pytest.raises(ValueError, match="profile"):
        validate_chain(
            chain.leaf.certificate, [], chain.trust_roots, HOST, LAB_NOW, profile="lenient"
        )


@pytest.mark.parametrize(
    "address,network,inside",
    [
        ("10.1.2.3", "10.0.0.0/8", True),
        ("::ffff:10.1.2.3", "10.0.0.0/8", True),
        ("10.1.2.3", "::ffff:10.0.0.0/104", True),
        ("::ffff:192.0.2.1", "10.0.0.0/8", False),
        ("2001:db8::1", "10.0.0.0/8", False),
        ("2001:db8::1", "2001:db8::/32", True),
    ],
)
def test_ip_constraint_matching_in_both_spellings(address: str, network: str, inside: bool) -> None:
    assert ip_within(ipaddress.ip_address(address), ipaddress.ip_network(network)) is inside


def test_crl_with_unknown_critical_extension_is_refused(crl_chain: Any) -> None:
    """RFC 5280 §5.2: a CRL with a critical extension the checker does not understand (here an
    invented one; in practice e.g. a delta-CRL indicator) cannot be used: fail closed."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(crl_chain.intermediates[0].certificate.subject)
        .last_update(LAB_NOW - dt.timedelta(days=1))
        .next_update(LAB_NOW + dt.timedelta(days=6))
        .add_extension(x509.CRLNumber(7), critical=False)
        .add_extension(
            x509.UnrecognizedExtension(
                x509.ObjectIdentifier("1.3.6.1.4.1.55738.666.2"), b"\x05\x00"
            ),
            critical=True,
        )
    )
    crl = builder.sign(crl_chain.intermediates[0].private_key, hashes.SHA256())
    report = _with_crls(crl_chain, [crl])
    assert not report.valid and report.failure.check == "CRL extensions"
    assert "unknown critical extension" in report.failure.detail


def test_pss_parameter_defaults_are_read_from_the_der(rsa_root: Issued) -> None:
    """RFC 4055 §3.1: absent fields mean SHA-1, MGF1-SHA-1, salt 20, trailer 1."""
    from tlslab.pki.x509der import pss_parameters

    leaf = issue_certificate(HOST, issuer=rsa_root, rng=seeded_rng("pss defaults"))
    forged = _pss_signed(leaf, rsa_root, "sha1", "sha1", 20)
    assert pss_parameters(forged.public_bytes(Encoding.DER)) == ("sha1", "sha1", 20, 1)
    honest = _pss_signed(leaf, rsa_root, "sha384", "sha384", 48)
    assert pss_parameters(honest.public_bytes(Encoding.DER)) == ("sha384", "sha384", 48, 1)
    assert pss_parameters(leaf.certificate.public_bytes(Encoding.DER)) is None  # PKCS #1 v1.5
