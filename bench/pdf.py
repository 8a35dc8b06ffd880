"""PDF rendering benchmark: render time, page count and peak memory of the pack's PDFs.

Generates evidence with `bench.generate` at each size, judges it, renders every file of the pack
in memory (the PDFs in their worker processes, as `reportgen build` does), and reports per PDF the
worker's wall time and peak resident memory, and the build's total time. Not a test: run it by
hand and copy the table into docs/benchmarks.md.

    python -m bench.pdf                       # 2 000 and 20 000 records, the default 200 rows per table
    python -m bench.pdf --records 2000 --max-rows 50 --attach-evidence
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pypdf

from reportgen.evidence.load import load
from reportgen.judge.summary import summarise
from reportgen.output.pack import PackOptions, pack_renderers, render_pack
from reportgen.output.pdf import DEFAULT_MAX_ROWS, PdfOptions, PdfRenderer
from reportgen.output.pdfworker import PdfResult

FORMATS = ("html", "md", "pdf", "json")


@dataclass(frozen=True)
class Row:
    """One PDF of one run."""

    records: int
    document: str
    pages: int
    size: int
    seconds: float
    peak_mib: float
    build_seconds: float


def generate(records: int, seed: int, folder: Path, profile: str = "reference") -> Path:
    """Evidence from the generator, as NDJSON."""
    out = folder / f"evidence-{records}-{profile}.ndjson"
    command = [sys.executable, "-m", "bench.generate", "--records", str(records), "--seed", str(seed)]
    command += ["--profile", profile]
    subprocess.run([*command, "--format", "ndjson", "--out", str(out)], check=True, capture_output=True)
    return out


def run(records: int, seed: int, options: PdfOptions, folder: Path, profile: str = "reference") -> list[Row]:
    """Build one pack in memory and measure its PDFs."""
    loaded = load([str(generate(records, seed, folder, profile))])
    summary = summarise(loaded)
    pack = PackOptions(formats=FORMATS, pdf=options)
    by_format = pack_renderers(summary, pack, loaded.records)
    started = time.perf_counter()
    files = {f.name: f.data for f in render_pack(summary, pack, by_format=by_format, records=loaded.records)}
    build = time.perf_counter() - started
    pdf = by_format["pdf"]
    assert isinstance(pdf, PdfRenderer)
    return [row(records, document, files[f"{document}.pdf"], result, build) for document, result in pdf.results]


def row(records: int, document: str, data: bytes, result: PdfResult, build: float) -> Row:
    """One table row from a worker's result."""
    pages = len(pypdf.PdfReader(io.BytesIO(data)).pages)
    return Row(records, document, pages, len(data), result.seconds, result.peak_rss / 2**20, build)


def machine() -> str:
    """The machine the numbers were measured on."""
    import weasyprint

    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {memory:.1f} GiB memory, "
        f"Python {platform.python_version()}, WeasyPrint {weasyprint.__version__}, {platform.platform()}"
    )


def table(rows: list[Row]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| records | document | pages | PDF size | render time | worker peak memory | pack build time |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.records:,} | {r.document}.pdf | {r.pages} | {r.size / 2**10:,.0f} KiB | {r.seconds:.1f} s "
            f"| {r.peak_mib:,.0f} MiB | {r.build_seconds:.1f} s |"
        )
    return "\n".join(lines)


def main() -> None:
    """Run the benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, action="append", help="records to generate (repeatable)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", choices=("reference", "compact"), default="reference", help="bench.generate's")
    parser.add_argument("--max-rows", type=int, default=DEFAULT_MAX_ROWS)
    parser.add_argument("--attach-evidence", action="store_true")
    parser.add_argument("--variant", default="pdf", choices=["pdf", "pdf/a-3b", "pdf/ua-1"])
    args = parser.parse_args()
    options = PdfOptions(variant=args.variant, max_rows=args.max_rows, attach_evidence=args.attach_evidence)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as folder:
        for records in args.records or [2000, 20000]:
            rows += run(records, args.seed, options, Path(folder), args.profile)
    print(f"Machine: {machine()}")
    print(f"Options: max rows {options.max_rows}, variant {options.variant}, attach evidence {options.attach_evidence}")
    print(f"Evidence: bench.generate's {args.profile} profile, seed {args.seed}")
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
