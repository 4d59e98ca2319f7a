"""Checking: a published output folder in, a :class:`CheckReport` out.

Reads what was published the way clients do, from the files alone and not from the build's
memory. It parses the feeds, follows each enclosure to its file, and reads each answer's
duration with every reader a listener's software might use. The readers are one table,
:data:`READERS` (as podcastparser keeps its ``MAPPING``): an entry says where a value is read,
which record field and terminal column it fills, and what it is compared with; a new reader is
one entry. Each duration is compared with the runtime the source page lists; every chapter
start with where its answer's audio starts in the decoded episode. Transcripts are checked too.
Every problem names its file and field; corrupt files give problems, never exceptions.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from pathlib import Path

from ..audio.ffmpeg import decoded_samples
from ..names import (ANSWERS_FILE, ATOM_NS, FEED_FILE, ITUNES_NS, LISTED_RUNTIME_TAG, PODCAST_NS, PSC_NS, RECORD_FILE,
                    SILENCE_ADDED_TAG, SPEAKING_RATE_TAG, TRANSCRIPT_KINDS, CustomTag, answer_index, chapter_title)
from ..problems import Problem, Reported, Severity
from ..timecode import parse_npt_ms
from ..read.pages import PageError, find_pages, parse_runtime, read_page

NS = {"itunes": ITUNES_NS, "podcast": PODCAST_NS, "psc": PSC_NS, "atom": ATOM_NS}
FAST_WPM = 180  # flagged as hard to follow
PADDED_SHARE = 0.20  # more than this share of silence added is flagged
CHAPTER_FORMATS = ("CHAP", "chapters JSON", "psc:chapters")  # where an episode's chapters are read from


class CheckStatus(StrEnum):
    OK = "ok"
    WARNING = "warning"  # readable and in tolerance, with a note (fast speech, heavy padding)
    MISMATCH = "mismatch"  # a reader disagrees, or a file is missing or unreadable


@dataclass
class EpisodeView:
    """A page's episode as the readers see it: decoded length, feed duration, chapter spans by title."""

    decoded_ms: float | None = None
    feed_s: int | None = None
    spans: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)  # format -> title -> (start, length)


@dataclass
class AnswerSources:
    """Everything one answer's readers read from, gathered once (unreadable parts are None)."""

    title: str  # the chapter title the answer is found by
    item: object  # its answers.xml <item>; None for an answer outside the feeds' item limit
    decoded_ms: float | None = None
    header_ms: float | None = None
    tlen_ms: int | None = None
    tags: object = None  # mutagen ID3
    episode: EpisodeView | None = None

    def span(self, chapters: str) -> int | None:
        span = self.episode.spans.get(chapters, {}).get(self.title) if self.episode else None
        return None if span is None else span[1]

    def tag(self, custom: CustomTag):
        return _custom_tag(self.tags, custom) if self.tags is not None else None

    def feed_seconds(self) -> int | None:
        if self.item is None:  # outside the feeds' item limit: on the web pages only
            return None
        duration = self.item.findtext("itunes:duration", namespaces=NS)
        return int(duration) if duration and duration.strip().isdigit() else None


class Compare(Enum):
    RUNTIME = "runtime"  # milliseconds, within the tolerance of the listed runtime (else of the decoded length)
    WHOLE_SECONDS = "seconds"  # whole seconds: the listed runtime exactly, else the decoded length within rounding
    NONE = "none"  # shown, not compared


@dataclass(frozen=True)
class Reader:
    """One way a listener's software learns something of an answer: one entry drives the record
    field (``--json``, ``--csv``), the terminal column and the comparison."""

    field: str  # key in the records
    column: str | None  # terminal column; None: in the records only
    label: str  # the field problems name
    about: str  # what it is, for ``check --help``
    read: Callable[[AnswerSources], float | int | None]
    compare: Compare = Compare.NONE
    unit: str = "ms"  # ms, s, wpm or +s (signed seconds)
    in_episode: bool = False  # a mismatch is reported against the page's episode, not the answer's file

    def text(self, value) -> str:
        """The value as the terminal table shows it."""
        if value is None:
            return "-"
        return {"ms": lambda v: f"{v / 1000:.3f}", "+s": lambda v: f"{v:+.2f}"}.get(self.unit, str)(value)


READERS: tuple[Reader, ...] = (
    Reader("decoded_ms", "ffmpeg", "decoded (ffmpeg)", "the answer's MP3 as ffmpeg decodes it",
           lambda s: s.decoded_ms, Compare.RUNTIME),
    Reader("header_ms", "header", "MP3 header (mutagen)", "its MP3 header, as mutagen reads it",
           lambda s: s.header_ms, Compare.RUNTIME),
    Reader("tlen_ms", "TLEN", "TLEN", "its ID3 TLEN tag", lambda s: s.tlen_ms, Compare.RUNTIME),
    Reader("chap_ms", "CHAP", "CHAP span", "its chapter's span in the episode MP3 (ID3 CHAP)",
           lambda s: s.span("CHAP"), Compare.RUNTIME, in_episode=True),
    Reader("json_chapter_ms", "JSON", "chapters JSON span", "its chapter's span in the Podcasting 2.0 chapters JSON",
           lambda s: s.span("chapters JSON"), Compare.RUNTIME, in_episode=True),
    Reader("psc_chapter_ms", "psc", "psc:chapters span", "its chapter's span in the Podlove psc:chapters of feed.xml",
           lambda s: s.span("psc:chapters"), Compare.RUNTIME, in_episode=True),
    Reader("answers_feed_s", ANSWERS_FILE, "itunes:duration", f"itunes:duration of its item in {ANSWERS_FILE}",
           AnswerSources.feed_seconds, Compare.WHOLE_SECONDS, unit="s"),
    Reader("page_feed_s", FEED_FILE, "itunes:duration", f"itunes:duration of its page's item in {FEED_FILE} (checked "
           "against the decoded episode)", lambda s: s.episode.feed_s if s.episode else None, unit="s"),
    Reader("page_decoded_ms", None, "episode decoded (ffmpeg)", "its page's episode MP3 as ffmpeg decodes it",
           lambda s: s.episode.decoded_ms if s.episode else None),
    Reader("rate_wpm", "wpm", "speaking rate", "the speaking rate (TXXX tag; over 180 wpm is a warning)",
           lambda s: s.tag(SPEAKING_RATE_TAG), unit="wpm"),
    Reader("silence_added_s", "silence", "silence added", "the silence added (TXXX tag; over 20% is a warning)",
           lambda s: s.tag(SILENCE_ADDED_TAG), unit="+s"),
)


@dataclass
class AnswerCheck:
    """One answer, as each reader sees it (durations in milliseconds; None where unreadable)."""

    page: str
    index: int
    question: str
    doctor: str
    file: str
    listed_ms: int | None = None
    readings: dict[str, float | int | None] = field(default_factory=dict)  # Reader.field -> value
    transcripts: str = ""  # kinds found and valid, e.g. "vtt srt html json"
    status: CheckStatus = CheckStatus.OK
    notes: list[str] = field(default_factory=list)

    def reference(self) -> float | None:
        """What every duration is compared with: the listed runtime, else the decoded length."""
        return self.listed_ms if self.listed_ms is not None else self.readings.get("decoded_ms")

    def record(self) -> dict:
        """A flat record, one key per reader, for ``--json`` and ``--csv``."""
        return {"page": self.page, "index": self.index, "question": self.question, "doctor": self.doctor,
                "file": self.file, "listed_ms": self.listed_ms,
                **{r.field: self.readings.get(r.field) for r in READERS},
                "transcripts": self.transcripts, "status": str(self.status), "notes": " | ".join(self.notes)}


@dataclass
class CheckReport(Reported):
    output: Path
    tolerance_ms: float
    answers: list[AnswerCheck] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


    def records(self) -> list[dict]:
        """One flat record per answer, for ``--json`` and ``--csv``."""
        return [a.record() for a in self.answers]


def decoded_ms(path: Path) -> float:
    """Duration as a player decodes it: ffmpeg's sample count at 48 kHz."""
    try:
        samples = decoded_samples(path)
    except subprocess.CalledProcessError as e:
        lines = e.stderr.decode(errors="replace").strip().splitlines() if e.stderr else []
        raise ValueError(lines[-1] if lines else "ffmpeg failed") from None
    if not samples:
        raise ValueError("no audio")
    return samples / 48


class _Checker:
    def __init__(self, output: Path, articles: Path | None, tolerance_ms: float):
        self.out = output.resolve()
        self.articles = articles
        self.tol = tolerance_ms
        self.report = CheckReport(output=output, tolerance_ms=tolerance_ms)
        self.base = ""

    # -- helpers ---------------------------------------------------------------------------------
    def problem(self, file, field_: str, message: str, severity: Severity = Severity.ERROR) -> None:
        self.report.problems.append(Problem(str(file), message, field=field_, severity=severity))

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.out))
        except ValueError:
            return str(path)

    def local(self, url: str, file: str, field_: str) -> Path | None:
        if not url or not url.startswith(self.base):
            self.problem(file, field_, f"URL {url!r} is not under the feed's base {self.base!r}")
            return None
        path = (self.out / url[len(self.base):]).resolve()
        if self.out.resolve() not in path.parents:
            self.problem(file, field_, f"URL {url!r} points outside the output folder")
            return None
        return path

    def parse_feed(self, name: str):
        path = self.out / name
        if not path.is_file():
            self.problem(name, "file", "missing")
            return None
        from lxml import etree

        try:
            doc = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as e:
            self.problem(name, "xml", f"does not parse: {e}")
            return None
        channel = doc.find("channel")
        if doc.getroot().tag != "rss" or channel is None:
            self.problem(name, "rss", "not an RSS 2.0 feed (no <rss><channel>)")
            return None
        if not self.base:
            self_link = channel.find("atom:link[@rel='self']", NS)
            href = self_link.get("href") if self_link is not None else ""
            self.base = href[: len(href) - len(name)] if href.endswith(name) else ""
            if not self.base:
                self.problem(name, "atom:link", "no rel=self link ending in the feed's own name")
        guids = [(g.text or "").strip() for g in channel.iterfind("item/guid")]
        for guid, count in Counter(guids).items():
            if count > 1:
                self.problem(name, "guid", f"GUID {guid!r} is used by {count} items")
        return channel

    def enclosure(self, item, feed: str) -> Path | None:
        enc = item.find("enclosure")
        title = (item.findtext("title") or "").strip()
        where = f"{feed} item {title[:50]!r}"
        if enc is None:
            self.problem(where, "enclosure", "missing")
            return None
        path = self.local(enc.get("url", ""), where, "enclosure url")
        if path is None:
            return None
        if not path.is_file():
            self.problem(self.rel(path), "file", f"missing (the enclosure of {where})")
            return None
        length = enc.get("length", "")
        if not length.isdigit() or int(length) != path.stat().st_size:
            self.problem(where, "enclosure length", f"{length!r} but the file has {path.stat().st_size} bytes")
        if enc.get("type") != "audio/mpeg":
            self.problem(where, "enclosure type", f"{enc.get('type')!r}, expected 'audio/mpeg'")
        return path

    def mp3_readings(self, path: Path) -> tuple[float | None, float | None, int | None, object]:
        """Decoded length, MP3 header length, TLEN and the ID3 tag of one file; problems where unreadable."""
        from mutagen import MutagenError
        from mutagen.id3 import ID3
        from mutagen.mp3 import MP3

        name = self.rel(path)
        decoded = header = tlen = None
        tags = None
        result = self.decoded.get(path)
        if isinstance(result, Exception):
            self.problem(name, "audio", f"ffmpeg cannot decode it: {result}")
        else:
            decoded = result
        try:
            header = MP3(path).info.length * 1000
        except (MutagenError, OSError) as e:
            self.problem(name, "MP3 header", f"unreadable: {e}")
        try:
            tags = ID3(path)
            tlen = int(tags["TLEN"].text[0])
        except (MutagenError, OSError, KeyError, ValueError) as e:
            self.problem(name, "TLEN", f"missing or unreadable: {e}")
        return decoded, header, tlen, tags

    def close(self, a: float | None, b: float | None) -> bool:
        return a is not None and b is not None and abs(a - b) <= self.tol

    # -- the check -------------------------------------------------------------------------------
    def run(self) -> CheckReport:
        if not self.out.is_dir():
            self.problem(self.out, "folder", "missing")
            return self.report
        episodes = self.parse_feed(FEED_FILE)
        answers = self.parse_feed(ANSWERS_FILE)
        sources = self.read_sources()
        items = []  # (feed, item, path)
        for feed, channel in ((FEED_FILE, episodes), (ANSWERS_FILE, answers)):
            if channel is not None:
                items += [(feed, item, self.enclosure(item, feed)) for item in channel.iterfind("item")]
        unlisted = self.unlisted(items)
        paths = sorted({p for _, _, p in items if p is not None}
                       | {self.out / f for record, answer in unlisted for f in (record.file, answer.file)})
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(self._decode_safely, paths))
        self.decoded = dict(zip(paths, results))
        self.starts = self.answer_starts([p for feed, _, p in items if feed == ANSWERS_FILE and p is not None]
                                         + [self.out / answer.file for _, answer in unlisted])
        pages = {}
        for feed, item, path in items:
            if feed == FEED_FILE and path is not None:
                pages[path.parent.name] = self.check_episode(item, path)
        for record in {r.slug: r for r, _ in unlisted}.values():
            if record.slug not in pages:
                pages[record.slug] = self.check_episode(None, self.out / record.file, record)
        for feed, item, path in items:
            if feed == ANSWERS_FILE:
                self.check_answer(item, path, pages.get(path.parent.name) if path else None, sources)
        for record, answer in unlisted:
            self.check_answer(None, self.out / answer.file, pages.get(record.slug), sources, answer)
        self.check_refused(sources, answers, unlisted)
        return self.report

    def unlisted(self, items) -> list:
        """(record, answer) of every published answer the feeds do not list (beyond ``max_items``):
        listeners reach them from the web pages, so they are checked all the same, from their files."""
        from ..publish.episode import Episode

        listed = {p for feed, _, p in items if feed == ANSWERS_FILE and p is not None}
        found = []
        for path in sorted(self.out.glob(f"*/{RECORD_FILE}")):
            try:
                record = Episode.from_json(path.read_text(encoding="utf-8"))
            except (OSError, ValueError, TypeError, KeyError) as e:
                self.problem(self.rel(path), "record", f"unreadable ({type(e).__name__}); its page is not checked")
                continue
            found += [(record, a) for a in record.answers if (self.out / a.file).resolve() not in listed]
        return found

    def answer_starts(self, paths: list[Path]) -> dict[Path, float | None]:
        """Where each answer starts in its page's episode: the decoded lengths of the answers before it."""
        starts: dict[Path, float | None] = {}
        for folder in {p.parent for p in paths}:
            at: float | None = 0.0
            for path in sorted((p for p in paths if p.parent == folder), key=_index):
                starts[path] = at
                length = self.decoded.get(path)
                at = None if at is None or isinstance(length, Exception) or length is None else at + length
        return starts

    def _decode_safely(self, path: Path):
        try:
            return decoded_ms(path)
        except ValueError as e:
            return e

    def read_sources(self) -> dict[str, object]:
        if self.articles is None or not self.articles.is_dir():
            return {}
        pages = {}
        for path in find_pages(self.articles):
            try:
                page = read_page(path)
            except PageError as e:
                self.problem(path, "source", f"cannot be read ({e.problems[0]}); listed runtimes taken from the tags",
                             Severity.WARNING)
                continue
            pages[page.slug] = page
        return pages

    def check_episode(self, item, path: Path, record=None) -> EpisodeView:
        """The page episode: its readers agree, its chapters are ordered, spans recorded by title.

        ``item`` is its feed.xml item; None for a page outside the feeds' item limit, whose
        chapters and transcripts are then found through its ``record`` (build.json), as its web
        page finds them."""
        info, end = self.episode_file(path)
        if item is None:
            self.json_chapters(self.out / record.chapters_file, info, end, RECORD_FILE)
            self.check_transcript_files(record.transcripts, self.rel(path.parent / RECORD_FILE), end)
            return info
        title = (item.findtext("title") or "").strip()
        decoded = info.decoded_ms
        duration = item.findtext("itunes:duration", namespaces=NS)
        if duration is None or not duration.strip().isdigit():
            self.problem(f"{FEED_FILE} item {title[:50]!r}", "itunes:duration", f"missing or not whole seconds: {duration!r}")
        else:
            info.feed_s = int(duration)
            if decoded is not None and abs(int(duration) * 1000 - decoded) > 500 + self.tol:
                self.problem(f"{FEED_FILE} item {title[:50]!r}", "itunes:duration",
                             f"{duration} s but the episode decodes to {decoded / 1000:.3f} s")
        json_el = item.find("podcast:chapters", NS)
        if json_el is None:
            self.problem(f"{FEED_FILE} item {title[:50]!r}", "podcast:chapters", "missing")
        else:
            jpath = self.local(json_el.get("url", ""), f"{FEED_FILE} item {title[:50]!r}", "podcast:chapters url")
            if jpath is not None:
                self.json_chapters(jpath, info, end, "podcast:chapters")
        psc = item.findall("psc:chapters/psc:chapter", NS)
        if not psc:
            self.problem(f"{FEED_FILE} item {title[:50]!r}", "psc:chapters", "missing")
        else:
            try:
                rows = [(parse_npt_ms(c.get("start", "")), None, c.get("title", "")) for c in psc]
                info.spans["psc:chapters"] = self.spans(f"{FEED_FILE} item {title[:50]!r}", "psc:chapters", rows, end,
                                         stored_order=[r[0] for r in rows])
            except ValueError as e:
                self.problem(f"{FEED_FILE} item {title[:50]!r}", "psc:chapters", str(e))
        self.check_transcripts(item, f"{FEED_FILE} item {title[:50]!r}", end)
        return info

    def episode_file(self, path: Path) -> tuple[EpisodeView, float | None]:
        """The episode MP3 itself: its readers agree with its decoding; its CHAP spans by title.
        Returns what was read and where the audio ends."""
        decoded = self.decoded.get(path)
        info = EpisodeView(decoded_ms=None if isinstance(decoded, Exception) else decoded)
        _, header, tlen, tags = self.mp3_readings(path)
        for reader, value in (("MP3 header", header), ("TLEN", tlen)):
            if info.decoded_ms is not None and value is not None and not self.close(info.decoded_ms, value):
                self.problem(self.rel(path), reader, f"{value:.0f} ms but it decodes to {info.decoded_ms:.0f} ms")
        end = info.decoded_ms if info.decoded_ms is not None else header
        if tags is not None:
            chaps = tags.getall("CHAP")
            info.spans["CHAP"] = self.spans(self.rel(path), "CHAP", [(c.start_time, c.end_time, _title(c)) for c in chaps],
                                            end, stored_order=[c.start_time for c in chaps])
        return info, end

    def json_chapters(self, path: Path, info: EpisodeView, end, referrer: str) -> None:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            rows = [(round(c["startTime"] * 1000), round(c["endTime"] * 1000) if "endTime" in c else None, c["title"])
                    for c in doc["chapters"]]
            info.spans["chapters JSON"] = self.spans(self.rel(path), "chapters", rows, end, stored_order=[r[0] for r in rows])
        except FileNotFoundError:
            self.problem(self.rel(path), "file", f"missing (referenced by {referrer})")
        except (ValueError, KeyError, TypeError) as e:
            self.problem(self.rel(path), "chapters", f"not valid JSON chapters: {e}")

    def spans(self, file: str, what: str, rows, end, stored_order) -> dict[str, tuple[int, int]]:
        """Chapter (start, length) by title; problems for out-of-order or overlapping chapters."""
        if stored_order != sorted(stored_order):
            self.problem(file, what, f"chapters out of order: starts {stored_order}")
        rows = sorted(rows, key=lambda r: r[0])
        spans = {}
        for i, (start, stop, title) in enumerate(rows):
            following = rows[i + 1][0] if i + 1 < len(rows) else end
            if stop is None:
                stop = following
            if following is not None and stop is not None and stop > following + 1:
                self.problem(file, what, f"chapter {title[:50]!r} ({start}-{stop} ms) overlaps the next, at {following} ms")
            if stop is not None:
                spans[title] = (start, stop - start)
        return spans

    def check_transcripts(self, item, where: str, end_ms: float | None) -> str:
        found = []
        refs = {t.get("type"): t for t in item.findall("podcast:transcript", NS)}
        for kind, (mime, rel) in TRANSCRIPT_KINDS.items():
            el = refs.get(mime)
            if el is None:
                self.problem(where, "podcast:transcript", f"no {mime} transcript")
                continue
            if rel and el.get("rel") != rel:
                self.problem(where, "podcast:transcript", f"{mime} transcript without rel={rel!r}")
            path = self.local(el.get("url", ""), where, f"podcast:transcript {kind}")
            if path is not None and self.transcript_ok(kind, path, where, end_ms):
                found.append(kind)
        return " ".join(found)

    def check_transcript_files(self, files: dict[str, str], where: str, end_ms: float | None) -> str:
        """Transcripts named by a record (for answers outside the feeds), checked as the feed's are."""
        found = []
        for kind in TRANSCRIPT_KINDS:
            if kind not in files:
                self.problem(where, "transcripts", f"no {kind} transcript")
            elif self.transcript_ok(kind, self.out / files[kind], where, end_ms):
                found.append(kind)
        return " ".join(found)

    def transcript_ok(self, kind: str, path: Path, where: str, end_ms: float | None) -> bool:
        if not path.is_file():
            self.problem(self.rel(path), "file", f"missing (referenced by {where})")
            return False
        try:
            starts = _cue_starts(kind, path)
        except Exception as e:  # noqa: BLE001  (any parse failure is a problem to report)
            self.problem(self.rel(path), "transcript", f"does not parse as {kind}: {e}")
            return False
        if starts != sorted(starts):
            self.problem(self.rel(path), "transcript", "cues out of order")
        elif starts and end_ms is not None and starts[-1] * 1000 > end_ms:
            self.problem(self.rel(path), "transcript", f"a cue starts at {starts[-1]:.3f} s, after the audio ends")
        return True

    def check_answer(self, item, path: Path | None, page: EpisodeView | None, sources: dict, published=None) -> None:
        """One answer: its answers.xml ``item``, or (outside the feeds' item limit) its ``published``
        record, with its MP3 at ``path`` and its page's episode."""
        if item is None:
            title, doctor, where = published.question, published.doctor, self.rel(path.parent / RECORD_FILE)
        else:
            title = (item.findtext("title") or "").strip()
            doctor = (item.findtext("itunes:author", namespaces=NS) or "").strip()
            where = f"{ANSWERS_FILE} item {title[:50]!r}"
        row = AnswerCheck(page=path.parent.name if path else "?", index=_index(path), question=title, doctor=doctor,
                          file=self.rel(path) if path else "")
        self.report.answers.append(row)
        found = AnswerSources(title=chapter_title(title, doctor), item=item, episode=page)
        if item is not None and found.feed_seconds() is None:
            duration = item.findtext("itunes:duration", namespaces=NS)
            self.problem(where, "itunes:duration", f"missing or not whole seconds: {duration!r}")
        if path is not None:
            found.decoded_ms, found.header_ms, found.tlen_ms, found.tags = self.mp3_readings(path)
        row.readings = {r.field: r.read(found) for r in READERS}
        if path is None:
            row.status = CheckStatus.MISMATCH
            return
        source = sources.get(row.page)
        answer = next((a for a in source.answers if a.question == title and a.doctor == doctor), None) if source else None
        if answer is not None:
            row.listed_ms = answer.listed_runtime * 1000 if answer.listed_runtime is not None else None
        elif (listed := found.tag(LISTED_RUNTIME_TAG)) is not None:
            row.listed_ms = parse_runtime(str(listed)) * 1000
            row.notes.append("listed runtime from the MP3 tag (source page not found)")
        if page is not None:
            self.check_chapter_starts(row, found, self.starts.get(path))
        else:
            self.problem(where, "episode", f"no episode in {FEED_FILE} for this answer's page")
        row.transcripts = (self.check_transcripts(item, where, row.readings["decoded_ms"]) if item is not None else
                           self.check_transcript_files(published.transcripts, where, row.readings["decoded_ms"]))
        mismatched = self.compare_readers(row, where)
        self.readability(row)
        if mismatched or any(p.file in (row.file, where) and p.is_error for p in self.report.problems):
            row.status = CheckStatus.MISMATCH
        elif row.notes:
            row.status = CheckStatus.WARNING
        if item is None:
            row.notes.append("beyond max_items: web pages only")

    def check_chapter_starts(self, row: AnswerCheck, found: AnswerSources, expected: float | None) -> None:
        """The answer's chapter, in every format, starts where its audio starts in the decoded episode."""
        for chapters in CHAPTER_FORMATS:
            if found.item is None and chapters not in found.episode.spans:
                continue  # a page outside the feeds has no psc:chapters (they live in feed.xml)
            span = found.episode.spans.get(chapters, {}).get(found.title)
            if span is None:
                self.problem(f"{row.page}/episode", chapters, f"no chapter titled {found.title[:60]!r}")
            elif expected is not None and not self.close(span[0], expected):
                self.problem(f"{row.page}/episode", f"{chapters} start",
                             f"chapter {found.title[:50]!r} starts at {span[0]} ms, but its answer's audio starts at "
                             f"{expected:.0f} ms of the episode (decoded; tolerance {self.tol:.0f} ms)")

    def compare_readers(self, row: AnswerCheck, where: str) -> bool:
        """Every reader that is compared, against the listed runtime; True if any disagrees."""
        mismatched = False
        reference = row.reference()
        decoded = row.readings["decoded_ms"]
        what = "listed runtime" if row.listed_ms is not None else "decoded duration"
        for reader in READERS:
            value = row.readings[reader.field]
            if value is None:
                continue
            if reader.compare is Compare.RUNTIME and reference is not None and not self.close(value, reference):
                mismatched = True
                self.problem(f"{row.page}/episode" if reader.in_episode else row.file, reader.label,
                             f"{value:.0f} ms, but the {what} is {reference:.0f} ms (tolerance {self.tol:.0f} ms)")
            elif reader.compare is Compare.WHOLE_SECONDS:
                if row.listed_ms is not None and value * 1000 != row.listed_ms:
                    mismatched = True
                    self.problem(where, reader.label, f"{value} s but the page lists {row.listed_ms // 1000} s")
                elif row.listed_ms is None and decoded is not None and abs(value * 1000 - decoded) > 500 + self.tol:
                    mismatched = True  # whole seconds: within rounding of the decoded length
                    self.problem(where, reader.label, f"{value} s but the answer decodes to {decoded / 1000:.3f} s")
        return mismatched

    def readability(self, row: AnswerCheck) -> None:
        rate, silence, decoded = (row.readings[k] for k in ("rate_wpm", "silence_added_s", "decoded_ms"))
        if rate is not None and rate > FAST_WPM:
            row.notes.append(f"fast: {rate} wpm")
            self.problem(row.file, "speaking rate", f"{rate} wpm is faster than {FAST_WPM} wpm", Severity.WARNING)
        if silence is not None and decoded and silence * 1000 > PADDED_SHARE * decoded:
            share = silence * 1000 / decoded
            row.notes.append(f"padded: {share:.0%} silence")
            self.problem(row.file, "silence added",
                         f"{silence:.1f} s is {share:.0%} of the answer (over {PADDED_SHARE:.0%})", Severity.WARNING)

    def check_refused(self, sources: dict, answers_channel, unlisted) -> None:
        published = {(a.question, a.doctor) for _, a in unlisted}
        if answers_channel is not None:
            for item in answers_channel.iterfind("item"):
                published.add(((item.findtext("title") or "").strip(), (item.findtext("itunes:author", namespaces=NS) or "").strip()))
        for slug, page in sources.items():
            record = self.out / slug / RECORD_FILE
            needed = {}
            if record.is_file():
                try:
                    needed = {(r["question"], r["doctor"]): r["needed_rate"] for r in json.loads(record.read_text()).get("refused", [])}
                except (ValueError, KeyError, TypeError):
                    pass
            for i, a in enumerate(page.answers):
                if (a.question, a.doctor) not in published:
                    rate = needed.get((a.question, a.doctor))
                    figure = f": it needs {rate:.0f} wpm" if rate else ""
                    self.problem(f"{page.source.name}", f"answer {i}",
                                 f"{a.question!r} is not published (refused at build time{figure})", Severity.WARNING)


def _title(chap) -> str:
    sub = chap.sub_frames.get("TIT2")
    return str(sub.text[0]) if sub else ""


def _index(path: Path | None) -> int:
    index = answer_index(path) if path else None
    return -1 if index is None else index


def _custom_tag(tags, custom):
    """A TXXX value as :mod:`.names` reads it back; None if missing or unreadable."""
    try:
        return custom.read(str(tags[custom.key].text[0]))
    except (KeyError, ValueError, IndexError):
        return None


def _cue_starts(kind: str, path: Path) -> list[float]:
    import srt
    import webvtt

    text = path.read_text(encoding="utf-8")
    if kind == "vtt":
        return [parse_npt_ms(c.start) / 1000 for c in webvtt.from_string(text)]
    if kind == "srt":
        return [s.start.total_seconds() for s in srt.parse(text)]
    if kind == "json":
        return [float(s["startTime"]) for s in json.loads(text)["segments"]]
    if "<html" not in text.lower():
        raise ValueError("no <html> element")
    return []


def check(output: Path, articles: Path | None = None, tolerance_ms: float = 30) -> CheckReport:
    """Check every duration, chapter and transcript in a published output folder."""
    return _Checker(output, articles, tolerance_ms).run()
