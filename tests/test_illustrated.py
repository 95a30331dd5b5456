"""The illustrated connection (notebook 00b): every record in order, full hex, every encrypted
record opened step by step and agreeing with an independent decryptor, a page that hovers, and a
capture Wireshark decrypts."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from tlslab import CipherSuite, ContentType, ProtocolVersion
from tlslab.engine.decrypt import decrypt_session
from tlslab.lab.illustrated import (
    REQUEST,
    RESPONSE,
    IllustratedConnection,
    field_prose,
    illustrate,
    illustrate_session,
    illustrated_connection,
    record_connection,
)
from tlslab.net.capture import Capture, open_capture
from tlslab.stages.keylog import KeyLog
from tlslab.vectors import sample_capture

CBC = CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA


@pytest.fixture(scope="module")
def tls13() -> IllustratedConnection:
    return illustrated_connection(ProtocolVersion.TLS13)


@pytest.fixture(scope="module")
def tls12() -> IllustratedConnection:
    return illustrated_connection(ProtocolVersion.TLS12)


@pytest.fixture(scope="module")
def cbc() -> IllustratedConnection:
    return illustrated_connection(ProtocolVersion.TLS12, cipher_suite=CBC)


def test_tls13_every_record_in_order(tls13: IllustratedConnection) -> None:
    assert [(r.sender, r.title) for r in tls13] == [
        ("client", "ClientHello"),
        ("server", "ServerHello"),
        ("server", "ChangeCipherSpec"),
        ("server", "EncryptedExtensions (encrypted)"),
        ("server", "Certificate (encrypted)"),
        ("server", "CertificateVerify (encrypted)"),
        ("server", "Finished (encrypted)"),
        ("client", "ChangeCipherSpec"),
        ("client", "Finished (encrypted)"),
        ("server", "NewSessionTicket (encrypted)"),
        ("client", "application data (encrypted)"),
        ("server", "application data (encrypted)"),
        ("client", "Alert close_notify (encrypted)"),
        ("server", "Alert close_notify (encrypted)"),
    ]
    # the records are exactly the wire bytes, in order, nothing left out
    assert b"".join(r.raw for r in tls13) == b"".join(data for _, data in tls13.flights)


def test_tls12_every_record_in_order(tls12: IllustratedConnection) -> None:
    assert [r.title for r in tls12] == [
        "ClientHello",
        "ServerHello",
        "Certificate",
        "ServerKeyExchange",
        "ServerHelloDone",
        "ClientKeyExchange",
        "ChangeCipherSpec",
        "Finished (encrypted)",
        "ChangeCipherSpec",
        "Finished (encrypted)",
        "application data (encrypted)",
        "application data (encrypted)",
        "Alert close_notify (encrypted)",
        "Alert close_notify (encrypted)",
    ]
    assert [r.sender for r in tls12][5:10] == ["client"] * 3 + ["server"] * 2
    # a 1.2-only client talking to a 1.3-capable server: the downgrade sentinel (RFC 8446 §4.1.3)
    random = tls12[1].explanation.raw(tls12[1].explanation.field("random"))
    assert random[-8:] == b"DOWNGRD\x01"


def test_opened_records_agree_with_the_engine_decryptor(tls13: IllustratedConnection) -> None:
    """decrypt_session (engine) opens the same capture on its own; both must find the same."""
    client = b"".join(d for who, d in tls13.flights if who == "client")
    server = b"".join(d for who, d in tls13.flights if who == "server")
    session = decrypt_session(client, server, tls13.keylog)
    opened = [r.plaintext.data for r in tls13 if r.plaintext is not None]
    handshake = [m for _, m in session.handshake[2:]]  # after the two plaintext hellos
    assert [o for o in opened if o in handshake] == handshake
    assert REQUEST in opened and RESPONSE in opened
    assert session.client_data == REQUEST and session.server_data == RESPONSE
    assert opened[-2:] == [b"\x01\x00", b"\x01\x00"]  # close_notify: warning(1), close_notify(0)


@pytest.mark.parametrize("name", ["tls13", "tls12"])
def test_nonce_is_iv_xor_sequence_number(name: str, request: pytest.FixtureRequest) -> None:
    connection: IllustratedConnection = request.getfixturevalue(name)
    by_key: dict[tuple[str, bytes], list[tuple[int, bytes]]] = {}
    for record in connection:
        steps = {s.name: s.value for s in record.steps}
        if "nonce" not in steps:
            continue
        key = steps["write key"]
        assert isinstance(key, bytes)
        seq, nonce = steps["sequence number"], steps["nonce"]
        assert isinstance(seq, str) and isinstance(nonce, bytes)
        by_key.setdefault((record.sender, key), []).append((int(seq), nonce))
    assert by_key
    for records in by_key.values():
        assert [seq for seq, _ in records] == list(range(len(records)))  # 0, 1, 2... per key
        first = records[0][1]
        for seq, nonce in records:
            if name == "tls13":  # iv xor seq: nonces differ from the first exactly by seq
                assert int.from_bytes(nonce, "big") ^ int.from_bytes(first, "big") == seq
            else:  # GCM in 1.2: fixed 4-byte salt, explicit part = the sequence number
                assert nonce[:4] == first[:4] and int.from_bytes(nonce[4:], "big") == seq


def test_tls13_inner_plaintext_carries_the_true_type(tls13: IllustratedConnection) -> None:
    for record in tls13:
        if not record.protected:
            continue
        assert record.raw[0] == 23  # outer type always application_data
        inner = dict((s.name, s.value) for s in record.steps)["TLSInnerPlaintext"]
        assert isinstance(inner, bytes) and record.plaintext is not None
        assert inner.rstrip(b"\0")[:-1] == record.plaintext.data
        expected_type = 21 if "Alert" in record.title else 23 if "data" in record.title else 22
        assert inner.rstrip(b"\0")[-1] == expected_type


def test_cbc_record_opened_by_hand(cbc: IllustratedConnection) -> None:
    assert cbc.suite.suite == CBC
    record = cbc.find("application data")
    steps = {s.name: s.value for s in record.steps}
    decrypted, padding, mac = steps["decrypted"], steps["padding"], steps["MAC"]
    assert isinstance(decrypted, bytes) and isinstance(padding, bytes) and isinstance(mac, bytes)
    assert len(decrypted) % 16 == 0
    assert padding == bytes([padding[-1]]) * (padding[-1] + 1)
    assert len(mac) == 20  # HMAC-SHA1
    assert decrypted == REQUEST + mac + padding
    assert steps["explicit IV"] == record.raw[5:21]
    assert steps["MAC check"] == "MAC matches"


def test_full_hex_of_every_record_in_html_and_text(tls13: IllustratedConnection) -> None:
    page = tls13.to_html()
    blocks = re.findall(r"<div class='tlsill-hex'>(.*?)</div>", page)
    wire = [b for b in blocks]
    for record in tls13:
        hex_text = record.raw.hex(" ")
        assert any(re.sub(r"<[^>]+>", "", b).split() == hex_text.split() for b in wire), record
    certificate = tls13.find("Certificate (encrypted)")
    assert certificate.plaintext is not None
    der = certificate.plaintext.raw(certificate.plaintext.field("cert_data"))
    assert len(der) > 300
    assert der.hex() in "".join(certificate.text(full=True).split())


def test_hover_links_bytes_and_rows(tls13: IllustratedConnection) -> None:
    html = tls13[0]._repr_html_()
    byte_classes = set(re.findall(r"class='th(\d+) ", html))
    rows = set(re.findall(r"<tr class='tr(\d+)'>", html))
    assert byte_classes and byte_classes <= rows
    for number in byte_classes:
        assert f".tlsill-rec:has(.th{number}:hover)" in html


def test_every_field_has_prose(
    tls13: IllustratedConnection, tls12: IllustratedConnection, cbc: IllustratedConnection
) -> None:
    missing = {
        row.field
        for connection in (tls13, tls12, cbc)
        for record in connection
        for exp in (record.explanation, record.plaintext)
        if exp is not None
        for row in exp.rows
        if not field_prose(row.field, row.length)
    }
    assert not missing
    assert "3 bytes" in field_prose("length", 3) and "2^14" in field_prose("length", 2)


def test_same_bytes_every_run() -> None:
    """Deterministic ECDSA (RFC 6979) in certificates and CertificateVerify, seeded randoms."""
    for version in (ProtocolVersion.TLS13, ProtocolVersion.TLS12):
        a, b = record_connection(version), record_connection(version)
        assert a.flights == b.flights
        assert a.keylog.dumps() == b.keylog.dumps()


def test_illustrate_accepts_a_decrypted_session(tls12: IllustratedConnection) -> None:
    client = b"".join(d for who, d in tls12.flights if who == "client")
    server = b"".join(d for who, d in tls12.flights if who == "server")
    shown = illustrate_session(decrypt_session(client, server, tls12.keylog))
    titles = [r.title for r in shown]
    assert titles[:6] == [
        "ClientHello",
        "ServerHello",
        "Certificate",
        "ServerKeyExchange",
        "ServerHelloDone",
        "ClientKeyExchange",
    ]
    assert titles.count("Finished") == 2 and "application data" in titles
    assert "Alert close_notify" in titles


def test_illustrate_needs_a_key_log(tls13: IllustratedConnection) -> None:
    with pytest.raises(ValueError):
        illustrate(list(tls13.flights))


def _tcp_payloads(pcap: bytes) -> dict[int, bytes]:
    """Reassemble the TCP payload per source port from our pcap (Ethernet/IPv4/TCP)."""
    magic, major, minor, _, _, _, linktype = struct.unpack("<IHHiIII", pcap[:24])
    assert (magic, major, minor, linktype) == (0xA1B2C3D4, 2, 4, 1)
    offset, streams = 24, {}
    while offset < len(pcap):
        _, _, caplen, origlen = struct.unpack("<IIII", pcap[offset : offset + 16])
        frame = pcap[offset + 16 : offset + 16 + caplen]
        assert caplen == origlen and frame[12:14] == b"\x08\x00"
        ip = frame[14:]
        total = int.from_bytes(ip[2:4], "big")
        tcp = ip[20:total]
        src = int.from_bytes(tcp[0:2], "big")
        streams[src] = streams.get(src, b"") + tcp[(tcp[12] >> 4) * 4 :]
        offset += 16 + caplen
    return streams


def test_pcap_carries_the_connection(tls13: IllustratedConnection) -> None:
    streams = _tcp_payloads(tls13.pcap())
    assert streams[50000] == b"".join(d for who, d in tls13.flights if who == "client")
    assert streams[443] == b"".join(d for who, d in tls13.flights if who == "server")


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark (Wireshark) is not installed")
@pytest.mark.parametrize("version", [ProtocolVersion.TLS13, ProtocolVersion.TLS12])
def test_wireshark_decrypts_the_capture(version: int, tmp_path: Path) -> None:
    connection = illustrated_connection(version)
    pcap, keys = connection.write_capture(tmp_path, "c")
    out = subprocess.run(
        [
            "tshark",
            "-r",
            str(pcap),
            "-o",
            f"tls.keylog_file:{keys}",
            "-q",
            "-z",
            "follow,tls,ascii,0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert "GET / HTTP/1.1" in out and "HTTP/1.1 200 OK" in out


# -- a capture, record by record (issue 21) ---------------------------------------------------------
def _sample_capture(with_keys: bool = True) -> Capture:
    pcap, keys = sample_capture()
    return open_capture(pcap, keys if with_keys else None)


def test_capture_illustrated_record_by_record_in_wire_order() -> None:
    capture = _sample_capture()
    assert len(capture) == 2
    versions = []
    for conn in capture:
        shown = illustrate_session(conn)
        assert [(r.sender, r.raw) for r in shown] == [(c.direction, c.wire) for c in conn.records]
        assert [r.index for r in shown] == list(range(len(conn.records)))
        # the compatibility / TLS 1.2 ChangeCipherSpec records are there, where the wire had them
        ccs = [r.index for r in shown if r.title == "ChangeCipherSpec"]
        assert ccs == [
            i for i, c in enumerate(conn.records) if c.record.type == ContentType.change_cipher_spec
        ]
        assert len(ccs) == 2
        # every protected record opened by hand, its plaintext the capture reader's plaintext
        protected = [(r, c) for r, c in zip(shown, conn.records, strict=True) if c.encrypted]
        assert protected and all(r.protected for r, _ in protected)
        for record, captured in protected:
            assert record.plaintext is not None
            assert record.plaintext.data == captured.content
        # the full hex of every record is on the page
        blocks = re.findall(r"<div class='tlsill-hex'>(.*?)</div>", shown.to_html())
        shown_hex = [re.sub(r"<[^>]+>", "", b).split() for b in blocks]
        assert all(c.wire.hex(" ").split() in shown_hex for c in conn.records)
        versions.append(shown.version)
    assert versions == [ProtocolVersion.TLS13, ProtocolVersion.TLS12]
    # the order the old message-by-message view got wrong: the client's close_notify is last
    first = illustrate_session(capture[0])
    assert len(first) == 14
    assert first[-1].sender == "client" and "close_notify" in first[-1].title
    assert [r.title for r in first][9:12] == [
        "NewSessionTicket (encrypted)",
        "application data (encrypted)",
        "NewSessionTicket (encrypted)",
    ]


def test_capture_records_that_cannot_be_opened_stay_listed() -> None:
    for conn in _sample_capture(with_keys=False):
        shown = illustrate_session(conn)
        assert [r.raw for r in shown] == [c.wire for c in conn.records]
        closed = [r for r, c in zip(shown, conn.records, strict=True) if c.encrypted]
        assert closed and not any(r.protected for r in closed)
        assert all("no secrets for this connection" in r.story for r in closed)
        assert all("not opened" in r.title for r in closed)
    # with the wrong secrets: opening fails, the record and the rest of that side stay closed
    conn = _sample_capture()[0]
    wrong = KeyLog()
    for label, secret in conn.keylog.entries[conn.client_random].items() if conn.keylog else ():
        wrong.add(label, conn.client_random, bytes(len(secret)))
    shown = illustrate_session(conn, keylog=wrong)
    assert len(shown) == len(conn.records)
    first_protected = next(r for r, c in zip(shown, conn.records, strict=True) if c.encrypted)
    assert not first_protected.protected and "could not open it" in first_protected.story
    assert first_protected.plaintext is not None  # the capture reader's content, still shown
