"""Scheduling: pages in, finished answers out, as they finish, a few pages open at a time.

The scheduler knows two kinds of job (:class:`JobKind`): measuring a voice's pacing model, and
rendering an answer. It submits them to a :class:`Pool`, which wraps any
``concurrent.futures.Executor`` (a process pool by default). :func:`schedule` opens a window of
pages, asks for each job's cached audio first, submits the rest, and yields every answer as a
:class:`Finished` event the moment it is done; a page's :class:`PageProgress` says when all its
answers are in, so the builder can write the page and memory does not grow with the number of
pages.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from enum import Enum

from ..publish.episode import AnswerAudio
from ..read import Page
from .rendering import AnswerJob, calibrate_voice, render_answer


class JobKind(Enum):
    CALIBRATE = "calibrate"  # measure a voice's pacing model: a voice name in, its model (JSON-ready) out
    RENDER = "render"  # speak, fit, level and encode an answer: an AnswerJob in, its AnswerAudio out


def run_job(kind: JobKind, payload):
    """What a worker runs, for a job of either kind."""
    return calibrate_voice(payload) if kind is JobKind.CALIBRATE else render_answer(payload)


@dataclass
class PageProgress:
    """A page being rendered: its planned jobs, and the result of each that has finished."""

    page: Page
    jobs: list[AnswerJob]
    results: dict[int, AnswerAudio | BaseException] = field(default_factory=dict)  # answer index -> result

    @property
    def complete(self) -> bool:
        return len(self.results) == len(self.jobs)

    def audio(self) -> dict[int, AnswerAudio]:
        """The answers that rendered (refused and failed ones are left out)."""
        return {i: r for i, r in self.results.items() if isinstance(r, AnswerAudio)}


@dataclass(frozen=True)
class Finished:
    """One answer done: rendered now, taken from the cache, or failed (``result`` is the exception)."""

    progress: PageProgress
    job: AnswerJob
    result: AnswerAudio | BaseException
    cached: bool = False


STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


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


def make_executor(workers: int) -> Executor:
    """A process pool. Any ``concurrent.futures.Executor`` will do (the build only submits)."""
    # fork: workers start at once with everything imported; espeak state is isolated per
    # utterance by the driver, so nothing the parent did leaks into the audio.
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_worker_init)


class Pool:
    """The executor jobs run on: the one given, else a process pool made on first use (and shut down by :meth:`close`)."""

    def __init__(self, executor: Executor | None = None, workers: int = 0):
        self.executor = executor
        self.own = executor is None
        self.workers = workers or default_workers()

    def submit(self, kind: JobKind, payload) -> Future:
        # A pool may fork its workers here. A signal handled during a fork runs inside fork's own
        # callbacks, which ignore exceptions: Ctrl-C would be lost and the build would go on. So
        # SIGINT and SIGTERM are held while submitting and delivered right after.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            if self.executor is None:
                self.executor = make_executor(self.workers)
            return self.executor.submit(run_job, kind, payload)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def describe(self) -> str:
        return f"{self.workers} local process(es)"

    def window(self) -> int:
        """How many pages to keep open: enough to keep every worker busy while pages complete."""
        return max(2, 2 * self.workers)

    def close(self) -> None:
        if self.own and self.executor is not None:
            self.executor.shutdown(cancel_futures=True)


def schedule(pool: Pool, pages: Iterable[Page], plan: Callable[[Page], list[AnswerJob]],
             cached: Callable[[AnswerJob], AnswerAudio | None],
             meanwhile: Callable[[], None] = lambda: None) -> Iterator[Finished]:
    """Render ``pages``' answers, yielding each as it finishes.

    At most :meth:`Pool.window` pages are open at a time; a page is opened by planning its jobs
    (``plan``), taking what ``cached`` has and submitting the rest. ``meanwhile`` runs once,
    after the first jobs are submitted (the parent's own work, while workers render).
    """
    queue = deque(pages)
    window = pool.window()
    running: dict[Future, tuple[PageProgress, AnswerJob]] = {}
    ready: deque[Finished] = deque()
    open_pages = 0
    started = False
    while queue or running or ready:
        while queue and open_pages < window:
            progress = PageProgress(queue.popleft(), [])
            progress.jobs = plan(progress.page)
            open_pages += 1
            for job in progress.jobs:
                audio = cached(job)
                if audio is not None:
                    ready.append(Finished(progress, job, audio, cached=True))
                else:
                    running[pool.submit(JobKind.RENDER, job)] = (progress, job)
        if not started:
            started = True
            meanwhile()
        if not ready:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                progress, job = running.pop(future)
                try:
                    result = future.result()
                except Exception as e:  # noqa: BLE001  (a FitError or any failure: reported per answer)
                    result = e
                ready.append(Finished(progress, job, result))
        finished = ready.popleft()
        finished.progress.results[finished.job.index] = finished.result
        if finished.progress.complete:
            open_pages -= 1
        yield finished
    if not started:  # no page to render: the parent's work still has to be done
        meanwhile()
