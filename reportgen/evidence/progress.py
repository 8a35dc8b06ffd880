"""A progress line for long loads: bytes and records read, with their rates, on a terminal only.

It writes to stderr when stderr is a terminal and the user did not ask for quiet, so piped output,
CI logs and the pack itself never see it. Its clock is the only wall-clock use in reportgen, and it
never reaches an output file.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

Clock = Callable[[], float]


class ProgressLine:
    """One line, rewritten in place at most every `interval` seconds."""

    def __init__(self, stream: TextIO, clock: Clock = time.monotonic, interval: float = 0.25) -> None:
        self.stream, self.clock, self.interval = stream, clock, interval
        self.started = clock()
        self.shown_at: float | None = None
        self.width = 0

    def __call__(self, bytes_read: int, records: int) -> None:
        """Show the progress so far, unless it was shown a moment ago."""
        now = self.clock()
        if self.shown_at is not None and now - self.shown_at < self.interval:
            return
        self.shown_at = now
        text = describe(bytes_read, records, max(now - self.started, 1e-9))
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width = len(text)

    def close(self) -> None:
        """Clear the line, so what follows starts on a clean one."""
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()


def describe(bytes_read: int, records: int, seconds: float) -> str:
    """'reading 12.3 MB, 4,567 records (4.1 MB/s, 1,522 records/s)'."""
    megabytes = bytes_read / 1e6
    return (
        f"reading {megabytes:,.1f} MB, {records:,} records "
        f"({megabytes / seconds:,.1f} MB/s, {records / seconds:,.0f} records/s)"
    )


def progress_line(stream: TextIO, quiet: bool) -> ProgressLine | None:
    """A progress line on the stream when it is a terminal and quiet was not asked for."""
    isatty = getattr(stream, "isatty", None)
    return ProgressLine(stream) if not quiet and isatty is not None and isatty() else None
