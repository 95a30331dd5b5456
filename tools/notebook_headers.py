"""Notebook headers, generated from one table and kept in sync (issue: every notebook starts with
its goals, RFC sections, prerequisites, time and previous/next links).

    python tools/notebook_headers.py --write   # rewrite the first cell of every notebook
    python tools/notebook_headers.py --check   # exit 1 if a notebook's header differs (run by the tests)
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

# The six steps of the classic handshake story: the course's backbone. Each notebook's header
# carries a "you are here" strip generated from this table and the notebook's "steps".
SIX_STEPS: list[tuple[str, str]] = [
    ("1", "ClientHello"),
    ("2", "ServerHello"),
    ("3", "Certificate (+ ServerKeyExchange)"),
    ("4", "verify; pre-master -> master secret"),
    ("5", "session keys"),
    ("6", "Finished"),
]

STEPS: dict[str, str] = {
    "00_overview.ipynb": "123456",
    "00a_crypto_primer.ipynb": "",  # the tools every step is built from
    "00b_illustrated_connection.ipynb": "123456",
    "01_client_hello.ipynb": "1",
    "02_server_hello.ipynb": "2",
    "03_certificates.ipynb": "34",
    "04_key_exchange.ipynb": "34",
    "05_key_derivation.ipynb": "45",
    "06_finished.ipynb": "6",
    "07_record_protection.ipynb": "5",
    "08_full_handshake.ipynb": "123456",
    "09_attacks_and_failures.ipynb": "123456",
    "10_post_quantum.ipynb": "34",
    "11_resumption_and_0rtt.ipynb": "1456",
    "12_client_certificates.ipynb": "34",
    "13_alerts_and_key_update.ipynb": "5",
    "14_sni_and_ech.ipynb": "1",
    "15_your_own_handshake.ipynb": "123456",
}


def you_are_here(file: str) -> str:
    """The strip of six steps with this notebook's steps in bold."""
    here = STEPS.get(file, "")
    parts = [
        f"**{number} {name}**" if number in here else f"{number} {name}"
        for number, name in SIX_STEPS
    ]
    label = (
        "The whole handshake"
        if len(here) == len(SIX_STEPS)
        else "You are here"
        if here
        else "The tools behind every step"
    )
    return f"{label}: " + " → ".join(parts)


COURSE: list[dict[str, str]] = [
    {
        "file": "00_overview.ipynb",
        "title": "00 · Overview: one real handshake, then the whole course",
        "goals": "See a real TLS handshake between tlslab and OpenSSL, map the classic six-step story onto TLS 1.2 and TLS 1.3, and find your way through the course.",
        "rfcs": "RFC 8446 §2 (protocol overview); RFC 5246 §7.3 (the TLS 1.2 handshake).",
        "prerequisites": "None. Start here.",
        "time": "About 15 minutes.",
    },
    {
        "file": "00a_crypto_primer.ipynb",
        "title": "00a · A cryptography primer: the six tools a handshake is built from",
        "goals": "Call hash, HMAC, HKDF, AEAD, signatures and Diffie-Hellman with pyca/cryptography, change their inputs and watch what their promises mean; see what a repeated nonce does; know where each one appears in the handshake.",
        "rfcs": "RFC 5869 (HKDF); RFC 2104 (HMAC); RFC 5116 (AEAD); RFC 8446 §4.2.3 (signature schemes), §5.3 (per-record nonce), §7.1 (HKDF-Expand-Label); RFC 8032 (Ed25519); RFC 7748 (X25519).",
        "prerequisites": "Notebook 00. Python basics; no cryptography assumed.",
        "time": "About 30 minutes.",
    },
    {
        "file": "00b_illustrated_connection.ipynb",
        "title": "00b · One connection, byte by byte",
        "goals": "Read one whole TLS 1.3 connection and one whole TLS 1.2 connection record by record: every field of every record explained, every encrypted record opened step by step (secret, key, IV, nonce, additional data, tag), one CBC MAC-then-encrypt record opened by hand; take the connection away as a web page and a Wireshark capture with its key log.",
        "rfcs": "RFC 8446 §2 (overview), §4 (handshake messages), §5.1-5.4 (records), §7.1-7.3 (secrets and keys); RFC 5246 §6.2.3, §7.4; RFC 5288 §3; RFC 7627.",
        "prerequisites": "Notebook 00. Nothing else: later notebooks take each step apart.",
        "time": "About 30 minutes (longer if you read every field).",
    },
    {
        "file": "01_client_hello.ipynb",
        "title": "01 · The ClientHello",
        "goals": "By the end of this notebook you can build a ClientHello field by field, say what every byte of it means, and take apart the ClientHello of a real OpenSSL client.",
        "rfcs": "RFC 8446 §4.1.2 (ClientHello), §4.2 (extensions), §5.1 (records); RFC 5246 §7.4.1.2 for the TLS 1.2 form.",
        "prerequisites": "Python basics; knowing that TLS runs over TCP. Nothing about cryptography yet.",
        "time": "About 40 minutes.",
    },
    {
        "file": "02_server_hello.ipynb",
        "title": "02 · The ServerHello: how the server decides",
        "goals": "Predict the server's choices (version, cipher suite, group, signature scheme) from both sides' preferences; recognise a HelloRetryRequest; see how the downgrade sentinel stops an attacker from forcing TLS 1.2; check all of it against a real OpenSSL server; and watch tlslab refuse the hellos the RFCs forbid, each with its exact alert.",
        "rfcs": "RFC 8446 §4.1.1 (cryptographic negotiation), §4.1.3 (ServerHello, downgrade protection), §4.1.4 (HelloRetryRequest), §4.2.1 (supported_versions), §D.4-D.5; RFC 5246 §7.4.1.3; RFC 7507 (fallback SCSV); RFC 9155 §5; RFC 5746.",
        "prerequisites": "Notebook 01 (ClientHello).",
        "time": "About 40 minutes.",
    },
    {
        "file": "03_certificates.ipynb",
        "title": "03 · Certificates: who is on the other end?",
        "goals": "Read an X.509 certificate field by field; build a root -> intermediate -> leaf chain; validate it step by step and see which check catches each kind of broken chain; compute the CertificateVerify signature that ties the certificate to *this* handshake.",
        "rfcs": "RFC 5280 §4 (certificate fields), §6 (path validation); RFC 6125 / RFC 9525 (server names); RFC 8446 §4.4.2 (Certificate), §4.4.3 (CertificateVerify); CA/Browser Forum Baseline Requirements.",
        "prerequisites": "Notebook 02. A rough idea of digital signatures.",
        "time": "About 50 minutes.",
    },
    {
        "file": "04_key_exchange.ipynb",
        "title": "04 · Key exchange: from Diffie-Hellman to X25519, and why RSA key transport lost",
        "goals": "Run Diffie-Hellman with small numbers, then with the real groups TLS uses (FFDHE, X25519, P-256); see both sides reach the same secret; and see why a recorded RSA key-transport session can be decrypted years later while an ECDHE session cannot.",
        "rfcs": "RFC 8446 §4.2.8 (key_share), §7.4 ((EC)DHE shared secret); RFC 7919 (FFDHE groups); RFC 7748 (X25519); RFC 5246 §7.4.7.1 (RSA-encrypted pre-master secret).",
        "prerequisites": 'Notebook 01. No number theory beyond "a mod b".',
        "time": "About 40 minutes.",
    },
    {
        "file": "05_key_derivation.ipynb",
        "title": "05 · Key derivation: from one shared secret to many keys",
        "goals": "Derive, by hand and from the same Diffie-Hellman secret, the TLS 1.2 pre-master secret, master secret and key block, and the TLS 1.3 key schedule; then reproduce the RFC 8448 trace line by line.",
        "rfcs": "RFC 5246 §5 (the PRF), §8.1 (master secret), §6.3 (key block); RFC 7627 (extended master secret); RFC 8446 §7.1 (key schedule), §7.3 (traffic keys); RFC 8448 §3.",
        "prerequisites": "Notebook 01 (ClientHello). Knowing that both sides end up with the same Diffie-Hellman secret (notebook 04 shows how).",
        "time": "About 45 minutes.",
    },
    {
        "file": "06_finished.ipynb",
        "title": "06 · Finished: proving both sides saw the same handshake",
        "goals": "Compute the transcript hash of a real handshake, derive Finished.verify_data for TLS 1.3 and TLS 1.2, see what a single changed byte anywhere in the handshake does to it, and watch a client refuse a Finished of the wrong length or value.",
        "rfcs": "RFC 8446 §4.4.1 (transcript hash), §4.4.4 (Finished); RFC 5246 §7.4.8-7.4.9 (TLS 1.2 CertificateVerify, Finished); RFC 7627 §5.3; RFC 8448 §3.",
        "prerequisites": "Notebook 05 (the key schedule).",
        "time": "About 30 minutes.",
    },
    {
        "file": "07_record_protection.ipynb",
        "title": "07 · Record protection: sealing and opening records",
        "goals": "Protect and unprotect TLS records with AEAD, build per-record nonces from sequence numbers, see what replayed, reordered and altered records do, decrypt a real OpenSSL session with nothing but the captured bytes and OpenSSL's key log, and see which records tlslab refuses before reading them.",
        "rfcs": "RFC 8446 §5.2-5.4 (record payload protection, nonce, padding); RFC 5246 §6.2.3 and RFC 5288 (TLS 1.2 AEAD, CBC); RFC 7905 (ChaCha20-Poly1305); RFC 7366 (encrypt-then-MAC); RFC 8446 §5.1, §5.5, §6.1 (limits, close_notify).",
        "prerequisites": "Notebook 05 (traffic keys) and 06 (Finished).",
        "time": "About 45 minutes.",
    },
    {
        "file": "08_full_handshake.ipynb",
        "title": "08 · The full handshake: a working client and server",
        "goals": "Run tlslab's client and server against each other flight by flight, watch the state machine and the trace, then talk to OpenSSL in both roles, export a key log that decrypts the session, and see what the engine refuses (EncryptedExtensions, TLS 1.2 client authentication, tickets).",
        "rfcs": "RFC 8446 §2 (protocol overview), §4 (handshake), Appendix A (state machine), §4.6.1 (tickets); RFC 5246 §7.3 (TLS 1.2 handshake flow), §7.4.6-7.4.8 (client authentication).",
        "prerequisites": "Notebooks 01-07: every step here is a function you have already met.",
        "time": "About 45 minutes.",
    },
    {
        "file": "09_attacks_and_failures.ipynb",
        "title": "09 · Attacks and failures",
        "goals": "Play the man in the middle against real handshakes and watch which mechanism stops each attack: the downgrade sentinel, the Finished MAC, certificate validation, forward secrecy. Then run Bleichenbacher's padding-oracle attack against a deliberately vulnerable RSA decryptor and recover a pre-master secret.",
        "rfcs": "RFC 8446 §4.1.3 (downgrade protection), §4.4.4 (Finished), Appendix E (security analysis); RFC 5246 §7.4.7.1 (the Bleichenbacher countermeasure); RFC 7627.",
        "prerequisites": "Notebooks 02-08.",
        "time": "About 50 minutes.",
    },
    {
        "file": "10_post_quantum.ipynb",
        "title": "10 · Post-quantum TLS as browsers speak it today",
        "goals": "See why recorded traffic needs a post-quantum key exchange now; run ML-KEM by hand and compare it with Diffie-Hellman; combine the hybrid X25519MLKEM768 secret; watch the bigger ClientHello span two TCP segments and cost a HelloRetryRequest; weigh ML-DSA certificates against ECDSA; and check it all live against OpenSSL 4 in both roles.",
        "rfcs": "draft-ietf-tls-ecdhe-mlkem (hybrid groups), draft-ietf-tls-mlkem (pure ML-KEM), draft-ietf-tls-mldsa (ML-DSA signatures); FIPS 203 (ML-KEM), FIPS 204 (ML-DSA); RFC 8446 §4.2.8 (key_share), §4.1.4 (HelloRetryRequest), §7.1 (key schedule).",
        "prerequisites": "Notebooks 04 (key exchange) and 08 (the full handshake); 03 for certificates.",
        "time": "About 40 minutes.",
    },
    {
        "file": "11_resumption_and_0rtt.ipynb",
        "title": "11 · Resumption and 0-RTT: coming back without a certificate",
        "goals": "Decode a NewSessionTicket and derive its PSK; resume a TLS 1.3 session and see what it skips; compute the PSK binder by hand and check it against the wire; weigh psk_ke against psk_dhe_ke; watch TLS 1.2 tickets on a real wire; resume live against OpenSSL both ways; and see why 0-RTT early data can be replayed.",
        "rfcs": "RFC 8446 §2.2-2.3 (resumption, 0-RTT), §4.2.9 (psk_key_exchange_modes), §4.2.11 (pre_shared_key, binders), §4.6.1 (NewSessionTicket), §7.1, §8 (0-RTT and anti-replay), Appendix C.4; RFC 5077 (TLS 1.2 tickets); RFC 8470 (HTTP and early data); RFC 8448 §3.",
        "prerequisites": "Notebooks 05 (key schedule), 06 (Finished) and 08 (the full handshake).",
        "time": "About 45 minutes.",
    },
    {
        "file": "12_client_certificates.ipynb",
        "title": "12 · Client certificates: mutual TLS",
        "goals": "See the server ask for a certificate (CertificateRequest), the client answer with its Certificate and CertificateVerify, what the server learns from them, and what happens without one (certificate_required); in TLS 1.3 with tlslab and OpenSSL both ways, in TLS 1.2 from a recorded OpenSSL session.",
        "rfcs": "RFC 8446 §4.3.2 (CertificateRequest), §4.4.2 (Certificate), §4.4.2.4 (receiving a Certificate), §4.4.3 (CertificateVerify), §6.2 (certificate_required); RFC 5246 §7.4.4, §7.4.6, §7.4.8 (TLS 1.2 client authentication).",
        "prerequisites": "Notebooks 03 (certificates) and 08 (the full handshake).",
        "time": "About 35 minutes.",
    },
    {
        "file": "13_alerts_and_key_update.ipynb",
        "title": "13 · Alerts, close_notify and KeyUpdate",
        "goals": "Read and send alerts and tell fatal from warning in both versions; see why a connection must end with close_notify and how a truncation looks to tlslab and to OpenSSL; derive the next traffic secret of a KeyUpdate by hand and run KeyUpdates live against OpenSSL; and see the AEAD usage limits that make KeyUpdate necessary.",
        "rfcs": "RFC 8446 §6 (alerts), §6.1 (closure alerts), §6.2 (error alerts), §4.6.3 (KeyUpdate), §7.2 (updating traffic secrets), §5.5 (limits on key usage); RFC 5246 §7.2.",
        "prerequisites": "Notebooks 05 (key schedule) and 07 (record protection).",
        "time": "About 35 minutes.",
    },
    {
        "file": "14_sni_and_ech.ipynb",
        "title": "14 · SNI and Encrypted Client Hello: what the wire still says",
        "goals": "Find the server name in a real ClientHello captured on 127.0.0.1, list what else an observer learns from TLS 1.2 and TLS 1.3 handshakes, and understand how Encrypted Client Hello hides the name and what it cannot hide.",
        "rfcs": "RFC 6066 §3 (server_name); RFC 8446 §4.1.2, §4.4.2 (what travels in the clear); RFC 9849 (TLS Encrypted Client Hello); RFC 9848 (ECH configuration in DNS); RFC 8744 (SNI encryption problem statement).",
        "prerequisites": "Notebooks 01 (ClientHello) and 03 (certificates).",
        "time": "About 25 minutes.",
    },
    {
        "file": "15_your_own_handshake.ipynb",
        "title": "15 · Your own handshake: a real capture and its key log",
        "goals": "Open a packet capture and the key log a browser writes (SSLKEYLOGFILE), see every record of a TLS 1.3 and a TLS 1.2 connection decrypted and explained, and record and read your own browser's handshake.",
        "rfcs": "RFC 8446 §5.2 (the hidden content type), §7.1 and §7.3 (the secrets a key log holds); RFC 5246 §6.3 and §8.1 (master secret, key block); RFC 9293 §3.4 (TCP sequence numbers); the NSS key log format.",
        "prerequisites": "Notebooks 05-08 (key schedule, Finished, record protection, the full handshake).",
        "time": "About 30 minutes, plus 10 to capture your own.",
    },
]


def header(index: int) -> str:
    entry = COURSE[index]
    nav = []
    if index > 0:
        nav.append(f"[← {COURSE[index - 1]['file'][:-6]}]({COURSE[index - 1]['file']})")
    if index != 0:
        nav.append("[course map](00_overview.ipynb)")
    if index + 1 < len(COURSE):
        nav.append(f"[{COURSE[index + 1]['file'][:-6]} →]({COURSE[index + 1]['file']})")
    return "\n".join(
        [
            f"# {entry['title']}",
            "",
            f"**Goals.** {entry['goals']}",
            "",
            f"**RFC sections.** {entry['rfcs']}",
            "",
            f"**Prerequisites.** {entry['prerequisites']}",
            "",
            f"**Time.** {entry['time']}",
            "",
            you_are_here(entry["file"]),
            "",
            " · ".join(nav),
        ]
    )


def differences() -> list[str]:
    """Notebooks whose first cell is not the generated header (or missing notebooks)."""
    out = []
    for index, entry in enumerate(COURSE):
        path = NOTEBOOKS / entry["file"]
        if not path.exists():
            out.append(f"{entry['file']}: missing")
            continue
        nb = nbformat.read(path, as_version=4)
        if (
            not nb.cells
            or nb.cells[0].cell_type != "markdown"
            or nb.cells[0].source != header(index)
        ):
            out.append(entry["file"])
    return out


def write() -> None:
    for index, entry in enumerate(COURSE):
        path = NOTEBOOKS / entry["file"]
        nb = nbformat.read(path, as_version=4)
        if nb.cells and nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "):
            nb.cells[0].source = header(index)
        else:
            cell = nbformat.v4.new_markdown_cell(header(index))
            cell["id"] = f"nb{entry['file'][:2]}-header"
            nb.cells.insert(0, cell)
        nbformat.write(nb, path)


if __name__ == "__main__":
    if "--write" in sys.argv:
        write()
    stale = differences()
    if stale:
        print("headers out of date (run tools/notebook_headers.py --write):", ", ".join(stale))
        sys.exit(1)
    print(f"{len(COURSE)} notebook headers in sync")
