"""Shared fixtures: the vectors shipped with the project (never read from ../shared)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

VECTORS = Path(__file__).parent / "vectors"


def load_vector(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text())
    return data


@pytest.fixture(scope="session")
def rfc8448() -> dict[str, Any]:
    """RFC 8448 §3 (simple 1-RTT handshake), pasted from the RFC; see the file's 'source'."""
    return load_vector("rfc8448_simple_1rtt.json")


@pytest.fixture(scope="session")
def tls12_vectors() -> dict[str, Any]:
    return load_vector("tls12_prf.json")
