"""Wire-side benchmarks of issue #18: record throughput, hostile ClientHellos, import cost.

``python benchmarks/bench_wire.py [--quick]`` prints the three measurements; ``benchmarks/run.py``
imports the functions below and adds their rows to its table. Each function returns a dict.

Every comparison runs *interleaved*: in each round every case is measured once, in turn, so
a burst of load from another process on this shared machine hits all cases alike. The result
of each case is the median over rounds, with the p10-p90 spread; a ratio is the ratio of the
medians. Nothing here is asserted: speed is reported, never tested.

1. :func:`record_throughput`: seal and open of 16 KiB records by tlslab's record protection
   (TLS 1.3 and TLS 1.2; AES-128-GCM and ChaCha20-Poly1305), and the same through the engine's
   RecordLayer (framing + reassembly), against the bare ``cryptography`` AEAD call on the same
   bytes. Target: >= 0.6 of the bare call's throughput.
2. :func:`hostile_hello`: the CPU a server spends on a ~64 KiB ClientHello of junk extensions
   or of junk cipher suites (answered normally: the real offer is in the hello too), tlslab's
   sans-IO TLSServer against OpenSSL's server through ``ssl.MemoryBIO``. Target: <= 10x.
3. :func:`import_cost`: ``import tlslab`` against ``import cryptography.x509``, each in a fresh
   interpreter. Target: <= 1.3x.
"""

from __future__ import annotations

import argparse
import contextlib
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

Case = Callable[[], float]  # one sample: seconds per operation


def spread(samples: list[float]) -> dict[str, float]:
    """Median and p10/p90 of ``samples`` (seconds), reported in microseconds."""
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "median_us": statistics.median(ordered) * 1e6,
        "p10_us": pick(0.1) * 1e6,
        "p90_us": pick(0.9) * 1e6,
        "rounds": len(ordered),
    }


def interleaved(cases: dict[str, Case], rounds: int) -> dict[str, dict[str, float]]:
    """Run every case once per round, in turn; the spread of each case over the rounds."""
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, case in cases.items():
            samples[name].append(case())
    return {name: spread(values) for name, values in samples.items()}


def _per_op(operation: Callable[[], object], count: int) -> Case:
    """A case: the mean CPU time of ``count`` calls of ``operation``."""

    def sample() -> float:
        start = time.thread_time()
        for _ in range(count):
            operation()
        return (time.thread_time() - start) / count

    return sample


# -- 1. records -------------------------------------------------------------------------------------
RECORD = 2**14


def record_throughput(rounds: int = 5, count: int = 300) -> dict[str, Any]:
    """Seal/open of 16 KiB records: tlslab against the bare AEAD call (ratio = throughput share)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

    from tlslab.constants import CipherSuite, ContentType, ProtocolVersion
    from tlslab.engine.record_layer import RecordLayer
    from tlslab.stages.keyschedule import TrafficKeys
    from tlslab.stages.protection import RecordProtection12, RecordProtection13
    from tlslab.stages.suites import SUITES

    data = bytes(range(256)) * (RECORD // 256)
    setups = {
        "TLS 1.3 AES-128-GCM": (CipherSuite.TLS_AES_128_GCM_SHA256, 16, 12),
        "TLS 1.3 CHACHA20-POLY1305": (CipherSuite.TLS_CHACHA20_POLY1305_SHA256, 32, 12),
        "TLS 1.2 AES-128-GCM": (CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, 16, 4),
        "TLS 1.2 CHACHA20-POLY1305": (
            CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            32,
            12,
        ),
    }
    cases: dict[str, Case] = {}
    for name, (code, key_len, iv_len) in setups.items():
        suite = SUITES[code]
        key, iv = bytes(range(key_len)), bytes(range(100, 100 + iv_len))
        aead = ChaCha20Poly1305(key) if "CHACHA" in name else AESGCM(key)
        nonce, aad = bytes(12), bytes(13)
        sealed_bare = aead.encrypt(nonce, data, aad)
        cases[f"{name} bare encrypt"] = _per_op(partial(aead.encrypt, nonce, data, aad), count)
        cases[f"{name} bare decrypt"] = _per_op(
            partial(aead.decrypt, nonce, sealed_bare, aad), count
        )
        tls13 = name.startswith("TLS 1.3")

        def protection(
            suite: Any = suite, key: bytes = key, iv: bytes = iv, tls13: bool = tls13
        ) -> RecordProtection13 | RecordProtection12:
            if tls13:
                return RecordProtection13(suite, TrafficKeys(key, iv))
            return RecordProtection12(suite, key, iv)

        sealer, opener = protection(), protection()
        # Open the same record again and again: reset the opener's sequence number each time.
        record = protection().seal(ContentType.application_data, data)

        def open_once(p: Any = opener, record: Any = record) -> object:
            p.seq = 0
            return p.open(record)

        cases[f"{name} seal"] = _per_op(
            partial(sealer.seal, ContentType.application_data, data), count
        )
        cases[f"{name} open"] = _per_op(open_once, count)

        # The engine's path: RecordLayer.write (fragment + seal + header) and receive (framing,
        # header checks, open), on bytes as they travel.
        writer, reader = RecordLayer(), RecordLayer()
        writer.writer, reader.reader = protection(), protection()
        writer.version = reader.version = ProtocolVersion.TLS13 if tls13 else ProtocolVersion.TLS12
        writer.record_version = ProtocolVersion.TLS12
        reader.handshaking = writer.handshaking = False
        wire = record.encode()

        def layer_write(layer: RecordLayer = writer) -> object:
            layer.write(ContentType.application_data, data)
            return layer.data_to_send()

        def layer_receive(layer: RecordLayer = reader, wire: bytes = wire) -> object:
            assert layer.reader is not None
            layer.reader.seq = 0
            return list(layer.receive(wire))

        cases[f"{name} RecordLayer.write"] = _per_op(layer_write, count)
        cases[f"{name} RecordLayer.receive"] = _per_op(layer_receive, count)

    results = interleaved(cases, rounds)
    ratios: dict[str, dict[str, float]] = {}
    for name in setups:
        enc = results[f"{name} bare encrypt"]["median_us"]
        dec = results[f"{name} bare decrypt"]["median_us"]
        ratios[name] = {
            "seal": enc / results[f"{name} seal"]["median_us"],
            "open": dec / results[f"{name} open"]["median_us"],
            "RecordLayer.write": enc / results[f"{name} RecordLayer.write"]["median_us"],
            "RecordLayer.receive": dec / results[f"{name} RecordLayer.receive"]["median_us"],
        }
    return {"record_bytes": RECORD, "per_record": results, "share_of_bare_aead": ratios}


# -- 2. hostile ClientHellos ------------------------------------------------------------------------
HELLO_BYTES = 65000


def _junk_hellos() -> dict[str, bytes]:
    """Three ClientHellos as records: a normal one, one of ~64 KiB of unknown extensions, one of
    ~64 KiB of unknown cipher suites. The real offer is in each, so a server answers all three."""
    from tlslab.constants import CipherSuite, ContentType, NamedGroup, ProtocolVersion, is_grease
    from tlslab.rng import seeded_rng
    from tlslab.stages.hello import build_client_hello
    from tlslab.wire.extensions import UnknownExtension
    from tlslab.wire.record import fragment

    def records(hello: Any) -> bytes:
        return b"".join(
            r.encode()
            for r in fragment(ContentType.handshake, hello.encode(), legacy_record_version=0x0301)
        )

    common: dict[str, Any] = {
        "versions": (ProtocolVersion.TLS13,),
        "groups": (NamedGroup.x25519,),
        "server_name": "lab.example",
    }
    suites = (CipherSuite.TLS_AES_128_GCM_SHA256,)
    normal = build_client_hello(cipher_suites=suites, rng=seeded_rng("junk normal"), **common)
    # Both junk hellos are about HELLO_BYTES long (the server's cap is 64 KiB of body).
    room = HELLO_BYTES - len(normal.encode())
    # Extension codes 0x5000.. are unassigned; each empty extension is 4 bytes on the wire.
    junk_codes = [c for c in range(0x5000, 0x5000 + room // 4 + 16) if not is_grease(c)]
    junk_ext = tuple(UnknownExtension(code) for code in junk_codes[: room // 4])
    by_extensions = build_client_hello(
        cipher_suites=suites,
        rng=seeded_rng("junk extensions"),
        extra_extensions=junk_ext,
        **common,
    )
    # Cipher suite codes 0x2000.. are unassigned; each is 2 bytes.
    junk_suites = [c for c in range(0x2000, 0xA000) if not is_grease(c)][: room // 2]
    by_suites = build_client_hello(
        cipher_suites=(*junk_suites, *suites), rng=seeded_rng("junk suites"), **common
    )
    return {
        "normal": records(normal),
        "junk extensions": records(by_extensions),
        "junk suites": records(by_suites),
    }


def hostile_hello(rounds: int = 5, count: int = 5) -> dict[str, Any]:
    """CPU per ClientHello answered (ServerHello..Finished flight), tlslab against OpenSSL."""
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    from tlslab.constants import CipherSuite, NamedGroup, ProtocolVersion
    from tlslab.engine.server import ServerIdentity, TLSServer
    from tlslab.pki.certificates import build_chain
    from tlslab.stages.negotiation import ServerConfig

    chain = build_chain("lab.example", seed="bench wire")
    identity = ServerIdentity.from_chain(chain)
    config = ServerConfig(
        versions=(ProtocolVersion.TLS13,),
        cipher_suites=(CipherSuite.TLS_AES_128_GCM_SHA256,),
        groups=(NamedGroup.x25519,),
    )
    folder = Path(tempfile.mkdtemp(prefix="tlslab-bench-wire-"))
    (folder / "chain.pem").write_bytes(
        b"".join(
            c.public_bytes(Encoding.PEM)
            for c in (chain.leaf.certificate, *chain.intermediate_certificates)
        )
    )
    (folder / "key.pem").write_bytes(
        chain.leaf.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "chain.pem", folder / "key.pem")
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_3
    context.options |= ssl.OP_NO_TICKET

    hellos = _junk_hellos()

    def tlslab_case(wire: bytes) -> Case:
        def sample() -> float:
            total = 0.0
            for _ in range(count):
                server = TLSServer(config, identity)
                start = time.thread_time()
                server.receive_data(wire)
                answer = server.data_to_send()
                total += time.thread_time() - start
                if len(answer) < 100 or server.closed:
                    raise RuntimeError("tlslab did not answer the hello")
            return total / count

        return sample

    def openssl_case(wire: bytes) -> Case:
        def sample() -> float:
            total = 0.0
            for _ in range(count):
                incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
                obj = context.wrap_bio(incoming, outgoing, server_side=True)
                start = time.thread_time()
                incoming.write(wire)
                with contextlib.suppress(ssl.SSLWantReadError):  # it waits for our Finished
                    obj.do_handshake()
                answer = outgoing.read()
                total += time.thread_time() - start
                if len(answer) < 100:
                    raise RuntimeError("OpenSSL did not answer the hello")
            return total / count

        return sample

    cases: dict[str, Case] = {}
    for name, wire in hellos.items():
        cases[f"tlslab {name}"] = tlslab_case(wire)
        cases[f"OpenSSL {name}"] = openssl_case(wire)
    results = interleaved(cases, rounds)
    ratio = {
        name: results[f"tlslab {name}"]["median_us"] / results[f"OpenSSL {name}"]["median_us"]
        for name in hellos
    }
    extra = {}
    for name in ("junk extensions", "junk suites"):
        kib = (len(hellos[name]) - len(hellos["normal"])) / 1024
        extra[name] = {
            "tlslab_us_per_kib": (
                results[f"tlslab {name}"]["median_us"] - results["tlslab normal"]["median_us"]
            )
            / kib,
            "openssl_us_per_kib": (
                results[f"OpenSSL {name}"]["median_us"] - results["OpenSSL normal"]["median_us"]
            )
            / kib,
        }
    return {
        "hello_bytes": {name: len(wire) for name, wire in hellos.items()},
        "cpu_per_hello": results,
        "tlslab_over_openssl": ratio,
        "extra_cost_per_kib": extra,
    }


# -- 3. import cost ---------------------------------------------------------------------------------
_TIMED_IMPORT = "import time; t = time.perf_counter(); import {}; print(time.perf_counter() - t)"


def import_cost(rounds: int = 7) -> dict[str, Any]:
    """``import tlslab`` against ``import cryptography.x509``, each in a fresh interpreter."""

    def case(module: str) -> Case:
        def sample() -> float:
            out = subprocess.run(
                [sys.executable, "-c", _TIMED_IMPORT.format(module)],
                check=True,
                capture_output=True,
                text=True,
            )
            return float(out.stdout.strip())

        return sample

    results = interleaved(
        {
            "tlslab": case("tlslab"),
            "cryptography.x509": case("cryptography.x509"),
            # what a notebook's first cell pays: the wire layer behind tlslab.ClientHello, and
            # the engine behind tlslab.TLSClient (both load on first use)
            "tlslab; tlslab.ClientHello": case("tlslab; tlslab.ClientHello"),
            "tlslab; tlslab.TLSClient": case("tlslab; tlslab.TLSClient"),
        },
        rounds,
    )
    x509 = results["cryptography.x509"]["median_us"]
    return {
        "import": results,
        "tlslab_over_cryptography_x509": results["tlslab"]["median_us"] / x509,
        "over_cryptography_x509": {name: s["median_us"] / x509 for name, s in results.items()},
    }


# -- printing ---------------------------------------------------------------------------------------
def _row(name: str, s: dict[str, float]) -> str:
    return f"  {name:<44} {s['median_us']:>10.1f} us  (p10 {s['p10_us']:.1f}, p90 {s['p90_us']:.1f}, n={s['rounds']:.0f})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (3)")
    parser.add_argument("--only", choices=("records", "hello", "import"), action="append")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else 5
    only = set(args.only or ("records", "hello", "import"))
    if "records" in only:
        rec = record_throughput(rounds=rounds, count=100 if args.quick else 300)
        print(f"Records of {rec['record_bytes']} bytes, CPU per record:")
        for name, s in rec["per_record"].items():
            print(_row(name, s))
        print("Share of the bare AEAD call's throughput (target >= 0.6):")
        for name, r in rec["share_of_bare_aead"].items():
            print(f"  {name:<28} " + ", ".join(f"{k} {v:.2f}" for k, v in r.items()))
    if "hello" in only:
        hh = hostile_hello(rounds=rounds)
        print(
            "ClientHello answered, CPU per hello (bytes: "
            + ", ".join(f"{k} {v}" for k, v in hh["hello_bytes"].items())
            + "):"
        )
        for name, s in hh["cpu_per_hello"].items():
            print(_row(name, s))
        print("tlslab / OpenSSL (target <= 10 for the junk hellos):")
        for name, r in hh["tlslab_over_openssl"].items():
            print(f"  {name:<28} {r:.1f}x")
        for name, e in hh["extra_cost_per_kib"].items():
            print(
                f"  {name:<28} extra per KiB: tlslab {e['tlslab_us_per_kib']:.1f} us, OpenSSL {e['openssl_us_per_kib']:.1f} us"
            )
    if "import" in only:
        ic = import_cost(rounds=max(rounds, 5))
        print("Import in a fresh interpreter:")
        for name, s in ic["import"].items():
            print(_row(f"import {name}", s))
        print("  over import cryptography.x509 (target <= 1.3 for import tlslab):")
        for name, r in ic["over_cryptography_x509"].items():
            print(f"    {name:<40} {r:.2f}x")


if __name__ == "__main__":
    main()
