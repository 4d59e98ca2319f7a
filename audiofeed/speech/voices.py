"""Voices: every doctor gets a distinct, stable voice from the engine's palette."""

from __future__ import annotations

import hashlib

from .engine import engine_type


def _slot(name: str, size: int) -> int:
    digest = hashlib.sha256(name.strip().casefold().encode()).digest()
    return int.from_bytes(digest[:8], "big") % size


def assign_voices(
    pages_doctors: list[list[str]], pinned: dict[str, str] | None = None, default_voice: str | None = None,
    engine: str | None = None,
) -> dict[str, str]:
    """Give every doctor a voice: stable across builds, never the voice of the answer before or after.

    ``pages_doctors`` lists, for each page, the doctor of each answer in order (a page's doctors
    in any order will do too). A doctor keeps one voice on every page. Two consecutive answers by
    different doctors never share a voice (the palette has at least three); other doctors of the
    same page are kept apart too where the palette allows. ``pinned`` gives some doctors a voice
    of their own choosing; ``default_voice`` limits the others to variants of one accent.

    >>> v = assign_voices([["Wang Jian", "Zhou Qi"], ["Zhou Qi", "Xu Chun Hua"]])
    >>> v["Zhou Qi"] == assign_voices([["Zhou Qi"]])["Zhou Qi"]
    True
    >>> len({v["Wang Jian"], v["Zhou Qi"]}), len({v["Zhou Qi"], v["Xu Chun Hua"]})
    (2, 2)
    """
    pinned = dict(pinned or {})
    voices_palette = engine_type(engine).palette(default_voice)
    adjacent: dict[str, set[str]] = {}  # answers next to each other: must differ
    same_page: dict[str, set[str]] = {}  # on one page: should differ
    for doctors in pages_doctors:
        for i, d in enumerate(doctors):
            same_page.setdefault(d, set()).update(x for x in doctors if x != d)
            adjacent.setdefault(d, set()).update(x for x in doctors[max(0, i - 1):i + 2] if x != d)
    voices = dict(pinned)
    # DSatur: the doctor whose neighbours already hold the most different voices goes next (the
    # hardest to place), then the one with the most neighbours; ties in a stable order.
    waiting = {d for d in same_page if d not in voices}
    while waiting:
        doctor = min(waiting, key=lambda d: (-len({voices[n] for n in adjacent[d] if n in voices}), -len(adjacent[d]),
                                             _slot(d, len(voices_palette)), d))
        waiting.discard(doctor)
        must = {voices[n] for n in adjacent[doctor] if n in voices}
        should = must | {voices[n] for n in same_page[doctor] if n in voices}
        start = _slot(doctor, len(voices_palette))
        ring = [voices_palette[(start + step) % len(voices_palette)] for step in range(len(voices_palette))]
        near = [voices_palette.index(voices[n]) for n in adjacent[doctor] if voices.get(n) in voices_palette]

        def apart(voice: str) -> int:  # steps to the nearest neighbour's voice: a palette in pitch order
            return min((abs(voices_palette.index(voice) - i) for i in near), default=0)

        free = [v for v in ring if v not in should] or [v for v in ring if v not in must]
        voices[doctor] = max(free, key=apart) if free else voices_palette[start]  # the first of the farthest
    return voices


def shared_neighbours(pages_doctors: list[list[str]], voices: dict[str, str]) -> list[tuple[str, str]]:
    """Consecutive answers by different doctors that share a voice (none unless pinned so, or the
    palette is too small for the show).

    >>> shared_neighbours([["A", "B", "A"]], {"A": "joe", "B": "joe"})
    [('A', 'B')]
    """
    found = []
    for doctors in pages_doctors:
        for a, b in zip(doctors, doctors[1:]):
            if a != b and voices.get(a) == voices.get(b) and (a, b) not in found and (b, a) not in found:
                found.append((a, b))
    return found
