"""Key derivation against independent vectors: RFC 8448 §3, the TLS 1.2 PRF vectors,
NIST ACVP RFC 7627 vectors, and the Illustrated TLS 1.2 connection."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from tlslab.constants import CipherSuite
from tlslab.stages import keyschedule as ks
from tlslab.stages.suites import suite_info
from tlslab.stages.transcript import Transcript, transcript_hash

H = bytes.fromhex
AES128 = suite_info(CipherSuite.TLS_AES_128_GCM_SHA256)


def _hs(v: dict[str, Any], *names: str) -> list[bytes]:
    return [H(v["handshake_messages"][n]) for n in names]


def test_prf_known_answers(tls12_vectors: dict[str, Any]) -> None:
    for vec in tls12_vectors["prf"]["vectors"]:
        out = ks.prf(
            H(vec["secret"]), vec["label"], H(vec["seed"]), vec["output_length"], vec["hash"]
        )
        assert out.hex() == vec["output"], vec["name"]


def test_extended_master_secret_and_key_block_acvp(tls12_vectors: dict[str, Any]) -> None:
    for vec in tls12_vectors["extended_master_secret"]["vectors"]:
        ms = ks.extended_master_secret(
            H(vec["preMasterSecret"]), H(vec["sessionHash"]), vec["hash"]
        )
        assert ms.hex() == vec["masterSecret"], vec["tcId"]
        block = ks.prf(
            ms,
            "key expansion",
            H(vec["serverRandom"]) + H(vec["clientRandom"]),
            len(vec["keyBlock"]) // 2,
            vec["hash"],
        )
        assert block.hex() == vec["keyBlock"], vec["tcId"]


def test_illustrated_tls12_master_secret_key_block_and_finished(
    tls12_vectors: dict[str, Any],
) -> None:
    t = tls12_vectors["illustrated_tls12_handshake"]
    cr, sr = H(t["client_random"]), H(t["server_random"])
    shared = X25519PrivateKey.from_private_bytes(H(t["client_x25519_private"])).exchange(
        X25519PublicKey.from_public_bytes(H(t["server_x25519_public"]))
    )
    assert shared.hex() == t["pre_master_secret"]
    ms = ks.master_secret(shared, cr, sr)
    assert ms.hex() == t["master_secret"]
    block = ks.key_block(ms, cr, sr, suite_info(CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA))
    assert block.client_write_MAC_key.hex() == t["client_write_mac_key"]
    assert block.server_write_MAC_key.hex() == t["server_write_mac_key"]
    assert block.client_write_key.hex() == t["client_write_key"]
    assert block.server_write_key.hex() == t["server_write_key"]
    assert block.client_write_IV == b""  # CBC in TLS 1.2 sends an explicit IV per record
    msgs = _hs(
        t,
        "clienthello",
        "serverhello",
        "servercert",
        "serverkeyexchange",
        "serverhellodone",
        "clientkeyexchange",
    )
    client_hash = transcript_hash(msgs)
    assert client_hash.hex() == t["handshake_hash_for_client_finished"]
    assert ks.verify_data_12(ms, "client finished", client_hash).hex() == t["client_verify_data"]
    server_hash = transcript_hash([*msgs, H(t["handshake_messages"]["client_finished"])])
    assert server_hash.hex() == t["handshake_hash_for_server_finished"]
    assert ks.verify_data_12(ms, "server finished", server_hash).hex() == t["server_verify_data"]


def _transcripts(v: dict[str, Any]) -> dict[str, bytes]:
    t = Transcript("sha256")
    out = {}
    for name in ("client_hello", "server_hello"):
        t.update(H(v["handshake_messages"][name]))
    out["ch_sh"] = t.hash()
    for name in ("encrypted_extensions", "certificate"):
        t.update(H(v["handshake_messages"][name]))
    out["ch_to_certificate"] = t.hash()
    t.update(H(v["handshake_messages"]["certificate_verify"]))
    out["ch_to_certificate_verify"] = t.hash()
    t.update(H(v["handshake_messages"]["server_finished"]))
    out["ch_to_server_finished"] = t.hash()
    t.update(H(v["handshake_messages"]["client_finished"]))
    out["ch_to_client_finished"] = t.hash()
    return out


def test_rfc8448_transcript_hashes(rfc8448: dict[str, Any]) -> None:
    hashes = _transcripts(rfc8448)
    for name, value in hashes.items():
        assert value.hex() == rfc8448["transcript_hashes"][name], name
    assert ks.empty_hash().hex() == rfc8448["transcript_hashes"]["empty"]


def test_rfc8448_every_secret(rfc8448: dict[str, Any]) -> None:
    s = rfc8448["secrets"]
    client = X25519PrivateKey.from_private_bytes(H(rfc8448["keys"]["client_x25519_private"]))
    shared = client.exchange(
        X25519PublicKey.from_public_bytes(H(rfc8448["keys"]["server_x25519_public"]))
    )
    assert shared.hex() == s["ecdhe_shared_secret"]
    hashes = _transcripts(rfc8448)

    early = ks.early_secret()
    assert early.hex() == s["early_secret"]
    assert (
        ks.derive_secret(early, "derived", ks.empty_hash()).hex()
        == s["derived_secret_for_handshake"]
    )
    hs = ks.handshake_secret(early, shared)
    assert hs.hex() == s["handshake_secret"]
    assert ks.derive_secret(hs, "derived", ks.empty_hash()).hex() == s["derived_secret_for_master"]

    sched = ks.key_schedule_13(
        shared, hashes["ch_sh"], hashes["ch_to_server_finished"], hashes["ch_to_client_finished"]
    )
    for name in (
        "early_secret",
        "handshake_secret",
        "client_handshake_traffic_secret",
        "server_handshake_traffic_secret",
        "master_secret",
        "client_application_traffic_secret_0",
        "server_application_traffic_secret_0",
        "exporter_master_secret",
        "resumption_master_secret",
    ):
        assert getattr(sched, name).hex() == s[name], name
    assert sched.resumption_master_secret is not None
    assert (
        ks.resumption_psk(sched.resumption_master_secret, b"\x00\x00").hex()
        == s["ticket_psk_for_nonce_0000"]
    )


def test_rfc8448_traffic_keys_and_finished(rfc8448: dict[str, Any]) -> None:
    s, k, f = rfc8448["secrets"], rfc8448["traffic_keys"], rfc8448["finished"]
    for who, phase, secret in (
        ("server", "handshake", "server_handshake_traffic_secret"),
        ("client", "handshake", "client_handshake_traffic_secret"),
        ("server", "application", "server_application_traffic_secret_0"),
        ("client", "application", "client_application_traffic_secret_0"),
    ):
        keys = ks.traffic_keys(H(s[secret]), AES128)
        assert keys.key.hex() == k[f"{who}_{phase}_write_key"]
        assert keys.iv.hex() == k[f"{who}_{phase}_write_iv"]
    hashes = _transcripts(rfc8448)
    shts, chts = H(s["server_handshake_traffic_secret"]), H(s["client_handshake_traffic_secret"])
    assert ks.finished_key(shts).hex() == f["server_finished_key"]
    assert ks.finished_key(chts).hex() == f["client_finished_key"]
    assert (
        ks.verify_data_13(shts, hashes["ch_to_certificate_verify"]).hex() == f["server_verify_data"]
    )
    assert ks.verify_data_13(chts, hashes["ch_to_server_finished"]).hex() == f["client_verify_data"]
    # and they are the bodies of the Finished messages
    assert rfc8448["handshake_messages"]["server_finished"][8:] == f["server_verify_data"]
    assert rfc8448["handshake_messages"]["client_finished"][8:] == f["client_verify_data"]


def test_hkdf_label_layout() -> None:
    # uint16 length, then "tls13 key" with its 1-byte length, then an empty context
    assert ks.hkdf_label("key", b"", 16) == b"\x00\x10\x09tls13 key\x00"


def test_hello_retry_request_transcript_rule() -> None:
    ch1 = b"\x01\x00\x00\x02ab"
    t = Transcript()
    t.update(ch1)
    t.restart_after_hello_retry_request()
    h = ks.digest("sha256", ch1)
    assert t.messages == [b"\xfe\x00\x00\x20" + h]
    assert t.hash() == ks.digest("sha256", b"\xfe\x00\x00\x20" + h)
    two = Transcript()
    two.update(ch1)
    two.update(ch1)
    with pytest.raises(ValueError, match="exactly ClientHello1"):
        two.restart_after_hello_retry_request()


def test_key_update_and_exporters_are_deterministic() -> None:
    secret = bytes(range(32))
    assert ks.next_traffic_secret(secret) == ks.hkdf_expand_label(secret, "traffic upd", b"", 32)
    assert ks.next_traffic_secret(secret) != secret
    a = ks.exporter_13(secret, "EXPERIMENTAL test", b"ctx", 32)
    assert a == ks.exporter_13(secret, "EXPERIMENTAL test", b"ctx", 32)
    assert a != ks.exporter_13(secret, "EXPERIMENTAL test", b"ctx2", 32)
