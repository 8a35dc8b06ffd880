"""Secrets planted in evidence never reach any output, and each one opens a critical item."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from evidence import A1, EXEC_ACK, example, record, write_ndjson
from pagescripts import with_unpacked
from pypdf import PdfReader

from reportgen.evidence.inputs import Limits
from reportgen.evidence.load import load
from reportgen.evidence.masking import mask_string
from reportgen.judge.summary import summarise

SECRETS = {
    "slack": "https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/s3cr3tSlackHookValue9",
    "query": "https://release-hooks.example.com/hook?token=s3cr3tQueryTokenValue",
    "userinfo": "https://deploy:s3cr3tPassw0rdValue@release-hooks.example.com/x",
    "bearer": "Bearer s3cr3tBearerTokenValue123",
    "slack-token": "xoxb-123456789012-s3cr3tSlackBotToken",
    "github": "ghp_s3cr3tGithubTokenValue0123456789",
    "aws": "AKIAS3CR3TAWSKEY0123",
    "key": "-----BEGIN RSA PRIVATE KEY-----\nMIIs3cr3tPrivateKeyBody\n-----END RSA PRIVATE KEY-----",
}
# Fragments that would show a secret leaked, even partly masked.
LEAKS = [
    "s3cr3tSlackHookValue9",
    "s3cr3tQueryTokenValue",
    "s3cr3tPassw0rdValue",
    "s3cr3tBearerTokenValue123",
    "s3cr3tSlackBotToken",
    "s3cr3tGithubTokenValue",
    "AKIAS3CR3TAWSKEY0123",
    "MIIs3cr3tPrivateKeyBody",
    "s3cr3tHeaderValue",
]


def planted() -> list[dict]:
    """The example chain with a secret in a URL, a header, a note and an unknown field."""
    records = example()
    a1 = record(records, A1)
    deliveries = a1["delivery"]["deliveries"]
    deliveries[0]["request"]["url"] = SECRETS["slack"]
    deliveries[1]["request"]["url"] = SECRETS["query"]
    deliveries[1]["request"]["headers"]["authorization"] = "Basic s3cr3tHeaderValue"
    ack = record(records, EXEC_ACK)
    ack["acknowledgement"]["notes"] = " ".join(SECRETS[k] for k in ("userinfo", "bearer", "slack-token", "github"))
    ack["external_ref"] = SECRETS["aws"]
    ack["debug"] = {"key": SECRETS["key"]}
    return records


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A whole pack built from the planted evidence."""
    folder = tmp_path_factory.mktemp("secrets")
    evidence = write_ndjson(folder / "evidence.ndjson", planted())
    subprocess.run(
        [sys.executable, "-m", "reportgen", "build", str(evidence), "--out", str(folder / "pack"), "--attach-evidence"],
        capture_output=True,
        timeout=300,
        check=False,
    )
    return folder / "pack"


def pdf_bytes(path: Path) -> bytes:
    """Every stream of a PDF, decompressed, plus its text and embedded files."""
    reader = PdfReader(path)
    parts = [path.read_bytes()]
    for number in range(1, int(reader.trailer["/Size"])):
        try:
            obj = reader.get_object(number)
        except Exception:  # noqa: BLE001 - objects past the end are simply absent
            continue
        if hasattr(obj, "get_data"):
            parts.append(obj.get_data())
    parts += [page.extract_text().encode() for page in reader.pages]
    parts += [b"".join(data) for data in reader.attachments.values()]
    return b"\n".join(parts)


def test_no_output_file_holds_any_planted_secret(pack):
    files = sorted(pack.iterdir())
    assert "evidence.ndjson" in PdfReader(pack / "closure-dashboard.pdf").attachments
    assert {f.suffix for f in files} >= {".html", ".md", ".pdf", ".json"}
    for path in files:
        data = pdf_bytes(path) if path.suffix == ".pdf" else with_unpacked(path.read_bytes())
        for leak in LEAKS:
            assert leak.encode() not in data, f"{leak} leaked into {path.name}"


def test_each_record_with_a_secret_opens_a_critical_item_that_says_where_not_what(tmp_path):
    summary = summarise(load([str(write_ndjson(tmp_path / "e.ndjson", planted()))]))
    items = [i for i in summary.closure.open_items if i.code == "evidence_secret_exposed"]
    assert {i.evidence[0].session_id for i in items} == {A1, EXEC_ACK}
    assert all(i.severity == "critical" for i in items)
    details = " ".join(i.detail for i in items)
    assert "delivery.deliveries[0].request.url (Slack webhook URL)" in details
    assert "delivery.deliveries[1].request.headers.authorization (authorization header value)" in details
    assert "acknowledgement.notes" in details and "debug.key (private key block)" in details
    assert not any(leak in summary.to_json().decode() for leak in LEAKS)
    assert summary.closure.state == "open"


def test_upstream_redactions_are_not_secrets(tmp_path):
    summary = summarise(load([str(write_ndjson(tmp_path / "e.ndjson", example()))]))
    assert "evidence_secret_exposed" not in [i.code for i in summary.closure.open_items]


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_every_secret_shape_is_masked(name):
    masked, kinds = mask_string(f"before {SECRETS[name]} after")
    assert kinds and masked.startswith("before ") and masked.endswith(" after")
    assert not any(leak in masked for leak in LEAKS)


def test_a_secret_in_a_rejected_or_unrecognised_record_is_masked_too(tmp_path):
    unknown = {"session_id": "u-1", "metadata_kind": "something-new", "note": SECRETS["github"]}
    bad = {"session_id": "b-1", "metadata_kind": "release-connector-delivery", "created_at": SECRETS["aws"]}
    loaded = load([str(write_ndjson(tmp_path / "e.ndjson", [unknown, bad]))])
    assert len(loaded.secrets) == 2
    text = json.dumps([vars(r) for r in loaded.rejected] + [vars(u) for u in loaded.unrecognised])
    assert not any(leak in text for leak in LEAKS)


@pytest.mark.parametrize("document", [False, True], ids=["ndjson", "streamed store file"])
def test_a_secret_spelled_with_unicode_escapes_is_found_and_masked(tmp_path, document):
    records = example()
    url = "https://hooks.slack.com/services/T0ABCDEF/B0ABCDEF/abcdefghijklmnopqrstuvwx"
    record(records, A1)["signer"] = url
    escaped = url.replace("hooks", "\\u0068ooks").encode()
    if document:
        raw = json.dumps({"items": records}, indent=2).encode().replace(url.encode(), escaped)
        path = tmp_path / "store.json"
    else:
        raw = b"\n".join(json.dumps(r).encode() for r in records).replace(url.encode(), escaped)
        path = tmp_path / "e.ndjson"
    path.write_bytes(raw)
    # A small record size limit makes the store file one that is read item by item.
    loaded = load([str(path)], limits=Limits(max_record_bytes=16 * 1024))
    assert [s.kind for s in loaded.secrets] == ["Slack webhook URL"]
    assert "abcdefghijklmnopqrstuvwx" not in json.dumps([r.model_dump(mode="json") for r in loaded.records])
