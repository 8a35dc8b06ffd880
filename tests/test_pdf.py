"""The pack's PDFs: navigation, metadata, attachments and the round trip back to the verdict,
the PDF/A and PDF/UA variants, fonts, the URL fetcher, and a renderer that fails.

PDF rendering is slow, so each pack is built once per module and every test reads it.
"""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import re
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pypdf
import pytest
from evidence import A1, EXAMPLE_STORE, example, record, write_ndjson, write_store

from reportgen.evidence.load import load
from reportgen.judge.groups import group_items
from reportgen.judge.summary import summarise
from reportgen.output import pdfworker
from reportgen.output.pack import PackOptions, pack_renderers, render_pack
from reportgen.output.pdf import (
    MEMORY_ENV,
    PdfError,
    PdfOptions,
    evidence_ndjson,
    pdf_options,
    print_in_child,
    record_json,
)
from reportgen.output.pdfworker import PdfJob
from reportgen.output.render import environment
from reportgen.view.words import DASHBOARD_SECTIONS, RUNBOOK_SECTIONS

DOCUMENTS = ("closure-dashboard", "operator-runbook")
TITLES = {"closure-dashboard": "Final reporting closure dashboard", "operator-runbook": "Operator runbook"}
HEADLINE = "Blocked: hold release closure"
FONT_FILES = ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf", "NotoSansMono-Regular.ttf", "NotoSansSymbols2-Regular.ttf")
SHIPPED_FONT = re.compile(r"^/[A-Z]{6}\+Noto-Sans(-Bold|-Mono|-Symbols2)?$")
FETCH_BAIT = '<img src="http://127.0.0.1:9/x"> <style>p { background: url(file:///etc/passwd) }</style>'
WHEN = datetime(2025, 6, 2, 11, 30, tzinfo=UTC)
WAIVERS = "fixtures/waivers/example.yaml"


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `reportgen ARGS` in a fresh process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "reportgen", *args], capture_output=True, text=True, timeout=300, cwd=cwd, env=env
    )


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    """The example pack with an author and the evidence attached."""
    out = tmp_path_factory.mktemp("pdf") / "pack"
    args = ("--out", str(out), "--title", "Example release", "--author", "Release audit", "--attach-evidence")
    result = run("build", str(EXAMPLE_STORE), *args)
    assert result.returncode == 1, result.stderr
    return out


@pytest.fixture(scope="module", params=["pdf/a-3b", "pdf/ua-1"])
def variant(request, tmp_path_factory):
    """The example's PDFs in an archival or accessible variant, the evidence attached."""
    out = tmp_path_factory.mktemp("variant") / "pack"
    args = ("--out", str(out), "--format", "pdf,json", "--pdf-variant", request.param, "--attach-evidence")
    result = run("build", str(EXAMPLE_STORE), *args)
    assert result.returncode == 1, result.stderr
    return request.param, out


def reader(folder: Path, document: str) -> pypdf.PdfReader:
    """A document's PDF, opened with pypdf."""
    return pypdf.PdfReader(folder / f"{document}.pdf")


def outline(pdf: pypdf.PdfReader) -> list[tuple[int, str, int]]:
    """The bookmark outline as (depth, title, page number) in document order."""
    found: list[tuple[int, str, int]] = []

    def walk(entries, depth):
        for entry in entries:
            if isinstance(entry, list):
                walk(entry, depth + 1)
            else:
                found.append((depth, entry.title, pdf.get_destination_page_number(entry) + 1))

    walk(pdf.outline, 0)
    return found


def attachments(folder: Path, document: str) -> dict[str, bytes]:
    """The files embedded in a document's PDF, by name."""
    return {name: data[0] for name, data in reader(folder, document).attachments.items()}


def verdict(summary: dict) -> dict:
    """What a re-check must reproduce: states, decision, open items, checks, time and rules."""
    return {
        "closure": summary["closure"]["state"],
        "readiness": summary["readiness"]["state"],
        "decision": summary["readiness"]["release_decision"]["recommended_state"],
        "items": [
            (i["id"], i["code"], i["severity"], i["loop"], i["health_id"], i["provider"], i["retry_state"])
            for i in summary["closure"]["open_items"]
        ],
        "accepted": [(i["id"], i["waiver"]["id"]) for i in summary["closure"].get("accepted_items", [])],
        "checks": [(c["id"], c["status"]) for c in summary["readiness"]["checks"]],
        "as_of": summary["as_of"],
        "rules": summary["rules"],
    }


def page_texts(pdf: bytes) -> list[str]:
    """The text of each page of a PDF."""
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def sha256(data: bytes) -> str:
    """Hex sha256."""
    return hashlib.sha256(data).hexdigest()


# --- navigation ------------------------------------------------------------------------------


def test_the_dashboard_outline_runs_from_the_document_to_the_groups_and_each_loop(pack):
    entries = outline(reader(pack, "closure-dashboard"))
    assert entries[0][:2] == (0, TITLES["closure-dashboard"])
    top = [title for depth, title, _ in entries if depth == 1]
    assert top[0] == f"Verdict: ✖ {HEADLINE}"
    assert top[1:] == [s.title for s in DASHBOARD_SECTIONS[1:]]
    start = [title for _, title, _ in entries].index("Open items")
    # The groups of what fixes the items lead; the PDF lists the items as rows under their loop, unbookmarked.
    following = [(depth, title) for depth, title, _ in entries[start + 1 : start + 4]]
    assert following == [(2, "Grouped by what fixes them"), (2, "Executive retry health alert loop"), (1, "Warnings")]


def test_warnings_are_not_bookmarked_as_if_they_were_open_items(pack):
    entries = outline(reader(pack, "closure-dashboard"))
    after = [depth for depth, _, _ in entries[[t for _, t, _ in entries].index("Warnings") + 1 :]]
    assert after[0] == 1  # the next section follows at once


def test_the_runbook_outline_has_its_sections_and_one_bookmark_per_step(pack):
    entries = outline(reader(pack, "operator-runbook"))
    assert [title for depth, title, _ in entries if depth == 1][1:] == [s.title for s in RUNBOOK_SECTIONS[1:]]
    start = [title for _, title, _ in entries].index("Operator Steps")
    steps = [(depth, title) for depth, title, _ in entries[start + 1 : start + 3]]
    # One step per group of what fixes the items: in the example, each item is a group of its own.
    assert steps == [(2, group.title) for group in group_items(summarise(load([str(EXAMPLE_STORE)])).closure.open_items)]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_the_contents_list_gives_the_page_each_section_starts_on(pack, document):
    pdf = reader(pack, document)
    first_page = pdf.pages[0].extract_text()
    bookmarks = {title: page for depth, title, page in outline(pdf) if depth == 1}
    bookmarks["Verdict"] = bookmarks["Release readiness summary"] = 1
    sections = DASHBOARD_SECTIONS if document == "closure-dashboard" else RUNBOOK_SECTIONS
    for section in sections:
        listed = re.search(re.escape(section.title) + r" ?\.{3,} *(\d+)", first_page)
        assert listed, section.title
        assert int(listed[1]) == bookmarks[section.title], section.title


@pytest.mark.parametrize("document", DOCUMENTS)
def test_pages_are_labelled_as_their_footers_number_them_and_carry_the_verdict(pack, document):
    pdf = reader(pack, document)
    count = len(pdf.pages)
    assert "/PageLabels" in pdf.trailer["/Root"]
    assert pdf.page_labels == [str(n) for n in range(1, count + 1)]
    for number, page in enumerate(pdf.pages, start=1):
        text = page.extract_text()
        assert f"Page {number} of {count}" in text and HEADLINE in text and TITLES[document] in text


# --- metadata --------------------------------------------------------------------------------


@pytest.mark.parametrize("document", DOCUMENTS)
def test_metadata_names_the_document_the_verdict_the_author_the_date_and_the_language(pack, document):
    pdf = reader(pack, document)
    meta = pdf.metadata
    assert meta["/Title"] == f"{TITLES[document]} · Example release"
    assert meta["/Author"] == "Release audit"
    assert meta["/Subject"].startswith(f"{HEADLINE} (as of 2025-06-02 11:30:00 UTC). ")
    assert meta["/Keywords"].split(", ")[:3] == ["closure:open", "readiness:blocked", "rules:chain"]
    assert meta["/CreationDate"] == meta["/ModDate"] == "D:20250602113000Z"
    root = pdf.trailer["/Root"]
    assert root["/Lang"] == "en" and root["/PageMode"] == "/UseOutlines"
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])


def test_the_creation_date_follows_source_date_epoch(tmp_path):
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    result = run("build", str(EXAMPLE_STORE), "--out", str(tmp_path / "p"), "--format", "pdf", env=env)
    assert result.returncode == 1, result.stderr
    assert reader(tmp_path / "p", "operator-runbook").metadata["/CreationDate"] == "D:20231114221320Z"


# --- attachments and the round trip ----------------------------------------------------------


@pytest.mark.parametrize("document", DOCUMENTS)
def test_each_pdf_carries_the_summary_the_inputs_and_the_evidence_with_their_digests(pack, document):
    files = attachments(pack, document)
    assert sorted(files) == ["evidence.ndjson", "inputs.json", "summary.json"]
    assert files["summary.json"] == (pack / "summary.json").read_bytes()
    inputs = json.loads(files["inputs.json"])
    data = EXAMPLE_STORE.read_bytes()
    # Named by its absolute path, the input is named from its folder on, never by the builder's home.
    assert inputs["files"] == [
        {"path": EXAMPLE_STORE.name, "sha256": sha256(data), "bytes": len(data), "format": "cavra-store", "records": 21}
    ]
    evidence = inputs["evidence"]
    assert evidence["sha256"] == sha256(files["evidence.ndjson"]) and evidence["bytes"] == len(files["evidence.ndjson"])
    assert evidence["records"] == evidence["lines"] == 21


def test_pikepdf_reads_the_same_attachments_with_their_descriptions(pack):
    files = attachments(pack, "closure-dashboard")
    with pikepdf.open(pack / "closure-dashboard.pdf") as pdf:
        embedded = {name: spec for name, spec in pdf.attachments.items()}
        assert {name: spec.get_file().read_bytes() for name, spec in embedded.items()} == files
        assert "reportgen check" in str(embedded["evidence.ndjson"].description)


def test_the_evidence_in_a_pdf_gives_the_same_verdict_when_checked_again(pack, tmp_path):
    files = attachments(pack, "closure-dashboard")
    (tmp_path / "evidence.ndjson").write_bytes(files["evidence.ndjson"])
    command = json.loads(files["inputs.json"])["evidence"]["recheck"].split()
    assert command[:2] == ["reportgen", "check"]
    result = run(*command[1:], "--json", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert verdict(json.loads(result.stdout)) == verdict(json.loads(files["summary.json"]))


def test_a_record_is_attached_as_read_with_its_nested_record_under_its_own_key():
    records = example()
    original = next(r for r in records if r["metadata_kind"].endswith("-alert-delivery-retry-plan"))
    loaded = load([str(EXAMPLE_STORE)])
    read = next(r for r in loaded.records if r.session_id == original["session_id"])
    line = record_json(read)
    nested = "recovery_executive_report_delivery_retry_health_alert_delivery_retry_plan"
    assert "body" not in line and nested in line
    assert set(line) == set(original)


def test_rejected_and_unrecognised_entries_travel_so_a_re_check_counts_them_again(tmp_path):
    records = example() + [dict(record(example(), A1), session_id="unknown-1", metadata_kind="some-new-kind")]
    store = write_store(tmp_path / "store.json", records)
    bad = write_ndjson(tmp_path / "bad.ndjson", [{"session_id": "x", "metadata_kind": "release-connector-delivery"}])
    loaded = load([str(store), str(bad)])
    summary = summarise(loaded)
    again_file = tmp_path / "evidence.ndjson"
    again_file.write_bytes(evidence_ndjson(loaded.records, summary.inputs))
    again = summarise(load([str(again_file)]), summary.rules, summary.as_of)
    assert "evidence_unreadable" in [i.code for i in again.closure.open_items]
    assert verdict(json.loads(again.to_json())) == verdict(json.loads(summary.to_json()))
    assert (len(again.inputs.rejected), again.inputs.unrecognised) == (1, 1)


# --- variants and fonts ----------------------------------------------------------------------


def test_a_variant_declares_itself_in_its_xmp_metadata(variant):
    name, out = variant
    for document in DOCUMENTS:
        with pikepdf.open(out / f"{document}.pdf") as pdf:
            meta = pdf.open_metadata()
            if name == "pdf/a-3b":
                assert (meta["pdfaid:part"], meta["pdfaid:conformance"]) == ("3", "B")
                assert "/OutputIntents" in pdf.Root
            else:
                assert meta["pdfuaid:part"] == "1"
                assert pdf.Root.MarkInfo.Marked is True and "/StructTreeRoot" in pdf.Root
            assert meta["dc:title"].startswith(TITLES[document]) and meta["dc:creator"] == ["reportgen"]
            assert pdf.pdf_version == "1.7" and str(pdf.Root.Lang) == "en"


def test_pdf_a_lists_each_attachment_once_as_an_associated_file_and_pdf_ua_none(variant):
    name, out = variant
    with pikepdf.open(out / "closure-dashboard.pdf") as pdf:
        if name != "pdf/a-3b":
            assert "/AF" not in pdf.Root  # associated files are a PDF/A-3 notion
            return
        associated = {str(spec.UF): str(spec.AFRelationship) for spec in pdf.Root.AF}
        assert len(pdf.Root.AF) == 3
        assert associated == {"summary.json": "/Data", "inputs.json": "/Data", "evidence.ndjson": "/Source"}


def embedded_fonts(path: Path) -> dict[str, bool]:
    """Every font of a PDF: its base name, and whether its program is embedded."""
    fonts = {}
    with pikepdf.open(path) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/Font" and "/FontDescriptor" in obj:
                fonts[str(obj.BaseFont)] = "/FontFile2" in obj.FontDescriptor or "/FontFile3" in obj.FontDescriptor
    return fonts


def test_every_font_is_a_shipped_noto_font_and_embedded(pack, variant):
    _, out = variant
    for path in [pack / f"{d}.pdf" for d in DOCUMENTS] + [out / f"{d}.pdf" for d in DOCUMENTS]:
        fonts = embedded_fonts(path)
        assert fonts and all(fonts.values()), (path, fonts)
        assert all(SHIPPED_FONT.match(name) for name in fonts), (path, sorted(fonts))
        assert {name.split("+")[1] for name in fonts} >= {"Noto-Sans", "Noto-Sans-Bold", "Noto-Sans-Mono"}


def test_the_shipped_fonts_come_with_their_licence():
    folder = Path(__file__).resolve().parents[1] / "templates" / "fonts"
    assert "SIL OPEN FONT LICENSE" in (folder / "OFL.txt").read_text()
    assert sorted(p.name for p in folder.glob("*.ttf")) == sorted(FONT_FILES)


# --- safe rendering --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "https://example.com/a.css",
        "file:///etc/passwd",
        "ftp://example.com/x",
        "reportgen:../pyproject.toml",
        "reportgen:/etc/passwd",
        "reportgen:closure-dashboard.html.j2",
        "reportgen:fonts/OFL.txt",
        "data:image/png;base64," + "A" * 4000,
    ],
)
def test_the_fetcher_refuses_logs_and_records_anything_but_the_package_s_styles_and_fonts(url, caplog):
    fetcher = pdfworker.make_fetcher()
    with pytest.raises(ValueError, match="refused"):
        fetcher.fetch(url)
    assert fetcher.refused == [url] and fetcher.served == []
    assert "refused to fetch" in caplog.text


def test_the_fetcher_serves_the_package_s_fonts_and_stylesheets_and_small_data_urls():
    fetcher = pdfworker.make_fetcher()
    font = fetcher.fetch("reportgen:fonts/NotoSans-Regular.ttf")
    assert font.read(4) == b"\x00\x01\x00\x00" and font.content_type == "font/ttf"
    assert b"@font-face" in fetcher.fetch("reportgen:fonts.css").read()
    assert fetcher.fetch("data:text/plain,hi").read() == b"hi"
    assert fetcher.refused == [] and len(fetcher.served) == 3


def test_html_that_asks_for_urls_gets_them_refused_and_nothing_is_fetched():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        bait = f"http://127.0.0.1:{listener.getsockname()[1]}/x"
        html = (
            f'<html><head><link rel="stylesheet" href="{bait}.css"></head><body><img src="{bait}">'
            '<p style="background: url(file:///etc/passwd)">x</p></body></html>'
        )
        result = print_in_child(PdfJob(html, b"0" * 32, WHEN), timeout=120)
        with pytest.raises(BlockingIOError):
            listener.accept()
    assert set(result.refused) == {bait, f"{bait}.css", "file:///etc/passwd"}
    assert result.pdf.startswith(b"%PDF")


def test_evidence_text_that_looks_like_html_or_css_makes_the_renderer_fetch_nothing(tmp_path):
    records = example()
    bait = dict(record(records, A1), session_id=f"rcd-bait {FETCH_BAIT}", health_id=f"health {FETCH_BAIT}")
    bait["providers"] = bait["failed_providers"] = [f"prov {FETCH_BAIT}"]
    records.append(bait)
    loaded = load([str(write_store(tmp_path / "store.json", records))])
    summary = summarise(loaded)
    assert any(FETCH_BAIT in (i.provider or "") for i in summary.closure.open_items)
    options = PackOptions(formats=("pdf",))
    by_format = pack_renderers(summary, options, loaded.records)
    files = {f.name: f.data for f in render_pack(summary, options, by_format=by_format, records=loaded.records)}
    results = by_format["pdf"].results
    assert [document for document, _ in results] == list(DOCUMENTS)
    for _, result in results:
        assert result.refused == ()
        assert set(result.served) == {"reportgen:fonts.css"} | {f"reportgen:fonts/{name}" for name in FONT_FILES}
    assert "127.0.0.1:9/x" in "".join(page_texts(files["closure-dashboard.pdf"])).replace("\n", "")


def test_a_long_table_repeats_its_header_on_every_page_and_never_splits_a_row():
    rows = "".join(f"<tr><td>row {i:03d}</td><td>first line<br>second line {i:03d}</td></tr>" for i in range(120))
    head = "<thead><tr><th>Name</th><th>Details</th></tr></thead>"
    style = f"<style>{environment().globals['stylesheet']}</style>"
    html = f"<html><head>{style}</head><body><table>{head}<tbody>{rows}</tbody></table></body></html>"
    pages = page_texts(print_in_child(PdfJob(html, b"1" * 32, WHEN), 120).pdf)
    assert len(pages) > 2
    assert all("Name" in page and "Details" in page for page in pages)
    for i in range(120):
        assert [f"row {i:03d}" in page for page in pages] == [f"second line {i:03d}" in page for page in pages], i


# --- a renderer that fails -------------------------------------------------------------------


def test_a_renderer_out_of_memory_leaves_the_rest_of_the_pack_and_exits_2(tmp_path):
    out = tmp_path / "pack"
    result = run("build", str(EXAMPLE_STORE), "--out", str(out), env={**os.environ, MEMORY_ENV: "60"})
    assert result.returncode == 2
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1 and "no PDF written" in errors[0] and "Traceback" not in result.stderr
    verdict, *paths = result.stdout.splitlines()
    assert verdict.startswith("closure: open   readiness: blocked")
    names = [Path(line).name for line in paths]
    assert names == [
        "closure-dashboard.html",
        "closure-dashboard.md",
        "summary.json",
        "open-items.csv",
        "operator-runbook.html",
        "operator-runbook.md",
        "index.html",
        "manifest.json",
    ]
    assert sorted(p.name for p in out.iterdir()) == sorted(names)
    subjects = {s["name"] for s in json.loads((out / "manifest.json").read_bytes())["subject"]}
    assert subjects == set(names) - {"manifest.json"}
    assert ".pdf" not in (out / "index.html").read_text()


def test_a_renderer_that_outlives_its_timeout_is_stopped():
    with pytest.raises(PdfError, match="did not finish within"):
        print_in_child(PdfJob("<p>x</p>", b"2" * 32, WHEN), timeout=0.01)
    assert multiprocessing.active_children() == []


def test_pdf_options_are_checked_and_limits_come_from_the_environment():
    options = pdf_options("  Audit  team ", "pdf/ua-1", 50, True, {MEMORY_ENV: "512"})
    assert (options.author, options.variant, options.max_rows, options.memory_mb) == ("Audit team", "pdf/ua-1", 50, 512)
    with pytest.raises(ValueError):
        pdf_options(None, "pdf", 50, False, {MEMORY_ENV: "lots"})
    with pytest.raises(ValueError):
        PdfOptions(variant="pdf/x-4")


def test_the_waivers_that_accepted_items_travel_so_a_re_check_accepts_them_again(tmp_path):
    from reportgen.judge.waivers import apply_waivers, load_waivers
    from reportgen.output.pdf import attached_files

    loaded = load([str(EXAMPLE_STORE)])
    summary = apply_waivers(summarise(loaded), load_waivers(Path(__file__).parents[1] / WAIVERS))
    assert summary.closure.accepted_items and summary.closure.state == "closed"
    files = {f.name: f.data for f in attached_files(summary, evidence_ndjson(loaded.records, summary.inputs))}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    command = json.loads(files["inputs.json"])["evidence"]["recheck"].split()
    assert "--waivers" in command
    result = run(*command[1:], "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert verdict(json.loads(result.stdout)) == verdict(json.loads(summary.to_json()))


def test_every_long_list_of_the_pdf_is_cut_with_a_note_and_the_html_keeps_them_all():
    from reportgen.judge.waivers import apply_waivers, load_waivers
    from reportgen.output.pack import pack_info
    from reportgen.output.pdf import bounded_view, print_html
    from reportgen.output.render import TemplateRenderer
    from reportgen.view.build import build_view

    summary = apply_waivers(summarise(load([str(EXAMPLE_STORE)])), load_waivers(Path(__file__).parents[1] / WAIVERS))
    view = build_view(summary, pack_info(summary, PackOptions()))
    cut = bounded_view(view, summary, "closure-dashboard", 1)
    notes = dict(cut.omitted)
    assert sorted(notes) == ["accepted-items", "chain-tallies", "chains", "warnings"]
    assert notes["warnings"] == (
        "This PDF shows 1 of 4 warnings (the first, in the order shown); "
        "the other 3 are in closure-dashboard.html and in summary.json, attached to this PDF."
    )
    printed = print_html("closure-dashboard", cut).decode()
    assert all(note in printed for note in notes.values())
    assert "This PDF shows" not in TemplateRenderer("html", "html").render("closure-dashboard", view).decode()


@pytest.mark.parametrize(("formats", "named", "unnamed"), [
    (("html", "pdf", "csv"), ["closure-dashboard.html", "open-items.csv"], []),
    (("pdf",), ["summary.json, attached to this PDF"], ["closure-dashboard.html", "open-items.csv"]),
])  # fmt: skip
def test_a_pdf_names_where_its_cut_open_items_are_only_among_files_the_pack_has(formats, named, unnamed):
    from reportgen.output.pack import pack_info
    from reportgen.output.pdf import bounded_view
    from reportgen.view.build import build_view

    summary = summarise(load([str(EXAMPLE_STORE)]))
    view = build_view(summary, pack_info(summary, PackOptions(formats=formats)))
    cut = bounded_view(view, summary, "closure-dashboard", 1)
    notes = [text for _, text in cut.omitted if " open items (the most severe" in text]
    assert notes
    assert all(name in note for note in notes for name in named)
    assert not any(name in note for note in notes for name in unnamed)
