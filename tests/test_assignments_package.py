"""Solutions stay apart from students: build the wheel students install and look inside it.

The wheel must hold no file of instructor/ or assignments/, no line of any assignment's model
solution (the text between the solution markers of the instructor notebooks) and no model answer
of the notebook exercises (instructor/exercise_answers.md)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


def _solution_blocks() -> list[str]:
    """Each model solution as one whitespace-normalised string."""
    blocks: list[str] = []
    for path in sorted((ROOT / "instructor" / "assignments").glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])
            if BEGIN in source:
                body = source.split(BEGIN, 1)[1].split(END, 1)[0]
                blocks.append(" ".join(body.split()))
    return blocks


def _solution_lines() -> list[str]:
    lines: list[str] = []
    for path in sorted((ROOT / "instructor" / "assignments").glob("*.ipynb")):
        inside = False
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            for line in "".join(cell["source"]).split("\n"):
                if line.strip() == BEGIN:
                    inside = True
                elif line.strip() == END:
                    inside = False
                elif inside and len(line.strip()) > 12:
                    lines.append(line.strip())
    return lines


def _exercise_answer_lines() -> list[str]:
    answers = (ROOT / "instructor" / "exercise_answers.md").read_text(encoding="utf-8")
    return [ln.strip() for ln in answers.split("\n") if ln.startswith("    ") and len(ln) > 16]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """Build the wheel from a copy of the project files setuptools reads (the worktree stays clean)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "tlslab", src / "tlslab", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(src)],
        check=True,
        timeout=300,
    )
    (path,) = out.glob("tlslab-*.whl")
    return zipfile.ZipFile(path)


def test_wheel_holds_the_package_and_graders_but_no_course_material(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    assert "tlslab/lab/grading.py" in names and "tlslab/vectors/rfc8448_simple_1rtt.json" in names
    assert not [n for n in names if n.startswith(("instructor/", "assignments/", "notebooks/"))]
    assert not [n for n in names if n.endswith(".ipynb")]


def _text(wheel: zipfile.ZipFile, names: list[str]) -> str:
    return "\n".join(wheel.read(n).decode("utf-8", "replace") for n in names)


def test_no_solution_text_in_the_wheel(wheel: zipfile.ZipFile) -> None:
    """tlslab implements every stage itself (the graders compare with it, the notebooks teach it),
    so a generic line such as ``rest = pattern[2:]`` may also occur in its stage modules. No whole
    model solution may appear anywhere, and no solution line anywhere outside the stage
    implementations: not in the graders, the exercises or any other file."""
    files = [n for n in wheel.namelist() if not n.endswith("/")]
    everything = _text(wheel, files)
    assert BEGIN not in everything
    assert "solution(instructor=True)" not in everything and "solution_text" not in everything
    flat = " ".join(everything.split())
    blocks = _solution_blocks()
    assert len(blocks) == 11
    assert [b[:60] for b in blocks if b in flat] == []
    reference = ("tlslab/stages/", "tlslab/pki/", "tlslab/wire/")
    rest = _text(wheel, [n for n in files if not n.startswith(reference)])
    solutions = _solution_lines()
    assert len(solutions) > 40
    leaked = [line for line in solutions if line in rest]
    assert leaked == [], leaked


def test_no_exercise_model_answer_in_the_wheel(wheel: zipfile.ZipFile) -> None:
    """The notebook exercises' model answers (instructor/exercise_answers.md) are not shipped.
    A self-check runs on the student's machine, so its checker necessarily knows the right
    answer (09.1's checker holds the attack -> defence table); the checkers in
    lab/exercises.py are therefore left out of this comparison, and the stage modules too."""
    left_out = ("tlslab/stages/", "tlslab/pki/", "tlslab/wire/", "tlslab/lab/exercises.py")
    files = [n for n in wheel.namelist() if not n.endswith("/") and not n.startswith(left_out)]
    text = _text(wheel, files)
    answers = _exercise_answer_lines()
    assert len(answers) >= 15
    assert [line for line in answers if line in text] == []
