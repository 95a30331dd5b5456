"""ipywidgets labs, imported only by notebooks: each lab is one call in a notebook cell.

- :func:`client_hello_lab` (notebook 01): toggle versions, suites, groups, SNI and
  ALPN; the ClientHello's bytes, byte map and field-by-field explanation update live.
"""

from __future__ import annotations

import io
from typing import Any

import ipywidgets as W
import matplotlib

from .constants import CipherSuite, NamedGroup, ProtocolVersion
from .errors import TLSError
from .explain import explain
from .hello import DEFAULT_CIPHER_SUITES, DEFAULT_GROUPS, build_client_hello
from .rng import seeded_rng


class ClientHelloLab:
    """The notebook-01 lab. ``controls`` are the knobs; ``output`` shows the result."""

    def __init__(self, seed: int = 1) -> None:
        self.seed = seed
        self.controls: dict[str, Any] = {
            "versions": W.SelectMultiple(
                options=[("TLS 1.3", ProtocolVersion.TLS13), ("TLS 1.2", ProtocolVersion.TLS12)],
                value=(ProtocolVersion.TLS13, ProtocolVersion.TLS12),
                description="versions",
                rows=2,
            ),
            "cipher_suites": W.SelectMultiple(
                options=[(s.name, s) for s in DEFAULT_CIPHER_SUITES],
                value=tuple(DEFAULT_CIPHER_SUITES[:3]),
                description="suites",
                rows=6,
                layout=W.Layout(width="520px"),
            ),
            "groups": W.SelectMultiple(
                options=[
                    (g.name, g)
                    for g in (
                        NamedGroup.x25519,
                        NamedGroup.secp256r1,
                        NamedGroup.secp384r1,
                        NamedGroup.x448,
                    )
                ],
                value=tuple(DEFAULT_GROUPS),
                description="groups",
                rows=4,
            ),
            "server_name": W.Text(value="example.com", description="SNI"),
            "alpn": W.Text(value="h2,http/1.1", description="ALPN"),
        }
        self.summary = W.HTML()
        self.output = W.HTML()
        for control in self.controls.values():
            control.observe(self._update, names="value")
        self.widget = W.VBox(
            [
                W.HBox([self.controls["versions"], self.controls["groups"]]),
                self.controls["cipher_suites"],
                W.HBox([self.controls["server_name"], self.controls["alpn"]]),
                self.summary,
                self.output,
            ]
        )
        self.hello_bytes = b""
        self._update()

    def build(self) -> bytes:
        """The ClientHello bytes for the current knob settings."""
        c = self.controls
        alpn = [p.strip() for p in c["alpn"].value.split(",") if p.strip()]
        hello = build_client_hello(
            c["server_name"].value.strip() or None,
            versions=list(c["versions"].value),
            cipher_suites=list(c["cipher_suites"].value),
            groups=list(c["groups"].value),
            alpn=alpn,
            rng=seeded_rng(self.seed),
        )
        return hello.encode()

    def _update(self, *_: Any) -> None:
        try:
            self.hello_bytes = self.build()
        except (TLSError, ValueError, UnicodeEncodeError) as exc:
            self.summary.value = f"<b style='color:#b00'>Cannot build this ClientHello: {exc}</b>"
            self.output.value = ""
            return
        exp = explain(self.hello_bytes)
        self.summary.value = (
            f"<b>{len(self.hello_bytes)} bytes</b> &middot; "
            f"<code style='font-size:0.8em'>{self.hello_bytes[:48].hex(' ')} ...</code>"
            f"<br>{_byte_map_svg(self.hello_bytes)}"
        )
        self.output.value = exp._repr_html_()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def _byte_map_svg(data: bytes) -> str:
    from .viz import plot_byte_map

    with matplotlib.rc_context({"svg.fonttype": "none"}):
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(11, 1.8))
        plot_byte_map(data, ax=ax)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", bbox_inches="tight")
        plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.find("<svg") :]


def client_hello_lab(seed: int = 1) -> ClientHelloLab:
    """Notebook 01's lab: turn the client's knobs and watch the ClientHello change."""
    return ClientHelloLab(seed)


__all__ = ["ClientHelloLab", "client_hello_lab", "CipherSuite"]
