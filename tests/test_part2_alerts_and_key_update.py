"""Notebook 13 (alerts, close_notify, KeyUpdate): the KeyUpdate checker names each mistake; a
truncated OpenSSL stream is told apart from a closed one by tlslab and by OpenSSL; KeyUpdates run
live against OpenSSL; the AES-GCM bound has the RFC 8446 §5.5 order of magnitude."""

from __future__ import annotations

import pytest

from tlslab import ClientConfig, ProtocolVersion
from tlslab.lab.exercises_part2 import key_update_exercise
from tlslab.lab.peers import (
    echo_with_key_updates,
    lab_chains,
    openssl_echo_loop,
    openssl_read_to_the_end,
    openssl_sender,
    read_to_the_end,
)
from tlslab.lab.viz_part2 import aes_gcm_confidentiality_bound
from tlslab.stages import keyschedule as ks

SECRET_0 = bytes(range(32))


def _update(secret: bytes, label: str = "traffic upd") -> bytes:
    return ks.hkdf_expand_label(secret, label, b"", 32)


def test_two_updates_pass_and_match_the_rfc_formula() -> None:
    right = _update(_update(SECRET_0))
    assert right == ks.next_traffic_secret(ks.next_traffic_secret(SECRET_0))
    assert key_update_exercise(SECRET_0, updates=2).check(right)


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        (SECRET_0, "generations"),
        (_update(SECRET_0), "generations"),
        (_update(_update(SECRET_0, "traffic update"), "traffic update"), "label"),
        (
            ks.derive_secret(
                ks.derive_secret(SECRET_0, "traffic upd", ks.empty_hash()),
                "traffic upd",
                ks.empty_hash(),
            ),
            "context",
        ),
        (bytes(16), "length"),
        (bytes(32), "value"),
        ("zz", "answer"),
    ],
)
def test_each_key_update_mistake_is_named(answer: object, field: str) -> None:
    feedback = key_update_exercise(SECRET_0, updates=2).check(answer)
    assert not feedback
    assert [f.field for f in feedback.findings] == [field]


def test_traffic_key_instead_of_secret_is_named() -> None:
    from tlslab.constants import CipherSuite
    from tlslab.stages.suites import suite_info

    right = _update(_update(SECRET_0))
    key = ks.traffic_keys(right, suite_info(CipherSuite.TLS_AES_128_GCM_SHA256)).key
    feedback = key_update_exercise(SECRET_0, updates=2).check(key)
    assert [f.field for f in feedback.findings] == ["secret vs key"]


def test_key_update_exercise_rejects_zero_updates() -> None:
    with pytest.raises(ValueError):
        key_update_exercise(SECRET_0, updates=0)


def test_aes_gcm_bound_near_the_rfc_figure() -> None:
    # RFC 8446 §5.5: 2^24.5 full records keep a margin of about 2^-57; the confidentiality term is
    # (2^34.5 blocks)^2 / 2^129 = 2^-60.
    assert -61 < aes_gcm_confidentiality_bound(2**24.5) < -59
    assert aes_gcm_confidentiality_bound(2**30) - aes_gcm_confidentiality_bound(
        2**29
    ) == pytest.approx(2, abs=0.01)


@pytest.mark.interop
def test_truncation_is_seen_by_tlslab_and_openssl() -> None:
    chain, _ = lab_chains("test truncation")
    config = ClientConfig(server_name="localhost", trust_roots=tuple(chain.trust_roots))
    with openssl_sender(chain, b"all of it", close_notify=True) as port:
        clean = read_to_the_end(port, config)
        clean_openssl = openssl_read_to_the_end(port, chain.root.certificate)
    with openssl_sender(chain, b"all of it", close_notify=False) as port:
        cut = read_to_the_end(port, config)
        cut_openssl = openssl_read_to_the_end(port, chain.root.certificate)
    assert clean.received == cut.received == b"all of it"
    assert clean.close_notify and clean_openssl.close_notify
    assert not cut.close_notify and not cut_openssl.close_notify
    assert "EOF" in cut_openssl.detail


@pytest.mark.interop
def test_key_updates_live_with_openssl() -> None:
    chain, _ = lab_chains("test key update")
    config = ClientConfig(
        server_name="localhost",
        trust_roots=tuple(chain.trust_roots),
        versions=(ProtocolVersion.TLS13,),
    )
    with openssl_echo_loop(chain) as port:
        client, echoes = echo_with_key_updates(
            port, config, [b"a", b"bb", b"ccc"], update_before=(1, 2)
        )
    assert echoes == [b"a", b"bb", b"ccc"]
    names = [e.name for e in client.trace.messages()]
    assert names.count("KeyUpdate") == 4  # two sent, two answers from OpenSSL
    secrets = client.trace.secrets()
    hash_name = client.suite.hash_name  # type: ignore[union-attr]
    expected = secrets["client_application_traffic_secret_0"]
    for _ in range(2):
        expected = ks.next_traffic_secret(expected, hash_name)
    assert client.write_secret == expected


def test_key_update_names_the_wrong_hash() -> None:
    # the notebook's suite is SHA-384; the stage functions default to SHA-256
    secret_0 = bytes(range(48))
    exercise = key_update_exercise(secret_0, updates=2, hash_name="sha384")
    with_defaults = ks.next_traffic_secret(ks.next_traffic_secret(secret_0))
    feedback = exercise.check(with_defaults)
    assert [f.field for f in feedback.findings] == ["hash"]
    assert "SHA384" in str(feedback)
    right_length = secret_0
    for _ in range(2):
        right_length = ks.hkdf_expand_label(right_length, "traffic upd", b"", 48)
    assert [f.field for f in exercise.check(right_length).findings] == ["hash"]
