"""The course as a website: `make book` (tools/build_book.py, Jupyter Book 1).

Unit tests hold the two pieces of our own logic (the table of contents comes from the course map;
widgets become their static state). One test builds a site of two executed notebooks plus the
instructor guide, serves it over 127.0.0.1 and opens a chapter in headless Chromium (Debian's
chromium, as in test_browser.py); its screenshot goes to test-artifacts/book.png."""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
sys.path.insert(0, str(ROOT / "tools"))
import build_book  # noqa: E402
import notebook_headers  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_table_of_contents_is_the_course_map(monkeypatch: pytest.MonkeyPatch) -> None:
    files = [entry["file"] for entry in build_book.course()]
    assert files == [entry["file"] for entry in notebook_headers.COURSE]
    toc = build_book.toc(files)
    chapters = [line.split("notebooks/")[1] for line in toc.splitlines() if "notebooks/" in line]
    assert chapters == [name[: -len(".ipynb")] for name in files]
    assert toc.startswith("format: jb-book\nroot: intro\n") and "- file: instructor_guide" in toc

    # A notebook added to the course map joins the site with nothing else to edit.
    extended = [*notebook_headers.COURSE, {**notebook_headers.COURSE[-1], "file": "10_new.ipynb"}]
    monkeypatch.setattr(notebook_headers, "COURSE", extended)
    monkeypatch.setitem(sys.modules, "notebook_headers", notebook_headers)
    assert "- file: notebooks/10_new" in build_book.toc([e["file"] for e in extended])


def _widget_notebook() -> dict[str, Any]:
    state = {
        "root": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_a", "IPY_MODEL_b"]}},
        "a": {
            "model_name": "HBoxModel",
            "state": {"children": ["IPY_MODEL_c", "IPY_MODEL_d", "IPY_MODEL_e"]},
        },
        "b": {"model_name": "HTMLModel", "state": {"value": "<pre>16 03 01 00 c0</pre>"}},
        "c": {"model_name": "IntSliderModel", "state": {"description": "seq", "value": 7}},
        "d": {"model_name": "CheckboxModel", "state": {"description": "TLS 1.3", "value": True}},
        "e": {
            "model_name": "SelectMultipleModel",
            "state": {
                "description": "groups",
                "_options_labels": ["x25519", "secp256r1", "ffdhe2048"],
                "index": [0, 2],
            },
        },
    }
    view = {"application/vnd.jupyter.widget-view+json": {"model_id": "root", "version_major": 2}}
    return {
        "cells": [
            {
                "cell_type": "code",
                "source": "lab",
                "outputs": [{"output_type": "display_data", "data": view}],
            },
            {
                "cell_type": "code",
                "source": "1",
                "outputs": [{"output_type": "execute_result", "data": {"text/plain": "1"}}],
            },
        ],
        "metadata": {"widgets": {build_book.WIDGET_STATE: {"state": state}}},
    }


def test_widgets_become_their_static_state() -> None:
    notebook = _widget_notebook()
    assert build_book.freeze_widgets(notebook) == 1
    data = notebook["cells"][0]["outputs"][0]["data"]
    assert build_book.WIDGET_VIEW not in data
    page = data["text/html"]
    assert "run this notebook live" in page
    assert "seq: <b>7</b>" in page and "&#9745; TLS 1.3" in page
    assert "groups: <b>x25519, ffdhe2048</b>" in page
    assert "<pre>16 03 01 00 c0</pre>" in page
    assert page.index("seq") < page.index("16 03 01")  # children in order
    assert "widgets" not in notebook["metadata"]
    assert notebook["cells"][1]["outputs"][0]["data"] == {"text/plain": "1"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("book")
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "build_book.py"),
            "--only",
            "00_",  # 00_overview, not 00a_crypto_primer: two notebooks, as the docstring says
            "01",
            "--out",
            str(out),
        ],
        check=True,
        timeout=600,
        env={**os.environ, "MPLBACKEND": "module://matplotlib_inline.backend_inline"},
    )
    return out / "_build" / "html"


def test_site_has_the_executed_chapters_and_the_guide(site: Path) -> None:
    chapter = (site / "notebooks" / "01_client_hello.html").read_text(encoding="utf-8")
    assert "The ClientHello" in chapter
    assert "run this notebook live" in chapter  # the client_hello_lab widget, frozen
    assert "data:image/png;base64," in chapter or "<img" in chapter  # figures are in the page
    assert "01.1 build a ClientHello</b>: not yet" in chapter  # the exercise's feedback, executed
    guide = (site / "instructor_guide.html").read_text(encoding="utf-8")
    assert "a01_tls12_prf" in guide and "nbgrader" in guide
    for entry in notebook_headers.COURSE:  # the guide's table is the course map, fresh
        assert entry["file"][: -len(".ipynb")] in guide
    assert (site / "index.html").exists() and (site / "notebooks" / "00_overview.html").exists()
    built = sorted(p.name for p in (site / "notebooks").glob("*.html"))
    assert built == ["00_overview.html", "01_client_hello.html"]  # only what was asked for


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(site), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.notebook
def test_a_chapter_opens_in_chromium(served: str) -> None:
    if CHROMIUM is None:
        if os.environ.get("TLSLAB_REQUIRE_BROWSER"):
            raise RuntimeError("TLSLAB_REQUIRE_BROWSER is set but no chromium binary was found")
        pytest.skip("Debian's chromium is not installed (the CI installs it)")
    playwright_sync = pytest.importorskip("playwright.sync_api")
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(f"{served}/notebooks/01_client_hello.html", wait_until="domcontentloaded")
            assert "ClientHello" in page.title()
            heading = page.locator("h1").first.inner_text()
            assert "The ClientHello" in heading
            nav = page.locator("nav.bd-links").inner_text()
            assert "Overview" in nav and "Instructor guide" in nav
            note = page.locator(".tlslab-live-note").first
            note.scroll_into_view_if_needed()
            assert note.is_visible()
            assert page.locator("img").count() >= 1
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "book.png"))
            page.goto(f"{served}/instructor_guide.html", wait_until="domcontentloaded")
            assert page.locator("table").count() >= 2
        finally:
            browser.close()
