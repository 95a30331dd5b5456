"""The "implement this stage" assignments: instructor notebooks, the student notebooks generated
from them, and the graders' points and feedback (tlslab.lab.grading).

Each instructor path from the README is a test here: hand out an assignment (generate the student
notebook, check no solution survives), grade a right submission, a wrong-length one and a
wrong-label one, and read the specific feedback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from tlslab.lab import grading
from tlslab.lab.grading import ASSIGNMENTS, grade
from tlslab.stages.keyschedule import hash_algorithm, hmac_digest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import make_assignments  # noqa: E402

SOURCE = sorted((ROOT / "instructor" / "assignments").glob("*.ipynb"))
RELEASE = sorted((ROOT / "assignments").glob("*.ipynb"))


def _cells(path: Path) -> list[dict[str, Any]]:
    cells: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return cells


def _solution_lines(path: Path) -> list[str]:
    """Every non-trivial line between the solution markers of an instructor notebook."""
    lines, inside = [], False
    for cell in _cells(path):
        for line in "".join(cell["source"]).split("\n"):
            if line.strip() == make_assignments.BEGIN:
                inside = True
            elif line.strip() == make_assignments.END:
                inside = False
            elif inside and len(line.strip()) > 12:
                lines.append(line.strip())
    return lines


# -- handing out: student notebooks come from the instructor ones, without solutions ---------------


def test_every_assignment_has_an_instructor_and_a_student_notebook() -> None:
    assert len(SOURCE) >= 6
    assert [p.name for p in SOURCE] == [p.name for p in RELEASE]
    asked = [key for path in SOURCE for key in grading.assignments_in(path)]
    assert sorted(asked) == sorted(ASSIGNMENTS), "every grader is used by exactly one notebook"


def test_student_notebooks_are_generated_from_the_instructor_ones() -> None:
    assert make_assignments.stale() == [], "run python tools/make_assignments.py"


def test_no_solution_text_reaches_the_student_notebooks() -> None:
    student_text = "\n".join(p.read_text(encoding="utf-8") for p in RELEASE)
    for marker in make_assignments.MARKERS:
        assert marker not in student_text
    solutions = [line for path in SOURCE for line in _solution_lines(path)]
    assert len(solutions) > 30
    leaked = [line for line in solutions if json.dumps(line)[1:-1] in student_text]
    assert leaked == []
    assert student_text.count("raise NotImplementedError()") == len(ASSIGNMENTS)


def test_strip_source_keeps_the_indentation_and_drops_hidden_tests() -> None:
    source = "def f():\n    x = 1\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n"
    assert make_assignments.strip_source(source) == (
        "def f():\n    x = 1\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    )
    hidden = "assert f()\n### BEGIN HIDDEN TESTS\nassert g()\n### END HIDDEN TESTS\n"
    assert make_assignments.strip_source(hidden) == "assert f()\n"
    with pytest.raises(ValueError, match="END SOLUTION"):
        make_assignments.strip_source("### BEGIN SOLUTION\nx = 1\n")


def test_notebooks_carry_nbgrader_metadata() -> None:
    """The instructor notebooks are an nbgrader source folder: unique grade ids, locked test cells
    with points, solution cells marked."""
    for path in SOURCE:
        ids, points = [], 0.0
        for cell in _cells(path):
            meta = cell.get("metadata", {}).get("nbgrader")
            if meta is None:
                continue
            assert meta["schema_version"] == 3
            ids.append(meta["grade_id"])
            if meta["grade"]:
                assert meta["locked"] and not meta["solution"] and meta["points"] > 0
                points += meta["points"]
            else:
                assert meta["solution"] and make_assignments.BEGIN in "".join(cell["source"])
        assert len(ids) == len(set(ids)) and ids
        assert points == sum(ASSIGNMENTS[k].points for k in grading.assignments_in(path))


# -- grading: right answers get full points, the stubs none -----------------------------------------


def test_instructor_solutions_get_full_points() -> None:
    report = grading.progress(*SOURCE)
    assert [r.assignment for r in report.results] == [
        k for p in SOURCE for k in grading.assignments_in(p)
    ]
    assert all(r.passed for r in report.results), str(report)
    assert report.points == report.max_points == sum(a.points for a in ASSIGNMENTS.values())


def test_unfinished_student_notebooks_get_no_points() -> None:
    report = grading.progress(*RELEASE)
    assert report.points == 0 and len(report.results) == len(ASSIGNMENTS)
    assert all("not written yet" in r.feedback[0] for r in report.results)
    assert "0/11 passed" in str(report)


# -- grading: specific feedback for the common mistakes ---------------------------------------------


def _prf(
    truncate: bool = True, with_label: bool = True, flip: int | None = None
) -> Callable[..., bytes]:
    def prf(
        secret: bytes, label: str, seed: bytes, length: int, hash_name: str = "sha256"
    ) -> bytes:
        full = (label.encode() if with_label else b"") + seed
        out, a = b"", full
        while len(out) < length:
            a = hmac_digest(hash_name, secret, a)
            out += hmac_digest(hash_name, secret, a + full)
        result = bytearray(out[:length] if truncate else out)
        if flip is not None and len(result) > flip:
            result[flip] ^= 0x01
        return bytes(result)

    return prf


def _hkdf(prefix: bytes = b"tls13 ", label_length: bool = True) -> Callable[..., bytes]:
    def hkdf_expand_label(
        secret: bytes, label: str, context: bytes, length: int, hash_name: str = "sha256"
    ) -> bytes:
        full = prefix + label.encode()
        info = length.to_bytes(2, "big") + (bytes([len(full)]) if label_length else b"") + full
        info += bytes([len(context)]) + context
        return HKDFExpand(hash_algorithm(hash_name), length, info).derive(secret)

    return hkdf_expand_label


def test_right_submission() -> None:
    result = grade("prf", _prf())
    assert result.passed and result.points == 10 and "correct on the RFC vectors" in str(result)
    assert grade("hkdf_expand_label", _hkdf())


def test_wrong_length_submission() -> None:
    """The most common PRF bug: forgetting to cut P_hash's output (the README example used to
    crash with StopIteration on it)."""
    result = grade("prf", _prf(truncate=False))
    assert not result and result.points == 0
    first = result.feedback[0]
    assert first.startswith("wrong length: returned 128 bytes, expected 100")
    assert "the first 100 byte(s) are right" in first and "not cut to the length" in first
    assert "the PRF vector P_SHA256" in first and "length=100" in first
    assert "random input, shrunk by Hypothesis" in result.feedback[1]


def test_wrong_label_submissions() -> None:
    prf = grade("prf", _prf(with_label=False))
    assert prf.feedback[0].startswith("wrong label: this is P_hash(secret, seed) without the label")
    hkdf = grade("hkdf_expand_label", _hkdf(prefix=b""))
    assert hkdf.points == 0 and "'tls13 ' prefix is missing" in hkdf.feedback[0]
    assert "RFC 8448 server handshake key" in hkdf.feedback[0]
    no_space = grade("hkdf_expand_label", _hkdf(prefix=b"tls13"))
    assert "you wrote 'tls13'" in no_space.feedback[0]


def test_missing_length_prefix_submission() -> None:
    result = grade("hkdf_expand_label", _hkdf(label_length=False))
    assert "missing length prefix: opaque label<7..255>" in result.feedback[0]


def test_first_wrong_byte_names_offset_and_input() -> None:
    result = grade("prf", _prf(flip=40))
    assert result.feedback[0].startswith("first wrong byte at offset 40 of 100: 0x")
    assert "secret=9bbe436ba940f017" in result.feedback[0]


def test_random_inputs_catch_what_the_vectors_miss() -> None:
    """Right on every published vector (all SHA-256 or SHA-384 as given), wrong only on inputs the
    vectors do not contain: half the points, and the feedback shows Hypothesis's smallest input."""

    def prf_empty_seed_bug(
        secret: bytes, label: str, seed: bytes, length: int, hash_name: str = "sha256"
    ) -> bytes:
        return _prf()(secret, label, seed or b"\x00", length, hash_name)

    result = grade("prf", prf_empty_seed_bug)
    assert result.points == 5 and len(result.feedback) == 1
    assert "seed=b'' (empty)" in result.feedback[0]


@pytest.mark.parametrize(
    ("key", "student", "expected"),
    [
        (
            "record_nonce",
            lambda iv, seq: bytes(
                a ^ b for a, b in zip(iv, seq.to_bytes(12, "little"), strict=True)
            ),
            "big-endian",
        ),
        (
            "record_aad",
            lambda n: bytes([22, 3, 3]) + n.to_bytes(2, "big"),
            "always application_data",
        ),
        (
            "certificate_verify_content",
            lambda th, server: b"TLS 1.3, server CertificateVerify\x00" + th,
            "64 spaces",
        ),
        ("verify_data_13", lambda k, th, h="sha256": hmac_digest(h, k, th), "finished_key"),
        (
            "transcript_hash",
            lambda ms, h="sha256": __import__("tlslab").stages.keyschedule.digest(h, b"".join(ms)),
            "HelloRetryRequest rule is missing",
        ),
        (
            "dns_name_matches",
            lambda p, n: p.lower() == n.lower() or (p.startswith("*.") and n.endswith(p[1:])),
            "returned True, expected False",
        ),
        (
            "parse_client_hello",
            lambda data: {"legacy_session_id": b"", "cipher_suites": [], "extensions": []},
            "legacy_session_id is",
        ),
        (
            "verify_data_12",
            lambda m, label, hh, h="sha256": _prf()(m, label, hh, 32, h),
            "wrong length: returned 32 bytes, expected 12",
        ),
        (
            "derive_secret",
            lambda s, label, msgs, h="sha256": _hkdf()(
                s, label, b"", 32 if h == "sha256" else 48, h
            ),
            "empty context",
        ),
    ],
)
def test_each_grader_names_its_mistake(
    key: str, student: Callable[..., Any], expected: str
) -> None:
    result = grade(key, student, examples=40)
    assert not result.passed
    assert any(expected in line for line in result.feedback), str(result)


def test_a_crashing_submission_is_feedback_not_a_crash() -> None:
    result = grade("record_aad", lambda n: bytes([23, 3, 3, 0, n]), examples=200)
    assert result.points == 2.5 and "raised ValueError(bytes must be in range(0, 256))" in str(
        result
    )
    assert "n=256" in str(result)
    assert not grade("prf", "not a function")


# -- the shells an instructor uses: the CLI and plain pytest ------------------------------------------


def _submission(tmp_path: Path, key: str, body: str) -> Path:
    """A student's copy of the notebook that holds ``key``, with one function body filled in."""
    path = next(p for p in RELEASE if key in grading.assignments_in(p))
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if f"def {key}(" in source:
            cell["source"] = source.replace(
                "    # YOUR CODE HERE\n    raise NotImplementedError()", body
            )
    out = tmp_path / path.name
    out.write_text(json.dumps(notebook), encoding="utf-8")
    return out


def test_cli_grades_a_submission(tmp_path: Path) -> None:
    body = "    return bytes(a ^ b for a, b in zip(iv, seq.to_bytes(len(iv), 'big')))"
    path = _submission(tmp_path, "record_nonce", body)
    run = subprocess.run(
        [sys.executable, "-m", "tlslab.lab.grading", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 1  # record_aad is still a stub
    assert "record_nonce                    5/5     passed" in run.stdout
    assert "record_aad                      0/5     record_aad is not written yet" in run.stdout
    assert "1/2 passed, 5/10 points" in run.stdout


def test_plain_pytest_grades_a_submission_folder(tmp_path: Path) -> None:
    body = "    return bytes([23, 3, 3]) + length.to_bytes(2, 'little')"
    _submission(tmp_path, "record_aad", body)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(ROOT / "assignments" / "test_submission.py"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "TLSLAB_SUBMISSION": str(tmp_path)},
    )
    assert run.returncode == 1, run.stdout
    assert "2 failed" in run.stdout
    assert "the length is a uint16 in network order (big-endian)" in run.stdout


# -- the README's instructor section, as code -------------------------------------------------------


def _readme_block(containing: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    (block,) = [b for b in blocks if containing in b]
    return block


def test_readme_parsing_example_runs_on_the_shipped_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    exec(_readme_block("client_hello.hex"), {})
    out = capsys.readouterr().out
    assert (
        "['TLS_AES_128_GCM_SHA256', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_256_GCM_SHA384']"
        in out
    )


def test_readme_hand_written_grader_survives_a_wrong_length_answer() -> None:
    """The README's PRF grader used to raise StopIteration when the answer had the wrong length."""
    namespace: dict[str, Any] = {}
    exec(_readme_block("def grade_prf"), namespace)
    grade_prf = namespace["grade_prf"]
    assert grade_prf(_prf()) == []
    long = grade_prf(_prf(truncate=False))
    assert long and all("bytes, expected" in p for p in long)
    assert grade_prf(_prf(flip=40))[0].endswith("first wrong byte at offset 40")


# -- a grader that cannot be fooled by the easy tricks ------------------------------------------------


class _AlwaysEqualBytes(bytes):
    """A bytes object that says it equals anything (and converts to itself)."""

    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    __hash__ = bytes.__hash__

    def __bytes__(self) -> bytes:
        return self


class _AlwaysEqualInt(int):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = int.__hash__


class _AlwaysEqual:
    def __eq__(self, other: object) -> bool:
        return True


def test_objects_that_equal_everything_get_no_points() -> None:
    """A result is graded on the data it holds (read through the built-in types), not on what its
    own __eq__ or __bytes__ claims."""
    result = grade("record_aad", lambda n: _AlwaysEqualBytes(b"x"), examples=20)
    assert result.points == 0, str(result)
    assert result.feedback[0].startswith("wrong length: returned 1 bytes, expected 5")
    proxy = grade("dns_name_matches", lambda p, n: _AlwaysEqual(), examples=20)
    assert proxy.points == 0 and "returned _AlwaysEqual, expected bool" in proxy.feedback[0]

    def parse(data: bytes) -> dict[str, Any]:
        suites = [_AlwaysEqualInt(0)] * 3
        return {
            "legacy_session_id": data[39 : 39 + data[38]],
            "cipher_suites": suites,
            "extensions": suites,
        }

    parsed = grade("parse_client_hello", parse, examples=20)
    assert parsed.points == 0 and "cipher_suites is [0, 0, 0]" in parsed.feedback[0], str(parsed)
    # An IntEnum is an honest int: tlslab's CipherSuite members are accepted as their values.
    from tlslab import CipherSuite

    def parse_enums(data: bytes) -> dict[str, Any]:
        right = grading.ASSIGNMENTS["parse_client_hello"].reference(data)
        return {**right, "cipher_suites": [CipherSuite(s) for s in right["cipher_suites"]]}

    assert grading._plain(
        parse_enums(bytes.fromhex((ROOT / "assignments" / "client_hello.hex").read_text()))
    )["cipher_suites"] == [4865, 4867, 4866]


def test_a_submission_that_calls_tlslabs_own_stage_gets_no_points() -> None:
    from tlslab.stages import keyschedule, protection

    wrapped = grade(
        "prf", lambda s, label, seed, n, h="sha256": keyschedule.prf(s, label, seed, n, h)
    )
    assert wrapped.points == 0
    assert "calls tlslab's own tlslab.stages.keyschedule.prf" in wrapped.feedback[0]
    assert grade("record_nonce", protection.xor_nonce).points == 0  # the function itself
    # The helpers the notebook imports are allowed, and so is tlslab's code they call.
    assert grade("prf", _prf(), examples=20).passed


def test_a_submission_that_patches_tlslab_gets_no_points(monkeypatch: pytest.MonkeyPatch) -> None:
    from tlslab.stages import keyschedule

    def zeros(
        secret: bytes, label: str, seed: bytes, length: int, hash_name: str = "sha256"
    ) -> bytes:
        return bytes(length)

    monkeypatch.setattr(keyschedule, "prf", zeros)  # the reference now agrees with the student
    result = grade("prf", zeros, examples=20)
    assert result.points == 0
    assert "tlslab.stages.keyschedule.prf was replaced" in result.feedback[0]
    monkeypatch.undo()
    monkeypatch.setattr(grading, "_same", lambda got, want: True)
    assert grade("prf", zeros, examples=20).points == 0


# -- more of the mistakes students make, each named in the feedback -----------------------------------

_HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


def _is_hrr(message: bytes) -> bool:
    return len(message) >= 38 and message[0] == 2 and message[6:38] == _HRR_RANDOM


def _synthetic(message: bytes, h: str) -> bytes:
    from tlslab.stages.keyschedule import digest

    d = digest(h, message)
    return bytes([254, 0, 0, len(d)]) + d


def _th_always(ms: list[bytes], h: str = "sha256") -> bytes:
    from tlslab.stages.keyschedule import digest

    if not ms:
        return digest(h, b"")
    return digest(h, _synthetic(ms[0], h) + b"".join(ms[1:]))


def _th_right(ms: list[bytes], h: str = "sha256") -> bytes:
    from tlslab.stages.keyschedule import digest

    if len(ms) >= 2 and _is_hrr(ms[1]):
        return digest(h, _synthetic(ms[0], h) + b"".join(ms[1:]))
    return digest(h, b"".join(ms))


def _th_keeps_ch1(ms: list[bytes], h: str = "sha256") -> bytes:
    from tlslab.stages.keyschedule import digest

    if len(ms) >= 2 and _is_hrr(ms[1]):
        return digest(h, _synthetic(ms[0], h) + b"".join(ms))
    return digest(h, b"".join(ms))


def _th_hashes_hrr(ms: list[bytes], h: str = "sha256") -> bytes:
    from tlslab.stages.keyschedule import digest

    if len(ms) >= 2 and _is_hrr(ms[1]):
        return digest(h, ms[0] + _synthetic(ms[1], h) + b"".join(ms[2:]))
    return digest(h, b"".join(ms))


def _hkdf_info(secret: bytes, info: bytes, length: int, h: str, *, extract: bool = False) -> bytes:
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    if extract:
        return HKDF(hash_algorithm(h), length, None, info).derive(secret)
    return HKDFExpand(hash_algorithm(h), length, info).derive(secret)


def _label(
    label: str, ctx: bytes, n: int, *, label_len: int | None = None, ctx_len: int = 1
) -> bytes:
    full = b"tls13 " + label.encode()
    size = len(full) if label_len is None else label_len
    return n.to_bytes(2, "big") + bytes([size]) + full + len(ctx).to_bytes(ctx_len, "big") + ctx


def _prf_chain(
    secret: bytes,
    label: str,
    seed: bytes,
    n: int,
    h: str,
    *,
    a0: bytes | None = None,
    swap: bool = False,
) -> bytes:
    full = label.encode() + seed
    out, a = b"", full if a0 is None else a0
    mac = (lambda k, d: hmac_digest(h, d, k)) if swap else (lambda k, d: hmac_digest(h, k, d))
    while len(out) < n:
        a = mac(secret, a)
        out += mac(secret, a + full)
    return out[:n]


@pytest.mark.parametrize(
    ("key", "student", "expected"),
    [
        (
            "prf",
            lambda s, lab, se, n, h="sha256": _prf_chain(s, lab, se, n, h, a0=lab.encode()),
            "A(0)",
        ),
        (
            "prf",
            lambda s, lab, se, n, h="sha256": _prf_chain(s, lab, se, n, h, swap=True),
            "the secret is the HMAC key",
        ),
        (
            "prf",
            lambda s, lab, se, n, h="sha256": _prf_chain(s, lab + "\0", se, n, h),
            "terminating zero",
        ),
        (
            "hkdf_expand_label",
            lambda s, lab, c, n, h="sha256": _hkdf_info(
                s, _label(lab, c, n, label_len=len(lab)), n, h
            ),
            "counts 'tls13 ' + Label",
        ),
        (
            "hkdf_expand_label",
            lambda s, lab, c, n, h="sha256": _hkdf_info(s, _label(lab, c, n, ctx_len=2), n, h),
            "one length byte; yours is two",
        ),
        (
            "hkdf_expand_label",
            lambda s, lab, c, n, h="sha256": _hkdf_info(s, _label(lab, c, n), n, h, extract=True),
            "HKDF-Expand only",
        ),
        (
            "derive_secret",
            lambda s, lab, m, h="sha256": _hkdf_info(s, _label(lab, _dig(h, m), 32), 32, h),
            "Hash.length",
        ),
        (
            "derive_secret",
            lambda s, lab, m, h="sha256": _hkdf_info(
                s,
                _label(lab, _dig("sha256", m), 48 if h == "sha384" else 32),
                48 if h == "sha384" else 32,
                h,
            ),
            "hash the messages with hash_name",
        ),
        ("transcript_hash", _th_always, "only after a HelloRetryRequest"),
        ("transcript_hash", _th_keeps_ch1, "replaces ClientHello1"),
        ("transcript_hash", _th_hashes_hrr, "Hash(ClientHello1), not Hash(HelloRetryRequest)"),
        (
            "transcript_hash",
            lambda ms, h="sha256": _dig(h, b"".join(ms[:-1])),
            "leaves out the last",
        ),
        ("transcript_hash", lambda ms, h="sha256": _th_right(ms, "sha256"), "wrong hash"),
        (
            "verify_data_13",
            lambda k, th, h="sha256": hmac_digest(
                h,
                _hkdf_info(
                    k,
                    _label("finished", th, 48 if h == "sha384" else 32),
                    48 if h == "sha384" else 32,
                    h,
                ),
                th,
            ),
            "the context is empty",
        ),
        (
            "record_nonce",
            lambda iv, q: bytes(
                a ^ b for a, b in zip(iv, q.to_bytes(8, "big") + bytes(4), strict=True)
            ),
            "left-padded",
        ),
        (
            "record_nonce",
            lambda iv, q: ((int.from_bytes(iv, "big") + q) % 2**96).to_bytes(12, "big"),
            "XOR, not addition",
        ),
        (
            "record_aad",
            lambda n: bytes([23, 3, 3]) + (n + 16).to_bytes(2, "big"),
            "already includes the 16-byte tag",
        ),
        (
            "record_aad",
            lambda n: bytes([23, 3, 3]) + (n - 16).to_bytes(2, "big"),
            "not the plaintext",
        ),
        ("record_aad", lambda n: bytes([23, 3, 3]) + (n + 5).to_bytes(2, "big"), "5-byte header"),
        ("record_aad", lambda n: bytes([23, 3, 1]) + n.to_bytes(2, "big"), "0x0301"),
    ],
)
def test_more_mistakes_are_named(key: str, student: Callable[..., Any], expected: str) -> None:
    result = grade(key, student, examples=60)
    assert result.points < result.max_points
    assert any(expected in line for line in result.feedback), str(result)


def _dig(h: str, data: bytes) -> bytes:
    from tlslab.stages.keyschedule import digest

    return digest(h, data)


def test_a_function_that_never_returns_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    """An endless loop (``while len(out) != length`` past the length) must not hang a grading run
    of a whole class: the call is stopped after CALL_TIME_LIMIT seconds, and not retried."""
    monkeypatch.setattr(grading, "CALL_TIME_LIMIT", 0.3)
    calls = []

    def prf(
        secret: bytes, label: str, seed: bytes, length: int, hash_name: str = "sha256"
    ) -> bytes:
        calls.append(length)
        out = b""
        while len(out) != length:
            out += hmac_digest(hash_name, secret, label.encode() + seed + out)
        return out

    result = grade("prf", prf)
    assert result.points == 0
    assert "did not return within 0.3 s" in result.feedback[0]
    assert "length=100" in result.feedback[0] and len(calls) == 1


def test_a_cell_that_defines_and_grades_is_still_graded(tmp_path: Path) -> None:
    """A student who puts the feedback call in the same cell as the function (or leaves it in a
    comment) is graded on the function: only the grade()/summary() calls are left out."""
    body = (
        "    return bytes(a ^ b for a, b in zip(iv, seq.to_bytes(len(iv), 'big')))\n\n"
        'grade("record_nonce", record_nonce)  # and summary(globals())'
    )
    path = _submission(tmp_path, "record_nonce", body)
    (result,) = grading.grade_functions(grading.load_notebook_functions(path), ["record_nonce"])
    assert result.passed, str(result)


def test_a_solution_cell_without_markers_is_replaced_whole() -> None:
    """nbgrader replaces a solution cell that has no BEGIN/END SOLUTION markers entirely; so must
    the generator, or an instructor who forgets the markers hands out the answer."""
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {"nbgrader": {"solution": True, "grade": False, "grade_id": "x"}},
                "source": "def f(x):\n    return x * 42  # the answer\n",
                "outputs": [],
                "execution_count": None,
            },
            {
                "cell_type": "markdown",
                "metadata": {"nbgrader": {"solution": True, "grade": True, "grade_id": "y"}},
                "source": "The nonce is unique because the sequence number never repeats.",
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    code, prose = make_assignments.student_notebook(notebook)["cells"]
    assert code["source"] == "# YOUR CODE HERE\nraise NotImplementedError()"
    assert prose["source"] == "YOUR ANSWER HERE"


def test_without_hypothesis_the_grader_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`pip install tlslab` alone has no Hypothesis (it is in the lab extra): the vectors are still
    graded and the feedback says what to install, instead of a ModuleNotFoundError."""
    monkeypatch.setitem(sys.modules, "hypothesis", None)
    result = grade("prf", _prf())
    assert result.points == 5
    assert "pip install 'tlslab[lab]'" in result.feedback[0]


def test_readme_tells_students_to_install_the_extra_with_hypothesis() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(`pip install tlslab`)" not in readme
    assert 'pip install "tlslab[lab]"' in readme


def test_the_time_limit_is_not_mistaken_for_a_call_into_tlslab(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The alarm's handler (a tlslab function) runs inside the student's frame when it fires
    there; it must be reported as the time limit, not as 'calls tlslab's own ...'."""
    monkeypatch.setattr(grading, "CALL_TIME_LIMIT", 0.2)

    def record_aad(length: int) -> bytes:
        while True:  # no calls at all: the alarm can only interrupt this frame
            length += 1

    result = grade("record_aad", record_aad)
    assert result.points == 0
    assert len(result.feedback) == 1 and "did not return within 0.2 s" in result.feedback[0]
