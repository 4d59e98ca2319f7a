"""How a signal stops the program: :class:`Interrupted`, raised by the handlers :mod:`.entry`
installs, caught by the commands that must say what was left behind.

A signal's exception can be lost: if it lands while Python runs a callback whose exceptions are
only printed (a weakref callback of the import system, a ``__del__``), the program goes on. So the
handler also *notes* the signal, and the points that must not be passed after a stop was asked
(the build's swap of the output, the end of the program) call :func:`raise_pending`.
"""

from __future__ import annotations

import signal
from contextlib import contextmanager

_pending: int | None = None
_published: str | None = None  # the output folder this process has already replaced, if any


class Interrupted(BaseException):
    """A signal asked the program to stop.

    Not a ``KeyboardInterrupt``: click turns those into "Aborted!" and status 1.
    """

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @classmethod
    def of(cls, error: BaseException) -> Interrupted:
        """``error`` as an interruption (a bare ``KeyboardInterrupt`` is SIGINT's)."""
        return error if isinstance(error, Interrupted) else cls(signal.SIGINT)

    @property
    def exit_status(self) -> int:
        return 128 + self.signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


def stop(signum: int, _frame=None) -> None:
    """The signal handler: note the signal, then raise :class:`Interrupted`."""
    global _pending
    _pending = signum
    raise Interrupted(signum)


def note_published(folder: str) -> None:
    """Say that ``folder`` now holds this run's output: a stop from here on must not claim otherwise."""
    global _published
    _published = folder


def stopped_message(stop_: Interrupted, folder: str | None = None) -> str:
    """The one line that says what a stop left behind, true whenever the signal came."""
    if _published is not None:
        return f"interrupted ({stop_.name}) after this build was published: {_published}/ holds its output"
    if folder is not None:
        return f"interrupted ({stop_.name}): {folder}/ is left as it was before this build"
    return f"interrupted ({stop_.name}): stopped; nothing new was published"


def raise_pending() -> None:
    """Raise :class:`Interrupted` if a signal arrived whose exception may have been swallowed."""
    if _pending is not None:
        raise Interrupted(_pending)


STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@contextmanager
def holding_stops():
    """SIGINT and SIGTERM held (blocked) inside, delivered on leaving: around the fork of worker
    processes, so a worker never runs the parent's handler before its own initializer has run
    (:func:`ignore_stops_in_worker` lets go of them)."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def ignore_stops_in_worker() -> None:
    """A worker process's initializer: Ctrl-C and SIGTERM are the parent's to handle (it stops the
    workers itself), so a stop never prints a worker's traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # held by the parent while it forked


def end_workers(executor) -> None:
    """Stop a ``ProcessPoolExecutor`` now: its workers ended (SIGTERM), queued work cancelled, and
    nothing waited for, so a stuck worker cannot hang the stop."""
    for process in list((getattr(executor, "_processes", None) or {}).values()):
        process.terminate()
    executor.shutdown(wait=False, cancel_futures=True)
