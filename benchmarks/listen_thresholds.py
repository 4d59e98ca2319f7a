"""The scores behind ``check --listen``'s thresholds: clean answers against spoilt ones.

A measure, not a timed test. One clean natural-voice build of ``articles/`` plus ``bench_scale.py``'s
synthetic pages 0..N-1 (made of one small pool of sentences, so answers share most of their
words: the hardest case for telling answers apart), then ``audiofeed check --listen --json`` on it.
Prints, for the clean answers of each set:

- the word error rate against the answer's own text, against the closest other answer's text,
  and the margin between them (the verdict "another answer's words" needs a margin below 0);
- the share of its words heard (silent below 10%, truncated below 60%), and the share of the
  words heard that are in the last 40% of its audio (truncated below 20%);
- how far each caption cue (WebVTT) starts from where its first word is heard (fails beyond 0.5 s);

then the same scores for spoilt copies of every answer, made from the build's own
audio and heard as ``check --listen`` hears (``audiofeed.check.listen``): its first half of speech
padded back to length with silence, and the speech of the next answer of the show cut to its
length, judged against the texts of its page and the show.

Usage: python benchmarks/listen_thresholds.py [--pages 30]
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from audiofeed.check import listen

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_scale import synthetic_page  # noqa: E402


def spread(values: list[float]) -> str:
    """``min / median / max`` of ``values``."""
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    return f"{min(values):.3f} / {statistics.median(values):.3f} / {max(values):.3f} (n={len(values)})"


def spoilt_scores(job: tuple[bytes, bytes, list[str]]) -> tuple[tuple[list[str], float], tuple[list[str], float]]:
    """What is heard (and how late, :func:`audiofeed.check.listen.hear_timed`) in an answer's first
    half of speech padded with silence, and in another answer's speech cut to its length."""
    own, other, _ = job
    half = own[: len(own) // 4 * 2]
    return (listen.hear_timed(half + bytes(len(own) - len(half))),
            listen.hear_timed(other[: len(own)].ljust(len(own), b"\0")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        articles, out = Path(tmp, "articles"), Path(tmp, "out")
        articles.mkdir()
        for page in (HERE.parent / "articles").iterdir():
            shutil.copy(page, articles / page.name)
        for i in range(args.pages):
            (articles / f"synthetic_{i:04d}.txt").write_text(synthetic_page(i), encoding="utf-8")
        subprocess.run([sys.executable, "-m", "audiofeed", "build", str(articles), "-o", str(out), "--cache",
                        str(Path(tmp, "cache"))], check=True, capture_output=True)
        checked = subprocess.run([sys.executable, "-m", "audiofeed", "check", str(out), "--articles", str(articles),
                                  "--listen", "--json"], capture_output=True, text=True)
        doc = json.loads(checked.stdout)
        print(f"check --listen: exit {checked.returncode}, {len(doc['answers'])} answers, "
              f"{sum(p['severity'] == 'error' for p in doc['problems'])} errors")
        for p in doc["problems"]:
            print(f"  {p['severity']}: {p['file']}: {p['field']}: {p['message']}")
        for name, rows in (("articles/", [a for a in doc["answers"] if not a["page"].startswith("synthetic")]),
                           ("synthetic", [a for a in doc["answers"] if a["page"].startswith("synthetic")])):
            print(f"\n{name}: {len(rows)} clean answers (min / median / max)")
            print(f"  WER against its own text:        {spread([a['heard_own_wer'] for a in rows])}")
            print(f"  WER against the closest other:   {spread([a['heard_closest_wer'] for a in rows])}")
            print(f"  margin (closest - own):          {spread([a['heard_closest_wer'] - a['heard_own_wer'] for a in rows])}")
            print(f"  share of its words heard:        {spread([a['heard_share'] for a in rows])}")
            print(f"  share of words heard late:       {spread([a['heard_late_share'] for a in rows])}")
            print(f"  captions, median offset:         {spread([a['captions_median_s'] for a in rows])}")
            print(f"  captions, worst offset (abs):    {spread([abs(a['captions_worst_s']) for a in rows])}")
        episodes = doc.get("captions", {})
        print(f"\ncaptions per episode ({len(episodes)}): 95th percentile "
              f"{spread([e['p95_s'] for e in episodes.values()])}; worst {spread([abs(e['worst_s']) for e in episodes.values()])}; "
              f"cues {sum(e['cues'] for e in episodes.values())}, off {sum(e['off'] for e in episodes.values())}")

        for name, synthetic in (("articles/", False), ("synthetic", True)):
            answers = [a for a in listen.published_answers(out) if a.label.startswith("synthetic") == synthetic]
            with ProcessPoolExecutor() as pool:
                pcm = list(pool.map(listen.pcm16k, [a.mp3 for a in answers]))
                jobs = [(pcm[i], pcm[(i + 1) % len(pcm)], a.text) for i, a in enumerate(answers)]
                heard = list(pool.map(spoilt_scores, jobs))
            texts = {a.label: a.text for a in answers}
            halves = [listen.judge(a.text, h[0], {k: v for k, v in texts.items() if k != a.label}, h[1])
                      for a, (h, _) in zip(answers, heard)]
            swaps = [listen.judge(a.text, s[0], {k: v for k, v in texts.items() if k != a.label}, s[1])
                     for a, (_, s) in zip(answers, heard)]
            print(f"\n{name} spoilt, first half of speech then silence: {len(halves)} answers")
            print(f"  share of its words heard:        {spread([h.heard_share for h in halves])}")
            print(f"  share of words heard late:       {spread([h.late_share for h in halves])}")
            print(f"  verdicts: {dict(collections.Counter(h.verdict for h in halves))}")
            print(f"{name} spoilt, the next answer's speech cut to its length: {len(swaps)} answers")
            print(f"  margin (closest - own):          {spread([h.closest_wer - h.own_wer for h in swaps])}")
            print(f"  verdicts: {dict(collections.Counter(h.verdict for h in swaps))}")


if __name__ == "__main__":
    main()
