"""Transcripts: timed sentences in, WebVTT, SRT, HTML and Podcasting 2.0 JSON out.

One cue per sentence, as the engine split the spoken text; the captions (WebVTT, SRT) cut long
sentences into captions of at most two lines of 42 characters (:func:`caption_cues`), while the
HTML and JSON transcripts keep whole sentences. A cue starts where that sentence's
speech starts in the MP3: the engine reports the sample where each sentence begins, fitting moves it
with the silence it edits, the first non-silent sample from there is the speech onset, and
LAME's encoder delay (1,105 samples at 48 kHz; the MP3s carry no gapless header to remove it) is
added, since players decode it. A caption cut inside a sentence starts where its first word
does, from the engine's word starts (:attr:`Cue.marks`), found the same way.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import timedelta
from html import escape
from itertools import accumulate

import numpy as np

from ..audio.answer import Cue
from ..audio.fitting import SILENCE_LEVEL
from ..names import OUTPUT_RATE
from ..timecode import npt
from ..speech.engine import Sentence

ENCODER_DELAY = 1105 / OUTPUT_RATE  # seconds of LAME delay at the start of every decoded MP3



def sentence_cues(
    text: str, sentences: tuple[Sentence, ...], samples: np.ndarray, sample_rate: int, speaker: str,
    display: str | None = None, offsets: tuple[tuple[int, int], ...] = (), words: tuple[Sentence, ...] = (),
) -> list[Cue]:
    """Cues for fitted speech: one per sentence, from speech onset to the end of its speech, with
    the onsets of the words the engine timed (``words``) as its :attr:`~Cue.marks`.

    ``text`` is what was spoken; ``display`` is what cues show, and ``offsets`` map spoken
    character offsets back to it (made by :func:`~audiofeed.speech.verbalize.to_speak`: the
    health-text normalization, then the lexicon), so "C T" spoken is "CT" in the captions.
    """
    from ..speech.lexicon import Lexicon

    shown = display if display is not None else text
    if _first_loud(samples, 0, len(samples)) < 0:
        return []
    starts = sorted({s.offset: s for s in sentences}.values(), key=lambda s: s.offset)
    words = sorted(words, key=lambda w: w.offset)
    word_offsets = [w.offset for w in words]
    cues = []
    for i, sentence in enumerate(starts):
        end_offset = starts[i + 1].offset if i + 1 < len(starts) else len(text)
        body = " ".join(shown[Lexicon.to_display(offsets, sentence.offset) : Lexicon.to_display(offsets, end_offset)].split())
        limit = starts[i + 1].sample if i + 1 < len(starts) else len(samples)
        onset = _first_loud(samples, sentence.sample, limit)
        if not body or onset < 0:
            continue
        last = _last_loud(samples, onset, limit)
        start = round(onset / sample_rate + ENCODER_DELAY, 3)
        first = Lexicon.to_display(offsets, sentence.offset)
        inside = [w for w in words[bisect_right(word_offsets, sentence.offset):bisect_left(word_offsets, end_offset)]
                  if onset < w.sample < limit]
        marks: dict[int, float] = {}
        for w, after in zip(inside, inside[1:] + [None]):
            d = Lexicon.to_display(offsets, w.offset)
            index = len(shown[first:d].split())
            if 0 < d < len(shown) and not shown[d - 1].isspace() and not shown[d].isspace():
                index -= 1  # the word starts inside a shown word (a normalized one): it counts as that word
            heard = _first_loud(samples, w.sample, after.sample if after else limit)  # the word's onset: its
            heard = w.sample if heard < 0 else heard  # first sound before the next word's
            seconds = round(heard / sample_rate + ENCODER_DELAY - start, 3)
            if index > 0 and index not in marks and seconds > max(marks.values(), default=0.0):
                marks[index] = seconds
        cues.append(
            Cue(
                start=start,
                end=round((last + 1) / sample_rate + ENCODER_DELAY, 3),
                text=body,
                speaker=speaker,
                marks=tuple(marks.items()),
            )
        )
    # Cues must not overlap; a cue ends no later than the next one starts.
    return [
        Cue(c.start, min(c.end, cues[i + 1].start) if i + 1 < len(cues) else c.end, c.text, c.speaker, c.marks)
        for i, c in enumerate(cues)
    ]


CAPTION_WIDTH, CAPTION_LINES = 42, 2  # characters a line, lines a caption (broadcast and podcast guidance)
_PHRASE_END = re.compile(r"(?<=[,;:])\s+|\s+(?=(?:and|but|or|because|which|who|when|while|if|so)\b)")


SCAN = 4096  # samples looked at a time for the first or last sound: no array as long as the answer


def _loud(x: np.ndarray) -> np.ndarray:
    return (x > SILENCE_LEVEL) | (x < -SILENCE_LEVEL)


def _first_loud(samples: np.ndarray, start: int, stop: int) -> int:
    """The first sample in [start, stop) above the silence level, or -1.

    >>> _first_loud(np.array([0, 0, 900, 0], dtype=np.int16), 0, 4), _first_loud(np.zeros(4, dtype=np.int16), 0, 4)
    (2, -1)
    """
    start, stop = max(0, start), min(stop, len(samples))
    for at in range(start, stop, SCAN):
        hits = np.flatnonzero(_loud(samples[at : min(at + SCAN, stop)]))
        if len(hits):
            return at + int(hits[0])
    return -1


def _last_loud(samples: np.ndarray, floor: int, stop: int) -> int:
    """The last sample in [floor, stop) above the silence level, or -1."""
    floor, stop = max(0, floor), min(stop, len(samples))
    for end in range(stop, floor, -SCAN):
        at = max(floor, end - SCAN)
        hits = np.flatnonzero(_loud(samples[at:end]))
        if len(hits):
            return at + int(hits[-1])
    return -1


def caption_lines(text: str, width: int = CAPTION_WIDTH) -> list[str]:
    """``text`` wrapped into lines of at most ``width`` characters, broken between words."""
    import textwrap

    return textwrap.wrap(text, width=width, break_long_words=True, break_on_hyphens=False) or [""]


def caption_cues(cues: list[Cue], width: int = CAPTION_WIDTH, lines: int = CAPTION_LINES) -> list[Cue]:
    """Sentence cues cut into captions a viewer can read: at most ``lines`` lines of ``width``
    characters each, cut at phrases (after a comma, a semicolon or a colon, or before a
    conjunction) where a sentence is too long for one caption, else between words. A caption
    starts where its first word does (the cue's :attr:`~Cue.marks`); a word the engine did not
    time gets the share of the sentence's time that the characters before it have.

    >>> text = "Rest at home for a few days, drink plenty of water, and see your doctor if the fever lasts more than three days."
    >>> [(c.start, c.end, c.text) for c in caption_cues([Cue(1.0, 9.0, text, "Dr A")])]  # doctest: +NORMALIZE_WHITESPACE
    [(1.0, 6.117, 'Rest at home for a few days, drink plenty of water, and see your doctor'),
     (6.117, 9.0, 'if the fever lasts more than three days.')]
    >>> [(c.start, c.end) for c in caption_cues([Cue(1.0, 9.0, text, "Dr A", marks=((15, 4.5),))])]
    [(1.0, 5.5), (5.5, 9.0)]
    """
    out = []
    for cue in cues:
        if len(caption_lines(cue.text, width)) <= lines:
            out.append(cue)
            continue
        pieces: list[str] = []
        for phrase in (p for p in _PHRASE_END.split(cue.text) if p and p.strip()):
            joined = f"{pieces[-1]} {phrase}" if pieces else phrase
            if pieces and len(caption_lines(joined, width)) <= lines:
                pieces[-1] = joined
            else:
                wrapped = caption_lines(phrase, width)  # a phrase too long for one caption: by lines
                pieces += [" ".join(wrapped[i:i + lines]) for i in range(0, len(wrapped), lines)]
        total, done, word, marks = sum(len(p) for p in pieces), 0, 0, dict(cue.marks)
        starts = []
        for piece in pieces:
            shared = cue.start + (cue.end - cue.start) * done / total
            starts.append(round(cue.start + marks[word], 3) if word in marks else round(shared, 3))
            done, word = done + len(piece), word + len(piece.split())
        starts = list(accumulate(starts, max))  # never before the caption before
        out += [Cue(s, e, piece, cue.speaker) for piece, s, e in zip(pieces, starts, starts[1:] + [cue.end])]
    return out


def _caption_text(text: str) -> str:
    """A caption's text as its lines (at most :data:`CAPTION_LINES` of :data:`CAPTION_WIDTH`)."""
    return "\n".join(caption_lines(text))


def _vtt_escape(text: str) -> str:
    """Text as WebVTT cue text: ``&``, ``<`` and ``>`` are markup there.

    >>> _vtt_escape("values < 5 & <b>rest</b>")
    'values &lt; 5 &amp; &lt;b&gt;rest&lt;/b&gt;'
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(cues: list[Cue]) -> str:
    """WebVTT captions; each cue carries its speaker as a voice span. Text is escaped, so a page's
    own ``<``, ``>`` and ``&`` are shown as written, never read as caption markup."""
    import webvtt  # here, not at the top: workers time cues but never write captions

    doc = webvtt.WebVTT(captions=[
        webvtt.Caption(npt(c.start), npt(c.end), f"<v {_vtt_escape(c.speaker)}>{_vtt_escape(_caption_text(c.text))}</v>")
        for c in caption_cues(cues)
    ])
    return doc.content


def to_srt(cues: list[Cue]) -> str:
    """SRT subtitles, one per cue (SRT has no speaker field and no escaping: text as written)."""
    import srt

    subtitles = [
        srt.Subtitle(i, timedelta(seconds=c.start), timedelta(seconds=c.end), _caption_text(c.text))
        for i, c in enumerate(caption_cues(cues), start=1)
    ]
    return srt.compose(subtitles, reindex=False)


def to_json(cues: list[Cue]) -> str:
    """Podcasting 2.0 JSON transcript: segments with speaker, startTime, endTime and body."""
    doc = {
        "version": "1.0.0",
        "segments": [
            {"speaker": c.speaker, "startTime": round(c.start, 3), "endTime": round(c.end, 3), "body": c.text} for c in cues
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class TranscriptSection:
    """One answer in a transcript: its question, who speaks (doctor, specialty) and its cues."""

    heading: str
    speaker: str
    cues: tuple[Cue, ...]

    def shifted(self, seconds: float) -> TranscriptSection:
        return TranscriptSection(self.heading, self.speaker, tuple(c.shifted(seconds) for c in self.cues))


def to_html(title: str, sections: list[TranscriptSection], language: str = "en") -> str:
    """A plain HTML transcript: per answer a heading (question, doctor) and its timed sentences."""
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{escape(language)}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Transcript: {escape(title)}</title></head><body>",
        f"<h1>{escape(title)}</h1>",
    ]
    for section in sections:
        parts.append(f"<section><h2>{escape(section.heading)}</h2><p><cite>{escape(section.speaker)}:</cite></p>")  # as the Podcasting 2.0 example names a speaker
        for c in section.cues:
            parts.append(f'<p><time datetime="PT{c.start:.3f}S">{npt(c.start)[:8]}</time> {escape(c.text)}</p>')
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
