"""Levelling real speech: the target loudness and true peak in one measurement and one verification."""

from __future__ import annotations

import math

import numpy as np
import pyebur128
import pytest

from audiofeed.audio import loudness
from audiofeed.audio.encoding import OUTPUT_RATE, resample
from audiofeed.audio.loudness import CEILING, SPEECH_TARGET, level, true_peak
from audiofeed.read import read_page
from audiofeed.speech.engine import engine_for
from audiofeed.speech.lexicon import spoken_text

from .conftest import ARTICLES

VOICES = ["gmw/en-us+m1", "gmw/en-gb-x-rp+f2", "gmw/en-029+m3", "gmw/en-gb-scotland+f5"]


def speech_48k(voice: str, index: int) -> np.ndarray:
    answer = read_page(ARTICLES / "000_4fe75e9a818bb161.txt").answers[index]
    speech = engine_for().speak(spoken_text(answer.question, answer.text)[0], voice, 165)
    return resample(speech.samples, speech.sample_rate)


def reference(x: np.ndarray) -> tuple[float, float]:
    """libebur128's integrated loudness and true peak (its full 4x oversampling)."""
    mode = pyebur128.MeasurementMode.MODE_I | pyebur128.MeasurementMode.MODE_TRUE_PEAK
    state = pyebur128.R128State(1, OUTPUT_RATE, mode)
    x = np.ascontiguousarray(x, dtype=np.float64)
    state.add_frames(x, len(x))
    return pyebur128.get_loudness_global(state), 20 * math.log10(pyebur128.get_true_peak(state, 0))


@pytest.mark.parametrize("voice,index", list(zip(VOICES, [1, 2, 3, 5])))
def test_levelled_speech_meets_both_targets(voice, index):
    x = speech_48k(voice, index)
    levelled = level(x, OUTPUT_RATE)
    integrated, peak = reference(levelled.samples)
    assert integrated == pytest.approx(SPEECH_TARGET, abs=0.25), (voice, integrated)
    assert peak <= CEILING + 0.05, (voice, peak)
    assert len(levelled.samples) == len(x)  # level only: timing untouched
    assert levelled.limited > 3  # espeak's peaks needed the limiter: the case that used to need a search


def test_one_measurement_and_one_verification(monkeypatch):
    calls = []
    real = loudness.integrated_loudness
    monkeypatch.setattr(loudness, "integrated_loudness", lambda x, rate: calls.append(len(x)) or real(x, rate))
    level(speech_48k(VOICES[0], 1), OUTPUT_RATE)
    assert len(calls) == 2


@pytest.mark.parametrize("voice", VOICES[:2])
def test_true_peak_agrees_with_libebur128(voice):
    x = speech_48k(voice, 2)
    for signal in (x, level(x, OUTPUT_RATE).samples):  # raw speech, and flat-topped after limiting
        assert true_peak(signal) == pytest.approx(reference(signal)[1], abs=0.1)
