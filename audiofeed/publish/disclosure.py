"""Saying that the voice is synthetic: the one sentence every feed, description, MP3 tag and player
page carries, and each page episode says aloud before its first answer.

The words are the show's (``[feed] disclosure``, :data:`~audiofeed.channel.DISCLOSURE` by
default); ``{voice}`` in them names the engine and voice that read the answers
(:data:`~audiofeed.speech.engine.SYNTHETIC_VOICES`). A show that sets ``disclose = false`` says
nothing, and every build warns about it.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..channel import Channel
from ..speech.engine import SPOKEN_VOICES, SYNTHETIC_VOICES

AI_CONTENT = "ai-content"  # podcast:txt purpose: the Podcasting 2.0 namespace's flag for AI-made content


def voice_label(engines: Iterable[str], spoken: bool = False) -> str:
    """The engines that read a show or an episode, as listeners are told.

    >>> voice_label(["piper"]), voice_label(["espeak", "piper", "piper"])
    ('Piper text-to-speech, voice en_US-joe-medium', 'espeak-ng text-to-speech and Piper text-to-speech, voice en_US-joe-medium')
    """
    names = sorted({e for e in engines if e})
    labels = SPOKEN_VOICES if spoken else SYNTHETIC_VOICES
    return " and ".join(labels.get(e, f"{e} text-to-speech") for e in names) or "text-to-speech"


def disclosure(channel: Channel, engines: Iterable[str], spoken: bool = False) -> str:
    """The disclosure, its ``{voice}`` filled in (as said aloud, if ``spoken``); "" for a show that
    does not disclose.

    >>> disclosure(Channel(), ["piper"])[:80]
    'The doctors wrote these answers; a synthetic voice (Piper text-to-speech, voice '
    """
    if not channel.disclose:
        return ""
    return channel.disclosure.replace("{voice}", voice_label(engines, spoken))


def engines_of(episode) -> list[str]:
    """The engines that read an episode's answers."""
    return [a.engine for a in episode.answers]
