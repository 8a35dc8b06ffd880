"""Secrets in evidence: found, masked at the source, and reported without being repeated.

Masking happens in the loader, before a record is validated or stored, so no renderer, summary,
attachment or manifest can ever see the secret. What is kept is where it was found and what kind
of secret it looked like.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import re2

MASK = "REDACTED"
# Header names whose values are credentials (upstream redacts the first four, §3.2).
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "dd-api-key", "x-auth-token", "cookie"}
)

# Literal marks that every secret below contains: a text without any of them is not searched.
MARKS = (
    "hooks.slack.com",
    "?",
    "@",
    "earer",
    "xox",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "AKIA",
    "ASIA",
    "PRIVATE KEY",
    "uthorization",
    "UTHORIZATION",
    "pi-key",
    "pi_key",
    "PI-KEY",
    "PI_KEY",
    "apikey",
    "APIKEY",
    "uth-token",
    "UTH-TOKEN",
    "ookie",
    "OOKIE",
)
MARK_BYTES = tuple(mark.encode() for mark in MARKS)
# Upstream's own redactions, which are not secrets: raw text holding only these needs no walk.
REDACTED_FORMS = (b"hooks.slack.com/services/REDACTED", b"?REDACTED")
# A credential header that upstream left redacted, as it appears in raw JSON.
REDACTED_HEADER = rb'"(?i:(?:proxy-)?authorization|(?:x-|dd-)?api-key)"\s*:\s*"REDACTED"'


@dataclass(frozen=True)
class Pattern:
    """One shape of secret and how to mask it."""

    kind: str
    regex: re.Pattern[str]
    mask: Callable[[re.Match[str]], str]


def _keep_group(group: int, tail: str) -> Callable[[re.Match[str]], str]:
    """A mask that keeps the start of the match and replaces the rest with `tail`."""
    return lambda m: m.group(group) + tail


PATTERNS: tuple[Pattern, ...] = (
    Pattern(
        "private key block",
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S),
        lambda m: f"-----{MASK} PRIVATE KEY-----",
    ),
    Pattern(
        "Slack webhook URL",
        re.compile(r"(https?://hooks\.slack\.com/services/)(?!REDACTED\b)[^\s\"'<>]+"),
        _keep_group(1, MASK),
    ),
    Pattern(
        "URL credentials",
        re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/\s:@\"'<>]+:[^/\s@\"'<>]+@", re.I),
        _keep_group(1, f"{MASK}@"),
    ),
    Pattern(
        "URL query string",
        re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s?\"'<>]+\?)(?!REDACTED\b)[^\s#\"'<>]+", re.I),
        _keep_group(1, MASK),
    ),
    Pattern(
        "authorization header",
        re.compile(
            r"(\b(?:proxy-)?authorization\s*[:=]\s*)(?!REDACTED\b)(?:(?:basic|bearer|token|digest)\s+)?[^\s,;\"']+",
            re.I,
        ),
        _keep_group(1, MASK),
    ),
    Pattern(
        "API key header",
        re.compile(r"(\b(?:x-|dd-)?api[-_]?key\s*[:=]\s*)(?!REDACTED\b)[^\s,;\"']+", re.I),
        _keep_group(1, MASK),
    ),
    Pattern("bearer token", re.compile(r"(\b[Bb]earer\s+)(?!REDACTED\b)[A-Za-z0-9._~+/=-]{8,}"), _keep_group(1, MASK)),
    Pattern("Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{8,}"), lambda m: MASK),
    Pattern(
        "GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"), lambda m: MASK
    ),
    Pattern("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), lambda m: MASK),
)


@dataclass(frozen=True)
class SecretFound:
    """Where a secret was found (a JSON path in the record) and what it looked like; never its value."""

    path: str
    kind: str


# Unicode bidirectional controls reorder the text around them (the "Trojan Source" trick), so
# evidence shows them as visible escapes instead: the text is kept, its display cannot be bent.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
BIDI_BYTES = (b"\xe2\x80", b"\xe2\x81", b"\xd8\x9c", b"\\u20", b"\\u061")


def show_bidi(text: str) -> str:
    """The text with every bidi control written as a visible `<U+202E>` mark."""
    return BIDI_CONTROLS.sub(lambda m: f"<U+{ord(m[0]):04X}>", text)


def _prefilters() -> tuple[re2._Regexp, re2._Regexp]:
    """Every mark as one pattern, and the same with upstream's redactions matched first (group 1).

    RE2 runs a whole alternation as one automaton, where Python's `re` or one search per mark
    cost ten times as much on every record; Latin-1 mode lets it look for bytes of UTF-8.
    """
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1
    redacted = b"|".join([*(re2.escape(form) for form in REDACTED_FORMS), REDACTED_HEADER])
    # A \u escape can spell any mark; such text is walked after parsing, where escapes are gone.
    marks = b"|".join(re2.escape(mark) for mark in (*MARK_BYTES, *BIDI_BYTES, b"\\u"))
    return re2.compile(marks, options), re2.compile(b"(" + redacted + b")|" + marks, options)


ANY_MARK, MARK_OR_REDACTION = _prefilters()


def may_hold_secrets(raw: bytes) -> bool:
    """A fast look at raw bytes: False means no string in them can hold a secret or a bidi control."""
    if ANY_MARK.search(raw) is None:
        return False
    return any(match.start(1) < 0 for match in MARK_OR_REDACTION.finditer(raw))


def mask_string(text: str) -> tuple[str, list[str]]:
    """The text with every secret masked, and the kinds of secret masked."""
    kinds: list[str] = []
    text = show_bidi(text)
    if not any(mark in text for mark in MARKS):
        return text, kinds
    for pattern in PATTERNS:
        text, count = pattern.regex.subn(pattern.mask, text)
        if count:
            kinds.append(pattern.kind)
    return text, kinds


def mask_record(node: Any, found: list[SecretFound], path: str = "") -> Any:
    """A copy of a parsed JSON value with every secret masked; what was masked goes into `found`."""
    if isinstance(node, str):
        masked, kinds = mask_string(node)
        found.extend(SecretFound(path or "$", kind) for kind in kinds)
        return masked
    if isinstance(node, list):
        return [mask_record(item, found, f"{path}[{i}]") for i, item in enumerate(node)]
    if isinstance(node, dict):
        masked = {}
        for key, value in node.items():
            safe_key = mask_key(key, found, path)
            masked[safe_key] = mask_value(key, value, found, _join(path, safe_key))
        return masked
    return node


def mask_key(key: str, found: list[SecretFound], path: str) -> str:
    """A dict key with any secret in it masked."""
    masked, kinds = mask_string(key)
    found.extend(SecretFound(path or "$", f"{kind} in a key") for kind in kinds)
    return masked


def mask_value(key: str, value: Any, found: list[SecretFound], path: str) -> Any:
    """A value masked; a credential header's value is masked whole unless already redacted."""
    if key.lower() in SECRET_HEADERS and isinstance(value, str) and value and value != MASK:
        found.append(SecretFound(path, f"{key.lower()} header value"))
        return MASK
    return mask_record(value, found, path)


def _join(path: str, key: str) -> str:
    """Extend a JSON path with a key: `a.b`, or `a['odd key']`."""
    if not key.isidentifier():
        return f"{path}[{key!r}]"
    return f"{path}.{key}" if path else key
