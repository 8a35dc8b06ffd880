"""A progress line for long steps: bytes and records read (with a percentage when the input size is
known), then each step after reading by name (judging, rendering each file), on a terminal only.

It writes to stderr when stderr is a terminal and the user did not ask for quiet, so piped output,
CI logs and the pack itself never see it. Its clock is the only wall-clock use in reportgen, and it
never reaches an output file.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

Clock = Callable[[], float]
# Told the name of each step after reading, as it starts: "judging", "rendering closure-dashboard.pdf".
Stage = Callable[[str], None]


class ProgressLine:
    """One line, rewritten in place at most every `interval` seconds."""

    def __init__(
        self, stream: TextIO, clock: Clock = time.monotonic, interval: float = 0.25, total: int | None = None
    ) -> None:
        self.stream, self.clock, self.interval = stream, clock, interval
        self.started = clock()
        self.shown_at: float | None = None
        self.width = 0
        # The bytes the inputs hold, when known before reading them: the line then shows a percentage.
        self.total = total

    def __call__(self, bytes_read: int, records: int) -> None:
        """Show the progress so far, unless it was shown a moment ago."""
        now = self.clock()
        if self.shown_at is not None and now - self.shown_at < self.interval:
            return
        self.shown_at = now
        self.show(describe(bytes_read, records, max(now - self.started, 1e-9), self.total))

    def stage(self, name: str) -> None:
        """Show the step starting now at once: a step after reading can take a while, and is shown once."""
        self.show(f"{name} ...")

    def show(self, text: str) -> None:
        """Rewrite the line with this text."""
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width = len(text)

    def close(self) -> None:
        """Clear the line, so what follows starts on a clean one."""
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0

    def aside(self, say: Stage) -> Stage:
        """`say`, the line cleared first, so a message on the same stream never runs on from the progress shown."""

        def heard(message: str) -> None:
            self.close()
            say(message)

        return heard


def describe(bytes_read: int, records: int, seconds: float, total: int | None = None) -> str:
    """'reading 12.3 MB, 4,567 records (4.1 MB/s, 1,522 records/s)', 'reading 12.3 of 41.0 MB (30%), ...'."""
    megabytes = bytes_read / 1e6
    # Entries are counted as parsed (a line and its newline), so the sum can differ from the size a little.
    size = f"{megabytes:,.1f} of {total / 1e6:,.1f} MB ({min(bytes_read * 100 // total, 100)}%)" if total else None
    return (
        f"reading {size or f'{megabytes:,.1f} MB'}, {records:,} records "
        f"({megabytes / seconds:,.1f} MB/s, {records / seconds:,.0f} records/s)"
    )


def progress_line(stream: TextIO, quiet: bool, total: Callable[[], int | None] | None = None) -> ProgressLine | None:
    """A progress line on the stream when it is a terminal and quiet was not asked for.

    `total` gives the inputs' size; it is asked only when the line is shown, as finding it walks the inputs.
    """
    isatty = getattr(stream, "isatty", None)
    if quiet or isatty is None or not isatty():
        return None
    return ProgressLine(stream, total=total() if total else None)


@contextmanager
def progress_shown(
    stream: TextIO, quiet: bool, total: Callable[[], int | None] | None = None
) -> Iterator[ProgressLine | None]:
    """A progress line (see `progress_line`) cleared when the steps it shows are done, even on an error."""
    line = progress_line(stream, quiet, total)
    try:
        yield line
    finally:
        if line is not None:
            line.close()
