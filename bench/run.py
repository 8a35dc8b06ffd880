"""The loader benchmark: reportgen against the tools people would use instead, on the same files.

    python -m bench.run                                   # 100 000 records
    python -m bench.run --records 100000 1000000          # and a million (about 2 GB of NDJSON)
    python -m bench.run --records 1000000 --keep /tmp/ev --only check-chain   # re-run one row

For each size it generates CAVRA-shaped evidence once per form (bench.generate: NDJSON, gzip NDJSON
and a store file of the same records), then measures in fresh processes: the orjson parse floor
(every line parsed, nothing else), upstream CAVRA's own read of a store (`json.load` of the whole
file, then one pass over its items), jq and DuckDB computing the cavra-mode failure counts,
`reportgen check` (chain rules with one job and with the default jobs, cavra rules, and the gzip
and store forms), and `reportgen build` without and with PDF. Each row has wall time, the peak of
the memory summed over the command's whole process tree (RSS and PSS, sampled every 20 ms from
/proc), records per second and the ratios to the parse floor and to DuckDB. The tables replace the
marked section of docs/benchmarks.md. jq (Debian) and duckdb (PyPI, the `bench` extra) are
benchmark-only dependencies; a tool that is missing is reported as such, not faked. Linux only.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
GENERATOR = ROOT / "bench" / "generate.py"
PROC = Path("/proc")
BEGIN, END = "<!-- bench.run:begin -->", "<!-- bench.run:end -->"
EXEC_SOURCE = "go_backend_rollback_drill_acknowledgement_audit_recovery_executive_report_delivery_retry_health_alert"
INTERVAL = 0.02  # seconds between memory samples
PSS_SHARE = 0.1  # the most of the time the sampler may spend reading smaps_rollup
MISSED_PEAK = 1.1  # a process's own peak this far above the sampled sum: the sampler missed it
SEED = 1
PROFILE = "reference"  # bench.generate's default
# bench.generate's profiles, said in the doc; the runner imports nothing from the generator.
PROFILE_WORDS = {
    "reference": "drills as long as real ones: the retry worker keeps running after a drill's outcome",
    "compact": "each drill's retry worker stops at the drill's outcome: shorter chains",
}
SUFFIXES = {"ndjson": ".ndjson", "gzip": ".ndjson.gz", "store": ".store.json"}
FORM_NAMES = {"ndjson": "NDJSON", "gzip": "gzip NDJSON", "store": "store file"}
VERDICT_EXITS = (0, 1)  # reportgen's "closed" and "open": both are a finished run

FLOOR = """
import orjson, sys
n = 0
with open(sys.argv[1], "rb") as f:
    for line in f:
        try:
            orjson.loads(line); n += 1
        except orjson.JSONDecodeError:
            pass
print(n)
"""
DUCKDB = """
import duckdb, sys
q = "select metadata_kind, count(*) from read_ndjson(?, ignore_errors=true, maximum_object_size=67108864) "
q += "where delivery_success = false or execution_status in ('failed', 'skipped') group by 1"
print(duckdb.execute(q, [sys.argv[1]]).fetchall())
"""
# What upstream CAVRA pays before any dashboard: the whole store parsed at once, then one pass
# over its items reading each record's kind (a broken line in a store is a string item).
STORE_LOAD = """
import json, sys
with open(sys.argv[1]) as f:
    items = json.load(f)["items"]
kinds = sum(1 for item in items if isinstance(item, dict) and item.get("metadata_kind"))
print(kinds)
"""
JQ = f'select(.connector_delivery_source == "{EXEC_SOURCE}" and .delivery_success == false) | .session_id'


# --- the rows ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowSpec:
    """One row of the table: its --only key, its name in the table, the evidence form it reads."""

    key: str
    name: str
    form: str = "ndjson"
    is_check: bool = False  # check rows get the × DuckDB column


ROWS: tuple[RowSpec, ...] = (
    RowSpec("floor", "orjson parse floor"),
    RowSpec("jq", "jq: failed executive deliveries"),
    RowSpec("duckdb", "DuckDB: failures by kind"),
    RowSpec("store-load", "json.load of the store file plus one pass over its items", "store"),
    RowSpec("check-chain-jobs1", "reportgen check --rules chain --jobs 1", is_check=True),
    RowSpec("check-chain", "reportgen check --rules chain", is_check=True),
    RowSpec("check-cavra", "reportgen check --rules cavra", is_check=True),
    RowSpec("check-chain-gzip", "reportgen check --rules chain (gzip NDJSON)", "gzip", is_check=True),
    RowSpec("check-chain-store", "reportgen check --rules chain (store file)", "store", is_check=True),
    RowSpec("check-cavra-gzip", "reportgen check --rules cavra (gzip NDJSON)", "gzip", is_check=True),
    RowSpec("check-cavra-store", "reportgen check --rules cavra (store file)", "store", is_check=True),
    RowSpec("build", "reportgen build --format html,md,json,csv"),
    RowSpec("build-pdf", "reportgen build --format pdf"),
)
# The ratios need these two, so --only always runs them too (a few seconds even at 1M records).
REFERENCES = ("floor", "duckdb")


def select_rows(rows: Sequence[RowSpec], only: Iterable[str] | None) -> list[RowSpec]:
    """The rows --only asks for, in table order: an exact key or name wins, else every prefix match."""
    if not only:
        return list(rows)
    wanted = set(REFERENCES)
    for selector in only:
        exact = [r.key for r in rows if selector in (r.key, r.name)]
        prefixed = [r.key for r in rows if r.key.startswith(selector) or r.name.startswith(selector)]
        if not exact and not prefixed:
            raise ValueError(f"no row matches {selector!r}; rows: {', '.join(r.key for r in rows)}")
        wanted.update(exact or prefixed)
    return [r for r in rows if r.key in wanted]


def has_duckdb() -> bool:
    """Whether this Python can import duckdb (checked in a child, to keep it out of this process)."""
    done = subprocess.run([sys.executable, "-c", "import duckdb"], capture_output=True, check=False)
    return done.returncode == 0


def command(spec: RowSpec, evidence: Path, out: Path, duckdb: bool) -> list[str] | None:
    """The command of one row, None where the tool is not installed."""
    python = sys.executable
    rg = [python, "-m", "reportgen"]
    build = [*rg, "build", "--quiet", str(evidence), "--out", str(out / spec.key)]
    commands: dict[str, list[str] | None] = {
        "floor": [python, "-c", FLOOR, str(evidence)],
        "jq": ["jq", "-R", "-c", f"fromjson? | {JQ}", str(evidence)] if shutil.which("jq") else None,
        "duckdb": [python, "-c", DUCKDB, str(evidence)] if duckdb else None,
        "store-load": [python, "-c", STORE_LOAD, str(evidence)],
        "check-chain-jobs1": [*rg, "check", "--quiet", "--rules", "chain", "--jobs", "1", str(evidence)],
        "check-chain": [*rg, "check", "--quiet", "--rules", "chain", str(evidence)],
        "check-cavra": [*rg, "check", "--quiet", "--rules", "cavra", str(evidence)],
        "check-chain-gzip": [*rg, "check", "--quiet", "--rules", "chain", str(evidence)],
        "check-chain-store": [*rg, "check", "--quiet", "--rules", "chain", str(evidence)],
        "check-cavra-gzip": [*rg, "check", "--quiet", "--rules", "cavra", str(evidence)],
        "check-cavra-store": [*rg, "check", "--quiet", "--rules", "cavra", str(evidence)],
        "build": [*build, "--format", "html,md,json,csv"],
        "build-pdf": [*build, "--format", "pdf"],
    }
    return commands[spec.key]


# --- memory of a process tree, from /proc -------------------------------------------------------


def parse_ppid(stat: str) -> int:
    """The parent pid in a /proc/<pid>/stat line (the command name in parentheses may hold anything)."""
    # Fields after the last ")" are: state, ppid, ...
    return int(stat[stat.rindex(")") + 1 :].split()[1])


def parse_kib(text: str, key: str) -> int | None:
    """The number of one `Key:  123 kB` line of /proc/<pid>/status or smaps_rollup, None if absent."""
    prefix = key + ":"
    for line in text.splitlines():
        if line.startswith(prefix):
            return int(line.split()[1])
    return None


def descendants(root: int, parents: Mapping[int, int]) -> list[int]:
    """The root and every process below it, given each process's parent."""
    children: dict[int, list[int]] = defaultdict(list)
    for pid, ppid in parents.items():
        children[ppid].append(pid)
    tree, stack = [], [root]
    while stack:
        pid = stack.pop()
        tree.append(pid)
        stack.extend(children.get(pid, ()))
    return tree


def read_proc(path: Path) -> str | None:
    """A /proc file's text, None when the process is gone (a race the sampler expects)."""
    try:
        return path.read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None


def process_parents(proc: Path = PROC) -> dict[int, int]:
    """Every process's parent pid, from /proc/*/stat."""
    # Scanning all of /proc, because /proc/<pid>/task/*/children needs CONFIG_PROC_CHILDREN,
    # which this machine's kernel lacks; with ~100 processes a scan takes about a millisecond.
    parents = {}
    for name in os.listdir(proc):
        if name.isdigit() and (stat := read_proc(proc / name / "stat")):
            parents[int(name)] = parse_ppid(stat)
    return parents


@dataclass(frozen=True)
class TreeUsage:
    """The resident memory of a process tree at one moment, summed over its live processes."""

    pids: tuple[int, ...]
    rss_kib: int
    own_peak_kib: int = 0  # the largest VmHWM: one process's own peak RSS since its exec


def tree_usage(root: int, proc: Path = PROC) -> TreeUsage:
    """Sum VmRSS over the root process and all its descendants (cheap: /proc/<pid>/status)."""
    pids, rss, own_peak = [], 0, 0
    for pid in descendants(root, process_parents(proc)):
        status = read_proc(proc / str(pid) / "status")
        vm_rss = parse_kib(status, "VmRSS") if status else None
        if vm_rss is None:  # gone, or a zombie: it holds no memory any more
            continue
        pids.append(pid)
        rss += vm_rss
        own_peak = max(own_peak, parse_kib(status, "VmHWM") or 0)
    return TreeUsage(tuple(pids), rss, own_peak)


def tree_pss(pids: Iterable[int], proc: Path = PROC) -> tuple[int, bool]:
    """Sum PSS over these processes, and say whether some smaps_rollup could not be read."""
    pss, unreadable = 0, False
    for pid in pids:
        try:
            rollup = read_proc(proc / str(pid) / "smaps_rollup")
        except PermissionError:
            unreadable = True
            continue
        pss += (parse_kib(rollup, "Pss") or 0) if rollup else 0
    return pss, unreadable


def pss_readable(proc: Path = PROC) -> bool:
    """Whether this kernel has smaps_rollup and lets us read it (Linux 4.14 and later)."""
    try:
        return parse_kib((proc / "self" / "smaps_rollup").read_text(), "Pss") is not None
    except OSError:
        return False


@dataclass(frozen=True)
class Peaks:
    """The largest summed memory seen over a run, and how it was seen."""

    rss_kib: int
    pss_kib: int | None  # None: PSS could not be read
    processes: int  # the most processes alive at once
    own_peak_kib: int  # the largest single process's own peak RSS, as last seen
    samples: int


class PeakSampler:
    """Sample a process tree's summed memory every INTERVAL seconds in a thread; keep the peaks."""

    def __init__(self, root: int, interval: float = INTERVAL, proc: Path = PROC) -> None:
        self.root, self.interval, self.proc = root, interval, proc
        self.rss = self.pss = self.processes = self.own_peak = self.samples = 0
        self.pss_ok = pss_readable(proc)
        self.next_pss = 0.0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.loop, name="peak-sampler", daemon=True)

    def start(self) -> None:
        """Start sampling."""
        self.thread.start()

    def sample(self) -> None:
        """Take one sample and raise the peaks."""
        usage = tree_usage(self.root, self.proc)
        self.rss = max(self.rss, usage.rss_kib)
        self.processes = max(self.processes, len(usage.pids))
        self.own_peak = max(self.own_peak, usage.own_peak_kib)
        self.samples += 1
        # Reading smaps_rollup walks the page tables under the process's mmap lock (about 20 ms for
        # 1.3 GB), so it would slow what is measured. PSS never exceeds RSS, so it is read only when
        # the RSS sum is above the PSS peak so far, and at most PSS_SHARE of the time.
        if self.pss_ok and usage.rss_kib > self.pss and time.monotonic() >= self.next_pss:
            began = time.monotonic()
            pss, unreadable = tree_pss(usage.pids, self.proc)
            took = time.monotonic() - began
            self.next_pss = began + took / PSS_SHARE
            self.pss, self.pss_ok = max(self.pss, pss), not unreadable

    def loop(self) -> None:
        """Sample until stopped."""
        while not self.done.is_set():
            self.sample()
            self.done.wait(self.interval)

    def stop(self) -> Peaks:
        """Stop sampling and return the peaks."""
        self.done.set()
        self.thread.join()
        pss = self.pss if self.pss_ok else None
        return Peaks(self.rss, pss, self.processes, self.own_peak, self.samples)


# --- measuring one command ----------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One measured command."""

    spec: RowSpec
    seconds: float | None = None
    rss_mib: float | None = None
    pss_mib: float | None = None
    note: str = ""
    finished: bool = False  # exited with a verdict (0 or 1): only then do rates and ratios mean anything


def last_line(text: str, width: int = 120) -> str:
    """The last non-empty line of a command's stderr, cut to fit a table cell."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:width].replace("|", "\\|") if lines else ""


def refused_option(code: int, stderr: str) -> str | None:
    """The option a command stopped on at argument parsing (click: exit 2, "No such option"), if any."""
    found = re.search(r"no such option:?\s*'?(-[\w-]+)", stderr, re.IGNORECASE)
    return found[1] if code == 2 and found else None


def failure(code: int, stderr: str) -> str | None:
    """Why a run did not finish its work, or None when it exited with a verdict."""
    said = f": {last_line(stderr)}" if last_line(stderr) else ""
    if code < 0:
        return f"killed by signal {-code}"
    # An uncaught Python exception also exits 1, which would pass for reportgen's "open" verdict.
    if code not in VERDICT_EXITS or "Traceback (most recent call last)" in stderr:
        return f"exit {code}{said}"
    return None


def run_notes(code: int, stderr: str, peaks: Peaks) -> list[str]:
    """What the table must say about one finished run besides its numbers."""
    notes = []
    if failed := failure(code, stderr):
        notes.append(failed)
    if peaks.pss_kib is None:
        notes.append("PSS unreadable (/proc/<pid>/smaps_rollup)")
    if peaks.processes > 1:
        notes.append(f"up to {peaks.processes} processes")
    # A process's own high-water mark above the sampled sum (beyond noise) means the peak came and
    # went between two samples: the sums are then too low, and the note says by how much at least.
    if peaks.own_peak_kib > peaks.rss_kib * MISSED_PEAK:
        notes.append(f"peak missed between samples: one process alone reached {peaks.own_peak_kib / 1024:,.0f} MiB")
    return notes


def measure(spec: RowSpec, argv: list[str], log: Path) -> Row:
    """Run one command, timing it and sampling its process tree's memory."""
    with open(log, "w+b") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr, cwd=ROOT)
        sampler = PeakSampler(process.pid)
        sampler.start()
        try:
            code = process.wait()
            seconds = time.perf_counter() - start
        except BaseException:  # Ctrl-C while a long row runs: leave nothing running behind
            process.kill()
            process.wait()
            raise
        finally:
            peaks = sampler.stop()
        stderr.seek(0)
        text = stderr.read().decode(errors="replace")
    if option := refused_option(code, text):
        return Row(spec, note=f"not run: this reportgen does not accept `{option}` yet")
    notes = "; ".join(run_notes(code, text, peaks))
    finished = failure(code, text) is None
    if not peaks.processes:  # it ended before the first sample: no memory figure rather than a zero
        notes = "; ".join(filter(None, [notes, "ended before the first memory sample"]))
        return Row(spec, seconds, None, None, notes, finished)
    pss = peaks.pss_kib / 1024 if peaks.pss_kib is not None else None
    return Row(spec, seconds, peaks.rss_kib / 1024, pss, notes, finished)


# --- the evidence files -------------------------------------------------------------------------


def evidence_path(folder: Path, records: int, seed: int, form: str, profile: str = PROFILE) -> Path:
    """Where the evidence of one size, seed, profile and form lives."""
    return folder / f"evidence-{records}-seed{seed}-{profile}{SUFFIXES[form]}"


def stats_fields(line: str) -> dict[str, str]:
    """The key=value words of bench.generate's summary line."""
    return dict(word.split("=", 1) for word in line.split() if "=" in word)


def generator_digest() -> str:
    """A short digest of bench/generate.py, so a changed generator is never served stale files."""
    return hashlib.sha256(GENERATOR.read_bytes()).hexdigest()[:16]


def reusable(path: Path, records: int, seed: int, form: str, digest: str, profile: str = PROFILE) -> bool:
    """Whether a kept file was written by this generator with these arguments and is whole."""
    sidecar = path.with_name(path.name + ".stats")
    if not path.exists() or not sidecar.exists():
        return False
    fields = stats_fields(sidecar.read_text())
    expected = {
        "records": str(records),
        "seed": str(seed),
        "format": form,
        "profile": profile,
        "generator": digest,
        "bytes": str(path.stat().st_size),
    }
    return all(fields.get(key) == value for key, value in expected.items())


def say(message: str) -> None:
    """One progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


def ensure_evidence(path: Path, records: int, seed: int, form: str, profile: str = PROFILE) -> None:
    """Generate one evidence file, or reuse it when a kept one matches."""
    digest = generator_digest()
    if reusable(path, records, seed, form, digest, profile):
        say(f"reusing {path} ({path.stat().st_size / 1e6:,.0f} MB)")
        return
    say(f"generating {records:,} {profile}-profile records as {FORM_NAMES[form]} (seed {seed}) into {path} ...")
    start = time.perf_counter()
    argv = [
        sys.executable,
        "-m",
        "bench.generate",
        "--records",
        str(records),
        "--seed",
        str(seed),
        "--format",
        form,
        "--profile",
        profile,
        "--out",
        str(path),
    ]
    done = subprocess.run(argv, check=True, cwd=ROOT, stdout=subprocess.PIPE, text=True)  # errors show on stderr
    path.with_name(path.name + ".stats").write_text(f"{done.stdout.strip()} generator={digest}\n")
    say(f"  done in {time.perf_counter() - start:,.0f} s: {path.stat().st_size / 1e6:,.0f} MB")


def warm(path: Path) -> None:
    """Read a file once, so every row reads it from the page cache (a kept file may be cold)."""
    with open(path, "rb") as f:
        while f.read(16 << 20):
            pass


# --- one size -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SizeResult:
    """The rows measured at one size, and the sizes of the files they read."""

    records: int
    rows: list[Row]
    file_bytes: dict[str, int]
    # What the pack of the `build` row holds, and its dashboard in Chromium (bench.page).
    pack: list[tuple[str, str]] = field(default_factory=list)


def bench(
    records: int, seed: int, specs: Sequence[RowSpec], folder: Path, scratch: Path, profile: str = PROFILE
) -> SizeResult:
    """Generate the evidence one size needs and measure every selected row on it."""
    forms = dict.fromkeys(s.form for s in specs)
    files = {form: evidence_path(folder, records, seed, form, profile) for form in forms}
    for form, path in files.items():
        ensure_evidence(path, records, seed, form, profile)
        warm(path)
    duckdb = has_duckdb()
    rows, pack = [], []
    for spec in specs:
        argv = command(spec, files[spec.form], scratch, duckdb)
        row = measure(spec, argv, scratch / f"{spec.key}.stderr") if argv else Row(spec, note="not installed")
        rows.append(row)
        say(f"{records:>9,} {progress(row)}")
        if spec.key == "build" and row.finished:
            pack = pack_facts(scratch / spec.key)
        if spec.key == "build-pdf" and row.finished:
            pack += pdf_facts(scratch / spec.key)
        shutil.rmtree(scratch / spec.key, ignore_errors=True)  # a million-record pack is large
    return SizeResult(records, rows, {form: path.stat().st_size for form, path in files.items()}, pack)


def pdf_facts(folder: Path) -> list[tuple[str, str]]:
    """The page count and size of each PDF of a built pack (pypdf, from the test extra)."""
    try:
        import pypdf
    except ImportError:
        return [("the PDFs", "not counted: pypdf is not installed")]
    facts = []
    for path in sorted(folder.glob("*.pdf")):
        pages = len(pypdf.PdfReader(path).pages)
        facts.append((f"`{path.name}`", f"{pages} pages, {path.stat().st_size / 1e6:,.2f} MB"))
    return facts


def pack_facts(folder: Path) -> list[tuple[str, str]]:
    """The size of each file of a built pack, then its dashboard measured in Chromium where there is one."""
    facts = [(f"`{path.name}`", f"{path.stat().st_size / 1e6:,.2f} MB") for path in sorted(folder.iterdir())]
    try:
        from playwright.sync_api import sync_playwright

        from bench import page
    except ImportError:
        return [*facts, ("the dashboard in Chromium", "not measured: Playwright is not installed")]
    if not Path(page.CHROMIUM).exists():
        return [*facts, ("the dashboard in Chromium", f"not measured: no {page.CHROMIUM}")]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=page.CHROMIUM, args=page.ARGS)
        try:
            return facts + page.measure(browser, folder)[1:]
        finally:
            browser.close()


def progress(row: Row) -> str:
    """One row as a progress line."""
    return (
        f"{row.spec.name}: {number(row.seconds, '.2f')} s, RSS {number(row.rss_mib)} MiB, "
        f"PSS {number(row.pss_mib)} MiB {row.note}"
    ).rstrip()


# --- the table and the doc ----------------------------------------------------------------------


def number(value: float | None, spec: str = ",.0f") -> str:
    """A table cell for a number, a dash for a missing one."""
    return "—" if value is None else format(value, spec)


def ratio(seconds: float | None, reference: float | None) -> str:
    """How many times the reference's wall time a row took."""
    return f"{seconds / reference:.1f}" if seconds and reference else "—"


def reference_seconds(rows: Sequence[Row], key: str) -> float | None:
    """The wall time of the reference row with this key, if it ran to the end."""
    return next((r.seconds for r in rows if r.spec.key == key and r.finished), None)


def table(result: SizeResult) -> str:
    """The Markdown table of one size."""
    floor, duckdb = reference_seconds(result.rows, "floor"), reference_seconds(result.rows, "duckdb")
    sizes = ", ".join(f"{FORM_NAMES[form]} {size / 1e6:,.0f} MB" for form, size in result.file_bytes.items())
    lines = [
        f"### {result.records:,} records",
        "",
        f"Files: {sizes}.",
        "",
        "| command | wall s | peak RSS MiB (sum) | peak PSS MiB (sum) | records/s | × floor | × DuckDB | note |",
        "|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    check = reference_seconds(result.rows, "check-chain")
    for r in result.rows:
        # A run that failed did not do the work: its wall time stays, its rate and ratios do not.
        seconds = r.seconds if r.finished else None
        rate = number(result.records / seconds) if seconds else "—"
        versus_duckdb = ratio(seconds, duckdb) if r.spec.is_check else ""
        note = r.note
        if r.spec.key == "build" and seconds and check:
            note = "; ".join(filter(None, [f"{ratio(seconds, check)}× `check --rules chain`", note]))
        lines.append(
            f"| {r.spec.name} | {number(r.seconds, '.2f')} | {number(r.rss_mib)} | {number(r.pss_mib)} "
            f"| {rate} | {ratio(seconds, floor)} | {versus_duckdb} | {note} |"
        )
    if result.pack:
        lines += ["", "The pack of the `build` row, its dashboard in Chromium (`python -m bench.page`), and the PDFs of the `build --format pdf` row:", ""]
        lines += ["| file or measure | value |", "|---|--:|", *(f"| {k} | {v} |" for k, v in result.pack)]
    return "\n".join(lines)


def machine() -> str:
    """One line about the machine the numbers come from."""
    meminfo = (PROC / "meminfo").read_text()
    mem = next((line.split()[1] for line in meminfo.splitlines() if line.startswith("MemTotal")), "0")
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {int(mem) // 1024 // 1024} GiB, "
        f"Python {platform.python_version()}"
    )


def revision() -> str:
    """reportgen's commit, and whether reportgen/ had uncommitted changes when measured."""
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    if head.returncode != 0:
        return "an unknown commit (no git)"
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--", "reportgen"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return f"commit `{head.stdout.strip()}`" + (" with uncommitted changes under reportgen/" if dirty else "")


def preamble(invocation: str, profile: str = PROFILE) -> str:
    """The text above the tables: where, what and how the numbers were measured."""
    return f"""Measured on {machine()}, reportgen at {revision()}, with `{invocation}`.

- The evidence is `bench.generate`'s `{profile}` profile ({PROFILE_WORDS.get(profile, "")}).
- The evidence files are generated first and then read from the page cache: disk speed is not in
  these numbers (a cold read would add to every row alike).
- Peak memory is the largest sum over the command's whole process tree, sampled every
  {INTERVAL * 1000:.0f} ms from /proc. RSS counts a page that forked workers share with their parent once
  per process; PSS (`smaps_rollup`) splits it between them. A peak shorter than a sample can be
  missed. Reading `smaps_rollup` walks the page tables (about 20 ms for a 1.3 GB process), so PSS
  is read only while the RSS sum is above the PSS peak so far, and for at most {PSS_SHARE:.0%} of the time.
- Rows without `--jobs` use reportgen's default (one job per core: {os.cpu_count()} here). × DuckDB
  compares each `check` row with the DuckDB query. A run that failed keeps its wall time and
  memory but gets no rate or ratio."""


def write_doc(doc: Path, intro: str, sections: list[str]) -> None:
    """Replace the marked section of the benchmarks document with the new tables."""
    body = "\n\n".join([intro, *sections])
    block = f"{BEGIN}\n## Loading and judging evidence\n\n{body}\n{END}"
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    if BEGIN in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)


def invocation(records: Sequence[int], seed: int, only: Sequence[str] | None, profile: str = PROFILE) -> str:
    """The command that reproduces these tables."""
    words = ["python", "-m", "bench.run", "--records", *map(str, records)]
    words += ["--seed", str(seed)] if seed != SEED else []
    words += ["--profile", profile] if profile != PROFILE else []
    return shlex.join(words + (["--only", *only] if only else []))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__.splitlines()[0],
        epilog="rows (for --only): " + ", ".join(r.key for r in ROWS),
    )
    parser.add_argument("--records", type=int, nargs="+", default=[100_000], help="sizes to measure")
    parser.add_argument("--seed", type=int, default=SEED, help=f"the generator's seed (default {SEED})")
    parser.add_argument(
        "--profile",
        choices=tuple(PROFILE_WORDS),
        default=PROFILE,
        help=f"the generator's evidence profile (default {PROFILE})",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="ROW",
        help="measure only these rows (keys or names, or their prefixes); the floor and DuckDB "
        "rows always run, for the ratios; the doc is then left alone unless --doc is given",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep the generated evidence in DIR and reuse files that match size, seed and generator",
    )
    parser.add_argument(
        "--doc",
        type=Path,
        metavar="PATH",
        help=f"the document whose marked section gets the tables (default {DOC.relative_to(ROOT)})",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark at the asked sizes, print the tables and write them to the doc."""
    args = parse_args(argv)
    try:
        specs = select_rows(ROWS, args.only)
    except ValueError as exc:
        say(f"python -m bench.run: {exc}")
        return 2
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="reportgen-bench-") as tmp:
        folder = args.keep or Path(tmp)
        results = [bench(n, args.seed, specs, folder, Path(tmp), args.profile) for n in args.records]
    intro = preamble(invocation(args.records, args.seed, args.only, args.profile), args.profile)
    sections = [table(result) for result in results]
    print("\n\n".join([intro, *sections]))
    # A partial run (--only) would replace the whole section with a few rows: write it only on request.
    doc = args.doc or (None if args.only else DOC)
    if doc:
        write_doc(doc, intro, sections)
        say(f"wrote {doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
