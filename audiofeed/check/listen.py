"""Listening: hear each published answer with an automatic listener, and hold it to its own words.

``check`` proves every duration, but durations cannot tell whether an answer's audio says that
answer: two answers of one length swapped, or speech replaced by silence padded to length, agree
on every clock. An automatic listener can: pocketsphinx (its US English model ships in its
wheel) recognizes each answer's MP3 (and each page's voice note), and its word error rate is
taken against its own text and the other answers' of its page and the few of the show that share
most of its words (:func:`_rivals`). An answer fails when what is heard is
- closer to another answer's text than to its own;
- (nearly) nothing: fewer than :data:`SILENT_SHARE` of its words heard;
- much shorter than its text: fewer than :data:`TRUNCATED_SHARE` of its words heard, or fewer than
  :data:`TRUNCATED_LATE` of the words heard in the last :data:`LATE_PART` of its audio: cut, then
  padded back to its length (the listener adds words of its own, so a half answer can reach 68%
  of its words).

The thresholds come from measurements of the natural voice on ``articles/`` (docs/accessibility.md).
With espeak-ng's formant voices the listener's error rate is near 0.9 for every text, so it
cannot tell answers apart: ``check --listen`` says so and does not judge them.

Captions are held to the audio too: the answer's own text is aligned to its audio (pocketsphinx's
forced alignment, :func:`align_pcm`), which gives where each word is heard; a caption cue
starting more than :data:`CUE_TOLERANCE` seconds from where its first word is heard fails
(:func:`cue_offsets`).

Results are cached by the MP3's SHA-256 (``.OUTPUT.listen`` beside the output), on every core.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
import subprocess
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from ..names import VOICE_NOTE_STEM

SAMPLE_RATE = 16_000  # what the listener's model was trained on
SILENT_SHARE = 0.10  # fewer heard words than this share of its own: silence
TRUNCATED_SHARE = 0.60  # fewer heard words than this share of its own: truncated
LATE_PART = 0.4  # the last part of an answer's audio, where the words of a cut answer are missing
TRUNCATED_LATE = 0.20  # fewer of the words heard than this share in that part: truncated
UNRELIABLE_ENGINES = {"espeak"}  # engines the listener cannot understand well enough to judge
CUE_TOLERANCE = 0.5  # seconds a caption may start from where its first word is heard
LISTENER_VERSION = 3  # bump when how an answer is heard or aligned changes (the cache follows it)


def words(text: str) -> list[str]:
    """The words a listener is held to: lower case, letters, digits and apostrophes.

    >>> words("Take 2 tablets, don't wait!")
    ['take', '2', 'tablets', "don't", 'wait']
    """
    return re.findall(r"[a-z0-9']+", text.lower())


def wer(reference: list[str], heard: list[str]) -> float:
    """Word error rate of ``heard`` against ``reference`` (jiwer); 1.0 for nothing heard."""
    import jiwer

    if not reference:
        return 0.0 if not heard else 1.0
    return float(jiwer.wer(" ".join(reference), " ".join(heard) or "<nothing>"))


def pcm16k(mp3: Path | None = None, samples=None, rate: int = 0) -> bytes:
    """16 kHz mono 16-bit PCM, as the listener takes it, decoded by ffmpeg from ``mp3``, or
    resampled from raw 16-bit ``samples`` at ``rate`` Hz."""
    from ..audio.ffmpeg import ffmpeg_exe

    if mp3 is not None:
        source, data = ["-i", str(mp3)], None
    else:
        source, data = ["-f", "s16le", "-ar", str(rate), "-ac", "1", "-i", "-"], samples.tobytes()
    return subprocess.run([ffmpeg_exe(), "-nostdin", "-v", "error", *source, "-ac", "1", "-ar", str(SAMPLE_RATE),
                           "-f", "s16le", "-"], input=data, capture_output=True, check=True).stdout


def hear(mp3: Path) -> list[str]:
    """What pocketsphinx hears in ``mp3``, as :func:`words`."""
    return hear_pcm(pcm16k(mp3))


def hear_pcm(pcm: bytes) -> list[str]:
    """What pocketsphinx hears in 16 kHz mono PCM, as :func:`words`."""
    return hear_timed(pcm)[0]


def hear_timed(pcm: bytes) -> tuple[list[str], float]:
    """What pocketsphinx hears in 16 kHz mono PCM, and the share of the words it heard that end in
    the last :data:`LATE_PART` of the audio (0 when it heard none)."""
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    hyp = decoder.hyp()
    ends = [(seg.end_frame + 1) / 100 for seg in decoder.seg() or () if not seg.word.startswith(("<", "["))]
    late_from = len(pcm) / 2 / SAMPLE_RATE * (1 - LATE_PART)
    return words(hyp.hypstr if hyp else ""), round(sum(e > late_from for e in ends) / len(ends), 3) if ends else 0.0


# espeak-ng's US English IPA (as Piper phonemizes) to the listener's phones (CMU ARPAbet), longest first.
_IPA = {"aɪ": "AY", "aʊ": "AW", "ɔɪ": "OY", "eɪ": "EY", "oʊ": "OW", "tʃ": "CH", "dʒ": "JH", "ɑː": "AA", "ɔː": "AO",
        "iː": "IY", "uː": "UW", "ɜː": "ER", "ɚ": "ER", "ɑ": "AA", "ɒ": "AA", "æ": "AE", "ʌ": "AH", "ə": "AH", "ɐ": "AH",
        "a": "AE", "ɔ": "AO", "ɛ": "EH", "e": "EH", "ɪ": "IH", "ᵻ": "IH", "i": "IY", "ʊ": "UH", "u": "UW", "o": "OW",
        "b": "B", "d": "D", "ð": "DH", "f": "F", "ɡ": "G", "g": "G", "h": "HH", "j": "Y", "k": "K", "l": "L", "m": "M",
        "n": "N", "ŋ": "NG", "p": "P", "ɹ": "R", "r": "R", "s": "S", "ʃ": "SH", "t": "T", "θ": "TH", "v": "V",
        "w": "W", "z": "Z", "ʒ": "ZH", "ɾ": "T", "ʔ": "T", "x": "K"}


def pronounce(word: str) -> str | None:
    """The listener's phones for a word its dictionary lacks ("chromophobe", "2"), from the same
    espeak-ng Piper speaks with: ``K R OW M AH F OW B``. None if espeak-ng gives nothing."""
    ipa = "".join(p for p, _, _ in _espeak().get_phonemes(word))
    phones, i = [], 0
    while i < len(ipa):
        for size in (2, 1):
            if ipa[i:i + size] in _IPA:
                phones.append(_IPA[ipa[i:i + size]])
                i += size
                break
        else:
            i += 1  # stress, length, spaces and marks the listener has no phone for
    return " ".join(phones) or None


@cache
def _espeak():
    """Piper's own espeak-ng (its bridge and data), set to US English once per process."""
    from piper import espeakbridge
    from piper.phonemize_espeak import ESPEAK_DATA_DIR

    espeakbridge.initialize(str(ESPEAK_DATA_DIR))
    espeakbridge.set_voice("en-us")
    return espeakbridge


Aligned = tuple[tuple[str, float, float], ...]  # (word, start, end): seconds in the decoded audio


def align_pcm(pcm: bytes, text: list[str]) -> Aligned:
    """Where each word of ``text`` is heard in 16 kHz mono PCM: pocketsphinx's forced alignment
    (frames of 10 ms). Words its dictionary lacks are given phones from espeak-ng (:func:`pronounce`):
    left out, their sound would pull the words around them off by seconds. Empty when the text
    cannot be aligned to the audio at all."""
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
    known = []
    for w in text:
        if decoder.lookup_word(w) is None and (phones := pronounce(w)):
            decoder.add_word(w, phones, False)
        if decoder.lookup_word(w) is not None:
            known.append(w)
    if not known:
        return ()
    decoder.set_align_text(" ".join(known))
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    try:
        segments = list(decoder.seg() or ())  # nothing when no alignment reached the end of the audio
    except RuntimeError:
        return ()
    return tuple((seg.word.split("(")[0], seg.start_frame / 100, (seg.end_frame + 1) / 100) for seg in segments
                 if not seg.word.startswith(("<", "[")))


def cue_offsets(cues: list[tuple[float, str]], aligned: Aligned) -> list[float | None]:
    """How far each cue (start, text) starts from where its first word is heard, in seconds:
    positive when the caption comes late. Cue words are matched to the aligned words in order
    (difflib); a word the alignment left out could start anywhere between the heard word before
    it and the one after, and a cue inside that span is on time. None: nothing to match.

    >>> heard = (("rest", 0.5, 0.9), ("at", 0.9, 1.0), ("home", 1.0, 1.4), ("drink", 2.0, 2.3), ("water", 2.3, 2.8))
    >>> cue_offsets([(0.5, "Rest at home."), (3.0, "Drink water.")], heard)
    [0.0, 1.0]
    >>> cue_offsets([(0.7, "Zyrtec, then rest"), (1.5, "Zyrtec again")], (("then", 1.2, 1.4), ("rest", 1.4, 1.8)))
    [0.0, -0.3]
    """
    from difflib import SequenceMatcher

    cue_words = [(i, w) for i, (_, text) in enumerate(cues) for w in words(text)]
    if not cue_words or not aligned:
        return [None] * len(cues)
    span: list[tuple[float, float]] = [(0.0, 0.0)] * len(cue_words)  # where each cue word may start
    matcher = SequenceMatcher(None, [w for _, w in cue_words], [a[0] for a in aligned], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for k in range(i1, i2):
            if tag in ("equal", "replace") and j2 > j1:
                at = aligned[j1 + min(j2 - j1 - 1, (k - i1) * (j2 - j1) // (i2 - i1))][1]
                span[k] = (at, at)
            else:  # a cue word not aligned: between the word before and the word after
                before = aligned[j1 - 1][2] if j1 else 0.0
                after = aligned[j1][1] if j1 < len(aligned) else aligned[-1][2]
                span[k] = (before, max(before, after))
    first = {}
    for k, (i, _) in enumerate(cue_words):
        first.setdefault(i, k)
    offsets: list[float | None] = []
    for i, (start, _) in enumerate(cues):
        if i not in first:
            offsets.append(None)
            continue
        low, high = span[first[i]]
        offsets.append(round(start - low if start < low else start - high if start > high else 0.0, 3))
    return offsets


@dataclass(frozen=True)
class CueTiming:
    """A caption file's cues against where their first words are heard: (start, text, offset) each,
    the offset in seconds (positive: late; None: nothing to match)."""

    cues: tuple[tuple[float, str, float | None], ...]

    @classmethod
    def of(cls, cues: list[tuple[float, str]], aligned: Aligned) -> CueTiming:
        """``cues`` (start, text) held to the ``aligned`` words heard."""
        return cls(tuple((start, text, off) for (start, text), off in zip(cues, cue_offsets(cues, aligned))))

    @property
    def sizes(self) -> list[float]:
        """How far off each matched cue is."""
        return [abs(o) for _, _, o in self.cues if o is not None]

    @property
    def median(self) -> float | None:
        return round(statistics.median(self.sizes), 3) if self.sizes else None

    @property
    def p95(self) -> float | None:
        """The 95th percentile of how far off cues are."""
        sizes = self.sizes
        return round(statistics.quantiles(sizes, n=20, method="inclusive")[-1] if len(sizes) > 1 else sizes[0], 3) \
            if sizes else None

    @property
    def worst(self) -> tuple[float, str, float] | None:
        """The cue furthest off: (start, text, offset)."""
        matched = [c for c in self.cues if c[2] is not None]
        return max(matched, key=lambda c: abs(c[2])) if matched else None

    @property
    def worst_s(self) -> float | None:
        """How far off the worst cue is, in seconds (positive: late)."""
        return self.worst[2] if self.worst else None

    @property
    def off(self) -> list[tuple[float, str, float]]:
        """The cues more than :data:`CUE_TOLERANCE` off."""
        return [c for c in self.cues if c[2] is not None and abs(c[2]) > CUE_TOLERANCE]

    @property
    def off_count(self) -> int:
        return len(self.off)

    def record(self) -> dict:
        """The distribution, and every cue's start, offset and text, for ``check --json``."""
        return {"cues": len(self.cues), "median_s": self.median, "p95_s": self.p95, "worst_s": self.worst_s,
                "off": self.off_count, "each": [{"start_s": s, "offset_s": o, "text": t} for s, t, o in self.cues]}

    def summary(self) -> str:
        """``53 cues: median 0.02 s, 95th percentile 0.07 s, worst +0.18 s; 0 more than 0.5 s off``."""
        if self.worst is None:
            return f"{len(self.cues)} cues: none matched to words heard"
        return (f"{len(self.cues)} cues: median {self.median:.2f} s, 95th percentile {self.p95:.2f} s, worst "
                f"{self.worst_s:+.2f} s; {self.off_count} more than {CUE_TOLERANCE:g} s off")


def describe_cue(start: float, text: str, offset: float) -> str:
    r"""A cue that is off, in words: ``00:00:09.456 ('and alternating makes dosing mistakes mo'), 1.04 s late``.

    >>> describe_cue(9.456, "and alternating\nmakes", -0.7)
    "00:00:09.456 ('and alternating makes'), 0.70 s early"
    """
    from ..timecode import npt

    return f"{npt(start)} ({' '.join(text.split())[:40]!r}), {abs(offset):.2f} s {'late' if offset > 0 else 'early'}"


@dataclass
class Heard:
    """One answer as the listener heard it, and how it compares with the show's texts."""

    own_wer: float  # against its own text
    closest_wer: float | None  # against the closest other answer's text (None: no other answer)
    closest: str  # that answer's "page #index"
    heard_share: float  # words heard / words of its own text
    late_share: float  # of the words heard, the share in the last LATE_PART of its audio
    verdict: str  # "ok", or why it fails: "another answer's words", "silent", "truncated"
    aligned: Aligned = ()  # where each word of its own text is heard (:func:`align_pcm`)


def judge(own: list[str], heard: list[str], others: dict[str, list[str]], late_share: float) -> Heard:
    """Hold ``heard`` to ``own`` and to every other answer's words (by label); ``late_share`` is
    the share of the words heard in the last :data:`LATE_PART` of the audio (:func:`hear_timed`).

    >>> judge(["rest", "and", "drink", "water"], ["rest", "and", "drink", "water"], {"b #1": ["take", "two", "tablets"]}, 0.4).verdict
    'ok'
    >>> judge(["rest", "and", "drink", "water"], ["take", "two", "tablets"], {"b #1": ["take", "two", "tablets"]}, 0.4).verdict
    "another answer's words"
    >>> judge(["rest", "and", "drink", "water"], ["rest", "and", "drink", "water"], {}, 0.0).verdict  # nothing heard late
    'truncated'
    """
    own_wer = wer(own, heard)
    closest, closest_wer = "", None
    for label, text in others.items():
        score = wer(text, heard)
        if closest_wer is None or score < closest_wer:
            closest, closest_wer = label, score
    share = len(heard) / len(own) if own else 1.0
    if share < SILENT_SHARE:
        verdict = "silent"
    elif closest_wer is not None and closest_wer < own_wer:
        verdict = "another answer's words"
    elif share < TRUNCATED_SHARE or late_share < TRUNCATED_LATE:
        verdict = "truncated"
    else:
        verdict = "ok"
    return Heard(round(own_wer, 3), None if closest_wer is None else round(closest_wer, 3), closest, round(share, 3),
                 round(late_share, 3), verdict)


def cached_listen(mp3: Path, text: list[str], cache: Path | None) -> tuple[list[str], float, Aligned]:
    """What is heard in ``mp3`` and how late (:func:`hear_timed`), and where each word of ``text`` is heard
    (:func:`align_pcm`), kept by the SHA-256 of the MP3 and of the text in ``cache`` (JSON; never code)."""
    digest = hashlib.sha256(mp3.read_bytes()).hexdigest()
    said = hashlib.sha256(" ".join(text).encode()).hexdigest()[:16]
    entry = cache / f"{digest}-{said}-v{LISTENER_VERSION}.json" if cache else None
    if entry is not None:
        from ..storage import read_regular

        try:  # what is beside the output is read as any cache is: a bounded regular file, never a FIFO
            data = json.loads(read_regular(entry, 16 << 20))
            heard = [str(w) for w in data["heard"]]
            aligned = tuple((str(w), float(a), float(b)) for w, a, b in data["aligned"])
            return heard, float(data["late_share"]), aligned
        except (OSError, ValueError, KeyError, TypeError):
            pass
    pcm = pcm16k(mp3)
    (heard, late_share), aligned = hear_timed(pcm), align_pcm(pcm, text)
    if entry is not None:
        from ..storage import atomic_write

        atomic_write(entry, json.dumps({"heard": heard, "late_share": late_share, "aligned": aligned}).encode())
    return heard, late_share, aligned


@dataclass(frozen=True)
class Spoken:
    """A published answer to listen to: its MP3, what it should say, and its engine."""

    mp3: Path
    label: str  # "slug #index"
    text: list[str]  # the words the engine was given
    engine: str


def published_answers(out: Path) -> list[Spoken]:
    """Every answer of the output's records, with the words it was given (``spoken`` in build.json),
    and each page's voice note with its own."""
    from ..build.output import OutputFolder
    from ..publish.episode import Episode

    folder, found = OutputFolder(out), []
    for record in sorted(out.glob("*/build.json")):
        episode = folder.published(record.parent.name)
        if not isinstance(episode, Episode):
            continue
        if episode.voice_note:  # the spoken disclosure is heard too, and held to its words
            found.append(Spoken(out / episode.voice_note, f"{episode.slug} #{VOICE_NOTE_STEM}",
                                words(episode.voice_note_text), episode.answers[0].engine if episode.answers else ""))
        for a in episode.answers:
            found.append(Spoken(out / a.file, f"{episode.slug} #{a.index}", words(a.spoken or a.text), a.engine))
    return found


def listen(out: Path, cache: Path | None, workers: int | None = None) -> tuple[dict[Path, Heard], set[str]]:
    """Hear every published answer of ``out`` on every core and judge each against the show's texts.

    Returns the judgement of each MP3 by its resolved path (answers of engines the listener
    cannot judge are left out) and the names of those engines.
    """
    from concurrent.futures import ProcessPoolExecutor

    answers = published_answers(out)
    judged = [a for a in answers if a.engine not in UNRELIABLE_ENGINES]
    unreliable = {a.engine or "unknown" for a in answers if a.engine in UNRELIABLE_ENGINES}
    if not judged:
        return {}, unreliable
    from ..interrupts import end_workers, holding_stops, ignore_stops_in_worker

    pool = ProcessPoolExecutor(max_workers=workers, initializer=ignore_stops_in_worker)
    try:
        with holding_stops():  # the workers are forked here
            results = pool.map(cached_listen, [a.mp3 for a in judged], [a.text for a in judged], [cache] * len(judged))
        listened = list(results)
    except BaseException:  # a stop (Ctrl-C, once or twice) or a failure: the workers end now, silently
        end_workers(pool)
        raise
    pool.shutdown()
    texts = {a.label: a.text for a in answers}
    index = _word_index(texts)
    results = {}
    for a, (h, late_share, aligned) in zip(judged, listened):
        verdict = judge(a.text, h, {label: texts[label] for label in _rivals(a.label, h, texts, index)}, late_share)
        results[a.mp3.resolve()] = replace(verdict, aligned=aligned)
    return results, unreliable


RIVALS = 5  # answers of other pages a heard answer is compared with: those sharing the most rare words


def _word_index(texts: dict[str, list[str]]) -> dict[str, set[str]]:
    """Each word's answers (labels)."""
    index: dict[str, set[str]] = {}
    for label, text in texts.items():
        for w in set(text):
            index.setdefault(w, set()).add(label)
    return index


def _rivals(label: str, heard: list[str], texts: dict[str, list[str]], index: dict[str, set[str]]) -> list[str]:
    """The answers ``heard`` is compared with besides its own: every other answer of its page, and
    the :data:`RIVALS` of the rest of the show that share the most of its rarer words. A word error
    rate against every answer of a 10,000-page show would be quadratic; the answer it might really
    be is among those that share its words.

    >>> texts = {"p #0": ["rest"], "p #1": ["drink", "water"], "q #0": ["drink", "water", "daily"], "r #0": ["run"]}
    >>> _rivals("p #0", ["drink", "water"], texts, _word_index(texts))
    ['p #1', 'q #0']
    """
    page = label.rsplit(" #", 1)[0]
    mates = [other for other in texts if other != label and other.rsplit(" #", 1)[0] == page]
    common = max(50, len(texts) // 10)  # a word in more answers than this tells nothing
    shared: dict[str, int] = {}
    for w in set(heard):
        holders = index.get(w, ())
        if len(holders) <= common:
            for other in holders:
                if other != label and other not in mates:
                    shared[other] = shared.get(other, 0) + 1
    best = sorted(shared, key=lambda other: (-shared[other], other))[:RIVALS]
    return mates + sorted(best)
