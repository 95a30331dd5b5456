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


def test_multiple_choices_are_checkboxes_not_ctrl_click_selects() -> None:
    import ipywidgets as W

    from tlslab.lab.widgets import CheckboxGroup, negotiation_lab

    lab = client_hello_lab()
    versions = lab.controls["versions"]
    assert isinstance(versions, CheckboxGroup)
    boxes = [child for child in versions.children if isinstance(child, W.Checkbox)]
    assert [b.description for b in boxes] == ["TLS 1.3", "TLS 1.2"]
    before = lab.hello_bytes
    boxes[0].value = False  # a person unticks TLS 1.3: the value and the hello follow
    assert versions.value == (ProtocolVersion.TLS12,)
    assert lab.hello_bytes != before and "supported_versions" not in lab.output.value
    versions.value = (ProtocolVersion.TLS13, ProtocolVersion.TLS12)  # and Python drives the boxes
    assert [b.value for b in boxes] == [True, True]
    for lab_ in (lab, negotiation_lab()):
        assert not any(isinstance(c, W.SelectMultiple) for c in lab_.controls.values())


def test_client_hello_byte_map_is_an_image_with_alt_text() -> None:
    lab = client_hello_lab()
    assert "<img src='data:image/png;base64," in lab.summary.value
    alt = lab.summary.value.split("alt='", 1)[1].split("'", 1)[0]
    assert alt.startswith("Byte map of") and "random at byte" in alt


def test_record_lab_flip_offset_stays_inside_the_record() -> None:
    lab = record_lab()
    flip = lab.controls["flip"]
    record_length = int(lab.output.value.split("record (", 1)[1].split(" bytes")[0])
    assert flip.max == record_length - 1
    flip.value = flip.max
    assert "(the tag)" in lab.output.value and "bad_record_mac" in lab.output.value
    lab.controls["text"].value = "hi"  # a shorter record: the offset is clamped to it
    assert flip.max == record_length - 1 - 8 and flip.value == flip.max
    lab.controls["recv_seq"].value = 3
    assert "nonce (receiver, seq 3)" in lab.output.value


def test_chain_lab_sliders_have_room() -> None:
    from tlslab.lab.widgets import chain_lab

    lab = chain_lab()
    for name in ("leaf_from", "leaf_days"):
        control = lab.controls[name]
        label = int(control.style.description_width.rstrip("px"))
        assert int(control.layout.width.rstrip("px")) - label >= 300
