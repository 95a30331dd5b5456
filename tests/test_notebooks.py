"""The notebook machinery: every notebook runs headless, is committed clean, and never
redefines what tlslab exports."""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
PRESENTATION = (
    "tlslab.lab.viz",
    "tlslab.lab.widgets",
    "tlslab.lab.exercises",
    "tlslab.net.sockets",
    "tlslab.net.openssl_lab",
    "tlslab.lab.illustrated",
    "tlslab.lab.refusals",
    "tlslab.lab.exercises_part2",
)


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path: Path) -> None:
    nb = json.loads(path.read_text())
    dirty = [
        i
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; run `make strip-notebooks`"


def _exported_names() -> set[str]:
    import tlslab

    names = set(tlslab.__all__)
    for module_name in PRESENTATION:
        module = importlib.import_module(module_name)
        names |= {
            n
            for n, v in vars(module).items()
            if not n.startswith("_") and getattr(v, "__module__", None) == module_name
        }
    return names


def _defined_names(source: str) -> set[str]:
    tree = ast.parse(source)
    out: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, ast.Assign):
            out |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
            out.add(node.target.id)
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_does_not_redefine_tlslab(path: Path) -> None:
    exported = _exported_names()
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        clash = _defined_names(cell.source) & exported
        assert not clash, (
            f"{path.name} cell {i} redefines {sorted(clash)}: import it from tlslab instead"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_imports_only_tlslab(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Import):
                roots = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert roots <= {"tlslab"}, (
                f"{path.name} cell {i} imports {roots}: notebooks import only tlslab"
            )


def test_redefinition_check_catches_a_clash() -> None:
    assert "explain" in _defined_names("def explain(x):\n    return x\n") & _exported_names()


# Cells that talk to a live OpenSSL peer (its own randomness, today's date) or time something:
# their outputs may differ run to run. Everything else must be identical, byte for byte.
LIVE = re.compile(
    r"\bconnect\(|openssl_|record_openssl_session|capture_client_hello|ask_openssl_server|"
    r"serve_in_thread|real_now\(|perf_counter|timeit"
)
# The figures each notebook must draw (image/png outputs with the inline backend), at least.
FIGURES = {
    "00_overview.ipynb": 2,
    "00b_illustrated_connection.ipynb": 2,
    "01_client_hello.ipynb": 1,
    "04_key_exchange.ipynb": 1,
    "05_key_derivation.ipynb": 2,
    "07_record_protection.ipynb": 1,
    "08_full_handshake.ipynb": 2,
    "09_attacks_and_failures.ipynb": 1,
}


def _live_cells(cells: list[Any]) -> set[int]:
    """Cells that talk to a live peer, or carry the ``nondeterministic`` tag (ML-KEM encapsulation
    and ML-DSA signing draw randomness no seed controls; notebook 10 says so where it happens),
    and every later cell that uses a name one of them set."""
    live: set[int] = set()
    tainted: set[str] = set()
    for i, cell in enumerate(cells):
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        tagged = "nondeterministic" in cell.get("metadata", {}).get("tags", [])
        if LIVE.search(cell.source) or tagged or used & tainted:
            live.add(i)
            tainted |= {
                n.id
                for n in ast.walk(tree)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
            }
    return live


def test_live_cells_taint_later_cells() -> None:
    cells = [
        nbformat.v4.new_code_cell("x = connect('127.0.0.1', 1)"),
        nbformat.v4.new_code_cell("y = 2"),
        nbformat.v4.new_code_cell("plot(x.trace)"),
    ]
    assert _live_cells(cells) == {0, 2}


def _execute(path: Path) -> Any:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    return nb


def _outputs(cell: Any) -> list[str]:
    """A cell's outputs as comparable text: stdout and stderr (each joined: the kernel may split
    one print into several stream messages, differently on every run), then text/plain, HTML
    and PNG (base64) of each displayed value."""
    streams: dict[str, str] = {}
    shown = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            streams[out.get("name", "stdout")] = streams.get(
                out.get("name", "stdout"), ""
            ) + out.get("text", "")
        for mime in ("text/plain", "text/html", "image/png"):
            value = out.get("data", {}).get(mime)
            if value is not None:
                shown.append(f"{mime}: {value}")
    return [f"{name}: {text}" for name, text in sorted(streams.items())] + shown


def test_outputs_join_split_streams() -> None:
    one = {"outputs": [{"output_type": "stream", "name": "stdout", "text": "a\nb\n"}]}
    two = {
        "outputs": [
            {"output_type": "stream", "name": "stdout", "text": "a\n"},
            {"output_type": "stream", "name": "stdout", "text": "b\n"},
        ]
    }
    assert _outputs(one) == _outputs(two)
    assert _outputs(one) != _outputs({"outputs": [{"output_type": "stream", "text": "a\n"}]})


ALT = re.compile(r'<img [^>]*alt="([^"]+)"')


def _figures_without_alt_text(cells: list[Any]) -> list[str]:
    """Code cells with an ``image/png`` output that has no ``text/html`` twin ``<img alt=...>``
    (what JupyterLab and the HTML export show, see :mod:`tlslab.lab.alt_text`)."""
    missing = []
    for i, cell in enumerate(cells):
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = out.get("data", {})
            if "image/png" in data:
                found = ALT.search(data.get("text/html", ""))
                if found is None or len(found.group(1).strip()) < 20:
                    missing.append(f"cell {i} ({cell.get('id')})")
    return missing


def test_a_figure_without_alt_text_is_caught() -> None:
    png = {"image/png": "iVBOR", "text/plain": "<Figure>"}
    bare = nbformat.v4.new_code_cell("plot()")
    bare.outputs = [nbformat.v4.new_output("display_data", data=png)]
    described = nbformat.v4.new_code_cell("plot()")
    html = '<img src="data:image/png;base64,iVBOR" alt="A ladder of ten messages, in order.">'
    described.outputs = [nbformat.v4.new_output("display_data", data={**png, "text/html": html})]
    assert _figures_without_alt_text([bare, described]) == [f"cell 0 ({bare.get('id')})"]


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_headless_and_deterministically(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs top to bottom with the inline backend (figures really are drawn), draws the figures it
    should, then runs again: every output of every offline cell is identical both times."""
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    first = _execute(path)
    errors = [
        out
        for cell in first.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors
    figures = sum(
        "image/png" in out.get("data", {})
        for cell in first.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )
    assert figures >= FIGURES.get(path.name, 0), f"{path.name}: only {figures} figures drawn"
    missing_alt = _figures_without_alt_text(first.cells)
    assert not missing_alt, f"{path.name}: figures without alt text in {missing_alt}"
    second = _execute(path)
    live = _live_cells(first.cells)
    differ = [
        f"cell {i} ({cell.get('id')})"
        for i, (cell, again) in enumerate(zip(first.cells, second.cells, strict=True))
        if cell.cell_type == "code" and i not in live and _outputs(cell) != _outputs(again)
    ]
    assert not differ, f"{path.name}: outputs differ between two runs in {differ}"


def test_import_tlslab_is_light() -> None:
    code = (
        "import sys, tlslab\n"
        "heavy = [m for m in ('matplotlib', 'ipywidgets', 'IPython', 'numpy') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"import tlslab pulled in {out}"
