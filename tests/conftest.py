"""Shared fixtures: the vectors shipped inside the package (never read from ../shared)."""

from __future__ import annotations

from typing import Any

import pytest

from tlslab import vectors


@pytest.fixture(scope="session")
def rfc8448() -> dict[str, Any]:
    """RFC 8448 §3 (simple 1-RTT handshake), pasted from the RFC; see the file's 'source'."""
    return vectors.rfc8448()


@pytest.fixture(scope="session")
def tls12_vectors() -> dict[str, Any]:
    return vectors.tls12()
