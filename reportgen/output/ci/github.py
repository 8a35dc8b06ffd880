"""GitHub Actions workflow commands: one `::error` per failed check and per group of open items.

Commands are written one a line; the runner reads them from stdout and stderr alike. Titles and
messages are escaped as the runner unescapes them, so no evidence text can end a command, start
another line, or add a property.
"""

from __future__ import annotations

from reportgen.evidence.text import plural
from reportgen.judge.groups import Group, group_items
from reportgen.judge.summary import Summary
from reportgen.judge.verdict import Check
from reportgen.output.ci.groups import action_text, group_line, visible

ANNOTATION_LIMIT = 50


def escape_data(text: str) -> str:
    """A command's message, escaped as the Actions runner unescapes it: '%', CR and LF."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A command's property value (the title): the message's escapes, and ':' and ','."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, title: str, message: str) -> str:
    """One `::error`, `::warning` or `::notice` line with a title."""
    return f"::{kind} title={escape_property(title)}::{escape_data(message)}"


def check_annotation(check: Check) -> str:
    """A failed check as an error, a check that passed with a warning as a warning."""
    kind, verb = ("error", "failed") if check.status == "fail" else ("warning", "passed with a warning")
    message = f"{check.title}: {visible(check.evidence)}\nAction: {visible(check.operator_action)}"
    return command(kind, f"reportgen: {check.id} {verb}", message)


def group_annotation(group: Group, accepted: bool) -> str:
    """A group of open items as an error; a group waivers accepted as a notice."""
    title = f"reportgen: {plural(group.count, 'open item')} {visible(group.code, 100)}"
    message = f"{visible(group_line(group))}\nAction: {visible(action_text(group))}"
    if accepted:
        return command("notice", f"{title} accepted by waiver", message)
    return command("error", title, message)


def annotations(summary: Summary, limit: int = ANNOTATION_LIMIT) -> list[str]:
    """The commands, errors first, then warnings and notices; at most `limit` lines, the last saying what was left out."""
    checks, closure = summary.readiness.checks, summary.closure
    lines = [check_annotation(c) for c in checks if c.status == "fail"]
    lines += [group_annotation(g, accepted=False) for g in group_items(closure.open_items)]
    lines += [check_annotation(c) for c in checks if c.status == "warning"]
    lines += [
        command("warning", f"reportgen: {visible(w.code, 100)}", f"{visible(w.title)}: {visible(w.detail)}")
        for w in closure.warnings
    ]
    lines += [group_annotation(g, accepted=True) for g in group_items(closure.accepted_items)]
    if len(lines) <= limit:
        return lines
    left = len(lines) - (limit - 1)
    note = (
        f"{plural(left, 'more annotation')} left out: the job summary, the JUnit report and summary.json list them all"
    )
    return [*lines[: limit - 1], command("warning", "reportgen: annotations left out", note)]
