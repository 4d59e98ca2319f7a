"""`audiofeed serve` over loopback: types, Range, HEAD, traversal, load, and --watch."""

from __future__ import annotations

import gzip
import http.client
import os
import queue
import random
import re
import shutil
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

import pytest

from .server import serving

PAGE = "000_4fe75e9a818bb161"


@pytest.fixture(scope="module")
def server(built, tmp_path_factory):
    out = tmp_path_factory.mktemp("served") / "output"
    shutil.copytree(built.output, out)
    os.symlink("/etc", out / "outside-link")  # a link out of the folder must not be followed
    with serving(out) as (url, proc):
        yield url, out


def request(url: str, method: str = "GET", path: str = "/", headers: dict | None = None):
    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    conn.request(method, path, headers=headers or {})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp, body


def raw_response(url: str, path: str, headers: dict) -> bytes:
    """The bytes a server sends for one request on a connection it then closes."""
    u = urlparse(url)
    with socket.create_connection((u.hostname, u.port), timeout=10) as sock:
        lines = [f"GET {path} HTTP/1.1", f"Host: {u.hostname}:{u.port}", "Connection: close",
                 *(f"{k}: {v}" for k, v in headers.items())]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_start_prints_feed_urls(built):
    with serving(built.output) as (url, proc):
        out = proc.banner
    assert f"episodes feed: {url}feed.xml" in out and f"answers feed:  {url}answers.xml" in out


@pytest.mark.parametrize("path, expected", [
    (f"/{PAGE}/episode.mp3", "audio/mpeg"),
    ("/feed.xml", "application/rss+xml"),
    ("/answers.xml", "application/rss+xml"),
    (f"/{PAGE}/chapters.json", "application/json+chapters"),
    (f"/{PAGE}/answer-01.vtt", "text/vtt"),
    (f"/{PAGE}/answer-01.json", "application/json"),
    ("/index.html", "text/html"),
])
def test_content_types(server, path, expected):
    resp, _ = request(server[0], path=path)
    assert resp.status == 200
    assert resp.getheader("Content-Type").split(";")[0] == expected


def test_range_and_head(server):
    url, out = server
    data = (out / PAGE / "episode.mp3").read_bytes()
    resp, body = request(url, path=f"/{PAGE}/episode.mp3", headers={"Range": "bytes=1000-1999"})
    assert resp.status == 206
    assert resp.getheader("Content-Range") == f"bytes 1000-1999/{len(data)}"
    assert body == data[1000:2000]
    resp, body = request(url, path=f"/{PAGE}/episode.mp3", headers={"Range": f"bytes={len(data) - 500}-"})
    assert resp.status == 206 and body == data[-500:]
    resp, body = request(url, "HEAD", f"/{PAGE}/episode.mp3")
    assert resp.status == 200 and body == b""
    assert int(resp.getheader("Content-Length")) == len(data)
    assert resp.getheader("Accept-Ranges") == "bytes"
    resp, _ = request(url, path=f"/{PAGE}/episode.mp3", headers={"Range": f"bytes={len(data) + 10}-"})
    assert resp.status == 416


@pytest.mark.parametrize("path", ["/feed.xml", "/answers.xml", f"/{PAGE}/chapters.json", f"/{PAGE}/episode.vtt",
                                  f"/{PAGE}/index.html"])
def test_text_is_gzipped_when_asked(server, path):
    url, out = server
    data = (out / path.lstrip("/")).read_bytes()
    resp, body = request(url, path=path, headers={"Accept-Encoding": "gzip"})
    assert resp.status == 200 and resp.getheader("Content-Encoding") == "gzip"
    assert gzip.decompress(body) == data and len(body) < len(data)
    assert "Accept-Encoding" in resp.getheader("Vary")
    resp, body = request(url, path=path)  # not asked: as it is
    assert resp.getheader("Content-Encoding") is None and body == data
    resp, body = request(url, path=path, headers={"Accept-Encoding": "gzip", "Range": "bytes=0-99"})
    assert resp.status == 206 and resp.getheader("Content-Encoding") is None and body == data[:100]
    first, _ = request(url, path=path, headers={"Accept-Encoding": "gzip"})
    for validator in ({"If-Modified-Since": first.getheader("Last-Modified")}, {"If-None-Match": first.getheader("ETag")}):
        raw = raw_response(url, path, {"Accept-Encoding": "gzip", **validator})  # as the bytes arrive: nothing after a 304
        assert raw.startswith(b"HTTP/1.1 304") and raw.endswith(b"\r\n\r\n"), raw[-200:]
    resp, body = request(url, path=path, headers={"Accept-Encoding": "gzip", "If-None-Match": '"stale"'})
    assert resp.status == 200 and gzip.decompress(body) == data


def test_audio_is_never_compressed(server):
    url, out = server
    resp, body = request(url, path=f"/{PAGE}/episode.mp3", headers={"Accept-Encoding": "gzip"})
    assert resp.getheader("Content-Encoding") is None and body == (out / PAGE / "episode.mp3").read_bytes()


@pytest.mark.parametrize("path", [
    "/../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd",
    f"/{PAGE}/../../../etc/passwd", "/.audiofeed", "//etc/passwd", "/%00", "/outside-link/passwd",
])
def test_no_path_outside_the_output(server, path):
    url, out = server
    resp, body = request(url, path=path)
    assert resp.status in (400, 403, 404), (path, resp.status)
    assert b"root:" not in body


def test_directory_pages(server):
    url, _ = server
    resp, body = request(url, path=f"/{PAGE}/")
    assert resp.status == 200 and b"<audio" in body
    resp, _ = request(url, path=f"/{PAGE}")
    assert resp.status == 301 and resp.getheader("Location").endswith(f"/{PAGE}/")


def test_200_concurrent_range_requests(server):
    url, out = server
    files = sorted(f for f in out.glob("*/*.mp3") if not f.is_symlink())
    blobs = {f: f.read_bytes() for f in files}
    rng = random.Random(7)
    jobs = []
    for _ in range(200):
        f = rng.choice(files)
        start = rng.randrange(0, len(blobs[f]) - 1)
        end = min(len(blobs[f]) - 1, start + rng.randrange(1, 200_000))
        jobs.append((f, start, end))

    def one(job):
        f, start, end = job
        resp, body = request(url, path="/" + str(f.relative_to(out)), headers={"Range": f"bytes={start}-{end}"})
        return resp.status, body, job

    barrier = threading.Barrier(200)

    def together(job):
        barrier.wait(timeout=30)  # all 200 requests in flight at once
        return one(job)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=200) as pool:
        results = list(pool.map(together, jobs, timeout=60))
    elapsed = time.perf_counter() - started
    assert len(results) == 200
    for status, body, (f, start, end) in results:
        assert status == 206 and body == blobs[f][start : end + 1]
    print(f"\n200 concurrent range requests in {elapsed:.2f} s")


def _pages_rebuilt(proc, seconds: float = 300) -> list[int]:
    """Pages built by each rebuild the server reports (a line each on stderr), up to the first that
    built any: the rebuild itself is the event waited for, line by line, bounded by ``seconds``."""
    lines: queue.Queue | None = getattr(proc, "stderr_lines", None)
    if lines is None:  # one reader per server, kept for later calls
        lines = proc.stderr_lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(ln) for ln in proc.stderr] + [lines.put(None)], daemon=True).start()
    deadline, counts = time.monotonic() + seconds, []
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            pytest.fail(f"no rebuild within {seconds} s: {counts}")
        if line is None:
            pytest.fail(f"the server ended without reporting a rebuild of any page: {counts}")
        m = re.match(r"rebuilt after \d+ change\(s\): (\d+) page\(s\)", line)
        if m:
            counts.append(int(m.group(1)))
            if counts[-1]:
                return counts


def _edit(page, old: str, new: str, scratch) -> None:
    """Save an edit as editors do: write a copy elsewhere, then rename it over the page (one event)."""
    copy = scratch / f"{page.name}.edit"
    copy.write_text(page.read_text().replace(old, new))
    os.replace(copy, page)


def test_watch_rebuilds_when_an_article_changes(tmp_path, articles_copy):
    out = tmp_path / "out"
    for p in articles_copy.glob("*.txt"):
        if not p.name.startswith(("001", "003")):
            p.unlink()  # two small pages keep the rebuild quick
    from .conftest import run_build
    assert run_build(articles_copy, out).code == 0
    before = (out / "003_fever_in_children_utf8" / "episode.mp3").stat().st_ino
    with serving(out, "--watch", "--articles", str(articles_copy)) as (url, proc):
        page = next(articles_copy.glob("001*.txt"))
        _edit(page, "How long is a person", "For how long is a person", tmp_path)
        assert max(_pages_rebuilt(proc)) == 1  # only the edited page, not every page
        _, body = request(url, path="/feed.xml")
        assert b"For how long is a person" in body
    # the feeds still point where the output was built for (the default address), as `build` would
    assert b"http://127.0.0.1:8000/001_seasonal_flu_lead_only/episode.mp3" in body
    assert (out / "003_fever_in_children_utf8" / "episode.mp3").stat().st_ino == before  # kept as it was


def test_watch_rebuilds_with_the_configuration(tmp_path, articles_copy):
    """serve --watch makes its options as `build` does: audiofeed.toml beside the articles is honoured."""
    folder = tmp_path / "site"
    folder.mkdir()
    articles = folder / "articles"
    articles_copy.rename(articles)
    for p in articles.glob("*.txt"):
        if not p.name.startswith(("001", "003")):
            p.unlink()
    (folder / "audiofeed.toml").write_text(
        '[feed]\ntitle = "Ask the Clinic"\nbase_url = "https://clinic.example.org/audio/"\n'
        '[fitting]\nrate_band = [110, 230]\n')
    from .conftest import run_build
    out = tmp_path / "out"
    assert run_build(articles, out).code == 0
    assert "Ask the Clinic" in (out / "feed.xml").read_text()
    with serving(out, "--watch", "--articles", str(articles)) as (url, proc):
        page = next(articles.glob("001*.txt"))
        _edit(page, "How long is a person", "For how long is a person", tmp_path)
        assert max(_pages_rebuilt(proc)) == 1  # the settings did not change: one page rebuilt
        _, body = request(url, path="/feed.xml")
        assert b"For how long is a person" in body
    assert b"<title>Ask the Clinic</title>" in body
    assert b"https://clinic.example.org/audio/001_seasonal_flu_lead_only/episode.mp3" in body


@pytest.mark.parametrize("path", ["/feed.xml", f"/{PAGE}/chapters.json", f"/{PAGE}/episode.vtt", f"/{PAGE}/episode.json",
                                  f"/{PAGE}/episode.mp3"])
def test_cors_for_other_sites_players(server, path):
    url, out = server
    resp, _ = request(url, path=path, headers={"Origin": "https://player.example", "Range": "bytes=0-9"})
    assert resp.status == 206 and resp.getheader("Access-Control-Allow-Origin") == "*"
    assert "Content-Range" in resp.getheader("Access-Control-Expose-Headers")
    resp, body = request(url, "OPTIONS", path, headers={"Origin": "https://player.example",
                                                        "Access-Control-Request-Method": "GET",
                                                        "Access-Control-Request-Headers": "range"})
    assert resp.status == 204 and resp.getheader("Access-Control-Allow-Origin") == "*"
    assert "GET" in resp.getheader("Access-Control-Allow-Methods") and "Range" in resp.getheader("Access-Control-Allow-Headers")
