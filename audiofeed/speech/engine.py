"""Speech: text in, :class:`Speech` (samples and where each sentence starts) out.

The pipeline speaks through a small :class:`Engine` protocol; :func:`engine_type` names the
engine of this platform (espeak-ng through pyttsx3: :mod:`.espeak_engine`), and
:func:`speaker` is this process's instance. Each doctor gets a distinct, stable voice from the
engine's palette (:func:`assign_voices`). What is spoken is the question and the answer
(:func:`spoken_text`), with the producer's pronunciations (:class:`Lexicon`) applied to speech only.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Sentence:
    """Where a sentence starts: character offset in the spoken text and sample in the audio."""

    offset: int
    sample: int


@dataclass(frozen=True)
class Speech:
    """Synthesized speech: 16-bit mono samples at ``sample_rate``."""

    samples: np.ndarray
    sample_rate: int  # Hz: whatever the engine gives; nothing downstream assumes a rate
    voice: str
    rate: int  # the engine's rate setting, words per minute
    sentences: tuple[Sentence, ...]

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate


class Engine(Protocol):
    """What the pipeline needs of a speech engine (one module per engine, e.g. :mod:`.espeak_engine`)."""

    NAME: ClassVar[str]  # for messages: "espeak-ng"
    SAMPLE_RATE: ClassVar[int]  # Hz of the samples :meth:`speak` returns
    RATE_LIMITS: ClassVar[tuple[int, int]]  # words per minute the engine speaks steadily
    VOICE_EXAMPLE: ClassVar[str]  # voice ids as a producer writes them, for messages

    @classmethod
    def palette(cls, default_voice: str | None = None) -> tuple[str, ...]:
        """The voices doctors are given (only ``default_voice``'s variants, if it is set)."""

    @staticmethod
    def known(voice: str, ids: set[str]) -> bool:
        """Whether ``voice`` names one of the engine's voice ``ids``."""

    @classmethod
    def versions(cls) -> dict[str, str]:
        """What the engine's audio depends on (versions, data), for cache keys."""

    @classmethod
    def fingerprint(cls) -> str:
        """A short hash of :meth:`versions`."""

    def voices(self) -> list[str]:
        """The voice ids the engine has."""

    def speak(self, text: str, voice: str, rate: int) -> Speech:
        """``text`` in ``voice`` at ``rate`` words per minute, with its sentence starts."""

    def phonemes(self, text: str, voice: str) -> str:
        """How the engine would pronounce ``text``, in its own phoneme notation (for ``audiofeed say``)."""


def engine_type() -> type[Engine]:
    """The speech engine of this platform (its class: constants and palette without starting it)."""
    from .espeak_engine import EspeakEngine  # the one engine today; another pyttsx3 driver is a module beside it

    return EspeakEngine


_speaker: Engine | None = None
_speaker_lock = threading.Lock()


def speaker() -> Engine:
    """This process's speech engine, started on first use (one per process, shared by its threads)."""
    global _speaker
    with _speaker_lock:
        if _speaker is None:
            _speaker = engine_type()()
    return _speaker


def _slot(name: str, size: int) -> int:
    digest = hashlib.sha256(name.strip().casefold().encode()).digest()
    return int.from_bytes(digest[:8], "big") % size


def assign_voices(
    pages_doctors: list[list[str]], pinned: dict[str, str] | None = None, default_voice: str | None = None
) -> dict[str, str]:
    """Give every doctor a voice: stable across builds, distinct from the others on each page.

    ``pages_doctors`` lists the doctors of each page. A doctor keeps one voice on every page.
    ``pinned`` gives some doctors a voice of their own choosing; ``default_voice`` limits the
    others to variants of one accent.

    >>> v = assign_voices([["Wang Jian", "Zhou Qi"], ["Zhou Qi", "Xu Chun Hua"]])
    >>> v["Zhou Qi"] == assign_voices([["Zhou Qi"]])["Zhou Qi"]
    True
    >>> len({v["Wang Jian"], v["Zhou Qi"]}), len({v["Zhou Qi"], v["Xu Chun Hua"]})
    (2, 2)
    """
    pinned = dict(pinned or {})
    voices_palette = engine_type().palette(default_voice)
    neighbours: dict[str, set[str]] = {}
    for doctors in pages_doctors:
        for d in doctors:
            neighbours.setdefault(d, set()).update(x for x in doctors if x != d)
    voices = dict(pinned)
    for doctor in sorted(neighbours, key=lambda d: (_slot(d, len(voices_palette)), d)):
        if doctor in voices:
            continue
        taken = {voices[n] for n in neighbours[doctor] if n in voices}
        start = _slot(doctor, len(voices_palette))
        for step in range(len(voices_palette)):
            candidate = voices_palette[(start + step) % len(voices_palette)]
            if candidate not in taken:
                voices[doctor] = candidate
                break
        else:  # more doctors on one page than voices: share rather than fail
            voices[doctor] = voices_palette[start]
    return voices


def spoken_text(question: str, answer: str) -> tuple[str, int]:
    """The text an answer's audio speaks: its question, then the answer.

    Returns the text and the character offset where the answer starts.

    >>> spoken_text("Is it contagious?", "No.")
    ('Is it contagious?\\n\\nNo.', 19)
    """
    question = question.strip()
    if question and question[-1] not in ".?!":
        question += "."
    text = f"{question}\n\n{answer.strip()}"
    return text, len(question) + 2


class Lexicon:
    """Pronunciations applied to what is spoken, never to what is shown.

    Keys that are words match whole words only ("CT" but not "CTA"); keys with symbols match
    anywhere ("°C", "≥"). :meth:`apply` also returns where the spoken text's pieces start in the
    shown text, so that sentence timings found in speech map back to the shown text.

    >>> spoken, offsets = Lexicon({"CT": "C T", "mg": "milligrams", "°C": " degrees Celsius"}).apply("A CT scan, 5 mg. Done.")
    >>> spoken
    'A C T scan, 5 milligrams. Done.'
    >>> shown = "A CT scan, 5 mg. Done."
    >>> Lexicon.to_display(offsets, spoken.index("Done")) == shown.index("Done")
    True
    """

    def __init__(self, entries: dict[str, str] | None = None):
        self.entries = dict(entries or {})
        parts = []
        for word in sorted(self.entries, key=len, reverse=True):
            escaped = re.escape(word)
            parts.append(rf"\b{escaped}\b" if re.fullmatch(r"\w+", word) else escaped)
        self.pattern = re.compile("|".join(parts)) if parts else None

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where the entries match in ``text``: spans the default normalization leaves to the producer."""
        return [m.span() for m in self.pattern.finditer(text)] if self.pattern is not None else []

    def apply(self, text: str) -> tuple[str, tuple[tuple[int, int], ...]]:
        """The text to speak, and (spoken offset, shown offset) pairs where the two realign."""
        if self.pattern is None:
            return text, ()
        out, offsets, cursor, shift = [], [], 0, 0
        for m in self.pattern.finditer(text):
            out.append(text[cursor : m.start()])
            replacement = self.entries[m.group(0)]
            out.append(replacement)
            shift += len(replacement) - len(m.group(0))
            cursor = m.end()
            offsets.append((m.end() + shift, m.end()))
        out.append(text[cursor:])
        return "".join(out), tuple(offsets)

    @staticmethod
    def to_display(offsets: tuple[tuple[int, int], ...], spoken_offset: int) -> int:
        """A character offset in the spoken text, as an offset in the shown text."""
        delta = 0
        for spoken_at, shown_at in offsets:
            if spoken_at > spoken_offset:
                break
            delta = spoken_at - shown_at
        return spoken_offset - delta
