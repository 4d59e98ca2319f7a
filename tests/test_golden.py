"""Golden folder: a build of ``articles/`` compared file by file with ``tests/golden/output/``.

As Pelican's functional tests do, the whole output is discovered on both sides: a file the build
adds, drops or changes fails the test, whichever page it belongs to. Text files (feeds,
chapters, transcripts, player pages, ``build.json``) are compared whole. An MP3 is compared as
its frame count (checked frame by frame) and its ID3 tag as mutagen prints it, in a ``.mp3.txt``
file; binary files (the cover) and the player's assets (copies of audiofeed's own) by SHA-256. The build manifest (``.audiofeed``) holds only hashes
of settings and sources, which move with audiofeed's version: its page list is compared.

After an intended change, regenerate with
``AUDIOFEED_UPDATE_GOLDEN=1 pytest tests/test_golden.py`` and review the diff like any other change.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import shutil
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden" / "output"  # a build of articles/ (Pelican's "basic")
CUSTOM = Path(__file__).parent / "golden" / "custom"  # a build of tests/data/custom/ (Pelican's "custom")
CUSTOM_PROJECT = Path(__file__).parent / "data" / "custom"  # a Markdown page, a lexicon, a pinned voice, a cover, max_items
TEXT = {".xml", ".json", ".vtt", ".srt", ".html", ".css", ".js"}


from audiofeed.names import ASSETS_FOLDER  # noqa: E402


def describe_mp3(path: Path) -> str:
    """An MP3 as the golden folder keeps it: frames, then its tag as mutagen prints it."""
    from mutagen.id3 import ID3
    from mutagen.mp3 import MP3

    from audiofeed.audio.encoding import audio_part, check_frames

    data = path.read_bytes()
    lines = [f"frames: {check_frames(audio_part(data))}", f"bytes: {len(data)}"]
    for line in MP3(path).pprint().splitlines():
        lines.append(line)
    people = ID3(path).get("TIPL")  # IPLS as written (ID3v2.3); mutagen prints it as unrepresentable
    lines.append(f"people: {people.people if people else None}")
    return "\n".join(lines) + "\n"


def golden_view(output: Path) -> dict[str, str]:
    """Every published file, by its golden name, as the text it is compared as."""
    view = {}
    for path in sorted(p for p in output.rglob("*") if p.is_file()):
        name = path.relative_to(output).as_posix()
        if name == ".audiofeed":
            manifest = json.loads(path.read_text(encoding="utf-8"))
            view["manifest-pages.txt"] = "\n".join(sorted(manifest["pages"])) + f"\nformat: {manifest['format']}\n"
        elif path.suffix == ".mp3":
            view[f"{name}.txt"] = describe_mp3(path)
        elif path.suffix in TEXT and not name.startswith(f"{ASSETS_FOLDER}/"):
            view[name] = path.read_text(encoding="utf-8")
        else:
            view[f"{name}.sha256"] = hashlib.sha256(path.read_bytes()).hexdigest() + "\n"
    return view


def compare_with_golden(output: Path, golden: Path) -> None:
    actual = golden_view(output)
    if os.environ.get("AUDIOFEED_UPDATE_GOLDEN"):
        shutil.rmtree(golden, ignore_errors=True)
        for name, text in actual.items():
            (golden / name).parent.mkdir(parents=True, exist_ok=True)
            (golden / name).write_text(text, encoding="utf-8")
    expected = {p.relative_to(golden).as_posix(): p.read_text(encoding="utf-8")
                for p in sorted(golden.rglob("*")) if p.is_file()}
    assert sorted(actual) == sorted(expected), (
        f"files only in the build: {sorted(set(actual) - set(expected))}; "
        f"only in the golden folder: {sorted(set(expected) - set(actual))}")
    differing = [n for n in expected if actual[n] != expected[n]]
    diffs = "".join("".join(difflib.unified_diff(expected[n].splitlines(True), actual[n].splitlines(True),
                                                 f"golden/{n}", f"built/{n}", n=1)) for n in differing)
    assert not differing, f"{len(differing)} file(s) differ: {differing}\n{diffs[:6000]}"


def test_build_matches_golden_folder(built):
    compare_with_golden(built.output, GOLDEN)


def test_custom_build_matches_its_golden_folder(tmp_path):
    """Settings a producer sets (lexicon, pinned voice, cover, item limit) and a Markdown page, built
    from their own project folder, file by file."""
    from .conftest import run_build

    out = tmp_path / "output"
    run = run_build(CUSTOM_PROJECT / "articles", out)
    assert run.code == 0, run.stderr
    compare_with_golden(out, CUSTOM)


def test_golden_folder_covers_every_page(built):
    """Pages are discovered, not listed: every source page has its episode in the golden folder."""
    from audiofeed.read import find_pages, slug_for

    from .conftest import ARTICLES

    for source in find_pages(ARTICLES):
        assert (GOLDEN / slug_for(source) / "episode.mp3.txt").is_file(), source.name
