"""Golden files: the text the build publishes for the sample articles, compared whole.

After an intended change, regenerate with ``AUDIOFEED_UPDATE_GOLDEN=1 pytest tests/test_golden.py``
and review the diff like any other change.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"
FILES = ["feed.xml", "answers.xml"] + [
    f"{slug}/chapters.json"
    for slug in ("000_4fe75e9a818bb161", "001_seasonal_flu_lead_only", "002_knee_pain_short_and_long",
                 "003_fever_in_children_utf8")
]


@pytest.mark.parametrize("name", FILES)
def test_published_text_matches_golden(built, name):
    actual = (built.output / name).read_text(encoding="utf-8")
    golden = GOLDEN / name.replace("/", "__")
    if os.environ.get("AUDIOFEED_UPDATE_GOLDEN"):
        golden.write_text(actual, encoding="utf-8")
    expected = golden.read_text(encoding="utf-8")
    diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), "golden", "built", n=1))
    assert actual == expected, diff[:4000]
