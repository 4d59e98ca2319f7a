"""Feeds that directories and apps trust: identity that never moves, and the habits of good hosts.

Read back the way apps read them (feedparser, gPodder's podcastparser, mutagen), from real builds.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest

from .conftest import ARTICLES, BASE_URL, run_build, small_articles

PAGE = "000_4fe75e9a818bb161"


def guids(out: Path) -> dict[str, list[str]]:
    return {name: [e.id for e in feedparser.parse(str(out / name)).entries] for name in ("feed.xml", "answers.xml")}


def show_guid(out: Path, name: str) -> str:
    return re.search(r"<podcast:guid>([^<]+)</podcast:guid>", (out / name).read_text()).group(1)


def test_a_reworded_question_and_an_edited_answer_keep_every_guid(tmp_path, articles_copy):
    out = tmp_path / "out"
    assert run_build(articles_copy, out, "--base-url", BASE_URL).code == 0
    before = guids(out)
    page = articles_copy / f"{PAGE}.txt"
    text = page.read_text()
    assert "Is late-stage kidney cancer contagious?" in text
    page.write_text(text.replace("Is late-stage kidney cancer contagious?", "Can late-stage kidney cancer spread to others?")
                        .replace("Kidney cancer clinically tends", "Kidney cancer usually tends"))
    run = run_build(articles_copy, out, "--base-url", BASE_URL)
    assert run.code == 0 and "1 page(s) built" in run.stdout, run.stdout
    assert "Can late-stage kidney cancer spread to others?" in (out / "answers.xml").read_text()
    assert guids(out) == before
    forced = run_build(articles_copy, out, "--base-url", BASE_URL, "--force")  # a forced rebuild keeps them too
    assert forced.code == 0 and guids(out) == before


def test_a_front_matter_guid_pins_the_episode(tmp_path):
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "cold.md").write_text("---\ntitle: Is a cold contagious?\ndate: 2025-02-12\ndoctor: Ann Lee\n"
                                      "specialty: General Practice\nguid: 7d3c7a4e-old-page-guid\nanswers: []\n---\n"
                                      "A cold spreads for the first few days.\n")
    out = tmp_path / "out"
    assert run_build(articles, out).code == 0
    assert guids(out)["feed.xml"] == ["7d3c7a4e-old-page-guid"]


def test_a_second_address_keeps_the_shows_identity_and_can_point_apps_to_it(tmp_path):
    articles = small_articles(tmp_path / "articles")
    out = tmp_path / "out"
    assert run_build(articles, out, "--base-url", "https://old.example.org/show/").code == 0
    first = {name: show_guid(out, name) for name in ("feed.xml", "answers.xml")}
    assert first["feed.xml"] != first["answers.xml"]
    assert run_build(articles, out, "--base-url", "https://new.example.net/podcast/").code == 0
    assert {name: show_guid(out, name) for name in ("feed.xml", "answers.xml")} == first
    (tmp_path / "audiofeed.toml").write_text('[feed]\nnew_feed_url = "https://moved.example.com/pod/"\n')
    assert run_build(articles, out, "--base-url", "https://new.example.net/podcast/").code == 0
    xml = (out / "feed.xml").read_text()
    assert "<itunes:new-feed-url>https://moved.example.com/pod/feed.xml</itunes:new-feed-url>" in xml
    assert show_guid(out, "feed.xml") == first["feed.xml"]


def test_items_link_their_pages_each_feed_describes_itself_and_answers_have_ordered_dates(built):
    import podcastparser

    out = built.output
    episodes = feedparser.parse(str(out / "feed.xml"))
    answers = feedparser.parse(str(out / "answers.xml"))
    assert not episodes.bozo and not answers.bozo
    assert all(e.link == f"{BASE_URL}{e.enclosures[0].href.split('/')[-2]}/" for e in episodes.entries)
    assert all(e.link.startswith(BASE_URL) and "/" in e.link[len(BASE_URL):] for e in answers.entries)
    # each feed names the other, as an alternate RSS feed of the same show
    for parsed, sibling in ((episodes, "answers.xml"), (answers, "feed.xml")):
        assert any(link.rel == "alternate" and link.type == "application/rss+xml" and link.href == BASE_URL + sibling
                   for link in parsed.feed.links), parsed.feed.links
    assert episodes.feed.description != answers.feed.description
    assert "one doctor's answer" in answers.feed.description
    for e in answers.entries:  # the description says what the doctor says, not the title and author again
        assert not e.description.startswith(f"<p>{e.author_detail.name}")
    by_page: dict[str, list] = {}
    for e in (e for e in answers.entries if e.get("itunes_episodetype") != "trailer"):  # the voice note apart
        by_page.setdefault(e.enclosures[0].href.split("/")[-2], []).append(e)
    for page, items in by_page.items():
        dates = [e.published_parsed for e in sorted(items, key=lambda e: int(e.itunes_episode))]  # in answer order
        assert dates == sorted(dates) and len(set(dates)) == len(dates), page
    for name in ("feed.xml", "answers.xml"):
        with open(out / name, "rb") as f:
            parsed = podcastparser.parse(f"{BASE_URL}{name}", f)
        assert all(ep["link"].startswith(BASE_URL) for ep in parsed["episodes"])


def test_a_public_address_with_the_default_owner_or_author_is_warned_about(tmp_path):
    articles = small_articles(tmp_path / "articles")
    run = run_build(articles, tmp_path / "out", "--base-url", "https://podcast.example.org/")
    assert run.code == 0
    warnings = [ln for ln in run.stderr.splitlines() if ln.startswith("warning:")]
    assert any("owner email is still the default" in w and "owner_email" in w for w in warnings), run.stderr
    assert any("author is still the default" in w for w in warnings), run.stderr
    local = run_build(articles, tmp_path / "local")  # a draft at the default local address
    assert "still the default" not in local.stderr
    named = run_build(articles, tmp_path / "named", "--base-url", "https://podcast.example.org/", "--email",
                      "radio@hospital.example", "--author", "City Hospital")
    assert "still the default" not in named.stderr


def test_transcripts_chapters_and_tags_as_the_specs_ask(built):
    from mutagen.id3 import ID3

    out = built.output
    for path in sorted(out.glob("*/answer-*.json")) + sorted(out.glob("*/episode.json")):
        for segment in json.loads(path.read_text())["segments"]:
            for key in ("startTime", "endTime"):
                assert round(segment[key], 3) == segment[key] and len(repr(segment[key]).split(".")[-1]) <= 3, (path, segment)
    chapters = json.loads((out / PAGE / "chapters.json").read_text())
    assert chapters["title"] and chapters["version"] == "1.2.0"
    assert all(c["url"].startswith(f"{BASE_URL}{PAGE}/") and c["img"] == f"{BASE_URL}{PAGE}/art.png" for c in chapters["chapters"])
    assert chapters["chapters"][3]["url"] == f"{BASE_URL}{PAGE}/#answer-02"  # after the voice note and answers 0, 1
    html = (out / PAGE / "answer-01.html").read_text()
    assert "<cite>Wang Jian, Urology:</cite>" in html and "<em>" not in html
    for mp3 in sorted(out.glob("*/*.mp3")):
        raw = ID3(mp3, translate=False)
        assert raw.version[:2] == (2, 3), mp3
        assert "TDRC" not in raw and str(raw["TYER"]) == "2025" and len(str(raw["TDAT"])) == 4, mp3
        assert str(ID3(mp3)["TDRC"]).startswith("2025-")  # and readers still find the date
    entries = feedparser.parse(str(out / "answers.xml")).entries
    # feedparser keeps only the last podcast:transcript: it is the WebVTT captions
    assert entries and all(e.podcast_transcript["type"] == "text/vtt" for e in entries)


def test_captions_are_readable_cues_and_transcripts_keep_whole_sentences(built):
    import srt
    import webvtt

    out = built.output
    longest_sentence = 0
    for path in sorted(out.glob("*/*.srt")):
        subtitles = list(srt.parse(path.read_text()))
        assert subtitles and [s.start for s in subtitles] == sorted(s.start for s in subtitles)
        for s in subtitles:
            lines = s.content.splitlines()
            assert 1 <= len(lines) <= 2 and all(len(line) <= 42 for line in lines), (path, s.content)
        for cue in webvtt.read(str(path.with_suffix(".vtt"))):
            lines = cue.text.splitlines()
            assert 1 <= len(lines) <= 2 and all(len(line) <= 42 for line in lines), (path, cue.text)
        segments = json.loads(path.with_suffix(".json").read_text())["segments"]
        longest_sentence = max(longest_sentence, *(len(s["body"]) for s in segments))
        spoken = " ".join(s["body"] for s in segments)
        assert " ".join(" ".join(s.content.split()) for s in subtitles) == " ".join(spoken.split())  # nothing lost
    assert longest_sentence > 84  # the JSON transcript keeps sentences longer than any caption


def test_the_default_cover_carries_the_title_at_3000_px_in_srgb(tmp_path):
    import struct

    from mutagen.id3 import ID3

    articles = small_articles(tmp_path / "articles")
    a = run_build(articles, tmp_path / "a", "--title", "Kidney Answers")
    b = run_build(articles, tmp_path / "b", "--title", "Fever Answers")
    assert a.code == b.code == 0
    cover = (a.output / "cover.png").read_bytes()
    assert cover[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", cover[16:24]) == (3000, 3000)
    assert b"sRGB" in cover[:200] and len(cover) < 200_000  # sRGB, and still small
    assert cover != (b.output / "cover.png").read_bytes()  # the title is drawn on it
    assert cover == run_build(articles, tmp_path / "c", "--title", "Kidney Answers").output.joinpath("cover.png").read_bytes()
    embedded = ID3(next(a.output.glob("*/answer-00.mp3"))).getall("APIC")[0].data
    assert struct.unpack(">II", embedded[16:24]) == (600, 600) and len(embedded) < 40_000


@pytest.mark.parametrize("kbps", [64, 96, 128])
def test_the_frame_arithmetic_holds_at_each_offered_bit_rate(kbps):
    """Every reader's duration is frames x 24 ms only if every frame is one size: at each rate."""
    import numpy as np
    from mutagen.mp3 import MP3

    from audiofeed.audio.encoding import (check_frames, encode, frame_bytes, frame_count, frames_for_runtime,
                                          content_samples, resample)
    from audiofeed.audio.ffmpeg import ffmpeg_exe

    import subprocess
    import tempfile

    frames = frames_for_runtime(39)
    samples = np.zeros(content_samples(frames, 22_050), dtype=np.int16)
    samples[::50] = 3000  # something to encode
    mp3 = encode(resample(samples, 22_050), kbps)
    assert len(mp3) == frames * frame_bytes(kbps) == frames * 3 * kbps
    assert check_frames(mp3) == frame_count(mp3) == frames
    with tempfile.NamedTemporaryFile(suffix=".mp3") as f:
        f.write(mp3)
        f.flush()
        info = MP3(f.name).info
        assert info.bitrate == kbps * 1000 and round(info.length * 1000) == frames * 24
        decoded = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", f.name, "-f", "s16le", "-ac", "1", "-"],
                                 capture_output=True, check=True).stdout
        assert len(decoded) // 2 == frames * 1152  # ffmpeg decodes every frame, encoder delay included


def test_a_build_at_128_kbit_s_checks_and_the_default_stays_64(tmp_path):
    articles = small_articles(tmp_path / "articles")
    run = run_build(articles, tmp_path / "out", "--bitrate", "128")
    assert run.code == 0, run.stderr
    from mutagen.mp3 import MP3

    assert {MP3(p).info.bitrate for p in run.output.glob("*/*.mp3")} == {128_000}
    from .conftest import run_check

    assert run_check(run.output, articles=articles).returncode == 0
    default = run_build(articles, tmp_path / "default")
    assert {MP3(p).info.bitrate for p in default.output.glob("*/*.mp3")} == {64_000}


def test_apostrophes_and_quotes_reach_gpodder_and_feedparser_as_written(built):
    """gPodder's podcastparser decodes no hexadecimal reference: `&#x27;` showed "child's" as "childs"."""
    import podcastparser

    for name in ("feed.xml", "answers.xml"):
        with open(built.output / name, "rb") as f:
            parsed = podcastparser.parse(f"{BASE_URL}{name}", f)
        descriptions = " ".join(e["description"] for e in parsed["episodes"])
        assert "When should a child's fever of 38.5 °C worry parents?" in descriptions, name
        assert "childs" not in descriptions
        shown = " ".join(e.summary for e in feedparser.parse(str(built.output / name)).entries)
        assert "child's fever" in shown


def test_seasons_keep_their_numbers_when_a_page_is_inserted(tmp_path):
    """answers.xml's seasons followed the pages' name order, so inserting a page renumbered the
    seasons after it; now each page keeps the season it was first published with, named after it."""
    import shutil

    from lxml import etree

    articles = small_articles(tmp_path / "articles")
    out = tmp_path / "output"
    ns = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd", "podcast": "https://podcastindex.org/namespace/1.0"}

    def seasons() -> dict[str, tuple[str, str]]:
        items = etree.parse(str(out / "answers.xml")).find("channel").findall("item")
        return {i.find("enclosure").get("url").split("/")[-2]: (i.findtext("itunes:season", namespaces=ns),
                                                                i.find("podcast:season", ns).get("name"))
                for i in items if i.findtext("itunes:episodeType", namespaces=ns) != "trailer"}

    assert run_build(articles, out).code == 0
    before = seasons()
    assert before["001_seasonal_flu_lead_only"] == ("1", "How long is a person with seasonal flu contagious?")
    assert before["003_fever_in_children_utf8"][0] == "2"
    shutil.copy(ARTICLES / "002_knee_pain_short_and_long.txt", articles)  # inserted between them by name
    assert run_build(articles, out).code == 0
    after = seasons()
    assert {k: v for k, v in after.items() if k in before} == before
    assert after["002_knee_pain_short_and_long"][0] == "3"


def test_a_hosts_habits_appear_in_the_feeds_when_set(tmp_path):
    """An analytics prefix before every enclosure (never the feeds' own links), claiming the show by
    podcast:txt, updateFrequency, license, funding; check still finds every file behind the prefix."""
    from lxml import etree

    site = tmp_path / "site"
    site.mkdir()
    articles = small_articles(site / "articles")
    (site / "audiofeed.toml").write_text(
        '[feed]\nbase_url = "https://podcast.example.org/health/"\nowner_email = "owner@example.org"\nauthor = "Clinic"\n'
        'enclosure_prefix = "https://op3.dev/e/"\nverify = "S0me-T0ken"\napple_verify = "abc123"\n'
        'update_frequency = "FREQ=WEEKLY"\nlicense = "CC-BY-4.0"\nfunding_url = "https://example.org/donate"\n',
        encoding="utf-8")
    out = tmp_path / "output"
    assert run_build(articles, out).code == 0
    ns = {"podcast": "https://podcastindex.org/namespace/1.0", "atom": "http://www.w3.org/2005/Atom"}
    for name in ("feed.xml", "answers.xml"):
        channel = etree.parse(str(out / name)).find("channel")
        urls = [e.get("url") for e in channel.iter("enclosure")]
        assert urls and all(u.startswith("https://op3.dev/e/podcast.example.org/health/") for u in urls)
        assert all(link.get("href").startswith("https://podcast.example.org/") for link in channel.findall("atom:link", ns))
        txt = {t.get("purpose"): t.text for t in channel.findall("podcast:txt", ns)}
        assert txt == {"ai-content": "true", "verify": "S0me-T0ken", "applepodcastsverify": "abc123"}
        assert channel.find("podcast:updateFrequency", ns).get("rrule") == "FREQ=WEEKLY"
        assert channel.findtext("podcast:license", namespaces=ns) == "CC-BY-4.0"
        assert channel.find("podcast:funding", ns).get("url") == "https://example.org/donate"
    check = subprocess.run([sys.executable, "-m", "audiofeed", "check", str(out), "--articles", str(articles)],
                           capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stderr


def test_gpodder_users_still_get_chapters_and_a_transcript_link(built):
    """podcastparser maps only the old address of the Podcasting 2.0 namespace, so gPodder sees no
    podcast:* element (its bug); what it does read carries chapters (Podlove) and a transcript link."""
    import podcastparser

    for name in ("feed.xml", "answers.xml"):
        with open(built.output / name, "rb") as f:
            parsed = podcastparser.parse(f"{BASE_URL}{name}", f)
        for ep in parsed["episodes"]:
            assert re.search(r'<a href="[^"]+\.html">Transcript</a>', ep["description_html"]), ep["title"]
            if name == "feed.xml":
                assert ep["chapters"][0]["title"] == "About the voice" and len(ep["chapters"]) >= 2
