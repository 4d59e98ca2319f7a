"""Trust: a cache that cannot lie or run code, nothing published unverified, interruptions and a full
disk that leave the last output as it was, text without invisible control characters.

Every test runs the real command on real pages and reads the results back as clients do.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import audiofeed
from audiofeed.build.output import verify
from audiofeed.problems import BuildError
from audiofeed.publish.episode import Episode
from audiofeed.names import RECORD_FILE

from .conftest import published_ok, run_build, run_check, small_articles
from .events import IN_CREATE, IN_OPEN, Watch, cache_records

SMALL = ("001_seasonal_flu_lead_only.txt", "003_fever_in_children_utf8.txt")


def contents(folder: Path) -> dict[Path, bytes]:
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


class Evil:
    """A pickle that, when loaded, writes a marker file: what a crafted cache entry would do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


# -- the cache --------------------------------------------------------------------------------------
def test_a_corrupted_cache_entry_is_rendered_again_and_never_published(tmp_path):
    articles = small_articles(tmp_path / "articles")
    out, cache = tmp_path / "out", tmp_path / "cache"
    assert run_build(articles, out, "--cache", str(cache)).code == 0
    reference = contents(out)
    entries = sorted(cache.rglob("*.mp3"), key=lambda p: p.stat().st_size)
    spoiled = entries[-1]  # the longest answer
    data = bytearray(spoiled.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 2048] = bytes(b ^ 0xFF for b in data[middle : middle + 2048])  # a disk or copy error
    spoiled.write_bytes(bytes(data))
    shutil.rmtree(out)
    run = run_build(articles, out, "--cache", str(cache))
    assert run.code == 0, run.stderr
    warnings = [ln for ln in run.stderr.splitlines() if "cache entry unusable" in ln]
    assert len(warnings) == 1 and spoiled.stem in warnings[0] and "Traceback" not in run.stderr
    assert "1 answer(s) rendered" in run.stdout  # the spoiled one, again; the others from the cache
    assert contents(out) == reference  # byte for byte what a clean build published
    result = run_check(out, "--json", articles=articles)
    assert result.returncode == 0 and json.loads(result.stdout)["ok"], result.stdout[-2000:]


def test_crafted_pickles_in_the_cache_run_nothing(tmp_path):
    articles = small_articles(tmp_path / "articles")
    out, cache = tmp_path / "out", tmp_path / "cache"
    assert run_build(articles, out, "--cache", str(cache)).code == 0
    reference = contents(out)
    marker = tmp_path / "pwned"
    payload = pickle.dumps(Evil(marker))
    entries = [p for p in cache.rglob("*") if p.is_file()]
    assert entries
    for entry in entries:  # every record and every frames file replaced by a crafted pickle
        entry.write_bytes(payload)
        entry.with_suffix(".pickle").write_bytes(payload)  # and where the old cache kept its entries
    shutil.rmtree(out)
    run = run_build(articles, out, "--cache", str(cache))
    assert run.code == 0, run.stderr
    assert not marker.exists()
    assert "Traceback" not in run.stderr
    assert sum("cache entry unusable" in ln for ln in run.stderr.splitlines()) == len(
        [e for e in entries if e.suffix == ".json"])
    assert contents(out) == reference
    assert run_check(out, "--json", articles=articles).returncode == 0


# -- verified before it is published ----------------------------------------------------------------
def test_nothing_is_swapped_in_unless_its_frames_match_the_record(tmp_path):
    articles = small_articles(tmp_path / "articles")
    out = tmp_path / "out"
    assert run_build(articles, out).code == 0
    slug = "003_fever_in_children_utf8"
    episode = Episode.from_json((out / slug / RECORD_FILE).read_text())
    verify(out, [episode])  # what the build wrote passes
    answer = out / episode.answers[1].file
    data = bytearray(answer.read_bytes())
    data[len(data) // 2] ^= 0xFF
    data[len(data) - 192 * 40] = 0  # a frame header in the middle of the audio
    answer.write_bytes(bytes(data))
    with pytest.raises(BuildError, match=r"answer-01\.mp3: frame \d+ of \d+ .* no valid header; refusing to publish"):
        verify(out, [episode])
    answer.write_bytes(bytes(data[: -192]))  # a frame short
    with pytest.raises(BuildError, match="refusing to publish"):
        verify(out, [episode])


# -- interruptions ------------------------------------------------------------------------------------
PACKAGE = Path(audiofeed.__file__).parent


def _watch_for(when: str, watch: Watch, out: Path, cache: Path):
    """The event that marks a moment of a build, as a condition for :meth:`Watch.until`."""
    if when == "start-up":
        # entry.py installs the signal handlers, then imports the command line: the cli package's
        # module (source or compiled) being opened means the handlers are in and start-up goes on
        for folder in (PACKAGE / "cli", PACKAGE / "cli" / "__pycache__"):  # compiled or not, whichever is there
            if folder.is_dir():
                watch.add(folder, IN_OPEN)
        return lambda path, mask: path.name.startswith("__init__.")
    if when == "staging":  # the pages are read and the new output is being assembled beside the old
        watch.add(out.parent, IN_CREATE)
        return lambda path, mask: path.name == f".{out.name}.staging"
    return cache_records(cache, watch)  # "first answer": its record is committed to the cache


def start_rebuild(tmp_path: Path, articles: Path, when: str, watch: Watch):
    """Build once, change every page, start a forced rebuild and wait for the moment ``when``.

    Returns the output, its snapshot before the rebuild, and the running rebuild.
    """
    out = tmp_path / "out"
    assert run_build(articles, out).code == 0
    before = contents(out)
    for page in articles.glob("*.txt"):
        page.write_bytes(page.read_bytes().replace(b"Urology", b"Urology (adult)"))
    cache = tmp_path / "fresh-cache"
    cache.mkdir()
    condition = _watch_for(when, watch, out, cache)  # watching before the process starts: nothing is missed
    proc = subprocess.Popen([sys.executable, "-m", "audiofeed", "build", str(articles), "-o", str(out), "--force",
                             "--cache", str(cache)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watch.until(condition, proc, when)
    return out, before, proc


@pytest.mark.parametrize("when", ["start-up", "staging", "first answer"])
@pytest.mark.parametrize("sig,status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_at_any_moment_leaves_the_last_output(tmp_path, articles_copy, when, sig, status):
    with Watch() as watch:
        out, before, proc = start_rebuild(tmp_path, articles_copy, when, watch)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == status, (proc.returncode, stderr)
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted") and signal.Signals(sig).name in lines[0], stderr
    assert "Traceback" not in stderr
    assert contents(out) == before
    assert published_ok(out) == 18
    assert not out.with_name(f".{out.name}.staging").exists()


SWALLOWED = """
import os, signal, sys, weakref
from audiofeed import entry
entry.install_handlers()
class Target: pass
target = Target()
ref = weakref.ref(target, lambda _: os.kill(os.getpid(), signal.SIGINT))
del target  # the handler's exception is raised inside the callback, where Python only prints it
print("went on", file=sys.stderr)
sys.argv = ["audiofeed", *sys.argv[1:]]
entry.main()
"""


def test_a_signal_whose_exception_was_swallowed_still_stops_before_publishing(tmp_path, articles_copy):
    """Python prints and drops an exception raised in a weakref callback (CI once met a SIGINT
    inside one of the import system's): the build must still stop before the swap, with status 130."""
    out = tmp_path / "out"
    assert run_build(articles_copy, out).code == 0
    before = contents(out)
    proc = subprocess.run([sys.executable, "-c", SWALLOWED, "build", str(articles_copy), "-o", str(out), "--force"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 130, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0] == "went on"  # the exception was lost: the program went on
    assert len(lines) == 2 and lines[1].startswith("interrupted (SIGINT)"), proc.stderr  # and nothing else printed
    assert contents(out) == before
    assert not out.with_name(f".{out.name}.staging").exists()


def test_a_killed_build_is_recovered_by_the_next(tmp_path, articles_copy):
    with Watch() as watch:
        out, before, proc = start_rebuild(tmp_path, articles_copy, "first answer", watch)
    proc.kill()
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert contents(out) == before
    assert published_ok(out) == 18
    assert run_build(articles_copy, out).code == 0  # and the next build recovers from the leftovers
    assert published_ok(out) == 18
    assert "Urology (adult)" in (out / "000_4fe75e9a818bb161" / RECORD_FILE).read_text()


# -- a full disk ---------------------------------------------------------------------------------------
def test_a_full_disk_leaves_output_and_cache_valid(tmp_path):
    articles = small_articles(tmp_path / "articles")
    out, cache = tmp_path / "out", tmp_path / "cache"
    assert run_build(articles, out, "--cache", str(cache)).code == 0
    before = contents(out)
    page = articles / SMALL[1]
    page.write_text(page.read_text().replace("Zoë Müller-Sánchez", "Zoë Müller"))  # a new voice: renders anew

    def small_disk():  # no file may grow past 100 kB: the first MP3 written fails as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    proc = subprocess.run([sys.executable, "-m", "audiofeed", "build", str(articles), "-o", str(out), "--cache", str(cache)],
                          capture_output=True, text=True, timeout=300, preexec_fn=small_disk)
    assert proc.returncode not in (0, -signal.SIGXFSZ), proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "File too large" in lines[0] and str(tmp_path) in lines[0], proc.stderr
    assert "left as it was" in lines[0]
    assert contents(out) == before
    assert not list(cache.rglob("*.tmp")) and not list(cache.rglob(".*.tmp"))
    # the cache is still valid: the next build uses it, warns about nothing, and publishes
    again = run_build(articles, out, "--cache", str(cache))
    assert again.code == 0 and "cache entry unusable" not in again.stderr, again.stderr
    assert run_check(out, "--json", articles=articles).returncode == 0


# -- control characters ---------------------------------------------------------------------------------
def test_control_characters_are_dropped_with_a_warning(tmp_path):
    articles = small_articles(tmp_path / "articles")
    page = articles / SMALL[0]
    lines = page.read_text().splitlines(keepends=True)
    title_line = 1
    body_line = next(i for i, ln in enumerate(lines, 1) if ln.startswith("Most adults"))
    lines[title_line - 1] = lines[title_line - 1].replace("flu", "fl\x01u", 1)
    word = re.search(r"[A-Za-z]{6,}", lines[body_line - 1]).group(0)
    lines[body_line - 1] = lines[body_line - 1].replace(word, word[:3] + "\x0b" + word[3:], 1)
    page.write_text("".join(lines))
    out = tmp_path / "out"
    run = run_build(articles, out)
    assert run.code == 0, run.stderr
    warnings = [ln for ln in run.stderr.splitlines() if "control character" in ln]
    assert f"{page}:{title_line}: dropped control character U+0001" in warnings[0]
    assert f"{page}:{body_line}: dropped control character U+000B" in warnings[1]
    texts = [p for p in out.rglob("*") if p.suffix in (".html", ".vtt", ".srt", ".json", ".xml")]
    assert texts
    for p in texts:
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", p.read_text(encoding="utf-8")), p
    slug = page.stem
    assert word in (out / slug / "episode.vtt").read_text()  # the word itself is unchanged
    assert "seasonal flu" in (out / slug / "index.html").read_text().lower()


def test_markup_in_a_page_is_shown_as_written(tmp_path):
    """'<', '>' and '&' in a page are text: escaped in captions, pages and feeds, never markup."""
    from html import unescape as html_unescape

    import feedparser
    import webvtt

    articles = small_articles(tmp_path / "articles")
    page = articles / SMALL[0]
    written = "Take <b>two</b> tablets & rest; values < 5 mean nothing."
    page.write_text(page.read_text().replace("Most adults with", f"{written} Most adults with", 1))
    out = tmp_path / "out"
    assert run_build(articles, out).code == 0
    slug = page.stem
    vtt = (out / slug / "answer-00.vtt").read_text()
    assert "&lt;b&gt;two&lt;/b&gt; tablets &amp; rest; values &lt; 5" in vtt
    assert "<b>" not in vtt
    captions = [html_unescape(c.text) for c in webvtt.from_string(vtt)]  # character references, as players decode them
    assert any("<b>two</b> tablets & rest; values < 5" in t for t in captions), captions
    html = (out / slug / "index.html").read_text()
    assert "<b>two</b>" not in html and "&lt;b&gt;two&lt;/b&gt;" in html
    for feed in ("feed.xml", "answers.xml"):
        assert not feedparser.parse(str(out / feed)).bozo
    assert run_check(out, "--json", articles=articles).returncode == 0


# -- what a rebuild finds on disk -------------------------------------------------------------------------
def test_an_unreadable_record_rebuilds_its_page_with_a_warning(tmp_path):
    articles = small_articles(tmp_path / "articles")
    out = tmp_path / "out"
    assert run_build(articles, out).code == 0
    record = out / Path(SMALL[1]).stem / RECORD_FILE
    record.write_text('{"slug": "truncated')
    run = run_build(articles, out)
    assert run.code == 0 and "Traceback" not in run.stderr, run.stderr
    assert f"warning: {record}: unreadable record" in run.stderr
    assert "1 page(s) built, 1 unchanged" in run.stdout
    assert run_check(out, "--json", articles=articles).returncode == 0


def test_a_cache_that_cannot_be_written_only_warns(tmp_path):
    articles = small_articles(tmp_path / "articles")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache's folder would be")
    run = run_build(articles, tmp_path / "out", "--cache", str(blocker / "cache"))
    assert run.code == 0, run.stderr
    warnings = [ln for ln in run.stderr.splitlines() if "cannot write to the cache" in ln]
    assert len(warnings) == 1 and "Traceback" not in run.stderr
    assert run_check(tmp_path / "out", "--json", articles=articles).returncode == 0


def test_a_damaged_published_mp3_is_replaced_by_the_next_build(tmp_path):
    """An unchanged page is carried over only if its files are as its record says."""
    articles = small_articles(tmp_path / "articles")
    out = tmp_path / "out"
    assert run_build(articles, out).code == 0
    reference = contents(out)
    damaged = out / Path(SMALL[1]).stem / "answer-02.mp3"
    damaged.write_bytes(damaged.read_bytes()[:-5000])  # a truncated copy, say
    run = run_build(articles, out)
    assert run.code == 0, run.stderr
    assert "answer-02.mp3 has" in run.stderr and "building the page again" in run.stderr
    assert "0 answer(s) rendered, 3 from the cache" in run.stdout
    assert contents(out) == reference
