"""Alt text for every figure the course draws, in JupyterLab and in the static HTML export.

Each ``plot_*`` function of :mod:`tlslab.lab` describes its figure in words and stores that text
as the figure's label (``figure.set_label``). JupyterLab's image renderer draws an ``image/png``
output as a bare ``<img>``: it reads ``width``, ``height``, ``needs_background`` and
``unconfined`` from the output metadata, never an ``alt``. Both JupyterLab and nbconvert's HTML
export prefer ``text/html`` over ``image/png`` when an output has both, so :func:`register_alt_text`
adds an IPython ``text/html`` formatter for matplotlib figures that emits
``<img src="data:image/png;base64,..." alt="...">``: the same picture, with its words. The
``image/png`` output stays in the bundle for every other reader, rendered once for both and
carrying ``{"alt": ...}`` in its metadata. Notebook figures need no extra
call: every ``plot_*`` function registers the formatter when it describes its figure.
"""

from __future__ import annotations

import base64
import html
import sys
from typing import Any


def figure_alt_text(figure: Any) -> str:
    """The alt text of a matplotlib figure: its label, set by the ``plot_*`` function that drew it
    (empty if nobody described it)."""
    return str(figure.get_label() or "")


def describe(ax: Any, text: str) -> Any:
    """Store ``text`` as the alt text of ``ax``'s figure and return ``ax`` (for ``plot_*``
    functions: ``return describe(ax, "...")``). Inside a kernel this also (re)registers the
    HTML formatter: activating the inline backend, which happens at the first figure, clears
    every formatter registered for figures, so registering at import time is not enough."""
    ax.figure.set_label(text)
    register_alt_text()
    return ax


def _render_png(figure: Any) -> bytes:
    """The figure as PNG bytes, exactly as the inline backend renders it (``bbox_inches="tight"``)."""
    from IPython.core.pylabtools import print_figure

    png = print_figure(figure, "png", bbox_inches="tight")  # type: ignore[no-untyped-call]
    return bytes(png or b"")


def figure_html(figure: Any) -> str | None:
    """``<img>`` with the figure as an inline PNG and its alt text, or ``None`` for a figure
    without alt text (then only the plain ``image/png`` output is shown). The PNG is kept on the
    figure for :func:`figure_png`, which IPython calls next for the same output: one rendering
    serves both."""
    alt = figure_alt_text(figure)
    if not alt:
        return None
    png = _render_png(figure)
    if not png:  # an empty figure draws nothing
        return None
    figure._tlslab_png = png
    encoded = base64.b64encode(png).decode("ascii")
    return (
        f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(alt, quote=True)}" '
        'style="max-width:100%">'
    )


def figure_png(figure: Any) -> tuple[bytes, dict[str, str]] | bytes | None:
    """The ``image/png`` of a figure, with ``{"alt": ...}`` as its output metadata when it has
    alt text (nbconvert's HTML template reads it; JupyterLab does not, hence the HTML twin)."""
    png = getattr(figure, "_tlslab_png", None)
    if png is not None:
        del figure._tlslab_png
    else:
        png = _render_png(figure)
    if not png:
        return None
    alt = figure_alt_text(figure)
    return (png, {"alt": alt}) if alt else png


def register_alt_text(shell: Any = None) -> bool:
    """Register :func:`figure_html` and :func:`figure_png` as the ``text/html`` and
    ``image/png`` formatters of matplotlib figures in the running IPython kernel (or ``shell``).
    Returns False outside IPython. Idempotent."""
    if shell is None:
        ipython = sys.modules.get("IPython")  # a kernel has imported it; a script need not
        shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return False
    from matplotlib.figure import Figure

    formatters = shell.display_formatter.formatters
    formatters["text/html"].for_type(Figure, figure_html)
    formatters["image/png"].for_type(Figure, figure_png)
    return True
