"""The program's entry point: signal handling first, then the command line.

Ctrl-C (SIGINT) and SIGTERM may come at any moment, start-up included, while the command line
and the libraries behind it are still being imported. So the handlers are installed before
anything else is imported, and every interruption ends the same way: one line on stderr, the
previous output left as it was, and exit status 130 (SIGINT) or 143 (SIGTERM), as shells expect.
"""

from __future__ import annotations

import signal
import sys


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


def _interrupt(signum, _frame):
    raise Interrupted(signum)


def install_handlers() -> None:
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    # A file-size limit (ulimit -f) would otherwise kill the process outright; ignored, the write
    # fails with EFBIG instead, which the build reports as it does a full disk.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def main() -> None:
    install_handlers()
    try:
        from .cli import main as cli_main

        cli_main()
    except (Interrupted, KeyboardInterrupt) as e:
        stop = Interrupted.of(e)
        print(f"interrupted ({stop.name}): stopped; nothing new was published", file=sys.stderr)
        sys.exit(stop.exit_status)
