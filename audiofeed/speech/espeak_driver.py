"""A pyttsx3 driver for espeak-ng that renders to memory, synchronously and reproducibly.

pyttsx3's own espeak driver runs espeak in retrieval mode, where synthesis happens on espeak's
thread while ``runAndWait`` polls. That gives three reproducible defects (see docs/engineering-notes.md): the
first call returns before anything is synthesized, a rate set just before an utterance is
cancelled away, and voices set by language name stick after the first utterance. It is also not
reproducible under CPU load. This driver plugs into pyttsx3's driver interface
(``pyttsx3.init(DRIVER_NAME)``) and avoids all of them:

* espeak runs in ``AUDIO_OUTPUT_SYNCHRONOUS`` mode: ``espeak_Synth`` returns when the audio is
  complete, so there is no loop to race and nothing to cancel;
* properties are applied right before each utterance, from the values last set;
* voices are validated against espeak's voice identifiers (``gmw/en-us``, ``gmw/en-us+f2``);
* espeak keeps state between utterances (the same text comes out a few samples different the
  second time), so each utterance is synthesized in a forked child of a process whose espeak
  was initialised but never used: every utterance is the first of a fresh engine, bit for bit.

Events carry the sample offset at which each word and sentence starts, which pyttsx3's own
``started-word`` notification lacks; they are passed as extra keyword arguments.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import struct
import wave
from pathlib import Path

import espeakng_loader

BUFFER_MS = 20
RANDOM_SEED = 1

# pyttsx3's binding loads "libespeak-ng.so.1" by soname when imported; loading the wheel's copy
# globally first makes that lookup resolve to it, so no system espeak-ng is needed.
_LIBRARY = ctypes.CDLL(espeakng_loader.get_library_path())  # not RTLD_GLOBAL: Piper bundles its own espeak-ng, whose symbols must not resolve to ours
_DATA_PATH = espeakng_loader.get_data_path()
os.environ.setdefault("ESPEAK_DATA_PATH", _DATA_PATH)

from pyttsx3.drivers import _espeak  # noqa: E402  (needs the library loaded above)
from pyttsx3.drivers.espeak import EspeakDriver  # noqa: E402

_initialised = False
_sample_rate = 0


def library_path() -> str:
    """Path of the libespeak-ng this process uses."""
    return espeakng_loader.get_library_path()


def library() -> ctypes.CDLL:
    """The libespeak-ng this process uses, for calls pyttsx3's binding does not offer."""
    return _LIBRARY


def data_path() -> str:
    """The espeak-ng data folder (voices, dictionaries) this process speaks with."""
    return _DATA_PATH


def sample_rate() -> int:
    """Hz of the audio espeak-ng renders (it says so when it is initialised)."""
    _initialise()
    return _sample_rate


def _initialise() -> None:
    global _initialised, _sample_rate
    if _initialised:
        return
    rate = _espeak.Initialize(_espeak.AUDIO_OUTPUT_SYNCHRONOUS, BUFFER_MS, _DATA_PATH.encode(), 0)
    if rate <= 0:
        raise RuntimeError(f"could not initialise espeak-ng from {_DATA_PATH} (got {rate})")
    _sample_rate = rate
    # Load the English dictionary once here, so forked utterances do not each spend ~10 ms on
    # it. Loading data leaves the synthesis state untouched: output is unchanged (tested).
    _espeak.SetVoiceByName(b"gmw/en-us")
    _initialised = True


def buildDriver(proxy):  # noqa: N802  (pyttsx3's driver interface)
    return SynchronousEspeakDriver(proxy)


class SynthesisError(RuntimeError):
    """espeak-ng failed to render an utterance."""


class SynchronousEspeakDriver:
    """pyttsx3 driver: ``save_to_file`` renders a 16-bit mono 22,050 Hz WAV, to a path or file object."""

    def __init__(self, proxy):
        _initialise()
        self._proxy = proxy
        self._voice_ids = {v.id for v in EspeakDriver.getProperty("voices")}
        self._properties = {"voice": "gmw/en-us", "rate": 175, "volume": 1.0, "pitch": 50}

    # -- pyttsx3 driver interface -------------------------------------------------------------
    def destroy(self):
        pass

    def startLoop(self):  # noqa: N802
        # Synthesis is synchronous: releasing the proxy runs every queued command to completion.
        self._proxy.setBusy(False)

    def endLoop(self):  # noqa: N802
        pass

    def iterate(self):
        yield

    def stop(self):
        pass

    def say(self, text):
        raise NotImplementedError("audiofeed's espeak driver renders to files only; use save_to_file")

    def getProperty(self, name):  # noqa: N802
        if name == "voices":
            return EspeakDriver.getProperty("voices")
        if name in self._properties:
            return self._properties[name]
        raise KeyError(f"unknown property {name}")

    def setProperty(self, name, value):  # noqa: N802
        if name == "voice":
            base = str(value).split("+", 1)[0]
            if base not in self._voice_ids:
                raise ValueError(f"unknown espeak-ng voice {value!r} (use an id such as 'gmw/en-us')")
            self._properties["voice"] = str(value)
        elif name == "rate":
            self._properties["rate"] = int(value)  # the engine keeps it in espeak-ng's steady range
        elif name == "volume":
            self._properties["volume"] = min(1.0, max(0.0, float(value)))
        elif name == "pitch":
            self._properties["pitch"] = min(99, max(0, int(value)))
        else:
            raise KeyError(f"unknown property {name}")

    def save_to_file(self, text, filename):
        self._proxy.notify("started-utterance")
        try:
            pcm, events = _render_isolated(str(text), dict(self._properties))
        except SynthesisError as e:
            self._proxy.notify("error", exception=e)
            self._proxy.notify("finished-utterance", completed=False)
            return
        with wave.open(filename if not isinstance(filename, Path) else str(filename), "wb") as f:
            f.setnchannels(1)
            f.setsampwidth(2)
            f.setframerate(sample_rate())
            f.writeframes(pcm)
        for kind, position, length, sample in events:
            topic = "started-word" if kind == _espeak.EVENT_WORD else "started-sentence"
            word = text[position - 1 : position - 1 + length] if kind == _espeak.EVENT_WORD else None
            self._proxy.notify(topic, name=word, location=position, length=length, sample=sample)
        self._proxy.notify("finished-utterance", completed=True)


def _render(text: str, properties: dict) -> tuple[bytes, list[tuple[int, int, int, int]]]:
    """Synthesize in this process. Returns PCM and (kind, char position, length, sample) events."""
    chunks: list[bytes] = []
    events: list[tuple[int, int, int, int]] = []

    def on_synth(wav, count, event_list):
        i = 0
        while event_list[i].type != _espeak.EVENT_LIST_TERMINATED:
            e = event_list[i]
            if e.type in (_espeak.EVENT_WORD, _espeak.EVENT_SENTENCE):
                events.append((e.type, e.text_position, e.length, e.sample))
            i += 1
        if count > 0:
            chunks.append(ctypes.string_at(wav, count * 2))
        return 0

    _espeak.SetSynthCallback(on_synth)
    # Breathy variants mix in noise from espeak's random generator, which espeak seeds from
    # the clock; a fixed seed makes the noise, and so the samples, the same on every run.
    _LIBRARY.espeak_ng_SetRandSeed(ctypes.c_long(RANDOM_SEED))
    if _espeak.SetVoiceByName(properties["voice"].encode()) != _espeak.EE_OK:
        raise SynthesisError(f"espeak-ng refused voice {properties['voice']!r}")
    _espeak.SetParameter(_espeak.RATE, properties["rate"], 0)
    _espeak.SetParameter(_espeak.VOLUME, int(round(properties["volume"] * 100)), 0)
    _espeak.SetParameter(_espeak.PITCH, properties["pitch"], 0)
    status = _espeak.Synth(text.encode("utf-8"), flags=_espeak.ENDPAUSE | _espeak.CHARS_UTF8)
    if status != _espeak.EE_OK:
        raise SynthesisError(f"espeak_Synth failed with status {status}")
    return b"".join(chunks), events


def _render_isolated(text: str, properties: dict) -> tuple[bytes, list[tuple[int, int, int, int]]]:
    """Render in a forked child so that no utterance inherits espeak state from another."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: render, send, and leave without running any Python clean-up
        status = 0
        try:
            os.close(read_fd)
            payload = pickle.dumps(_render(text, properties), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as e:  # noqa: BLE001  (reported to the parent, never raised here)
            payload, status = pickle.dumps(SynthesisError(str(e))), 1
        try:
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(struct.pack("<BQ", status, len(payload)) + payload)
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    if len(data) < 9:
        raise SynthesisError("espeak-ng synthesis process died without a result")
    status, size = struct.unpack("<BQ", data[:9])
    result = pickle.loads(data[9 : 9 + size])
    if status:
        raise result
    return result
