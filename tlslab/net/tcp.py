"""TCP for a capture: segments grouped into connections, each direction put back in order.

A capture holds TCP *segments*; TLS needs each direction's *byte stream*. RFC 9293 §3.4 numbers
every byte: the SYN carries the initial sequence number (ISN), the first data byte is ISN + 1,
and numbers wrap at 2**32. :func:`reassemble` places each segment's payload at its sequence
number, so out-of-order segments fall into place; retransmitted and overlapping copies are
merged (the copy placed first wins: the lowest sequence number, then the first captured; a
disagreement is noted with the frames involved), and a
segment the capture never saw leaves a :class:`Gap`: the stream is readable up to it only.

:func:`group_connections` sorts segments into connections by their address pair, numbered in
order of appearance like Wireshark's ``tcp.stream``; a new SYN on a finished address pair
starts a new connection.

Taught in notebook 15_your_own_handshake.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from ._pcap import TCP_ACK, TCP_FIN, TCP_RST, Segment

Endpoint = tuple[str, int]


@dataclass(frozen=True)
class Gap:
    """Bytes of a direction the capture never saw: everything after them is unreadable."""

    direction: str
    offset: int
    missing: int
    bytes_after: int
    frame: int

    def __str__(self) -> str:
        return (
            f"{self.direction}: {self.missing} bytes missing at stream offset {self.offset} "
            f"(a segment the capture did not see, before frame {self.frame}); the "
            f"{self.bytes_after} bytes after the hole cannot be cut into records and were skipped"
        )


@dataclass
class Reassembled:
    """One direction of a TCP connection put back in order (``spans`` say which frame gave which bytes)."""

    data: bytes
    spans: list[tuple[int, int, float, int]]  # (start, end, time, frame), in stream order
    gap: Gap | None = None
    notes: list[str] = field(default_factory=list)
    _latest: list[int] = field(default_factory=list, repr=False)

    def delivered(self, end: int) -> tuple[float, int]:
        """(time, frame) when the stream's first ``end`` bytes had all been seen: the latest
        arrival among the spans up to ``end`` (an early span may have waited for a late one)."""
        if len(self._latest) != len(self.spans):  # a running maximum, computed once
            self._latest = []
            for i, span in enumerate(self.spans):
                best = self._latest[-1] if self._latest else i
                self._latest.append(i if span[2] >= self.spans[best][2] else best)
        index = min(bisect_left(self.spans, (end,)), len(self.spans) - 1)
        if index > 0 and self.spans[index][0] >= end:
            index -= 1
        latest = self.spans[self._latest[index]]
        return latest[2], latest[3]


def reassemble(segments: list[Segment], direction: str, isn: int | None = None) -> Reassembled:
    """Order one direction's segments by sequence number (RFC 9293 §3.4).

    ``isn`` is the initial sequence number from the SYN (the first data byte is
    ``isn + 1``); without a SYN the lowest sequence number seen starts the stream.
    Sequence numbers wrap at 2**32. Duplicates and overlaps keep the copy placed first
    (lowest sequence number, then first captured), and a disagreement is noted;
    a hole ends the readable stream and is returned as ``gap``.
    """
    pieces = []
    for arrival, seg in enumerate(segments):
        start = seg.seq + 1 if seg.syn else seg.seq  # data on a SYN follows the ISN
        # RFC 9293 §3.5.3: data on a RST is diagnostic text, never delivered to the stream
        if seg.payload and not seg.flags & TCP_RST:
            pieces.append((start, arrival, seg))
    if not pieces:
        return Reassembled(b"", [])
    if isn is None:
        first = pieces[0][0]
        isn = first + min(((s - first + 2**31) % 2**32) - 2**31 for s, _, _ in pieces) - 1
    ordered = sorted(((s - isn - 1) % 2**32, arrival, seg) for s, arrival, seg in pieces)
    out = bytearray()
    spans: list[tuple[int, int, float, int]] = []
    notes: list[str] = []
    for position, (offset, _, seg) in enumerate(ordered):
        data, end = seg.payload, offset + len(seg.payload)
        if offset > len(out):
            after = max(o + len(s.payload) for o, _, s in ordered[position:]) - offset
            gap = Gap(direction, len(out), offset - len(out), after, seg.number)
            return Reassembled(bytes(out), spans, gap, notes)
        overlap = min(len(out), end) - offset
        if overlap > 0 and out[offset : offset + overlap] != data[:overlap] and len(data) > 1:
            kept = _frames_holding(spans, offset, offset + overlap)
            notes.append(
                f"{direction}: frame {seg.number} overlaps bytes {offset}..{offset + overlap - 1} "
                f"with different content; kept the bytes of frame {kept} (placed first: "
                "lowest sequence number, then first captured)"
            )
        if end > len(out):
            spans.append((len(out), end, seg.time, seg.number))
            out += data[max(overlap, 0) :]
    return Reassembled(bytes(out), spans, None, notes)


def _frames_holding(spans: list[tuple[int, int, float, int]], start: int, end: int) -> str:
    """The frames whose bytes fill stream offsets ``start``..``end`` (at most three named)."""
    index = max(bisect_right(spans, (start, math.inf)) - 1, 0)
    frames: list[str] = []
    while index < len(spans) and spans[index][0] < end and len(frames) < 4:
        frames.append(str(spans[index][3]))
        index += 1
    return ", ".join(frames[:3]) + (" and others" if len(frames) > 3 else "")


@dataclass
class TCPConnection:
    """One TCP connection's segments; ``client`` is the side that sent the first SYN, if seen."""

    stream: int
    first: Endpoint
    segments: list[Segment] = field(default_factory=list)
    isn: dict[Endpoint, int] = field(default_factory=dict)
    client: Endpoint | None = None
    finished: bool = False

    def endpoints(self) -> set[Endpoint]:
        return {(s.src, s.sport) for s in self.segments} | {(s.dst, s.dport) for s in self.segments}

    def sent_by(self, endpoint: Endpoint) -> list[Segment]:
        return [s for s in self.segments if (s.src, s.sport) == endpoint]


def group_connections(segments: list[Segment]) -> list[TCPConnection]:
    """Segments by TCP connection, numbered in order of appearance like Wireshark's tcp.stream."""
    current: dict[frozenset[Endpoint], TCPConnection] = {}
    connections: list[TCPConnection] = []
    for seg in segments:
        src, dst = (seg.src, seg.sport), (seg.dst, seg.dport)
        key = frozenset((src, dst))
        conn = current.get(key)
        opening = seg.syn and not seg.flags & TCP_ACK
        reopening = (
            opening
            and conn is not None
            and conn.finished
            and conn.client in (None, src)  # the old client's port, reused for a new SYN
            and conn.isn.get(src, seg.seq) != seg.seq
        )
        if conn is None or reopening:
            conn = TCPConnection(len(connections), src)
            current[key] = conn
            connections.append(conn)
        if seg.syn:
            conn.isn.setdefault(src, seg.seq)
            if opening and conn.client is None:  # a later stray SYN must not swap the roles
                conn.client = src
        if seg.flags & (TCP_FIN | TCP_RST):
            conn.finished = True
        conn.segments.append(seg)
    return connections
