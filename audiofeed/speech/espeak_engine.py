"""The espeak-ng engine: pyttsx3 driving espeak-ng, with what is specific to it kept here.

Everything the rest of the pipeline needs from a speech engine is the small
:class:`~audiofeed.speech.engine.Engine` protocol: a sample rate, the rates it speaks steadily, a
palette of voices, ``speak`` and a fingerprint. This module is that protocol for espeak-ng
(through :mod:`audiofeed.speech.espeak_driver`, a pyttsx3 driver that renders synchronously and
reproducibly). A second pyttsx3 driver (NSSpeechSynthesizer on macOS, SAPI5 on Windows) would
be one module like this one, chosen by :func:`audiofeed.speech.engine.engine_type`.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import os
import sys
import threading
import wave
from functools import cache

from ..defaults import RATE_BAND
from .engine import Sentence, Speech, fingerprint_of, package_version

DRIVER_NAME = "audiofeed_espeak"

# English accents and voice variants that stay natural at 100-240 wpm. A doctor's voice is
# accent+variant, picked from this palette by a hash of the name (so it never changes between
# builds) and moved to the next free entry when it would equal another voice on the same page.
ACCENTS = ("gmw/en-us", "gmw/en-gb-x-rp", "gmw/en", "gmw/en-gb-scotland", "gmw/en-029")
VARIANTS = ("m1", "f1", "m3", "f2", "m2", "f3", "m4", "f4", "m6", "f5", "m7")


class EspeakEngine:
    """espeak-ng through pyttsx3: one per process (:func:`audiofeed.speech.engine.engine_for`)."""

    NAME = "espeak-ng"
    SAMPLE_RATE = 22_050  # espeak-ng's output rate
    RATE_LIMITS = (80, 449)  # espeak switches method at 450 wpm and durations jump
    RATE_BAND = RATE_BAND  # natural speaking rates
    DEFAULT_RATE = 165  # heard as about 175 words a minute (espeak-ng's own 175 is heard as 186)
    PALETTE = tuple(f"{accent}+{variant}" for variant in VARIANTS for accent in ACCENTS)
    VOICE_EXAMPLE = "'gmw/en-us' or 'gmw/en-gb-x-rp+f2'"

    def __init__(self) -> None:
        import pyttsx3

        from . import espeak_driver

        # pyttsx3 loads drivers as modules named pyttsx3.drivers.<name>.
        sys.modules.setdefault(f"pyttsx3.drivers.{DRIVER_NAME}", espeak_driver)
        importlib.import_module(f"pyttsx3.drivers.{DRIVER_NAME}")
        self._driver = espeak_driver
        self.engine = pyttsx3.init(DRIVER_NAME)
        self._sentences: list[Sentence] = []
        self._words: list[Sentence] = []
        self._errors: list[BaseException] = []
        self.engine.connect("started-sentence", self._on_sentence)
        self.engine.connect("started-word", self._on_word)
        self.engine.connect("error", self._on_error)
        # pyttsx3 keeps one engine per driver and process, and its events land in this object: a
        # worker that runs jobs on several threads (a dask worker) speaks one utterance at a time.
        self._lock = threading.Lock()

    @property
    def sample_rate(self) -> int:
        return self.SAMPLE_RATE

    @classmethod
    def palette(cls, default_voice: str | None = None) -> tuple[str, ...]:
        """The voices doctors are given: every accent, or only ``default_voice``'s, with each variant."""
        if default_voice:
            base = default_voice.split("+", 1)[0]
            return tuple(f"{base}+{variant}" for variant in VARIANTS)
        return cls.PALETTE

    @staticmethod
    def known(voice: str, ids: set[str]) -> bool:
        """Whether ``voice`` (an id, with or without a ``+variant``) is one of the engine's ``ids``."""
        return voice.split("+", 1)[0] in ids

    def _on_sentence(self, location, sample, **_):
        self._sentences.append(Sentence(offset=location - 1, sample=sample))

    def _on_word(self, location, sample, **_):
        self._words.append(Sentence(offset=location - 1, sample=sample))

    def _on_error(self, exception, **_):
        self._errors.append(exception)

    def voices(self) -> list[str]:
        return [v.id for v in self.engine.getProperty("voices")]

    def speak(self, text: str, voice: str, rate: int) -> Speech:
        """Render ``text`` with ``voice`` at ``rate`` words per minute."""
        import numpy as np

        low, high = self.RATE_LIMITS
        if not low <= rate <= high:
            raise ValueError(f"rate {rate} wpm outside espeak-ng's steady range {low}-{high}")
        with self._lock:
            self._sentences, self._words, self._errors = [], [], []
            self.engine.setProperty("voice", voice)
            self.engine.setProperty("rate", rate)
            buffer = io.BytesIO()
            self.engine.save_to_file(text, buffer)
            self.engine.runAndWait()
            sentences, words, errors = tuple(self._sentences), tuple(self._words), self._errors
        if errors:
            raise errors[0]
        buffer.seek(0)
        with wave.open(buffer, "rb") as f:
            samples = np.frombuffer(f.readframes(f.getnframes()), dtype="<i2")
            sample_rate = f.getframerate()
        if not len(samples):
            raise self._driver.SynthesisError(f"no audio for {text[:40]!r}")
        return Speech(samples=samples, sample_rate=sample_rate, voice=voice, rate=rate, sentences=sentences, words=words)

    def phonemes(self, text: str, voice: str) -> str:
        """espeak-ng's phonemes for ``text`` in ``voice`` (its ASCII mnemonics), a clause a line."""
        import ctypes

        from pyttsx3.drivers import _espeak

        library = self._driver.library()
        library.espeak_TextToPhonemes.restype = ctypes.c_char_p
        library.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int]
        with self._lock:
            if _espeak.SetVoiceByName(voice.encode()) != _espeak.EE_OK:
                raise self._driver.SynthesisError(f"espeak-ng refused voice {voice!r}")
            buffer = ctypes.create_string_buffer(text.encode("utf-8"))
            pointer = ctypes.c_void_p(ctypes.addressof(buffer))
            clauses = []
            while pointer.value:
                clause = library.espeak_TextToPhonemes(ctypes.byref(pointer), 1, 0)  # UTF-8 in, mnemonics out
                if clause:
                    clauses.append(clause.decode("utf-8", "replace").strip())
        return "\n".join(c for c in clauses if c)

    @classmethod
    @cache
    def versions(cls) -> dict[str, str]:
        """What the engine's audio depends on, by name: espeak-ng's version and its voice data."""
        from . import espeak_driver  # first: it loads the wheel's libespeak-ng, which _espeak needs
        from pyttsx3.drivers import _espeak  # noqa: I001

        return {"espeak": _espeak.Info(None).decode(), "espeak_data": _data_fingerprint(espeak_driver.data_path()),
                "pyttsx3": package_version("pyttsx3")}

    @classmethod
    def fingerprint(cls) -> str:
        """A hash of :meth:`versions`: what decides how speech sounds and how long it lasts."""
        return fingerprint_of(cls.versions())


def _data_fingerprint(folder: str) -> str:
    """Names and sizes of espeak's voice data files: changes when the data is upgraded."""
    h = hashlib.sha256()
    for root, _dirs, files in sorted(os.walk(folder)):
        for name in sorted(files):
            st = os.stat(os.path.join(root, name))
            h.update(f"{os.path.relpath(os.path.join(root, name), folder)}:{st.st_size}".encode())
    return h.hexdigest()[:16]
