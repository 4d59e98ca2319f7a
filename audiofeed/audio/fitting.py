"""Fitting: speech in, audio of an exact length out.

An answer's audio must last exactly its listed runtime. The speaking rate does most of the work,
inside the engine's natural band (its ``RATE_BAND``); silence inserted into, or taken out of, the
pauses that are already there closes the rest to the sample. An answer still too long at the top
of the band with every pause shortened is time-stretched if it is at most :data:`MAX_STRETCH` over
(Rubber Band, pitch kept), and refused beyond that (:class:`FitError`); one that would need a rate
below the band is spoken at the bottom of the band and padded with extra silence, which the
result reports.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..speech.engine import Sentence, Speech

from ..defaults import RATE_BAND  # noqa: E402  (re-exported)
REFERENCE_RATE = 175  # espeak-ng's default, a first guess before the rate is fitted
# A pass is kept when the silence edits that close it stay within this share of the runtime
# (spread over all pauses: 2.5% of a 60 s answer is about 60 ms more or less in each of 25).
MAX_SILENCE_EDIT = 0.025
MAX_PASSES = 4
# At the top of the band with every pause shortened, speech this much too long is time-stretched
# (Rubber Band, pitch and formants kept) rather than refused: 3% faster is not heard as hurried.
MAX_STRETCH = 0.03
MIN_PAUSE = 0.120  # seconds: a gap this long counts as a pause we may edit
KEEP_PAUSE = 0.060  # seconds: never shorten a pause below this
SILENCE_LEVEL = 64  # |sample| at or below this is silence (-54 dBFS)


@dataclass(frozen=True)
class FittedSpeech:
    """Speech edited to an exact length."""

    samples: np.ndarray
    sample_rate: int  # Hz, as the engine spoke it
    rate: int
    silence_added: float  # seconds; negative when pauses were shortened
    speech_seconds: float  # length of the speech as synthesized at ``rate``
    needed_rate: float  # the rate that would have filled the target with no silence edit
    sentences: tuple[Sentence, ...]
    words: tuple[Sentence, ...] = ()  # word starts, moved as the sentence starts are
    passes: int = 1  # syntheses it took
    stretch: float = 1.0  # > 1: sped up by time-stretching this much (at most 1 + MAX_STRETCH)


class FitError(ValueError):
    """The text cannot fill its runtime at a natural rate."""

    def __init__(self, message: str, needed_rate: float):
        super().__init__(message, needed_rate)  # both in args, so it survives pickling
        self.needed_rate = needed_rate

    def __str__(self) -> str:
        return str(self.args[0])


Speak = Callable[[int], Speech]


def find_pauses(samples: np.ndarray, sample_rate: int) -> list[tuple[int, int]]:
    """Runs of silence at least :data:`MIN_PAUSE` long, as (start, end) sample indices.

    >>> x = np.r_[np.ones(100), np.zeros(2646), np.ones(5), np.zeros(10)].astype(np.int16) * 1000
    >>> find_pauses(x, 22_050)
    [(100, 2746)]
    """
    quiet = (samples <= SILENCE_LEVEL) & (samples >= -SILENCE_LEVEL)
    # Run boundaries only: far fewer than samples, so the rest works on small arrays.
    changes = np.flatnonzero(quiet[1:] != quiet[:-1]) + 1
    bounds = np.concatenate(([0], changes, [len(samples)]))
    first_quiet = bool(quiet[0]) if len(samples) else False
    starts, ends = bounds[:-1], bounds[1:]
    is_quiet = np.zeros(len(starts), dtype=bool)
    is_quiet[0 if first_quiet else 1 :: 2] = True
    starts, ends = starts[is_quiet], ends[is_quiet]
    keep = (ends - starts) >= round(MIN_PAUSE * sample_rate)
    return list(zip(starts[keep].tolist(), ends[keep].tolist()))


def _share(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights``, in whole samples that add up exactly."""
    if not weights or total == 0:
        return [0] * len(weights)
    s = sum(weights)
    raw = [total * w / s for w in weights]
    parts = [math.floor(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: parts[i] - raw[i])[: total - sum(parts)]:
        parts[i] += 1
    return parts


def removable(samples: np.ndarray, sample_rate: int) -> int:
    """How many samples of silence can be taken out of the pauses."""
    keep = round(KEEP_PAUSE * sample_rate)
    return sum(max(0, e - s - keep) for s, e in find_pauses(samples, sample_rate))


def edit_silence(speech: Speech, target: int) -> tuple[np.ndarray, tuple[Sentence, ...], tuple[Sentence, ...]]:
    """Add or remove silence in the middle of pauses so that the audio is ``target`` samples long.

    Each pause gives or takes in proportion to its length (sentence breaks, being longer,
    take most). Sentence and word starts move with the audio.
    """
    samples = speech.samples
    delta = target - len(samples)
    pauses = find_pauses(samples, speech.sample_rate)
    if delta > 0:
        if not pauses:  # nothing to stretch: pad the end
            pauses = [(len(samples), len(samples))]
        parts = _share(delta, [max(1, e - s) for s, e in pauses])
    else:
        room = [max(0, e - s - round(KEEP_PAUSE * speech.sample_rate)) for s, e in pauses]
        if sum(room) < -delta:
            raise ValueError("not enough silence to remove")
        parts = [-p for p in _share(-delta, room)]
    pieces, cuts, cursor = [], [], 0
    for (s, e), part in zip(pauses, parts):
        mid = (s + e) // 2
        if part >= 0:
            pieces += [samples[cursor:mid], np.zeros(part, dtype=samples.dtype)]
            cursor = mid
        else:
            pieces.append(samples[cursor : mid + part // 2])
            cursor = mid + part // 2 - part
        cuts.append((mid, part))
    pieces.append(samples[cursor:])
    out = np.concatenate(pieces)

    def moved(sample: int) -> int:
        return sample + sum(part for mid, part in cuts if mid <= sample)

    sentences = tuple(Sentence(s.offset, moved(s.sample)) for s in speech.sentences)
    words = tuple(Sentence(w.offset, moved(w.sample)) for w in speech.words)
    assert len(out) == target, (len(out), target)
    return out, sentences, words


def needed_rate(rate: int, samples: int, target: int) -> float:
    """The rate that fills ``target`` samples, from a pass of ``samples`` at ``rate``.

    Length is close to inversely proportional to the rate (within 1% over 100-240 wpm).

    >>> needed_rate(175, 1000, 875)
    200.0
    """
    return rate * samples / target


def fit_to_runtime(speak: Speak, target: int, band: tuple[int, int] = RATE_BAND, first_rate: int = REFERENCE_RATE,
                   max_edit: float = MAX_SILENCE_EDIT) -> FittedSpeech:
    """Fit speech to exactly ``target`` samples.

    ``speak(rate)`` renders the text at a rate; the first pass is at ``first_rate`` (planned by
    :mod:`.pacing`). A pass is kept when the silence edits can close what is left and it is no
    more than ``max_edit`` of the target; otherwise the pass measures the text and the rate is
    corrected in proportion. Raises :class:`FitError` when even the top of ``band`` (with every
    pause shortened) is too slow. At the bottom of the band, the rest is padded with silence.
    """
    low, high = band
    stretch = 1.0
    tried: dict[int, Speech] = {}
    rate = min(high, max(low, first_rate))
    while True:
        speech = tried[rate] = tried.get(rate) or speak(rate)
        length = len(speech.samples)
        surplus = length - target
        closable = surplus <= 0 or surplus <= removable(speech.samples, speech.sample_rate)
        if closable and (abs(surplus) <= max_edit * target or (surplus < 0 and rate == low)):
            break
        if surplus > 0 and rate >= high and not closable:
            # Pauses first (half of what they can give), then a stretch of at most MAX_STRETCH for
            # the rest; the pause edits then close the last samples.
            factor = (length - removable(speech.samples, speech.sample_rate) / 2) / target
            if factor <= 1 + MAX_STRETCH:
                faster = stretched(speech, factor)
                if len(faster.samples) - target <= removable(faster.samples, faster.sample_rate):
                    speech, stretch = faster, factor
                    break
            raise FitError(
                f"needs {needed_rate(rate, length, target):.0f} wpm to fit, above the natural band {low}-{high} wpm",
                needed_rate=needed_rate(rate, length, target),
            )
        # Correct in proportion, rounded up (so silence is added rather than cut), at least one step.
        new = min(high, max(low, math.ceil(needed_rate(rate, length, target))))
        if new == rate:
            new = min(high, rate + 1) if surplus > 0 else max(low, rate - 1)
        if new in tried or len(tried) >= MAX_PASSES:
            # Settled between two rates: keep the closest pass that the silence edits can close.
            fits = [s for s in tried.values()
                    if len(s.samples) <= target or len(s.samples) - target <= removable(s.samples, s.sample_rate)]
            if not fits:
                raise FitError(f"cannot fit {target / speech.sample_rate:.1f} s in the natural band {low}-{high} wpm",
                               needed_rate=needed_rate(rate, length, target))
            speech = min(fits, key=lambda s: (abs(len(s.samples) - target), s.rate))
            rate = speech.rate
            break
        rate = new
    samples, sentences, words = edit_silence(speech, target)
    return FittedSpeech(
        samples=samples,
        sample_rate=speech.sample_rate,
        rate=rate,
        silence_added=(target - len(speech.samples)) / speech.sample_rate,
        speech_seconds=speech.seconds,
        needed_rate=needed_rate(rate, len(speech.samples), target),
        sentences=sentences,
        words=words,
        passes=len(tried),
        stretch=stretch,
    )


def stretched(speech: Speech, factor: float) -> Speech:
    """``speech`` played ``factor`` times faster, pitch kept (Rubber Band, deterministic); sentence
    starts move with it."""
    from pedalboard import time_stretch

    audio = speech.samples.astype(np.float32).reshape(1, -1) / 32768.0
    out = time_stretch(audio, speech.sample_rate, stretch_factor=factor, high_quality=True).reshape(-1)
    samples = np.clip(np.round(out * 32768.0), -32768, 32767).astype(speech.samples.dtype)
    sentences, words = (tuple(Sentence(s.offset, min(len(samples), round(s.sample / factor))) for s in marks)
                        for marks in (speech.sentences, speech.words))
    return Speech(samples=samples, sample_rate=speech.sample_rate, voice=speech.voice, rate=speech.rate, sentences=sentences,
                  words=words)


def pad_to(speech: Speech, target: int) -> FittedSpeech:
    """Speech that has no runtime to meet (a lead answer), padded at the end to ``target``."""
    extra = target - len(speech.samples)
    samples = np.concatenate([speech.samples, np.zeros(max(0, extra), dtype=speech.samples.dtype)])[:target]
    return FittedSpeech(
        samples=samples,
        sample_rate=speech.sample_rate,
        rate=speech.rate,
        silence_added=extra / speech.sample_rate,
        speech_seconds=speech.seconds,
        needed_rate=float(speech.rate),
        sentences=speech.sentences,
        words=speech.words,
    )
