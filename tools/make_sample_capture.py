"""Record the sample capture that notebook 15 opens offline (run once, as root, with tcpdump).

    python tools/make_sample_capture.py   # writes tlslab/vectors/loopback.pcap and loopback_keys.log

What it records is what a learner records with a browser, with OpenSSL standing in for both
the browser and the web server: tcpdump on the loopback interface, an OpenSSL client (Python's
``ssl``) that writes its secrets to a key log exactly as a browser does with SSLKEYLOGFILE, and
an OpenSSL server on 127.0.0.1. Two connections: TLS 1.3, then TLS 1.2. tlslab takes no part
in the connections; it only reads the capture afterwards.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

from tlslab.net.capture import open_capture
from tlslab.net.openssl_lab import openssl_echo_server
from tlslab.pki.certificates import build_chain

OUT = Path(__file__).resolve().parent.parent / "tlslab" / "vectors"
REQUEST = b"GET / HTTP/1.1\r\nHost: lab.example\r\nUser-Agent: sample-capture\r\n\r\n"


def browse(port: int, root: bytes, version: ssl.TLSVersion, keylog: Path) -> bytes:
    ctx = ssl.create_default_context(cadata=root.decode())
    ctx.minimum_version = ctx.maximum_version = version
    ctx.keylog_filename = str(keylog)  # what SSLKEYLOGFILE does in a browser
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        ctx.wrap_socket(raw, server_hostname="lab.example") as tls,
    ):
        tls.sendall(REQUEST)
        reply = tls.recv(65536)
        with contextlib.suppress(OSError):  # (the echo server closes without answering it)
            tls.unwrap()  # close_notify
    return reply


def main() -> int:
    if shutil.which("tcpdump") is None:
        print("tcpdump is needed (apt-get install tcpdump)", file=sys.stderr)
        return 1
    chain = build_chain(seed="sample-capture")
    root = chain.root.certificate.public_bytes(Encoding.PEM)
    with tempfile.TemporaryDirectory() as tmp:
        pcap, keylog = Path(tmp) / "loopback.pcap", Path(tmp) / "keys.log"
        with openssl_echo_server(chain) as port:
            dump = subprocess.Popen(
                ["tcpdump", "-i", "lo", "--immediate-mode", "-U", "-Z", "root", "-w", str(pcap)]
                + [f"tcp port {port}"],
                stderr=subprocess.DEVNULL,
            )
            while not pcap.exists() or pcap.stat().st_size < 24:
                time.sleep(0.05)
            time.sleep(0.3)
            for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
                assert browse(port, root, version, keylog) == REQUEST
                time.sleep(0.2)
            time.sleep(0.5)
            dump.terminate()
            dump.wait(10)
        capture = open_capture(pcap, keylog)
        print(capture.summary())
        if len(capture) != 2 or not all(c.decrypted for c in capture):
            print("the capture did not decrypt completely; not written", file=sys.stderr)
            return 1
        shutil.copy(pcap, OUT / "loopback.pcap")
        shutil.copy(keylog, OUT / "loopback_keys.log")
    print(f"wrote {OUT / 'loopback.pcap'} and {OUT / 'loopback_keys.log'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
