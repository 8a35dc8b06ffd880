"""Every output reportgen makes, written to one folder, so two versions can be compared byte for byte.

    python -m bench.snapshot --out /tmp/snap-before        # on the commit before a change
    python -m bench.snapshot --out /tmp/snap-after         # on the change
    diff -r /tmp/snap-before /tmp/snap-after               # nothing: the change kept every byte

The cases: every fixture set in both rules modes (the whole pack, all formats), the example with
waivers, attached evidence, an archival PDF, history and the CI outputs, and generated evidence
(`bench.generate`, both profiles where there are several) in both modes. Each case also keeps the
terminal output of `check` and `check --json`. The evidence is copied to one fixed folder first,
because the pack names its inputs by path: both runs must read them from the same place.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INPUTS = Path("/tmp/reportgen-snapshot-inputs")
WORK = Path("/tmp/reportgen-snapshot-work")  # outputs name their folder: both runs write here first
FIXTURES = ("archive", "archive-open", "archive-superseded", "broken", "clean", "empty", "example",
            "exhausted", "formats", "redelivered", "retry-states")
MODES = ("chain", "cavra")


def _run(args: Sequence[str], out: Path | None = None) -> int:
    """Run reportgen with ARGS from the inputs folder; keep stdout and stderr beside OUT."""
    proc = subprocess.run([sys.executable, "-m", "reportgen", *args], cwd=INPUTS, capture_output=True)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(proc.stdout + b"\n--- stderr ---\n" + proc.stderr + f"\n--- exit {proc.returncode}\n".encode())
    return proc.returncode


def _inputs(records: int, profiles: Sequence[str]) -> list[tuple[str, list[str]]]:
    """Copy the fixtures and generate evidence into the fixed inputs folder; the cases' evidence."""
    shutil.rmtree(INPUTS, ignore_errors=True)
    shutil.copytree(ROOT / "fixtures", INPUTS / "fixtures")
    cases = [(name, [f"fixtures/{name}"]) for name in FIXTURES]
    for profile in profiles:
        name = f"generated-{profile}-{records}"
        args = ["--records", str(records), "--seed", "7", "--out", str(INPUTS / f"{name}.ndjson")]
        if profile != "default":
            args += ["--profile", profile]
        subprocess.run([sys.executable, "-m", "bench.generate", *args], cwd=ROOT, check=True)
        cases.append((name, [f"{name}.ndjson"]))
    return cases


def _case(out: Path, name: str, evidence: list[str], mode: str, extra: Sequence[str] = ()) -> None:
    """Check and build one case into OUT/NAME-MODE."""
    folder = out / f"{name}-{mode}"
    _run(["check", *evidence, "--rules", mode], folder / "check.txt")
    _run(["check", *evidence, "--rules", mode, "--json"], folder / "check.json.txt")
    build = ["build", *evidence, "--rules", mode, "--out", str(folder / "pack"), "-q", *extra]
    _run(build, folder / "build.txt")


def _options(out: Path) -> None:
    """The example with every option that changes the pack."""
    example = ["fixtures/example"]
    _case(out, "example-waivers", example, "chain", ["--waivers", "fixtures/waivers/example.yaml"])
    _case(out, "example-attached", example, "chain", ["--attach-evidence", "--pdf-variant", "pdf/a-3b"])
    _case(out, "example-ua", example, "cavra", ["--pdf-variant", "pdf/ua-1", "--title", "Release <1.2>"])
    history = ["--history", str(out)]
    ci = ["--junit-xml", str(out / "ci" / "junit.xml"), "--summary-md", str(out / "ci" / "summary.md")]
    _case(out, "zz-example-history", example, "chain", [*history, *ci, "--annotations", "github"])
    _run(["diff", str(out / "clean-chain" / "pack"), str(out / "example-chain" / "pack")], out / "diff.txt")


def main(argv: Sequence[str] | None = None) -> int:
    """Write every case into --out."""
    parser = argparse.ArgumentParser(prog="python -m bench.snapshot", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--profiles", nargs="*", default=["default"])
    args = parser.parse_args(argv)
    shutil.rmtree(WORK, ignore_errors=True)
    for name, evidence in _inputs(args.records, args.profiles):
        for mode in MODES:
            _case(WORK, name, evidence, mode)
    _options(WORK)
    shutil.rmtree(args.out, ignore_errors=True)
    shutil.move(WORK, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
