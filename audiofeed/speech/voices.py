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
    """Give every doctor a voice: stable across builds, distinct from the others on each page.

    ``pages_doctors`` lists the doctors of each page. A doctor keeps one voice on every page.
    ``pinned`` gives some doctors a voice of their own choosing; ``default_voice`` limits the
    others to variants of one accent.

    >>> v = assign_voices([["Wang Jian", "Zhou Qi"], ["Zhou Qi", "Xu Chun Hua"]])
    >>> v["Zhou Qi"] == assign_voices([["Zhou Qi"]])["Zhou Qi"]
    True
    >>> len({v["Wang Jian"], v["Zhou Qi"]}), len({v["Zhou Qi"], v["Xu Chun Hua"]})
    (2, 2)
    """
    pinned = dict(pinned or {})
    voices_palette = engine_type(engine).palette(default_voice)
    neighbours: dict[str, set[str]] = {}
    for doctors in pages_doctors:
        for d in doctors:
            neighbours.setdefault(d, set()).update(x for x in doctors if x != d)
    voices = dict(pinned)
    for doctor in sorted(neighbours, key=lambda d: (_slot(d, len(voices_palette)), d)):
        if doctor in voices:
            continue
        taken = {voices[n] for n in neighbours[doctor] if n in voices}
        start = _slot(doctor, len(voices_palette))
        for step in range(len(voices_palette)):
            candidate = voices_palette[(start + step) % len(voices_palette)]
            if candidate not in taken:
                voices[doctor] = candidate
                break
        else:  # more doctors on one page than voices: share rather than fail
            voices[doctor] = voices_palette[start]
    return voices
