"""The benchmark runner's helpers: /proc parsing, process-tree sums, row selection, the table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# bench/ is a folder of the repository, not an installed package; the runner imports no reportgen
# module, so neither does this test.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.generate import PROFILES, write  # noqa: E402
from bench.run import (  # noqa: E402
    BEGIN,
    END,
    PROFILE_WORDS,
    ROWS,
    Row,
    RowSpec,
    SizeResult,
    command,
    descendants,
    evidence_path,
    failure,
    invocation,
    measure,
    parse_args,
    parse_kib,
    parse_ppid,
    preamble,
    refused_option,
    reusable,
    select_rows,
    table,
    tree_pss,
    tree_usage,
    write_doc,
)

STATUS = "Name:\tpython\nVmHWM:\t  {hwm} kB\nVmRSS:\t  {rss} kB\nThreads:\t1\n"
ROLLUP = "55a0-7ffc ---p 00000000 00:00 0  [rollup]\nRss:  {rss} kB\nPss:  {pss} kB\nPss_Anon:  1 kB\n"


def fake_process(proc: Path, pid: int, ppid: int, rss: int | None, pss: int, hwm: int = 0) -> None:
    """One /proc/<pid> folder; rss None makes a zombie (no VmRSS line)."""
    folder = proc / str(pid)
    folder.mkdir()
    (folder / "stat").write_text(f"{pid} (odd ) name) S {ppid} {pid} 0 0\n")
    status = STATUS.format(hwm=hwm, rss=rss) if rss is not None else "Name:\tzombie\nState:\tZ\n"
    (folder / "status").write_text(status)
    (folder / "smaps_rollup").write_text(ROLLUP.format(rss=rss or 0, pss=pss) if rss is not None else "")


def test_parse_ppid_survives_parentheses_and_spaces_in_the_name() -> None:
    assert parse_ppid("4242 (python (worker) 1) S 17 4242 4242 0 -1\n") == 17


def test_parse_kib_reads_one_line_and_misses_absent_keys() -> None:
    text = STATUS.format(hwm=900, rss=512)
    assert parse_kib(text, "VmRSS") == 512
    assert parse_kib(text, "VmHWM") == 900
    assert parse_kib(text, "Pss") is None
    assert parse_kib(ROLLUP.format(rss=10, pss=7), "Pss") == 7


def test_descendants_follow_the_whole_tree_and_nothing_else() -> None:
    parents = {1: 0, 10: 1, 11: 10, 12: 10, 13: 11, 20: 1}
    assert sorted(descendants(10, parents)) == [10, 11, 12, 13]
    assert descendants(99, parents) == [99]


def test_tree_usage_sums_the_tree_and_skips_zombies_and_strangers(tmp_path: Path) -> None:
    fake_process(tmp_path, 10, 1, rss=1000, pss=400, hwm=1200)
    fake_process(tmp_path, 11, 10, rss=800, pss=300, hwm=800)
    fake_process(tmp_path, 12, 11, rss=600, pss=200, hwm=2000)
    fake_process(tmp_path, 13, 10, rss=None, pss=0)  # a zombie child
    fake_process(tmp_path, 20, 1, rss=5000, pss=5000, hwm=5000)  # not ours
    (tmp_path / "meminfo").write_text("MemTotal: 1 kB\n")  # not a process folder
    usage = tree_usage(10, tmp_path)
    assert (sorted(usage.pids), usage.rss_kib, usage.own_peak_kib) == ([10, 11, 12], 2400, 2000)
    assert tree_pss(usage.pids, tmp_path) == (900, False)
    assert tree_pss([10, 4242], tmp_path) == (400, False)  # a process gone meanwhile counts nothing


def test_select_rows_exact_names_win_prefixes_widen_and_references_stay() -> None:
    keys = lambda rows: [r.key for r in rows]  # noqa: E731
    assert keys(select_rows(ROWS, None)) == keys(ROWS)
    assert keys(select_rows(ROWS, ["check-chain"])) == ["floor", "duckdb", "check-chain"]
    assert keys(select_rows(ROWS, ["check-chain-"])) == [
        "floor",
        "duckdb",
        "check-chain-jobs1",
        "check-chain-gzip",
        "check-chain-store",
    ]
    assert keys(select_rows(ROWS, ["reportgen build --format pdf", "jq"])) == ["floor", "jq", "duckdb", "build-pdf"]
    with pytest.raises(ValueError, match="no row matches"):
        select_rows(ROWS, ["nonsense"])


def test_refused_option_reads_both_click_spellings() -> None:
    assert refused_option(2, "Error: No such option: --jobs") == "--jobs"
    assert refused_option(2, "Error: No such option '--jobs'. Did you mean '--json'?") == "--jobs"
    assert refused_option(1, "Error: No such option: --jobs") is None
    assert refused_option(2, "reportgen: internal error") is None


def test_failure_tells_verdicts_from_crashes() -> None:
    assert failure(0, "") is None
    assert failure(1, "some warning\n") is None  # the "open" verdict
    assert (
        failure(1, "Traceback (most recent call last):\n  ...\nNameError: name 'x'\n") == "exit 1: NameError: name 'x'"
    )
    assert failure(2, "reportgen: internal error: boom\n") == "exit 2: reportgen: internal error: boom"
    assert failure(3, "") == "exit 3"
    assert failure(-9, "") == "killed by signal 9"


def test_write_doc_replaces_only_the_marked_section(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Benchmarks\n\n{BEGIN}\nold table\n{END}\n\n## PDF rendering\n\nkept\n")
    write_doc(doc, "Measured here.", ["### 10 records"])
    text = doc.read_text()
    assert "old table" not in text and "Measured here.\n\n### 10 records\n" + END in text
    assert text.startswith("# Benchmarks\n\n" + BEGIN) and text.endswith("## PDF rendering\n\nkept\n")


def test_table_rates_ratios_and_failed_rows() -> None:
    spec = {r.key: r for r in ROWS}
    rows = [
        Row(spec["floor"], 2.0, 15.0, 11.0, finished=True),
        Row(spec["duckdb"], 4.0, 300.0, 290.0, finished=True),
        Row(spec["check-chain-jobs1"], note="not run: this reportgen does not accept `--jobs` yet"),
        Row(spec["check-chain"], 3.0, 500.4, 250.6, "up to 3 processes", finished=True),
        Row(spec["build"], 9.0, 400.0, 390.0, "exit 2: boom", finished=False),
    ]
    text = table(SizeResult(1_000_000, rows, {"ndjson": 2_000_000_000}))
    lines = text.splitlines()
    assert lines[0] == "### 1,000,000 records"
    assert "Files: NDJSON 2,000 MB." in lines
    assert "| orjson parse floor | 2.00 | 15 | 11 | 500,000 | 1.0 |  |  |" in lines
    assert "| reportgen check --rules chain | 3.00 | 500 | 251 | 333,333 | 1.5 | 0.8 | up to 3 processes |" in lines
    assert "| reportgen check --rules chain --jobs 1 | — | — | — | — | — | — | not run:" in text
    # A failed run keeps its wall time and memory, but no rate or ratio.
    assert "| reportgen build --format html,md,json,csv | 9.00 | 400 | 390 | — | — |  | exit 2: boom |" in lines


def test_a_finished_build_is_compared_with_check_and_its_pack_listed() -> None:
    spec = {r.key: r for r in ROWS}
    rows = [
        Row(spec["floor"], 2.0, 15.0, 11.0, finished=True),
        Row(spec["check-chain"], 3.0, 500.0, 250.0, finished=True),
        Row(spec["build"], 5.4, 600.0, 590.0, "up to 2 processes", finished=True),
    ]
    pack = [("`closure-dashboard.html`", "9.43 MB"), ("interactive (the script has taken over)", "1.20 s")]
    lines = table(SizeResult(1_000_000, rows, {"ndjson": 2_000_000_000}, pack)).splitlines()
    assert "| reportgen build --format html,md,json,csv | 5.40 | 600 | 590 | 185,185 | 2.7 |  | 1.8× `check --rules chain`; up to 2 processes |" in lines
    assert "| `closure-dashboard.html` | 9.43 MB |" in lines
    assert "| interactive (the script has taken over) | 1.20 s |" in lines


def test_reusable_needs_matching_sidecar_size_seed_profile_and_generator(tmp_path: Path) -> None:
    path = tmp_path / "evidence-10-seed1.ndjson"
    path.write_bytes(b"x" * 100)
    sidecar = tmp_path / "evidence-10-seed1.ndjson.stats"
    assert not reusable(path, 10, 1, "ndjson", "abc")
    words = "records=10 lines=10 bytes=100 profile=reference format=ndjson seed=1 out=whatever generator=abc"
    sidecar.write_text(words + "\n")
    assert reusable(path, 10, 1, "ndjson", "abc")
    assert reusable(path, 10, 1, "ndjson", "abc", "reference")
    assert not reusable(path, 10, 1, "ndjson", "abc", "compact")
    assert not reusable(path, 10, 2, "ndjson", "abc")
    assert not reusable(path, 10, 1, "ndjson", "changed")
    path.write_bytes(b"x" * 99)  # cut short
    assert not reusable(path, 10, 1, "ndjson", "abc")


def test_the_profile_names_the_files_the_command_and_the_doc() -> None:
    assert set(PROFILE_WORDS) == set(PROFILES)  # the runner's words cover exactly the generator's profiles
    assert parse_args([]).profile == "reference" and parse_args(["--profile", "compact"]).profile == "compact"
    folder = Path("/tmp/x")
    assert evidence_path(folder, 10, 1, "store", "compact") != evidence_path(folder, 10, 1, "store", "reference")
    assert invocation([100000], 1, None) == "python -m bench.run --records 100000"
    assert invocation([100000], 1, None, "compact") == "python -m bench.run --records 100000 --profile compact"
    assert "`bench.generate`'s `compact` profile (" in preamble("python -m bench.run", "compact")
    assert "`bench.generate`'s `reference` profile (" in preamble("python -m bench.run")


def test_the_store_load_row_reads_the_whole_store_and_counts_each_item_kind(tmp_path: Path) -> None:
    spec = next(r for r in ROWS if r.key == "store-load")
    assert spec.form == "store" and spec.name == "json.load of the store file plus one pass over its items"
    store = write(str(tmp_path / "store.json"), "store", 40, 1, 1, profile="compact")
    argv = command(spec, Path(store.path), tmp_path, duckdb=False)
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "40"  # one kind per record; the broken line (cut-off text) is a string item
    assert select_rows(ROWS, ["store-load"]) == [r for r in ROWS if r.key in ("floor", "duckdb", "store-load")]


FORKS = """
import os, time
held = bytearray(64 << 20)
for i in range(0, len(held), 4096):
    held[i] = 1
if os.fork() == 0:
    time.sleep(0.4)
    os._exit(0)
os.wait()
"""


@pytest.mark.skipif(not Path("/proc/self/smaps_rollup").exists(), reason="needs Linux /proc with smaps_rollup")
def test_measure_sums_rss_over_forked_children_and_pss_does_not_double_count(tmp_path: Path) -> None:
    row = measure(RowSpec("forks", "forks"), [sys.executable, "-c", FORKS], tmp_path / "stderr")
    assert row.finished and row.rss_mib is not None and row.pss_mib is not None
    assert row.rss_mib > 2 * 60  # parent and child both map the 64 MiB
    assert row.pss_mib < row.rss_mib - 50  # but share it
    assert "up to 2 processes" in row.note
