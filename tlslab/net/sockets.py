"""tlslab's own client and server over real sockets: :func:`connect`, :func:`serve`, :class:`Server`.

These are the only sockets the engine ever sees. The engine (``tlslab.engine``) is sans-IO: it takes
bytes with ``receive_data`` and hands back bytes with ``data_to_send``. A driver here is the loop
around it: read from the socket, feed the connection, write what it wants sent, record the events.
The OpenSSL peers the notebooks use live apart, in :mod:`tlslab.net.openssl_lab`.

**Concurrency: a thread per connection.** The engine is synchronous, so a thread per connection
keeps every driver a plain read-feed-write loop a learner can follow top to bottom, and a stalled
or hostile peer blocks only its own thread. asyncio would need the same loop rewritten as
coroutines and would still run each handshake's cryptography on the one event-loop thread, so it
buys nothing here but indirection. ``max_connections`` bounds the threads; beyond it, new clients
wait in the kernel's accept queue.

**Deadlines, not per-read timeouts.** A per-read timeout lets a peer that drips one byte every few
seconds hold a connection forever. Each phase gets one :class:`Deadline` instead: connect +
handshake (client), handshake (server), then an idle timeout between application reads; and a
server connection has a lifetime limit too (``max_lifetime``), so a peer that sends a byte just
inside each idle timeout still cannot hold a server slot for ever.

**Truncation is reported.** When the peer ends TCP after the handshake without close_notify, the
driver tells the engine (``receive_eof``): the engine ends the connection with
:class:`~tlslab.engine.events.TruncatedConnection` (RFC 8446 §6.1: the data may have been cut short
by an attacker), and the :class:`Session` says so (``truncated``, one line in ``summary()``).

**Failures are values.** A :class:`Session` records what went wrong as text and the alert's name,
never the exception object: an exception's traceback holds the frames that raised it, and with
them the connection's buffers (a reference cycle that only the garbage collector can break).

Taught in notebook 08_full_handshake (the sans-IO engine and these drivers).
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..constants import AlertDescription, CipherSuite, NamedGroup
from ..errors import AlertError, RemoteAlert, TLSError

if TYPE_CHECKING:  # the engine loads lazily (connect/serve import it when called)
    from ..engine.server import StoredTicket

RECV_SIZE = 65536
KEPT_BYTES = 2**20
"""A :class:`Session` keeps at most this much application data in ``received``; the rest is only
counted (``received_bytes``), so an echo connection that runs for hours keeps flat memory."""
KEPT_EVENTS = 256
MAX_LIFETIME = 300.0
CLOSE_TIMEOUT = (
    1.0  # seconds to hand our close_notify to a peer when a deadline ended the connection
)
"""Seconds a server connection may last in all (handshake, echo, everything) by default."""
TRUNCATION = "peer closed without close_notify (truncation)"
"""The one line :class:`Session` and the CLI use for an EOF without close_notify."""
HANDSHAKE_BYTES = 2**20
"""What a peer may send before its handshake completes. A handshake header may announce a 16 MiB
message (RFC 8446 §4), and the engine would buffer it all; real flights are a few KiB (OpenSSL caps a
ClientHello at about 128 KiB and a certificate list at 100 KiB), so a peer past this is ended."""
"""...and at most this many events (the handshake's come first, so they are always kept)."""


class PeerClosed(TLSError):
    """The peer closed the TCP connection before the handshake completed."""


class HandshakeTooLarge(TLSError):
    """The peer sent more than :data:`HANDSHAKE_BYTES` without completing the handshake."""


class Deadline:
    """One time limit for a whole phase (connect + handshake, say), however many reads it takes."""

    def __init__(self, seconds: float, what: str) -> None:
        self.seconds = seconds
        self.what = what
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left; raises :class:`TimeoutError` once the deadline has passed."""
        left = self._end - time.monotonic()
        if left <= 0:
            raise self.expired()
        return left

    def expired(self) -> TimeoutError:
        return TimeoutError(f"{self.what}: no result within the {self.seconds:g} s deadline")

    def __repr__(self) -> str:
        return f"<Deadline {self.what}: {max(0.0, self._end - time.monotonic()):.1f} s of {self.seconds:g} s left>"


@dataclass
class Session:
    """The outcome of :func:`connect` or of one connection a server handled.

    ``connection`` is the engine object (its ``trace`` has every step), ``events`` what
    ``receive_data`` reported (the first :data:`KEPT_EVENTS`), ``received`` the application data
    (the first :data:`KEPT_BYTES`; ``received_bytes`` counts all of it), ``wire_bytes`` what was read
    from the socket. A failed connection has ``error``
    (one line) and, when an alert was involved, ``alert`` (its name) and ``alert_sent`` (True if
    tlslab sent it, False if the peer did). ``truncated`` is True when the peer ended TCP after
    the handshake without close_notify (:data:`TRUNCATION`): what arrived was delivered, but it may
    not be all the peer meant to send, so this is not reported as a normal close.
    """

    connection: Any
    events: list[Any] = field(default_factory=list)
    received: bytes = b""
    received_bytes: int = 0
    wire_bytes: int = 0
    peer: str = ""
    error: str | None = None
    alert: str | None = None
    alert_sent: bool = False
    truncated: bool = False

    @property
    def trace(self) -> Any:
        return self.connection.trace

    @property
    def ok(self) -> bool:
        """The handshake completed and nothing failed (a truncated end is flagged apart)."""
        if self.error is not None:
            return False
        return bool(self.connection.handshake_complete) or (
            self.truncated and self.handshake is not None
        )

    @property
    def handshake(self) -> Any:
        """The HandshakeComplete event, or None."""
        return next((e for e in self.events if type(e).__name__ == "HandshakeComplete"), None)

    @property
    def tickets(self) -> list[Any]:
        """The TLS 1.3 session tickets received (RFC 8446 §4.6.1), for ``ClientConfig.session_ticket``."""
        return [e for e in self.events if type(e).__name__ == "SessionTicket"]

    def keep(self, new: list[Any]) -> bytes:
        """Record ``new`` events within the bounds above; returns all their application data."""
        data = b"".join(e.data for e in new if type(e).__name__ == "ApplicationData")
        self.received_bytes += len(data)
        if len(self.received) < KEPT_BYTES:
            self.received += data[: KEPT_BYTES - len(self.received)]
        self.events.extend(new[: max(0, KEPT_EVENTS - len(self.events))])
        return data

    def fail(self, error: BaseException) -> None:
        """Record ``error`` as text and alert name (never the exception itself: see the module doc)."""
        self.error = describe_failure(error)
        _drop_tracebacks(error)
        if isinstance(error, RemoteAlert):
            self.alert, self.alert_sent = _alert_name(error.description), False
        elif isinstance(error, AlertError):
            self.alert, self.alert_sent = error.alert.name, True

    def summary(self) -> str:
        """One log line: peer, version, suite, group, then the outcome or the failure."""
        parts = [self.peer or self.connection.role]
        done = self.handshake
        if done is not None:
            parts.append(_version_name(done.version))
            parts.append(_name(CipherSuite, done.cipher_suite))
            if done.group is not None:
                parts.append(_name(NamedGroup, done.group))
            if done.alpn:
                parts.append(f"alpn {done.alpn.decode(errors='replace')}")
            if getattr(self.connection, "resumed", False):
                parts.append("resumed")
            if (
                getattr(self.connection, "peer_certificates", ())
                and self.connection.role == "server"
            ):
                parts.append("client certificate")
        end = f"; {TRUNCATION}" if self.truncated else ""
        if self.error is not None:
            return " ".join(parts) + f": failed: {self.error}{end}"
        return " ".join(parts) + f": ok, {self.received_bytes} bytes received{end}"

    def __repr__(self) -> str:
        outcome = f"failed: {self.error}" if self.error else f"received {self.received_bytes} bytes"
        return f"<Session {self.connection.role} {self.peer}: {len(self.events)} events, {outcome}>"


def _drop_tracebacks(error: BaseException) -> None:
    """Forget the frames ``error`` (and its causes) were raised through. An engine that keeps the
    exception (``connection.error``) would otherwise hold itself through those frames: a cycle that
    only the garbage collector frees, with every buffer of a failed connection in it."""
    pending, seen = [error], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        current.__traceback__ = None
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]


def _name(enum: Any, value: int) -> str:
    try:
        return str(enum(value).name)
    except ValueError:
        return f"0x{value:04x}"


def _version_name(version: int) -> str:
    return {0x0304: "TLS 1.3", 0x0303: "TLS 1.2"}.get(version, f"version 0x{version:04x}")


def _alert_name(description: int) -> str:
    try:
        return AlertDescription(description).name
    except ValueError:
        return f"unknown alert {description}"


def describe_failure(error: BaseException) -> str:
    """One line naming what happened: refused, reset, timed out, closed, or the alert."""
    if isinstance(error, RemoteAlert):
        return f"the peer sent the fatal alert {_alert_name(error.description)}"
    if isinstance(error, AlertError):
        return f"tlslab sent the alert {error.alert.name}: {str(error).removeprefix(error.alert.name + ': ')}"
    if isinstance(error, TimeoutError):
        return f"timed out ({error})" if str(error) else "timed out"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused (nothing is listening on that port)"
    if isinstance(error, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return "the peer reset the connection"
    if isinstance(error, socket.gaierror):
        return f"cannot resolve the host name ({error.strerror})"
    if isinstance(error, TLSError):
        return str(error)
    if isinstance(error, OSError):
        return f"network error: {error.strerror or error}"
    return f"internal error: {type(error).__name__}: {error}"


def _exchange(
    sock: socket.socket, connection: Any, session: Session, deadline: Deadline
) -> list[Any] | None:
    """One read: feed the peer's bytes to ``connection``, send what it queued, record the events.

    Returns the new events, or None when the peer closed its side. Whatever the connection queued is sent even when
    ``receive_data`` raises, so the alert the engine chose reaches the peer."""
    sock.settimeout(deadline.remaining())
    try:
        chunk = sock.recv(RECV_SIZE)
    except TimeoutError:
        raise deadline.expired() from None
    if not chunk:
        return None
    session.wire_bytes += len(chunk)
    try:
        new: list[Any] = connection.receive_data(chunk)
    finally:
        out = connection.data_to_send()
        if out:
            with contextlib.suppress(OSError):
                sock.settimeout(max(0.001, deadline.remaining()))
                sock.sendall(out)
    session.keep(new)
    return new


def _peer_ended(connection: Any, session: Session) -> None:
    """The peer ended TCP. Before its close_notify that is a truncation: the engine is told
    (``receive_eof`` raises :class:`~tlslab.engine.events.TruncatedConnection` and closes) and the
    session records it. After close_notify it is the normal end."""
    from ..engine.events import TruncatedConnection

    if connection.closed:
        return
    try:
        connection.receive_eof()
    except TruncatedConnection:
        session.truncated = True


def _handshake(sock: socket.socket, connection: Any, session: Session, deadline: Deadline) -> None:
    while not connection.handshake_complete:
        if _exchange(sock, connection, session, deadline) is None:
            raise PeerClosed("the peer closed the connection during the handshake")
        if session.wire_bytes > HANDSHAKE_BYTES and not connection.handshake_complete:
            raise HandshakeTooLarge(
                f"the peer sent more than {HANDSHAKE_BYTES} bytes without completing the handshake"
            )


def _send(sock: socket.socket, connection: Any, deadline: Deadline) -> None:
    out = connection.data_to_send()
    if out:
        sock.settimeout(deadline.remaining())
        try:
            sock.sendall(out)
        except TimeoutError:
            raise deadline.expired() from None


def _has(events: list[Any] | None, kind: str) -> bool:
    return events is not None and any(type(e).__name__ == kind for e in events)


def connect(
    host: str,
    port: int,
    config: Any,
    *,
    send: bytes | None = None,
    expect_reply: bool = True,
    rng: Any = None,
    timeout: float = 10.0,
    wait_for_ticket: float = 0.0,
) -> Session:
    """Connect tlslab's client to ``host:port``, complete the handshake, optionally send ``send`` and
    read one reply, then close with close_notify. Returns the :class:`Session`.

    ``timeout`` is one deadline for TCP connect + handshake (and another for the reply), not a
    per-read limit. ``wait_for_ticket`` waits up to that many seconds for a TLS 1.3
    NewSessionTicket (RFC 8446 §4.6.1) if none has arrived yet, for a later resumption.
    Raises :class:`~tlslab.errors.TLSError` (an alert, :class:`PeerClosed`) or ``OSError``
    (refused, reset, :class:`TimeoutError`); :func:`describe_failure` turns either into one line.
    """
    from ..engine.client import TLSClient
    from ..rng import system_rng

    deadline = Deadline(timeout, "connect and handshake")
    client = TLSClient(config, rng or system_rng)
    session = Session(client, peer=f"{host}:{port}")
    try:
        sock = socket.create_connection((host, port), timeout=deadline.remaining())
    except TimeoutError:
        raise deadline.expired() from None
    except UnicodeError as error:  # the idna codec: an empty or over-long label, say
        reason = error.__cause__ or error  # the codec's own reason, without its wrapping
        raise socket.gaierror(socket.EAI_NONAME, f"invalid host name {host!r}: {reason}") from None
    with sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # whole flights, no Nagle delay
        client.start()
        _send(sock, client, deadline)
        _handshake(sock, client, session, deadline)
        if send is not None:
            client.send_application_data(send)
            reply_deadline = Deadline(timeout, "waiting for the reply")
            _send(sock, client, reply_deadline)
            while expect_reply:
                new = _exchange(sock, client, session, reply_deadline)
                if new is None:
                    _peer_ended(client, session)
                    break
                if _has(new, "ApplicationData"):
                    break
        if wait_for_ticket and not session.tickets:
            ticket_deadline = Deadline(wait_for_ticket, "waiting for a session ticket")
            with contextlib.suppress(TimeoutError):
                while not client.closed:
                    new = _exchange(sock, client, session, ticket_deadline)
                    if new is None:
                        _peer_ended(client, session)
                        break
                    if _has(new, "SessionTicket"):
                        break
        if not client.closed:
            client.close()
            with contextlib.suppress(OSError):
                sock.sendall(client.data_to_send())
    return session


class _TicketStore(dict[bytes, "StoredTicket"]):
    """The server's tickets (ticket -> :class:`~tlslab.engine.server.StoredTicket`), shared by its connections so a ticket issued on
    one resumes on another. Bounded: the oldest ticket goes when a new one would exceed ``limit``,
    so a long-running server's memory stays flat."""

    def __init__(self, limit: int = 4096) -> None:
        super().__init__()
        self.limit = limit
        self._lock = threading.Lock()

    def __setitem__(self, key: bytes, value: StoredTicket) -> None:
        with self._lock:
            while len(self) >= self.limit:
                del self[next(iter(self))]
            super().__setitem__(key, value)


def serve_connection(
    sock: socket.socket,
    config: Any,
    identity: Any,
    *,
    peer: str = "",
    echo: bool = True,
    rng: Any = None,
    ticket_store: dict[bytes, StoredTicket] | None = None,
    handshake_timeout: float = 10.0,
    idle_timeout: float = 30.0,
    max_lifetime: float = MAX_LIFETIME,
) -> Session:
    """Run tlslab's server on one accepted socket: the handshake within ``handshake_timeout``, then
    echo application data until close_notify, EOF or ``idle_timeout`` seconds of silence, and in
    all at most ``max_lifetime`` seconds (then close_notify, and the session says why).
    Never raises for anything the peer does: the failure is in the returned :class:`Session`."""
    from ..engine.server import TLSServer
    from ..rng import system_rng

    server = TLSServer(config, identity, rng or system_rng, ticket_store=ticket_store)
    session = Session(server, peer=peer)
    lifetime = Deadline(max_lifetime, "connection lifetime")

    def deadline(seconds: float, what: str) -> Deadline:
        """A phase's deadline, cut short by the lifetime's (then named after it)."""
        left = lifetime.remaining()
        return Deadline(seconds, what) if seconds <= left else lifetime

    with sock:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            _handshake(sock, server, session, deadline(handshake_timeout, "handshake"))
            if config.client_auth and not server.peer_certificates:
                # Defence in depth: a server told to require client certificates never serves a
                # connection that presented none (e.g. a TLS 1.2 handshake that did not ask).
                raise PeerClosed(
                    f"{_version_name(server.version or 0)} handshake without a client "
                    "certificate, but this server requires one; connection closed"
                )
            data = session.received  # what came with the client's Finished, if anything
            while not server.closed:
                if echo and data:  # echo each read as it comes: nothing accumulates
                    server.send_application_data(data)
                    _send(sock, server, deadline(idle_timeout, "sending"))
                new = _exchange(sock, server, session, deadline(idle_timeout, "idle"))
                if new is None:
                    _peer_ended(server, session)
                    break
                if _has(new, "ConnectionClosed"):
                    break
                data = b"".join(e.data for e in new if type(e).__name__ == "ApplicationData")
        except TimeoutError as error:
            if server.handshake_complete:  # ended by us after a good handshake: close_notify
                server.close()
                with contextlib.suppress(OSError):
                    sock.settimeout(
                        CLOSE_TIMEOUT
                    )  # a peer that never reads cannot stretch the slot
                    sock.sendall(server.data_to_send())
            if not server.handshake_complete or "lifetime" in str(error):
                session.fail(error)  # an idle client is no failure; one past its lifetime is
        except Exception as error:  # everything a peer can cause ends this connection only
            session.fail(error)
    return session


class Server:
    """A tlslab server on a listening socket: a thread per connection (see the module doc).

    ``serve_forever()`` accepts until :meth:`close` (or, with ``once=True``, serves one connection);
    each finished connection's :class:`Session` goes to ``on_session`` (the CLI prints
    ``session.summary()``; nothing is kept, so memory stays flat however long it runs).
    Each connection has ``handshake_timeout`` for its handshake, ``idle_timeout`` between reads
    and ``max_lifetime`` in all, so no peer holds one of the ``max_connections`` slots for ever.
    """

    def __init__(
        self,
        listener: socket.socket,
        config: Any,
        identity: Any,
        *,
        on_session: Callable[[Session], None] | None = None,
        echo: bool = True,
        rng: Any = None,
        handshake_timeout: float = 10.0,
        idle_timeout: float = 30.0,
        max_lifetime: float = MAX_LIFETIME,
        max_connections: int = 128,
        ticket_store: dict[bytes, StoredTicket] | None = None,
    ) -> None:
        self.listener = listener
        self.config = config
        self.identity = identity
        self.on_session = on_session
        self.echo = echo
        self.rng = rng
        self.handshake_timeout = handshake_timeout
        self.idle_timeout = idle_timeout
        self.max_lifetime = max_lifetime
        self.max_connections = max_connections
        self.tickets = ticket_store if ticket_store is not None else _TicketStore()
        self._slots = threading.BoundedSemaphore(max_connections)
        self._stop = threading.Event()
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        return int(self.listener.getsockname()[1])

    def close(self) -> None:
        """Stop accepting; connections in progress finish on their own deadlines."""
        self._stop.set()

    def serve_forever(self, *, once: bool = False, poll: float = 0.2) -> None:
        """Accept connections until :meth:`close`, or until one has been served (``once``)."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.listener, selectors.EVENT_READ)
            while not self._stop.is_set():
                if not self._slots.acquire(timeout=poll):
                    continue  # at max_connections: new clients wait in the accept queue
                if not selector.select(poll):
                    self._slots.release()
                    continue
                try:
                    conn, address = self.listener.accept()
                except OSError:  # the client gave up before accept, or no file descriptors left
                    self._slots.release()
                    self._stop.wait(0.05)
                    continue
                peer = f"{address[0]}:{address[1]}"
                if once:
                    self._run(conn, peer)
                    return
                thread = threading.Thread(
                    target=self._run, args=(conn, peer), name=f"tlslab {peer}", daemon=True
                )
                with self._lock:
                    self._threads.add(thread)
                try:
                    thread.start()
                except RuntimeError as error:  # at the process's thread limit: refuse this one
                    with self._lock:
                        self._threads.discard(thread)
                    self._slots.release()
                    conn.close()
                    with contextlib.suppress(Exception):
                        print(
                            f"tlslab server: cannot serve {peer}: RuntimeError: {error}",
                            file=sys.stderr,
                            flush=True,
                        )

    def join(self, timeout: float | None = None) -> None:
        """Wait for the connections in progress."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)

    def _run(self, conn: socket.socket, peer: str) -> None:
        try:
            session = serve_connection(
                conn,
                self.config,
                self.identity,
                peer=peer,
                echo=self.echo,
                rng=self.rng,
                ticket_store=self.tickets,
                handshake_timeout=self.handshake_timeout,
                idle_timeout=self.idle_timeout,
                max_lifetime=self.max_lifetime,
            )
            if self.on_session is not None:
                try:
                    self.on_session(session)
                except Exception as error:  # e.g. print() to a closed pipe: not this thread's end
                    with contextlib.suppress(Exception):
                        print(
                            f"tlslab server: on_session failed for {peer}: "
                            f"{type(error).__name__}: {error}",
                            file=sys.stderr,
                            flush=True,
                        )
        finally:
            self._slots.release()
            with self._lock:
                self._threads.discard(threading.current_thread())


def serve(
    listener: socket.socket,
    config: Any,
    identity: Any,
    *,
    connections: int = 1,
    echo: bool = True,
    rng: Any = None,
    timeout: float = 10.0,
) -> list[Session]:
    """Serve ``connections`` clients on ``listener`` concurrently with tlslab's server (echoing what
    they send) and return their :class:`Session` objects in the order they finished. ``timeout`` is
    each handshake's deadline and the idle timeout; waiting for a client to arrive also ends after
    ``timeout`` seconds without one."""
    sessions: list[Session] = []
    server = Server(
        listener,
        config,
        identity,
        on_session=sessions.append,
        echo=echo,
        rng=rng,
        handshake_timeout=timeout,
        idle_timeout=timeout,
    )
    with selectors.DefaultSelector() as selector:
        selector.register(listener, selectors.EVENT_READ)
        accepted = 0
        while accepted < connections:
            if not selector.select(timeout):
                break
            try:
                conn, address = listener.accept()
            except OSError:  # that client gave up while queued (or no descriptors left): wait
                time.sleep(0.05)
                continue
            accepted += 1
            thread = threading.Thread(
                target=server._run, args=(conn, f"{address[0]}:{address[1]}"), daemon=True
            )
            server._slots.acquire()
            with server._lock:
                server._threads.add(thread)
            thread.start()
    server.join(3 * timeout + 5)
    return sessions


def serve_in_thread(
    config: Any, identity: Any, *, connections: int = 1, timeout: float = 10.0
) -> tuple[int, list[Session], threading.Thread]:
    """Run :func:`serve` for ``connections`` clients in a background thread on a free loopback port;
    returns (port, the list the sessions will be appended to, the thread)."""
    listener = socket.create_server(("127.0.0.1", 0))
    sessions: list[Session] = []

    def run() -> None:
        with listener:
            sessions.extend(
                serve(listener, config, identity, connections=connections, timeout=timeout)
            )

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return listener.getsockname()[1], sessions, thread
