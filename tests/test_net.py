"""The socket drivers (tlslab.net.sockets): a server that serves everyone at once, deadlines that a
dripping peer cannot stretch, failures kept as text (no reference cycles), flat memory."""

from __future__ import annotations

import gc
import os
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
import unittest.mock
import weakref
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tlslab.constants import ProtocolVersion as V
from tlslab.engine.client import ClientConfig
from tlslab.engine.server import ServerIdentity
from tlslab.errors import RemoteAlert, TLSError
from tlslab.net.sockets import (
    Deadline,
    PeerClosed,
    Server,
    Session,
    connect,
    describe_failure,
    serve,
)
from tlslab.stages.negotiation import ServerConfig

from .openssl_peers import HOST, chain_for, files_for

pytestmark = pytest.mark.interop

# A ClientHello record header announcing a 512-byte record, and the handshake header of a
# ClientHello: what a peer sends before it stalls ("half a ClientHello").
HALF_A_CLIENT_HELLO = bytes.fromhex("1603010200") + bytes.fromhex("010001fc0303") + bytes(40)


def _client_config(**changes: object) -> ClientConfig:
    config = ClientConfig(server_name=HOST, trust_roots=tuple(chain_for("ecdsa").trust_roots))
    return config.replace(**changes)


class _Running:
    """A :class:`Server` in a background thread; ``sessions`` collects every finished connection."""

    def __init__(self, server_config: ServerConfig | None = None, **options: object) -> None:
        self.sessions: list[Session] = []
        self.done = threading.Condition()
        listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.server = Server(
            listener,
            server_config or ServerConfig(),
            ServerIdentity.from_chain(chain_for("ecdsa")),
            on_session=self._finished,
            **options,  # type: ignore[arg-type]
        )
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _finished(self, session: Session) -> None:
        with self.done:
            self.sessions.append(session)
            self.done.notify_all()

    def wait_for(self, count: int, timeout: float) -> list[Session]:
        with self.done:
            self.done.wait_for(lambda: len(self.sessions) >= count, timeout)
            return list(self.sessions)

    def stop(self) -> None:
        self.server.close()
        self.thread.join(5)
        self.server.listener.close()


@pytest.fixture
def running() -> Iterator[type[_Running]]:
    started: list[_Running] = []

    def start(*args: object, **kwargs: object) -> _Running:
        r = _Running(*args, **kwargs)  # type: ignore[arg-type]
        started.append(r)
        return r

    yield start  # type: ignore[misc]
    for r in started:
        r.stop()


def test_fifty_clients_are_served_while_a_peer_stalls(running: type[_Running]) -> None:
    """One peer sends half a ClientHello and stalls, another drips a byte at a time; meanwhile 50
    tlslab clients connect at once. Every client completes within its deadline, while the stalled
    peer's connection is still open (its 120 s handshake deadline has not passed): nobody waited
    for it."""
    r = running(handshake_timeout=120.0)
    stalled = socket.create_connection(("127.0.0.1", r.server.port))
    stalled.sendall(HALF_A_CLIENT_HELLO)
    dripper = socket.create_connection(("127.0.0.1", r.server.port))
    stop = threading.Event()

    def drip() -> None:
        for byte in HALF_A_CLIENT_HELLO:
            if stop.wait(0.2):
                return
            dripper.send(bytes([byte]))

    threading.Thread(target=drip, daemon=True).start()
    try:

        def one(i: int) -> Session:
            return connect(
                "127.0.0.1", r.server.port, _client_config(), send=b"client %d" % i, timeout=60
            )

        with ThreadPoolExecutor(max_workers=50) as pool:
            results = list(pool.map(one, range(50)))
        assert [s.received for s in results] == [b"client %d" % i for i in range(50)]
        assert all(s.ok and s.handshake.version == V.TLS13 for s in results)
        served = r.wait_for(50, timeout=30)
        assert len(served) == 50 and all(s.ok for s in served)
        # the stalled peer is still connected: the server did not close it to make room
        stalled.settimeout(0.1)
        with pytest.raises(TimeoutError):
            stalled.recv(1)
    finally:
        stop.set()
        stalled.close()
        dripper.close()
    late = r.wait_for(52, timeout=30)
    failures = [s for s in late if not s.ok]
    assert len(failures) == 2
    assert all("closed the connection during the handshake" in (s.error or "") for s in failures)


def test_a_dripping_peer_cannot_stretch_the_handshake_deadline(running: type[_Running]) -> None:
    """One byte every 0.2 s would satisfy any per-read timeout forever; the 1 s deadline still ends
    the handshake. The failure is one line naming the timeout."""
    r = running(handshake_timeout=1.0)
    peer = socket.create_connection(("127.0.0.1", r.server.port))
    started = time.monotonic()
    closed_after = None
    try:
        for byte in HALF_A_CLIENT_HELLO:
            try:
                peer.send(bytes([byte]))
            except OSError:
                closed_after = time.monotonic() - started
                break
            time.sleep(0.2)
            if r.wait_for(1, timeout=0):
                closed_after = time.monotonic() - started
                break
        (session,) = r.wait_for(1, timeout=20)
    finally:
        peer.close()
    assert closed_after is not None and closed_after < 8.0  # HALF_A_CLIENT_HELLO takes > 10 s
    assert session.error is not None and "timed out" in session.error
    assert "handshake" in session.error and "\n" not in session.error
    assert "failed: timed out" in session.summary()


def test_an_idle_client_after_the_handshake_is_closed_cleanly(running: type[_Running]) -> None:
    r = running(idle_timeout=0.5)
    config = _client_config()
    with socket.create_connection(("127.0.0.1", r.server.port)) as sock:
        from tlslab.engine.client import TLSClient

        client = TLSClient(config)
        client.start()
        sock.sendall(client.data_to_send())
        sock.settimeout(10)
        events = []
        while not client.handshake_complete:
            events += client.receive_data(sock.recv(65536))
        sock.sendall(client.data_to_send())
        # say nothing: the server sends close_notify after its idle timeout
        events += client.receive_data(sock.recv(65536))
        assert "ConnectionClosed" in [type(e).__name__ for e in events]
    (session,) = r.wait_for(1, timeout=20)
    assert session.ok and session.error is None


def test_a_long_echo_connection_keeps_bounded_memory(running: type[_Running]) -> None:
    """8 MiB echoed through one connection: the client gets every byte back, and the server's
    Session keeps at most KEPT_BYTES of it (and a bounded number of events) while counting all of
    it. It used to keep everything twice (``received`` and the events), and ``received += ...``
    copied the whole history on every record: one client could pin a core and grow the heap."""
    from tlslab.engine.client import TLSClient
    from tlslab.net.sockets import KEPT_BYTES, KEPT_EVENTS

    total, piece = 8 * 2**20, 2**16
    r = running(idle_timeout=30.0)
    client = TLSClient(_client_config())
    echoed = 0
    with socket.create_connection(("127.0.0.1", r.server.port)) as sock:
        sock.settimeout(60)
        client.start()
        sock.sendall(client.data_to_send())
        while not client.handshake_complete:
            client.receive_data(sock.recv(65536))
        sock.sendall(client.data_to_send())

        def read_back() -> None:
            nonlocal echoed
            while echoed < total:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                for event in client.receive_data(chunk):
                    if type(event).__name__ == "ApplicationData":
                        echoed += len(event.data)

        reader = threading.Thread(target=read_back, daemon=True)
        reader.start()
        for _ in range(total // piece):
            client.send_application_data(b"e" * piece)
            sock.sendall(client.data_to_send())
        reader.join(120)
        client.close()
        sock.sendall(client.data_to_send())
        (session,) = r.wait_for(1, timeout=60)
    assert echoed == total
    assert session.ok and session.received_bytes == total
    assert session.received == b"e" * KEPT_BYTES
    assert len(session.events) <= KEPT_EVENTS
    assert session.summary().endswith(f"ok, {total} bytes received")


def test_a_failing_on_session_callback_is_one_line_not_a_thread_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI's callback prints; with its stdout gone (``tlslab server | head -1``) print raises
    BrokenPipeError, which used to escape the connection's thread as a traceback. Now: one line
    on stderr, and the server goes on serving."""
    escaped: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda hook: escaped.append(hook.exc_value))
    calls: list[Session] = []

    def broken(session: Session) -> None:
        calls.append(session)
        raise BrokenPipeError(32, "Broken pipe")

    listener = socket.create_server(("127.0.0.1", 0))
    server = Server(
        listener, ServerConfig(), ServerIdentity.from_chain(chain_for("ecdsa")), on_session=broken
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for text in (b"one", b"two"):
            got = connect("127.0.0.1", server.port, _client_config(), send=text, timeout=30)
            assert got.received == text
        deadline = time.monotonic() + 30
        while len(calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.join(30)
    finally:
        server.close()
        thread.join(5)
        listener.close()
    assert len(calls) == 2 and escaped == []
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and all(
        line.startswith("tlslab server: on_session failed for 127.0.0.1:")
        and line.endswith(": BrokenPipeError: [Errno 32] Broken pipe")
        for line in lines
    ), lines


def test_a_flood_of_tls12_warning_alerts_ends_the_connection() -> None:
    from tlslab.engine.client import TLSClient
    from tlslab.engine.memory import handshake_in_memory
    from tlslab.engine.server import TLSServer

    client = TLSClient(_client_config(versions=(V.TLS12,)))
    server = TLSServer(ServerConfig(), ServerIdentity.from_chain(chain_for("ecdsa")))
    assert handshake_in_memory(client, server).completed
    server.receive_data(client.data_to_send())
    steps = len(server.trace.events)
    with pytest.raises(TLSError):
        for _ in range(1000):
            client._send_alert(90, 1)  # user_canceled, as a warning
            server.receive_data(client.data_to_send())
    assert len(server.trace.events) - steps < 100


def test_a_handshake_that_never_ends_is_cut_off_at_the_byte_budget(running: type[_Running]) -> None:
    """A ClientHello announcing 16 MiB, sent as fast as the socket takes it: the server used to
    buffer all of it (16 MiB per connection, 2 GiB at the default 128 connections). Now it ends the
    connection once the peer has sent HANDSHAKE_BYTES without finishing the handshake."""
    from tlslab.net.sockets import HANDSHAKE_BYTES

    r = running(handshake_timeout=60.0)
    _oversized_hello(r.server.port)
    (session,) = r.wait_for(1, timeout=60)
    # cut off by the budget, or sooner by an engine that caps each handshake message (main's
    # engine refuses a hello over 64 KiB with illegal_parameter, as OpenSSL does)
    assert session.error is not None and not session.ok
    assert session.wire_bytes <= HANDSHAKE_BYTES + 65536  # at most one read past the budget
    assert HANDSHAKE_BYTES < OVERSIZED_HELLO_LENGTH // 8


def test_a_thread_that_cannot_start_costs_one_connection_not_the_listener(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`RuntimeError: can't start new thread` (a process at its thread limit) used to escape
    serve_forever and end the listener with a traceback. Now that one client is closed, its slot
    freed, one line printed, and the next client is served."""
    import types

    from tlslab.net import sockets

    class Refused(threading.Thread):
        refusals = 1

        def start(self) -> None:
            if Refused.refusals:
                Refused.refusals -= 1
                raise RuntimeError("can't start new thread")
            super().start()

    monkeypatch.setattr(sockets, "threading", types.SimpleNamespace(**vars(threading)))
    monkeypatch.setattr(sockets.threading, "Thread", Refused)
    listener = socket.create_server(("127.0.0.1", 0))
    server = Server(
        listener, ServerConfig(), ServerIdentity.from_chain(chain_for("ecdsa")), max_connections=1
    )
    runner = threading.Thread(target=server.serve_forever, daemon=True)
    runner.start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as first:
            assert first.recv(1) == b""  # closed unanswered
        second = connect("127.0.0.1", server.port, _client_config(), send=b"2", timeout=30)
        assert runner.is_alive()
    finally:
        server.close()
        runner.join(5)
        listener.close()
    assert second.received == b"2"
    err = capsys.readouterr().err
    assert err.startswith("tlslab server: cannot serve 127.0.0.1:") and err.count("\n") == 1
    assert err.endswith(": RuntimeError: can't start new thread\n")


def test_the_servers_ticket_store_is_bounded_oldest_first() -> None:
    """Every connection of `tlslab server --tickets N` adds N tickets to one shared store; it keeps
    the newest ``limit`` so a server that runs for weeks does not grow, and 8 threads adding at
    once never push it past its limit."""
    from tlslab.net.sockets import _TicketStore

    store = _TicketStore(limit=64)

    def add(worker: int) -> None:
        for i in range(500):
            store[b"%d-%d" % (worker, i)] = (b"psk", 0x1301)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(add, range(8)))
    assert len(store) == 64
    store[b"newest"] = (b"psk", 0x1301)
    assert len(store) == 64 and b"newest" in store
    with socket.socket() as unused:
        default = Server(unused, ServerConfig(), None).tickets
    assert isinstance(default, _TicketStore) and default.limit == 4096


def test_serve_survives_a_client_that_gives_up_before_accept() -> None:
    """accept() can fail for one client (ECONNABORTED when it reset while queued); serve() used to
    let that OSError out and stop serving everyone else."""

    class Aborting(socket.socket):
        aborts = 1

        def accept(self) -> tuple[socket.socket, object]:
            if Aborting.aborts:
                Aborting.aborts -= 1
                super().accept()[0].close()
                raise ConnectionAbortedError(103, "Software caused connection abort")
            return super().accept()

    with Aborting(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result: list[list[Session]] = []
        identity = ServerIdentity.from_chain(chain_for("ecdsa"))
        thread = threading.Thread(
            target=lambda: result.append(serve(listener, ServerConfig(), identity, timeout=30)),
            daemon=True,
        )
        thread.start()
        with socket.create_connection(("127.0.0.1", port), timeout=30) as gone:
            assert gone.recv(1) == b""
        session = connect("127.0.0.1", port, _client_config(), send=b"next", timeout=30)
        thread.join(60)
    assert session.received == b"next"
    assert [s.ok for s in result[0]] == [True]


def test_a_failed_session_is_freed_even_if_the_engine_keeps_the_exception() -> None:
    """An engine that stores the exception it raised (``self.error = error``, as the rewritten
    engine on main does) makes a cycle: connection -> exception -> traceback -> the frames of
    receive_data -> connection, so every failed connection waits for the garbage collector.
    Session.fail drops the tracebacks, so reference counting frees it."""
    from tlslab.net.sockets import serve_connection

    class Keeping:
        role = "server"
        handshake_complete = False
        closed = False
        error: BaseException | None = None
        buffers = bytes(2**20)

        def receive_data(self, data: bytes) -> list[object]:
            try:
                raise TLSError(f"refused {len(data)} bytes")
            except TLSError as error:
                self.error = error
                raise

        def data_to_send(self) -> bytes:
            return b""

    made = [Keeping()]
    ref = weakref.ref(made[0])
    with socket.create_server(("127.0.0.1", 0)) as listener:
        theirs = socket.create_connection(listener.getsockname())
        ours, _ = listener.accept()
    gc.collect()
    gc.disable()
    try:
        with theirs:
            theirs.sendall(b"hello")
            with unittest.mock.patch("tlslab.engine.server.TLSServer", lambda *a, **k: made.pop()):
                session = serve_connection(ours, None, None)
        assert session.error == "refused 5 bytes"
        del session
        assert ref() is None
    finally:
        gc.enable()


def test_max_connections_queues_the_rest_and_serves_them_later(running: type[_Running]) -> None:
    r = running(max_connections=1, handshake_timeout=1.0)
    hog = socket.create_connection(("127.0.0.1", r.server.port))  # holds the only slot for 1 s
    try:
        session = connect("127.0.0.1", r.server.port, _client_config(), send=b"x", timeout=30)
    finally:
        hog.close()
    assert session.received == b"x"
    served = r.wait_for(2, timeout=20)
    assert [s.ok for s in served] == [False, True]  # the hog timed out first, then the client


def test_client_deadline_covers_the_whole_handshake() -> None:
    """A server that accepts and drips one byte every 0.2 s: the client gives up at its 1 s deadline."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip() -> None:
        conn, _ = listener.accept()
        with conn:
            while not stop.wait(0.2):
                try:
                    conn.send(b"\x16")
                except OSError:
                    return

    threading.Thread(target=drip, daemon=True).start()
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutError) as caught:
            connect("127.0.0.1", listener.getsockname()[1], _client_config(), timeout=1.0)
    finally:
        stop.set()
        listener.close()
    assert time.monotonic() - started < 10.0
    assert "connect and handshake" in str(caught.value)


def test_failures_are_one_line_each() -> None:
    assert describe_failure(ConnectionRefusedError()).startswith("connection refused")
    assert describe_failure(ConnectionResetError()) == "the peer reset the connection"
    assert describe_failure(BrokenPipeError()) == "the peer reset the connection"
    assert describe_failure(RemoteAlert(2, 40)) == "the peer sent the fatal alert handshake_failure"
    assert "closed" in describe_failure(PeerClosed("the peer closed the connection"))
    with pytest.raises(TimeoutError) as caught:
        Deadline(0.0, "reading").remaining()
    assert (
        describe_failure(caught.value) == "timed out (reading: no result within the 0 s deadline)"
    )


def test_a_failed_session_keeps_the_alert_not_the_exception() -> None:
    """The session of a failed handshake names the alert and holds no exception object (whose
    traceback would keep the connection's buffers alive in a reference cycle)."""
    listener = socket.create_server(("127.0.0.1", 0))
    sessions: list[Session] = []

    def run() -> None:
        sessions.extend(
            serve(
                listener,
                ServerConfig(),
                ServerIdentity.from_chain(chain_for("ecdsa")),
                connections=1,
                timeout=10,
            )
        )

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    with socket.create_connection(listener.getsockname()) as peer:
        peer.sendall(bytes.fromhex("16030100050100000100"))  # a ClientHello of one byte
        peer.settimeout(10)
        answer = peer.recv(100)
    thread.join(20)
    listener.close()
    assert answer[:1] == b"\x15" and answer[-1] == 50  # a fatal decode_error alert on the wire
    (session,) = sessions
    assert session.alert == "decode_error" and session.alert_sent
    assert not any(isinstance(e, BaseException) for e in session.events)
    assert not any(isinstance(v, BaseException) for v in vars(session).values())


def _garbage(port: int, payload: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            sock.recv(100)
        except OSError:
            pass  # the server may reset a connection it refused


OVERSIZED_HELLO_LENGTH = 2**24 - 1  # the largest a handshake header can announce (16 MiB)


def _oversized_hello(port: int) -> None:
    """A ClientHello announcing 16 MiB, sent in full as 1,024 records of 16 KiB of zeros."""
    header = bytes([1]) + OVERSIZED_HELLO_LENGTH.to_bytes(3, "big")
    body = header + bytes(OVERSIZED_HELLO_LENGTH)
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        try:
            for at in range(0, len(body), 2**14):
                piece = body[at : at + 2**14]
                sock.sendall(bytes.fromhex("160301") + len(piece).to_bytes(2, "big") + piece)
            sock.shutdown(socket.SHUT_WR)
            sock.recv(100)
        except OSError:
            pass


GARBAGE = [
    b"GET / HTTP/1.1\r\nHost: example\r\n\r\n",
    bytes.fromhex("16030100050100000100"),  # a one-byte ClientHello
    bytes.fromhex("1503030002022f"),  # an alert before anything else
    HALF_A_CLIENT_HELLO,  # then EOF
    bytes.fromhex("170303001000") + bytes(16),  # application data before any keys
    os.urandom(300),
]


def test_memory_stays_flat_across_thousands_of_garbage_connections(
    running: type[_Running],
) -> None:
    """2,000 garbage connections and three 16 MiB ClientHellos, with the garbage collector OFF: the
    Python heap after them is what it was before, so nothing (no reference cycle, no stored
    exception) holds a connection's buffers. Then the same through :func:`serve`, whose sessions
    are freed by reference counting alone once dropped."""
    r = running(handshake_timeout=20.0)
    port = r.server.port
    for payload in GARBAGE * 5:  # warm up: imports, caches, first threads
        _garbage(port, payload)
    _oversized_hello(port)
    r.wait_for(len(GARBAGE) * 5 + 1, timeout=60)
    r.sessions.clear()
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda i: _garbage(port, GARBAGE[i % len(GARBAGE)]), range(2000)))
        for _ in range(3):
            _oversized_hello(port)
        served = r.wait_for(2003, timeout=120)
        assert len(served) == 2003 and not any(s.ok for s in served)
        alerts = {s.alert for s in served}
        assert "decode_error" in alerts  # the oversized and one-byte hellos
        r.sessions.clear()
        del served
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
        gc.enable()
    assert after - before < 2 * 2**20, f"{(after - before) / 2**20:.1f} MiB still held"
    # (the peak says nothing about the server: the sending side's own 16 MiB hello is traced too;
    # test_a_handshake_that_never_ends_is_cut_off_at_the_byte_budget checks what the server read)


def test_sessions_are_freed_without_the_garbage_collector() -> None:
    """Failed and successful sessions, server and client side, go as soon as they are dropped:
    reference counting alone frees them (the garbage collector is off)."""
    listener = socket.create_server(("127.0.0.1", 0))
    holder: list[list[Session]] = []

    def run() -> None:
        holder.append(
            serve(
                listener,
                ServerConfig(),
                ServerIdentity.from_chain(chain_for("ecdsa")),
                connections=len(GARBAGE) + 1,
                timeout=10,
            )
        )

    gc.collect()
    gc.disable()
    try:
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        for payload in GARBAGE:
            _garbage(listener.getsockname()[1], payload)
        good = connect("127.0.0.1", listener.getsockname()[1], _client_config(), send=b"ok")
        thread.join(30)
        (sessions,) = holder
        assert len(sessions) == len(GARBAGE) + 1
        assert sum(s.ok for s in sessions) == 1 and good.received == b"ok"
        refs = [weakref.ref(s.connection) for s in [*sessions, good]]
        holder.clear()
        del sessions, good
        assert [ref() for ref in refs] == [None] * (len(GARBAGE) + 2)
    finally:
        gc.enable()
        listener.close()


def _rss_mib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    raise AssertionError("no VmRSS line")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_the_cli_servers_rss_stays_flat() -> None:
    """The issue's own scenario, end to end: `python -m tlslab server` takes 1,000 garbage
    connections and five 16 MiB ClientHellos; its resident memory grows by less than two of those
    hellos would take (it used to keep every one, with its traceback)."""
    chain, key, _ = files_for("ecdsa")
    process = subprocess.Popen(
        [sys.executable, "-m", "tlslab", "server", "--port", "0"]
        + ["--cert", str(chain), "--key", str(key)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().strip().rsplit(":", 1)[1])
        log: list[str] = []
        threading.Thread(target=lambda: log.extend(process.stdout or ()), daemon=True).start()

        def settle(count: int) -> int:
            deadline = time.monotonic() + 120
            while len(log) < count and time.monotonic() < deadline:
                time.sleep(0.05)
            return _rss_mib(process.pid)

        for payload in GARBAGE * 5:
            _garbage(port, payload)
        _oversized_hello(port)
        before = settle(len(GARBAGE) * 5 + 1)
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda i: _garbage(port, GARBAGE[i % len(GARBAGE)]), range(1000)))
        for _ in range(5):
            _oversized_hello(port)
        after = settle(len(GARBAGE) * 5 + 1006)
        assert len(log) == len(GARBAGE) * 5 + 1006
        assert not any("Traceback" in line for line in log)
    finally:
        process.kill()
        process.wait(10)
    assert after - before < 32, f"RSS grew from {before} MiB to {after} MiB"


# -- truncation (issue 19: EOF without close_notify) and the connection lifetime ------------------
def _raw_client(port: int) -> tuple[socket.socket, object]:
    """A tlslab client engine over a plain socket, handshake done: the test drives every byte."""
    from tlslab.engine.client import TLSClient

    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(10)
    client = TLSClient(_client_config())
    client.start()
    sock.sendall(client.data_to_send())
    while not client.handshake_complete:
        client.receive_data(sock.recv(65536))
    sock.sendall(client.data_to_send())
    return sock, client


@pytest.mark.parametrize("with_close_notify", [False, True], ids=["eof", "close-notify"])
def test_the_server_reports_eof_without_close_notify_as_truncation(
    running: type[_Running], with_close_notify: bool
) -> None:
    from tlslab.engine.events import TruncatedConnection
    from tlslab.net.sockets import TRUNCATION

    r = running()
    sock, client = _raw_client(r.server.port)
    with sock:
        client.send_application_data(b"cut here")  # type: ignore[attr-defined]
        sock.sendall(client.data_to_send())  # type: ignore[attr-defined]
        echoed = b""
        while echoed != b"cut here":
            events = client.receive_data(sock.recv(65536))  # type: ignore[attr-defined]
            echoed += b"".join(getattr(e, "data", b"") for e in events)
        if with_close_notify:
            client.close()  # type: ignore[attr-defined]
            sock.sendall(client.data_to_send())  # type: ignore[attr-defined]
    (session,) = r.wait_for(1, timeout=20)
    assert session.received == b"cut here" and session.error is None
    assert session.truncated is not with_close_notify
    assert (TRUNCATION in session.summary()) is not with_close_notify
    if not with_close_notify:
        assert isinstance(session.connection.error, TruncatedConnection)
        assert session.connection.closed and "\n" not in session.summary()


def _python_server(close_notify: bool) -> tuple[int, threading.Thread]:
    """Python's ssl (OpenSSL) answering one line, then ending TCP with or without close_notify."""
    import ssl

    chain, key, _ = files_for("ecdsa")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(chain, key)
    ctx.options |= (
        ssl.OP_NO_TICKET
    )  # no TLS 1.2 ticket: a client waiting for one reads on to the end
    listener = socket.create_server(("127.0.0.1", 0))

    def run() -> None:
        with listener:
            conn, _ = listener.accept()
            with conn:
                tls = ctx.wrap_socket(conn, server_side=True)
                tls.sendall(tls.recv(100))
                if close_notify:
                    tls.unwrap()  # sends close_notify
                else:
                    tls.shutdown(socket.SHUT_RDWR)  # TCP ends, no close_notify
                tls.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return listener.getsockname()[1], thread


def test_connect_after_close_notify_is_not_truncation() -> None:
    from tlslab.net.sockets import TRUNCATION

    port, thread = _python_server(close_notify=True)
    config = _client_config(versions=(V.TLS12,))
    session = connect("127.0.0.1", port, config, send=b"ping", wait_for_ticket=5.0)
    thread.join(10)
    assert session.received == b"ping" and session.error is None and session.ok
    assert not session.truncated and TRUNCATION not in session.summary()


def test_connect_waiting_for_more_sees_the_truncation() -> None:
    from tlslab.engine.events import TruncatedConnection
    from tlslab.net.sockets import TRUNCATION

    port, thread = _python_server(close_notify=False)
    config = _client_config(versions=(V.TLS12,))  # the server sends no ticket: read on to the EOF
    session = connect("127.0.0.1", port, config, send=b"ping", wait_for_ticket=5.0)
    thread.join(10)
    assert session.received == b"ping" and session.error is None
    assert session.truncated and TRUNCATION in session.summary()
    assert isinstance(session.connection.error, TruncatedConnection)


def test_the_cli_client_prints_one_truncation_line(capsys: pytest.CaptureFixture[str]) -> None:
    from tlslab.__main__ import main
    from tlslab.net.sockets import TRUNCATION

    port, thread = _python_server(close_notify=False)
    root = files_for("ecdsa")[2]
    argv = ["client", "127.0.0.1", str(port), "--servername", HOST, "--cafile", str(root)]
    # --resume waits for a ticket, so the client reads on after the reply and meets the EOF
    assert main([*argv, "--tls", "1.2", "--send", "ping", "--resume"]) == 1  # no ticket either
    thread.join(10)
    out = capsys.readouterr().out.splitlines()
    assert out.count(TRUNCATION) == 1, out


def test_a_peer_dripping_inside_the_idle_timeout_is_ended_by_the_lifetime(
    running: type[_Running],
) -> None:
    """One byte every 0.2 s keeps a 0.6 s idle timeout happy for ever; the 1.5 s lifetime ends the
    connection with close_notify, and the session says why in one line."""
    r = running(idle_timeout=0.6, max_lifetime=1.5)
    started = time.monotonic()
    sock, client = _raw_client(r.server.port)
    closed = False
    with sock:
        for byte in bytes.fromhex("17030300ff") + bytes(200):  # a record that never completes
            try:
                sock.send(bytes([byte]))
            except OSError:
                break
            time.sleep(0.2)
            if r.wait_for(1, timeout=0):
                break
        sock.settimeout(5)
        received = b""
        with __import__("contextlib").suppress(OSError):
            while chunk := sock.recv(65536):
                received += chunk
        events = client.receive_data(received)  # type: ignore[attr-defined]
        closed = "ConnectionClosed" in [type(e).__name__ for e in events]
    ended = time.monotonic() - started
    (session,) = r.wait_for(1, timeout=20)
    assert ended < 10.0  # 205 bytes at 0.2 s would take 41 s
    assert closed
    assert session.error is not None and "connection lifetime" in session.error
    assert not session.ok and "\n" not in session.summary()


def test_the_lifetime_also_bounds_the_handshake(running: type[_Running]) -> None:
    r = running(handshake_timeout=60.0, max_lifetime=1.0)
    with socket.create_connection(("127.0.0.1", r.server.port)) as peer:
        for byte in HALF_A_CLIENT_HELLO:
            try:
                peer.send(bytes([byte]))
            except OSError:
                break
            time.sleep(0.2)
            if r.wait_for(1, timeout=0):
                break
    (session,) = r.wait_for(1, timeout=20)
    assert session.error is not None and "connection lifetime" in session.error


def test_the_cli_server_logs_lifetime_and_truncation_in_one_line_each() -> None:
    """`tlslab server --max-lifetime 1`: a client that keeps its connection open past it gets one
    log line naming the lifetime; a client that ends TCP without close_notify, one naming the
    truncation."""
    from tlslab.net.sockets import TRUNCATION

    from .test_cli import cli_server

    with cli_server("--max-lifetime", "1", "--idle-timeout", "30") as server:
        sock, _ = _raw_client(int(server.port))
        with sock:
            lines = server.wait_for_lines(1, timeout=20)
        sock, _ = _raw_client(int(server.port))
        sock.close()  # no close_notify
        lines = server.wait_for_lines(2, timeout=20)
    assert len(lines) == 2, lines
    assert "connection lifetime" in lines[0] and "failed: timed out" in lines[0]
    assert lines[1].endswith(TRUNCATION) and ": ok," in lines[1]
