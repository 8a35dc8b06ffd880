"""The command line's option types and the options several commands share.

Options that belong together reach a command as one value (`ReadOptions`, `CiOptions`), given by
the decorator that declares them, so no command reads another's options from shared state.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from reportgen.evidence.inputs import Limits
from reportgen.judge.summary import Summary
from reportgen.judge.verdict import utc_iso
from reportgen.output.writer import write_atomically

# The times --as-of may name: a year of room on either side of what datetime holds, so that
# windows reaching back or forward from it (retry waits, trends) stay representable.
AS_OF_RANGE = (datetime(2, 1, 1, tzinfo=UTC), datetime(9998, 12, 31, 23, 59, 59, tzinfo=UTC))


class AsOf(click.ParamType):
    """An ISO-8601 time; without an offset it is read as UTC."""

    name = "TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        """Parse the option's value."""
        if isinstance(value, datetime):
            return value
        try:
            parsed = datetime.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"{value!r} is not an ISO-8601 time such as 2025-06-02T11:30:00Z", param, ctx)
        try:
            utc = parsed.replace(tzinfo=parsed.tzinfo or UTC).astimezone(UTC)
        except OverflowError:
            utc = None
        if utc is None or not AS_OF_RANGE[0] <= utc <= AS_OF_RANGE[1]:
            first, last = (utc_iso(t) for t in AS_OF_RANGE)
            self.fail(f"{value!r} is out of range: give a time from {first} to {last}", param, ctx)
        return utc


class Size(click.ParamType):
    """A size in bytes, with an optional K, M or G suffix (powers of 1024)."""

    name = "SIZE"
    UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        """Parse the option's value."""
        if isinstance(value, int):
            return value
        text = str(value).strip().upper().removesuffix("B").removesuffix("I")
        number, unit = (text[:-1], text[-1]) if text[-1:] in "KMG" and text[-1:] else (text, "")
        if not number.isdigit() or int(number) <= 0:
            self.fail(f"{value!r} is not a size such as 16M or 4G", param, ctx)
        return int(number) * self.UNITS[unit]


@dataclass(frozen=True)
class ReadOptions:
    """How EVIDENCE is read: the input limits, the worker processes, and whether progress is shown."""

    limits: Limits = Limits()
    jobs: int | None = None
    quiet: bool = False


def evidence_argument(function: Any) -> Any:
    """The EVIDENCE argument, with the options that guard reading it, given to the command as `reading`."""

    @functools.wraps(function)
    def with_reading(
        *args: Any,
        max_input_bytes: int,
        max_record_bytes: int,
        max_list_items: int,
        jobs: int | None,
        quiet: bool,
        **kwargs: Any,
    ) -> Any:
        limits = Limits(max_record_bytes, max_input_bytes, max_list_items)
        return function(*args, reading=ReadOptions(limits, jobs, quiet), **kwargs)

    command = with_reading
    defaults = Limits()
    for name, default, what in (
        ("--max-input-bytes", defaults.max_input_bytes, "all inputs together, decompressed"),
        ("--max-record-bytes", defaults.max_record_bytes, "one NDJSON entry or SQLite payload"),
    ):
        command = click.option(
            name,
            type=Size(),
            default=default,
            show_default=True,
            help=f"Refuse more than this many bytes of {what}.",
        )(command)
    command = click.option(
        "--max-list-items",
        type=click.IntRange(min=1),
        default=defaults.max_list_items,
        show_default=True,
        help="Reject a record holding a list (providers, retry decisions, status codes, ...) longer than this.",
    )(command)
    command = click.option(
        "--jobs",
        "-j",
        type=click.IntRange(min=1),
        default=None,
        help="Worker processes reading the inputs (files, byte ranges of large NDJSON and store files and rowid ranges "
        "of large SQLite stores; a helper for one large input that cannot be split, such as gzip). "
        "[default: the number of cores]",
    )(command)
    command = click.option(
        "--quiet",
        "-q",
        is_flag=True,
        help="No progress line on stderr (it only shows on a terminal anyway).",
    )(command)
    return click.argument("evidence", nargs=-1, required=True, metavar="EVIDENCE...")(command)


rules_option = click.option(
    "--rules",
    type=click.Choice(["chain", "cavra"]),
    default="chain",
    show_default=True,
    help="chain: follow each delivery chain to its latest outcome; cavra: CAVRA's count-based gate.",
)
as_of_option = click.option(
    "--as-of", type=AsOf(), default=None, help="Judge as of this UTC time (default: the newest record)."
)
strict_option = click.option(
    "--strict", is_flag=True, help="Exit 2 when any input entry was rejected or any input was not read cleanly."
)

waivers_option = click.option(
    "--waivers",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Accept the open items these waivers cover until they expire (YAML or JSON; `reportgen schema waivers`).",
)
history_option = click.option(
    "--history",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="A folder of earlier packs (or a published wiki): the dashboard gains a trend section.",
)


@dataclass(frozen=True)
class CiOptions:
    """Where CI shows the verdict: JUnit XML and Markdown summary files, and workflow annotations."""

    junit_xml: str | None = None
    summary_md: str | None = None
    annotations: str | None = None


def ci_options(function: Any) -> Any:
    """--junit-xml, --summary-md and --annotations, given to the command as `ci` (see write_ci_outputs)."""

    @functools.wraps(function)
    def with_ci(
        *args: Any, junit_xml: str | None, summary_md: str | None, annotations: str | None, **kwargs: Any
    ) -> Any:
        return function(*args, ci=CiOptions(junit_xml, summary_md, annotations), **kwargs)

    command = with_ci
    options = (
        ("--junit-xml", {"type": click.Path(dir_okay=False), "help": "Also write the verdict as JUnit XML to FILE."}),
        (
            "--summary-md",
            {
                "type": click.Path(dir_okay=False),
                "help": "Also write a short Markdown job summary (at most 64 KiB) to FILE, "
                "e.g. to append to $GITHUB_STEP_SUMMARY.",
            },
        ),
        (
            "--annotations",
            {
                "type": click.Choice(["github", "none"]),
                "help": "github: print GitHub workflow commands (::error, ::warning) on stderr. "
                "[default: github when GITHUB_ACTIONS=true, else none]",
            },
        ),
    )
    for name, kwargs in reversed(options):
        command = click.option(name, default=None, **kwargs)(command)
    return command


def write_ci_outputs(summary: Summary, ci: CiOptions, pack: list[Path] | None = None) -> None:
    """Write the CI outputs asked for (each atomically) and print the annotations; a file not written is exit 2."""
    from urllib.parse import quote

    from reportgen.output.ci import annotations, junit_xml, summary_markdown

    for option, key, asked in (
        ("--junit-xml", "junit_xml", ci.junit_xml),
        ("--summary-md", "summary_md", ci.summary_md),
    ):
        if not asked:
            continue
        path = Path(asked)
        # Links relative to the summary's own folder, so they work wherever the two travel together.
        links = [(p.name, quote(os.path.relpath(p, path.parent), errors="surrogateescape")) for p in sorted(pack or [])]
        data = junit_xml(summary) if key == "junit_xml" else summary_markdown(summary, links).encode()
        try:
            write_atomically(path, data)
        except OSError as exc:
            raise click.UsageError(f"cannot write {option} {path}: {exc.strerror or exc}") from None
    mode = ci.annotations or ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "none")
    if mode == "github":
        # stderr: the runner reads workflow commands there too, and stdout stays the verdict (or --json).
        click.echo("\n".join(annotations(summary)), err=True)


def utf8_text(option: str, text: str | None) -> None:
    """Refuse an option's text that is not UTF-8 (a byte the shell passed through undecoded)."""
    if text is not None and any("\ud800" <= c <= "\udfff" for c in text):
        raise ValueError(f"{option} is not UTF-8 text")
