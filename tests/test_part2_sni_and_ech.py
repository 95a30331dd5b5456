"""Notebook 14 (SNI and ECH): a real OpenSSL ClientHello names the server in the clear; the ECH
sketch hides the name from the outer hello and only the key holder recovers it; the observer
exercise names each wrong item."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import x25519

from tlslab import ExtensionType, decode_handshake, seeded_rng
from tlslab.lab.ech import ENCRYPTED_CLIENT_HELLO, EchSketch, sketch_ech
from tlslab.lab.exercises_part2 import OBSERVER_ITEMS, ech_observer_exercise
from tlslab.net.openssl_lab import capture_client_hello

VISIBLE = {name for name, (seen, _, _) in OBSERVER_ITEMS.items() if seen}


@pytest.mark.interop
def test_openssl_sends_the_name_in_the_clear() -> None:
    record = capture_client_hello("secret-project.example")
    assert b"secret-project.example" in record
    hello = decode_handshake(record[5:])
    assert hello.extension(ExtensionType.server_name).host_names == ("secret-project.example",)  # type: ignore[union-attr]


def test_ech_sketch_hides_the_real_name() -> None:
    sketch = sketch_ech("secret-project.example", "cover.example", seeded_rng("t"))
    outer = decode_handshake(sketch.outer)
    assert b"secret-project" not in sketch.outer
    assert outer.extension(ExtensionType.server_name).host_names == ("cover.example",)  # type: ignore[union-attr]
    assert outer.extensions[-1].type_code == ENCRYPTED_CLIENT_HELLO
    inner = decode_handshake(sketch.open_inner())
    assert inner.extension(ExtensionType.server_name).host_names == ("secret-project.example",)  # type: ignore[union-attr]
    assert sketch.open_inner() == sketch.inner


def test_ech_sketch_needs_the_servers_key() -> None:
    sketch = sketch_ech("secret-project.example", "cover.example", seeded_rng("t"))
    impostor = EchSketch(
        sketch.public_name,
        sketch.inner,
        sketch.outer,
        sketch.config_id,
        sketch.public_key,
        x25519.X25519PrivateKey.from_private_bytes(bytes(range(32))),
    )
    with pytest.raises(InvalidTag):  # HPKE: the wrong private key cannot open the payload
        impostor.open_inner()


def test_right_observer_answer_passes() -> None:
    # ECH with DNS over HTTPS: the IP address, the outer SNI, the ECH extension itself, sizes and
    # timing (ECH, RFC 9849, encrypts only the inner ClientHello)
    assert {
        "server IP address",
        "outer SNI (the client-facing server's public_name)",
        "that ECH is being used",
        "approximate sizes and timing of records",
    } == VISIBLE
    assert ech_observer_exercise().check(VISIBLE)
    assert ech_observer_exercise().check(sorted(VISIBLE))


def test_each_wrong_item_is_named_with_its_reason() -> None:
    answer = (VISIBLE - {"that ECH is being used"}) | {"real SNI (the site you want)"}
    feedback = ech_observer_exercise().check(answer)
    fields = sorted(f.field for f in feedback.findings)
    assert fields == ["missing", "real SNI (the site you want)"]
    text = str(feedback)
    assert "hidden: it travels only in ClientHelloInner" in text
    assert (
        "missing: one more item still leaks: look at the outer ClientHello's list of extensions"
        in text
    )


def test_missed_items_get_a_clue_not_the_answer() -> None:
    feedback = ech_observer_exercise().check(set())
    assert not feedback
    assert [f.field for f in feedback.findings] == ["missing"] * len(VISIBLE)
    for name in VISIBLE:  # an empty answer must not print the solution
        assert name not in str(feedback)


def test_copying_the_figures_ech_column_is_caught_on_dns() -> None:
    # the figure above the exercise shows DNS "visible" (plain DNS); the exercise's client uses DoH
    from tlslab.lab.viz_part2 import OBSERVER_VIEW

    assert ("DNS query (without DoH/DoT)", True, True, True) in OBSERVER_VIEW
    feedback = ech_observer_exercise().check(VISIBLE | {"the DNS lookup of secret-project.example"})
    assert [f.field for f in feedback.findings] == ["the DNS lookup of secret-project.example"]
    assert "DNS goes over HTTPS" in str(feedback)


@pytest.mark.parametrize("answer", ["server IP address", 7, {"not an item"}])
def test_malformed_observer_answers(answer: object) -> None:
    feedback = ech_observer_exercise().check(answer)
    assert not feedback and len(feedback.findings) == 1
