"""A clean build against the naive single pass and the floor, alternating, in the same run.

Each round runs three separate processes, in an order that rotates from round to round:
- ``audiofeed build`` into an empty folder with an empty cache (a clean build: the cache is
  beside the output folder by default and would survive ``rm -rf output``, so each round gets a
  new one);
- ``naive_pass.py``: one pyttsx3 synthesis per answer at a fixed rate and one pydub MP3 export
  each, sequentially; what a user would write first;
- ``floor_pass.py``: one synthesis and one soxr + LAME encode per answer over a pool of all
  cores, nothing else; what no build with this engine and encoder can beat.

All three pay interpreter start-up. Prints every run, then medians with min-max, and the ratios
build / naive and build / floor with the min-max of the per-round ratios. The targets of issue 8:
build / naive at most 0.75 and build / floor at most 1.3, on 2 cores.

Usage: python benchmarks/bench_build.py [--rounds 5] [--articles articles] [--jobs N]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def timed(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return time.perf_counter() - start, proc.stdout


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--articles", type=Path, default=HERE.parent / "articles")
    parser.add_argument("--jobs", type=int, default=0, help="audiofeed build -j (0: all cores)")
    parser.add_argument("--engine", default="piper", help="speech engine of all three (piper or espeak)")
    args = parser.parse_args()
    os.environ["AUDIOFEED_ENGINE"] = args.engine
    times: dict[str, list[float]] = {"build": [], "naive": [], "floor": []}
    second = set()
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            out = {name: Path(tmp, f"{name}{r}") for name in times}

            commands = {
                "build": [sys.executable, "-m", "audiofeed", "build", str(args.articles), "-o", str(out["build"]),
                          "-j", str(args.jobs), "--cache", str(Path(tmp, f"cache{r}"))],
                "naive": [sys.executable, str(HERE / "naive_pass.py"), str(args.articles), str(out["naive"])],
                "floor": [sys.executable, str(HERE / "floor_pass.py"), str(args.articles), str(out["floor"])],
            }
            order = list(times)
            order = order[r % 3:] + order[: r % 3]
            for name in order:
                # Cold: the prepared Piper graphs live in the user's cache, which survives rm -rf output.
                os.environ["AUDIOFEED_MODEL_CACHE"] = str(Path(tmp, f"models{r}-{name}"))
                elapsed, stdout = timed(commands[name])
                times[name].append(elapsed)
                if name == "build":
                    m = re.search(r"\((\d+) of those rendered needed a second synthesis\)", stdout)
                    second.add(m.group(1) if m else "?")
                print(f"round {r + 1}: {name:5s} {elapsed:.3f} s", flush=True)
            for folder in out.values():
                shutil.rmtree(folder)
            shutil.rmtree(Path(tmp, f"cache{r}"))
            for name in times:
                shutil.rmtree(Path(tmp, f"models{r}-{name}"), ignore_errors=True)
    b, n, f = times["build"], times["naive"], times["floor"]
    print(f"\nengine: {args.engine}; cores: {len(os.sched_getaffinity(0))}; articles: {args.articles}; rounds: {args.rounds}")
    print(f"audiofeed build (fit, level, tags, chapters, feeds, pages): {spread(b)} s")
    print(f"naive single pass (no fitting, no tags):                    {spread(n)} s")
    print(f"floor (one synthesis + one encode per answer, a pool):      {spread(f)} s")
    print(f"build / naive: {statistics.median(b) / statistics.median(n):.2f} "
          f"(per round {min(x / y for x, y in zip(b, n)):.2f}-{max(x / y for x, y in zip(b, n)):.2f})")
    print(f"build / floor: {statistics.median(b) / statistics.median(f):.2f} "
          f"(per round {min(x / y for x, y in zip(b, f)):.2f}-{max(x / y for x, y in zip(b, f)):.2f})")
    print(f"answers needing a second synthesis in the build: {', '.join(sorted(second))}")


if __name__ == "__main__":
    main()
