"""A gallery of deliberately broken certificate chains, each with the one check that catches it.

Every entry changes exactly one knob of the teaching PKI's healthy chain (``build_chain``), so
the validation report shows a single failing check, and fixing that knob makes the chain valid
again (tests/test_validation.py checks both). Taught in notebook 03_certificates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from ..pki.certificates import LAB_NOW, Chain, build_chain, issue_certificate
from ..pki.validation import ValidationReport, validate_chain
from ..rng import seeded_rng

HOST = "lab.example"


@dataclass(frozen=True)
class BrokenChain:
    """One gallery exhibit: what is wrong, the inputs, and the check expected to catch it."""

    name: str
    what: str
    catches_it: str
    alert: str
    chain: Chain
    server_name: str = HOST
    send_intermediates: bool = True
    trust: tuple[x509.Certificate, ...] | None = None

    def validate(self, now: dt.datetime = LAB_NOW) -> ValidationReport:
        intermediates = self.chain.intermediate_certificates if self.send_intermediates else []
        roots = list(self.trust) if self.trust is not None else self.chain.trust_roots
        return validate_chain(
            self.chain.leaf.certificate, intermediates, roots, self.server_name, now
        )


def healthy_chain(**changes: Any) -> Chain:
    """The gallery's baseline: root -> one intermediate -> leaf for lab.example, all valid at LAB_NOW."""
    return build_chain(HOST, seed="gallery", **changes)


def linted_chain() -> Chain:
    """A chain every browser accepts that still breaks an issuance rule: a wildcard leaf whose CN
    names one concrete host (``CN=www.lab.example``, SAN ``*.lab.example``). The verdict is VALID;
    the report lists a lint (CA/B Forum BR 7.1.4.3: the CN must copy a SAN)."""
    return build_chain("www.lab.example", seed="gallery", leaf_options={"san": ["*.lab.example"]})


def _self_signed_leaf() -> Chain:
    base = healthy_chain()
    leaf = issue_certificate(HOST, rng=seeded_rng("self-signed leaf"))
    return Chain(base.root, base.intermediates, leaf)


def gallery() -> list[BrokenChain]:
    """At least a dozen broken chains, in the order a course would show them."""
    # Another root of the same name and no subjectKeyIdentifier: with one, its key identifier would
    # not match the intermediate's AKI and path building would skip it before any signature.
    other_root = build_chain(
        HOST, seed="some other pki", root_options={"subject_key_id": False}
    ).root.certificate
    return [
        BrokenChain(
            "expired",
            "the leaf's validity ended 35 days ago",
            "validity period",
            "certificate_expired",
            healthy_chain(leaf_options={"valid_from_days": -400, "valid_for_days": 365}),
        ),
        BrokenChain(
            "not yet valid",
            "the leaf only becomes valid in 10 days",
            "validity period",
            "certificate_expired",
            healthy_chain(leaf_options={"valid_from_days": 10}),
        ),
        BrokenChain(
            "wrong host",
            "a valid certificate, but for another name",
            "server name",
            "bad_certificate",
            healthy_chain(),
            server_name="bank.example",
        ),
        BrokenChain(
            "wildcard across labels",
            "*.lab.example does not cover a.b.lab.example (one label only)",
            "server name",
            "bad_certificate",
            healthy_chain(leaf_options={"san": [HOST, "*.lab.example"]}),
            server_name="a.b.lab.example",
        ),
        BrokenChain(
            "partial wildcard",
            "w*.lab.example is not a valid wildcard (the * must be the whole label)",
            "server name",
            "bad_certificate",
            healthy_chain(leaf_options={"san": [HOST, "w*.lab.example"]}),
            server_name="www.lab.example",
        ),
        BrokenChain(
            "missing intermediate",
            "the server forgot to send its intermediate certificate",
            "issuer found",
            "unknown_ca",
            healthy_chain(),
            send_intermediates=False,
        ),
        BrokenChain(
            "untrusted root",
            "the trust store holds a root with the same *name* but another key: names find "
            "candidates, only signatures prove",
            "signature",
            "unknown_ca",
            healthy_chain(),
            trust=(other_root,),
        ),
        BrokenChain(
            "intermediate is not a CA",
            "the intermediate has basicConstraints cA=FALSE",
            "basicConstraints",
            "bad_certificate",
            healthy_chain(intermediate_options={"ca": False, "key_usage": ["key_cert_sign"]}),
        ),
        BrokenChain(
            "path length exceeded",
            "the root allows no intermediate below it (pathLenConstraint 0)",
            "pathLenConstraint",
            "bad_certificate",
            healthy_chain(root_options={"path_length": 0}),
        ),
        BrokenChain(
            "wrong key usage",
            "the intermediate's keyUsage lacks keyCertSign",
            "keyUsage keyCertSign",
            "bad_certificate",
            healthy_chain(intermediate_options={"key_usage": ["digital_signature", "crl_sign"]}),
        ),
        BrokenChain(
            "wrong EKU",
            "the leaf is for clients (clientAuth), not servers",
            "extendedKeyUsage",
            "unsupported_certificate",
            healthy_chain(leaf_options={"extended_key_usage": ["clientAuth"]}),
        ),
        BrokenChain(
            "bad signature",
            "one bit of the leaf's signature is flipped",
            "signature",
            "bad_certificate",
            healthy_chain(leaf_options={"corrupt_signature": True}),
        ),
        BrokenChain(
            "self-signed leaf",
            "the server signed its own certificate",
            "issuer found",
            "unknown_ca",
            _self_signed_leaf(),
        ),
        BrokenChain(
            "name constraints",
            "the intermediate may only issue for *.corp.example",
            "name constraints",
            "bad_certificate",
            healthy_chain(intermediate_options={"permitted_names": ["corp.example"]}),
        ),
        BrokenChain(
            "organisation outside constraints",
            "the root may only certify O=tlslab Lab (a directoryName constraint); the leaf says O=Evil Corp",
            "name constraints",
            "bad_certificate",
            healthy_chain(
                root_options={
                    "permitted_names": [
                        "dn:O=tlslab Lab",
                        "dn:CN=tlslab Teaching Intermediate CA 1",
                        HOST,
                    ]
                },
                leaf_options={"subject": f"CN={HOST},O=Evil Corp"},
            ),
        ),
        BrokenChain(
            "unknown critical extension",
            "the leaf carries a critical extension nobody understands",
            "critical extensions",
            "unsupported_certificate",
            healthy_chain(leaf_options={"unknown_critical_extension": True}),
        ),
    ]
