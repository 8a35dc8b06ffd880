"""How a process the loader forks to read evidence (a pool worker, a fan-out helper) behaves."""

from __future__ import annotations

import multiprocessing
import os
import signal

# Children are forked, so that they share this process's str hash seed (the ledger keeps ids as
# hashes); where fork does not exist (Windows) everything is read in this process.
FORK = "fork" in multiprocessing.get_all_start_methods()
# A child's exit code when Ctrl-C stops it (128 + SIGINT, as a shell reports it).
EXIT_INTERRUPTED = 130


def child_signals() -> None:
    """In a child: Ctrl-C (sent to the whole process group) ends it quietly; the parent reports it.

    A signal the invoker ignores (a background job's Ctrl-C, nohup's hang-up) stays ignored.
    """
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, lambda _signum, _frame: os._exit(EXIT_INTERRUPTED))
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) is not signal.SIG_IGN:
            signal.signal(number, signal.SIG_DFL)
