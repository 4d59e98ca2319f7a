"""A hostile world: each fault or bad input found by an adversarial pass, reproduced.

Every test drives the real command as a user (or a careless host) would, and holds it to the
promise: one clear line naming the file (and line) or the request, the right exit code, no
traceback anywhere, the other pages still published, and nothing already published lost.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .conftest import ARTICLES, published_ok, run_build, run_check

LEAD_ONLY = "001_seasonal_flu_lead_only.txt"

MD_PAGE = """---
title: Is a cold contagious?
date: {date}
doctor: Ann Lee
specialty: General Practice
answers: []
---
A cold spreads for the first few days. Wash your hands and stay home while the fever lasts.
"""

ALIAS_BOMB = """---
title: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
---
Text.
"""


def one_line_about(stderr: str, name: str) -> list[str]:
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if name in line]


def test_a_bad_markdown_date_is_one_line_and_the_other_pages_publish(tmp_path):
    articles = tmp_path / "articles"
    articles.mkdir()
    shutil.copy(ARTICLES / LEAD_ONLY, articles)
    (articles / "cold.md").write_text(MD_PAGE.format(date="2025-13-45"))
    run = run_build(articles, tmp_path / "out")
    assert run.code == 1
    lines = one_line_about(run.stderr, "cold.md")
    assert lines == [f"{articles / 'cold.md'}:3: unparseable date '2025-13-45' (expected e.g. 'February 12, 2025')"], lines
    assert published_ok(run.output) == 2  # the other page: its episode and its one answer
    check = run_check(run.output, articles=articles)
    assert "Traceback" not in check.stderr + check.stdout and "cold.md:3: unparseable date" in check.stdout + check.stderr
    (articles / "cold.md").write_text(MD_PAGE.format(date="2025-02-12"))  # an ISO date, as YAML writes it
    assert run_build(articles, tmp_path / "out").code == 0


def test_a_yaml_alias_bomb_is_refused_in_one_line(tmp_path):
    articles = tmp_path / "articles"
    articles.mkdir()
    shutil.copy(ARTICLES / LEAD_ONLY, articles)
    (articles / "bomb.md").write_text(ALIAS_BOMB)
    run = run_build(articles, tmp_path / "out")
    assert run.code == 1
    lines = one_line_about(run.stderr, "bomb.md")
    assert lines == [f"{articles / 'bomb.md'}:3: front matter is not valid YAML: aliases (*name) are not allowed in front matter"], lines
    assert published_ok(run.output) == 2


# -- the output folder ---------------------------------------------------------------------------
def test_an_output_through_a_symlink_is_published_where_it_points_and_locked_there(tmp_path):
    from filelock import FileLock

    from .conftest import small_articles

    articles = small_articles(tmp_path / "articles")
    real = tmp_path / "www" / "podcast"
    real.mkdir(parents=True)
    link = tmp_path / "public"
    link.symlink_to(real)
    first = run_build(articles, link)
    assert first.code == 0, first.stderr
    assert link.is_symlink() and (real / "feed.xml").is_file()
    assert published_ok(real) == 6
    assert not list(tmp_path.glob(".public.*")) and not (real.parent / ".podcast.old").exists()
    again = run_build(articles, link)
    assert again.code == 0 and "Nothing changed" in again.stdout, again.stderr
    with FileLock(str(real.parent / ".podcast.lock")):  # a build of the real folder, by its own name
        blocked = run_build(articles, link)
    assert blocked.code == 75 and "another build is writing this output folder" in blocked.stderr  # busy: try later
    assert "Traceback" not in blocked.stderr and link.is_symlink()


SWAP_STOPPED = """
import os, signal, sys
from audiofeed import entry
from audiofeed.build import output
real = output.sync_folder_of
def stop_after_second_rename(path):  # the swap's two renames are done: Ctrl-C lands here
    os.kill(os.getpid(), signal.SIGINT)
    real(path)
output.sync_folder_of = stop_after_second_rename
sys.argv = ["audiofeed", *sys.argv[1:]]
entry.main()
"""


def test_ctrl_c_during_the_swap_tells_the_truth_and_the_leftovers_go(tmp_path):
    import subprocess
    import sys

    from .conftest import small_articles

    articles = small_articles(tmp_path / "articles")
    out = tmp_path / "out"
    assert run_build(articles, out).code == 0
    page = articles / LEAD_ONLY
    page.write_text(page.read_text().replace("How long is a person", "For how long is a person"))
    proc = subprocess.run([sys.executable, "-c", SWAP_STOPPED, "build", str(articles), "-o", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 130, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines == [f"interrupted (SIGINT) after this build was published: {out}/ holds its output"], lines
    assert "For how long is a person" in (out / "001_seasonal_flu_lead_only" / "build.json").read_text()
    assert published_ok(out) == 6 and not (tmp_path / ".out.old").exists()
    # a swap stopped by a kill leaves the old output beside: the next build removes it, even one with nothing to do
    (tmp_path / ".out.old" / "stale").mkdir(parents=True)
    run = run_build(articles, out)
    assert run.code == 0 and "Nothing changed" in run.stdout and not (tmp_path / ".out.old").exists()


def test_an_output_path_through_a_file_is_one_line(tmp_path):
    from .conftest import small_articles

    articles = small_articles(tmp_path / "articles")
    (tmp_path / "afile").write_text("not a folder")
    run = run_build(articles, tmp_path / "afile" / "output")
    assert run.code == 1 and "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines() == [f"Error: {tmp_path / 'afile'}: is a file, so {tmp_path / 'afile' / 'output'} "
                                               "cannot be an output folder"]


def test_a_read_only_output_is_one_line_and_left_as_it_was(tmp_path):
    """Root may write anywhere: when root, the build runs without the capability that allows it."""
    import os
    import subprocess
    import sys

    from .conftest import snapshot

    articles = tmp_path / "articles"
    articles.mkdir()
    shutil.copy(ARTICLES / LEAD_ONLY, articles)
    place = tmp_path / "site"
    out, cache = place / "out", tmp_path / "cache"
    assert run_build(articles, out, "--cache", str(cache)).code == 0
    before = snapshot(out)
    as_others = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []

    def build(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*as_others, sys.executable, "-m", "audiofeed", "build", str(articles), "-o", str(out),
                               "--cache", str(cache), *args], capture_output=True, text=True, timeout=600)

    place.chmod(0o555)
    out.chmod(0o555)
    try:
        unchanged = build()  # nothing to write: it may say so
        assert unchanged.returncode == 0 and "Nothing changed" in unchanged.stdout, unchanged.stderr
        forced = build("--force")
        assert forced.returncode == 1 and "Traceback" not in forced.stderr, forced.stderr
        assert len(forced.stderr.strip().splitlines()) == 1, forced.stderr
        assert "Permission denied" in forced.stderr and "nothing was published" in forced.stderr, forced.stderr
        assert snapshot(out) == before
        place.chmod(0o755)
        out.with_name(f".{out.name}.lock").unlink()  # a folder where the lock cannot even be made
        place.chmod(0o555)
        locked_out = build()
        assert locked_out.returncode == 1 and len(locked_out.stderr.strip().splitlines()) == 1, locked_out.stderr
        assert "cannot create the build's lock" in locked_out.stderr and f"{place}/" in locked_out.stderr
        assert snapshot(out) == before
    finally:
        place.chmod(0o755)
        out.chmod(0o755)


def test_a_record_pointing_outside_the_output_is_not_carried_over(tmp_path):
    import json

    from .conftest import small_articles

    articles = small_articles(tmp_path / "articles")
    out = tmp_path / "out"
    assert run_build(articles, out).code == 0
    record = out / "001_seasonal_flu_lead_only" / "build.json"
    doc = json.loads(record.read_text())
    outside = tmp_path / "secret.txt"
    outside.write_bytes(b"x" * doc["answers"][0]["bytes"])  # the size the record gives
    doc["answers"][0]["file"] = "../" * 3 + str(outside.relative_to(tmp_path.parent.parent))
    record.write_text(json.dumps(doc))
    run = run_build(articles, out)
    assert run.code == 0, run.stderr
    assert "which is not a file of this page; building the page again" in run.stderr
    assert "secret" not in (out / "answers.xml").read_text() and published_ok(out) == 6
    assert run_check(out, articles=articles).returncode == 0


# -- the cache -----------------------------------------------------------------------------------
def test_cache_entries_that_are_devices_or_fifos_are_rendered_again(tmp_path):
    import os

    from .conftest import small_articles

    articles = small_articles(tmp_path / "articles")
    out, cache = tmp_path / "out", tmp_path / "cache"
    assert run_build(articles, out, "--cache", str(cache)).code == 0
    mp3s = sorted(cache.rglob("*.mp3"))
    records = sorted(cache.rglob("*.json"))
    mp3s[0].unlink()
    mp3s[0].symlink_to("/dev/zero")
    mp3s[1].unlink()
    mp3s[1].symlink_to("/dev/urandom")
    fifo = next(r for r in records if r.with_suffix(".mp3") not in mp3s[:2] and r.with_suffix(".mp3").exists())
    fifo.unlink()
    os.mkfifo(fifo)
    shutil.rmtree(out)
    run = run_build(articles, out, "--cache", str(cache))
    assert run.code == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert run.stderr.count("cache entry unusable") >= 2, run.stderr
    assert published_ok(out) == 6
    assert run_check(out, articles=articles).returncode == 0


def test_pages_named_like_top_level_files_get_their_own_folders(tmp_path):
    articles = tmp_path / "articles"
    articles.mkdir()
    names = ["index.html.txt", "feed.xml.txt", "answers.xml.txt", "cover.png.txt", "assets.txt"]
    for name in names:
        shutil.copy(ARTICLES / LEAD_ONLY, articles / name)
    run = run_build(articles, tmp_path / "out")
    assert run.code == 0, run.stderr
    out = run.output
    for name in names:
        slug = name.removesuffix(".txt") + "-page"
        assert (out / slug / "build.json").is_file(), slug
    assert (out / "index.html").is_file() and (out / "assets").is_dir() and (out / "cover.png").is_file()
    assert published_ok(out) == 2 * len(names)
    assert run_check(out, articles=articles).returncode == 0


def test_the_embed_snippet_is_one_inert_iframe_whatever_the_title(tmp_path):
    import lxml.html

    articles = tmp_path / "articles"
    articles.mkdir()
    title = 'Is a cold contagious? x" onload="alert(1)" a=\'</textarea><script>alert(2)</script>'
    (articles / "cold.md").write_text(MD_PAGE.format(date="2025-02-12").replace(
        "title: Is a cold contagious?", "title: " + json_string(title)))
    run = run_build(articles, tmp_path / "out")
    assert run.code == 0, run.stderr
    page = lxml.html.fromstring((run.output / "cold" / "index.html").read_bytes())
    assert not [s for s in page.iter("script") if "alert" in (s.text or "")]
    (box,) = page.xpath('//textarea[@id="embed-code"]')
    snippet = box.text_content()  # what a reader copies
    elements = lxml.html.fragments_fromstring(snippet)
    assert len(elements) == 1 and elements[0].tag == "iframe", snippet
    iframe = elements[0]
    assert set(iframe.attrib) == {"src", "title", "width", "height", "style", "loading"}, iframe.attrib
    assert iframe.get("title") == title and len(iframe) == 0


def json_string(text: str) -> str:
    import json

    return json.dumps(text)


# -- serve -----------------------------------------------------------------------------------------
def _raw(url: str, request: bytes) -> bytes:
    import socket
    from urllib.parse import urlparse

    u = urlparse(url)
    with socket.create_connection((u.hostname, u.port), timeout=30) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_serve_answers_hostile_requests_with_4xx_and_logs_one_line_each(tmp_path):
    import http.client
    import os
    from urllib.parse import urlparse

    from .server import serving

    articles = tmp_path / "articles"
    articles.mkdir()
    shutil.copy(ARTICLES / LEAD_ONLY, articles / "evil.example.com.txt")
    out = tmp_path / "out"
    assert run_build(articles, out).code == 0
    os.symlink(out / ".audiofeed", out / "manifest-link.json")  # a link to a hidden file
    with serving(out) as (url, proc):
        u = urlparse(url)

        def get(path: str, headers: dict | None = None):
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
            conn.request("GET", path, headers=headers or {})
            resp = conn.getresponse()
            resp.read()
            conn.close()
            return resp

        feed = get("/feed.xml", {"Accept-Encoding": "gzip;q=abc"})
        assert feed.status == 200 and feed.getheader("Content-Encoding") is None
        moved = get("//evil.example.com")
        location = moved.getheader("Location") or ""
        assert not location.startswith("//") and "://" not in location, (moved.status, location)
        assert moved.status in (301, 404)
        assert get("/evil.example.com/").status == 200
        empty = get("/evil.example.com/episode.mp3", {"Range": "bytes=-0"})
        assert empty.status == 416 and empty.getheader("Content-Range", "").startswith("bytes */")
        page = get("/evil.example.com/")
        assert page.getheader("X-Content-Type-Options") == "nosniff"
        assert "script-src 'self'" in page.getheader("Content-Security-Policy", "")
        assert get("/manifest-link.json").status == 404
        host = f"Host: {u.hostname}\r\n".encode()
        malformed = [
            b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n" + host + b"\r\n",  # a URL too long
            b"GET / HTTP/9.9\r\n" + host + b"\r\n",
            b"POST / HTTP/1.1\r\n" + host + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ]
        for raw in malformed:
            answer = _raw(url, raw)
            status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else None
            assert status is None or 400 <= status < 500, answer[:200]
    log = proc.stderr.read()
    assert "Traceback" not in log, log
    assert len([ln for ln in log.splitlines() if ln.startswith("serve:")]) <= len(malformed), log


def test_serve_watch_rebuilds_once_another_build_lets_go_of_the_folder(tmp_path):
    import os
    import queue
    import threading

    from filelock import FileLock

    from .conftest import small_articles
    from .server import serving

    articles = small_articles(tmp_path / "articles")
    out = tmp_path / "out"
    assert run_build(articles, out).code == 0
    lock = FileLock(str(out.with_name(f".{out.name}.lock")))
    with serving(out, "--watch", "--articles", str(articles)) as (url, proc):
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: [lines.put(ln) for ln in proc.stderr] + [lines.put(None)], daemon=True).start()

        def until(prefix: str) -> str:
            while True:
                line = lines.get(timeout=600)  # a bound on a hang only: the line is the event
                assert line is not None and "rebuild failed" not in line, f"server ended or failed before {prefix!r}"
                if line.startswith(prefix):
                    return line

        with lock:  # another build is writing the folder
            page = articles / LEAD_ONLY
            edited = tmp_path / "edit.txt"
            edited.write_text(page.read_text().replace("How long is a person", "For how long is a person"))
            os.replace(edited, page)
            until("rebuild waiting: another build is writing")
        assert until("rebuilt after").split(": ", 1)[1].startswith("1 page(s)")
        assert "For how long is a person" in (out / "feed.xml").read_text()


# -- limits --------------------------------------------------------------------------------------
def test_pages_beyond_the_limits_are_refused_in_one_line_before_any_work(tmp_path):
    from audiofeed.read.pages import MAX_ANSWER_WORDS, MAX_PAGE_BYTES

    articles = tmp_path / "articles"
    articles.mkdir()
    shutil.copy(ARTICLES / LEAD_ONLY, articles)
    seed = (ARTICLES / "000_4fe75e9a818bb161.txt").read_text()
    (articles / "huge.txt").write_text(seed + "word " * (MAX_PAGE_BYTES // 5 + 1))
    (articles / "long.md").write_text(MD_PAGE.format(date="2025-02-12").replace("A cold spreads", "A cold spreads " + "again " * MAX_ANSWER_WORDS))
    (articles / "forever.txt").write_text(seed.replace("1min 11sec", "99999999999999999999min"))
    (articles / "day.txt").write_text(seed.replace("1min 11sec", "1440min"))
    run = run_build(articles, tmp_path / "out")
    assert run.code == 1 and "Traceback" not in run.stderr
    errors = {name: one_line_about(run.stderr, name) for name in ("huge.txt", "long.md", "forever.txt", "day.txt")}
    assert all(len(lines) == 1 for lines in errors.values()), errors
    assert "a page may have at most 1 MiB" in errors["huge.txt"][0]
    assert f"an answer may have at most {MAX_ANSWER_WORDS}" in errors["long.md"][0]
    assert "is longer than audiofeed's limit of 20min" in errors["forever.txt"][0]
    assert "is longer than audiofeed's limit of 20min" in errors["day.txt"][0]
    assert published_ok(run.output) == 2


# -- smaller --------------------------------------------------------------------------------------
def test_a_utf16_page_is_read_and_messages_are_printed_as_written(tmp_path):
    articles = tmp_path / "articles"
    articles.mkdir()
    text = (ARTICLES / LEAD_ONLY).read_text(encoding="utf-8")
    (articles / "flu-utf16.txt").write_bytes(text.encode("utf-16"))  # with its byte-order mark
    (articles / "keys.md").write_text(MD_PAGE.format(date="2025-02-12").replace("answers: []", 'answers: []\n":x: [/b]": 1'))
    run = run_build(articles, tmp_path / "out")
    assert run.code == 1 and "Traceback" not in run.stderr
    assert published_ok(run.output) == 2  # the UTF-16 page
    (line,) = one_line_about(run.stderr, "keys.md")
    assert "unknown front matter key ':x: [/b]'" in line, line  # no emoji, no markup


def test_an_empty_lexicon_word_and_a_cover_that_is_no_image_are_refused(tmp_path):
    from .conftest import small_articles

    articles = small_articles(tmp_path / "articles")
    config = tmp_path / "audiofeed.toml"
    config.write_text('[lexicon]\n"" = "nothing"\n')
    run = run_build(articles, tmp_path / "out")
    assert run.code != 0 and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "lexicon" in run.stderr and "empty word" in run.stderr
    (tmp_path / "cover.png").write_text("<html>not a picture</html>")
    config.write_text('[feed]\ncover = "cover.png"\n')
    run = run_build(articles, tmp_path / "out")
    assert run.code != 0 and "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert "feed.cover" in run.stderr and "is not a PNG image" in run.stderr
    assert not (tmp_path / "out").exists()


def test_serve_closes_connections_that_never_finish_their_request(tmp_path):
    import socket
    from urllib.parse import urlparse

    from .conftest import small_articles
    from .server import serving

    out = tmp_path / "out"
    assert run_build(small_articles(tmp_path / "articles"), out).code == 0
    with serving(out, "--idle-timeout", "1") as (url, proc):
        u = urlparse(url)
        half_open = []
        for _ in range(50):
            s = socket.create_connection((u.hostname, u.port), timeout=120)  # the bound on a hang, not a wait
            s.sendall(b"GET /feed.xml HTTP/1.1\r\nHost: x\r\n")  # and never the blank line that ends it
            half_open.append(s)
        for s in half_open:
            answer = b""
            while chunk := s.recv(1024):  # the server's close is the event waited for
                answer += chunk
            assert not answer.startswith(b"HTTP/1.1 2"), answer[:100]
            s.close()
        fresh = _raw(url, b"GET /feed.xml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert fresh.startswith(b"HTTP/1.1 200")
