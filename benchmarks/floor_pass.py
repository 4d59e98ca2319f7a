"""The floor under any build: per answer, one synthesis through audiofeed's speaker and one encode
to the published format (soxr to 48 kHz, LAME quality 7, 64 kbit/s CBR), over a process pool of
all cores. Nothing else: no fitting, levelling, tags, chapters, transcripts, feeds or pages.

A build cannot cost less than this with the same engine and encoder; ``bench_build.py`` times it
beside the build and the naive pass.

The engine is the default (Piper) unless ``$AUDIOFEED_ENGINE`` names another, as for a build.

Usage: python benchmarks/floor_pass.py ARTICLES OUTPUT
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from audiofeed.audio.encoding import encode, resample
from audiofeed.read import find_pages, read_page
from audiofeed.speech.engine import engine_for, engine_type
from audiofeed.speech.lexicon import spoken_text

VOICE = engine_type().palette()[0]
RATE = engine_type().DEFAULT_RATE


def render(job: tuple[str, Path]) -> None:
    text, path = job
    speech = engine_for().speak(text, VOICE, RATE)
    path.write_bytes(encode(resample(speech.samples, speech.sample_rate)))


def main(articles: Path, output: Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    jobs = []
    for path in find_pages(articles):
        page = read_page(path)
        for i, answer in enumerate(page.answers):
            jobs.append((spoken_text(answer.question, answer.text)[0], output / f"{page.slug}-{i:02d}.mp3"))
    jobs.sort(key=lambda j: -len(j[0]))  # longest first, as the build schedules
    with ProcessPoolExecutor(len(os.sched_getaffinity(0)), mp_context=multiprocessing.get_context("fork")) as pool:
        list(pool.map(render, jobs))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
