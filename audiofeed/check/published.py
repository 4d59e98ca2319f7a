"""The published-answer view: what an output folder offers a listener, found as clients find it.

Answers and episodes are found through the feeds (an ``<item>`` and its enclosure), or, for
pages beyond the feeds' item limit, through their page's record (``build.json``), as the web
pages find them. Either way each becomes one :class:`PublishedAnswer` or
:class:`PublishedEpisode` with a location label, its MP3, its chapters and its transcripts, so
the checker compares without asking where a thing came from. This module is the only reader
of ``build.json`` in ``check``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..names import ANSWERS_FILE, FEED_FILE, RECORD_FILE, TRANSCRIPT_KINDS, answer_index
from ..timecode import parse_npt_ms
from .readers import NS

HEX_REFERENCE = re.compile(r"&#[xX][0-9a-fA-F]+;")  # a character reference podcastparser leaves undecoded


@dataclass
class PublishedEpisode:
    """A page's episode: its MP3 and what describes it (chapters JSON, psc:chapters, transcripts)."""

    slug: str
    mp3: Path
    where: str  # the label problems name: "feed.xml item '...'" or "<page>/build.json"
    in_feeds: bool
    duration: str | None = None  # itunes:duration as written; None beyond the feeds
    chapters_json: Path | None = None
    chapters_from: str = "podcast:chapters"  # what pointed at the chapters JSON
    psc: list[tuple[int, None, str]] | None = None  # (start ms, None, title) of psc:chapters; None beyond the feeds
    transcripts: dict[str, Path] = field(default_factory=dict)  # kind -> file


@dataclass
class PublishedAnswer:
    """One answer: its question, doctor, MP3 and transcripts, and its item's duration."""

    slug: str
    question: str
    doctor: str
    mp3: Path | None
    where: str
    in_feeds: bool
    duration: str | None = None  # itunes:duration of its answers.xml item as written; None beyond the feeds
    transcripts: dict[str, Path] = field(default_factory=dict)

    @property
    def index(self) -> int:
        index = answer_index(self.mp3) if self.mp3 else None
        return -1 if index is None else index


def relative(path: Path, out: Path) -> str:
    """``path`` as problems name it: relative to the output folder when it is inside it."""
    try:
        return str(path.relative_to(out))
    except ValueError:
        return str(path)


def item_label(feed: str, item) -> str:
    return f"{feed} item {(item.findtext('title') or '').strip()[:50]!r}"


class Publication:
    """Every published episode and answer of an output folder (:meth:`read`), with the problems
    met while finding them reported through ``problem(file, field, message)``."""

    def __init__(self, out: Path, problem: Callable[..., None]):
        self.out = out
        self.problem = problem
        self.base = ""  # the feeds' base URL, from feed.xml's rel=self link
        self.episodes: list[PublishedEpisode] = []
        self.answers: list[PublishedAnswer] = []
        self.refused: dict[str, dict[tuple[str, str], float]] = {}  # slug -> (question, doctor) -> needed rate
        self.trailers: list[tuple[str, Path, str | None]] = []  # answers.xml's trailer: (label, MP3, itunes:duration)

    def rel(self, path: Path) -> str:
        return relative(path, self.out)

    # -- finding -----------------------------------------------------------------------------
    def read(self) -> Publication:
        episodes = self.parse_feed(FEED_FILE)
        answers = self.parse_feed(ANSWERS_FILE)
        for name, feed in ((FEED_FILE, episodes), (ANSWERS_FILE, answers)):
            for item in feed.iterfind("item") if feed is not None else ():
                self.as_clients_show(name, item)
        for item in episodes.iterfind("item") if episodes is not None else ():
            if (path := self.enclosure(item, FEED_FILE)) is not None:
                self.episodes.append(self.episode_from_item(item, path))
        for item in answers.iterfind("item") if answers is not None else ():
            path = self.enclosure(item, ANSWERS_FILE)
            if item.findtext("itunes:episodeType", namespaces=NS) == "trailer":  # the show's voice note, not an answer
                if path is not None:
                    self.trailers.append((item_label(ANSWERS_FILE, item), path, item.findtext("itunes:duration", namespaces=NS)))
                continue
            self.answers.append(self.answer_from_item(item, path))
        self.read_records()
        return self

    def as_clients_show(self, feed: str, item) -> None:
        """An item as apps show it: its description (gPodder's parser decodes no hexadecimal
        character reference: ``&#x27;`` showed "child's" as "childs") and its art (a PNG or JPEG
        file of the output, the same in ``itunes:image`` and ``podcast:image``)."""
        if found := HEX_REFERENCE.search(item.findtext("description") or ""):
            self.problem(item_label(feed, item), "description", f"holds {found.group()!r}, which gPodder shows as nothing; "
                         "write the character itself")
        where = item_label(feed, item)
        art = item.find("itunes:image", NS)
        if art is None:
            self.problem(where, "itunes:image", "missing: apps show the item without art")
        elif (path := self.local(art.get("href", ""), where, "itunes:image")) is not None:
            try:
                head = path.read_bytes()[:8]
            except OSError:
                head = b""
            if not head.startswith((b"\x89PNG", b"\xff\xd8\xff")):
                self.problem(where, "itunes:image", f"{self.rel(path)} is not a PNG or JPEG file in the output")
            image = item.find("podcast:image", NS)
            if image is not None and image.get("href") != art.get("href"):
                self.problem(where, "podcast:image", f"{image.get('href')!r} is not the item's itunes:image")

    def read_records(self) -> None:
        """Every page's ``build.json``: answers the feeds do not list (beyond ``max_items``) are
        published all the same, on the web pages; and what the build refused, and why."""
        from ..publish.episode import Episode

        listed = {a.mp3.resolve() for a in self.answers if a.mp3 is not None}
        in_feed = {e.slug for e in self.episodes}
        for path in sorted(self.out.glob(f"*/{RECORD_FILE}")):
            try:
                text = path.read_text(encoding="utf-8")
                record = Episode.from_json(text)
                refused = json.loads(text).get("refused", [])
                self.refused[record.slug] = {(r["question"], r["doctor"]): r["needed_rate"] for r in refused}
            except (OSError, ValueError, TypeError, KeyError) as e:
                self.problem(self.rel(path), "record", f"unreadable ({type(e).__name__}); its page is not checked")
                continue
            where = self.rel(path)
            unlisted = [a for a in record.answers if (self.out / a.file).resolve() not in listed]
            if unlisted and record.slug not in in_feed:
                self.episodes.append(PublishedEpisode(
                    slug=record.slug, mp3=self.out / record.file, where=where, in_feeds=False,
                    chapters_json=self.out / record.chapters_file, chapters_from=RECORD_FILE,
                    transcripts=self.record_transcripts(record.transcripts, where)))
            for a in unlisted:
                self.answers.append(PublishedAnswer(
                    slug=record.slug, question=a.question, doctor=a.doctor, mp3=self.out / a.file, where=where,
                    in_feeds=False, transcripts=self.record_transcripts(a.transcripts, where)))

    def episode_from_item(self, item, path: Path) -> PublishedEpisode:
        where = item_label(FEED_FILE, item)
        episode = PublishedEpisode(slug=path.parent.name, mp3=path, where=where, in_feeds=True,
                                   duration=item.findtext("itunes:duration", namespaces=NS),
                                   transcripts=self.item_transcripts(item, where))
        json_el = item.find("podcast:chapters", NS)
        if json_el is None:
            self.problem(where, "podcast:chapters", "missing")
        else:
            episode.chapters_json = self.local(json_el.get("url", ""), where, "podcast:chapters url")
        psc = item.findall("psc:chapters/psc:chapter", NS)
        if not psc:
            self.problem(where, "psc:chapters", "missing")
        else:
            try:
                episode.psc = [(parse_npt_ms(c.get("start", "")), None, c.get("title", "")) for c in psc]
            except ValueError as e:
                self.problem(where, "psc:chapters", str(e))
        return episode

    def answer_from_item(self, item, path: Path | None) -> PublishedAnswer:
        where = item_label(ANSWERS_FILE, item)
        return PublishedAnswer(
            slug=path.parent.name if path else "?", question=(item.findtext("title") or "").strip(),
            doctor=(item.findtext("itunes:author", namespaces=NS) or "").strip(), mp3=path, where=where,
            in_feeds=True, duration=item.findtext("itunes:duration", namespaces=NS),
            transcripts=self.item_transcripts(item, where))

    def item_transcripts(self, item, where: str) -> dict[str, Path]:
        """The item's ``podcast:transcript`` files by kind; a problem for each kind missing."""
        found = {}
        refs = {t.get("type"): t for t in item.findall("podcast:transcript", NS)}
        for kind, (mime, rel) in TRANSCRIPT_KINDS.items():
            el = refs.get(mime)
            if el is None:
                self.problem(where, "podcast:transcript", f"no {mime} transcript")
                continue
            if rel and el.get("rel") != rel:
                self.problem(where, "podcast:transcript", f"{mime} transcript without rel={rel!r}")
            if (path := self.local(el.get("url", ""), where, f"podcast:transcript {kind}")) is not None:
                found[kind] = path
        return found

    def record_transcripts(self, files: dict[str, str], where: str) -> dict[str, Path]:
        """The transcripts a record names, by kind; a problem for each kind missing."""
        for kind in TRANSCRIPT_KINDS:
            if kind not in files:
                self.problem(where, "transcripts", f"no {kind} transcript")
        return {kind: self.out / files[kind] for kind in TRANSCRIPT_KINDS if kind in files}

    # -- the feeds ---------------------------------------------------------------------------
    def parse_feed(self, name: str):
        path = self.out / name
        if not path.is_file():
            self.problem(name, "file", "missing")
            return None
        from lxml import etree

        try:
            doc = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
        except (etree.XMLSyntaxError, OSError) as e:  # lxml reports bytes that are not the encoding as OSError
            self.problem(name, "xml", f"does not parse: {' '.join(str(e).split())}")
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

    def local(self, url: str, file: str, field_: str) -> Path | None:
        """The file of the output folder a feed's URL names; None (and a problem) if none. An
        enclosure behind an analytics prefix (``https://op3.dev/e/`` + the URL without its scheme)
        names the file its own URL does."""
        bare = self.base.split("://", 1)[-1]
        if url and bare and not url.startswith(self.base) and bare in url and "://" in url:
            url = self.base + url.split(bare, 1)[1]
        if not url or not url.startswith(self.base):
            self.problem(file, field_, f"URL {url!r} is not under the feed's base {self.base!r}")
            return None
        path = (self.out / url[len(self.base):]).resolve()
        if self.out.resolve() not in path.parents:
            self.problem(file, field_, f"URL {url!r} points outside the output folder")
            return None
        return path

    def enclosure(self, item, feed: str) -> Path | None:
        enc = item.find("enclosure")
        where = item_label(feed, item)
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


CAPTION_KINDS = ("vtt", "srt", "json")  # transcripts whose cues are timed to the audio (the first: the records')


def read_cues(kind: str, path: Path) -> list[tuple[float, str]]:
    """A transcript's cues as (start in seconds, text); HTML has none."""
    import srt
    import webvtt

    text = path.read_text(encoding="utf-8")
    if kind == "vtt":
        return [(parse_npt_ms(c.start) / 1000, c.text) for c in webvtt.from_string(text)]
    if kind == "srt":
        return [(s.start.total_seconds(), s.content) for s in srt.parse(text)]
    if kind == "json":
        return [(float(s["startTime"]), str(s["body"])) for s in json.loads(text)["segments"]]
    if "<html" not in text.lower():
        raise ValueError("no <html> element")
    return []
