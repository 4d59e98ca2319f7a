"""The natural voice: Piper is the default engine, exact and reproducible, one voice per doctor, and
it shares processes with espeak-ng without harm.

Builds here use the real Piper model on real pages (the two small sample pages: about 77 s of
audio), and are read back as clients read them: mutagen, ffmpeg (through ``audiofeed check``),
feedparser.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from .conftest import ARTICLES, published_ok, run_build, run_check, small_articles
from .server import serving
from .test_serve import _edit, _pages_rebuilt, request

PIPER_ENV = {k: v for k, v in os.environ.items() if k != "AUDIOFEED_ENGINE"}  # the default, as a user gets it


def build(articles: Path, out: Path, *args: str):
    """``audiofeed build`` as a user runs it, with the default engine."""
    return run_build(articles, out, *args, env=PIPER_ENV)


@pytest.fixture(scope="module")
def piper_build(tmp_path_factory):
    """A clean build of the two small pages with nothing named: the default engine."""
    root = tmp_path_factory.mktemp("piper")
    articles = small_articles(root / "articles")
    out = root / "out"
    done = build(articles, out, "--cache", str(root / "cache"))
    assert done.code == 0, done.stderr
    return articles, out, root


def records(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(out.glob("*/build.json"))]


def test_the_default_build_speaks_with_piper_and_every_duration_checks(piper_build):
    articles, out, _ = piper_build
    answers = [a for r in records(out) for a in r["answers"]]
    assert len(answers) == 4 and {a["engine"] for a in answers} == {"piper"}
    from audiofeed.speech.piper_engine import PiperEngine

    assert all(a["voice"] in PiperEngine.PALETTE for a in answers)
    by_doctor = {}
    for a in answers:
        by_doctor.setdefault(a["doctor"], set()).add(a["voice"])
    assert all(len(v) == 1 for v in by_doctor.values())  # a doctor keeps one voice
    fever = records(out)[1]["answers"]
    assert len({a["voice"] for a in fever}) == len({a["doctor"] for a in fever})  # distinct on a page
    done = run_check(out, articles=articles)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 error(s), 0 warning(s)" in done.stdout + done.stderr
    assert published_ok(out) == 6


def test_a_runtime_no_natural_pace_can_meet_is_one_line_and_the_rest_publishes(tmp_path):
    """An answer listed far shorter than its text (5 s for 19 s of speech) is refused in one line
    naming file and line; its page's other answers publish and check. (It once crashed the planner:
    a voice model whose fixed part alone outlasts the runtime asked for an infinite rate.)"""
    articles = tmp_path / "articles"
    articles.mkdir()
    page = articles / "003_fever_in_children_utf8.txt"
    page.write_text((ARTICLES / page.name).read_text().replace("19sec", "5sec", 1))
    out = tmp_path / "out"
    done = build(articles, out)
    assert done.code == 1 and "Traceback" not in done.stderr, done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and re.match(rf"{re.escape(str(page))}:\d+: ", lines[0]), lines  # file and line
    assert "refused 'Should I alternate paracetamol and ibuprofen?'" in lines[0] and "above the natural band" in lines[0]
    assert [a["index"] for a in records(out)[0]["answers"]] == [0, 2]
    checked = run_check(out, articles=articles)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_second_clean_build_is_byte_identical(piper_build):
    articles, out, root = piper_build
    again = root / "again"
    done = build(articles, again, "--cache", str(root / "cache-2"))
    assert done.code == 0, done.stderr
    first = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    second = {p.relative_to(again): p.read_bytes() for p in again.rglob("*") if p.is_file()}
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []
    assert "0 of those rendered needed a second synthesis" in " ".join(done.stdout.split())


def test_the_duration_graph_predicts_every_synthesis_to_the_sample():
    from audiofeed.speech.engine import engine_for

    engine = engine_for("piper")
    text = "Should I alternate paracetamol and ibuprofen? Not routinely. Give one, at the right dose, and wait."
    for rate in (130, 175, 215):
        assert engine.length(text, "joe", rate) == len(engine.speak(text, "joe+2.3", rate).samples)
    target = engine.length(text, "joe", 160) + 100
    rate = engine.rate_for(text, "joe", target, (130, 215))
    assert engine.length(text, "joe", rate) <= target < engine.length(text, "joe", rate - 1)


def test_word_starts_in_a_long_sentence_cost_work_linear_in_its_length():
    """Where each word of a sentence starts is found with work linear in the sentence's length
    (espeak-ng phonemizes at most a window of words per word), in order, and the same as counting
    from the sentence's start for every word of a sentence that fits in the window."""
    from audiofeed.speech import piper_text
    from audiofeed.speech.engine import engine_for

    engine = engine_for("piper")
    phonemize, read = engine._voice.phonemize, []

    def counting(text):
        read.append(len(text))
        return phonemize(text)

    clause = "the doctor said that rest and water help most of the children who have a fever at home"
    engine._voice.phonemize = counting
    try:
        work = {}
        for words in (200, 400):
            read.clear()
            sentence = " ".join((clause.split() * 40)[:words]) + "."
            starts = engine._word_starts(sentence)
            work[words] = sum(read)
            assert [o for o, _, _ in starts] == sorted(o for o, _, _ in starts)
            assert [(j, i) for _, j, i in starts] == sorted((j, i) for _, j, i in starts)  # in order in the audio
            assert len(starts) >= 0.8 * words  # "of the" and the like are one phoneme word
        short = " ".join(clause.split()[: piper_text.WORD_WINDOW]) + "."
        windowed = engine._word_starts(short)
    finally:
        engine._voice.phonemize = phonemize
    assert work[400] <= 2.3 * work[200], work  # twice the words, about twice the work (not four times)
    # the exact count from the sentence's start, word by word, as the window gives it
    exact = [sum(len("".join(p).split()) for p in phonemize(short[: m.start()]) if p) for m in re.finditer(r"\S+", short)]
    placed = {o for o, _, _ in windowed}
    offsets = [m.start() for m in re.finditer(r"\S+", short)]
    kept = [offsets[k] for k in range(len(offsets)) if k + 1 == len(offsets) or exact[k + 1] != exact[k]]
    assert sorted(placed) == kept


def test_the_same_samples_on_one_thread_as_on_every_core():
    """A text's parts are read and decoded on the engine's threads in whatever order they finish;
    the samples and the word starts are the same with one thread (a build's worker) as with every
    core (``say``), for the plain voice and a shifted one."""
    import os

    from audiofeed.speech import engine as speech
    from audiofeed.speech.piper_engine import PiperEngine

    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two cores to compare one thread with several")
    text = ("Fevers in children are common, and most are caused by viruses that the body fights off within a few days. "
            "Give plenty of fluids, and dress the child lightly. See a doctor if the fever lasts more than three days, "
            "if the child is unusually drowsy, or if a rash appears that does not fade when pressed.")
    one, every = PiperEngine(), PiperEngine()
    speech.share_cores(len(os.sched_getaffinity(0)))  # as a build's workers, one a core
    try:
        alone = {v: one.speak(text, v, 170) for v in ("joe", "joe+1.7")}
    finally:
        speech.share_cores(1)
    spread = {v: every.speak(text, v, 170) for v in ("joe", "joe+1.7")}
    assert (one._workers, every._workers) == (1, min(len(os.sched_getaffinity(0)), 4))
    for voice in alone:
        assert alone[voice].samples.tobytes() == spread[voice].samples.tobytes(), voice
        assert alone[voice].words == spread[voice].words and alone[voice].sentences == spread[voice].sentences


def median_f0(samples: np.ndarray, rate: int, fmin: int = 50, fmax: int = 400) -> float:
    """Median pitch of the voiced 40 ms frames (YIN: the first dip of the cumulative mean
    normalized difference under 0.15)."""
    x = samples.astype(np.float64) / 32768
    n, tmin, tmax, f0 = int(0.04 * rate), rate // fmax, rate // fmin, []
    lags = np.arange(1, tmax + 1)
    for start in range(0, len(x) - n - tmax, n // 2):
        frame = x[start : start + n]
        if np.sqrt(np.mean(frame**2)) < 0.02:
            continue
        d = np.array([np.sum((frame - x[start + t : start + t + n]) ** 2) for t in lags])
        cmnd = d * lags / np.maximum(np.cumsum(d), 1e-12)
        below = np.flatnonzero(cmnd[tmin - 1 :] < 0.15)
        if len(below):
            t = tmin - 1 + below[0]
            while t + 1 < len(cmnd) and cmnd[t + 1] < cmnd[t]:
                t += 1
            f0.append(rate / (t + 1))
    return float(np.median(f0))


def test_the_palette_rises_in_pitch_step_by_step_and_keeps_the_plain_voices_length():
    """The voices doctors are given: small upward shifts (docs/voices.md), each audibly higher than
    the one before (median pitch at least 0.4 semitone up), all exactly as long as the plain voice."""
    from audiofeed.speech.engine import engine_for
    from audiofeed.speech.pacing import CALIBRATION_TEXT

    engine = engine_for("piper")
    speech = {v: engine.speak(CALIBRATION_TEXT, v, 175) for v in engine.palette()}
    assert list(speech) == ["joe", "joe+0.6", "joe+1.15", "joe+1.7"]
    assert len({len(s.samples) for s in speech.values()}) == 1  # a shift never changes the length
    pitch = [12 * np.log2(median_f0(s.samples, s.sample_rate)) for s in speech.values()]
    assert min(np.diff(pitch)) >= 0.4, pitch


@pytest.mark.parametrize("engine,voice", [("piper", "joe-2.2"), ("espeak", "gmw/en-gb-x-rp+f2")])
def test_say_speaks_with_each_engine(tmp_path, engine, voice):
    from mutagen.mp3 import MP3

    mp3 = tmp_path / "say.mp3"
    done = subprocess.run([sys.executable, "-m", "audiofeed", "say", "Take 2-4 mg twice a day.", "--engine", engine,
                           "--voice", voice, "-o", str(mp3), "--phonemes"], capture_output=True, text=True, timeout=300,
                          env=PIPER_ENV)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "Take 2 to 4 milligrams twice a day."
    assert len(done.stdout.splitlines()) >= 2  # the phonemes
    assert 1.0 < MP3(mp3).info.length < 6.0
    bad = subprocess.run([sys.executable, "-m", "audiofeed", "say", "Hello.", "--engine", engine, "--voice", "nobody",
                          "-o", str(mp3)], capture_output=True, text=True, timeout=300, env=PIPER_ENV)
    assert bad.returncode == 2 and "unknown" in bad.stderr and "Traceback" not in bad.stderr


def test_both_engines_in_one_serve_watch_run(tmp_path):
    """The configuration switches engines between rebuilds of one running server: no crash, and each
    rebuild speaks with the engine configured at that moment."""
    articles = tmp_path / "articles"
    articles.mkdir()
    shutil.copy(ARTICLES / "001_seasonal_flu_lead_only.txt", articles)
    config = tmp_path / "audiofeed.toml"
    config.write_text('[speech]\nengine = "espeak"\n')
    out = tmp_path / "out"
    assert build(articles, out, "--config", str(config)).code == 0
    assert records(out)[0]["answers"][0]["engine"] == "espeak"
    page = articles / "001_seasonal_flu_lead_only.txt"
    with serving(out, "--watch", "--articles", str(articles), "--config", str(config), env=PIPER_ENV) as (url, proc):
        config.write_text('[speech]\nengine = "piper"\n')
        _edit(page, "How long is a person", "For how long is a person", tmp_path)
        assert max(_pages_rebuilt(proc)) == 1
        assert records(out)[0]["answers"][0]["engine"] == "piper"
        config.write_text('[speech]\nengine = "espeak"\n')
        _edit(page, "For how long is a person", "How long is a person", tmp_path)
        assert max(_pages_rebuilt(proc)) == 1
        assert records(out)[0]["answers"][0]["engine"] == "espeak"
        resp, _ = request(url, path="/feed.xml")
        assert resp.status == 200
        assert proc.poll() is None  # alive after both switches: no crash (a segfault would have ended it)
