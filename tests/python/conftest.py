"""Shared fixtures: every test gets its own store folder and closes its store."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import pagefs

# A budget small enough that the tests' lists do not fit and pages get evicted.
SMALL_BUDGET = 1 << 20


@pytest.fixture
def store(tmp_path):
    s = pagefs.Store(tmp_path / "root", "test", cache_size=SMALL_BUDGET)
    yield s
    s.close()


@pytest.fixture
def default_store(tmp_path):
    s = pagefs.init(tmp_path / "default", "main", cache_size=SMALL_BUDGET)
    yield s
    pagefs.close()


def run_python(code: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter (warnings are errors there too)."""
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert proc.returncode == 0, f"subprocess failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc
