"""What a readiness pack holds: its documents, its own file names, and a file of it in memory.

Shared by the renderer of a pack (`reportgen.output.pack`), its writer (`reportgen.output.writer`)
and its checker (`reportgen.output.verify`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from reportgen.output.formats import REGISTRY
from reportgen.view.model import OutputFile
from reportgen.view.words import bytes_text

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://reportgen.dev/readiness-pack/v1"
SUMMARY, INDEX, MANIFEST = "summary.json", "index.html", "manifest.json"
DOCUMENTS = {
    "closure-dashboard": (
        "Final reporting closure dashboard",
        "The verdict, every open item with its evidence, the checks, resolved chains, counts and inputs.",
    ),
    "operator-runbook": (
        "Operator runbook",
        "What to do, step by step, to close the open items; what to attach to the release record.",
    ),
}


class PackError(Exception):
    """A pack that cannot be built as asked, or written where asked."""


@dataclass(frozen=True)
class PackFile:
    """One rendered file of the pack, in memory."""

    name: str
    title: str
    data: bytes

    @property
    def sha256(self) -> str:
        """The file's sha256, hex."""
        return hashlib.sha256(self.data).hexdigest()

    def described(self) -> OutputFile:
        """The file as the templates list it, with its digest."""
        return OutputFile(self.name, self.title, self.sha256, bytes_text(len(self.data)))


def pack_file_names() -> frozenset[str]:
    """Every name a file of a pack can have (its signature aside), whatever formats it was built in."""
    written = {name for f in REGISTRY.values() for name in f.file_names(tuple(DOCUMENTS))}
    return frozenset(written | {INDEX, MANIFEST})
