"""tlslab's benchmark suite: `make bench` (or `python benchmarks/run.py [--quick]`).

Every comparison is run *interleaved in rounds*: in each round every case of a table is measured
once, in turn, so a burst of load from another process hits all cases alike. A row reports the
median of all its samples with the p10-p90 spread, and the spread of its per-round medians
("rounds": min-max), so a ratio can be judged by how much it moves between rounds.

What one run measures (the sections of results.json):

1. ``crypto_floor``: only the ``cryptography`` calls one handshake needs, per side and version;
2. ``handshakes``: full handshakes over 127.0.0.1 (new TCP connection, handshake, 16-byte echo,
   close), TLS 1.3 and 1.2, tlslab <-> OpenSSL (Python ``ssl``) both ways, tlslab <-> tlslab,
   OpenSSL <-> OpenSSL and tlslite-ng both ways; wall time and the CPU of the client and server
   threads, their ratios to the floor, and tlslite-ng's CPU over tlslab's per role (``tlslite``);
3. ``in_memory``: handshakes per second with no sockets, tlslab's ``handshake_in_memory`` against
   OpenSSL through ``ssl.MemoryBIO`` (client + server + chain validation, one thread, CPU time);
4. ``chain_length``: the same in-memory handshake with 0, 1, 3 and 6 intermediates;
5. ``post_quantum``: one row per (hybrid) key-exchange group, and an ML-DSA-65 chain;
6. ``concurrency``: 1/4/16 concurrent OpenSSL clients against tlslab's threaded
   ``net.sockets.Server`` (what ``tlslab server`` runs) in its own process;
7. ``records``, ``hostile_hello``, ``import``: from ``bench_wire.py`` when present (records of
   16 KiB against the bare AEAD, ClientHellos of ~64 KiB against OpenSSL, import time);
8. ``padding_oracle``: the notebook-09 Bleichenbacher lab; ``notebooks``: each notebook's
   headless execution time, twice (the course's total and each notebook's run-to-run change);
9. ``profile``: a cProfile of 200 in-memory handshakes (benchmarks/results/profile.txt).

``--quick`` is a smoke run (fewer samples, no notebooks). ``--markdown`` prints the tables of
benchmarks/README.md from the last results.json without measuring anything. Speed is never
asserted in tests.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import os
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

sys.path.insert(0, str(Path(__file__).parent))
try:  # the wire side of issue #18 (records, hostile hellos, import time), when present
    import bench_wire
except ImportError:  # pragma: no cover - this branch alone
    bench_wire = None

RESULTS = Path(__file__).parent / "results"
PAYLOAD = b"0123456789abcdef"
SUITES = (CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
GROUPS = (NamedGroup.x25519, NamedGroup.secp256r1)


def spread(samples: list[float], rounds: list[float] | None = None) -> dict[str, float]:
    """Median, p10 and p90 of ``samples`` (seconds) in ms; with ``rounds`` (the per-round
    medians) also their min and max."""
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    out = {
        "median_ms": statistics.median(ordered) * 1e3,
        "p10_ms": pick(0.1) * 1e3,
        "p90_ms": pick(0.9) * 1e3,
        "n": len(ordered),
    }
    if rounds:
        out["round_min_ms"] = min(rounds) * 1e3
        out["round_max_ms"] = max(rounds) * 1e3
    return out


class Rounds:
    """Samples of named cases collected over interleaved rounds."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {}
        self.medians: dict[str, list[float]] = {}

    def add(self, name: str, samples: list[float]) -> None:
        self.samples.setdefault(name, []).extend(samples)
        self.medians.setdefault(name, []).append(statistics.median(samples))

    def result(self, name: str) -> dict[str, float]:
        return spread(self.samples[name], self.medians[name])


def ratio(top: list[float], bottom: list[float]) -> dict[str, float]:
    """The ratio of two cases' per-round medians: median over rounds, and min-max."""
    ratios = [t / b for t, b in zip(top, bottom, strict=True)]
    return {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios)}


def cpu_samples(fn: Callable[[], object], count: int) -> list[float]:
    """The thread CPU time of each of ``count`` calls of ``fn``."""
    out = []
    for _ in range(count):
        start = time.thread_time()
        fn()
        out.append(time.thread_time() - start)
    return out


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


def serve_in_thread(
    handler: Callable[[socket.socket], None],
) -> tuple[int, list[float], Callable[[], None]]:
    """A listener on 127.0.0.1 handling one connection at a time in a thread; returns the port,
    the list the server thread's CPU per connection is appended to, and a stop function."""
    listener = socket.create_server(("127.0.0.1", 0))
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

    def close() -> None:
        stop.set()
        with contextlib.suppress(OSError):  # wake the accept() (closing the socket does not)
            socket.create_connection(("127.0.0.1", listener.getsockname()[1]), timeout=1).close()
        thread.join(2)
        listener.close()

    return listener.getsockname()[1], server_cpu, close


def measure_pair(
    client: Callable[[int], bytes],
    handler: Callable[[socket.socket], None],
    count: int,
    warmup: int,
) -> tuple[list[float], list[float], list[float]]:
    """(wall, client CPU, server CPU) samples of ``count`` connections after ``warmup``."""
    port, server_cpu, close = serve_in_thread(handler)
    wall, client_cpu = [], []
    try:
        for i in range(warmup + count):
            w0, c0 = time.perf_counter(), time.thread_time()
            reply = client(port)
            w1, c1 = time.perf_counter(), time.thread_time()
            assert reply == PAYLOAD, reply
            if i >= warmup:
                wall.append(w1 - w0)
                client_cpu.append(c1 - c0)
        deadline = time.monotonic() + 2
        while len(server_cpu) < warmup + count and time.monotonic() < deadline:
            time.sleep(0.001)
    finally:
        close()
    return wall, client_cpu, server_cpu[warmup:] or server_cpu


# -- 1. the crypto floor ----------------------------------------------------------------------------
def crypto_floor_cases(chain: Chain) -> dict[str, Callable[[], None]]:
    """Only the cryptography calls of one handshake, per side and version (ECDSA P-256 chain with
    one intermediate, X25519, AES-128-GCM): the cost no implementation can avoid."""
    leaf_key = chain.leaf.private_key
    leaf_pub = leaf_key.public_key()
    inter_pub = chain.intermediates[0].private_key.public_key()
    root_pub = chain.root.private_key.public_key()
    transcript = bytes(200)
    ecdsa = ec.ECDSA(hashes.SHA256())
    signature = leaf_key.sign(transcript, ecdsa)
    inter_sig = chain.intermediates[0].private_key.sign(transcript, ecdsa)
    root_sig = chain.root.private_key.sign(transcript, ecdsa)

    def macs(n: int) -> None:
        for _ in range(n):
            h = hmac.HMAC(bytes(32), hashes.SHA256())
            h.update(bytes(64))
            h.finalize()

    def key_exchange_and_records(records: int) -> None:
        mine = x25519.X25519PrivateKey.generate()
        mine.exchange(x25519.X25519PrivateKey.generate().public_key())
        aead = AESGCM(bytes(16))
        for i in range(records):
            aead.encrypt(i.to_bytes(12, "big"), bytes(300), b"hdr")

    def schedule_13() -> None:
        macs(4)  # early/handshake/master extracts, Finished MACs
        for _ in range(16):  # Derive-Secret and traffic key/iv expansions
            HKDFExpand(hashes.SHA256(), 32, b"label").derive(bytes(32))

    def chain_and_certificate_verify() -> None:
        leaf_pub.verify(signature, transcript, ecdsa)  # CertificateVerify / ServerKeyExchange
        inter_pub.verify(inter_sig, transcript, ecdsa)  # the leaf's signature
        root_pub.verify(root_sig, transcript, ecdsa)  # the intermediate's signature

    def client_13() -> None:
        key_exchange_and_records(6)
        schedule_13()
        chain_and_certificate_verify()

    def server_13() -> None:
        key_exchange_and_records(6)
        schedule_13()
        leaf_key.sign(transcript, ecdsa)

    def client_12() -> None:  # PRF: master secret, key block, two verify_data: 12 HMACs
        key_exchange_and_records(4)
        macs(12)
        chain_and_certificate_verify()

    def server_12() -> None:
        key_exchange_and_records(4)
        macs(12)
        leaf_key.sign(transcript, ecdsa)

    return {
        "TLS 1.3 client": client_13,
        "TLS 1.3 server": server_13,
        "TLS 1.2 client": client_12,
        "TLS 1.2 server": server_12,
    }


# -- 2. handshakes over sockets ---------------------------------------------------------------------
def handshake_pairs(
    chain: Chain, files: Files, version: str, have_tlslite: bool
) -> list[tuple[str, Callable[[int], bytes], Callable[[socket.socket], None]]]:
    pairs = [
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
        ("tlslab -> tlslab", tlslab_client(chain, version), tlslab_server_handler(chain, version)),
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
    return [(f"TLS {version}: {name}", client, handler) for name, client, handler in pairs]


def handshakes(
    chain: Chain, files: Files, rounds: int, count: int, warmup: int, have_tlslite: bool
) -> dict[str, Any]:
    floors = crypto_floor_cases(chain)
    for fn in floors.values():
        cpu_samples(fn, 20)  # warm up
    pairs = [
        pair
        for version in ("1.3", "1.2")
        for pair in handshake_pairs(chain, files, version, have_tlslite)
    ]
    wall, client_cpu, server_cpu, floor = Rounds(), Rounds(), Rounds(), Rounds()
    errors: dict[str, str] = {}
    for r in range(rounds):
        for name, fn in floors.items():
            floor.add(name, cpu_samples(fn, 4 * count))
        for name, client, handler in pairs:
            if name in errors:
                continue
            try:
                w, c, s = measure_pair(client, handler, count, warmup)
            except Exception as exc:  # a peer that cannot do this combination
                errors[name] = f"{type(exc).__name__}: {exc}"
                continue
            wall.add(name, w)
            client_cpu.add(name, c)
            server_cpu.add(name, s)
        print(f"handshakes: round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
    rows: dict[str, Any] = {}
    for name, *_ in pairs:
        if name in errors:
            rows[name] = {"error": errors[name]}
            continue
        version = name[4:7]
        rows[name] = {
            "wall": wall.result(name),
            "client_cpu": client_cpu.result(name),
            "server_cpu": server_cpu.result(name),
            "client_over_floor": ratio(
                client_cpu.medians[name], floor.medians[f"TLS {version} client"]
            ),
            "server_over_floor": ratio(
                server_cpu.medians[name], floor.medians[f"TLS {version} server"]
            ),
            "wall_over_openssl": ratio(
                wall.medians[name], wall.medians[f"TLS {version}: OpenSSL -> OpenSSL"]
            ),
        }
    tlslite: dict[str, Any] = {}
    for version in ("1.3", "1.2"):
        roles = {
            "client": (
                f"TLS {version}: tlslite-ng -> OpenSSL",
                f"TLS {version}: tlslab -> OpenSSL",
                client_cpu,
            ),
            "server": (
                f"TLS {version}: OpenSSL -> tlslite-ng",
                f"TLS {version}: OpenSSL -> tlslab",
                server_cpu,
            ),
        }
        for role, (theirs, ours, cpu) in roles.items():
            if theirs in cpu.medians and ours in cpu.medians:
                tlslite[f"TLS {version} {role}"] = ratio(cpu.medians[theirs], cpu.medians[ours])
    return {
        "crypto_floor": {name: floor.result(name) for name in floors},
        "pairs": rows,
        "tlslite_over_tlslab_cpu": tlslite,
    }


# -- 3./4. in memory: tlslab against OpenSSL's MemoryBIO -------------------------------------------
def tlslab_in_memory(chain: Chain, version: str) -> Callable[[], None]:
    versions = (ProtocolVersion.TLS13,) if version == "1.3" else (ProtocolVersion.TLS12,)
    config = ClientConfig(
        server_name="lab.example",
        trust_roots=tuple(chain.trust_roots),
        versions=versions,
        cipher_suites=SUITES,
        groups=GROUPS,
    )
    server_config = ServerConfig(versions=versions, cipher_suites=SUITES, groups=GROUPS)
    identity = ServerIdentity.from_chain(chain)

    def run() -> None:
        result = handshake_in_memory(TLSClient(config), TLSServer(server_config, identity))
        assert result.completed, result.error

    return run


def openssl_in_memory(files: Files, version: str) -> Callable[[], None]:
    """The same handshake between two ``ssl.SSLObject`` over ``ssl.MemoryBIO`` pairs."""
    top = ssl.TLSVersion.TLSv1_3 if version == "1.3" else ssl.TLSVersion.TLSv1_2
    client_ctx = ssl.create_default_context(cafile=str(files.root_pem))
    client_ctx.maximum_version = top
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(files.chain_pem, files.key_pem)
    server_ctx.maximum_version = top
    server_ctx.options |= ssl.OP_NO_TICKET

    def step(side: ssl.SSLObject) -> bool:
        try:
            side.do_handshake()
            return True
        except ssl.SSLWantReadError:
            return False

    def run() -> None:
        c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
        client = client_ctx.wrap_bio(c_in, c_out, server_hostname="lab.example")
        server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
        client_done = server_done = False
        for _ in range(10):
            client_done = client_done or step(client)
            s_in.write(c_out.read())
            server_done = server_done or step(server)
            c_in.write(s_out.read())
            if client_done and server_done:
                return
        raise AssertionError("the MemoryBIO handshake did not finish")

    return run


def in_memory(chain: Chain, files: Files, rounds: int, count: int) -> dict[str, Any]:
    cases = {
        f"{who} TLS {version}": make(version)
        for version in ("1.3", "1.2")
        for who, make in (
            ("tlslab", lambda v: tlslab_in_memory(chain, v)),
            ("OpenSSL", lambda v: openssl_in_memory(files, v)),
        )
    }
    for fn in cases.values():
        cpu_samples(fn, 5)
    data = Rounds()
    for _ in range(rounds):
        for name, fn in cases.items():
            data.add(name, cpu_samples(fn, count))
    rows: dict[str, Any] = {}
    for name in cases:
        row = data.result(name)
        row["handshakes_per_second"] = 1e3 / row["median_ms"]
        rows[name] = row
    for version in ("1.3", "1.2"):
        rows[f"tlslab/OpenSSL rate TLS {version}"] = ratio(
            data.medians[f"OpenSSL TLS {version}"], data.medians[f"tlslab TLS {version}"]
        )
    return rows


def chain_length(rounds: int, count: int) -> dict[str, Any]:
    """In-memory TLS 1.3 handshake CPU with 0/1/3/6 intermediates, tlslab and OpenSSL."""
    cases: dict[str, Callable[[], None]] = {}
    for n in (0, 1, 3, 6):
        chain = build_chain("lab.example", intermediates=n, seed=f"bench chain {n}", now=real_now())
        files = Files(chain)
        cases[f"tlslab {n}"] = tlslab_in_memory(chain, "1.3")
        cases[f"OpenSSL {n}"] = openssl_in_memory(files, "1.3")
    for fn in cases.values():
        cpu_samples(fn, 3)
    data = Rounds()
    for _ in range(rounds):
        for name, fn in cases.items():
            data.add(name, cpu_samples(fn, count))
    rows: dict[str, Any] = {}
    for n in (0, 1, 3, 6):
        rows[str(n)] = {
            "tlslab": data.result(f"tlslab {n}"),
            "OpenSSL": data.result(f"OpenSSL {n}"),
            "tlslab_over_openssl": ratio(data.medians[f"tlslab {n}"], data.medians[f"OpenSSL {n}"]),
        }
    return rows


# -- 5. post-quantum groups -------------------------------------------------------------------------
PQ_GROUPS = (
    NamedGroup.x25519,
    NamedGroup.X25519MLKEM768,
    NamedGroup.SecP256r1MLKEM768,
    NamedGroup.SecP384r1MLKEM1024,
    NamedGroup.MLKEM768,
    NamedGroup.MLKEM1024,
)


def post_quantum(chain: Chain, rounds: int, count: int) -> dict[str, Any]:
    """One row per group (x25519 is the baseline): CPU of a whole in-memory TLS 1.3 handshake
    (both sides, chain validation included), CPU of each side's key-exchange stage alone, and the
    bytes of the two hellos. Then the same handshake with an ML-DSA-65 chain."""
    from tlslab.stages.keyexchange import generate_key_share, server_key_share

    mldsa_chain = build_chain("lab.example", seed="bench mldsa", key_type="mldsa65", now=real_now())
    sizes: dict[str, tuple[int, int]] = {}

    def handshake(
        name: str, group: int, chain: Chain, key: str = "ecdsa-p256"
    ) -> Callable[[], None]:
        config = ClientConfig(
            server_name="lab.example",
            trust_roots=tuple(chain.trust_roots),
            groups=(group,),
            key_share_groups=(group,),
        )
        server_config = ServerConfig(groups=(group,), certificate_key=key)
        identity = ServerIdentity.from_chain(chain)

        def run() -> None:
            result = handshake_in_memory(TLSClient(config), TLSServer(server_config, identity))
            assert result.completed, result.error
            sizes[name] = (len(result.flights[0].data), len(result.flights[1].data))

        return run

    def key_exchange(group: int) -> tuple[Callable[[], None], Callable[[], None]]:
        share = generate_key_share(group)
        answer, _ = server_key_share(group, share.public)

        def client() -> None:
            generate_key_share(group).exchange(answer.public)

        def server() -> None:
            server_key_share(group, share.public)

        return client, server

    cases: dict[str, Callable[[], None]] = {}
    for group in PQ_GROUPS:
        name = NamedGroup(group).name
        cases[f"{name}"] = handshake(name, group, chain)
        cases[f"{name} client kx"], cases[f"{name} server kx"] = key_exchange(group)
    mldsa = "X25519MLKEM768 + ML-DSA-65 chain"
    cases[mldsa] = handshake(mldsa, NamedGroup.X25519MLKEM768, mldsa_chain, "mldsa65")
    for fn in cases.values():
        cpu_samples(fn, 2)
    data = Rounds()
    for _ in range(rounds):
        for name, fn in cases.items():
            data.add(name, cpu_samples(fn, count))
    rows: dict[str, Any] = {}
    for name in [NamedGroup(g).name for g in PQ_GROUPS] + [mldsa]:
        row: dict[str, Any] = {
            "handshake_cpu": data.result(name),
            "over_x25519": ratio(data.medians[name], data.medians["x25519"]),
            "client_flight_bytes": sizes[name][0],
            "server_flight_bytes": sizes[name][1],
        }
        if f"{name} client kx" in data.samples:
            row["client_key_exchange_cpu"] = data.result(f"{name} client kx")
            row["server_key_exchange_cpu"] = data.result(f"{name} server kx")
        rows[name] = row
    return rows


# -- 6. concurrent clients against tlslab's threaded server -----------------------------------------
_SERVER = """
import socket, sys
from tlslab.constants import CipherSuite, NamedGroup, ProtocolVersion
from tlslab.engine.server import ServerIdentity
from tlslab.net.sockets import Server
from tlslab.stages.negotiation import ServerConfig
identity = ServerIdentity.from_pem(open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read())
config = ServerConfig(
    versions=(ProtocolVersion.TLS13,),
    cipher_suites=(CipherSuite.TLS_AES_128_GCM_SHA256,),
    groups=(NamedGroup.x25519,),
)
listener = socket.create_server(("127.0.0.1", 0), backlog=128)
print(listener.getsockname()[1], flush=True)
Server(listener, config, identity).serve_forever()
"""


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def concurrency(files: Files, rounds: int, seconds: float) -> dict[str, Any]:
    """Handshakes per second (TLS 1.3, handshake + 16-byte echo + close) with 1, 4 and 16 OpenSSL
    clients at once against tlslab's ``net.sockets.Server`` running in its own process, and the
    server process's CPU per handshake."""
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(files.chain_pem), str(files.key_pem)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        client = openssl_client(files, "1.3")
        rates: dict[int, list[float]] = {}
        cpu: dict[int, list[float]] = {}
        for _ in range(rounds):
            for n in (1, 4, 16):
                done = [0] * n
                stop = time.monotonic() + seconds

                def worker(i: int, done: list[int] = done, stop: float = stop) -> None:
                    while time.monotonic() < stop:
                        assert client(port) == PAYLOAD
                        done[i] += 1

                cpu0, start = _process_cpu(server.pid), time.perf_counter()
                threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                elapsed, total = time.perf_counter() - start, sum(done)
                rates.setdefault(n, []).append(total / elapsed)
                cpu.setdefault(n, []).append((_process_cpu(server.pid) - cpu0) / max(total, 1))
    finally:
        server.terminate()
        server.wait(5)
    return {
        str(n): {
            "handshakes_per_second": statistics.median(rates[n]),
            "rounds_min": min(rates[n]),
            "rounds_max": max(rates[n]),
            "server_cpu_ms_per_handshake": statistics.median(cpu[n]) * 1e3,
        }
        for n in rates
    }


# -- 9. profile, notebooks, padding oracle ---------------------------------------------------------
def profile(chain: Chain, count: int = 200) -> dict[str, Any]:
    run = tlslab_in_memory(chain, "1.3")
    run()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        run()
    profiler.disable()
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "profile.txt"
    with path.open("w") as handle:
        handle.write(f"{count} in-memory TLS 1.3 handshakes (client + server + chain validation)\n")
        stats = pstats.Stats(profiler, stream=handle)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(30)
    return {
        "file": str(path.relative_to(Path(__file__).parent.parent)),
        "share_of_time": profile_breakdown(pstats.Stats(profiler)),
    }


_AREAS = (
    ("tlslab/pki/", "tlslab pki (certificate validation)"),
    ("tlslab/wire/", "tlslab wire (message and record codec)"),
    ("tlslab/engine/", "tlslab engine (state machine, record layer, trace)"),
    ("tlslab/stages/", "tlslab stages (key schedule, signatures, protection, ...)"),
    ("tlslab/", "tlslab, other"),
)


def profile_breakdown(stats: pstats.Stats) -> dict[str, float]:
    """The share of the profiled time spent in each area's own code (cProfile tottime): tlslab's
    layers, the cryptography calls (C/Rust), and Python's own library."""
    totals: dict[str, float] = {}
    for (filename, _, function), row in stats.stats.items():  # type: ignore[attr-defined]
        tottime = row[2]
        area = next((name for prefix, name in _AREAS if prefix in filename), None)
        if area is None:
            if "cryptography" in filename or (filename == "~" and "_rust" in function):
                area = "cryptography (C/Rust calls and its Python wrappers)"
            elif filename == "~":
                area = "Python built-ins (len, isinstance, bytes, dict, ...)"
            else:
                area = "Python standard library (enum, abc, contextlib, ...)"
        totals[area] = totals.get(area, 0.0) + tottime
    whole = sum(totals.values())
    return dict(sorted(((k, v / whole) for k, v in totals.items()), key=lambda kv: -kv[1]))


def notebook_times() -> dict[str, float]:
    """Seconds to execute each notebook headless (as tests/test_notebooks.py does)."""
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


def notebooks(runs: int) -> dict[str, Any]:
    """Each notebook ``runs`` times (whole course per run); per notebook the runs and the largest
    change between runs relative to the median."""
    all_runs = [notebook_times() for _ in range(runs)]
    rows = {}
    for name in all_runs[0]:
        times = [run[name] for run in all_runs]
        mid = statistics.median(times)
        rows[name] = {"runs_s": times, "change": (max(times) - min(times)) / mid}
    return {"per_notebook": rows, "totals_s": [sum(run.values()) for run in all_runs]}


def padding_oracle_times(
    runs: int, max_queries: int = 20_000, budget_s: float = 40.0
) -> dict[str, Any]:
    """The notebook-09 Bleichenbacher lab on fresh ciphertexts. PKCS#1 padding is random, so the
    number of oracle queries varies a lot from run to run; the time per 1,000 queries does not.
    A run beyond ``max_queries`` is stopped (counted, and its time per query kept); no new run
    starts after ``budget_s`` seconds."""
    from tlslab.lab.attacks import (
        AttackBudgetExceeded,
        PaddingOracle,
        bleichenbacher,
        toy_rsa_key,
        unpad_pkcs1,
    )
    from tlslab.stages.keyexchange import encrypt_pre_master_secret, rsa_pre_master_secret

    key = toy_rsa_key()
    seconds, queries, per_k, stopped = [], [], [], 0
    begin = time.perf_counter()
    done = 0
    while done < runs and time.perf_counter() - begin < budget_s:
        done += 1
        secret = rsa_pre_master_secret(ProtocolVersion.TLS12)
        oracle = PaddingOracle(key)
        start = time.perf_counter()
        try:
            result = bleichenbacher(
                encrypt_pre_master_secret(secret, key.public_key()), oracle, max_queries=max_queries
            )
        except AttackBudgetExceeded:
            stopped += 1
            per_k.append((time.perf_counter() - start) / oracle.queries * 1e3)
            continue
        elapsed = time.perf_counter() - start
        assert unpad_pkcs1(result.plaintext) == secret
        seconds.append(elapsed)
        queries.append(result.queries)
        per_k.append(elapsed / result.queries * 1e3)
    nan = float("nan")
    return {
        "runs": done,
        "stopped_at_max_queries": stopped,
        "max_queries": max_queries,
        "median_s": statistics.median(seconds) if seconds else nan,
        "max_s": max(seconds) if seconds else nan,
        "median_queries": statistics.median(queries) if queries else nan,
        "s_per_1000_queries": statistics.median(per_k),
    }


def import_cost_fallback() -> dict[str, float]:
    """``import tlslab`` (engine included) against the cryptography modules it needs (best of 5)."""

    def run(code: str) -> float:
        best = 1e9
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            best = min(best, time.perf_counter() - start)
        return best * 1e3

    baseline = run("pass")
    crypto = run("import cryptography.x509")
    tlslab = run("import tlslab")
    return {
        "cryptography.x509_ms": crypto - baseline,
        "tlslab_ms": tlslab - baseline,
        "tlslab_over_cryptography_x509": (tlslab - baseline) / (crypto - baseline),
    }


# -- the run ----------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: fewer samples, no notebooks"
    )
    parser.add_argument(
        "--markdown",
        nargs="?",
        const=str(RESULTS / "results.json"),
        metavar="RESULTS_JSON",
        help="print the README tables of a results.json (default: the last run) and exit",
    )
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(Path(args.markdown).read_text())))
        return 0
    quick = args.quick
    started = time.perf_counter()
    rounds = 3 if quick else 5
    chain = build_chain("lab.example", seed="bench", now=real_now())
    files = Files(chain)
    try:
        import tlslite  # noqa: F401

        have_tlslite = True
    except ImportError:
        have_tlslite = False
    results: dict[str, Any] = {
        "command": "python benchmarks/run.py" + (" --quick" if quick else ""),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{ssl.OPENSSL_VERSION}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "rounds": rounds,
        "load_average_at_start": os.getloadavg()[0],
    }

    def section(name: str, fn: Callable[[], Any]) -> None:
        t0 = time.perf_counter()
        try:
            results[name] = fn()
        except Exception as exc:  # one broken section must not lose the others
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
        results.setdefault("section_seconds", {})[name] = time.perf_counter() - t0
        print(f"{name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)

    count = 8 if quick else 30
    section("handshakes", lambda: handshakes(chain, files, rounds, count, 3, have_tlslite))
    section("in_memory", lambda: in_memory(chain, files, rounds, 10 if quick else 40))
    section("chain_length", lambda: chain_length(rounds, 4 if quick else 15))
    section("post_quantum", lambda: post_quantum(chain, rounds, 3 if quick else 10))
    section("concurrency", lambda: concurrency(files, rounds, 0.5 if quick else 2.0))
    if bench_wire is not None:
        section(
            "records",
            lambda: bench_wire.record_throughput(rounds=rounds, count=50 if quick else 200),
        )
        section(
            "hostile_hello",
            lambda: bench_wire.hostile_hello(rounds=rounds, count=2 if quick else 5),
        )
        section("import", lambda: bench_wire.import_cost(rounds=5 if quick else 7))
    else:
        section("import", import_cost_fallback)
    section(
        "padding_oracle",
        lambda: padding_oracle_times(2, 4_000, 8.0) if quick else padding_oracle_times(8),
    )
    section("profile", lambda: profile(chain, 50 if quick else 200))
    if not quick:
        section("notebooks", lambda: notebooks(2))
    results["total_seconds"] = time.perf_counter() - started
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "results.json").write_text(json.dumps(results, indent=1))
    print(markdown(results))
    return 0


def targets(results: dict[str, Any]) -> list[list[str]]:
    """One row per target of issue #18: the figure, and whether the whole per-round range meets it
    ("yes"), none of it does ("no"), or the range straddles the target ("unclear")."""

    def verdict(r: dict[str, float], ok: Callable[[float], bool]) -> str:
        hits = (ok(r["min"]), ok(r["max"]))
        return "yes" if all(hits) else "no" if not any(hits) else "unclear"

    rows: list[list[str]] = []
    pairs = results.get("handshakes", {}).get("pairs", {})
    for version in ("1.3", "1.2"):
        for role, key, name in (
            ("client", "client_over_floor", f"TLS {version}: tlslab -> OpenSSL"),
            ("server", "server_over_floor", f"TLS {version}: OpenSSL -> tlslab"),
        ):
            row = pairs.get(name, {})
            if key in row:
                openssl = pairs.get(f"TLS {version}: OpenSSL -> OpenSSL", {}).get(key)
                note = f" (OpenSSL: {_x(openssl)})" if openssl else ""
                rows.append(
                    [
                        f"TLS {version} {role} CPU <= 2.5x the crypto floor",
                        _x(row[key]) + note,
                        verdict(row[key], lambda v: v <= 2.5),
                    ]
                )
    for name, r in results.get("handshakes", {}).get("tlslite_over_tlslab_cpu", {}).items():
        rows.append([f"{name}: tlslite-ng CPU >= 6x tlslab's", _x(r), verdict(r, lambda v: v >= 6)])
    for version in ("1.3", "1.2"):
        r = results.get("in_memory", {}).get(f"tlslab/OpenSSL rate TLS {version}")
        if r:
            rows.append(
                [
                    f"TLS {version} in memory >= 1/1.5 of OpenSSL's MemoryBIO rate",
                    _x(r),
                    verdict(r, lambda v: v >= 1 / 1.5),
                ]
            )
    share = results.get("records", {}).get("share_of_bare_aead", {})
    for name, r in share.items():
        if isinstance(r, dict):
            # The target is the record stage (stages.protection seal and open); the
            # engine's whole path (RecordLayer: framing, header checks, Inbound) is shown too.
            staged = [r[op] for op in ("seal", "open") if isinstance(r.get(op), (int, float))]
            if not staged:
                continue
            worst = min(staged)
            layer = ", ".join(
                f"{op} {r[op]:.2f}"
                for op in ("RecordLayer.write", "RecordLayer.receive")
                if isinstance(r.get(op), (int, float))
            )
            rows.append(
                [
                    f"{name} seal and open >= 0.6 of the bare AEAD",
                    f"lowest {worst:.2f}" + (f" (whole record layer: {layer})" if layer else ""),
                    "yes" if worst >= 0.6 else "no",
                ]
            )
    for name, v in results.get("hostile_hello", {}).get("tlslab_over_openssl", {}).items():
        if name != "normal" and isinstance(v, (int, float)):
            rows.append(
                [
                    f"~64 KiB ClientHello of {name} <= 10x OpenSSL",
                    f"{v:.1f}x",
                    "yes" if v <= 10 else "no",
                ]
            )
    imp = results.get("import", {})
    if "tlslab_over_cryptography_x509" in imp:
        v = imp["tlslab_over_cryptography_x509"]
        rows.append(
            [
                "`import tlslab` <= 1.3x `import cryptography.x509`",
                f"{v:.2f}x",
                "yes" if v <= 1.3 else "no",
            ]
        )
    nb = results.get("notebooks", {})
    if "totals_s" in nb:
        worst = max(nb["totals_s"])
        rows.append(
            [
                "course headless < 60 s",
                ", ".join(f"{t:.0f} s" for t in nb["totals_s"]),
                "yes" if worst < 60 else "no",
            ]
        )
        moved = [n for n, row in nb["per_notebook"].items() if row["change"] > 0.2]
        rows.append(
            [
                "every notebook within +-20% run to run",
                f"{len(moved)} of {len(nb['per_notebook'])} moved more than 20%",
                "yes" if not moved else "no",
            ]
        )
    if "total_seconds" in results:
        limit = 90 if results["command"].endswith("--quick") else 480
        rows.append(
            [
                f"this run <= {limit // 60 if limit % 60 == 0 else limit / 60} min",
                f"{results['total_seconds']:.0f} s",
                "yes" if results["total_seconds"] <= limit else "no",
            ]
        )
    return rows


# -- the README tables ------------------------------------------------------------------------------
def _ms(s: dict[str, float]) -> str:
    """median (p10-p90) [rounds min-max]"""
    text = f"{s['median_ms']:.2f} ({s['p10_ms']:.2f}-{s['p90_ms']:.2f})"
    if "round_min_ms" in s:
        text += f" [{s['round_min_ms']:.2f}-{s['round_max_ms']:.2f}]"
    return text


def _x(r: dict[str, float]) -> str:
    return f"{r['median']:.2f}x [{r['min']:.2f}-{r['max']:.2f}]"


def _us(s: dict[str, float]) -> str:
    return f"{s['median_us']:.1f} ({s['p10_us']:.1f}-{s['p90_us']:.1f})"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def markdown(results: dict[str, Any]) -> str:
    """The tables of benchmarks/README.md, from one run's results."""
    out = [
        f"Command `{results['command']}`, {results['date']}, {results['machine']}; "
        f"{results['rounds']} interleaved rounds; load average {results['load_average_at_start']:.1f} "
        f"at the start; the run took {results.get('total_seconds', float('nan')):.0f} s.",
        "",
        "Cells: median (p10-p90) [min-max of the per-round medians]; ratios: median of the "
        "per-round ratios [min-max].",
    ]
    hs = results.get("handshakes", {})
    if "pairs" in hs:
        floor = hs["crypto_floor"]
        out += [
            "",
            "**Crypto floor** (CPU ms of only the cryptography calls of one handshake):",
            "",
        ]
        out += _table(["side", "CPU ms"], [[name, _ms(s)] for name, s in floor.items()])
        out += [
            "",
            "**Handshakes over 127.0.0.1** (new connection, handshake, 16-byte echo, close):",
            "",
        ]
        rows = []
        for name, row in hs["pairs"].items():
            if "error" in row:
                rows.append([name, row["error"][:60], "", "", "", "", ""])
                continue
            rows.append(
                [
                    name,
                    _ms(row["wall"]),
                    _ms(row["client_cpu"]),
                    _ms(row["server_cpu"]),
                    _x(row["wall_over_openssl"]),
                    _x(row["client_over_floor"]),
                    _x(row["server_over_floor"]),
                ]
            )
        out += _table(
            [
                "pair",
                "wall ms",
                "client CPU ms",
                "server CPU ms",
                "wall / OpenSSL",
                "client / floor",
                "server / floor",
            ],
            rows,
        )
        if hs.get("tlslite_over_tlslab_cpu"):
            out += ["", "**tlslite-ng's CPU over tlslab's** (same OpenSSL peer; target >= 6x):", ""]
            out += _table(
                ["role", "tlslite-ng / tlslab"],
                [[k, _x(v)] for k, v in hs["tlslite_over_tlslab_cpu"].items()],
            )
    im = results.get("in_memory", {})
    if "tlslab TLS 1.3" in im:
        out += [
            "",
            "**In memory** (client + server + chain validation in one thread, CPU per handshake):",
            "",
        ]
        rows = [
            [name, _ms(row), f"{row['handshakes_per_second']:.0f}"]
            for name, row in im.items()
            if "median_ms" in row
        ]
        out += _table(["stack", "CPU ms", "handshakes/s"], rows)
        out += [""] + [
            f"- {name} (target >= 0.67): {_x(row)}" for name, row in im.items() if "median" in row
        ]
    cl = results.get("chain_length", {})
    if "0" in cl:
        out += ["", "**Chain length** (in-memory TLS 1.3, CPU ms per handshake):", ""]
        out += _table(
            ["intermediates", "tlslab", "OpenSSL", "tlslab / OpenSSL"],
            [
                [n, _ms(r["tlslab"]), _ms(r["OpenSSL"]), _x(r["tlslab_over_openssl"])]
                for n, r in cl.items()
            ],
        )
    pq = results.get("post_quantum", {})
    if "x25519" in pq:
        out += [
            "",
            "**Key-exchange groups** (in-memory TLS 1.3, ECDSA P-256 chain unless named):",
            "",
        ]
        rows = []
        for name, row in pq.items():
            ckx = row.get("client_key_exchange_cpu")
            skx = row.get("server_key_exchange_cpu")
            rows.append(
                [
                    name,
                    _ms(row["handshake_cpu"]),
                    _x(row["over_x25519"]),
                    f"{ckx['median_ms']:.3f}" if ckx else "",
                    f"{skx['median_ms']:.3f}" if skx else "",
                    f"{row['client_flight_bytes']:,}",
                    f"{row['server_flight_bytes']:,}",
                ]
            )
        out += _table(
            [
                "group",
                "handshake CPU ms",
                "x x25519",
                "client kx ms",
                "server kx ms",
                "ClientHello B",
                "server flight B",
            ],
            rows,
        )
    cc = results.get("concurrency", {})
    if "1" in cc:
        out += [
            "",
            "**Concurrent OpenSSL clients against tlslab's threaded server** (TLS 1.3, own process):",
            "",
        ]
        out += _table(
            ["clients", "handshakes/s [rounds min-max]", "server CPU ms per handshake"],
            [
                [
                    n,
                    f"{r['handshakes_per_second']:.0f} [{r['rounds_min']:.0f}-{r['rounds_max']:.0f}]",
                    f"{r['server_cpu_ms_per_handshake']:.2f}",
                ]
                for n, r in cc.items()
            ],
        )
    rec = results.get("records", {})
    if "per_record" in rec:
        out += [
            "",
            f"**Records** of {rec.get('record_bytes', 16384):,} bytes (CPU us per record):",
            "",
        ]
        out += _table(
            ["case", "us per record"], [[k, _us(v)] for k, v in rec["per_record"].items()]
        )
        out += [
            "",
            "Share of the bare AEAD call's throughput (target >= 0.6 for seal and open;"
            " RecordLayer is the engine's whole path, shown for what remains):",
            "",
        ]
        out += [
            f"- {k}: "
            + (", ".join(f"{op} {x:.2f}" for op, x in v.items()) if isinstance(v, dict) else f"{v}")
            for k, v in rec.get("share_of_bare_aead", {}).items()
        ]
    hh = results.get("hostile_hello", {})
    if "cpu_per_hello" in hh:
        sizes = ", ".join(f"{k} {v:,} B" for k, v in hh.get("hello_bytes", {}).items())
        out += ["", f"**ClientHello size** (CPU per hello answered; {sizes}):", ""]
        out += _table(
            ["case", "us per hello"], [[k, _us(v)] for k, v in hh["cpu_per_hello"].items()]
        )
        out += [""] + [
            f"- tlslab / OpenSSL, {k} (target <= 10x for the junk hellos): {v:.1f}x"
            for k, v in hh.get("tlslab_over_openssl", {}).items()
        ]
    imp = results.get("import", {})
    if "import" in imp:
        out += ["", "**Import** (fresh interpreter):", ""]
        out += _table(["module", "us"], [[k, _us(v)] for k, v in imp["import"].items()])
        out += [
            "",
            f"- tlslab / cryptography.x509 (target <= 1.3x): {imp['tlslab_over_cryptography_x509']:.2f}x",
        ]
    elif "tlslab_ms" in imp:
        out += [
            "",
            f"**Import**: tlslab {imp['tlslab_ms']:.0f} ms, cryptography.x509 {imp['cryptography.x509_ms']:.0f} ms: "
            f"{imp['tlslab_over_cryptography_x509']:.2f}x (target <= 1.3x)",
        ]
    po = results.get("padding_oracle", {})
    if "s_per_1000_queries" in po:
        finished = po["runs"] - po["stopped_at_max_queries"]
        text = (
            f"**Padding-oracle lab** ({po['runs']} fresh ciphertexts against the 512-bit toy key): "
            f"{po['s_per_1000_queries'] * 1e3:.0f} ms per 1,000 oracle queries; "
            f"{po['stopped_at_max_queries']} of {po['runs']} runs needed more than {po['max_queries']:,} queries"
        )
        if finished:
            text += (
                f"; the {finished} that finished took median {po['median_s']:.1f} s "
                f"(slowest {po['max_s']:.1f} s), median {po['median_queries']:,.0f} queries"
            )
        out += ["", text + "."]
    nb = results.get("notebooks", {})
    if "per_notebook" in nb:
        out += [
            "",
            "**Notebooks** (headless, nbclient, kernel start included; two runs of the course):",
            "",
        ]
        out += _table(
            ["notebook", "run 1 s", "run 2 s", "change"],
            [
                [name, *(f"{t:.1f}" for t in row["runs_s"]), f"{row['change']:.0%}"]
                for name, row in nb["per_notebook"].items()
            ],
        )
        out += [
            "",
            "Course total: "
            + ", ".join(f"{t:.0f} s" for t in nb["totals_s"])
            + " (target < 60 s).",
        ]
    out += ["", "**Against the targets of issue #18** (computed from the rows above):", ""]
    out += _table(["target", "this run", "met"], targets(results))
    prof = results.get("profile", {})
    if isinstance(prof, dict) and "share_of_time" in prof:
        out += [
            "",
            f"**Where the in-memory handshake's time goes** (cProfile, own time; {prof['file']}):",
            "",
        ]
        out += _table(
            ["area", "share"], [[k, f"{v:.0%}"] for k, v in prof["share_of_time"].items()]
        )
    errors = [
        f"- {k}: {v['error']}" for k, v in results.items() if isinstance(v, dict) and "error" in v
    ]
    if errors:
        out += ["", "Sections that failed:", *errors]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
