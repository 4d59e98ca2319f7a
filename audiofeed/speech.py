"""Speech: text in, :class:`Speech` (samples and where each sentence starts) out.

pyttsx3 drives espeak-ng through :mod:`audiofeed.espeak_driver`, a pyttsx3 driver that renders
synchronously and reproducibly. Each doctor gets a distinct, stable voice
(:func:`assign_voices`).
"""

from __future__ import annotations

import hashlib
import importlib
import io
import re
import sys
import wave
from dataclasses import dataclass

import numpy as np
import pyttsx3

from . import espeak_driver

DRIVER_NAME = "audiofeed_espeak"
SAMPLE_RATE = espeak_driver.SAMPLE_RATE

# English accents and voice variants that stay natural at 100-240 wpm. A doctor's voice is
# accent+variant, picked from this palette by a hash of the name (so it never changes between
# builds) and moved to the next free entry when it would equal another voice on the same page.
ACCENTS = ("gmw/en-us", "gmw/en-gb-x-rp", "gmw/en", "gmw/en-gb-scotland", "gmw/en-029")
VARIANTS = ("m1", "f1", "m3", "f2", "m2", "f3", "m4", "f4", "m6", "f5", "m7")
VOICE_PALETTE = tuple(f"{accent}+{variant}" for variant in VARIANTS for accent in ACCENTS)


@dataclass(frozen=True)
class Sentence:
    """Where a sentence starts: character offset in the spoken text and sample in the audio."""

    offset: int
    sample: int


@dataclass(frozen=True)
class Speech:
    """Synthesized speech: 16-bit mono samples at :data:`SAMPLE_RATE`."""

    samples: np.ndarray
    voice: str
    rate: int  # espeak-ng's rate setting, words per minute
    sentences: tuple[Sentence, ...]

    @property
    def seconds(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def _register_driver() -> None:
    # pyttsx3 loads drivers as modules named pyttsx3.drivers.<name>.
    sys.modules.setdefault(f"pyttsx3.drivers.{DRIVER_NAME}", espeak_driver)
    importlib.import_module(f"pyttsx3.drivers.{DRIVER_NAME}")


class Speaker:
    """Owns one pyttsx3 engine on audiofeed's espeak-ng driver."""

    def __init__(self) -> None:
        _register_driver()
        self.engine = pyttsx3.init(DRIVER_NAME)
        self._sentences: list[Sentence] = []
        self._errors: list[BaseException] = []
        self.engine.connect("started-sentence", self._on_sentence)
        self.engine.connect("error", self._on_error)

    def _on_sentence(self, location, sample, **_):
        self._sentences.append(Sentence(offset=location - 1, sample=sample))

    def _on_error(self, exception, **_):
        self._errors.append(exception)

    def voices(self) -> list[str]:
        return [v.id for v in self.engine.getProperty("voices")]

    def speak(self, text: str, voice: str, rate: int) -> Speech:
        """Render ``text`` with ``voice`` at ``rate`` words per minute."""
        self._sentences, self._errors = [], []
        self.engine.setProperty("voice", voice)
        self.engine.setProperty("rate", rate)
        buffer = io.BytesIO()
        self.engine.save_to_file(text, buffer)
        self.engine.runAndWait()
        if self._errors:
            raise self._errors[0]
        buffer.seek(0)
        with wave.open(buffer, "rb") as f:
            samples = np.frombuffer(f.readframes(f.getnframes()), dtype="<i2")
        if not len(samples):
            raise espeak_driver.SynthesisError(f"no audio for {text[:40]!r}")
        return Speech(samples=samples, voice=voice, rate=rate, sentences=tuple(self._sentences))


_speaker: Speaker | None = None


def speaker() -> Speaker:
    """This process's :class:`Speaker`, created on first use (one engine per process)."""
    global _speaker
    if _speaker is None:
        _speaker = Speaker()
    return _speaker


def _slot(name: str, size: int = len(VOICE_PALETTE)) -> int:
    digest = hashlib.sha256(name.strip().casefold().encode()).digest()
    return int.from_bytes(digest[:8], "big") % size


def palette(default_voice: str | None = None) -> tuple[str, ...]:
    """The voices doctors are given: every accent, or only ``default_voice``'s, with each variant."""
    if default_voice:
        base = default_voice.split("+", 1)[0]
        return tuple(f"{base}+{variant}" for variant in VARIANTS)
    return VOICE_PALETTE


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
    voices_palette = palette(default_voice)
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
