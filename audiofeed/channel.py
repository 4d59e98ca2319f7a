"""The show: podcast-level settings.

Light on purpose: the command line, the configuration and the builder import it before anything
heavy is loaded.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from .names import ANSWERS_FILE, FEED_FILE

PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
# What every feed, description, MP3 tag and player page says of the voice, and what each page
# episode says aloud before its first answer ({voice}: the engine and its voice, filled in).
DISCLOSURE = ("The doctors wrote these answers; a synthetic voice ({voice}) reads them aloud. "
              "The doctors did not record them.")


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
    # The habits of a host, each optional (feeds only): an analytics prefix before every enclosure
    # URL (OP3, Podtrac: "https://op3.dev/e/"), claiming the show without publishing the owner's
    # e-mail (podcast:txt verify / applepodcastsverify), how often it is updated, its license, funding.
    enclosure_prefix: str = ""
    verify: str = ""
    apple_verify: str = ""
    update_frequency: str = ""  # podcast:updateFrequency, an RFC 5545 rule, e.g. "FREQ=WEEKLY"
    license: str = ""  # podcast:license, an SPDX identifier such as "CC-BY-4.0"
    funding_url: str = ""  # podcast:funding
    funding_text: str = "Support the show"
    disclosure: str = DISCLOSURE  # that the voice is synthetic: in feeds, tags, pages and the audio
    disclose: bool = True  # false only by an explicit setting, which every build warns about

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    def media_url(self, path: str) -> str:
        """An enclosure's URL: :meth:`url` behind the analytics prefix, if one is set (the prefix
        takes the URL without its scheme, as OP3 and Podtrac do).

        >>> Channel(base_url="https://x.org/p/", enclosure_prefix="https://op3.dev/e/").media_url("a/e.mp3")
        'https://op3.dev/e/x.org/p/a/e.mp3'
        """
        url = self.url(path)
        return self.enclosure_prefix + url.split("://", 1)[-1] if self.enclosure_prefix else url


# Apple Podcasts' categories and their subcategories, as its directory lists them; apps and
# directories file a show under these names exactly, and refuse or misfile any other.
APPLE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Arts": ("Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"),
    "Business": ("Careers", "Entrepreneurship", "Investing", "Management", "Marketing", "Non-Profit"),
    "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
    "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
    "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
    "Government": (),
    "History": (),
    "Health & Fitness": ("Alternative Health", "Fitness", "Medicine", "Mental Health", "Nutrition", "Sexuality"),
    "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
    "Leisure": ("Animation & Manga", "Automotive", "Aviation", "Crafts", "Games", "Hobbies", "Home & Garden",
                "Video Games"),
    "Music": ("Music Commentary", "Music History", "Music Interviews"),
    "News": ("Business News", "Daily News", "Entertainment News", "News Commentary", "Politics", "Sports News",
             "Tech News"),
    "Religion & Spirituality": ("Buddhism", "Christianity", "Hinduism", "Islam", "Judaism", "Religion", "Spirituality"),
    "Science": ("Astronomy", "Chemistry", "Earth Sciences", "Life Sciences", "Mathematics", "Natural Sciences", "Nature",
                "Physics", "Social Sciences"),
    "Society & Culture": ("Documentary", "Personal Journals", "Philosophy", "Places & Travel", "Relationships"),
    "Sports": ("Baseball", "Basketball", "Cricket", "Fantasy Sports", "Football", "Golf", "Hockey", "Rugby", "Running",
               "Soccer", "Swimming", "Tennis", "Volleyball", "Wilderness", "Wrestling"),
    "Technology": (),
    "True Crime": (),
    "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"),
}
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")  # a BCP 47 (RFC 5646) tag: en, en-US, pt-BR, zh-Hant
_EMAIL = re.compile(r"^[^@\s<>\"(),;:]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")


def url_problem(value: str) -> str | None:
    """Why ``value`` is not an http(s) address a feed can point at (None if it is).

    >>> url_problem("https://example.org/podcast/") is None
    True
    >>> url_problem("https://")
    "'https://' has no host name"
    >>> url_problem("http://[oops/")
    "'http://[oops/' is not a valid address (Invalid IPv6 URL)"
    """
    from urllib.parse import urlsplit

    if not value.startswith(("http://", "https://")):
        return f"must start with http:// or https://, not {value!r}"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises for a port that is not a number)
    except ValueError as e:
        return f"{value!r} is not a valid address ({e})"
    host = parts.hostname or ""
    if not host:
        return f"{value!r} has no host name"
    if not (_HOST.match(host) or host.replace(".", "").isdigit() or ":" in host):
        return f"{value!r}: {host!r} is not a host name"
    if any(c.isspace() for c in value):
        return f"{value!r} contains spaces"
    return None


def setting_problem(key: str, value, fields: dict | None = None) -> str | None:
    """Why the show setting ``key`` cannot be ``value`` (None if it can), as a directory would
    judge it; ``fields``: the other settings (a subcategory belongs to its category).

    >>> setting_problem("language", "en-US") is None, setting_problem("language", "")
    (True, "must be a language tag such as 'en' or 'en-US', not ''")
    >>> setting_problem("owner_email", "@")
    "'@' is not an e-mail address"
    >>> setting_problem("category", "Nonsense")[:55]
    "'Nonsense' is not one of Apple Podcasts' categories (Ar"
    """
    from .text import setting_problem as text_problem

    if isinstance(value, bool) or not isinstance(value, str):
        return None
    if why := text_problem(value):
        return why
    if key in ("title", "description", "answers_description", "author") and not value.strip():
        return "must not be empty"
    if key == "disclosure" and not value.strip():
        return ("must say that the voice is synthetic (change the words as you like); to publish without "
                "saying it, set disclose = false, which every build warns about")
    if key == "disclosure" and len(value) > 400:
        return f"is {len(value)} characters; say it in at most 400 (it is read aloud before every episode)"
    if key == "language" and not _LANGUAGE.match(value):
        return f"must be a language tag such as 'en' or 'en-US', not {value!r}"
    if key == "owner_email" and not _EMAIL.match(value):
        return f"{value!r} is not an e-mail address"
    if key == "base_url" or (key in ("new_feed_url", "funding_url") and value):
        return url_problem(value)
    if key == "enclosure_prefix" and value:
        if not value.endswith("/"):
            return f"must end with '/', as analytics prefixes do (e.g. 'https://op3.dev/e/'), not {value!r}"
        return url_problem(value)
    if key == "update_frequency" and value and not re.fullmatch(r"FREQ=(DAILY|WEEKLY|MONTHLY|YEARLY)(;[A-Z]+=[A-Z0-9,+-]+)*", value):
        return f"must be an RFC 5545 rule such as 'FREQ=WEEKLY', not {value!r}"
    if key == "category" and value not in APPLE_CATEGORIES:
        return f"{value!r} is not one of Apple Podcasts' categories ({', '.join(APPLE_CATEGORIES)})"
    if key == "subcategory" and value:
        category = (fields or {}).get("category", Channel.category)
        category = category if isinstance(category, str) else Channel.category
        allowed = APPLE_CATEGORIES.get(category, ())
        if value not in allowed:
            return (f"{value!r} is not a subcategory of {category!r}"
                    + (f" (its subcategories: {', '.join(allowed)})" if allowed else " (it has none)"))
    return None


LOCAL_HOSTS = ("127.", "localhost", "[::1]", "0.0.0.0")


def disclosure_warnings(channel: Channel) -> list[str]:
    """A show published without saying its voice is synthetic: Apple's guidelines require the use
    of AI to be disclosed in the audio and the metadata; listeners would take the voice for the doctors'.

    >>> disclosure_warnings(Channel())
    []
    """
    if channel.disclose:
        return []
    return ["disclose = false: nothing in the feeds, tags, pages or audio says that the voice is synthetic; "
            "listeners may take it for the doctors' own, and Apple Podcasts requires the use of AI to be disclosed"]


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
