"""What ``check`` reads and how it judges: the table of readers, one answer's readings and the
one out-of-tolerance rule (:meth:`AnswerCheck.off`).

The readers are one table, :data:`READERS` (as podcastparser keeps its ``MAPPING``): an entry
says where a value is read, which record field and terminal column it fills, and what it is
compared with; a new reader is one entry. The checker, the terminal table of ``audiofeed
check``, its JSON and CSV records and the HTML report all follow from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from pathlib import Path

from ..names import (ANSWERS_FILE, ATOM_NS, FEED_FILE, ITUNES_NS, PODCAST_NS, PSC_NS, SILENCE_ADDED_TAG,
                     SPEAKING_RATE_TAG, CustomTag)
from ..problems import Problem, Reported
from .listen import CUE_TOLERANCE, LATE_PART, TRUNCATED_LATE

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
    duration: str | None = None  # itunes:duration of its answers.xml item, as written
    in_feeds: bool = True  # False: beyond the feeds' item limit, on the web pages only
    decoded_ms: float | None = None
    header_ms: float | None = None
    tlen_ms: int | None = None
    tags: object = None  # mutagen ID3
    episode: EpisodeView | None = None
    heard: object = None  # check --listen: the answer as the listener heard it (listen.Heard)
    captions: object = None  # check --listen: its WebVTT cues against where their words are heard (listen.CueTiming)

    def listened(self, name: str):
        return getattr(self.heard, name) if self.heard is not None else None

    def captioned(self, name: str):
        return getattr(self.captions, name) if self.captions is not None else None

    def span(self, chapters: str) -> int | None:
        span = self.episode.spans.get(chapters, {}).get(self.title) if self.episode else None
        return None if span is None else span[1]

    def tag(self, custom: CustomTag):
        return custom_tag(self.tags, custom) if self.tags is not None else None

    def feed_seconds(self) -> int | None:
        duration = self.duration
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
    Reader("rate_wpm", "wpm", "speaking rate", "the pace heard: spoken words per minute of audio, pauses included (TXXX tag; over 180 wpm is a warning)",
           lambda s: s.tag(SPEAKING_RATE_TAG), unit="wpm"),
    Reader("silence_added_s", "silence", "silence added", "the silence added (TXXX tag; over 20% is a warning)",
           lambda s: s.tag(SILENCE_ADDED_TAG), unit="+s"),
    # --listen: what an automatic listener heard (records only; None without --listen)
    Reader("heard_own_wer", None, "listened (own text)", "with --listen: the listener's word error rate against the "
           "answer's own text", lambda s: s.listened("own_wer"), unit="wer"),
    Reader("heard_closest_wer", None, "listened (closest other text)", "with --listen: its word error rate against "
           "the closest other answer's text", lambda s: s.listened("closest_wer"), unit="wer"),
    Reader("heard_closest", None, "listened (closest other answer)", "with --listen: which answer that is",
           lambda s: s.listened("closest"), unit="text"),
    Reader("heard_share", None, "listened (words heard)", "with --listen: words heard per word of its text",
           lambda s: s.listened("heard_share"), unit="share"),
    Reader("heard_late_share", None, "listened (words late)", f"with --listen: of the words heard, the share in the "
           f"last {LATE_PART:.0%} of its audio (below {TRUNCATED_LATE:.0%}: truncated)", lambda s: s.listened("late_share"),
           unit="share"),
    Reader("heard_verdict", None, "listened", "with --listen: ok, or why it fails (another answer's words, silent, "
           "truncated)", lambda s: s.listened("verdict"), unit="text"),
    Reader("captions_median_s", None, "captions in time (median)", "with --listen: how far its caption cues (WebVTT) "
           "start from where their first words are heard, the median in seconds", lambda s: s.captioned("median"), unit="s"),
    Reader("captions_p95_s", None, "captions in time (95th percentile)", "with --listen: the same, 95th percentile",
           lambda s: s.captioned("p95"), unit="s"),
    Reader("captions_worst_s", None, "captions in time (worst)", "with --listen: the cue furthest off, in seconds "
           "(positive: late)", lambda s: s.captioned("worst_s"), unit="+s"),
    Reader("captions_off", None, "captions off", f"with --listen: its cues more than {CUE_TOLERANCE:g} s off (each fails)",
           lambda s: s.captioned("off_count"), unit="count"),
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

    def off(self, reader: Reader, tolerance_ms: float) -> bool:
        """The one out-of-tolerance rule: ``reader``'s duration differs from :meth:`reference` by
        more than ``tolerance_ms``. The checker, the terminal table and the HTML report all ask it."""
        value, reference = self.readings.get(reader.field), self.reference()
        return (reader.compare is Compare.RUNTIME and value is not None and reference is not None
                and abs(value - reference) > tolerance_ms)

    def reasons(self, tolerance_ms: float) -> list[str]:
        """Each reader out of tolerance, in words: "TLEN says 45.000 s, listed 39.000 s"."""
        what = "listed" if self.listed_ms is not None else "decoded"
        return [f"{r.label} says {self.readings[r.field] / 1000:.3f} s, {what} {self.reference() / 1000:.3f} s"
                for r in READERS if self.off(r, tolerance_ms)]

    def row(self) -> dict:
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
    listened: int | None = None  # answers heard and judged (check --listen); None: not asked
    captions: dict = field(default_factory=dict)  # check --listen: page -> its episode's WebVTT cue timing (listen.CueTiming)

    def records(self) -> list[dict]:
        """One flat record per answer, for ``--json`` and ``--csv``."""
        return [a.row() for a in self.answers]


def custom_tag(tags, custom: CustomTag):
    """A TXXX value as :mod:`audiofeed.names` reads it back; None if missing or unreadable."""
    try:
        return custom.read(str(tags[custom.key].text[0]))
    except (KeyError, ValueError, IndexError):
        return None
