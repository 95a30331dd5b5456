"""Review of issue 13's validator: chains built to make tlslab accept what the reference
(``cryptography.x509.verification``, and RFC 5280/RFC 4518) refuses. Each test names the chain
shape; expected verdicts come from the construction and the RFC, never from tlslab."""

from __future__ import annotations

from typing import Any

import pytest

from tlslab.pki.certificates import LAB_NOW, Issued, issue_certificate
from tlslab.pki.names import dn_within, email_within
from tlslab.pki.validation import validate_chain
from tlslab.rng import seeded_rng

HOST = "lab.example"


def _ca(name: str, **knobs: Any) -> Issued:
    return issue_certificate(name, ca=True, rng=seeded_rng(name), **knobs)


def _check(leaf: Issued, roots: list[Issued], **kw: Any) -> Any:
    return validate_chain(leaf.certificate, [], [r.certificate for r in roots], HOST, LAB_NOW, **kw)


# -- rfc822Name: a trailing dot on the mail domain dodged an excluded subtree -------------------


@pytest.mark.parametrize(
    ("excluded", "email"),
    [("evil.example", "a@evil.example."), (".evil.example", "a@x.evil.example.")],
)
def test_excluded_email_domain_with_trailing_dot_is_refused(excluded: str, email: str) -> None:
    root = _ca(f"Mail Root {excluded}", excluded_names=[f"email:{excluded}"])
    leaf = issue_certificate(HOST, issuer=root, san=[HOST, f"email:{email}"])
    report = _check(leaf, [root])
    assert not report.valid
    assert report.failure.check == "name constraints"
    assert report.production_verdict is False  # cryptography: malformed rfc822Name


def test_email_with_trailing_dot_is_malformed_not_outside() -> None:
    assert email_within("a@evil.example.", "evil.example") is None
    assert email_within("a@evil.example", "evil.example") is True


def test_rfc822_constraint_with_trailing_dot_is_malformed() -> None:
    root = _ca("Mail Root dot", excluded_names=["email:evil.example."])
    leaf = issue_certificate(HOST, issuer=root, san=[HOST, "email:a@evil.example"])
    report = _check(leaf, [root])
    assert not report.valid
    assert "malformed rfc822Name constraint" in report.failure.detail


# -- directoryName: RFC 4518 case folding is Unicode, not ASCII only ----------------------------


@pytest.mark.parametrize(
    "organisation",
    ["\u00e9vil corp", "\u00c9VIL CORP", "\u00c9v\u00adil Corp", "\u00c9vil\u200b Corp"],
)
def test_excluded_directory_name_unicode_case_and_ignorable_characters(
    organisation: str,
) -> None:
    """Excluded ``O=Évil Corp``: RFC 4518 caseIgnoreMatch folds É/é and maps soft hyphen and
    zero-width space to nothing, so each of these subjects is in the excluded subtree. tlslab
    folded ASCII only, and accepted them (cryptography refuses every directoryName constraint)."""
    root = _ca(f"DN Root {organisation!r}", excluded_names=["dn:O=\u00c9vil Corp"])
    leaf = issue_certificate(HOST, issuer=root, subject=f"CN={HOST},O={organisation}")
    report = _check(leaf, [root])
    assert not report.valid
    assert "excluded subtree" in report.failure.detail
    assert report.production_verdict is False


def test_permitted_directory_name_stays_narrow() -> None:
    """Permitted subtrees keep the narrow comparison (ASCII folding only): fewer names match."""
    from cryptography import x509

    subtree = x509.Name.from_rfc4514_string("O=\u00c9vil Corp")
    folded = x509.Name.from_rfc4514_string(f"CN={HOST},O=\u00e9vil corp")
    assert not dn_within(folded, subtree)
    assert dn_within(folded, subtree, broad=True)


# -- CRLs: the issuer name is compared as RFC 5280 §7.1 says, not attribute for attribute -------


def test_crl_whose_issuer_name_differs_only_in_case_still_revokes() -> None:
    """RFC 5280 §6.3.3 (b), §7.1: the CRL issuer matches the certificate issuer under
    caseIgnoreMatch (OpenSSL's X509_NAME_cmp compares canonical, case-folded names). A CRL the CA
    signed as ``CN=CRL ROOT`` revokes a certificate issued by ``CN=CRL Root``; tlslab ignored it
    and accepted the revoked certificate."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    from tlslab.errors import CertificateRevoked

    root = _ca("CRL Root")
    leaf = issue_certificate(HOST, issuer=root)
    shouted = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CRL ROOT")])
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(shouted)
        .last_update(LAB_NOW - dt.timedelta(days=1))
        .next_update(LAB_NOW + dt.timedelta(days=6))
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(leaf.certificate.serial_number)
            .revocation_date(LAB_NOW - dt.timedelta(days=1))
            .build()
        )
        .sign(root.private_key, hashes.SHA256())
    )
    report = _check(leaf, [root], crls=[crl])
    assert not report.valid
    assert report.failure.alert is CertificateRevoked


# -- iPAddress: the IPv4-mapped spelling widens an excluded subtree, never a permitted one --------


def test_ipv4_mapped_address_is_not_within_a_permitted_ipv4_subtree() -> None:
    """Permitted ``10.0.0.0/8``, SAN ``::ffff:10.1.2.3`` (16 octets). RFC 5280 §4.2.1.10 compares
    addresses of the same length; OpenSSL and cryptography both refuse. tlslab accepted it by
    reading the mapped address as IPv4 (right for an *excluded* subtree, too loose here)."""
    root = _ca("IP Permit Root", permitted_names=["10.0.0.0/8"])
    mapped = issue_certificate(HOST, issuer=root, san=[HOST, "::ffff:10.1.2.3"])
    report = _check(mapped, [root])
    assert not report.valid
    assert "outside the permitted subtrees" in report.failure.detail
    assert report.production_verdict is False
    plain = issue_certificate(HOST, issuer=root, san=[HOST, "10.1.2.3"])
    assert _check(plain, [root]).valid


# -- host matching: a presented dNSName with a trailing dot matches nothing ----------------------


def test_san_with_trailing_dot_does_not_match() -> None:
    """SAN ``lab.example.`` for host ``lab.example``: OpenSSL (``-verify_hostname``) and
    cryptography both refuse (a dNSName in a certificate has no trailing dot); tlslab stripped the
    dot and accepted. A trailing dot on the *reference* name (what the client typed) is still
    ignored, as browsers do."""
    root = _ca("Dot Root")
    leaf = issue_certificate("lab.example.", issuer=root, san=["lab.example."])
    report = _check(leaf, [root])
    assert not report.valid
    assert report.failure.check == "server name"
    assert report.production_verdict is False
    from tlslab.pki.names import dns_name_matches

    assert not dns_name_matches("*.lab.example.", "www.lab.example")
    assert dns_name_matches("www.lab.example", "www.lab.example.")
