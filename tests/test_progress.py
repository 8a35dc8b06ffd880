"""The progress line: on a terminal only, never with --quiet, fed by the loader as it reads, naming each later step."""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable

import pytest
from click.testing import CliRunner
from evidence import example, write_ndjson

from reportgen import cli as cli_module
from reportgen.evidence import progress, reader
from reportgen.evidence.discover import plain_size
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


def test_with_the_input_size_known_the_line_shows_a_percentage_and_a_step_shows_at_once():
    ticks = iter([0.0, 2.0, 2.1])
    stream = Terminal()
    line = ProgressLine(stream, clock=lambda: next(ticks), total=16_000_000)
    line(4_000_000, 1000)  # at 2 s
    line.stage("judging 1,000 entries")  # shown although a moment after the last line
    text = stream.getvalue()
    assert "reading 4.0 of 16.0 MB (25%), 1,000 records (2.0 MB/s, 500 records/s)" in text
    assert text.rsplit("\r", 1)[1].startswith("judging 1,000 entries ...")


def test_the_input_size_is_known_for_json_text_files_and_not_for_gzip_or_stdin(tmp_path):
    (tmp_path / "a").mkdir()
    first = write_ndjson(tmp_path / "a" / "e.ndjson", example())
    second = write_ndjson(tmp_path / "a" / "f.ndjson", example()[:3])
    assert plain_size([str(tmp_path / "a")]) == first.stat().st_size + second.stat().st_size
    (tmp_path / "e.ndjson.gz").write_bytes(gzip.compress(first.read_bytes()))
    assert plain_size([str(first), str(tmp_path / "e.ndjson.gz")]) is None
    assert plain_size(["-"]) is None and plain_size([str(tmp_path / "missing")]) is None


def shown_on(terminal: Terminal, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the commands show their progress line on `terminal`, as they would on a real one."""

    def on_terminal(_stream: object, quiet: bool, total: Callable[[], int | None]) -> object:
        return progress.progress_shown(terminal, quiet, total)

    monkeypatch.setattr(cli_module, "progress_shown", on_terminal)
    monkeypatch.setattr(reader, "PROGRESS_EVERY", 5)


def steps(text: str) -> list[str]:
    """The steps a progress line showed, in order, each once."""
    shown = [part.strip().split(" ")[0:2] for part in text.split("\r") if part.strip()]
    named = [" ".join(words) for words in shown]
    return [name for i, name in enumerate(named) if i == 0 or named[i - 1] != name]


def test_check_shows_reading_with_a_percentage_then_judging_and_clears_the_line(tmp_path, monkeypatch):
    terminal = Terminal()
    shown_on(terminal, monkeypatch)
    path = write_ndjson(tmp_path / "e.ndjson", example())
    result = CliRunner().invoke(cli_module.cli, ["check", "-j", "1", str(path)])
    assert result.exit_code == 1, result.output
    text = terminal.getvalue()
    assert f"of {path.stat().st_size / 1e6:,.1f} MB (" in text and "%)" in text
    assert steps(text)[-1] == "judging 21"
    assert text.endswith("\r") and "closure:" not in text


def test_build_names_each_step_and_each_file_it_renders(tmp_path, monkeypatch):
    terminal = Terminal()
    shown_on(terminal, monkeypatch)
    path = write_ndjson(tmp_path / "e.ndjson", example())
    args = ["build", "-j", "1", str(path), "--out", str(tmp_path / "pack"), "--format", "html,md,pdf"]
    result = CliRunner().invoke(cli_module.cli, args)
    assert result.exit_code == 1, result.output
    named = steps(terminal.getvalue())
    assert named[0] == "reading 0.0" and "judging 21" in named and "reading the" in named
    rendered = [step for step in terminal.getvalue().split("\r") if step.startswith("rendering ")]
    assert [r.split()[1] for r in rendered] == [
        "closure-dashboard.html",
        "closure-dashboard.md",
        "closure-dashboard.pdf",
        "operator-runbook.html",
        "operator-runbook.md",
        "operator-runbook.pdf",
        "index.html",
    ]
    assert named[-1] == "writing 8"


def test_quiet_shows_no_step_even_on_a_terminal(tmp_path, monkeypatch):
    terminal = Terminal()
    shown_on(terminal, monkeypatch)
    path = write_ndjson(tmp_path / "e.ndjson", example())
    result = CliRunner().invoke(
        cli_module.cli, ["build", "-q", str(path), "--out", str(tmp_path / "p"), "--format", "md"]
    )
    assert result.exit_code == 1 and terminal.getvalue() == ""


def test_a_message_said_aside_clears_the_line_first_and_the_next_step_shows_again():
    stream = Terminal()
    line = ProgressLine(stream)
    line.stage("rendering index.html")
    line.aside(stream.write)("reportgen build: recovered a pack cut short\n")
    line.stage("writing 8 files")
    shown = stream.getvalue()
    cleared = "\r" + " " * len("rendering index.html ...") + "\r"
    assert (
        shown
        == f"\rrendering index.html ...{cleared}reportgen build: recovered a pack cut short\n\rwriting 8 files ..."
    )
