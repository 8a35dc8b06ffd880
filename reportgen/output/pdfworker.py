"""The PDF worker: prints one document's HTML to PDF with WeasyPrint, in a child process.

WeasyPrint lays out untrusted evidence text; a crash, a memory blow-up or a hang there must not
take the build down, so `reportgen.output.pdf` runs `work` in a fresh (spawned) process with a memory
limit and a timeout, and gets back the PDF and what was fetched, or one line saying why not.
This module imports nothing of reportgen but the package's resources, so the child starts fast.

The worker sees only what the package ships: fontconfig is pointed at a folder holding the
package's fonts alone (no system font can stand in for a missing glyph), and the URL fetcher
serves the package's own stylesheets and fonts and refuses everything else, logging each refusal.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import resource
import time
from dataclasses import dataclass, replace
from datetime import datetime
from importlib import resources
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

TEMPLATES = "reportgen.templates"
FONT_STYLESHEET = "fonts.css"
FONT_FOLDER = "fonts"
# What the fetcher serves: `reportgen:<name>` for a stylesheet or font of the package.
PACKAGE_SCHEME = "reportgen:"
SERVED_TYPES = {".css": "text/css", ".ttf": "font/ttf", ".otf": "font/otf"}
SAFE_NAME = re.compile(r"^[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*\.[a-z0-9]+$")
# A data: URL this short can only be a tiny inline image or font hint; anything bigger is refused.
DATA_URL_LIMIT = 2048
# No document links a relative resource, so a fixed base keeps PDFs independent of where the
# pack is written; the .invalid domain can never resolve, and the fetcher refuses it anyway.
BASE_URL = "https://reportgen.invalid/"
# fontconfig for the worker: the package's fonts and no other, and every generic family mapped to
# them, so a family the document names but the package lacks falls back to a shipped font.
FONTS_CONF = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
<dir>{fonts}</dir>
<cachedir>{cache}</cachedir>
{aliases}
</fontconfig>
"""
GENERIC_FAMILIES = {
    "sans-serif": "Noto Sans",
    "serif": "Noto Sans",
    "system-ui": "Noto Sans",
    "cursive": "Noto Sans",
    "fantasy": "Noto Sans",
    "monospace": "Noto Sans Mono",
}
SYMBOLS_FAMILY = "Noto Sans Symbols2"

# Where the worker's stderr goes, inside the scratch folder.
STDERR_LOG = "stderr.log"

LOG = logging.getLogger("reportgen.pdf.fetch")


@dataclass(frozen=True)
class AttachedFile:
    """A file embedded in the PDF: name, description, bytes and its relationship to the document."""

    name: str
    description: str
    data: bytes
    relationship: str = "Data"


@dataclass(frozen=True)
class PdfJob:
    """Everything the worker needs to print one PDF; nothing else of the build reaches it."""

    html: str
    identifier: bytes
    created: datetime
    authors: tuple[str, ...] = ()
    subject: str = ""
    keywords: tuple[str, ...] = ()
    attachments: tuple[AttachedFile, ...] = ()
    variant: str | None = None
    memory_limit: int = 0


@dataclass(frozen=True)
class PdfResult:
    """The printed PDF and what the fetcher served and refused on the way."""

    pdf: bytes
    served: tuple[str, ...]
    refused: tuple[str, ...]
    messages: tuple[str, ...]
    peak_rss: int
    seconds: float


# --- the fetcher -----------------------------------------------------------------------------


def package_resource(url: str) -> tuple[bytes, str] | None:
    """The bytes and type of a `reportgen:` URL naming a stylesheet or font of the package, else None."""
    name = url[len(PACKAGE_SCHEME) :]
    suffix = Path(name).suffix
    if not SAFE_NAME.match(name) or suffix not in SERVED_TYPES:
        return None
    found = resources.files(TEMPLATES).joinpath(*name.split("/"))
    return (found.read_bytes(), SERVED_TYPES[suffix]) if found.is_file() else None


def refusal(url: str) -> str | None:
    """Why a URL is not fetched, or None when it is one the fetcher may serve."""
    if url.startswith(PACKAGE_SCHEME):
        return None if package_resource(url) else "not a stylesheet or font of the package"
    if url.startswith("data:"):
        return None if len(url) <= DATA_URL_LIMIT else f"data URL longer than {DATA_URL_LIMIT} characters"
    return "only the package's own stylesheets and fonts are fetched"


def make_fetcher() -> Any:
    """A WeasyPrint URL fetcher serving the package's stylesheets and fonts and small data URLs only."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class PackageFetcher(URLFetcher):
        """Serves `reportgen:` resources and small data URLs; refuses, logs and records the rest."""

        def __init__(self) -> None:
            super().__init__(timeout=1, allowed_protocols=("data",), allow_redirects=False)
            self.served: list[str] = []
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            """Serve or refuse one URL."""
            reason = refusal(url)
            if reason:
                self.refused.append(url)
                LOG.warning("refused to fetch %s: %s", url[:120], reason)
                raise ValueError(f"reportgen refused {url[:80]}: {reason}")
            self.served.append(url[:120])
            if url.startswith("data:"):
                return super().fetch(url, headers)  # urllib's data: handler; no other protocol is allowed
            data, content_type = package_resource(url) or (b"", "")
            return URLFetcherResponse(url, data, {"Content-Type": content_type})

    return PackageFetcher()


# --- printing --------------------------------------------------------------------------------


def aliases() -> str:
    """fontconfig aliases sending each generic family to a shipped font, symbols after it."""
    return "\n".join(
        f'<alias binding="same"><family>{generic}</family><prefer><family>{family}</family>'
        f"<family>{SYMBOLS_FAMILY}</family></prefer></alias>"
        for generic, family in GENERIC_FAMILIES.items()
    )


def package_fonts_only(scratch: Path) -> None:
    """Point fontconfig at a folder holding only the package's fonts (call before WeasyPrint loads)."""
    fonts = scratch / "fonts"
    fonts.mkdir()
    for item in resources.files(TEMPLATES).joinpath(FONT_FOLDER).iterdir():
        if item.name.endswith(".ttf"):
            (fonts / item.name).write_bytes(item.read_bytes())
    conf = scratch / "fonts.conf"
    cache = scratch / "fontconfig-cache"
    conf.write_text(FONTS_CONF.format(fonts=escape(str(fonts)), cache=escape(str(cache)), aliases=aliases()))
    os.environ["FONTCONFIG_FILE"] = str(conf)


def finish(document: Any, pdf: Any) -> None:
    """Open on the outline, show the title, label pages as their footers number them; list each associated file once."""
    import pydyf

    pdf.catalog["PageMode"] = "/UseOutlines"
    pdf.catalog["ViewerPreferences"] = pydyf.Dictionary({"DisplayDocTitle": "true"})
    pdf.catalog["PageLabels"] = pydyf.Dictionary({"Nums": pydyf.Array([0, pydyf.Dictionary({"S": "/D"})])})
    # WeasyPrint's PDF/A-3 step lists each associated file twice; once is what the standard means.
    if "AF" in pdf.catalog:
        pdf.catalog["AF"] = pydyf.Array(dict.fromkeys(pdf.catalog["AF"]))


def attachments(job: PdfJob, fetcher: Any) -> list[Any]:
    """The job's files as WeasyPrint attachments, dated from the build time, never the clock."""
    import weasyprint

    return [
        weasyprint.Attachment(
            string=f.data,
            url_fetcher=fetcher,
            name=f.name,
            description=f.description,
            created=job.created,
            modified=job.created,
            relationship=f.relationship,
        )
        for f in job.attachments
    ]


def print_pdf(job: PdfJob) -> PdfResult:
    """Lay out and write the PDF of one job (in the current process)."""
    import weasyprint

    started = time.perf_counter()
    from weasyprint.text.fonts import FontConfiguration

    fetcher = make_fetcher()
    html = weasyprint.HTML(string=job.html, base_url=BASE_URL, url_fetcher=fetcher)
    # @font-face rules of a stylesheet given here are read only with the font configuration.
    font_config = FontConfiguration()
    fonts = weasyprint.CSS(url=PACKAGE_SCHEME + FONT_STYLESHEET, url_fetcher=fetcher, font_config=font_config)
    document = html.render(stylesheets=[fonts], font_config=font_config, pdf_variant=job.variant)
    document.metadata.authors = list(job.authors)
    document.metadata.description = job.subject or None
    document.metadata.keywords = list(job.keywords)
    pdf = document.write_pdf(
        pdf_variant=job.variant,
        pdf_identifier=job.identifier,
        attachments=attachments(job, fetcher),
        finisher=finish,
    )
    seconds = time.perf_counter() - started
    return PdfResult(pdf, tuple(fetcher.served), tuple(fetcher.refused), (), peak_memory(), seconds)


def peak_memory() -> int:
    """This process's peak resident memory, in bytes.

    Linux keeps `ru_maxrss` across exec, so a spawned child would report its parent's peak; the
    high-water mark of /proc/self/status belongs to this process's own memory alone.
    """
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    line = next((line for line in status.splitlines() if line.startswith("VmHWM:")), "VmHWM: 0 kB")
    return int(line.split()[1]) * 1024


# --- the child process -----------------------------------------------------------------------


class Collector(logging.Handler):
    """Keeps the worker's log messages, to be sent back to the parent with the result."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep one message, as one line."""
        self.messages.append(" ".join(f"{record.name}: {record.getMessage()}".split())[:300])


def limit_memory(limit: int) -> None:
    """Cap the address space of this process, so a blow-up fails here instead of on the machine."""
    if limit > 0:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def one_line(text: str) -> str:
    """A message as one short line."""
    return " ".join(text.split())[:300]


def failure(exc: Exception, memory_limit: int) -> str:
    """Why printing failed, in one line."""
    if isinstance(exc, MemoryError) or (isinstance(exc, OSError) and exc.errno == errno.ENOMEM):
        return f"out of memory (limit {memory_limit // 2**20} MiB)"
    return one_line(f"{type(exc).__name__}: {exc}")


def keep_stderr(scratch: Path) -> None:
    """Send what the C libraries print (GLib, Pango) to a file the parent reads, not to the user's terminal."""
    log = os.open(scratch / STDERR_LOG, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 2)
    os.close(log)


def work(job: PdfJob, sender: Connection, scratch: str) -> None:
    """The child's entry point: print the job and send back ("ok", result) or ("error", one line).

    `scratch` is a folder the parent made and removes, whatever happens to this process.
    """
    collector = Collector()
    for name in ("weasyprint", "reportgen"):
        logging.getLogger(name).addHandler(collector)
        logging.getLogger(name).propagate = False
    try:
        keep_stderr(Path(scratch))
        package_fonts_only(Path(scratch))
        limit_memory(job.memory_limit)
        result = print_pdf(job)
        sender.send(("ok", replace(result, messages=tuple(collector.messages))))
    except Exception as exc:  # the parent reports one line; the build goes on without PDFs
        sender.send(("error", failure(exc, job.memory_limit)))
    finally:
        sender.close()
