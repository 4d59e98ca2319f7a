"""The show: podcast-level settings.

Light on purpose: the command line, the configuration and the builder import it before anything
heavy is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Channel:
    """Podcast-level settings; every field has a default and a ``build`` option."""

    title: str = "Doctors' Answers, Read Aloud"
    description: str = (
        "Doctors answer common health questions. Each episode is one question page read aloud, "
        "with a chapter for every doctor's answer."
    )
    author: str = "audiofeed"
    owner_email: str = "podcasts@example.org"
    language: str = "en"
    base_url: str = "http://127.0.0.1:8000/"
    category: str = "Health & Fitness"
    subcategory: str = "Medicine"
    explicit: bool = False
    max_items: int = 0  # items a feed lists at most, newest first (0: every one); older files stay published

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")
