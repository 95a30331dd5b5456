"""x509-limbo (C2SP, Apache-2.0; see tests/vectors/x509_limbo/README.md): every SERVER case whose
features tlslab supports. tlslab must never say "valid" where limbo expects failure, and must agree
with limbo on at least 95% of the cases it runs. Counts and skips are printed (pytest -s / -rA)."""

from __future__ import annotations

import collections
import datetime as dt
import json
import warnings
from pathlib import Path
from typing import Any

from cryptography import x509

from tlslab.pki.validation import validate_chain

LIMBO = Path(__file__).parent / "vectors" / "x509_limbo" / "limbo-core.json"
SKIPPED_FEATURES = {
    "has-crl": "tlslab does not check revocation (CRLs)",
    "name-constraint-dn": "DirectoryName name constraints are not implemented",
    "pedantic-public-suffix-wildcard": "tlslab ships no Public Suffix List",
}
# limbo's namespaces: rfc5280:: and pathlen:: test the RFC 5280 profile; the rest the Web PKI profile.
RFC5280_NAMESPACES = {"rfc5280", "pathlen"}


def _run(case: dict[str, Any]) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            leaf = x509.load_pem_x509_certificate(case["peer_certificate"].encode())
            intermediates = [
                x509.load_pem_x509_certificate(p.encode()) for p in case["untrusted_intermediates"]
            ]
            roots = [x509.load_pem_x509_certificate(p.encode()) for p in case["trusted_certs"]]
        except ValueError:
            return False  # unparseable input is a rejection
        now = (
            dt.datetime.fromisoformat(case["validation_time"])
            if case["validation_time"]
            else dt.datetime.now(dt.timezone.utc)
        )
        peer = case["expected_peer_name"]["value"] if case["expected_peer_name"] else "example.com"
        profile = "rfc5280" if case["id"].split("::")[0] in RFC5280_NAMESPACES else "webpki"
        depth = case["max_chain_depth"] if case["max_chain_depth"] is not None else 8
        report = validate_chain(
            leaf,
            intermediates,
            roots,
            peer,
            now,
            profile=profile,
            max_depth=depth,
            compare_with_production=False,
        )
        return report.valid


def test_x509_limbo_server_cases() -> None:
    cases = [
        c for c in json.loads(LIMBO.read_text())["testcases"] if c["validation_kind"] == "SERVER"
    ]
    counts: collections.Counter[str] = collections.Counter()
    false_accepts, disagreements = [], []
    for case in cases:
        skipped = [f for f in case.get("features") or [] if f in SKIPPED_FEATURES]
        if skipped:
            counts[f"skipped ({skipped[0]}: {SKIPPED_FEATURES[skipped[0]]})"] += 1
            continue
        expected = case["expected_result"] == "SUCCESS"
        got = _run(case)
        counts["run"] += 1
        if got == expected:
            counts["agree"] += 1
        else:
            disagreements.append(case["id"])
            if got:
                false_accepts.append(case["id"])
    agreement = counts["agree"] / counts["run"]
    print(
        f"\nx509-limbo: {dict(counts)}; agreement {agreement:.1%}; disagreements: {disagreements}"
    )
    assert counts["run"] >= 150
    assert not false_accepts, f"tlslab accepted chains limbo rejects: {false_accepts}"
    assert agreement >= 0.95
