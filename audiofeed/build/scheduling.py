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
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from enum import Enum

from ..audio.answer import Failed, Outcome
from ..interrupts import end_workers, holding_stops, ignore_stops_in_worker
from ..read import Page
from ..speech.engine import share_cores
from .rendering import AnswerJob, calibrate_voice, render_answer


class JobKind(Enum):
    CALIBRATE = "calibrate"  # measure a voice's pacing model: a voice name in, its model (JSON-ready) out
    RENDER = "render"  # speak, fit, level and encode an answer: an AnswerJob in, Rendered or Refused out


def run_job(kind: JobKind, payload):
    """What a worker runs, for a job of either kind."""
    return calibrate_voice(payload) if kind is JobKind.CALIBRATE else render_answer(payload)


@dataclass
class PageProgress:
    """A page being rendered: its planned jobs, and the outcome of each that has finished."""

    page: Page
    jobs: list[AnswerJob]
    outcomes: dict[int, Outcome] = field(default_factory=dict)  # answer index -> its outcome

    @property
    def complete(self) -> bool:
        return len(self.outcomes) == len(self.jobs)

    @property
    def failed(self) -> bool:
        return any(isinstance(o, Failed) for o in self.outcomes.values())


@dataclass(frozen=True)
class Finished:
    """One answer done: its outcome (rendered now or taken from the cache, refused, or failed)."""

    progress: PageProgress
    job: AnswerJob
    outcome: Outcome
    error: BaseException | None = None  # what made it Failed, if something raised


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _worker_init(workers: int) -> None:
    # Ctrl-C is the parent's to handle: it stops the pool and leaves the output as it was.
    ignore_stops_in_worker()
    share_cores(workers)  # one worker a core: an engine's threads would only contend
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
                               initializer=_worker_init, initargs=(workers,))


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
        with holding_stops():
            if self.executor is None:
                self.executor = make_executor(self.workers)
            try:
                return self.executor.submit(run_job, kind, payload)
            except BrokenProcessPool as e:  # broken before its futures said so: this job is lost with them
                future: Future = Future()
                future.set_exception(e)
                return future

    def describe(self) -> str:
        return f"{self.workers} local process(es)"

    def window(self) -> int:
        """How many pages to keep open: enough to keep every worker busy while pages complete."""
        return max(2, 2 * self.workers)

    def close(self, abort: bool = False) -> None:
        """Shut the pool down; ``abort`` (a stop, a failure) ends the workers at once rather than
        letting the answers they are rendering run to their end (minutes for a long one)."""
        if self.own and self.executor is not None:
            if abort:
                end_workers(self.executor)  # SIGTERM: the workers' default action is to end
            else:
                self.executor.shutdown(cancel_futures=True)

    def broken(self, error: BaseException) -> bool:
        """Whether ``error`` means the pool itself broke (a worker died), not the job."""
        return self.own and isinstance(error, BrokenProcessPool)

    def restart(self) -> None:
        """A broken pool's workers are gone: the next job starts a new pool."""
        if self.own and self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None


# How many times a build starts its worker pool again after a worker died (killed by the system,
# usually for memory) before it gives up on the answers still running. A worker that dies again
# and again on the same answer fails that answer, and its page keeps its last episode.
POOL_RESTARTS = 2
WORKER_DIED = ("its render worker died (killed by the system, perhaps for memory; docs/limits.md says how much "
               "an answer needs)")


def schedule(pool: Pool, pages: Iterable[Page], plan: Callable[[Page], list[AnswerJob]],
             ready_made: Callable[[AnswerJob], Outcome | None],
             meanwhile: Callable[[], None] = lambda: None) -> Iterator[Finished]:
    """Render ``pages``' answers, yielding each as it finishes, with its outcome.

    At most :meth:`Pool.window` pages are open at a time; a page is opened by planning its jobs
    (``plan``), taking the outcomes ``ready_made`` already has (from the cache, or refused unspoken)
    and submitting the rest. ``meanwhile`` runs once,
    after the first jobs are submitted (the parent's own work, while workers render).

    A job that raises is that answer's :class:`~audiofeed.audio.answer.Failed`. A pool that
    breaks (a worker killed) is started again and its lost jobs submitted again, up to
    :data:`POOL_RESTARTS` times; after that, the lost answers are ``Failed``. Nothing that was
    not rendered is ever yielded as rendered.
    """
    queue = deque(pages)
    window = pool.window()
    running: dict[Future, tuple[PageProgress, AnswerJob]] = {}
    ready: deque[Finished] = deque()
    open_pages = 0
    started = False
    restarts = 0
    while queue or running or ready:
        while queue and open_pages < window:
            progress = PageProgress(queue.popleft(), [])
            progress.jobs = plan(progress.page)
            open_pages += 1
            for job in progress.jobs:
                outcome = ready_made(job)
                if outcome is not None:
                    ready.append(Finished(progress, job, outcome))
                else:
                    running[pool.submit(JobKind.RENDER, job)] = (progress, job)
        if not started:
            started = True
            meanwhile()
        if not ready:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            lost: list[tuple[PageProgress, AnswerJob, BaseException]] = []
            for future in done:
                progress, job = running.pop(future)
                try:
                    ready.append(Finished(progress, job, future.result()))
                except Exception as e:  # noqa: BLE001  (any failure: reported per answer)
                    if pool.broken(e):
                        lost.append((progress, job, e))
                    else:
                        ready.append(Finished(progress, job, Failed(f"{type(e).__name__}: {e}"), e))
            if lost:
                # Every job still running went down with the pool: collect them all, then start again.
                for future, (progress, job) in list(running.items()):
                    try:
                        outcome = future.result()
                    except Exception as e:  # noqa: BLE001
                        lost.append((progress, job, e))
                    else:
                        ready.append(Finished(progress, job, outcome))
                running.clear()
                pool.restart()
                if restarts < POOL_RESTARTS:
                    restarts += 1
                    for progress, job, _ in lost:
                        running[pool.submit(JobKind.RENDER, job)] = (progress, job)
                else:
                    for progress, job, e in lost:
                        ready.append(Finished(progress, job, Failed(WORKER_DIED), e))
                if not ready:
                    continue
        finished = ready.popleft()
        finished.progress.outcomes[finished.job.index] = finished.outcome
        if finished.progress.complete:
            open_pages -= 1
        yield finished
    if not started:  # no page to render: the parent's work still has to be done
        meanwhile()
