"""Publishing: :class:`Episode` records in, ``feed.xml`` and ``answers.xml`` out (feedgen).

``feed.xml`` has one item per page, with a chapter per doctor's answer (ID3 in the MP3,
Podcasting 2.0 JSON, Podlove Simple Chapters). ``answers.xml`` has one item per answer, grouped by
page with ``itunes:season`` (page) and ``itunes:episode`` (answer).
"""

from __future__ import annotations

import uuid
import re
from datetime import datetime, time, timedelta, timezone
from html import escape as _escape

from feedgen.feed import FeedGenerator

from .. import __version__
from ..channel import Channel, podcast_guid
from .disclosure import AI_CONTENT, disclosure, engines_of
from .cover import PAGE_ART_SIZE
from .episode import GUID_NAMESPACE, Episode, updated_date
from ..timecode import clock
from ..names import ANSWERS_FILE, COVER_FILE, FEED_FILE, TRANSCRIPT_KINDS, VOICE_NOTE_TITLE, answer_stem, chapter_title
from .feedext import (
    Person,
    Transcript,
    PodcastEntryExtension,
    PodcastExtension,
    PodloveEntryExtension,
    PodloveExtension,
)



_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def escape(text: str) -> str:
    """Text for an HTML description, shown as written by every client the tests read it with.

    - ``&`` and ``<`` as decimal references (``&#38;``, ``&#60;``): gPodder's parser decodes named
      references with a pattern that swallows ``&lt;i&gt;`` whole, and no hexadecimal ones
      (``&#x27;`` showed "child's" as "childs"); quotes, apostrophes and ``>`` as written (they
      need no escaping outside attributes);
    - a ``<`` that could open a tag (``<b>`` written as words) is followed by a word joiner
      (U+2060, invisible): podcast-partytime hands descriptions back with their references
      decoded, and an app would otherwise render the page's ``<b>urgent</b>`` as bold.

    >>> print(escape("A child’s or child's <b> & fever > 38 °C"))
    A child’s or child's &#60;⁠b> &#38; fever > 38 °C
    """
    return _TAG_START.sub("<\u2060", text).replace("&", "&#38;").replace("<", "&#60;")


def _published(episode: Episode) -> datetime:
    return datetime.combine(updated_date(episode), time(12, 0), tzinfo=timezone.utc)


def page_link(channel: Channel, slug: str, index: int | None = None) -> str:
    """An item's ``<link>``: the page's player, at the answer's own section for one answer."""
    return channel.url(f"{slug}/") + (f"#{answer_stem(index)}" if index else "")


def answer_published(episode: Episode, index: int) -> datetime:
    """An answer's ``pubDate`` in answers.xml: its page's, a minute later per answer, so that apps
    keep the answers of a page in their order (and the dates never move between rebuilds)."""
    return _published(episode) + timedelta(minutes=index)


SIBLING_TITLES = {FEED_FILE: "Every page, a chapter per doctor", ANSWERS_FILE: "Every answer on its own"}
DESCRIPTION_LIMIT = 3500  # characters of an answer's text in its item (Apple shows up to 4,000)


def _item_art(fe, channel: Channel, ep: Episode) -> None:
    """An item's art: its page's own (``itunes:image`` and ``podcast:image``), else the show's cover."""
    if not ep.image:
        fe.podcast.itunes_image(channel.url(COVER_FILE))
        return
    fe.podcast.itunes_image(channel.url(ep.image))
    fe.podcastindex.image(channel.url(ep.image), f"{ep.title}, on the cover of {channel.title}", PAGE_ART_SIZE)


def answer_notes(text: str, page_title: str, said: str = "", doctor: str = "", specialty: str = "") -> str:
    """An answers.xml item's description: what the doctor says, who says it and on which page (the
    author is in elements of its own, but gPodder shows no episode's author), then the disclosure
    (``said``).

    >>> answer_notes("Rest & drink.", "Flu?", "A synthetic voice reads it.", "Ann Lee", "General Practice")
    '<p>Rest &#38; drink.</p><p>By Ann Lee (General Practice), on the page “Flu?”.</p><p>A synthetic voice reads it.</p>'
    """
    if len(text) > DESCRIPTION_LIMIT:
        text = text[:DESCRIPTION_LIMIT].rsplit(" ", 1)[0] + "…"
    paragraphs = "".join(f"<p>{escape(p.strip())}</p>" for p in text.split("\n\n") if p.strip())
    who = f"{doctor} ({specialty})" if doctor and specialty else doctor
    source = f"By {escape(who)}, on the page “{escape(page_title)}”." if who else f"From the page “{escape(page_title)}”."
    return f"{paragraphs}<p>{source}</p>" + (f"<p>{escape(said)}</p>" if said else "")


def _new_feed(channel: Channel, feed_file: str, title: str, episodes: list[Episode],
              description: str | None = None, guids: dict[str, str] | None = None) -> FeedGenerator:
    said = disclosure(channel, (e for ep in episodes for e in engines_of(ep)))
    description = " ".join(p for p in (description or channel.description, said) if p)
    fg = FeedGenerator()
    fg.load_extension("podcast")
    fg.register_extension("podcastindex", PodcastExtension, PodcastEntryExtension)
    fg.register_extension("podlove", PodloveExtension, PodloveEntryExtension)
    feed_url = channel.url(feed_file)
    fg.title(title)
    fg.description(description)
    fg.link(href=feed_url, rel="self", type="application/rss+xml")
    fg.link(href=channel.base_url, rel="alternate")  # feedgen uses the last link as <link>
    fg.language(channel.language)
    fg.author({"name": channel.author, "email": channel.owner_email})
    fg.generator(f"audiofeed {__version__}", uri="https://pypi.org/project/audiofeed/")
    fg.image(url=channel.url(COVER_FILE), title=title, link=channel.base_url)
    # A fixed build date keeps rebuilds byte-identical: the newest content's date.
    newest = max((_published(e) for e in episodes), default=datetime(2000, 1, 1, tzinfo=timezone.utc))
    fg.lastBuildDate(newest)
    fg.podcast.itunes_author(channel.author)
    fg.podcast.itunes_owner(name=channel.author, email=channel.owner_email)
    fg.podcast.itunes_image(channel.url(COVER_FILE))
    fg.podcast.itunes_category(channel.category, channel.subcategory)
    fg.podcast.itunes_summary(description)
    fg.podcastindex.explicit(channel.explicit)
    fg.podcastindex.locked(True, owner=channel.owner_email)
    if channel.disclose:
        fg.podcastindex.txt("true", AI_CONTENT)
    for purpose, value in (("verify", channel.verify), ("applepodcastsverify", channel.apple_verify)):
        if value:
            fg.podcastindex.txt(value, purpose)
    fg.podcastindex.habits(update_frequency=channel.update_frequency, license=channel.license,
                           funding=(channel.funding_url, channel.funding_text) if channel.funding_url else None)
    fg.podcastindex.guid((guids or {}).get(feed_file) or podcast_guid(feed_url))
    sibling = ANSWERS_FILE if feed_file == FEED_FILE else FEED_FILE  # each feed names the other
    fg.podcastindex.sibling(channel.url(sibling), SIBLING_TITLES[sibling])
    if channel.new_feed_url:  # the show has moved: apps follow this to the new address
        fg.podcast.itunes_new_feed_url(channel.new_feed_url.rstrip("/") + "/" + feed_file)
    return fg


FEED_TRANSCRIPT_ORDER = ("json", "html", "srt", "vtt")  # captions last: feedparser keeps only the last one


def _transcripts(entry, channel: Channel, files: dict[str, str]) -> None:
    for kind in FEED_TRANSCRIPT_ORDER:
        mime, rel = TRANSCRIPT_KINDS[kind]
        if kind in files:
            entry.podcastindex.transcript(Transcript(channel.url(files[kind]), mime, rel, channel.language))


def transcript_link(channel: Channel, files: dict[str, str]) -> str:
    """A link to an item's HTML transcript, in its description: gPodder's parser (podcastparser)
    reads ``podcast:transcript`` only under the namespace's old address, so its users find the
    transcript here.

    >>> transcript_link(Channel(base_url="https://x.org/"), {"html": "p/episode.html"})
    '<p><a href="https://x.org/p/episode.html">Transcript</a></p>'
    """
    return f'<p><a href="{_escape(channel.url(files["html"]))}">Transcript</a></p>' if "html" in files else ""


def show_notes_html(episode: Episode, said: str = "", transcript: str = "") -> str:
    """A feed.xml item's description: the disclosure (``said``), the page's chapters, and a link to
    its ``transcript`` (:func:`transcript_link`)."""
    rows = "".join(
        f"<li>{clock(a.start_ms)} {escape(a.question)} ({escape(a.doctor)}, {escape(a.specialty)})</li>"
        for a in episode.answers
    )
    return (
        (f"<p>{escape(said)}</p>" if said else "")
        + f"<p>{escape(episode.title)}: {len(episode.answers)} doctors' answers, "
        f"by {escape(', '.join(episode.doctors))}.</p>"
        f"<p>Chapters:</p><ul>{rows}</ul>" + transcript
    )


def _newest_first(episodes: list[Episode]) -> list[Episode]:
    return sorted(episodes, key=lambda e: (_published(e), e.slug), reverse=True)


def listed_episodes(channel: Channel, episodes: list[Episode]) -> list[Episode]:
    """The episodes ``feed.xml`` lists: the newest :attr:`Channel.max_items` (all when it is 0)."""
    newest = _newest_first(episodes)
    return newest[: channel.max_items] if channel.max_items else newest


def listed_answers(channel: Channel, episodes: list[Episode]) -> set[str]:
    """GUIDs of the answers ``answers.xml`` lists: newest pages first, :attr:`Channel.max_items` at most."""
    guids = [a.guid for ep in _newest_first(episodes) for a in ep.answers]
    return set(guids[: channel.max_items] if channel.max_items else guids)


def episodes_feed(channel: Channel, episodes: list[Episode], guids: dict[str, str] | None = None,
                  images: dict[str, str] | None = None) -> bytes:
    """``feed.xml``: one item per page (the newest ``max_items`` of them, if set); ``guids``: each
    feed's podcast:guid (:func:`~audiofeed.channel.show_guids`)."""
    fg = _new_feed(channel, FEED_FILE, channel.title, episodes, guids=guids)
    fg.podcast.itunes_type("episodic")
    # feedgen prepends entries; add oldest first so the newest ends up on top.
    for ep in reversed(listed_episodes(channel, episodes)):
        fe = fg.add_entry()
        fe.guid(ep.guid, permalink=False)
        fe.title(ep.title)
        fe.link(href=page_link(channel, ep.slug))
        fe.description(show_notes_html(ep, disclosure(channel, engines_of(ep)), transcript_link(channel, ep.transcripts)))
        fe.enclosure(channel.media_url(ep.file), str(ep.bytes), "audio/mpeg")
        fe.pubDate(_published(ep))
        fe.author({"name": ep.doctor, "email": channel.owner_email})
        fe.podcast.itunes_author(", ".join(ep.doctors))
        fe.podcast.itunes_duration(round(ep.duration_ms / 1000))
        _item_art(fe, channel, ep)
        fe.podcast.itunes_episode_type("full")
        fe.podcastindex.explicit(channel.explicit)
        fe.podcastindex.chapters(channel.url(ep.chapters_file))
        for doctor in ep.doctors:
            fe.podcastindex.person(Person(doctor, img=(images or {}).get(doctor)))
        if ep.voice_note:
            fe.podlove.chapter(0.0, VOICE_NOTE_TITLE)
        for a in ep.answers:
            fe.podlove.chapter(a.start_ms / 1000, chapter_title(a.question, a.doctor))
        _transcripts(fe, channel, ep.transcripts)
        if channel.disclose:
            fe.podcastindex.txt("true", AI_CONTENT)
    return fg.rss_str(pretty=True)


def answers_feed(channel: Channel, episodes: list[Episode], guids: dict[str, str] | None = None,
                 seasons: dict[str, int] | None = None, images: dict[str, str] | None = None) -> bytes:
    """``answers.xml``: one item per doctor's answer, seasons by page (``seasons``: pinned numbers,
    :func:`~audiofeed.build.output.pinned_seasons`; else by name order), episodes by answer."""
    fg = _new_feed(channel, ANSWERS_FILE, f"{channel.title}: every answer", episodes, channel.answers_description,
                   guids=guids)
    fg.podcast.itunes_type("serial")
    _voice_note_trailer(fg, channel, episodes)
    ordered = sorted(episodes, key=lambda e: e.slug)  # seasons by page: the numbers never move
    listed = listed_answers(channel, episodes)
    for order, ep in enumerate(ordered, start=1):
        season = (seasons or {}).get(ep.slug, order)
        for number, a in enumerate(ep.answers, start=1):
            if a.guid not in listed:
                continue
            fe = fg.add_entry(order="append")
            fe.guid(a.guid, permalink=False)
            fe.title(a.question)
            fe.link(href=page_link(channel, ep.slug, a.index))
            fe.description(answer_notes(a.text, ep.title, disclosure(channel, [a.engine]), a.doctor, a.specialty)
                           + transcript_link(channel, a.transcripts))
            fe.enclosure(channel.media_url(a.file), str(a.bytes), "audio/mpeg")
            fe.pubDate(answer_published(ep, a.index))
            fe.author({"name": a.doctor, "email": channel.owner_email})
            fe.podcast.itunes_author(a.doctor)
            duration = a.listed_runtime if a.listed_runtime is not None else round(a.duration_ms / 1000)
            fe.podcast.itunes_duration(duration)
            _item_art(fe, channel, ep)
            fe.podcast.itunes_season(season)
            fe.podcastindex.season(season, ep.title)
            fe.podcast.itunes_episode(number)
            fe.podcast.itunes_episode_type("full")
            fe.podcastindex.explicit(channel.explicit)
            fe.podcastindex.person(Person(a.doctor, img=(images or {}).get(a.doctor)))
            _transcripts(fe, channel, a.transcripts)
            if channel.disclose:
                fe.podcastindex.txt("true", AI_CONTENT)
    return fg.rss_str(pretty=True)


VOICE_NOTE_TRAILER = "About the voice of this show"


def _voice_note_trailer(fg, channel: Channel, episodes: list[Episode]) -> None:
    """answers.xml's items are the answers alone, each exactly its listed runtime, so the spoken
    disclosure cannot open them: the show says it in a trailer (``itunes:episodeType`` trailer,
    which apps show apart, first), the voice note of the newest page, besides every item's
    description and ``podcast:txt``. Its GUID is fixed (as a page's follows from its name), so it
    stays one item whatever page lends it its audio and wherever the show is published."""

    noted = [e for e in _newest_first(episodes) if e.voice_note]
    if not channel.disclose or not noted:
        return
    ep = noted[0]
    said = disclosure(channel, engines_of(ep))
    fe = fg.add_entry(order="append")
    fe.guid(str(uuid.uuid5(GUID_NAMESPACE, VOICE_NOTE_TRAILER)), permalink=False)
    fe.title(VOICE_NOTE_TRAILER)
    fe.link(href=page_link(channel, ep.slug))
    stem = ep.voice_note.rsplit(".", 1)[0]
    fe.description(f"<p>{escape(said)}</p>" + transcript_link(channel, {"html": f"{stem}.html"}))
    fe.enclosure(channel.media_url(ep.voice_note), str(ep.voice_note_bytes), "audio/mpeg")
    fe.pubDate(min(_published(e) for e in episodes) - timedelta(days=1))
    fe.author({"name": channel.author, "email": channel.owner_email})
    fe.podcast.itunes_author(channel.author)
    fe.podcast.itunes_duration(max(1, round(ep.voice_note_ms / 1000)))
    fe.podcast.itunes_image(channel.url(COVER_FILE))
    fe.podcast.itunes_episode_type("trailer")
    fe.podcastindex.explicit(channel.explicit)
    _transcripts(fe, channel, {kind: f"{stem}.{kind}" for kind in TRANSCRIPT_KINDS})
    fe.podcastindex.txt("true", AI_CONTENT)
