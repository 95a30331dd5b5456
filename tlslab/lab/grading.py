"""Graders for the "implement this stage" assignments (the repository's ``assignments/`` folder).

A student writes one stage of TLS as a plain Python function; :func:`grade` runs it

1. on the published vectors tlslab ships (RFC 8448, the TLS 1.2 PRF vectors, the Illustrated
   TLS 1.2 trace), then
2. on random inputs drawn by Hypothesis, compared with tlslab's own implementation of the same
   stage; Hypothesis shrinks a failure to the smallest input that still shows it,

and returns a :class:`Result`: points, and feedback that names the mistake (wrong length, first
wrong byte and the input that produced it, wrong label, missing length prefix, ...).

This module holds graders only: the reference answers it compares with are tlslab's public stage
functions, and the model solutions of the assignments live in the repository's ``instructor/``
folder, never in the package (``tests/test_assignments_package.py`` checks the wheel).

    from tlslab.lab.grading import grade
    grade("prf", my_prf)                      # in a notebook: shows points and feedback
    python -m tlslab.lab.grading assignments/*.ipynb   # grade notebooks, print a progress table

The grading format follows nbgrader (see ``instructor/GUIDE.md``); the same checks run under plain
pytest (``assignments/test_submission.py``).
"""

from __future__ import annotations

import ast
import html
import inspect
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand

from ..constants import HELLO_RETRY_REQUEST_RANDOM, ContentType, HandshakeType
from ..errors import TLSError
from ..pki.validation import dns_name_matches
from ..stages import keyschedule as ks
from ..stages.protection import xor_nonce
from ..stages.signatures import certificate_verify_content
from ..stages.transcript import message_hash
from ..vectors import rfc8448, tls12
from ..wire.messages import ClientHello, decode_handshake

RANDOM_EXAMPLES = 150
"""How many random inputs Hypothesis tries per assignment (deterministic: derandomized)."""

CALL_TIME_LIMIT = 10.0
"""Seconds one call of a student's function may take (a right answer takes milliseconds); after
that it is stopped, reported, and not called again (Unix, main thread: SIGALRM)."""


# -- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """Points for one assignment and one line of feedback per problem found. Truthy when passed."""

    assignment: str
    points: float
    max_points: float
    feedback: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.feedback and self.points == self.max_points

    def __bool__(self) -> bool:
        return self.passed

    def assert_passed(self) -> None:
        """Raise AssertionError carrying the feedback (what nbgrader and pytest report)."""
        if not self.passed:
            raise AssertionError(str(self))

    def __str__(self) -> str:
        head = f"[{self.assignment}] {self.points:g}/{self.max_points:g} points"
        if self.passed:
            return head + ": correct on the RFC vectors and on every random input."
        return "\n".join([head, *(f"  - {line}" for line in self.feedback)])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.passed else "#b35900"
        items = "".join(f"<li>{html.escape(line)}</li>" for line in self.feedback)
        verdict = "correct" if self.passed else "not yet"
        return (
            f"<div style='color:{colour}'><b>{html.escape(self.assignment)}</b>: {verdict}, "
            f"{self.points:g}/{self.max_points:g} points<ul>{items}</ul></div>"
        )


@dataclass(frozen=True)
class Mistake:
    """A known wrong way to do the stage: ``compute(*args)`` gives its output, ``message`` says why."""

    message: str
    compute: Callable[..., Any]
    applies: Callable[..., bool] = field(default=lambda *args: True)


@dataclass(frozen=True)
class Case:
    """One input, with the name it is reported under."""

    name: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Assignment:
    """One "implement this stage" task: what to write, how to check it, what it is worth."""

    key: str
    function: str
    title: str
    rfc: str
    points: float
    reference: Callable[..., Any]
    vectors: Callable[[], list[Case]]
    strategy: Callable[[], Any]
    mistakes: Callable[[], Sequence[Mistake]] = lambda: ()
    show: Callable[..., str] | None = None
    allowed: tuple[str, ...] = ()
    """The tlslab functions the student may call (the helpers the notebook imports)."""

    def grade(self, student: Callable[..., Any], examples: int = RANDOM_EXAMPLES) -> Result:
        return grade(self.key, student, examples=examples)


def _show(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value)
        text = value.hex() if len(value) <= 12 else f"{value[:8].hex()}...({len(value)} bytes)"
        return text or "b'' (empty)"
    if isinstance(value, list) and value and isinstance(value[0], (bytes, bytearray)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return repr(value)


# -- diagnosis --------------------------------------------------------------------------------


class _Unreadable(Exception):
    """The function returned an object that is not plain data (bytes, int, bool, str, list, dict)."""


def _plain(value: Any, depth: int = 0) -> Any:
    """``value`` as plain built-in data, read through the built-in types' own methods, so an object
    that overrides ``__eq__``, ``__bytes__``, ``__iter__`` or ``__len__`` is graded on what it holds,
    not on what it claims (a bytes subclass equal to everything is its bytes)."""
    kind = type(value)
    if depth > 8:
        raise _Unreadable("a structure nested too deep")
    if kind is bool or value is None:
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(memoryview(value))
    if isinstance(value, bool):  # a bool subclass cannot exist; kept for clarity
        return bool(value)
    if isinstance(value, int):
        return int.__int__(value)  # an IntEnum or any int subclass: its value, nothing it overrides
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, list):
        return [_plain(v, depth + 1) for v in list.copy(value)]
    if isinstance(value, tuple):
        return [_plain(v, depth + 1) for v in tuple.__getitem__(value, slice(None))]
    if isinstance(value, dict):
        return {_plain(k, depth + 1): _plain(v, depth + 1) for k, v in dict.items(value)}
    raise _Unreadable(kind.__name__)


class _Stopped(Exception):
    """The function did not return within CALL_TIME_LIMIT seconds."""


class _TimeLimit(BaseException):
    """Raised into a student's function by the alarm (a BaseException: ``except Exception`` in
    the student's code does not swallow it)."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise _TimeLimit()


class _UsesTlslab(Exception):
    """The function called tlslab's own implementation of a stage (not an allowed helper)."""


_TLSLAB = str(Path(__file__).resolve().parent.parent) + os.sep
_ALWAYS_ALLOWED = ("tlslab.constants.",)
_PRIMITIVES = tuple(
    f"tlslab.stages.keyschedule.{name}"
    for name in ("digest", "hash_algorithm", "hash_length", "hmac_digest")
)
"""Thin wrappers of pyca/cryptography (a hash, an HMAC, a digest size): allowed everywhere."""


class _Runner:
    """Calls a student's function: catches its exceptions (feedback, not a crash), reads its result
    as plain data, and watches (with ``sys.setprofile``) for calls into tlslab other than the
    helpers the assignment allows, so wrapping tlslab's own stage gets no points."""

    def __init__(self, student: Callable[..., Any], allowed: Sequence[str]) -> None:
        self.student = student
        self.allowed = tuple(allowed)
        self.used: str | None = None
        self.hook = self._hook  # one bound method, so sys.getprofile() can be compared with it
        self.stopped: tuple[tuple[Any, ...], _Stopped] | None = None

    def _hook(self, frame: Any, event: str, arg: Any) -> None:
        if event != "call" or self.used is not None:
            return
        code = frame.f_code
        if not code.co_filename.startswith(_TLSLAB) or code is _on_alarm.__code__:
            return  # the time limit's own signal handler runs in whatever frame it interrupts
        caller = frame.f_back
        if (
            caller is not None
            and caller.f_code is not _Runner._call.__code__
            and caller.f_code.co_filename.startswith(_TLSLAB)
        ):
            return  # tlslab calling itself, e.g. inside an allowed helper
        name = f"{frame.f_globals.get('__name__', '?')}.{code.co_name}"
        allowed = name in self.allowed or name in _PRIMITIVES
        if not allowed and not name.startswith(_ALWAYS_ALLOWED):
            self.used = f"calls tlslab's own {name}: write the stage yourself"

    def __call__(self, args: tuple[Any, ...]) -> tuple[Any, BaseException | None]:
        if self.stopped is not None:
            return None, self.stopped[1]  # an endless loop is not run again
        try:
            return self._call(args)
        except _TimeLimit:  # the alarm went off just as the function returned
            return self._stop(args)

    def _stop(self, args: tuple[Any, ...]) -> tuple[Any, BaseException | None]:
        self.stopped = (args, _Stopped(f"did not return within {CALL_TIME_LIMIT:g} s"))
        return None, self.stopped[1]

    def _call(self, args: tuple[Any, ...]) -> tuple[Any, BaseException | None]:
        alarm = threading.current_thread() is threading.main_thread() and hasattr(
            signal, "setitimer"
        )
        if alarm:  # keep any timer already running (pytest-timeout, ...) and put it back after
            handler = signal.signal(signal.SIGALRM, _on_alarm)
            outer = signal.setitimer(signal.ITIMER_REAL, CALL_TIME_LIMIT)
            started = time.monotonic()
        previous = sys.getprofile()
        sys.setprofile(self.hook)
        timed_out = False
        try:
            got = self.student(*args)
        except _TimeLimit:
            timed_out = True  # reported below, once the watch is off
        except Exception as exc:  # a student's bug is feedback, not a crash
            return None, exc
        finally:
            changed = sys.getprofile() is not self.hook
            sys.setprofile(previous)
            if alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, handler)
                if outer[0] > 0:
                    left = max(outer[0] - (time.monotonic() - started), 0.001)
                    signal.setitimer(signal.ITIMER_REAL, left, outer[1])
        if timed_out:
            return self._stop(args)
        if changed and self.used is None:
            self.used = "turned off the grader's watch on tlslab calls (sys.setprofile)"
        if self.used is not None:
            return None, _UsesTlslab(self.used)
        try:
            return _plain(got), None
        except _Unreadable as exc:
            return None, exc


def _call(student: Callable[..., Any], args: tuple[Any, ...]) -> tuple[Any, BaseException | None]:
    return _Runner(student, ())(args)


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, bytes):
        return isinstance(got, (bytes, bytearray)) and bytes(got) == want
    if isinstance(want, bool):
        return got is want
    if isinstance(want, list):  # a tuple or list with the same items is the same answer
        return (
            isinstance(got, (list, tuple))
            and len(got) == len(want)
            and all(_same(g, w) for g, w in zip(got, want, strict=True))
        )
    if isinstance(want, dict):
        return (
            isinstance(got, dict)  # extra keys are allowed
            and all(k in got and _same(got[k], w) for k, w in want.items())
        )
    return bool(got == want)


def _parameter_names(function: Callable[..., Any], count: int) -> list[str]:
    try:
        names = list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        names = []
    return names[:count] if len(names) >= count else [f"argument {i + 1}" for i in range(count)]


def _diagnose(
    task: Assignment,
    case: Case,
    got: Any,
    error: BaseException | None,
    student: Callable[..., Any] | None = None,
) -> str:
    """One specific sentence about why ``got`` is not the reference answer for ``case``."""
    want = task.reference(*case.args)
    if task.show is not None:
        inputs = task.show(*case.args)
    else:
        names = _parameter_names(student or task.reference, len(case.args))
        inputs = ", ".join(f"{n}={_show(a)}" for n, a in zip(names, case.args, strict=True))
    where = f"(input: {case.name}: {inputs})"
    if isinstance(error, NotImplementedError):
        return f"{task.function} is not written yet: it still raises NotImplementedError"
    if isinstance(error, _Stopped):
        return (
            f"{task.function} {error} {where}: an endless loop? (for example a loop that waits for "
            "len(out) == length but steps past it)"
        )
    if isinstance(error, _Unreadable):
        return f"{task.function} returned {error}, expected {type(want).__name__} {where}"
    if error is not None:
        return f"{task.function} raised {type(error).__name__}({error}) {where}"
    if isinstance(want, bytes) and not isinstance(got, (bytes, bytearray)):
        return f"{task.function} returned {type(got).__name__}, expected bytes {where}"
    if isinstance(want, bytes):
        got = bytes(got)
        for mistake in task.mistakes():
            if mistake.applies(*case.args):
                try:
                    wrong = mistake.compute(*case.args)
                except Exception:
                    continue
                if got == wrong:
                    return f"{mistake.message} {where}"
        if len(got) != len(want):
            text = f"wrong length: returned {len(got)} bytes, expected {len(want)} {where}"
            common = min(len(got), len(want))
            if got[:common] == want[:common] and common:
                text += (
                    f"; the first {common} byte(s) are right, so the computation is right and the "
                    + (
                        "output is cut too short"
                        if len(got) < len(want)
                        else "output is not cut to the length asked for"
                    )
                )
            return text
        first = next(i for i, (a, b) in enumerate(zip(got, want, strict=True)) if a != b)
        return (
            f"first wrong byte at offset {first} of {len(want)}: 0x{got[first]:02x}, expected "
            f"0x{want[first]:02x} {where}"
        )
    for mistake in task.mistakes():
        if mistake.applies(*case.args) and got == mistake.compute(*case.args):
            return f"{mistake.message} {where}"
    if isinstance(want, dict) and isinstance(got, dict):
        for key, value in want.items():
            if key not in got:
                return f"the result has no key {key!r} {where}"
            if not _same(got[key], value):
                return f"{key} is {_show(got[key])}, expected {_show(value)} {where}"
    return f"returned {_show(got)}, expected {_show(want)} {where}"


def grade(key: str, student: Callable[..., Any], *, examples: int = RANDOM_EXAMPLES) -> Result:
    """Grade ``student`` for assignment ``key``: half the points for the published vectors, half
    for agreeing with tlslab on ``examples`` random inputs (Hypothesis, derandomized).

    No points, whatever the answers, when the function calls tlslab's own implementation of the
    stage (only the helpers the assignment's notebook imports are allowed) or when tlslab itself
    was changed at run time (a replaced reference or grader function); see instructor/GUIDE.md
    for what this does and does not prevent."""
    task = ASSIGNMENTS[key]
    tampered = _tampered()
    if tampered is not None:
        return Result(task.key, 0, task.points, (_tamper_message(tampered),))
    if not callable(student):
        return Result(task.key, 0, task.points, (f"{task.function} is not a function yet",))
    run = _Runner(student, task.allowed)
    feedback: list[str] = []
    points = 0.0
    cases = task.vectors()
    failed = None
    for case in cases:
        got, error = run(case.args)
        if error is not None or not _same(got, task.reference(*case.args)):
            failed = (case, got, error)
            break
    if failed is None:
        points += task.points / 2
    elif run.used is None:
        feedback.append(_diagnose(task, *failed, student))
    if run.stopped is not None:
        return Result(task.key, points, task.points, tuple(feedback))
    try:
        random_case = None if run.used else _first_random_failure(task, run, examples)
    except ImportError:  # `pip install tlslab` without the lab extra: no Hypothesis
        feedback.append(
            "the random inputs were not checked: Hypothesis is not installed "
            "(pip install 'tlslab[lab]'); only the published vectors were graded"
        )
        return Result(task.key, points, task.points, tuple(feedback))
    if run.stopped is not None and run.used is None:
        args, stop = run.stopped
        case = Case("a random input", args)
        feedback.append(_diagnose(task, case, None, stop, student))
    elif random_case is None:
        points += task.points / 2
    elif run.used is None:
        got, error = run(random_case.args)
        line = _diagnose(task, random_case, got, error, student)
        if line not in feedback:
            feedback.append(line)
    if run.used is not None:
        allowed = ", ".join(a.rsplit(".", 1)[1] for a in (*_PRIMITIVES, *task.allowed))
        return Result(
            task.key,
            0,
            task.points,
            (f"{task.function} {run.used} (the tlslab helpers allowed here: {allowed})",),
        )
    tampered = _tampered()
    if tampered is not None:
        return Result(task.key, 0, task.points, (_tamper_message(tampered),))
    return Result(task.key, points, task.points, tuple(feedback))


def _first_random_failure(
    task: Assignment,
    run: Callable[[tuple[Any, ...]], tuple[Any, BaseException | None]],
    examples: int,
) -> Case | None:
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis.errors import NoSuchExample

    def differs(args: tuple[Any, ...]) -> bool:
        got, error = run(args)
        return error is not None or not _same(got, task.reference(*args))

    try:
        args = find(
            task.strategy(),
            differs,
            settings=settings(
                max_examples=examples,
                database=None,
                derandomize=True,
                deadline=None,
                phases=[Phase.generate, Phase.shrink],
                suppress_health_check=list(HealthCheck),
            ),
        )
    except NoSuchExample:
        return None
    return Case("a random input, shrunk by Hypothesis", tuple(args))


# -- the assignments --------------------------------------------------------------------------

H = bytes.fromhex
HASHES = ("sha256", "sha384")


def _st() -> Any:
    from hypothesis import strategies

    return strategies


# P_hash / PRF (RFC 5246 §5) -----------------------------------------------------------------


def _prf_vectors() -> list[Case]:
    t = tls12()
    cases = [
        Case(
            f"the PRF vector {v['name']}",
            (H(v["secret"]), v["label"], H(v["seed"]), v["output_length"], v["hash"]),
        )
        for v in t["prf"]["vectors"]
    ]
    trace = t["illustrated_tls12_handshake"]
    cases.append(
        Case(
            "the Illustrated TLS 1.2 master secret",
            (
                H(trace["pre_master_secret"]),
                "master secret",
                H(trace["client_random"]) + H(trace["server_random"]),
                48,
                "sha256",
            ),
        )
    )
    return cases


_LABELS = ("master secret", "key expansion", "client finished", "server finished", "test label")


def _prf_strategy() -> Any:
    s = _st()
    return s.tuples(
        s.binary(min_size=0, max_size=48),
        s.sampled_from(_LABELS),
        s.binary(min_size=0, max_size=64),
        s.integers(min_value=1, max_value=160),
        s.sampled_from(HASHES),
    )


def _prf_mistakes() -> list[Mistake]:
    def chain_only(secret: bytes, label: str, seed: bytes, length: int, h: str) -> bytes:
        out, a = b"", label.encode() + seed
        while len(out) < length:
            a = ks.hmac_digest(h, secret, a)
            out += a
        return out[:length]

    def chain(
        secret: bytes,
        label: str,
        seed: bytes,
        length: int,
        h: str,
        *,
        a0: bytes | None = None,
        swap: bool = False,
    ) -> bytes:
        full = label.encode() + seed
        out, a = b"", full if a0 is None else a0
        while len(out) < length:
            a = ks.hmac_digest(h, a, secret) if swap else ks.hmac_digest(h, secret, a)
            block = a + full
            out += ks.hmac_digest(h, block, secret) if swap else ks.hmac_digest(h, secret, block)
        return out[:length]

    return [
        Mistake(
            "wrong label: this is P_hash(secret, seed) without the label; PRF feeds label + seed",
            lambda s, label, seed, n, h: ks.p_hash(s, seed, n, h),
        ),
        Mistake(
            "wrong order: this is P_hash(secret, seed + label); the label comes first",
            lambda s, label, seed, n, h: ks.p_hash(s, seed + label.encode(), n, h),
        ),
        Mistake(
            "this is A(1) || A(2) || ...: each output block is HMAC(secret, A(i) + seed), not A(i)",
            chain_only,
        ),
        Mistake(
            "wrong hash: you used SHA-256, but hash_name asked for SHA-384",
            lambda s, label, seed, n, h: ks.prf(s, label, seed, n, "sha256"),
            lambda s, label, seed, n, h: h != "sha256",
        ),
        Mistake(
            "wrong A(0): the chain starts from the whole PRF seed, A(0) = label + seed; yours "
            "starts from the label alone",
            lambda s, label, seed, n, h: chain(s, label, seed, n, h, a0=label.encode()),
            lambda s, label, seed, n, h: bool(seed),
        ),
        Mistake(
            "wrong A(0): the chain starts from the whole PRF seed, A(0) = label + seed; yours "
            "starts from the seed without the label",
            lambda s, label, seed, n, h: chain(s, label, seed, n, h, a0=seed),
        ),
        Mistake(
            "HMAC(secret, data): the secret is the HMAC key and A(i) + seed the data; yours has "
            "them swapped",
            lambda s, label, seed, n, h: chain(s, label, seed, n, h, swap=True),
        ),
        Mistake(
            "the label is ASCII without a terminating zero; yours ends with a 0x00 byte",
            lambda s, label, seed, n, h: ks.prf(s, label + "\0", seed, n, h),
        ),
    ]


# TLS 1.2 verify_data (RFC 5246 §7.4.9) ------------------------------------------------------


def _vd12_vectors() -> list[Case]:
    t = tls12()["illustrated_tls12_handshake"]
    ms = H(t["master_secret"])
    return [
        Case(
            "the Illustrated TLS 1.2 client Finished",
            (ms, "client finished", H(t["handshake_hash_for_client_finished"]), "sha256"),
        ),
        Case(
            "the Illustrated TLS 1.2 server Finished",
            (ms, "server finished", H(t["handshake_hash_for_server_finished"]), "sha256"),
        ),
    ]


def _vd12_strategy() -> Any:
    s = _st()
    return s.sampled_from(HASHES).flatmap(
        lambda h: s.tuples(
            s.binary(min_size=48, max_size=48),
            s.sampled_from(("client finished", "server finished")),
            s.binary(min_size=ks.hash_length(h), max_size=ks.hash_length(h)),
            s.just(h),
        )
    )


def _vd12_mistakes() -> list[Mistake]:
    return [
        Mistake(
            "wrong label: that is the other side's verify_data ('client finished' <-> 'server finished')",
            lambda m, label, hh, h: ks.verify_data_12(
                m, "server finished" if label == "client finished" else "client finished", hh, h
            ),
        ),
        Mistake(
            "wrong label: the PRF seed is the finished label + the handshake hash; you left out the label",
            lambda m, label, hh, h: ks.p_hash(m, hh, 12, h),
        ),
    ]


# HKDF-Expand-Label (RFC 8446 §7.1) -----------------------------------------------------------


def _expand(secret: bytes, info: bytes, length: int, h: str) -> bytes:
    return HKDFExpand(ks.hash_algorithm(h), length, info).derive(secret)


def _hkdf_vectors() -> list[Case]:
    v = rfc8448()
    s, k = v["secrets"], v["traffic_keys"]
    cases = [
        Case(
            "RFC 8448 server handshake key",
            (H(s["server_handshake_traffic_secret"]), "key", b"", 16, "sha256"),
        ),
        Case(
            "RFC 8448 server handshake iv",
            (H(s["server_handshake_traffic_secret"]), "iv", b"", 12, "sha256"),
        ),
        Case(
            "RFC 8448 client handshake traffic secret",
            (
                H(s["handshake_secret"]),
                "c hs traffic",
                H(v["transcript_hashes"]["ch_sh"]),
                32,
                "sha256",
            ),
        ),
    ]
    assert H(k["server_handshake_write_key"]) == ks.hkdf_expand_label(*cases[0].args)
    return cases


def _hkdf_strategy() -> Any:
    s = _st()
    return s.tuples(
        s.binary(min_size=32, max_size=48),
        s.sampled_from(("key", "iv", "finished", "derived", "c hs traffic", "traffic upd")),
        s.binary(min_size=0, max_size=48),
        s.integers(min_value=1, max_value=64),
        s.sampled_from(HASHES),
    )


def _hkdf_mistakes() -> list[Mistake]:
    def info(label: bytes, ctx: bytes, n: int, *, ll: bool = True, cl: bool = True) -> bytes:
        out = n.to_bytes(2, "big")
        out += (bytes([len(label)]) if ll else b"") + label
        return out + (bytes([len(ctx)]) if cl else b"") + ctx

    return [
        Mistake(
            "wrong label: the label inside HkdfLabel is 'tls13 ' + Label; the 'tls13 ' prefix is missing",
            lambda s, lab, c, n, h: _expand(s, info(lab.encode(), c, n), n, h),
        ),
        Mistake(
            "wrong label: the prefix is 'tls13 ' with a space; you wrote 'tls13'",
            lambda s, lab, c, n, h: _expand(s, info(b"tls13" + lab.encode(), c, n), n, h),
        ),
        Mistake(
            "missing length prefix: opaque label<7..255> is one length byte, then 'tls13 ' + Label",
            lambda s, lab, c, n, h: _expand(
                s, info(b"tls13 " + lab.encode(), c, n, ll=False), n, h
            ),
        ),
        Mistake(
            "missing length prefix: opaque context<0..255> is one length byte, then the context",
            lambda s, lab, c, n, h: _expand(
                s, info(b"tls13 " + lab.encode(), c, n, cl=False), n, h
            ),
        ),
        Mistake(
            "the uint16 length is big-endian (network order); yours is little-endian",
            lambda s, lab, c, n, h: _expand(
                s, n.to_bytes(2, "little") + ks.hkdf_label(lab, c, n)[2:], n, h
            ),
            lambda s, lab, c, n, h: n % 256 != n // 256,
        ),
        Mistake(
            "the label's length byte counts 'tls13 ' + Label (len(Label) + 6); yours counts Label alone",
            lambda s, lab, c, n, h: _expand(
                s,
                n.to_bytes(2, "big")
                + bytes([len(lab)])
                + b"tls13 "
                + lab.encode()
                + bytes([len(c)])
                + c,
                n,
                h,
            ),
        ),
        Mistake(
            "opaque context<0..255> has one length byte; yours is two",
            lambda s, lab, c, n, h: _expand(
                s, ks.hkdf_label(lab, b"", n)[:-1] + len(c).to_bytes(2, "big") + c, n, h
            ),
        ),
        Mistake(
            "HKDF-Expand-Label is HKDF-Expand only: no HKDF-Extract step (the secret is already a "
            "pseudorandom key); you called HKDF, which extracts first",
            lambda s, lab, c, n, h: HKDF(
                ks.hash_algorithm(h), n, None, ks.hkdf_label(lab, c, n)
            ).derive(s),
        ),
    ]


# Derive-Secret (RFC 8446 §7.1) ----------------------------------------------------------------


def _derive_reference(secret: bytes, label: str, messages: bytes, h: str) -> bytes:
    return ks.derive_secret(secret, label, ks.digest(h, messages), h)


def _derive_vectors() -> list[Case]:
    v = rfc8448()
    s, m = v["secrets"], v["handshake_messages"]
    return [
        Case(
            "RFC 8448 derived secret (empty transcript)",
            (H(s["early_secret"]), "derived", b"", "sha256"),
        ),
        Case(
            "RFC 8448 client handshake traffic secret",
            (
                H(s["handshake_secret"]),
                "c hs traffic",
                H(m["client_hello"] + m["server_hello"]),
                "sha256",
            ),
        ),
    ]


def _derive_strategy() -> Any:
    s = _st()
    return s.tuples(
        s.binary(min_size=32, max_size=48),
        s.sampled_from(("derived", "c hs traffic", "s hs traffic", "c ap traffic", "exp master")),
        s.binary(min_size=0, max_size=300),
        s.sampled_from(HASHES),
    )


def _derive_mistakes() -> list[Mistake]:
    return [
        Mistake(
            "the context must be Transcript-Hash(Messages), even for no messages (then it is the "
            "hash of the empty string); you used an empty context",
            lambda s, lab, msgs, h: ks.hkdf_expand_label(s, lab, b"", ks.hash_length(h), h),
        ),
        Mistake(
            "the context must be the *hash* of the messages, not the messages themselves",
            lambda s, lab, msgs, h: ks.hkdf_expand_label(s, lab, msgs, ks.hash_length(h), h),
            lambda s, lab, msgs, h: len(msgs) < 256,
        ),
        Mistake(
            "the output is Hash.length bytes: 48 for SHA-384; yours is 32",
            lambda s, lab, msgs, h: ks.hkdf_expand_label(s, lab, ks.digest(h, msgs), 32, h),
            lambda s, lab, msgs, h: h == "sha384",
        ),
        Mistake(
            "wrong hash: hash the messages with hash_name (SHA-384 here), not SHA-256",
            lambda s, lab, msgs, h: ks.derive_secret(s, lab, ks.digest("sha256", msgs), h),
            lambda s, lab, msgs, h: h != "sha256",
        ),
    ]


# Transcript-Hash with the HelloRetryRequest rule (RFC 8446 §4.4.1) -------------------------------


def _is_hrr(message: bytes) -> bool:
    return (
        len(message) >= 38
        and message[0] == HandshakeType.server_hello
        and message[6:38] == HELLO_RETRY_REQUEST_RANDOM
    )


def _transcript_reference(messages: list[bytes], h: str) -> bytes:
    if len(messages) >= 2 and _is_hrr(messages[1]):
        messages = [message_hash(messages[0], h), *messages[1:]]
    return ks.digest(h, b"".join(messages))


def _handshake(kind: int, body: bytes) -> bytes:
    return bytes([kind]) + len(body).to_bytes(3, "big") + body


def _transcript_vectors() -> list[Case]:
    m = {k: H(x) for k, x in rfc8448()["handshake_messages"].items()}
    order = ["client_hello", "server_hello", "encrypted_extensions", "certificate"]
    hrr = _handshake(
        HandshakeType.server_hello,
        b"\x03\x03"
        + HELLO_RETRY_REQUEST_RANDOM
        + b"\x00\x13\x01\x00\x00\x06\x00\x2b\x00\x02\x03\x04",
    )
    return [
        Case("RFC 8448 ClientHello..Certificate", ([m[n] for n in order], "sha256")),
        Case(
            "a HelloRetryRequest exchange (ClientHello1, HRR, ClientHello2)",
            ([m["client_hello"], hrr, m["client_hello"]], "sha256"),
        ),
    ]


def _transcript_strategy() -> Any:
    s = _st()
    message = s.binary(min_size=0, max_size=80).map(
        lambda b: _handshake(HandshakeType.client_hello, b)
    )
    hrr = s.binary(min_size=0, max_size=40).map(
        lambda b: _handshake(
            HandshakeType.server_hello, b"\x03\x03" + HELLO_RETRY_REQUEST_RANDOM + b
        )
    )
    with_hrr = s.tuples(message, hrr, s.lists(message, max_size=3)).map(
        lambda t: [t[0], t[1], *t[2]]
    )
    return s.tuples(s.one_of(s.lists(message, max_size=4), with_hrr), s.sampled_from(HASHES))


def _transcript_mistakes() -> list[Mistake]:
    def wrong_header(messages: list[bytes], h: str) -> bytes:
        digest = ks.digest(h, messages[0])
        synthetic = bytes([HandshakeType.message_hash]) + len(digest).to_bytes(3, "big") + digest
        return ks.digest(h, synthetic + b"".join(messages[1:]))

    def hash_only(messages: list[bytes], h: str) -> bytes:
        return ks.digest(h, ks.digest(h, messages[0]) + b"".join(messages[1:]))

    def hrr(messages: list[bytes], h: str) -> bool:
        return len(messages) >= 2 and _is_hrr(messages[1])

    return [
        Mistake(
            "the HelloRetryRequest rule is missing: after an HRR, ClientHello1 is replaced by the "
            "synthetic message_hash message (type 254, length Hash.length, Hash(ClientHello1))",
            lambda messages, h: ks.digest(h, b"".join(messages)),
            hrr,
        ),
        Mistake(
            "the message_hash header is 254, 00 00, Hash.length: four bytes, not a 3-byte length of the digest",
            wrong_header,
            hrr,
        ),
        Mistake(
            "missing header: message_hash is a handshake message, 254 00 00 Hash.length before the hash",
            hash_only,
            hrr,
        ),
        Mistake(
            "the synthetic message_hash replaces ClientHello1; yours keeps ClientHello1 after it",
            lambda messages, h: ks.digest(h, message_hash(messages[0], h) + b"".join(messages)),
            hrr,
        ),
        Mistake(
            "message_hash carries Hash(ClientHello1), not Hash(HelloRetryRequest), and takes "
            "ClientHello1's place",
            lambda messages, h: ks.digest(
                h, messages[0] + message_hash(messages[1], h) + b"".join(messages[2:])
            ),
            hrr,
        ),
        Mistake(
            "the HelloRetryRequest rule applies only after a HelloRetryRequest; without one the "
            "transcript is the hash of the messages as they are, but yours replaced ClientHello1",
            lambda messages, h: ks.digest(h, message_hash(messages[0], h) + b"".join(messages[1:])),
            lambda messages, h: bool(messages) and not hrr(messages, h),
        ),
        Mistake(
            "the transcript covers every message given; yours leaves out the last one",
            lambda messages, h: _transcript_reference(messages[:-1], h),
            lambda messages, h: bool(messages),
        ),
        Mistake(
            "the transcript covers every message given; yours leaves out the first one",
            lambda messages, h: _transcript_reference(messages[1:], h),
            lambda messages, h: bool(messages),
        ),
        Mistake(
            "wrong hash: hash with hash_name (SHA-384 here), not SHA-256",
            lambda messages, h: _transcript_reference(messages, "sha256"),
            lambda messages, h: h != "sha256",
        ),
    ]


# TLS 1.3 verify_data (RFC 8446 §4.4.4) -----------------------------------------------------------


def _vd13_vectors() -> list[Case]:
    v = rfc8448()
    s, t = v["secrets"], v["transcript_hashes"]
    return [
        Case(
            "RFC 8448 server Finished",
            (H(s["server_handshake_traffic_secret"]), H(t["ch_to_certificate_verify"]), "sha256"),
        ),
        Case(
            "RFC 8448 client Finished",
            (H(s["client_handshake_traffic_secret"]), H(t["ch_to_server_finished"]), "sha256"),
        ),
    ]


def _vd13_strategy() -> Any:
    s = _st()
    return s.sampled_from(HASHES).flatmap(
        lambda h: s.tuples(
            s.binary(min_size=ks.hash_length(h), max_size=ks.hash_length(h)),
            s.binary(min_size=ks.hash_length(h), max_size=ks.hash_length(h)),
            s.just(h),
        )
    )


def _plain_label(label: bytes, length: int) -> bytes:
    return length.to_bytes(2, "big") + bytes([len(label)]) + label + b"\x00"


def _vd13_mistakes() -> list[Mistake]:
    return [
        Mistake(
            "HMAC keyed with the traffic secret itself: derive finished_key = "
            "HKDF-Expand-Label(BaseKey, 'finished', '', Hash.length) first",
            lambda k, th, h: ks.hmac_digest(h, k, th),
        ),
        Mistake(
            "wrong label: finished_key uses the label 'finished' (with the 'tls13 ' prefix inside)",
            lambda k, th, h: ks.hmac_digest(
                h,
                _expand(k, _plain_label(b"finished", ks.hash_length(h)), ks.hash_length(h), h),
                th,
            ),
        ),
        Mistake(
            "TLS 1.3 verify_data is Hash.length bytes, not 12: that truncation is TLS 1.2",
            lambda k, th, h: ks.verify_data_13(k, th, h)[:12],
        ),
        Mistake(
            "finished_key = HKDF-Expand-Label(BaseKey, 'finished', '', Hash.length): the context is "
            "empty; yours puts the transcript hash there (it goes into the HMAC instead)",
            lambda k, th, h: ks.hmac_digest(
                h, ks.hkdf_expand_label(k, "finished", th, ks.hash_length(h), h), th
            ),
        ),
    ]


# CertificateVerify signed content (RFC 8446 §4.4.3) ----------------------------------------------


def _cv_vectors() -> list[Case]:
    v = rfc8448()
    return [
        Case(
            "RFC 8448 server CertificateVerify",
            (H(v["transcript_hashes"]["ch_to_certificate"]), True),
        )
    ]


def _cv_strategy() -> Any:
    s = _st()
    return s.tuples(s.binary(min_size=32, max_size=48), s.booleans())


def _cv_mistakes() -> list[Mistake]:
    return [
        Mistake(
            "wrong context string: that is the other side's ('client' <-> 'server')",
            lambda th, server: certificate_verify_content(th, server=not server),
        ),
        Mistake(
            "the content starts with 64 spaces (0x20), which are missing",
            lambda th, server: certificate_verify_content(th, server=server)[64:],
        ),
        Mistake(
            "the single 0x00 separator between the context string and the hash is missing",
            lambda th, server: certificate_verify_content(th, server=server)[: -len(th) - 1] + th,
        ),
        Mistake(
            "the padding is 64 spaces (0x20), not 64 zero bytes",
            lambda th, server: bytes(64) + certificate_verify_content(th, server=server)[64:],
        ),
    ]


# The per-record nonce and the additional data (RFC 8446 §5.2, §5.3) ------------------------------


def _nonce_vectors() -> list[Case]:
    k = rfc8448()["traffic_keys"]
    iv = H(k["client_application_write_iv"])
    return [
        Case("RFC 8448 client application IV, record 0", (iv, 0)),
        Case("RFC 8448 IV, record 1", (iv, 1)),
    ]


def _nonce_strategy() -> Any:
    s = _st()
    return s.tuples(
        s.binary(min_size=12, max_size=12), s.integers(min_value=0, max_value=2**64 - 1)
    )


def _nonce_mistakes() -> list[Mistake]:
    return [
        Mistake(
            "byte order: the sequence number is big-endian, so it changes the *last* bytes of the IV",
            lambda iv, seq: bytes(
                a ^ b for a, b in zip(iv, seq.to_bytes(12, "little"), strict=True)
            ),
        ),
        Mistake(
            "that is the IV itself: XOR in the sequence number",
            lambda iv, seq: iv,
            lambda iv, seq: seq != 0,
        ),
        Mistake(
            "that is the padded sequence number alone: XOR it with the IV",
            lambda iv, seq: seq.to_bytes(12, "big"),
        ),
        Mistake(
            "the sequence number is left-padded with zeros to the IV's length, so it XORs the "
            "*last* 8 bytes of the IV; yours XORs the first 8",
            lambda iv, seq: bytes(
                a ^ b for a, b in zip(iv, seq.to_bytes(8, "big") + bytes(4), strict=True)
            ),
            lambda iv, seq: seq != 0,
        ),
        Mistake(
            "the nonce is the IV XOR the padded sequence number: XOR, not addition",
            lambda iv, seq: ((int.from_bytes(iv, "big") + seq) % 2**96).to_bytes(12, "big"),
            lambda iv, seq: seq != 0,
        ),
    ]


def _aad_reference(length: int) -> bytes:
    return bytes([ContentType.application_data, 3, 3]) + length.to_bytes(2, "big")


def _aad_vectors() -> list[Case]:
    record = H(rfc8448()["encrypted_records"]["client_application_data_record"]["record"])
    return [Case("RFC 8448 client application data record", (len(record) - 5,))]


def _aad_strategy() -> Any:
    s = _st()
    return s.tuples(s.integers(min_value=17, max_value=2**14 + 256))


def _aad_mistakes() -> list[Mistake]:
    return [
        Mistake(
            "the outer content type is always application_data (23) in TLS 1.3, not handshake (22)",
            lambda n: bytes([22, 3, 3]) + n.to_bytes(2, "big"),
        ),
        Mistake(
            "legacy_record_version is 0x0303 on protected records, not 0x0304",
            lambda n: bytes([23, 3, 4]) + n.to_bytes(2, "big"),
        ),
        Mistake(
            "the length is a uint16 in network order (big-endian)",
            lambda n: bytes([23, 3, 3]) + n.to_bytes(2, "little"),
            lambda n: n % 256 != n // 256,
        ),
        Mistake(
            "legacy_record_version is 0x0303 on protected records, not 0x0301",
            lambda n: bytes([23, 3, 1]) + n.to_bytes(2, "big"),
        ),
        Mistake(
            "the length is that of the encrypted record (TLSCiphertext.length, the argument), which "
            "already includes the 16-byte tag; yours adds 16",
            lambda n: bytes([23, 3, 3]) + (n + 16).to_bytes(2, "big"),
        ),
        Mistake(
            "the length is that of the encrypted record (ciphertext + tag, the argument), not the "
            "plaintext's; yours subtracts 16",
            lambda n: bytes([23, 3, 3]) + (n - 16).to_bytes(2, "big"),
            lambda n: n >= 16,
        ),
        Mistake(
            "the length counts the record's payload, not its 5-byte header; yours adds 5",
            lambda n: bytes([23, 3, 3]) + (n + 5).to_bytes(2, "big"),
        ),
    ]


# A ClientHello parser (RFC 8446 §4.1.2) ------------------------------------------------------------


def _parse_reference(data: bytes) -> dict[str, Any]:
    hello = decode_handshake(data)
    if not isinstance(hello, ClientHello):
        raise TLSError("not a ClientHello")
    return {
        "legacy_session_id": bytes(hello.legacy_session_id),
        "cipher_suites": [int(s) for s in hello.cipher_suites],
        "extensions": [int(e.type_code) for e in hello.extensions],
    }


def _parse_vectors() -> list[Case]:
    m = rfc8448()["handshake_messages"]
    illustrated = tls12()["illustrated_tls12_handshake"]["handshake_messages"]
    return [
        Case("RFC 8448 ClientHello", (H(m["client_hello"]),)),
        Case("the Illustrated TLS 1.2 ClientHello", (H(illustrated["clienthello"]),)),
    ]


def _parse_strategy() -> Any:
    from ..constants import CipherSuite, NamedGroup
    from ..rng import seeded_rng
    from ..stages.hello import DEFAULT_CIPHER_SUITES, build_client_hello

    s = _st()

    def build(args: tuple[Any, ...]) -> tuple[bytes]:
        seed, suites, alpn, groups = args
        hello = build_client_hello(
            "lab.example",
            cipher_suites=suites,
            groups=groups,
            alpn=alpn,
            rng=seeded_rng(seed),
        )
        return (hello.encode(),)

    return s.tuples(
        s.integers(min_value=0, max_value=10**6),
        s.lists(
            s.sampled_from(
                list(DEFAULT_CIPHER_SUITES) + [CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA]
            ),
            min_size=1,
            max_size=6,
            unique=True,
        ),
        s.lists(s.sampled_from(["h2", "http/1.1", "tlslab"]), max_size=2, unique=True),
        s.lists(
            s.sampled_from([NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1]),
            min_size=1,
            max_size=3,
            unique=True,
        ),
    ).map(build)


def _parse_show(data: bytes) -> str:
    return f"a {len(data)}-byte ClientHello starting {data[:6].hex()}"


# One path-validation check: the server name against a certificate name (RFC 6125 §6.4.3) -------------


def _dns_vectors() -> list[Case]:
    table = [
        ("lab.example", "lab.example"),
        ("LAB.example", "lab.EXAMPLE"),
        ("*.lab.example", "www.lab.example"),
        ("*.lab.example", "a.b.lab.example"),
        ("*.lab.example", "lab.example"),
        ("w*.lab.example", "www.lab.example"),
        ("*.example", "lab.example"),
        ("www.*.example", "www.lab.example"),
        ("lab.example", "other.example"),
    ]
    return [Case(f"RFC 6125 case {p!r} vs {n!r}", (p, n)) for p, n in table]


def _dns_strategy() -> Any:
    s = _st()
    label = s.sampled_from(["a", "b", "www", "lab", "x-1", "*", "w*", "LAB"])
    name = s.lists(label, min_size=1, max_size=4).map(".".join)
    host = s.lists(
        s.sampled_from(["a", "b", "www", "lab", "LAB", "x-1"]), min_size=1, max_size=4
    ).map(".".join)
    return s.tuples(name, host)


# -- the table ------------------------------------------------------------------------------------

ASSIGNMENTS: dict[str, Assignment] = {
    a.key: a
    for a in (
        Assignment(
            "prf",
            "prf",
            "P_hash and the TLS 1.2 PRF",
            "RFC 5246 §5",
            10,
            lambda s, label, seed, n, h: ks.prf(s, label, seed, n, h),
            _prf_vectors,
            _prf_strategy,
            _prf_mistakes,
        ),
        Assignment(
            "verify_data_12",
            "verify_data_12",
            "TLS 1.2 Finished.verify_data",
            "RFC 5246 §7.4.9",
            5,
            ks.verify_data_12,
            _vd12_vectors,
            _vd12_strategy,
            _vd12_mistakes,
        ),
        Assignment(
            "hkdf_expand_label",
            "hkdf_expand_label",
            "HKDF-Expand-Label",
            "RFC 8446 §7.1",
            10,
            ks.hkdf_expand_label,
            _hkdf_vectors,
            _hkdf_strategy,
            _hkdf_mistakes,
        ),
        Assignment(
            "derive_secret",
            "derive_secret",
            "Derive-Secret",
            "RFC 8446 §7.1",
            5,
            _derive_reference,
            _derive_vectors,
            _derive_strategy,
            _derive_mistakes,
        ),
        Assignment(
            "transcript_hash",
            "transcript_hash",
            "the transcript hash with the HelloRetryRequest rule",
            "RFC 8446 §4.4.1",
            10,
            _transcript_reference,
            _transcript_vectors,
            _transcript_strategy,
            _transcript_mistakes,
        ),
        Assignment(
            "verify_data_13",
            "verify_data_13",
            "TLS 1.3 Finished.verify_data",
            "RFC 8446 §4.4.4",
            5,
            ks.verify_data_13,
            _vd13_vectors,
            _vd13_strategy,
            _vd13_mistakes,
            allowed=("tlslab.stages.keyschedule.hkdf_expand_label",),
        ),
        Assignment(
            "certificate_verify_content",
            "certificate_verify_content",
            "the content a CertificateVerify signs",
            "RFC 8446 §4.4.3",
            5,
            lambda th, server: certificate_verify_content(th, server=server),
            _cv_vectors,
            _cv_strategy,
            _cv_mistakes,
        ),
        Assignment(
            "record_nonce",
            "record_nonce",
            "the per-record AEAD nonce",
            "RFC 8446 §5.3",
            5,
            xor_nonce,
            _nonce_vectors,
            _nonce_strategy,
            _nonce_mistakes,
        ),
        Assignment(
            "record_aad",
            "record_aad",
            "the AEAD additional data of a TLS 1.3 record",
            "RFC 8446 §5.2",
            5,
            _aad_reference,
            _aad_vectors,
            _aad_strategy,
            _aad_mistakes,
        ),
        Assignment(
            "parse_client_hello",
            "parse_client_hello",
            "a ClientHello parser",
            "RFC 8446 §4.1.2",
            10,
            _parse_reference,
            _parse_vectors,
            _parse_strategy,
            show=_parse_show,
        ),
        Assignment(
            "dns_name_matches",
            "dns_name_matches",
            "path validation: the server name check",
            "RFC 6125 §6.4.3 (RFC 9525 §6.3)",
            5,
            dns_name_matches,
            _dns_vectors,
            _dns_strategy,
        ),
    )
}


# -- tampering: tlslab changed at run time ---------------------------------------------------------


def _is_own_code(value: Any) -> bool:
    """A function or class defined in tlslab."""
    return (inspect.isfunction(value) or isinstance(value, type)) and str(
        getattr(value, "__module__", "")
    ).startswith("tlslab")


def _snapshot() -> dict[tuple[str, str], Any]:
    """Every module-level name of the tlslab modules loaded now, the class attributes of this
    module's classes, and the assignment table: what a monkeypatch would have to replace."""
    out: dict[tuple[str, str], Any] = {}
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "tlslab" or name.startswith("tlslab.")):
            continue
        for attr, value in list(vars(module).items()):
            if attr.startswith("__") or not _is_own_code(value):
                continue  # module state (caches, lazily imported names) may change legitimately
            out[(name, attr)] = value
            if isinstance(value, type) and value.__module__ == __name__:
                for cattr, cvalue in list(vars(value).items()):
                    out[(f"{name}.{attr}", cattr)] = cvalue
    for key, task in ASSIGNMENTS.items():
        out[(f"{__name__}.ASSIGNMENTS", key)] = task
    return out


def _tampered() -> str | None:
    """The first tlslab name that no longer holds what it held when this module was imported."""
    for (where, attr), value in _SNAPSHOT.items():
        now: Any
        if where.endswith(".ASSIGNMENTS"):
            now = ASSIGNMENTS.get(attr)
        else:
            holder = sys.modules.get(where) or _SNAPSHOT_CLASSES.get(where)
            now = vars(holder).get(attr, _MISSING) if holder is not None else _MISSING
        if now is not value:
            return f"{where}.{attr}"
    return None


def _tamper_message(name: str | None) -> str:
    return (
        f"not graded: {name} was replaced while the submission ran; a submission must not change "
        "tlslab (reload it in a fresh kernel: Kernel > Restart)"
    )


_MISSING = object()


# -- notebooks and progress -------------------------------------------------------------------------


def _is_test_cell(cell: dict[str, Any]) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def load_notebook_functions(path: str | Path) -> dict[str, Any]:
    """Run a notebook's code cells (not the locked grading cells) in a fresh namespace and return
    it. A cell that raises is skipped, as a student's unfinished stub would be."""
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    namespace: dict[str, Any] = {"__name__": "__submission__"}
    here = os.getcwd()
    os.chdir(Path(path).resolve().parent)  # a notebook reads its files from its own folder
    try:
        _run_cells(notebook, namespace, str(path))
    finally:
        os.chdir(here)
    return namespace


def _run_cells(notebook: dict[str, Any], namespace: dict[str, Any], path: str) -> None:
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code" or _is_test_cell(cell):
            continue
        source = "".join(cell.get("source", ""))
        lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
        try:
            tree = _without_grading_calls(ast.parse("\n".join(lines), str(path)))
            exec(compile(tree, str(path), "exec"), namespace)
        except Exception:  # an unfinished stub raises NotImplementedError: graded as missing
            continue


def _without_grading_calls(tree: ast.Module) -> ast.Module:
    """The cell without its top-level statements that call grade() or summary() (the student's
    own feedback calls): the functions are graded once, by the caller, whatever cell they share."""

    def grades(node: ast.stmt) -> bool:
        return any(
            isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in _FEEDBACK
            for n in ast.walk(node)
        )

    tree.body = [n for n in tree.body if isinstance(n, ast.FunctionDef) or not grades(n)]
    return tree


_FEEDBACK = ("grade", "summary")


_STUDENT_MODULES = ("__main__", "__submission__")


def grade_functions(namespace: dict[str, Any], keys: Iterable[str] | None = None) -> list[Result]:
    """Grade every assignment whose function ``namespace`` defines (or the ``keys`` given)."""
    wanted = (
        list(keys)
        if keys is not None
        else [
            k
            for k, a in ASSIGNMENTS.items()
            if getattr(namespace.get(a.function), "__module__", None) in _STUDENT_MODULES
        ]
    )
    results = []
    for key in wanted:
        student = namespace.get(ASSIGNMENTS[key].function)
        results.append(
            grade(key, student)
            if student is not None
            else Result(
                key, 0, ASSIGNMENTS[key].points, (f"{ASSIGNMENTS[key].function} is not defined",)
            )
        )
    return results


def assignments_in(path: str | Path) -> list[str]:
    """The assignment keys a notebook's locked grading cells ask for."""
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    keys = []
    for cell in notebook.get("cells", []):
        source = "".join(cell.get("source", ""))
        for key in ASSIGNMENTS:
            if _is_test_cell(cell) and f'grade("{key}"' in source:
                keys.append(key)
    return keys


@dataclass(frozen=True)
class Progress:
    """Which assignments a student passed, with points: a table in a notebook, text in a shell."""

    results: tuple[Result, ...]

    @property
    def points(self) -> float:
        return sum(r.points for r in self.results)

    @property
    def max_points(self) -> float:
        return sum(r.max_points for r in self.results)

    def __str__(self) -> str:
        rows = [f"{'assignment':28} {'points':>9}  status"]
        for r in self.results:
            status = "passed" if r.passed else (r.feedback[0] if r.feedback else "not yet")
            rows.append(f"{r.assignment:28} {r.points:>4g}/{r.max_points:<4g}  {status}")
        passed = sum(r.passed for r in self.results)
        rows.append(
            f"{passed}/{len(self.results)} passed, {self.points:g}/{self.max_points:g} points"
        )
        return "\n".join(rows)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><td>{html.escape(r.assignment)}</td><td>{r.points:g}/{r.max_points:g}</td>"
            f"<td>{'&#10004;' if r.passed else html.escape(r.feedback[0] if r.feedback else '')}</td></tr>"
            for r in self.results
        )
        return f"<table><tr><th>assignment</th><th>points</th><th>status</th></tr>{body}</table>"


def summary(namespace: dict[str, Any]) -> Progress:
    """In a notebook, ``summary(globals())``: grade every assignment function defined there."""
    return Progress(tuple(grade_functions(namespace)))


def progress(*notebooks: str | Path) -> Progress:
    """Grade the student's notebooks and summarise which assignments pass."""
    results: list[Result] = []
    for path in notebooks:
        results += grade_functions(load_notebook_functions(path), assignments_in(path))
    return Progress(tuple(results))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tlslab.lab.grading NOTEBOOK...``: grade notebooks, print feedback and progress."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print(inspect.cleandoc(main.__doc__ or ""))
        return 2
    report = progress(*args)
    for result in report.results:
        print(result)
    print()
    print(report)
    return 0 if all(r.passed for r in report.results) else 1


_SNAPSHOT = _snapshot()
_SNAPSHOT_CLASSES: dict[str, type] = {
    f"{__name__}.{name}": value
    for name, value in list(globals().items())
    if isinstance(value, type) and value.__module__ == __name__
}

if __name__ == "__main__":
    raise SystemExit(main())
