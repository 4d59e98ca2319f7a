"""Tagging: MP3 frames and what they are about in, a tagged MP3 file out (ID3v2.3, via mutagen).

ID3v2.3 because podcast apps read it most reliably (Apple Podcasts mishandles v2.4 chapter
titles). mutagen sorts frames by size when it saves, which can put CHAP frames out of time order,
and some apps (AntennaPod) then show only the first chapter: :class:`OrderedChaptersID3` writes
them in start-time order, after a top-level ordered CTOC that has its own title.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from mutagen.id3 import (
    APIC,
    CHAP,
    COMM,
    CTOC,
    ID3,
    IPLS,
    TALB,
    TCON,
    TDAT,
    TIT2,
    TLEN,
    TPE1,
    TPUB,
    TXXX,
    TYER,
    USLT,
    WOAS,
    CTOCFlags,
)
from mutagen.id3._tags import save_frame

from ..names import LISTED_RUNTIME_TAG, SILENCE_ADDED_TAG, SPEAKING_RATE_TAG

__all__ = ["Chapter", "TrackTags", "OrderedChaptersID3", "tagged_mp3"]

NO_OFFSET = 0xFFFFFFFF  # CHAP byte offsets unused: times only


@dataclass(frozen=True)
class Chapter:
    """A span of an episode: one doctor's answer."""

    title: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class TrackTags:
    """What an MP3's ID3 tag says."""

    title: str
    artist: str  # the doctor, or all the page's doctors
    album: str  # the feed's title
    date: date
    length_ms: int
    listed_runtime: str  # as the page lists it ("1min 11sec"), "" for a lead answer
    description: str
    text: str  # what is spoken, for USLT
    people: tuple[tuple[str, str], ...]  # (role, name): "Urology", "Wang Jian"
    publisher: str
    url: str
    cover: bytes
    cover_mime: str = "image/png"
    language: str = "eng"
    speaking_rate: int | None = None  # words per minute as heard (pauses included)
    silence_added: float | None = None  # seconds added to (or, negative, taken from) pauses


class OrderedChaptersID3(ID3):
    """An ID3 tag that writes CTOC, then CHAP frames in start-time order, then the rest."""

    def _write(self, config):
        frames = list(self.values())
        chapters = sorted((f for f in frames if f.FrameID == "CHAP"), key=lambda f: (f.start_time, f.element_id))
        tocs = [f for f in frames if f.FrameID == "CTOC"]
        pictures = [f for f in frames if f.FrameID == "APIC"]
        others = sorted(
            (f for f in frames if f.FrameID not in ("CHAP", "CTOC", "APIC")), key=lambda f: f.HashKey
        )
        return b"".join(save_frame(f, config=config) for f in others + tocs + chapters + pictures)


def _tag(tags: TrackTags, chapters: list[Chapter]) -> OrderedChaptersID3:
    id3 = OrderedChaptersID3()
    id3.add(TIT2(encoding=3, text=tags.title))
    id3.add(TPE1(encoding=3, text=tags.artist))
    id3.add(TALB(encoding=3, text=tags.album))
    id3.add(TCON(encoding=3, text="Podcast"))
    # The tag is ID3v2.3, which has no TDRC (v2.4): the year and the day-month, as v2.3 readers
    # expect them (mutagen reads them back as TDRC).
    id3.add(TYER(encoding=3, text=f"{tags.date.year:04d}"))
    id3.add(TDAT(encoding=3, text=f"{tags.date.day:02d}{tags.date.month:02d}"))
    id3.add(TLEN(encoding=3, text=str(tags.length_ms)))
    id3.add(TPUB(encoding=3, text=tags.publisher))
    for custom, value in ((LISTED_RUNTIME_TAG, tags.listed_runtime or None), (SPEAKING_RATE_TAG, tags.speaking_rate),
                          (SILENCE_ADDED_TAG, tags.silence_added)):
        if value is not None:
            id3.add(TXXX(encoding=3, desc=custom.desc, text=custom.write(value)))
    id3.add(COMM(encoding=3, lang=tags.language, desc="", text=tags.description))
    id3.add(USLT(encoding=3, lang=tags.language, desc="", text=tags.text))
    id3.add(IPLS(encoding=3, people=[list(p) for p in tags.people]))
    if tags.url:
        id3.add(WOAS(url=tags.url))
    id3.add(APIC(encoding=0, mime=tags.cover_mime, type=3, desc="Cover", data=tags.cover))
    if chapters:
        ids = [f"ch{i:03d}" for i in range(len(chapters))]
        id3.add(
            CTOC(
                element_id="toc",
                flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                child_element_ids=ids,
                sub_frames=[TIT2(encoding=3, text="Chapters")],
            )
        )
        for cid, ch in zip(ids, chapters):
            id3.add(
                CHAP(
                    element_id=cid,
                    start_time=ch.start_ms,
                    end_time=ch.end_ms,
                    start_offset=NO_OFFSET,
                    end_offset=NO_OFFSET,
                    sub_frames=[TIT2(encoding=3, text=ch.title)],
                )
            )
    return id3


def tagged_mp3(frames: bytes, tags: TrackTags, chapters: list[Chapter] | None = None) -> bytes:
    """The bytes of an MP3 file: an ID3v2.3 tag (no padding, so output is reproducible), then ``frames``."""
    buffer = io.BytesIO()
    _tag(tags, chapters or []).save(buffer, v2_version=3, v23_sep="/", padding=lambda info: 0)
    return buffer.getvalue() + frames
