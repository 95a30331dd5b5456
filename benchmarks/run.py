"""tlslab's benchmark suite: `make bench` (or `python benchmarks/run.py [--quick]`).

Measures, in one run on this machine:
1. full handshakes over 127.0.0.1 (new TCP connection, handshake, 16-byte echo, close) for TLS 1.3
   and TLS 1.2, side by side: tlslab <-> OpenSSL in both roles, tlslab <-> tlslab, OpenSSL <-> OpenSSL,
   and tlslite-ng in both roles as the pure-Python peer; wall time per connection and the CPU time of
   the client and server threads (medians with p10-p90 spread);
2. the crypto floor: only the `cryptography` calls one TLS 1.3 handshake needs, per side;
3. in-memory handshakes (client + server + certificate validation, no sockets) per second;
4. `import tlslab` cost (python -X importtime), with and without the notebook helpers;
5. a cProfile of the in-memory handshake (benchmarks/results/profile.txt).
Prints a table and writes benchmarks/results/results.json. Speed is never asserted in tests.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import platform
import pstats
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from tlslab.constants import CipherSuite, NamedGroup, ProtocolVersion
from tlslab.engine.client import ClientConfig, TLSClient
from tlslab.engine.memory import handshake_in_memory
from tlslab.engine.server import ServerIdentity, TLSServer
from tlslab.net.sockets import connect
from tlslab.pki.certificates import Chain, build_chain, real_now
from tlslab.stages.negotiation import ServerConfig

RESULTS = Path(__file__).parent / "results"
PAYLOAD = b"0123456789abcdef"


def spread(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    pick = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]  # noqa: E731
    return {
        "median_ms": statistics.median(samples) * 1e3,
        "p10_ms": pick(0.1) * 1e3,
        "p90_ms": pick(0.9) * 1e3,
    }


# -- peers -----------------------------------------------------------------------------------------
class Files:
    def __init__(self, chain: Chain) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tlslab-bench-"))
        self.chain_pem = self.dir / "chain.pem"
        self.key_pem = self.dir / "key.pem"
        self.root_pem = self.dir / "root.pem"
        self.chain_pem.write_bytes(
            b"".join(
                c.public_bytes(Encoding.PEM)
                for c in (chain.leaf.certificate, *chain.intermediate_certificates)
            )
        )
        self.key_pem.write_bytes(
            chain.leaf.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        )
        self.root_pem.write_bytes(chain.root.certificate.public_bytes(Encoding.PEM))


def openssl_server_handler(files: Files, version: str) -> Callable[[socket.socket], None]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(files.chain_pem, files.key_pem)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3 if version == "1.3" else ssl.TLSVersion.TLSv1_2
    ctx.options |= ssl.OP_NO_TICKET

    def handle(conn: socket.socket) -> None:
        with ctx.wrap_socket(conn, server_side=True) as tls:
            tls.sendall(tls.recv(64))
            with contextlib.suppress(OSError, ssl.SSLError):
                tls.recv(1)

    return handle


def tlslab_server_handler(chain: Chain, version: str) -> Callable[[socket.socket], None]:
    versions = (ProtocolVersion.TLS13,) if version == "1.3" else (ProtocolVersion.TLS12,)
    config = ServerConfig(
        versions=versions,
        cipher_suites=(
            CipherSuite.TLS_AES_128_GCM_SHA256,
            CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        ),
        groups=(NamedGroup.x25519, NamedGroup.secp256r1),
    )
    identity = ServerIdentity.from_chain(chain)

    def handle(conn: socket.socket) -> None:
        server = TLSServer(config, identity)
        with conn:
            echoed = b""
            while not echoed:  # the client's data may arrive in the same segment as its Finished
                data = conn.recv(65536)
                if not data:
                    return
                echoed = b"".join(e.data for e in server.receive_data(data) if hasattr(e, "data"))
                out = server.data_to_send()
                if out:
                    conn.sendall(out)
            server.send_application_data(echoed)
            conn.sendall(server.data_to_send())
            with contextlib.suppress(OSError):
                conn.recv(1)

    return handle


def tlslite_server_handler(files: Files, version: str) -> Callable[[socket.socket], None]:
    from tlslite import X509, HandshakeSettings, TLSConnection, X509CertChain, parsePEMKey

    chain = X509CertChain()
    chain.parsePemList(files.chain_pem.read_text())
    key = parsePEMKey(files.key_pem.read_text(), private=True)
    settings = HandshakeSettings()
    settings.minVersion = settings.maxVersion = (3, 4) if version == "1.3" else (3, 3)
    del X509

    def handle(conn: socket.socket) -> None:
        tls = TLSConnection(conn)
        tls.handshakeServer(certChain=chain, privateKey=key, settings=settings)
        tls.write(tls.read(max=64))
        with contextlib.suppress(Exception):
            tls.read(max=1)
        conn.close()

    return handle


def openssl_client(files: Files, version: str) -> Callable[[int], bytes]:
    ctx = ssl.create_default_context(cafile=str(files.root_pem))
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3 if version == "1.3" else ssl.TLSVersion.TLSv1_2

    def run(port: int) -> bytes:
        with socket.create_connection(("127.0.0.1", port)) as raw:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            tls = ctx.wrap_socket(raw, server_hostname="lab.example")
            tls.sendall(PAYLOAD)
            return tls.recv(64)

    return run


def tlslab_client(chain: Chain, version: str) -> Callable[[int], bytes]:
    config = ClientConfig(
        server_name="lab.example",
        trust_roots=tuple(chain.trust_roots),
        versions=(ProtocolVersion.TLS13,) if version == "1.3" else (ProtocolVersion.TLS12,),
        cipher_suites=(
            CipherSuite.TLS_AES_128_GCM_SHA256,
            CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        ),
        groups=(NamedGroup.x25519, NamedGroup.secp256r1),
    )

    def run(port: int) -> bytes:
        return connect("127.0.0.1", port, config, send=PAYLOAD).received

    return run


def tlslite_client(files: Files, version: str) -> Callable[[int], bytes]:
    from tlslite import HandshakeSettings, TLSConnection

    settings = HandshakeSettings()
    settings.minVersion = settings.maxVersion = (3, 4) if version == "1.3" else (3, 3)

    def run(port: int) -> bytes:
        with socket.create_connection(("127.0.0.1", port)) as raw:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            tls = TLSConnection(raw)
            tls.handshakeClientCert(
                settings=settings, serverName="lab.example"
            )  # no chain verification
            tls.write(PAYLOAD)
            data = tls.read(max=64)
            tls.close()
            return bytes(data)

    return run


def measure_pair(
    client: Callable[[int], bytes],
    handler: Callable[[socket.socket], None],
    iterations: int,
    warmup: int,
) -> dict[str, Any]:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server_cpu: list[float] = []
    stop = threading.Event()

    def serve_loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            start = time.thread_time()
            with contextlib.suppress(Exception):
                handler(conn)
            server_cpu.append(time.thread_time() - start)

    thread = threading.Thread(target=serve_loop, daemon=True)
    thread.start()
    wall, client_cpu = [], []
    for i in range(warmup + iterations):
        w0, c0 = time.perf_counter(), time.thread_time()
        reply = client(port)
        w1, c1 = time.perf_counter(), time.thread_time()
        assert reply == PAYLOAD, reply
        if i >= warmup:
            wall.append(w1 - w0)
            client_cpu.append(c1 - c0)
    stop.set()
    listener.close()
    thread.join(2)
    time.sleep(0.05)
    return {
        "wall": spread(wall),
        "client_cpu": spread(client_cpu),
        "server_cpu": spread(server_cpu[warmup:] or server_cpu),
    }


# -- the crypto floor -------------------------------------------------------------------------------
def crypto_floor(chain: Chain, iterations: int) -> dict[str, Any]:
    """Only the cryptography calls of one TLS 1.3 handshake (X25519, ECDSA P-256, HKDF, HMAC, AES-GCM)."""
    leaf_key = chain.leaf.private_key
    leaf_pub = leaf_key.public_key()
    inter_pub = chain.intermediates[0].private_key.public_key()
    root_pub = chain.root.private_key.public_key()
    transcript = bytes(200)
    signature = leaf_key.sign(transcript, ec.ECDSA(hashes.SHA256()))
    inter_sig = chain.intermediates[0].private_key.sign(transcript, ec.ECDSA(hashes.SHA256()))
    root_sig = chain.root.private_key.sign(transcript, ec.ECDSA(hashes.SHA256()))

    def hkdf_steps(n: int) -> None:
        key = bytes(32)
        for _ in range(n):
            HKDFExpand(hashes.SHA256(), 32, b"label").derive(key)

    def common(aes_records: int) -> None:
        mine = x25519.X25519PrivateKey.generate()
        mine.exchange(x25519.X25519PrivateKey.generate().public_key())
        for _ in range(2):  # handshake secret, master secret extracts
            h = hmac.HMAC(bytes(32), hashes.SHA256())
            h.update(bytes(32))
            h.finalize()
        hkdf_steps(16)  # derive-secret and traffic key/iv expansions
        for _ in range(2):  # Finished MACs
            h = hmac.HMAC(bytes(32), hashes.SHA256())
            h.update(bytes(32))
            h.finalize()
        aead = AESGCM(bytes(16))
        for i in range(aes_records):
            aead.encrypt(i.to_bytes(12, "big"), bytes(300), b"hdr")

    def client_side() -> None:
        common(6)
        leaf_pub.verify(signature, transcript, ec.ECDSA(hashes.SHA256()))  # CertificateVerify
        inter_pub.verify(inter_sig, transcript, ec.ECDSA(hashes.SHA256()))  # leaf certificate
        root_pub.verify(root_sig, transcript, ec.ECDSA(hashes.SHA256()))  # intermediate certificate

    def server_side() -> None:
        common(6)
        leaf_key.sign(transcript, ec.ECDSA(hashes.SHA256()))

    out = {}
    for name, fn in (("client", client_side), ("server", server_side)):
        for _ in range(20):
            fn()
        samples = []
        for _ in range(iterations):
            start = time.thread_time()
            fn()
            samples.append(time.thread_time() - start)
        out[name] = spread(samples)
    return out


def in_memory_rate(chain: Chain, seconds: float) -> dict[str, float]:
    identity = ServerIdentity.from_chain(chain)
    config = ClientConfig(server_name="lab.example", trust_roots=tuple(chain.trust_roots))
    count, start = 0, time.perf_counter()
    samples = []
    while time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        assert handshake_in_memory(TLSClient(config), TLSServer(ServerConfig(), identity)).completed
        samples.append(time.perf_counter() - t0)
        count += 1
    return {"handshakes_per_second": count / (time.perf_counter() - start), **spread(samples)}


PQ_GROUPS = (
    NamedGroup.x25519,
    NamedGroup.X25519MLKEM768,
    NamedGroup.SecP256r1MLKEM768,
    NamedGroup.SecP384r1MLKEM1024,
    NamedGroup.MLKEM768,
    NamedGroup.MLKEM1024,
)


def post_quantum(chain: Chain, iterations: int) -> dict[str, Any]:
    """One row per group (x25519 is the baseline): CPU of a whole in-memory TLS 1.3 handshake
    (both sides, chain validation included), CPU of each side's key-exchange stage alone, and the
    bytes of the two hellos. Then the same handshake with an ML-DSA-65 chain."""
    from tlslab.stages.keyexchange import generate_key_share, server_key_share

    def handshake(group: int, chain: Chain, key: str = "ecdsa-p256") -> tuple[float, int, int]:
        config = ClientConfig(
            server_name="lab.example",
            trust_roots=tuple(chain.trust_roots),
            groups=(group,),
            key_share_groups=(group,),
        )
        server = TLSServer(
            ServerConfig(groups=(group,), certificate_key=key), ServerIdentity.from_chain(chain)
        )
        t0 = time.process_time()
        result = handshake_in_memory(TLSClient(config), server)
        elapsed = time.process_time() - t0
        assert result.completed, result.error
        return elapsed, len(result.flights[0].data), len(result.flights[1].data)

    rows: dict[str, Any] = {}
    for group in PQ_GROUPS:
        samples, client_kx, server_kx = [], [], []
        sizes = (0, 0)
        for _ in range(iterations):
            elapsed, first, second = handshake(group, chain)
            samples.append(elapsed)
            sizes = (first, second)
            t0 = time.process_time()
            share = generate_key_share(group)
            t1 = time.process_time()
            answer, _ = server_key_share(group, share.public)
            t2 = time.process_time()
            share.exchange(answer.public)
            t3 = time.process_time()
            client_kx.append((t1 - t0) + (t3 - t2))
            server_kx.append(t2 - t1)
        rows[NamedGroup(group).name] = {
            "handshake_cpu": spread(samples),
            "client_key_exchange_cpu": spread(client_kx),
            "server_key_exchange_cpu": spread(server_kx),
            "client_flight_bytes": sizes[0],
            "server_flight_bytes": sizes[1],
        }
    mldsa_chain = build_chain("lab.example", seed="bench mldsa", key_type="mldsa65", now=real_now())
    samples, sizes = [], (0, 0)
    for _ in range(iterations):
        elapsed, first, second = handshake(NamedGroup.X25519MLKEM768, mldsa_chain, "mldsa65")
        samples.append(elapsed)
        sizes = (first, second)
    rows["X25519MLKEM768 + ML-DSA-65 chain"] = {
        "handshake_cpu": spread(samples),
        "client_flight_bytes": sizes[0],
        "server_flight_bytes": sizes[1],
    }
    return rows


def profile(chain: Chain) -> str:
    identity = ServerIdentity.from_chain(chain)
    config = ClientConfig(server_name="lab.example", trust_roots=tuple(chain.trust_roots))
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(50):
        handshake_in_memory(TLSClient(config), TLSServer(ServerConfig(), identity))
    profiler.disable()
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "profile.txt"
    with path.open("w") as handle:
        stats = pstats.Stats(profiler, stream=handle)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(25)
    return str(path)


def notebook_times() -> dict[str, float]:
    """Seconds to execute each notebook headless (as the test suite does)."""
    import os

    import nbformat
    from nbclient import NotebookClient

    os.environ.setdefault("MPLBACKEND", "Agg")
    out = {}
    for path in sorted((Path(__file__).parent.parent / "notebooks").glob("[0-9][0-9]*_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        NotebookClient(
            nb,
            timeout=600,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        ).execute()
        out[path.stem] = time.perf_counter() - start
    return out


def padding_oracle_times(runs: int) -> dict[str, float]:
    """The notebook-09 Bleichenbacher lab on fresh ciphertexts (the padding is random, so the work varies)."""
    from tlslab.lab.attacks import PaddingOracle, bleichenbacher, toy_rsa_key, unpad_pkcs1
    from tlslab.stages.keyexchange import encrypt_pre_master_secret, rsa_pre_master_secret

    key = toy_rsa_key()
    seconds, queries = [], []
    for _ in range(runs):
        secret = rsa_pre_master_secret(ProtocolVersion.TLS12)
        oracle = PaddingOracle(key)
        start = time.perf_counter()
        result = bleichenbacher(encrypt_pre_master_secret(secret, key.public_key()), oracle)
        seconds.append(time.perf_counter() - start)
        queries.append(result.queries)
        assert unpad_pkcs1(result.plaintext) == secret
    return {
        "median_s": statistics.median(seconds),
        "max_s": max(seconds),
        "median_queries": statistics.median(queries),
    }


def import_cost() -> dict[str, float]:
    def run(code: str) -> float:
        best = 1e9
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            best = min(best, time.perf_counter() - start)
        return best * 1e3

    baseline = run("pass")
    crypto = run(
        "import cryptography.x509, cryptography.hazmat.primitives.asymmetric.ec, "
        "cryptography.hazmat.primitives.ciphers.aead, cryptography.hazmat.primitives.kdf.hkdf, "
        "cryptography.x509.verification"
    )
    tlslab = run("import tlslab, tlslab.engine.client, tlslab.engine.server")
    helpers = run("import tlslab, tlslab.lab.viz, tlslab.lab.widgets")
    return {
        "python_ms": baseline,
        "cryptography_modules_ms": crypto - baseline,
        "tlslab_engine_ms": tlslab - baseline,
        "tlslab_over_cryptography_ms": tlslab - crypto,
        "tlslab_with_notebook_helpers_ms": helpers - baseline,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    args = parser.parse_args()
    iterations, warmup = (20, 5) if args.quick else (150, 20)
    chain = build_chain("lab.example", seed="bench", now=real_now())
    files = Files(chain)
    try:
        import tlslite  # noqa: F401

        have_tlslite = True
    except ImportError:
        have_tlslite = False
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {platform.python_version()}, {ssl.OPENSSL_VERSION}",
        "date": time.strftime("%Y-%m-%d"),
        "iterations": iterations,
        "handshakes": {},
    }
    floor = crypto_floor(chain, iterations * 2)
    results["crypto_floor"] = floor
    for version in ("1.3", "1.2"):
        pairs: list[tuple[str, Callable[[int], bytes], Callable[[socket.socket], None]]] = [
            (
                "OpenSSL -> OpenSSL",
                openssl_client(files, version),
                openssl_server_handler(files, version),
            ),
            (
                "tlslab -> OpenSSL",
                tlslab_client(chain, version),
                openssl_server_handler(files, version),
            ),
            (
                "OpenSSL -> tlslab",
                openssl_client(files, version),
                tlslab_server_handler(chain, version),
            ),
            (
                "tlslab -> tlslab",
                tlslab_client(chain, version),
                tlslab_server_handler(chain, version),
            ),
        ]
        if have_tlslite:
            pairs += [
                (
                    "tlslite-ng -> OpenSSL",
                    tlslite_client(files, version),
                    openssl_server_handler(files, version),
                ),
                (
                    "OpenSSL -> tlslite-ng",
                    openssl_client(files, version),
                    tlslite_server_handler(files, version),
                ),
            ]
        for name, client, handler in pairs:
            key = f"TLS {version}: {name}"
            try:
                results["handshakes"][key] = measure_pair(client, handler, iterations, warmup)
            except Exception as exc:  # a peer that cannot do this combination
                results["handshakes"][key] = {"error": f"{type(exc).__name__}: {exc}"}
            print(f"measured {key}", file=sys.stderr, flush=True)
    results["in_memory"] = in_memory_rate(chain, 3.0 if not args.quick else 1.0)
    results["post_quantum"] = post_quantum(chain, 10 if args.quick else 60)
    results["import"] = import_cost()
    results["profile"] = profile(chain)
    results["padding_oracle"] = padding_oracle_times(3 if args.quick else 10)
    if not args.quick:
        results["notebooks_s"] = notebook_times()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "results.json").write_text(json.dumps(results, indent=1))
    print_table(results)
    return 0


def print_table(results: dict[str, Any]) -> None:
    floor_c = results["crypto_floor"]["client"]["median_ms"]
    floor_s = results["crypto_floor"]["server"]["median_ms"]
    print(
        f"\n{results['machine']}  ({results['date']}, {results['iterations']} connections per row)"
    )
    print(
        f"crypto floor: client {floor_c:.2f} ms, server {floor_s:.2f} ms CPU per TLS 1.3 handshake\n"
    )
    header = f"{'pair':34} {'wall ms (p10-p90)':>22} {'client CPU':>11} {'server CPU':>11} {'x OpenSSL wall':>15} {'client/floor':>13} {'server/floor':>13}"
    print(header)
    print("-" * len(header))
    for version in ("1.3", "1.2"):
        base = results["handshakes"].get(f"TLS {version}: OpenSSL -> OpenSSL", {})
        base_wall = base.get("wall", {}).get("median_ms", float("nan"))
        for key, row in results["handshakes"].items():
            if not key.startswith(f"TLS {version}"):
                continue
            if "error" in row:
                print(f"{key:34} {row['error'][:80]}")
                continue
            w, c, s = row["wall"], row["client_cpu"], row["server_cpu"]
            print(
                f"{key:34} {w['median_ms']:7.2f} ({w['p10_ms']:5.2f}-{w['p90_ms']:6.2f}) {c['median_ms']:10.2f} "
                f"{s['median_ms']:11.2f} {w['median_ms'] / base_wall:14.1f}x {c['median_ms'] / floor_c:12.1f}x "
                f"{s['median_ms'] / floor_s:12.1f}x"
            )
    m = results["in_memory"]
    print(
        f"\nin-memory TLS 1.3 handshake (client + server + chain validation): {m['median_ms']:.2f} ms median, "
        f"{m['handshakes_per_second']:.0f}/s"
    )
    pq = results["post_quantum"]
    base = pq["x25519"]["handshake_cpu"]["median_ms"]
    print(
        f"\n{'in-memory TLS 1.3, one group':34} {'handshake CPU ms':>17} {'x x25519':>9} "
        f"{'client kx ms':>13} {'server kx ms':>13} {'ClientHello B':>14} {'server flight B':>16}"
    )
    for name, row in pq.items():
        cpu = row["handshake_cpu"]["median_ms"]
        client_kx = row.get("client_key_exchange_cpu", {}).get("median_ms", float("nan"))
        server_kx = row.get("server_key_exchange_cpu", {}).get("median_ms", float("nan"))
        print(
            f"{name:34} {cpu:17.2f} {cpu / base:8.2f}x {client_kx:13.3f} {server_kx:13.3f} "
            f"{row['client_flight_bytes']:14,} {row['server_flight_bytes']:16,}"
        )
    i = results["import"]
    print(
        f"import: cryptography modules {i['cryptography_modules_ms']:.0f} ms; tlslab engine {i['tlslab_engine_ms']:.0f} ms "
        f"({i['tlslab_over_cryptography_ms']:+.0f} ms over cryptography); with notebook helpers "
        f"{i['tlslab_with_notebook_helpers_ms']:.0f} ms"
    )
    po = results["padding_oracle"]
    print(
        f"padding-oracle lab: median {po['median_s']:.1f} s, max {po['max_s']:.1f} s "
        f"({po['median_queries']:.0f} oracle queries median)"
    )
    if "notebooks_s" in results:
        times = results["notebooks_s"]
        print(
            "notebooks: "
            + ", ".join(f"{k[:2]} {v:.1f}s" for k, v in times.items())
            + f"; total {sum(times.values()):.0f} s"
        )
    print(f"profile: {results['profile']}")


if __name__ == "__main__":
    sys.exit(main())
