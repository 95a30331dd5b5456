"""The course as a whole: generated headers in sync, no dead relative links, every notebook listed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _markdown_sources() -> list[tuple[Path, str]]:
    sources = [(ROOT / "README.md", (ROOT / "README.md").read_text())]
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        sources += [(path, c.source) for c in nb.cells if c.cell_type == "markdown"]
    return sources


def test_headers_in_sync() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "notebook_headers.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_no_dead_relative_links() -> None:
    dead = []
    checked = 0
    for path, text in _markdown_sources():
        for target in LINK.findall(text):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            checked += 1
            if not (path.parent / target.split("#")[0]).exists():
                dead.append(f"{path.name} -> {target}")
    assert checked >= 30
    assert not dead, dead


def test_every_notebook_is_in_the_course_map() -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    from notebook_headers import COURSE

    on_disk = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
    assert [c["file"] for c in COURSE] == on_disk
    assert len(on_disk) >= 10
    overview = nbformat.read(ROOT / "notebooks" / "00_overview.ipynb", as_version=4)
    text = "\n".join(c.source for c in overview.cells)
    for name in on_disk[1:]:
        assert f"({name})" in text, f"00_overview does not link {name}"


# -- statements the notebooks make, held by tests (issue: every statement right) ---------------


def test_offering_only_tls12_removes_exactly_three_extensions() -> None:
    """Notebooks 01 and 00b: the TLS 1.2 extensions are in every default offer already."""
    from tlslab import ExtensionType, ProtocolVersion, build_client_hello, seeded_rng

    both = build_client_hello("lab.example", rng=seeded_rng(1))
    only12 = build_client_hello("lab.example", versions=[ProtocolVersion.TLS12], rng=seeded_rng(1))
    names = {ExtensionType(e.type_code).name for e in both.extensions}
    names12 = {ExtensionType(e.type_code).name for e in only12.extensions}
    assert names - names12 == {"supported_versions", "psk_key_exchange_modes", "key_share"}
    assert names12 <= names
    # legacy_session_id: a length byte, then 0..32 bytes (RFC 8446 §4.1.2)
    assert len(both.legacy_session_id) == 32 and len(only12.legacy_session_id) == 0
    raw = only12.encode()
    assert raw[4 + 2 + 32] == 0  # the session id's length byte, right after version and random


def test_gcm_implicit_nonce_is_a_4_byte_salt() -> None:
    """Notebook 05: 4 of the 12 nonce bytes come from the key block (RFC 5288 §3)."""
    from tlslab import CipherSuite
    from tlslab.stages.keyschedule import key_block
    from tlslab.stages.suites import suite_info

    block = key_block(
        bytes(48),
        bytes(32),
        bytes(32),
        suite_info(CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
    )
    assert len(block.client_write_IV) == 4 and len(block.server_write_IV) == 4


def test_hkdf_label_has_a_length_byte_for_an_empty_context() -> None:
    """Notebook 05: HkdfLabel = length (2) || label length (1) || "tls13 " label || context (1+n)."""
    from tlslab.stages.keyschedule import hkdf_label

    assert hkdf_label("key", b"", 16) == b"\x00\x10" + b"\x09tls13 key" + b"\x00"


def test_key_log_lines_have_no_comment_line() -> None:
    """Notebook 00b counts key-log lines: five secrets in TLS 1.3, one in TLS 1.2."""
    from tlslab import ProtocolVersion
    from tlslab.lab.illustrated import record_connection

    lines13 = record_connection().keylog.dumps().splitlines()
    lines12 = record_connection(ProtocolVersion.TLS12).keylog.dumps().splitlines()
    assert [line.split()[0] for line in lines13] == [
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0",
        "SERVER_TRAFFIC_SECRET_0",
        "EXPORTER_SECRET",
    ]
    assert [line.split()[0] for line in lines12] == ["CLIENT_RANDOM"]


def test_every_notebook_header_shows_where_it_is_in_the_six_steps() -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    from notebook_headers import COURSE, SIX_STEPS, STEPS

    assert [name for _, name in SIX_STEPS][:2] == ["ClientHello", "ServerHello"]
    assert len(SIX_STEPS) == 6
    for entry in COURSE:
        nb = nbformat.read(ROOT / "notebooks" / entry["file"], as_version=4)
        strip = next(line for line in nb.cells[0].source.splitlines() if "→" in line)
        bold = re.findall(r"\*\*(\d) ", strip)
        assert bold == sorted(STEPS[entry["file"]]), entry["file"]


def test_second_hello_retry_request_is_unexpected_message() -> None:
    from tlslab import ContentType, NamedGroup, explain, seeded_rng
    from tlslab.engine.client import ClientConfig, TLSClient
    from tlslab.errors import TLSError, UnexpectedMessage
    from tlslab.stages.negotiation import ServerConfig, build_hello_retry_request, negotiate
    from tlslab.wire.record import fragment

    client = TLSClient(ClientConfig(server_name="lab.example", insecure=True), seeded_rng("hrr"))
    client.start()
    hello = explain(client.data_to_send()).messages[0]
    decision = negotiate(hello, ServerConfig(groups=(NamedGroup.secp256r1,)))
    hrr = build_hello_retry_request(hello, decision, cookie=b"c")
    records = b"".join(r.encode() for r in fragment(ContentType.handshake, hrr.encode()))
    client.receive_data(records)
    assert client.data_to_send()  # the second ClientHello
    with pytest.raises(TLSError) as caught:
        client.receive_data(records)  # the same HelloRetryRequest again
    assert isinstance(caught.value, UnexpectedMessage)
