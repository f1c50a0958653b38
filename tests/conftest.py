"""Shared test fixtures: the repository root and the example scenario."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from game.scenario import compiled

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "scenarios" / "examples" / "henan_1944.yaml"
BAD = ROOT / "tests" / "data" / "bad_scenarios"


@pytest.fixture
def in_root(monkeypatch):
    """Run the test from the repository root, so shown paths are repository-relative."""
    monkeypatch.chdir(ROOT)
    return ROOT


def pytest_configure(config):
    # compiled scenarios go to a folder of this run (subprocesses inherit it), not the user's cache
    os.environ[compiled.ENV] = config._scenario_cache = tempfile.mkdtemp(prefix="scenario-cache-")
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")


def pytest_unconfigure(config):
    folder = getattr(config, "_scenario_cache", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
