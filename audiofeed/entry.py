"""The program's entry point: signal handling first, then the command line.

Ctrl-C (SIGINT) and SIGTERM may come at any moment, start-up included, while the command line
and the libraries behind it are still being imported. So the handlers are installed before
anything else is imported, and every interruption ends the same way: one line on stderr, the
previous output left as it was, and exit status 130 (SIGINT) or 143 (SIGTERM), as shells expect.

It is also the last line of defence: any exception that escapes a command is one line on stderr
naming a log file that holds its traceback, and exit status 70 (:mod:`.exits`). Whatever was
published before stays: the build swaps its output in only once it has been verified.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
from pathlib import Path

from .exits import INTERNAL

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


def log_folder() -> Path:
    """Where internal errors are written: $AUDIOFEED_LOG_DIR, else the user's cache folder."""
    explicit = os.environ.get("AUDIOFEED_LOG_DIR")
    if explicit:
        return Path(explicit)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "audiofeed" / "logs"


def report_internal_error(error: BaseException) -> str:
    """Write ``error``'s traceback to a log file; the one line to print about it."""
    import tempfile

    text = "".join(traceback.format_exception(error))
    name = f"error-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    where = None
    for folder in (log_folder(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(f"audiofeed {' '.join(sys.argv[1:])!r}\n{text}", encoding="utf-8",
                                       errors="backslashreplace")
            where = folder / name
            break
        except OSError:
            continue
    what = " ".join(f"{type(error).__name__}: {error}".split())[:300]
    what = what.encode("ascii", "backslashreplace").decode() if not what.isprintable() else what
    return (f"audiofeed: internal error ({what}); "
            + (f"the details are in {os.fsdecode(where)}; " if where else "")
            + "please report it")


def plain_streams() -> None:
    """Text that stdout or stderr cannot encode (an ASCII-only locale) is replaced, never an error."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="replace" if stream is sys.stdout else "backslashreplace")
        except (AttributeError, ValueError):
            pass


def main() -> None:
    install_handlers()
    plain_streams()
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
    except SystemExit:
        raise
    except Exception as e:  # noqa: BLE001  (the last line of defence: one line, a log, status 70)
        try:
            print(report_internal_error(e), file=sys.stderr)
        finally:
            sys.exit(INTERNAL)
