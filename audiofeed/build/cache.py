"""A content-addressed cache of rendered answers.

The key of an entry (:func:`key`) is a hash of everything that changes what is stored: the
spoken text (after normalization and the lexicon) and the shown text, the voice, the runtime to
meet (in MP3 frames), the rate band, the planned rate, the doctor (named in the transcripts), and
the engine's fingerprint: the versions of the engine and its voice data, the encoder and its
settings, and audiofeed's own audio pipeline (:func:`engine_versions`). Two
builds that would make the same audio share the entry, whatever page or path it came from.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from ..speech.engine import fingerprint_of, package_version
from ..storage import atomic_write, read_regular

# Bump when anything in speak/fit/loudness/encode changes what comes out for the same inputs.
AUDIO_PIPELINE_VERSION = "9"  # 9: cues carry word starts; 8: soxr to 48 kHz, libebur128 meter, planned rates


@cache
def engine_versions(engine: str) -> dict[str, str]:
    """Versions of everything between text and MP3 frames, by name: the engine and its data, the
    pipeline, the encoder and its settings. The cache key hashes them; cluster workers must match them."""
    from ..audio import encoding
    from ..speech.engine import engine_type

    return {
        "pipeline": AUDIO_PIPELINE_VERSION,
        **engine_type(engine).versions(),
        "encoder": f"lameenc {package_version('lameenc')} {encoding.BITRATE_KBPS}k q{encoding.LAME_QUALITY} {encoding.OUTPUT_RATE}",
        "numpy": package_version("numpy"),
    }


@cache
def engine_fingerprint(engine: str) -> str:
    """A short hash of :func:`engine_versions`."""
    return fingerprint_of(engine_versions(engine))


def canonical(value) -> bytes:
    """``value`` as canonical JSON: sorted keys, no spaces, UTF-8. Equal values, equal bytes."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def digest(value) -> str:
    """The SHA-256 of ``value``'s canonical JSON: the one hash of keys, records and manifests.

    >>> digest({"b": 1, "a": [1, "x"]}) == digest({"a": [1, "x"], "b": 1})
    True
    """
    return hashlib.sha256(canonical(value)).hexdigest()


def key(kind: str, engine: str, **fields) -> str:
    """The cache key of one piece of work done with speech engine ``engine``."""
    return digest({"kind": kind, "engine": engine_fingerprint(engine), **fields})


ENTRY_FORMAT = 2  # 1 was pickles: never read (loading a pickle can run code)
RECORD_LIMIT = 16 << 20  # bytes a record may have (a two-hour answer's cues are under 1 MB)
MP3_LIMIT = 512 << 20  # bytes an entry's frames may have (the longest runtime allowed at 64 kbit/s is far less)


class CacheEntryError(ValueError):
    """A cache entry that is corrupt, truncated or not one of ours."""


class AudioCache:
    """Rendered answers by key under ``folder`` (None: no cache), in a format that runs no code.

    An answer is two files: ``KEY.mp3``, its frames, and ``KEY.json``, its record with the frame
    count and the SHA-256 of the frames, and a SHA-256 of the record itself. Both are checked on
    every read (digests, frame headers, types); an entry that fails is reported in
    :attr:`warnings` (one line naming it) and treated as missing, so it is rendered again and
    never published. The record is written last, so an interrupted write leaves no entry.
    """

    def __init__(self, folder: Path | None):
        self.folder = folder
        self.warnings: list = []  # Problem, one per unusable entry

    def _path(self, k: str, suffix: str) -> Path:
        return self.folder / k[:2] / f"{k}{suffix}"

    def _read_record(self, k: str) -> dict | None:
        """The checked record of entry ``k``; None if there is none; CacheEntryError if it is bad."""
        path = self._path(k, ".json")
        try:
            raw = read_regular(path, RECORD_LIMIT)
        except (FileNotFoundError, NotADirectoryError):
            return None
        try:
            doc = json.loads(raw)
            body, stored = doc["body"], doc["sha256"]
        except (ValueError, KeyError, TypeError):
            raise CacheEntryError("record is not valid JSON of this cache's format") from None
        if not isinstance(body, dict) or digest(body) != stored:
            raise CacheEntryError("record does not match its digest")
        if body.get("format") != ENTRY_FORMAT or body.get("key") != k:
            raise CacheEntryError("record is of another format or key")
        return body

    def _bad(self, k: str, error: Exception) -> None:
        from ..problems import warning

        self.warnings.append(warning(self._path(k, ".json"), f"cache entry unusable ({error}); rendering it again"))

    def get(self, k: str):
        """The :class:`~audiofeed.audio.answer.AnswerAudio` cached under ``k``, checked from its bytes, or None."""
        from ..audio.encoding import check_frames
        from ..audio.answer import AnswerAudio

        if self.folder is None:
            return None
        try:
            body = self._read_record(k)
            if body is None:
                return None
            try:
                mp3 = read_regular(self._path(k, ".mp3"), MP3_LIMIT)
            except FileNotFoundError:
                raise CacheEntryError("frames file missing") from None
            if hashlib.sha256(mp3).hexdigest() != body["mp3_sha256"]:
                raise CacheEntryError("frames do not match their digest")
            if check_frames(mp3) != body["frames"]:
                raise CacheEntryError("frame count differs from the record")
            audio = AnswerAudio.from_record(mp3, body["audio"])
        except (CacheEntryError, ValueError, KeyError, TypeError, IndexError) as e:
            self._bad(k, e)
            return None
        except OSError as e:
            self._bad(k, CacheEntryError(e.strerror or str(e)))
            return None
        return audio

    def put(self, k: str, audio) -> None:
        """Store an answer: its frames, then its record (the record commits the entry)."""
        if self.folder is None:
            return
        from ..audio.encoding import frame_count

        atomic_write(self._path(k, ".mp3"), audio.mp3)
        body = {
            "format": ENTRY_FORMAT, "key": k, "frames": frame_count(audio.mp3),
            "mp3_sha256": hashlib.sha256(audio.mp3).hexdigest(),
            "audio": audio.record(),
        }
        self._write_record(k, body)

    def _write_record(self, k: str, body: dict) -> None:
        doc = {"body": body, "sha256": digest(body)}
        atomic_write(self._path(k, ".json"), json.dumps(doc, sort_keys=True, ensure_ascii=False).encode())

    def get_json(self, k: str):
        """A small JSON value stored with :meth:`put_json`, checked; None if missing or bad."""
        if self.folder is None:
            return None
        try:
            body = self._read_record(k)
            return None if body is None else body["value"]
        except (CacheEntryError, KeyError, OSError) as e:
            self._bad(k, e)
            return None

    def put_json(self, k: str, value) -> None:
        if self.folder is None:
            return
        self._write_record(k, {"format": ENTRY_FORMAT, "key": k, "value": value})
