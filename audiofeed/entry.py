"""The program's entry point: signal handling first, then the command line.

Ctrl-C (SIGINT) and SIGTERM may come at any moment, start-up included, while the command line
and the libraries behind it are still being imported. So the handlers are installed before
anything else is imported, and every interruption ends the same way: one line on stderr, the
previous output left as it was, and exit status 130 (SIGINT) or 143 (SIGTERM), as shells expect.
"""

from __future__ import annotations

import signal
import sys

from .interrupts import Interrupted


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
