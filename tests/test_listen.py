"""`audiofeed check --listen`: an automatic listener holds each answer to its own words.

A clean natural-voice build passes, its captions within half a second of the words heard;
speech of another answer under an answer's tags (same frame count, so every duration agrees), an
answer replaced by silence, an answer cut to half its speech and padded back to length, and
captions shifted by a second each fail, named.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from audiofeed.audio.encoding import frame_bytes
from audiofeed.check.listen import CUE_TOLERANCE
from audiofeed.timecode import npt, parse_npt_ms

from .conftest import run_build, small_articles

PIPER_ENV = {k: v for k, v in os.environ.items() if k != "AUDIOFEED_ENGINE"}  # the natural voice, the default
PAGE = "003_fever_in_children_utf8"


def listen(out: Path, articles: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "audiofeed", "check", str(out), "--articles", str(articles), "--listen",
                           *args], capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def heard_build(tmp_path_factory):
    """A clean natural-voice build of the two small pages, checked once with --listen (which
    fills the listener's cache: the spoilt copies below hear only what they changed)."""
    root = tmp_path_factory.mktemp("listen")
    articles = small_articles(root / "articles")
    out = root / "out"
    done = run_build(articles, out, "--cache", str(root / "cache"), env=PIPER_ENV)
    assert done.code == 0, done.stderr
    result = listen(out, articles, "--json")
    return articles, out, result


def spoilt(heard_build, tmp_path) -> tuple[Path, Path]:
    articles, out, _ = heard_build
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    cache = out.with_name(f".{out.name}.listen")
    if cache.is_dir():
        shutil.copytree(cache, copy.with_name(f".{copy.name}.listen"))
    return articles, copy


def split(path: Path) -> tuple[bytes, bytes]:
    from audiofeed.audio.encoding import audio_part

    data = path.read_bytes()
    frames = audio_part(data)
    return data[: len(data) - len(frames)], frames


def silent_frames(n: int) -> bytes:
    from audiofeed.audio.encoding import encode

    return encode(np.zeros((n - 2) * 1152 + 576, dtype=np.float32))


def failures(result: subprocess.CompletedProcess) -> list[str]:
    assert "Traceback" not in result.stderr, result.stderr
    return [ln for ln in result.stderr.splitlines() if "listening:" in ln]


def test_a_clean_build_passes_and_every_answer_is_heard(heard_build):
    _, out, result = heard_build
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert len(doc["answers"]) == 4
    for a in doc["answers"]:
        assert a["heard_verdict"] == "ok", a
        assert a["heard_own_wer"] < a["heard_closest_wer"], a
        assert 0.8 <= a["heard_share"] <= 1.3, a
        assert a["heard_late_share"] >= 0.25, a  # words are heard to the end of the audio
        # Every caption, those cut inside a sentence too, starts where its first word is heard.
        assert a["captions_off"] == 0 and abs(a["captions_worst_s"]) <= CUE_TOLERANCE, a
        assert a["captions_median_s"] <= 0.15, a
    assert sorted(doc["captions"]) == ["001_seasonal_flu_lead_only", PAGE]
    for timing in doc["captions"].values():  # each episode's distribution
        assert timing["cues"] > 5 and timing["off"] == 0, timing
        assert timing["median_s"] <= timing["p95_s"] <= abs(timing["worst_s"]) <= CUE_TOLERANCE, timing
        assert len(timing["each"]) == timing["cues"]  # every cue, with its start and how far off it is
        assert max(abs(c["offset_s"]) for c in timing["each"]) == abs(timing["worst_s"])


def test_another_answers_speech_under_an_answers_tags_fails(heard_build, tmp_path):
    articles, out = spoilt(heard_build, tmp_path)
    victim, donor = out / PAGE / "answer-01.mp3", out / PAGE / "answer-02.mp3"  # 19 s and 28 s
    tag, frames = split(victim)
    _, other = split(donor)
    assert len(other) > len(frames)
    victim.write_bytes(tag + other[: len(frames)])  # the same frame count: every duration agrees
    result = listen(out, articles)
    assert result.returncode == 1
    (line,) = failures(result)
    assert f"{PAGE}/answer-01.mp3" in line and "another answer's words" in line and f"{PAGE} #2" in line, line


def test_an_answer_replaced_by_silence_fails(heard_build, tmp_path):
    articles, out = spoilt(heard_build, tmp_path)
    victim = out / PAGE / "answer-02.mp3"
    tag, frames = split(victim)
    victim.write_bytes(tag + silent_frames(len(frames) // frame_bytes()))
    result = listen(out, articles)
    assert result.returncode == 1
    (line,) = failures(result)
    assert f"{PAGE}/answer-02.mp3" in line and "silent" in line, line


def test_an_answer_cut_to_half_its_speech_and_padded_back_fails(heard_build, tmp_path):
    articles, out = spoilt(heard_build, tmp_path)
    victim = out / PAGE / "answer-02.mp3"
    tag, frames = split(victim)
    n = len(frames) // frame_bytes()
    victim.write_bytes(tag + frames[: (n // 2) * frame_bytes()] + silent_frames(n - n // 2))
    result = listen(out, articles)
    assert result.returncode == 1
    (line,) = failures(result)
    assert f"{PAGE}/answer-02.mp3" in line and "truncated" in line, line


def shift_captions(path: Path, seconds: float) -> int:
    """Every timestamp of a WebVTT or SRT file moved by ``seconds``; returns how many cues."""
    stamp = re.compile(r"(\d\d:\d\d:\d\d)[.,](\d\d\d)")

    def moved(m: re.Match) -> str:
        text = npt(parse_npt_ms(f"{m[1]}.{m[2]}") / 1000 + seconds)
        return text if "." in m[0] else text.replace(".", ",")

    text = path.read_text(encoding="utf-8")
    path.write_text(stamp.sub(moved, text), encoding="utf-8")
    return text.count("-->")


def test_captions_shifted_by_a_second_fail_naming_the_answer(heard_build, tmp_path):
    articles, out = spoilt(heard_build, tmp_path)
    cues = shift_captions(out / PAGE / "answer-01.vtt", 1.0)
    shift_captions(out / PAGE / "answer-02.srt", 1.0)
    result = listen(out, articles, "--json")
    assert result.returncode == 1
    assert not failures(result)  # the audio is still each answer's own
    doc = json.loads(result.stdout)
    problems = {p["file"]: p["message"] for p in doc["problems"] if p["field"] == "caption timing"}
    assert sorted(problems) == [f"{PAGE}/answer-01.vtt", f"{PAGE}/answer-02.srt"], problems
    assert problems[f"{PAGE}/answer-01.vtt"].startswith(f"{cues} of {cues} cues start more than 0.5 s"), problems
    assert all("s late" in message for message in problems.values()), problems
    row = next(a for a in doc["answers"] if a["file"] == f"{PAGE}/answer-01.mp3")
    assert row["status"] == "mismatch" and row["captions_off"] == cues and 0.8 <= row["captions_worst_s"] <= 1.2, row
    assert doc["captions"][PAGE]["off"] == 0  # the episode's own captions were left as built


def test_an_espeak_build_is_said_to_be_beyond_the_listener(tmp_path):
    articles = small_articles(tmp_path / "articles")
    out = tmp_path / "out"
    assert run_build(articles, out, "--engine", "espeak").code == 0
    result = listen(out, articles)
    assert result.returncode == 0, result.stderr
    assert "answers spoken by espeak were not judged" in result.stderr and "Traceback" not in result.stderr


def test_the_html_report_shows_what_was_heard_beside_the_durations(heard_build, tmp_path):
    import lxml.html

    articles, out = spoilt(heard_build, tmp_path)
    victim = out / PAGE / "answer-02.mp3"
    tag, frames = split(victim)
    victim.write_bytes(tag + silent_frames(len(frames) // frame_bytes()))
    report = tmp_path / "report.html"
    result = listen(out, articles, "--html", str(report))
    assert result.returncode == 1
    doc = lxml.html.fromstring(report.read_bytes())
    assert any("heard" in th.text_content() for th in doc.iter("th"))
    cells = [td.text_content() for td in doc.iter("td")]
    assert any(c.startswith("silent ✗") for c in cells), cells
    assert sum(c.startswith("ok: ") for c in cells) == 3, cells
    assert any(c.startswith("✗ mismatch") and "heard: silent" in c for c in cells), cells  # the status says why


def test_the_html_report_marks_captions_that_are_off_on_the_timeline(heard_build, tmp_path):
    import lxml.html

    articles, out = spoilt(heard_build, tmp_path)
    cues = shift_captions(out / PAGE / "episode.vtt", 1.0)
    report = tmp_path / "report.html"
    result = listen(out, articles, "--html", str(report))
    assert result.returncode == 1 and f"{PAGE}/episode.vtt: caption timing" in result.stderr, result.stderr
    assert f"captions in time, {PAGE}: {cues} cues" in result.stdout
    doc = lxml.html.fromstring(report.read_bytes())
    ticks = doc.xpath("//svg//line[@class='off-cue']")
    assert len(ticks) == cues and all("late" in t.text_content() for t in ticks)
    legends = [p.text_content() for p in doc.xpath("//p[contains(@class, 'captions')]")]
    assert len(legends) == 2 and sum(f"{cues} more than 0.5 s off" in p for p in legends) == 1, legends


def test_ctrl_c_twice_while_listening_is_one_line_and_no_worker_traceback(heard_build, tmp_path):
    """Ctrl-C reaches the whole foreground process group, the listener's workers included: twice
    printed up to 7 worker tracebacks, or one line and then a hang on a stuck worker."""
    import signal

    from .test_nothing_lost import children

    articles, out, _ = heard_build
    copy = tmp_path / "out"
    shutil.copytree(out, copy)  # without the listener's cache: every answer is heard again
    proc = subprocess.Popen([sys.executable, "-m", "audiofeed", "check", str(copy), "--articles", str(articles), "--listen"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    while not children(proc.pid) and proc.poll() is None:  # the event: the listening workers are there
        threading.Event().wait(0.005)
    os.killpg(proc.pid, signal.SIGINT)
    os.killpg(proc.pid, signal.SIGINT)
    out_text, err_text = proc.communicate(timeout=120)  # a bound on a hang only
    assert "Traceback" not in err_text, err_text
    assert proc.returncode == 130
    assert err_text.strip().splitlines() == ["interrupted (SIGINT): stopped; nothing new was published"], err_text
