"""The main figures, drawn from deterministic inputs and compared with reference PNGs that a person
looked at (tests/figures/). Regenerate after a deliberate change with
``TLSLAB_UPDATE_FIGURES=1 pytest tests/test_figures.py`` and look at every PNG before committing."""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tlslab import ProtocolVersion, build_client_hello, seeded_rng  # noqa: E402

FIGURES = Path(__file__).resolve().parent / "figures"


def _tls13_connection() -> Any:
    from tlslab.lab.illustrated import illustrated_connection

    return illustrated_connection(ProtocolVersion.TLS13)


def _tls12_trace() -> Any:
    from tlslab.engine.client import ClientConfig, TLSClient
    from tlslab.engine.memory import handshake_in_memory
    from tlslab.engine.server import ServerIdentity, TLSServer
    from tlslab.pki.certificates import LAB_NOW, build_chain
    from tlslab.stages.negotiation import ServerConfig

    chain = build_chain("lab.example")
    client = TLSClient(
        ClientConfig(
            server_name="lab.example",
            trust_roots=tuple(chain.trust_roots),
            now=LAB_NOW,
            versions=(ProtocolVersion.TLS12,),
        ),
        seeded_rng("figure client"),
    )
    server = TLSServer(
        ServerConfig(), ServerIdentity.from_chain(chain), seeded_rng("figure server")
    )
    assert handshake_in_memory(client, server).completed
    return client.trace


def _tls12_trace_with_data() -> Any:
    """A TLS 1.2 connection that carries data both ways, then the server's close_notify, which
    the client answers with its own (RFC 5246 §7.2.1)."""
    from tlslab.engine.client import ClientConfig, TLSClient
    from tlslab.engine.memory import handshake_in_memory
    from tlslab.engine.server import ServerIdentity, TLSServer
    from tlslab.pki.certificates import LAB_NOW, build_chain
    from tlslab.stages.negotiation import ServerConfig

    chain = build_chain("lab.example")
    client = TLSClient(
        ClientConfig(
            server_name="lab.example",
            trust_roots=tuple(chain.trust_roots),
            now=LAB_NOW,
            versions=(ProtocolVersion.TLS12,),
        ),
        seeded_rng("figure client"),
    )
    server = TLSServer(
        ServerConfig(), ServerIdentity.from_chain(chain), seeded_rng("figure server")
    )
    assert handshake_in_memory(client, server).completed
    client.send_application_data(b"GET / HTTP/1.1\r\n\r\n")
    server.receive_data(client.data_to_send())
    server.send_application_data(b"HTTP/1.1 200 OK\r\n\r\nhello")
    client.receive_data(server.data_to_send())
    server.close()
    client.receive_data(server.data_to_send())
    return client.trace


def _connection_ladder() -> Any:
    from tlslab.lab.viz import plot_connection_ladder

    return plot_connection_ladder(_tls13_connection())


def _trace_ladder() -> Any:
    from tlslab.lab.viz import plot_ladder

    return plot_ladder(_tls12_trace_with_data(), title="TLS 1.2, tlslab client and server")


def _state_machine() -> Any:
    from tlslab.lab.viz import plot_state_machine

    return plot_state_machine("client")


def _byte_map() -> Any:
    from tlslab.lab.viz import plot_byte_map

    return plot_byte_map(build_client_hello("lab.example", rng=seeded_rng(1)))


def _key_schedule() -> Any:
    from tlslab.lab.viz import plot_key_schedule
    from tlslab.stages.keyschedule import key_schedule_13
    from tlslab.vectors import rfc8448

    v = rfc8448()
    shared = bytes.fromhex(v["secrets"]["ecdhe_shared_secret"])
    hashes = v["transcript_hashes"]
    schedule = key_schedule_13(
        shared,
        bytes.fromhex(hashes["ch_sh"]),
        bytes.fromhex(hashes["ch_to_server_finished"]),
        bytes.fromhex(hashes["ch_to_client_finished"]),
    )
    return plot_key_schedule(schedule, shared)


DRAWINGS: dict[str, Callable[[], Any]] = {
    "key_schedule_rfc8448": _key_schedule,
    "ladder_tls13_connection": _connection_ladder,
    "ladder_tls12_trace": _trace_ladder,
    "state_machine_client": _state_machine,
    "byte_map_client_hello": _byte_map,
}


def _png(ax: Any) -> np.ndarray:
    buffer = io.BytesIO()
    ax.figure.savefig(buffer, format="png", dpi=60, bbox_inches="tight")
    plt.close(ax.figure)
    buffer.seek(0)
    return np.asarray(plt.imread(buffer))


@pytest.mark.parametrize("name", sorted(DRAWINGS))
def test_figure_matches_reference(name: str) -> None:
    image = _png(DRAWINGS[name]())
    reference_path = FIGURES / f"{name}.png"
    if os.environ.get("TLSLAB_UPDATE_FIGURES"):
        plt.imsave(reference_path, image)
    reference = np.asarray(plt.imread(reference_path))
    assert image.shape == reference.shape, f"{name}: size {image.shape} != {reference.shape}"
    difference = float(np.abs(image[..., :3] - reference[..., :3]).mean())
    assert difference < 0.01, f"{name}: differs from tests/figures/{name}.png by {difference:.4f}"


def test_ladder_alt_text_and_names() -> None:
    from tlslab.lab.viz import ladder_arrows

    arrows = ladder_arrows(_tls12_trace())
    names = [label for _, label, _, _ in arrows]
    assert names == [
        "ClientHello",
        "ServerHello",
        "Certificate",
        "ServerKeyExchange",
        "ServerHelloDone",
        "ClientKeyExchange",
        "ChangeCipherSpec",
        "Finished",
        "ChangeCipherSpec",
        "Finished",
    ]
    assert [s for s, *_ in arrows][6:] == ["client", "client", "server", "server"]
    assert {p for *_, p in arrows} == {"plaintext", "application / session keys"}
    ax = _trace_ladder()
    alt = ax.figure.get_label()
    assert alt.startswith("Message ladder. client to server: ClientHello, ")
    # the brackets on the figure are in the words too, and the legend names only used colours
    assert "Round trip 1: ClientHello to ServerHelloDone." in alt
    assert "Round trip 2: ClientKeyExchange to Finished." in alt
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["plaintext", "application / session keys"]
    plt.close(ax.figure)


def test_ladder_from_a_trace_shows_application_data_and_close_notify() -> None:
    from tlslab.lab.viz import ladder_arrows

    arrows = ladder_arrows(_tls12_trace_with_data())
    tail = [(sender, label, size, protection) for sender, label, size, protection in arrows[10:]]
    keys = "application / session keys"
    assert tail == [
        ("client", "application data", 18, keys),
        ("server", "application data", 24, keys),
        ("server", "Alert close_notify", 2, keys),
        ("client", "Alert close_notify", 2, keys),
    ]


def test_state_machine_layers_follow_the_table() -> None:
    from tlslab.engine.state import transitions_for
    from tlslab.lab.viz import state_machine_layers

    edges = transitions_for("client")
    layer, back = state_machine_layers(edges)
    for start, _, end in edges:
        if start != end and (start, end) not in back:
            assert layer[end] > layer[start], (start, end)
    assert min(layer.values()) == 0


def _small_drawings() -> dict[str, Callable[[], Any]]:
    from tlslab.lab import primer, viz, viz_part2

    return {
        "nonces": lambda: viz.plot_nonces(bytes(12), 3),
        "protected_record": lambda: viz.plot_protected_record(bytes(5 + 10 + 16)),
        "modular_powers": lambda: viz.plot_modular_powers(23, 5),
        "dh_exchange": lambda: viz.plot_dh_exchange(23, 5, 6, 15),
        "interval_widths": lambda: viz.plot_interval_widths([1024.0, 512.0, 0.0]),
        "avalanche": lambda: viz.plot_avalanche([0, 8, 16], [120, 130, 128], 256),
        "zero_rtt_replay": viz_part2.plot_zero_rtt_replay,
        "aead_limits": viz_part2.plot_aead_limits,
        "observer_view": viz_part2.plot_observer_view,
        "bit_flips": lambda: primer.plot_bit_flips(b"hi"),
        "nonce_reuse": lambda: primer.plot_nonce_reuse(b"attack", b"\x01" * 6, b"\x02" * 6),
        **DRAWINGS,
    }


@pytest.mark.parametrize("name", sorted(_small_drawings()))
def test_every_figure_has_alt_text_and_an_html_twin(name: str) -> None:
    from tlslab.lab.alt_text import figure_alt_text, figure_html, figure_png

    drawn = _small_drawings()[name]()
    figure = drawn.figure
    alt = figure_alt_text(figure)
    assert len(alt) > 40, alt
    html = figure_html(figure)
    assert html is not None and html.startswith('<img src="data:image/png;base64,iVBOR')
    assert 'alt="' in html and html.count('"') % 2 == 0
    png, metadata = figure_png(figure)  # type: ignore[misc]  # rendered once, for both outputs
    assert base64.b64encode(png).decode() in html and metadata == {"alt": alt}
    plt.close(figure)
    undescribed = plt.figure()
    assert figure_html(undescribed) is None  # no words, no <img>: the notebook test catches it
    plt.close(undescribed)


@pytest.mark.notebook
def test_alt_text_reaches_the_static_html_export(monkeypatch: pytest.MonkeyPatch) -> None:
    """A figure drawn by a tlslab plot function in a real kernel comes out of nbconvert's HTML
    export as an <img> with its alt text (the text/html twin wins over the bare image/png)."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    exporters = pytest.importorskip("nbconvert")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "from tlslab.lab.viz import plot_nonces\nplot_nonces(bytes(12), 2);"
        )
    ]
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # JupyterLab's
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    (output,) = notebook.cells[0].outputs
    assert {"image/png", "text/html"} <= set(output["data"])
    page, _ = exporters.HTMLExporter().from_notebook_node(notebook)
    assert 'alt="Grid of the per-record nonces for sequence numbers 0 to 1' in page


def test_the_trace_keeps_only_the_first_application_data_records() -> None:
    """A long connection's trace does not grow with its traffic: 8 records each way are noted."""
    from tlslab.engine.memory import handshake_in_memory
    from tlslab.lab.refusals import lab_pair
    from tlslab.lab.viz import ladder_arrows

    client, server = lab_pair()
    assert handshake_in_memory(client, server).completed
    before = len(client.trace.events)
    for i in range(20):
        client.send_application_data(bytes(i + 1))
    server.receive_data(client.data_to_send())
    assert len(client.trace.events) == before + 8
    data = [a for a in ladder_arrows(server.trace) if a[1] == "application data"]
    assert [size for _, _, size, _ in data] == list(range(1, 9))
