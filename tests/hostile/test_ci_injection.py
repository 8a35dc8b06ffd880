"""Evidence text cannot steer a CI system: no workflow command, XML node or Markdown structure made from it,
and a secret masked in the pack is masked in the CI outputs too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from evidence import A1, EXEC_ACK, EXEC_PLAN, EXEC_RETRY_PLAN, RETRY_PLAN_KEY, ROOT, example, record, write_ndjson
from lxml import etree
from markdown_it import MarkdownIt

from reportgen.output.ci import escape_data, escape_property

PAYLOAD = (
    "evil\n::error title=pwned::injected\r\n::add-mask::hunter2 %0A%25 a,b:c ::stop-commands::tok "
    "\x1b[31mred\x1b[0m ::warning file=x.py,line=1::y <tag>&amp; | `x` [l](javascript:alert(1)) \u202egnp.exe"
)
# The runner's names for the commands it obeys (ActionCommandManager); a line that parses as any other is inert.
KNOWN = {"error", "warning", "notice", "debug", "group", "endgroup", "add-mask", "stop-commands", "echo", "add-matcher"}
SECRET = "s3cr3tCiBearerValue42"
XSD = Path(__file__).parents[1] / "data" / "junit-10.xsd"


def retry_decision(records: list[dict]) -> dict:
    """The executive retry plan's decision for the exhausted slack chain."""
    plan = record(records, EXEC_RETRY_PLAN)[RETRY_PLAN_KEY]
    return plan["retry_decisions"][0]


def hostile(text: str) -> list[dict]:
    """The example chain with text as a provider name, a retry reason and a record kind."""
    records = example()
    failed = record(records, A1)
    failed["providers"] = failed["failed_providers"] = ["slack", text]
    record(records, EXEC_PLAN)["acknowledgement_required_providers"].append(text)
    record(records, EXEC_ACK)["provider"] = text
    retry_decision(records)["reason"] = text
    records.append({"session_id": f"x-{text}", "metadata_kind": f"kind-{text}", "created_at": "2025-06-02T10:00:00Z"})
    return records


def outputs(folder: Path, records: list[dict]) -> dict[str, str]:
    """Run check with every CI output on the records: the JUnit XML, the summary and the annotations."""
    evidence = write_ndjson(folder / "evidence.ndjson", records)
    junit, md = folder / "junit.xml", folder / "summary.md"
    env = {**os.environ, "GITHUB_ACTIONS": "true"}
    result = subprocess.run(
        [sys.executable, "-m", "reportgen", "check", str(evidence), "--junit-xml", str(junit), "--summary-md", str(md)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 1, result.stderr
    return {"junit": junit.read_text(), "summary": md.read_text(), "annotations": result.stderr}


@pytest.fixture(scope="module")
def evil(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The CI outputs of the hostile evidence."""
    return outputs(tmp_path_factory.mktemp("evil"), hostile(PAYLOAD))


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The CI outputs of the same evidence with plain text instead."""
    return outputs(tmp_path_factory.mktemp("plain"), hostile("plaintext"))


def unescape(text: str, property_value: bool) -> str:
    """Undo the escapes in the order the Actions runner does (ActionCommand.UnescapeData/UnescapeProperty)."""
    pairs = [("%0D", "\r"), ("%0A", "\n")] + ([("%3A", ":"), ("%2C", ",")] if property_value else []) + [("%25", "%")]
    for escaped, char in pairs:
        text = text.replace(escaped, char)
    return text


def parse(line: str) -> tuple[str, dict[str, str], str] | None:
    """A line as the runner reads it (ActionCommand.TryParseV2): command, properties, data; None if no command."""
    message = line.lstrip()
    end = message.find("::", 2)
    if not message.startswith("::") or end < 0:
        return None
    info = message[2:end]
    name, _, rest = info.partition(" ")
    properties = {}
    for pair in filter(None, rest.strip().split(",")):
        key, sep, value = pair.partition("=")
        if sep and key and value:
            properties[key] = unescape(value, property_value=True)
    return name, properties, unescape(message[end + 2 :], property_value=False)


def test_escape_functions_round_trip_through_the_runners_unescaping():
    assert unescape(escape_data(PAYLOAD), False) == PAYLOAD
    assert unescape(escape_property(PAYLOAD), True) == PAYLOAD
    assert not any(c in escape_property(PAYLOAD) for c in ":,\r\n")


def test_every_annotation_line_is_one_command_the_payload_cannot_split_or_extend(evil, plain):
    lines = evil["annotations"].splitlines()
    assert len(lines) == len(plain["annotations"].splitlines())
    parsed = [parse(line) for line in lines]
    assert all(p is not None and p[0] in ("error", "warning", "notice") for p in parsed), lines
    assert all(set(p[1]) == {"title"} for p in parsed)
    assert not [line for line in lines if line.lstrip().startswith(("::add-mask", "::stop-commands", "::debug"))]


def test_annotations_show_the_payload_as_visible_text(evil):
    data = "\n".join(p[2] + p[1]["title"] for p in map(parse, evil["annotations"].splitlines()) if p)
    assert "evil\\u000a::error title=pwned::injected\\u000d\\u000a" in data
    assert "%0A%25 a,b:c" in data and "\\u001b[31mred" in data
    assert not any(c in data for c in "\x1b\u202e")


def test_junit_is_well_formed_valid_and_carries_the_payload_as_text(evil, plain):
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    evil_root, plain_root = (etree.fromstring(o["junit"].encode()) for o in (evil, plain))
    assert schema.validate(evil_root), schema.error_log
    count = "count(//testcase|//failure|//skipped|//system-out|//property)"
    assert evil_root.xpath(count) == plain_root.xpath(count)
    assert not evil_root.xpath("//tag") and "\x1b" not in evil["junit"]
    names = evil_root.xpath("//testcase/@name")
    assert any("provider=evil\\u000a::error title=pwned" in name for name in names)
    assert any("maximum" not in text and "evil\\u000a" in text for text in evil_root.xpath("//failure/text()"))


def markdown_tokens(text: str) -> list:
    """Every token of the summary as GitHub-flavoured Markdown, inline children included."""
    tokens = []
    for token in MarkdownIt("commonmark").enable("table").parse(text):
        tokens += [token, *(token.children or [])]
    return tokens


def test_summary_markdown_makes_no_structure_from_the_payload(evil, plain):
    bad, good = markdown_tokens(evil["summary"]), markdown_tokens(plain["summary"])
    for kind in ("heading_open", "table_open", "tr_open", "td_open", "link_open", "html_inline", "html_block", "image"):
        assert sum(t.type == kind for t in bad) == sum(t.type == kind for t in good), kind
    code = [t.content for t in bad if t.type == "code_inline"]
    assert code == [t.content for t in good if t.type == "code_inline"]
    assert "evil\\\\u000a::error" in evil["summary"] and "\x1b" not in evil["summary"]


def planted() -> list[dict]:
    """The example chain with a bearer token in a delivery's Authorization header and in a retry reason."""
    records = example()
    delivery = record(records, A1)["delivery"]["deliveries"][0]
    delivery["request"]["headers"]["Authorization"] = f"Bearer {SECRET}"
    retry_decision(records)["reason"] = f"upstream answered 401 to Authorization: Bearer {SECRET}"
    return records


def test_a_secret_masked_in_the_pack_is_in_no_ci_output(tmp_path):
    found = outputs(tmp_path, planted())
    for name, text in found.items():
        assert SECRET not in text, name
        assert "evidence_secret_exposed" in text, name


def test_raw_payload_in_every_field_a_ci_output_quotes_stays_inert():
    from datetime import UTC, datetime

    from reportgen.judge.summary import summarise_paths
    from reportgen.judge.verdict import OpenItem
    from reportgen.output.ci import annotations, junit_xml, summary_markdown

    fields = dict(code=PAYLOAD, loop=PAYLOAD, provider=PAYLOAD, title=PAYLOAD, detail=PAYLOAD, operator_action=PAYLOAD)
    items = [OpenItem(id="it-1", severity="critical", opened_at=datetime(2025, 6, 2, tzinfo=UTC), **fields)]
    summary = summarise_paths([str(Path(__file__).parents[2] / "fixtures" / "example")], jobs=1)[1]
    summary = summary.model_copy(update={"closure": summary.closure.model_copy(update={"open_items": items})})
    lines = annotations(summary)
    assert all(
        parse(line) and parse(line)[0] in ("error", "warning") and set(parse(line)[1]) == {"title"} for line in lines
    )
    assert sum("evil\\u000a::error" in parse(line)[1]["title"] for line in lines) == 1
    root = etree.fromstring(junit_xml(summary))
    assert etree.XMLSchema(etree.parse(str(XSD))).validate(root)
    assert "\x1b" not in etree.tostring(root, encoding="unicode")
    tokens = markdown_tokens(summary_markdown(summary))
    assert not [t for t in tokens if t.type in ("link_open", "html_inline", "html_block", "image")]
    assert sorted(cells_per_row(tokens)) == [4, 4, 4, 4, 8]  # four check rows and the one group's row


def cells_per_row(tokens: list) -> list[int]:
    """How many data cells each body row of the Markdown tables has."""
    counts: list[int] = []
    for token in tokens:
        if token.type == "tr_open":
            counts.append(0)
        elif token.type == "td_open":
            counts[-1] += 1
    return [count for count in counts if count]


@pytest.mark.parametrize("name", ["::warning title=x::y.ndjson", "::stop-commands::tok.ndjson", "::add-mask::z.json"])
def test_an_evidence_file_named_like_a_workflow_command_never_starts_a_printed_line_with_one(tmp_path, name):
    (tmp_path / name).write_text("{oops\n")
    for command in ("validate", "check"):
        result = subprocess.run(
            [sys.executable, "-m", "reportgen", command, "."], cwd=tmp_path, capture_output=True, text=True
        )
        lines = (result.stdout + result.stderr).splitlines()
        assert any(name in line for line in lines), command
        assert not [line for line in lines if line.lstrip().startswith("::")], command
