from __future__ import annotations

import pytest

from tlslab.errors import DecodeError
from tlslab.stages.keylog import KeyLog, keylog_line


def test_round_trip() -> None:
    log = KeyLog()
    log.add("CLIENT_RANDOM", bytes(32), bytes(range(48)))
    log.add("SERVER_TRAFFIC_SECRET_0", b"\x01" * 32, b"\x02" * 32)
    again = KeyLog.parse("# comment\n\n" + log.dumps())
    assert again.entries == log.entries
    assert again[bytes(32)]["CLIENT_RANDOM"] == bytes(range(48))


def test_bad_lines_name_the_problem() -> None:
    with pytest.raises(DecodeError, match="line 1"):
        KeyLog.parse("CLIENT_RANDOM zz 00")
    with pytest.raises(DecodeError, match="32 bytes"):
        KeyLog.parse("CLIENT_RANDOM 00 00")
    with pytest.raises(DecodeError, match="LABEL"):
        KeyLog.parse("NOT_A_LABEL " + "00" * 32 + " 00")
    with pytest.raises(ValueError):
        keylog_line("CLIENT_RANDOM", b"short", b"x")
    with pytest.raises(KeyError, match="no secrets"):
        KeyLog()[bytes(32)]
