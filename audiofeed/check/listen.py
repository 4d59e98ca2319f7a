"""Listening: hear each published answer with an automatic listener, and hold it to its own words.

``check`` proves every duration, but durations cannot tell whether an answer's audio says that
answer: two answers of one length swapped, or speech replaced by silence padded to length, agree
on every clock. An automatic listener can: pocketsphinx (its US English model ships in its
wheel, so ``pip`` alone installs it) recognizes each answer's MP3, and its word error rate is
taken against the answer's own text and against the other answers' of its page and the few of the rest of the show that share most
of its words (:func:`_rivals`).

An answer fails when what is heard is
- closer to another answer's text than to its own;
- (nearly) nothing: fewer than :data:`SILENT_SHARE` of its words heard;
- much shorter than its text: fewer than :data:`TRUNCATED_SHARE` of its words heard (cut, then
  padded back to its length).

The thresholds come from measurements of the natural voice on ``articles/`` (docs/accessibility.md).
With espeak-ng's formant voices the listener's error rate is near 0.9 for every text, so it
cannot tell answers apart: ``check --listen`` says so and does not judge them.

Results are cached by the MP3's SHA-256 (``.audiofeed-listen`` beside the output), so an answer
is heard again only when its audio changed. Answers are heard on every core.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

SAMPLE_RATE = 16_000  # what the listener's model was trained on
SILENT_SHARE = 0.10  # fewer heard words than this share of its own: silence
TRUNCATED_SHARE = 0.60  # fewer heard words than this share of its own: truncated
UNRELIABLE_ENGINES = {"espeak"}  # engines the listener cannot understand well enough to judge
LISTENER_VERSION = 1  # bump when how an answer is heard changes (the cache follows it)


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
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    hyp = decoder.hyp()
    return words(hyp.hypstr if hyp else "")


@dataclass
class Heard:
    """One answer as the listener heard it, and how it compares with the show's texts."""

    own_wer: float  # against its own text
    closest_wer: float | None  # against the closest other answer's text (None: no other answer)
    closest: str  # that answer's "page #index"
    heard_share: float  # words heard / words of its own text
    verdict: str  # "ok", or why it fails: "another answer's words", "silent", "truncated"


def judge(own: list[str], heard: list[str], others: dict[str, list[str]]) -> Heard:
    """Hold ``heard`` to ``own`` and to every other answer's words (by label).

    >>> judge(["rest", "and", "drink", "water"], ["rest", "and", "drink", "water"], {"b #1": ["take", "two", "tablets"]}).verdict
    'ok'
    >>> judge(["rest", "and", "drink", "water"], ["take", "two", "tablets"], {"b #1": ["take", "two", "tablets"]}).verdict
    "another answer's words"
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
    elif share < TRUNCATED_SHARE:
        verdict = "truncated"
    else:
        verdict = "ok"
    return Heard(round(own_wer, 3), None if closest_wer is None else round(closest_wer, 3), closest, round(share, 3), verdict)


def cached_hear(mp3: Path, cache: Path | None) -> list[str]:
    """:func:`hear`, kept by the MP3's SHA-256 in ``cache`` (JSON; never code)."""
    digest = hashlib.sha256(mp3.read_bytes()).hexdigest()
    entry = cache / f"{digest}-v{LISTENER_VERSION}.json" if cache else None
    if entry is not None:
        from ..storage import read_regular

        try:  # what is beside the output is read as any cache is: a bounded regular file, never a FIFO
            data = json.loads(read_regular(entry, 4 << 20))
            if isinstance(data, list) and all(isinstance(w, str) for w in data):
                return data
        except (OSError, ValueError):
            pass
    heard = hear(mp3)
    if entry is not None:
        from ..storage import atomic_write

        atomic_write(entry, json.dumps(heard).encode())
    return heard


@dataclass(frozen=True)
class Spoken:
    """A published answer to listen to: its MP3, what it should say, and its engine."""

    mp3: Path
    label: str  # "slug #index"
    text: list[str]  # the words the engine was given
    engine: str


def published_answers(out: Path) -> list[Spoken]:
    """Every answer of the output's records, with the words it was given (``spoken`` in build.json)."""
    from ..build.output import OutputFolder
    from ..publish.episode import Episode

    folder, found = OutputFolder(out), []
    for record in sorted(out.glob("*/build.json")):
        episode = folder.published(record.parent.name)
        if not isinstance(episode, Episode):
            continue
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
    with ProcessPoolExecutor(max_workers=workers) as pool:
        heard = list(pool.map(cached_hear, [a.mp3 for a in judged], [cache] * len(judged)))
    texts = {a.label: a.text for a in answers}
    index = _word_index(texts)
    results = {}
    for a, h in zip(judged, heard):
        results[a.mp3.resolve()] = judge(a.text, h, {label: texts[label] for label in _rivals(a.label, h, texts, index)})
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
