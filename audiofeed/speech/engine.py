"""Speech engines: text in, :class:`Speech` (samples and where each sentence starts) out.

The pipeline speaks through a small :class:`Engine` protocol. Engines are chosen by name from
one table, :data:`ENGINES` (``--engine``, ``[speech] engine``); :func:`engine_type` gives an
engine's class and :func:`engine_for` this process's running instance of it.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Sentence:
    """Where a sentence (or a word) starts: character offset in the spoken text and sample in the audio."""

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
    words: tuple[Sentence, ...] = ()  # where each word starts, as the engine timed it (captions cut inside sentences)

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate


class Engine(Protocol):
    """What the pipeline needs of a speech engine (one module per engine, e.g. :mod:`.espeak_engine`)."""

    NAME: ClassVar[str]  # for messages: "espeak-ng"
    SAMPLE_RATE: ClassVar[int]  # Hz of the samples :meth:`speak` returns
    RATE_LIMITS: ClassVar[tuple[int, int]]  # words per minute the engine speaks steadily
    RATE_BAND: ClassVar[tuple[int, int]]  # the default band fitting keeps to: where the voice sounds natural
    DEFAULT_RATE: ClassVar[int]  # the pace of a lead answer with no other answer on its page
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


class Predicting(Engine, Protocol):
    """An engine that knows how long it will speak before it speaks (:mod:`.piper_engine`): fitting
    then needs one synthesis, and calibration none."""

    def length(self, text: str, voice: str, rate: int) -> int:
        """Exactly how many samples :meth:`speak` will give."""

    def rate_for(self, text: str, voice: str, target: int, band: tuple[int, int]) -> int:
        """The slowest rate in ``band`` whose speech fits in ``target`` samples (the band's top if none does)."""


def package_version(dist: str) -> str:
    """An installed distribution's version; "-" if it is not installed (for engines' and the
    pipeline's version lists)."""
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "-"


def fingerprint_of(versions: dict[str, str]) -> str:
    """A short hash of a list of versions: what cache keys and worker identities compare."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps(versions, sort_keys=True).encode()).hexdigest()[:16]


def predicts(engine: Engine) -> bool:
    """Whether ``engine`` is :class:`Predicting`."""
    return callable(getattr(engine, "rate_for", None)) and callable(getattr(engine, "length", None))


# The engines, by the name ``--engine`` and ``[speech] engine`` give: module and class, imported
# only when chosen (an engine's libraries load with its module).
ENGINES: dict[str, tuple[str, str]] = {
    "piper": ("audiofeed.speech.piper_engine", "PiperEngine"),
    "espeak": ("audiofeed.speech.espeak_engine", "EspeakEngine"),
}
DEFAULT_ENGINE = "piper"
# How the disclosure names each engine's voice (what a listener is told reads the answers).
SYNTHETIC_VOICES = {"piper": "Piper text-to-speech, voice en_US-joe-medium", "espeak": "espeak-ng text-to-speech"}
SPOKEN_VOICES = {"piper": "Piper text to speech", "espeak": "e-speak text to speech"}  # the same, as said aloud
ENGINE_ENV = "AUDIOFEED_ENGINE"  # names the engine when neither the command line nor [speech] engine does


def default_engine() -> str:
    """The engine used when none is named: ``$AUDIOFEED_ENGINE`` if set, else :data:`DEFAULT_ENGINE`."""
    import os

    return os.environ.get(ENGINE_ENV) or DEFAULT_ENGINE


class UnknownEngine(ValueError):
    """An engine name that is not in :data:`ENGINES`."""

    def __init__(self, name: str):
        super().__init__(f"unknown speech engine {name!r}: choose one of {', '.join(sorted(ENGINES))}")


def engine_type(name: str | None = None) -> type[Engine]:
    """The engine called ``name`` (its class: constants and palette without starting it); None: the default."""
    name = name or default_engine()
    try:
        module, attribute = ENGINES[name]
    except KeyError:
        raise UnknownEngine(name) from None
    return getattr(importlib.import_module(module), attribute)


_running: dict[str, Engine] = {}
_running_lock = threading.Lock()


def engine_for(name: str | None = None) -> Engine:
    """This process's instance of engine ``name`` (None: the default), started on first use (shared by its threads)."""
    name = name or default_engine()
    with _running_lock:
        if name not in _running:
            _running[name] = engine_type(name)()
        return _running[name]


_processes = 1  # processes speaking at once on this machine's cores (see share_cores)


def share_cores(processes: int) -> None:
    """Say that ``processes`` processes (this one among them) speak at once, each with its share of
    the cores: a build's workers are one per core, so each engine then runs one thread (more
    would only contend for the cores and hold more memory)."""
    global _processes
    _processes = max(1, processes)


def cores_to_use() -> int:
    """How many threads one engine in this process may run: its share of the cores it may use."""
    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // _processes)
