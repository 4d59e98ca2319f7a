"""Where a clean build's time goes, stage by stage, in seconds per minute of audio.

Plans and renders every answer of ARTICLES in this one process with the build's own functions
(``rendering.Planner.jobs`` and ``rendering.render_answer``, then the page and feed writers), one answer after
another, timing each stage they call. Single-threaded, so wall clock is CPU time; synthesis runs
in a forked child, which the process waits for. Prints one row per stage: seconds in all, and
seconds per minute of published audio.

Usage: python benchmarks/profile_stages.py [ARTICLES] [--rounds 3]   (the median round is printed)
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from pathlib import Path

from audiofeed.build import rendering
from audiofeed.channel import Channel
from audiofeed.defaults import RATE_BAND
from audiofeed.audio.encoding import FRAME_SECONDS, frame_count
from audiofeed.audio.answer import Rendered
from audiofeed.publish.episode import make_episode
from audiofeed.speech.pacing import calibrate, shipped_models
from audiofeed.publish.feeds import answers_feed, episodes_feed
from audiofeed.read import find_pages, read_page
from audiofeed.publish.site import render_page
from audiofeed.speech.lexicon import Lexicon
from audiofeed.speech.voices import assign_voices
from audiofeed.speech.engine import engine_for

HERE = Path(__file__).resolve().parent

# The functions render_answer calls, by the stage they belong to.
STAGES = {"fit_to_runtime": "fit (silence edits)", "pad_to": "fit (silence edits)",
          "integrated_loudness": "levelling", "level": "levelling", "resample": "resample (soxr)",
          "encode": "encode (LAME)", "sentence_cues": "transcript timing"}


def one_round(articles: Path) -> tuple[dict[str, float], float, int, int]:
    times: dict[str, float] = defaultdict(float)
    originals = {name: getattr(rendering, name) for name in STAGES}
    engine = engine_for()
    speak, syntheses = engine.speak, 0

    running: list[list] = []  # [stage, since]: time goes to the innermost stage (fitting's syntheses are synthesis)

    def timed(stage, fn):
        def run(*args, **kwargs):
            now = time.perf_counter()
            if running:
                times[running[-1][0]] += now - running[-1][1]
            running.append([stage, now])
            try:
                return fn(*args, **kwargs)
            finally:
                end = time.perf_counter()
                inner, since = running.pop()
                times[inner] += end - since
                if running:
                    running[-1][1] = end
        return run

    def synthesize(*args, **kwargs):
        nonlocal syntheses
        syntheses += 1
        return speak(*args, **kwargs)

    engine.speak = timed("synthesis", synthesize)
    for name, stage in STAGES.items():
        setattr(rendering, name, timed(stage, originals[name]))
    try:
        start = time.perf_counter()
        pages = [read_page(p) for p in find_pages(articles)]
        times["read pages"] += time.perf_counter() - start
        voices = assign_voices([p.doctors for p in pages])
        models = shipped_models()  # measured here for an engine the shipped table is not for
        models = {v: models.get(v) or calibrate(v) for v in set(voices.values())}
        planner = rendering.Planner(voices, Lexicon(), RATE_BAND, models)
        audio_seconds, answers, episodes = 0.0, 0, []
        for page in pages:
            jobs = timed("plan rates", planner.jobs)(page)
            outcomes = {job.index: rendering.render_answer(job) for job in jobs}
            audio = [o.audio for o in outcomes.values() if isinstance(o, Rendered)]
            answers += len(audio)
            audio_seconds += sum(frame_count(a.mp3) for a in audio) * FRAME_SECONDS
            made = timed("tags, chapters, transcripts", make_episode)(page, outcomes, album="a", publisher="p",
                                                                       cover=b"", base_url="http://x/")
            timed("player page", render_page)(Channel(), made.episode, made.sections)
            episodes.append(made.episode)
        timed("feeds", lambda: (answers_feed(Channel(), episodes), episodes_feed(Channel(), episodes)))()
    finally:
        engine.speak = speak
        for name, fn in originals.items():
            setattr(rendering, name, fn)
    return dict(times), audio_seconds, syntheses, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("articles", type=Path, nargs="?", default=HERE.parent / "articles")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    engine_for()  # the engine starts once, outside the figures
    rounds = [one_round(args.articles) for _ in range(args.rounds)]
    minutes = rounds[0][1] / 60
    print(f"{args.articles}: {rounds[0][3]} answers, {minutes:.2f} min of audio, {rounds[0][2]} syntheses "
          f"(median of {args.rounds} rounds)\n")
    print("| stage | seconds | seconds per minute of audio |")
    print("|---|---|---|")
    total = 0.0
    for stage in ("read pages", "plan rates", "synthesis", "fit (silence edits)", "levelling", "resample (soxr)",
                  "encode (LAME)", "transcript timing", "tags, chapters, transcripts", "player page", "feeds"):
        seconds = statistics.median(r[0].get(stage, 0.0) for r in rounds)
        total += seconds
        print(f"| {stage} | {seconds:.3f} | {seconds / minutes:.3f} |")
    print(f"| all | {total:.3f} | {total / minutes:.3f} |")


if __name__ == "__main__":
    main()
