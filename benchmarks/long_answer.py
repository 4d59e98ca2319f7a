"""What one long answer costs: wall time, CPU (user and system) per minute of audio, and the peak
memory of the largest process, for answers of the given lengths, with each engine.

Each figure is a separate `audiofeed build -j 1` process of one page whose single "Other Voices"
answer lists the runtime (text at about 155 words a minute, from the seed page's sentences), with
a cold cache, timed from outside; peak memory is ru_maxrss of the build and its worker. Runs
alternate between lengths and engines; the medians of --runs runs are printed with min-max.

``stock`` (among --engines) is piper-tts's own ``PiperVoice`` with its defaults speaking the same
answer's text at the pace the Piper build of the same round chose, with one soxr + LAME encode
(``floor_pass.py``'s ``render``, one process on all its cores' share: one intra-op thread): the
floor for one answer, side by side. It needs ``piper`` among --engines, before it.

Usage: python benchmarks/long_answer.py [--minutes 1 20] [--engines espeak piper stock] [--runs 1]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from measure import measured  # noqa: E402

SEED = ROOT / "articles" / "000_4fe75e9a818bb161.txt"


def sentences() -> list[str]:
    text = SEED.read_text(encoding="utf-8")
    found = re.findall(r"[A-Z][^.?!\n]{20,200}[.]", text)
    return [s.strip() for s in found if "image" not in s and "Written by" not in s]


def page(minutes: int) -> str:
    pool = sentences()
    words, body, i = 155 * minutes, [], 0
    while sum(len(s.split()) for s in body) < words:
        body.append(pool[i % len(pool)])
        i += 1
    runtime = f"{minutes}min"
    return ("---\ntitle: A long answer\ndate: 2025-01-02\ndoctor: Ann Lee\nspecialty: General Practice\n"
            f"answers:\n  - question: How long can an answer be?\n    doctor: Tomas Novak\n    specialty: Urology\n"
            f"    runtime: {runtime}\n---\nA short lead answer, to start the page.\n\n"
            f"## How long can an answer be?\n\n{' '.join(body)}\n")


STOCK = """import json, sys
sys.path.insert(0, sys.argv[1])
from floor_pass import render
record = json.load(open(sys.argv[2], encoding="utf-8"))
answer = next(a for a in record["answers"] if a.get("listed_runtime"))
render((answer["spoken"], int(answer["rate"]), sys.argv[3]))
"""


def run(engine: str, minutes: int, scratch: Path, built: dict[int, Path]) -> tuple[float, float, float, float]:
    """(wall s, user s, system s, peak MB) of one clean build (``stock``: of stock Piper speaking
    what the last Piper build of ``minutes`` spoke)."""
    if engine == "stock":
        record = next(built[minutes].glob("*/build.json"))
        cmd = [sys.executable, "-c", STOCK, str(Path(__file__).resolve().parent), str(record), str(scratch / "stock.mp3")]
        figures = measured(cmd)
        return figures["wall"], figures["user"], figures["sys"], figures["peak"]
    folder = Path(tempfile.mkdtemp(dir=scratch))
    (folder / "articles").mkdir()
    (folder / "articles" / "long.md").write_text(page(minutes), encoding="utf-8")
    # A process of its own around each build, so that its peak is this build's alone (ru_maxrss
    # of the children: the largest of the build and its worker).
    figures = measured([sys.executable, "-m", "audiofeed", "build", str(folder / "articles"), "-o", str(folder / "out"),
                        "-j", "1", "--engine", engine])
    if engine == "piper":  # kept for stock Piper to speak the same text at the same pace
        if minutes in built:
            shutil.rmtree(built[minutes].parent, ignore_errors=True)
        built[minutes] = folder / "out"
    else:
        shutil.rmtree(folder)
    return figures["wall"], figures["user"], figures["sys"], figures["peak"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--engines", nargs="+", default=["espeak", "piper"])
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="audiofeed-long-"))
    results: dict[tuple[str, int], list[tuple[float, float, float, float]]] = {}
    built: dict[int, Path] = {}
    try:
        for _ in range(args.runs):
            for engine in args.engines:
                for minutes in args.minutes:
                    results.setdefault((engine, minutes), []).append(run(engine, minutes, scratch, built))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"{'engine':8} {'audio':>6} {'wall s':>16} {'CPU s / audio min':>22} {'system s':>9} {'peak MB':>16}")
    for (engine, minutes), rows in results.items():
        def fig(values, fmt="{:.1f}"):
            return (fmt.format(statistics.median(values)) + (f" ({fmt.format(min(values))}-{fmt.format(max(values))})"
                                                           if len(values) > 1 else ""))
        print(f"{engine:8} {minutes:>4} m {fig([r[0] for r in rows]):>16} {fig([(r[1] + r[2]) / minutes for r in rows], '{:.2f}'):>22} "
              f"{fig([r[2] for r in rows]):>9} {fig([r[3] for r in rows], '{:.0f}'):>16}")


if __name__ == "__main__":
    os.environ.pop("AUDIOFEED_ENGINE", None)
    main()
