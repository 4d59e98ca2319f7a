"""feedgen extensions for the Podcasting 2.0 namespace and Podlove Simple Chapters.

feedgen 1.0 has neither, and its iTunes extension only accepts ``yes``/``no``/``clean`` for
``itunes:explicit`` where Apple and the W3C validator now want ``true``/``false``; these
extensions write those elements through feedgen's own ``register_extension`` hook.
"""

from __future__ import annotations

from dataclasses import dataclass

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from lxml import etree

from ..names import ATOM_NS, CHAPTERS_TYPE, ITUNES_NS, PODCAST_NS, PSC_NS
from ..timecode import npt


def _sub(parent, ns: str, tag: str, text: str | None = None, **attrs) -> etree._Element:
    el = etree.SubElement(parent, f"{{{ns}}}{tag}")
    for k, v in attrs.items():
        if v is not None:
            el.set(k, str(v))
    if text is not None:
        el.text = text
    return el


@dataclass(frozen=True)
class Person:
    name: str
    role: str = "author"
    group: str = "writing"
    href: str | None = None
    img: str | None = None  # a picture of the person (the producer's [people] images)


@dataclass(frozen=True)
class Transcript:
    url: str
    type: str
    rel: str | None = None
    language: str | None = None


class PodcastExtension(BaseExtension):
    """Channel level: ``podcast:guid``, ``podcast:locked``, ``podcast:txt``, ``itunes:explicit`` (true/false)."""

    def __init__(self):
        self._guid = None
        self._locked = None
        self._locked_owner = None
        self._explicit = None
        self._siblings: list[tuple[str, str]] = []
        self._txt: list[tuple[str, str]] = []
        self._habits: dict = {}

    def habits(self, update_frequency: str = "", license: str = "", funding: tuple[str, str] | None = None) -> None:  # noqa: A002
        """``podcast:updateFrequency``, ``podcast:license`` and ``podcast:funding``, where set."""
        self._habits = {"updateFrequency": update_frequency, "license": license, "funding": funding}

    def txt(self, value: str, purpose: str) -> None:
        """``podcast:txt purpose=...`` in the channel (``ai-content``: true, the show is read by a synthetic voice)."""
        self._txt.append((purpose, value))

    def sibling(self, href: str, title: str) -> None:
        """Another feed of the same show: ``atom:link rel="alternate"`` (type RSS) in the channel."""
        self._siblings.append((href, title))

    def extend_ns(self):
        return {"podcast": PODCAST_NS, "itunes": ITUNES_NS}

    def guid(self, value=None):
        if value is not None:
            self._guid = value
        return self._guid

    def locked(self, value: bool | None = None, owner: str | None = None):
        if value is not None:
            self._locked, self._locked_owner = value, owner
        return self._locked

    def explicit(self, value: bool | None = None):
        if value is not None:
            self._explicit = bool(value)
        return self._explicit

    def extend_rss(self, rss_feed):
        channel = rss_feed[0]
        if self._explicit is not None:
            _sub(channel, ITUNES_NS, "explicit", "true" if self._explicit else "false")
        if self._locked is not None:
            _sub(channel, PODCAST_NS, "locked", "yes" if self._locked else "no", owner=self._locked_owner)
        if self._guid:
            _sub(channel, PODCAST_NS, "guid", self._guid)
        for href, title in self._siblings:
            _sub(channel, ATOM_NS, "link", rel="alternate", type="application/rss+xml", href=href, title=title)
        for purpose, value in self._txt:
            _sub(channel, PODCAST_NS, "txt", value, purpose=purpose)
        if rule := self._habits.get("updateFrequency"):
            _sub(channel, PODCAST_NS, "updateFrequency", rule.split(";")[0].removeprefix("FREQ=").lower(), rrule=rule)
        if spdx := self._habits.get("license"):
            _sub(channel, PODCAST_NS, "license", spdx)
        if funding := self._habits.get("funding"):
            _sub(channel, PODCAST_NS, "funding", funding[1], url=funding[0])
        return rss_feed


class PodcastEntryExtension(BaseEntryExtension):
    """Item level: ``podcast:chapters``, ``podcast:person``, ``podcast:transcript``, ``podcast:txt``,
    ``podcast:season``, ``podcast:image``, ``itunes:explicit``."""

    def __init__(self):
        self._chapters = None
        self._persons: list[Person] = []
        self._transcripts: list[Transcript] = []
        self._explicit = None
        self._txt: list[tuple[str, str]] = []
        self._season: tuple[int, str] | None = None
        self._image: tuple[str, str, int] | None = None

    def image(self, href: str, alt: str, width: int) -> None:
        """``podcast:image``: the item's own square artwork (``alt``: what it shows)."""
        self._image = (href, alt, width)

    def season(self, number: int, name: str) -> None:
        """``podcast:season name=...``: the season's number and its name (the page's question)."""
        self._season = (number, name)

    def txt(self, value: str, purpose: str) -> None:
        """``podcast:txt purpose=...`` in the item."""
        self._txt.append((purpose, value))

    def chapters(self, url: str | None = None, type: str = CHAPTERS_TYPE):  # noqa: A002
        if url is not None:
            self._chapters = (url, type)
        return self._chapters

    def person(self, person: Person | None = None):
        if person is not None:
            self._persons.append(person)
        return list(self._persons)

    def transcript(self, transcript: Transcript | None = None):
        if transcript is not None:
            self._transcripts.append(transcript)
        return list(self._transcripts)

    def explicit(self, value: bool | None = None):
        if value is not None:
            self._explicit = bool(value)
        return self._explicit

    def extend_rss(self, item):
        if self._explicit is not None:
            _sub(item, ITUNES_NS, "explicit", "true" if self._explicit else "false")
        if self._chapters:
            _sub(item, PODCAST_NS, "chapters", url=self._chapters[0], type=self._chapters[1])
        for p in self._persons:
            _sub(item, PODCAST_NS, "person", p.name, group=p.group, role=p.role, href=p.href, img=p.img)
        for t in self._transcripts:
            _sub(item, PODCAST_NS, "transcript", url=t.url, type=t.type, rel=t.rel, language=t.language)
        if self._season is not None:
            _sub(item, PODCAST_NS, "season", str(self._season[0]), name=self._season[1][:128])
        if self._image is not None:
            href, alt, width = self._image
            _sub(item, PODCAST_NS, "image", href=href, alt=alt[:500], width=str(width), type="image/png",
                 purpose="artwork", **{"aspect-ratio": "1/1"})
        for purpose, value in self._txt:
            _sub(item, PODCAST_NS, "txt", value, purpose=purpose)
        return item


class PodloveExtension(BaseExtension):
    """Podlove Simple Chapters has no channel element; this only declares the namespace."""

    def extend_ns(self):
        return {"psc": PSC_NS}


class PodloveEntryExtension(BaseEntryExtension):
    """Item level: ``<psc:chapters version="1.2">`` with one ``psc:chapter`` per chapter."""

    def __init__(self):
        self._chapters: list[tuple[float, str]] = []

    def chapter(self, start_seconds: float | None = None, title: str | None = None):
        if start_seconds is not None:
            self._chapters.append((start_seconds, title or ""))
        return list(self._chapters)

    def extend_rss(self, item):
        if self._chapters:
            chapters = _sub(item, PSC_NS, "chapters", version="1.2")
            for start, title in sorted(self._chapters):
                _sub(chapters, PSC_NS, "chapter", start=npt(start), title=title)
        return item
