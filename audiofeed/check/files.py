"""What ``check`` reads published files with: decoding, links, chapter titles, strict JSON."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ..audio.ffmpeg import decoded_samples
from ..names import OUTPUT_RATE


def decoded_ms(path: Path) -> float:
    """Duration as a player decodes it: ffmpeg's sample count at the output rate."""
    try:
        samples = decoded_samples(path)
    except subprocess.CalledProcessError as e:
        lines = e.stderr.decode(errors="replace").strip().splitlines() if e.stderr else []
        raise ValueError(lines[-1] if lines else "ffmpeg failed") from None
    if not samples:
        raise ValueError("no audio")
    return samples * 1000 / OUTPUT_RATE


def _unsafe_link(key: str, value, base_url: str | None) -> str | None:
    """Why a chapter's ``url`` or ``img`` must not be published (None if it may): apps open these.

    >>> _unsafe_link("url", "javascript:alert(1)", None)
    "'javascript:alert(1)' is not an http(s) link"
    >>> _unsafe_link("img", "https://elsewhere.example/x.png", "https://podcast.example.org/")
    "'https://elsewhere.example/x.png' is not under the show's address https://podcast.example.org/"
    >>> _unsafe_link("url", "https://example.org/a", None) is None
    True
    """
    from urllib.parse import urlsplit

    if not isinstance(value, str) or urlsplit(value.strip()).scheme.lower() not in ("http", "https"):
        return f"{value!r} is not an http(s) link"
    if key == "img" and base_url and not value.startswith(base_url):
        return f"{value!r} is not under the show's address {base_url}"
    return None


def _title(chap) -> str:
    sub = chap.sub_frames.get("TIT2")
    return str(sub.text[0]) if sub else ""


def _not_json(constant: str):
    """JSON has no Infinity or NaN (Python's reader would take them): a file holding one is corrupt."""
    raise ValueError(f"{constant} is not a JSON number")
