"""The pack's HTML and Markdown against gold files (refresh: python -m tests.goldtest)."""

from __future__ import annotations

import pytest
from goldtest import CASES, GOLD_FILES, ROOT, compare, render_case


@pytest.fixture(scope="module", params=sorted(CASES))
def rendered(request):
    """One case's gold-checked files, rendered once."""
    case = request.param
    if not all((ROOT / p).exists() for p in CASES[case]):
        pytest.skip(f"fixture set {CASES[case]} is not in this checkout")
    return case, render_case(case)


@pytest.mark.parametrize("name", GOLD_FILES)
def test_rendered_file_matches_its_gold_file(rendered, name):
    case, files = rendered
    compare(case, name, files[name])


def test_rendering_the_same_evidence_twice_gives_the_same_bytes(rendered):
    case, files = rendered
    assert render_case(case) == files
