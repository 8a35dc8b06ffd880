"""`reportgen verify` against a tampered pack: every kind of file changed, removed, added or
swapped, the manifest rewritten to match, the verdict flipped, the pack signed again by someone else.

One signed pack with PDFs and attached evidence is built per module and copied per case.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import orjson
import pikepdf
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from evidence import FIXTURES
from packs import WAIVERS

from reportgen.cli import cli
from reportgen.judge.summary import Summary
from reportgen.output.signing import SIGNATURE, Signer, fingerprint

AS_OF = "2025-06-10T00:00:00Z"
FILES = (
    "closure-dashboard.html",
    "closure-dashboard.md",
    "closure-dashboard.pdf",
    "operator-runbook.html",
    "operator-runbook.md",
    "operator-runbook.pdf",
    "summary.json",
    "open-items.csv",
    "index.html",
    "manifest.json",
    SIGNATURE,
)


def reportgen(*args: str) -> tuple[int, list[str]]:
    """Run the CLI in this process; its exit code and the lines it printed."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output.splitlines()


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, Path]:
    """The builder's private and public key files, and another's public key."""
    folder = tmp_path_factory.mktemp("keys")
    builder = Ed25519PrivateKey.generate()
    (folder / "builder.pem").write_bytes(
        builder.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    for name, key in (("builder", builder), ("other", Ed25519PrivateKey.generate())):
        line = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        (folder / f"{name}.pub").write_bytes(line + b"\n")
    return {"private": folder / "builder.pem", "public": folder / "builder.pub", "other": folder / "other.pub"}


@pytest.fixture(scope="module")
def original(tmp_path_factory, keys) -> Path:
    """The example pack, every format, evidence and waivers attached, signed; never changed."""
    out = tmp_path_factory.mktemp("original") / "pack"
    args = ("build", str(FIXTURES / "example"), "--out", str(out), "--as-of", AS_OF, "--attach-evidence")
    code, _ = reportgen(*args, "--waivers", str(WAIVERS), "--sign", str(keys["private"]), "--quiet")
    assert code in (0, 1)
    return out


@pytest.fixture(scope="module")
def other_summary(tmp_path_factory) -> bytes:
    """Another pack's summary.json (the clean evidence: closed and ready)."""
    out = tmp_path_factory.mktemp("other") / "pack"
    code, _ = reportgen("build", str(FIXTURES / "clean"), "--out", str(out), "--format", "json", "--quiet")
    assert code == 0
    return (out / "summary.json").read_bytes()


@pytest.fixture
def pack(original, tmp_path) -> Path:
    """A copy of the signed pack to tamper with."""
    return Path(shutil.copytree(original, tmp_path / "pack"))


def verify(pack: Path, key: Path | None) -> tuple[int, list[str]]:
    """`reportgen verify PACK [--key KEY]`."""
    return reportgen("verify", str(pack), *(("--key", str(key)) if key else ()))


def names(pack: Path, lines: list[str]) -> set[str]:
    """The pack files the problem lines name first (a PDF's attachment counts as its PDF)."""
    prefix = f"{pack}/"
    return {line[len(prefix) :].split(":")[0].split(" ")[0] for line in lines if line.startswith(prefix)}


def rewrite_manifest(pack: Path, verdict: dict[str, str] | None = None) -> None:
    """What someone who can write the folder can do: record the digests the files now have."""
    manifest = orjson.loads((pack / "manifest.json").read_bytes())
    for subject in manifest["subject"]:
        subject["digest"]["sha256"] = hashlib.sha256((pack / subject["name"]).read_bytes()).hexdigest()
    for output in manifest["predicate"]["outputs"]:
        data = (pack / output["path"]).read_bytes()
        output["sha256"], output["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
    manifest["predicate"]["verdict"].update(verdict or {})
    (pack / "manifest.json").write_bytes(
        orjson.dumps(manifest, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"
    )


def test_the_untouched_copy_verifies(pack, keys):
    code, lines = verify(pack, keys["public"])
    assert code == 0, lines


@pytest.mark.parametrize("name", FILES)
def test_a_byte_changed_in_any_file_is_caught_and_named(pack, keys, name):
    data = bytearray((pack / name).read_bytes())
    data[len(data) // 2] ^= 0x01
    (pack / name).write_bytes(bytes(data))
    code, lines = verify(pack, keys["public"])
    assert code == 1
    # The manifest's change shows as its signature no longer holding it.
    assert name in names(pack, lines) or (name == "manifest.json" and SIGNATURE in names(pack, lines)), lines


@pytest.mark.parametrize("name", FILES)
def test_a_file_removed_is_caught_and_named(pack, keys, name):
    (pack / name).unlink()
    code, lines = verify(pack, keys["public"])
    assert code == 1
    assert name in names(pack, lines), lines
    assert any("missing" in line for line in lines)


def test_a_signature_removed_is_caught_without_a_key(pack):
    (pack / SIGNATURE).unlink()
    code, lines = verify(pack, None)
    assert code == 1
    assert f"{pack / SIGNATURE}: missing; manifest.json says the pack is signed by" in lines[0]


@pytest.mark.parametrize(
    "added", ["operator-runbook.docx", "summary.json.bak", "evidence.ndjson", "Index.HTM", "MANIFEST.JSON"]
)
def test_a_file_added_under_a_pack_files_name_is_caught(pack, keys, added):
    (pack / added).write_text("not from reportgen")
    code, lines = verify(pack, keys["public"])
    assert code == 1
    assert f"{pack / added}: named like a pack file, but manifest.json does not list it" in lines


def test_a_users_own_file_and_a_builds_leftover_are_reported_as_not_covered_only(pack, keys):
    (pack / "ticket-notes.txt").write_text("auditor's notes")
    (pack / "manifest.json.sig").write_text("a detached signature someone else made")
    (pack / ".reportgen-staging-0123456789ab").mkdir()
    code, lines = verify(pack, keys["public"])
    assert code == 0
    assert (
        f"{pack / 'ticket-notes.txt'}: note: not part of the pack: manifest.json does not cover it, so it was not checked"
        in lines
    )
    assert any(line.startswith(f"{pack / '.reportgen-staging-0123456789ab'}: note:") for line in lines)
    assert any(line.startswith(f"{pack / 'manifest.json.sig'}: note:") for line in lines)


def test_a_link_in_place_of_a_pack_file_is_caught(pack, keys, original):
    (pack / "index.html").unlink()
    (pack / "index.html").symlink_to(original / "index.html")
    code, lines = verify(pack, keys["public"])
    assert code == 1
    assert f"{pack / 'index.html'}: a symbolic link, not the pack's file (manifest.json lists it)" in lines


def test_the_manifest_rewritten_with_new_digests_is_caught_by_the_signature(pack, keys):
    (pack / "closure-dashboard.html").write_bytes(b"<p>all clear</p>")
    rewrite_manifest(pack)
    code, lines = verify(pack, keys["public"])
    assert code == 1
    assert f"{pack / SIGNATURE}: signs other bytes than manifest.json" in lines
    assert not any(line.startswith(f"{pack / 'closure-dashboard.html'}") for line in lines)


def test_the_manifest_rewritten_and_signed_again_by_another_key_fails_with_the_builders(pack, keys, tmp_path):
    rewrite_manifest(pack)
    intruder = Ed25519PrivateKey.generate()
    envelope = Signer(intruder, fingerprint(intruder.public_key())).sign((pack / "manifest.json").read_bytes())
    (pack / SIGNATURE).write_bytes(envelope)
    code, lines = verify(pack, keys["public"])
    assert code == 1
    assert any(line.startswith(f"{pack / SIGNATURE}: no valid signature by the key given") for line in lines)


def test_a_pdf_attachment_swapped_for_another_packs_is_caught_though_the_digests_match(pack, keys, other_summary):
    with pikepdf.open(pack / "closure-dashboard.pdf", allow_overwriting_input=True) as pdf:
        pdf.attachments["summary.json"] = pikepdf.AttachedFileSpec(pdf, other_summary, filename="summary.json")
        pdf.save(pack / "closure-dashboard.pdf")
    rewrite_manifest(pack)
    code, lines = verify(pack, None)
    assert code == 1
    assert f"{pack / 'closure-dashboard.pdf'} (attached summary.json): differs from the pack's summary.json" in lines
    assert not any("operator-runbook.pdf" in line for line in lines)


def test_summary_json_edited_to_flip_the_verdict_is_caught_by_the_pdfs_and_the_evidence(pack, keys):
    summary = Summary.model_validate_json((pack / "summary.json").read_bytes())
    flipped = summary.model_copy(update={"closure": summary.closure.model_copy(update={"state": "closed"})})
    (pack / "summary.json").write_bytes(flipped.to_json())
    rewrite_manifest(pack, {"closure": "closed"})
    code, lines = verify(pack, None)
    assert code == 1
    for document in ("closure-dashboard", "operator-runbook"):
        assert f"{pack / f'{document}.pdf'} (attached summary.json): differs from the pack's summary.json" in lines
    evidence = f"{pack / 'closure-dashboard.pdf'} (attached evidence.ndjson)"
    assert f"{evidence}: judged again, closure is open; summary.json records closed" in lines


def test_summary_json_flipped_without_touching_the_manifest_is_caught_against_the_manifest(pack):
    summary = Summary.model_validate_json((pack / "summary.json").read_bytes())
    flipped = summary.model_copy(update={"closure": summary.closure.model_copy(update={"state": "closed"})})
    (pack / "summary.json").write_bytes(flipped.to_json())
    code, lines = verify(pack, None)
    assert code == 1
    assert any(line.startswith(f"{pack / 'summary.json'}: sha256 ") for line in lines)


def test_a_hostile_manifest_cannot_make_verify_read_outside_the_pack(pack):
    manifest = orjson.loads((pack / "manifest.json").read_bytes())
    manifest["subject"].append({"name": "../../etc/passwd", "digest": {"sha256": "0" * 64}})
    (pack / "manifest.json").write_bytes(orjson.dumps(manifest))
    code, lines = verify(pack, None)
    assert code == 1
    assert f"{pack / 'manifest.json'}: lists '../../etc/passwd', which is not a file a pack has" in lines


def test_a_manifest_that_is_not_json_is_a_problem_not_a_traceback(pack):
    (pack / "manifest.json").write_bytes(b"{not json")
    code, lines = verify(pack, None)
    assert code == 1
    assert lines[0].startswith(f"{pack / 'manifest.json'}: not JSON")


@pytest.mark.parametrize(
    "subject", [{"name": "index.html", "digest": "abc"}, "index.html", {"name": 7}, {"digest": {"sha256": 1}}]
)
def test_a_malformed_subject_is_one_problem_line_never_a_traceback(pack, subject):
    manifest = orjson.loads((pack / "manifest.json").read_bytes())
    manifest["subject"].append(subject)
    (pack / "manifest.json").write_bytes(orjson.dumps(manifest))
    code, lines = verify(pack, None)
    assert code == 1
    assert f"{pack / 'manifest.json'}: a subject without a name and a sha256 digest" in lines
