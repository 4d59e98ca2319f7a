"""Waiting for what a process does, told by the kernel (inotify), never by sleeping a fixed time.

A test that sleeps before it acts guesses how fast the machine is; on a loaded CI machine the
guess is wrong. These helpers block until the kernel reports the event (a file opened, created
or renamed into place) and only bound the wait with a deadline, so they are as fast as the event
and as patient as the machine needs.
"""

from __future__ import annotations

import ctypes
import os
import select
import struct
import time
from collections.abc import Callable
from pathlib import Path

IN_OPEN, IN_MOVED_TO, IN_CREATE = 0x20, 0x80, 0x100
IN_ISDIR = 0x40000000
_IN_NONBLOCK, _IN_CLOEXEC = 0o4000, 0o2000000
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, length of the name that follows

_libc = ctypes.CDLL(None, use_errno=True)


class Watch:
    """inotify watches on folders; :meth:`until` blocks until an event satisfies a condition."""

    def __init__(self):
        self.fd = _libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self.folders: dict[int, Path] = {}

    def add(self, folder: Path, mask: int) -> None:
        wd = _libc.inotify_add_watch(self.fd, os.fsencode(folder), mask)
        if wd < 0:
            raise OSError(ctypes.get_errno(), f"cannot watch {folder}")
        self.folders[wd] = Path(folder)

    def events(self, timeout: float) -> list[tuple[Path, int]]:
        """(path, mask) of the events reported within ``timeout`` seconds (none if it runs out)."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return []
        data, out = os.read(self.fd, 65536), []
        while data:
            wd, mask, _cookie, size = _EVENT.unpack_from(data)
            name = data[_EVENT.size:_EVENT.size + size].rstrip(b"\0").decode()
            data = data[_EVENT.size + size:]
            if wd in self.folders:
                out.append((self.folders[wd] / name, mask))
        return out

    def until(self, condition: Callable[[Path, int], bool], proc, what: str, seconds: float = 300) -> None:
        """Block until an event meets ``condition``; fail if ``proc`` ends or ``seconds`` pass first."""
        deadline = time.monotonic() + seconds
        while True:
            if any(condition(path, mask) for path, mask in self.events(max(0.0, min(1.0, deadline - time.monotonic())))):
                return
            if proc.poll() is not None:
                raise AssertionError(f"the process ended before {what}: {proc.stderr.read() if proc.stderr else ''}")
            if time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"no {what} within {seconds} s")

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def cache_records(cache: Path, watch: Watch) -> Callable[[Path, int], bool]:
    """A condition for :meth:`Watch.until`: an answer's record lands in ``cache`` (its commit, by rename).

    Entries live in sub-folders made as they are needed; each new one is watched as it appears.
    """
    watch.add(cache, IN_CREATE)

    def condition(path: Path, mask: int) -> bool:
        if mask & IN_CREATE and mask & IN_ISDIR:
            watch.add(path, IN_MOVED_TO)
            return any(path.glob("*.json"))  # a record that landed before the watch did
        return bool(mask & IN_MOVED_TO) and path.suffix == ".json"

    return condition
