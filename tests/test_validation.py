"""Path validation: the gallery (each chain fails for its stated reason only), a differential test
against cryptography's verifier over generated chains, and strict mode's TLS errors."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tlslab.errors import BadCertificate, CertificateExpired, UnknownCA
from tlslab.lab.gallery import HOST, gallery, healthy_chain
from tlslab.pki.certificates import LAB_NOW, build_chain
from tlslab.pki.validation import dns_name_matches, validate_chain

GALLERY = gallery()


def test_healthy_chain_is_valid_for_both_verifiers() -> None:
    chain = healthy_chain()
    report = validate_chain(
        chain.leaf.certificate, chain.intermediate_certificates, chain.trust_roots, HOST, LAB_NOW
    )
    assert report.valid and report.production_verdict is True
    assert [c.subject for c in report.path] == [
        chain.leaf.certificate.subject,
        chain.intermediates[0].certificate.subject,
        chain.root.certificate.subject,
    ]
    assert "<table>" in report._repr_html_()


def test_gallery_has_a_dozen_exhibits() -> None:
    assert len(GALLERY) >= 12
    assert len({g.name for g in GALLERY}) == len(GALLERY)


@pytest.mark.parametrize("exhibit", GALLERY, ids=lambda g: g.name)
def test_gallery_chain_fails_for_its_reason_only(exhibit) -> None:  # type: ignore[no-untyped-def]
    report = exhibit.validate()
    assert not report.valid
    failure = report.failure
    assert failure is not None
    assert failure.check == exhibit.catches_it, str(report)
    assert failure.alert is not None and failure.alert.description.name == exhibit.alert
    assert [c for c in report.checks if not c.ok] == [failure]  # one failing check, nothing else
    assert report.production_verdict is False  # cryptography rejects it too


def test_strict_mode_raises_the_alert() -> None:
    expired = next(g for g in GALLERY if g.name == "expired")
    with pytest.raises(CertificateExpired, match="validity period"):
        validate_chain(
            expired.chain.leaf.certificate,
            expired.chain.intermediate_certificates,
            expired.chain.trust_roots,
            HOST,
            LAB_NOW,
            strict=True,
        )
    missing = next(g for g in GALLERY if g.name == "missing intermediate")
    with pytest.raises(UnknownCA):
        validate_chain(
            missing.chain.leaf.certificate,
            [],
            missing.chain.trust_roots,
            HOST,
            LAB_NOW,
            strict=True,
        )
    wrong = next(g for g in GALLERY if g.name == "wrong host")
    with pytest.raises(BadCertificate):
        validate_chain(
            wrong.chain.leaf.certificate,
            wrong.chain.intermediate_certificates,
            wrong.chain.trust_roots,
            "bank.example",
            LAB_NOW,
            strict=True,
        )


@pytest.mark.parametrize(
    "pattern,name,ok",
    [
        ("lab.example", "lab.example", True),
        ("lab.example", "LAB.Example", True),
        ("*.lab.example", "www.lab.example", True),
        ("*.lab.example", "lab.example", False),
        ("*.lab.example", "a.b.lab.example", False),
        ("w*.lab.example", "www.lab.example", False),
        ("*.example", "lab.example", False),  # a wildcard directly under a top-level label
        ("*", "lab", False),
        ("www.*.example", "www.lab.example", False),
    ],
)
def test_dns_name_matching(pattern: str, name: str, ok: bool) -> None:
    assert dns_name_matches(pattern, name) is ok


knobs = st.fixed_dictionaries(
    {
        "key_type": st.sampled_from(["ecdsa-p256", "ecdsa-p384", "rsa"]),
        "intermediates": st.integers(0, 2),
        "leaf_from": st.sampled_from([-400, -30, -1, 5]),
        "leaf_days": st.sampled_from([1, 90, 365]),
        "san": st.sampled_from(
            [
                [HOST],
                [HOST, "*.lab.example"],
                [HOST, "w*.lab.example"],
                [HOST, "127.0.0.1"],
                [HOST, "10.1.2.3"],
                [HOST, "192.0.2.9"],
            ]
        ),
        "server_name": st.sampled_from(
            [HOST, "www.lab.example", "a.b.lab.example", "other.example", "127.0.0.1", "10.1.2.3"]
        ),
        "intermediate_ca": st.booleans(),
        "root_path_length": st.sampled_from([None, None, 0, 1]),
        "intermediate_ku": st.sampled_from([None, ["digital_signature"], ["key_cert_sign"]]),
        "leaf_eku": st.sampled_from([["serverAuth"], ["clientAuth"], ["serverAuth", "clientAuth"]]),
        "permitted": st.sampled_from(
            [
                (),
                ("lab.example",),
                ("corp.example",),
                ("10.0.0.0/8",),
                ("lab.example", "192.0.2.0/24"),
            ]
        ),
        "excluded": st.sampled_from([(), (), ("127.0.0.0/8",), ("www.lab.example",)]),
        "directory_name": st.sampled_from([None, None, "permit", "exclude"]),
        "organisation": st.sampled_from(["Foo Corp", "Evil Corp"]),
        "pss": st.sampled_from(
            [
                None,
                ("sha256", "sha256", 32),
                ("sha384", "sha384", 48),
                ("sha256", "sha256", 0),
                ("sha512", "sha384", 64),
            ]
        ),
        "corrupt": st.sampled_from([None, None, None, "leaf", "intermediate"]),
        "send_intermediates": st.booleans(),
        "validate_days": st.sampled_from([0, 0, 200, 4000]),
    }
)
_CA_NAMES = [f"dn:CN=tlslab Teaching Intermediate CA {i}" for i in (1, 2)]


def _differential_chain(k: dict, directory_name: str | None):  # type: ignore[type-arg,no-untyped-def]
    constraints: dict[str, list[str]] = {
        "permitted_names": list(k["permitted"]),
        "excluded_names": list(k["excluded"]),
    }
    if directory_name == "permit":
        constraints["permitted_names"] += ["dn:O=Foo Corp", *_CA_NAMES]
    elif directory_name == "exclude":
        constraints["excluded_names"] += ["dn:O=Evil Corp"]
    intermediate_options = {"ca": k["intermediate_ca"]}
    root_options: dict[str, object] = {"path_length": k["root_path_length"]}
    (intermediate_options if k["intermediates"] else root_options).update(constraints)
    if k["intermediate_ku"] is not None:
        intermediate_options["key_usage"] = k["intermediate_ku"]
    if not k["intermediate_ca"]:
        intermediate_options.setdefault("key_usage", ["key_cert_sign"])
    if k["corrupt"] == "intermediate":
        intermediate_options["corrupt_signature"] = True
    return build_chain(
        HOST,
        intermediates=k["intermediates"],
        key_type=k["key_type"],
        seed="differential",
        root_options=root_options,
        intermediate_options=intermediate_options,
        leaf_options={
            "valid_from_days": k["leaf_from"],
            "valid_for_days": k["leaf_days"],
            "san": k["san"],
            "subject": f"CN={HOST},O={k['organisation']}",
            "extended_key_usage": k["leaf_eku"],
            "corrupt_signature": k["corrupt"] == "leaf",
            "pss": k["pss"] if k["key_type"] == "rsa" else None,
        },
    )


def _verdicts(chain, k: dict) -> tuple[bool, bool | None]:  # type: ignore[type-arg,no-untyped-def]
    intermediates = chain.intermediate_certificates if k["send_intermediates"] else []
    now = LAB_NOW + dt.timedelta(days=k["validate_days"])
    report = validate_chain(
        chain.leaf.certificate, intermediates, chain.trust_roots, k["server_name"], now
    )
    return report.valid, report.production_verdict


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(k=knobs)
def test_differential_against_cryptography(k: dict) -> None:  # type: ignore[type-arg]
    """tlslab and cryptography.x509.verification give the same verdict on 500 generated chains
    (validity, names, wildcards, IP SANs and IP/DNS constraints, CA flags, path length, key usage,
    EKU, RSASSA-PSS parameters, corrupted signatures, missing intermediates).

    directoryName constraints: cryptography refuses every critical one (it does not implement
    them), so there the expectation is cryptography's verdict on the same chain *without* the
    directoryName subtrees, and the organisation knob: O=Evil Corp is outside "permit" (O=Foo
    Corp) and inside "exclude"."""
    chain = _differential_chain(k, k["directory_name"])
    valid, production = _verdicts(chain, k)
    if k["directory_name"] is None:
        assert production == valid
        return
    assert production is False  # fail closed: cryptography does not evaluate directoryName
    _, twin_production = _verdicts(_differential_chain(k, None), k)
    organisation_ok = k["organisation"] != "Evil Corp"
    assert valid == (bool(twin_production) and organisation_ok)
