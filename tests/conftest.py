"""Shared fixtures: one real build of the sample articles, made the way a producer makes it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT / "articles"
SEED = ROOT.parent / "shared" / "seed"
BASE_URL = "https://podcast.example.org/health/"

# Most tests prove what the pipeline does around the voice, so they speak with espeak-ng, which
# renders 64 times faster; the natural voice (the default) has its own tests, which name it with
# --engine piper (tests/test_piper.py). Subprocesses inherit this.
os.environ["AUDIOFEED_ENGINE"] = "espeak"


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    output: Path


def run_build(articles: Path, output: Path, *args: str, env: dict | None = None) -> Run:
    """Run ``audiofeed build`` in a subprocess, exactly as a user would (``env``: its environment)."""
    proc = subprocess.run(
        [sys.executable, "-m", "audiofeed", "build", str(articles), "-o", str(output), *args],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr, output)


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime) of every file: tells whether anything was rewritten."""
    return {str(p.relative_to(folder)): (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


def small_articles(dest: Path) -> Path:
    """The two smaller sample pages, for builds that run several times."""
    dest.mkdir()
    for name in ("001_seasonal_flu_lead_only.txt", "003_fever_in_children_utf8.txt"):
        shutil.copy(ARTICLES / name, dest / name)
    return dest


def run_check(output: Path, *args: str, articles: Path = ARTICLES) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "audiofeed", "check", str(output), "--articles", str(articles), *args],
                          capture_output=True, text=True, timeout=300)


def published_ok(out: Path) -> int:
    """Every enclosure in both feeds exists with its listed size (read by feedparser); returns how
    many episodes and answers there are (answers.xml's trailer, the voice note, is checked, not counted)."""
    import feedparser

    n = 0
    for name in ("feed.xml", "answers.xml"):
        d = feedparser.parse(str(out / name))
        assert not d.bozo
        for e in d.entries:
            enclosure = next(link for link in e.links if link.rel == "enclosure")
            path = out / enclosure.href.split("/", 3)[3]
            assert path.stat().st_size == int(enclosure.length)
            n += e.get("itunes_episodetype") != "trailer"
    return n


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Run:
    """The sample articles built once with a public base URL."""
    out = tmp_path_factory.mktemp("build") / "output"
    run = run_build(ARTICLES, out, "--base-url", BASE_URL)
    assert run.code == 0, run.stderr
    return run


@pytest.fixture(scope="session")
def small_output(tmp_path_factory) -> tuple[Path, Path]:
    """The two smaller sample pages built once (articles, output): for tests that read or spoil a copy."""
    base = tmp_path_factory.mktemp("small")
    articles = small_articles(base / "articles")
    assert run_build(articles, base / "output").code == 0
    return articles, base / "output"


@pytest.fixture
def articles_copy(tmp_path) -> Path:
    """A scratch copy of the sample articles to spoil."""
    dest = tmp_path / "articles"
    shutil.copytree(ARTICLES, dest)
    return dest


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium (Debian's) for the whole session, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    from .browser import CHROMIUM_FLAGS, chromium_path

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        yield b
        b.close()


def pytest_report_header(config):
    from audiofeed.audio.ffmpeg import ffmpeg_exe

    return [f"ffmpeg: {ffmpeg_exe()}", f"cores: {os.cpu_count()}"]
