"""Build the course as a static website with Jupyter Book (``make book``).

    python tools/build_book.py                 # execute the course once, build book/_build/html
    python tools/build_book.py --only 01 05    # a subset (any notebook whose name starts so)
    python tools/build_book.py --out DIR       # stage and build under DIR/_build instead of book/

Steps:

1. The table of contents is the course map ``COURSE`` in ``tools/notebook_headers.py`` (read, not
   copied), so a notebook added to the course joins the site.
2. Each notebook is executed once, headless, with nbclient (the same way the tests run them; two
   at a time), in a staging folder ``book/_build/src``; the committed notebooks stay without
   outputs.
3. A widget cannot run in a static page: each widget output is replaced by its state at the end of
   execution (the knobs and their values, the HTML the widget shows) under a note saying to run the
   notebook live.
4. Jupyter Book 1 (Sphinx; no Node, no network) renders ``book/_build/src`` to ``book/_build/html``.
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
LIVE_NOTE = (
    "Interactive widget, shown here in the state it starts in. To turn the knobs, run this "
    "notebook live: <code>make lab</code>, or the Binder link in the README."
)


def course() -> list[dict[str, str]]:
    """The course map of tools/notebook_headers.py, the one list of notebooks."""
    spec = importlib.util.spec_from_file_location(
        "notebook_headers", ROOT / "tools" / "notebook_headers.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    entries: list[dict[str, str]] = module.COURSE
    return entries


def toc(files: list[str]) -> str:
    lines = ["format: jb-book", "root: intro", "chapters:"]
    lines += [f"- file: notebooks/{name[: -len('.ipynb')]}" for name in files]
    lines += ["- file: instructor_guide"]
    return "\n".join(lines) + "\n"


# -- widgets as their static state ------------------------------------------------------------


def _label(state: dict[str, Any]) -> str:
    return html.escape(str(state.get("description") or ""))


def _render_output(output: dict[str, Any]) -> str:
    data = output.get("data", {})
    if output.get("output_type") == "stream":
        return f"<pre>{html.escape(output.get('text', ''))}</pre>"
    if "image/png" in data:
        return f"<img src='data:image/png;base64,{data['image/png']}'/>"
    if "text/html" in data:
        text = data["text/html"]
        return "".join(text) if isinstance(text, list) else str(text)
    if "text/plain" in data:
        text = data["text/plain"]
        return f"<pre>{html.escape(''.join(text) if isinstance(text, list) else str(text))}</pre>"
    return ""


def render_widget(model_id: str, models: dict[str, Any], depth: int = 0) -> str:
    """The static HTML of one widget model and its children, from the saved widget state."""
    model = models.get(model_id)
    if model is None or depth > 20:
        return ""
    name, state = model.get("model_name", ""), model.get("state", {})
    if name in {"VBoxModel", "HBoxModel", "BoxModel", "GridBoxModel", "AccordionModel", "TabModel"}:
        direction = "row" if name == "HBoxModel" else "column"
        children = "".join(
            render_widget(str(c).removeprefix("IPY_MODEL_"), models, depth + 1)
            for c in state.get("children", [])
        )
        return f"<div style='display:flex;flex-direction:{direction};gap:6px;flex-wrap:wrap'>{children}</div>"
    if name in {"HTMLModel", "HTMLMathModel"}:
        return f"<div>{state.get('value', '')}</div>"
    if name == "LabelModel":
        return f"<span>{html.escape(str(state.get('value', '')))}</span>"
    if name == "OutputModel":
        return "".join(_render_output(o) for o in state.get("outputs", []))
    if name == "CheckboxModel":
        mark = "&#9745;" if state.get("value") else "&#9744;"
        return f"<span class='tlslab-knob'>{mark} {_label(state)}</span>"
    if name in {"DropdownModel", "RadioButtonsModel", "ToggleButtonsModel", "SelectModel"}:
        labels, index = state.get("_options_labels", []), state.get("index")
        chosen = labels[index] if isinstance(index, int) and index < len(labels) else ""
        return (
            f"<span class='tlslab-knob'>{_label(state)}: <b>{html.escape(str(chosen))}</b></span>"
        )
    if name == "SelectMultipleModel":
        labels = state.get("_options_labels", [])
        chosen = [labels[i] for i in state.get("index", []) if i < len(labels)]
        return f"<span class='tlslab-knob'>{_label(state)}: <b>{html.escape(', '.join(chosen))}</b></span>"
    if "value" in state:
        return f"<span class='tlslab-knob'>{_label(state)}: <b>{html.escape(str(state['value']))}</b></span>"
    return ""


def freeze_widgets(notebook: dict[str, Any]) -> int:
    """Replace every widget output by its static state; return how many were replaced."""
    saved = notebook.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {})
    models = saved.get("state", {})
    count = 0
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW not in data:
                continue
            body = render_widget(data[WIDGET_VIEW]["model_id"], models)
            output["data"] = {
                "text/html": f"<div class='tlslab-widget'><p class='tlslab-live-note'><em>{LIVE_NOTE}</em></p>{body}</div>",
                "text/plain": "An interactive widget: run the notebook to use it.",
            }
            count += 1
    notebook.get("metadata", {}).pop("widgets", None)
    return count


# -- build ------------------------------------------------------------------------------------


def execute(source: Path, target: Path) -> int:
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(source, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(source.parent)}},
        store_widget_state=True,
    )
    client.execute()
    data = json.loads(nbformat.writes(notebook))
    frozen = freeze_widgets(data)
    target.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return frozen


def _timed_execute(source: Path, target: Path) -> tuple[float, int]:
    started = time.monotonic()
    frozen = execute(source, target)
    return time.monotonic() - started, frozen


def stage(only: list[str], out: Path = BOOK) -> list[str]:
    """Execute the notebooks into ``out/_build/src`` with the config, intro and guide."""
    src = out / "_build" / "src"
    if src.exists():
        shutil.rmtree(src)
    (src / "notebooks").mkdir(parents=True)
    for name in ("_config.yml", "intro.md"):
        shutil.copy(BOOK / name, src / name)
    sys.path.insert(0, str(ROOT / "tools"))
    from make_assignments import fill_guide

    guide = fill_guide((ROOT / "instructor" / "GUIDE.md").read_text(encoding="utf-8"))
    guide = guide.replace(
        "[exercise_answers.md](exercise_answers.md)", "`instructor/exercise_answers.md`"
    )
    (src / "instructor_guide.md").write_text(guide, encoding="utf-8")
    files = [e["file"] for e in course() if not only or any(e["file"].startswith(o) for o in only)]
    workers = max(1, min(2, os.cpu_count() or 1, len(files)))
    with ProcessPoolExecutor(max_workers=workers) as pool:  # one kernel per worker
        jobs = {
            name: pool.submit(_timed_execute, ROOT / "notebooks" / name, src / "notebooks" / name)
            for name in files
        }
        for name, job in jobs.items():
            seconds, frozen = job.result()
            print(f"  executed {name} in {seconds:.1f} s ({frozen} widgets frozen)")
    (src / "_toc.yml").write_text(toc(files), encoding="utf-8")
    return files


def build(only: list[str], out: Path = BOOK) -> Path:
    """Stage and render; the site is ``out/_build/html`` (``book/_build/html`` by default)."""
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    stage(only, out)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    subprocess.run(
        [
            str(jupyter_book),
            "build",
            str(out / "_build" / "src"),
            "--path-output",
            str(out),
            "--quiet",
        ],
        check=True,
    )
    site = out / "_build" / "html"
    print(f"built {site / 'index.html'}")
    return site


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Build the course website (make book).")
    parser.add_argument("--only", nargs="*", default=[], help="notebook name prefixes, e.g. 01 05")
    parser.add_argument("--out", type=Path, default=BOOK, help="build under OUT/_build")
    options = parser.parse_args()
    build(options.only, options.out)
