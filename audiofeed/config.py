"""Configuration: ``audiofeed.toml`` in, build options out.

The file sits beside ``articles/`` (or is named with ``--config``). Command-line options
override it. Unknown keys and bad values are refused with a message naming the key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from .defaults import BITRATES_KBPS, MAX_TOLERANCE_MS, TOLERANCE_MS
from .channel import Channel, setting_problem, url_problem
from .text import setting_problem as text_problem
from .speech.engine import ENGINE_ENV, ENGINES, UnknownEngine, default_engine, engine_for, engine_type

CONFIG_FILE = "audiofeed.toml"


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file and the key."""


@dataclass
class Config:
    channel: dict = field(default_factory=dict)  # Channel fields
    cover: Path | None = None
    default_voice: str | None = None
    voices: dict[str, str] = field(default_factory=dict)
    people_images: dict[str, str] = field(default_factory=dict)  # [people] images: doctor -> image URL
    rate_band: tuple[int, int] | None = None  # None: the engine's own band
    tolerance_ms: float = TOLERANCE_MS
    lexicon: dict[str, str] = field(default_factory=dict)
    scheduler: str | None = None  # a dask.distributed scheduler to render on
    bitrate_kbps: int | None = None  # the MP3s' bit rate (None: the default, 64)
    normalize: bool = True  # [speech] normalize: say health text as a clinician would
    engine: str = field(default_factory=default_engine)  # [speech] engine: a name in speech.engine.ENGINES
    path: Path | None = None


_FEED_KEYS = {f.name: f.type for f in fields(Channel)} | {"cover": "path"}
_SECTIONS = {"feed", "voices", "fitting", "check", "lexicon", "build", "speech", "people"}


MAX_COVER_BYTES = 2 << 20  # the cover is embedded in every MP3


def _not_an_image(path: Path) -> str | None:
    """Why ``path`` is not a cover audiofeed can publish (None if it is): it must be, by its bytes,
    the PNG or JPEG its name says, and at most :data:`MAX_COVER_BYTES`.

    >>> import tempfile, os
    >>> f = tempfile.NamedTemporaryFile(suffix=".png", delete=False); _ = f.write(b"<html>"); f.close()
    >>> _not_an_image(Path(f.name)); os.unlink(f.name)
    'is not a PNG image (its first bytes are not the PNG signature)'
    """
    size = path.stat().st_size
    if size > MAX_COVER_BYTES:
        return f"is {size} bytes; a cover may have at most {MAX_COVER_BYTES >> 20} MiB (it goes into every MP3)"
    with open(path, "rb") as f:
        head = f.read(8)
    if path.suffix.lower() == ".png" and head != b"\x89PNG\r\n\x1a\n":
        return "is not a PNG image (its first bytes are not the PNG signature)"
    if path.suffix.lower() in (".jpg", ".jpeg") and head[:3] != b"\xff\xd8\xff":
        return "is not a JPEG image (its first bytes are not a JPEG marker)"
    return None


def find_config(articles: Path, explicit: Path | None = None) -> Path | None:
    """The config file to use: ``explicit``, else ``audiofeed.toml`` beside ``articles``."""
    if explicit is not None:
        return explicit
    candidate = articles.resolve().parent / CONFIG_FILE
    return candidate if candidate.is_file() else None


def load_config(path: Path | None, engine: str | None = None, check_voices: bool = False) -> Config:
    """Read and check a config file (None: the defaults). ``engine`` overrides ``[speech] engine``;
    ``check_voices`` starts that engine to check the voices named against the ones it has."""
    fallback = default_engine()
    if fallback not in ENGINES:
        raise ConfigError(f"${ENGINE_ENV}: {UnknownEngine(fallback)}")
    config = Config(path=path, engine=engine or fallback)
    if engine is not None and engine not in ENGINES:
        raise ConfigError(str(UnknownEngine(engine)))
    if path is None:
        return config
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8") from None

    def bad(key: str, why: str) -> ConfigError:
        return ConfigError(f"{path}: {key}: {why}")

    for section in data:
        if section not in _SECTIONS:
            raise bad(section, f"unknown section (known: {', '.join(sorted(_SECTIONS))})")
        if not isinstance(data[section], dict):
            raise bad(section, "must be a table, e.g. [" + section + "]")
    for k, v in data.get("feed", {}).items():
        if k not in _FEED_KEYS:
            raise bad(f"feed.{k}", f"unknown key (known: {', '.join(sorted(_FEED_KEYS))})")
        if k == "cover":
            try:
                if not isinstance(v, str) or "\0" in v:
                    raise ValueError
                cover = (path.parent / v).resolve()
                if not cover.is_file() or cover.suffix.lower() not in (".png", ".jpg", ".jpeg"):
                    raise ValueError
                why = _not_an_image(cover)  # it goes into every MP3 and every app's listing
            except (OSError, ValueError):
                raise bad("feed.cover", f"{str(v)[:80]!r} is not a PNG or JPEG file (paths are relative to the config)") from None
            if why:
                raise bad("feed.cover", f"{v!r} {why}")
            config.cover = cover
        elif k in ("explicit", "disclose"):
            if not isinstance(v, bool):
                raise bad(f"feed.{k}", f"must be true or false, not {v!r}")
            config.channel[k] = v
        elif k == "max_items":
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise bad("feed.max_items", f"must be a whole number of items (0: every one), not {v!r}")
            config.channel[k] = v
        else:
            if not isinstance(v, str) or (not v.strip() and k != "disclosure"):
                raise bad(f"feed.{k}", f"must be a non-empty string, not {v!r}")
            if why := setting_problem(k, v, data.get("feed", {})):
                raise bad(f"feed.{k}", why)
            if k == "podcast_guid":
                import uuid

                try:
                    uuid.UUID(v)
                except ValueError:
                    raise bad("feed.podcast_guid", f"must be a UUID, such as the one the first publish wrote, not {v!r}") from None
            config.channel[k] = v if k != "base_url" or v.endswith("/") else v + "/"
    speech = data.get("speech", {})
    for k, v in speech.items():
        if k not in ("normalize", "engine"):
            raise bad(f"speech.{k}", "unknown key (known: engine, normalize)")
        if k == "normalize" and not isinstance(v, bool):
            raise bad("speech.normalize", f"must be true or false, not {v!r}")
        if k == "engine" and (not isinstance(v, str) or v not in ENGINES):
            raise bad("speech.engine", f"must be one of {', '.join(sorted(ENGINES))}, not {v!r}")
    config.normalize = speech.get("normalize", True)
    config.engine = engine or speech.get("engine", fallback)
    known_voices = set(engine_for(config.engine).voices()) if check_voices else None
    kind = engine_type(config.engine)

    def _voice(value, key: str) -> str:
        if not isinstance(value, str):
            raise bad(key, f"must be an {kind.NAME} voice id such as {kind.VOICE_EXAMPLE}, not {value!r}")
        if known_voices is not None and not kind.known(value, known_voices):
            raise bad(key, f"unknown {kind.NAME} voice {value!r} (ids look like {kind.VOICE_EXAMPLE})")
        return value

    voices = data.get("voices", {})
    for k, v in voices.items():
        if k == "default":
            config.default_voice = _voice(v, "voices.default")
        elif k == "doctors":
            if not isinstance(v, dict):
                raise bad("voices.doctors", 'must be a table of doctor = "voice"')
            for doctor, voice in v.items():
                if why := text_problem(doctor):
                    raise bad(f"voices.doctors.{doctor!r}", why)
                config.voices[doctor] = _voice(voice, f"voices.doctors.{doctor}")
        else:
            raise bad(f"voices.{k}", "unknown key (known: default, doctors)")
    for k, v in data.get("people", {}).items():
        if k != "images":
            raise bad(f"people.{k}", "unknown key (known: images)")
        if not isinstance(v, dict):
            raise bad("people.images", 'must be a table of doctor = "https://... image"')
        for doctor, image in v.items():
            if why := text_problem(doctor):
                raise bad(f"people.images.{doctor!r}", why)
            if not isinstance(image, str) or (why := url_problem(image)):
                raise bad(f"people.images.{doctor}", why or f"must be the image's address, not {image!r}")
            config.people_images[doctor] = image
    for k, v in data.get("fitting", {}).items():
        if k != "rate_band":
            raise bad(f"fitting.{k}", "unknown key (known: rate_band)")
        low, high = kind.RATE_LIMITS
        if not (isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) for x in v) and low <= v[0] < v[1] <= high):
            raise bad("fitting.rate_band", f"must be [low, high] words per minute within {low}-{high}, not {v!r}")
        config.rate_band = (v[0], v[1])
    for k, v in data.get("check", {}).items():
        if k != "tolerance_ms":
            raise bad(f"check.{k}", "unknown key (known: tolerance_ms)")
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 <= v <= MAX_TOLERANCE_MS:  # not nan, not inf
            raise bad("check.tolerance_ms", f"must be a number of milliseconds from 0 to {MAX_TOLERANCE_MS}, not {v!r}")
        config.tolerance_ms = float(v)
    for k, v in data.get("build", {}).items():
        if k == "bitrate_kbps":
            if v not in BITRATES_KBPS or isinstance(v, bool):
                raise bad("build.bitrate_kbps", f"must be one of {', '.join(map(str, BITRATES_KBPS))}, not {v!r}")
            config.bitrate_kbps = v
            continue
        if k != "scheduler":
            raise bad(f"build.{k}", "unknown key (known: bitrate_kbps, scheduler)")
        if not isinstance(v, str) or not v.strip():
            raise bad("build.scheduler", f"must be a dask scheduler address such as 'tcp://10.0.0.5:8786', not {v!r}")
        config.scheduler = v.strip()
    for k, v in data.get("lexicon", {}).items():
        if not k.strip():
            raise bad("lexicon", "an entry with an empty word: say which word to replace")
        if not isinstance(v, str):
            raise bad(f"lexicon.{k}", f"must be the text to say instead, not {v!r}")
        if why := text_problem(k) or text_problem(v):
            raise bad(f"lexicon.{k!r}", why)
        config.lexicon[k] = v
    return config


TEMPLATE = """\
# audiofeed configuration. Command-line options override what is set here.
# Paths are relative to this file.

[feed]
title = "Doctors' Answers, Read Aloud"
description = "Doctors answer common health questions, read aloud."
author = "Your organisation"
owner_email = "podcasts@example.org"
base_url = "https://example.org/podcast/"   # where output/ is published
language = "en"
category = "Health & Fitness"
subcategory = "Medicine"
explicit = false
# max_items = 300                           # items a feed lists, newest first (older files stay on the web pages)
# cover = "cover.png"                       # PNG or JPEG, 1400-3000 px square
# answers_description = "..."               # answers.xml's own description (one episode per answer)
# podcast_guid = "..."                      # the show's identity; kept from the first publish unless set here
# new_feed_url = "https://new.example/podcast/"  # moved: the feeds tell apps to follow (itunes:new-feed-url)
# The habits of a host, each optional; they shape the feeds only:
# enclosure_prefix = "https://op3.dev/e/"   # download analytics (OP3, Podtrac): before every enclosure URL
# verify = "..."                            # podcast:txt purpose="verify": claim the show without the owner's e-mail
# apple_verify = "..."                      # podcast:txt purpose="applepodcastsverify"
# update_frequency = "FREQ=WEEKLY"          # podcast:updateFrequency (an RFC 5545 rule)
# license = "CC-BY-4.0"                     # podcast:license (an SPDX identifier)
# funding_url = "https://example.org/donate"  # podcast:funding
# funding_text = "Support the show"
# That the voice is synthetic: said in every feed, description, MP3 tag and player page, and aloud
# before each episode's first answer. Change the words as you like ({voice}: the engine and voice).
# disclose = false publishes without it; every build then warns (Apple requires AI to be disclosed).
disclosure = "The doctors wrote these answers; a synthetic voice ({voice}) reads them aloud. The doctors did not record them."

[voices]
# default = "gmw/en-gb-x-rp"                # espeak-ng only: draw every doctor's voice from this accent
[voices.doctors]
# "Wang Jian" = "joe+1.15"                  # pin a doctor to a voice (Piper's palette: joe, joe+0.6, joe+1.15, joe+1.7)

[people.images]
# "Wang Jian" = "https://example.org/people/wang-jian.jpg"   # a doctor's picture: podcast:person img and their chapters' image

[fitting]
# rate_band = [130, 215]                    # natural paces (the engine's own band unless set: Piper 130-215, espeak 100-240)

[check]
# tolerance_ms = 12                         # audiofeed check's tolerance, milliseconds (12 unless set)

[build]
# scheduler = "tcp://10.0.0.5:8786"         # render on a dask.distributed cluster (pip install 'audiofeed[dask]')
# bitrate_kbps = 96                         # MP3 bit rate: 64 (default), 96 or 128 (Apple recommends 96-128 for mono)

[speech]
normalize = true                            # say "2-4 cm" as "2 to 4 centimeters", "1/3" as "a third"...

[lexicon]
# How to say things; applied to speech only, never to the text shown. Entries here win over
# the normalization above for the text they match.
"CT" = "C T"
"MRI" = "M R I"
# "mg" = "milligram"                        # an entry wins over the defaults ("2 mg" is "2 milligrams")
"""

EXAMPLE_ARTICLE = """\
---
title: Is it safe to exercise with a cold?
date: 2025-03-01
doctor: Ana Pereira
specialty: Sports Medicine
answers:
  - question: Should I run with a fever?
    doctor: Tomas Novak
    specialty: Infectious Diseases
    runtime: 14sec
---

Light exercise is usually fine when the symptoms are above the neck, such as a runny nose or a
mild sore throat. Lower the intensity, drink enough, and stop if you feel worse.

## Should I run with a fever?

No. A temperature of 38 °C or more means your body is fighting an infection. Rest until the
fever has gone.
"""
