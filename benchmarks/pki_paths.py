"""Path-building worst cases: the x509-limbo pathological::* set and 99 same-name decoy issuers,
timed for tlslab's validate_chain and cryptography's verifier: median CPU time of 5 runs
(process time, so a busy machine does not inflate it).

    .venv/bin/python benchmarks/pki_paths.py
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import ipaddress
import json
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.x509 import verification

from tlslab.pki.certificates import LAB_NOW, issue_certificate
from tlslab.pki.validation import validate_chain
from tlslab.rng import seeded_rng

LIMBO = Path(__file__).parent.parent / "tests" / "vectors" / "x509_limbo" / "limbo-full.json.gz"


def _median_ms(run: Any, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        run()
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times)


def _cryptography(leaf: Any, intermediates: Any, roots: Any, name: str, now: Any) -> None:
    try:
        subject: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        subject = x509.DNSName(name)
    builder = verification.PolicyBuilder().store(verification.Store(roots)).time(now)
    with contextlib.suppress(verification.VerificationError):
        builder.build_server_verifier(subject).verify(leaf, intermediates)


def _cases() -> list[tuple[str, Any, list[Any], list[Any], str, dt.datetime, int]]:
    out = []
    with gzip.open(LIMBO, "rt") as f:
        cases = json.load(f)["testcases"]
    for c in cases:
        if not c["id"].startswith("pathological::"):
            continue
        load = x509.load_pem_x509_certificate
        leaf = load(c["peer_certificate"].encode())
        intermediates = [load(p.encode()) for p in c["untrusted_intermediates"]]
        roots = [load(p.encode()) for p in c["trusted_certs"]]
        now = (
            dt.datetime.fromisoformat(c["validation_time"])
            if c["validation_time"]
            else dt.datetime.now(dt.timezone.utc)
        )
        name = c["expected_peer_name"]["value"] if c["expected_peer_name"] else "example.com"
        out.append((c["id"], leaf, intermediates, roots, name, now, c["max_chain_depth"] or 8))
    root = issue_certificate("Decoy Root", ca=True, rng=seeded_rng("bench decoy root"))
    real = issue_certificate("Shared Name CA", ca=True, issuer=root, rng=seeded_rng("bench real"))
    decoys = [
        issue_certificate(
            "Shared Name CA",
            ca=True,
            issuer=root,
            subject_key_id=False,
            rng=seeded_rng(f"bench decoy {i}"),
        ).certificate
        for i in range(99)
    ]
    leaf = issue_certificate("lab.example", issuer=real, rng=seeded_rng("bench decoy leaf"))
    out.append(
        (
            "real issuer behind 99 decoys (no SKI)",
            leaf.certificate,
            [*decoys, real.certificate],
            [root.certificate],
            "lab.example",
            LAB_NOW,
            8,
        )
    )
    return out


def main() -> None:
    warnings.simplefilter("ignore")
    print(f"{'case':62} {'tlslab CPU ms':>14} {'cryptography CPU ms':>20}  verdict")
    for case_id, *args, depth in _cases():
        report = validate_chain(*args, max_depth=depth, compare_with_production=False)
        ours = _median_ms(
            lambda a=args, d=depth: validate_chain(*a, max_depth=d, compare_with_production=False)
        )
        theirs = _median_ms(lambda a=args: _cryptography(*a))
        verdict = "VALID" if report.valid else "INVALID"
        print(f"{case_id:62} {ours:14.1f} {theirs:20.1f}  {verdict}")


if __name__ == "__main__":
    main()
