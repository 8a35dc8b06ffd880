"""The verdict where CI shows it: JUnit XML, a Markdown job summary and GitHub annotations.

Each output is a pure function of the `Summary` (already judged, waived and secret-masked) that
returns text or bytes; the command line decides where they go. Evidence text reaches every output
through `groups.visible()` first (control, format and XML-illegal characters shown as `\\uXXXX`
escapes, as the terminal shows them, and cut to a bounded length), then through the escaping of
the format it lands in.
"""

from reportgen.judge.groups import Group, group_items
from reportgen.output.ci.github import annotations, escape_data, escape_property
from reportgen.output.ci.groups import visible
from reportgen.output.ci.junit import junit_xml
from reportgen.output.ci.markdown import summary_markdown

__all__ = [
    "Group",
    "annotations",
    "escape_data",
    "escape_property",
    "group_items",
    "junit_xml",
    "summary_markdown",
    "visible",
]
