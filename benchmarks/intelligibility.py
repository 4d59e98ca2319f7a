"""How well an automatic listener understands each engine: word error rate per answer of articles/.

A measure, not a timed test. Each engine builds ``articles/`` from scratch (its own output and
cache); every published answer MP3 is decoded by ffmpeg to 16 kHz mono and recognized by
pocketsphinx (its US English model ships in its wheel), as ``audiofeed check --listen`` hears it
(``audiofeed.check.listen``); the word error rate (``jiwer``) is taken
against the text the engine was given (``spoken`` in build.json), both lower-cased, without
punctuation. Lower is better; 0.3 means about a word in three was misheard.

``--variants`` also speaks every answer with each Piper pitch variant (as a build would, at the
rate the build chose) and reports each variant's word-weighted rate beside the plain voice's.

Prints a Markdown table (kept in docs/engineering-notes.md).

Usage: python benchmarks/intelligibility.py [--articles articles] [--engines piper,espeak] [--variants]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from audiofeed.check import listen

HERE = Path(__file__).resolve().parent


def wer(reference: str, heard: list[str]) -> float:
    """The word error rate ``check --listen`` computes (audiofeed.check.listen), of text against words heard."""
    return listen.wer(listen.words(reference), heard)


def variant_score(voice: str, answers: list[tuple[str, int, int]]) -> float:
    """The word-weighted error rate of ``answers`` (text, rate, words) re-spoken in Piper ``voice``."""
    from audiofeed.speech.engine import engine_for

    piper = engine_for("piper")
    score = 0.0
    for text, rate, n in answers:
        speech = piper.speak(text, voice, rate)
        score += wer(text, listen.hear_pcm(listen.pcm16k(samples=speech.samples, rate=speech.sample_rate))) * n
    return score / sum(n for _, _, n in answers)


def build(engine: str, articles: Path, root: Path) -> Path:
    out = root / f"out-{engine}"
    subprocess.run([sys.executable, "-m", "audiofeed", "build", str(articles), "-o", str(out), "--engine", engine,
                    "--cache", str(root / f"cache-{engine}")], check=True, capture_output=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=Path, default=HERE.parent / "articles")
    parser.add_argument("--engines", default="piper,espeak")
    parser.add_argument("--variants", action="store_true")
    args = parser.parse_args()
    engines = args.engines.split(",")
    rows: dict[tuple[str, int], dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for engine in engines:
            out = build(engine, args.articles, Path(tmp))
            for record in sorted(out.glob("*/build.json")):
                episode = json.loads(record.read_text())
                for a in episode["answers"]:
                    row = rows.setdefault((episode["slug"], a["index"]), {"words": len(listen.words(a["spoken"])),
                                                                           "spoken": a["spoken"], "rate": {}})
                    row[engine] = wer(a["spoken"], listen.hear(out / a["file"]))
                    row["rate"][engine] = a["rate"]
    total = sum(r["words"] for r in rows.values())
    print("| answer | words | " + " | ".join(engines) + " |")
    print("|---|---:|" + "---:|" * len(engines))
    for (slug, index), r in sorted(rows.items()):
        print(f"| {slug[:24]} #{index} | {r['words']} | " + " | ".join(f"{r[e]:.3f}" for e in engines) + " |")
    weighted = {e: sum(r[e] * r["words"] for r in rows.values()) / total for e in engines}
    print(f"| **word-weighted** | {total} | " + " | ".join(f"**{weighted[e]:.3f}**" for e in engines) + " |")
    if len(engines) > 1:
        better = sum(r[engines[0]] < r[engines[1]] for r in rows.values())
        print(f"\n{engines[0]} better than {engines[1]} on {better} of {len(rows)} answers")
    if args.variants and "piper" in engines:
        from concurrent.futures import ProcessPoolExecutor

        from audiofeed.speech.piper_engine import PiperEngine

        answers = [(r["spoken"], r["rate"]["piper"], r["words"]) for r in rows.values()]
        with ProcessPoolExecutor() as pool:  # a voice a process, each with its own engine and listener
            scores = dict(zip(PiperEngine.PALETTE, pool.map(variant_score, PiperEngine.PALETTE,
                                                             [answers] * len(PiperEngine.PALETTE))))
        plain = scores[PiperEngine.PALETTE[0]]
        print("\n| Piper voice | word-weighted WER | vs plain |")
        print("|---|---:|---:|")
        for voice, score in scores.items():
            print(f"| {voice} | {score:.3f} | {score - plain:+.3f} |")


if __name__ == "__main__":
    main()
