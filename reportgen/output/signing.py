"""Signing the pack's manifest: a DSSE envelope around the in-toto Statement, signed with Ed25519.

DSSE (https://github.com/secure-systems-lab/dsse) is the envelope the in-toto attestation
framework specifies: it signs `PAE(payloadType, payload)`, never re-serialised JSON, so the
signed bytes are exactly `manifest.json`. Ed25519 signatures are deterministic (RFC 8032), so the
same key and evidence give the same envelope, byte for byte. The cryptography is pyca's
`cryptography`; nothing here implements a primitive. A private key is held only in memory: no
message, repr or file this module makes holds it, or any part of it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PAYLOAD_TYPE = "application/vnd.in-toto+json"
# The in-toto attestation bundle's name: one DSSE envelope a line, read by in-toto tooling as is.
SIGNATURE = "manifest.intoto.jsonl"
ENV_PREFIX = "env:"
# Far above any key file: a key is a few hundred bytes.
KEY_LIMIT = 64 << 10
KEY_FORMS = "an unencrypted Ed25519 key in PEM (PKCS#8) or OpenSSH form"


class SigningError(Exception):
    """A key that cannot be read or used; the message names where it came from, never what it holds."""


@dataclass(frozen=True)
class Signer:
    """An Ed25519 private key and its public fingerprint; the key never shows in a repr."""

    key: Ed25519PrivateKey = field(repr=False, compare=False)
    fingerprint: str

    def sign(self, payload: bytes) -> bytes:
        """The DSSE envelope of a payload, one JSON line."""
        signature = self.key.sign(pae(PAYLOAD_TYPE, payload))
        return envelope(payload, self.fingerprint, signature)


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: `DSSEv1 <len> <type> <len> <payload>`, lengths in ASCII decimal."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def envelope(payload: bytes, keyid: str, signature: bytes) -> bytes:
    """A DSSE envelope as one line of JSON, keys sorted, base64 with padding as the spec writes it."""
    data = {
        "payload": base64.b64encode(payload).decode(),
        "payloadType": PAYLOAD_TYPE,
        "signatures": [{"keyid": keyid, "sig": base64.b64encode(signature).decode()}],
    }
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS) + b"\n"


def fingerprint(public: Ed25519PublicKey) -> str:
    """The key's fingerprint as OpenSSH shows it: `SHA256:` and the unpadded base64 of its wire blob's sha256."""
    line = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    blob = base64.b64decode(line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


# --- reading keys ----------------------------------------------------------------------------


def key_bytes(spec: str, environ: Mapping[str, str] = os.environ) -> tuple[str, bytes]:
    """What a key argument names, and its bytes: `env:VAR` is the variable's value, else a file's content."""
    if spec.startswith(ENV_PREFIX):
        name = spec[len(ENV_PREFIX) :]
        if not name or name not in environ:
            raise SigningError(f"{spec}: the environment variable is not set")
        return spec, environ[name].encode("utf-8", "surrogateescape")
    try:
        with open(spec, "rb") as handle:
            data = handle.read(KEY_LIMIT + 1)
    except OSError as exc:
        raise SigningError(f"{spec}: cannot read the key: {exc.strerror or type(exc).__name__}") from None
    if len(data) > KEY_LIMIT:
        raise SigningError(f"{spec}: too large to be a key")
    return spec, data


def parse_private(data: bytes) -> Any:
    """A private key from PEM or OpenSSH bytes, or None; cryptography's own messages are dropped."""
    loaders = (
        lambda: serialization.load_pem_private_key(data, password=None),
        lambda: serialization.load_ssh_private_key(data, password=None),
    )
    for loader in loaders:
        try:
            return loader()
        except (ValueError, TypeError, UnsupportedAlgorithm, binascii.Error):
            # Their text may quote the input; only our own words leave this module.
            continue
    return None


def parse_public(data: bytes) -> Any:
    """A public key from PEM or an OpenSSH public key line, or the public half of a private key; or None."""
    loaders = (
        lambda: serialization.load_pem_public_key(data),
        lambda: serialization.load_ssh_public_key(data.strip().split(b"\n")[0]),
    )
    for loader in loaders:
        try:
            return loader()
        except (ValueError, TypeError, UnsupportedAlgorithm, binascii.Error, IndexError):
            continue
    private = parse_private(data)
    return private.public_key() if private is not None else None


def load_signer(spec: str, environ: Mapping[str, str] = os.environ) -> Signer:
    """The signer a `--sign` argument names: a key file, or `env:VAR`."""
    where, data = key_bytes(spec, environ)
    key = parse_private(data)
    del data
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{where}: not {KEY_FORMS}")
    return Signer(key, fingerprint(key.public_key()))


def load_public_key(spec: str, environ: Mapping[str, str] = os.environ) -> Ed25519PublicKey:
    """The public key a `--key` argument names (a public key, or a private key whose public half is used)."""
    where, data = key_bytes(spec, environ)
    key = parse_public(data)
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError(f"{where}: not an Ed25519 public key (PEM, or an OpenSSH `ssh-ed25519` line)")
    return key


# --- checking an envelope --------------------------------------------------------------------


def read_envelope(data: bytes) -> tuple[bytes, list[dict[str, Any]]]:
    """The payload and signatures of a one-envelope DSSE file; ValueError says in words what is wrong."""
    lines = [line for line in data.splitlines() if line.strip()]
    if len(lines) != 1:
        raise ValueError(f"holds {len(lines)} envelopes, not one")
    try:
        doc = orjson.loads(lines[0])
        payload = base64.b64decode(doc["payload"], validate=True)
        signatures = [s for s in doc["signatures"] if isinstance(s, dict)]
        payload_type = doc["payloadType"]
    except (orjson.JSONDecodeError, KeyError, TypeError, binascii.Error):
        raise ValueError("not a DSSE envelope (payload, payloadType, signatures)") from None
    if payload_type != PAYLOAD_TYPE:
        raise ValueError(f"payloadType is {str(payload_type)[:80]!r}, not {PAYLOAD_TYPE}")
    return payload, signatures


def signature_valid(payload: bytes, signature: Mapping[str, Any], key: Ed25519PublicKey) -> bool:
    """Whether one DSSE signature is the key's over the payload."""
    try:
        key.verify(base64.b64decode(str(signature.get("sig", "")), validate=True), pae(PAYLOAD_TYPE, payload))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
