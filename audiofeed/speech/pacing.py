"""Pacing: how long a voice will take to say a text, before it says it.

Fitting an answer to its runtime needs the speaking rate that fills it. Synthesizing once just
to measure (and again to fit) doubled the speech cost, so the rate is planned from a model:

- a text's *weight*, a linear function of its letters, syllables, words, digits and of the
  clause and sentence breaks it pauses at (:data:`TEXT_COEFFICIENTS`, fitted by least squares
  on 44 answers spoken by six palette voices: 2.9% mean error on real pages, 5% at worst,
  leaving one out);
- a :class:`VoiceModel` per voice, ``samples = weight x (a / rate + b)``: espeak-ng's durations
  follow ``a / rate + b`` within 1% over 100-240 wpm (docs/engineering-notes.md). ``a`` and ``b`` are measured
  once per voice and engine version, from :data:`CALIBRATION_TEXT` at two rates, and kept in
  the cache as JSON. The palette's models for the espeak-ng that audiofeed installs ship with
  it (``pacing.json``, written by ``python -m audiofeed.speech.pacing``), so a clean build measures no
  voice unless the engine differs or a voice outside the palette is pinned.

Fitting (:func:`.fitting.fit_to_runtime`) speaks once at the planned rate and keeps that pass
when the silence edits can close the rest; otherwise the pass itself measures the text and one
proportional correction lands within 0.4%.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from ..defaults import RATE_BAND
from .engine import engine_for, engine_type, predicts

# Samples at 175 wpm (22,050 Hz) for the mean of six palette voices, per letter, syllable
# (vowel group), word, clause break, sentence end and digit (espeak-ng reads digits as words),
# and per text. Least squares over the 44 answers of articles/ and benchmarks' synthetic pages
# (benchmarks/fit_pacing.py fits them again and prints their leave-one-out error).
TEXT_COEFFICIENTS = (1094.2, 655.7, 109.1, 5280.9, 9480.0, 9929.0, 6892.6)
CALIBRATION_TEXT = (
    "Is it safe to exercise with a cold? Light exercise is usually fine when the symptoms are "
    "above the neck, such as a runny nose or a sore throat. Rest if you have a fever, aches or "
    "a cough, and start again slowly once you feel better."
)
# CALIBRATION_TEXT at 175 wpm, the mean of the same six voices: a voice is measured against
# this, not against the text model, so the model's error on this one text does not carry over.
CALIBRATION_SAMPLES = 287028.5
CALIBRATION_RATES = (120, 230)


def text_weight(text: str) -> float:
    """How long ``text`` takes to say, in samples at 175 wpm for a typical palette voice.

    >>> round(text_weight("Rest, and drink water."))
    43970
    """
    words = re.findall(r"[A-Za-z]+", text)
    syllables = sum(max(1, len(re.findall(r"[aeiouy]+", w.lower()))) for w in words)
    features = (len(re.sub(r"\W", "", text)), syllables, len(words), len(re.findall(r"[,;:]", text)),
                len(re.findall(r"[.?!](?:\s|$)", text)), len(re.findall(r"\d", text)), 1)
    return sum(c * f for c, f in zip(TEXT_COEFFICIENTS, features))


@dataclass(frozen=True)
class VoiceModel:
    """A voice's duration against rate, for a text of unit weight: ``a / rate + b``."""

    voice: str
    a: float
    b: float

    @classmethod
    def from_calibration(cls, voice: str, lengths: dict[int, int]) -> VoiceModel:
        """The model through two measured lengths of :data:`CALIBRATION_TEXT`, by rate."""
        (r1, n1), (r2, n2) = sorted(lengths.items())
        w = CALIBRATION_SAMPLES
        a = (n1 - n2) / w / (1 / r1 - 1 / r2)
        return cls(voice, a, n1 / w - a / r1)

    def samples(self, text: str, rate: int) -> float:
        """Predicted length of ``text`` spoken at ``rate``, in samples."""
        return text_weight(text) * (self.a / rate + self.b)

    def rate_for(self, text: str, target: int, band: tuple[int, int] = RATE_BAND) -> int:
        """The rate predicted to fill ``target`` samples, rounded up and kept in ``band``.

        >>> m = VoiceModel("v", a=175.0, b=0.0)  # a voice exactly as fast as the model's mean
        >>> m.rate_for("Hello.", int(m.samples("Hello.", 140)) + 1), m.rate_for("Hello.", 10)
        (140, 240)
        >>> VoiceModel("v", a=175.0, b=0.2).rate_for("Hello.", 10)  # shorter than any rate can make it
        240
        """
        unit = target / text_weight(text)
        if unit <= self.b:  # no rate is fast enough: the top of the band, and fitting says so
            return band[1]
        return min(band[1], max(band[0], math.ceil(self.a / (unit - self.b) - 1e-9)))

    def to_json(self) -> dict:
        return {"a": self.a, "b": self.b}

    @classmethod
    def from_json(cls, voice: str, data: dict) -> VoiceModel:
        a, b = data["a"], data["b"]
        if not (isinstance(a, float | int) and isinstance(b, float | int) and math.isfinite(a) and math.isfinite(b) and a > 0):
            raise ValueError(f"bad voice model for {voice}: {data!r}")
        return cls(voice, float(a), float(b))


def calibrate(voice: str, engine: str | None = None) -> VoiceModel:
    """Measure ``voice`` on :data:`CALIBRATION_TEXT` at :data:`CALIBRATION_RATES` (two short syntheses)."""
    speaker = engine_for(engine)
    low, high = engine_type(engine).RATE_LIMITS
    rates = (max(low, CALIBRATION_RATES[0]), min(high, CALIBRATION_RATES[1]))
    if predicts(speaker):  # it knows its lengths: no synthesis
        return VoiceModel.from_calibration(voice, {r: speaker.length(CALIBRATION_TEXT, voice, r) for r in rates})
    return VoiceModel.from_calibration(voice, {r: len(speaker.speak(CALIBRATION_TEXT, voice, r).samples) for r in rates})


TABLE_FILE = "pacing.json"


@cache
def shipped_models(engine: str | None = None) -> dict[str, VoiceModel]:
    """The palette's models shipped with audiofeed, if they were measured on this engine (else none)."""
    try:
        table = json.loads(resources.files(__package__).joinpath(TABLE_FILE).read_text(encoding="utf-8"))
        if table.get("engine") != engine_type(engine).fingerprint():
            return {}
        return {voice: VoiceModel.from_json(voice, data) for voice, data in table["voices"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def write_table(path=None, engine: str | None = None) -> None:
    """Measure every palette voice on this engine and write the shipped table."""
    from pathlib import Path

    from ..storage import atomic_write

    kind = engine_type(engine)
    table = {"engine": kind.fingerprint(), "voices": {v: calibrate(v, engine).to_json() for v in kind.palette()}}
    target = Path(path) if path else Path(__file__).with_name(TABLE_FILE)
    atomic_write(target, (json.dumps(table, indent=1, sort_keys=True) + "\n").encode())


if __name__ == "__main__":
    write_table(engine="espeak")  # Piper measures its voices from its duration graph, in a moment: nothing to ship
