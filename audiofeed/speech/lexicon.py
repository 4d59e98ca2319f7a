"""What is spoken: the question and the answer (:func:`spoken_text`), with the producer's
pronunciations (:class:`Lexicon`) applied to speech only."""

from __future__ import annotations

import re


def spoken_text(question: str, answer: str) -> tuple[str, int]:
    """The text an answer's audio speaks: its question, then the answer.

    Returns the text and the character offset where the answer starts.

    >>> spoken_text("Is it contagious?", "No.")
    ('Is it contagious?\\n\\nNo.', 19)
    """
    question = question.strip()
    if question and question[-1] not in ".?!":
        question += "."
    text = f"{question}\n\n{answer.strip()}"
    return text, len(question) + 2


class Lexicon:
    """Pronunciations applied to what is spoken, never to what is shown.

    Keys that are words match whole words only ("CT" but not "CTA"); keys with symbols match
    anywhere ("°C", "≥"). :meth:`apply` also returns where the spoken text's pieces start in the
    shown text, so that sentence timings found in speech map back to the shown text.

    >>> spoken, offsets = Lexicon({"CT": "C T", "mg": "milligrams", "°C": " degrees Celsius"}).apply("A CT scan, 5 mg. Done.")
    >>> spoken
    'A C T scan, 5 milligrams. Done.'
    >>> shown = "A CT scan, 5 mg. Done."
    >>> Lexicon.to_display(offsets, spoken.index("Done")) == shown.index("Done")
    True
    """

    def __init__(self, entries: dict[str, str] | None = None):
        self.entries = dict(entries or {})
        parts = []
        for word in sorted(self.entries, key=len, reverse=True):
            escaped = re.escape(word)
            parts.append(rf"\b{escaped}\b" if re.fullmatch(r"\w+", word) else escaped)
        self.pattern = re.compile("|".join(parts)) if parts else None

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where the entries match in ``text``: spans the default normalization leaves to the producer."""
        return [m.span() for m in self.pattern.finditer(text)] if self.pattern is not None else []

    def apply(self, text: str) -> tuple[str, tuple[tuple[int, int], ...]]:
        """The text to speak, and (spoken offset, shown offset) pairs where the two realign."""
        if self.pattern is None:
            return text, ()
        out, offsets, cursor, shift = [], [], 0, 0
        for m in self.pattern.finditer(text):
            out.append(text[cursor : m.start()])
            replacement = self.entries[m.group(0)]
            out.append(replacement)
            shift += len(replacement) - len(m.group(0))
            cursor = m.end()
            offsets.append((m.end() + shift, m.end()))
        out.append(text[cursor:])
        return "".join(out), tuple(offsets)

    @staticmethod
    def to_display(offsets: tuple[tuple[int, int], ...], spoken_offset: int) -> int:
        """A character offset in the spoken text, as an offset in the shown text."""
        delta = 0
        for spoken_at, shown_at in offsets:
            if spoken_at > spoken_offset:
                break
            delta = spoken_at - shown_at
        return spoken_offset - delta
