"""The build: ``articles/`` in, ``output/`` out, through the stages in order.

read (:mod:`.reading`) -> speak (:mod:`.speech`) -> fit (:mod:`.fitting`) -> level
(:mod:`.loudness`) -> encode (:mod:`.encoding`) and tag (:mod:`.tagging`, :mod:`.episode`) ->
publish (:mod:`.publishing`, :mod:`.site`).

- **Incremental.** Each page has a key: a hash of its source and of every setting that shapes
  its episode. A page whose key matches the last build's is linked into the new output as it
  is, with nothing re-rendered. Answers of changed pages come from a content-addressed cache
  (:mod:`.cache`) when they were rendered before. A rebuild with no change writes nothing.
- **Parallel.** Answers render in a process pool, through the ``concurrent.futures.Executor``
  interface only, so another executor can take its place. A few pages are open at a time and
  each is written as soon as it is complete, so memory does not grow with the number of pages.
- **Safe.** The new output is assembled in a staging folder beside the old one. Unchanged files
  are hard links to the old files. The feeds are written last, and the folders are swapped in
  at the end, so an interrupted build leaves the last good output as it was. A page that fails
  to read keeps its last published episode. A lock refuses a second build on the same output.

The core never prints. It reports progress through a callback and returns a
:class:`BuildReport`.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import multiprocessing
import os
import shutil
import signal
import statistics
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from importlib import resources
from pathlib import Path

from filelock import FileLock, Timeout

from . import __version__
from .cache import AudioCache, digest, engine_fingerprint, key
from .encoding import OUTPUT_RATE, audio_part, check_frames, content_samples, duration_ms, encode, frames_for_content, frames_for_runtime, resample
from .episode import AnswerAudio, Episode, RefusedAnswer, make_episode
from .fitting import RATE_BAND, REFERENCE_RATE, FitError, fit_to_runtime, pad_to
from .loudness import integrated_loudness, normalize
from .pacing import VoiceModel, calibrate, shipped_models
from .channel import Channel
from .names import ANSWERS_FILE, COVER_FILE, FEED_FILE, INDEX_FILE, MANIFEST_FILE, RECORD_FILE
from .problems import Problem, Severity, error, warning
from .reading import Page, PageError, find_pages, format_runtime, read_page, slug_for
from .site import assets as site_assets
from .site import fingerprint as site_fingerprint
from .storage import atomic_write, sync_folder_of, sync_tree
from .speech import SAMPLE_RATE, Lexicon, assign_voices, speaker, spoken_text
from .transcripts import sentence_cues

MANIFEST_FORMAT = 1


class BuildError(Exception):
    """The build cannot start or finish (not a problem with one page)."""


@dataclass(frozen=True)
class BuildOptions:
    articles: Path = Path("articles")
    output: Path = Path("output")
    channel: Channel = Channel()
    jobs: int = 0  # 0: one per core
    band: tuple[int, int] = RATE_BAND
    force: bool = False  # render everything again, ignoring the last build and the cache
    cache: Path | None = None  # None: .audiofeed-cache beside the output folder
    lexicon: tuple[tuple[str, str], ...] = ()  # pronunciations, for speech only
    pinned_voices: tuple[tuple[str, str], ...] = ()  # doctor -> espeak-ng voice
    default_voice: str | None = None  # accent the palette draws from, e.g. gmw/en-gb-x-rp
    cover: Path | None = None  # show art; None: audiofeed's own


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
class BuildReport:
    output: Path
    answers: list[AnswerReport] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # errors fail the build; warnings do not
    pages_built: int = 0
    pages_unchanged: int = 0
    pages_kept: int = 0  # pages that failed to read but keep their last published episode
    pages_removed: int = 0
    answers_rendered: int = 0  # synthesized and encoded in this build
    answers_cached: int = 0  # taken from the cache
    second_passes: int = 0  # rendered answers whose planned rate missed: synthesized more than once
    voices_calibrated: int = 0  # voice models measured in this build (the others came from the cache)
    nothing_changed: bool = False
    seconds: float = 0.0
    refused: dict[str, list] = field(default_factory=dict)  # page slug -> RefusedAnswer

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class AnswerJob:
    """Everything a worker needs to render one answer (picklable)."""

    slug: str
    index: int
    text: str  # what is spoken (after the lexicon)
    display: str  # what is shown, for transcripts
    offsets: tuple[tuple[int, int], ...]  # spoken offset -> display offset, where they diverge
    voice: str
    target_frames: int | None  # None: no runtime to meet (lead answer)
    rate: int
    band: tuple[int, int]
    speaker: str = ""  # the doctor, named in transcripts

    def render_key(self) -> str:
        return key("render", text=self.text, display=self.display, voice=self.voice, frames=self.target_frames,
                   band=list(self.band), rate=self.rate, speaker=self.speaker)


def calibrate_voice(voice: str) -> dict:
    """A voice's pacing model (:mod:`.pacing`), as JSON-ready data."""
    return calibrate(voice).to_json()


def render_answer(job: AnswerJob) -> AnswerAudio:
    """Speak, fit, level and encode one answer. Raises :class:`FitError` if it cannot fit."""
    speak = speaker().speak
    if job.target_frames is None:
        speech = speak(job.text, job.voice, job.rate)
        frames = frames_for_content(len(speech.samples))
        if content_samples(frames) < len(speech.samples):
            frames += 1
        fitted = pad_to(speech, content_samples(frames))
    else:
        fitted = fit_to_runtime(
            lambda rate: speak(job.text, job.voice, rate), content_samples(job.target_frames), job.band, job.rate
        )
    # Loudness is measured once on the speech as fitted (22,050 Hz: half the cost of 48 kHz).
    loudness = integrated_loudness(fitted.samples, SAMPLE_RATE)
    levelled = normalize(resample(fitted.samples), OUTPUT_RATE, loudness)
    return AnswerAudio(
        mp3=encode(levelled.samples),
        rate=fitted.rate,
        silence_added=fitted.silence_added,
        speech_seconds=fitted.speech_seconds,
        needed_rate=fitted.needed_rate,
        cues=tuple(sentence_cues(job.text, fitted.sentences, fitted.samples, job.speaker, job.display, job.offsets)),
        loudness=levelled.loudness,
        true_peak=levelled.true_peak,
        passes=fitted.passes,
    )


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _worker_init() -> None:
    # Ctrl-C is the parent's to handle: it stops the pool and leaves the output as it was.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # held by the parent while it forked
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
    atomic_write(path, data, sync_folder=False)  # the staging tree is synced once, before the swap


def _check_output(output: Path) -> None:
    if output.exists() and not output.is_dir():
        raise BuildError(f"{output}: exists and is not a folder")
    if output.is_dir() and any(output.iterdir()) and not (output / MANIFEST_FILE).exists():
        raise BuildError(
            f"{output}: folder exists, is not empty and was not made by audiofeed; "
            "choose another output folder or empty it"
        )


def _recover(output: Path) -> None:
    """If a build was killed between the two renames of a swap, put the last output back."""
    old = output.with_name(f".{output.name}.old")
    if old.is_dir() and not output.exists():
        os.replace(old, output)


def _swap_in(staging: Path, output: Path) -> None:
    """Replace ``output`` by ``staging`` with two renames; the old output lives until the second."""
    sync_tree(staging)  # every file was fsynced as written; now their names
    old = output.with_name(f".{output.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if output.exists():
        os.replace(output, old)
    os.replace(staging, output)
    sync_folder_of(output)
    if old.exists():
        shutil.rmtree(old)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _link_tree(src: Path | str, dst: Path | str) -> None:
    """``dst`` as a copy of ``src`` made of hard links (copies where links are refused)."""
    os.mkdir(dst)
    for entry in os.scandir(src):  # plain strings: this runs for every file of every unchanged page
        target = os.path.join(dst, entry.name)
        if entry.is_dir(follow_symlinks=False):
            _link_tree(entry.path, target)
        else:
            _link_or_copy(entry.path, target)


def _read_record(path: Path) -> Episode | str | None:
    """The episode record at ``path``; None if there is none; a reason if it cannot be used.

    A record is only as good as the files it describes: each MP3 it lists must still be there
    with the size it records (a stat, not a read: cheap on a thousand pages), else the page is
    built again rather than carried over.
    """
    try:
        episode = Episode.from_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError) as e:
        return f"unreadable record ({type(e).__name__})"
    root = path.parent.parent
    for file, size in [(episode.file, episode.bytes)] + [(a.file, a.bytes) for a in episode.answers]:
        try:
            actual = (root / file).stat().st_size
        except OSError:
            return f"{file} is missing"
        if actual != size:
            return f"{file} has {actual} bytes, its record says {size}"
    return episode


def _load_manifest(output: Path) -> dict:
    try:
        data = json.loads((output / MANIFEST_FILE).read_text(encoding="utf-8"))
        return data if data.get("format") == MANIFEST_FORMAT else {}
    except (OSError, ValueError, AttributeError):
        return {}


def build(options: BuildOptions, progress: Progress | None = None, executor: Executor | None = None) -> BuildReport:
    """Build every page under ``options.articles`` into ``options.output``.

    Returns a report with one row per answer and one line per problem. Pages with problems are
    not built (their last published episode, if any, is kept); the others are.
    """
    output = options.output
    if not options.articles.is_dir():
        raise BuildError(f"{options.articles}: no such folder of articles")
    output.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(output.with_name(f".{output.name}.lock")))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise BuildError(
            f"{output}: another build is writing this output folder; wait for it to finish "
            f"(lock: {output.with_name(f'.{output.name}.lock')})"
        ) from None
    staging = output.with_name(f".{output.name}.staging")
    try:
        _recover(output)
        _check_output(output)
        return _Build(options, progress, executor).run()
    except BaseException as e:  # a full disk, a signal: the last good output stays as it was, even mid-swap
        shutil.rmtree(staging, ignore_errors=True)
        _recover(output)
        if isinstance(e, OSError):
            raise BuildError(f"{e.filename or output}: {e.strerror or e}; nothing was published, "
                             f"{output}/ is left as it was") from None
        raise
    finally:
        lock.release()


class _Build:
    def __init__(self, options: BuildOptions, progress: Progress | None, executor: Executor | None):
        self.options = options
        self.channel = options.channel
        self.progress = progress
        self.executor = executor
        self.own_executor = executor is None
        self.report = BuildReport(output=options.output)
        self.cache = AudioCache(options.cache or options.output.with_name(".audiofeed-cache"))
        self.lexicon = Lexicon(dict(options.lexicon))
        self.cover = options.cover.read_bytes() if options.cover else \
            resources.files("audiofeed").joinpath("assets", "cover.png").read_bytes()
        self.started = time.perf_counter()
        self.built_episodes: list[Episode] = []  # written by this build: verified before the swap
        self.cache_disabled = False

    # -- reading ------------------------------------------------------------------------------
    def read(self) -> tuple[list[Page], dict[str, bytes], list[Path]]:
        pages, sources, failed = [], {}, []
        slugs: dict[str, Path] = {}
        for path in find_pages(self.options.articles):
            try:
                page = read_page(path)
            except PageError as e:
                self.report.problems.extend(e.problems)
                failed.append(path)
                continue
            if page.slug in slugs:
                self.report.problems.append(error(page.source, f"same page name as {slugs[page.slug]}; rename one"))
                continue
            slugs[page.slug] = path
            self.report.problems.extend(page.warnings)
            pages.append(page)
            sources[page.slug] = path.read_bytes()
        return pages, sources, failed

    def settings_key(self) -> str:
        o = self.options
        return digest([__version__, engine_fingerprint(), asdict(self.channel), list(o.band), list(o.lexicon),
                       o.default_voice, hashlib.sha256(self.cover).hexdigest(), site_fingerprint()])

    # -- the build ----------------------------------------------------------------------------
    def run(self) -> BuildReport:
        o, output, report = self.options, self.options.output, self.report
        pages, sources, failed = self.read()
        self.voices = assign_voices([p.doctors for p in pages], dict(o.pinned_voices), o.default_voice)
        settings = self.settings_key()
        keys = {p.slug: digest([settings, hashlib.sha256(sources[p.slug]).hexdigest(),
                                {d: self.voices[d] for d in p.doctors}]) for p in pages}
        manifest = {} if o.force else _load_manifest(output)
        old_pages = manifest.get("pages", {})
        records: dict[str, Episode] = {}  # the last build's record of each page that may be kept as it is
        for p in pages:
            if old_pages.get(p.slug) == keys[p.slug]:
                record = _read_record(output / p.slug / RECORD_FILE)
                if isinstance(record, Episode):
                    records[p.slug] = record
                elif record is not None:
                    report.problems.append(warning(output / p.slug / RECORD_FILE, f"{record}; building the page again"))
        unchanged = [p for p in pages if p.slug in records]
        unchanged_slugs = {p.slug for p in unchanged}
        changed = [p for p in pages if p.slug not in unchanged_slugs]
        failed_slugs = [slug_for(path) for path in failed]
        kept_records = {s: r for s in failed_slugs if isinstance(r := _read_record(output / s / RECORD_FILE), Episode)}
        kept = list(kept_records)
        failed_set = set(failed_slugs)
        removed = [s for s in old_pages if s not in keys and s not in failed_set]
        report.pages_unchanged, report.pages_removed = len(unchanged), len(removed)
        new_manifest = {"format": MANIFEST_FORMAT, "settings": settings,
                        "pages": {**{s: old_pages[s] for s in kept if s in old_pages}, **keys}}

        for path, slug in zip(failed, failed_slugs):
            if slug in kept:
                report.problems.append(warning(path, "not rebuilt; its last published episode stays in the feeds until it is fixed"))
        if not changed and not removed and manifest.get("settings") == settings and kept == [
                s for s in failed_slugs if s in old_pages]:
            report.nothing_changed = True  # nothing to write: the output is already this build
            return self.finish()

        episodes: list[Episode] = []
        staging = output.with_name(f".{output.name}.staging")
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)

        def carry_over() -> None:
            """Unchanged and kept pages into the staging folder, as links; their records for the feeds.
            Runs while the workers render the changed pages (the order of episodes does not matter:
            the feeds and pages sort them)."""
            for page in unchanged:
                _link_tree(output / page.slug, staging / page.slug)
                episodes.append(records[page.slug])
            for slug in kept:
                _link_tree(output / slug, staging / slug)
                episodes.append(kept_records[slug])
                report.pages_kept += 1

        try:
            self.render(changed, staging, episodes, meanwhile=carry_over)
            _atomic_write(staging / COVER_FILE, self.cover)
            for name, data in site_assets().items():
                _atomic_write(staging / name, data)
            from .publishing import answers_feed, episodes_feed  # feedgen and lxml: needed only from here on
            from .site import render_index

            _atomic_write(staging / INDEX_FILE, render_index(self.channel, episodes).encode())
            _atomic_write(staging / MANIFEST_FILE, (json.dumps(new_manifest, indent=1, sort_keys=True) + "\n").encode())
            # Feeds last: they reference everything above.
            _atomic_write(staging / ANSWERS_FILE, answers_feed(self.channel, episodes))
            _atomic_write(staging / FEED_FILE, episodes_feed(self.channel, episodes))
        finally:
            if self.own_executor and self.executor is not None:
                self.executor.shutdown(cancel_futures=True)
        verify_staged(staging, self.built_episodes)
        _swap_in(staging, output)
        return self.finish()

    def finish(self) -> BuildReport:
        self.report.problems.extend(self.cache.warnings)
        self.report.answers.sort(key=lambda r: (r.source, r.index))
        self.report.seconds = time.perf_counter() - self.started
        return self.report

    # -- rendering ----------------------------------------------------------------------------
    def job(self, page: Page, index: int) -> AnswerJob:
        answer = page.answers[index]
        display, _ = spoken_text(answer.question, answer.text)
        text, offsets = self.lexicon.apply(display)
        return AnswerJob(
            slug=page.slug, index=index, text=text, display=display, offsets=offsets,
            voice=self.voices[answer.doctor],
            target_frames=None if answer.listed_runtime is None else frames_for_runtime(answer.listed_runtime),
            rate=REFERENCE_RATE, band=self.options.band, speaker=answer.doctor,
        )

    def submit(self, fn, arg) -> Future:
        # A pool may fork its workers here. A signal handled during a fork runs inside fork's own
        # callbacks, which ignore exceptions: Ctrl-C would be lost and the build would go on. So
        # SIGINT and SIGTERM are held while submitting and delivered right after.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            if self.executor is None:
                self.executor = make_executor(self.options.jobs or default_jobs())
            return self.executor.submit(fn, arg)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def cache_put(self, k: str, value, json_value: bool = False) -> None:
        """Store in the cache; a cache that cannot be written (read-only, shared) only warns, once."""
        if self.cache_disabled:
            return
        try:
            (self.cache.put_json if json_value else self.cache.put)(k, value)
        except OSError as e:
            if e.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
                raise  # a full disk stops the build: the output could not be written either
            self.cache_disabled = True
            self.report.problems.append(warning(e.filename or self.cache.folder, f"cannot write to the cache "
                                                f"({e.strerror}); this build goes on without storing answers"))

    def voice_models(self, pages: list[Page]) -> dict[str, VoiceModel]:
        """Every voice's pacing model: from the cache, or measured now (in parallel) and cached."""
        models, missing = {}, []
        shipped = shipped_models()  # measured on this very engine (checked by its fingerprint)
        for voice in sorted({self.voices[d] for p in pages for d in p.doctors}):
            if voice in shipped:
                models[voice] = shipped[voice]
                continue
            data = None if self.options.force else self.cache.get_json(key("voice-model", voice=voice))
            try:
                models[voice] = VoiceModel.from_json(voice, data)
            except (TypeError, KeyError, ValueError):
                missing.append(voice)
        futures = {voice: self.submit(calibrate_voice, voice) for voice in missing}
        for voice, future in futures.items():
            data = future.result()
            self.cache_put(key("voice-model", voice=voice), data, json_value=True)
            models[voice] = VoiceModel.from_json(voice, data)
        self.report.voices_calibrated = len(missing)
        return models

    def plan(self, page: Page, models: dict[str, VoiceModel]) -> list[AnswerJob]:
        """The page's jobs, longest first. Each answer's rate comes from its voice's model; the
        lead (no runtime) is spoken at the median of the rates planned for the others."""
        jobs = []
        for i, answer in enumerate(page.answers):
            job = self.job(page, i)
            if job.target_frames is not None:
                job = replace(job, rate=models[job.voice].rate_for(job.text, content_samples(job.target_frames),
                                                                    self.options.band))
            jobs.append(job)
        rates = [j.rate for j in jobs if j.target_frames is not None]
        jobs = [replace(j, rate=round(statistics.median(rates))) if j.target_frames is None and rates else j
                for j in jobs]

        def length(j: AnswerJob) -> float:
            return content_samples(j.target_frames) if j.target_frames else models[j.voice].samples(j.text, j.rate)

        return sorted(jobs, key=lambda j: (-length(j), j.index))

    def render(self, pages: list[Page], staging: Path, episodes: list[Episode],
               meanwhile: Callable[[], None] = lambda: None) -> None:
        """Render the pages' answers (cache first), writing each page as soon as it is complete.

        Every answer is planned before anything is spoken (:meth:`plan`), so all of a page's
        answers, its lead included, render at once. A few pages are open at a time.
        """
        models = self.voice_models(pages)
        total = sum(len(p.answers) for p in pages)
        self.done = 0
        window = max(2, 2 * (self.options.jobs or default_jobs()))  # pages open at once
        queue = list(pages)
        running: dict[Future, tuple[Page, AnswerJob]] = {}
        pending: dict[str, int] = {}
        audio: dict[str, dict[int, AnswerAudio]] = {}

        def open_page(page: Page) -> None:
            pending[page.slug], audio[page.slug] = len(page.answers), {}
            for job in self.plan(page, models):
                cached = None if self.options.force else self.cache.get(job.render_key())
                if cached is not None:
                    finish(page, job, cached, cached=True)
                else:
                    running[self.submit(render_answer, job)] = (page, job)

        def finish(page: Page, job: AnswerJob, result, cached: bool = False) -> None:
            answer = page.answers[job.index]
            if isinstance(result, FitError):
                self.report.problems.append(error(
                    page.source, f"refused {answer.question!r}: {result} (listed {format_runtime(answer.listed_runtime)})",
                    answer.line))
                self.report.answers.append(_row(page, job.index, None, AnswerStatus.REFUSED,
                                                f"needs {result.needed_rate:.0f} wpm"))
                self.report.refused.setdefault(page.slug, []).append(
                    RefusedAnswer(job.index, answer.question, answer.doctor, answer.listed_runtime,
                                  round(result.needed_rate, 1)))
            elif isinstance(result, BaseException):
                self.failed(page, job.index, result)
            else:
                if cached:
                    self.report.answers_cached += 1
                else:
                    self.report.answers_rendered += 1
                    self.report.second_passes += result.passes > 1
                    self.cache_put(job.render_key(), result)
                audio[page.slug][job.index] = result
                self.report.answers.append(_row(page, job.index, result, *_status(result, answer, self.options.band)))
            pending[page.slug] -= 1
            self.done += 1
            if self.progress:
                self.progress(self.done, total, page.title)
            if pending[page.slug] == 0:
                self.write_page(page, audio.pop(page.slug), staging, episodes)
                del pending[page.slug]

        while queue and len(pending) < window:
            open_page(queue.pop(0))
        meanwhile()  # the parent's own work, while the first answers render
        while queue or running:
            while queue and len(pending) < window:
                open_page(queue.pop(0))
            if not running:
                continue
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                page, job = running.pop(future)
                try:
                    result = future.result()
                except Exception as e:  # noqa: BLE001  (a FitError or any failure: reported per answer)
                    result = e
                finish(page, job, result)

    def failed(self, page: Page, index: int, failure: BaseException) -> None:
        answer = page.answers[index]
        self.report.problems.append(
            error(page.source, f"could not render {answer.question!r}: {type(failure).__name__}: {failure}", answer.line))
        self.report.answers.append(_row(page, index, None, AnswerStatus.FAILED, str(failure)))

    def write_page(self, page: Page, audio: dict[int, AnswerAudio], staging: Path, episodes: list[Episode]) -> None:
        from .site import render_page

        channel = self.channel
        made = make_episode(
            page, audio, album=channel.title, publisher=channel.author, cover=self.cover,
            base_url=channel.url(""), language=channel.language, refused=self.report.refused.get(page.slug),
        )
        for name, data in made.files.items():
            _atomic_write(staging / name, data)
        _atomic_write(staging / page.slug / INDEX_FILE, render_page(channel, made.episode, made.sections).encode())
        episodes.append(made.episode)
        self.built_episodes.append(made.episode)
        self.report.pages_built += 1


def verify_staged(staging: Path, episodes: list[Episode]) -> None:
    """Read back every MP3 this build wrote and check it against its record, from the bytes.

    Each file must be its record's size and hold exactly the frames its record's duration says,
    every one a valid frame; an episode must be its answers' frames joined. Raises
    :class:`BuildError` otherwise, so that nothing unverified is swapped in.
    """
    for episode in episodes:
        total = 0
        for a in episode.answers:
            total += _verified_frames(staging / a.file, a.bytes, a.duration_ms)
        if duration_ms(total) != episode.duration_ms:
            raise BuildError(f"{staging / episode.file}: its answers hold {total} frames, the record says "
                             f"{episode.duration_ms} ms; refusing to publish")
        _verified_frames(staging / episode.file, episode.bytes, episode.duration_ms)


def _verified_frames(path: Path, size: int, duration: int) -> int:
    data = path.read_bytes()
    try:
        frames = check_frames(audio_part(data))
    except ValueError as e:
        raise BuildError(f"{path}: {e}; refusing to publish") from None
    if len(data) != size or duration_ms(frames) != duration:
        raise BuildError(f"{path}: {len(data)} bytes and {duration_ms(frames)} ms, but its record says {size} bytes "
                         f"and {duration} ms; refusing to publish")
    return frames


def _status(a: AnswerAudio, answer, band: tuple[int, int]) -> tuple[AnswerStatus, str]:
    if answer.listed_runtime is None:
        return AnswerStatus.LEAD, "no listed runtime: spoken at the median of the page's planned rates"
    if a.needed_rate < band[0]:
        return AnswerStatus.PADDED, f"needs {a.needed_rate:.0f} wpm, below {band[0]}: {a.silence_added:.1f} s of silence added"
    return AnswerStatus.OK, ""


def _row(page: Page, index: int, a: AnswerAudio | None, status: AnswerStatus, message: str) -> AnswerReport:
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
        loudness=a.loudness if a else None,
        true_peak=a.true_peak if a else None,
    )

