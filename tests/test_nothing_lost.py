"""Nothing published is ever lost: the faults of the second adversarial pass, each reproduced.

Each test drives the real command and holds it to the promise: one line naming the file (and
line), key or request, the right exit status, no traceback anywhere, the published output still
passing ``check``, nothing lost.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import feedparser

from .conftest import ARTICLES, published_ok, run_build, run_check, small_articles


def no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text, text


def items(feed: Path) -> list[tuple[str, int]]:
    """(GUID, enclosure length) of every item, as feedparser reads them."""
    d = feedparser.parse(str(feed))
    assert not d.bozo, d.bozo_exception
    return sorted((e.id, int(next(l for l in e.links if l.rel == "enclosure").length)) for e in d.entries)


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def run_killing_workers(args: list[str]) -> tuple[subprocess.CompletedProcess, int]:
    """Run a command while killing every child process it starts (as the out-of-memory killer
    kills a render worker), until it exits. Returns its result and how many were killed."""
    proc = subprocess.Popen([sys.executable, "-m", "audiofeed", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    killed = 0
    done = threading.Event()
    result: dict = {}

    def reap() -> None:
        result["out"], result["err"] = proc.communicate(timeout=900)
        done.set()

    threading.Thread(target=reap, daemon=True).start()
    while not done.wait(0.001):
        for child in children(proc.pid):
            try:
                os.kill(child, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
    return subprocess.CompletedProcess(args, proc.returncode, result["out"], result["err"]), killed


def test_killed_render_workers_never_unpublish_the_show(tmp_path):
    """Cause 1: a worker killed mid-build (the OOM killer) made every answer a BrokenProcessPool,
    and the build published 0-second episodes and an empty answers.xml. Now the pool is started
    again a few times, then the lost answers are Failed: their pages keep their last episode, the
    build says which answers failed and exits 1."""
    articles = small_articles(tmp_path / "articles")
    out = tmp_path / "output"
    assert run_build(articles, out, "--engine", "piper").code == 0
    before = {name: items(out / name) for name in ("feed.xml", "answers.xml")}
    published = published_ok(out)
    for page in articles.iterdir():  # every page changes; the voices' pacing stays in the cache
        page.write_text(page.read_text(encoding="utf-8").replace(" the ", " a "), encoding="utf-8")
    # Each Piper worker takes seconds to load its voice and speak, so the kills land mid-render.
    run, killed = run_killing_workers(["build", str(articles), "-o", str(out), "--engine", "piper"])
    no_traceback(run.stderr, run.stdout)
    assert run.returncode == 1, run.stderr
    assert killed >= 3  # the first pool and each restart
    assert "render worker died" in run.stderr
    for page in articles.iterdir():
        assert f"{page}: not published: an answer failed to render; its last published episode stays" in run.stderr
    assert {name: items(out / name) for name in ("feed.xml", "answers.xml")} == before
    assert published_ok(out) == published
    check = run_check(out)  # the published output as it was
    assert check.returncode == 0, check.stdout + check.stderr
