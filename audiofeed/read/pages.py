"""What reading makes: :class:`Page` and :class:`Answer`, the :class:`PageError` that lists
every problem of a page, and the helpers every reader shares (runtimes, decoding, slugs)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from ..names import RESERVED_SUFFIX, TOP_LEVEL
from ..problems import Problem
from ..text import clean



@dataclass(frozen=True)
class Answer:
    """One doctor's spoken answer: the lead answer of a page or one of its "Other Voices"."""

    question: str
    doctor: str
    specialty: str
    listed_runtime: int | None  # seconds, as the page lists it; None for the lead answer
    text: str
    line: int  # line of the source page where this answer's block starts


@dataclass(frozen=True)
class Page:
    """An article page: a question answered by a lead doctor, then other doctors' answers."""

    source: Path
    slug: str
    title: str
    doctor: str
    specialty: str
    updated: date
    answers: tuple[Answer, ...]  # the lead answer first, then "Other Voices" in page order
    warnings: tuple[Problem, ...] = ()  # what was read past (the page is still built)
    source_sha256: str = ""  # of the bytes that were read and parsed: what the page key hashes
    guid: str | None = None  # pinned by the page (front matter ``guid``): its episode's GUID, whatever else changes
    image: Path | None = None  # the producer's art for its episode (front matter ``image``), checked to be a PNG or JPEG

    @property
    def doctors(self) -> list[str]:
        return doctors_of(self.answers)


def doctors_of(answers) -> list[str]:
    """The doctors of some answers, in order of first appearance, each once.

    >>> doctors_of([Answer("Q1", "Ana", "GP", None, "", 1), Answer("Q2", "Ben", "GP", 9, "", 5),
    ...             Answer("Q3", "Ana", "GP", 9, "", 9)])
    ['Ana', 'Ben']
    """
    return list(dict.fromkeys(a.doctor for a in answers))


def _at(line: int | None, message: str) -> Problem:
    """A problem at ``line`` of the page being read (:class:`PageError` names the file)."""
    return Problem("", message, line)


@dataclass
class PageError(ValueError):
    """A page that cannot be read; ``problems`` holds every problem found, not only the first."""

    path: Path
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.problems = [replace(p, file=str(self.path)) for p in self.problems]

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


_RUNTIME = re.compile(
    r"^(?:(?P<min>\d+)\s*min(?:ute)?s?)?\s*(?:(?P<sec>\d+)\s*sec(?:ond)?s?)?$", re.IGNORECASE
)


# Limits, checked as a page is read, before any work: a page or an answer beyond them is refused
# in one line naming it (docs/limits.md). The pages audiofeed is made for are a few kB, with
# answers of one to three minutes; these leave ample room and keep every answer's audio, held
# whole while it is fitted and levelled, within a few hundred MB.
MAX_PAGE_BYTES = 1 << 20  # 1 MiB of source
MAX_ANSWER_WORDS = 4000  # about 20 minutes of speech
MAX_RUNTIME = 20 * 60  # seconds a listed runtime may ask for


def parse_runtime(text: str) -> int:
    """Parse a listed runtime into whole seconds.

    >>> parse_runtime("1min 11sec")
    71
    >>> parse_runtime("39sec")
    39
    >>> parse_runtime("2min")
    120
    >>> parse_runtime("2 minutes 5 seconds")
    125
    >>> parse_runtime("1min 75sec")
    Traceback (most recent call last):
    ...
    ValueError: unparseable runtime '1min 75sec' (seconds must be below 60)
    >>> parse_runtime("soon")
    Traceback (most recent call last):
    ...
    ValueError: unparseable runtime 'soon' (expected e.g. '1min 11sec', '39sec' or '2min')
    >>> parse_runtime("99999999999999999999min")
    Traceback (most recent call last):
    ...
    ValueError: runtime '99999999999999999999min' is longer than audiofeed's limit of 20min
    """
    m = _RUNTIME.match(text.strip())
    if not m or not (m["min"] or m["sec"]):
        raise ValueError(f"unparseable runtime {text.strip()!r} (expected e.g. '1min 11sec', '39sec' or '2min')")
    minutes, seconds = int(m["min"] or 0), int(m["sec"] or 0)
    if m["min"] and seconds >= 60:
        raise ValueError(f"unparseable runtime {text.strip()!r} (seconds must be below 60)")
    total = minutes * 60 + seconds
    if total == 0:
        raise ValueError(f"runtime {text.strip()!r} is zero")
    if total > MAX_RUNTIME:
        raise ValueError(f"runtime {text.strip()!r} is longer than audiofeed's limit of {format_runtime(MAX_RUNTIME)}")
    return total


def format_runtime(seconds: int | None) -> str:
    """A runtime as the pages list it.

    >>> format_runtime(71), format_runtime(39), format_runtime(120), format_runtime(None)
    ('1min 11sec', '39sec', '2min', '')
    """
    if seconds is None:
        return ""
    m, s = divmod(seconds, 60)
    return " ".join(p for p in (f"{m}min" if m else "", f"{s}sec" if s else "") if p)


def decode_source(path: Path, raw: bytes) -> str:
    """Bytes of a page to text: UTF-8 with or without BOM, or UTF-16 with one; binary or other encodings refused."""
    problems = []
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16, as some Windows editors save
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as e:
            problems.append(_at(None, f"not valid UTF-16 at offset {e.start}; save the page as UTF-8"))
    elif not raw.strip():
        problems.append(_at(None, "empty file"))
    elif b"\x00" in raw and (raw[1::2].count(0) > len(raw) // 4 or raw[0::2].count(0) > len(raw) // 4):
        problems.append(_at(None, "looks like UTF-16 without a byte-order mark; save the page as UTF-8"))
    elif b"\x00" in raw:
        problems.append(_at(raw[: raw.index(b"\x00")].count(b"\n") + 1, "binary file (NUL byte), not a text page"))
    else:
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = raw[: e.start].count(b"\n") + 1
            problems.append(
                _at(line, f"not UTF-8: byte 0x{raw[e.start]:02x} at offset {e.start}; save the page as UTF-8")
            )
    raise PageError(path, problems)


# Page furniture: lines the scraped pages carry that are not content.


def _parse_date(text: str) -> date:
    for fmt in ("%B %d, %Y", "%b %d, %Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(f"unparseable date {text.strip()!r} (expected e.g. 'February 12, 2025')")


def _paragraphs(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Group numbered lines into paragraphs separated by blank lines: (first line, text)."""
    paras: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    for number, text in lines + [(0, "")]:
        if text.strip():
            if not current:
                start = number
            current.append(text.strip())
        elif current:
            paras.append((start, " ".join(current)))
            current = []
    return paras


def slug_for(path: Path) -> str:
    """A page's stable identifier: its file name without extension, made URL-safe.

    >>> slug_for(Path("articles/000_4fe75e9a818bb161.txt"))
    '000_4fe75e9a818bb161'
    >>> slug_for(Path("Über Fieber!.txt"))
    'ber-fieber'

    A page's folder sits beside the feeds, the cover and the player's assets, so a page named
    like one of those (:data:`~audiofeed.names.TOP_LEVEL`) gets a suffix:

    >>> slug_for(Path("feed.xml.txt")), slug_for(Path("Assets.md"))
    ('feed.xml-page', 'assets-page')
    """
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", path.stem).strip("-.").lower() or "page"
    return slug + RESERVED_SUFFIX if slug in TOP_LEVEL else slug


def drop_control_characters(text: str) -> tuple[str, list[tuple[int, list[int]]]]:
    """``text`` through the text boundary (:func:`audiofeed.text.clean`): what XML, ID3 and
    captions cannot carry is dropped, and reported by line."""
    return clean(text)
