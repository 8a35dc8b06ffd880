"""The command line: `check`, `validate` and `schema`, `build` (from the pack module), `diff`, `publish`
and `verify`.

Exit codes: 0 closed and ready, 1 open or blocked, 2 a usage error or, with --strict, any input
that could not be read. Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

from reportgen import __version__
from reportgen.evidence.discover import plain_size
from reportgen.evidence.inputs import InputError
from reportgen.evidence.load import LoadResult
from reportgen.evidence.progress import ProgressLine, Stage, progress_shown
from reportgen.evidence.text import plural
from reportgen.judge.summary import Summary, schema_of, summarise_paths
from reportgen.output.cliopts import (
    CiOptions,
    ReadOptions,
    as_of_option,
    ci_options,
    evidence_argument,
    history_option,
    rules_option,
    strict_option,
    utf8_text,
    waivers_option,
    write_ci_outputs,
)
from reportgen.output.formats import format_names
from reportgen.output.terminal import location, state_line, terminal_safe, verdict_text

if TYPE_CHECKING:
    from reportgen.judge.history import Trend
    from reportgen.output.pack import PackOptions

EXIT_OK, EXIT_OPEN, EXIT_USAGE = 0, 1, 2


def waived(summary: Summary, path: str | None) -> Summary:
    """The summary with the --waivers file applied, when one was given."""
    if path is None:
        return summary
    from reportgen.judge.waivers import WaiverError, apply_waivers, load_waivers

    try:
        return apply_waivers(summary, load_waivers(path))
    except WaiverError as exc:
        raise click.UsageError(str(exc)) from None


def history_trend(summary: Summary, folder: str | None, tell: Callable[[str], None]) -> Trend | None:
    """The trend over the --history folder's packs judged before this summary, when one was given."""
    if folder is None:
        return None
    from reportgen.judge.history import load_history, trend
    from reportgen.output.writer import recover_packs

    recover_packs(Path(folder), tell)

    return trend(load_history(Path(folder), before=summary.as_of), summary)


def exit_code(summary: Summary, loaded: LoadResult, strict: bool) -> int:
    """0 when closed and ready, 1 when open or blocked, 2 under --strict for input not read cleanly.

    Not read cleanly: any rejected entry or file, or any notice about an input (a timestamp without
    an offset, an empty file, a partial export).
    """
    if strict and (loaded.rejected or loaded.notices):
        return EXIT_USAGE
    closed = summary.closure.state == "closed" and summary.readiness.state == "ready"
    return EXIT_OK if closed else EXIT_OPEN


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def read_evidence(
    paths: tuple[str, ...],
    rules: str,
    as_of: datetime | None,
    reading: ReadOptions,
    bar: ProgressLine | None = None,
    exclude: str | None = None,
) -> tuple[LoadResult, Summary]:
    """Load and judge evidence (never the folder `exclude`, where a pack is to be written), showing progress on
    `bar` when given and turning unopenable inputs into a usage error."""
    if paths.count("-") > 1:
        raise click.UsageError("stdin ('-') can be given only once")
    try:
        stdin = getattr(sys.stdin, "buffer", None) if "-" in paths else None
        if "-" in paths and stdin is None:
            raise InputError("-: standard input is closed")
        jobs = reading.jobs or cores()
        stage = bar.stage if bar is not None else None
        return summarise_paths(paths, rules, as_of, stdin, reading.limits, bar, jobs, exclude, stage)  # type: ignore[arg-type]
    except InputError as exc:
        raise click.UsageError(str(exc)) from None


def shown_progress(
    paths: tuple[str, ...], reading: ReadOptions, exclude: str | None = None
) -> AbstractContextManager[ProgressLine | None]:
    """The progress line on stderr for reading `paths` and the steps after (a context; None when not shown)."""
    return progress_shown(sys.stderr, reading.quiet, lambda: plain_size(paths, exclude))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reportgen")
def cli() -> None:
    """Turn CAVRA rollback-drill evidence into a release-readiness verdict and pack."""


@cli.command()
@evidence_argument
@rules_option
@as_of_option
@strict_option
@waivers_option
@ci_options
@click.option("--json", "as_json", is_flag=True, help="Print the summary JSON instead of the text verdict.")
@click.option(
    "--items",
    "show_items",
    is_flag=True,
    help="Print every open item, one a line, after the groups, and every warning and rejected entry.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Print only the first N open items, warnings and rejected entries of each file (implies --items); "
    "every one is in summary.json and --json.",
)
def check(
    evidence: tuple[str, ...],
    rules: str,
    as_of: datetime | None,
    strict: bool,
    waivers: str | None,
    as_json: bool,
    show_items: bool,
    limit: int | None,
    reading: ReadOptions,
    ci: CiOptions,
) -> None:
    """Judge EVIDENCE (files, folders, or - for stdin), print open items grouped by what fixes them, and exit with
    the verdict."""
    if as_json and (show_items or limit is not None):  # said before reading: the options would do nothing
        raise click.UsageError("--items and --limit choose what the text verdict prints; --json prints every item")
    with shown_progress(evidence, reading) as bar:
        loaded, summary = read_evidence(evidence, rules, as_of, reading, bar)
    summary = waived(summary, waivers)
    write_ci_outputs(summary, ci)
    if as_json:
        click.echo(summary.to_json().decode(), nl=False)
    else:
        click.echo(verdict_text(summary, items=show_items or limit is not None, limit=limit))
    sys.exit(exit_code(summary, loaded, strict))


@cli.command()
@evidence_argument
def validate(evidence: tuple[str, ...], reading: ReadOptions) -> None:
    """List every problem in EVIDENCE as file:line: reason; exit 2 if any entry was rejected."""
    with shown_progress(evidence, reading) as bar:
        loaded, summary = read_evidence(evidence, "chain", None, reading, bar)
    for r in loaded.rejected:
        click.echo(f"{location(r.source, r.line, loaded.stores)}: {terminal_safe(r.reason)}")
    for c in loaded.conflicts:
        click.echo(
            f"{location(c.replaced.source, c.replaced.line, loaded.stores)}: warning: conflicts with "
            f"{location(c.kept.source, c.kept.line, loaded.stores)} (session_id {terminal_safe(c.session_id)}); the later-created is used"
        )
    for n in loaded.notices:
        click.echo(f"{location(n.source, n.line, loaded.stores)}: warning: {terminal_safe(n.detail)}")
    for name, found in sorted(loaded.ledger.unjudged.items()):
        for cite in found.oldest():
            click.echo(
                f"{location(cite[3], cite[4], loaded.stores)}: not judged: {terminal_safe(name)} is of a loop this version does not know"
            )
        if found.total > len(found.oldest()):
            click.echo(f"  ... and {found.total - len(found.oldest()):,} more records of {terminal_safe(name)}")
    for u in loaded.unrecognised:
        click.echo(
            f"{location(u.source, u.line, loaded.stores)}: unrecognised metadata_kind {terminal_safe(u.metadata_kind)!s}"
        )
    inputs = summary.inputs
    click.echo(
        f"{plural(inputs.entries, 'entry', 'entries')} in {plural(len(inputs.files), 'file')}: "
        f"{inputs.records:,} records, {len(inputs.rejected):,} rejected, {inputs.unjudged:,} not judged, "
        f"{inputs.outside_closure:,} outside the closure, {inputs.unrecognised:,} unrecognised, "
        f"{inputs.duplicates:,} duplicates, {len(inputs.conflicts):,} conflicts"
    )
    sys.exit(EXIT_USAGE if loaded.rejected else EXIT_OK)


@cli.command()
@click.argument("name", type=click.Choice(["summary", "evidence", "inputs", "waivers"]), default="summary")
def schema(name: str) -> None:
    """Print the JSON Schema of the summary, one evidence record, the input inventory, or the waiver file."""
    from reportgen.judge.waivers import waiver_schema

    document = waiver_schema() if name == "waivers" else schema_of(name)
    click.echo(orjson.dumps(document, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2).decode())


@cli.command()
@evidence_argument
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder to write the pack into (default: out/<name>/). An earlier pack there is replaced.",
)
@click.option("--name", default="readiness-pack", show_default=True, help="The pack's name (a safe folder name).")
@click.option("--title", default=None, help="The title shown on every document.")
@rules_option
@as_of_option
@strict_option
@waivers_option
@history_option
@click.option(
    "--format",
    "formats",
    multiple=True,
    default=(",".join(format_names()),),
    show_default=True,
    help=f"Formats to build, comma-separated or repeated: {', '.join(format_names())} "
    "(index.html and manifest.json always).",
)
@click.option("--author", default=None, help="The PDFs' author (default: reportgen).")
@click.option(
    "--attach-evidence",
    is_flag=True,
    help="Embed the input records in each PDF as evidence.ndjson, so `reportgen check` can re-judge them.",
)
@click.option(
    "--pdf-variant",
    type=click.Choice(["pdf", "pdf/a-3b", "pdf/ua-1"]),
    default="pdf",
    show_default=True,
    help="pdf/a-3b: archival, attachments as associated files; pdf/ua-1: tagged for accessibility.",
)
@click.option(
    "--pdf-max-rows",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Rows per table in the PDFs; longer tables keep the most severe and oldest rows (the HTML keeps all).",
)
@click.option(
    "--sign",
    "sign",
    metavar="KEY",
    default=None,
    help="Sign manifest.json with this Ed25519 private key (a PEM or OpenSSH key file, or env:VAR for a variable "
    "holding one): writes manifest.intoto.jsonl, a DSSE envelope.",
)
@ci_options
def build(
    evidence: tuple[str, ...],
    out: str | None,
    name: str,
    title: str | None,
    rules: str,
    as_of: datetime | None,
    strict: bool,
    waivers: str | None,
    history: str | None,
    formats: tuple[str, ...],
    author: str | None,
    attach_evidence: bool,
    pdf_variant: str,
    pdf_max_rows: int,
    sign: str | None,
    reading: ReadOptions,
    ci: CiOptions,
) -> None:
    """Build the readiness pack of EVIDENCE, print the files written, and exit with the verdict.

    If the PDFs cannot be printed, the rest of the pack is written, the reason is one line on
    stderr, and the exit code is 2.
    """
    from reportgen.output.pack import PackError, default_out, pack_options, unseen
    from reportgen.output.pdf import pdf_options
    from reportgen.output.signing import SigningError, load_signer

    try:
        for option, text in (("--name", name), ("--title", title), ("--author", author)):
            utf8_text(option, text)
        pdf = pdf_options(author, pdf_variant, pdf_max_rows, attach_evidence)
        signer = load_signer(sign) if sign else None
        options = pack_options(name, title, formats, strict, pdf, signer)
    except (PackError, ValueError, SigningError) as exc:
        raise click.UsageError(str(exc)) from None
    target = Path(out) if out else default_out(options.name)
    with shown_progress(evidence, reading, str(target)) as bar:
        # The pack's own folder is never read back as evidence.
        loaded, summary = read_evidence(evidence, rules, as_of, reading, bar, exclude=str(target))
        summary = waived(summary, waivers)
        code = exit_code(summary, loaded, strict)
        if code == EXIT_USAGE:
            rejected = plural(len(loaded.rejected), "input entry", "input entries")
            raise click.UsageError(
                f"{rejected} rejected, {plural(len(loaded.notices), 'input notice')} (--strict); no pack written"
            )
        tell = bar.aside(say("reportgen build")) if bar else say("reportgen build")
        written, failure = make_pack(summary, options, target, loaded, history, bar.stage if bar else unseen, tell)
    write_ci_outputs(summary, ci, written)
    # The verdict first, so that exit code 1 after the list of files reads as the verdict, not a failed build.
    click.echo(terminal_safe(state_line(summary)))
    echo_paths(written)
    if failure is not None:
        click.echo(f"reportgen build: error: {terminal_safe(failure)}", err=True)
        sys.exit(EXIT_USAGE)
    sys.exit(code)


def make_pack(
    summary: Summary,
    options: PackOptions,
    target: Path,
    loaded: LoadResult,
    history: str | None,
    step: Stage,
    tell: Stage,
) -> tuple[list[Path], str | None]:
    """Build the pack: the paths written, and why the PDFs were not (None when they were); `tell` hears what
    was recovered from a build cut short."""
    from reportgen.output.pack import PackError, PdfNotWritten, build_pack, pack_evidence

    try:
        step("reading the records the pack carries")
        records, attached = pack_evidence(summary, options, loaded)
        if history is not None:
            step("reading earlier packs (--history)")
        trend = history_trend(summary, history, tell)
        return build_pack(summary, options, target, trend, records, attached, tell, step), None
    except PdfNotWritten as exc:
        return exc.written, str(exc)
    except (PackError, OSError, InputError) as exc:
        raise click.UsageError(str(exc)) from None


def say(command: str) -> Callable[[str], None]:
    """A way for a command to tell the user, on stderr, what it did besides its work."""
    return lambda message: click.echo(f"{command}: {terminal_safe(message)}", err=True)


def echo_paths(paths: list[Any]) -> None:
    """Print the paths a command wrote, one a line."""
    for path in paths:
        click.echo(terminal_safe(path))


def recovered(path: str, command: str) -> Path:
    """A pack (or summary) named on the command line, once a build of it that was cut short is recovered."""
    from reportgen.output.writer import recover

    found = Path(path)
    try:
        if not found.is_file():
            recover(found, say(command))
    except OSError as exc:
        raise click.UsageError(f"{path}: cannot recover a build that was cut short: {exc}") from None
    if not found.exists():
        raise click.UsageError(f"{path}: does not exist")
    return found


@cli.command()
@click.argument("old", type=click.Path())
@click.argument("new", type=click.Path())
@waivers_option
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
def diff(old: str, new: str, waivers: str | None, as_json: bool) -> None:
    """Print what changed from pack OLD to pack NEW (folders or summary.json files); exit 1 when an item opened."""
    from reportgen.judge.diff import diff_json, diff_text
    from reportgen.judge.history import HistoryError, compare, read_summary

    try:
        before, after = (waived(read_summary(recovered(p, "reportgen diff")), waivers) for p in (old, new))
    except HistoryError as exc:
        raise click.UsageError(str(exc)) from None
    changes = compare(before, after)
    if as_json:
        click.echo(diff_json(before, after, changes).decode(), nl=False)
    else:
        click.echo("\n".join(terminal_safe(line) for line in diff_text(before, after, changes)))
    sys.exit(EXIT_OPEN if changes.opened else EXIT_OK)


@cli.command()
@click.argument("pack", type=click.Path(file_okay=False))
@click.option(
    "--to", "to", required=True, type=click.Path(file_okay=False), help="The wiki checkout (or site) to publish into."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["wiki", "mkdocs", "confluence"]),
    default="wiki",
    show_default=True,
    help="wiki: Markdown pages (GitHub/GitLab wiki); mkdocs: pages under docs/ with a nav entry; confluence: XHTML.",
)
@click.option("--commit", "do_commit", is_flag=True, help="Commit the published files in the git repository at --to.")
def publish(pack: str, to: str, fmt: str, do_commit: bool) -> None:
    """Publish the built PACK's documents into the folder --to; publishing it again changes nothing."""
    from reportgen.output.publish import PublishError
    from reportgen.output.publish import publish as publish_pack

    try:
        done = publish_pack(recovered(pack, "reportgen publish"), Path(to), fmt, do_commit)
    except (PublishError, OSError) as exc:
        raise click.UsageError(str(exc)) from None
    for name in done.written:
        click.echo(terminal_safe(Path(to) / name))
    state = "committed" if done.committed else ("nothing to commit" if do_commit else "not committed")
    click.echo(terminal_safe(f"published {done.page}: {len(done.written)} files changed, {state}"), err=True)


@cli.command()
@click.argument("pack", type=click.Path())
@click.option(
    "--key",
    metavar="PUBLIC_KEY",
    default=None,
    help="Check the manifest's signature with this Ed25519 public key (PEM, an OpenSSH public key file, "
    "or env:VAR); without it the signature is not checked.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify(pack: str, key: str | None, as_json: bool) -> None:
    """Check the built PACK: every file against manifest.json, the PDFs' attachments, the verdict, the signature.

    Exit 0 verified, 1 a problem found, 2 a usage error or no pack to read.
    """
    from reportgen.output.signing import SigningError, load_public_key
    from reportgen.output.verify import PackUnreadable, report_json, report_lines, verify_pack

    try:
        public = load_public_key(key) if key else None
        report = verify_pack(Path(pack), public)
    except (SigningError, PackUnreadable) as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        click.echo(report_json(report).decode(), nl=False)
    else:
        click.echo("\n".join(report_lines(report, terminal_safe)))
    sys.exit(EXIT_OPEN if report.problems else EXIT_OK)


def interrupt(signum: int, _frame: object) -> None:
    """Turn a termination signal into an interruption, so temporary files are removed on the way out."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main() -> None:
    """Run the CLI; an unexpected error becomes one line on stderr and exit code 2."""
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), interrupt)
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        command = exc.ctx.command_path if getattr(exc, "ctx", None) else "reportgen"
        click.echo(f"{command}: error: {terminal_safe(exc.format_message())}", err=True)
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        click.echo("reportgen: aborted", err=True)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        click.echo("reportgen: aborted", err=True)
        sys.exit(EXIT_USAGE)
    except BrokenPipeError:
        sys.exit(EXIT_USAGE)
    except Exception as exc:  # the promise is one line, never a traceback
        if os.environ.get("REPORTGEN_DEBUG"):
            raise
        click.echo(f"reportgen: internal error: {type(exc).__name__}: {terminal_safe(exc)}", err=True)
        sys.exit(EXIT_USAGE)
