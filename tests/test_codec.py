from __future__ import annotations

import pytest

from tlslab.constants import CipherSuite
from tlslab.errors import DecodeError, EncodeError
from tlslab.wire._codec import Reader, Writer


def test_uints_round_trip() -> None:
    w = Writer()
    w.u8(1)
    w.u16(0x0203)
    w.u24(0x040506)
    w.u32(0x0708090A)
    r = Reader(w.getvalue())
    assert (r.u8("a"), r.u16("b"), r.u24("c"), r.u32("d")) == (1, 0x0203, 0x040506, 0x0708090A)
    r.expect_end()


def test_overrun_is_decode_error_naming_the_field() -> None:
    with pytest.raises(DecodeError, match="cipher_suite") as info:
        Reader(b"\x13").u16("cipher_suite")
    assert "expected 2 bytes" in str(info.value)
    assert info.value.alert.name == "decode_error"


def test_block_rejects_trailing_bytes() -> None:
    r = Reader(b"\x00\x03\x01\x02\x03")
    with pytest.raises(DecodeError, match="trailing"), r.block(2, "things") as b:
        b.u16("first")


def test_block_rejects_overrun_of_enclosing_data() -> None:
    with pytest.raises(DecodeError, match="runs past"):
        Reader(b"\x00\x05\x01").block(2, "things")


def test_length_bounds_enforced() -> None:
    with pytest.raises(DecodeError, match="out of bounds") as info:
        Reader(b"\x21" + bytes(33)).opaque(1, "legacy_session_id", 0, 32)
    assert info.value.expected == "0..32"
    assert info.value.seen == 33


def test_vector_must_be_whole_items() -> None:
    with pytest.raises(DecodeError, match="multiple of 2"):
        Reader(b"\x00\x03\x13\x01\x13").uint_list(2, 2, "cipher_suites")


def test_unknown_enum_values_survive() -> None:
    suites = Reader(b"\x00\x04\x0a\x0a\x13\x01").uint_list(2, 2, "cipher_suites", CipherSuite)
    assert suites == (0x0A0A, CipherSuite.TLS_AES_128_GCM_SHA256)
    assert type(suites[0]) is int


def test_writer_block_patches_length_and_checks_bounds() -> None:
    w = Writer()
    with w.block(2, "x"):
        w.raw(b"abc")
    assert w.getvalue() == b"\x00\x03abc"
    with pytest.raises(EncodeError), Writer().block(1, "y", 1):
        pass


def test_writer_rejects_values_that_do_not_fit() -> None:
    with pytest.raises(EncodeError, match="uint8"):
        Writer().u8(256, "value")
    with pytest.raises(EncodeError):
        Writer().opaque(1, bytes(33), "legacy_session_id", 0, 32)
