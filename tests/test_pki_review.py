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
