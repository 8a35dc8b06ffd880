"""How a process the loader forks to read evidence (a pool worker, a fan-out helper) behaves."""

from __future__ import annotations

import os
import signal

# A child's exit code when Ctrl-C stops it (128 + SIGINT, as a shell reports it).
EXIT_INTERRUPTED = 130


def child_signals() -> None:
    """In a child: Ctrl-C (sent to the whole process group) ends it quietly; the parent reports it."""
    signal.signal(signal.SIGINT, lambda _signum, _frame: os._exit(EXIT_INTERRUPTED))
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
