"""Serving: an output folder over HTTP for podcast apps and browsers (aiohttp).

aiohttp's ``FileResponse`` answers ``Range`` with 206 and ``Content-Range``, ``HEAD``, and
advertises ``Accept-Ranges``, which apps and browsers need to seek (Python's ``http.server``
does none of it), and conditional requests (``If-Modified-Since``, ``ETag``). Text (feeds,
chapters, transcripts, pages) is gzipped when the client asks for it, and never for a range.
Types are set per file, and no path outside the folder is ever served, nor any hidden file (by
its name or through a link).

A hostile client gets a 4xx or is ignored, never a 500: an unreadable ``Accept-Encoding`` is
taken as no gzip, an unsatisfiable range is 416, a path that starts with ``//`` never turns into a
redirect off the site, and a malformed request is one line in the log, not a traceback.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import math
import re
import sys
from email.utils import formatdate
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from .defaults import IDLE_TIMEOUT
from .names import CHAPTERS_FILE, CHAPTERS_TYPE, INDEX_FILE

CONTENT_TYPES = {
    ".mp3": "audio/mpeg",
    ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".xml": "application/rss+xml; charset=utf-8",
}
SPECIAL = {CHAPTERS_FILE: CHAPTERS_TYPE}


# Other sites' players (web podcast apps, transcript viewers) fetch feeds, chapters, transcripts
# and audio from their own pages: the Podcasting 2.0 transcript and chapters specs ask for CORS.
CORS = {"Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": "Content-Length, Content-Range, Accept-Ranges, Content-Encoding, ETag"}
# The player's pages load only their own scripts, styles, images and media; any site may frame the
# embed player; MIME types are never sniffed.
CSP = ("default-src 'self'; img-src 'self' data:; media-src 'self'; script-src 'self'; "
       "style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors *")
SAFETY = {"X-Content-Type-Options": "nosniff"}
COMPRESSIBLE = {".xml", ".json", ".vtt", ".srt", ".html", ".css", ".js"}  # text: gzip pays; MP3 and PNG never


def _accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header asks for gzip (and does not refuse it with q=0).

    >>> _accepts_gzip("gzip, deflate, br"), _accepts_gzip("br;q=1.0, gzip;q=0"), _accepts_gzip("")
    (True, False, False)
    >>> _accepts_gzip("gzip;q=abc")  # unreadable: as if not asked
    False
    """
    for part in header.lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "x-gzip", "*"):
            q = params.strip()
            if not q.startswith("q="):
                return True
            try:
                return float(q[2:] or 0) > 0
            except ValueError:
                return False
    return False


_EMPTY_SUFFIX = re.compile(r"^\s*bytes\s*=\s*-0+\s*$")


def _unsatisfiable(range_header: str | None) -> bool:
    """Whether a Range asks for no bytes at all (``bytes=-0``), which RFC 9110 answers with 416.

    >>> _unsatisfiable("bytes=-0"), _unsatisfiable("bytes=-500"), _unsatisfiable(None)
    (True, False, False)
    """
    return bool(range_header and _EMPTY_SUFFIX.match(range_header))


def content_type(path: Path) -> str:
    """The Content-Type a file is served with.

    >>> content_type(Path("x/chapters.json")), content_type(Path("feed.xml")), content_type(Path("a.vtt"))
    ('application/json+chapters', 'application/rss+xml; charset=utf-8', 'text/vtt; charset=utf-8')
    """
    return SPECIAL.get(path.name) or CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")


def resolve(root: Path, url_path: str) -> Path | None:
    """The file a URL path names under ``root``, or None if it is outside, hidden or absent."""
    parts = [p for p in url_path.split("/") if p]
    if any(p in ("..", ".") or p.startswith(".") or "\\" in p or "\0" in p for p in parts):
        return None
    path = root.joinpath(*parts) if parts else root
    try:
        path = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if path != root and root not in path.parents:
        return None
    if any(p.startswith(".") for p in path.relative_to(root).parts):  # a link to a hidden file
        return None
    if path.is_dir():
        path = path / INDEX_FILE
    return path if path.is_file() else None


def _same_date(request: web.Request, mtime: float) -> bool:
    """Whether ``If-Modified-Since`` names exactly the file's date. Only then is it fresh (as nginx
    does by default): a file rebuilt with an older date (a build host's clock ran ahead before)
    is still new to a client that revalidates by date."""
    since = request.if_modified_since
    return since is not None and int(since.timestamp()) == http_seconds(mtime)


def http_seconds(mtime: float) -> int:
    """A file's date as HTTP dates carry it, in whole seconds: rounded up, as aiohttp's
    ``FileResponse`` does, so every response names one date for one file.

    >>> http_seconds(1000.2), http_seconds(1000.0)
    (1001, 1000)
    """
    return math.ceil(mtime)


class _ExactDates:
    """A request as :class:`ExactDateFileResponse` shows it to aiohttp: ``If-Modified-Since`` only
    when it names the file's exact date."""

    def __init__(self, request: web.BaseRequest, path: Path):
        self._request, self._path = request, path

    def __getattr__(self, name: str):
        return getattr(self._request, name)

    @property
    def if_modified_since(self):
        try:
            return self._request.if_modified_since if _same_date(self._request, self._path.stat().st_mtime) else None
        except OSError:
            return None


class ExactDateFileResponse(web.FileResponse):
    """aiohttp's file response (Range, HEAD, ETag), answering ``If-Modified-Since`` with 304 only
    for the file's exact date (:func:`_same_date`); aiohttp's own answers 304 to any later date."""

    def _make_response(self, request, accept_encoding):
        return super()._make_response(_ExactDates(request, Path(self._path)), accept_encoding)


_GZIPPED: dict[tuple[str, int, int], bytes] = {}  # (path, mtime, size) -> gzip: feeds are asked for often


async def _gzipped(request: web.Request, path: Path, headers: dict) -> web.Response:
    """``path`` gzipped, with its own validators: an ETag of this representation and Last-Modified,
    answering ``If-None-Match`` and ``If-Modified-Since`` with 304 (and no body)."""
    st = path.stat()
    etag = f'"{st.st_mtime_ns:x}-{st.st_size:x}-gzip"'
    headers = {**headers, "ETag": etag, "Last-Modified": formatdate(http_seconds(st.st_mtime), usegmt=True)}
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        fresh = if_none_match.strip() == "*" or etag in (t.strip().removeprefix("W/") for t in if_none_match.split(","))
    else:
        fresh = _same_date(request, st.st_mtime)
    if fresh:
        return web.Response(status=304, headers=headers)
    key = (str(path), st.st_mtime_ns, st.st_size)
    body = _GZIPPED.get(key)
    if body is None:
        body = await asyncio.to_thread(lambda: gzip.compress(path.read_bytes(), compresslevel=6, mtime=0))
        if len(_GZIPPED) >= 64:
            _GZIPPED.clear()
        _GZIPPED[key] = body
    return web.Response(body=body, headers={**headers, "Content-Encoding": "gzip"})


def make_app(output: Path) -> web.Application:
    root = output.resolve()

    async def handle(request: web.Request) -> web.StreamResponse:
        path = resolve(root, request.match_info["path"])
        if path is None:
            raise web.HTTPNotFound(text="not found\n")
        if path.name == INDEX_FILE and not request.path.endswith(("/", ".html")):
            # so the page's relative links work; built from the folder's own path, so that no
            # request (//evil.example.com) turns into a redirect to another site
            folder = path.parent.relative_to(root).as_posix()
            raise web.HTTPMovedPermanently("/" if folder == "." else f"/{folder}/")
        headers = {"Content-Type": content_type(path), "Cache-Control": "no-cache", **CORS, **SAFETY}
        if path.suffix.lower() == ".html":
            headers["Content-Security-Policy"] = CSP
        if _unsatisfiable(request.headers.get("Range")):
            raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{path.stat().st_size}", **CORS})
        if path.suffix.lower() in COMPRESSIBLE:
            headers["Vary"] = "Accept-Encoding"
            # gzip when the client asks for it; never for a range (its offsets count the file's own bytes)
            if _accepts_gzip(request.headers.get("Accept-Encoding", "")) and "Range" not in request.headers:
                return await _gzipped(request, path, headers)
        return ExactDateFileResponse(path, headers=headers)

    async def preflight(request: web.Request) -> web.Response:
        return web.Response(status=204, headers={**CORS, "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
                                                 "Access-Control-Allow-Headers": "Range, If-None-Match, If-Modified-Since",
                                                 "Access-Control-Max-Age": "86400"})

    app = web.Application()
    app.router.add_get("/{path:.*}", handle)  # GET and HEAD
    app.router.add_route("OPTIONS", "/{path:.*}", preflight)
    return app


class OneLine(logging.Handler):
    """aiohttp's server log as one line per event on stderr: a malformed request (a URL too long,
    HTTP/9.9, conflicting lengths) is the client's fault, not a traceback of ours."""

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        detail = f": {type(error).__name__}: {' '.join(str(error).split())}" if error else ""
        peer = getattr(record, "remote", None)
        line = f"serve: {record.getMessage()}{detail}" + (f" (from {peer})" if peer else "")
        print(line[:300], file=sys.stderr)


class LoopErrors:
    """The event loop's own errors (an accept that fails when connections outnumber the process's
    file descriptors, many times a second) as one line each, at most one a second, with a count of
    the ones left out."""

    def __init__(self, every: float = 1.0):
        self.every, self.last, self.left_out = every, float("-inf"), 0

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        now = loop.time()
        if now - self.last < self.every:
            self.left_out += 1
            return
        error = context.get("exception")
        detail = f": {type(error).__name__}: {' '.join(str(error).split())}" if error else ""
        more = f" ({self.left_out} more like it left out)" if self.left_out else ""
        print(f"serve: {context.get('message', 'event loop error')}{detail}{more}"[:300], file=sys.stderr, flush=True)
        self.last, self.left_out = now, 0


def quiet_server_log() -> None:
    for name in ("aiohttp.server", "aiohttp.web", "aiohttp.access"):
        log = logging.getLogger(name)
        log.handlers[:] = [OneLine()]
        log.propagate = False




async def serve(output: Path, host: str, port: int, ready: Callable[[str], None] | None = None,
                idle_timeout: float = IDLE_TIMEOUT) -> None:
    """Serve ``output`` until cancelled. A connection that sends no whole request within
    ``idle_timeout`` seconds (a half-open one, a slow-loris) is closed, as one idle between requests is."""
    quiet_server_log()
    asyncio.get_running_loop().set_exception_handler(LoopErrors())
    runner = web.AppRunner(make_app(output), access_log=None, keepalive_timeout=idle_timeout)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    try:
        if ready:
            ready(f"http://{host}:{port}/" if ":" not in host else f"http://[{host}]:{port}/")
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
