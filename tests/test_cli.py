"""The command line as a user meets it: the zero-setup demo, client and server against each other
and against `openssl s_client` / `openssl s_server` (mutual TLS, resumption), and clean one-line
failures against servers that stall, drip, reset or are not there."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from tlslab.__main__ import build_parser, main
from tlslab.pki.certificates import build_chain

from .openssl_peers import HOST, files_for

pytestmark = pytest.mark.interop
ROOT = Path(__file__).resolve().parent.parent
needs_openssl = pytest.mark.skipif(
    shutil.which("openssl") is None, reason="the openssl command is not installed"
)


def tlslab(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tlslab", *args], capture_output=True, text=True, timeout=timeout
    )


@cache
def client_files() -> tuple[Path, Path, Path]:
    """A client certificate (clientAuth) under its own teaching CA: chain, key and root PEM."""
    chain = build_chain(
        "client.lab.example",
        seed="cli mtls client",
        now=dt.datetime.now(dt.timezone.utc),
        leaf_options={"extended_key_usage": ["clientAuth"]},
    )
    base = files_for("ecdsa")[0].parent.parent / "client"
    base.mkdir(exist_ok=True)
    (base / "chain.pem").write_bytes(
        b"".join(
            c.public_bytes(Encoding.PEM)
            for c in (chain.leaf.certificate, *chain.intermediate_certificates)
        )
    )
    (base / "key.pem").write_bytes(
        chain.leaf.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    )
    (base / "root.pem").write_bytes(chain.root.certificate.public_bytes(Encoding.PEM))
    return base / "chain.pem", base / "key.pem", base / "root.pem"


class CliServer:
    """``python -m tlslab server`` in a child process; ``lines`` collects its log as it runs."""

    def __init__(self, *args: str) -> None:
        chain, key, _ = files_for("ecdsa")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tlslab", "server", "--port", "0"]
            + ["--cert", str(chain), "--key", str(key), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        assert first.startswith("tlslab echo server on "), first
        self.port = first.strip().rsplit(":", 1)[1]
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for_lines(self, count: int, timeout: float = 30) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.lines) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.lines)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(10)


@contextlib.contextmanager
def cli_server(*args: str) -> Iterator[CliServer]:
    server = CliServer(*args)
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def s_server(*args: str, connections: int = 1) -> Iterator[str]:
    """``openssl s_server`` for the lab.example chain; yields its port once it accepts. ``-rev``
    makes it answer each line reversed, so a client that sends sees a reply."""
    chain, key, _ = files_for("ecdsa")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [shutil.which("openssl") or "openssl", "s_server", "-accept", f"127.0.0.1:{port}"]
        + ["-cert", str(chain), "-cert_chain", str(chain), "-key", str(key), "-rev"]
        + ["-naccept", str(connections + 1), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break  # the readiness probe counts as one of the accepted connections
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("openssl s_server did not start") from None
                time.sleep(0.05)
        time.sleep(0.1)
        yield str(port)
    finally:
        proc.kill()
        proc.wait(5)


def s_client(port: str, *args: str, data: str = "hello\n") -> subprocess.CompletedProcess[str]:
    """``openssl s_client`` trusting the lab.example root; ``-quiet`` prints only what it receives."""
    _, _, root = files_for("ecdsa")
    return subprocess.run(
        [shutil.which("openssl") or "openssl", "s_client", "-connect", f"127.0.0.1:{port}"]
        + ["-CAfile", str(root), "-servername", HOST, "-verify_return_error", "-quiet", *args],
        input=data,
        capture_output=True,
        text=True,
        timeout=60,
    )


def client_args(port: str, *more: str) -> list[str]:
    return [
        "client",
        "127.0.0.1",
        port,
        "--cafile",
        str(files_for("ecdsa")[2]),
        "--servername",
        HOST,
        *more,
    ]


# -- the demo ------------------------------------------------------------------------------------


def test_demo_runs_with_nothing_else_running() -> None:
    out = tlslab("demo")
    assert out.returncode == 0, out.stderr
    assert "TLS 1.3: tlslab client -> OpenSSL server" in out.stdout
    assert "reply: OpenSSL echoes: hello over TLS 1.3" in out.stdout
    assert "reply: OpenSSL echoes: hello over TLS 1.2" in out.stdout
    assert "check server Finished: ok" in out.stdout


# -- client and server against each other --------------------------------------------------------


def test_cli_client_and_server(tmp_path: Path) -> None:
    keylog = tmp_path / "keylog.txt"
    with cli_server("--keylog", str(tmp_path / "server-keylog.txt")) as server:
        for version in ("1.3", "1.2"):
            client = tlslab(
                *client_args(server.port, "--tls", version, "--keylog", str(keylog)),
                "--send",
                "hello cli\\r\\n",
            )
            assert client.returncode == 0, client.stderr
            assert "hello cli" in client.stdout
        lines = server.wait_for_lines(2)
        # with no --cafile the client trusts the system's roots, which do not include ours
        untrusted = tlslab("client", "127.0.0.1", server.port, "--servername", HOST)
        log = server.wait_for_lines(3)
    text = keylog.read_text()
    assert "CLIENT_TRAFFIC_SECRET_0" in text and "CLIENT_RANDOM" in text  # appended, 1.3 then 1.2
    assert "CLIENT_TRAFFIC_SECRET_0" in (tmp_path / "server-keylog.txt").read_text()
    assert re.fullmatch(
        r"127\.0\.0\.1:\d+ TLS 1\.3 TLS_\w+ X25519MLKEM768: ok, 11 bytes received", lines[0]
    )
    assert re.fullmatch(
        r"127\.0\.0\.1:\d+ TLS 1\.2 TLS_\w+ x25519: ok, 11 bytes received", lines[1]
    )
    assert untrusted.returncode == 1
    assert untrusted.stderr.count("\n") == 1 and "unknown_ca" in untrusted.stderr
    assert "the peer sent the fatal alert unknown_ca" in log[2]


def test_server_flags_choose_what_is_negotiated_and_once_exits() -> None:
    """--groups, --ciphers and --alpn shape the handshake (the client's x25519 share is answered by
    a HelloRetryRequest for secp384r1); --once serves one connection and exits 0."""
    with cli_server(
        "--groups",
        "secp384r1",
        "--ciphers",
        "TLS_CHACHA20_POLY1305_SHA256",
        "--alpn",
        "h2,http/1.1",
        "--once",
    ) as server:
        out = tlslab(*client_args(server.port, "--alpn", "http/1.1", "--send", "x", "--trace"))
        (line,) = server.wait_for_lines(1)
        assert server.process.wait(30) == 0
    assert out.returncode == 0, out.stderr
    assert "ALPN: http/1.1" in out.stdout and "check server Finished: ok" in out.stdout
    assert "HelloRetryRequest" in out.stdout
    assert re.fullmatch(
        r"127\.0\.0\.1:\d+ TLS 1\.3 TLS_CHACHA20_POLY1305_SHA256 secp384r1 alpn http/1\.1: ok, "
        r"1 bytes received",
        line,
    )


def _has_ipv6_loopback() -> bool:
    try:
        with socket.create_server(("::1", 0), family=socket.AF_INET6):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="this machine has no IPv6 loopback")
def test_server_listens_on_the_ipv6_loopback() -> None:
    """`--host ::1` used to fail: "Address family for hostname not supported" (an IPv4 socket)."""
    with cli_server("--host", "::1", "--once") as server:
        args = client_args(server.port, "--send", "six")
        args[1] = "::1"
        out = tlslab(*args)
        (line,) = server.wait_for_lines(1)
    assert out.returncode == 0, out.stderr
    assert "six" in out.stdout and line.startswith("::1:") and line.endswith("ok, 3 bytes received")


def test_ctrl_c_stops_the_server_without_a_traceback() -> None:
    with cli_server() as server:
        time.sleep(0.5)
        server.process.send_signal(signal.SIGINT)
        assert server.process.wait(30) == 0
        lines = server.wait_for_lines(1, timeout=5)
    assert lines == ["stopped"]


def test_idle_listener_outlives_its_timeouts() -> None:
    """Nobody connects for six times the handshake and idle timeouts: the listener still serves."""
    with cli_server("--timeout", "0.5", "--idle-timeout", "0.5") as server:
        time.sleep(3)
        assert server.process.poll() is None, server.lines
        client = tlslab(*client_args(server.port, "--send", "late"))
        assert client.returncode == 0, client.stderr
        assert "late" in client.stdout


def test_server_rejects_bad_options_in_one_line(tmp_path: Path) -> None:
    missing = tlslab("server", "--cert", str(tmp_path / "nope.pem"), "--key", "k.pem")
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1
    assert "cannot load" in missing.stderr and "Traceback" not in missing.stderr
    lonely = tlslab("server", "--cert", "c.pem", "--key", "k.pem", "--require-client-cert")
    assert lonely.returncode == 1 and "--cafile" in lonely.stderr
    unknown = tlslab("client", "127.0.0.1", "1", "--groups", "x25519,bogus")
    assert unknown.returncode == 2 and "unknown group 'bogus'" in unknown.stderr


SERVER = ["server", "--cert", "c.pem", "--key", "k.pem"]


@pytest.mark.parametrize(
    "argv,message",
    [
        # port 70000 used to wrap silently to 70000 - 65536 = 4464 in the client (getaddrinfo) and
        # end the server with an OverflowError traceback
        (["client", "127.0.0.1", "70000"], "invalid port '70000': a number from 1 to 65535"),
        (["client", "127.0.0.1", "0"], "invalid port '0': a number from 1 to 65535"),
        ([*SERVER, "--port", "70000"], "invalid port '70000': a number from 0 to 65535"),
        ([*SERVER, "--port", "-1"], "invalid port '-1': a number from 0 to 65535"),
    ],
)
def test_ports_out_of_range_are_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and message in err and "Traceback" not in err


@pytest.mark.parametrize(
    "argv,message",
    [
        # NaN and infinity ended in ValueError/OverflowError tracebacks from settimeout; a negative
        # deadline gave "no result within the -1 s deadline"; --max-connections -1 a ValueError
        # traceback, and 0 a server that never accepts anyone
        (["client", "127.0.0.1", "1", "--timeout", "nan"], "invalid seconds 'nan'"),
        (["client", "127.0.0.1", "1", "--timeout", "-1"], "invalid seconds '-1'"),
        ([*SERVER, "--timeout", "inf"], "invalid seconds 'inf'"),
        ([*SERVER, "--idle-timeout", "0"], "invalid seconds '0'"),
        ([*SERVER, "--max-connections", "0"], "invalid count '0': a whole number from 1"),
        ([*SERVER, "--max-connections", "-1"], "invalid count '-1': a whole number from 1"),
        ([*SERVER, "--tickets", "-1"], "invalid count '-1': a whole number from 0"),
    ],
)
def test_bad_numbers_are_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and message in err and "Traceback" not in err


def test_a_bad_escape_in_send_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """`--send 'ab\\x'` used to end in a ValueError traceback from codecs.escape_decode."""
    with pytest.raises(SystemExit) as stop:
        main(["client", "127.0.0.1", "1", "--send", "ab\\x"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "Traceback" not in err
    assert "argument --send: invalid escape in 'ab\\\\x': invalid \\x escape at position 2" in err


@pytest.mark.parametrize("host", ["a..b", "x" * 64 + ".example"])
def test_a_host_name_that_cannot_be_encoded_is_one_line(
    host: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An empty or over-long DNS label used to end in a UnicodeError traceback (the idna codec)."""
    assert main(["client", host, "443", "--cafile", str(files_for("ecdsa")[2])]) == 1
    err = capsys.readouterr().err
    assert err.startswith("tlslab client: cannot resolve the host name (invalid host name ")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_an_unwritable_keylog_is_named_before_connecting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It used to be found only after a good handshake, and reported as "network error: No such
    file or directory". Nothing listens on the port: the key log is checked before connecting."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    keylog = tmp_path / "missing" / "keys.log"
    assert main([*client_args(port), "--keylog", str(keylog)]) == 1
    err = capsys.readouterr().err
    assert err == f"tlslab client: cannot append to {keylog}: No such file or directory\n"
    chain, key, _ = files_for("ecdsa")
    server = ["server", "--cert", str(chain), "--key", str(key), "--port", "0"]
    assert main([*server, "--keylog", str(keylog), "--once"]) == 1  # not one error per connection
    err = capsys.readouterr().err
    assert err == f"tlslab server: cannot append to {keylog}: No such file or directory\n"


def test_a_key_that_does_not_match_the_certificate_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The root's certificate with the leaf's key: the server used to start and then fail every
    handshake (the client sees a bad CertificateVerify); OpenSSL refuses such a pair at start."""
    chain, key, root = files_for("ecdsa")
    assert main(["server", "--cert", str(root), "--key", str(key), "--port", "0", "--once"]) == 1
    message = f"the private key in {key} does not match the certificate in {root}"
    assert (
        capsys.readouterr().err
        == f"tlslab server: cannot load the certificates or key: {message}\n"
    )
    client = ["client", "127.0.0.1", "1", "--insecure", "--cert", str(root), "--key", str(key)]
    assert main(client) == 1
    assert capsys.readouterr().err.endswith(f"cannot load the certificates or key: {message}\n")


# -- the client against servers that misbehave ---------------------------------------------------


def _silent(conn: socket.socket, stop: threading.Event) -> None:
    stop.wait(60)


def _drip(conn: socket.socket, stop: threading.Event) -> None:
    for byte in bytes.fromhex("160303004002000040") + bytes(100):  # a ServerHello, slowly
        if stop.wait(0.3):
            return
        conn.send(bytes([byte]))


def _reset(conn: socket.socket, stop: threading.Event) -> None:
    conn.recv(65536)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _hang_up(conn: socket.socket, stop: threading.Event) -> None:
    conn.recv(65536)
    conn.shutdown(socket.SHUT_RDWR)


@pytest.mark.parametrize(
    "behaviour,expected",
    [
        (_silent, "timed out (connect and handshake: no result within the 2 s deadline)"),
        (_drip, "timed out (connect and handshake: no result within the 2 s deadline)"),
        (_reset, "the peer reset the connection"),
        (_hang_up, "the peer closed the connection during the handshake"),
        (None, "connection refused (nothing is listening on that port)"),
    ],
    ids=["silent", "drip", "reset", "hang-up", "refused"],
)
def test_client_fails_in_one_line_within_its_deadline(behaviour: object, expected: str) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = str(listener.getsockname()[1])
    stop = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn, contextlib.suppress(OSError):
            behaviour(conn, stop)  # type: ignore[operator]

    if behaviour is None:
        listener.close()  # nothing listens on the port any more
    else:
        threading.Thread(target=serve, daemon=True).start()
    started = time.monotonic()
    try:
        out = tlslab(*client_args(port, "--timeout", "2", "--send", "x"), timeout=60)
    finally:
        stop.set()
        listener.close()
    elapsed = time.monotonic() - started
    assert out.returncode == 1
    assert out.stderr == f"tlslab client: {expected}\n"
    assert out.stdout == ""
    assert elapsed < 2 + 25  # the 2 s deadline plus a generous margin for starting Python


def test_ctrl_c_stops_the_client_in_one_line() -> None:
    """Ctrl-C while the client waits for a silent server: one line and exit code 130 (128 +
    SIGINT, as shells report it), not a KeyboardInterrupt traceback."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(60)
        port = str(listener.getsockname()[1])
        client = subprocess.Popen(
            [sys.executable, "-m", "tlslab", *client_args(port, "--timeout", "120")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            conn, _ = listener.accept()  # the client is now waiting for a ServerHello
            with conn:
                conn.recv(65536)
                client.send_signal(signal.SIGINT)
                out, err = client.communicate(timeout=60)
        finally:
            client.kill()
    assert client.returncode == 130
    assert err == "tlslab client: interrupted\n" and out == ""


# -- mutual TLS ----------------------------------------------------------------------------------


@needs_openssl
@pytest.mark.parametrize(
    "version",
    [
        "1.3",
        "1.2",
    ],
)
def test_server_requires_client_certificates_from_openssl_s_client(version: str) -> None:
    chain, key, root = client_files()
    with cli_server(
        "--require-client-cert", "--cafile", str(root), "--tls", version, "--idle-timeout", "1"
    ) as server:
        flag = {"1.3": "-tls1_3", "1.2": "-tls1_2"}[version]
        out = s_client(
            server.port, flag, "-cert", str(chain), "-cert_chain", str(chain), "-key", str(key)
        )
        (line,) = server.wait_for_lines(1)
    assert out.stdout == "hello\n", out.stderr
    assert f"TLS {version}" in line and line.endswith("client certificate: ok, 6 bytes received")


@needs_openssl
def test_server_refuses_a_client_without_a_certificate() -> None:
    _, _, root = client_files()
    with cli_server("--require-client-cert", "--cafile", str(root)) as server:
        out = s_client(server.port, "-tls1_3")
        (line,) = server.wait_for_lines(1)
    assert out.stdout == ""
    assert "certificate required" in out.stderr  # OpenSSL's name for the alert it received
    assert line.endswith(
        "failed: tlslab sent the alert certificate_required: the client sent no certificate, and this server requires one"
    )


@needs_openssl
@pytest.mark.parametrize(
    "version",
    [
        "1.3",
        "1.2",
    ],
)
def test_client_certificate_for_openssl_s_server_verify(version: str) -> None:
    chain, key, root = client_files()
    with s_server("-Verify", "1", "-verify_return_error", "-CAfile", str(root)) as port:
        out = tlslab(
            *client_args(port, "--tls", version),
            *("--cert", str(chain), "--key", str(key), "--send", "hello\\n"),
        )
    assert out.returncode == 0, out.stderr
    assert "olleh" in out.stdout


# -- resumption ----------------------------------------------------------------------------------


@needs_openssl
def test_resume_against_openssl_s_server() -> None:
    with s_server(connections=2) as port:
        out = tlslab(*client_args(port, "--send", "hi\\n", "--resume"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("ih") == 2
    assert out.stdout.rstrip().endswith("resumed: yes")


def test_resume_against_tlslab_server_with_tickets() -> None:
    with cli_server("--tickets", "2") as server:
        out = tlslab(*client_args(server.port, "--send", "hi", "--resume"))
        lines = server.wait_for_lines(2)
    assert out.returncode == 0, out.stderr
    assert out.stdout.rstrip().endswith("resumed: yes")
    assert "resumed" not in lines[0] and " resumed: ok" in lines[1]


def test_resume_fails_in_one_line_when_the_server_issues_no_ticket() -> None:
    with cli_server() as server:
        out = tlslab(*client_args(server.port, "--resume"))
    assert out.returncode == 1
    assert out.stderr == "tlslab client: --resume: the server sent no session ticket\n"


# -- the README --------------------------------------------------------------------------------


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return dict(sub.choices)  # type: ignore[arg-type]


def _options(subcommand: str) -> set[str]:
    options = _subcommands()[subcommand]._actions
    return {o for action in options for o in action.option_strings if o.startswith("--")} - {
        "--help"
    }


@pytest.mark.parametrize("subcommand", sorted(_subcommands()))
def test_readme_command_list_matches_help(subcommand: str) -> None:
    readme = (ROOT / "README.md").read_text()
    entry = re.search(
        rf"^- `python -m tlslab {subcommand}\b(.*?)(?=^- `python|^\S|\Z)", readme, re.M | re.S
    )
    assert entry, f"README has no entry for `python -m tlslab {subcommand}`"
    assert set(re.findall(r"--[a-z][a-z-]*", entry.group(0))) == _options(subcommand)
