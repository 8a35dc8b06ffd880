"""Test data made once per run and shared by every test and every pytest-xdist worker that needs it.

`once(tmp_path_factory, key, make)` returns a folder that `make(folder)` filled. The first caller
makes it under a file lock; every later caller, in this process or another worker, waits for the
lock and reuses the folder. The folder lives beside the workers' own temporary folders (the run's
base temporary folder), so each run starts afresh. Shared folders are read-only by convention: a
test that changes files copies them into its own `tmp_path` first.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock


def run_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder shared by every worker of this run: the parent of a worker's base temporary folder."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def once(tmp_path_factory: pytest.TempPathFactory, key: str, make: Callable[[Path], object]) -> Path:
    """The folder `key`, filled by `make(folder)` once per run whichever worker asks first."""
    root = run_root(tmp_path_factory) / "once"
    root.mkdir(exist_ok=True)
    folder, done = root / key, root / f"{key}.done"
    with FileLock(str(root / f"{key}.lock")):
        if not done.exists():
            if folder.exists():  # a worker that failed part-way left it
                shutil.rmtree(folder)
            folder.mkdir()
            make(folder)
            done.touch()
    return folder


def config_root(config: pytest.Config) -> Path:
    """`run_root` from a pytest config, in a worker or in the process that prints the summary."""
    return run_root(config._tmp_path_factory)  # type: ignore[attr-defined]


def save_measurements(config: pytest.Config, lines: list[str]) -> None:
    """Keep lines for the run's summary; a worker's own lines replace what it kept before."""
    folder = config_root(config) / "measurements"
    folder.mkdir(exist_ok=True)
    (folder / f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.txt").write_text("".join(f"{line}\n" for line in lines))


def saved_measurements(config: pytest.Config) -> list[str]:
    """Every line any worker of this run kept for the summary."""
    folder = config_root(config) / "measurements"
    return [line for path in sorted(folder.glob("*.txt")) for line in path.read_text().splitlines()]
