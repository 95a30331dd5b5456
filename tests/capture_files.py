"""Writing capture files in the tests, so no root, tcpdump or network is needed.

A conversation (the bytes each side sent, flight by flight) becomes TCP segments with a
three-way handshake and FINs, each segment a frame (Ethernet/IPv4 by default, or Linux
cooked SLL, BSD loopback, IPv6), and the frames a pcap or pcapng file. Written from the
formats' documentation (draft-ietf-opsawg-pcap, draft-ietf-opsawg-pcapng) independently
of tlslab's reader, so the two check each other; ``tcpdump -r`` reads these files too
(tests/test_capture.py checks that where tcpdump is installed).
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, replace

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
CLIENT = ("127.0.0.1", 50123)
SERVER = ("127.0.0.1", 443)


@dataclass(frozen=True)
class Seg:
    sender: str  # "client" or "server"
    seq: int
    flags: int
    payload: bytes = b""
    time: float = 0.0


def conversation(
    flights: list[tuple[str, bytes]],
    *,
    mss: int = 700,
    client_isn: int = 0xFFFFFE00,  # wraps past 2**32 within the first kilobyte
    server_isn: int = 0x12345678,
    start: float = 1_700_000_000.0,
) -> list[Seg]:
    """The segments of one TCP connection carrying ``flights`` in order."""
    nxt = {"client": (client_isn + 1) % 2**32, "server": (server_isn + 1) % 2**32}
    segs = [
        Seg("client", client_isn, SYN),
        Seg("server", server_isn, SYN | ACK),
        Seg("client", nxt["client"], ACK),
    ]
    for sender, data in flights:
        for i in range(0, len(data), mss):
            chunk = data[i : i + mss]
            segs.append(Seg(sender, nxt[sender], PSH | ACK, chunk))
            nxt[sender] = (nxt[sender] + len(chunk)) % 2**32
    segs.append(Seg("client", nxt["client"], FIN | ACK))
    segs.append(Seg("server", nxt["server"], FIN | ACK))
    return [replace(s, time=start + i * 0.001) for i, s in enumerate(segs)]


def tcp_bytes(seg: Seg, src_port: int, dst_port: int) -> bytes:
    # RFC 9293 §3.1: ports, seq, ack, data offset (5 words), flags, window, checksum, urgent
    return (
        struct.pack(">HHIIBBHHH", src_port, dst_port, seg.seq, 0, 5 << 4, seg.flags, 65535, 0, 0)
        + seg.payload
    )


def ip_packet(seg: Seg, client: tuple[str, int], server: tuple[str, int]) -> bytes:
    src, dst = (client, server) if seg.sender == "client" else (server, client)
    tcp = tcp_bytes(seg, src[1], dst[1])
    a, b = ipaddress.ip_address(src[0]), ipaddress.ip_address(dst[0])
    if a.version == 4:
        return (
            struct.pack(">BBHHHBBH", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0)
            + a.packed
            + b.packed
            + tcp
        )
    return struct.pack(">IHBB", 0x60000000, len(tcp), 6, 64) + a.packed + b.packed + tcp


LINKTYPES = {"ethernet": 1, "sll": 113, "null": 0, "raw": 101}


def frame(
    seg: Seg,
    link: str = "ethernet",
    client: tuple[str, int] = CLIENT,
    server: tuple[str, int] = SERVER,
) -> bytes:
    packet = ip_packet(seg, client, server)
    v6 = packet[0] >> 4 == 6
    if link == "ethernet":
        body = bytes(12) + struct.pack(">H", 0x86DD if v6 else 0x0800) + packet
        return body + bytes(max(0, 60 - len(body)))  # Ethernet pads short frames to 60 bytes
    if link == "sll":
        return struct.pack(">HHH8sH", 0, 772, 6, bytes(8), 0x86DD if v6 else 0x0800) + packet
    if link == "null":
        return struct.pack("<I", 30 if v6 else 2) + packet
    return packet


def write_pcap(
    frames: list[tuple[float, bytes]], linktype: int = 1, *, order: str = "<", nanos: bool = False
) -> bytes:
    """libpcap savefile: 24-byte header, then per packet a 16-byte header and the bytes."""
    magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
    out = bytearray(struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 262144, linktype))
    scale = 10**9 if nanos else 10**6
    for time, data in frames:
        seconds = int(time)
        fraction = round((time - seconds) * scale)
        out += struct.pack(order + "IIII", seconds, fraction, len(data), len(data)) + data
    return bytes(out)


def block(block_type: int, body: bytes, order: str = "<") -> bytes:
    body += bytes(-len(body) % 4)
    length = 12 + len(body)
    return struct.pack(order + "II", block_type, length) + body + struct.pack(order + "I", length)


def write_pcapng(
    frames: list[tuple[float, bytes]],
    linktype: int = 1,
    *,
    order: str = "<",
    keylog: str | None = None,
    nanos: bool = True,
) -> bytes:
    """pcapng: a section header, one interface (nanosecond timestamps), a decryption
    secrets block if ``keylog`` is given, and one enhanced packet block per frame."""
    shb = block(0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1), order)
    options = (
        struct.pack(order + "HH", 9, 1) + bytes([9 if nanos else 6]) + bytes(3) if nanos else b""
    ) + struct.pack(order + "HH", 0, 0)
    idb = block(1, struct.pack(order + "HHI", linktype, 0, 262144) + options, order)
    out = bytearray(shb + idb)
    if keylog is not None:
        secrets = keylog.encode()
        out += block(0x0A, struct.pack(order + "II", 0x544C534B, len(secrets)) + secrets, order)
    scale = 10**9 if nanos else 10**6
    for time, data in frames:
        ticks = round(time * scale)
        header = struct.pack(
            order + "IIIII", 0, ticks >> 32, ticks & 0xFFFFFFFF, len(data), len(data)
        )
        out += block(6, header + data, order)
    return bytes(out)


def capture_file(
    segs: list[Seg],
    fmt: str = "pcapng",
    link: str = "ethernet",
    client: tuple[str, int] = CLIENT,
    server: tuple[str, int] = SERVER,
    **options: object,
) -> bytes:
    frames = [(s.time, frame(s, link, client, server)) for s in segs]
    writer = write_pcapng if fmt == "pcapng" else write_pcap
    return writer(frames, LINKTYPES[link], **options)  # type: ignore[arg-type]
