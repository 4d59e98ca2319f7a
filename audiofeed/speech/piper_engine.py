"""The Piper engine: a natural neural voice (en_US-joe-medium), deterministic, that knows its length.

- **Deterministic.** The model's two noises are inputs (:mod:`.piper_model`), drawn from numpy seeded
  by the sentence's phoneme ids: the same sentence gives the same samples in any process, in any
  order, with any number of threads.
- **Knows its length.** The model runs in three graphs (:mod:`.piper_model`); the first (the text
  encoder and the duration predictor) gives each phoneme's frames before the length scale, so any
  rate's length follows exactly (:meth:`PiperEngine.length`) and :meth:`PiperEngine.rate_for` picks
  the rate that fills a runtime before one synthesis. What that graph computed is kept for the
  synthesis that follows (within :data:`ENCODED_BUDGET`): every node of the model runs once per part.
- **Rates.** The rest of the pipeline counts in words per minute; here a rate is the voice's pace
  relative to its natural one, :data:`NATURAL_RATE` (length scale = ``NATURAL_RATE / rate``).
  :data:`RATE_BAND` is where the voice stays natural (length scale 0.81-1.35).
- **Voices.** One speaker at several pitches: ``joe`` and ``joe+N`` / ``joe-N``, shifted ``N``
  semitones by Rubber Band with the formants preserved (:data:`SHIFTS`), a sentence at a time.
  Doctors are given only those an automatic naturalness judge rates within 0.1 of the plain voice
  (:data:`PALETTE_SHIFTS`: small upward shifts, median pitches 91-100 Hz; docs/voices.md); the
  others (downward and larger shifts, which cost naturalness) stay for a producer to name.
  espeak-ng (``--engine espeak``) has many distinct voices.
- **Sentences.** The text is spoken a sentence at a time (the sentence starts are the captions'
  cue times), with :data:`SENTENCE_PAUSE` of silence between sentences, which fitting may edit.
- **Every core, bounded memory.** Each part of a sentence goes through the text and flow graphs
  (text to latent frames) as a job of its own; the decoder (latent frames to samples, most of the
  cost and of the memory) then takes pieces of at most :data:`PIECE` frames with their context
  (:data:`~.piper_model.DECODER_CONTEXT`), and each sentence of a shifted voice is shifted as a job
  of its own. One long answer uses every core; a worker stays under 300 MB whatever it speaks.
"""

from __future__ import annotations

import hashlib
import json
import threading
from functools import cache

from .engine import Sentence, Speech, fingerprint_of, package_version
from .memory import give_back, to_int16
from .piper_model import DECODER_CONTEXT, DECODER_INPUT, DP_NOISE, DURATIONS, ENCODED, HOP, PRIOR_NOISE
from .piper_text import pieces, sentences, split_phonemes, word_starts

NATURAL_RATE = 175  # the rate at length scale 1
RATE_BAND = (130, 215)  # length scale 1.35 .. 0.81
RATE_LIMITS = (110, 260)  # what --rate-band may ask for
SENTENCE_PAUSE = 0.30  # seconds of silence between sentences
PART_PAUSE = 0.12  # between the parts Piper splits a sentence into
BASE = "joe"
SHIFTS = (0.0, 0.6, 1.15, 1.7, -2.2, 2.3, 4.5, -1.1, 3.4)  # semitones: every voice a producer may name
# The voices doctors are given, by pitch: those within 0.1 of the plain voice's naturalness (DNSMOS
# P.808) and 0.03 of its word error rate, measured side by side (benchmarks/naturalness.py,
# docs/voices.md): small upward shifts. Downward and larger shifts cost naturalness.
PALETTE_SHIFTS = (0.0, 0.6, 1.15, 1.7)
MAX_THREADS = 4  # jobs of one text run at once
# Memory: the front holds about 0.13 MB per frame of the part it reads, the decoder 0.25 MB per
# frame it decodes (a 15 s sentence decoded whole took 513 MB). Parts longer than MAX_PHONEMES are
# split at a clause (or else a word) near their middle; the parts in the front at once hold at
# most FRAME_BUDGET frames, and the decoder takes PIECE frames at a time (plus their context).
FRAME_BUDGET = 650
# The text graph's outputs kept between a length and the synthesis after it (about 1.5 kB per
# phoneme id): enough for 20 minutes of speech; beyond it, a part's text graph runs again.
ENCODED_BUDGET = 48 << 20
NOISE_SCALE, NOISE_W = 0.667, 0.8  # the voice's own inference settings


def voice_name(shift: float) -> str:
    """The id of the voice ``shift`` semitones from the plain one.

    >>> [voice_name(s) for s in (0.0, -2.2, 3.0)]
    ['joe', 'joe-2.2', 'joe+3']
    """
    return BASE if shift == 0 else f"{BASE}{shift:+g}"


VOICES = tuple(voice_name(s) for s in SHIFTS)  # every voice a producer may name
PALETTE = tuple(voice_name(s) for s in PALETTE_SHIFTS)  # the voices doctors are given (docs/voices.md)


def shift_of(voice: str) -> float:
    """The pitch shift of a voice id in semitones (``joe`` 0, ``joe-2.2`` -2.2); ValueError if it is not one."""
    for shift in SHIFTS:
        if voice == voice_name(shift):
            return shift
    raise ValueError(f"unknown Piper voice {voice!r} (voices: {', '.join(PiperEngine.PALETTE)})")


class PiperEngine:
    """Piper through onnxruntime, one per process (:func:`audiofeed.speech.engine.engine_for`)."""

    NAME = "Piper"
    SAMPLE_RATE = 22_050
    RATE_BAND = RATE_BAND
    RATE_LIMITS = RATE_LIMITS
    DEFAULT_RATE = 160  # a little slower than the voice's own pace: about 175 words a minute heard
    PALETTE = PALETTE
    VOICE_EXAMPLE = "'joe' or 'joe+1.15'"

    def __init__(self) -> None:
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig

        from .piper_model import joe, prepared

        files = joe()
        graphs = prepared(files)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # a second thread does not pay on 2 cores; processes do
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.enable_mem_pattern = False  # patterns planned per input shape would be kept
        providers = ["CPUExecutionProvider"]
        # The decoder, most of the work, takes pieces of at most PIECE frames and their context:
        # its memory arena, sized by the largest piece, serves every run after the first without
        # asking the system for pages (without it, page faults were 12% of a build's CPU). The
        # text and the flow take a whole part, whose size varies: an arena would keep the largest.
        self._decoder = onnxruntime.InferenceSession(str(graphs.decoder), options, providers=providers)
        self._shrink = onnxruntime.RunOptions()  # a run that gives the arena's free pages back
        self._shrink.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        options.enable_cpu_mem_arena = False
        self._text = onnxruntime.InferenceSession(str(graphs.text), options, providers=providers)
        self._flow = onnxruntime.InferenceSession(str(graphs.flow), options, providers=providers)
        config = PiperConfig.from_dict(json.loads(files.config.read_text(encoding="utf-8")))
        self._voice = PiperVoice(session=self._text, config=config)  # for its phonemizer only
        self._lock = threading.Lock()  # the phonemizer is process-wide
        self._end = len(config.phoneme_id_map["$"])  # ids of the end mark that closes every part
        self._frames: dict[tuple[int, ...], object] = {}  # phoneme ids -> frames per phoneme at scale 1
        self._encoded: dict[tuple[int, ...], tuple] = {}  # phoneme ids -> the text graph's outputs
        self._encoded_bytes = 0
        self._layout_of: tuple[str, list] = ("", [])  # the last text laid out, and its layout
        self._threads = None
        self._workers = 1
        self._budget = threading.Condition()
        self._in_flight = 0  # frames being synthesized now

    @property
    def sample_rate(self) -> int:
        return self.SAMPLE_RATE

    @classmethod
    def palette(cls, default_voice: str | None = None) -> tuple[str, ...]:
        return cls.PALETTE

    @staticmethod
    def known(voice: str, ids: set[str]) -> bool:
        return voice in ids

    def voices(self) -> list[str]:
        """Every voice a producer may name (doctors are given only the :data:`PALETTE`)."""
        return list(VOICES)

    # -- text to phoneme ids ------------------------------------------------------------------
    def _parts(self, sentence: str) -> list[list[int]]:
        """The phoneme ids of each part ``sentence`` is spoken in: Piper's own parts, long ones split."""
        with self._lock:
            phonemes = self._voice.phonemize(sentence)
        return [self._voice.phonemes_to_ids(chunk) for p in phonemes if p for chunk in split_phonemes(p)]

    def _word_starts(self, sentence: str) -> list[tuple[int, int, int]]:
        """Where each word of ``sentence`` starts: ``(character offset, part, phoneme id)`` (:func:`.piper_text.word_starts`)."""
        with self._lock:
            return word_starts(sentence, self._voice.phonemize, self._voice.phonemes_to_ids, self._end)

    def phonemes(self, text: str, voice: str) -> str:
        """Piper's phonemes (IPA, from its espeak-ng) for ``text``, a sentence a line."""
        shift_of(voice)
        with self._lock:
            return "\n".join("".join(p) for p in self._voice.phonemize(text) if p)

    # -- lengths --------------------------------------------------------------------------------
    @staticmethod
    def _noise(ids: list[int]):
        import numpy as np

        seed = np.frombuffer(hashlib.sha256(np.asarray(ids, dtype="<i8").tobytes()).digest(), dtype="<u4")
        return np.random.default_rng(seed)

    def _unit_frames(self, ids: list[int]):
        """Frames per phoneme at length scale 1 (float32), as the flow will compute them."""
        frames = self._frames.get(tuple(ids))
        return self._encode(ids, keep=True)[0] if frames is None else frames

    def _encode(self, ids: list[int], keep: bool):
        """Run the text graph on ``ids``: ``(frames per phoneme at scale 1, what the flow takes)``.
        ``keep``: hold the outputs for the synthesis to come, within :data:`ENCODED_BUDGET`."""
        import numpy as np

        rng = self._noise(ids)
        feed = self._inputs(ids, 1.0) | {DP_NOISE: rng.standard_normal((1, 2, len(ids))).astype(np.float32)}
        outputs = self._text.run(None, feed)
        frames = outputs[0].reshape(-1).astype(np.float32)
        k = tuple(ids)
        with self._lock:  # threads may both compute it: the same value
            if len(self._frames) > 4096:
                self._frames.clear()
            self._frames[k] = frames
            size = sum(o.nbytes for o in outputs)
            if keep and k not in self._encoded and self._encoded_bytes + size <= ENCODED_BUDGET:
                self._encoded[k] = tuple(outputs)
                self._encoded_bytes += size
        return frames, outputs

    def _encoded_for(self, ids: list[int]):
        """The text graph's outputs for ``ids``: those kept by a length (and let go), else run now."""
        with self._lock:
            outputs = self._encoded.pop(tuple(ids), None)
            if outputs is not None:
                self._encoded_bytes -= sum(o.nbytes for o in outputs)
                return outputs
        return self._encode(ids, keep=False)[1]

    @staticmethod
    def _inputs(ids: list[int], scale: float) -> dict:
        import numpy as np

        return {"input": np.asarray([ids], dtype=np.int64), "input_lengths": np.asarray([len(ids)], dtype=np.int64),
                "scales": np.asarray([NOISE_SCALE, scale, NOISE_W], dtype=np.float32)}

    @staticmethod
    def _scale(rate: int) -> float:
        return NATURAL_RATE / rate

    def _id_frames(self, ids: list[int], scale: float):
        """Frames per phoneme id at ``scale``, as the speech graph rounds them (up, each)."""
        import numpy as np

        return np.ceil(self._unit_frames(ids) * np.float32(scale)).astype(np.int64)

    def _part_frames(self, ids: list[int], scale: float) -> int:
        return max(1, int(self._id_frames(ids, scale).sum()))

    def _layout(self, text: str) -> list[tuple[str, object]]:
        """What :meth:`speak` puts one after the other, the one account :meth:`length` sums too:
        ``("sentence", offset)`` where a sentence starts, ``("pause", samples)`` and ``("part", ids)``.
        The last text's is kept: :meth:`rate_for` asks for the lengths of one text at several rates."""
        last, layout = self._layout_of
        if last == text and layout:
            return layout
        sentence_pause, part_pause = (round(s * self.SAMPLE_RATE) for s in (SENTENCE_PAUSE, PART_PAUSE))
        layout: list[tuple[str, object]] = []
        for i, (offset, sentence) in enumerate(sentences(text)):
            layout += [("pause", sentence_pause)] if i else []
            layout.append(("sentence", offset))
            for j, ids in enumerate(self._parts(sentence)):
                layout += [("pause", part_pause), ("part", ids)] if j else [("part", ids)]
        self._layout_of = (text, layout)
        return layout

    def length(self, text: str, voice: str, rate: int) -> int:
        """Exactly how many samples :meth:`speak` will give (a tenth of the cost of speaking)."""
        shift_of(voice)
        scale = self._scale(rate)
        return sum(value if kind == "pause" else self._part_frames(value, scale) * HOP
                   for kind, value in self._layout(text) if kind != "sentence")

    def rate_for(self, text: str, voice: str, target: int, band: tuple[int, int]) -> int:
        """The slowest rate in ``band`` whose speech fits in ``target`` samples (the band's top if none does)."""
        low, high = band
        if self.length(text, voice, high) > target:
            return high
        while low < high:  # lengths fall as the rate rises
            mid = (low + high) // 2
            if self.length(text, voice, mid) <= target:
                high = mid
            else:
                low = mid + 1
        return low

    # -- speech ---------------------------------------------------------------------------------
    def speak(self, text: str, voice: str, rate: int) -> Speech:
        """``text`` in ``voice`` at ``rate`` (:data:`NATURAL_RATE` is the voice's own pace)."""
        import numpy as np

        shift = shift_of(voice)
        low, high = self.RATE_LIMITS
        if not low <= rate <= high:
            raise ValueError(f"rate {rate} outside Piper's range {low}-{high}")
        scale = self._scale(rate)
        layout = self._layout(text)
        parts = [ids for kind, ids in layout if kind == "part"]
        if not parts:
            raise ValueError(f"no speech for {text[:40]!r}")
        text_of = dict(sentences(text))
        samples = np.zeros(sum(value if kind == "pause" else self._part_frames(value, scale) * HOP
                               for kind, value in layout if kind != "sentence"), dtype="<i2")
        voiced = self._voiced(parts, scale)
        spans, at = [], 0  # (start, end) of each sentence's samples
        words, part, pause = [], 0, 0
        sentence: list = []  # the float samples of the sentence being put together

        def close() -> None:
            """The sentence put together: shifted (whole: the pauses between sentences are silence
            at any pitch) and written as 16-bit samples."""
            if sentence:
                audio = np.concatenate(sentence)
                sentence.clear()
                if shift:
                    audio = _shift(audio, self.SAMPLE_RATE, shift)
                samples[spans[-1][0]:spans[-1][1]] = to_int16(audio)

        for kind, value in layout:
            if kind == "sentence":
                close()
                spans.append([at, at])
                # where each word starts, as (offset, part, phoneme id), while the pool speaks
                starts_here, part = [(value + o, j, i) for o, j, i in self._word_starts(text_of[value])], 0
            elif kind == "pause":
                at, pause = at + value, value
            else:  # the words that start in this part: its start plus the frames before them
                frames = self._id_frames(value, scale)
                words += [Sentence(offset=o, sample=at + int(frames[:i].sum()) * HOP) for o, j, i in starts_here if j == part]
                if sentence:  # the pause between two parts of the sentence
                    sentence.append(np.zeros(pause, dtype=np.float32))
                sentence.append(next(voiced))
                at += len(sentence[-1])
                spans[-1][1], part = at, part + 1
        close()
        with self._lock:  # what lengths kept and this text did not use
            self._encoded.clear()
            self._encoded_bytes = 0
        self._decoder.run(None, {DECODER_INPUT: np.zeros((1, 192, 1), np.float32)}, self._shrink)  # the arena's pages
        give_back()  # before the caller levels and encodes: the pieces' pages back to the system
        starts = tuple(Sentence(offset=value, sample=span[0])
                       for (kind, value), span in zip((x for x in layout if x[0] == "sentence"), spans))
        return Speech(samples=samples, sample_rate=self.SAMPLE_RATE, voice=voice, rate=rate, sentences=starts,
                      words=tuple(words))

    def _voiced(self, parts: list[list[int]], scale: float):
        """Each part's samples (float32), in order. The pool reads a part's latent frames, then
        decodes it in pieces, on every core (onnxruntime lets go of the GIL), a few jobs ahead of
        the caller and no more: a long answer's frames and samples are never all held at once.
        Each part's samples depend only on its phoneme ids, so the order jobs finish in changes
        nothing."""
        import numpy as np
        from collections import deque

        pool = self._pool()
        ahead = 2 * self._workers  # pieces in flight
        todo, pending = iter(parts), deque()
        reads = deque()  # parts whose frames are being read, one part ahead of their pieces

        def read_next() -> None:
            ids = next(todo, None)
            if ids is not None:
                reads.append((pool.submit(self._read, ids, scale), pieces(self._part_frames(ids, scale))))

        def submit() -> bool:
            if not reads:
                return False
            read, spans = reads.popleft()
            read_next()  # the next part's frames, before this part's pieces queue behind it
            # A piece's job waits for its part's frames; the pool takes jobs in order, so that
            # read started before any of these pieces can wait for it.
            pending.append([pool.submit(lambda a, b: self._decode(read.result(), a, b), a, b) for a, b in spans])
            return True

        def fill() -> None:
            while sum(map(len, pending)) < ahead and submit():
                pass

        read_next()
        fill()
        while pending:
            futures = pending.popleft()
            audio = np.concatenate([f.result() for f in futures])
            del futures
            fill()
            yield audio

    def _pool(self):
        """Threads for the parts of one text: one per core this process may use (its share, in a
        build's worker: :func:`~.engine.share_cores`), at most :data:`MAX_THREADS` (each part in
        flight holds its own activations)."""
        if self._threads is None:
            from concurrent.futures import ThreadPoolExecutor

            from .engine import cores_to_use

            self._workers = max(1, min(cores_to_use(), MAX_THREADS))
            self._threads = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="piper")
        return self._threads

    def _read(self, ids: list[int], scale: float):
        """The latent frames of one part (the text and flow graphs), within the frame budget."""
        frames = self._part_frames(ids, scale)
        with self._budget:  # wait until the parts in flight leave room for this one (or none is in flight)
            self._budget.wait_for(lambda: self._in_flight == 0 or self._in_flight + frames <= FRAME_BUDGET)
            self._in_flight += frames
        try:
            import numpy as np

            rng = self._noise(ids)
            rng.standard_normal((1, 2, len(ids)))  # the duration noise, drawn first (the text graph's)
            prior = rng.standard_normal((1, 192, frames)).astype(np.float32)
            durations, *encoded = self._encoded_for(ids)
            feed = dict(zip(ENCODED, encoded)) | {DURATIONS: durations, PRIOR_NOISE: prior,
                                                  "scales": self._inputs(ids, scale)["scales"]}
            latent = self._flow.run(None, feed)[0]
            if latent.shape[2] != frames:  # the length promised is the length given, or nothing
                raise RuntimeError(f"Piper gave {latent.shape[2]} frames where its duration graph promised {frames}")
            return latent
        finally:
            with self._budget:
                self._in_flight -= frames
                self._budget.notify_all()

    def _decode(self, latent, start: int, end: int):
        """The samples of frames ``start`` to ``end`` of ``latent``: the piece is decoded
        with :data:`DECODER_CONTEXT` frames either side, which are then dropped, so the samples are
        those of a decode of the whole (to within float rounding, and the same on every run)."""
        import numpy as np

        frames = latent.shape[2]
        low, high = max(0, start - DECODER_CONTEXT), min(frames, end + DECODER_CONTEXT)
        audio = self._decoder.run(None, {DECODER_INPUT: np.ascontiguousarray(latent[:, :, low:high])})[0].reshape(-1)
        return audio[(start - low) * HOP:(end - low) * HOP].astype(np.float32)

    # -- what the audio depends on ------------------------------------------------------------
    @classmethod
    @cache
    def versions(cls) -> dict[str, str]:
        """Versions of everything the bytes depend on, the model's hash and the CPU's instruction set."""
        from .piper_model import GRAPH_VERSION, cpu_class, file_digest, joe

        return {**{p: package_version(p) for p in ("piper-tts", "onnxruntime", "pedalboard")},
                "model": file_digest(joe().model)[:16], "graph": GRAPH_VERSION, "shift": SHIFT_METHOD, "cpu": cpu_class()}

    @classmethod
    def fingerprint(cls) -> str:
        return fingerprint_of(cls.versions())


SHIFT_METHOD = "rubberband-formants-r2-palette-r3-others"  # in the fingerprint: the shifted voices' bytes follow it


def _shift(audio, sample_rate: int, semitones: float):
    """``audio`` ``semitones`` higher or lower, formants and length kept (Rubber Band, deterministic).
    The palette's small upward shifts take its faster engine (R2, ``high_quality=False``): 0.57 CPU s
    per minute of audio against R3's 0.89, and as natural to DNSMOS, as well understood and as high
    (benchmarks/naturalness.py, docs/voices.md). Other shifts keep R3: R2 hurt the listener's score
    at -2 semitones (docs/engineering-notes.md)."""
    import numpy as np
    from pedalboard import time_stretch

    out = time_stretch(audio.reshape(1, -1), sample_rate, stretch_factor=1.0, pitch_shift_in_semitones=float(semitones),
                       preserve_formants=True, high_quality=semitones not in PALETTE_SHIFTS).reshape(-1)[: len(audio)]
    # Rubber Band keeps the length at a stretch of 1; should it ever give less, hold it to that
    return np.pad(out, (0, len(audio) - len(out))).astype(np.float32)
