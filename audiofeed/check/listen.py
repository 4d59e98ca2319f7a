"""Listening: hear each published answer with an automatic listener, and hold it to its own words.

``check`` proves every duration, but durations cannot tell whether an answer's audio says that
answer: two answers of one length swapped, or speech replaced by silence padded to length, agree
on every clock. An automatic listener can: pocketsphinx (its US English model ships in its
wheel, so ``pip`` alone installs it) recognizes each answer's MP3, and its word error rate is
taken against the answer's own text and against every other answer's of the show.

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


def hear(mp3: Path) -> list[str]:
    """What pocketsphinx hears in ``mp3`` (decoded by ffmpeg to 16 kHz mono), as :func:`words`."""
    from pocketsphinx import Decoder

    from ..audio.ffmpeg import ffmpeg_exe

    pcm = subprocess.run([ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(mp3), "-ac", "1", "-ar", str(SAMPLE_RATE),
                          "-f", "s16le", "-"], capture_output=True, check=True).stdout
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
        try:
            data = json.loads(entry.read_text(encoding="utf-8"))
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

    Returns the judgement of each MP3 (answers of engines the listener cannot judge are left
    out) and the names of those engines.
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
    results = {}
    for a, h in zip(judged, heard):
        results[a.mp3] = judge(a.text, h, {label: t for label, t in texts.items() if label != a.label})
    return results, unreliable
