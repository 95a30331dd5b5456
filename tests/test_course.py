"""The course as a whole: generated headers in sync, no dead relative links, every notebook listed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _markdown_sources() -> list[tuple[Path, str]]:
    sources = [(ROOT / "README.md", (ROOT / "README.md").read_text())]
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        sources += [(path, c.source) for c in nb.cells if c.cell_type == "markdown"]
    return sources


def test_headers_in_sync() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "notebook_headers.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_no_dead_relative_links() -> None:
    dead = []
    checked = 0
    for path, text in _markdown_sources():
        for target in LINK.findall(text):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            checked += 1
            if not (path.parent / target.split("#")[0]).exists():
                dead.append(f"{path.name} -> {target}")
    assert checked >= 30
    assert not dead, dead


def test_every_notebook_is_in_the_course_map() -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    from notebook_headers import COURSE

    on_disk = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
    assert [c["file"] for c in COURSE] == on_disk
    assert len(on_disk) >= 11
    overview = nbformat.read(ROOT / "notebooks" / "00_overview.ipynb", as_version=4)
    text = "\n".join(c.source for c in overview.cells)
    for name in on_disk[1:]:
        assert f"({name})" in text, f"00_overview does not link {name}"
