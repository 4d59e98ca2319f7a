"""The program's entry point: signal handling first, then the command line.

Ctrl-C (SIGINT) and SIGTERM may come at any moment, start-up included, while the command line
and the libraries behind it are still being imported. So the handlers are installed before
anything else is imported, and every interruption ends the same way: one line on stderr, the
previous output left as it was, and exit status 130 (SIGINT) or 143 (SIGTERM), as shells expect.
"""

from __future__ import annotations

import signal
import sys

from .interrupts import Interrupted, raise_pending, stop, stopped_message


def _unraisable(info) -> None:
    """Python's hook for exceptions it can only drop: an interruption dropped this way is noted
    (see :mod:`.interrupts`) and acted on later, so it prints nothing; anything else prints as usual."""
    if not isinstance(info.exc_value, Interrupted):
        sys.__unraisablehook__(info)


def install_handlers() -> None:
    sys.unraisablehook = _unraisable
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    # A file-size limit (ulimit -f) would otherwise kill the process outright; ignored, the write
    # fails with EFBIG instead, which the build reports as it does a full disk.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def main() -> None:
    install_handlers()
    try:
        from .cli import main as cli_main

        try:
            cli_main()
        except SystemExit as done:
            if done.code in (0, None):  # a success after a signal whose exception was swallowed (see
                raise_pending()  # interrupts) is still a stop, with the signal's status
            raise
        raise_pending()
    except (Interrupted, KeyboardInterrupt) as e:
        stop = Interrupted.of(e)
        print(stopped_message(stop), file=sys.stderr)
        sys.exit(stop.exit_status)
