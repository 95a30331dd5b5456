"""Pictures for notebooks 11-14 (matplotlib; imported only by notebooks).

- :func:`plot_ladders`: several handshakes side by side (full vs resumed, with and without a
  client certificate), each drawn from its trace by :func:`tlslab.lab.viz.plot_ladder`.
- :func:`plot_zero_rtt_replay`: why 0-RTT data can be replayed (RFC 8446 §8).
- :func:`plot_aead_limits`: how the AES-GCM security bound grows with the records sent under one
  key, and where RFC 8446 §5.5 says to stop (KeyUpdate).
- :func:`plot_observer_view`: what an on-path observer learns with TLS 1.2, TLS 1.3 and ECH.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from .alt_text import describe
from .viz import ladder_alt_text, ladder_arrows, plot_ladder


def plot_ladders(traces: Sequence[Any], titles: Sequence[str]) -> Any:
    """One ladder per trace, side by side, same vertical scale so lengths compare."""
    longest = max(len(t.messages()) for t in traces)
    fig, axes = plt.subplots(1, len(traces), figsize=(6 * len(traces), 0.42 * longest + 1.6))
    for ax, trace, title in zip(axes, traces, titles, strict=True):
        plot_ladder(trace, ax=ax, title=title)
        count = len(trace.messages())
        ax.set_ylim(count - longest, count + 1.3)  # top-aligned: first messages side by side
    fig.tight_layout()
    describe(
        axes[0],
        " ".join(
            f"Panel {i} ({title}): {ladder_alt_text(ladder_arrows(trace))}"
            for i, (trace, title) in enumerate(zip(traces, titles, strict=True), 1)
        ),
    )
    return axes


def _arrow(ax: Any, x0: float, x1: float, y: float, text: str, colour: str) -> None:
    ax.annotate(
        "", xy=(x1, y), xytext=(x0, y), arrowprops={"arrowstyle": "->", "color": colour, "lw": 1.6}
    )
    ax.text((x0 + x1) / 2, y + 0.12, text, ha="center", va="bottom", fontsize=8, color=colour)


def plot_zero_rtt_replay(*, ax: Any = None) -> Any:
    """The 0-RTT replay: early data rides in the first flight, keyed only by the PSK, so a copy of
    that flight is accepted again unless the server keeps anti-replay state (RFC 8446 §8)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 4.6))
    client, attacker, server = 0.0, 1.6, 3.2
    for x, label in ((client, "client"), (attacker, "attacker on the path"), (server, "server")):
        ax.plot([x, x], [2.2, 6.6], color="#555", lw=1)
        ax.text(x, 6.8, label, ha="center", fontsize=10, weight="bold")
    _arrow(
        ax,
        client,
        attacker,
        6.0,
        'ClientHello + PSK binder\n+ early data "POST /pay 100"',
        "#4e79a7",
    )
    _arrow(ax, attacker, server, 5.2, "forwarded, and copied", "#4e79a7")
    _arrow(ax, server, client, 4.4, "ServerHello ... Finished    (payment 1 runs)", "#59a14f")
    _arrow(
        ax,
        attacker,
        server,
        3.2,
        "the same bytes again, later\nor to another server instance",
        "#e15759",
    )
    ax.text(
        server + 0.1,
        3.2,
        "binder verifies: same PSK, same bytes\nearly data decrypts: same keys\n-> payment 2 runs too, unless the\n   server remembers this ClientHello\n   or allows the ticket only once",
        fontsize=8,
        color="#e15759",
        va="center",
    )
    ax.text(
        attacker,
        1.9,
        "The attacker cannot finish the replayed handshake (it lacks the client's key-share secret),\nbut it does not need to: the server acts on early data before any Finished arrives.",
        fontsize=8.5,
        color="#333",
        va="top",
        ha="center",
    )
    ax.set_xlim(-0.3, 4.9)
    ax.set_ylim(1.0, 7.2)
    ax.axis("off")
    ax.set_title("0-RTT early data can be replayed (RFC 8446 §8)")
    return describe(
        ax,
        "Three lifelines: client, attacker on the path, server. The client sends ClientHello with "
        "a PSK binder and early data 'POST /pay 100'; the attacker forwards and copies it; the "
        "server answers and payment 1 runs. Later the attacker sends the same bytes again: the "
        "binder verifies and the early data decrypts, so payment 2 runs too, unless the server "
        "remembers the ClientHello or accepts the ticket only once.",
    )


def aes_gcm_confidentiality_bound(records: float, record_bytes: int = 2**14) -> float:
    """log2 of the AES-GCM confidentiality advantage bound ((s + q + 1)^2 / 2^129, with s the
    16-byte blocks encrypted and q the records) for ``records`` full-size records under one key:
    the dominant term of the CFRG AEAD usage-limits analysis (draft-irtf-cfrg-aead-limits)."""
    blocks = records * math.ceil(record_bytes / 16)
    return 2 * math.log2(blocks + records + 1) - 129


def plot_aead_limits(*, ax: Any = None) -> Any:
    """The AES-GCM bound against the number of records sent under one traffic key."""
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4))
    exponents = [e / 4 for e in range(10 * 4, 58 * 4 + 1)]
    ax.plot(
        exponents,
        [aes_gcm_confidentiality_bound(2**e) for e in exponents],
        color="#4e79a7",
        label="AES-GCM, full 16 KiB records",
    )
    ax.axvline(
        24.5, color="#e15759", linestyle="--", label="RFC 8446 §5.5: 2^24.5 records, then KeyUpdate"
    )
    ax.axhline(
        -57, color="#f28e2b", linestyle=":", label="safety margin 2^-57 quoted by RFC 8446 §5.5"
    )
    ax.axhline(-1, color="#555", linestyle="-", lw=0.8)
    ax.text(27, 0.5, "an attacker's advantage near 1: no security left", fontsize=8, va="bottom")
    ax.set_xlabel("log2(records sent under one key)")
    ax.set_ylabel("log2(attacker's advantage bound)")
    ax.set_title("The more records under one AES-GCM key, the larger an attacker's advantage")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_ylim(-90, 5)
    at_limit = aes_gcm_confidentiality_bound(2**24.5)
    return describe(
        ax,
        "Line plot of log2 of the AES-GCM attacker-advantage bound against log2 of the full-size "
        f"records sent under one key, 2^10 to 2^58: it rises steadily, is {at_limit:.0f} at the "
        "RFC 8446 §5.5 limit of 2^24.5 records (dashed line, where KeyUpdate is due) and "
        "reaches about 1, no security, near 2^55 records.",
    )


# What an on-path observer learns: (item, TLS 1.2, TLS 1.3, TLS 1.3 + ECH); True = visible,
# None = does not apply.
OBSERVER_VIEW: list[tuple[str, bool | None, bool | None, bool | None]] = [
    ("server IP address", True, True, True),
    ("DNS query (without DoH/DoT)", True, True, True),
    ("record sizes and timing", True, True, True),
    ("that ECH is in use", None, None, True),
    ("outer SNI: the provider's public_name", None, None, True),
    ("real SNI: the site you want", True, True, False),
    ("ALPN offered by the client", True, True, False),
    ("server certificate chain", True, False, False),
    ("HTTP request and response", False, False, False),
]


def plot_observer_view(*, ax: Any = None) -> Any:
    """A grid: rows are what might leak, columns are TLS 1.2, TLS 1.3 and TLS 1.3 with ECH."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8.5, 4.6))
    columns = ["TLS 1.2", "TLS 1.3", "TLS 1.3 + ECH"]
    for row, (item, *seen) in enumerate(OBSERVER_VIEW):
        y = len(OBSERVER_VIEW) - 1 - row
        ax.text(-0.1, y, item, ha="right", va="center", fontsize=9)
        for col, visible in enumerate(seen):
            colour = {True: "#e15759", False: "#59a14f", None: "#bab0ac"}[visible]
            word = {True: "visible", False: "hidden", None: "n/a"}[visible]
            ax.add_patch(Rectangle((col, y - 0.4), 0.95, 0.8, color=colour))
            ax.text(col + 0.475, y, word, ha="center", va="center", fontsize=8, color="white")
    for col, name in enumerate(columns):
        ax.text(
            col + 0.475,
            len(OBSERVER_VIEW) - 0.3,
            name,
            ha="center",
            va="bottom",
            fontsize=10,
            weight="bold",
        )
    ax.set_xlim(-3.2, 3)
    ax.set_ylim(-0.6, len(OBSERVER_VIEW) + 0.3)
    ax.axis("off")
    ax.set_title("What a passive observer on the path learns")
    words = {True: "visible", False: "hidden", None: "not applicable"}
    rows = "; ".join(
        f"{item}: " + ", ".join(f"{c} {words[v]}" for c, v in zip(columns, seen, strict=True))
        for item, *seen in OBSERVER_VIEW
    )
    return describe(ax, f"What a passive observer learns, by protocol. {rows}.")
