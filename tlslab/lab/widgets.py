"""ipywidgets labs, imported only by notebooks: each lab is one call in a notebook cell.

- :func:`client_hello_lab` (notebook 01): toggle versions, suites, groups, SNI and
  ALPN; the ClientHello's bytes, byte map and field-by-field explanation update live.
- :func:`key_derivation_lab` (notebook 05): change one input (a random, the shared
  secret, the suite) and see which downstream values change.
- :func:`finished_lab` (notebook 06): flip one byte of the transcript and watch verify_data.
- :func:`record_lab` (notebook 07): seal a record; change the sequence number, padding or a
  ciphertext byte and see what opening it does.
"""

from __future__ import annotations

import html
import io
from typing import Any

import ipywidgets as W
import traitlets

from ..constants import CipherSuite, NamedGroup, ProtocolVersion
from ..errors import TLSError
from ..rng import seeded_rng
from ..stages.hello import DEFAULT_CIPHER_SUITES, DEFAULT_GROUPS, build_client_hello
from ..wire.explain import explain


class CheckboxGroup(W.VBox):  # type: ignore[misc]
    """A multiple choice as one checkbox per option (no Ctrl-click as with a multi-select).

    ``value`` is the tuple of checked options, in option order; set it from Python and the boxes
    follow, tick a box and ``value`` follows (observe it like any widget value)."""

    value = traitlets.Tuple()

    def __init__(
        self, options: list[tuple[str, Any]], value: tuple[Any, ...], description: str
    ) -> None:
        self._syncing = False
        self._boxes = [
            (
                option,
                W.Checkbox(
                    value=option in value,
                    description=label,
                    indent=False,
                    layout=W.Layout(width="auto", margin="0 0 0 1em"),
                ),
            )
            for label, option in options
        ]
        super().__init__(
            [W.HTML(f"<b>{description}</b>"), *(box for _, box in self._boxes)],
            layout=W.Layout(margin="0 1.5em 0.5em 0"),
        )
        self.description = description
        self.options = [option for _, option in options]
        self.value = tuple(option for option, _ in self._boxes if option in value)
        for _, box in self._boxes:
            box.observe(self._box_changed, names="value")
        self.observe(self._sync_boxes, names="value")

    def _box_changed(self, _: Any) -> None:
        if not self._syncing:
            self.value = tuple(option for option, box in self._boxes if box.value)

    def _sync_boxes(self, change: Any) -> None:
        self._syncing = True
        try:
            for option, box in self._boxes:
                box.value = option in change["new"]
        finally:
            self._syncing = False


class ClientHelloLab:
    """The notebook-01 lab. ``controls`` are the knobs; ``output`` shows the result."""

    def __init__(self, seed: int = 1) -> None:
        self.seed = seed
        self.controls: dict[str, Any] = {
            "versions": CheckboxGroup(
                [("TLS 1.3", ProtocolVersion.TLS13), ("TLS 1.2", ProtocolVersion.TLS12)],
                (ProtocolVersion.TLS13, ProtocolVersion.TLS12),
                "versions",
            ),
            "cipher_suites": CheckboxGroup(
                [(s.name, s) for s in DEFAULT_CIPHER_SUITES],
                tuple(DEFAULT_CIPHER_SUITES[:3]),
                "cipher suites",
            ),
            "groups": CheckboxGroup(
                [
                    (g.name, g)
                    for g in (
                        NamedGroup.X25519MLKEM768,
                        NamedGroup.x25519,
                        NamedGroup.secp256r1,
                        NamedGroup.secp384r1,
                        NamedGroup.x448,
                    )
                ],
                tuple(DEFAULT_GROUPS),
                "groups",
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
                W.HBox(
                    [
                        self.controls["versions"],
                        self.controls["groups"],
                        self.controls["cipher_suites"],
                    ]
                ),
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
    """The byte map as an inline PNG with alt text. (An SVG with live text drifted out of its
    boxes inside JupyterLab, whose fonts differ from matplotlib's metrics.)"""
    import base64

    import matplotlib.pyplot as plt

    from .viz import byte_map_alt_text, plot_byte_map

    fig, ax = plt.subplots(figsize=(11, 2.0))
    plot_byte_map(data, ax=ax)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    plt.close(fig)
    alt = byte_map_alt_text(data)
    encoded = base64.b64encode(buf.getvalue()).decode("ascii")
    return (
        f"<img src='data:image/png;base64,{encoded}' alt='{html.escape(alt, quote=True)}' "
        "style='max-width:100%'>"
    )


def client_hello_lab(seed: int = 1) -> ClientHelloLab:
    """Notebook 01's lab: turn the client's knobs and watch the ClientHello change."""
    return ClientHelloLab(seed)


def _table(rows: list[tuple[str, str, bool]]) -> str:
    """An HTML table of (name, value, changed) rows; changed rows are highlighted."""
    cells = "".join(
        f"<tr style='background:{'#fff3cd' if changed else 'transparent'}'>"
        f"<td style='text-align:left'><code>{name}</code></td>"
        f"<td style='text-align:left;font-family:monospace'>{value}</td>"
        f"<td>{'changed' if changed else ''}</td></tr>"
        for name, value, changed in rows
    )
    return f"<table><tr><th>value</th><th>bytes (hex)</th><th></th></tr>{cells}</table>"


class KeyDerivationLab:
    """Notebook 05: one set of inputs feeding both the TLS 1.2 and the TLS 1.3 derivations."""

    def __init__(self) -> None:
        from ..constants import CipherSuite as CS

        suites12 = [
            CS.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            CS.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            CS.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            CS.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
        ]
        suites13 = [
            CS.TLS_AES_128_GCM_SHA256,
            CS.TLS_AES_256_GCM_SHA384,
            CS.TLS_CHACHA20_POLY1305_SHA256,
        ]
        self.controls: dict[str, Any] = {
            "client_random": W.IntSlider(value=1, min=0, max=20, description="client_random seed"),
            "server_random": W.IntSlider(value=2, min=0, max=20, description="server_random seed"),
            "shared_secret": W.IntSlider(value=3, min=0, max=20, description="ECDHE seed"),
            "suite12": W.Dropdown(
                options=[(s.name, s) for s in suites12],
                description="TLS 1.2 suite",
                layout=W.Layout(width="520px"),
            ),
            "suite13": W.Dropdown(
                options=[(s.name, s) for s in suites13],
                description="TLS 1.3 suite",
                layout=W.Layout(width="520px"),
            ),
        }
        style = {"description_width": "140px"}
        for control in self.controls.values():
            control.style = style
            control.observe(self._update, names="value")
        self.output = W.HTML()
        self.values: dict[str, bytes] = {}
        self.changed: list[str] = []
        self.widget = W.VBox([*self.controls.values(), self.output])
        self._update()

    def compute(self) -> dict[str, bytes]:
        """Every derived value for the current inputs, in derivation order."""
        from ..stages import keyschedule as ks
        from ..stages.keyexchange import generate_key_share
        from ..stages.suites import suite_info
        from ..wire.messages import ServerHello

        c = self.controls
        client_random = seeded_rng(f"client_random {c['client_random'].value}")(32)
        server_random = seeded_rng(f"server_random {c['server_random'].value}")(32)
        client_key = generate_key_share(
            NamedGroup.x25519, seeded_rng(f"client key {c['shared_secret'].value}")
        )
        server_key = generate_key_share(NamedGroup.x25519, seeded_rng("server key"))
        shared = client_key.exchange(server_key.public)
        s12, s13 = suite_info(c["suite12"].value), suite_info(c["suite13"].value)
        master = ks.master_secret(shared, client_random, server_random, s12.hash_name)
        block = ks.key_block(master, client_random, server_random, s12)
        hello = build_client_hello(
            "example.com", random=client_random, rng=seeded_rng(0), key_shares=[client_key]
        ).encode()
        server_hello = ServerHello(server_random, s13.suite).encode()
        hello_hash = ks.digest(s13.hash_name, hello + server_hello)
        early = ks.early_secret(None, s13.hash_name)
        hs = ks.handshake_secret(early, shared, s13.hash_name)
        chts = ks.derive_secret(hs, "c hs traffic", hello_hash, s13.hash_name)
        keys13 = ks.traffic_keys(chts, s13)
        values = {
            "client_random": client_random,
            "server_random": server_random,
            "ECDHE shared secret": shared,
            "1.2 pre_master_secret": shared,
            "1.2 master_secret": master,
            "1.2 client_write_key": block.client_write_key,
            "1.2 client_write_IV": block.client_write_IV,
            "1.2 server_write_key": block.server_write_key,
            "1.3 early_secret": early,
            "1.3 handshake_secret": hs,
            "1.3 client_handshake_traffic_secret": chts,
            "1.3 client handshake write key": keys13.key,
            "1.3 client handshake write iv": keys13.iv,
            "1.3 master_secret": ks.master_secret_13(hs, s13.hash_name),
        }
        return values

    def _update(self, *_: Any) -> None:
        new = self.compute()
        self.changed = [k for k, v in new.items() if self.values and self.values.get(k) != v]
        self.values = new
        rows = [
            (k, (v[:24].hex() + ("…" if len(v) > 24 else "")) or "(empty)", k in self.changed)
            for k, v in new.items()
        ]
        self.output.value = _table(rows)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def key_derivation_lab() -> KeyDerivationLab:
    """Notebook 05's lab: change one input and see every downstream value that changes."""
    return KeyDerivationLab()


class FinishedLab:
    """Notebook 06: flip one byte of the RFC 8448 transcript and recompute the server's verify_data."""

    def __init__(self) -> None:
        from ..vectors import rfc8448

        v = rfc8448()
        names = [
            "client_hello",
            "server_hello",
            "encrypted_extensions",
            "certificate",
            "certificate_verify",
        ]
        self.messages = {n: bytes.fromhex(v["handshake_messages"][n]) for n in names}
        self.key = bytes.fromhex(v["secrets"]["server_handshake_traffic_secret"])
        self.expected = bytes.fromhex(v["finished"]["server_verify_data"])
        self.controls: dict[str, Any] = {
            "message": W.Dropdown(options=names, description="message"),
            "offset": W.IntSlider(
                value=0, min=0, max=len(self.messages[names[0]]) - 1, description="byte offset"
            ),
            "flip": W.Checkbox(value=False, description="flip this byte (XOR 0x01)"),
        }
        self.controls["message"].observe(self._message_changed, names="value")
        for control in self.controls.values():
            control.observe(self._update, names="value")
        self.output = W.HTML()
        self.widget = W.VBox([*self.controls.values(), self.output])
        self._update()

    def _message_changed(self, change: Any) -> None:
        self.controls["offset"].max = len(self.messages[change["new"]]) - 1

    def verify_data(self) -> bytes:
        from ..stages.keyschedule import digest, verify_data_13

        c = self.controls
        parts = []
        for name, message in self.messages.items():
            if c["flip"].value and name == c["message"].value:
                changed = bytearray(message)
                changed[c["offset"].value] ^= 0x01
                message = bytes(changed)
            parts.append(message)
        return verify_data_13(self.key, digest("sha256", b"".join(parts)))

    def _update(self, *_: Any) -> None:
        from ..errors import DecryptError
        from ..stages.finished import check_verify_data

        got = self.verify_data()
        try:
            check_verify_data(self.expected, got, who="server")
            verdict = "<b style='color:#1a7f37'>check_verify_data: match, handshake accepted</b>"
        except DecryptError as exc:
            verdict = f"<b style='color:#b00'>{exc}</b>"
        bits = sum(bin(a ^ b).count("1") for a, b in zip(got, self.expected, strict=True))
        self.output.value = (
            f"<p>expected verify_data <code>{self.expected.hex()}</code><br>"
            f"computed verify_data <code>{got.hex()}</code><br>{bits} of {len(got) * 8} bits differ</p>{verdict}"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def finished_lab() -> FinishedLab:
    """Notebook 06's lab: tamper with one transcript byte and watch the Finished check."""
    return FinishedLab()


class RecordLab:
    """Notebook 07: seal a TLS 1.3 record, then open it with a chosen sequence number or a flipped byte."""

    def __init__(self) -> None:
        self.controls: dict[str, Any] = {
            "text": W.Text(value="hello, TLS", description="plaintext"),
            "padding": W.IntSlider(value=0, min=0, max=32, description="padding"),
            "send_seq": W.IntSlider(value=0, min=0, max=5, description="sender seq"),
            "recv_seq": W.IntSlider(value=0, min=0, max=5, description="receiver seq"),
            "flip": W.IntSlider(value=-1, min=-1, max=60, description="flip byte (-1: none)"),
        }
        self._clamping = False
        for control in self.controls.values():
            control.observe(self._update, names="value")
        self.output = W.HTML()
        self.widget = W.VBox([*self.controls.values(), self.output])
        self._update()

    def _update(self, *_: Any) -> None:
        if self._clamping:
            return
        from ..constants import ContentType
        from ..stages.keyschedule import traffic_keys
        from ..stages.protection import RecordProtection13, xor_nonce
        from ..stages.suites import suite_info
        from ..wire.record import TLSPlaintext

        suite = suite_info(CipherSuite.TLS_AES_128_GCM_SHA256)
        keys = traffic_keys(bytes(range(32)), suite)
        c = self.controls
        sender = RecordProtection13(suite, keys)
        sender.seq = c["send_seq"].value
        record = sender.seal(
            ContentType.application_data, c["text"].value.encode(), c["padding"].value
        )
        raw = bytearray(record.encode())
        if c["flip"].max != len(raw) - 1:  # the flip offset stays inside this record
            self._clamping = True
            try:
                c["flip"].max = len(raw) - 1  # also clamps the value
            finally:
                self._clamping = False
        flip = c["flip"].value
        if 0 <= flip < len(raw):
            raw[flip] ^= 0x01
        receiver = RecordProtection13(suite, keys)
        receiver.seq = c["recv_seq"].value
        try:
            content_type, content = receiver.open(TLSPlaintext.decode(bytes(raw)))
            verdict = f"<b style='color:#1a7f37'>opened: type {content_type}, {content!r}</b>"
        except TLSError as exc:
            verdict = f"<b style='color:#b00'>{exc}</b>"
        where = (
            "none"
            if flip < 0
            else "the record header (part of the additional data)"
            if flip < 5
            else "the ciphertext"
            if flip < len(raw) - 16
            else "the tag"
        )
        self.output.value = (
            f"<p>nonce (sender, seq {c['send_seq'].value}) "
            f"<code>{xor_nonce(keys.iv, c['send_seq'].value).hex()}</code><br>"
            f"nonce (receiver, seq {c['recv_seq'].value}) "
            f"<code>{xor_nonce(keys.iv, c['recv_seq'].value).hex()}</code><br>"
            f"flipped byte: {flip if flip >= 0 else '-'} ({where})<br>"
            f"record ({len(raw)} bytes) <code>{bytes(raw).hex(' ')}</code></p>{verdict}"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def record_lab() -> RecordLab:
    """Notebook 07's lab: nonces, padding, replay and tampering on one record."""
    return RecordLab()


class NegotiationLab:
    """Notebook 02: set both sides' preferences; see the server's choice, a HelloRetryRequest, or the alert."""

    def __init__(self) -> None:
        from ..constants import CipherSuite as CS

        suites = [
            CS.TLS_AES_128_GCM_SHA256,
            CS.TLS_AES_256_GCM_SHA384,
            CS.TLS_CHACHA20_POLY1305_SHA256,
            CS.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            CS.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        ]
        groups = [
            NamedGroup.x25519,
            NamedGroup.secp256r1,
            NamedGroup.secp384r1,
            NamedGroup.ffdhe2048,
        ]
        versions = [("TLS 1.3", ProtocolVersion.TLS13), ("TLS 1.2", ProtocolVersion.TLS12)]

        def multi(options: list[Any], value: tuple[Any, ...], label: str) -> Any:
            return CheckboxGroup(options, value, label)

        suite_options = [(s.name, s) for s in suites]
        group_options = [(g.name, g) for g in groups]
        self.controls: dict[str, Any] = {
            "client_versions": multi(
                versions, (ProtocolVersion.TLS13, ProtocolVersion.TLS12), "versions"
            ),
            "client_suites": multi(suite_options, tuple(suites), "suites"),
            "client_groups": multi(group_options, tuple(groups[:3]), "groups"),
            "client_shares": multi(group_options, (NamedGroup.x25519,), "key shares"),
            "server_versions": multi(
                versions, (ProtocolVersion.TLS13, ProtocolVersion.TLS12), "versions"
            ),
            "server_suites": multi(suite_options, tuple(suites), "suites"),
            "server_groups": multi(group_options, tuple(groups[:3]), "groups"),
            "server_order": W.Checkbox(value=True, description="server prefers its own order"),
        }
        for control in self.controls.values():
            control.observe(self._update, names="value")
        self.output = W.HTML()
        c = self.controls
        client = W.VBox(
            [
                W.HTML("<b>Client</b>"),
                c["client_versions"],
                c["client_suites"],
                c["client_groups"],
                c["client_shares"],
            ]
        )
        server = W.VBox(
            [
                W.HTML("<b>Server</b>"),
                c["server_versions"],
                c["server_suites"],
                c["server_groups"],
                c["server_order"],
            ]
        )
        self.widget = W.VBox([W.HBox([client, server]), self.output])
        self.outcome = ""
        self._update()

    def _update(self, *_: Any) -> None:
        from ..stages.negotiation import ServerConfig, negotiate

        c = self.controls
        try:
            shares = [g for g in c["client_shares"].value if g in c["client_groups"].value]
            hello = build_client_hello(
                "lab.example",
                versions=list(c["client_versions"].value),
                cipher_suites=list(c["client_suites"].value),
                groups=list(c["client_groups"].value),
                key_share_groups=shares,
                rng=seeded_rng("negotiation lab"),
            )
            config = ServerConfig(
                versions=tuple(c["server_versions"].value),
                cipher_suites=tuple(c["server_suites"].value),
                groups=tuple(c["server_groups"].value),
                prefer_server_order=c["server_order"].value,
            )
            decision = negotiate(hello, config)
        except TLSError as exc:
            self.outcome = f"alert: {exc}"
            self.output.value = (
                f"<p style='color:#b00'><b>The server aborts with an alert</b><br>{exc}</p>"
            )
            return
        except (ValueError, IndexError) as exc:
            self.outcome = f"cannot build: {exc}"
            self.output.value = f"<p style='color:#b00'>Cannot build this ClientHello: {exc}</p>"
            return
        self.outcome = str(decision).splitlines()[0]
        items = "".join(f"<li>{r}</li>" for r in decision.reasons)
        extra = (
            "<p style='color:#b35900'><b>HelloRetryRequest:</b> one extra round trip before the handshake "
            "can continue.</p>"
            if decision.hello_retry_request
            else ""
        )
        self.output.value = f"<p><b>{self.outcome}</b></p><ul>{items}</ul>{extra}"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def negotiation_lab() -> NegotiationLab:
    """Notebook 02's lab: both sides' preferences in, the server's decision (or alert) out."""
    return NegotiationLab()


class ChainLab:
    """Notebook 03: edit the chain (dates, names, CA flags, key usage) and re-run validation."""

    def __init__(self) -> None:
        style = {"description_width": "190px"}
        wide = W.Layout(width="600px")  # room for the slider itself after the 190px label
        self.controls: dict[str, Any] = {
            "server_name": W.Text(
                value="lab.example", description="server name (SNI)", style=style, layout=wide
            ),
            "leaf_san": W.Text(
                value="lab.example",
                description="leaf SANs (comma-separated)",
                style=style,
                layout=wide,
            ),
            "leaf_from": W.IntSlider(
                value=-1,
                min=-800,
                max=30,
                description="leaf valid from (days)",
                style=style,
                layout=wide,
            ),
            "leaf_days": W.IntSlider(
                value=365,
                min=1,
                max=825,
                description="leaf valid for (days)",
                style=style,
                layout=wide,
            ),
            "leaf_eku": W.Dropdown(
                options=["serverAuth", "clientAuth"], description="leaf EKU", style=style
            ),
            "intermediate_ca": W.Checkbox(value=True, description="intermediate has cA=TRUE"),
            "intermediate_cert_sign": W.Checkbox(
                value=True, description="intermediate keyUsage keyCertSign"
            ),
            "root_path_length": W.Dropdown(
                options=[("none", None), ("0", 0), ("1", 1)],
                description="root pathLen",
                style=style,
            ),
            "corrupt": W.Checkbox(value=False, description="flip a bit of the leaf's signature"),
            "send_intermediate": W.Checkbox(
                value=True, description="server sends the intermediate"
            ),
        }
        for control in self.controls.values():
            control.observe(self._update, names="value")
        self.summary = W.HTML()
        self.output = W.HTML()
        self.widget = W.VBox([*self.controls.values(), self.summary, self.output])
        self.report: Any = None
        self._update()

    def _update(self, *_: Any) -> None:
        from ..pki.certificates import LAB_NOW, build_chain
        from ..pki.validation import validate_chain

        c = self.controls
        sans = [n.strip() for n in c["leaf_san"].value.split(",") if n.strip()]
        hostname = sans[0] if sans else "lab.example"
        try:
            chain = build_chain(
                hostname,
                seed="chain lab",
                root_options={"path_length": c["root_path_length"].value},
                intermediate_options={
                    "ca": c["intermediate_ca"].value,
                    "key_usage": ["key_cert_sign", "crl_sign"]
                    if c["intermediate_cert_sign"].value
                    else ["digital_signature"],
                },
                leaf_options={
                    "san": sans,
                    "valid_from_days": c["leaf_from"].value,
                    "valid_for_days": c["leaf_days"].value,
                    "extended_key_usage": [c["leaf_eku"].value],
                    "corrupt_signature": c["corrupt"].value,
                },
            )
        except (ValueError, TypeError) as exc:
            self.summary.value = f"<b style='color:#b00'>Cannot build this chain: {exc}</b>"
            return
        intermediates = chain.intermediate_certificates if c["send_intermediate"].value else []
        self.report = validate_chain(
            chain.leaf.certificate,
            intermediates,
            chain.trust_roots,
            c["server_name"].value.strip() or "lab.example",
            LAB_NOW,
        )
        failure = self.report.failure
        verdict = (
            "<b style='color:#1a7f37'>VALID</b>"
            if self.report.valid
            else f"<b style='color:#b00'>INVALID</b>: {failure.check} ({failure.detail})"
            if failure
            else "INVALID"
        )
        production = "VALID" if self.report.production_verdict else "INVALID"
        self.summary.value = (
            f"<p>tlslab: {verdict}<br>cryptography.x509.verification: <b>{production}</b></p>"
        )
        self.output.value = self.report._repr_html_()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def chain_lab() -> ChainLab:
    """Notebook 03's lab: break the chain one knob at a time and watch which check fails."""
    return ChainLab()


class OracleProgress:
    """A progress bar for the padding-oracle lab (notebook 09): bits of the plaintext still unknown."""

    def __init__(self, total_bits: float) -> None:
        self.bar = W.FloatProgress(
            value=0.0,
            min=0.0,
            max=total_bits,
            description="bits known",
            bar_style="info",
            layout=W.Layout(width="520px"),
        )
        self.label = W.HTML()
        self.widget = W.HBox([self.bar, self.label])
        self.total = total_bits

    def __call__(self, queries: int, log2_width: float) -> None:
        self.bar.value = max(0.0, self.total - log2_width)
        self.label.value = f"{queries} oracle queries, {log2_width:.0f} bits unknown"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def oracle_progress(total_bits: float) -> OracleProgress:
    """Notebook 09: display this, then pass it as ``progress=`` to ``attacks.bleichenbacher``."""
    return OracleProgress(total_bits)
