"""The real build of the sample articles, read back as podcast apps and players read it."""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path

import feedparser
import podcastparser
import pytest
from mutagen.id3 import ID3
from mutagen.mp3 import MP3, BitrateMode

from audiofeed.audio.ffmpeg import decoded_samples, ffmpeg_exe
from audiofeed.read import read_page

from .conftest import ARTICLES, BASE_URL, run_build

TOLERANCE_MS = 30


def answer_files(out: Path):
    """(page, answer index, Answer, mp3 path) for every published answer."""
    for path in sorted(ARTICLES.glob("*.txt")):
        page = read_page(path)
        for i, answer in enumerate(page.answers):
            yield page, i, answer, out / page.slug / f"answer-{i:02d}.mp3"


def test_every_answer_lasts_its_listed_runtime_for_every_reader(built):
    checked = 0
    for page, i, answer, mp3 in answer_files(built.output):
        decoded_ms = decoded_samples(mp3) / 48
        header_ms = MP3(mp3).info.length * 1000
        tlen_ms = int(ID3(mp3)["TLEN"].text[0])
        assert abs(decoded_ms - header_ms) <= TOLERANCE_MS and abs(decoded_ms - tlen_ms) <= TOLERANCE_MS
        if answer.listed_runtime is not None:
            listed_ms = answer.listed_runtime * 1000
            for reader, ms in (("ffmpeg", decoded_ms), ("mutagen", header_ms), ("TLEN", tlen_ms)):
                assert abs(ms - listed_ms) <= TOLERANCE_MS, (mp3.name, reader, ms, listed_ms)
            checked += 1
    assert checked == 10


def test_mp3_format_mono_cbr_48k_no_xing(built):
    for _, _, _, mp3 in answer_files(built.output):
        info = MP3(mp3).info
        assert (info.channels, info.sample_rate, info.bitrate) == (1, 48000, 64000)
        assert info.bitrate_mode in (BitrateMode.CBR, BitrateMode.UNKNOWN)  # UNKNOWN: no Xing/Info to say so
        data = mp3.read_bytes()
        assert b"Xing" not in data[:4096] and b"Info" not in data[:4096]
        probe = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(mp3)], capture_output=True, text=True).stderr
        assert "mp3" in probe and "48000 Hz, mono" in probe and "64 kb/s" in probe


def test_answer_tags(built):
    page = read_page(ARTICLES / "000_4fe75e9a818bb161.txt")
    path = built.output / page.slug / "answer-01.mp3"
    assert ID3(path).version == (2, 3, 0)
    tags = ID3(path)
    assert tags["TIT2"].text == ["Will there be metastasis after kidney cancer removal?"]
    assert tags["TPE1"].text == ["Wang Jian"]
    assert tags["TALB"].text == ["Doctors' Answers, Read Aloud"]
    assert tags["TCON"].text == ["Podcast"]
    assert str(tags["TDRC"].text[0]) == "2025-02-12"
    assert tags["TXXX:listed_runtime"].text == ["1min 11sec"]
    assert tags.getall("USLT")[0].text == page.answers[1].text
    assert "Wang Jian" in tags.getall("COMM")[0].text[0]
    assert tags["TIPL"].people == [["Urology", "Wang Jian"]]
    cover = tags.getall("APIC")[0]
    assert cover.type == 3 and cover.mime == "image/png" and cover.data.startswith(b"\x89PNG")


def _raw_frame_ids(path: Path) -> list[tuple[str, bytes]]:
    """Frame IDs (and CHAP element ids) in the order they are stored in an ID3v2.3 tag."""
    data = path.read_bytes()
    assert data[:3] == b"ID3" and data[3] == 3
    size = sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(data[6:10]))
    pos, frames = 10, []
    while pos < 10 + size and data[pos] != 0:
        fid = data[pos : pos + 4].decode()
        length = struct.unpack(">I", data[pos + 4 : pos + 8])[0]
        body = data[pos + 10 : pos + 10 + length]
        frames.append((fid, body.split(b"\0", 1)[0] if fid in ("CHAP", "CTOC") else b""))
        pos += 10 + length
    return frames


def test_episode_chapters_in_order_with_titled_toc(built):
    page = read_page(ARTICLES / "000_4fe75e9a818bb161.txt")
    path = built.output / page.slug / "episode.mp3"
    tags = ID3(path)
    chaps = [tags[k] for k in tags if k.startswith("CHAP")]
    raw = [eid for fid, eid in _raw_frame_ids(path) if fid == "CHAP"]
    stored = [tags[f"CHAP:{eid.decode()}"] for eid in raw]
    assert [c.start_time for c in stored] == sorted(c.start_time for c in chaps)  # stored in time order
    assert len(stored) == 1 + len(page.answers)  # the voice note, then a chapter per answer
    toc = tags.getall("CTOC")[0]
    assert toc.flags == 3 and toc.child_element_ids == [e.decode() for e in raw]
    assert toc.sub_frames["TIT2"].text == ["Chapters"]
    note = stored[0]
    assert note.sub_frames["TIT2"].text == ["About the voice"] and note.start_time == 0
    assert abs(note.end_time - MP3(built.output / page.slug / "voice-note.mp3").info.length * 1000) < 1
    # Each chapter spans exactly its answer's MP3, and starts where the previous ends.
    end = note.end_time
    for c, answer in zip(stored[1:], page.answers):
        assert c.start_time == end
        answer_ms = MP3(built.output / page.slug / f"answer-{page.answers.index(answer):02d}.mp3").info.length * 1000
        assert abs((c.end_time - c.start_time) - answer_ms) < 1
        assert c.sub_frames["TIT2"].text == [f"{answer.question} ({answer.doctor})"]
        end = c.end_time
    # The joined MP3 decodes to the sum of its parts: no second encode, no gap.
    assert abs(decoded_samples(path) / 48 - end) <= TOLERANCE_MS
    assert abs(MP3(path).info.length * 1000 - end) <= TOLERANCE_MS
    chapters = json.loads((built.output / page.slug / "chapters.json").read_text())
    assert chapters["version"] == "1.2.0"
    assert [round(c["startTime"] * 1000) for c in chapters["chapters"]] == [c.start_time for c in stored]


def test_episode_audio_starts_each_chapter_on_its_answer(built):
    """Decoding the episode at a chapter start gives the same samples as that answer's own MP3."""
    page = read_page(ARTICLES / "002_knee_pain_short_and_long.txt")
    tags = ID3(built.output / page.slug / "episode.mp3")
    start = tags["CHAP:ch003"].start_time  # answer 2: after the voice note and answers 0 and 1
    def pcm(path, seek_ms=0, ms=500):
        return subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-ss", f"{seek_ms/1000:.3f}", "-t", f"{ms/1000}",
                               "-f", "s16le", "-"], capture_output=True, check=True).stdout
    # ffmpeg decodes both from the start of a frame boundary, so the audio should match closely.
    a = pcm(built.output / page.slug / "episode.mp3", start + 1000)
    b = pcm(built.output / page.slug / "answer-02.mp3", 1000)
    import numpy as np
    x, y = np.frombuffer(a, np.int16).astype(float), np.frombuffer(b, np.int16).astype(float)
    assert len(x) == len(y) and np.corrcoef(x, y)[0, 1] > 0.99


def test_feed_read_by_podcastparser(built):
    with open(built.output / "feed.xml", "rb") as f:
        feed = podcastparser.parse(BASE_URL + "feed.xml", f)
    assert feed["title"] == "Doctors' Answers, Read Aloud"
    assert feed["cover_url"] == BASE_URL + "cover.png"
    assert len(feed["episodes"]) == 4
    pages = {read_page(p).title: read_page(p) for p in ARTICLES.glob("*.txt")}
    for ep in feed["episodes"]:
        page = pages[ep["title"]]
        enclosure = ep["enclosures"][0]
        path = built.output / enclosure["url"][len(BASE_URL):]
        assert enclosure["file_size"] == path.stat().st_size
        assert enclosure["mime_type"] == "audio/mpeg"
        assert abs(ep["total_time"] - MP3(path).info.length) <= 0.5
        assert [c["title"] for c in ep["chapters"]] == ["About the voice"] + [f"{a.question} ({a.doctor})" for a in page.answers]
        starts = [c["start"] for c in ep["chapters"]]
        tag_starts = sorted(ID3(path)[k].start_time // 1000 for k in ID3(path) if k.startswith("CHAP"))
        assert starts == tag_starts
        assert ep["explicit"] is False


def test_feed_read_by_feedparser(built):
    d = feedparser.parse(str(built.output / "feed.xml"))
    assert not d.bozo, d.get("bozo_exception")
    # feedparser knows only yes/clean for itunes:explicit; "false" (Apple's current value) reads as None.
    assert d.feed.get("itunes_explicit") is None
    assert any(l.get("rel") == "self" and l.href == BASE_URL + "feed.xml" for l in d.feed.links)
    assert d.feed.tags[0].term == "Health & Fitness"
    for e in d.entries:
        enclosure = next(l for l in e.links if l.rel == "enclosure")
        path = built.output / enclosure.href[len(BASE_URL):]
        assert int(enclosure.length) == path.stat().st_size
        assert int(e.itunes_duration) == round(MP3(path).info.length)
        assert e.guidislink is False
        assert len(e.psc_chapters.chapters) == len(ID3(path).getall("CHAP"))
        assert "Chapters:" in e.summary and "00:0" in e.summary  # the first answer after the voice note
    seed = next(e for e in d.entries if e.title.startswith("Kidney cancer"))
    assert seed.published_parsed[:3] == (2025, 2, 12)


def test_podcasting20_and_podlove_elements(built):
    from lxml import etree
    ns = {"podcast": "https://podcastindex.org/namespace/1.0", "psc": "http://podlove.org/simple-chapters",
          "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd", "atom": "http://www.w3.org/2005/Atom"}
    doc = etree.parse(str(built.output / "feed.xml"))
    channel = doc.find("channel")
    import uuid
    expected = uuid.uuid5(uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"), "podcast.example.org/health/feed.xml")
    assert channel.find("podcast:guid", ns).text == str(expected)
    assert channel.find("itunes:explicit", ns).text == "false"
    assert channel.find("podcast:locked", ns).text == "yes"
    assert channel.find("itunes:category", ns).get("text") == "Health & Fitness"
    assert channel.find("itunes:category/itunes:category", ns).get("text") == "Medicine"
    for item in channel.findall("item"):
        chapters = item.find("podcast:chapters", ns)
        assert chapters.get("type") == "application/json+chapters"
        local = built.output / chapters.get("url")[len(BASE_URL):]
        assert json.loads(local.read_text())["chapters"]
        persons = [p.text for p in item.findall("podcast:person", ns)]
        assert persons and len(persons) == len(set(persons))
        assert item.find("psc:chapters", ns).get("version") == "1.2"
        assert item.find("itunes:explicit", ns).text in ("true", "false")


def test_answers_feed(built):
    with open(built.output / "answers.xml", "rb") as f:
        feed = podcastparser.parse(BASE_URL + "answers.xml", f)
    d = feedparser.parse(str(built.output / "answers.xml"))
    assert not d.bozo
    assert len(feed["episodes"]) == len(d.entries) == 14 + 1  # the answers, and the voice note as a trailer
    trailer = [e for e in d.entries if e.get("itunes_episodetype") == "trailer"]
    assert [e.title for e in trailer] == ["About the voice of this show"]
    d.entries = [e for e in d.entries if e not in trailer]
    listed = {}
    for page, i, answer, mp3 in answer_files(built.output):
        listed[(answer.question, answer.doctor)] = (answer.listed_runtime, mp3)
    for e in d.entries:
        runtime, mp3 = listed[(e.title, e.author_detail.name)]
        enclosure = next(l for l in e.links if l.rel == "enclosure")
        assert enclosure.href == BASE_URL + str(mp3.relative_to(built.output))
        assert int(enclosure.length) == mp3.stat().st_size
        expected = runtime if runtime is not None else round(MP3(mp3).info.length)
        assert int(e.itunes_duration) == expected
        assert int(e.itunes_season) >= 1 and int(e.itunes_episode) >= 1
    seasons = {}
    for e in d.entries:
        seasons.setdefault(e.itunes_season, []).append(int(e.itunes_episode))
    assert all(v == list(range(1, len(v) + 1)) for v in seasons.values())
    assert len(seasons) == 4


def test_guids_stable_across_rebuilds(built, tmp_path):
    again = run_build(ARTICLES, tmp_path / "again", "--base-url", "https://elsewhere.example.net/")
    assert again.code == 0
    for name in ("feed.xml", "answers.xml"):
        g1 = [e.id for e in feedparser.parse(str(built.output / name)).entries]
        g2 = [e.id for e in feedparser.parse(str(again.output / name)).entries]
        assert g1 == g2 and len(set(g1)) == len(g1)
    # and the audio (after the tag, which holds the URL) is the same, byte for byte
    for mp3 in sorted(built.output.glob("*/*.mp3")):
        other = again.output / mp3.relative_to(built.output)
        assert mp3.read_bytes()[ID3(mp3).size:] == other.read_bytes()[ID3(other).size:], mp3


def test_summary_table_and_progress(built):
    out = built.stdout
    for column in ("page", "answer", "listed", "actual", "rate (wpm)", "silence added", "status"):
        assert column in out
    assert "70.992 s" in out and "39.000 s" in out
    assert "4 page(s) built, 0 unchanged; 14 answer(s) rendered" in out
    for column in ("LUFS", "dBTP"):
        assert column in out
