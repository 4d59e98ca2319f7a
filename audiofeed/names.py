"""The vocabulary: every name that the build writes and ``check``, ``serve`` or the player read back.

Defined once, here, and imported by both sides: the files of the output folder, the chapter
title an answer is found by, the custom ID3 tags, the transcript kinds. Renaming one renames it
for writer and reader alike. Nothing here imports anything heavy, so the command line, the
configuration and the checker can all use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

# -- the audio ---------------------------------------------------------------------------------
OUTPUT_RATE = 48_000  # Hz of every published MP3: the encoder writes it, check and the transcripts count in it

# -- the output folder -------------------------------------------------------------------------
FEED_FILE = "feed.xml"  # one item per page
ANSWERS_FILE = "answers.xml"  # one item per answer
COVER_FILE = "cover.png"  # the show's art (3000 px at most, 1400 px at least)
ART_FILE = "art.png"  # a page episode's own art, in its folder (1400 px)
INDEX_FILE = "index.html"  # the site's home and each page's player
EMBED_FILE = "embed.html"  # a page's compact player, for other sites' iframes
MANIFEST_FILE = ".audiofeed"  # marks a folder audiofeed made; holds the page keys
ASSETS_FOLDER = "assets"  # the player's script and style, shared by every page
TOP_LEVEL = frozenset({FEED_FILE, ANSWERS_FILE, COVER_FILE, INDEX_FILE, EMBED_FILE, MANIFEST_FILE, ASSETS_FOLDER})
RESERVED_SUFFIX = "-page"  # added to a page's slug that would take one of the TOP_LEVEL names

# -- a page's folder ---------------------------------------------------------------------------
EPISODE_STEM = "episode"  # the page's episode: its answers joined, a chapter each
EPISODE_FILE = f"{EPISODE_STEM}.mp3"  # the enclosure of the page's feed.xml item (tagged, ID3 chapters)
CHAPTERS_FILE = "chapters.json"  # Podcasting 2.0 JSON chapters
CHAPTERS_TYPE = "application/json+chapters"  # its MIME type, in the feed and over HTTP
RECORD_FILE = "build.json"  # what the build published for the page: its answers, files, rates, loudness
VOICE_NOTE_STEM = "voice-note"  # the spoken disclosure that opens each page episode, in its own chapter
VOICE_NOTE_FILE = f"{VOICE_NOTE_STEM}.mp3"  # its MP3 (answers.xml's trailer too)
VOICE_NOTE_TITLE = "About the voice"  # its chapter's title (ID3, JSON, Podlove) and its transcript section's
VOICE_NOTE_SPEAKER = "Synthetic voice"  # who speaks it, in captions and transcripts
_ANSWER_STEM = re.compile(r"^answer-(?P<index>\d{2,})$")

TRANSCRIPT_KINDS = {  # file suffix: (MIME type for podcast:transcript, rel)
    "vtt": ("text/vtt", "captions"),
    "srt": ("application/x-subrip", None),
    "html": ("text/html", None),
    "json": ("application/json", None),
}


def answer_stem(index: int) -> str:
    """The file stem of a page's answer ``index`` (0 is the lead).

    >>> answer_stem(3), answer_index("output/page/answer-03.mp3"), answer_index("episode.mp3")
    ('answer-03', 3, None)
    """
    return f"answer-{index:02d}"


def answer_index(path: str | PurePath) -> int | None:
    """The answer index an answer file's name holds; None for any other file."""
    m = _ANSWER_STEM.match(PurePath(path).stem)
    return int(m["index"]) if m else None


def page_file(slug: str, name: str) -> str:
    """A file of a page's folder, relative to the output folder (as records and feeds hold it)."""
    return f"{slug}/{name}"


# -- the feeds' namespaces ---------------------------------------------------------------------
PODCAST_NS = "https://podcastindex.org/namespace/1.0"  # Podcasting 2.0
PSC_NS = "http://podlove.org/simple-chapters"  # Podlove Simple Chapters
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
ATOM_NS = "http://www.w3.org/2005/Atom"


# -- chapters ----------------------------------------------------------------------------------
def chapter_title(question: str, doctor: str) -> str:
    """An answer's chapter title, in the ID3 CHAP frame, the JSON chapters and psc:chapters alike.

    ``check`` finds each answer's chapter by it.

    >>> chapter_title("Is it contagious?", "Wang Jian")
    'Is it contagious? (Wang Jian)'
    """
    return f"{question} ({doctor})"


# -- custom ID3 tags (TXXX) ----------------------------------------------------------------------
@dataclass(frozen=True)
class CustomTag:
    """A ``TXXX`` frame: its description, and how its value is written and read back."""

    desc: str
    write: Callable[[object], str]
    read: Callable[[str], object]

    @property
    def key(self) -> str:
        """The frame's key in a mutagen ``ID3`` (``TXXX:desc``)."""
        return f"TXXX:{self.desc}"


LISTED_RUNTIME_TAG = CustomTag("listed_runtime", str, str)  # as the page lists it: "1min 11sec"
SPEAKING_RATE_TAG = CustomTag("speaking_rate_wpm", lambda v: str(int(v)), int)
SILENCE_ADDED_TAG = CustomTag("silence_added_seconds", lambda v: f"{v:.3f}", float)
