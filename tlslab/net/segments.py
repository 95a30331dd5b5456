"""Watch a first flight cross TCP on 127.0.0.1 as it would cross an Ethernet link.

A post-quantum ClientHello is about 1,450 bytes (1,800 and more from a browser), so it no longer
fits one TCP segment of a 1,500-byte Ethernet path (MSS 1,460). On loopback the MTU is 64 KiB,
so :func:`send_over_loopback` clamps the MSS of both sockets (``TCP_MAXSEG``) to what Ethernet
allows, sends the bytes, and reports:

- always, the kernel's own count (``TCP_INFO``: the MSS it used and how many data segments it
  sent), which needs no privileges;
- when the process may open a packet socket (root or CAP_NET_RAW), the captured segments
  themselves. Linux normally hands loopback one "super-packet" and lets the (virtual) network card
  cut it (GSO); setting the TCP-MD5 signature option (RFC 2385) on both sockets turns that off, so
  every segment is a packet of its own. The option costs 20 bytes per segment.

Linux only (``TCP_INFO`` layout, ``AF_PACKET``). Taught in notebook 10_post_quantum.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass

_TCP_MD5SIG = 14  # linux/tcp.h
_ETH_P_ALL = 3


@dataclass(frozen=True)
class Segment:
    """One captured TCP segment carrying data: where it starts in the stream, and its bytes."""

    offset: int
    payload: bytes

    def __repr__(self) -> str:
        return f"Segment(bytes {self.offset}..{self.offset + len(self.payload) - 1}, {len(self.payload)} bytes)"


@dataclass(frozen=True)
class SegmentCapture:
    """What the kernel (and, if allowed, a packet capture) saw of one send over loopback."""

    data_length: int
    mss: int
    data_segments: int
    segments: tuple[Segment, ...]
    captured: bool
    note: str = ""

    def __str__(self) -> str:
        lines = [
            f"{self.data_length} bytes sent with MSS {self.mss}: "
            f"the kernel sent {self.data_segments} data segment(s)"
        ]
        lines += [f"  {s!r}" for s in self.segments]
        if self.note:
            lines.append(f"  ({self.note})")
        return "\n".join(lines)


def _tcp_md5(sock: socket.socket, key: bytes = b"tlslab loopback") -> None:
    """struct tcp_md5sig for peer 127.0.0.1 (linux/tcp.h); turns GSO off for the socket."""
    address = struct.pack("=H", socket.AF_INET) + b"\x00\x00" + socket.inet_aton("127.0.0.1")
    value = address.ljust(128, b"\x00") + struct.pack("=BBHI", 0, 0, len(key), 0)
    sock.setsockopt(socket.IPPROTO_TCP, _TCP_MD5SIG, value + key.ljust(80, b"\x00"))


def _tcp_info(sock: socket.socket) -> tuple[int, int]:
    """(tcpi_snd_mss, tcpi_data_segs_out) from struct tcp_info (linux/tcp.h)."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 160)
    snd_mss = struct.unpack_from("=I", info, 16)[0]
    data_segs_out = struct.unpack_from("=I", info, 156)[0] if len(info) >= 160 else 0
    return int(snd_mss), int(data_segs_out)


def _open_capture() -> socket.socket | None:
    try:
        sniffer = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(_ETH_P_ALL))
        sniffer.bind(("lo", 0))
    except (OSError, AttributeError):
        return None
    sniffer.settimeout(0.2)
    try:  # room for other programs' loopback traffic while we send (root may force the size)
        sniffer.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 8 << 20)
    except OSError:
        sniffer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    return sniffer


def _data_segments(sniffer: socket.socket, port: int) -> list[tuple[int, bytes]]:
    """(sequence number, payload) of the client -> server data segments seen on ``lo``."""
    out: list[tuple[int, bytes]] = []
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        try:
            frame, address = sniffer.recvfrom(70000)
        except (TimeoutError, OSError):
            break
        if address[2] == socket.PACKET_OUTGOING:  # every loopback packet shows up twice
            continue
        ip = frame[14:]
        if len(ip) < 40 or ip[0] >> 4 != 4 or ip[9] != socket.IPPROTO_TCP:
            continue
        header = (ip[0] & 0x0F) * 4
        total = struct.unpack_from("!H", ip, 2)[0]
        tcp = ip[header:total]
        _, destination, sequence = struct.unpack_from("!HHI", tcp, 0)
        payload = tcp[(tcp[12] >> 4) * 4 :]
        if destination == port and payload:
            out.append((sequence, bytes(payload)))
    return out


def send_over_loopback(data: bytes, *, mss: int = 1460, capture: bool = True) -> SegmentCapture:
    """Send ``data`` from a client socket to a listener on 127.0.0.1 with both MSS clamped to
    ``mss`` (Ethernet: 1,460), and report how TCP cut it (see the module doc)."""
    sniffer = _open_capture() if capture else None
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    received = bytearray()
    try:
        if sniffer is not None:
            try:
                _tcp_md5(listener)
                _tcp_md5(client)
            except OSError:  # a kernel without TCP-MD5: the capture would show one super-packet
                sniffer.close()
                sniffer = None
        for sock in (listener, client):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]

        def receive() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(5)
                while len(received) < len(data):
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    received.extend(chunk)

        reader = threading.Thread(target=receive, daemon=True)
        reader.start()
        client.connect(("127.0.0.1", port))
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _, before = _tcp_info(client)
        client.sendall(data)
        reader.join(5)
        used_mss, after = _tcp_info(client)
        packets = _data_segments(sniffer, port) if sniffer is not None else []
    finally:
        client.close()
        listener.close()
        if sniffer is not None:
            sniffer.close()
    if bytes(received) != data:
        raise RuntimeError("the receiver did not get the bytes that were sent")
    first = min((seq for seq, _ in packets), default=0)
    segments = tuple(Segment((seq - first) % 2**32, payload) for seq, payload in sorted(packets))
    captured = sniffer is not None and b"".join(s.payload for s in segments) == data
    if captured:
        note = "captured on lo; GSO off through the TCP-MD5 option, 20 bytes of each segment"
    elif sniffer is not None:
        segments, note = (), "the capture missed packets (busy loopback): the kernel's count only"
    else:
        note = "no packet capture here (needs root or CAP_NET_RAW): the kernel's count only"
    return SegmentCapture(len(data), used_mss, after - before, segments, captured, note)
