"""The scripts a pack's HTML may hold: its one hashed inline script and its inert packed data."""

from __future__ import annotations

import base64
import gzip
import json
import re
from html import escape
from typing import Any

from reportgen.output.render import environment

# A data <script> holds base85 alone (no "<"), so nothing in it can close the element or be run.
PACKED = re.compile(r'<script type="application/octet-stream"([^>]*)>([^<]*)</script>')
BASE85 = re.compile(r"[0-9A-Za-z!#$%&()*+\-;=>?@^_`{|}~.]*")


def without_pack_scripts(html: str) -> str:
    """The HTML with the pack's own script and its packed data taken out, to check nothing else is there."""
    script = str(environment().globals["script"].element)
    assert html.count(script) == 1, "the page must hold the pack's script exactly once"
    assert environment().globals["script"].csp in html, "the page's CSP must allow the script by its hash"
    return PACKED.sub("", html.replace(script, ""))


def unpack(text: str) -> str:
    """The text a data <script> packs (gzip, then base85 with "<" written as ".")."""
    assert BASE85.fullmatch(text), "a data <script> must hold base85 alone"
    return gzip.decompress(base64.b85decode(text.replace(".", "<"))).decode("utf-8")


def packed(html: str, attribute: str) -> list[str]:
    """The unpacked texts of the page's data <script>s whose attributes include ATTRIBUTE."""
    return [unpack(body) for attributes, body in PACKED.findall(html) if attribute in attributes]


def records_island(html: str) -> dict[str, Any]:
    """The evidence records a dashboard embeds, by session id."""
    (text,) = packed(html, 'id="evidence-records"')
    return json.loads(text)


def with_unpacked(data: bytes) -> bytes:
    """A file's bytes and, for a page, everything its data <script>s pack: to scan all it can show."""
    if not data.lstrip().startswith(b"<!DOCTYPE html>"):
        return data
    html = data.decode("utf-8")
    return "\n".join([html, *(unpack(body) for _, body in PACKED.findall(html))]).encode("utf-8")


def as_markup(html: str) -> str:
    """The page as the browser builds it: packed markup in place, packed data as the text it shows."""

    def opened(match: re.Match[str]) -> str:
        text = unpack(match[2])
        return text if 'data-rows="markup"' in match[1] else escape(text)

    return PACKED.sub(opened, html)
