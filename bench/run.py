"""The loader benchmark: reportgen against the tools people would use instead, on the same files.

    python -m bench.run                     # 100 000 records
    python -m bench.run --records 1000000   # and a million (about 2 GB of NDJSON)

For each size it generates CAVRA-shaped NDJSON once (bench.generate), then measures in fresh
processes: the orjson parse floor (every line parsed, nothing else), jq and DuckDB computing the
cavra-mode failure counts, `reportgen check` in both rules modes, and `reportgen build` without and
with PDF. Each row has wall time, peak RSS, records per second and the ratio to the parse floor.
The table replaces the marked section of docs/benchmarks.md. jq (Debian) and duckdb (PyPI) are
benchmark-only dependencies; a tool that is missing is reported as such, not faked.
"""

from __future__ import annotations

import argparse
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench.run:begin -->", "<!-- bench.run:end -->"
EXEC_SOURCE = "go_backend_rollback_drill_acknowledgement_audit_recovery_executive_report_delivery_retry_health_alert"

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
JQ = f'select(.connector_delivery_source == "{EXEC_SOURCE}" and .delivery_success == false) | .session_id'


@dataclass(frozen=True)
class Row:
    """One measured command."""

    name: str
    seconds: float | None
    peak_mib: float | None
    note: str = ""


def measure(name: str, command: list[str]) -> Row:
    """Run a command under /usr/bin/time and read its wall time and peak RSS."""
    if not Path("/usr/bin/time").exists():
        return Row(name, None, None, "/usr/bin/time missing")
    done = subprocess.run(["/usr/bin/time", "-f", "@@%e %M", *command], capture_output=True, text=True, check=False)
    found = re.search(r"@@([\d.]+) (\d+)", done.stderr)
    if not found:
        return Row(name, None, None, f"failed: {done.stderr.strip()[-120:]}")
    note = "" if done.returncode in (0, 1) else f"exit {done.returncode}"
    return Row(name, float(found[1]), int(found[2]) / 1024, note)


def commands(evidence: Path, out: Path) -> list[tuple[str, list[str] | None]]:
    """The commands to compare, None where the tool is not installed."""
    python, rg = sys.executable, [sys.executable, "-m", "reportgen"]
    has_duckdb = subprocess.run([python, "-c", "import duckdb"], capture_output=True, check=False).returncode == 0
    return [
        ("orjson parse floor", [python, "-c", FLOOR, str(evidence)]),
        ("jq: failed executive deliveries", ["jq", "-R", "-c", f"fromjson? | {JQ}", str(evidence)] if shutil.which("jq") else None),
        ("DuckDB: failures by kind", [python, "-c", DUCKDB, str(evidence)] if has_duckdb else None),
        ("reportgen check --rules chain", [*rg, "check", "--rules", "chain", str(evidence)]),
        ("reportgen check --rules cavra", [*rg, "check", "--rules", "cavra", str(evidence)]),
        ("reportgen build --format html,md,json", [*rg, "build", str(evidence), "--out", str(out / "a"), "--format", "html,md,json"]),
        ("reportgen build --format pdf", [*rg, "build", str(evidence), "--out", str(out / "b"), "--format", "pdf"]),
    ]


def bench(records: int, workdir: Path) -> list[Row]:
    """Generate one evidence file and measure every command on it."""
    evidence = workdir / f"evidence-{records}.ndjson"
    subprocess.run([sys.executable, "-m", "bench.generate", "--records", str(records), "--seed", "1",
                    "--format", "ndjson", "--out", str(evidence)], check=True, cwd=ROOT, capture_output=True)
    rows = []
    for name, command in commands(evidence, workdir):
        rows.append(measure(name, command) if command else Row(name, None, None, "not installed"))
        print(f"{records:>9} {rows[-1]}", file=sys.stderr)
    return rows


def table(records: int, rows: list[Row]) -> str:
    """The Markdown table of one size."""
    floor = rows[0].seconds or 0
    lines = [f"### {records:,} records", "", "| command | wall s | peak RSS MiB | records/s | × floor | note |",
             "|---|--:|--:|--:|--:|---|"]
    for r in rows:
        rate = f"{records / r.seconds:,.0f}" if r.seconds else "—"
        ratio = f"{r.seconds / floor:.1f}" if r.seconds and floor else "—"
        wall = f"{r.seconds:.2f}" if r.seconds is not None else "—"
        peak = f"{r.peak_mib:,.0f}" if r.peak_mib is not None else "—"
        lines.append(f"| {r.name} | {wall} | {peak} | {rate} | {ratio} | {r.note} |")
    return "\n".join(lines)


def machine() -> str:
    """One line about the machine the numbers come from."""
    mem = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")), "?")
    cores = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    return f"{platform.machine()}, {cores} cores, {int(mem) // 1024 // 1024} GiB, Python {platform.python_version()}"


def write_doc(sections: list[str]) -> None:
    """Replace the marked section of docs/benchmarks.md with the new tables."""
    body = "\n\n".join([f"Measured on {machine()} with `python -m bench.run`.", *sections])
    block = f"{BEGIN}\n## Loading and judging evidence\n\n{body}\n{END}"
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if BEGIN in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(text)


def main() -> None:
    """Run the benchmark at the asked sizes and write the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[100_000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reportgen-bench-") as tmp:
        write_doc([table(n, bench(n, Path(tmp))) for n in args.records])
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
