"""What a build reports: a row per answer (:class:`AnswerReport`) and the whole (:class:`BuildReport`).

The core never prints: the command line renders these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from ..audio.answer import AnswerAudio
from ..audio.encoding import duration_ms
from ..problems import Problem, Reported
from ..read import Page
from ..text import shown_name


class AnswerStatus(StrEnum):
    """What became of an answer in a build."""

    OK = "ok"  # fitted to its listed runtime
    LEAD = "lead"  # no listed runtime: spoken at the page's median planned rate
    PADDED = "padded"  # fitted, with more silence than speech alone would have (rate at the band's bottom)
    REFUSED = "refused"  # would need a rate above the band: not published
    FAILED = "failed"  # rendering failed: not published

    @property
    def published(self) -> bool:
        return self not in (AnswerStatus.REFUSED, AnswerStatus.FAILED)


@dataclass
class AnswerReport:
    """One row of the build summary."""

    source: str
    page: str
    index: int
    question: str
    doctor: str
    listed: int | None  # seconds
    actual_ms: int | None
    rate: int | None
    silence_added: float | None
    status: AnswerStatus
    message: str = ""
    loudness: float | None = None  # LUFS integrated
    true_peak: float | None = None  # dBTP


@dataclass
class BuildReport(Reported):
    output: Path
    answers: list[AnswerReport] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # errors fail the build; warnings do not
    pages_built: int = 0
    pages_unchanged: int = 0
    pages_kept: int = 0  # pages not published by this build (unreadable, or an answer failed) that keep their last episode
    pages_removed: int = 0
    answers_rendered: int = 0  # synthesized and encoded in this build
    answers_cached: int = 0  # taken from the cache
    second_passes: int = 0  # rendered answers whose planned rate missed: synthesized more than once
    voices_calibrated: int = 0  # voice models measured in this build (the others came from the cache)
    nothing_changed: bool = False
    rendered_on: str = ""  # "2 local process(es)", "4 worker thread(s) of tcp://..."
    seconds: float = 0.0


def _status(a: AnswerAudio, answer, band: tuple[int, int]) -> tuple[AnswerStatus, str]:
    if answer.listed_runtime is None:
        return AnswerStatus.LEAD, "no listed runtime: spoken at the median of the page's planned rates"
    if a.needed_rate < band[0]:
        return AnswerStatus.PADDED, f"needs {a.needed_rate:.0f} wpm, below {band[0]}: {a.silence_added:.1f} s of silence added"
    return AnswerStatus.OK, ""


def _row(page: Page, index: int, a: AnswerAudio | None, status: AnswerStatus, message: str) -> AnswerReport:
    answer = page.answers[index]
    return AnswerReport(
        source=shown_name(page.source.name),
        page=page.slug,
        index=index,
        question=answer.question,
        doctor=answer.doctor,
        listed=answer.listed_runtime,
        actual_ms=duration_ms(a.frames) if a else None,
        rate=a.rate if a else None,
        silence_added=a.silence_added if a else None,
        status=status,
        message=message,
        loudness=a.loudness if a else None,
        true_peak=a.true_peak if a else None,
    )

