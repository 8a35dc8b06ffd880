"""The verdict as JUnit XML, in the Jenkins/Ant dialect every CI system reads.

Two suites with names stable across runs, so CI history follows a check or a kind of open item
over time: `reportgen.readiness` (one case per readiness check) and `reportgen.open_items` (one
case per group of open items; an accepted group is skipped, with its waiver as the reason).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from reportgen.judge.groups import Group, group_items
from reportgen.judge.summary import Summary
from reportgen.judge.verdict import Check, utc_iso
from reportgen.output.ci.groups import action_text, group_line, visible

READINESS, OPEN_ITEMS = "reportgen.readiness", "reportgen.open_items"
# Warnings quoted in the open-items suite's system-out; summary.json has them all.
MAX_WARNINGS = 100


def common_properties(summary: Summary) -> list[tuple[str, str]]:
    """What every suite carries: the verdict, the rules, the as-of time and the generator."""
    return [
        ("reportgen.as_of_utc", utc_iso(summary.as_of) or ""),
        ("reportgen.rules", summary.rules),
        ("reportgen.closure_state", summary.closure.state),
        ("reportgen.readiness_state", summary.readiness.state),
        ("reportgen.decision", summary.readiness.release_decision.recommended_state),
        ("reportgen.version", summary.generator.version),
    ]


def suite(name: str, summary: Summary, cases: list[ET.Element], properties: list[tuple[str, str]]) -> ET.Element:
    """A <testsuite> with its counts, the as-of time as its timestamp, its properties and cases."""
    element = ET.Element(
        "testsuite",
        name=name,
        tests=str(len(cases)),
        failures=str(sum(c.find("failure") is not None for c in cases)),
        errors="0",
        skipped=str(sum(c.find("skipped") is not None for c in cases)),
        # Ant's form has no zone, so the reportgen.as_of_utc property gives the same time with its zone.
        timestamp=summary.as_of.strftime("%Y-%m-%dT%H:%M:%S"),
    )
    # The Jenkins schema has properties on suites only, never on cases.
    listed = ET.SubElement(element, "properties")
    for key, value in [*common_properties(summary), *properties]:
        ET.SubElement(listed, "property", name=key, value=value)
    element.extend(cases)
    return element


def check_case(check: Check) -> ET.Element:
    """A readiness check: a failure, a pass with its warning on system-out, or a pass."""
    case = ET.Element("testcase", classname=READINESS, name=check.id)
    body = f"{check.title}\nevidence: {visible(check.evidence)}\noperator action: {visible(check.operator_action)}"
    if check.status == "fail":
        message = f"{check.title} failed: {visible(check.evidence)}"
        ET.SubElement(case, "failure", type="readiness_check_failed", message=message).text = body
    elif check.status == "warning":
        ET.SubElement(case, "system-out").text = f"warning: {body}"
    return case


def group_body(group: Group) -> str:
    """The oldest item's title and detail, the group's action, and the ids of its oldest items."""
    more = group.count - len(group.example_ids)
    ids = ", ".join(group.example_ids) + (f" and {more} more in summary.json" if more > 0 else "")
    return "\n".join(
        [
            f"{visible(group.title)}: {visible(group.detail)}",
            f"operator action: {visible(action_text(group))}",
            f"items, oldest first: {ids}",
        ]
    )


def group_case(group: Group, accepted: bool) -> ET.Element:
    """A group of open items: a failure, or skipped when waivers accepted every item in it."""
    case = ET.Element("testcase", classname=f"{OPEN_ITEMS}.{visible(group.loop, 100)}", name=visible(group.name))
    message = f"{visible(group_line(group))}; action: {visible(action_text(group))}"
    if accepted:
        ET.SubElement(case, "skipped", message=f"accepted by waiver: {message}").text = group_body(group)
    else:
        ET.SubElement(case, "failure", type=visible(group.code, 100), message=message).text = group_body(group)
    return case


def readiness_suite(summary: Summary) -> ET.Element:
    """The readiness checks, one case each in the summary's order; a property per warning check."""
    checks = summary.readiness.checks
    properties = [(f"reportgen.warning.{c.id}", visible(c.evidence)) for c in checks if c.status == "warning"]
    return suite(READINESS, summary, [check_case(c) for c in checks], properties)


def warnings_text(summary: Summary) -> str:
    """The closure's warnings, one a line, the first MAX_WARNINGS of them."""
    found = summary.closure.warnings
    lines = [f"warning {visible(w.code)}: {visible(w.detail)}" for w in found[:MAX_WARNINGS]]
    if len(found) > MAX_WARNINGS:
        lines.append(f"... and {len(found) - MAX_WARNINGS} more warnings in summary.json")
    return "\n".join(lines)


def open_items_suite(summary: Summary) -> ET.Element:
    """The open items, one case per group; accepted groups skipped; one passing case when there are none."""
    closure = summary.closure
    cases = [group_case(g, accepted=False) for g in group_items(closure.open_items)]
    cases += [group_case(g, accepted=True) for g in group_items(closure.accepted_items)]
    properties = [
        ("reportgen.open_items", str(len(closure.open_items))),
        ("reportgen.accepted_items", str(len(closure.accepted_items))),
        ("reportgen.warnings", str(len(closure.warnings))),
    ]
    # A suite with no case reads as "nothing was tested"; one passing case says nothing is open.
    cases = cases or [ET.Element("testcase", classname=OPEN_ITEMS, name="no open items")]
    element = suite(OPEN_ITEMS, summary, cases, properties)
    if closure.warnings:
        ET.SubElement(element, "system-out").text = warnings_text(summary)
    return element


def junit_xml(summary: Summary) -> bytes:
    """The verdict as JUnit XML: the readiness suite, then the open-items suite."""
    suites = [readiness_suite(summary), open_items_suite(summary)]
    root = ET.Element(
        "testsuites",
        name="reportgen",
        tests=str(sum(int(s.get("tests", "0")) for s in suites)),
        failures=str(sum(int(s.get("failures", "0")) for s in suites)),
        errors="0",
    )
    root.extend(suites)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
