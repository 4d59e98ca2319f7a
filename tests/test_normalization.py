"""Speech normalization: written health text -> what is said, from a table of cases kept as data
(as podcastparser keeps its cases), then end to end through the engine and a build."""

from __future__ import annotations

from pathlib import Path

import pytest

from audiofeed.speech.verbalize import normalize
from audiofeed.speech.lexicon import Lexicon

CASES = [line.split("\t") for line in (Path(__file__).parent / "data" / "normalization.tsv").read_text().splitlines()
         if line and not line.startswith("#")]


@pytest.mark.parametrize("written, spoken", CASES, ids=[c[0][:40] for c in CASES])
def test_written_is_said_as_a_clinician_would(written, spoken):
    said, offsets = normalize(written)
    assert said == (written if spoken == "=" else spoken)
    # every realign point maps back inside the written text, in order
    assert [w for _, w in offsets] == sorted(w for _, w in offsets) and all(0 <= w <= len(written) for _, w in offsets)


def test_the_written_text_is_found_again_from_any_spoken_offset():
    written = "Keep it ≤ 140 mmHg, i.e. take 2 mg b.i.d.; stage II disease affects 1/3 of adults."
    said, offsets = normalize(written)
    for word in ("take", "disease", "affects", "adults"):
        assert Lexicon.to_display(offsets, said.index(word)) == written.index(word), word


def test_the_producers_lexicon_wins():
    written = "Take 5 mg, then a CT scan."
    lexicon = Lexicon({"mg": "milligram", "CT": "C T"})
    said, _ = normalize(written, lexicon.spans(written))
    assert said == written  # "mg" is the producer's to say: the defaults leave it
    assert lexicon.apply(said)[0] == "Take 5 milligram, then a C T scan."


HEALTH_PAGE = """\
---
title: How is a kidney stone treated?
date: 2025-06-01
doctor: Ana Pereira
specialty: Urology
answers:
  - question: What dose is usual?
    doctor: Tomas Novak
    specialty: Nephrology
    runtime: 30sec
---

Stones of 2-4 mm usually pass on their own within 1–3 weeks. Drink 2-3 L of water a day, i.e. about
8 glasses, and take 400mg of ibuprofen t.i.d. for pain. About 1/3 of patients need no other treatment.

## What dose is usual?

For stage II or III kidney disease the dose is lower, e.g. 5 mg/kg. Keep your blood pressure ≤ 130/80 mmHg
and your pulse between 60–100 bpm. A fever of ≥ 38.5 °C needs a doctor the same day.
"""


def phonemes_of(words: str) -> str:
    from audiofeed.speech.engine import engine_type, engine_for

    return engine_for().phonemes(words, engine_type().palette()[0]).replace("\n", " ")


def test_a_built_page_full_of_health_text_is_said_without_dash_slash_or_roman(tmp_path):
    import json
    import re

    from .conftest import run_build

    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "stones.md").write_text(HEALTH_PAGE)
    out = tmp_path / "out"
    run = run_build(articles, out)
    assert run.code == 0, run.stderr
    record = json.loads((out / "stones" / "build.json").read_text())
    spoken = " ".join(a["spoken"] for a in record["answers"])
    assert "2 to 4 millimeters" in spoken and "twice" not in spoken and "three times a day" in spoken
    assert "stage 2 or 3" in spoken and "130 over 80 millimeters of mercury" in spoken and "a third of" in spoken
    said = phonemes_of(spoken)
    for word in ("dash", "slash", "roman", "per cent sign"):
        assert phonemes_of(word) not in said, word
    assert not re.search(r"\b(?:'Em dZ'i:|s'i: 'Em|'Em 'Em)\b", said)  # no "M G", "C M", "M M" letter by letter
    # what people read stays as written, and every runtime is still met
    vtt = (out / "stones" / "answer-01.vtt").read_text()
    assert "stage II or III" in vtt and "5 mg/kg" in vtt and "≤ 130/80 mmHg" in vtt
    assert "2-4 mm" in (out / "stones" / "answer-00.vtt").read_text()
    assert record["answers"][1]["duration_ms"] == pytest.approx(30_000, abs=12)


def test_say_prints_the_spoken_text_its_phonemes_and_renders_an_mp3(tmp_path):
    import subprocess
    import sys

    from mutagen.mp3 import MP3

    (tmp_path / "audiofeed.toml").write_text('[lexicon]\n"CT" = "C T"\n')
    mp3 = tmp_path / "say.mp3"
    run = subprocess.run([sys.executable, "-m", "audiofeed", "say", "A 2-4 cm mass on CT, stage III.", "--phonemes",
                          "-o", str(mp3), "--voice", "gmw/en-gb-x-rp+f2", "--articles", str(tmp_path / "articles")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "A 2 to 4 centimeter mass on C T, stage 3."
    said = "\n".join(lines[1:])  # espeak-ng's phonemes, in the British voice asked for
    assert "s'EntIm" in said and phonemes_of("dash") not in said and "r'oUm" not in said
    assert 2 < MP3(mp3).info.length < 10
    off = tmp_path / "off"
    off.mkdir()
    (off / "audiofeed.toml").write_text("[speech]\nnormalize = false\n")
    run = subprocess.run([sys.executable, "-m", "audiofeed", "say", "A 2-4 cm mass.", "--articles", str(off / "articles")],
                         capture_output=True, text=True, timeout=120)
    assert run.stdout.strip() == "A 2-4 cm mass."
