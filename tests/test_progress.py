"""The progress line: on a terminal only, never with --quiet, and fed by the loader as it reads."""

from __future__ import annotations

import io

from evidence import example, write_ndjson

from reportgen.evidence import reader
from reportgen.evidence.load import load
from reportgen.evidence.progress import ProgressLine, progress_line


class Terminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        """Pretend to be a terminal."""
        return True


def test_a_progress_line_shows_only_on_a_terminal_and_not_when_quiet():
    assert isinstance(progress_line(Terminal(), quiet=False), ProgressLine)
    assert progress_line(Terminal(), quiet=True) is None
    assert progress_line(io.StringIO(), quiet=False) is None


def test_the_line_shows_bytes_records_and_rates_and_is_cleared_at_the_end():
    ticks = iter([0.0, 2.0, 2.1, 4.0])
    stream = Terminal()
    line = ProgressLine(stream, clock=lambda: next(ticks))
    line(4_000_000, 1000)  # at 2 s
    line(5_000_000, 1200)  # at 2.1 s: too soon, not shown
    line(8_000_000, 2000)  # at 4 s
    line.close()
    text = stream.getvalue()
    assert "reading 4.0 MB, 1,000 records (2.0 MB/s, 500 records/s)" in text
    assert "1,200" not in text and "reading 8.0 MB, 2,000 records" in text
    assert text.endswith("\r")


def test_the_loader_reports_progress_as_it_reads(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "PROGRESS_EVERY", 5)
    seen: list[tuple[int, int]] = []
    path = write_ndjson(tmp_path / "e.ndjson", example())
    load([str(path)], progress=lambda done, records: seen.append((done, records)))
    assert [records for _, records in seen] == [5, 10, 15, 20]
    done = [read for read, _ in seen]
    assert 0 < done[0] < done[1] < done[2] < done[3] <= path.stat().st_size
