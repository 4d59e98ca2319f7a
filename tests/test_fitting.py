"""Fitting real speech to runtimes: exact lengths, natural rates, refusals and padding."""

from __future__ import annotations

import numpy as np
import pytest

from audiofeed.build.rendering import AnswerJob, speak_answer
from audiofeed.audio.encoding import FRAME_SECONDS, content_samples, frames_for_runtime
from audiofeed.audio.fitting import KEEP_PAUSE, RATE_BAND, FitError, find_pauses, fit_to_runtime
from audiofeed.read import read_page
from audiofeed.speech.engine import engine_type, engine_for
from audiofeed.speech.lexicon import spoken_text

SAMPLE_RATE = engine_type().SAMPLE_RATE

from .conftest import ARTICLES, run_build

VOICE = "gmw/en-us+m1"


def seed_answers():
    page = read_page(ARTICLES / "000_4fe75e9a818bb161.txt")
    return page.answers[1:]


@pytest.mark.parametrize("index", range(5))
def test_seed_answers_fit_exactly_at_natural_rates(index):
    answer = seed_answers()[index]
    text, _ = spoken_text(answer.question, answer.text)
    target = content_samples(frames_for_runtime(answer.listed_runtime), SAMPLE_RATE)
    fitted = fit_to_runtime(lambda r: engine_for().speak(text, VOICE, r), target)
    assert len(fitted.samples) == target
    assert RATE_BAND[0] <= fitted.rate <= RATE_BAND[1]
    assert 130 <= fitted.rate <= 185  # the seed's runtimes are natural ones
    assert abs(fitted.silence_added) < 0.02 * answer.listed_runtime  # the rate did most of the work
    # Silence was only changed inside pauses: no pause got shorter than the floor.
    assert all(e - s >= round(KEEP_PAUSE * SAMPLE_RATE) for s, e in find_pauses(fitted.samples, SAMPLE_RATE))


def test_sentence_starts_follow_the_edits():
    answer = seed_answers()[0]
    text, _ = spoken_text(answer.question, answer.text)
    target = content_samples(frames_for_runtime(answer.listed_runtime + 3), SAMPLE_RATE)  # forces added silence
    fitted = fit_to_runtime(lambda r: engine_for().speak(text, VOICE, r), target)
    plain = engine_for().speak(text, VOICE, fitted.rate)
    assert len(fitted.sentences) == len(plain.sentences) > 5
    window = int(0.2 * SAMPLE_RATE)
    for before, after in zip(plain.sentences, fitted.sentences):
        assert after.sample >= before.sample
        # the speech that followed the sentence start still follows it
        a = plain.samples[before.sample : before.sample + window].astype(float)
        b = fitted.samples[after.sample : after.sample + window].astype(float)
        if a.std() > 0 and b.std() > 0:
            assert np.corrcoef(a, b)[0, 1] > 0.9


def test_runtime_needing_a_rate_above_the_band_is_refused():
    answer = seed_answers()[0]  # 71 s of speech at ~160 wpm
    text, _ = spoken_text(answer.question, answer.text)
    with pytest.raises(FitError) as info:
        fit_to_runtime(lambda r: engine_for().speak(text, VOICE, r), content_samples(frames_for_runtime(30), SAMPLE_RATE))
    assert info.value.needed_rate > RATE_BAND[1]
    assert "wpm" in str(info.value) and "100-240" in str(info.value)


@pytest.mark.parametrize("over,stretches", [(0.02, True), (0.05, False)])
def test_a_few_percent_over_the_band_is_time_stretched_and_more_is_refused(over, stretches):
    """At the top of the band with every pause shortened: 2% too long is stretched to the sample
    (pitch kept), 5% is refused."""
    from audiofeed.audio.fitting import MAX_STRETCH, removable

    text = ("The doctor said that the patient should rest and drink plenty of water every day until the fever "
            "has gone away completely and then slowly start to walk again.")  # one sentence: hardly a pause to edit
    fastest = engine_for().speak(text, VOICE, RATE_BAND[1])
    pauses = removable(fastest.samples, fastest.sample_rate)
    assert pauses < 0.02 * len(fastest.samples)
    target = round((len(fastest.samples) - pauses / 2) / (1 + over))  # beyond what the pauses alone can close
    speak = lambda r: engine_for().speak(text, VOICE, r)  # noqa: E731
    if not stretches:
        with pytest.raises(FitError):
            fit_to_runtime(speak, target, RATE_BAND, RATE_BAND[1])
        return
    fitted = fit_to_runtime(speak, target, RATE_BAND, RATE_BAND[1])
    assert len(fitted.samples) == target
    assert 1 < fitted.stretch <= 1 + MAX_STRETCH and fitted.rate == RATE_BAND[1]
    assert all(b.sample >= a.sample for a, b in zip(fitted.sentences, fitted.sentences[1:]))
    assert fitted.sentences[-1].sample < target


def test_runtime_needing_a_rate_below_the_band_is_padded_and_reported():
    text = "Should I use ice or heat? Ice helps in the first two days."
    job = AnswerJob(slug="x", index=1, text=text, display=text, offsets=(),
                    voice=VOICE, target_frames=frames_for_runtime(9), rate=175, band=RATE_BAND)
    audio = speak_answer(job)
    assert audio.frames * FRAME_SECONDS == pytest.approx(9, abs=0.03)
    assert audio.rate == RATE_BAND[0]
    assert audio.needed_rate < RATE_BAND[0]
    assert audio.silence_added > 1


def test_build_refuses_too_fast_answer_and_reports_padding(tmp_path, articles_copy):
    seed = articles_copy / "000_4fe75e9a818bb161.txt"
    seed.write_text(seed.read_text().replace("1min 11sec", "25sec").replace("39sec", "1min 40sec"))
    run = run_build(articles_copy, tmp_path / "out")
    assert run.code == 1
    assert "Traceback" not in run.stderr
    refused = [ln for ln in run.stderr.splitlines() if "refused" in ln]
    assert len(refused) == 1
    line = refused[0]
    assert line.startswith(f"{seed}:17: refused 'Will there be metastasis after kidney cancer removal?'")
    assert "wpm" in line and "above the natural band 100-240" in line
    assert "padded" in run.stdout
    # the page is still published, without the refused answer
    feed = (tmp_path / "out" / "feed.xml").read_text()
    assert "Kidney cancer most commonly metastasizes" in feed
    assert "Will there be metastasis" not in (tmp_path / "out" / "answers.xml").read_text()
