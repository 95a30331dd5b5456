"""How fast tlslab reads a capture: open_capture on a TLS 1.3 connection carrying N MiB.

    .venv/bin/python benchmarks/bench_capture.py [--mib 4]

A tlslab client and server (in memory) exchange a request and an N MiB reply in 16 KiB
records; the bytes become a pcapng file of 1448-byte segments (the test suite's writer,
tests/capture_files.py), once in order and once with every segment shuffled. Reported:
seconds per open_capture (median of 5) and MiB/s, split into file reading, TCP reassembly
and record work (decryption) by cProfile-free wall-clock sections.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.capture_files import capture_file, conversation  # noqa: E402
from tlslab.constants import ProtocolVersion  # noqa: E402
from tlslab.engine.client import ClientConfig, TLSClient  # noqa: E402
from tlslab.engine.memory import handshake_in_memory  # noqa: E402
from tlslab.engine.server import ServerIdentity, TLSServer  # noqa: E402
from tlslab.net._pcap import read_capture, tcp_segments  # noqa: E402
from tlslab.net.capture import open_capture  # noqa: E402
from tlslab.net.tcp import group_connections, reassemble  # noqa: E402
from tlslab.pki.certificates import LAB_NOW, build_chain  # noqa: E402
from tlslab.rng import seeded_rng  # noqa: E402
from tlslab.stages.negotiation import ServerConfig  # noqa: E402


def flights_with_reply(mib: int) -> tuple[list[tuple[str, bytes]], TLSClient]:
    chain = build_chain()
    client = TLSClient(
        ClientConfig(
            server_name="lab.example",
            trust_roots=tuple(chain.trust_roots),
            now=LAB_NOW,
            versions=(ProtocolVersion.TLS13,),
        ),
        seeded_rng(1),
    )
    server = TLSServer(ServerConfig(), ServerIdentity.from_chain(chain), seeded_rng(2))
    result = handshake_in_memory(client, server)
    flights = [(f.sender, f.data) for f in result.flights]
    client.send_application_data(b"GET /big HTTP/1.1\r\n\r\n")
    flights.append(("client", client.data_to_send()))
    chunk = bytes(range(256)) * 64  # 16 KiB
    for _ in range(mib * 64):
        server.send_application_data(chunk)
    flights.append(("server", server.data_to_send()))
    return flights, client


def timed(fn: object, repeat: int = 5) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=4)
    args = parser.parse_args()
    flights, client = flights_with_reply(args.mib)
    keylog = client.trace.keylog()
    segs = conversation(flights, mss=1448)
    shuffled = segs[:3] + random.Random(1).sample(segs[3:], len(segs) - 3)
    shuffled = [replace(s, time=i * 1e-4) for i, s in enumerate(shuffled)]
    print(f"{args.mib} MiB reply, {len(segs)} segments")
    for name, order in (("in order", segs), ("shuffled", shuffled)):
        data = capture_file(order, "pcapng")
        total = timed(lambda data=data: open_capture(data, keylog))
        file = read_capture(data)
        read = timed(lambda data=data: tcp_segments(read_capture(data).frames))
        tcp = group_connections(tcp_segments(file.frames).segments)[0]
        halves = [tcp.sent_by(e) for e in tcp.endpoints()]
        reasm = timed(lambda halves=halves: [reassemble(h, "x") for h in halves])
        conn = open_capture(data, keylog)[0]
        assert conn.decrypted and len(conn.server_data) == args.mib * 2**20
        print(
            f"{name:>9}: open_capture {total:.3f} s ({args.mib / total:.1f} MiB/s); "
            f"file+packets {read:.3f} s, reassembly {reasm:.3f} s, "
            f"records+decryption {total - read - reasm:.3f} s"
        )


if __name__ == "__main__":
    main()
