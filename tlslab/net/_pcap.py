"""Reading capture files: pcap and pcapng, down to each TCP segment.

Two documented file formats hold what tcpdump, dumpcap and Wireshark save:

* **pcap** (libpcap's savefile, draft-ietf-opsawg-pcap): a 24-byte file header
  (magic ``a1b2c3d4`` for microsecond or ``a1b23c4d`` for nanosecond timestamps, in
  the writer's byte order, then version, snaplen and link type), then per packet a
  16-byte header (seconds, fraction, captured length, original length) and the bytes.
* **pcapng** (draft-ietf-opsawg-pcapng): a sequence of blocks, each
  ``type, total_length, body, total_length``. A Section Header Block (``0a0d0d0a``)
  fixes the byte order; Interface Description Blocks give each interface its link
  type and timestamp resolution; Enhanced (and Simple) Packet Blocks carry packets;
  a Decryption Secrets Block may carry the TLS key log itself (Wireshark's
  ``editcap --inject-secrets``), which :func:`read_capture` returns too.

This is a small reader of our own rather than a library. dpkt (the usual choice)
reads only the first interface of a pcapng file, ignores Decryption Secrets Blocks,
and reports a damaged file as a bare ``ValueError``/``struct.error``; python-pcapng
reads pcapng only. Both formats are short and documented, and a reader written here
can say *where* a file is truncated or corrupt (a :class:`CaptureFileError` naming
the byte offset), which is what a learner holding a half-written capture needs.

Below the file format, each packet is taken apart just far enough to reach TCP:
the link layer (Ethernet with VLAN tags, Linux "cooked" SLL/SLL2, BSD loopback,
raw IP), IPv4 or IPv6, then the TCP header (RFC 9293 §3.1). The IP length field,
not the frame, bounds the payload, so Ethernet padding never leaks into a stream.

Taught in notebook 15_your_own_handshake.
"""

from __future__ import annotations

import ipaddress
import struct
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from ..errors import TLSError

PCAP_MAGIC_US = 0xA1B2C3D4
PCAP_MAGIC_NS = 0xA1B23C4D
PCAPNG_SHB = 0x0A0D0D0A
PCAPNG_BYTE_ORDER = 0x1A2B3C4D
PCAPNG_IDB, PCAPNG_PB, PCAPNG_SPB, PCAPNG_EPB, PCAPNG_DSB = 1, 2, 3, 6, 0x0A
DSB_TLS_KEY_LOG = 0x544C534B  # "TLSK"
MAX_PACKET = 0x40000  # 256 KiB: larger than any snaplen tcpdump or dumpcap writes

# link types (https://www.tcpdump.org/linktypes.html)
LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_RAW_OLD, LINKTYPE_RAW = 0, 1, 12, 101
LINKTYPE_LOOP, LINKTYPE_LINUX_SLL, LINKTYPE_IPV4, LINKTYPE_IPV6 = 108, 113, 228, 229
LINKTYPE_LINUX_SLL2 = 276

TCP_FIN, TCP_SYN, TCP_RST, TCP_ACK = 0x01, 0x02, 0x04, 0x10


class CaptureFileError(TLSError):
    """The capture file itself is not a pcap/pcapng file, or is truncated or corrupt."""


@dataclass(frozen=True)
class Frame:
    """One captured packet as the file holds it (``number`` counts from 1, like Wireshark)."""

    number: int
    time: float
    linktype: int
    data: bytes
    original_length: int


@dataclass(frozen=True)
class Segment:
    """One TCP segment (RFC 9293 §3.1): addresses, sequence number, flags, payload."""

    number: int
    time: float
    src: str
    sport: int
    dst: str
    dport: int
    seq: int
    flags: int
    payload: bytes

    @property
    def syn(self) -> bool:
        return bool(self.flags & TCP_SYN)

    def __repr__(self) -> str:
        return (
            f"<Segment #{self.number} {self.src}:{self.sport} -> {self.dst}:{self.dport} "
            f"seq={self.seq} flags=0x{self.flags:02x} {len(self.payload)} bytes>"
        )


@dataclass
class CaptureFile:
    """What :func:`read_capture` found: the format, the frames and any embedded key log."""

    format: str
    frames: list[Frame] = field(default_factory=list)
    embedded_keylog: str = ""


def read_capture(data: bytes, name: str = "capture") -> CaptureFile:
    """Read a whole pcap or pcapng file; a damaged file raises :class:`CaptureFileError`."""
    if len(data) < 4:
        raise CaptureFileError(f"{name}: {len(data)} bytes is too short to be a capture file")
    if data[:4] == b"\x0a\x0d\x0d\x0a":  # a palindrome: the same in both byte orders
        return _read_pcapng(data, name)
    for order in ("<", ">"):
        magic = struct.unpack(order + "I", data[:4])[0]
        if magic in (PCAP_MAGIC_US, PCAP_MAGIC_NS):
            return _read_pcap(data, name, order, 1e9 if magic == PCAP_MAGIC_NS else 1e6)
    raise CaptureFileError(
        f"{name}: not a pcap or pcapng file (first bytes {data[:4].hex()}; expected "
        f"a1b2c3d4/d4c3b2a1 or a1b23c4d/4d3cb2a1 for pcap, 0a0d0d0a for pcapng)"
    )


def _need(data: bytes, offset: int, length: int, name: str, what: str) -> bytes:
    if offset + length > len(data):
        raise CaptureFileError(
            f"{name}: truncated: {what} at byte {offset} needs {length} bytes, "
            f"but the file ends after {len(data) - offset}"
        )
    return data[offset : offset + length]


def _read_pcap(data: bytes, name: str, order: str, divisor: float) -> CaptureFile:
    header = _need(data, 0, 24, name, "the pcap file header")
    major, minor, _zone, _sigfigs, _snaplen, network = struct.unpack(order + "HHiIII", header[4:])
    if major != 2:
        raise CaptureFileError(f"{name}: pcap version {major}.{minor}, expected 2.4")
    linktype = network & 0x0FFFFFFF  # the top bits may announce an FCS length
    capture = CaptureFile("pcap")
    offset = 24
    while offset < len(data):
        seconds, fraction, captured, original = struct.unpack(
            order + "IIII",
            _need(data, offset, 16, name, f"packet {len(capture.frames) + 1}'s header"),
        )
        if captured > MAX_PACKET or fraction >= divisor:
            raise CaptureFileError(
                f"{name}: corrupt: packet {len(capture.frames) + 1}'s header at byte {offset} "
                f"claims {captured} captured bytes and a fraction of {fraction}"
            )
        body = _need(data, offset + 16, captured, name, f"packet {len(capture.frames) + 1}")
        number = len(capture.frames) + 1
        capture.frames.append(
            Frame(number, seconds + fraction / divisor, linktype, body, max(original, captured))
        )
        offset += 16 + captured
    return capture


@dataclass
class _Interface:
    linktype: int
    divisor: float = 1e6
    offset_seconds: int = 0


def _read_pcapng(data: bytes, name: str) -> CaptureFile:
    capture = CaptureFile("pcapng")
    order = "<"
    interfaces: list[_Interface] = []
    offset = 0
    while offset < len(data):
        head = _need(data, offset, 8, name, "a block header")
        if struct.unpack("<I", head[:4])[0] == PCAPNG_SHB:
            magic = _need(data, offset + 8, 4, name, "the section header's byte-order magic")
            if struct.unpack("<I", magic)[0] == PCAPNG_BYTE_ORDER:
                order = "<"
            elif struct.unpack(">I", magic)[0] == PCAPNG_BYTE_ORDER:
                order = ">"
            else:
                raise CaptureFileError(
                    f"{name}: corrupt: section header at byte {offset} has byte-order magic "
                    f"{magic.hex()}, expected 1a2b3c4d in either byte order"
                )
            interfaces = []  # each section numbers its interfaces afresh
        block_type, length = struct.unpack(order + "II", head)
        # no upper bound but the file itself: a Decryption Secrets Block holding a day's
        # browser key log is legitimately hundreds of kilobytes (the trailer check below
        # catches a length that lies)
        if length < 12 or length % 4:
            raise CaptureFileError(
                f"{name}: corrupt: block at byte {offset} (type 0x{block_type:x}) claims a "
                f"length of {length} (a block is at least 12 bytes and a multiple of 4)"
            )
        block = _need(data, offset, length, name, f"a block of type 0x{block_type:x}")
        if struct.unpack(order + "I", block[-4:])[0] != length:
            raise CaptureFileError(
                f"{name}: corrupt: block at byte {offset} starts with length {length} but ends "
                f"with {struct.unpack(order + 'I', block[-4:])[0]}"
            )
        _pcapng_block(capture, interfaces, order, block_type, block[8:-4], offset, name)
        offset += length
    return capture


def _pcapng_block(
    capture: CaptureFile,
    interfaces: list[_Interface],
    order: str,
    block_type: int,
    body: bytes,
    offset: int,
    name: str,
) -> None:
    def fail(what: str) -> CaptureFileError:
        return CaptureFileError(f"{name}: corrupt: block at byte {offset}: {what}")

    if block_type == PCAPNG_IDB:
        if len(body) < 8:
            raise fail("interface description shorter than 8 bytes")
        interface = _Interface(struct.unpack(order + "H", body[:2])[0])
        for code, value in _options(body[8:], order):
            if code == 9 and len(value) >= 1:  # if_tsresol
                exponent = value[0] & 0x7F
                interface.divisor = float(2**exponent if value[0] & 0x80 else 10**exponent)
            elif code == 14 and len(value) == 8:  # if_tsoffset
                interface.offset_seconds = struct.unpack(order + "q", value)[0]
        interfaces.append(interface)
    elif block_type in (PCAPNG_EPB, PCAPNG_PB):
        if len(body) < 20:
            raise fail("packet block shorter than its 20-byte header")
        if block_type == PCAPNG_EPB:
            index, high, low, captured, original = struct.unpack(order + "IIIII", body[:20])
        else:
            index, _drops, high, low, captured, original = struct.unpack(
                order + "HHIIII", body[:20]
            )
        if index >= len(interfaces):
            raise fail(f"packet on interface {index}, but only {len(interfaces)} were described")
        if 20 + captured > len(body):
            raise fail(f"packet claims {captured} captured bytes in a {len(body)}-byte block")
        interface = interfaces[index]
        time = interface.offset_seconds + ((high << 32) | low) / interface.divisor
        number = len(capture.frames) + 1
        capture.frames.append(
            Frame(
                number,
                time,
                interface.linktype,
                body[20 : 20 + captured],
                max(original, captured),
            )
        )
    elif block_type == PCAPNG_SPB:
        if not interfaces or len(body) < 4:
            raise fail("simple packet block without an interface or its length")
        original = struct.unpack(order + "I", body[:4])[0]
        packet = body[4 : 4 + original]
        number = len(capture.frames) + 1
        capture.frames.append(Frame(number, 0.0, interfaces[0].linktype, packet, original))
    elif block_type == PCAPNG_DSB and len(body) >= 8:
        secrets_type, secrets_length = struct.unpack(order + "II", body[:8])
        if secrets_type == DSB_TLS_KEY_LOG:
            text = body[8 : 8 + secrets_length].decode("utf-8", "replace")
            capture.embedded_keylog += text if text.endswith("\n") else text + "\n"
    # other blocks (name resolution, statistics, custom) carry nothing tlslab needs


def _options(data: bytes, order: str) -> list[tuple[int, bytes]]:
    options = []
    offset = 0
    while offset + 4 <= len(data):
        code, length = struct.unpack(order + "HH", data[offset : offset + 4])
        if code == 0:
            break
        options.append((code, data[offset + 4 : offset + 4 + length]))
        offset += 4 + length + (-length % 4)
    return options


# -- from a frame down to TCP -----------------------------------------------------------


@dataclass
class Decoded:
    """TCP segments found in the frames, and counts of what was passed over."""

    segments: list[Segment] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


def tcp_segments(frames: list[Frame]) -> Decoded:
    """Every TCP segment in ``frames``; anything else is counted in ``skipped`` by reason."""
    out = Decoded()
    for frame in frames:
        ip = _network_layer(frame)
        if ip is None:
            out.skipped[f"link type {frame.linktype} or not IP"] += 1
            continue
        parsed = _ip(ip)
        if isinstance(parsed, str):
            out.skipped[parsed] += 1
            continue
        src, dst, protocol, payload = parsed
        if protocol == 17 and len(payload) >= 4 and 443 in struct.unpack(">HH", payload[:4]):
            out.skipped["UDP port 443 (QUIC: HTTP/3 runs TLS inside QUIC, not over TCP)"] += 1
            continue
        if protocol != 6:
            out.skipped["not TCP"] += 1
            continue
        if len(payload) < 20 or len(payload) < 4 * (payload[12] >> 4):
            out.skipped["TCP header cut short"] += 1
            continue
        if payload[12] >> 4 < 5:  # RFC 9293 §3.1: the header is at least 5 words
            out.skipped["TCP data offset below 5 words (not a TCP header)"] += 1
            continue
        sport, dport, seq = struct.unpack(">HHI", payload[:8])
        header_length = 4 * (payload[12] >> 4)
        out.segments.append(
            Segment(
                frame.number,
                frame.time,
                src,
                sport,
                dst,
                dport,
                seq,
                payload[13],
                payload[header_length:],
            )
        )
    return out


def _network_layer(frame: Frame) -> bytes | None:
    data, link = frame.data, frame.linktype
    ethertype: int | None = None
    if link == LINKTYPE_ETHERNET and len(data) >= 14:
        ethertype, data = struct.unpack(">H", data[12:14])[0], data[14:]
        while ethertype in (0x8100, 0x88A8) and len(data) >= 4:  # 802.1Q / 802.1ad tags
            ethertype, data = struct.unpack(">H", data[2:4])[0], data[4:]
    elif link == LINKTYPE_LINUX_SLL and len(data) >= 16:
        ethertype, data = struct.unpack(">H", data[14:16])[0], data[16:]
    elif link == LINKTYPE_LINUX_SLL2 and len(data) >= 20:
        ethertype, data = struct.unpack(">H", data[0:2])[0], data[20:]
    elif link in (LINKTYPE_NULL, LINKTYPE_LOOP) and len(data) >= 4:
        family_le, family_be = struct.unpack("<I", data[:4])[0], struct.unpack(">I", data[:4])[0]
        family = family_be if link == LINKTYPE_LOOP else min(family_le, family_be)
        ethertype = 0x0800 if family == 2 else 0x86DD if family in (10, 24, 28, 30) else None
        data = data[4:]
    elif link in (LINKTYPE_RAW, LINKTYPE_RAW_OLD, LINKTYPE_IPV4, LINKTYPE_IPV6) and data:
        ethertype = {4: 0x0800, 6: 0x86DD}.get(data[0] >> 4)
    if ethertype not in (0x0800, 0x86DD):
        return None
    return data


@lru_cache(maxsize=4096)
def _address(packed: bytes) -> str:
    return str(ipaddress.ip_address(packed))


def _ip(data: bytes) -> tuple[str, str, int, bytes] | str:
    """(source, destination, protocol, payload) or the reason the packet was skipped."""
    if not data:
        return "empty IP packet"
    if data[0] >> 4 == 4:
        header_length = 4 * (data[0] & 0x0F)
        if len(data) < 20 or header_length < 20 or len(data) < header_length:
            return "IPv4 header cut short"
        total = struct.unpack(">H", data[2:4])[0]
        flags_fragment = struct.unpack(">H", data[6:8])[0]
        if flags_fragment & 0x3FFF:  # more-fragments bit or a fragment offset
            return "IPv4 fragment (not reassembled)"
        end = total if header_length <= total <= len(data) else len(data)  # 0: TSO on the sender
        return (
            _address(data[12:16]),
            _address(data[16:20]),
            data[9],
            data[header_length:end],
        )
    if data[0] >> 4 == 6:
        if len(data) < 40:
            return "IPv6 header cut short"
        payload_length, next_header = struct.unpack(">HB", data[4:7])
        end = min(len(data), 40 + payload_length) if payload_length else len(data)
        offset = 40
        while next_header in (0, 43, 60):  # hop-by-hop, routing, destination options
            if offset + 8 > end:
                return "IPv6 extension header cut short"
            next_header, ext_length = data[offset], 8 * (data[offset + 1] + 1)
            offset += ext_length
        if next_header == 44:
            return "IPv6 fragment (not reassembled)"
        return (
            _address(data[8:24]),
            _address(data[24:40]),
            next_header,
            data[offset:end],
        )
    return "not IPv4 or IPv6"
