from __future__ import annotations

from typing import Any

import pytest

import tlslab as t
from tlslab.__main__ import main
from tlslab.errors import DecodeError


def test_explain_names_fields_and_meanings(rfc8448: dict[str, Any]) -> None:
    exp = t.explain(rfc8448["handshake_messages"]["client_hello"])
    assert exp.field("cipher_suites[0]").meaning == "0x1301 TLS_AES_128_GCM_SHA256"
    assert exp.field("HostName").meaning == "'server'"
    row = exp.field("random")
    assert (row.offset, row.length) == (6, 32)
    assert "<table>" in exp._repr_html_()
    assert "legacy_session_id" in str(exp)


def test_explain_records_walks_into_handshake(rfc8448: dict[str, Any]) -> None:
    exp = t.explain(rfc8448["plaintext_records"]["server_hello_record"])
    assert exp.field("type").meaning == "0x16 handshake"
    assert isinstance(exp.messages[0], t.ServerHello)
    assert exp.field("cipher_suite").offset == 5 + 4 + 2 + 32 + 1


def test_explain_reports_malformed_input() -> None:
    exp = t.explain("0100000a0303")
    assert exp.error and "decode_error" in exp.error
    with pytest.raises(DecodeError):
        t.explain("0100000a0303", strict=True)


def test_cli_explain(capsys: pytest.CaptureFixture[str], rfc8448: dict[str, Any]) -> None:
    assert main(["explain", rfc8448["handshake_messages"]["server_hello"]]) == 0
    assert "TLS_AES_128_GCM_SHA256" in capsys.readouterr().out
    assert main(["explain", "14000001"]) == 1
