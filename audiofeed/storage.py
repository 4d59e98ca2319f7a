"""Writing files so that a crash, a kill or a full disk never leaves half a file where a whole one was.

Every write goes to a temporary file beside its target, is flushed to the disk (``fsync``) and
renamed over the target; the folder is then synced too, so the rename itself survives a power
cut. Readers see the old file or the new one, never a mix.
"""

from __future__ import annotations

import os
from pathlib import Path


def atomic_write(path: Path, data: bytes, *, sync_folder: bool = True) -> None:
    """Replace ``path`` by ``data``, atomically and durably.

    ``sync_folder=False`` leaves the folder's sync to the caller (:func:`sync_tree`), for
    writers that put many files in many folders and sync them once.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:  # name the file being replaced, not the temporary one (or none)
        tmp.unlink(missing_ok=True)
        raise OSError(e.errno, e.strerror or str(e), str(path)) from e
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if sync_folder:
        sync_folder_of(path)


def sync_folder_of(path: Path) -> None:
    """Make the entries of ``path``'s folder (new names, renames) durable."""
    _fsync_folder(path.parent)


def _fsync_folder(folder) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_tree(root: Path) -> None:
    """Make everything written under ``root`` durable, after writing many files without syncing folders.

    One ``syncfs`` of the filesystem that holds ``root`` where Linux offers it (a 1,000-page
    output has a thousand folders: one call instead of a thousand); else every folder in turn.
    """
    if _syncfs(root):
        return
    for folder, _dirs, _files in os.walk(root):
        _fsync_folder(folder)


def _syncfs(path: Path) -> bool:
    """``syncfs(2)`` on the filesystem holding ``path``; False where the C library has none."""
    import ctypes

    syncfs = getattr(ctypes.CDLL(None, use_errno=True), "syncfs", None)
    if syncfs is None:
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        return syncfs(fd) == 0
    finally:
        os.close(fd)


class NotARegularFile(OSError):
    """A path that holds no regular file audiofeed may read (a device, a FIFO, a link, too big)."""


def read_regular(path: Path, limit: int, *, follow: bool = False) -> bytes:
    """The bytes of ``path``, which must be a regular file of at most ``limit`` bytes, not a link
    (``follow``: a link to a regular file will do, as for a producer's own pages).

    For files audiofeed wrote itself and reads back (cache entries, published records): a hostile
    or broken one may be a link to ``/dev/zero`` (endless), a FIFO (blocks forever) or huge. This
    opens without following links and without blocking, checks the kind and size on the open file,
    and reads at most ``limit`` bytes. ``FileNotFoundError`` if there is none; else
    :class:`NotARegularFile` saying why.
    """
    import stat

    try:
        nofollow = 0 if follow else getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | nofollow | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        if e.errno == getattr(__import__("errno"), "ELOOP", -1):
            raise NotARegularFile(e.errno, "a symbolic link, not a file", str(path)) from None
        raise
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise NotARegularFile(0, "not a regular file", str(path))
        if info.st_size > limit:
            raise NotARegularFile(0, f"{info.st_size} bytes, more than the {limit} allowed", str(path))
        data = f.read(limit + 1)
    if len(data) > limit:
        raise NotARegularFile(0, f"more than the {limit} bytes allowed", str(path))
    return data
