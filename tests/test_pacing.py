"""Planning rates before speaking: the shipped voice models, calibration, and one synthesis where it fits."""

from __future__ import annotations

import json
import shutil

from audiofeed.build.builder import BuildOptions, build
from audiofeed.audio.encoding import content_samples, frames_for_runtime
from audiofeed.audio.fitting import MAX_SILENCE_EDIT, fit_to_runtime
from audiofeed.speech.pacing import calibrate, shipped_models
from audiofeed.read import find_pages, read_page
from audiofeed.speech.voices import assign_voices
from audiofeed.speech.engine import engine_type, engine_for
from audiofeed.speech.lexicon import spoken_text

VOICE_PALETTE = engine_type().palette()

from .conftest import ARTICLES


def test_shipped_models_are_this_engines_measurements():
    shipped = shipped_models()
    assert set(shipped) == set(VOICE_PALETTE), (
        "audiofeed/pacing.json was measured on another espeak-ng: run `python -m audiofeed.speech.pacing` and commit it")
    for voice in (VOICE_PALETTE[0], VOICE_PALETTE[-1]):
        assert calibrate(voice) == shipped[voice]  # synthesis is reproducible: the same figures exactly


def test_planned_rates_land_within_the_silence_edit_for_most_answers():
    """The model's plan is kept (one synthesis) where the silence edits can close the rest."""
    pages = [read_page(p) for p in find_pages(ARTICLES)]
    voices = assign_voices([p.doctors for p in pages])
    models = shipped_models()
    passes = []
    for page in pages:
        for answer in page.answers:
            if answer.listed_runtime is None:
                continue
            text, _ = spoken_text(answer.question, answer.text)
            voice = voices[answer.doctor]
            target = content_samples(frames_for_runtime(answer.listed_runtime), engine_type().SAMPLE_RATE)
            planned = models[voice].rate_for(text, target)
            fitted = fit_to_runtime(lambda r: engine_for().speak(text, voice, r), target, first_rate=planned)
            assert len(fitted.samples) == target
            assert abs(fitted.silence_added) <= MAX_SILENCE_EDIT * target / 22050 + 1e-9
            passes.append(fitted.passes)
            if fitted.passes == 1:
                assert fitted.rate == planned
    assert max(passes) <= 2  # one proportional correction always lands
    assert passes.count(1) >= len(passes) // 2, passes


def test_a_voice_outside_the_palette_is_measured_once_and_cached(tmp_path):
    articles = tmp_path / "articles"
    articles.mkdir()
    shutil.copy(ARTICLES / "001_seasonal_flu_lead_only.txt", articles)
    shutil.copy(ARTICLES / "003_fever_in_children_utf8.txt", articles)
    options = BuildOptions(articles=articles, output=tmp_path / "out", cache=tmp_path / "cache",
                           pinned_voices=(("Søren Åkesson", "gmw/en-us+klatt"),))
    first = build(options)
    assert first.ok and first.voices_calibrated == 1
    entries = [json.loads(p.read_text()) for p in (tmp_path / "cache").rglob("*.json")]
    assert any(set(e["body"].get("value", {})) == {"a", "b"} for e in entries)  # a checked JSON record
    (articles / "001_seasonal_flu_lead_only.txt").write_text(
        (articles / "001_seasonal_flu_lead_only.txt").read_text().replace("flu", "influenza", 1))
    again = build(options)
    assert again.ok and again.voices_calibrated == 0
