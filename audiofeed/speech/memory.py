"""Memory for long answers: how the Piper engine gives memory back and keeps big arrays small."""

from __future__ import annotations

from functools import cache


@cache
def _libc():
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        return libc if libc is not None and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


# Allocations of this size or more get pages of their own (mmap) and go back to the system when
# freed. glibc's threshold otherwise rises to 32 MB as large blocks are freed, after which a long
# answer's tensors and arrays stay in the heap, fragmented: a 20-minute answer's worker kept
# about 180 MB it no longer used. Measured on it: 612 MB peak as glibc sets it, 595 MB at 4 MiB
# (the same time), 546 MB at 1 MiB (15% slower, in page faults).
MMAP_THRESHOLD = 4 << 20


def large_blocks_mapped() -> None:
    """Set glibc's mmap threshold to :data:`MMAP_THRESHOLD` for this process (once; no-op elsewhere)."""
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(-3, MMAP_THRESHOLD)  # M_MMAP_THRESHOLD


def give_back() -> None:
    """Return the heap's free pages to the system after a part (glibc's ``malloc_trim``).

    The decoder's tensors are freed after each part, but glibc keeps the pages, and the heap
    fragments from part to part: ``audiofeed say`` of the 132 s answer of articles/ peaked at
    493 MB without this and at 439 MB with it, in the same time. (Fixing glibc's mmap threshold
    at 128 kB instead gave 319 MB but cost 50% more wall time in page faults.)
    """
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


def to_int16(audio, chunk: int = 1 << 16):
    """Float samples in [-1, 1] as 16-bit ones, rounded and clipped, a chunk at a time (a
    20-minute answer's float temporaries would otherwise be hundreds of MB)."""
    import numpy as np

    out = np.empty(len(audio), dtype="<i2")
    for start in range(0, len(audio), chunk):
        part = audio[start : start + chunk] * np.float32(32767.0)
        np.clip(np.round(part, out=part), -32768, 32767, out=part)
        out[start : start + chunk] = part
    return out
