"""Pictures (matplotlib), imported only by notebooks: ``import tlslab`` never loads matplotlib.

- :func:`plot_byte_map`: a message's bytes as a strip, one coloured span per field,
  so a learner sees where the bytes go before reading the table.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from .explain import Explanation, explain

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
    ax.set_xlim(0, total)
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.set_xlabel("byte offset")
    ax.set_title(title or f"{len(exp.data)} bytes, one colour per field")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    return ax


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
