"""The text side of the Piper engine: sentences, parts, pieces, and where each word starts.

Pure functions of text and phonemes (no model), so that :mod:`.piper_engine` holds only what runs
the model. Doctests here are the examples.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# A part longer than MAX_PHONEMES is split at a clause (or else a word) near its middle; the
# decoder takes PIECE frames at a time (plus their context, piper_model.DECODER_CONTEXT): 256 + 12
# costs 17% less per frame of audio than 128 + 16 (docs/engineering-notes.md).
MAX_PHONEMES = 100
PIECE = 256
WORD_WINDOW = 32  # words phonemized at most to place one word (see word_starts)
_SENTENCE_END = re.compile(r"(?<=[.?!])[\"')\]]*\s+")


def sentences(text: str) -> list[tuple[int, str]]:
    """``text`` split into sentences, each with its character offset.

    >>> sentences("Rest. Drink water! Then sleep")
    [(0, 'Rest.'), (6, 'Drink water!'), (19, 'Then sleep')]
    """
    out, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        out.append((start, text[start : m.start()].strip()))
        start = m.end()
    if text[start:].strip():
        out.append((start, text[start:].strip()))
    return [(o, s) for o, s in out if s]


def pieces(frames: int, most: int = PIECE) -> list[tuple[int, int]]:
    """``frames`` cut into the fewest equal pieces of at most ``most`` (each decoded with its
    context: fewer pieces, less context decoded twice).

    >>> pieces(100, 96), pieces(96, 96)
    ([(0, 50), (50, 100)], [(0, 96)])
    """
    n = -(-frames // most)
    bounds = [i * frames // n for i in range(n + 1)]
    return list(zip(bounds, bounds[1:]))


def split_phonemes(phonemes: list[str], limit: int = MAX_PHONEMES) -> list[list[str]]:
    """``phonemes`` in pieces of at most ``limit``, cut at a clause (``,``/``;``/``:``) near the
    middle, or else at a word; a piece with no word break is left whole.

    >>> ["".join(p) for p in split_phonemes(list("ab cd, ef gh."), 8)]
    ['ab cd,', 'ef gh.']
    """
    if len(phonemes) <= limit:
        return [phonemes]
    n = len(phonemes)
    spaces = [i for i in range(1, n - 1) if phonemes[i] == " "]
    if not spaces:
        return [phonemes]
    clauses = [i for i in spaces if phonemes[i - 1] in ",;:" and n * 0.2 <= i <= n * 0.8]
    cut = min(clauses or spaces, key=lambda i: abs(i - n / 2))
    return split_phonemes(phonemes[:cut], limit) + split_phonemes(phonemes[cut + 1 :], limit)


def word_starts(sentence: str, phonemize: Callable[[str], list[list[str]]], to_ids: Callable[[list[str]], list[int]],
                end: int) -> list[tuple[int, int, int]]:
    """Where each word of ``sentence`` starts: ``(character offset, part, phoneme id)``, given
    Piper's ``phonemize`` and ``to_ids`` and the number of ids of the end mark closing every part.

    espeak-ng phonemizes some words together ("of the" is one phoneme word), so each word is found
    by phonemizing the text before it and counting the phoneme words; of two words before the same
    phoneme word, the first was inside the group before it and is left out. The text before a word
    is taken from an anchor at most :data:`WORD_WINDOW` words back (the sentence's start in all but
    the longest sentences), whose own count is carried, so the work is linear in the sentence's
    length rather than its square.
    """
    chunks = [chunk for p in phonemize(sentence) if p for chunk in split_phonemes(p)]
    counts, base, anchor, since = {}, 0, 0, 0
    for m in re.finditer(r"\S+", sentence):
        if since == WORD_WINDOW:  # the next window starts at this word
            base, anchor, since = base + phoneme_words(sentence[anchor : m.start()], phonemize), m.start(), 0
        counts[m.start()] = base + phoneme_words(sentence[anchor : m.start()], phonemize)
        since += 1
    starts = [(j, i) for j, chunk in enumerate(chunks) for i in [0] + [i + 1 for i, ph in enumerate(chunk[:-1]) if ph == " "]]
    word_at = {k: offset for offset, k in counts.items() if k < len(starts)}  # the last word before each
    # the id where phoneme i starts: the ids of the phonemes before it, less the end mark
    return sorted((offset, j, len(to_ids(chunks[j][:i])) - end if i else 0)
                  for k, offset in word_at.items() for j, i in [starts[k]])


def phoneme_words(text: str, phonemize: Callable[[str], list[list[str]]]) -> int:
    """How many phoneme words ``phonemize`` makes of ``text``."""
    return sum(len("".join(p).split()) for p in phonemize(text) if p) if text.strip() else 0
