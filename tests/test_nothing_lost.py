"""Nothing published is ever lost: the faults of the second adversarial pass, each reproduced.

Each test drives the real command and holds it to the promise: one line naming the file (and
line), key or request, the right exit status, no traceback anywhere, the published output still
passing ``check``, nothing lost.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import feedparser
import pytest

from .conftest import published_ok, run_build, run_check, small_articles


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


# -- 2. identity, validated before any work -------------------------------------------------------
MD_PAGE = """---
title: {title}
date: 2025-01-02
doctor: Ann Lee
specialty: General Practice
{extra}answers: []
---
A cold spreads for the first few days. Wash your hands and stay home while the fever lasts.
"""


def test_two_pages_with_one_name_are_refused_in_one_line_and_the_rest_publish(tmp_path):
    articles = small_articles(tmp_path / "articles")
    out = tmp_path / "output"
    assert run_build(articles, out).code == 0
    before = (out / "feed.xml").read_text(encoding="utf-8").count("Fever")
    (articles / "001_seasonal_flu_lead_only.md").write_text("---\ntitle: broken\n---\n", encoding="utf-8")
    fever = articles / "003_fever_in_children_utf8.txt"
    fever.write_text(fever.read_text(encoding="utf-8").replace("fever", "Fever"), encoding="utf-8")  # an edit elsewhere
    run = run_build(articles, out)
    no_traceback(run.stderr)
    assert run.code == 1
    lines = [ln for ln in run.stderr.splitlines() if "same page name" in ln]
    assert lines == [f"{articles}/001_seasonal_flu_lead_only.md: same page name '001_seasonal_flu_lead_only' as "
                     f"{articles}/001_seasonal_flu_lead_only.txt; rename one (none of them is built until then)"]
    assert "1 page(s) built" in run.stdout and "1 kept from the last build" in run.stdout
    assert (out / "feed.xml").read_text(encoding="utf-8").count("Fever") > before  # the edit is published
    assert len(items(out / "feed.xml")) == 2  # each page once
    assert run_check(out, articles=articles).returncode == 0


def test_two_pages_pinning_one_guid_publish_one_episode_per_guid(tmp_path):
    articles = tmp_path / "articles"
    articles.mkdir()
    guid = "guid: 6a1ee2f6-5a31-4c44-8a53-4b7c7b5e1e01\n"
    (articles / "cold.md").write_text(MD_PAGE.format(title="Is a cold contagious?", extra=guid), encoding="utf-8")
    out = tmp_path / "output"
    assert run_build(articles, out).code == 0
    (articles / "copy.md").write_text(MD_PAGE.format(title="Is the flu contagious?", extra=guid), encoding="utf-8")
    run = run_build(articles, out)
    no_traceback(run.stderr)
    assert run.code == 1
    assert [ln for ln in run.stderr.splitlines() if "guid" in ln] == [
        f"{articles}/copy.md: guid '6a1ee2f6-5a31-4c44-8a53-4b7c7b5e1e01' is also the guid of {articles}/cold.md; "
        "give each page its own (apps keep one episode per GUID)"]
    guids = [g for g, _ in items(out / "feed.xml")]
    assert guids == ["6a1ee2f6-5a31-4c44-8a53-4b7c7b5e1e01"]
    check = run_check(out, articles=articles)  # what is published passes; check says copy.md is not published
    assert check.returncode == 0 and "copy.md: answer 0: 'Is the flu contagious?' is not published" in check.stderr


def test_the_same_answer_twice_refuses_its_page_naming_both_lines(tmp_path):
    articles = tmp_path / "articles"
    articles.mkdir()
    section = "\n## Should I run with a fever?\n\nNo. Rest until the fever has gone, then start again slowly.\n"
    extra = ("answers:\n  - question: Should I run with a fever?\n    doctor: Tomas Novak\n    specialty: GP\n"
             "    runtime: 6sec\n  - question: Should I run with a fever?\n    doctor: Tomas Novak\n    specialty: GP\n"
             "    runtime: 6sec\n")
    page = MD_PAGE.format(title="Exercise with a cold?", extra="").replace("answers: []\n", extra) + section + section
    (articles / "twice.md").write_text(page, encoding="utf-8")
    small = small_articles(tmp_path / "small")
    for p in small.iterdir():
        p.rename(articles / p.name)
    run = run_build(articles, tmp_path / "output")
    no_traceback(run.stderr)
    assert run.code == 1
    lines = [ln for ln in run.stderr.splitlines() if "twice.md" in ln]
    assert lines == [f"{articles}/twice.md:22: a second '## Should I run with a fever?' section (the first is at line 18); "
                     "each question may be answered once",
                     f"{articles}/twice.md:6: answers[2]: 'Should I run with a fever?' is listed twice; each question "
                     "may be answered once"], run.stderr
    assert len(items(tmp_path / "output" / "feed.xml")) == 2  # the other pages publish


# -- 3. one text boundary -------------------------------------------------------------------------
def test_text_xml_cannot_carry_is_dropped_and_a_latin1_file_name_publishes(tmp_path):
    """A title with U+FFFF stopped the build with lxml's traceback; a Latin-1 file name crashed
    while writing build.json; DEL and C1 controls in front matter were a two-line YAML message
    naming line 1 (item 15)."""
    articles = small_articles(tmp_path / "articles")
    lead = articles / "001_seasonal_flu_lead_only.txt"
    text = lead.read_text(encoding="utf-8")
    lead.write_text(text.replace("contagious?", "contagious?\uffff", 1), encoding="utf-8")
    (articles / os.fsdecode(b"caf\xe9.txt")).write_text(text, encoding="utf-8")
    (articles / "c1.md").write_text(MD_PAGE.format(title="Is a cold contagious?\x7f", extra="").replace(
        "Ann Lee", "Ann\x85 Lee"), encoding="utf-8")
    out = tmp_path / "output"
    run = run_build(articles, out)
    no_traceback(run.stderr)
    assert run.code == 0, run.stderr
    assert f"warning: {lead}:1: dropped control character U+FFFF" in run.stderr
    assert f"warning: {articles}/c1.md:2: dropped control character U+007F" in run.stderr
    assert f"warning: {articles}/c1.md:4: dropped control character U+0085" in run.stderr
    assert len(items(out / "feed.xml")) == 4
    assert "\ufffd" in (out / "caf" / "build.json").read_text(encoding="utf-8")  # the name as it could be read
    assert run_check(out, articles=articles).returncode == 0


SETTINGS = [  # (audiofeed.toml line, the same on the command line, what is wrong)
    ('title = "Show\\u0001"', "--title=Show\x01", "contains U+0001"),
    ('author = "Ann\\uffff"', "--author=Ann\uffff", "contains U+FFFF"),
    ('description = "About\\u0007"', "--description=About\x07", "contains U+0007"),
    ('language = "en_US!"', "--language=", "must be a language tag"),
    ('owner_email = "@"', "--email=@", "'@' is not an e-mail address"),
    ('base_url = "https://"', "--base-url=https://", "'https://' has no host name"),
    ('base_url = "http://[oops/"', "--base-url=http://[oops/", "is not a valid address"),
    ('category = "Nonsense"', None, "'Nonsense' is not one of Apple Podcasts' categories"),
    ('subcategory = "Comedy Fiction"', None, "'Comedy Fiction' is not a subcategory of 'Health & Fitness'"),
    ('answers_description = "x\\u0001"', None, "contains U+0001"),
]


@pytest.mark.parametrize("line, option, why", SETTINGS, ids=[s[0].split(" =")[0] + str(i) for i, s in enumerate(SETTINGS)])
def test_settings_a_directory_would_refuse_are_one_line_naming_the_key(tmp_path, line, option, why):
    site = tmp_path / "site"
    articles = small_articles(site / "articles") if site.mkdir() is None else None
    (site / "audiofeed.toml").write_text(f"[feed]\n{line}\n", encoding="utf-8")
    run = run_build(articles, tmp_path / "output")
    key = line.split(" =")[0]
    assert run.code == 1 and run.stderr.count("\n") == 1, run.stderr
    assert run.stderr.startswith(f"Error: {site}/audiofeed.toml: feed.{key}: ") and why in run.stderr, run.stderr
    assert not (tmp_path / "output").exists()
    if option:
        (site / "audiofeed.toml").unlink()
        run = run_build(articles, tmp_path / "output", option)
        name = option.split("=")[0]
        assert run.code == 1 and run.stderr.count("\n") == 1, run.stderr
        assert run.stderr.startswith(f"Error: {name}: ") and why in run.stderr, run.stderr


# -- 4. the last line of defence ------------------------------------------------------------------
def test_an_escaping_exception_is_one_line_naming_a_log_of_its_traceback(tmp_path):
    """A fault of our own (here injected into the command line's entry point) is one line on
    stderr, the traceback in the log file that line names, and exit status 70."""
    code = ("import audiofeed.cli as cli\n"
            "def broken():\n    raise RuntimeError('a fault of our own')\n"
            "cli.main = broken\n"
            "from audiofeed.entry import main\nmain()\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "AUDIOFEED_LOG_DIR": str(tmp_path / "logs")})
    assert proc.returncode == 70
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("audiofeed: internal error (RuntimeError: a fault of our own)")
    log = Path(lines[0].split("the details are in ")[1].split(";")[0])
    assert log.parent == tmp_path / "logs" and "Traceback" in log.read_text() and "a fault of our own" in log.read_text()


# -- 5. a lead is bounded by its spoken length -----------------------------------------------------
def test_a_lead_too_long_to_say_is_refused_before_any_work(tmp_path):
    """A 14 kB lead of one "word" (1,2,...,3000) became a 23.6-minute answer at 1.34 GB."""
    articles = small_articles(tmp_path / "articles")
    lead = articles / "001_seasonal_flu_lead_only.txt"
    numbers = ",".join(str(i) for i in range(1, 3001))
    lead.write_text(lead.read_text(encoding="utf-8").replace("Most adults", f"{numbers} Most adults", 1), encoding="utf-8")
    run = run_build(articles, tmp_path / "output")
    no_traceback(run.stderr)
    assert run.code == 1
    refused = [ln for ln in run.stderr.splitlines() if ln.startswith(f"{lead}:1:")]
    assert len(refused) == 1 and "refused 'How long is a person with seasonal flu contagious?': it would take about" in refused[0]
    assert "an answer may last at most 20min" in refused[0]
    assert f"{lead}: not published: none of its answers could be published" in run.stderr
    assert "1 page(s) built" in run.stdout and "3 answer(s) rendered" in run.stdout  # the other page's, none of the lead's


# -- 10. check reads corrupt published files as problems -------------------------------------------
def _spoil_chapters(out: Path) -> str:
    path = out / "003_fever_in_children_utf8" / "chapters.json"
    path.write_text(re.sub(r'"startTime": [0-9.]+', '"startTime": Infinity', path.read_text(), count=1))
    return "003_fever_in_children_utf8/chapters.json: chapters: not valid JSON chapters: Infinity is not a JSON number"


def _spoil_psc(out: Path) -> str:
    import re

    path = out / "feed.xml"
    path.write_text(re.sub(r'psc:chapter start="[^"]*"', 'psc:chapter start="1e999"', path.read_text(), count=1))
    return "psc:chapters: start '1e999' is not a time in an episode"


def _spoil_bytes(out: Path) -> str:
    path = out / "answers.xml"
    data = path.read_bytes()
    at = data.index(b"<title>") + 7
    path.write_bytes(data[:at] + b"\xff\xfe" + data[at:])
    return "answers.xml: xml: does not parse:"


@pytest.mark.parametrize("spoil", [_spoil_chapters, _spoil_psc, _spoil_bytes])
def test_check_reads_corrupt_published_files_as_problem_lines(small_output, tmp_path, spoil):
    articles, built = small_output
    out = tmp_path / "output"
    shutil.copytree(built, out)
    expected = spoil(out)
    check = run_check(out, articles=articles)
    no_traceback(check.stderr, check.stdout)
    assert check.returncode == 1
    assert expected in check.stderr, check.stderr


# -- 12. an ASCII-only terminal ----------------------------------------------------------------------
def test_a_build_printing_to_an_ascii_only_stdout_succeeds(small_output, tmp_path):
    articles, _ = small_output
    run = run_build(articles, tmp_path / "output", env={**os.environ, "PYTHONIOENCODING": "ascii"})
    no_traceback(run.stderr)
    assert run.code == 0, run.stderr
    assert "2 page(s) built" in run.stdout


# -- 13. say and init ----------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["espeak", "piper"])
@pytest.mark.parametrize("text", ["", "...", " - "])
def test_say_with_nothing_to_say_is_one_line(tmp_path, engine, text):
    proc = subprocess.run([sys.executable, "-m", "audiofeed", "say", text, "--engine", engine, "-o", str(tmp_path / "x.mp3")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and proc.stderr == f"Error: TEXT: nothing to say in {text!r} (no words); give the text to speak\n"


def test_init_where_a_file_is_in_the_way_is_one_line(tmp_path):
    (tmp_path / "file").write_text("")
    proc = subprocess.run([sys.executable, "-m", "audiofeed", "init", str(tmp_path / "file" / "podcast")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr == f"Error: {tmp_path}/file: is a file, so {tmp_path}/file/podcast cannot be a project folder\n"


# -- 17. nothing changed, but still refused ----------------------------------------------------------
def test_a_rebuild_finding_nothing_changed_still_fails_while_answers_are_refused(tmp_path):
    articles = small_articles(tmp_path / "articles")
    fever = articles / "003_fever_in_children_utf8.txt"
    fever.write_text(fever.read_text(encoding="utf-8").replace("28sec", "2sec"), encoding="utf-8")
    out = tmp_path / "output"
    first = run_build(articles, out)
    assert first.code == 1 and "refused" in first.stderr
    again = run_build(articles, out)
    no_traceback(again.stderr)
    assert again.code == 1 and "Nothing changed" in again.stdout
    assert "still needs" in again.stderr and "not published" in again.stderr


# -- 18. a cache inside the output ------------------------------------------------------------------
def test_a_cache_inside_the_output_folder_is_refused(small_output, tmp_path):
    articles, _ = small_output
    out = tmp_path / "output"
    run = run_build(articles, out, "--cache", str(out / "cache"))
    assert run.code == 1
    assert run.stderr == (f"Error: {out}/cache: the cache is inside the output folder {out}/, which every build replaces "
                          "whole; put it beside (the default: .audiofeed-cache beside the output)\n")


# -- serve --------------------------------------------------------------------------------------------
class Lines:
    """A process's stderr, line by line, as it comes: :meth:`until` waits for a line (the event)."""

    def __init__(self, stream):
        import queue

        self.queue: queue.Queue = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=lambda: [self.queue.put(ln) for ln in stream] + [self.queue.put(None)], daemon=True).start()

    def until(self, wanted, bound: float = 600) -> str:
        while True:
            line = self.queue.get(timeout=bound)  # a bound on a hang only: the line is the event
            assert line is not None, f"the process ended before {wanted!r}: {''.join(self.seen)}"
            self.seen.append(line)
            if (wanted(line) if callable(wanted) else line.startswith(wanted)):
                return line


def _edit(page: Path, old: str, new: str) -> None:
    """Save an edit as editors do: a copy renamed over the page (one event)."""
    copy = page.with_name(f".{page.name}.edit")
    copy.write_text(page.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    os.replace(copy, page)


def _rebuilt(line: str) -> bool:
    return line.startswith(("rebuilt after", "rebuild failed"))


def test_serve_watch_survives_a_failing_rebuild_and_follows_a_replaced_folder(tmp_path):
    """A page that broke the rebuild ended the server (traceback, port closed); an articles folder
    moved aside and replaced by a fresh copy was never watched again (items 4 and 7)."""
    from .server import serving

    articles = small_articles(tmp_path / "articles")
    out = tmp_path / "output"
    assert run_build(articles, out).code == 0
    with serving(out, "--watch", "--articles", str(articles)) as (url, proc):
        lines = Lines(proc.stderr)
        (articles / "broken.md").write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")
        lines.until(_rebuilt)
        page = articles / "001_seasonal_flu_lead_only.txt"
        _edit(page, "How long is a person", "For how long is a person")
        assert lines.until(_rebuilt).startswith("rebuilt after") and "For how long" in (out / "feed.xml").read_text()
        (articles / "broken.md").unlink()
        lines.until(_rebuilt)
        # a deploy: the folder moved aside, a fresh copy put in its place, then edited
        articles.rename(tmp_path / "articles.old")
        shutil.copytree(tmp_path / "articles.old", articles)
        lines.until(_rebuilt)
        _edit(page, "For how long is a person", "And for how long is a person")
        while "And for how long" not in (out / "feed.xml").read_text():
            lines.until(_rebuilt)
        assert proc.poll() is None  # still serving
    no_traceback("".join(lines.seen))
    assert any(f"{articles}/broken.md" in ln for ln in lines.seen)


def test_serve_watch_without_its_folder_is_one_line(tmp_path, small_output):
    _, out = small_output
    proc = subprocess.run([sys.executable, "-m", "audiofeed", "serve", str(out), "--watch", "--articles",
                           str(tmp_path / "nowhere"), "--port", "0"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr == f"Error: {tmp_path}/nowhere: no such folder of articles to watch (--articles)\n"


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def test_sigterm_during_a_watch_rebuild_stops_at_once_with_143_and_publishes_nothing(tmp_path):
    """SIGTERM during a rebuild printed "stopped", ran on until the rebuild ended (minutes with
    Piper), published after the stop, and exited 0 (item 8)."""
    from .server import free_port

    articles = small_articles(tmp_path / "articles")
    out = tmp_path / "output"
    assert run_build(articles, out, "--engine", "piper").code == 0
    feed = (out / "feed.xml").stat().st_ino
    proc = subprocess.Popen([sys.executable, "-m", "audiofeed", "serve", str(out), "--watch", "--articles", str(articles),
                             "--engine", "piper", "--port", str(free_port())],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:
            if line.startswith("Press Ctrl-C"):
                break
        lead = articles / "001_seasonal_flu_lead_only.txt"
        _edit(lead, "How long is a person", "For how long is a person")
        while len(descendants(proc.pid)) < 2 and proc.poll() is None:  # the event: the rebuild's workers are there
            threading.Event().wait(0.005)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)  # a bound on a hang only
    finally:
        proc.kill()
    assert proc.returncode == 143, err
    assert err.strip().splitlines()[-1] == "stopped", err
    no_traceback(err)
    assert (out / "feed.xml").stat().st_ino == feed  # nothing published after the stop
    assert "For how long" not in (out / "feed.xml").read_text()
    assert run_check(out, articles=tmp_path / "articles").returncode in (0, 1)
    check = subprocess.run([sys.executable, "-m", "audiofeed", "check", str(out)], capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stderr


def _get(url: str, path: str, headers: dict) -> tuple[int, dict]:
    import http.client
    from urllib.parse import urlparse

    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp.status, dict(resp.getheaders())


@pytest.mark.parametrize("path, gzip", [("/feed.xml", True), ("/feed.xml", False),
                                        ("/003_fever_in_children_utf8/episode.mp3", False)])
def test_serve_answers_304_only_for_the_files_exact_date(small_output, tmp_path, path, gzip):
    """After a build host's clock ran ahead, a rebuilt file is older than the date clients were
    told, and 304 for any later date hid new episodes from apps that revalidate by date (item 16)."""
    from email.utils import formatdate

    from .server import serving

    _, built = small_output
    out = tmp_path / "output"
    shutil.copytree(built, out)
    headers = {"Accept-Encoding": "gzip"} if gzip else {}
    with serving(out) as (url, proc):
        status, first = _get(url, path, headers)
        assert status == 200
        told = first["Last-Modified"]
        assert _get(url, path, {**headers, "If-Modified-Since": told})[0] == 304
        target = out / path.lstrip("/")
        target.write_bytes(target.read_bytes())  # rebuilt...
        mtime = target.stat().st_mtime - 3600
        os.utime(target, (mtime, mtime))  # ...by a host whose clock is now an hour behind the last one
        status, again = _get(url, path, {**headers, "If-Modified-Since": told})
        assert status == 200 and again["Last-Modified"] == formatdate(math.ceil(mtime), usegmt=True)


def test_serve_out_of_file_descriptors_logs_one_line_a_second(small_output):
    """When connections outnumber serve's file descriptors, asyncio logged the accept error with a
    traceback thousands of times a second (item 11)."""
    import resource
    import socket
    import time

    from .server import free_port

    _, out = small_output
    port = free_port()

    def few_descriptors() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    proc = subprocess.Popen([sys.executable, "-m", "audiofeed", "serve", str(out), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=few_descriptors)
    try:
        for line in proc.stdout:
            if line.startswith("Press Ctrl-C"):
                break
        lines = Lines(proc.stderr)
        started = time.monotonic()
        sockets = []
        for _ in range(100):
            sockets.append(socket.create_connection(("127.0.0.1", port), timeout=30))
        lines.until(lambda ln: "out of system resource" in ln or "Too many open files" in ln)
        for s in sockets:
            s.close()
        status, _ = _get(f"http://127.0.0.1:{port}/", "/feed.xml", {})
        assert status == 200
        elapsed = time.monotonic() - started
    finally:
        proc.terminate()
        _, rest = proc.communicate(timeout=60)
    text = "".join(lines.seen) + rest
    no_traceback(text)
    errors = [ln for ln in text.splitlines() if "out of system resource" in ln or "Too many open files" in ln]
    assert all(ln.startswith("serve: ") for ln in errors)
    assert 1 <= len(errors) <= elapsed + 2  # at most one a second (and the first)


# -- 14. a spoilt prepared model ----------------------------------------------------------------------
def test_a_truncated_prepared_graph_is_prepared_again(tmp_path):
    env = {**os.environ, "AUDIOFEED_MODEL_CACHE": str(tmp_path / "models")}

    def say() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "audiofeed", "say", "Rest and drink water.", "--engine", "piper",
                               "-o", str(tmp_path / "x.mp3")], capture_output=True, text=True, timeout=300, env=env)

    assert say().returncode == 0
    (front,) = (tmp_path / "models").glob("*/flow.onnx")
    size = front.stat().st_size
    front.write_bytes(front.read_bytes()[: size // 2])
    again = say()
    no_traceback(again.stderr)
    assert again.returncode == 0, again.stderr
    assert front.stat().st_size == size
