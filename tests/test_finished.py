from __future__ import annotations

from typing import Any

import pytest

from tlslab.errors import DecryptError
from tlslab.stages import keyschedule as ks
from tlslab.stages.finished import check_verify_data
from tlslab.stages.transcript import transcript_hash

H = bytes.fromhex


def test_matching_verify_data_passes(rfc8448: dict[str, Any]) -> None:
    f = rfc8448["finished"]
    check_verify_data(H(f["server_verify_data"]), H(f["server_verify_data"]))


def test_any_changed_byte_is_decrypt_error(rfc8448: dict[str, Any]) -> None:
    good = H(rfc8448["finished"]["client_verify_data"])
    for i in range(len(good)):
        bad = bytearray(good)
        bad[i] ^= 0x01
        with pytest.raises(DecryptError, match="does not match") as info:
            check_verify_data(good, bytes(bad), who="client")
        assert info.value.alert.name == "decrypt_error"


def test_one_changed_transcript_byte_changes_verify_data(rfc8448: dict[str, Any]) -> None:
    m = rfc8448["handshake_messages"]
    names = [
        "client_hello",
        "server_hello",
        "encrypted_extensions",
        "certificate",
        "certificate_verify",
    ]
    msgs = [H(m[n]) for n in names]
    key = H(rfc8448["secrets"]["server_handshake_traffic_secret"])
    good = ks.verify_data_13(key, transcript_hash(msgs))
    assert good.hex() == rfc8448["finished"]["server_verify_data"]
    tampered = bytearray(msgs[0])
    tampered[50] ^= 0x80
    bad = ks.verify_data_13(key, transcript_hash([bytes(tampered), *msgs[1:]]))
    with pytest.raises(DecryptError):
        check_verify_data(good, bad)
