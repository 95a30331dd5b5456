"""Grade assignment notebooks with plain pytest (no nbgrader or otter needed).

    pytest assignments/test_submission.py                          # your own notebooks, here
    TLSLAB_SUBMISSION=path/to/one/student pytest assignments/test_submission.py   # an instructor

One test per function; a failing test prints the grader's feedback (points, the first wrong
input, what is wrong with it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tlslab.lab import grading

FOLDER = Path(os.environ.get("TLSLAB_SUBMISSION", Path(__file__).resolve().parent))
CASES = [
    (path, key) for path in sorted(FOLDER.glob("*.ipynb")) for key in grading.assignments_in(path)
]


@pytest.mark.parametrize(("path", "key"), CASES, ids=[f"{p.stem}::{k}" for p, k in CASES])
def test_assignment(path: Path, key: str) -> None:
    namespace = grading.load_notebook_functions(path)
    (result,) = grading.grade_functions(namespace, [key])
    result.assert_passed()
