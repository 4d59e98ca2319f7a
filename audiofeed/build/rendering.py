"""Rendering jobs: a page's answers planned as :class:`AnswerJob` s, and what a worker does with one.

A job carries everything a worker needs (it is picklable and names no file), so any executor
can run it: :func:`render_answer` speaks, fits, levels and encodes one answer, and
:func:`calibrate_voice` measures a voice's pacing model. :class:`Planner` makes a page's jobs,
with each answer's rate planned before anything is spoken.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field, replace

from .cache import key
from ..audio.encoding import (BITRATE_KBPS, OUTPUT_RATE, content_samples, encode, frames_for_content, frames_for_runtime,
                              resample)
from ..audio.answer import AnswerAudio, Refused, Rendered
from ..audio.fitting import FitError, fit_to_runtime, pad_to
from ..audio.loudness import integrated_loudness, level
from ..speech.pacing import VoiceModel, calibrate
from ..speech.verbalize import to_speak
from ..names import VOICE_NOTE_SPEAKER
from ..read import Page
from ..read.pages import MAX_RUNTIME, format_runtime
from ..speech.lexicon import Lexicon, spoken_text
from ..speech.engine import default_engine, engine_for, engine_type, predicts
from ..publish.transcripts import sentence_cues


# How far the pacing model's estimate of an answer's length may exceed the longest runtime before
# the answer is refused unspoken: the model is within a few percent on real answers, so this
# refuses only what could never be published.
LENGTH_MARGIN = 1.15


@dataclass(frozen=True)
class AnswerJob:
    """Everything a worker needs to render one answer (picklable)."""

    slug: str
    index: int
    text: str  # what is spoken (after normalization and the lexicon)
    display: str  # what is shown, for transcripts
    offsets: tuple[tuple[int, int], ...]  # spoken offset -> display offset, where they diverge
    voice: str
    target_frames: int | None  # None: no runtime to meet (lead answer)
    rate: int
    band: tuple[int, int]
    doctor: str = ""  # named in transcripts as the speaker
    engine: str = field(default_factory=default_engine)  # the speech engine, by its name in :data:`~audiofeed.speech.engine.ENGINES`
    kbps: int = BITRATE_KBPS  # the MP3's bit rate

    def render_key(self) -> str:
        fields = dict(text=self.text, display=self.display, voice=self.voice, frames=self.target_frames,
                      band=list(self.band), rate=self.rate, speaker=self.doctor)
        if self.kbps != BITRATE_KBPS:  # the default's keys stay as they were: the cache keeps its entries
            fields["kbps"] = self.kbps
        return key("render", self.engine, **fields)


@dataclass(frozen=True)
class CalibrationJob:
    """Measure one voice's pacing model (picklable)."""

    voice: str
    engine: str = field(default_factory=default_engine)


def calibrate_voice(job: CalibrationJob) -> dict:
    """A voice's pacing model (:mod:`~audiofeed.speech.pacing`), as JSON-ready data."""
    return calibrate(job.voice, job.engine).to_json()


def render_answer(job: AnswerJob) -> Rendered | Refused:
    """Speak, fit, level and encode one answer: :class:`~audiofeed.audio.answer.Rendered`, or
    :class:`~audiofeed.audio.answer.Refused` if it cannot fill its runtime at a natural rate.
    Anything else that goes wrong raises (the scheduler makes it the answer's ``Failed``)."""
    try:
        return Rendered(speak_answer(job), spoken=job.text, voice=job.voice)
    except FitError as e:
        return Refused(str(e), e.needed_rate)


def speak_answer(job: AnswerJob) -> AnswerAudio:
    """Speak, fit, level and encode one answer. Raises :class:`~.fitting.FitError` if it cannot fit."""
    engine = engine_for(job.engine)
    hz = engine.SAMPLE_RATE
    if job.target_frames is None:
        speech = engine.speak(job.text, job.voice, job.rate)
        hz = speech.sample_rate
        frames = frames_for_content(len(speech.samples), hz)
        if content_samples(frames, hz) < len(speech.samples):
            frames += 1
        fitted = pad_to(speech, content_samples(frames, hz))
    else:
        target = content_samples(job.target_frames, hz)
        # An engine that knows its lengths picks the exact rate (one synthesis); else the planned one.
        rate = engine.rate_for(job.text, job.voice, target, job.band) if predicts(engine) else job.rate
        fitted = fit_to_runtime(lambda rate: engine.speak(job.text, job.voice, rate), target, job.band, rate)
    # Loudness is measured once, on the speech as fitted (at the engine's rate: half the cost of 48 kHz).
    mp3, levelled = level_and_encode(fitted.samples, fitted.sample_rate,
                                     integrated_loudness(fitted.samples, fitted.sample_rate), job.kbps)
    return AnswerAudio(
        mp3=mp3,
        rate=fitted.rate,
        silence_added=fitted.silence_added,
        speech_seconds=fitted.speech_seconds,
        needed_rate=fitted.needed_rate,
        cues=tuple(sentence_cues(job.text, fitted.sentences, fitted.samples, fitted.sample_rate, job.doctor,
                                 job.display, job.offsets, fitted.words)),
        loudness=levelled.loudness,
        true_peak=levelled.true_peak,
        passes=fitted.passes,
    )


def level_and_encode(samples, sample_rate: int, loudness: float | None = None, kbps: int = BITRATE_KBPS):
    """Speech at ``sample_rate`` as MP3 frames: resampled to 48 kHz, levelled to -16 LUFS, encoded
    at ``kbps``. Returns the frames and the :class:`~audiofeed.audio.loudness.Levelled` figures."""
    levelled = level(resample(samples, sample_rate), OUTPUT_RATE, loudness, in_place=True)  # the resampled copy is ours
    return encode(levelled.samples, kbps), levelled


class Planner:
    """A page's jobs: its answers' spoken texts (normalized, then the lexicon), voices, runtimes and planned rates."""

    def __init__(self, voices: dict[str, str], lexicon: Lexicon, band: tuple[int, int],
                 models: dict[str, VoiceModel] | None = None, normalize: bool = True, engine: str | None = None,
                 kbps: int = BITRATE_KBPS):
        self.voices, self.lexicon, self.band, self.normalize, self.kbps = voices, lexicon, band, normalize, kbps
        self.models = models or {}
        self.engine = engine or default_engine()
        kind = engine_type(self.engine)
        self.sample_rate = kind.SAMPLE_RATE  # what the voice models count in
        self.default_rate = kind.DEFAULT_RATE  # a lead with no other answer to take the pace from

    def job(self, page: Page, index: int) -> AnswerJob:
        """Answer ``index`` of ``page`` as a job, at the engine's default rate (nothing planned yet)."""
        answer = page.answers[index]
        display, _ = spoken_text(answer.question, answer.text)
        text, offsets = to_speak(display, self.lexicon, self.normalize)
        return AnswerJob(
            slug=page.slug, index=index, text=text, display=display, offsets=offsets,
            voice=self.voices[answer.doctor],
            target_frames=None if answer.listed_runtime is None else frames_for_runtime(answer.listed_runtime),
            rate=self.default_rate, band=self.band, doctor=answer.doctor, engine=self.engine, kbps=self.kbps,
        )

    def voice_note_job(self, display: str, voice: str) -> AnswerJob:
        """The spoken disclosure (``display``, what it shows) as a job in ``voice``, with no
        runtime to meet, at the engine's own pace."""
        text, offsets = to_speak(display, self.lexicon, self.normalize)
        return AnswerJob(slug="", index=0, text=text, display=display, offsets=offsets, voice=voice, target_frames=None,
                         rate=self.default_rate, band=self.band, doctor=VOICE_NOTE_SPEAKER, engine=self.engine,
                         kbps=self.kbps)

    def too_long(self, job: AnswerJob) -> Refused | None:
        """An answer whose speech would last longer than any runtime allows, told from its text
        before any work (a lead has no runtime to bound it; a token without spaces, such as
        ``1,2,3,...,3000``, is one "word" but thousands of spoken ones)."""
        model = self.models.get(job.voice)
        if model is None:
            return None
        rate = job.rate if job.target_frames is None else self.band[1]
        seconds = model.samples(job.text, rate) / self.sample_rate
        if seconds <= MAX_RUNTIME * LENGTH_MARGIN:
            return None
        return Refused(f"it would take about {seconds / 60:.0f} min to say at {rate} wpm; an answer may last at most "
                       f"{format_runtime(MAX_RUNTIME)} (docs/limits.md)", needed_rate=0.0)

    def jobs(self, page: Page) -> list[AnswerJob]:
        """The page's jobs, longest first. Each answer's rate comes from its voice's model; the
        lead (no runtime) is spoken at the median of the rates planned for the others."""
        jobs = []
        for i in range(len(page.answers)):
            job = self.job(page, i)
            if job.target_frames is not None:
                job = replace(job, rate=self.models[job.voice].rate_for(job.text, content_samples(job.target_frames, self.sample_rate),
                                                                         self.band))
            jobs.append(job)
        rates = [j.rate for j in jobs if j.target_frames is not None]
        jobs = [replace(j, rate=round(statistics.median(rates))) if j.target_frames is None and rates else j
                for j in jobs]

        def length(j: AnswerJob) -> float:
            return content_samples(j.target_frames, self.sample_rate) if j.target_frames else self.models[j.voice].samples(j.text, j.rate)

        return sorted(jobs, key=lambda j: (-length(j), j.index))
