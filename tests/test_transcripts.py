"""Transcripts: one cue per sentence, each starting where that sentence's speech starts."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
import srt
import webvtt
from mutagen.id3 import ID3

from audiofeed.audio.ffmpeg import ffmpeg_exe
from audiofeed.read import read_page

from .conftest import ARTICLES

RATE = 48_000
MAX_OFFSET = 0.150  # seconds


def decode(path) -> np.ndarray:
    out = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(RATE), "-f", "s16le", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(out, np.int16).astype(np.int32)


def vtt_starts(path) -> list[tuple[float, str]]:
    def seconds(stamp):
        h, m, s = stamp.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)
    return [(seconds(c.start), c.text) for c in webvtt.read(str(path))]


def speech_onset_near(x: np.ndarray, t: float) -> float | None:
    """Where speech resumes after the pause nearest to ``t`` (within 0.3 s), in seconds."""
    lo, hi = max(0, int((t - 0.3) * RATE)), min(len(x), int((t + 0.3) * RATE))
    quiet = np.abs(x[lo:hi]) < 300
    edges = np.flatnonzero(np.diff(quiet.astype(np.int8)) == -1) + 1  # quiet -> loud
    best = None
    for e in edges:
        run = quiet[:e][::-1]
        length = len(run) if run.all() else int(np.argmin(run))
        if length >= 0.05 * RATE and (best is None or abs((lo + e) / RATE - t) < abs(best - t)):
            best = (lo + e) / RATE
    return best


def pages():
    return [read_page(p) for p in sorted(ARTICLES.glob("*.txt"))]


def test_cue_starts_are_speech_onsets(built):
    offsets = []
    for page in pages():
        for name in [f"answer-{i:02d}" for i in range(len(page.answers))] + ["episode"]:
            x = decode(built.output / page.slug / f"{name}.mp3")
            # each sentence's start (the JSON transcript's segments; the captions cut long ones further)
            cues = [(seg["startTime"], seg["body"]) for seg in
                    json.loads((built.output / page.slug / f"{name}.json").read_text())["segments"]]
            assert len(cues) >= 2
            for start, text in cues[1:]:
                onset = speech_onset_near(x, start)
                assert onset is not None, (name, start, text)
                offsets.append(abs(onset - start))
                assert abs(onset - start) <= MAX_OFFSET, (page.slug, name, start, onset, text)
                # the audio at the cue start is speech; just before it is the pause
                at = np.abs(x[int(start * RATE) : int((start + 0.12) * RATE)]).max()
                before = np.abs(x[int((start - 0.06) * RATE) : int((start - 0.02) * RATE)]).max()
                assert at > 1000 and before < 300, (name, start, at, before, text)
    assert len(offsets) > 100
    print(f"\n{len(offsets)} cues: median offset {np.median(offsets) * 1000:.1f} ms, max {max(offsets) * 1000:.1f} ms")


def test_one_segment_per_sentence_and_captions_that_follow_them(built):
    page = read_page(ARTICLES / "000_4fe75e9a818bb161.txt")
    answer = page.answers[2]
    stem = built.output / page.slug / "answer-02"
    vtt = vtt_starts(stem.with_suffix(".vtt"))
    subs = list(srt.parse(stem.with_suffix(".srt").read_text()))
    segments = json.loads(stem.with_suffix(".json").read_text())["segments"]
    # the two caption formats hold the same captions; every sentence starts one of them
    assert [round(s, 3) for s, _ in vtt] == [round(s.start.total_seconds(), 3) for s in subs]
    assert {s["startTime"] for s in segments} <= {round(s.start.total_seconds(), 3) for s in subs}
    assert " ".join(" ".join(s.content.split()) for s in subs) == " ".join(s["body"] for s in segments)
    assert segments[0]["body"] == answer.question
    assert " ".join(s["body"] for s in segments[1:]) == " ".join(answer.text.split())
    assert len(segments) == 1 + answer.text.count(". ") + 1  # one per sentence of the answer, plus the question
    assert {s["speaker"] for s in segments} == {answer.doctor}
    assert all(t.startswith(f"<v {answer.doctor}>") for _, t in vtt) or all(answer.doctor not in t for _, t in vtt)
    html = stem.with_suffix(".html").read_text()
    assert answer.question in html and answer.doctor in html and "<time" in html


def test_episode_transcript_follows_chapters(built):
    page = read_page(ARTICLES / "000_4fe75e9a818bb161.txt")
    segments = json.loads((built.output / page.slug / "episode.json").read_text())["segments"]
    tags = ID3(built.output / page.slug / "episode.mp3")
    starts = sorted(tags[k].start_time for k in tags if k.startswith("CHAP"))[1:]  # after the voice note's
    speakers = [a.doctor for a in page.answers]
    for i, (start, doctor) in enumerate(zip(starts, speakers)):
        answer_segments = json.loads((built.output / page.slug / f"answer-{i:02d}.json").read_text())["segments"]
        shifted = [s for s in segments if s["speaker"] == doctor and start / 1000 <= s["startTime"]][: len(answer_segments)]
        assert [round(s["startTime"] - start / 1000, 3) for s in shifted] == pytest.approx(
            [s["startTime"] for s in answer_segments], abs=0.002)


def test_both_feeds_reference_all_transcripts(built):
    from lxml import etree
    ns = {"podcast": "https://podcastindex.org/namespace/1.0"}
    for feed in ("feed.xml", "answers.xml"):
        for item in etree.parse(str(built.output / feed)).iterfind("channel/item"):
            refs = {t.get("type"): t for t in item.findall("podcast:transcript", ns)}
            assert set(refs) == {"text/vtt", "application/x-subrip", "text/html", "application/json"}
            assert refs["text/vtt"].get("rel") == "captions"
            for t in refs.values():
                assert (built.output / t.get("url").split("/health/", 1)[1]).is_file()
