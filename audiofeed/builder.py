"""The build: ``articles/`` in, ``output/`` out, through the stages in order.

read (:mod:`.reading`) -> speak (:mod:`.speech`) -> fit (:mod:`.fitting`) -> encode
(:mod:`.encoding`) and tag (:mod:`.tagging`, :mod:`.episode`) -> publish (:mod:`.publishing`).

Everything is read first, then answers are rendered in a process pool (speak, fit and encode are
per answer), then pages are assembled and the feeds written. The build is written to a staging
folder beside the output and swapped in at the end, so an interrupted build leaves the last good
output as it was. A page that fails to read keeps its last published episode. The core never
prints: it reports progress through a callback and returns a :class:`BuildReport`.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import shutil
import signal
import statistics
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, wait, FIRST_COMPLETED
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

from .encoding import content_samples, duration_ms, encode, frames_for_content, frames_for_runtime
from .episode import RECORD_FILE, AnswerAudio, Episode, RefusedAnswer, format_runtime, make_episode
from .fitting import RATE_BAND, REFERENCE_RATE, FitError, fit_to_runtime, needed_rate, pad_to, planned_rate
from .publishing import ANSWERS_FILE, COVER_FILE, FEED_FILE, Channel, answers_feed, episodes_feed
from .reading import Page, PageError, find_pages, read_page, slug_for
from .site import assets as site_assets
from .site import render_index, render_page
from .speech import assign_voices, speaker, spoken_text
from .transcripts import sentence_cues

MARKER_FILE = ".audiofeed"
INDEX_FILE = "index.html"


class BuildError(Exception):
    """The build cannot start or finish (not a problem with one page)."""


@dataclass(frozen=True)
class BuildOptions:
    articles: Path = Path("articles")
    output: Path = Path("output")
    channel: Channel = Channel()
    jobs: int = 0  # 0: one per core
    band: tuple[int, int] = RATE_BAND


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
    status: str  # ok, lead, padded, refused
    message: str = ""


@dataclass
class BuildReport:
    output: Path
    answers: list[AnswerReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one line each: FILE:LINE: what is wrong
    pages_built: int = 0
    pages_kept: int = 0  # pages that failed to read but keep their last published episode
    seconds: float = 0.0
    refused: dict[str, list] = field(default_factory=dict)  # page slug -> RefusedAnswer

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class AnswerJob:
    """Everything a worker needs to render one answer (picklable)."""

    slug: str
    index: int
    text: str
    voice: str
    target_frames: int | None  # None: no runtime to meet (lead answer)
    rate: int
    band: tuple[int, int]
    reference_samples: int | None = None  # length at REFERENCE_RATE, once measured
    speaker: str = ""  # the doctor, named in transcripts


def measure_answer(job: AnswerJob) -> int:
    """The answer's length in samples at :data:`REFERENCE_RATE`: what fitting starts from."""
    return len(speaker().speak(job.text, job.voice, REFERENCE_RATE).samples)


def render_answer(job: AnswerJob) -> AnswerAudio:
    """Speak, fit and encode one answer. Raises :class:`FitError` if it cannot fit."""
    speak = speaker().speak
    if job.target_frames is None:
        speech = speak(job.text, job.voice, job.rate)
        frames = frames_for_content(len(speech.samples))
        if content_samples(frames) < len(speech.samples):
            frames += 1
        fitted = pad_to(speech, content_samples(frames))
    else:
        fitted = fit_to_runtime(
            lambda rate: speak(job.text, job.voice, rate),
            content_samples(job.target_frames),
            job.band,
            job.reference_samples,
        )
    return AnswerAudio(
        mp3=encode(fitted.samples),
        rate=fitted.rate,
        silence_added=fitted.silence_added,
        speech_seconds=fitted.speech_seconds,
        needed_rate=fitted.needed_rate,
        cues=tuple(sentence_cues(job.text, fitted.sentences, fitted.samples, job.speaker)),
    )


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _worker_init() -> None:
    # Ctrl-C is the parent's to handle: it stops the pool and leaves the output as it was.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # If the parent is killed outright, go with it rather than linger (Linux only).
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def make_executor(jobs: int) -> Executor:
    """A process pool. Any ``concurrent.futures.Executor`` will do (the build only submits)."""
    # fork: workers start at once with everything imported; espeak state is isolated per
    # utterance by the driver, so nothing the parent did leaks into the audio.
    return ProcessPoolExecutor(
        max_workers=jobs, mp_context=multiprocessing.get_context("fork"), initializer=_worker_init
    )


Progress = Callable[[int, int, str], None]


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _check_output(output: Path) -> None:
    if output.exists() and not output.is_dir():
        raise BuildError(f"{output}: exists and is not a folder")
    if output.is_dir() and any(output.iterdir()) and not (output / MARKER_FILE).exists():
        raise BuildError(
            f"{output}: folder exists, is not empty and was not made by audiofeed; "
            "choose another output folder or empty it"
        )


def _swap_in(staging: Path, output: Path) -> None:
    """Replace ``output`` by ``staging`` with two renames; the old output lives until the second."""
    old = output.with_name(f".{output.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if output.exists():
        os.replace(output, old)
    os.replace(staging, output)
    if old.exists():
        shutil.rmtree(old)


def build(options: BuildOptions, progress: Progress | None = None, executor: Executor | None = None) -> BuildReport:
    """Build every page under ``options.articles`` into ``options.output``.

    Returns a report with one row per answer and one line per problem. Pages with problems are
    not built (their last published episode, if any, is kept); the others are.
    """
    started = time.perf_counter()
    articles, output, channel = options.articles, options.output, options.channel
    if not articles.is_dir():
        raise BuildError(f"{articles}: no such folder of articles")
    _check_output(output)
    report = BuildReport(output=output)

    # read
    pages: list[Page] = []
    failed: list[Path] = []
    for path in find_pages(articles):
        try:
            pages.append(read_page(path))
        except PageError as e:
            report.problems.extend(e.lines())
            failed.append(path)
    slugs: dict[str, Path] = {}
    for page in list(pages):
        if page.slug in slugs:
            report.problems.append(f"{page.source}: same page name as {slugs[page.slug]}; rename one")
            pages.remove(page)
        else:
            slugs[page.slug] = page.source

    # speak, fit, encode
    voices = assign_voices([page.doctors for page in pages])
    audio = _render_all(pages, voices, options, report, progress, executor)

    # encode and tag, publish: into a staging folder, swapped in at the end
    staging = output.with_name(f".{output.name}.staging")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    cover = resources.files("audiofeed").joinpath("assets", "cover.png").read_bytes()
    episodes: list[Episode] = []
    for page in pages:
        page_audio = {i: audio[(page.slug, i)] for i in range(len(page.answers)) if (page.slug, i) in audio}
        made = make_episode(
            page, page_audio, album=channel.title, publisher=channel.author, cover=cover,
            base_url=channel.url(""), language=channel.language, refused=report.refused.get(page.slug),
        )
        for name, data in made.files.items():
            _atomic_write(staging / name, data)
        _atomic_write(staging / page.slug / "index.html", render_page(channel, made.episode, made.sections).encode())
        episodes.append(made.episode)
        report.pages_built += 1
    for path in failed:
        kept = _keep_published(output, staging, slug_for(path))
        if kept:
            episodes.append(kept)
            report.pages_kept += 1
            report.problems.append(f"{path}: not rebuilt; its last published episode stays in the feeds until it is fixed")
    _atomic_write(staging / COVER_FILE, cover)
    for name, data in site_assets().items():
        _atomic_write(staging / name, data)
    _atomic_write(staging / INDEX_FILE, render_index(channel, episodes).encode())
    _atomic_write(staging / MARKER_FILE, b"made by audiofeed; safe to delete with everything here\n")
    # Feeds last: they reference everything above.
    _atomic_write(staging / ANSWERS_FILE, answers_feed(channel, episodes))
    _atomic_write(staging / FEED_FILE, episodes_feed(channel, episodes))
    _swap_in(staging, output)
    report.answers.sort(key=lambda r: (r.source, r.index))
    report.seconds = time.perf_counter() - started
    return report


def _render_all(
    pages: list[Page], voices: dict[str, str], options: BuildOptions, report: BuildReport,
    progress: Progress | None, executor: Executor | None,
) -> dict[tuple[str, int], AnswerAudio]:
    """Render every answer in the pool.

    Answers with a runtime are first measured at the reference rate (quick), which plans their
    rate; a page's lead answer is spoken at the median of its page's rates, so it is submitted
    as soon as that page is measured rather than after the page is done. If fitting ends on
    other rates than planned (rare) and the median moves, the lead is rendered again.
    """
    audio: dict[tuple[str, int], AnswerAudio] = {}
    total = sum(len(p.answers) for p in pages)
    done = 0
    own_executor = executor is None
    executor = executor or make_executor(options.jobs or default_jobs())
    running: dict[Future, tuple[str, Page, int]] = {}
    jobs: dict[tuple[str, int], AnswerJob] = {}
    planned: dict[str, dict[int, int]] = {p.slug: {} for p in pages}
    lead_rate: dict[str, int] = {}

    def submit(kind: str, page: Page, index: int, job: AnswerJob) -> None:
        jobs[(page.slug, index)] = job
        fn = measure_answer if kind == "measure" else render_answer
        running[executor.submit(fn, job)] = (kind, page, index)

    def submit_lead(page: Page, rates: list[int]) -> None:
        lead_rate[page.slug] = round(statistics.median(rates)) if rates else REFERENCE_RATE
        submit("render", page, 0, replace(_job(page, 0, voices, options), rate=lead_rate[page.slug]))

    measuring = {p.slug: sum(1 for a in p.answers if a.listed_runtime is not None) for p in pages}
    for page in pages:
        if not measuring[page.slug]:
            submit_lead(page, [])
    for page, index in sorted(
        ((p, i) for p in pages for i, a in enumerate(p.answers) if a.listed_runtime is not None),
        key=lambda pi: -(pi[0].answers[pi[1]].listed_runtime or 0),  # longest first: better packing
    ):
        submit("measure", page, index, _job(page, index, voices, options))
    try:
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                kind, page, index = running.pop(future)
                answer = page.answers[index]
                if kind == "measure":
                    try:
                        reference = future.result()
                    except Exception as e:  # noqa: BLE001  (one answer's failure must not stop the build)
                        reference = None
                        _failed(report, page, index, e)
                        done += 1
                    else:
                        job = replace(jobs[(page.slug, index)], reference_samples=reference)
                        submit("render", page, index, job)
                        target = content_samples(job.target_frames)
                        if needed_rate(reference, target) <= options.band[1]:
                            planned[page.slug][index] = planned_rate(reference, target, options.band)
                    measuring[page.slug] -= 1
                    if measuring[page.slug] == 0:
                        submit_lead(page, list(planned[page.slug].values()))
                    continue
                try:
                    result = future.result()
                except FitError as e:
                    report.problems.append(
                        f"{page.source}:{answer.line}: refused {answer.question!r}: {e} "
                        f"(listed {format_runtime(answer.listed_runtime)})"
                    )
                    report.answers.append(_row(page, index, None, "refused", f"needs {e.needed_rate:.0f} wpm"))
                    report.refused.setdefault(page.slug, []).append(
                        RefusedAnswer(index, answer.question, answer.doctor, answer.listed_runtime, round(e.needed_rate, 1))
                    )
                except Exception as e:  # noqa: BLE001
                    _failed(report, page, index, e)
                else:
                    audio[(page.slug, index)] = result
                    if index == 0:
                        lead_rate[page.slug] = result.rate
                    report.answers.append(_row(page, index, result, *_status(result, answer, options.band)))
                done += 1
                if progress:
                    progress(done, total, page.title)
            if not running:
                for page in pages:  # did fitting move a page's median rate?
                    rates = [audio[(page.slug, i)].rate for i in range(1, len(page.answers)) if (page.slug, i) in audio]
                    if rates and (page.slug, 0) in audio and round(statistics.median(rates)) != lead_rate[page.slug]:
                        report.answers = [r for r in report.answers if not (r.page == page.slug and r.index == 0)]
                        del audio[(page.slug, 0)]
                        done -= 1
                        submit_lead(page, rates)
    finally:
        if own_executor:
            executor.shutdown(cancel_futures=True)
    return audio


def _job(page: Page, index: int, voices: dict[str, str], options: BuildOptions) -> AnswerJob:
    answer = page.answers[index]
    text, _ = spoken_text(answer.question, answer.text)
    return AnswerJob(
        slug=page.slug,
        index=index,
        text=text,
        voice=voices[answer.doctor],
        target_frames=None if answer.listed_runtime is None else frames_for_runtime(answer.listed_runtime),
        rate=REFERENCE_RATE,
        band=options.band,
        speaker=answer.doctor,
    )


def _failed(report: BuildReport, page: Page, index: int, error: Exception) -> None:
    answer = page.answers[index]
    report.problems.append(
        f"{page.source}:{answer.line}: could not render {answer.question!r}: {type(error).__name__}: {error}"
    )
    report.answers.append(_row(page, index, None, "failed", str(error)))


def _keep_published(output: Path, staging: Path, slug: str) -> Episode | None:
    record = output / slug / RECORD_FILE
    if not record.is_file():
        return None
    try:
        episode = Episode.from_json(record.read_text(encoding="utf-8"))
    except (ValueError, TypeError, KeyError):
        return None
    shutil.copytree(output / slug, staging / slug, copy_function=_link_or_copy)
    return episode


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _status(a: AnswerAudio, answer, band: tuple[int, int]) -> tuple[str, str]:
    if answer.listed_runtime is None:
        return "lead", "no listed runtime: spoken at the page's median rate"
    if a.needed_rate < band[0]:
        return "padded", f"needs {a.needed_rate:.0f} wpm, below {band[0]}: {a.silence_added:.1f} s of silence added"
    return "ok", ""


def _row(page: Page, index: int, a: AnswerAudio | None, status: str, message: str) -> AnswerReport:
    answer = page.answers[index]
    return AnswerReport(
        source=page.source.name,
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
    )
