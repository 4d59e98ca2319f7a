"""How many answers the natural voice fits with one synthesis: articles/ plus 100 synthetic pages.

One clean build (the default engine, Piper, unless ``--engine``) of ``articles/`` and of
``bench_scale.py``'s synthetic pages 0-99 together, in a fresh folder with a fresh cache. Prints
the build's own count of answers that needed a second synthesis, and each answer's status
(ok, padded, refused) from the build's table, so that the rest can be explained.

Usage: python benchmarks/one_synthesis.py [--pages 100] [--engine piper]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_scale import synthetic_page  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--engine", default="piper")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        articles = Path(tmp, "articles")
        articles.mkdir()
        for page in (HERE.parent / "articles").iterdir():
            shutil.copy(page, articles / page.name)
        for i in range(args.pages):
            (articles / f"page_{i:04d}.txt").write_text(synthetic_page(i))
        out = Path(tmp, "out")
        proc = subprocess.run([sys.executable, "-m", "audiofeed", "build", str(articles), "-o", str(out), "--engine",
                               args.engine, "--cache", str(Path(tmp, "cache"))], capture_output=True, text=True,
                              env={**os.environ, "COLUMNS": "400"})
        summary = " ".join(proc.stdout.split())
        m = re.search(r"(\d+) answer\(s\) rendered, \d+ from the cache \((\d+) of those rendered needed a second synthesis\)",
                      summary)
        if not m:
            raise SystemExit(f"no summary: {proc.stdout[-1500:]}{proc.stderr[-1500:]}")
        rendered, second = int(m.group(1)), int(m.group(2))
        statuses = collections.Counter()
        for line in proc.stdout.splitlines():
            cells = [c.strip() for c in line.split("│")]
            if len(cells) > 9 and cells[1] and cells[-2]:
                statuses[cells[-2].split(":")[0]] += 1
        answers = sum(len(json.loads(p.read_text())["answers"]) for p in out.glob("*/build.json"))
    print(f"engine {args.engine}: {rendered} answers rendered ({answers} published), "
          f"{rendered - second} with one synthesis ({(rendered - second) / rendered:.1%}), {second} with two or more")
    print("statuses: " + ", ".join(f"{k} {v}" for k, v in statuses.most_common()))
    if proc.stderr.strip():
        print("messages:\n" + "\n".join(proc.stderr.strip().splitlines()[:20]))


if __name__ == "__main__":
    main()
