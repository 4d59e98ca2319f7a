"""Honest voices: every feed, description, tag, page and episode says that the voice is synthetic.

Read back as clients read them: the feeds through lxml (``podcast:txt`` is read by no Python
client), podcastparser and feedparser (the descriptions), the MP3s through mutagen and ffmpeg,
the player page in headless Chromium.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from lxml import etree

from audiofeed.channel import DISCLOSURE
from audiofeed.names import VOICE_NOTE_FILE, VOICE_NOTE_TITLE

from .conftest import ARTICLES, BASE_URL, run_build, run_check, small_articles

NS = {"podcast": "https://podcastindex.org/namespace/1.0", "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
      "psc": "http://podlove.org/simple-chapters"}
SAID = DISCLOSURE.replace("{voice}", "espeak-ng text-to-speech")  # the tests build with espeak-ng
PAGES = sorted(p.stem for p in ARTICLES.glob("*.txt"))


def ai_flags(element) -> list[str]:
    return [t.text for t in element.findall("podcast:txt[@purpose='ai-content']", NS)]


@pytest.mark.parametrize("feed", ["feed.xml", "answers.xml"])
def test_both_feeds_flag_ai_content_at_channel_and_every_item(built, feed):
    channel = etree.parse(str(built.output / feed)).find("channel")
    assert ai_flags(channel) == ["true"]
    items = channel.findall("item")
    assert items and all(ai_flags(item) == ["true"] for item in items)


def test_every_description_says_it_as_apps_show_it(built):
    import feedparser
    import podcastparser

    for feed in ("feed.xml", "answers.xml"):
        with open(built.output / feed, "rb") as f:
            parsed = podcastparser.parse(feed, f)
        assert SAID in parsed["description"], parsed["description"]
        assert parsed["episodes"] and all(SAID in e["description"] for e in parsed["episodes"])
        d = feedparser.parse(str(built.output / feed))
        assert SAID in d.feed.subtitle and all(SAID in e.summary for e in d.entries)


def test_answers_feed_says_it_aloud_in_a_trailer(built):
    channel = etree.parse(str(built.output / "answers.xml")).find("channel")
    trailers = [i for i in channel.findall("item") if i.findtext("itunes:episodeType", namespaces=NS) == "trailer"]
    assert len(trailers) == 1
    url = trailers[0].find("enclosure").get("url")
    assert url.endswith(f"/{VOICE_NOTE_FILE}") and (built.output / url.removeprefix(BASE_URL)).is_file()


@pytest.mark.parametrize("slug", PAGES)
def test_each_episode_opens_with_the_spoken_disclosure_in_its_own_chapter(built, slug):
    from mutagen.id3 import ID3

    from audiofeed.audio.ffmpeg import decoded_samples

    folder = built.output / slug
    note_s = decoded_samples(folder / VOICE_NOTE_FILE) / 48_000
    record = json.loads((folder / "build.json").read_text(encoding="utf-8"))
    assert record["voice_note_ms"] / 1000 == pytest.approx(note_s, abs=0.012)
    assert record["answers"][0]["start_ms"] == record["voice_note_ms"]  # the answers follow it
    tags = ID3(folder / "episode.mp3")
    chaps = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    assert str(chaps[0].sub_frames["TIT2"]) == VOICE_NOTE_TITLE and chaps[0].start_time == 0
    assert chaps[0].end_time == record["voice_note_ms"] == chaps[1].start_time
    chapters = json.loads((folder / "chapters.json").read_text(encoding="utf-8"))["chapters"]
    assert chapters[0]["title"] == VOICE_NOTE_TITLE and chapters[0]["startTime"] == 0
    item = next(i for i in etree.parse(str(built.output / "feed.xml")).find("channel").findall("item")
                if i.findtext("link").rstrip("/").endswith(slug))
    assert item.find("psc:chapters/psc:chapter", NS).get("title") == VOICE_NOTE_TITLE
    episode_s = decoded_samples(folder / "episode.mp3") / 48_000
    answers_s = sum(decoded_samples(built.output / a["file"]) for a in record["answers"]) / 48_000
    assert episode_s == pytest.approx(note_s + answers_s, abs=0.012)
    assert SAID in str(tags.getall("COMM")[0])  # the tag says it too
    captions = (folder / "episode.vtt").read_text(encoding="utf-8")
    assert "<v Synthetic voice>The doctors wrote these answers;" in captions


def test_every_answer_mp3_comment_says_it(built):
    from mutagen.id3 import ID3

    for mp3 in built.output.glob("*/answer-*.mp3"):
        assert SAID in str(ID3(mp3).getall("COMM")[0]), mp3


def test_the_player_page_shows_it_before_play(built, browser):
    from .server import serving

    with serving(built.output) as (url, _):
        context = browser.new_context(viewport={"width": 1000, "height": 900})
        page = context.new_page()
        for path in (f"{PAGES[0]}/", f"{PAGES[0]}/embed.html", ""):
            page.goto(url + path)
            notice = page.locator(".ai-notice").first
            assert notice.is_visible() and SAID in notice.inner_text()
            if path:  # above the player: read before pressing play
                player = page.locator("#player-controls:visible, #episode-audio:visible").first
                assert notice.bounding_box()["y"] < player.bounding_box()["y"]
                assert page.locator("#episode-audio").get_attribute("aria-describedby") == "ai-notice"
        context.close()


def test_disclosure_words_are_the_producers_but_not_its_absence(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    articles = small_articles(site / "articles")
    config = site / "audiofeed.toml"
    config.write_text('[feed]\ndisclosure = "Read by a computer voice ({voice}), not by the doctors."\n', encoding="utf-8")
    out = tmp_path / "output"
    assert run_build(articles, out).code == 0
    assert "Read by a computer voice (espeak-ng text-to-speech), not by the doctors." in (out / "feed.xml").read_text()
    config.write_text('[feed]\ndisclosure = ""\n', encoding="utf-8")
    refused = run_build(articles, out)
    assert refused.code == 1 and refused.stderr.count("\n") == 1
    assert "feed.disclosure: must say that the voice is synthetic" in refused.stderr and "disclose = false" in refused.stderr
    config.write_text("[feed]\ndisclose = false\n", encoding="utf-8")
    silent = run_build(articles, tmp_path / "silent")
    assert silent.code == 0
    assert [ln for ln in silent.stderr.splitlines() if "disclose = false" in ln] == [
        f"warning: {tmp_path}/silent/feed.xml: disclose = false: nothing in the feeds, tags, pages or audio says that "
        "the voice is synthetic; listeners may take it for the doctors' own, and Apple Podcasts requires the use of "
        "AI to be disclosed"]
    assert "podcast:txt" not in (tmp_path / "silent" / "feed.xml").read_text()
    assert not list((tmp_path / "silent").glob(f"*/{VOICE_NOTE_FILE}"))
    assert run_check(tmp_path / "silent", articles=articles).returncode == 0


def test_init_writes_the_disclosure_into_the_configuration(tmp_path):
    import subprocess
    import sys
    import tomllib

    subprocess.run([sys.executable, "-m", "audiofeed", "init", str(tmp_path / "p")], check=True, capture_output=True)
    config = tomllib.loads((tmp_path / "p" / "audiofeed.toml").read_text(encoding="utf-8"))
    assert config["feed"]["disclosure"] == DISCLOSURE


def test_check_fails_a_voice_note_whose_chapter_does_not_open_the_episode(built, tmp_path):
    out = tmp_path / "output"
    shutil.copytree(built.output, out)
    path = out / PAGES[0] / "chapters.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["chapters"][0]["endTime"] += 2.0
    path.write_text(json.dumps(doc), encoding="utf-8")
    check = run_check(out)
    assert check.returncode == 1
    assert f"{VOICE_NOTE_TITLE}" in check.stderr and "but the voice note starts the episode" in check.stderr
