"""Hostile waiver files: repeated keys, YAML values that are not JSON, bad bytes, and waivers of unread evidence.

Every refusal is one line naming the file and the line, never an internal error; a waiver accepts
evidence that was not read only when it names that evidence fully (its code and its count).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from evidence import EXAMPLE_STORE, example, write_ndjson

from reportgen.judge.waivers import WaiverError, parse_waivers

CODE = "executive_retry_health_alert_delivery_failed"
FIELDS = (
    ("id", "W-1"),
    ("code", CODE),
    ("justification", "accepted for the drill"),
    ("approved_by", "Release board"),
    ("approved_at", "2025-06-01T00:00:00Z"),
    ("expires_at", "2025-06-30T00:00:00Z"),
)
LATE = "2999-01-01T00:00:00Z"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """`reportgen ARGS` in a fresh process."""
    return subprocess.run([sys.executable, "-m", "reportgen", *args], capture_output=True, text=True, timeout=180)


def refusal(data: bytes | str, name: str = "w.yaml") -> str:
    """The one-line error a waiver file is refused with."""
    with pytest.raises(WaiverError) as caught:
        parse_waivers(data.encode() if isinstance(data, str) else data, name)
    message = str(caught.value)
    assert "\n" not in message
    return message


def yaml_waiver(*extra: str, **values: str) -> str:
    """A YAML waiver file of one waiver (its fields on lines 3 to 8), extra lines appended to the waiver."""
    lines = ["waivers:"] + [f"  {'-' if i == 0 else ' '} {k}: {values.get(k, v)}" for i, (k, v) in enumerate(FIELDS)]
    return "\n".join([*lines[:1], "", *lines[1:], *extra]) + "\n"


def json_waiver(repeat: str, space: str) -> tuple[str, int]:
    """A JSON waiver file, one field per line, `repeat` given again (later) with `space` before its colon."""
    lines = ["{", '  "waivers": [', "    {"]
    lines += [f'      "{k}": "{v}",' for k, v in FIELDS]
    lines += [f'      "{repeat}"{space}: "{LATE if repeat.endswith("_at") else "again"}"', "    }", "  ]", "}"]
    return "\n".join(lines) + "\n", len(FIELDS) + 4 + space.count("\n")


# --- repeated keys --------------------------------------------------------------------------------


@pytest.mark.parametrize("space", ["", " ", "\t", "\n", "\r\n", " \t\n "])
@pytest.mark.parametrize("key", ["expires_at", "id", "code", "approved_at"])
def test_a_key_repeated_in_json_is_refused_at_its_line(key, space):
    text, line = json_waiver(key, space)
    message = refusal(text, "w.json")
    assert message.startswith(f"w.json:{line}: ") and key in message


def test_a_key_repeated_in_another_spelling_is_refused():
    text, line = json_waiver("expires_at", "")
    escaped = text.replace('"expires_at": "2999', '"expires\\u005fat": "2999')
    assert "u005f" in escaped and refusal(escaped, "w.json").startswith(f"w.json:{line}: ")
    assert refusal(yaml_waiver(f'    "expires\\x5fat": {LATE}')).startswith("w.yaml:9: ")


def test_a_key_repeated_at_the_top_of_a_json_file_is_refused():
    body = json.dumps([dict(FIELDS)])
    assert refusal(f'{{"waivers": [],\n"waivers": {body}}}', "w.json").startswith("w.json:2: ")


@pytest.mark.parametrize(
    "text, line",
    [
        (yaml_waiver(f"    expires_at: {LATE}"), 9),
        (yaml_waiver(f'    "expires_at": {LATE}'), 9),
        (yaml_waiver("    id: W-2"), 9),
        (yaml_waiver() + "waivers: []\n", 9),
        ("waivers: [{id: a, code: b, id: c}]\n", 1),
        (yaml_waiver("    extra: {a: 1,", "      a: 2}"), 10),
    ],
    ids=["block", "quoted", "id", "top", "flow", "nested"],
)
def test_a_key_repeated_in_yaml_is_refused_at_its_line(text, line):
    assert refusal(text).startswith(f"w.yaml:{line}: ")


@pytest.mark.parametrize(
    "text, line",
    [
        (yaml_waiver(f"    <<: {{expires_at: {LATE}}}"), 9),
        ("defaults: &d {expires_at: " + LATE + "}\n" + yaml_waiver("    <<: *d"), 1),
        (yaml_waiver("    expires_at: &late " + LATE), 9),
        ("a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b]\n", 1),
    ],
    ids=["merge", "merge-alias", "anchor", "alias-bomb"],
)
def test_yaml_merge_keys_anchors_and_aliases_are_refused_at_their_line(text, line):
    assert refusal(text).startswith(f"w.yaml:{line}: ")


# --- values that are not JSON, and values that fail conversion ------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "2025-02-30",
        "2025-13-01",
        "2025-04-31",
        "2025-06-15T25:00:00Z",
        "2025-06-15T10:61:00Z",
        "2025-06-15 10:00:00 -5",
        "2025-06-15T10:00:00+25:00",
        "2025-06-15t10:00:00.5+24:30",
        '"2025-02-29"',
    ],
)
def test_an_impossible_date_or_offset_is_refused_at_its_line(value):
    message = refusal(yaml_waiver(expires_at=value))
    assert message.startswith("w.yaml:8: ") and "expires_at" in message


@pytest.mark.parametrize(
    "value",
    ["!!binary aGVsbG8=", "!!set {a, b}", "!!omap [{a: 1}]", "!!pairs [{a: 1}]", "!!python/object:os.system {}"]
    + ["!custom x", ".nan", ".inf", "-.inf", "!!float nan", "!!bool maybe", "!!int twelve", "!!float x1"],
)
def test_a_yaml_value_json_cannot_hold_is_refused_at_its_line(value):
    assert refusal(yaml_waiver(justification=value)).startswith("w.yaml:5: ")


def test_json_nan_and_infinity_are_refused():
    assert "NaN" in refusal('{"waivers": NaN}', "w.json")
    assert "Infinity" in refusal('{"waivers": [-Infinity]}', "w.json")


@pytest.mark.parametrize(
    "data, line",
    [
        (yaml_waiver(justification="caf\u00e9").encode("latin-1"), 5),
        (yaml_waiver(approved_by="x\x80y").encode("utf-8").replace(b"x\xc2\x80y", b"x\x80y"), 6),
        (yaml_waiver().encode("utf-8").replace(b"W-1", b"W-\xc0\xaf"), 3),
        (yaml_waiver().encode("utf-16"), 1),
    ],
    ids=["latin-1", "continuation", "overlong", "utf-16"],
)
def test_a_file_that_is_not_utf8_is_refused_at_its_line(data, line):
    message = refusal(data)
    assert message.startswith(f"w.yaml:{line}: ") and "UTF-8" in message


def test_a_well_formed_file_is_still_read_in_yaml_and_json():
    yaml_file = parse_waivers(yaml_waiver().encode(), "w.yaml")
    json_file = parse_waivers(json.dumps({"waivers": [dict(FIELDS)]}).encode(), "w.json")
    assert yaml_file == json_file and yaml_file.waivers[0].expires_at.isoformat() == "2025-06-30T00:00:00+00:00"


@pytest.mark.parametrize(
    "text",
    [
        yaml_waiver(f"    expires_at: {LATE}"),
        yaml_waiver(expires_at="2025-02-30"),
        yaml_waiver(justification="!!binary aGVsbG8="),
        yaml_waiver().replace("    expires_at: 2025-06-30T00:00:00Z", f"    <<: {{expires_at: {LATE}}}"),
    ],
    ids=["repeated", "impossible-date", "binary", "merge"],
)
def test_the_command_line_refuses_a_bad_waiver_file_in_one_line_with_exit_2(tmp_path, text):
    path = tmp_path / "waivers.yaml"
    path.write_text(text)
    result = run("check", str(EXAMPLE_STORE), "--waivers", str(path))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and f"{path}:" in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr


# --- waivers of evidence that was not read --------------------------------------------------------


@pytest.fixture
def unread(tmp_path: Path) -> Path:
    """The example chain with two lines that cannot be read."""
    path = write_ndjson(tmp_path / "evidence.ndjson", example())
    with path.open("a") as out:
        out.write('{"session_id": "cut-short", \n{"also": not json}\n')
    return path


def integrity_waiver(tmp_path: Path, code: str, count: int | None) -> Path:
    """A waiver file accepting an integrity item, with a count or without one."""
    waiver = dict(FIELDS) | {"code": code, "id": "W-UNREAD"} | ({} if count is None else {"count": count})
    path = tmp_path / "unread.json"
    path.write_text(json.dumps({"waivers": [waiver]}, indent=2))
    return path


@pytest.mark.parametrize("code", ["evidence_unreadable", "evidence_missing"])
def test_a_waiver_naming_only_the_code_of_unread_evidence_is_refused(tmp_path, unread, code):
    result = run("check", str(unread), "--waivers", str(integrity_waiver(tmp_path, code, None)))
    assert result.returncode == 2 and "count" in result.stderr and "unread.json:" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def check_json(evidence: Path, waivers: Path) -> dict:
    """`reportgen check --json` with a waiver file."""
    result = run("check", "--json", str(evidence), "--waivers", str(waivers))
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("count", [0, 1, 3])
def test_a_waiver_whose_count_is_not_the_unread_entries_accepts_nothing(tmp_path, unread, count):
    summary = check_json(unread, integrity_waiver(tmp_path, "evidence_unreadable", count))
    assert summary["closure"]["state"] == "open"
    assert [i for i in summary["closure"]["open_items"] if i["code"] == "evidence_unreadable"]
    assert any(w["code"] == "waiver_unmatched" and "count=" in w["detail"] for w in summary["closure"]["warnings"])


def test_a_waiver_naming_the_unread_entries_accepts_them_on_the_record_in_every_output(tmp_path, unread):
    waivers = integrity_waiver(tmp_path, "evidence_unreadable", 2)
    summary = check_json(unread, waivers)
    accepted = [i for i in summary["closure"]["accepted_items"] if i["code"] == "evidence_unreadable"]
    assert accepted and accepted[0]["waiver"]["id"] == "W-UNREAD" and accepted[0]["waiver"]["count"] == 2
    integrity = next(c for c in summary["readiness"]["checks"] if c["id"] == "evidence_integrity")
    assert integrity["status"] == "warning" and "W-UNREAD" in integrity["evidence"]
    out = tmp_path / "pack"
    result = run("build", str(unread), "--out", str(out), "--format", "html,md,json", "--waivers", str(waivers))
    assert result.returncode in (0, 1), result.stderr
    for name in ("closure-dashboard.html", "closure-dashboard.md", "summary.json"):
        text = (out / name).read_text().replace("<wbr>", "")  # break opportunities, not text
        assert "W-UNREAD" in text and ("evidence_unreadable" in text or "evidence\\_unreadable" in text), name
    assert "accepted_by=W-UNREAD" in (out / "operator-runbook.md").read_text()
