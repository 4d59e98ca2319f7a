"""Speech: pyttsx3 on espeak-ng, reliable and reproducible across many utterances and under load."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from audiofeed.speech import espeak_driver
from audiofeed.read import read_page
from audiofeed.speech.espeak_engine import EspeakEngine
from audiofeed.speech.voices import assign_voices
from audiofeed.speech.engine import engine_for

VOICE_PALETTE = EspeakEngine.PALETTE

from .conftest import ARTICLES

TEXT = "Kidney cancer is a malignant tumor of the renal parenchymal tissue. Some patients do not have specific symptoms."
VOICES = ["gmw/en-us+m1", "gmw/en-gb-x-rp+f2", "gmw/en-029+m3"]
RATES = [100, 150, 200, 240]

REFERENCE = """
import hashlib, json, sys
from audiofeed.speech.engine import engine_for
voice, rate, text = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = engine_for().speak(text, voice, rate)
print(json.dumps([len(s.samples), hashlib.sha256(s.samples.tobytes()).hexdigest()]))
"""


def fresh_process_render(voice: str, rate: int, text: str = TEXT) -> tuple[int, str]:
    """The utterance as the first and only one of a brand-new process."""
    out = subprocess.run([sys.executable, "-c", REFERENCE, voice, str(rate), text],
                         capture_output=True, text=True, check=True).stdout
    n, digest = json.loads(out.strip().splitlines()[-1])
    return n, digest


@pytest.fixture(scope="module")
def references() -> dict[tuple[str, int], tuple[int, str]]:
    return {(v, r): fresh_process_render(v, r) for v in VOICES for r in RATES}


def test_engine_is_the_wheel_library_not_a_binary():
    engine_for()
    maps = Path("/proc/self/maps").read_text()
    assert espeak_driver.library_path().rsplit("/", 1)[0] in maps
    assert "libespeak-ng.so" in maps


def test_120_utterances_alternating_rates_and_voices(references):
    """The three defects of pyttsx3's espeak driver would show here: a first call with no
    audio, a stale rate (wrong length), or a stale voice (wrong samples)."""
    s = engine_for()
    combos = [(v, r) for r in RATES for v in VOICES]
    checked = 0
    for i in range(120):
        voice, rate = combos[(i * 5) % len(combos)]  # every step changes voice and rate
        speech = s.speak(TEXT, voice, rate)
        assert (len(speech.samples), hashlib.sha256(speech.samples.tobytes()).hexdigest()) == references[(voice, rate)], (i, voice, rate)
        checked += 1
    assert checked == 120
    lengths = {r: references[(VOICES[0], r)][0] for r in RATES}
    assert lengths[100] > lengths[150] > lengths[200] > lengths[240]  # the rate is honoured
    assert len({references[(v, 150)][1] for v in VOICES}) == len(VOICES)  # so is the voice


def test_reproducible_under_cpu_load(references):
    burners = [subprocess.Popen([sys.executable, "-c", "import time\nprint('burning', flush=True)\nt=time.time()\n"
                                 "while time.time()-t<60: pass"], stdout=subprocess.PIPE, text=True)
               for _ in range(3)]
    try:
        for b in burners:
            assert b.stdout.readline().strip() == "burning"  # the load is on before speaking starts
        s = engine_for()
        for voice in VOICES:
            for rate in (100, 240):
                speech = s.speak(TEXT, voice, rate)
                assert (len(speech.samples), hashlib.sha256(speech.samples.tobytes()).hexdigest()) == references[(voice, rate)]
    finally:
        for b in burners:
            b.kill()
            b.wait()


def test_sentence_events_have_sample_positions():
    speech = engine_for().speak("First sentence here. Second one follows.", VOICES[0], 175)
    assert [s.offset for s in speech.sentences] == [0, 21]
    assert 0 == speech.sentences[0].sample < speech.sentences[1].sample < len(speech.samples)


def test_unknown_voice_is_refused_clearly():
    with pytest.raises(ValueError, match="unknown espeak-ng voice"):
        engine_for().speak("Hello.", "en-klingon", 175)


def test_palette_voices_all_exist():
    ids = set(engine_for().voices())
    assert all(v.split("+")[0] in ids for v in VOICE_PALETTE)


def test_each_doctor_a_distinct_stable_voice():
    pages = [read_page(p) for p in sorted(ARTICLES.glob("*.txt"))]
    voices = assign_voices([p.doctors for p in pages])
    for page in pages:
        assert len({voices[d] for d in page.doctors}) == len(page.doctors), page.title
    again = assign_voices([p.doctors for p in reversed(pages)])
    assert again == voices  # order of pages does not matter


PURE_FIRST = """
import ctypes, hashlib, json, sys
import espeakng_loader
ctypes.CDLL(espeakng_loader.get_library_path(), mode=ctypes.RTLD_GLOBAL)
from pyttsx3.drivers import _espeak
from audiofeed.speech import espeak_driver
_espeak.Initialize(_espeak.AUDIO_OUTPUT_SYNCHRONOUS, 20, espeakng_loader.get_data_path().encode(), 0)
pcm, _ = espeak_driver._render(sys.argv[3], {"voice": sys.argv[1], "rate": int(sys.argv[2]), "volume": 1.0, "pitch": 50})
print(json.dumps([len(pcm) // 2, hashlib.sha256(pcm).hexdigest()]))
"""


def test_every_utterance_equals_the_first_of_a_fresh_engine():
    """Our isolated rendering gives what a brand-new espeak gives for its very first utterance."""
    s = engine_for()
    s.speak("Warm the engine up with something else first.", VOICES[1], 300)
    for voice, rate in ((VOICES[0], 175), (VOICES[1], 110), (VOICES[2], 230)):
        out = subprocess.run([sys.executable, "-c", PURE_FIRST, voice, str(rate), TEXT],
                             capture_output=True, text=True, check=True).stdout
        expected = tuple(json.loads(out.strip().splitlines()[-1]))
        speech = s.speak(TEXT, voice, rate)
        assert (len(speech.samples), hashlib.sha256(speech.samples.tobytes()).hexdigest()) == expected
