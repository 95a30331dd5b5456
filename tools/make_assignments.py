"""Generate the student assignments from the instructor notebooks by stripping the solutions.

    python tools/make_assignments.py           # write assignments/ from instructor/assignments/
    python tools/make_assignments.py --check   # exit 1 if assignments/ is out of date (run by the tests)

The instructor notebooks use nbgrader's markup, so the same files also work as an nbgrader
``source/`` folder: a solution cell has ``metadata.nbgrader.solution = true`` and its answer between
``### BEGIN SOLUTION`` and ``### END SOLUTION``; that region becomes ``# YOUR CODE HERE`` and
``raise NotImplementedError()`` at the same indentation (what ``nbgrader generate_assignment``
writes); a solution cell without the markers is replaced whole, as nbgrader does (code:
the stub, markdown: ``YOUR ANSWER HERE``). ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` regions are dropped. Outputs and
execution counts are cleared.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "instructor" / "assignments"
RELEASE = ROOT / "assignments"

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
MARKERS = (BEGIN, END, BEGIN_HIDDEN, END_HIDDEN)


def strip_source(source: str) -> str:
    """Replace every solution region by the stub; drop hidden-test regions."""
    out: list[str] = []
    skipping = None
    for line in source.split("\n"):
        stripped = line.strip()
        if skipping is None and stripped == BEGIN:
            indent = line[: len(line) - len(line.lstrip())]
            out += [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError()"]
            skipping = END
        elif skipping is None and stripped == BEGIN_HIDDEN:
            skipping = END_HIDDEN
        elif skipping is not None:
            if stripped == skipping:
                skipping = None
        else:
            out.append(line)
    if skipping is not None:
        raise ValueError(f"unterminated region: missing {skipping!r}")
    return "\n".join(out)


def student_notebook(notebook: dict[str, Any]) -> dict[str, Any]:
    cells = []
    for cell in notebook["cells"]:
        cell = json.loads(json.dumps(cell))
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and BEGIN not in source:
            # nbgrader's rule: a solution cell without markers is replaced whole
            code = cell["cell_type"] == "code"
            source = "# YOUR CODE HERE\nraise NotImplementedError()" if code else "YOUR ANSWER HERE"
        elif meta.get("solution") or any(m in source for m in MARKERS):
            source = strip_source(source)
        cell["source"] = source
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cells.append(cell)
    return {**notebook, "cells": cells}


def render(notebook: dict[str, Any]) -> str:
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def client_hello_hex() -> str:
    """The RFC 8448 ClientHello in hex: the file the README's parsing example reads."""
    data = json.loads((ROOT / "tlslab" / "vectors" / "rfc8448_simple_1rtt.json").read_text())
    return str(data["handshake_messages"]["client_hello"]) + "\n"


def expected() -> dict[Path, str]:
    files = {
        RELEASE / path.name: render(student_notebook(json.loads(path.read_text(encoding="utf-8"))))
        for path in sorted(SOURCE.glob("*.ipynb"))
    }
    files[RELEASE / "client_hello.hex"] = client_hello_hex()
    files[SOURCE / "client_hello.hex"] = client_hello_hex()
    return files


GUIDE = ROOT / "instructor" / "GUIDE.md"


def course_table() -> str:
    """Objectives and time per notebook, from the course map in tools/notebook_headers.py."""
    sys.path.insert(0, str(ROOT / "tools"))
    from notebook_headers import COURSE

    rows = ["| notebook | learning objectives | time |", "|---|---|---|"]
    for entry in COURSE:
        name = entry["file"][: -len(".ipynb")]
        rows.append(f"| {name} | {entry['goals']} | {entry['time'].removeprefix('About ')} |")
    return "\n".join(rows)


def assignment_table() -> str:
    """The assignments, their RFC sections and points, from the graders' table."""
    from tlslab.lab.grading import ASSIGNMENTS, assignments_in

    rows = ["| notebook | function | what | RFC | points |", "|---|---|---|---|---|"]
    for path in sorted(SOURCE.glob("*.ipynb")):
        for key in assignments_in(path):
            a = ASSIGNMENTS[key]
            rows.append(f"| {path.stem} | `{a.function}` | {a.title} | {a.rfc} | {a.points:g} |")
    return "\n".join(rows)


def fill_guide(text: str) -> str:
    """The guide with its generated tables filled in."""
    for name, table in (("COURSE", course_table()), ("ASSIGNMENT", assignment_table())):
        begin, end = f"<!-- BEGIN {name} TABLE (generated) -->", f"<!-- END {name} TABLE -->"
        head, rest = text.split(begin, 1)
        text = head + begin + "\n" + table + "\n" + end + rest.split(end, 1)[1]
    return text


def stale() -> list[str]:
    out = []
    for path, text in expected().items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            out.append(path.name)
    guide = GUIDE.read_text(encoding="utf-8")
    if fill_guide(guide) != guide:  # the guide's generated tables follow the course map too
        out.append(str(GUIDE.relative_to(ROOT)))
    return out


def write() -> None:
    RELEASE.mkdir(exist_ok=True)
    for path, text in expected().items():
        path.write_text(text, encoding="utf-8")
    GUIDE.write_text(fill_guide(GUIDE.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    if "--check" not in sys.argv:
        write()
    out_of_date = stale()
    if out_of_date:
        print("assignments out of date (run tools/make_assignments.py):", ", ".join(out_of_date))
        sys.exit(1)
    print(f"{len(expected())} assignment files in sync with instructor/assignments/")
