"""Fit the text model of ``audiofeed/pacing.py`` again: TEXT_COEFFICIENTS and CALIBRATION_SAMPLES.

The model predicts how long a text takes to say at 175 wpm, for the mean of six palette voices,
from its letters, syllables, words, clause breaks, sentence ends and digits. This script speaks
the answers of ``articles/`` and of the first ten synthetic pages of ``bench_scale.py`` (44 texts)
with those six voices, fits the coefficients by least squares, and prints them with their
leave-one-out error. Run it after a change to espeak-ng, then copy the figures into pacing.py
and run ``python -m audiofeed.speech.pacing`` for the per-voice table.

Usage: python benchmarks/fit_pacing.py
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

import numpy as np

from audiofeed.speech.pacing import CALIBRATION_TEXT
from audiofeed.read import find_pages, read_page
from audiofeed.speech.engine import engine_for
from audiofeed.speech.lexicon import spoken_text

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_scale import synthetic_page  # noqa: E402

VOICES = ["gmw/en-us+m1", "gmw/en-gb-x-rp+f2", "gmw/en-029+m3", "gmw/en-gb-scotland+f5", "gmw/en+m7", "gmw/en-us+f4"]


def features(text: str) -> list[float]:
    words = re.findall(r"[A-Za-z]+", text)
    syllables = sum(max(1, len(re.findall(r"[aeiouy]+", w.lower()))) for w in words)
    return [len(re.sub(r"\W", "", text)), syllables, len(words), len(re.findall(r"[,;:]", text)),
            len(re.findall(r"[.?!](?:\s|$)", text)), len(re.findall(r"\d", text)), 1]


def corpus() -> tuple[list[str], int]:
    texts = [spoken_text(a.question, a.text)[0] for p in find_pages(HERE.parent / "articles") for a in read_page(p).answers]
    real = len(texts)
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(10):
            path = Path(tmp, f"page_{i:04d}.txt")
            path.write_text(synthetic_page(i))
            texts += [spoken_text(a.question, a.text)[0] for a in read_page(path).answers]
    return texts, real


def main() -> None:
    texts, real = corpus()
    speak = engine_for().speak
    x = np.array([features(t) for t in texts], float)
    lengths = np.array([[len(speak(t, v, 175).samples) for t in texts] for v in VOICES], float)
    mean_voice = (lengths / lengths.mean(axis=1, keepdims=True) * lengths.mean()).mean(axis=0)
    coefficients, *_ = np.linalg.lstsq(x, mean_voice, rcond=None)
    errors = []
    for i in range(len(texts)):
        rest = [j for j in range(len(texts)) if j != i]
        c, *_ = np.linalg.lstsq(x[rest], mean_voice[rest], rcond=None)
        errors.append(abs(x[i] @ c / mean_voice[i] - 1))
    errors = np.array(errors)
    calibration = np.mean([len(speak(CALIBRATION_TEXT, v, 175).samples) for v in VOICES])
    print(f"TEXT_COEFFICIENTS = ({', '.join(f'{c:.1f}' for c in coefficients)})")
    print(f"CALIBRATION_SAMPLES = {calibration:.1f}")
    print(f"leave-one-out error: {errors.mean():.1%} mean, {errors[:real].mean():.1%} on articles/ "
          f"(worst {errors[:real].max():.1%}), {errors[real:].mean():.1%} on synthetic pages; "
          f"{(errors < 0.025).mean():.0%} of texts within 2.5%")


if __name__ == "__main__":
    main()
