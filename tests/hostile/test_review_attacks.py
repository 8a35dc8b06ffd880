"""Members of issue 13's classes found by a second, adversarial read after the first round of fixes.

Each generates its inputs; each broke a promise of SECURITY.md before its fix.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from evidence import FIXTURES, example

from reportgen.evidence.load import load
from reportgen.evidence.masking import mask_string
from reportgen.judge.summary import summarise
from reportgen.judge.waivers import WaiverError, parse_waivers

CLEAN = json.loads((FIXTURES / "clean" / "store.json").read_text())["items"]


def reportgen(*args: str, cwd: Path | None = None, stdin: int | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "reportgen", *args], capture_output=True, text=True, cwd=cwd, stdin=stdin, timeout=300
    )


def items_text(items: list[dict]) -> str:
    """A JSON array of records, as text."""
    return json.dumps(items)


@pytest.mark.parametrize(
    "document",
    [
        '{"items": %(open)s, "items": %(clean)s}',
        '{"items": %(clean)s, "total": 500, "total": 13}',
        '{"product": "CAVRA", "items": %(open)s, "product": "x", "items": %(clean)s}',
    ],
)
def test_a_store_whose_own_key_repeats_is_not_read_and_keeps_the_closure_open(tmp_path, document):
    path = tmp_path / "store.json"
    path.write_text(document % {"open": items_text(example()), "clean": items_text(CLEAN)})
    summary = summarise(load([str(path)]))
    assert summary.closure.state == "open" and any("given twice" in r.reason for r in summary.inputs.rejected)


@pytest.mark.parametrize("key", ["next", "more_items", "page2"])
def test_a_store_key_holding_more_records_is_named_as_not_read(tmp_path, key):
    path = tmp_path / "store.json"
    path.write_text(json.dumps({"items": CLEAN, key: {"items": example()}}))
    summary = summarise(load([str(path)]))
    assert summary.closure.state == "open" and any(key in r.reason for r in summary.inputs.rejected)


def test_a_record_that_also_holds_an_items_list_is_never_taken_for_a_closed_store(tmp_path):
    path = tmp_path / "store.json"
    path.write_text(
        json.dumps({"session_id": "s", "metadata_kind": "x", "created_at": "2025-06-02T00:00:00Z", "items": example()})
    )
    assert summarise(load([str(path)])).closure.state == "open"


@pytest.mark.parametrize(
    ("name", "mark"),
    [
        ("summary.json", {"schema_version": "reportgen.summary.v1"}),
        ("manifest.json", {"predicateType": "https://reportgen.dev/readiness-pack/v1"}),
        ("manifest.intoto.jsonl", {"payloadType": "application/vnd.in-toto+json"}),
    ],
)
def test_a_file_with_records_is_read_whatever_pack_mark_it_carries(tmp_path, name, mark):
    (tmp_path / name).write_text(json.dumps({**mark, "items": example()}))
    summary = summarise(load([str(tmp_path)]))
    assert summary.inputs.records == len(example()) and summary.closure.state == "open"


def test_evidence_a_user_put_inside_the_pack_folder_is_read_by_build_as_by_check(tmp_path):
    (tmp_path / "clean.json").write_text(json.dumps({"items": CLEAN}))
    assert reportgen("build", ".", "--format", "json", cwd=tmp_path).returncode == 0
    late = tmp_path / "out" / "readiness-pack" / "late-export.json"
    late.write_text(json.dumps({"items": example()}))
    check = reportgen("check", ".", cwd=tmp_path)
    build = reportgen("build", ".", "--format", "json", cwd=tmp_path)
    assert check.returncode == build.returncode == 1, build.stderr


@pytest.mark.parametrize("name", [b"Pr\xfcfbericht.pdf", b"a\xff.ndjson", b"\xc3(.json"])
def test_a_file_name_that_is_not_utf8_is_shown_never_an_internal_error(tmp_path, name):
    folder = tmp_path / "evidence"
    folder.mkdir()
    (folder / "clean.json").write_text(json.dumps({"items": CLEAN}))
    with open(bytes(folder) + b"/" + name, "wb") as handle:
        handle.write(b"{}\n")
    for command in ("check", "validate"):
        result = reportgen(command, str(folder))
        assert "internal error" not in result.stderr and "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize("option", ["--title", "--author", "--name"])
def test_an_option_text_that_is_not_utf8_is_a_one_line_usage_error(tmp_path, option):
    value = b"T\xff".decode("utf-8", "surrogateescape")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "reportgen",
            "build",
            str(FIXTURES / "clean"),
            "--out",
            str(tmp_path / "o"),
            option,
            value,
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "not UTF-8" in result.stderr and "internal error" not in result.stderr


def test_a_damaged_sqlite_store_is_one_line_never_an_internal_error(tmp_path):
    db = tmp_path / "store.db"
    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE TABLE evidence_metadata (session_id TEXT PRIMARY KEY, created_at TEXT, signer TEXT, "
        "decision_count INTEGER, blocked_count INTEGER, approval_required_count INTEGER, payload TEXT)"
    )
    for n in range(3000):
        record = {**example()[0], "session_id": f"s-{n:05d}"}
        row = (record["session_id"], record["created_at"], record.get("signer"), 0, 0, 0, json.dumps(record))
        conn.execute("INSERT INTO evidence_metadata VALUES (?,?,?,?,?,?,?)", row)
    conn.commit()
    conn.close()
    data = bytearray(db.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    middle = len(data) // page // 2
    for number in range(middle, middle + 3):
        data[number * page : number * page + 8] = b"\xff" * 8
    db.write_bytes(bytes(data))
    result = reportgen("check", str(db))
    assert result.returncode in (1, 2) and "internal error" not in result.stderr
    assert "damaged SQLite database" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"waivers": [{"id": "a", "code": "x", "count": 1%s}]}' % ("0" * 5000), "digits"),
        (
            (
                "waivers:\n- {id: a, code: x, justification: j, approved_by: m, "
                "approved_at: 2025-01-01, expires_at: '9999-12-31T23:59:59-23:59'}\n"
            ),
            "out of range",
        ),
    ],
)
def test_a_waiver_file_with_numbers_or_times_out_of_range_is_one_line(text, reason):
    with pytest.raises(WaiverError, match=reason):
        parse_waivers(text.encode(), "w.yaml")


@pytest.mark.parametrize("count", ["true", '"1"', "1.0"])
def test_a_waiver_count_must_be_a_whole_number_not_something_read_as_one(count):
    waiver = (
        '{"id": "a", "code": "evidence_unreadable", "count": COUNT, "justification": "j", '
        '"approved_by": "m", "approved_at": "2025-01-01T00:00:00Z", "expires_at": "2026-01-01T00:00:00Z"}'
    )
    text = '{"waivers": [' + waiver.replace("COUNT", count) + "]}"
    with pytest.raises(WaiverError, match="count"):
        parse_waivers(text.encode(), "w.json")


@pytest.mark.parametrize("target", ["fifo", "link", "folder"])
def test_a_ci_output_path_that_is_not_a_regular_file_is_never_replaced(tmp_path, target):
    path = tmp_path / "out.xml"
    if target == "fifo":
        os.mkfifo(path)
    elif target == "folder":
        path.mkdir()
    else:
        (tmp_path / "elsewhere.xml").write_text("keep")
        path.symlink_to(tmp_path / "elsewhere.xml")
    result = reportgen("check", str(FIXTURES / "clean"), "--junit-xml", str(path))
    assert result.returncode == 2 and ("not a regular file" in result.stderr or "is a directory" in result.stderr)
    assert path.is_fifo() or path.is_dir() or (path.is_symlink() and path.read_text() == "keep")


def test_a_closed_stdin_is_a_one_line_error():
    result = subprocess.run(
        [sys.executable, "-m", "reportgen", "check", "-"], capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    assert "internal error" not in result.stderr
    closed = subprocess.run(f"{sys.executable} -m reportgen check - <&-", shell=True, capture_output=True, text=True)
    assert closed.returncode == 2 and "standard input is closed" in closed.stderr


@pytest.mark.parametrize(
    "secret",
    [
        "postgres://admin:s3cr/etPassw0rd@db.internal/app",
        "mongodb+srv://svc:Ab+cD/ef12GH==@cluster0.example.net",
        'Password="my s3cret pass phrase"',
        "password: 'hunter2 is my pass'",
    ],
)
def test_credentials_with_slashes_or_spaces_are_masked_whole(secret):
    masked, kinds = mask_string(f"connect with {secret} now")
    assert kinds and "s3cr" not in masked and "hunter2" not in masked and "Ab+cD" not in masked
    assert "my pass" not in masked.replace("my s3cret", "")


def test_a_port_and_path_before_an_at_sign_is_no_credential():
    text = "see https://api.example.com:443/users/alice@example.com"
    assert mask_string(text) == (text, [])


@pytest.mark.parametrize(
    "kind", ["RELEASE-CONNECTOR-DELIVERY", " release-connector-delivery", "GO-BACKEND-ROLLBACK-DRILL-NOTIFICATION-ACK"]
)
def test_an_upstream_kind_in_another_spelling_is_not_judged_and_keeps_the_closure_open(tmp_path, kind):
    records = [*CLEAN, {**example()[0], "metadata_kind": kind}]
    path = tmp_path / "store.json"
    path.write_text(json.dumps({"items": records}))
    summary = summarise(load([str(path)]))
    assert "evidence_kind_unjudged" in [i.code for i in summary.closure.open_items]


def test_confluence_pages_show_xml_illegal_noncharacters_as_marks(tmp_path):
    records = json.loads((FIXTURES / "archive-open" / "store.json").read_text())["items"]
    for record in records:
        if record.get("provider") == "slack":
            record["provider"] = "sl\uffffa\ufffeck"
    (tmp_path / "store.json").write_text(json.dumps({"items": records}))
    assert (
        reportgen(
            "build", str(tmp_path / "store.json"), "--out", str(tmp_path / "pack"), "--format", "md,json"
        ).returncode
        == 1
    )
    wiki = tmp_path / "wiki"
    wiki.mkdir()
    result = reportgen("publish", str(tmp_path / "pack"), "--to", str(wiki), "--format", "confluence")
    assert result.returncode == 0, result.stderr
    pages = "".join(p.read_text() for p in wiki.rglob("*.xhtml"))
    assert "\uffff" not in pages and "\ufffe" not in pages


SECRET = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


def test_a_secret_in_a_waiver_file_reaches_no_output(tmp_path):
    waiver = {
        "id": "W-1",
        "code": "executive_retry_health_alert_delivery_failed",
        "justification": f"Accepted; the connector token was {SECRET}",
        "approved_by": "mchen",
        "approved_at": "2025-06-01T00:00:00Z",
        "expires_at": "2025-07-01T00:00:00Z",
    }
    (tmp_path / "w.json").write_text(json.dumps({"waivers": [waiver]}))
    result = reportgen("check", "--json", "--waivers", str(tmp_path / "w.json"), str(FIXTURES / "example"))
    assert "W-1" in result.stdout and SECRET not in result.stdout + result.stderr


def test_a_secret_in_a_summary_read_back_by_diff_or_history_reaches_no_output(tmp_path):
    first = reportgen("build", str(FIXTURES / "example"), "--out", str(tmp_path / "w1"), "--format", "json")
    assert first.returncode == 1, first.stderr
    summary = json.loads((tmp_path / "w1" / "summary.json").read_text())
    summary["closure"]["open_items"][0].update(id="it-forged", title=f"forged {SECRET}")
    (tmp_path / "w1" / "summary.json").write_text(json.dumps(summary))
    args = ("--as-of", "2025-06-20T00:00:00Z", "--history", str(tmp_path), "--format", "html,md,json")
    second = reportgen("build", str(FIXTURES / "example"), "--out", str(tmp_path / "w2"), *args)
    assert second.returncode == 1, second.stderr
    written = "".join(p.read_text() for p in (tmp_path / "w2").iterdir() if p.is_file())
    changes = reportgen("diff", "--json", str(tmp_path / "w1"), str(tmp_path / "w2"))
    assert "forged" in changes.stdout and SECRET not in changes.stdout + written
