"""A content-addressed cache of rendered answers.

The key of an entry is a hash of everything that changes the audio: the spoken text (after
the pronunciation lexicon), the voice, the runtime to meet, the rate band, the lead's rate, and
the versions of the engine, its voice data, the encoder and audiofeed's own audio pipeline. Two
builds that would make the same audio share the entry, whatever page or path it came from.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from functools import cache
from importlib import metadata
from pathlib import Path

# Bump when anything in speak/fit/loudness/encode changes what comes out for the same inputs.
AUDIO_PIPELINE_VERSION = "8"  # 8: soxr to 48 kHz, libebur128 meter, planned rates


@cache
def speech_fingerprint() -> str:
    """Version of espeak-ng and of its voice data: what decides how long speech lasts."""
    from . import espeak_driver
    from pyttsx3.drivers import _espeak

    parts = {"espeak": _espeak.Info(None).decode(), "espeak_data": _data_fingerprint(espeak_driver._DATA_PATH)}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


@cache
def engine_fingerprint() -> str:
    """Versions of everything between text and MP3 frames."""
    from . import encoding, espeak_driver
    from pyttsx3.drivers import _espeak

    parts = {
        "pipeline": AUDIO_PIPELINE_VERSION,
        "espeak": _espeak.Info(None).decode(),
        "espeak_data": _data_fingerprint(espeak_driver._DATA_PATH),
        "encoder": f"lameenc {_version('lameenc')} {encoding.BITRATE_KBPS}k q{encoding.LAME_QUALITY} {encoding.OUTPUT_RATE}",
        "pyttsx3": _version("pyttsx3"),
        "numpy": _version("numpy"),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "-"


def _data_fingerprint(folder: str) -> str:
    """Names, sizes and times of espeak's voice data files: changes when the data is upgraded."""
    h = hashlib.sha256()
    for root, _dirs, files in sorted(os.walk(folder)):
        for name in sorted(files):
            st = os.stat(os.path.join(root, name))
            h.update(f"{os.path.relpath(os.path.join(root, name), folder)}:{st.st_size}".encode())
    return h.hexdigest()[:16]


def key(kind: str, **fields) -> str:
    """The cache key of one piece of work."""
    payload = json.dumps({"kind": kind, "engine": engine_fingerprint(), **fields}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


class AudioCache:
    """Pickled results by key under ``folder`` (None: no cache)."""

    def __init__(self, folder: Path | None):
        self.folder = folder
        self.hits = 0
        self.misses = 0

    def _path(self, k: str) -> Path:
        return self.folder / k[:2] / f"{k}.pickle"

    def get(self, k: str):
        if self.folder is None:
            self.misses += 1
            return None
        try:
            with open(self._path(k), "rb") as f:
                value = pickle.load(f)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            self.misses += 1
            return None
        self.hits += 1
        return value

    def get_json(self, k: str):
        """A JSON entry, or None."""
        if self.folder is None:
            return None
        try:
            return json.loads(self._path(k).with_suffix(".json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put_json(self, k: str, value) -> None:
        if self.folder is None:
            return
        path = self._path(k).with_suffix(".json")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(value, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)

    def put(self, k: str, value) -> None:
        if self.folder is None:
            return
        path = self._path(k)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
