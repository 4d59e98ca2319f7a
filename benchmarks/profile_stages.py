"""Where a clean build's time goes, stage by stage, in seconds per minute of audio.

Runs every stage of a clean build of ARTICLES in this one process, one answer after another, and
times each stage with the wall clock of an otherwise idle process (single-threaded, so that is
its CPU time; synthesis runs in a forked child, which the parent waits for). Prints one row per
stage: seconds in all, and seconds per minute of published audio.

Usage: python benchmarks/profile_stages.py [ARTICLES] [--rounds 3]   (the median round is printed)
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from audiofeed import builder
from audiofeed.channel import Channel
from audiofeed.encoding import OUTPUT_RATE, content_samples, encode, frames_for_content, resample
from audiofeed.fitting import fit_to_runtime, pad_to
from audiofeed.loudness import integrated_loudness, normalize
from audiofeed.pacing import shipped_models
from audiofeed.reading import find_pages, read_page
from audiofeed.speech import SAMPLE_RATE, assign_voices, speaker
from audiofeed.transcripts import sentence_cues

HERE = Path(__file__).resolve().parent


def one_round(articles: Path) -> tuple[dict[str, float], float, int, int]:
    times: dict[str, float] = defaultdict(float)
    clock = time.perf_counter

    def timed(stage, fn, *args, **kwargs):
        start = clock()
        result = fn(*args, **kwargs)
        times[stage] += clock() - start
        return result

    start = clock()
    pages = [read_page(p) for p in find_pages(articles)]
    times["read pages"] += clock() - start
    b = builder._Build(builder.BuildOptions(articles=articles), None, None)
    b.voices = assign_voices([p.doctors for p in pages])
    models = shipped_models()
    speak = speaker().speak
    syntheses = 0

    def synthesize(text, voice, rate):
        nonlocal syntheses
        syntheses += 1
        start = clock()
        speech = speak(text, voice, rate)
        times["synthesis"] += clock() - start
        return speech

    audio_seconds, episodes, answers = 0.0, [], 0
    for page in pages:
        jobs = timed("plan rates", b.plan, page, models)
        audio = {}
        for job in jobs:
            answers += 1
            if job.target_frames is None:
                speech = synthesize(job.text, job.voice, job.rate)
                frames = frames_for_content(len(speech.samples))
                if content_samples(frames) < len(speech.samples):
                    frames += 1
                fitted = timed("fit (silence edits)", pad_to, speech, content_samples(frames))
            else:
                start = clock()
                before = times["synthesis"]
                fitted = fit_to_runtime(lambda r: synthesize(job.text, job.voice, r),
                                        content_samples(job.target_frames), job.band, job.rate)
                times["fit (silence edits)"] += clock() - start - (times["synthesis"] - before)
            loud = timed("levelling", integrated_loudness, fitted.samples.astype(np.float32) / np.float32(32768),
                         SAMPLE_RATE)
            x48 = timed("resample (soxr)", resample, fitted.samples)
            levelled = timed("levelling", normalize, x48, OUTPUT_RATE, loud)
            mp3 = timed("encode (LAME)", encode, levelled.samples)
            cues = timed("transcript timing", sentence_cues, job.text, fitted.sentences, fitted.samples, job.speaker,
                         job.display, job.offsets)
            audio[job.index] = builder.AnswerAudio(mp3=mp3, rate=fitted.rate, silence_added=fitted.silence_added,
                                                   speech_seconds=fitted.speech_seconds, needed_rate=fitted.needed_rate,
                                                   cues=tuple(cues), loudness=levelled.loudness,
                                                   true_peak=levelled.true_peak, passes=fitted.passes)
            audio_seconds += len(mp3) / 192 * 0.024
        from audiofeed.episode import make_episode
        from audiofeed.site import render_page

        made = timed("tags, chapters, transcripts", make_episode, page, audio, album="a", publisher="p",
                     cover=b"", base_url="http://x/")
        timed("player page", render_page, Channel(), made.episode, made.sections)
        episodes.append(made.episode)
    from audiofeed.publishing import answers_feed, episodes_feed

    timed("feeds", lambda: (answers_feed(Channel(), episodes), episodes_feed(Channel(), episodes)))
    return dict(times), audio_seconds, syntheses, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("articles", type=Path, nargs="?", default=HERE.parent / "articles")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    speaker()  # the engine starts once, outside the figures
    rounds = [one_round(args.articles) for _ in range(args.rounds)]
    minutes = rounds[0][1] / 60
    print(f"{args.articles}: {rounds[0][3]} answers, {minutes:.2f} min of audio, {rounds[0][2]} syntheses "
          f"(median of {args.rounds} rounds)\n")
    print("| stage | seconds | seconds per minute of audio |")
    print("|---|---|---|")
    stages = list(rounds[0][0])
    total = 0.0
    for stage in stages:
        seconds = statistics.median(r[0].get(stage, 0.0) for r in rounds)
        total += seconds
        print(f"| {stage} | {seconds:.3f} | {seconds / minutes:.3f} |")
    print(f"| all | {total:.3f} | {total / minutes:.3f} |")


if __name__ == "__main__":
    main()
