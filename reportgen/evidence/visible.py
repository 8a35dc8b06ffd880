"""Evidence text as every document shows it: control characters visible, bare links inert.

A control character in evidence would be obeyed by whatever shows the text (a terminal's escape
sequence, a line separator, a NUL that ends an XML document), so each is written as a visible
`<U+001B>` mark, as bidi controls are. Tab, line feed and carriage return stay: they are the
whitespace and line ends that every format already handles.
"""

from __future__ import annotations

import re
from typing import Any

# C0 but tab, LF and CR; DEL and C1; line and paragraph separators; bidi controls; lone surrogates
# (which cannot even be encoded as UTF-8); U+FFFE and U+FFFF, which no XML document may hold.
CONTROLS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\ud800-\udfff"
    "\ufffe\uffff]"
)

# The controls a JSON encoder writes raw, as UTF-8 (it escapes C0 itself); only inside strings.
RAW_JSON_CONTROLS = re.compile(rb"\x7f|\xc2[\x80-\x9f]|\xe2\x80[\xa8\xa9]")

# The triggers of bare-link recognition in GitHub's Markdown (cmark-gfm's autolink extension) and in
# linkify-it: a scheme's `:` before `/`, a second `/` of `//`, the `.` of `www.`, the `.` before a
# top-level domain linkify-it knows (every two-letter one and its short list), and `@` (e-mail
# addresses, `mailto:`, `xmpp:`). Other dots, as in `evidence.ndjson`, start no link and stay.
LINK_COLON = re.compile(r"(?<=[A-Za-z0-9]):(?=/)")
LINK_SLASHES = re.compile(r"/(?=/)")
TOP_LEVEL = r"[^\W\d_]{2}|biz|com|edu|gov|net|org|pro|web|xxx|aero|asia|coop|info|museum|name|shop|xn--[\w-]+"
LINK_DOT = re.compile(rf"(?<=www)\.|(?<=\w)\.(?=(?:{TOP_LEVEL})(?![\w-]))", re.IGNORECASE)
# Invisible word joiners around `@`: e-mail recognition in cmark-gfm runs on the text after
# escapes are undone, so only characters that cannot be part of an address break it there, and
# the one after it also keeps `@name` from becoming a mention.
WORD_JOINER = "\u2060"


def show_controls(text: str) -> str:
    """The text with every control character written as a visible `<U+001B>` mark."""
    return CONTROLS.sub(lambda m: f"<U+{ord(m[0]):04X}>", text)


def json_escaped(data: bytes) -> bytes:
    """JSON text with the controls JSON may hold raw (DEL, C1, U+2028/9) written as `\\u` escapes.

    The values read back the same, and a terminal that shows the file obeys none of them.
    """
    return RAW_JSON_CONTROLS.sub(lambda m: f"\\u{ord(m[0].decode()):04x}".encode(), data)


def shown_json(node: Any) -> Any:
    """A JSON value with control characters shown as marks in every string and key."""
    if isinstance(node, str):
        return show_controls(node)
    if isinstance(node, list):
        return [shown_json(item) for item in node]
    if isinstance(node, dict):
        return {show_controls(key): shown_json(value) for key, value in node.items()}
    return node


def inert_links(markdown: str) -> str:
    """Escaped Markdown text in which no renderer finds a bare URL, `www.` name or e-mail address.

    Backslash escapes keep the shown text exactly as it was; they only stop the recognisers.
    """
    text = LINK_COLON.sub(r"\\:", markdown)
    text = LINK_SLASHES.sub(r"/\\", text)
    text = LINK_DOT.sub(r"\\.", text)
    return text.replace("@", WORD_JOINER + "@" + WORD_JOINER)
