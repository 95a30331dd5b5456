"""The lab a learner sees: JupyterLab in a real (headless) Chromium, driven by Playwright.

Opens notebooks 01 and 03, runs all cells, turns a widget knob and checks that the widget's output
changed; screenshots go to test-artifacts/. Runs when Debian's Chromium is installed (.ci/run installs
it and sets TLSLAB_REQUIRE_BROWSER=1, which turns a missing browser into a failure)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TOKEN = "tlslab-browser-test"

pytestmark = pytest.mark.notebook

if CHROMIUM is None:
    if os.environ.get("TLSLAB_REQUIRE_BROWSER"):
        raise RuntimeError("TLSLAB_REQUIRE_BROWSER is set but no chromium binary was found")
    pytest.skip("Debian's chromium is not installed (the CI installs it)", allow_module_level=True)

playwright_sync = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def lab_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    runtime = tmp_path_factory.mktemp("jupyter")
    workdir = tmp_path_factory.mktemp("notebooks")  # a copy: the browser may autosave outputs
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        shutil.copy(notebook, workdir / notebook.name)
    env = dict(
        os.environ,
        JUPYTER_RUNTIME_DIR=str(runtime),
        JUPYTER_CONFIG_DIR=str(runtime / "config"),
        MPLBACKEND="module://matplotlib_inline.backend_inline",
    )
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={TOKEN}",
        f"--notebook-dir={workdir}",
        "--ServerApp.disable_check_xsrf=True",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            req = urllib.request.Request(
                f"{base}/api/status", headers={"Authorization": f"token {TOKEN}"}
            )
            with urllib.request.urlopen(req, timeout=2) as resp:
                json.load(resp)
            break
        except OSError:
            time.sleep(0.5)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(20)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_sync.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield chromium
        finally:
            chromium.close()


def _open_and_run_all(browser: object, lab_url: str, notebook: str) -> object:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    page.set_default_timeout(120_000)
    # a workspace of its own, so no tab from an earlier test is restored next to this notebook
    page.goto(f"{lab_url}/lab/workspaces/{notebook[:2]}/tree/{notebook}?token={TOKEN}&reset")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
    page.get_by_text("| Idle").first.wait_for(timeout=120_000)  # the kernel is up
    for _ in range(3):  # a click that lands while the kernel is still settling can be lost
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_text("Run All Cells", exact=True).click()
        try:
            page.locator(".jp-InputPrompt", has_text="[1]").first.wait_for(
                state="attached", timeout=30_000
            )
            break
        except Exception:
            continue
    return page


def test_client_hello_lab_in_chromium(browser: object, lab_url: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = _open_and_run_all(browser, lab_url, "01_client_hello.ipynb")
    selects = page.locator(".widget-select-multiple select")  # type: ignore[attr-defined]
    selects.first.wait_for(state="attached", timeout=180_000)
    selects.first.scroll_into_view_if_needed()
    summary = page.locator(".widget-html-content", has_text="bytes").first
    summary.wait_for(timeout=60_000)
    before = summary.inner_text()
    selects.first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "01_client_hello_before.png"))
    selects.first.select_option(label="TLS 1.2")
    page.wait_for_function(
        "(before) => { const el = [...document.querySelectorAll('.widget-html-content')]"
        ".find(e => e.innerText.includes('bytes')); return el && el.innerText !== before; }",
        arg=before,
        timeout=60_000,
    )
    after = summary.inner_text()
    page.screenshot(path=str(ARTIFACTS / "01_client_hello_after.png"))
    assert before != after
    assert (
        page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
            has_text="Traceback",
        ).count()
        == 0
    )


def test_chain_lab_in_chromium(browser: object, lab_url: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = _open_and_run_all(browser, lab_url, "03_certificates.ipynb")
    checkbox = page.get_by_label("intermediate has cA=TRUE")  # type: ignore[attr-defined]
    checkbox.wait_for(state="attached", timeout=120_000)
    checkbox.scroll_into_view_if_needed()
    verdict = page.locator(".widget-html-content", has_text="cryptography.x509.verification").first
    verdict.wait_for(timeout=60_000)
    assert (
        "VALID" in verdict.inner_text()
        and "INVALID" not in verdict.inner_text().split("cryptography")[0]
    )
    checkbox.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "03_certificates_before.png"))
    checkbox.uncheck()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.widget-html-content')]"
        ".some(e => e.innerText.includes('INVALID') && e.innerText.includes('basicConstraints'))",
        timeout=60_000,
    )
    page.screenshot(path=str(ARTIFACTS / "03_certificates_after.png"))
