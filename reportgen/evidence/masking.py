"""Secrets in evidence: found, masked at the source, and reported without being repeated.

Masking happens in the loader, before a record is validated or stored, so no renderer, summary,
attachment or manifest can ever see the secret. What is kept is where it was found and what kind
of secret it looked like.

The shapes are those secret scanners publish (gitleaks' default rules, detect-secrets' plugins),
written as one table, `RULES` (secret_rules.py). Each rule carries the marks that every text it masks must
hold; the quick pre-check on raw bytes (`may_hold_secrets`) is built from those marks and nothing
else, so it can never be narrower than the masking. A field or header named for a secret
(`client_secret`, `X-Api-Key`) is masked whole, by `secret_name`, whose words are marks too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any

import re2
from pydantic import BaseModel

from reportgen.evidence.secret_rules import (
    MASK,
    PAIR_NAMES,
    RULES,
    SECRET_HEADERS,
    WS,
    Rule,
    masked_already,
    secret_name,
)

# --- the quick pre-check ---------------------------------------------------------------------------

# Upstream's own redactions, which are not secrets: raw text holding only these needs no walk.
# Each is read exactly (case and all) and leaves nothing behind it that a rule would mask.
REDACTIONS = (
    r"hooks\.slack\.com/(?:services|workflows|triggers)/REDACTED\b",
    r"\?REDACTED\b",
    rf'"(?i:(?:proxy-)?authorization|(?:x-|dd-)?api-key)"{WS}*:{WS}*"REDACTED"',
)
# A \u or \/ escape can spell any mark; such text is walked after parsing, where escapes are gone.
ESCAPE_MARKS = (r"\\u", r"\\/")
# Unicode bidirectional controls reorder the text around them (the "Trojan Source" trick), so
# evidence shows them as visible escapes instead: the text is kept, its display cannot be bent.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
BIDI_BYTES = (b"\xe2\x80", b"\xe2\x81", b"\xd8\x9c", b"\\u20", b"\\u061")


def rule_marks(rules: Iterable[Rule] = RULES) -> list[str]:
    """Every rule's marks, as RE2 patterns."""
    return [mark for rule in rules for mark in rule.marks]


def _prefilters() -> tuple[re2._Regexp, re2._Regexp]:
    """The marks on raw bytes with upstream's redactions matched first (group 1), and the rules'
    marks on decoded text.

    RE2 runs a whole alternation as one automaton, where Python's `re` or one search per mark
    cost ten times as much on every record; Latin-1 mode lets it look for bytes of UTF-8.
    """
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1
    marks = [mark.encode() for mark in (*rule_marks(), *ESCAPE_MARKS)] + [re2.escape(b) for b in BIDI_BYTES]
    redacted = "|".join(REDACTIONS).encode()
    return (
        re2.compile(b"(?i)((?-i:" + redacted + b"))|" + b"|".join(marks), options),
        re2.compile("(?i)" + "|".join(rule_marks())),
    )


MARK_OR_REDACTION, TEXT_MARK = _prefilters()


def may_hold_secrets(raw: bytes) -> bool:
    """A fast look at raw bytes: False means no string in them can hold a secret or a bidi control."""
    # One pass: a mark that is part of upstream's own redaction (group 1) does not count.
    return any(match.start(1) < 0 for match in MARK_OR_REDACTION.finditer(raw))


# --- masking ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SecretFound:
    """Where a secret was found (a JSON path in the record) and what it looked like; never its value."""

    path: str
    kind: str


def show_bidi(text: str) -> str:
    """The text with every bidi control written as a visible `<U+202E>` mark."""
    return BIDI_CONTROLS.sub(lambda m: f"<U+{ord(m[0]):04X}>", text)


def apply_rule(rule: Rule, text: str) -> tuple[str, int]:
    """The text with every match of one rule masked, and how many were.

    The search goes on after what was masked, never inside it, so no part is read twice.
    """
    parts: list[str] = []
    done = count = 0
    for start, stop in [(0, len(text))] if rule.windows is None else rule.windows(text):
        position = max(start, done)
        while (match := rule.regex.search(text, position, stop)) is not None:
            masked = rule.mask(match)
            if masked is None:
                position = max(match.end(), match.start() + 1)
                continue
            end, replacement = masked
            parts += [text[done : match.start()], replacement]
            done = position = end
            count += 1
    if not count:
        return text, 0
    parts.append(text[done:])
    return "".join(parts), count


# A lone surrogate (a file name's byte that is not UTF-8, kept by the file system's decoding) cannot
# be searched by re2 or written as UTF-8: it is shown as a mark, like a control character.
SURROGATE = re.compile("[\ud800-\udfff]")


def show_surrogates(text: str) -> str:
    """The text with every lone surrogate shown as a visible mark such as <U+DCFC>."""
    return SURROGATE.sub(lambda match: f"<U+{ord(match[0]):04X}>", text)


def may_mark(texts: Iterable[str]) -> bool:
    """Whether any of the texts may hold a secret or a bidi control: one look at all of them."""
    joined = show_surrogates("\n".join(texts))
    return TEXT_MARK.search(joined) is not None or BIDI_CONTROLS.search(joined) is not None


def mask_string(text: str) -> tuple[str, list[str]]:
    """The text with every secret masked, and the kinds of secret masked."""
    kinds: list[str] = []
    text = show_bidi(show_surrogates(text))
    if TEXT_MARK.search(text) is None:
        return text, kinds
    for rule in RULES:
        text, count = apply_rule(rule, text)
        if count and rule.kind not in kinds:
            kinds.append(rule.kind)
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
        pair = _pair_name(node)
        masked = {}
        for key, value in node.items():
            safe_key = mask_key(key, found, path)
            if pair is not None and key == "value":
                masked[safe_key] = mask_named(value, found, _join(path, safe_key), _named_kind(pair))
            else:
                masked[safe_key] = mask_value(key, value, found, _join(path, safe_key))
        return masked
    return node


def _pair_name(node: dict[str, Any]) -> str | None:
    """The name of a name/value pair (`{"name": "X-Api-Key", "value": …}`) when it names a secret."""
    if "value" not in node:
        return None
    names = [node[key] for key in PAIR_NAMES if isinstance(node.get(key), str)]
    return next((name for name in names if secret_name(name)), None)


def _named_kind(name: str) -> str:
    """The kind of secret a name says its value is: a known header's, or a secret-named field's."""
    name = name.lower()
    return f"{name} header value" if name in SECRET_HEADERS else "secret-named field"


def mask_key(key: str, found: list[SecretFound], path: str) -> str:
    """A dict key with any secret in it masked."""
    masked, kinds = mask_string(key)
    found.extend(SecretFound(path or "$", f"{kind} in a key") for kind in kinds)
    return masked


def mask_value(key: str, value: Any, found: list[SecretFound], path: str) -> Any:
    """A value masked; under a name that says it holds a secret, every string and number in it."""
    if not secret_name(key):
        return mask_record(value, found, path)
    return mask_named(value, found, path, _named_kind(key))


def mask_named(node: Any, found: list[SecretFound], path: str, kind: str) -> Any:
    """A value under a secret's name, with every string (unless already masked) and number masked."""
    if isinstance(node, str) and node and not masked_already(node):
        found.append(SecretFound(path or "$", kind))
        return MASK
    if isinstance(node, int | float) and not isinstance(node, bool):
        found.append(SecretFound(path or "$", kind))
        return MASK
    if isinstance(node, list):
        return [mask_named(item, found, f"{path}[{i}]", kind) for i, item in enumerate(node)]
    if isinstance(node, dict):
        masked = {}
        for key, value in node.items():
            safe_key = mask_key(key, found, path)
            masked[safe_key] = mask_named(value, found, _join(path, safe_key), kind)
        return masked
    return mask_record(node, found, path)


def strings_in(entry: Any) -> Iterator[str]:
    """Every string in a string, a dataclass or a model, nested ones included."""
    if isinstance(entry, str):
        yield entry
    for name in _field_names(entry):
        yield from strings_in(getattr(entry, name))


def mask_fields(entry: Any, say: Callable[[str, str], str]) -> Any:
    """A dataclass or model with each string field, nested ones too, replaced by `say(text, field name)`."""
    changed = {}
    for name in _field_names(entry):
        value = getattr(entry, name)
        masked = say(value, name) if isinstance(value, str) else mask_fields(value, say)
        if masked is not value:
            changed[name] = masked
    if not changed:
        return entry
    return replace(entry, **changed) if is_dataclass(entry) else entry.model_copy(update=changed)


def _field_names(entry: Any) -> list[str]:
    """The fields of a dataclass or a model instance; none for anything else."""
    if is_dataclass(entry) and not isinstance(entry, type):
        return [f.name for f in fields(entry)]
    return list(type(entry).model_fields) if isinstance(entry, BaseModel) else []


def _join(path: str, key: str) -> str:
    """Extend a JSON path with a key: `a.b`, or `a['odd key']`."""
    if not key.isidentifier():
        return f"{path}[{key!r}]"
    return f"{path}.{key}" if path else key
