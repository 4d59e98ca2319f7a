"""Producer benchmarks on N reproducible synthetic pages: clean build, no-change rebuild,
one-edit rebuild, feed sizes, throughput per worker core, -j scaling, and peak memory.

Each figure is a separate `audiofeed build` process, timed from outside; peak memory is the
largest resident set of the build and its workers (ru_maxrss of the children; with --scheduler
the workers are elsewhere). Pages are short (three answers of 6-16 s) so that N = 1000 stays a
practical run on 2 cores. Throughput is the clean build's answers and minutes of audio per
second, per worker core (the local pool's cores, or --threads for a cluster).

Usage: python benchmarks/bench_scale.py [--sizes 10 100 1000] [--scaling-size 100 | --no-scaling]
                                        [--max-items 300] [--scheduler tcp://HOST:PORT --threads N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SENTENCES = [
    "Most patients recover fully with rest and fluids.",
    "Symptoms usually improve within a week.",
    "See a doctor if the pain keeps getting worse.",
    "Regular follow-up visits help to catch problems early.",
    "A balanced diet and enough sleep support recovery.",
    "Some people need medicine for a short time.",
    "Blood tests can confirm the diagnosis.",
    "Gentle exercise is usually safe once the fever has gone.",
    "Drink water often, especially in hot weather.",
    "Avoid smoking, which slows healing.",
]
DOCTORS = [("Ana Pereira", "Cardiology"), ("Tomas Novak", "Neurology"), ("Li Wei", "Dermatology"),
           ("Sara Okafor", "Pediatrics"), ("Jonas Berg", "Urology"), ("Maya Cohen", "Oncology"),
           ("Ravi Shah", "Nephrology"), ("Elena Rossi", "Radiology")]


def synthetic_page(i: int) -> str:
    """Page ``i``, the same every time: a lead answer and two other voices, at natural rates."""
    rng = random.Random(i)
    doctors = rng.sample(DOCTORS, 3)

    def text(n):
        return " ".join(rng.choice(SENTENCES) for _ in range(n))

    blocks = []
    for (doctor, specialty), n in zip(doctors[1:], (rng.randint(2, 3), rng.randint(3, 5))):
        body = text(n)
        seconds = round(len(body.split()) / 2.4) + 3  # about 150 wpm, question included
        blocks.append(f"doctor image\nhome-news-image\nWritten by {doctor}\n{specialty}\n{seconds}sec home-news-image\n\n"
                      f"Question {i} for {doctor}?\n\n{body}\n")
    lead, specialty = doctors[0]
    return (f"Synthetic question number {i}?\n\nWritten by {lead}\n{specialty}\nUpdated on March {1 + i % 28}, 2025\n"
            f"00:00\n00:00\n\n{text(2)}\n\nOther Voices\n\n" + "\n".join(blocks))


def make_articles(folder: Path, n: int) -> None:
    folder.mkdir(parents=True)
    for i in range(n):
        (folder / f"page_{i:04d}.txt").write_text(synthetic_page(i))


def run(articles: Path, output: Path, *args: str) -> tuple[float, float]:
    """(seconds, peak RSS in MB of this run's processes)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "audiofeed", "build", str(articles), "-o", str(output), *args],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"build failed:\n{proc.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before) / 1024


def feed_sizes(out: Path) -> str:
    """feed.xml and answers.xml: bytes, gzipped bytes and items."""
    parts = []
    for name in ("feed.xml", "answers.xml"):
        data = (out / name).read_bytes()
        parts.append(f"{name} {len(data) / 1e6:.2f} MB ({len(gzip.compress(data)) / 1e6:.2f} MB gzipped, "
                     f"{data.count(b'<item>')} items)")
    return "; ".join(parts)


def audio_made(out: Path) -> tuple[int, float]:
    """(answers, seconds of answer audio) published in ``out``, from the pages' records."""
    answers, seconds = 0, 0.0
    for record in out.glob("*/build.json"):
        for a in json.loads(record.read_text())["answers"]:
            answers, seconds = answers + 1, seconds + a["duration_ms"] / 1000
    return answers, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--scaling-size", type=int, default=100)
    parser.add_argument("--no-scaling", action="store_true", help="skip the -j 1 / -j 2 comparison")
    parser.add_argument("--max-items", type=int, default=0, help="also rebuild with this feed item limit")
    parser.add_argument("--scheduler", help="render on this dask scheduler")
    parser.add_argument("--threads", type=int, default=0, help="the cluster's worker threads, for throughput")
    args = parser.parse_args()
    extra = ["--scheduler", args.scheduler] if args.scheduler else []
    cores = args.threads or len(os.sched_getaffinity(0))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            articles, out = Path(tmp, f"articles{n}"), Path(tmp, f"out{n}")
            make_articles(articles, n)
            cache = Path(tmp, f"cache{n}")
            clean, mem = run(articles, out, "--cache", str(cache), *extra)
            answers, seconds = audio_made(out)
            print(f"N={n}: clean {clean:.1f} s: {answers} answers, {seconds / 60:.1f} min of audio; per worker core "
                  f"{answers / clean / cores:.2f} answers/s and {seconds / 60 / clean / cores:.3f} min of audio/s "
                  f"({cores} cores)", flush=True)
            print(f"N={n}: {feed_sizes(out)}", flush=True)
            nochange, _ = run(articles, out, "--cache", str(cache), *extra)
            page = articles / "page_0000.txt"
            before = page.read_text()
            page.write_text(before.replace("Question 0 for", "Edited question 0 for", 1))  # one answer's text
            assert page.read_text() != before
            oneedit, _ = run(articles, out, "--cache", str(cache), *extra)
            rows.append((n, clean, nochange, oneedit, mem))
            print(f"N={n}: clean {clean:.1f} s, no-change {nochange:.2f} s, one edit {oneedit:.2f} s, "
                  f"peak RSS {mem:.0f} MB", flush=True)
            if args.max_items:
                limited, _ = run(articles, out, "--cache", str(cache), "--max-items", str(args.max_items), *extra)
                print(f"N={n} --max-items {args.max_items}: rebuild {limited:.2f} s; {feed_sizes(out)}", flush=True)
            shutil.rmtree(out)
            shutil.rmtree(cache)
        if args.no_scaling:
            return
        n = args.scaling_size
        articles = Path(tmp, f"articles{n}")
        if not articles.exists():
            make_articles(articles, n)
        times = {1: [], 2: []}
        for jobs in (1, 2, 2, 1):  # alternating, best of two: the machine's noise hits both alike
            out, cache = Path(tmp, f"scale{jobs}"), Path(tmp, f"scalecache{jobs}")
            elapsed, _ = run(articles, out, "-j", str(jobs), "--cache", str(cache))
            times[jobs].append(elapsed)
            print(f"N={n} -j {jobs}: {elapsed:.1f} s", flush=True)
            shutil.rmtree(out)
            shutil.rmtree(cache)
        times = {j: min(t) for j, t in times.items()}
    print("\n| pages | clean build | no-change rebuild | one-edit rebuild | peak memory |")
    print("|---|---|---|---|---|")
    for n, clean, nochange, oneedit, mem in rows:
        print(f"| {n} | {clean:.1f} s | {nochange:.2f} s | {oneedit:.2f} s | {mem:.0f} MB |")
    print(f"\n-j 2 over -j 1 on {args.scaling_size} pages: {times[1] / times[2]:.2f}x "
          f"({times[1]:.1f} s / {times[2]:.1f} s) on {len(os.sched_getaffinity(0))} cores")


if __name__ == "__main__":
    main()
