"""Both feeds read by the clients people use: Podverse's parser (podcast-partytime, from npm), gPodder's
podcastparser and feedparser, and what each must show a listener (docs/listening.md has the table).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import feedparser
import podcastparser
import pytest

from .clients import partytime
from .conftest import BASE_URL, run_build

FEEDS = ("feed.xml", "answers.xml")
TRANSCRIPT_TYPES = {"text/vtt", "application/srt", "application/json", "text/html"}


def read_all(out: Path, name: str) -> tuple[dict, dict, feedparser.FeedParserDict]:
    """``name`` as podcast-partytime, podcastparser and feedparser show it."""
    with open(out / name, "rb") as f:
        gpodder = podcastparser.parse(f"{BASE_URL}{name}", f)
    return partytime(out / name), gpodder, feedparser.parse(str(out / name))


def local(out: Path, url: str) -> Path:
    assert url.startswith(BASE_URL), url
    return out / url[len(BASE_URL):]


def doctors_of(out: Path) -> dict[str, list[str]]:
    """Each page's doctors, in order, from what the build recorded."""
    return {p.parent.name: [a["doctor"] for a in json.loads(p.read_text())["answers"]] for p in out.glob("*/build.json")}


@pytest.mark.parametrize("name", FEEDS)
def test_every_client_shows_every_item_with_what_a_listener_needs(built, name):
    out = built.output
    podverse, gpodder, parsed = read_all(out, name)
    xml = (out / name).read_text(encoding="utf-8")
    items = xml.count("<item>")
    assert len(podverse["items"]) == len(gpodder["episodes"]) == len(parsed.entries) == items > 0
    # the show: its podcast:guid, its art, locked
    assert podverse["guid"] == re.search(r"<podcast:guid>([^<]+)<", xml).group(1)
    assert podverse["itunesImage"] == gpodder["cover_url"] == parsed.feed.image.href == f"{BASE_URL}cover.png"
    assert podverse["locked"] is True
    doctors = doctors_of(out)
    for pv, gp, fp in zip(podverse["items"], gpodder["episodes"], parsed.entries):
        assert pv["title"] == gp["title"] == fp.title
        assert pv["guid"] == gp["guid"] == fp.id
        assert pv["duration"] == gp["total_time"] > 0
        enclosure = pv["enclosure"]
        assert enclosure["url"] == gp["enclosures"][0]["url"] == fp.enclosures[0].href
        assert enclosure["length"] == gp["enclosures"][0]["file_size"] == local(out, enclosure["url"]).stat().st_size
        assert {t["type"] for t in pv["podcastTranscripts"]} == TRANSCRIPT_TYPES
        assert all(local(out, t["url"]).is_file() for t in pv["podcastTranscripts"])
        slug = enclosure["url"][len(BASE_URL):].split("/")[0]
        if pv["title"] == "About the voice of this show":  # answers.xml's trailer: the voice, no doctor
            assert "podcastPeople" not in pv
            continue
        people = [p["name"] for p in pv["podcastPeople"]]
        if name == "feed.xml":  # an episode: every doctor of the page, a chapter each after the voice note
            assert people == list(dict.fromkeys(doctors[slug]))
            assert pv["podcastChapters"]["type"] == "application/json+chapters"
            chapters = json.loads(local(out, pv["podcastChapters"]["url"]).read_text())["chapters"]
            assert [c["title"] for c in chapters[1:]] == [c["title"] for c in gp["chapters"][1:]]
            assert len(chapters) == len(doctors[slug]) + 1
        else:  # an answer: its doctor, and the season of its page, named after it
            assert len(people) == 1 and people[0] in doctors[slug]
            assert pv["podcastSeason"]["number"] == pv["itunesSeason"] >= 1 and pv["podcastSeason"]["name"]


MARKS = """\
---
title: Is a child's "high" fever & a rash <b>urgent</b>?
date: 2025-06-01
doctor: Zoë Müller-O'Brien
specialty: Pédiatrie & Family Medicine
answers:
  - question: Can I give ibuprofen & paracetamol — "together"?
    doctor: Seán Ó Dálaigh
    specialty: Pharmacology
    runtime: 12sec
---

A fever of 39 °C with a rash that doesn't fade is <i>urgent</i>: see a doctor today & don't wait; 5 < 6 > 4.

## Can I give ibuprofen & paracetamol — "together"?

Not routinely. Give one at the right dose; if it doesn't help, the other can follow.
"""


def test_apostrophes_quotes_ampersands_accents_and_markup_reach_every_client_as_written(tmp_path):
    """Each client's text of each feed (titles, descriptions as a browser shows them, people) holds
    every phrase exactly as the page wrote it, text that looks like markup included (the word
    joiner that keeps ``<b>`` from being read as a tag is invisible)."""
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "marks.md").write_text(MARKS, encoding="utf-8")
    out = tmp_path / "out"
    assert run_build(articles, out, "--base-url", BASE_URL).code == 0
    written = ['Is a child\'s "high" fever & a rash <b>urgent</b>?', 'Can I give ibuprofen & paracetamol — "together"?',
               "Zoë Müller-O'Brien", "Seán Ó Dálaigh"]
    only = {"feed.xml": ["Pédiatrie & Family Medicine"],  # an episode's chapters name each doctor's specialty
            "answers.xml": ["doesn't fade is <i>urgent</i>:", "today & don't wait; 5 < 6 > 4.", "if it doesn't help"]}
    for name in FEEDS:
        podverse, gpodder, parsed = read_all(out, name)
        shown = {
            # partytime hands back the description's HTML with its entities decoded once
            "podcast-partytime": [(i["title"], visible(i["description"], decoded=True),
                                   [p["name"] for p in i.get("podcastPeople", [])]) for i in podverse["items"]],
            "podcastparser": [(e["title"], e["description"].replace("\u2060", ""), []) for e in gpodder["episodes"]],
            "feedparser": [(e.title, visible(e.summary), [a.name for a in e.get("authors", [])]) for e in parsed.entries],
        }
        for client, items in shown.items():
            text = " ".join(f"{title} {description} {' '.join(people)}" for title, description, people in items)
            for phrase in written + only[name]:
                assert phrase in text, (name, client, phrase)
            assert "childs" not in text and "&#x27;" not in text and "&amp;" not in text, (name, client)


def visible(markup: str, decoded: bool = False) -> str:
    """What a browser shows of ``markup`` (HTML; ``decoded``: as podcast-partytime hands it back,
    its references decoded once already), with the invisible word joiner dropped."""
    from html.parser import HTMLParser

    shown: list[str] = []
    parser = HTMLParser(convert_charrefs=True)
    parser.handle_data = shown.append
    parser.feed(markup)
    parser.close()
    return "".join(shown).replace("\u2060", "")


def test_each_page_episode_has_its_own_art_in_every_client_and_in_its_mp3s(built):
    """Every episode used to show the show's cover; now each page's episode and its answers carry the
    page's own art (the show's art with the page's question), linked and embedded."""
    from io import BytesIO

    from mutagen.id3 import ID3
    from PIL import Image

    out = built.output
    seen: dict[str, str] = {}
    for name in FEEDS:
        podverse, gpodder, parsed = read_all(out, name)
        for pv, gp, fp in zip(podverse["items"], gpodder["episodes"], parsed.entries):
            slug = pv["enclosure"]["url"][len(BASE_URL):].split("/")[0]
            if pv["title"] == "About the voice of this show":
                assert pv["itunesImage"] == f"{BASE_URL}cover.png"
                continue
            art = f"{BASE_URL}{slug}/art.png"
            assert pv["itunesImage"] == gp["episode_art_url"] == fp.image.href == art, (name, pv["title"])
            seen[slug] = art
    assert len(set(seen.values())) == len(seen) == len(list(out.glob("*/build.json"))) > 1  # one art a page
    for slug in seen:
        with Image.open(out / slug / "art.png") as img:
            assert img.size == (1400, 1400) and img.format == "PNG"
        (embedded,) = ID3(out / slug / "episode.mp3").getall("APIC")
        with Image.open(BytesIO(embedded.data)) as img:
            assert img.size == (600, 600)
        assert embedded.data != (out / "cover.png").read_bytes()
        chapters = json.loads((out / slug / "chapters.json").read_text())["chapters"]
        assert {c["img"] for c in chapters} == {seen[slug]}
        xml = (out / "feed.xml").read_text(encoding="utf-8")
        assert f'<podcast:image href="{seen[slug]}"' in xml


def test_a_doctors_picture_shows_in_their_chapters_and_as_their_person(tmp_path):
    """``[people] images`` gives a doctor a picture: ``podcast:person img`` in both feeds (as
    podcast-partytime reads it) and the image of their chapters; other chapters keep the page's art.
    An address that is not one is refused in one line naming the key."""
    import shutil

    from .conftest import ARTICLES

    articles = tmp_path / "articles"
    articles.mkdir()
    shutil.copy(ARTICLES / "000_4fe75e9a818bb161.txt", articles)
    picture = "https://example.org/people/yan-chun.jpg"
    (tmp_path / "audiofeed.toml").write_text(f'[people]\nimages = {{ "Yan Chun" = "{picture}" }}\n')
    out = tmp_path / "out"
    assert run_build(articles, out, "--base-url", BASE_URL).code == 0
    for name in FEEDS:
        people = [p for i in partytime(out / name)["items"] for p in i.get("podcastPeople", [])]
        assert {p.get("img") for p in people if p["name"] == "Yan Chun"} == {picture}, name
        assert all("img" not in p for p in people if p["name"] != "Yan Chun")
    chapters = json.loads((out / "000_4fe75e9a818bb161" / "chapters.json").read_text())["chapters"]
    by_doctor = {c["title"]: c["img"] for c in chapters}
    assert [img for title, img in by_doctor.items() if "Yan Chun" in title] == [picture]
    assert all(img.endswith("/art.png") for title, img in by_doctor.items() if "Yan Chun" not in title)
    (tmp_path / "audiofeed.toml").write_text('[people]\nimages = { "Yan Chun" = "yan-chun.jpg" }\n')
    refused = run_build(articles, tmp_path / "again", "--base-url", BASE_URL)
    assert refused.code == 1 and "people.images.Yan Chun" in refused.stderr and "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_a_pages_own_image_is_its_episodes_art_and_a_bad_one_is_one_line(tmp_path):
    """Front matter ``image:`` gives a page's episode the producer's art (scaled to 1400 px, and
    600 px in its MP3s); changing the image rebuilds the page; a file that is no image is refused in
    one line naming the page and the line, and the other pages publish."""
    from io import BytesIO

    from mutagen.id3 import ID3
    from PIL import Image

    from .conftest import small_articles

    articles = small_articles(tmp_path / "articles")
    Image.new("RGB", (800, 800), (200, 30, 30)).save(articles / "red.jpg", "JPEG")
    page = MARKS.replace("date: 2025-06-01\n", "date: 2025-06-01\nimage: red.jpg\n")
    (articles / "marks.md").write_text(page, encoding="utf-8")
    out = tmp_path / "out"
    assert run_build(articles, out, "--base-url", BASE_URL).code == 0
    with Image.open(out / "marks" / "art.png") as art:
        assert art.size == (1400, 1400) and abs(art.getpixel((700, 700))[0] - 200) < 8
    (embedded,) = ID3(out / "marks" / "episode.mp3").getall("APIC")
    with Image.open(BytesIO(embedded.data)) as art:
        assert art.size == (600, 600) and abs(art.getpixel((300, 300))[1] - 30) < 8
    items = [i for i in partytime(out / "feed.xml")["items"] if i["enclosure"]["url"].startswith(f"{BASE_URL}marks/")]
    assert [i["itunesImage"] for i in items] == [f"{BASE_URL}marks/art.png"]
    Image.new("RGB", (800, 800), (30, 30, 200)).save(articles / "red.jpg", "JPEG")  # the producer changes the image
    again = run_build(articles, out, "--base-url", BASE_URL)
    assert again.code == 0 and "1 page(s) built" in " ".join(again.stdout.split()), again.stdout
    with Image.open(out / "marks" / "art.png") as art:
        assert art.getpixel((700, 700))[2] > 150
    (articles / "red.jpg").write_text("<html>not a picture</html>")
    bad = run_build(articles, tmp_path / "bad", "--base-url", BASE_URL)
    assert bad.code == 1 and "Traceback" not in bad.stderr
    (line,) = [ln for ln in bad.stderr.splitlines() if "image:" in ln]
    assert "marks.md:4:" in line and "is not a PNG or JPEG image" in line
    assert len(list((tmp_path / "bad").glob("*/episode.mp3"))) == 2  # the other pages publish
