"""The web player: episodes in, ``index.html`` and one player page per article out (Jinja2).

Pages use relative links and local assets only (no CDN, no network), so the output folder can
be served from any path, or opened from disk.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from importlib import resources
from urllib.parse import quote

from .. import names
from ..channel import Channel
from .disclosure import disclosure, engines_of
from .episode import Episode
from ..names import ANSWERS_FILE, ASSETS_FOLDER, FEED_FILE
from ..timecode import clock
from .transcripts import TranscriptSection

ASSETS = ("player.js", "player.css")



@cache
def environment():
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("audiofeed", "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(clock=clock, long_date=long_date, names=names)
    return env


def long_date(iso: str) -> str:
    """'2025-02-12' as the source pages write it: 'February 12, 2025'."""
    d = date.fromisoformat(iso)
    return f"{d:%B} {d.day}, {d.year}"




def subscribe_links(url: str) -> list[dict]:
    """Links that open a feed in common podcast apps."""
    bare = url.split("://", 1)[-1]
    return [
        {"name": "Apple Podcasts", "url": f"podcast://{bare}"},
        {"name": "Overcast", "url": f"overcast://x-callback-url/add?url={quote(url, safe='')}"},
        {"name": "Pocket Casts", "url": f"pktc://subscribe/{bare}"},
        {"name": "Castro", "url": f"castro://subscribe/{bare}"},
        {"name": "RSS", "url": url},
    ]


def render_index(channel: Channel, episodes: list[Episode]) -> str:
    feeds = [
        {"label": "Every page, a chapter per doctor", "url": channel.url(FEED_FILE)},
        {"label": "Every answer on its own", "url": channel.url(ANSWERS_FILE)},
    ]
    for feed in feeds:
        feed["apps"] = subscribe_links(feed["url"])
    ordered = sorted(episodes, key=lambda e: (e.updated, e.slug), reverse=True)
    return environment().get_template("index.html").render(
        channel=channel, episodes=ordered, feeds=feeds, root="", language=channel.language,
        feed_url=channel.url(FEED_FILE), said=disclosure(channel, (e for ep in episodes for e in engines_of(ep))),
    )


def embed_snippet(channel: Channel, episode: Episode) -> str:
    """The ``<iframe>`` a reader copies to embed the page's player, as text.

    Its attribute values are escaped here, for the snippet's own HTML; the page then escapes the
    whole snippet once more, as the text of its box. Escaped only once, a title holding a quote
    would end its attribute in the copied code and could add one (``onload=...``).

    >>> from types import SimpleNamespace as N
    >>> embed_snippet(N(url=lambda p: "https://x.org/" + p), N(slug="s", title='A "b" onload=alert(1)'))[:73]
    '<iframe src="https://x.org/s/embed.html" title="A &quot;b&quot; onload=al'
    """
    from html import escape

    src = escape(channel.url(f"{episode.slug}/{names.EMBED_FILE}"), quote=True)
    return (f'<iframe src="{src}" title="{escape(episode.title, quote=True)}" width="100%" height="240" '
            'style="border:0" loading="lazy"></iframe>')


def render_page(channel: Channel, episode: Episode, sections: list[TranscriptSection]) -> str:
    others = [a for a in episode.answers if a.listed_runtime is not None]
    return environment().get_template("page.html").render(
        channel=channel, episode=episode, sections=sections, others=others, root="../",
        language=channel.language, feed_url=channel.url(FEED_FILE), embed_code=embed_snippet(channel, episode),
        said=disclosure(channel, engines_of(episode)),
    )


def fingerprint() -> str:
    """A hash of everything the player pages are made from: the templates and the assets.

    Part of every page's key, so that an edited template or stylesheet republishes the pages.
    """
    import hashlib

    h = hashlib.sha256()
    templates = resources.files("audiofeed").joinpath("templates")
    for name in sorted(t.name for t in templates.iterdir() if t.name.endswith(".html")):
        h.update(f"templates/{name}\0".encode() + templates.joinpath(name).read_bytes() + b"\0")
    for name, data in sorted(assets().items()):
        h.update(f"{name}\0".encode() + data + b"\0")
    return h.hexdigest()


def render_embed(channel: Channel, episode: Episode) -> str:
    """The page's compact player, for an ``<iframe>`` on another site."""
    return environment().get_template("embed.html").render(channel=channel, episode=episode, root="../",
                                                    language=channel.language, said=disclosure(channel, engines_of(episode)))


def assets() -> dict[str, bytes]:
    """Static files for the player, by path relative to the output folder."""
    folder = resources.files("audiofeed").joinpath("assets")
    return {f"{ASSETS_FOLDER}/{name}": folder.joinpath(name).read_bytes() for name in ASSETS}
