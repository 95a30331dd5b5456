"""Bring your own handshake: capture files (pcap and pcapng, written here from the bytes the
endpoints exchanged) opened with tlslab.open_capture and a key log.

Every handshake message recovered from the capture must equal what the endpoints logged;
reassembly must survive shuffled, duplicated, overlapping and lost segments; a damaged file
must give a clear CaptureFileError, and a damaged connection a note, never an exception."""

from __future__ import annotations

import os
import random
import shutil
import struct
import subprocess
import sys
import time
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tlslab
from tests.capture_files import (
    ACK,
    CLIENT,
    PSH,
    SERVER,
    Seg,
    capture_file,
    conversation,
    frame,
    write_pcap,
    write_pcapng,
)
from tlslab.constants import ContentType, NamedGroup
from tlslab.constants import ProtocolVersion as V
from tlslab.engine.client import ClientConfig, TLSClient
from tlslab.engine.memory import handshake_in_memory
from tlslab.engine.server import ServerIdentity, TLSServer
from tlslab.net._pcap import Segment
from tlslab.net.capture import BUG_NOTE, CaptureFileError, Gap, open_capture, reassemble
from tlslab.pki.certificates import LAB_NOW, build_chain
from tlslab.rng import seeded_rng
from tlslab.stages.keylog import KeyLog
from tlslab.stages.negotiation import ServerConfig
from tlslab.wire.record import RecordReader, TLSPlaintext

CHAIN = build_chain()
REQUEST = b"GET / HTTP/1.1\r\nHost: lab.example\r\n\r\n"
REPLY = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello" * 40  # several segments


def tlslab_conversation(
    version: int, seed: int = 1
) -> tuple[list[tuple[str, bytes]], TLSClient, TLSServer]:
    """A tlslab client and server in memory: handshake, request, reply, close_notify both ways."""
    client = TLSClient(
        ClientConfig(
            server_name="lab.example",
            trust_roots=tuple(CHAIN.trust_roots),
            now=LAB_NOW,
            versions=(version,),
            # classical groups: a seeded run repeats byte for byte (ML-KEM encapsulation takes no
            # seed) and the ClientHello fits one segment, as the frame numbers below assume
            groups=(NamedGroup.x25519, NamedGroup.secp256r1),
        ),
        seeded_rng(seed),
    )
    server = TLSServer(
        ServerConfig(certificate_key="ecdsa-p256"),
        ServerIdentity.from_chain(CHAIN),
        seeded_rng(seed + 100),
    )
    result = handshake_in_memory(client, server)
    assert result.completed
    flights = [(f.sender, f.data) for f in result.flights]
    sides = {"client": client, "server": server}

    def send(sender: str, data: bytes | None = None) -> None:
        if data is not None:
            sides[sender].send_application_data(data)
        out = sides[sender].data_to_send()
        if out:
            flights.append((sender, out))
            receiver = sides["server" if sender == "client" else "client"]
            if not receiver.closed:
                receiver.receive_data(out)

    send("server")  # anything left after the handshake (TLS 1.3 NewSessionTicket)
    send("client", REQUEST)
    send("server", REPLY)
    client.close()
    send("client")
    server.close()  # (if it has not answered the close_notify already)
    send("server")
    return flights, client, server


def endpoint_log(client: TLSClient) -> list[tuple[str, bytes]]:
    """The handshake messages as the client's trace logged them, as (sender, bytes)."""
    return [
        ("client" if event.direction == "sent" else "server", bytes(event.data))
        for event in client.trace.messages()
        if event.name != "ChangeCipherSpec"
    ]


@pytest.fixture(scope="module", params=[V.TLS13, V.TLS12], ids=["tls13", "tls12"])
def session(request: pytest.FixtureRequest) -> tuple[list[tuple[str, bytes]], TLSClient, str]:
    flights, client, server = tlslab_conversation(request.param)
    assert endpoint_log(client) == [
        ("client" if e.direction == "received" else "server", bytes(e.data))
        for e in server.trace.messages()
        if e.name != "ChangeCipherSpec"
    ]  # both endpoints logged the same messages
    return flights, client, client.trace.keylog().dumps()


def _write(tmp_path: Path, name: str, data: bytes, text: str | None = None) -> Path:
    path = tmp_path / name
    path.write_bytes(data) if text is None else path.write_text(text)
    return path


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_capture_decrypts_every_message_the_endpoints_logged(
    session: tuple[list[tuple[str, bytes]], TLSClient, str], fmt: str, tmp_path: Path
) -> None:
    flights, client, keylog = session
    path = _write(tmp_path, f"loopback.{fmt}", capture_file(conversation(flights), fmt))
    log_path = _write(tmp_path, "sslkeys.log", b"", keylog)
    capture = tlslab.open_capture(path, keylog=log_path)
    assert capture.format == fmt and len(capture) == 1 and capture.other_tcp == 0
    conn = capture[0]
    assert conn.decrypted, conn.notes
    assert (conn.client, conn.server) == (CLIENT, SERVER)
    assert conn.handshake == endpoint_log(client)
    assert conn.client_data == REQUEST and conn.server_data == REPLY
    assert conn.server_name == "lab.example"
    assert conn.version == client.version
    assert conn.checks == (
        ["server Finished verified", "client Finished verified"]
        if client.version == V.TLS13
        else ["client Finished verified", "server Finished verified"]
    )
    assert [a for _, a in conn.alerts] == [b"\x01\x00", b"\x01\x00"]  # close_notify both ways
    assert conn.notes == [] and conn.gaps == []
    # every record accounted for, in wire order per side, each one opened
    for side, flight_bytes in (
        ("client", b"".join(d for s, d in flights if s == "client")),
        ("server", b"".join(d for s, d in flights if s == "server")),
    ):
        own = [r for r in conn.records if r.direction == side]
        assert b"".join(r.wire for r in own) == flight_bytes
        assert [r.index for r in own] == list(range(len(own)))
        assert all(r.content is not None for r in own)
    # records are in capture-time order, and the first is the ClientHello in frame 4
    assert [r.time for r in conn.records] == sorted(r.time for r in conn.records)
    first = conn.records[0]
    assert (first.direction, first.frame, first.describe()) == ("client", 4, "client_hello")
    opened = {r.keys for r in conn.records}
    if client.version == V.TLS13:
        assert opened == {
            "plaintext",
            "SERVER_HANDSHAKE_TRAFFIC_SECRET",
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
            "SERVER_TRAFFIC_SECRET_0",
            "CLIENT_TRAFFIC_SECRET_0",
        }
    else:
        assert opened == {"plaintext", "CLIENT_RANDOM"}
    names = [n for _, n in conn.messages()]
    assert names[:2] == ["ClientHello", "ServerHello"] and names.count("Finished") == 2
    explained = conn.explain_handshake()
    assert len(explained) == len(conn.handshake)
    assert all(e.error is None for _, e in explained)
    trace = conn.trace()
    assert "client_hello" in trace and "Finished verified" in trace and "cipher_suites" in trace


def test_reassembly_survives_shuffled_duplicated_and_overlapping_segments(
    session: tuple[list[tuple[str, bytes]], TLSClient, str],
) -> None:
    flights, client, keylog = session
    segs = conversation(flights, mss=300)
    rng = random.Random(7)
    data_segs = [s for s in segs if s.payload]
    # overlapping retransmissions: a later segment re-sent together with half of the one before
    extra = []
    for a, b in zip(data_segs, data_segs[1:], strict=False):
        if a.sender == b.sender and rng.random() < 0.3:
            half = a.payload[len(a.payload) // 2 :]
            extra.append(replace(b, seq=(b.seq - len(half)) % 2**32, payload=half + b.payload))
    duplicated = rng.sample(data_segs, len(data_segs) // 3)
    mixed = segs[:3] + rng.sample(segs[3:], len(segs) - 3) + duplicated + extra
    mixed = [replace(s, time=1_700_000_000 + i * 0.001) for i, s in enumerate(mixed)]
    assert len(extra) >= 3 and mixed != segs
    conn = open_capture(capture_file(mixed, "pcap"), KeyLog.parse(keylog))[0]
    assert conn.decrypted and conn.notes == [], conn.notes
    assert conn.handshake == endpoint_log(client)
    assert conn.server_data == REPLY


def test_a_lost_segment_is_a_gap_not_a_crash(
    session: tuple[list[tuple[str, bytes]], TLSClient, str],
) -> None:
    flights, client, keylog = session
    segs = conversation(flights, mss=300)
    server_data = [i for i, s in enumerate(segs) if s.sender == "server" and s.payload]
    lost = server_data[-3]  # inside the reply: the handshake is whole, the data is not
    conn = open_capture(
        capture_file(segs[:lost] + segs[lost + 1 :], "pcapng"), KeyLog.parse(keylog)
    )[0]
    assert not conn.decrypted and conn.session is not None
    (gap,) = conn.gaps
    assert isinstance(gap, Gap) and gap.direction == "server"
    assert gap.missing == len(segs[lost].payload)
    assert any("bytes missing at stream offset" in note for note in conn.notes)
    assert conn.handshake == endpoint_log(client)  # the handshake was before the hole
    assert conn.client_data == REQUEST
    assert REPLY.startswith(conn.server_data) and len(conn.server_data) < len(REPLY)
    # the very first server segment lost: ServerHello gone, nothing to decrypt, still no exception
    first = server_data[0]
    conn = open_capture(capture_file(segs[:first] + segs[first + 1 :]), KeyLog.parse(keylog))[0]
    assert conn.gaps and conn.session is None and conn.version is None
    assert conn.records and all(r.direction == "client" for r in conn.records)


def test_reassemble_wraps_sequence_numbers_and_needs_no_syn() -> None:
    def seg(seq: int, payload: bytes, number: int) -> Segment:
        return Segment(
            number, float(number), "10.0.0.1", 1, "10.0.0.2", 2, seq % 2**32, 0x18, payload
        )

    base = 2**32 - 3
    parts = [seg(base, b"abc", 1), seg(base + 3, b"defg", 2), seg(base + 7, b"h", 3)]
    for order in ([0, 1, 2], [2, 0, 1], [1, 2, 0, 1]):
        out = reassemble([parts[i] for i in order], "client")
        assert out.data == b"abcdefgh" and out.gap is None
    conflicting = reassemble([parts[0], seg(base + 1, b"XY", 4), parts[1]], "client")
    assert conflicting.data == b"abcdefg"
    assert "different content" in conflicting.notes[0]  # the first copy is kept, and said so
    holed = reassemble([parts[0], parts[2]], "client")
    assert holed.data == b"abc" and holed.gap == Gap("client", 3, 4, 1, 3)


def test_several_connections_other_traffic_and_a_broken_one(
    session: tuple[list[tuple[str, bytes]], TLSClient, str], tmp_path: Path
) -> None:
    """Two TLS connections, a plain-HTTP one, QUIC and garbage inside one TLS stream: the good
    connection is decrypted, the broken one carries a note, the rest are counted."""
    flights, client, keylog = session
    good = conversation(flights, start=100.0)
    http = conversation(
        [("client", b"GET / HTTP/1.0\r\n\r\n"), ("server", b"HTTP/1.0 200 OK")], start=150.0
    )
    broken_flights = [flights[0], ("server", b"\x16\x03\x03\x00\x02\x02\x00" + b"\xff" * 30)]
    broken = conversation(broken_flights, start=200.0)
    frames = [(s.time, frame(s, client=("127.0.0.1", 40001))) for s in good]
    frames += [
        (s.time, frame(s, client=("127.0.0.1", 40002), server=("127.0.0.1", 80))) for s in http
    ]
    frames += [(s.time, frame(s, client=("127.0.0.1", 40003))) for s in broken]
    quic = bytes(12) + b"\x08\x00" + bytes([0x45, 0, 0, 36]) + bytes(5) + b"\x11" + bytes(2)
    quic += bytes([127, 0, 0, 1, 127, 0, 0, 1]) + (443).to_bytes(2, "big") + bytes(14)
    frames.append((160.0, quic))
    frames.sort()
    capture = open_capture(write_pcap(frames), KeyLog.parse(keylog))
    assert [c.stream for c in capture] == [
        0,
        2,
    ]  # stream 1 is the plain HTTP one and capture.other_tcp == 1
    assert capture[0].decrypted and capture[0].handshake == endpoint_log(client)
    bad = capture[1]
    assert bad.session is None and any(
        "not a TLS record" in n or "could not" in n for n in bad.notes
    )
    assert any("QUIC" in note for note in capture.notes)
    assert "2 TLS connection(s), 1 other TCP connection(s)" in capture.summary()


def test_without_the_key_log_the_records_stay_closed(
    session: tuple[list[tuple[str, bytes]], TLSClient, str],
) -> None:
    flights, client, _ = session
    conn = open_capture(capture_file(conversation(flights)))[0]
    assert conn.session is None and not conn.decrypted
    assert any("no key log" in note for note in conn.notes)
    assert conn.client_random == client.trace.client_random
    assert conn.version == client.version and conn.suite is not None
    closed = [r for r in conn.records if r.content is None]
    assert closed and all("not opened" in r.describe() for r in closed)
    # what an eavesdropper reads: exactly the messages the client logged as plaintext, in order
    assert conn.handshake == [
        ("client" if e.direction == "sent" else "server", bytes(e.data))
        for e in client.trace.messages()
        if e.value == "plaintext" and e.name != "ChangeCipherSpec"
    ]
    other = KeyLog()
    other.add("CLIENT_RANDOM", bytes(32), bytes(48))
    conn = open_capture(capture_file(conversation(flights)), other)[0]
    assert any("no secrets for client random" in note for note in conn.notes)


def test_pcapng_with_the_key_log_inside(
    session: tuple[list[tuple[str, bytes]], TLSClient, str],
) -> None:
    """Wireshark's editcap --inject-secrets puts the key log in a Decryption Secrets Block."""
    flights, client, keylog = session
    conn = open_capture(capture_file(conversation(flights), "pcapng", keylog=keylog))[0]
    assert conn.decrypted and conn.handshake == endpoint_log(client)


@pytest.mark.parametrize(
    "link,fmt,options",
    [
        ("sll", "pcap", {"order": ">"}),
        ("null", "pcap", {"nanos": True}),
        ("raw", "pcapng", {"order": ">", "nanos": False}),
        ("ethernet", "pcapng", {}),
    ],
)
@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_link_layers_byte_orders_and_ipv6(
    session: tuple[list[tuple[str, bytes]], TLSClient, str],
    link: str,
    fmt: str,
    options: dict[str, object],
    address: str,
) -> None:
    flights, client, keylog = session
    data = capture_file(
        conversation(flights), fmt, link, (address, 50000), (address, 8443), **options
    )
    conn = open_capture(data, KeyLog.parse(keylog))[0]
    assert conn.decrypted and conn.handshake == endpoint_log(client)
    assert conn.client == (address, 50000)
    assert conn.records[0].time == pytest.approx(1_700_000_000.003, abs=1e-6)


def test_openssl_sessions_in_a_capture() -> None:
    """OpenSSL on both ends (Python ssl, recorded on 127.0.0.1): the capture of their bytes,
    cut into segments, decrypts with OpenSSL's own key log in both versions."""
    from tlslab.engine.decrypt import decrypt_session
    from tlslab.net.openssl_lab import record_openssl_session

    for version in ("1.3", "1.2"):
        captured = record_openssl_session(tls_version=version)
        flights = [("client", captured.client_to_server), ("server", captured.server_to_client)]
        conn = open_capture(
            capture_file(conversation(flights, mss=1000)), KeyLog.parse(captured.keylog)
        )[0]
        assert conn.decrypted, conn.notes
        assert conn.client_data == captured.client_data
        assert conn.server_data == captured.server_data
        direct = decrypt_session(
            captured.client_to_server, captured.server_to_client, captured.keylog
        )
        assert conn.handshake == direct.handshake and len(conn.checks) == 2


# -- damaged files -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_truncated_and_corrupted_files_give_a_clear_error(
    session: tuple[list[tuple[str, bytes]], TLSClient, str], fmt: str, tmp_path: Path
) -> None:
    flights, _, _ = session
    data = capture_file(conversation(flights), fmt)
    with pytest.raises(CaptureFileError, match=r"truncated: .* at byte \d+ needs \d+ bytes"):
        open_capture(data[: len(data) - 37])
    with pytest.raises(CaptureFileError, match="not a pcap or pcapng file"):
        open_capture(b"\x00" + data[1:])
    with pytest.raises(CaptureFileError, match="too short"):
        open_capture(data[:3])
    corrupt = bytearray(data)
    if fmt == "pcap":
        corrupt[24 + 8 : 24 + 12] = (10**7).to_bytes(4, "little")  # first packet: 10 MB?
        expected = r"corrupt: packet 1's header at byte 24"
    else:
        start = len(data) - 200
        position = data.index(b"\x06\x00\x00\x00", start)  # an enhanced packet block
        corrupt[position + 4] ^= 0x04  # its length no longer matches its trailer
        expected = rf"corrupt: block at byte {position}"
    with pytest.raises(CaptureFileError, match=expected):
        open_capture(bytes(corrupt))
    path = _write(tmp_path, "cut." + fmt, data[:90])
    result = subprocess.run(
        [sys.executable, "-m", "tlslab", "capture", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 1 and "truncated" in result.stderr
    assert "Traceback" not in result.stderr


def test_write_pcapng_helper_is_not_the_reader(tmp_path: Path) -> None:
    """The test writer's frames survive a round trip: one ACK-only TCP frame in, a Segment out."""
    seg = Seg("client", 5, PSH | ACK, b"xyz", 3.5)
    from tlslab.net._pcap import read_capture, tcp_segments

    for data in (write_pcap([(3.5, frame(seg))]), write_pcapng([(3.5, frame(seg))])):
        file = read_capture(data)
        (segment,) = tcp_segments(file.frames).segments
        assert (segment.seq, segment.payload, segment.sport, segment.time) == (
            5,
            b"xyz",
            50123,
            3.5,
        )
        assert len(file.frames[0].data) == 60  # Ethernet padding, not part of the payload


# -- the command line --------------------------------------------------------------------


def test_cli_capture_lists_connections_and_traces_one(
    session: tuple[list[tuple[str, bytes]], TLSClient, str], tmp_path: Path
) -> None:
    flights, client, keylog = session
    path = _write(tmp_path, "mine.pcapng", capture_file(conversation(flights)))
    log_path = _write(tmp_path, "keys.log", b"", keylog)
    run = [sys.executable, "-m", "tlslab", "capture", str(path), "--keylog", str(log_path)]
    listing = subprocess.run(run, capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0, listing.stderr
    assert "1 TLS connection(s)" in listing.stdout and "decrypted" in listing.stdout
    assert "127.0.0.1:50123 -> 127.0.0.1:443 lab.example" in listing.stdout
    one = subprocess.run([*run, "--connection", "0"], capture_output=True, text=True, timeout=60)
    assert one.returncode == 0, one.stderr
    assert "client -> server" in one.stdout and "server Finished verified" in one.stdout
    assert "== server: Finished" in one.stdout and "verify_data" in one.stdout
    missing = subprocess.run(
        [*run, "--connection", "5"], capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 2 and "no connection 5" in missing.stderr


# -- a real capture by tcpdump (installed by .ci/run; skipped where it is missing) ----------


def _tcpdump_works() -> bool:
    return shutil.which("tcpdump") is not None and sys.platform.startswith("linux")


@pytest.mark.interop
@pytest.mark.skipif(not _tcpdump_works(), reason="tcpdump is not installed")
def test_real_tcpdump_capture_of_tlslab_against_openssl(tmp_path: Path) -> None:
    """tcpdump on the loopback interface records tlslab's client talking to an OpenSSL server,
    in both versions; the capture decrypts with the client's key log, message for message."""
    from tlslab.net.openssl_lab import openssl_echo_server
    from tlslab.net.sockets import connect

    pcap = tmp_path / "loopback.pcap"
    with openssl_echo_server(CHAIN) as port:
        dump = subprocess.Popen(
            [
                "tcpdump",
                "-i",
                "lo",
                "--immediate-mode",
                "-U",
                "-Z",
                "root",
                "-w",
                str(pcap),
                f"tcp port {port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 10
            while not pcap.exists() or pcap.stat().st_size < 24:
                if dump.poll() is not None or time.monotonic() > deadline:
                    pytest.skip(f"tcpdump cannot capture here: {dump.stderr.read().decode()[:200]}")  # type: ignore[union-attr]
                time.sleep(0.05)
            time.sleep(0.3)
            sessions = []
            for version in (V.TLS13, V.TLS12):
                config = ClientConfig(
                    server_name="lab.example",
                    trust_roots=tuple(CHAIN.trust_roots),
                    now=LAB_NOW,
                    versions=(version,),
                )
                sessions.append(connect("127.0.0.1", port, config, send=b"hello OpenSSL"))
            time.sleep(0.5)
        finally:
            dump.terminate()
            dump.wait(10)
    keylog = KeyLog.parse("".join(s.connection.trace.keylog().dumps() for s in sessions))
    capture = open_capture(pcap, keylog)
    assert len(capture) == 2, capture.summary()
    for conn, s in zip(capture, sessions, strict=True):
        assert conn.decrypted, conn.notes
        assert conn.version == s.connection.version
        logged = endpoint_log(s.connection)
        assert conn.handshake[: len(logged)] == logged
        assert conn.client_data == b"hello OpenSSL" and conn.server_data == b"hello OpenSSL"
    # tcpdump reads the files the tests write, so the test writer is a real pcap writer
    flights = [("client", b"\x16\x03\x01\x00\x01\x01"), ("server", b"\x15\x03\x03\x00\x02\x02\x28")]
    mine = tmp_path / "written.pcap"
    mine.write_bytes(capture_file(conversation(flights), "pcap"))
    read = subprocess.run(["tcpdump", "-nn", "-r", str(mine)], capture_output=True, text=True)
    assert read.returncode == 0 and read.stdout.count("127.0.0.1.50123 > 127.0.0.1.443") == 4


def test_the_shipped_sample_capture_decrypts_in_both_versions() -> None:
    """tlslab/vectors/loopback.pcap (tcpdump on 127.0.0.1, OpenSSL client and server, the
    client's SSLKEYLOGFILE) is what notebook 15 opens offline."""
    from tlslab.vectors import sample_capture

    pcap, keys = sample_capture()
    capture = tlslab.open_capture(pcap, keylog=keys)
    assert capture.format == "pcap" and len(capture) == 2
    assert [c.version for c in capture] == [V.TLS13, V.TLS12]
    for conn in capture:
        assert conn.decrypted and conn.notes == [], conn.notes
        assert conn.server_name == "lab.example"
        assert conn.client_data == conn.server_data  # an echo server
        assert conn.client_data.startswith(b"GET / HTTP/1.1\r\nHost: lab.example\r\n")
    assert [n for _, n in capture[0].messages()] == [
        "ClientHello",
        "ServerHello",
        "EncryptedExtensions",
        "Certificate13",
        "CertificateVerify",
        "Finished",
        "Finished",
        "NewSessionTicket13",
        "NewSessionTicket13",
    ]


def test_a_message_tlslab_does_not_decode_is_named_not_raised() -> None:
    """Browsers meet servers that compress certificates (RFC 8879, handshake type 25)."""
    from tlslab.net.capture import CapturedConnection, message_name

    assert (
        message_name(b"\x19\x00\x00\x02\x00\x01")
        == "compressed_certificate (not decoded by tlslab)"
    )
    conn = CapturedConnection(
        0, CLIENT, SERVER, handshake=[("server", b"\x19\x00\x00\x02\x00\x01")]
    )
    assert conn.messages() == [("server", "compressed_certificate (not decoded by tlslab)")]
    assert "== server: compressed_certificate" in conn.trace() and "not decrypted" in conn.summary()


def test_to_trace_matches_the_client_trace(
    session: tuple[list[tuple[str, bytes]], TLSClient, str],
) -> None:
    """The ladder drawn from a capture shows the messages, in order and encrypted or not,
    exactly as the client logged them; data, alerts and checks follow."""
    flights, client, keylog = session
    conn = open_capture(capture_file(conversation(flights)), KeyLog.parse(keylog))[0]
    trace = conn.to_trace()

    def handshake_events(t: object) -> list[tuple[str, str, bytes, object]]:
        return [
            (e.direction, e.name, bytes(e.data), e.value)
            for e in t.messages()  # type: ignore[attr-defined]
            if e.name not in ("ChangeCipherSpec", "ApplicationData") and "Alert" not in e.name
        ]

    assert handshake_events(trace) == handshake_events(client.trace)
    names = [e.name for e in trace.messages()]
    assert names.count("ApplicationData") == 2 and names[-2:] == [
        "Alert warning close_notify",
        "Alert warning close_notify",
    ]
    assert [e.name for e in trace.events if e.kind == "check"] == conn.checks
    closed = open_capture(capture_file(conversation(flights)))[0].to_trace()
    assert "encrypted record" in [e.name for e in closed.messages()]


# -- property tests: damaged input is a CaptureFileError or a note, never anything else -------

_FUZZ = settings(
    max_examples=int(os.environ.get("TLSLAB_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@cache
def _fuzz_base() -> tuple[bytes, bytes, KeyLog]:
    flights, client, _ = tlslab_conversation(V.TLS13, seed=5)
    segs = conversation(flights, mss=400)
    return capture_file(segs, "pcap"), capture_file(segs, "pcapng"), client.trace.keylog()


def _open_or_clear_error(data: bytes, keylog: KeyLog) -> None:
    try:
        capture = open_capture(data, keylog)
    except CaptureFileError as error:
        assert str(error).startswith("capture: ")
        return
    for conn in capture:  # every connection can still be shown
        assert not any(note.startswith(BUG_NOTE) for note in conn.notes), conn.notes
        conn.summary()
        conn.trace()
        conn.to_trace()


@_FUZZ
@given(st.data())
def test_flipped_bytes_anywhere_never_crash(data: st.DataObject) -> None:
    pcap, pcapng, keylog = _fuzz_base()
    raw = bytearray(data.draw(st.sampled_from([pcap, pcapng])))
    for _ in range(data.draw(st.integers(1, 6))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    _open_or_clear_error(bytes(raw), keylog)


@_FUZZ
@given(st.data())
def test_truncation_anywhere_is_a_clear_error(data: st.DataObject) -> None:
    pcap, pcapng, keylog = _fuzz_base()
    raw = data.draw(st.sampled_from([pcap, pcapng]))
    cut = data.draw(st.integers(0, len(raw) - 1))
    try:
        open_capture(raw[:cut], keylog)
    except CaptureFileError as error:
        assert "truncated" in str(error) or "too short" in str(error) or cut == 0
    # (a cut that falls exactly between two packets leaves a shorter, valid file)


@_FUZZ
@given(st.binary(max_size=200))
def test_garbage_after_a_valid_header(tail: bytes) -> None:
    pcap, pcapng, keylog = _fuzz_base()
    for head in (pcap[:24], pcapng[:28]):
        _open_or_clear_error(head + tail, keylog)


def test_messages_split_over_records_are_followed() -> None:
    """The TLS 1.2 server's plaintext flight re-cut into 150-byte records (RFC 5246 §6.2.1
    allows any split; the transcript is unchanged): still decrypted, and each record says
    which part of which message it carries."""
    flights, client, _ = tlslab_conversation(V.TLS12, seed=3)
    index = next(i for i, (who, _) in enumerate(flights) if who == "server")
    records = RecordReader().feed(flights[index][1])
    body = b"".join(r.fragment for r in records if r.type == ContentType.handshake)
    assert all(r.type == ContentType.handshake for r in records)  # ServerHello..ServerHelloDone
    recut = b"".join(
        TLSPlaintext(ContentType.handshake, body[i : i + 150]).encode()
        for i in range(0, len(body), 150)
    )
    flights[index] = ("server", recut)
    conn = open_capture(capture_file(conversation(flights)), client.trace.keylog())[0]
    assert conn.decrypted and conn.handshake == endpoint_log(client)
    labels = [r.describe() for r in conn.records if r.direction == "server"][: len(body) // 150 + 1]
    assert labels[0].startswith("server_hello, certificate (first part)")
    assert labels[1] == "certificate (continued)"
    assert any("server_hello_done" in label for label in labels)
    assert all(label != "handshake fragment" for label in labels)


def test_pcapng_with_two_interfaces_and_two_sections(
    session: tuple[list[tuple[str, bytes]], TLSClient, str],
) -> None:
    """Wireshark writes one Interface Description Block per interface and numbers packets by
    it; a second section (a merged file) starts its own interface table and may switch byte order."""
    from tests.capture_files import block

    flights, client, keylog = session
    segs = conversation(flights)
    half = len(segs) // 2

    def epb(interface: int, seg: Seg, link: str, order: str) -> bytes:
        data = frame(seg, link)
        ticks = round(seg.time * 10**6)  # no if_tsresol option: microseconds
        head = struct.pack(
            order + "IIIII", interface, ticks >> 32, ticks & 0xFFFFFFFF, len(data), len(data)
        )
        return block(6, head + data, order)

    def section(order: str) -> bytes:
        return block(0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1), order)

    def idb(linktype: int, order: str) -> bytes:
        return block(1, struct.pack(order + "HHI", linktype, 0, 0) + bytes(4), order)

    first = section("<") + idb(1, "<") + idb(101, "<")  # Ethernet, then raw IP
    first += b"".join(
        epb(i % 2, s, "ethernet" if i % 2 == 0 else "raw", "<") for i, s in enumerate(segs[:half])
    )
    second = section(">") + idb(0, ">")  # BSD loopback, big-endian section
    second += b"".join(epb(0, s, "null", ">") for s in segs[half:])
    conn = open_capture(first + second, KeyLog.parse(keylog))[0]
    assert conn.decrypted and conn.handshake == endpoint_log(client)
    assert conn.records[0].time == pytest.approx(segs[3].time, abs=1e-6)
    with pytest.raises(CaptureFileError, match="packet on interface 2, but only 2 were described"):
        open_capture(first + epb(2, segs[0], "raw", "<"))


def test_a_wrong_secret_stops_one_connection_with_a_note() -> None:
    flights, client, _ = tlslab_conversation(V.TLS13, seed=9)
    log = client.trace.keylog()
    random_ = client.trace.client_random
    log.entries[random_]["CLIENT_HANDSHAKE_TRAFFIC_SECRET"] = bytes(48)
    conn = open_capture(capture_file(conversation(flights)), log)[0]
    # the server's flight is read and its Finished checked; the client's Finished is not
    assert not conn.decrypted and conn.checks == ["server Finished verified"]
    assert any(n.startswith("decryption stopped: bad_record_mac") for n in conn.notes), conn.notes
    client_keys = [r.keys for r in conn.records if r.direction == "client"]
    assert client_keys[:2] == ["plaintext", "plaintext"]  # ClientHello, ChangeCipherSpec
    assert set(client_keys[2:]) == {None}  # its Finished and everything after stay closed
    log.add("CLIENT_EARLY_TRAFFIC_SECRET", random_, bytes(48))
    conn = open_capture(capture_file(conversation(flights)), log)[0]
    assert any("0-RTT" in note for note in conn.notes)
