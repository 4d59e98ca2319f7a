"""The docs say what the code does: the reference pages are generated from it and kept equal."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.reference import PAGES, REFERENCE

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", sorted(PAGES))
def test_reference_page_is_what_the_code_says(name):
    expected = PAGES[name]()
    if os.environ.get("AUDIOFEED_UPDATE_DOCS"):
        (REFERENCE / name).write_text(expected, encoding="utf-8")
    actual = (REFERENCE / name).read_text(encoding="utf-8")
    assert actual == expected, (f"docs/reference/{name} differs from the code; regenerate it with "
                                "AUDIOFEED_UPDATE_DOCS=1 python -m pytest tests/test_docs.py")


def test_readme_is_short_and_links_resolve():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode()) < 12_000
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            assert (doc.parent / target).exists(), f"{doc.relative_to(ROOT)} links to missing {target}"


def test_quick_start_is_two_command_lines():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1]
    block = section.split("```", 2)[1]
    lines = [line for line in block.splitlines() if line.strip()]
    assert len(lines) == 2 and "audiofeed build articles -o output" in lines[0] and "pytest" in lines[1]
    assert lines[1] in (ROOT / ".ci" / "run").read_text()
