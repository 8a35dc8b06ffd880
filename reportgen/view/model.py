"""The view model: everything the pack's templates show, computed from a summary.

Templates only loop and branch over these fields; every label, time, age, grouping and count row
is decided when the view is built (`reportgen.view.build`), once, for every format. Values stay raw
text: each format escapes them itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from markupsafe import Markup

from reportgen.judge.groups import GroupKey
from reportgen.view.charts import Chart
from reportgen.view.lists import MD_ROWS, Listed, elsewhere, listed
from reportgen.view.paging import PAGE_SIZE, Paged, T, page


@dataclass(frozen=True)
class Section:
    """A heading of a document and its stable anchor (the same in HTML and GitHub Markdown)."""

    title: str
    anchor: str


@dataclass(frozen=True)
class OutputFile:
    """One file of the pack, with its digest once it is known."""

    name: str
    title: str
    sha256: str = ""
    size: str = "—"
    note: str = ""


@dataclass(frozen=True)
class DocumentLink:
    """One document of the pack and the files it was written as."""

    title: str
    description: str
    files: tuple[OutputFile, ...]


@dataclass(frozen=True)
class PackInfo:
    """What the pack is: its name, title, formats and build time."""

    name: str
    title: str
    formats: tuple[str, ...]
    built_at: datetime
    generator: str
    documents: tuple[DocumentLink, ...] = ()
    attachments: tuple[OutputFile, ...] = ()
    # The fingerprint (`SHA256:...`) of the key that signs the manifest; None when unsigned.
    signed_by: str | None = None

    @property
    def built_at_iso(self) -> str:
        """The build time as a W3C date (seconds), as PDF metadata wants it."""
        # strftime's %Y is not padded before the year 1000 on every platform; PDF dates need four digits.
        return f"{self.built_at.year:04d}{self.built_at:-%m-%dT%H:%M:%SZ}"


@dataclass(frozen=True)
class Stamp:
    """A time as shown (UTC stated) and as machine-readable ISO-8601."""

    text: str
    iso: str


@dataclass(frozen=True)
class Fact:
    """A labelled value."""

    label: str
    value: str


@dataclass(frozen=True)
class VerdictView:
    """The verdict banner: the answer first."""

    ready: bool
    tone: str
    icon: str
    headline: str
    closure_state: str
    readiness_state: str
    decision: str
    decision_label: str
    reason: str
    as_of: Stamp
    rules: str
    open_items: int
    critical_items: int
    failed_checks: int
    checks: int
    warnings: int
    open_text: str
    checks_text: str


@dataclass(frozen=True)
class EvidenceView:
    """One record behind a finding, located as file:line."""

    session_id: str
    location: str
    kind: str
    kind_label: str
    record_id: str = ""


@dataclass(frozen=True)
class ItemView:
    """One open item, with its facts precomputed."""

    number: int
    id: str
    code: str
    severity: str
    severity_label: str
    severity_icon: str
    loop_title: str
    title: str
    detail: str
    operator_action: str
    provider: str
    health_id: str
    retry_state: str
    retry_state_label: str
    age: str
    facts: tuple[Fact, ...]
    evidence: tuple[EvidenceView, ...]
    evidence_hidden: int
    loop: str = ""
    provider_key: str = ""
    age_seconds: int = -1
    # The number of the item's group of what fixes it (`FixView.number`); 0 when not grouped.
    fix: int = 0


@dataclass(frozen=True)
class LoopGroup:
    """The open items of one loop."""

    loop: str
    title: str
    anchor: str
    items: tuple[ItemView, ...]


@dataclass(frozen=True)
class Example:
    """An open item named as an example of its group: its id and health id."""

    id: str
    health_id: str


@dataclass(frozen=True)
class FixView:
    """Open items that one operator action fixes (`reportgen.judge.groups`), as every document leads with them."""

    number: int
    anchor: str
    # The judge's group key, so that an item names the group that counted it.
    key: GroupKey
    loop: str
    loop_title: str
    code: str
    state: str
    provider: str
    provider_key: str
    severity: str
    severity_label: str
    severity_icon: str
    count: int
    oldest: Stamp
    oldest_age: str
    operator_action: str
    # "One action fixes 12 open items", and when the items' actions differ, whose action is shown.
    action_text: str
    title: str
    detail: str
    examples: tuple[Example, ...]
    # The anchor of the loop's full list of open items, where the rest of the group is.
    list_anchor: str


@dataclass(frozen=True)
class ChainTally:
    """Resolved chains of one loop and provider: how many, and how many failures they closed."""

    loop: str
    loop_title: str
    provider: str
    chains: int
    failures: int


@dataclass(frozen=True)
class CheckView:
    """One readiness check with its status as text and icon."""

    id: str
    title: str
    status: str
    status_label: str
    status_icon: str
    evidence: str
    operator_action: str


@dataclass(frozen=True)
class WarningView:
    """One warning finding."""

    code: str
    title: str
    detail: str
    evidence: tuple[EvidenceView, ...]


@dataclass(frozen=True)
class ChainView:
    """A delivery chain that failed and was closed later, and the record that closed it."""

    loop_title: str
    health_id: str
    provider: str
    failures: int
    first_failed_at: Stamp
    resolved_at: Stamp
    resolved_after: str
    resolved_by: EvidenceView
    failed: tuple[EvidenceView, ...]
    loop: str = ""
    resolution_label: str = "Delivered by"


@dataclass(frozen=True)
class CountTable:
    """A table of counts: one column per loop, one row per measure."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Problem:
    """One input entry that was not used as read: where, what, and why."""

    location: str
    what: str
    detail: str


@dataclass(frozen=True)
class InputView:
    """One input file of the inventory."""

    path: str
    format: str
    size: str
    records: str
    sha256: str


@dataclass(frozen=True)
class InventoryView:
    """The input inventory: every file, and every entry that was not used as read."""

    files: tuple[InputView, ...]
    totals: tuple[Fact, ...]
    rejected: tuple[Problem, ...]
    unrecognised: tuple[Problem, ...]
    conflicts: tuple[Problem, ...]
    duplicates: tuple[Problem, ...]
    skipped: tuple[str, ...]


@dataclass(frozen=True)
class Sections:
    """A document's headings, named by what they head, so a template never picks one by position.

    Iterated (a table of contents) or indexed, they come in the order shown.
    """

    def __iter__(self) -> Iterator[Section]:
        return (getattr(self, f.name) for f in fields(self))

    def __getitem__(self, index: int | slice) -> Any:
        return tuple(self)[index]


@dataclass(frozen=True)
class DashboardSections(Sections):
    """The dashboard's headings."""

    verdict: Section
    items: Section
    warnings: Section
    checks: Section
    chains: Section
    counts: Section
    inventory: Section


@dataclass(frozen=True)
class RunbookSections(Sections):
    """The runbook's headings."""

    summary: Section
    purpose: Section
    gate: Section
    steps: Section
    evidence: Section
    boundary: Section
    checks: Section


@dataclass(frozen=True)
class AcceptedView:
    """One item accepted as a deviation: what it is, and who accepted it until when."""

    number: int
    id: str
    code: str
    title: str
    severity_label: str
    severity_icon: str
    loop_title: str
    provider: str
    health_id: str
    waiver_id: str
    approved_by: str
    approved_at: Stamp
    expires_at: Stamp
    expires_in: str
    justification: str


@dataclass(frozen=True)
class Bar:
    """One rectangle of the trend chart, with the count it stands for."""

    x: int
    y: int
    width: int
    height: int
    color: str
    title: str


@dataclass(frozen=True)
class Label:
    """A text of the trend chart, anchored at (x, y)."""

    x: int
    y: int
    text: str
    anchor: str = "middle"


@dataclass(frozen=True)
class ChartView:
    """The trend chart: stacked bars per pack, axis labels and a legend."""

    width: int
    height: int
    baseline: int
    axis_left: int
    bars: tuple[Bar, ...]
    labels: tuple[Label, ...]
    legend: tuple[tuple[str, str], ...]
    description: str


@dataclass(frozen=True)
class TrendRow:
    """One pack of the trend as a table row."""

    label: str
    as_of: Stamp
    critical: int
    warning: int
    accepted: int
    current: bool


@dataclass(frozen=True)
class AgeView:
    """How long one open item has been open, across packs."""

    title: str
    code: str
    provider: str
    since: Stamp
    open_for: str
    packs: int


@dataclass(frozen=True)
class TrendView:
    """The trend section: chart, table, changes since the previous pack, and open items' ages."""

    section: Section
    chart: ChartView
    rows: tuple[TrendRow, ...]
    previous: str
    opened: tuple[str, ...]
    closed: tuple[str, ...]
    changed: tuple[str, ...]
    ages: tuple[AgeView, ...]
    unreadable: tuple[str, ...]


@dataclass(frozen=True)
class Choice:
    """One option of a filter."""

    value: str
    label: str


@dataclass(frozen=True)
class Filters:
    """The values the filters offer: those present in the open items, warnings and chains."""

    loops: tuple[Choice, ...]
    providers: tuple[Choice, ...]
    severities: tuple[Choice, ...]


@dataclass(frozen=True)
class DashboardView:
    """The dashboard's additions to the view."""

    filters: Filters
    overview: tuple[Chart, ...]
    timelines: tuple[Chart, ...]
    records_json: Markup
    records: int
    # Whether the timelines are drawn from the summary's day counts of every record read.
    counted: bool = False


@dataclass(frozen=True)
class ReportView:
    """Everything both documents and the index show."""

    pack: PackInfo
    verdict: VerdictView
    groups: tuple[LoopGroup, ...]
    items: tuple[ItemView, ...]
    warnings: tuple[WarningView, ...]
    checks: tuple[CheckView, ...]
    chains: tuple[ChainView, ...]
    loop_counts: CountTable
    other_counts: tuple[Fact, ...]
    inventory: InventoryView
    dashboard_sections: DashboardSections
    runbook_sections: RunbookSections
    # The dashboard's table of contents: its sections, and the trend's when there is one.
    dashboard_contents: tuple[Section, ...]
    accepted: tuple[AcceptedView, ...]
    # None without history: a single pack has no trend.
    trend: TrendView | None
    dashboard: DashboardView
    # (table key, note) for each table a PDF cut to its row limit; empty everywhere else.
    omitted: tuple[tuple[str, str], ...] = ()
    # Rows of a long list shown at once; None shows every row (a PDF runs no script to show more).
    page_size: int | None = PAGE_SIZE
    # The open items grouped by what fixes them, most severe first; resolved chains by loop and provider.
    fixes: tuple[FixView, ...] = ()
    chain_tallies: tuple[ChainTally, ...] = ()
    # True where open items are shown as full cards (the HTML); a PDF lists them as table rows.
    item_cards: bool = True

    def listed(self, rows: Sequence[T], noun: str, where: Sequence[str], limit: int = MD_ROWS) -> Listed[T]:
        """ROWS as a bounded document (Markdown) lists them: at most LIMIT, open items the most severe
        and oldest first, and a note saying what was kept and in which of the files `where` the rest is."""
        return listed(rows, noun, elsewhere(where, {f.name for f in self.pack.attachments}), limit)

    def paged(self, rows: Sequence[T], noun: str, where: str = "") -> Paged[T]:
        """ROWS as this view pages them; `where` names the file that lists them all."""
        return page(rows, noun, where, self.page_size)
