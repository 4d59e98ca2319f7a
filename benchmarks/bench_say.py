"""``audiofeed say`` of one answer against stock Piper speaking the same text at the same pace.

Three separate processes a round, in an order that rotates from round to round:
- ``say, 1 core``: ``audiofeed say TEXT -o x.mp3 --rate RATE`` held to one core (the text as a
  build speaks it: normalized, sentence by sentence, levelled and encoded);
- ``stock, 1 core``: piper-tts's own ``PiperVoice`` with its defaults (``floor_pass.py``'s
  ``render``: one synthesis at length scale 175 / RATE, one soxr + LAME encode), held to the same core;
- ``say, all cores``: ``audiofeed say`` again with every core (one long answer spreads its parts
  over them).

Each run is timed from outside in a process of its own (wall, CPU user and system, peak memory).
Prints medians with min-max and the ratios say / stock (CPU, one core) and all cores / one core (wall).
The text is answer ``--answer`` of the seed page (its 71 s answer by default).

Usage: python benchmarks/bench_say.py [--rounds 5] [--rate 160] [--answer 1] [--page PATH]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from measure import measured, spread  # noqa: E402

SEED = HERE.parent / "articles" / "000_4fe75e9a818bb161.txt"

STOCK = """import sys
sys.path.insert(0, sys.argv[1])
from floor_pass import render
render((open(sys.argv[2], encoding="utf-8").read(), int(sys.argv[3]), sys.argv[4]))
"""


def spoken(page: Path, index: int) -> str:
    """Answer ``index`` of ``page`` as a build speaks it (normalized; no lexicon)."""
    from audiofeed.read import read_page
    from audiofeed.speech.lexicon import Lexicon, spoken_text
    from audiofeed.speech.verbalize import to_speak

    answer = read_page(page).answers[index]
    return to_speak(spoken_text(answer.question, answer.text)[0], Lexicon({}), True)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rate", type=int, default=160)
    parser.add_argument("--answer", type=int, default=1)
    parser.add_argument("--page", type=Path, default=SEED)
    args = parser.parse_args()
    text = spoken(args.page, args.answer)
    core = sorted(os.sched_getaffinity(0))[0]
    runs: dict[str, list[dict[str, float]]] = {"say, 1 core": [], "stock, 1 core": [], "say, all cores": []}
    with tempfile.TemporaryDirectory() as tmp:
        text_file = Path(tmp, "text.txt")
        text_file.write_text(text, encoding="utf-8")
        say = [sys.executable, "-m", "audiofeed", "say", text, "--engine", "piper", "--rate", str(args.rate),
               "-o", str(Path(tmp, "say.mp3"))]
        commands = {"say, 1 core": (say, core), "say, all cores": (say, None),
                    "stock, 1 core": ([sys.executable, "-c", STOCK, str(HERE), str(text_file), str(args.rate),
                                       str(Path(tmp, "stock.mp3"))], core)}
        for r in range(args.rounds):
            order = list(runs)
            order = order[r % 3:] + order[: r % 3]
            for name in order:
                cmd, pin = commands[name]
                figures = measured(cmd, pin=pin)
                runs[name].append(figures)
                print(f"round {r + 1}: {name:14s} wall {figures['wall']:.2f} s, user {figures['user']:.2f} s, "
                      f"sys {figures['sys']:.2f} s, peak {figures['peak']:.0f} MB", flush=True)
    print(f"\n{len(text.split())} words at rate {args.rate}; rounds: {args.rounds}")
    print("| run | wall s | user s | sys s | peak MB |")
    print("|---|---|---|---|---|")
    for name, rows in runs.items():
        print(f"| {name} | " + " | ".join(spread([row[f] for row in rows], "{:.0f}" if f == "peak" else "{:.2f}")
                                          for f in ("wall", "user", "sys", "peak")) + " |")

    def cpu(name: str) -> list[float]:
        return [row["user"] + row["sys"] for row in runs[name]]

    ratios = [a / b for a, b in zip(cpu("say, 1 core"), cpu("stock, 1 core"))]
    print(f"say / stock, CPU on one core: {statistics.median(cpu('say, 1 core')) / statistics.median(cpu('stock, 1 core')):.2f} "
          f"(per round {min(ratios):.2f}-{max(ratios):.2f})")
    walls = [a["wall"] / b["wall"] for a, b in zip(runs["say, all cores"], runs["say, 1 core"])]
    print(f"say on all cores / one core, wall: {statistics.median(walls):.2f} (per round {min(walls):.2f}-{max(walls):.2f})")


if __name__ == "__main__":
    main()
