"""How natural each voice sounds, how well it is understood, and how high it speaks, side by side.

For every Piper voice (the plain one and its pitch variants) the same texts (the answers of
articles/, at the voice's own pace) are spoken by audiofeed's engine, then:

- **naturalness**: DNSMOS P.808 (the `speechmos` wheel: ONNX models in the wheel, run by
  onnxruntime), the mean over non-overlapping 9.01 s windows of 16 kHz audio (its own `run` hops by
  1 s, five times the cost for the same mean); also DNSMOS P.835's overall score;
- **word error rate**: pocketsphinx, as `audiofeed check --listen` hears (word-weighted);
- **median F0**: librosa's YIN over the frames with speech energy, in Hz.

The judge is a model trained on human ratings of speech, not a listener panel: differences under
about 0.1 are within its noise. The palette (the voices doctors are given) keeps only voices
within :data:`MOS_MARGIN` of the plain voice's naturalness and :data:`WER_MARGIN` of its error
rate (``PALETTE`` in audiofeed/speech/piper_engine.py).

Needs ``pip install '.[judge]'`` (speechmos, librosa). Prints a Markdown table (docs/voices.md).

Usage: python benchmarks/naturalness.py [--articles articles] [--answers 8] [--voices joe joe+2.3 ...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MOS_MARGIN = 0.1
WER_MARGIN = 0.03
WINDOW = 9.01  # seconds DNSMOS scores at once


def texts(articles: Path, count: int) -> list[str]:
    """The first ``count`` answers of ``articles`` (what is spoken: normalized, as a build speaks it)."""
    from audiofeed.read import find_pages, read_page
    from audiofeed.speech.lexicon import Lexicon, spoken_text
    from audiofeed.speech.verbalize import to_speak

    found = []
    for path in find_pages(articles):
        for answer in read_page(path).answers:
            display, _ = spoken_text(answer.question, answer.text)
            found.append(to_speak(display, Lexicon({}), True)[0])
    return found[:count]


def judge(voice: str, text: str) -> dict:
    """One text in one voice: its 16 kHz audio scored, heard and pitched."""
    import librosa
    from speechmos import dnsmos

    from audiofeed.check import listen
    from audiofeed.speech.engine import engine_for

    speech = engine_for("piper").speak(text, voice, 175)  # 175: the voice's own pace
    x = speech.samples.astype(np.float32) / 32768
    x16 = librosa.resample(x, orig_sr=speech.sample_rate, target_sr=16_000)
    if dnsmos.dnsmos is None:
        dnsmos.dnsmos = dnsmos.DNSMOS(*(str(Path(dnsmos.__file__).parent / "dnsmos_models" / name)
                                        for name in ("sig_bak_ovr.onnx", "model_v8.onnx")))
    n = int(WINDOW * 16_000)
    windows = [x16[i:i + n] for i in range(0, len(x16) - n + 1, n)] or [x16]
    scores = [dnsmos.dnsmos(np.clip(w, -1, 1), 16_000, False) for w in windows]
    heard = listen.hear_pcm(listen.pcm16k(samples=speech.samples, rate=speech.sample_rate))
    reference = listen.words(text)
    f0 = librosa.yin(x16, fmin=60, fmax=300, sr=16_000, frame_length=1024, hop_length=256)
    rms = librosa.feature.rms(y=x16, frame_length=1024, hop_length=256)[0][: len(f0)]
    voiced = rms > 0.3 * np.median(rms[rms > 0]) if (rms > 0).any() else np.zeros(len(f0), bool)
    return {"p808": statistics.mean(s["p808_mos"] for s in scores), "ovrl": statistics.mean(s["ovrl_mos"] for s in scores),
            "errors": listen.wer(reference, heard) * len(reference), "words": len(reference),
            "f0": float(np.nanmedian(f0[voiced])) if voiced.any() else float("nan")}


def allow_shifts(shifts: tuple[float, ...]) -> None:
    """In a worker: let the engine speak pitch shifts beyond its own list (candidates measured here)."""
    from audiofeed.speech import piper_engine

    piper_engine.SHIFTS = tuple(dict.fromkeys(piper_engine.SHIFTS + shifts))


def main() -> None:
    from audiofeed.speech.piper_engine import VOICES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=Path, default=HERE.parent / "articles")
    parser.add_argument("--answers", type=int, default=8)
    parser.add_argument("--voices", nargs="+", default=list(VOICES))
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--shifts", type=float, nargs="*", default=[],
                        help="also try these pitch shifts (semitones), as voices joe+S / joe-S")
    args = parser.parse_args()
    if args.shifts:
        from audiofeed.speech.piper_engine import voice_name

        args.voices += [voice_name(s) for s in args.shifts if voice_name(s) not in args.voices]
    chosen = texts(args.articles, args.answers)
    jobs = [(voice, text) for text in chosen for voice in args.voices]  # voices alternate over each text
    with ProcessPoolExecutor(args.jobs, initializer=allow_shifts, initargs=(tuple(args.shifts),)) as pool:
        results = list(pool.map(judge, *zip(*jobs)))
    table = {voice: [r for (v, _), r in zip(jobs, results) if v == voice] for voice in args.voices}
    plain = args.voices[0]

    def summary(rows: list[dict]) -> tuple[float, float, float, float]:
        return (statistics.mean(r["p808"] for r in rows), statistics.mean(r["ovrl"] for r in rows),
                sum(r["errors"] for r in rows) / sum(r["words"] for r in rows), statistics.median(r["f0"] for r in rows))

    base = summary(table[plain])
    print(f"{len(chosen)} answers of {args.articles.name}/, {sum(len(t.split()) for t in chosen)} words, each voice at its own pace\n")
    print("| voice | DNSMOS P.808 | P.835 overall | word error rate | median F0 (Hz) | in the palette |")
    print("|---|---|---|---|---|---|")
    for voice, rows in table.items():
        p808, ovrl, wer_, f0 = summary(rows)
        keep = p808 >= base[0] - MOS_MARGIN and wer_ <= base[2] + WER_MARGIN
        print(f"| {voice} | {p808:.2f} | {ovrl:.2f} | {wer_:.3f} | {f0:.0f} | {'yes' if keep else 'no'} |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
