"""What rendering one answer comes to: :class:`AnswerAudio` and the answer's outcome.

A worker speaks, fits, levels and encodes an answer; what it hands back is one record per
answer, carried with the answer through scheduling and into the page writer:

- :class:`Rendered`: its audio (and what was spoken, in which voice);
- :class:`Refused`: it cannot fill its runtime at a natural rate (not published, by design);
- :class:`Failed`: rendering broke (an exception, a worker killed by the system). A page with a
  failed answer is never published: its last published episode stays.

:class:`AnswerAudio` has a serialization of its own (:meth:`AnswerAudio.record`,
:meth:`AnswerAudio.from_record`): plain JSON beside the frames, which the cache stores and checks.
"""

from __future__ import annotations

from dataclasses import dataclass

from .encoding import frame_count


@dataclass(frozen=True)
class Cue:
    start: float  # seconds in the decoded MP3
    end: float
    text: str
    speaker: str
    # Where words of ``text`` start: (index in ``text.split()``, seconds after ``start``), for the
    # words the engine timed; captions cut inside the sentence start there.
    marks: tuple[tuple[int, float], ...] = ()

    def shifted(self, seconds: float) -> Cue:
        return Cue(self.start + seconds, self.end + seconds, self.text, self.speaker, self.marks)


@dataclass(frozen=True)
class AnswerAudio:
    """One answer, spoken, fitted and encoded."""

    mp3: bytes  # headerless CBR frames
    rate: int
    silence_added: float
    speech_seconds: float
    needed_rate: float
    cues: tuple[Cue, ...]  # one per spoken sentence, timed in the decoded MP3
    loudness: float | None = None  # LUFS integrated, as levelled
    true_peak: float | None = None  # dBTP before encoding
    passes: int = 1  # syntheses fitting took (1: the planned rate was kept)

    @property
    def frames(self) -> int:
        return frame_count(self.mp3)

    def record(self) -> dict:
        """Everything but the frames, as JSON-ready data (:meth:`from_record` reads it back)."""
        return {"rate": self.rate, "silence_added": self.silence_added, "speech_seconds": self.speech_seconds,
                "needed_rate": self.needed_rate, "loudness": self.loudness, "true_peak": self.true_peak,
                "passes": self.passes,
                "cues": [[c.start, c.end, c.text, c.speaker, [list(m) for m in c.marks]] for c in self.cues]}

    @classmethod
    def from_record(cls, mp3: bytes, a: dict) -> AnswerAudio:
        """The audio of ``mp3`` described by ``a`` (:meth:`record`); ValueError, KeyError,
        TypeError or IndexError if ``a`` is not such a record."""
        return cls(
            mp3=mp3, rate=int(a["rate"]), silence_added=float(a["silence_added"]),
            speech_seconds=float(a["speech_seconds"]), needed_rate=float(a["needed_rate"]),
            cues=tuple(Cue(float(c[0]), float(c[1]), str(c[2]), str(c[3]),
                           tuple((int(i), float(t)) for i, t in (c[4] if len(c) > 4 else ()))) for c in a["cues"]),
            loudness=None if a["loudness"] is None else float(a["loudness"]),
            true_peak=None if a["true_peak"] is None else float(a["true_peak"]),
            passes=int(a["passes"]),
        )


@dataclass(frozen=True)
class Rendered:
    """An answer spoken and encoded: published."""

    audio: AnswerAudio
    spoken: str = ""  # what the engine was given (after normalization and the lexicon)
    voice: str = ""  # the engine's voice id
    cached: bool = False  # taken from the cache rather than rendered in this build


@dataclass(frozen=True)
class Refused:
    """An answer that would need a rate above the natural band: not published."""

    reason: str
    needed_rate: float


@dataclass(frozen=True)
class Failed:
    """An answer whose rendering broke: its page is not published (its last episode stays)."""

    reason: str


Outcome = Rendered | Refused | Failed
