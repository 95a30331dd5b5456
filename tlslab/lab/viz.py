"""Pictures (matplotlib), imported only by notebooks: ``import tlslab`` never loads matplotlib.

- :func:`plot_byte_map`: a message's bytes as a strip, one coloured span per field,
  so a learner sees where the bytes go before reading the table.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from ..wire.explain import Explanation, explain
from ..wire.messages import rfc_message_name
from .alt_text import describe

_PALETTE = [
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
]


def plot_byte_map(
    data: Any, *, depth: int | None = None, ax: Any = None, title: str | None = None
) -> Any:
    """Draw ``data`` (anything :func:`tlslab.explain` takes) as a strip of labelled spans.

    ``depth`` picks the level of detail (default: the fields of the message body,
    with each extension as one span). Returns the matplotlib Axes.
    """
    exp = data if isinstance(data, Explanation) else explain(data)
    level = depth if depth is not None else _default_depth(exp)
    spans = _spans(exp, level)
    total = max(len(exp.data), 1)
    if ax is None:
        _, ax = plt.subplots(figsize=(12, 2.2))
    for i, (offset, length, label) in enumerate(spans):
        colour = _PALETTE[i % len(_PALETTE)]
        ax.add_patch(Rectangle((offset, 0), length, 1, facecolor=colour, edgecolor="white"))
        if length / total > 0.03:
            ax.text(
                offset + length / 2,
                0.5,
                f"{label}\n{length} B",
                ha="center",
                va="center",
                fontsize=7,
                color="white",
                rotation=90 if length / total < 0.1 else 0,
            )
    # a legend for every span, in order: narrow spans have no room for a label of their own
    from matplotlib.patches import Patch

    handles = [
        Patch(facecolor=_PALETTE[i % len(_PALETTE)], label=f"{offset}: {label} ({length} B)")
        for i, (offset, length, label) in enumerate(spans)
    ]
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.38),
        ncol=min(4, max(1, len(handles))),
        fontsize=7,
        frameon=False,
        handlelength=1.2,
        columnspacing=1.2,
    )
    ax.set_xlim(0, total)
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.set_xlabel("byte offset")
    ax.set_title(title or f"{len(exp.data)} bytes, one colour per field")
    describe(ax, byte_map_alt_text(exp, depth=level))
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    return ax


def byte_map_alt_text(data: Any, *, depth: int | None = None) -> str:
    """The byte map in words, for the ``alt`` text of its image: each span's field, offset and
    length, in order (screen readers, and anyone who cannot tell the colours apart)."""
    exp = data if isinstance(data, Explanation) else explain(data)
    level = depth if depth is not None else _default_depth(exp)
    spans = _spans(exp, level)
    parts = [f"{label} at byte {offset}, {length} bytes" for offset, length, label in spans]
    return f"Byte map of {len(exp.data)} bytes: " + "; ".join(parts) + "."


def _default_depth(exp: Explanation) -> int:
    """Body fields sit at depth 1 in a bare handshake message and at depth 3 inside records."""
    return 3 if exp.rows and exp.rows[0].field.startswith("record") else 1


def _spans(exp: Explanation, level: int) -> list[tuple[int, int, str]]:
    """(offset, length, label) spans: each field at ``level``; a vector with its length
    prefix as one span; each extension as its own span."""
    rows = [r for r in exp.rows if r.depth in (level, level + 1)]
    spans: list[tuple[int, int, str]] = []
    i = 0
    while i < len(rows):
        row = rows[i]
        i += 1
        if row.depth != level:
            continue
        if not row.field.endswith(" length"):
            spans.append((row.offset, row.length, row.field))
            continue
        name = row.field[: -len(" length")]
        children = []
        while i < len(rows) and rows[i].depth == level + 1:
            children.append(rows[i])
            i += 1
        if i < len(rows) and rows[i].depth == level and rows[i].field == name:
            children.append(rows[i])
            i += 1
        if name == "extensions":
            spans.append((row.offset, row.length, "ext. length"))
            spans += [
                (c.offset, c.length, c.field.split(" ", 1)[-1])
                for c in children
                if c.field.startswith("extensions[")
            ]
        else:
            end = max([row.offset + row.length] + [c.offset + c.length for c in children])
            spans.append((row.offset, end - row.offset, name))
    covered = [(o, o + n) for o, n, _ in spans]
    for row in exp.rows:
        if (
            row.depth < level
            and row.value
            and not any(a < row.offset + row.length and row.offset < b for a, b in covered)
        ):
            spans.append((row.offset, row.length, row.field))
    return sorted(s for s in spans if s[1] > 0)


def _short(value: bytes, n: int = 6) -> str:
    return value[:n].hex() + "…"


def _box(ax: Any, x: float, y: float, title: str, value: bytes | None, colour: str) -> None:
    text = title if value is None else f"{title}\n{_short(value)}"
    ax.text(
        x,
        y,
        text,
        ha="center",
        va="center",
        fontsize=8,
        family="monospace",
        bbox={"boxstyle": "round,pad=0.4", "facecolor": colour, "edgecolor": "#555"},
    )


def _arrow(ax: Any, start: tuple[float, float], end: tuple[float, float], label: str = "") -> None:
    ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "->", "color": "#555"})
    if label:
        ax.text(
            (start[0] + end[0]) / 2 + 0.05,
            (start[1] + end[1]) / 2,
            label,
            fontsize=7,
            color="#444",
            ha="left",
            va="center",
            style="italic",
        )


def plot_key_schedule(schedule: Any, shared_secret: bytes | None = None, *, ax: Any = None) -> Any:
    """Draw the TLS 1.3 key schedule of RFC 8446 §7.1, each box labelled with this session's
    (shortened) value: the Extract chain down the middle, each Derive-Secret branch to the right
    with its label and the transcript range it hashes (notebook 05).
    ``schedule`` is a :class:`tlslab.stages.keyschedule.Schedule13`."""
    if ax is None:
        _, ax = plt.subplots(figsize=(12.5, 8))
    extract, derived, traffic, secret = "#dbe9f6", "#eeeeee", "#fde4c8", "#e6f4e6"
    x_out = 4.4

    def down(y_from: float, y_to: float, label: str = "") -> None:
        ax.annotate(
            "",
            xy=(0, y_to + 0.28),
            xytext=(0, y_from - 0.28),
            arrowprops={"arrowstyle": "-|>", "color": "#555", "shrinkA": 0, "shrinkB": 0},
        )
        if label:
            ax.text(
                0.12,
                (y_from + y_to) / 2,
                label,
                fontsize=7.5,
                color="#444",
                va="center",
                style="italic",
            )

    def branch(y_from: float, y_to: float, name: str, value: bytes, label: str, rng: str) -> None:
        _box(ax, x_out, y_to, name, value, traffic)
        ax.annotate(
            "",
            xy=(x_out - 1.75, y_to),
            xytext=(1.0, y_from),
            arrowprops={"arrowstyle": "-|>", "color": "#555", "shrinkA": 0, "shrinkB": 0},
        )
        ax.text(
            x_out,
            y_to + 0.24,
            f"Derive-Secret(., {label}, {rng})",
            fontsize=7,
            color="#444",
            ha="center",
            va="bottom",
            style="italic",
        )

    _box(ax, 0, 7.0, "0 (no PSK)", None, derived)
    down(7.0, 6.0, "HKDF-Extract(salt 0, IKM = 0 or PSK)")
    _box(ax, 0, 6.0, "Early Secret", schedule.early_secret, extract)
    down(6.0, 5.0)
    _box(ax, 0, 5.0, 'Derive-Secret(., "derived", "")', None, derived)
    down(5.0, 4.0, "HKDF-Extract(salt, IKM)")
    _box(ax, -3.2, 4.55, "(EC)DHE shared secret", shared_secret, secret)
    ax.annotate(
        "",
        xy=(-0.95, 4.0),
        xytext=(-2.25, 4.45),
        arrowprops={"arrowstyle": "-|>", "color": "#555", "shrinkA": 0, "shrinkB": 0},
    )
    ax.text(-1.7, 4.4, "IKM", fontsize=7.5, color="#444", style="italic")
    _box(ax, 0, 4.0, "Handshake Secret", schedule.handshake_secret, extract)
    hello = "ClientHello..ServerHello"
    branch(
        4.0,
        4.45,
        "client_handshake_traffic_secret",
        schedule.client_handshake_traffic_secret,
        '"c hs traffic"',
        hello,
    )
    branch(
        4.0,
        3.55,
        "server_handshake_traffic_secret",
        schedule.server_handshake_traffic_secret,
        '"s hs traffic"',
        hello,
    )
    down(4.0, 3.0)
    _box(ax, 0, 3.0, 'Derive-Secret(., "derived", "")', None, derived)
    down(3.0, 2.0, "HKDF-Extract(salt, IKM = 0)")
    _box(ax, 0, 2.0, "Master Secret", schedule.master_secret, extract)
    server_fin, client_fin = "ClientHello..server Finished", "ClientHello..client Finished"
    rows = [
        (
            "client_application_traffic_secret_0",
            schedule.client_application_traffic_secret_0,
            '"c ap traffic"',
            server_fin,
        ),
        (
            "server_application_traffic_secret_0",
            schedule.server_application_traffic_secret_0,
            '"s ap traffic"',
            server_fin,
        ),
        ("exporter_master_secret", schedule.exporter_master_secret, '"exp master"', server_fin),
        ("resumption_master_secret", schedule.resumption_master_secret, '"res master"', client_fin),
    ]
    for i, (name, value, label, transcript) in enumerate(rows):
        branch(2.0, 2.7 - i * 0.8, name, value, label, transcript)
    ax.set_xlim(-4.6, 6.3)
    ax.set_ylim(-0.3, 7.5)
    ax.axis("off")
    ax.set_title(
        f"TLS 1.3 key schedule (RFC 8446 §7.1), {schedule.hash_name}, this session's values"
    )
    describe(
        ax,
        "TLS 1.3 key schedule: Early Secret, then Handshake Secret from the (EC)DHE shared secret, "
        "giving the client and server handshake traffic secrets (transcript ClientHello..ServerHello), "
        "then Master Secret, giving the application traffic secrets and exporter secret (transcript "
        "up to the server Finished) and the resumption secret (up to the client Finished).",
    )
    return ax


def plot_tls12_derivation(
    pre_master_secret: bytes, master: bytes, block: Any, *, ax: Any = None
) -> Any:
    """Draw pre-master secret -> master secret -> key block (RFC 5246 §8.1, §6.3) with real values."""
    if ax is None:
        _, ax = plt.subplots(figsize=(12, 4))
    _box(ax, 0, 2, "pre_master_secret", pre_master_secret, "#e6f4e6")
    _box(ax, 0, 1, "master_secret (48 bytes)", master, "#dbe9f6")
    _arrow(ax, (0, 1.75), (0, 1.3), 'PRF(., "master secret", client_random + server_random)')
    parts = [
        (name, getattr(block, name))
        for name in (
            "client_write_MAC_key",
            "server_write_MAC_key",
            "client_write_key",
            "server_write_key",
            "client_write_IV",
            "server_write_IV",
        )
        if getattr(block, name)
    ]
    for i, (name, value) in enumerate(parts):
        x = (i - (len(parts) - 1) / 2) * 2.1
        _box(ax, x, -0.4, f"{name}\n({len(value)} B)", value, "#fde4c8")
        _arrow(ax, (0, 0.75), (x, -0.05))
    ax.text(
        0.1,
        0.35,
        'key_block = PRF(master_secret, "key expansion", server_random + client_random)',
        fontsize=8,
        style="italic",
        ha="left",
    )
    ax.set_xlim(-6.5, 6.5)
    ax.set_ylim(-1, 2.5)
    ax.axis("off")
    ax.set_title("TLS 1.2: from pre-master secret to keys")
    names = ", ".join(f"{name} ({len(value)} bytes)" for name, value in parts)
    return describe(
        ax,
        f"TLS 1.2 key derivation. The {len(pre_master_secret)}-byte pre_master_secret goes through "
        "PRF with the label 'master secret' and both randoms to the 48-byte master_secret; PRF with "
        f"'key expansion' turns that into the key block, cut into {names}.",
    )


def plot_avalanche(
    positions: list[int], changed_bits: list[int], total_bits: int, *, ax: Any = None
) -> Any:
    """Bits of verify_data that change when one handshake byte is flipped, per flipped byte."""
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 3))
    step = positions[1] - positions[0] if len(positions) > 1 else 1
    ax.bar(positions, changed_bits, width=step, color="#4e79a7", align="edge")
    ax.axhline(total_bits / 2, color="#e15759", linestyle="--", label=f"half of {total_bits} bits")
    ax.set_ylim(0, total_bits)
    ax.set_xlabel("flipped byte (offset in the concatenated handshake messages)")
    ax.set_ylabel("verify_data bits changed")
    ax.legend(loc="lower right")
    ax.set_title("One flipped byte anywhere changes about half of verify_data")
    mean = sum(changed_bits) / len(changed_bits) if changed_bits else 0
    return describe(
        ax,
        f"Bar chart: for each of {len(positions)} flipped handshake bytes, from offset "
        f"{positions[0] if positions else 0} to {positions[-1] if positions else 0}, the number of "
        f"verify_data bits that changed, out of {total_bits}. The bars scatter around the dashed "
        f"line at half ({total_bits // 2}); their mean is {mean:.1f}.",
    )


def plot_nonces(iv: bytes, count: int = 6, *, ax: Any = None) -> Any:
    """The per-record nonce = iv XOR sequence number, drawn byte by byte for the first records."""
    from ..stages.protection import xor_nonce

    if ax is None:
        _, ax = plt.subplots(figsize=(11, 0.5 + 0.45 * count))
    for seq in range(count):
        nonce = xor_nonce(iv, seq)
        for i, byte in enumerate(nonce):
            changed = byte != iv[i]
            ax.add_patch(
                Rectangle(
                    (i, count - seq - 1),
                    1,
                    1,
                    facecolor="#f28e2b" if changed else "#dbe9f6",
                    edgecolor="white",
                )
            )
            ax.text(
                i + 0.5,
                count - seq - 0.5,
                f"{byte:02x}",
                ha="center",
                va="center",
                fontsize=8,
                family="monospace",
            )
        ax.text(-0.3, count - seq - 0.5, f"seq {seq}", ha="right", va="center", fontsize=8)
    ax.set_xlim(-1.5, len(iv))
    ax.set_ylim(0, count)
    ax.axis("off")
    ax.set_title(
        "nonce = iv XOR seq: only the last bytes change (orange), and never repeat under one key"
    )
    rows = "; ".join(f"seq {seq}: {xor_nonce(iv, seq).hex(' ')}" for seq in range(count))
    return describe(
        ax,
        f"Grid of the per-record nonces for sequence numbers 0 to {count - 1}, one row per record, "
        f"one cell per byte; bytes that differ from the IV are orange. {rows}.",
    )


def plot_protected_record(
    record: bytes, tag_length: int = 16, *, explicit_nonce: int = 0, ax: Any = None
) -> Any:
    """A protected record as labelled spans: the 5-byte header (type, version, length),
    an explicit nonce (TLS 1.2 GCM), the ciphertext, and the AEAD tag."""
    if ax is None:
        _, ax = plt.subplots(figsize=(12, 1.8))
    body = len(record) - 5 - explicit_nonce - tag_length
    spans = [("header", 5)]
    if explicit_nonce:
        spans.append(("explicit nonce", explicit_nonce))
    spans += [("encrypted content (+ inner type)", body), ("AEAD tag", tag_length)]
    offset = 0
    for i, (label, length) in enumerate(spans):
        ax.add_patch(
            Rectangle(
                (offset, 0), length, 1, facecolor=_PALETTE[i % len(_PALETTE)], edgecolor="white"
            )
        )
        ax.text(
            offset + length / 2,
            0.5,
            f"{label}\n{length} B",
            ha="center",
            va="center",
            fontsize=8,
            color="white",
            rotation=0 if length > 8 else 90,
        )
        offset += length
    ax.set_xlim(0, len(record))
    ax.set_ylim(0, 1.4)
    ax.set_yticks([])
    ax.set_xlabel("byte offset")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    parts = ", then ".join(f"{label} ({length} bytes)" for label, length in spans)
    return describe(ax, f"A {len(record)}-byte protected record as a bar of spans: {parts}.")


def plot_modular_powers(p: int, g: int, *, ax: Any = None) -> Any:
    """x against g^x mod p: easy to compute forwards, and the points look scattered, which is
    why going backwards (the discrete logarithm) is hard."""
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.5))
    xs = list(range(1, p))
    ys = [pow(g, x, p) for x in xs]
    ax.plot(xs, ys, "o-", color="#4e79a7", markersize=4, linewidth=0.6)
    ax.set_xlabel("secret exponent x")
    ax.set_ylabel(f"public value {g}^x mod {p}")
    ax.set_title(f"g = {g}, p = {p}: every value 1..{p - 1} appears once, in no visible order")
    pairs = ", ".join(f"{x}->{y}" for x, y in zip(xs, ys, strict=True))
    return describe(
        ax,
        f"Line plot of g^x mod p for g = {g}, p = {p}, x from 1 to {p - 1}: the values jump "
        f"around with no visible order. x->value: {pairs}.",
    )


def plot_dh_exchange(p: int, g: int, a: int, b: int, *, ax: Any = None) -> Any:
    """The Diffie-Hellman exchange with small numbers: what each side keeps, what crosses the wire."""
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4.2))
    big_a, big_b = pow(g, a, p), pow(g, b, p)
    ax.text(0, 4, "Client (Alice)", ha="center", fontsize=11, weight="bold")
    ax.text(10, 4, "Server (Bob)", ha="center", fontsize=11, weight="bold")
    ax.text(5, 4, f"public: p = {p}, g = {g}", ha="center", fontsize=9, color="#555")
    ax.text(0, 3.2, f"secret a = {a}", ha="center", color="#b00")
    ax.text(10, 3.2, f"secret b = {b}", ha="center", color="#b00")
    ax.text(0, 2.5, f"A = g^a mod p = {big_a}", ha="center")
    ax.text(10, 2.5, f"B = g^b mod p = {big_b}", ha="center")
    ax.annotate("", xy=(8.3, 2.0), xytext=(1.7, 2.0), arrowprops={"arrowstyle": "->"})
    ax.text(5, 2.1, f"A = {big_a}  (key_share in ClientHello)", ha="center", fontsize=9)
    ax.annotate("", xy=(1.7, 1.4), xytext=(8.3, 1.4), arrowprops={"arrowstyle": "->"})
    ax.text(5, 1.5, f"B = {big_b}  (key_share in ServerHello)", ha="center", fontsize=9)
    ax.text(0, 0.6, f"B^a mod p = {pow(big_b, a, p)}", ha="center", weight="bold", color="#1a7f37")
    ax.text(10, 0.6, f"A^b mod p = {pow(big_a, b, p)}", ha="center", weight="bold", color="#1a7f37")
    ax.text(
        5,
        0.1,
        "an eavesdropper sees p, g, A and B, but not a, b or the shared value",
        ha="center",
        fontsize=9,
        style="italic",
    )
    ax.set_xlim(-2.5, 12.5)
    ax.set_ylim(-0.2, 4.5)
    ax.axis("off")
    return describe(
        ax,
        f"Diffie-Hellman with p = {p}, g = {g}. The client keeps a = {a} and sends A = {big_a} "
        f"(its key_share); the server keeps b = {b} and sends B = {big_b}. Both compute the same "
        f"shared value {pow(big_b, a, p)}; an eavesdropper sees p, g, A and B only.",
    )


# Ladder colours: which keys protect a message (the same three everywhere in the course).
LADDER_COLOURS = {
    "plaintext": "#4e79a7",
    "handshake keys (TLS 1.3)": "#f28e2b",
    "application / session keys": "#c0392b",
}


def ladder_arrows(trace: Any) -> list[tuple[str, str, int, str]]:
    """(sender, RFC name, size, protection) for each message of a trace, in order, with the
    ChangeCipherSpec records of both sides, application data and alerts (close_notify) in both
    directions. Protection is a key of :data:`LADDER_COLOURS`: TLS 1.3 messages up to each
    side's Finished use the handshake keys, later ones (such as NewSessionTicket) the
    application keys; TLS 1.2's encrypted Finished uses the session keys from the key block,
    which are also the application keys. Application data is counted in plaintext bytes."""
    me = trace.role
    peer = "server" if me == "client" else "client"
    tls13 = any(e.name in ("EncryptedExtensions", "Certificate13") for e in trace.messages())
    finished = {"client": False, "server": False}
    keyed = {"client": False, "server": False}  # has this side started encrypting?
    arrows: list[tuple[str, str, int, str]] = []

    def protection_of(sender: str) -> str:
        if finished[sender]:
            return "application / session keys"
        if keyed[sender]:
            return "handshake keys (TLS 1.3)" if tls13 else "application / session keys"
        return "plaintext"

    for event in trace.events:
        if event.kind == "note":
            sender = me if event.name.endswith(" sent") else peer
            if event.name.startswith("ChangeCipherSpec "):
                arrows.append((peer, "ChangeCipherSpec", 1, "plaintext"))
            elif event.name in ("application data sent", "application data received"):
                size = int(str(event.value).split()[0])
                arrows.append((sender, "application data", size, protection_of(sender)))
            elif event.name in ("alert sent", "alert received"):
                name = str(event.value).split()[-1]
                arrows.append((sender, f"Alert {name}", 2, protection_of(sender)))
            continue
        if event.kind != "message":
            continue
        sender = me if event.direction == "sent" else peer
        if event.value != "encrypted":
            protection = "plaintext"
        elif tls13 and not finished[sender]:
            protection = "handshake keys (TLS 1.3)"
        else:
            protection = "application / session keys"
        if event.value == "encrypted":
            keyed[sender] = True
        if event.name == "Finished":
            finished[sender] = True
        label = "application data" if event.name == "ApplicationData" else event.name
        arrows.append((sender, rfc_message_name(label), len(event.data), protection))
    return arrows


def draw_ladder(
    arrows: list[tuple[str, str, int, str]], *, ax: Any = None, title: str | None = None
) -> Any:
    """Draw (sender, label, size, protection) arrows as a ladder: client left, server right,
    colours from :data:`LADDER_COLOURS`, a bracket per round trip on the left (a client flight
    and the server flight that answers it), a legend, and alt text on the figure."""
    if ax is None:
        _, ax = plt.subplots(figsize=(9.5, 0.42 * len(arrows) + 1.6))
    n = len(arrows)
    for row, (sender, label, size, protection) in enumerate(arrows):
        y = n - row
        start, end = (0.0, 1.0) if sender == "client" else (1.0, 0.0)
        colour = LADDER_COLOURS[protection]
        ax.annotate(
            "",
            xy=(end, y),
            xytext=(start, y),
            arrowprops={
                "arrowstyle": "-|>",
                "color": colour,
                "lw": 1.8,
                "shrinkA": 0,
                "shrinkB": 0,
            },
        )
        ax.text(0.5, y + 0.1, f"{label}  ({size} B)", ha="center", va="bottom", fontsize=8.5)
    # round trips: a client flight and the server flight after it
    trips: list[tuple[int, int]] = []
    handshake_end = next(
        (
            i
            for i, arrow in enumerate(arrows)
            if arrow[1] == "application data" or arrow[1].startswith("Alert ")
        ),
        n,
    )
    if any(arrow[1] == "EncryptedExtensions" for arrow in arrows):
        # TLS 1.3 is 1-RTT: the client's Finished goes out with its first data, no new trip
        handshake_end = next(
            (i for i, a in enumerate(arrows) if a[0] == "client" and a[1] == "Finished"),
            handshake_end,
        )
    row = 0
    while row < handshake_end:
        if arrows[row][0] != "client":
            row += 1
            continue
        first = row
        while row < handshake_end and arrows[row][0] == "client":
            row += 1
        if row < handshake_end and arrows[row][0] == "server":
            while row < handshake_end and arrows[row][0] == "server":
                row += 1
            trips.append((first, row - 1))
    for number, (first, last) in enumerate(trips, 1):
        top, bottom = n - first + 0.3, n - last - 0.2
        ax.plot([-0.2, -0.22, -0.22, -0.2], [top, top, bottom, bottom], color="#777", lw=1)
        ax.text(
            -0.25,
            (top + bottom) / 2,
            f"round trip {number}",
            rotation=90,
            ha="right",
            va="center",
            fontsize=8,
            color="#555",
        )
    for x, label in ((0.0, "client"), (1.0, "server")):
        ax.plot([x, x], [0.4, n + 0.6], color="#555", lw=1)
        ax.text(x, n + 0.8, label, ha="center", fontsize=10, weight="bold")
    used = {protection for *_, protection in arrows}
    for name, colour in LADDER_COLOURS.items():
        if name in used:  # a TLS 1.2 ladder has no "handshake keys (TLS 1.3)" entry
            ax.plot([], [], color=colour, lw=2, label=name)
    ax.legend(loc="upper center", ncol=3, fontsize=8, frameon=False, bbox_to_anchor=(0.5, 0.02))
    ax.set_xlim(-0.4, 1.2)
    ax.set_ylim(0.2, n + 1.2)
    ax.axis("off")
    if title:
        ax.set_title(title)
    describe(ax, ladder_alt_text(arrows, trips))
    return ax


def ladder_alt_text(
    arrows: list[tuple[str, str, int, str]], trips: list[tuple[int, int]] | None = None
) -> str:
    """The ladder in words for alt text: one arrow per clause with its size and protection,
    then the round trips the figure brackets (``trips``: first and last arrow index of each)."""
    parts = [
        f"{sender} to {'server' if sender == 'client' else 'client'}: {label}, {size} bytes"
        f" ({protection})"
        for sender, label, size, protection in arrows
    ]
    text = "Message ladder. " + "; ".join(parts) + "."
    for number, (first, last) in enumerate(trips or (), 1):
        text += f" Round trip {number}: {arrows[first][1]} to {arrows[last][1]}."
    return text


def plot_ladder(trace: Any, *, ax: Any = None, title: str | None = None) -> Any:
    """The message ladder of a handshake, drawn from a :class:`tlslab.engine.trace.Trace`:
    client on the left, server on the right, one arrow per message with its RFC name, both
    sides' ChangeCipherSpec, colours for plaintext / handshake keys / application keys, and the
    round trips marked (RFC 8446 §2, RFC 5246 §7.3; notebooks 00 and 08)."""
    return draw_ladder(ladder_arrows(trace), ax=ax, title=title)


def plot_connection_ladder(connection: Any, *, ax: Any = None, title: str | None = None) -> Any:
    """The ladder of a whole :class:`tlslab.lab.illustrated.IllustratedConnection`: every record,
    including application data and close_notify (notebook 00b)."""
    arrows = []
    for record in connection.records:
        label = record.title.replace(" (encrypted)", "")
        if not record.protected:
            protection = "plaintext"
        else:
            secret = str(record.steps[0].note)
            protection = (
                "handshake keys (TLS 1.3)"
                if "HANDSHAKE_TRAFFIC" in secret
                else "application / session keys"
            )
        arrows.append((record.sender, label, len(record.raw), protection))
    return draw_ladder(arrows, ax=ax, title=title or connection.title)


def state_machine_layers(
    edges: list[tuple[Any, str, Any]],
) -> tuple[dict[Any, int], set[tuple[Any, Any]]]:
    """Layer of each state (longest path from the first state, back edges ignored) and the
    back edges themselves, for a layered drawing of a (from, message, to) edge list."""
    succ: dict[Any, list[Any]] = {}
    states: list[Any] = []
    for start, _, end in edges:
        for state in (start, end):
            if state not in states:
                states.append(state)
        if start != end and end not in succ.setdefault(start, []):
            succ[start].append(end)
    back: set[tuple[Any, Any]] = set()
    order: list[Any] = []
    seen: set[Any] = set()

    def visit(state: Any, stack: list[Any]) -> None:
        seen.add(state)
        stack.append(state)
        for nxt in succ.get(state, []):
            if nxt in stack:
                back.add((state, nxt))
            elif nxt not in seen:
                visit(nxt, stack)
        stack.pop()
        order.append(state)

    for state in states:
        if state not in seen:
            visit(state, [])
    layer = dict.fromkeys(states, 0)
    for state in reversed(order):  # topological order of the forward edges
        for nxt in succ.get(state, []):
            if (state, nxt) not in back:
                layer[nxt] = max(layer[nxt], layer[state] + 1)
    return layer, back


def plot_state_machine(role: str = "client", *, ax: Any = None) -> Any:
    """The handshake state machine of one role, drawn from the table
    (``tlslab.engine.state.transitions_for``) in layers: each state one row below the states that
    lead to it, TLS 1.3 states on the left, TLS 1.2 states on the right, parallel transitions
    merged into one labelled arrow, self-loops listed beside their state, and the TLS 1.2
    abbreviated (resumed) handshake in a column of its own on the far right (RFC 8446 Appendix A,
    RFC 5077 §3.1; notebook 08)."""
    from ..engine.state import transitions_for

    edges = transitions_for(role)
    layer, back = state_machine_layers(edges)
    depth = max(layer.values(), default=0) + 1
    if ax is None:
        _, ax = plt.subplots(figsize=(13, 0.75 * depth + 1.2))

    def column(state: Any) -> float:
        name = str(state.value)
        if "RESUMED" in name:
            return 1.6
        if "12" in name:
            return 1.0
        if layer[state] == 0 or name == "CONNECTED":
            return 0.5
        return 0.0

    slots: dict[tuple[int, float], int] = {}
    position: dict[Any, tuple[float, float]] = {}
    for state in sorted(layer, key=lambda st: (layer[st], str(st.value))):
        key = (layer[state], column(state))
        index = slots.get(key, 0)
        slots[key] = index + 1
        position[state] = (column(state) + 0.22 * index, float(depth - layer[state]))
    grouped: dict[tuple[Any, Any], list[str]] = {}
    loops: dict[Any, list[str]] = {}
    for start, message, end in edges:
        if start == end:
            if message not in loops.setdefault(start, []):
                loops[start].append(message)
        elif message not in grouped.setdefault((start, end), []):
            grouped[(start, end)].append(message)
    for (start, end), messages in grouped.items():
        (x1, y1), (x2, y2) = position[start], position[end]
        skip = abs(layer[end] - layer[start]) != 1 or (start, end) in back
        outward = -1.0 if min(x1, x2) < 0.5 else 1.0  # bulge away from the middle
        rad = 0.0 if not skip else (-0.4 * outward if y2 < y1 else 0.4 * outward)
        ax.annotate(
            "",
            xy=(x2, y2),
            xytext=(x1, y1),
            arrowprops={
                "arrowstyle": "-|>",
                "color": "#c0392b" if (start, end) in back else "#777",
                "lw": 1.1,
                "shrinkA": 11,
                "shrinkB": 11,
                "connectionstyle": f"arc3,rad={rad}",
            },
        )
        label = " / ".join(messages)
        box = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"}
        if skip:  # beside the arc, outside the column
            ax.text(
                (x1 + x2) / 2 + 0.16 * outward,
                (y1 + y2) / 2,
                label,
                fontsize=7.5,
                color="#333",
                ha="right" if outward < 0 else "left",
                va="center",
                bbox=box,
            )
        else:
            ax.text(
                (x1 + x2) / 2,
                (y1 + y2) / 2,
                label,
                fontsize=7.5,
                color="#333",
                ha="center",
                va="center",
                bbox=box,
            )
    for state, (x, y) in position.items():
        tls12 = "12" in str(state.value)
        ax.text(
            x,
            y,
            str(state.value),
            ha="center",
            va="center",
            fontsize=8.5,
            family="monospace",
            bbox={
                "boxstyle": "round,pad=0.35",
                "facecolor": "#fde4c8" if tls12 else "#dbe9f6",
                "edgecolor": "#555",
            },
            zorder=3,
        )
        if state in loops:
            side = -1.0 if x < 0.5 else 1.0
            ax.text(
                x + 0.13 * side,
                y + (0.28 if x != 0.5 else -0.32),
                "stays on: " + ", ".join(loops[state]),
                fontsize=7,
                color="#555",
                ha="right" if side < 0 else "left",
                va="center",
                style="italic",
            )
    ax.plot([], [], "s", color="#dbe9f6", markeredgecolor="#555", label="TLS 1.3 (and shared)")
    ax.plot([], [], "s", color="#fde4c8", markeredgecolor="#555", label="TLS 1.2")
    ax.legend(loc="lower center", ncol=2, fontsize=8, frameon=False, bbox_to_anchor=(0.5, -0.06))
    ax.set_xlim(-0.6, 2.2)
    ax.set_ylim(0.3, depth + 0.8)
    ax.axis("off")
    ax.set_title(f"{role} handshake states (RFC 8446 Appendix A), drawn from the transition table")
    describe(
        ax,
        f"State machine of the {role}: "
        + "; ".join(
            f"{start.value} --{' / '.join(m)}--> {end.value}" for (start, end), m in grouped.items()
        ),
    )
    # What was drawn, as (from, message, to) triples: a test checks the picture equals the table.
    ax.drawn_edges = {(a, m, b) for (a, b), names in grouped.items() for m in names} | {
        (state, m, state) for state, names in loops.items() for m in names
    }
    return ax


def plot_interval_widths(widths: list[float], *, ax: Any = None) -> Any:
    """Bleichenbacher's attack: log2 of the interval that must contain the plaintext, step by step."""
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.2))
    ax.plot(range(len(widths)), widths, "o-", color="#e15759", markersize=3)
    ax.set_xlabel("attack step (each one needed some oracle queries)")
    ax.set_ylabel("log2(candidates left)")
    ax.set_ylim(bottom=0)
    ax.set_title("Every 'padding OK' answer narrows the interval, until one plaintext is left")
    start = widths[0] if widths else 0
    return describe(
        ax,
        f"Line plot of log2 of the candidates left in Bleichenbacher's attack over {len(widths)} "
        f"steps: from {start:.0f} bits down to {widths[-1] if widths else 0:.0f}, one plaintext.",
    )
