"""Notebook 15's exercises (tlslab.lab.exercises_part2): the right answers are read from the
shipped capture, and every wrong answer is told exactly what is wrong or missing."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

import tlslab
from tlslab.lab.exercises_part2 import certificate_secret_exercise, tls12_clear_exercise
from tlslab.vectors import sample_capture


@cache
def _captures() -> tuple[Any, Any]:
    pcap, keys = sample_capture()
    return tlslab.open_capture(pcap, keylog=keys), tlslab.open_capture(pcap)


def _problems(feedback: Any) -> list[str]:
    return [str(f) for f in feedback.findings]


def test_certificate_secret_right_answer() -> None:
    exercise = certificate_secret_exercise(_captures()[0][0])
    assert exercise.check("SERVER_HANDSHAKE_TRAFFIC_SECRET")
    assert exercise.check(" SERVER_HANDSHAKE_TRAFFIC_SECRET ")


@pytest.mark.parametrize(
    "answer,expected",
    [
        (
            "SERVER_TRAFFIC_SECRET_0",
            "SERVER_TRAFFIC_SECRET_0: opened server record 6 (new_session_ticket), server record 7 "
            "(new_session_ticket), server record 8 (application data, 65 bytes): those come after "
            "the server's Finished, and the Certificate (server record 3) comes before it",
        ),
        (
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET: protects what the client sends (client record 2 "
            "(finished)); the Certificate is sent by the server (server record 3)",
        ),
        (
            "EXPORTER_SECRET",
            "EXPORTER_SECRET: opened no record of this connection (it is not a traffic secret); "
            "the Certificate is server record 3",
        ),
    ],
    ids=["after-finished", "client-side", "exporter"],
)
def test_certificate_secret_wrong_label_says_what_it_opened(answer: str, expected: str) -> None:
    feedback = certificate_secret_exercise(_captures()[0][0]).check(answer)
    assert _problems(feedback) == [expected]


def test_certificate_secret_unknown_label_and_wrong_type_list_the_labels() -> None:
    exercise = certificate_secret_exercise(_captures()[0][0])
    (problem,) = _problems(exercise.check("MASTER_SECRET"))
    assert problem.startswith("answer: 'MASTER_SECRET' is not a label of this connection's key log")
    assert "SERVER_HANDSHAKE_TRAFFIC_SECRET" in problem and "CLIENT_TRAFFIC_SECRET_0" in problem
    (problem,) = _problems(exercise.check(3))
    assert problem.startswith("answer: expected one key-log label as a string, got int")


def test_certificate_secret_needs_a_decrypted_tls13_certificate() -> None:
    with pytest.raises(ValueError, match="no decrypted TLS 1.3 server Certificate"):
        certificate_secret_exercise(_captures()[1][0])  # no key log: nothing was opened


def test_tls12_clear_right_answer_is_read_from_the_capture() -> None:
    exercise = tls12_clear_exercise(_captures()[1][1])
    right = {
        "ServerHello",
        "Certificate12",
        "ServerKeyExchangeECDHE",
        "ServerHelloDone",
        "NewSessionTicket12",
    }
    assert exercise.check(right) and exercise.check(sorted(right))


def test_tls12_clear_names_each_wrong_item_and_describes_each_missing_one() -> None:
    exercise = tls12_clear_exercise(_captures()[1][1])
    feedback = exercise.check({"ServerHello", "Certificate12", "Finished", "ClientHello", "Cert"})
    assert _problems(feedback) == [
        "Cert: is not a server message an eavesdropper can read in this connection; the names "
        "are spelled as messages() spells them, e.g. 'Certificate12'",
        "ClientHello: is sent by the client; the question is about the server's messages",
        "Finished: is encrypted: it follows the server's ChangeCipherSpec",
        "missing: the message with the server's ECDHE public key and its signature: it travels "
        "in the clear in TLS 1.2",
        "missing: the empty message that ends the server's first flight: it travels in the clear "
        "in TLS 1.2",
        "missing: the message that hands the client a session ticket, just before the server's "
        "ChangeCipherSpec (RFC 5077 §3.3): it travels in the clear in TLS 1.2",
    ]
    assert not any("ServerKeyExchangeECDHE" in p for p in _problems(feedback))  # clue, not name
    (problem,) = _problems(exercise.check("ServerHello"))
    assert problem == "answer: give a set of names, e.g. {'ServerHello'}"


def test_tls12_clear_names_the_spelling_of_a_right_message_under_another_name() -> None:
    """'Certificate' (the RFC's name) is the right message: the feedback gives messages()'s
    spelling for it and does not also report it missing; 'Cert' is not taken for it."""
    exercise = tls12_clear_exercise(_captures()[1][1])
    feedback = exercise.check(
        {"serverhello", "Certificate", "ServerKeyExchange", "ServerHelloDone", "NewSessionTicket"}
    )
    assert _problems(feedback) == [
        "Certificate: right message, but messages() spells it 'Certificate12'",
        "NewSessionTicket: right message, but messages() spells it 'NewSessionTicket12'",
        "ServerKeyExchange: right message, but messages() spells it 'ServerKeyExchangeECDHE'",
        "serverhello: right message, but messages() spells it 'ServerHello'",
    ]
    (problem, *_) = _problems(exercise.check({"Cert"}))
    assert problem.startswith("Cert: is not a server message an eavesdropper can read")
