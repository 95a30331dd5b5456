"""`make lab`'s server: JupyterLab starts headless on loopback and serves the notebooks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.notebook
def test_jupyterlab_serves_the_notebooks(tmp_path: Path) -> None:
    port = _free_port()
    token = "tlslab-test-token"
    env = dict(
        os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path), JUPYTER_CONFIG_DIR=str(tmp_path / "cfg")
    )
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--notebook-dir={ROOT / 'notebooks'}",
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")  # CI and containers run as root
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        listing = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and listing is None:
            try:
                req = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/contents",
                    headers={"Authorization": f"token {token}"},
                )
                with urllib.request.urlopen(req, timeout=2) as resp:
                    listing = json.load(resp)
            except OSError:
                assert proc.poll() is None, (
                    f"jupyter lab exited early: {proc.stderr.read() if proc.stderr else ''}"
                )
                time.sleep(0.5)
        assert listing is not None, "JupyterLab did not answer within 60 s"
        names = {item["name"] for item in listing["content"]}
        assert "01_client_hello.ipynb" in names
        with urllib.request.urlopen(
            urllib.request.Request(
                f"http://127.0.0.1:{port}/lab", headers={"Authorization": f"token {token}"}
            ),
            timeout=5,
        ) as resp:
            assert resp.status == 200
            assert b"JupyterLab" in resp.read()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
