"""Gold files: the expected HTML, Markdown and open-items CSV of the pack for named fixture sets.

Each case renders a pack (HTML, Markdown and CSV, and JSON so the runbook lists its digest) in memory
from fixture evidence read by relative path from the repository root, with the generator version
pinned, so a release does not change the gold files. A mismatch writes the actual file to
`tests/actual/<case>/` and fails with a diff.

After a deliberate change to the templates or the view, refresh every gold file with:

    python -m tests.goldtest

then review `git diff tests/gold` before committing.
"""

from __future__ import annotations

import difflib
import os
import sys
from contextlib import contextmanager
from pathlib import Path

from reportgen.evidence.load import load
from reportgen.judge.summary import Summary, summarise
from reportgen.output.pack import PackOptions, render_pack

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "tests" / "gold"
ACTUAL = ROOT / "tests" / "actual"
# case name -> evidence paths, relative to the repository root (they are printed in the pack).
CASES = {
    "example": ["fixtures/example"],  # open: exhausted and unacknowledged slack chain, resolved chains, warnings
    "clean": ["fixtures/clean"],  # closed and ready
    "broken": ["fixtures/broken"],  # rejected, unjudged, duplicate and conflicting entries
    "archive": ["fixtures/archive"],  # the archive loop open beside the executive one; resolved archive chain
    "archive-superseded": ["fixtures/archive-superseded"],  # closed: an older archive plan superseded
}
GOLD_FILES = (
    "closure-dashboard.html",
    "closure-dashboard.md",
    "operator-runbook.html",
    "operator-runbook.md",
    "index.html",
    "open-items.csv",
)
OPTIONS = PackOptions(name="gold", title="Gold pack", formats=("html", "md", "json", "csv"))


@contextmanager
def in_root():
    """Run with the repository root as the working folder and no SOURCE_DATE_EPOCH."""
    cwd, epoch = os.getcwd(), os.environ.pop("SOURCE_DATE_EPOCH", None)
    os.chdir(ROOT)
    try:
        yield
    finally:
        os.chdir(cwd)
        if epoch is not None:
            os.environ["SOURCE_DATE_EPOCH"] = epoch


def pinned(summary: Summary) -> Summary:
    """The summary with its generator version pinned, so gold files survive a release."""
    generator = summary.generator.model_copy(update={"version": "VERSION"})
    return summary.model_copy(update={"generator": generator})


def render_case(case: str) -> dict[str, bytes]:
    """The gold-checked files of one case, rendered in memory."""
    with in_root():
        loaded = load(CASES[case])
        summary = pinned(summarise(loaded))
        files = render_pack(summary, OPTIONS, records=loaded.records)
    return {f.name: f.data for f in files if f.name in GOLD_FILES}


def compare(case: str, name: str, actual: bytes) -> None:
    """Fail with a diff when a rendered file differs from its gold file; keep the actual file."""
    gold = GOLD / case / name
    expected = gold.read_bytes() if gold.exists() else b""
    if actual == expected:
        return
    out = ACTUAL / case / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(actual)
    diff = difflib.unified_diff(
        expected.decode().splitlines(), actual.decode().splitlines(), str(gold), str(out), lineterm="", n=2
    )
    shown = "\n".join(list(diff)[:80])
    raise AssertionError(f"{gold} differs (refresh with: python -m tests.goldtest)\n{shown}")


def refresh() -> None:
    """Rewrite every gold file from the current code."""
    for case in CASES:
        if not all((ROOT / p).exists() for p in CASES[case]):
            print(f"skipped {case}: {CASES[case]} not found", file=sys.stderr)
            continue
        for name, data in render_case(case).items():
            path = GOLD / case / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            print(path.relative_to(ROOT))


if __name__ == "__main__":
    refresh()
