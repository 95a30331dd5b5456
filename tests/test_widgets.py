"""Each lab's output changes when a knob turns (headless, no browser)."""

from __future__ import annotations

import pytest

pytest.importorskip("ipywidgets")

from tlslab.constants import ProtocolVersion  # noqa: E402
from tlslab.lab.widgets import client_hello_lab, finished_lab, key_derivation_lab, record_lab  # noqa: E402


def test_client_hello_lab_reacts() -> None:
    lab = client_hello_lab()
    before_bytes, before_html = lab.hello_bytes, lab.output.value
    lab.controls["versions"].value = (ProtocolVersion.TLS12,)
    assert lab.hello_bytes != before_bytes
    assert lab.output.value != before_html
    assert "supported_versions" not in lab.output.value


def test_key_derivation_lab_highlights_only_downstream_values() -> None:
    lab = key_derivation_lab()
    lab.controls["server_random"].value = 7
    assert "server_random" in lab.changed
    assert "1.2 master_secret" in lab.changed
    assert "1.3 early_secret" not in lab.changed
    assert "ECDHE shared secret" not in lab.changed


def test_finished_lab_detects_tampering() -> None:
    lab = finished_lab()
    assert "match" in lab.output.value
    lab.controls["flip"].value = True
    assert "decrypt_error" in lab.output.value


def test_record_lab_rejects_wrong_sequence_number() -> None:
    lab = record_lab()
    assert "opened" in lab.output.value
    lab.controls["recv_seq"].value = 2
    assert "bad_record_mac" in lab.output.value


def test_negotiation_lab_shows_hrr_and_alerts() -> None:
    from tlslab.constants import NamedGroup
    from tlslab.lab.widgets import negotiation_lab

    lab = negotiation_lab()
    assert "HelloRetryRequest" not in lab.outcome
    lab.controls["server_groups"].value = (NamedGroup.secp384r1,)
    assert "HelloRetryRequest" in lab.outcome
    lab.controls["server_versions"].value = (ProtocolVersion.TLS12,)
    lab.controls["client_versions"].value = (ProtocolVersion.TLS13,)
    assert lab.outcome.startswith("alert: protocol_version")


def test_chain_lab_reacts() -> None:
    from tlslab.lab.widgets import chain_lab

    lab = chain_lab()
    assert lab.report.valid
    lab.controls["leaf_from"].value = -500
    assert not lab.report.valid and lab.report.failure.check == "validity period"
    assert "INVALID" in lab.summary.value
