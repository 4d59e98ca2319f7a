"""Clean build of the sample articles against the naive single pass, alternating, same run.

Each round runs, as separate processes and in alternating order, ``audiofeed build`` into an
empty folder and ``naive_pass.py`` (one pyttsx3 synthesis per answer at a fixed rate, one pydub
MP3 export each, sequential). Both pay interpreter start-up. Prints each run, the medians and
the ratio build / naive (the target is at most 0.75 on 2 cores).

Usage: python benchmarks/bench_build.py [--rounds 5] [--articles articles] [--jobs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--articles", type=Path, default=HERE.parent / "articles")
    parser.add_argument("--jobs", type=int, default=0, help="audiofeed build -j (0: all cores)")
    args = parser.parse_args()
    ours, naive = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            out_a, out_b = Path(tmp, f"build{r}"), Path(tmp, f"naive{r}")
            build_cmd = [sys.executable, "-m", "audiofeed", "build", str(args.articles), "-o", str(out_a), "-j", str(args.jobs),
                         "--cache", str(Path(tmp, f"cache{r}"))]  # a clean build: a cold cache too
            naive_cmd = [sys.executable, str(HERE / "naive_pass.py"), str(args.articles), str(out_b)]
            pair = [("build", build_cmd, ours), ("naive", naive_cmd, naive)]
            for name, cmd, times in pair if r % 2 == 0 else reversed(pair):
                times.append(timed(cmd))
                print(f"round {r + 1}: {name:5s} {times[-1]:.3f} s", flush=True)
            shutil.rmtree(out_a)
            shutil.rmtree(out_b)
    b, n = statistics.median(ours), statistics.median(naive)
    print(f"\ncores: {len(os.sched_getaffinity(0))}; articles: {args.articles}")
    print(f"audiofeed build (fit, tags, chapters, feeds): median {b:.3f} s  (min {min(ours):.3f})")
    print(f"naive single pass (no fitting, no tags):      median {n:.3f} s  (min {min(naive):.3f})")
    print(f"ratio build / naive: {b / n:.2f}")


if __name__ == "__main__":
    main()
