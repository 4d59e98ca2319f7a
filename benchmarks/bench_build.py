"""A clean build against the naive single pass and the true floor, alternating, in the same run.

Each round runs three separate processes, in an order that rotates from round to round:
- ``audiofeed build`` into an empty folder with an empty cache (a clean build: the cache is
  beside the output folder by default and would survive ``rm -rf output``, so each round gets a
  new one);
- ``naive_pass.py``: one synthesis per answer at the voice's own pace and one pydub MP3 export
  each, sequentially, through the engine's own API; what a user would write first;
- ``floor_pass.py``: stock Piper (piper-tts's ``PiperVoice`` with its defaults, one process per
  core) speaking each answer's text at the pace the build chose, and one soxr + LAME encode per
  answer, nothing else; what no build with this model and encoder can beat. Its texts and paces
  come from one reference build made before the rounds (not timed).

The Piper graphs audiofeed prepares from the model live in the user's cache (made once per
machine and model, like an install); ``--cold-model`` gives each build a fresh one, so that each
build pays for preparing them too.

Each run is timed from outside in a process of its own: wall time, CPU (user and system apart)
of the command and all its children, and the peak memory of the largest single process
(``ru_maxrss`` of the children). Prints every run, then medians with min-max, and the ratios
build / naive and build / floor with the min-max of the per-round ratios.

Usage: python benchmarks/bench_build.py [--rounds 5] [--articles articles] [--jobs N] [--cold-model]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from measure import measured, spread  # noqa: E402

FIGURES = ("wall", "user", "sys", "peak")

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--articles", type=Path, default=HERE.parent / "articles")
    parser.add_argument("--jobs", type=int, default=0, help="audiofeed build -j (0: all cores)")
    parser.add_argument("--cold-model", action="store_true", help="each build prepares the Piper graphs anew")
    parser.add_argument("--only", nargs="+", default=["build", "naive", "floor"], help="which of the three to run")
    args = parser.parse_args()
    env = dict(os.environ, AUDIOFEED_ENGINE="piper")
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in args.only}
    with tempfile.TemporaryDirectory() as tmp:
        reference = Path(tmp, "reference")
        subprocess.run([sys.executable, "-m", "audiofeed", "build", str(args.articles), "-o", str(reference),
                        "--cache", str(Path(tmp, "reference-cache"))], check=True, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for r in range(args.rounds):
            out = {name: Path(tmp, f"{name}{r}") for name in runs}
            commands = {
                "build": [sys.executable, "-m", "audiofeed", "build", str(args.articles), "-o", str(out.get("build")),
                          "-j", str(args.jobs), "--cache", str(Path(tmp, f"cache{r}"))],
                "naive": [sys.executable, str(HERE / "naive_pass.py"), str(args.articles), str(out.get("naive"))],
                "floor": [sys.executable, str(HERE / "floor_pass.py"), str(reference), str(out.get("floor"))],
            }
            order = list(runs)
            order = order[r % len(order):] + order[: r % len(order)]
            for name in order:
                run_env = dict(env)
                if args.cold_model and name == "build":
                    run_env["AUDIOFEED_MODEL_CACHE"] = str(Path(tmp, f"models{r}"))
                figures = measured(commands[name], run_env)
                runs[name].append(figures)
                print(f"round {r + 1}: {name:5s} wall {figures['wall']:.2f} s, user {figures['user']:.2f} s, "
                      f"sys {figures['sys']:.2f} s, largest process {figures['peak']:.0f} MB", flush=True)
                shutil.rmtree(out[name], ignore_errors=True)
            shutil.rmtree(Path(tmp, f"cache{r}"), ignore_errors=True)
            shutil.rmtree(Path(tmp, f"models{r}"), ignore_errors=True)
    print(f"\ncores: {len(os.sched_getaffinity(0))}; articles: {args.articles}; rounds: {args.rounds}; "
          f"Piper graphs: {'prepared by each build' if args.cold_model else 'prepared once'}")
    print("| run | wall s | user s | sys s | largest process MB |")
    print("|---|---|---|---|---|")
    for name, rows in runs.items():
        print(f"| {name} | " + " | ".join(spread([row[f] for row in rows], "{:.0f}" if f == "peak" else "{:.2f}")
                                          for f in FIGURES) + " |")
    if "build" in runs:
        for other in (o for o in ("floor", "naive") if o in runs):
            for figure in ("wall", "cpu"):
                def value(row: dict[str, float]) -> float:
                    return row["user"] + row["sys"] if figure == "cpu" else row[figure]
                b, o = [value(row) for row in runs["build"]], [value(row) for row in runs[other]]
                ratios = [x / y for x, y in zip(b, o)]
                print(f"build / {other} ({figure}): {statistics.median(b) / statistics.median(o):.2f} "
                      f"(per round {min(ratios):.2f}-{max(ratios):.2f})")


if __name__ == "__main__":
    main()
