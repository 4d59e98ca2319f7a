"""The show: podcast-level settings.

Light on purpose: the command line, the configuration and the builder import it before anything
heavy is loaded.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from .names import ANSWERS_FILE, FEED_FILE

PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")


@dataclass(frozen=True)
class Channel:
    """Podcast-level settings; every field has a default and a ``build`` option."""

    title: str = "Doctors' Answers, Read Aloud"
    description: str = (
        "Doctors answer common health questions. Each episode is one question page read aloud, "
        "with a chapter for every doctor's answer."
    )
    answers_description: str = (
        "Doctors answer common health questions. Each episode is one doctor's answer read aloud; "
        "the answers from one question page make a season."
    )
    author: str = "audiofeed"
    owner_email: str = "podcasts@example.org"
    language: str = "en"
    base_url: str = "http://127.0.0.1:8000/"
    category: str = "Health & Fitness"
    subcategory: str = "Medicine"
    explicit: bool = False
    podcast_guid: str = ""  # feed.xml's podcast:guid, pinned (answers.xml's follows from it); else kept from the first publish
    new_feed_url: str = ""  # the show has moved: the base URL the feeds now live at (itunes:new-feed-url)
    max_items: int = 0  # items a feed lists at most, newest first (0: every one); older files stay published

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")


LOCAL_HOSTS = ("127.", "localhost", "[::1]", "0.0.0.0")


def claim_warnings(channel: Channel) -> list[str]:
    """What a directory would stumble on before listing the show: for a feed at a public address,
    the default owner email (Spotify mails its claim code there) or author left in place.

    >>> claim_warnings(Channel())  # a local address: a draft, nothing to claim
    []
    >>> claim_warnings(Channel(base_url="https://podcast.example.org/"))[0][:60]
    "the owner email is still the default 'podcasts@example.org':"
    """
    from urllib.parse import urlsplit

    host = urlsplit(channel.base_url).netloc.rsplit("@", 1)[-1]
    if not host or host.startswith(LOCAL_HOSTS):
        return []
    default = Channel()
    out = []
    if channel.owner_email == default.owner_email:
        out.append(f"the owner email is still the default {default.owner_email!r}: directories send the show's claim "
                   "code there (Spotify) and list it as the contact; set [feed] owner_email or --email")
    if channel.author == default.author:
        out.append(f"the author is still the default {default.author!r}: apps show it under the show's title; "
                   "set [feed] author or --author")
    return out


def podcast_guid(feed_url: str) -> str:
    """Podcasting 2.0 ``podcast:guid``: UUIDv5 of the feed URL without scheme and trailing slashes.

    >>> podcast_guid("https://mp3s.nashownotes.com/pc20rss.xml")
    '917393e3-1b1e-5cef-ace4-edaa54e1f810'
    """
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


def show_guids(channel: Channel, pinned: dict[str, str]) -> dict[str, str]:
    """Each feed's ``podcast:guid``: the show's identity, which must not move with its address.

    ``[feed] podcast_guid`` pins feed.xml's (answers.xml's follows from it); otherwise the one
    ``pinned`` by the output's first publish stays; only a first publish computes one from the
    feed's URL, as the Podcasting 2.0 namespace says.

    >>> first = show_guids(Channel(base_url="https://a.example/"), {})
    >>> show_guids(Channel(base_url="https://b.example/"), first) == first
    True
    """
    out = {}
    for name in (FEED_FILE, ANSWERS_FILE):
        if channel.podcast_guid:
            out[name] = channel.podcast_guid if name == FEED_FILE else str(uuid.uuid5(uuid.UUID(channel.podcast_guid), name))
        else:
            out[name] = pinned.get(name) or podcast_guid(channel.url(name))
    return out
