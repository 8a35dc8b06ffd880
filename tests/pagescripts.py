"""The scripts a pack's HTML may hold: its one hashed inline script and the inert evidence-records island."""

from __future__ import annotations

import re

from reportgen.output.render import environment

ISLAND = re.compile(r'<script type="application/json" id="evidence-records">[^<]*</script>')


def without_pack_scripts(html: str) -> str:
    """The HTML with the pack's own script and its JSON island taken out, to check nothing else is there."""
    script = str(environment().globals["script"].element)
    assert html.count(script) == 1, "the page must hold the pack's script exactly once"
    assert environment().globals["script"].csp in html, "the page's CSP must allow the script by its hash"
    return ISLAND.sub("", html.replace(script, ""))
