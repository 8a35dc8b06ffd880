"""`reportgen verify` on sound packs and `build --sign`: signatures others can check, keys that never leak.

PDF builds are slow, so the one signed pack with PDFs and attached evidence is built once per module;
the other packs here are HTML, Markdown and JSON only.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pikepdf
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from evidence import FIXTURES
from packs import WAIVERS, run
from pypdf import PdfReader

from reportgen.output.signing import SIGNATURE, fingerprint, pae

AS_OF = "2025-06-10T00:00:00Z"
FAST = "html,md,json"


def new_key(folder: Path, name: str) -> tuple[Path, Path, Ed25519PrivateKey]:
    """An Ed25519 key pair written as a PEM private key and an OpenSSH public key line."""
    key = Ed25519PrivateKey.generate()
    private = folder / f"{name}.pem"
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public = folder / f"{name}.pub"
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    )
    return private, public, key


def build(
    out: Path, *extra: str, formats: str = FAST, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Build the example pack as of a fixed time; the build must succeed."""
    args = ["build", str(FIXTURES / "example"), "--out", str(out), "--as-of", AS_OF, "--format", formats, "--quiet"]
    result = subprocess.run(
        [sys.executable, "-m", "reportgen", *args, *extra],
        capture_output=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode in (0, 1), result.stderr
    return result


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, tuple[Path, Path, Ed25519PrivateKey]]:
    """The builder's key and another."""
    folder = tmp_path_factory.mktemp("keys")
    return {name: new_key(folder, name) for name in ("builder", "other")}


@pytest.fixture(scope="module")
def signed(tmp_path_factory, keys) -> tuple[Path, subprocess.CompletedProcess]:
    """The example pack, every format, evidence and waivers attached, signed by the builder's key."""
    out = tmp_path_factory.mktemp("signed") / "pack"
    result = build(
        out,
        "--attach-evidence",
        "--waivers",
        str(WAIVERS),
        "--sign",
        str(keys["builder"][0]),
        formats="html,md,pdf,json",
    )
    return out, result


def test_a_signed_pack_with_pdfs_and_evidence_verifies_and_its_verdict_is_re_derived(signed, keys):
    result = run("verify", str(signed[0]), "--key", str(keys["builder"][1]))
    assert result.returncode == 0, result.stdout
    last = result.stdout.splitlines()[-1]
    assert "verified: 8 files match manifest.json" in last
    assert f"signature by {fingerprint(keys['builder'][2].public_key())} checked" in last
    assert "verdict re-derived from the attached evidence: closure open" in last


def test_the_pdfs_attach_the_waivers_so_the_re_derived_verdict_counts_them(signed):
    names = set(PdfReader(signed[0] / "closure-dashboard.pdf").attachments)
    assert names == {"summary.json", "inputs.json", "evidence.ndjson", "waivers.json"}


def test_verify_json_reports_the_files_the_signature_and_both_verdicts(signed, keys):
    result = run("verify", str(signed[0]), "--key", str(keys["builder"][1]), "--json")
    data = orjson.loads(result.stdout)
    assert result.returncode == 0
    assert data["verified"] is True and data["problems"] == []
    assert "closure-dashboard.pdf" in data["files_checked"]
    assert data["signature"] == {"keyid": fingerprint(keys["builder"][2].public_key()), "checked": True}
    assert data["verdict"]["recorded"] == data["verdict"]["rederived"]


def test_without_a_key_the_signature_is_named_but_not_checked(signed):
    result = run("verify", str(signed[0]))
    assert result.returncode == 0
    assert "signature not checked (give --key)" in result.stdout


def test_a_pack_signed_with_one_key_fails_verification_with_another(signed, keys):
    result = run("verify", str(signed[0]), "--key", str(keys["other"][1]))
    assert result.returncode == 1
    assert (
        f"{SIGNATURE}: no valid signature by the key given, {fingerprint(keys['other'][2].public_key())}"
        in result.stdout
    )


def test_the_signature_is_checked_by_securesystemslib_dsse(signed, keys):
    from securesystemslib.dsse import Envelope
    from securesystemslib.exceptions import VerificationError
    from securesystemslib.signer import SSlibKey

    envelope = Envelope.from_dict(orjson.loads((signed[0] / SIGNATURE).read_bytes()))
    assert envelope.payload == (signed[0] / "manifest.json").read_bytes()
    assert envelope.payload_type == "application/vnd.in-toto+json"
    builder = keys["builder"][2].public_key()
    verified = envelope.verify([SSlibKey.from_crypto(builder, keyid=fingerprint(builder))], 1)
    assert list(verified) == [fingerprint(builder)]
    other = keys["other"][2].public_key()
    with pytest.raises(VerificationError):
        envelope.verify([SSlibKey.from_crypto(other, keyid=fingerprint(builder))], 1)


def test_the_signature_is_over_dsse_pae_of_the_manifest_bytes(signed, keys):
    envelope = orjson.loads((signed[0] / SIGNATURE).read_bytes())
    manifest = (signed[0] / "manifest.json").read_bytes()
    signature = base64.b64decode(envelope["signatures"][0]["sig"])
    keys["builder"][2].public_key().verify(signature, pae("application/vnd.in-toto+json", manifest))
    assert pae("t", b"ab") == b"DSSEv1 1 t 2 ab"


def test_the_fingerprint_is_the_one_openssh_shows(keys, tmp_path):
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen is not installed")
    shown = subprocess.run(["ssh-keygen", "-lf", str(keys["builder"][1])], capture_output=True, text=True, check=True)
    assert shown.stdout.split()[1] == fingerprint(keys["builder"][2].public_key())


def test_index_html_and_the_pdfs_say_the_pack_is_signed_and_by_which_key(signed, keys):
    shown = fingerprint(keys["builder"][2].public_key())
    # (A <wbr> in the HTML is a break opportunity, no text.)
    assert shown in (signed[0] / "index.html").read_text().replace("<wbr>", "")
    assert shown in (signed[0] / "closure-dashboard.html").read_text().replace("<wbr>", "")
    for document in ("closure-dashboard", "operator-runbook"):
        text = "".join(page.extract_text() for page in PdfReader(signed[0] / f"{document}.pdf").pages)
        assert shown in text.replace("\n", ""), document
    manifest = orjson.loads((signed[0] / "manifest.json").read_bytes())
    assert manifest["predicate"]["parameters"]["signature"] == {"envelope": SIGNATURE, "keyid": shown}


def test_an_unsigned_pack_says_so_and_still_verifies_its_digests(tmp_path):
    pack = tmp_path / "pack"
    build(pack)
    assert "Not signed." in (pack / "index.html").read_text()
    assert not (pack / SIGNATURE).exists()
    result = run("verify", str(pack))
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[-1].endswith("verified: 6 files match manifest.json; not signed")
    (pack / "summary.json").write_bytes((pack / "summary.json").read_bytes().replace(b'"open"', b'"closed"', 1))
    tampered = run("verify", str(pack))
    assert tampered.returncode == 1
    assert any(line.startswith(f"{pack / 'summary.json'}: sha256 ") for line in tampered.stdout.splitlines())


def test_a_key_given_for_an_unsigned_pack_is_a_problem(tmp_path, keys):
    pack = tmp_path / "pack"
    build(pack)
    result = run("verify", str(pack), "--key", str(keys["builder"][1]))
    assert result.returncode == 1
    assert f"{pack / SIGNATURE}: missing: the pack is not signed" in result.stdout


def test_the_same_key_and_evidence_give_the_same_bytes_from_a_file_or_the_environment(tmp_path, keys):
    first, second = tmp_path / "a", tmp_path / "b"
    build(first, "--sign", str(keys["builder"][0]))
    build(second, "--sign", "env:REPORTGEN_TEST_KEY", env={"REPORTGEN_TEST_KEY": keys["builder"][0].read_text()})
    for name in ("manifest.json", SIGNATURE, "index.html", "closure-dashboard.html"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_an_openssh_private_key_signs_too(tmp_path):
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "id_ed25519"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
    )
    build(tmp_path / "pack", "--sign", str(path))
    result = run("verify", str(tmp_path / "pack"), "--key", str(path))
    assert result.returncode == 0, result.stdout
    assert fingerprint(key.public_key()) in result.stdout


def test_a_rebuild_without_sign_removes_the_old_signature_and_keeps_user_files(tmp_path, keys):
    pack = tmp_path / "pack"
    build(pack, "--sign", str(keys["builder"][0]))
    (pack / "notes.txt").write_text("mine")
    build(pack)
    assert not (pack / SIGNATURE).exists()
    assert (pack / "notes.txt").read_text() == "mine"
    result = run("verify", str(pack))
    assert result.returncode == 0
    assert f"{pack / 'notes.txt'}: note: not part of the pack" in result.stdout


def test_publish_keeps_the_signature_beside_the_pages(tmp_path, keys):
    pack, wiki = tmp_path / "pack", tmp_path / "wiki"
    build(pack, "--sign", str(keys["builder"][0]))
    wiki.mkdir()
    result = run("publish", str(pack), "--to", str(wiki))
    assert result.returncode == 0, result.stderr
    published = list(wiki.rglob(SIGNATURE))
    assert len(published) == 1
    assert published[0].read_bytes() == (pack / SIGNATURE).read_bytes()
    assert (published[0].parent / "manifest.json").read_bytes() == (pack / "manifest.json").read_bytes()


def test_a_signature_file_in_the_evidence_folder_is_skipped_as_the_packs_own(signed):
    result = run("validate", str(signed[0]))
    assert result.returncode == 0, result.stdout
    assert "0 entries in 0 files" in result.stdout and "0 unrecognised" in result.stdout


# --- usage errors, and keys that never leak --------------------------------------------------


def test_verify_of_what_is_not_a_pack_is_a_usage_error(tmp_path):
    assert run("verify", str(tmp_path / "missing")).returncode == 2
    (tmp_path / "empty").mkdir()
    result = run("verify", str(tmp_path / "empty"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "not a readiness pack" in result.stderr


def test_an_unreadable_key_is_one_line_and_exit_2(tmp_path, signed):
    result = run("verify", str(signed[0]), "--key", str(tmp_path / "nope.pub"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "cannot read the key" in result.stderr
    missing = run("build", str(FIXTURES / "example"), "--out", str(tmp_path / "p"), "--sign", "env:REPORTGEN_NO_SUCH")
    assert missing.returncode == 2 and "env:REPORTGEN_NO_SUCH: the environment variable is not set" in missing.stderr
    assert not (tmp_path / "p").exists()


def secrets_of(key: Ed25519PrivateKey, pem: bytes) -> list[bytes]:
    """Every form of a private key that must never be written: the file, its base64 lines, the raw seed."""
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    lines = [line for line in pem.splitlines() if line and not line.startswith(b"-----")]
    return [pem, *lines, raw, raw.hex().encode(), base64.b64encode(raw), base64.b64encode(raw).rstrip(b"=")]


def pdf_streams(path: Path) -> bytes:
    """Every stream of a PDF, decompressed, attachments included."""
    with pikepdf.open(path) as pdf:
        return b"".join(obj.read_bytes() for obj in pdf.objects if isinstance(obj, pikepdf.Stream))


def test_no_output_or_pack_file_holds_the_private_key(signed, keys, tmp_path):
    pem = keys["builder"][0].read_bytes()
    planted = secrets_of(keys["builder"][2], pem)
    env_pack = tmp_path / "env"
    from_env = build(env_pack, "--sign", "env:REPORTGEN_TEST_KEY", env={"REPORTGEN_TEST_KEY": pem.decode()})
    outputs = [signed[1].stdout, signed[1].stderr, from_env.stdout, from_env.stderr]
    files = [p.read_bytes() for folder in (signed[0], env_pack) for p in folder.iterdir()]
    files += [pdf_streams(signed[0] / f"{d}.pdf") for d in ("closure-dashboard", "operator-runbook")]
    for secret in planted:
        assert not any(secret in blob for blob in outputs + files)


def test_a_malformed_key_is_refused_without_quoting_it(tmp_path):
    marker = b"SECRETMARKER0123456789"
    bad = tmp_path / "bad.pem"
    bad.write_bytes(b"-----BEGIN PRIVATE KEY-----\n" + base64.b64encode(marker * 3) + b"\n-----END PRIVATE KEY-----\n")
    for spec, env in ((str(bad), {}), ("env:REPORTGEN_BAD_KEY", {"REPORTGEN_BAD_KEY": bad.read_text()})):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "reportgen",
                "build",
                str(FIXTURES / "example"),
                "--out",
                str(tmp_path / "p"),
                "--sign",
                spec,
            ],
            capture_output=True,
            env={**os.environ, **env},
        )
        assert result.returncode == 2
        assert result.stderr.count(b"\n") == 1 and b"not an unencrypted Ed25519 key" in result.stderr
        for secret in (marker, base64.b64encode(marker * 3), bad.read_bytes()):
            assert secret not in result.stdout + result.stderr


def test_a_public_key_given_to_sign_is_refused(tmp_path, keys):
    result = run("build", str(FIXTURES / "example"), "--out", str(tmp_path / "p"), "--sign", str(keys["builder"][1]))
    assert result.returncode == 2 and "not an unencrypted Ed25519 key" in result.stderr


def test_a_users_envelope_beside_an_unsigned_pack_is_kept_and_never_overwritten(tmp_path, keys):
    pack = tmp_path / "pack"
    build(pack)
    (pack / SIGNATURE).write_bytes(b"the user's own\n")
    build(pack)
    assert (pack / SIGNATURE).read_bytes() == b"the user's own\n"
    refused = run(
        "build", str(FIXTURES / "example"), "--out", str(pack), "--format", FAST, "--sign", str(keys["builder"][0])
    )
    assert refused.returncode == 2 and "not part of the earlier pack" in refused.stderr
    assert (pack / SIGNATURE).read_bytes() == b"the user's own\n"
